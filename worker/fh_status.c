/*
 * fh_status.c - decide the FleetHandshake status for an outcome, read the
 * current one, and compare the two. Owns no memory: struct fh_status is a
 * value of fixed-size arrays. The merge-patch body lives in fh_status_patch.c.
 */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include <cjson/cJSON.h>

#include "fh_err.h"
#include "fh_status.h"

#define FH_JSON_INT_MAX 9007199254740992.0    /* 2^53 */

struct reason_info {
    const char *reason;     /* Ready.reason */
    const char *status;     /* .status.status */
    const char *ready;      /* Ready.status */
};

/* Indexed by enum fh_reason. */
static const struct reason_info reasons[FH_REASON_MAX] = {
    [FH_REASON_SYNCED]             = { "Synced",           "Synced",  "True" },
    [FH_REASON_PENDING]            = { "Pending",          "Pending", "Unknown" },
    [FH_REASON_SECRET_NOT_FOUND]   = { "SecretNotFound",   "Missing", "False" },
    [FH_REASON_BUNDLE_CONFLICT]    = { "BundleConflict",   "Error",   "False" },
    [FH_REASON_INVALID_SPEC]       = { "InvalidSpec",      "Error",   "False" },
    [FH_REASON_FORBIDDEN]          = { "Forbidden",        "Error",   "False" },
    [FH_REASON_APPLY_FAILED]       = { "ApplyFailed",      "Error",   "False" },
    [FH_REASON_SECRET_READ_FAILED] = { "SecretReadFailed", "Error",   "False" },
    [FH_REASON_NAMESPACE_NOT_WATCHED] = { "SecretNamespaceNotWatched", "Error", "False" },
};

/* fh_reason_name - the Ready reason string of r */
const char *
fh_reason_name(enum fh_reason r)
{
    if ((unsigned)r >= FH_REASON_MAX)
        return "Unknown";
    return reasons[r].reason;
}

/* fh_time_rfc3339 - epoch seconds to metav1.Time text */
int
fh_time_rfc3339(uint64_t epoch_s, char *buf, size_t len)
{
    struct tm tm;
    time_t t;

    /* time_t is signed 64-bit on every target we build for; refuse values it
     * cannot hold rather than wrap to a date in the past. */
    if (!buf || epoch_s > (uint64_t)INT64_MAX / 2)
        return -FH_EINVAL;
    t = (time_t)epoch_s;
    if (!gmtime_r(&t, &tm) || tm.tm_year + 1900 > 9999)
        return -FH_EINVAL;
    if (strftime(buf, len, "%Y-%m-%dT%H:%M:%SZ", &tm) == 0)
        return -FH_EINVAL;
    return 0;
}

/* copy_str - bounded copy of a JSON string member; absent or non-string -> "" */
static void
copy_str(const cJSON *obj, const char *key, char *dst, size_t cap)
{
    const cJSON *it = cJSON_GetObjectItemCaseSensitive(obj, key);

    dst[0] = '\0';
    if (cJSON_IsString(it) && it->valuestring)
        snprintf(dst, cap, "%s", it->valuestring);
}

/* get_int - integer member; false when absent or not a whole number */
static bool
get_int(const cJSON *obj, const char *key, int64_t *out)
{
    const cJSON *it = cJSON_GetObjectItemCaseSensitive(obj, key);

    /* cJSON keeps numbers as doubles: accept whole numbers in the range a
     * double holds exactly (converting anything larger would be undefined). */
    if (!cJSON_IsNumber(it) || !(it->valuedouble >= -FH_JSON_INT_MAX && it->valuedouble <= FH_JSON_INT_MAX)
        || it->valuedouble != (double)(int64_t)it->valuedouble)
        return false;
    *out = (int64_t)it->valuedouble;
    return true;
}

/* fh_status_from_json - copy the interesting parts of .status */
void
fh_status_from_json(const cJSON *status, struct fh_status *out)
{
    const cJSON *conds, *c;

    memset(out, 0, sizeof(*out));
    if (!cJSON_IsObject(status))
        return;
    copy_str(status, "status", out->status, sizeof(out->status));
    out->has_observed_generation = get_int(status, "observedGeneration",
                                           &out->observed_generation);
    copy_str(status, "bundleName", out->bundle_name, sizeof(out->bundle_name));
    copy_str(status, "secretResourceVersion", out->secret_rv, sizeof(out->secret_rv));
    out->has_bundle_generation = get_int(status, "bundleGeneration", &out->bundle_generation);
    copy_str(status, "lastSyncTime", out->last_sync, sizeof(out->last_sync));

    conds = cJSON_GetObjectItemCaseSensitive(status, "conditions");
    cJSON_ArrayForEach(c, conds) {
        const cJSON *type = cJSON_GetObjectItemCaseSensitive(c, "type");

        if (!cJSON_IsString(type) || strcmp(type->valuestring, "Ready") != 0)
            continue;
        out->has_ready = true;
        copy_str(c, "status", out->ready_status, sizeof(out->ready_status));
        copy_str(c, "reason", out->ready_reason, sizeof(out->ready_reason));
        copy_str(c, "message", out->ready_message, sizeof(out->ready_message));
        copy_str(c, "lastTransitionTime", out->ready_ltt, sizeof(out->ready_ltt));
        out->has_ready_observed_generation =
            get_int(c, "observedGeneration", &out->ready_observed_generation);
        break;
    }
}

/* nz - printable form of a possibly NULL string for messages */
static const char *
nz(const char *s)
{
    return s && *s ? s : "?";
}

/* build_message - the condition message a person can act on */
static void
build_message(const struct fh_status_input *in, char *buf, size_t len)
{
    const char *d = in->detail && *in->detail ? in->detail : NULL;

    switch (in->reason) {
    case FH_REASON_SYNCED:
        snprintf(buf, len, "Bundle %s/%s holds Secret %s/%s (resourceVersion %s); "
                 "Fleet deploys it to the targets as Secret %s in namespace %s",
                 nz(in->fh_ns), nz(in->fh_name), nz(in->secret_ns), nz(in->secret_name),
                 nz(in->secret_rv), nz(in->secret_name), nz(in->target_ns));
        break;
    case FH_REASON_PENDING:
        snprintf(buf, len, "%s", d ? d : "waiting for the first sync");
        break;
    case FH_REASON_SECRET_NOT_FOUND:
        snprintf(buf, len, "Secret %s/%s not found; create it (or correct "
                 "spec.secretNamespace/spec.secretName). An existing Bundle keeps "
                 "the last synced data until then",
                 nz(in->secret_ns), nz(in->secret_name));
        break;
    case FH_REASON_BUNDLE_CONFLICT:
        snprintf(buf, len, "Bundle %s/%s already exists and is not managed by this "
                 "FleetHandshake (%s); fleet-handshake will not overwrite it. Delete "
                 "or rename that Bundle, or give this FleetHandshake another name",
                 nz(in->fh_ns), nz(in->fh_name), d ? d : "unknown owner");
        break;
    case FH_REASON_INVALID_SPEC:
        snprintf(buf, len, "%s; fix the FleetHandshake, it is retried when it changes",
                 d ? d : "invalid spec");
        break;
    case FH_REASON_FORBIDDEN:
        snprintf(buf, len, "the operator is not allowed to %s; grant this permission "
                 "to its ServiceAccount (its ClusterRole, or with watchNamespaces the Role "
                 "in that namespace)", d ? d : "access the apiserver");
        break;
    case FH_REASON_APPLY_FAILED:
        snprintf(buf, len, "writing Bundle %s/%s failed: %s; retrying",
                 nz(in->fh_ns), nz(in->fh_name), d ? d : "unknown error");
        break;
    case FH_REASON_SECRET_READ_FAILED:
        snprintf(buf, len, "reading Secret %s/%s failed: %s; retrying",
                 nz(in->secret_ns), nz(in->secret_name), d ? d : "unknown error");
        break;
    case FH_REASON_NAMESPACE_NOT_WATCHED:
        snprintf(buf, len, "Secret %s/%s is in a namespace this operator does not watch "
                 "(it watches %s); add %s to its --namespace flags (Helm: watchNamespaces) "
                 "or keep the Secret in a watched namespace",
                 nz(in->secret_ns), nz(in->secret_name), d ? d : "a fixed list",
                 nz(in->secret_ns));
        break;
    default:
        snprintf(buf, len, "%s", d ? d : "");
        break;
    }
}

/* fh_status_build - desired status for an outcome */
int
fh_status_build(const struct fh_status *cur, const struct fh_status_input *in,
                uint64_t now_s, struct fh_status *out)
{
    static const struct fh_status none;
    const struct reason_info *ri;
    char now[FH_STATUS_TIME_MAX];

    if (!in || !out || (unsigned)in->reason >= FH_REASON_MAX)
        return -FH_EINVAL;
    if (fh_time_rfc3339(now_s, now, sizeof(now)) < 0)
        return -FH_EINVAL;
    if (!cur)
        cur = &none;
    ri = &reasons[in->reason];

    memset(out, 0, sizeof(*out));
    snprintf(out->status, sizeof(out->status), "%s", ri->status);
    out->has_observed_generation = true;
    out->observed_generation = in->generation;

    /* What the status says about the Bundle stays true until we know better:
     * a failed or Missing reconcile does not change which Bundle we manage
     * nor what it holds. A conflict means the Bundle of that name is not ours. */
    if (in->reason == FH_REASON_SYNCED) {
        snprintf(out->bundle_name, sizeof(out->bundle_name), "%s", in->fh_name ? in->fh_name : "");
        snprintf(out->secret_rv, sizeof(out->secret_rv), "%s", in->secret_rv ? in->secret_rv : "");
        out->has_bundle_generation = in->has_bundle_generation || cur->has_bundle_generation;
        out->bundle_generation = in->has_bundle_generation ? in->bundle_generation
                                                           : cur->bundle_generation;
        /* A write, or the first confirmation that the Bundle is current. */
        if (in->bundle_written || !cur->last_sync[0])
            snprintf(out->last_sync, sizeof(out->last_sync), "%s", now);
        else
            snprintf(out->last_sync, sizeof(out->last_sync), "%s", cur->last_sync);
    } else if (in->reason == FH_REASON_BUNDLE_CONFLICT) {
        snprintf(out->last_sync, sizeof(out->last_sync), "%s", cur->last_sync);
    } else {
        snprintf(out->bundle_name, sizeof(out->bundle_name), "%s", cur->bundle_name);
        snprintf(out->secret_rv, sizeof(out->secret_rv), "%s", cur->secret_rv);
        out->has_bundle_generation = cur->has_bundle_generation;
        out->bundle_generation = cur->bundle_generation;
        snprintf(out->last_sync, sizeof(out->last_sync), "%s", cur->last_sync);
    }

    out->has_ready = true;
    snprintf(out->ready_status, sizeof(out->ready_status), "%s", ri->ready);
    snprintf(out->ready_reason, sizeof(out->ready_reason), "%s", ri->reason);
    build_message(in, out->ready_message, sizeof(out->ready_message));
    out->has_ready_observed_generation = true;
    out->ready_observed_generation = in->generation;
    /* lastTransitionTime marks a flip of Ready.status, not of reason/message. */
    if (cur->has_ready && cur->ready_ltt[0] && strcmp(cur->ready_status, ri->ready) == 0)
        snprintf(out->ready_ltt, sizeof(out->ready_ltt), "%s", cur->ready_ltt);
    else
        snprintf(out->ready_ltt, sizeof(out->ready_ltt), "%s", now);
    return 0;
}

/* same_int - optional integers are equal */
static bool
same_int(bool ha, int64_t a, bool hb, int64_t b)
{
    return ha == hb && (!ha || a == b);
}

/* fh_status_equal - compare everything but the two timestamps */
bool
fh_status_equal(const struct fh_status *a, const struct fh_status *b)
{
    if (!a || !b)
        return false;
    if (strcmp(a->status, b->status) != 0
        || !same_int(a->has_observed_generation, a->observed_generation,
                     b->has_observed_generation, b->observed_generation)
        || strcmp(a->bundle_name, b->bundle_name) != 0
        || strcmp(a->secret_rv, b->secret_rv) != 0
        || !same_int(a->has_bundle_generation, a->bundle_generation,
                     b->has_bundle_generation, b->bundle_generation)
        || a->has_ready != b->has_ready)
        return false;
    if (!a->has_ready)
        return true;
    return strcmp(a->ready_status, b->ready_status) == 0
           && strcmp(a->ready_reason, b->ready_reason) == 0
           && strcmp(a->ready_message, b->ready_message) == 0
           && same_int(a->has_ready_observed_generation, a->ready_observed_generation,
                       b->has_ready_observed_generation, b->ready_observed_generation);
}
