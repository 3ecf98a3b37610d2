/*
 * fh_spec.h - a FleetHandshake object, parsed and validated.
 *
 * fh_spec_parse() turns the JSON text the watcher sent (proto_obj.json) into
 * a struct fh_spec. The struct owns the parsed cJSON tree (root); every
 * const char * / const cJSON * in it borrows from that tree and is valid
 * until fh_spec_clear(). The current status is copied into cur (a value).
 * A FleetHandshake holds no Secret data, so the tree is freed normally.
 *
 * Parsing only needs the metadata; the spec fields are read as found (NULL
 * when missing or not a string) and judged separately by fh_spec_validate(),
 * so an invalid spec can still get an InvalidSpec status written.
 */
#ifndef FH_SPEC_H
#define FH_SPEC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "fh_status.h"

struct cJSON;

/* Kubernetes name limits (apimachinery validation) */
#define FH_DNS1123_LABEL_MAX     63u
#define FH_DNS1123_SUBDOMAIN_MAX 253u
#define FH_LABEL_VALUE_MAX       63u

struct fh_spec {
    struct cJSON *root;         /* owned: the whole parsed object */
    const char *name;           /* metadata.name (never NULL after a successful parse) */
    const char *ns;             /* metadata.namespace (never NULL) */
    const char *uid;            /* metadata.uid (never NULL) */
    int64_t generation;         /* metadata.generation, 0 if absent */
    bool deleting;              /* metadata.deletionTimestamp is set */
    const char *secret_name;    /* spec.secretName, NULL if missing/not a string */
    const char *secret_ns;      /* spec.secretNamespace, NULL if missing/not a string */
    const char *target_ns;      /* spec.targetNamespace, NULL if missing/not a string */
    const struct cJSON *targets;/* spec.targets as found (any JSON type), NULL if absent/null */
    struct fh_status cur;       /* copy of .status (zeroed when there is none) */
};

/*
 * fh_spec_parse - parse json into out (zeroed first). Returns 0, -FH_EINVAL
 * for NULL input, -FH_ENOMEM, or -FH_EBADREPLY when the text is not a JSON
 * object or metadata.name/namespace/uid are missing or not strings (the
 * watcher should never send such a thing). On failure out needs no clearing.
 */
int fh_spec_parse(const char *json, struct fh_spec *out);

/*
 * fh_spec_validate - check what the Bundle needs. Returns 0, or -FH_EINVAL
 * with a one-line reason a person can act on written into msg (for the
 * InvalidSpec status), e.g. `spec.secretName "My_Secret" is not a valid
 * Secret name: ...`. Checks: secretName/secretNamespace/targetNamespace
 * present, strings, non-empty; secretName a DNS-1123 subdomain (at most 253
 * characters); the two namespaces DNS-1123 labels (at most 63); a value
 * that is too long is reported with its length, another invalid one is
 * quoted (its first 80 bytes, cut at a character boundary, then "...");
 * targets absent, null or an array of objects holding no number of
 * magnitude 2^53 or more (cJSON keeps numbers as doubles, so it could not be passed on
 * exactly) and nested at most 64 levels. metadata.name is not limited
 * beyond what the apiserver enforces (253).
 */
int fh_spec_validate(const struct fh_spec *fh, char *msg, size_t len);

/* fh_spec_clear - free the tree and zero fh; idempotent */
void fh_spec_clear(struct fh_spec *fh);

/* fh_dns1123_label - RFC 1123 label as Kubernetes checks namespaces:
 * 1-63 of [a-z0-9-], starting and ending alphanumeric */
bool fh_dns1123_label(const char *s);

/* fh_dns1123_subdomain - RFC 1123 subdomain as Kubernetes checks most object
 * names (Secrets): 1-253 chars, dot-separated labels of [a-z0-9-] each
 * starting and ending alphanumeric */
bool fh_dns1123_subdomain(const char *s);

#endif
