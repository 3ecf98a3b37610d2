/*
 * fh_status.h - the status a FleetHandshake should show, and how to write it.
 *
 * A struct fh_status is a plain value: fixed-size character arrays, no heap,
 * nothing to free. The same struct holds the status read from the object
 * (fh_status_from_json) and the status we want (fh_status_build), so the two
 * can be compared with fh_status_equal, which ignores the timestamps; an
 * unchanged status is therefore never rewritten.
 *
 * Wire shape (.status of riverpointtechnology.com/v1alpha1 FleetHandshake):
 *   status                 "Pending" | "Missing" | "Synced" | "Error" (kept from the original)
 *   observedGeneration     metadata.generation this status describes
 *   bundleName             the Bundle this FleetHandshake manages, when it has one
 *   secretResourceVersion  the Secret resourceVersion the Bundle holds
 *   bundleGeneration       the Bundle's metadata.generation as we left it
 *   lastSyncTime           RFC 3339 UTC, last Bundle write or confirmation
 *   conditions[Ready]      type, status True/False/Unknown, reason, message,
 *                          lastTransitionTime (changes only when status flips),
 *                          observedGeneration
 * Nothing here ever holds Secret data or a hash of it.
 */
#ifndef FH_STATUS_H
#define FH_STATUS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct cJSON;

#define FH_STATUS_MSG_MAX   1024u   /* condition message, NUL included */
#define FH_STATUS_TIME_MAX  32u     /* "2025-06-01T12:00:00Z" and then some */

/* Why the Ready condition is what it is; each maps to one status string. */
enum fh_reason {
    FH_REASON_SYNCED = 0,        /* Synced,  Ready True    "Synced" */
    FH_REASON_PENDING,           /* Pending, Ready Unknown "Pending" */
    FH_REASON_SECRET_NOT_FOUND,  /* Missing, Ready False   "SecretNotFound" */
    FH_REASON_BUNDLE_CONFLICT,   /* Error,   Ready False   "BundleConflict" */
    FH_REASON_INVALID_SPEC,      /* Error,   Ready False   "InvalidSpec" */
    FH_REASON_FORBIDDEN,         /* Error,   Ready False   "Forbidden" */
    FH_REASON_APPLY_FAILED,      /* Error,   Ready False   "ApplyFailed" */
    FH_REASON_SECRET_READ_FAILED,/* Error,   Ready False   "SecretReadFailed" */
    FH_REASON_NAMESPACE_NOT_WATCHED, /* Error, Ready False "SecretNamespaceNotWatched" */
    FH_REASON_MAX
};

struct fh_status {
    char status[16];                    /* "" when absent */
    bool has_observed_generation;
    int64_t observed_generation;
    char bundle_name[254];              /* "" when absent */
    char secret_rv[129];                /* "" when absent */
    bool has_bundle_generation;         /* bundleGeneration present */
    int64_t bundle_generation;          /* Bundle metadata.generation after our last
                                         * write or check: a different live generation
                                         * means someone edited the Bundle */
    char last_sync[FH_STATUS_TIME_MAX]; /* "" when absent */
    bool has_ready;                     /* a Ready condition exists */
    char ready_status[8];               /* "True" | "False" | "Unknown" */
    char ready_reason[64];
    char ready_message[FH_STATUS_MSG_MAX];
    char ready_ltt[FH_STATUS_TIME_MAX]; /* lastTransitionTime */
    bool has_ready_observed_generation;
    int64_t ready_observed_generation;
};

/*
 * What happened in this reconcile, as fh_status_build needs it. All strings
 * are borrowed; any may be NULL where the reason does not use it.
 */
struct fh_status_input {
    enum fh_reason reason;
    int64_t generation;         /* metadata.generation of the FleetHandshake */
    const char *fh_ns;          /* FleetHandshake (and Bundle) namespace */
    const char *fh_name;        /* FleetHandshake (and Bundle) name */
    const char *secret_ns;      /* spec.secretNamespace */
    const char *secret_name;    /* spec.secretName */
    const char *target_ns;      /* spec.targetNamespace (Synced message) */
    const char *secret_rv;      /* SYNCED: resourceVersion of the Secret in the Bundle */
    bool bundle_written;        /* SYNCED: we wrote the Bundle now (lastSyncTime = now) */
    bool has_bundle_generation; /* SYNCED: bundle_generation is known */
    int64_t bundle_generation;  /* SYNCED: the Bundle's metadata.generation now */
    /*
     * detail, per reason (never Secret data; the caller sanitises apiserver text):
     *   PENDING            what we wait for (NULL: "waiting for the first sync")
     *   BUNDLE_CONFLICT    who owns the Bundle, e.g. `controlled by GitRepo "app"`
     *   INVALID_SPEC       the validation or apiserver message
     *   FORBIDDEN          "<verb> <resource> in namespace <ns>: <apiserver text>"
     *   APPLY_FAILED,
     *   SECRET_READ_FAILED the apiserver's reason text
     */
    const char *detail;
};

/* fh_reason_name - "Synced", "SecretNotFound", ...; borrowed static string */
const char *fh_reason_name(enum fh_reason r);

/* fh_time_rfc3339 - format seconds since the epoch as "YYYY-MM-DDTHH:MM:SSZ"
 * into buf (at least 21 bytes); -FH_EINVAL if it does not fit or cannot be
 * represented */
int fh_time_rfc3339(uint64_t epoch_s, char *buf, size_t len);

/* fh_status_from_json - copy .status (a cJSON object, or NULL for "none") into
 * out, which is zeroed first. Fields of the wrong JSON type count as absent;
 * over-long strings are truncated. Never fails. */
void fh_status_from_json(const struct cJSON *status, struct fh_status *out);

/*
 * fh_status_build - the desired status for in, given the current one (cur may
 * be NULL for "no status yet"). Carries over lastTransitionTime when the Ready
 * status does not flip, keeps lastSyncTime unless a Bundle was written now
 * (or the status is SYNCED and none was recorded yet), and keeps bundleName
 * and secretResourceVersion on non-SYNCED outcomes (cleared on
 * BUNDLE_CONFLICT, where the Bundle of that name is not ours).
 * Returns 0, or -FH_EINVAL for a bad reason or unrepresentable now_s.
 */
int fh_status_build(const struct fh_status *cur, const struct fh_status_input *in,
                    uint64_t now_s, struct fh_status *out);

/* fh_status_equal - true when a and b agree on everything except lastSyncTime
 * and lastTransitionTime */
bool fh_status_equal(const struct fh_status *a, const struct fh_status *b);

/*
 * fh_status_patch_body - JSON merge patch {"status":{...}} for
 * PATCH .../fleethandshakes/NAME/status (application/merge-patch+json).
 * Every field of st is set; empty strings are sent as null so a stale value
 * is removed. The conditions list is replaced whole (merge-patch semantics).
 * On success *body (NUL-terminated, caller frees with free(); holds no Secret
 * data) and *len are set.
 */
int fh_status_patch_body(const struct fh_status *st, char **body, size_t *len);

#endif
