/*
 * reconcile.c - one reconcile of one FleetHandshake: decide from the cached
 * metadata in the task whether anything must be read or written, sync the
 * Bundle, write the status if it changed, and fill the proto_result.
 * Owns, for the duration of one call, the parsed FleetHandshake, the Secret
 * as read and the desired Bundle; the last two hold Secret data and are
 * wiped before reconcile_task returns.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "bundle.h"
#include "bundle_sync.h"
#include "fh_err.h"
#include "fh_log.h"
#include "fh_spec.h"
#include "fh_status.h"
#include "kube_client.h"
#include "proto.h"
#include "reconcile.h"
#include "secret_mem.h"
#include "wreq.h"

#define RETRY_AFTER_MAX_S 3600L

/* Everything one reconcile_task call works with. */
struct rc {
    struct wreq w;
    const struct proto_task *task;
    uint64_t now;
    const struct reconcile_opts *opts;  /* never NULL (borrowed) */
    char key[PROTO_MAX_NAME * 2 + 2];
    struct fh_spec fh;
    /* the outcome */
    uint8_t outcome;
    uint8_t errclass;
    uint32_t retry_after_ms;
    char msg[PROTO_MAX_MESSAGE];
    char *fh_rv;                    /* owned */
    char *bundle_rv;                /* owned */
    /* the status to write (when status_wanted and it differs) */
    bool status_wanted;
    struct fh_status_input st;
    char detail[FH_STATUS_MSG_MAX]; /* backing store of st.detail */
    char *secret_rv;                /* backing store of st.secret_rv; owned */
};

/* set_outcome - outcome, error class and the short result message */
static void __attribute__((format(printf, 4, 5)))
set_outcome(struct rc *c, uint8_t outcome, uint8_t errclass, const char *fmt, ...)
{
    va_list ap;

    c->outcome = outcome;
    c->errclass = errclass;
    va_start(ap, fmt);
    vsnprintf(c->msg, sizeof(c->msg), fmt, ap);
    va_end(ap);
}

/* want_status - the status should say reason, with an optional detail */
static void __attribute__((format(printf, 3, 4)))
want_status(struct rc *c, enum fh_reason reason, const char *fmt, ...)
{
    va_list ap;

    c->status_wanted = true;
    c->st.reason = reason;
    c->detail[0] = '\0';
    if (fmt) {
        va_start(ap, fmt);
        vsnprintf(c->detail, sizeof(c->detail), fmt, ap);
        va_end(ap);
    }
    c->st.detail = c->detail;
}

/* on_fail - map a failed request to the outcome and, where it helps the
 * user and the apiserver is answering, to an Error status */
static void
on_fail(struct rc *c, const struct wreq_fail *f, enum fh_reason transient, bool status)
{
    bool bundle = f->resource && strcmp(f->resource, WREQ_RES_BUNDLES) == 0;

    log_warn(c->w.log, c->key, "%s %s in %s failed: HTTP %ld: %s", f->verb, f->resource,
             f->ns, f->http, f->text);
    if (f->http == 0) {
        /* No answer at all: a status write would fail the same way. */
        set_outcome(c, PROTO_OUT_RETRY, PROTO_ERR_TRANSIENT, "%s %s: %s", f->verb,
                    f->resource, f->text);
    } else if (f->http == 429 || (f->http >= 500 && f->retry_after_s > 0)) {
        /* Throttled (429, or a 5xx that says when to come back, as a 503
         * from an overloaded apiserver does): do not add a status write to
         * the load, and wait as long as it asks. */
        long s = f->retry_after_s > RETRY_AFTER_MAX_S ? RETRY_AFTER_MAX_S : f->retry_after_s;

        set_outcome(c, PROTO_OUT_RETRY, PROTO_ERR_THROTTLED, "%s %s: throttled", f->verb,
                    f->resource);
        c->retry_after_ms = s > 0 ? (uint32_t)s * 1000u : 0;
    } else if (f->http == 401 || f->http == 403) {
        set_outcome(c, PROTO_OUT_RETRY, PROTO_ERR_FORBIDDEN, "forbidden: %s %s in %s",
                    f->verb, f->resource, f->ns);
        if (status)
            want_status(c, FH_REASON_FORBIDDEN, "%s %s in namespace %s (%s)", f->verb,
                        f->resource, f->ns, f->text);
    } else if (f->http == 400 || f->http == 422) {
        set_outcome(c, PROTO_OUT_FAILED, PROTO_ERR_INVALID, "%s %s rejected: HTTP %ld",
                    f->verb, f->resource, f->http);
        if (status && bundle)
            want_status(c, FH_REASON_INVALID_SPEC, "the apiserver rejected the Bundle "
                        "built from this spec: %s", f->text);
    } else {
        set_outcome(c, PROTO_OUT_RETRY, PROTO_ERR_TRANSIENT, "%s %s: HTTP %ld", f->verb,
                    f->resource, f->http);
        if (status)
            want_status(c, transient, "%s", f->text);
    }
}

/* on_owner - the Bundle of our name is someone else's */
static void
on_owner(struct rc *c, enum bundle_owner own, const char *who)
{
    if (own == BUNDLE_PREVIOUS_OWNER) {
        /* The garbage collector deletes it (its owner is gone); then we create ours. */
        set_outcome(c, PROTO_OUT_RETRY, PROTO_ERR_OWNERSHIP,
                    "bundle still owned by an earlier FleetHandshake");
        want_status(c, FH_REASON_PENDING, "Bundle %s/%s is still %s, an earlier "
                    "FleetHandshake of this name; waiting for Kubernetes to delete it",
                    c->fh.ns, c->fh.name, who);
    } else {
        /* RETRY: only our own Bundles are watched, so nobody tells us when
         * this one goes; the supervisor looks again now and then. */
        log_warn(c->w.log, c->key, "Bundle exists and is not ours (%s); not touching it", who);
        set_outcome(c, PROTO_OUT_RETRY, PROTO_ERR_OWNERSHIP, "bundle conflict: %s", who);
        want_status(c, FH_REASON_BUNDLE_CONFLICT, "%s", who);
    }
}

/* on_missing - the Secret does not exist; the Bundle (if any) is kept */
static void
on_missing(struct rc *c)
{
    set_outcome(c, PROTO_OUT_DONE, PROTO_ERR_NONE, "secret %s/%s not found",
                c->fh.secret_ns, c->fh.secret_name);
    want_status(c, FH_REASON_SECRET_NOT_FOUND, NULL);
}

/* missing_already_reported - status says SecretNotFound for this generation */
static bool
missing_already_reported(const struct rc *c)
{
    const struct fh_status *cur = &c->fh.cur;

    return cur->has_ready && strcmp(cur->ready_reason, fh_reason_name(FH_REASON_SECRET_NOT_FOUND)) == 0 &&
           cur->has_observed_generation && cur->observed_generation == c->fh.generation;
}

/* on_synced - the Bundle (now at metadata.generation gen) holds Secret
 * resourceVersion rv */
static int
on_synced(struct rc *c, const char *rv, bool written, int64_t gen, const char *how)
{
    free(c->secret_rv);
    c->secret_rv = strdup(rv ? rv : "");
    if (!c->secret_rv)
        return -FH_ENOMEM;
    c->st.secret_rv = c->secret_rv;
    c->st.bundle_written = written;
    c->st.has_bundle_generation = gen > 0;
    c->st.bundle_generation = gen;
    set_outcome(c, PROTO_OUT_DONE, PROTO_ERR_NONE, "synced (%s)", how);
    want_status(c, FH_REASON_SYNCED, NULL);
    return 0;
}

/* adoptable - an orphaned Bundle of ours: adopt it only if the live
 * FleetHandshake is not being deleted. 0 to go on, 1 when decided. */
static int
adoptable(struct rc *c)
{
    struct wreq_fail fail;
    int rc = bundle_sync_owner_alive(&c->w, &c->fh, &fail);

    if (rc == -FH_ENOMEM)
        return rc;
    if (rc < 0) {
        on_fail(c, &fail, FH_REASON_APPLY_FAILED, true);
        return 1;
    }
    if (rc == 0) {
        set_outcome(c, PROTO_OUT_DONE, PROTO_ERR_NONE,
                    "FleetHandshake is being deleted; its orphaned Bundle is left alone");
        return 1;
    }
    return 0;
}

/* classify - who owns the existing Bundle? From the watcher's metadata when
 * it names us (or an earlier FleetHandshake) as controller, else from one
 * GET. Returns 0 to go on (*live set if read; *exists cleared on 404), 1
 * when the outcome is decided. */
static int
classify(struct rc *c, enum bundle_owner *own, cJSON **live, bool *exists)
{
    const struct proto_obj *b = &c->task->bundle;
    struct wreq_fail fail;
    char who[256];
    int rc;

    if (b->owner_uid && strcmp(b->owner_uid, c->fh.uid) == 0) {
        *own = BUNDLE_OURS;
        return 0;
    }
    if (b->owner_uid && b->owner_name && strcmp(b->owner_name, c->fh.name) == 0) {
        *own = BUNDLE_PREVIOUS_OWNER;
        snprintf(who, sizeof(who), "controlled by FleetHandshake \"%s\" uid %s",
                 b->owner_name, b->owner_uid);
        on_owner(c, *own, who);
        return 1;
    }
    /* Labels (orphans) and plain ownerReferences (the original operator's
     * Bundles) are not in the cached metadata: look. */
    rc = bundle_sync_get(&c->w, c->fh.ns, c->fh.name, live, &fail);
    if (rc == -FH_ENOTFOUND) {
        *exists = false;
        return 0;
    }
    if (rc == -FH_ENOMEM)
        return rc;
    if (rc < 0) {
        on_fail(c, &fail, FH_REASON_APPLY_FAILED, true);
        return 1;
    }
    bundle_ownership(*live, c->fh.uid, own);
    if (*own == BUNDLE_FOREIGN || *own == BUNDLE_PREVIOUS_OWNER) {
        bundle_describe_owner(*live, who, sizeof(who));
        on_owner(c, *own, who);
        return 1;
    }
    if (*own == BUNDLE_ORPHAN_OURS)
        return adoptable(c);
    return 0;
}

/* get_secret - read the Secret. 0 with *secret set; 1 when the outcome is
 * decided (missing, or failed) */
static int
get_secret(struct rc *c, cJSON **secret)
{
    struct kube_response resp = { 0 };
    struct wreq_fail fail;
    char *path = wreq_secret_path(c->fh.secret_ns, c->fh.secret_name);
    int rc;

    *secret = NULL;
    if (!path)
        return -FH_ENOMEM;
    rc = wreq_do(&c->w, "GET", path, NULL, 0, &resp);
    if (rc == 0 && resp.status == 404) {
        on_missing(c);
        rc = 1;
    } else if (rc < 0 || kube_http_err(resp.status) < 0) {
        wreq_fail_set(&fail, rc, &resp, "get", WREQ_RES_SECRETS, c->fh.secret_ns, NULL);
        on_fail(c, &fail, FH_REASON_SECRET_READ_FAILED, true);
        rc = 1;
    } else if (!(*secret = wreq_json(&resp)) || !cJSON_IsObject(*secret)) {
        secret_json_free(secret);
        set_outcome(c, PROTO_OUT_RETRY, PROTO_ERR_TRANSIENT, "unparsable secret reply");
        want_status(c, FH_REASON_SECRET_READ_FAILED, "the apiserver's reply is not a JSON object");
        rc = 1;
    }
    /* The body is the Secret: wipe it now, the tree is all we need. */
    kube_response_clear(&resp);
    free(path);
    return rc;
}

/* fresh_current - the cached Bundle metadata already names the Secret
 * version just read (the watcher's Secret metadata was older than the Bundle's) */
static bool
fresh_current(const struct rc *c, const cJSON *secret)
{
    const cJSON *meta = cJSON_GetObjectItemCaseSensitive(secret, "metadata");
    const cJSON *uid = cJSON_GetObjectItemCaseSensitive(meta, "uid");
    const cJSON *rv = cJSON_GetObjectItemCaseSensitive(meta, "resourceVersion");
    char want[BUNDLE_BUILT_FROM_MAX];

    return c->task->bundle.built_from && cJSON_IsString(uid) && cJSON_IsString(rv)
           && bundle_built_from(c->fh.uid, c->fh.generation, uid->valuestring,
                                rv->valuestring, want, sizeof(want)) == 0
           && strcmp(want, c->task->bundle.built_from) == 0;
}

/* write_bundle - create or patch, then report */
static int
write_bundle(struct rc *c, const cJSON *desired, const cJSON *secret, bool exists,
             const char *rv, const char *secret_rv)
{
    struct bsync_in in = { &c->fh, desired, secret, exists, rv };
    struct bsync_out out;
    int rc;

    rc = bundle_sync_write(&c->w, &in, &out);
    if (rc < 0)
        return rc;
    switch (out.result) {
    case BSYNC_WRITTEN:
        log_info(c->w.log, c->key, "%s Bundle %s/%s (resourceVersion %s) from Secret %s/%s "
                 "resourceVersion %s", out.created ? "created" : "updated", c->fh.ns,
                 c->fh.name, out.bundle_rv ? out.bundle_rv : "?", c->fh.secret_ns,
                 c->fh.secret_name, secret_rv);
        c->bundle_rv = out.bundle_rv;
        out.bundle_rv = NULL;
        rc = on_synced(c, secret_rv, true, out.bundle_generation, out.created ? "bundle created" : "bundle updated");
        break;
    case BSYNC_UNCHANGED:
        rc = on_synced(c, secret_rv, false, out.bundle_generation, "bundle already current");
        break;
    case BSYNC_FOREIGN:
        on_owner(c, BUNDLE_FOREIGN, out.owner);
        break;
    case BSYNC_PREVIOUS_OWNER:
        on_owner(c, BUNDLE_PREVIOUS_OWNER, out.owner);
        break;
    case BSYNC_CONFLICT:
        log_warn(c->w.log, c->key, "Bundle kept changing under us (409 %d times)",
                 BSYNC_MAX_WRITES);
        set_outcome(c, PROTO_OUT_RETRY, PROTO_ERR_CONFLICT,
                    "bundle write conflicted %d times", BSYNC_MAX_WRITES);
        break;
    case BSYNC_FAILED:
        on_fail(c, &out.fail, FH_REASON_APPLY_FAILED, true);
        break;
    case BSYNC_OWNER_GONE:
        set_outcome(c, PROTO_OUT_DONE, PROTO_ERR_NONE,
                    "FleetHandshake is being deleted; its orphaned Bundle is left alone");
        break;
    }
    bsync_out_clear(&out);
    return rc;
}

/* sync - steps c..e of the algorithm: ownership, Secret, Bundle */
static int
sync(struct rc *c)
{
    const struct proto_task *t = c->task;
    enum bundle_owner own = BUNDLE_OURS;
    cJSON *live = NULL, *secret = NULL, *desired = NULL;
    const char *rv = t->has_bundle ? t->bundle.rv : NULL;
    bool exists = t->has_bundle, equal = false, verify;
    char *live_rv = NULL, *secret_rv = NULL;
    struct wreq_fail fail;
    int rc = 0;

    if (exists && (rc = classify(c, &own, &live, &exists)) != 0)
        goto out;
    /* The cache has no such Secret. Say Missing on its word only when the
     * status already says so for this generation (a resync or restart costs
     * no call). Otherwise ask: the Secret's watch event may simply not have
     * arrived yet (Secret and FleetHandshake applied together), and a
     * Missing that flashes up for a Secret that exists would be a lie. */
    if (!t->has_secret && missing_already_reported(c)) {
        on_missing(c);
        goto out;
    }
    /* A Bundle whose generation is not the one our status recorded was
     * edited while nobody watched (e.g. while the operator was down): read it
     * and compare before trusting its annotation. */
    verify = t->verify_bundle || (exists && !live &&
             (!c->fh.cur.has_bundle_generation || c->fh.cur.bundle_generation != t->bundle.generation));
    /* The steady state: the Bundle says it was built from exactly these
     * inputs. No call at all. */
    if (exists && !live && !verify && bundle_meta_current(&t->bundle, &c->fh, &t->secret)) {
        rc = on_synced(c, t->secret.rv, false, t->bundle.generation, "bundle current");
        goto out;
    }
    if ((rc = get_secret(c, &secret)) != 0)
        goto out;
    if (!(secret_rv = wreq_rv(secret))) {
        set_outcome(c, PROTO_OUT_RETRY, PROTO_ERR_TRANSIENT, "secret reply lacks resourceVersion");
        want_status(c, FH_REASON_SECRET_READ_FAILED, "the Secret as read has no resourceVersion");
        goto out;
    }
    if (exists && !live && !verify && fresh_current(c, secret)) {
        rc = on_synced(c, secret_rv, false, t->bundle.generation, "bundle current");
        goto out;
    }
    rc = bundle_build(&c->fh, secret, &desired);
    if (rc == -FH_EBADREPLY) {
        set_outcome(c, PROTO_OUT_FAILED, PROTO_ERR_INVALID, "secret data malformed");
        want_status(c, FH_REASON_SECRET_READ_FAILED, "the Secret's data is not a map "
                    "of base64 strings, or it lacks metadata.uid");
        rc = 0;
        goto out;
    }
    if (rc < 0)
        goto out;
    if (verify && exists && !live) {
        rc = bundle_sync_get(&c->w, c->fh.ns, c->fh.name, &live, &fail);
        if (rc == -FH_ENOTFOUND) {
            exists = false;
        } else if (rc == -FH_ENOMEM) {
            goto out;
        } else if (rc < 0) {
            on_fail(c, &fail, FH_REASON_APPLY_FAILED, true);
            rc = 0;
            goto out;
        } else {
            char who[256];

            bundle_ownership(live, c->fh.uid, &own);
            if (own == BUNDLE_FOREIGN || own == BUNDLE_PREVIOUS_OWNER) {
                bundle_describe_owner(live, who, sizeof(who));
                on_owner(c, own, who);
                goto out;
            }
            if (own == BUNDLE_ORPHAN_OURS && (rc = adoptable(c)) != 0) {
                rc = rc < 0 ? rc : 0;
                goto out;
            }
        }
        rc = 0;
    }
    if (live) {
        if (bundle_owned_equal(desired, live, &equal) == 0 && equal) {
            rc = on_synced(c, secret_rv, false, wreq_generation(live), "bundle verified");
            goto out;
        }
        rv = live_rv = wreq_rv(live);
        /* Done with it: it holds (possibly older) Secret data. */
        secret_json_free(&live);
    }
    rc = write_bundle(c, desired, secret, exists, rv, secret_rv);
out:
    secret_json_free(&desired);
    secret_json_free(&secret);
    secret_json_free(&live);
    free(live_rv);
    free(secret_rv);
    return rc < 0 ? rc : 0;
}

/* orphaning - the FleetHandshake is being deleted with the orphan policy
 * (kubectl delete --cascade=orphan): its dependents must survive it. Uses
 * the tree fh_spec_parse made when there is one, else parses the task's JSON. */
static bool
orphaning(const struct rc *c)
{
    cJSON *own = NULL;
    const cJSON *o = c->fh.root, *f;
    bool found = false;

    if (!o && c->task->has_fh && c->task->fh.json)
        o = own = cJSON_Parse(c->task->fh.json);
    cJSON_ArrayForEach(f, cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(o, "metadata"),
                                                           "finalizers")) {
        if (cJSON_IsString(f) && strcmp(f->valuestring, "orphan") == 0)
            found = true;
    }
    cJSON_Delete(own);
    return found;
}

/* being_deleted - the object carries a deletionTimestamp */
static bool
being_deleted(const cJSON *obj)
{
    return cJSON_IsString(cJSON_GetObjectItemCaseSensitive(
        cJSON_GetObjectItemCaseSensitive(obj, "metadata"), "deletionTimestamp"));
}

/* delete_bundle - step a: the FleetHandshake is gone or going. Delete its
 * Bundle if the cache says it is ours and the live Bundle confirms it
 * (garbage collection would too, via the ownerReference; this is quicker
 * and does not depend on it). Never with the orphan policy, and never a
 * Bundle the garbage collector has orphaned meanwhile: the DELETE carries
 * the uid and resourceVersion that were just read. */
static int
delete_bundle(struct rc *c, const char *fh_uid)
{
    const struct proto_obj *b = &c->task->bundle;
    struct wreq_fail fail;
    int rc = 0;

    if (orphaning(c)) {
        log_info(c->w.log, c->key, "FleetHandshake deleted with the orphan policy; its Bundle is kept");
        set_outcome(c, PROTO_OUT_DONE, PROTO_ERR_NONE, "deleted (orphan); Bundle kept");
        return 0;
    }
    if (!c->task->has_bundle || !fh_uid || !b->owner_uid || strcmp(b->owner_uid, fh_uid) != 0
        || !b->uid) {
        set_outcome(c, PROTO_OUT_DONE, PROTO_ERR_NONE, "deleted; no Bundle of ours to remove");
        return 0;
    }
    if (b->deleting) {              /* Fleet's finalizer is at work: nothing to add */
        set_outcome(c, PROTO_OUT_DONE, PROTO_ERR_NONE, "deleted; Bundle already being deleted");
        return 0;
    }
    for (int tries = 0; tries < BSYNC_MAX_WRITES; tries++) {
        enum bundle_owner own = BUNDLE_FOREIGN;
        cJSON *live = NULL;
        char *rv = NULL;

        rc = bundle_sync_get(&c->w, c->task->ns, c->task->name, &live, &fail);
        if (rc == -FH_ENOTFOUND) {
            set_outcome(c, PROTO_OUT_DONE, PROTO_ERR_NONE, "deleted; Bundle already gone");
            return 0;
        }
        if (rc == -FH_ENOMEM)
            return rc;
        if (rc < 0) {
            on_fail(c, &fail, FH_REASON_APPLY_FAILED, false);
            return 0;
        }
        bundle_ownership(live, fh_uid, &own);
        rv = wreq_rv(live);
        if (own == BUNDLE_OURS && being_deleted(live)) {
            free(rv);
            secret_json_free(&live);
            set_outcome(c, PROTO_OUT_DONE, PROTO_ERR_NONE, "deleted; Bundle already being deleted");
            return 0;
        }
        secret_json_free(&live);
        if (own != BUNDLE_OURS) {
            free(rv);
            log_info(c->w.log, c->key, "FleetHandshake deleted; its Bundle is no longer "
                     "controlled by it (orphaned), so it is kept");
            set_outcome(c, PROTO_OUT_DONE, PROTO_ERR_NONE, "deleted; Bundle orphaned, kept");
            return 0;
        }
        rc = bundle_sync_delete(&c->w, c->task->ns, c->task->name, b->uid, rv, &fail);
        free(rv);
        if (rc == -FH_ECONFLICT)
            continue;               /* it changed since we read it: look again */
        if (rc == -FH_ENOMEM || rc == -FH_EINVAL)
            return rc;
        if (rc < 0) {
            on_fail(c, &fail, FH_REASON_APPLY_FAILED, false);
            return 0;
        }
        log_info(c->w.log, c->key, "FleetHandshake deleted; deleted its Bundle");
        set_outcome(c, PROTO_OUT_DONE, PROTO_ERR_NONE, "deleted; Bundle removed");
        return 0;
    }
    set_outcome(c, PROTO_OUT_RETRY, PROTO_ERR_CONFLICT, "Bundle kept changing while being deleted");
    return 0;
}

/* check_crd - the status we just wrote came back without its conditions:
 * the apiserver pruned them, so the CRD installed is an older one (the
 * original operator's has only status.status). Everything still works, but
 * Ready, observedGeneration and bundleGeneration are lost, so every resync
 * costs a Secret read and a status write. Say so, once. */
static void
check_crd(struct rc *c, const cJSON *reply)
{
    const cJSON *st = cJSON_GetObjectItemCaseSensitive(reply, "status");

    if (!cJSON_IsObject(st) || cJSON_GetObjectItemCaseSensitive(st, "conditions"))
        return;
    if (c->opts->crd_warned && *c->opts->crd_warned)
        return;
    log_warn(c->w.log, c->key, "the apiserver dropped status.conditions from our status write: "
             "the installed FleetHandshake CRD is outdated (an older fleet-handshake or the "
             "original operator's). Apply the CRD from this release "
             "(kubectl apply -f crds/), otherwise Ready is never shown and every resync "
             "re-reads Secrets and rewrites status");
    if (c->opts->crd_warned)
        *c->opts->crd_warned = true;
}

/* write_status - step f: PATCH .../status when the desired status differs */
static int
write_status(struct rc *c)
{
    struct kube_response resp = { 0 };
    struct fh_status want;
    struct wreq_fail fail;
    char *path = NULL, *body = NULL;
    size_t len = 0;
    int rc;

    rc = fh_status_build(&c->fh.cur, &c->st, c->now, &want);
    if (rc < 0)
        return rc;
    if (fh_status_equal(&c->fh.cur, &want))
        return 0;
    if ((rc = fh_status_patch_body(&want, &body, &len)) < 0)
        return rc;
    if (!(path = wreq_fh_status_path(c->fh.ns, c->fh.name))) {
        rc = -FH_ENOMEM;
        goto out;
    }
    rc = wreq_do(&c->w, "PATCH", path, body, len, &resp);
    if (rc == 0 && kube_http_err(resp.status) == 0) {
        cJSON *reply = wreq_json(&resp);

        c->fh_rv = wreq_rv(reply);
        check_crd(c, reply);
        if (resp.warning)
            log_warn(c->w.log, c->key, "status written with an apiserver warning: %s", resp.warning);
        cJSON_Delete(reply);
        log_debug(c->w.log, c->key, "status %s/%s written", want.status, want.ready_reason);
    } else if (rc == 0 && resp.status == 404) {
        set_outcome(c, PROTO_OUT_DONE, PROTO_ERR_NONE, "FleetHandshake deleted meanwhile");
    } else {
        wreq_fail_set(&fail, rc, &resp, "patch", WREQ_RES_FH_STATUS, c->fh.ns, NULL);
        /* The first failure says most; a failed status write only matters
         * when everything else went well. */
        if (c->outcome == PROTO_OUT_DONE)
            on_fail(c, &fail, FH_REASON_APPLY_FAILED, false);
        else
            log_warn(c->w.log, c->key, "status write failed too: HTTP %ld: %s", fail.http,
                     fail.text);
    }
    rc = 0;
out:
    kube_response_clear(&resp);
    free(body);
    free(path);
    return rc;
}

/* namespace_watched - the Secret's namespace is one the watcher lists */
static bool
namespace_watched(const struct rc *c)
{
    const struct reconcile_opts *o = c->opts;

    if (o->nns == 0)
        return true;
    for (size_t i = 0; i < o->nns; i++) {
        if (strcmp(o->namespaces[i], c->fh.secret_ns) == 0)
            return true;
    }
    return false;
}

/* watched_list - "a, b, c" (truncated to fit) */
static void
watched_list(const struct rc *c, char *buf, size_t cap)
{
    size_t used = 0;

    buf[0] = '\0';
    for (size_t i = 0; i < c->opts->nns && used < cap; i++) {
        int n = snprintf(buf + used, cap - used, "%s%s", i ? ", " : "", c->opts->namespaces[i]);

        if (n < 0)
            break;
        used += (size_t)n;
    }
}

/* reconcile_fh - steps b..f for a FleetHandshake that exists */
static int
reconcile_fh(struct rc *c)
{
    const struct proto_task *t = c->task;
    int rc;

    if (!t->fh.json) {
        set_outcome(c, PROTO_OUT_FAILED, PROTO_ERR_INTERNAL, "task carries no FleetHandshake");
        return 0;
    }
    rc = fh_spec_parse(t->fh.json, &c->fh);
    if (rc == -FH_ENOMEM)
        return rc;
    if (rc < 0) {
        set_outcome(c, PROTO_OUT_FAILED, PROTO_ERR_INTERNAL, "cannot parse the FleetHandshake");
        return 0;
    }
    if (c->fh.deleting)
        return delete_bundle(c, c->fh.uid);
    c->st.generation = c->fh.generation;
    c->st.fh_ns = c->fh.ns;
    c->st.fh_name = c->fh.name;
    c->st.secret_ns = c->fh.secret_ns;
    c->st.secret_name = c->fh.secret_name;
    c->st.target_ns = c->fh.target_ns;
    if (fh_spec_validate(&c->fh, c->detail, sizeof(c->detail)) < 0) {
        log_warn(c->w.log, c->key, "invalid spec: %s", c->detail);
        set_outcome(c, PROTO_OUT_FAILED, PROTO_ERR_INVALID, "invalid spec");
        c->status_wanted = true;
        c->st.reason = FH_REASON_INVALID_SPEC;
        c->st.detail = c->detail;
        return write_status(c);
    }
    if (!namespace_watched(c)) {
        char list[FH_STATUS_MSG_MAX / 2];

        watched_list(c, list, sizeof(list));
        log_warn(c->w.log, c->key, "Secret namespace %s is not watched (watching %s)",
                 c->fh.secret_ns, list);
        set_outcome(c, PROTO_OUT_FAILED, PROTO_ERR_INVALID, "secret namespace not watched");
        want_status(c, FH_REASON_NAMESPACE_NOT_WATCHED, "%s", list);
        return write_status(c);
    }
    if ((rc = sync(c)) < 0)
        return rc;
    return c->status_wanted ? write_status(c) : 0;
}

/* fill_result - hand the outcome over to res */
static int
fill_result(struct rc *c, struct proto_result *res)
{
    memset(res, 0, sizeof(*res));
    res->ns = strdup(c->task->ns);
    res->name = strdup(c->task->name);
    res->message = strdup(c->msg);
    if (!res->ns || !res->name || !res->message) {
        free(res->ns);
        free(res->name);
        free(res->message);
        memset(res, 0, sizeof(*res));
        return -FH_ENOMEM;
    }
    res->outcome = c->outcome;
    res->errclass = c->errclass;
    res->retry_after_ms = c->retry_after_ms;
    res->fh_rv = c->fh_rv;
    res->bundle_rv = c->bundle_rv;
    c->fh_rv = c->bundle_rv = NULL;
    res->api_reads = c->w.reads;
    res->api_writes = c->w.writes;
    return 0;
}

/* reconcile_task - see reconcile.h */
int
reconcile_task(struct kube_client *kc, const struct proto_task *task,
               const struct fh_log *log, uint64_t now_wall_s, struct proto_result *res)
{
    return reconcile_task_ex(kc, task, log, now_wall_s, NULL, res);
}

/* reconcile_task_ex - see reconcile.h */
int
reconcile_task_ex(struct kube_client *kc, const struct proto_task *task,
                  const struct fh_log *log, uint64_t now_wall_s,
                  const struct reconcile_opts *opts, struct proto_result *res)
{
    static const struct reconcile_opts all = { NULL, 0, NULL };
    struct rc c;
    int rc;

    if (!task || !task->ns || !task->name || !res || (opts && opts->nns && !opts->namespaces))
        return -FH_EINVAL;
    memset(&c, 0, sizeof(c));
    c.opts = opts ? opts : &all;
    c.w.kc = kc;
    c.w.log = log;
    c.w.key = c.key;
    c.task = task;
    c.now = now_wall_s;
    snprintf(c.key, sizeof(c.key), "%s/%s", task->ns, task->name);
    set_outcome(&c, PROTO_OUT_DONE, PROTO_ERR_NONE, "nothing to do");

    if (!task->has_fh || task->fh.deleting)
        rc = delete_bundle(&c, task->fh.uid);
    else
        rc = reconcile_fh(&c);
    if (rc == 0)
        rc = fill_result(&c, res);
    free(c.fh_rv);
    free(c.bundle_rv);
    free(c.secret_rv);
    fh_spec_clear(&c.fh);
    return rc;
}
