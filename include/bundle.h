/*
 * bundle.h - the Fleet Bundle (fleet.cattle.io/v1alpha1) a FleetHandshake
 * wants, and how it compares with the one in the cluster. Pure functions:
 * no I/O, no logging.
 *
 * The desired Bundle:
 *   metadata.name/namespace   those of the FleetHandshake
 *   metadata.labels           app.kubernetes.io/managed-by: fleet-handshake,
 *                             app.kubernetes.io/name: fleet-handshake,
 *                             fleethandshake.riverpointtechnology.com/name: <fh name>
 *                             (only for names of at most 63 characters, the
 *                             limit of a label value; longer names work too)
 *   metadata.annotations      fleethandshake.riverpointtechnology.com/built-from:
 *                             "<fh uid>/<fh generation>/<secret uid>/<secret rv>/v1"
 *   metadata.ownerReferences  [{apiVersion riverpointtechnology.com/v1alpha1,
 *                              kind FleetHandshake, name, uid, controller: true,
 *                              blockOwnerDeletion: true}]
 *   spec.resources            [{name: "<secretName>.json", content: <downstream Secret>}]
 *   spec.targets              spec.targets of the FleetHandshake, verbatim
 *   spec.defaultNamespace     spec.targetNamespace (Fleet creates it downstream)
 *   spec.namespace, paused, keepResources, deleteNamespace, dependsOn,
 *   targetRestrictions        absent (BUNDLE_ABSENT_FIELDS): each would change
 *                             where, whether or how long the Secret lands, so
 *                             a hand edit that sets one is repaired
 * Those are the "owned fields"; everything else (defaults Fleet's API server
 * fills in, other labels/annotations, status) is never compared or written.
 *
 * The downstream Secret (resource content) is compact JSON, always the same
 * bytes for the same input (data keys sorted), so owned resources are
 * compared byte for byte:
 *   {"apiVersion":"v1","kind":"Secret","metadata":{"name":N,"namespace":T},
 *    "type":<type or "Opaque">,"data":{...sorted...}}
 * The source's `immutable` flag is not copied: a downstream copy marked
 * immutable could never take the next version of the Secret.
 * stringData, if present, is base64-encoded into data (it wins over data).
 *
 * Secret data: the desired Bundle, manifests and patch bodies hold Secret
 * values. Callers release them with secret_json_free()/secret_free().
 */
#ifndef BUNDLE_H
#define BUNDLE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct cJSON;
struct fh_spec;
struct proto_obj;

#define BUNDLE_API_VERSION      "fleet.cattle.io/v1alpha1"
#define FH_API_GROUP            "riverpointtechnology.com"
#define FH_API_VERSION          "riverpointtechnology.com/v1alpha1"
#define FH_KIND                 "FleetHandshake"
#define BUNDLE_LABEL_MANAGED_BY "app.kubernetes.io/managed-by"
#define BUNDLE_LABEL_APP_NAME   "app.kubernetes.io/name"
#define BUNDLE_LABEL_FH_NAME    "fleethandshake.riverpointtechnology.com/name"
#define BUNDLE_LABEL_VALUE      "fleet-handshake"
#define BUNDLE_LABEL_VALUE_MAX  63u     /* Kubernetes' limit on a label value */
#define BUNDLE_ANN_BUILT_FROM   "fleethandshake.riverpointtechnology.com/built-from"
#define BUNDLE_BUILT_FROM_FORMAT_VERSION "v1"
#define BUNDLE_BUILT_FROM_MAX   512u

/* Bundle spec fields that must be absent (null, false, "" or empty count as
 * absent); a NULL-terminated initializer list */
#define BUNDLE_ABSENT_FIELDS \
    { "namespace", "paused", "keepResources", "deleteNamespace", "dependsOn", \
      "targetRestrictions", NULL }

/* Who a Bundle of the FleetHandshake's name belongs to. */
enum bundle_owner {
    BUNDLE_OURS = 0,        /* controller ref is this FleetHandshake (uid), or - the
                             * original Go operator's Bundles - no controller ref and a
                             * plain ownerReference to this FleetHandshake's uid */
    BUNDLE_ORPHAN_OURS,     /* no controller ref, our managed-by label and our name
                             * label equal to the Bundle name (or, for a name too
                             * long for a label, no name label): adoptable */
    BUNDLE_PREVIOUS_OWNER,  /* owned by an earlier FleetHandshake of the same name
                             * (other uid); Kubernetes GC will delete it: wait */
    BUNDLE_FOREIGN,         /* anything else (GitRepo, HelmOp, hand-made): never touch */
};

/* bundle_owner_name - "ours", "orphan", "previous", "foreign"; static string */
const char *bundle_owner_name(enum bundle_owner o);

/*
 * bundle_built_from - write the built-from annotation value
 * "<fh_uid>/<fh_generation>/<secret_uid>/<secret_rv>/v1" into buf.
 * -FH_EINVAL if an argument is NULL or the text does not fit.
 */
int bundle_built_from(const char *fh_uid, int64_t fh_generation,
                      const char *secret_uid, const char *secret_rv,
                      char *buf, size_t len);

/*
 * bundle_secret_manifest - the downstream Secret for secret (a v1 Secret
 * object as read from the apiserver) placed in target_ns, as compact JSON.
 * *out (caller owns; holds Secret data: secret_free(out, *len)) and *len are
 * set on success. -FH_EBADREPLY if secret has no metadata.name, or data /
 * stringData are not objects of strings; -FH_ENOMEM.
 */
int bundle_secret_manifest(const struct cJSON *secret, const char *target_ns,
                           char **out, size_t *len);

/*
 * bundle_build - the full desired Bundle for fh (validated) and secret.
 * *out is a new tree the caller owns and must release with
 * secret_json_free(). Returns 0, -FH_EINVAL (fh not valid), -FH_EBADREPLY
 * (secret lacks metadata.uid/resourceVersion or has malformed data), or
 * -FH_ENOMEM.
 */
int bundle_build(const struct fh_spec *fh, const struct cJSON *secret,
                 struct cJSON **out);

/*
 * bundle_owned_equal - compare only the owned fields of desired (from
 * bundle_build) with live (the Bundle as read). Labels and the annotation:
 * ours must be present with equal values, others are ignored.
 * ownerReferences: an entry equal to our controller reference must be
 * present (other, non-controller entries are ignored). spec.resources:
 * compared byte for byte (name, content; encoding must be absent or empty),
 * which is sound because bundle_build's output is deterministic.
 * spec.targets: exact JSON equality; spec.defaultNamespace: equal; the
 * BUNDLE_ABSENT_FIELDS absent (or null/false/empty) in live.
 * Returns 0 with *equal set, or -FH_EINVAL for NULL arguments.
 */
int bundle_owned_equal(const struct cJSON *desired, const struct cJSON *live,
                       bool *equal);

/*
 * bundle_merge_patch - JSON merge patch (application/merge-patch+json) that
 * sets exactly the owned fields of desired: our labels and annotation (other
 * keys untouched), ownerReferences (replaced by our single controller
 * reference), spec.resources, spec.targets, spec.defaultNamespace, null for
 * each of BUNDLE_ABSENT_FIELDS (merge patch deletes them), plus
 * metadata.resourceVersion as a precondition when resource_version is not
 * NULL. *body (holds Secret data: caller secret_free(body, *len)) and *len
 * are set on success.
 */
int bundle_merge_patch(const struct cJSON *desired, const char *resource_version,
                       char **body, size_t *len);

/*
 * bundle_ownership - classify a Bundle (whole object, or just its metadata
 * object) for the FleetHandshake with uid fh_uid; see enum bundle_owner.
 * Returns 0 with *out set, or -FH_EINVAL for NULL arguments.
 */
int bundle_ownership(const struct cJSON *live_or_meta, const char *fh_uid,
                     enum bundle_owner *out);

/*
 * bundle_describe_owner - a short, Secret-free description of who controls
 * live_or_meta, for the BundleConflict message: `controlled by GitRepo "app"`,
 * `created by GitRepo "app"` (label only), `created by HelmOp "h"`, or `not
 * created by fleet-handshake: ...`. Writes into buf (always NUL-terminated).
 */
void bundle_describe_owner(const struct cJSON *live_or_meta, char *buf, size_t len);

/*
 * bundle_meta_current - true when the watcher's metadata of the Bundle says
 * it was built from exactly this FleetHandshake generation and this Secret
 * resourceVersion (built-from annotation equal to the expected value), so it
 * needs no write. False if any input or field is missing.
 */
bool bundle_meta_current(const struct proto_obj *bundle_meta, const struct fh_spec *fh,
                         const struct proto_obj *secret_meta);

/*
 * bundle_text_quotes_secret - true when text (an apiserver or admission
 * webhook message) contains a value of secret: a data value as base64 or as
 * decoded plaintext, or a stringData value; values shorter than 4 bytes are
 * not looked for. Decoded copies are wiped. Callers replace such text
 * before it reaches a status, a result or a log line.
 */
bool bundle_text_quotes_secret(const char *text, const struct cJSON *secret);

/*
 * bundle_print - print obj as compact JSON without the intermediate
 * reallocations of cJSON_Print (which would leave unwiped copies of Secret
 * data in freed heap). *out (caller owns: secret_free(out, *len)) and *len
 * are set on success; -FH_ENOMEM, -FH_ETOOBIG past 1 GiB.
 */
int bundle_print(const struct cJSON *obj, char **out, size_t *len);

#endif
