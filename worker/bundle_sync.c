/*
 * bundle_sync.c - the Bundle on the apiserver: get, create-or-patch with
 * bounded conflict handling and ownership re-checks, delete with a uid
 * precondition. Every body that held Secret data is wiped before return.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "bundle.h"
#include "bundle_sync.h"
#include "fh_err.h"
#include "fh_log.h"
#include "fh_spec.h"
#include "kube_client.h"
#include "secret_mem.h"

/* result_name - for the debug log */
static const char *
result_name(enum bsync_result r)
{
    switch (r) {
    case BSYNC_WRITTEN:         return "written";
    case BSYNC_UNCHANGED:       return "unchanged";
    case BSYNC_FOREIGN:         return "foreign";
    case BSYNC_PREVIOUS_OWNER:  return "previous owner";
    case BSYNC_CONFLICT:        return "conflict";
    case BSYNC_OWNER_GONE:      return "owner gone";
    case BSYNC_FAILED:          return "failed";
    }
    return "?";
}

/* bundle_sync_get - read the live Bundle */
int
bundle_sync_get(struct wreq *w, const char *ns, const char *name, cJSON **live,
                struct wreq_fail *fail)
{
    struct kube_response resp = { 0 };
    char *path = wreq_bundle_path(ns, name);
    int rc;

    *live = NULL;
    if (!path)
        return -FH_ENOMEM;
    rc = wreq_do(w, "GET", path, NULL, 0, &resp);
    if (rc == 0 && resp.status == 404) {
        rc = -FH_ENOTFOUND;
    } else if (rc < 0 || kube_http_err(resp.status) < 0) {
        wreq_fail_set(fail, rc, &resp, "get", WREQ_RES_BUNDLES, ns, NULL);
        rc = fail->err;
    } else if (!(*live = wreq_json(&resp))) {
        wreq_fail_set(fail, 0, &resp, "get", WREQ_RES_BUNDLES, ns, NULL);
        fail->err = -FH_EBADREPLY;
        snprintf(fail->text, sizeof(fail->text), "reply is not a JSON object");
        rc = -FH_EBADREPLY;
    }
    kube_response_clear(&resp);
    free(path);
    return rc;
}

/* bundle_sync_owner_alive - see header */
int
bundle_sync_owner_alive(struct wreq *w, const struct fh_spec *fh, struct wreq_fail *fail)
{
    struct kube_response resp = { 0 };
    char *path = wreq_fh_path(fh->ns, fh->name);
    const cJSON *meta, *uid;
    cJSON *o = NULL;
    int rc;

    if (!path)
        return -FH_ENOMEM;
    rc = wreq_do(w, "GET", path, NULL, 0, &resp);
    if (rc == 0 && resp.status == 404) {
        rc = 0;
    } else if (rc < 0 || kube_http_err(resp.status) < 0) {
        wreq_fail_set(fail, rc, &resp, "get", WREQ_RES_FH, fh->ns, NULL);
        rc = fail->err < 0 ? fail->err : -FH_EHTTP;
    } else {
        o = wreq_json(&resp);
        meta = cJSON_GetObjectItemCaseSensitive(o, "metadata");
        uid = cJSON_GetObjectItemCaseSensitive(meta, "uid");
        rc = cJSON_IsString(uid) && strcmp(uid->valuestring, fh->uid) == 0
             && !cJSON_GetObjectItemCaseSensitive(meta, "deletionTimestamp");
    }
    cJSON_Delete(o);
    kube_response_clear(&resp);
    free(path);
    return rc;
}

/* send_write - POST the whole desired Bundle or PATCH the owned fields */
static int
send_write(struct wreq *w, const struct bsync_in *in, bool create, const char *rv,
           struct kube_response *resp)
{
    char *path = wreq_bundle_path(in->fh->ns, create ? NULL : in->fh->name);
    char *body = NULL;
    size_t len = 0;
    int rc;

    if (!path)
        return -FH_ENOMEM;
    rc = create ? bundle_print(in->desired, &body, &len)
                : bundle_merge_patch(in->desired, rv, &body, &len);
    if (rc == 0)
        rc = wreq_do(w, create ? "POST" : "PATCH", path, body, len, resp);
    secret_free(&body, len);
    free(path);
    return rc;
}

/* warn_apiserver - the apiserver accepted the write with a warning (a field
 * Fleet's CRD does not know was dropped, say): pass it on. Warnings can come
 * from admission webhooks too, so one quoting the Secret is not repeated. */
static void
warn_apiserver(struct wreq *w, const struct bsync_in *in, bool create, const char *warning)
{
    if (!warning)
        return;
    if (in->secret && bundle_text_quotes_secret(warning, in->secret))
        warning = "(a warning that quotes the Secret's data; not repeated)";
    log_warn(w->log, w->key, "the apiserver %s Bundle %s/%s with a warning: %s",
             create ? "created" : "patched", in->fh->ns, in->fh->name, warning);
}

/* recheck - after a 409, read the live Bundle and decide what to do next.
 * Returns 1 to write again (exists/rv updated), 0 when out->result is final. */
static int
recheck(struct wreq *w, const struct bsync_in *in, bool *exists, char **rv,
        struct bsync_out *out)
{
    enum bundle_owner own;
    cJSON *live = NULL;
    bool equal = false;
    int rc;

    rc = bundle_sync_get(w, in->fh->ns, in->fh->name, &live, &out->fail);
    if (rc == -FH_ENOTFOUND) {
        *exists = false;            /* deleted meanwhile: create it */
        return 1;
    }
    if (rc < 0) {
        out->result = BSYNC_FAILED;
        return 0;
    }
    bundle_ownership(live, in->fh->uid, &own);
    if (own == BUNDLE_ORPHAN_OURS && (rc = bundle_sync_owner_alive(w, in->fh, &out->fail)) <= 0) {
        /* not while the FleetHandshake is going (an orphan deletion) */
        out->result = rc < 0 ? BSYNC_FAILED : BSYNC_OWNER_GONE;
        rc = 0;
    } else if (own == BUNDLE_FOREIGN || own == BUNDLE_PREVIOUS_OWNER) {
        bundle_describe_owner(live, out->owner, sizeof(out->owner));
        out->result = own == BUNDLE_FOREIGN ? BSYNC_FOREIGN : BSYNC_PREVIOUS_OWNER;
        rc = 0;
    } else if (bundle_owned_equal(in->desired, live, &equal) == 0 && equal) {
        out->result = BSYNC_UNCHANGED;
        out->bundle_generation = wreq_generation(live);
        rc = 0;
    } else {
        free(*rv);
        *rv = wreq_rv(live);
        *exists = true;
        rc = 1;
    }
    secret_json_free(&live);
    return rc;
}

/* bundle_sync_write - create or patch, at most BSYNC_MAX_WRITES times */
int
bundle_sync_write(struct wreq *w, const struct bsync_in *in, struct bsync_out *out)
{
    struct kube_response resp = { 0 };
    bool exists;
    char *rv = NULL;
    int writes, sent = 0, rc = 0;

    if (!w || !in || !in->fh || !in->desired || !out)
        return -FH_EINVAL;
    memset(out, 0, sizeof(*out));
    exists = in->exists;
    if (in->rv && !(rv = strdup(in->rv)))
        return -FH_ENOMEM;
    out->result = BSYNC_CONFLICT;
    for (writes = 1; writes <= BSYNC_MAX_WRITES; writes++) {
        bool create = !exists;
        cJSON *reply;

        sent++;
        rc = send_write(w, in, create, rv, &resp);
        if (rc == -FH_ENOMEM || rc == -FH_EINVAL || rc == -FH_ETOOBIG)
            goto out;
        if (rc == 0 && kube_http_err(resp.status) == 0) {
            warn_apiserver(w, in, create, resp.warning);
            /* The reply is the stored Bundle, Secret data included. */
            reply = wreq_json(&resp);
            out->bundle_rv = wreq_rv(reply);
            out->bundle_generation = wreq_generation(reply);
            secret_json_free(&reply);
            out->result = BSYNC_WRITTEN;
            out->created = create;
            break;
        }
        if (rc == 0 && resp.status == 404 && !create) {
            exists = false;         /* deleted since we looked: create it */
        } else if (rc == 0 && resp.status == 409) {
            if (writes == BSYNC_MAX_WRITES)
                break;              /* result stays BSYNC_CONFLICT */
            kube_response_clear(&resp);
            if (recheck(w, in, &exists, &rv, out) == 0)
                break;
        } else {
            wreq_fail_set(&out->fail, rc, &resp, create ? "create" : "patch",
                          WREQ_RES_BUNDLES, in->fh->ns, in->secret);
            out->result = BSYNC_FAILED;
            break;
        }
        kube_response_clear(&resp);
    }
    rc = 0;
    log_debug(w->log, w->key, "bundle write: %d write(s), %s", sent, result_name(out->result));
out:
    kube_response_clear(&resp);
    free(rv);
    return rc;
}

/* bundle_sync_delete - delete only the Bundle with this uid (and rv) */
int
bundle_sync_delete(struct wreq *w, const char *ns, const char *name, const char *bundle_uid,
                   const char *rv, struct wreq_fail *fail)
{
    struct kube_response resp = { 0 };
    cJSON *opts = NULL, *pre;
    char *path = NULL, *body = NULL;
    int rc = -FH_ENOMEM;

    if (!w || !fail || !bundle_uid)
        return -FH_EINVAL;
    if (!(path = wreq_bundle_path(ns, name))
        || !(opts = cJSON_CreateObject())
        || !cJSON_AddStringToObject(opts, "kind", "DeleteOptions")
        || !cJSON_AddStringToObject(opts, "apiVersion", "v1")
        || !cJSON_AddStringToObject(opts, "propagationPolicy", "Background")
        || !(pre = cJSON_AddObjectToObject(opts, "preconditions"))
        || !cJSON_AddStringToObject(pre, "uid", bundle_uid)
        || (rv && !cJSON_AddStringToObject(pre, "resourceVersion", rv))
        || !(body = cJSON_PrintUnformatted(opts)))
        goto out;
    rc = wreq_do(w, "DELETE", path, body, strlen(body), &resp);
    /* 404: already gone. 409: a precondition failed: with only the uid, the
     * object of that name is a different one now, not ours to delete; with a
     * resourceVersion too, it may just have changed - the caller looks again. */
    if (rc == 0 && (kube_http_err(resp.status) == 0 || resp.status == 404
                    || (resp.status == 409 && !rv))) {
        rc = 0;
    } else if (rc == 0 && resp.status == 409) {
        rc = -FH_ECONFLICT;
    } else {
        wreq_fail_set(fail, rc, &resp, "delete", WREQ_RES_BUNDLES, ns, NULL);
        rc = fail->err < 0 ? fail->err : -FH_EHTTP;
    }
out:
    kube_response_clear(&resp);
    cJSON_free(body);
    cJSON_Delete(opts);
    free(path);
    return rc;
}

/* bsync_out_clear - release what out owns */
void
bsync_out_clear(struct bsync_out *out)
{
    if (!out)
        return;
    free(out->bundle_rv);
    memset(out, 0, sizeof(*out));
}
