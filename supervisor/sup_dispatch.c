/*
 * sup_dispatch.c - work queue -> workers, and their results back.
 *
 * A key is owned by the worker slot shard_ring_slot(key) picks, so one key is
 * only ever in flight at one worker. sup_dispatch() pops ready keys whose
 * slot is idle (workq skips keys of busy slots without losing their place)
 * and sends each as a TASK carrying the cached FleetHandshake, Secret
 * metadata and Bundle metadata, so that a worker whose inputs are unchanged
 * needs no apiserver call at all. Nothing is dispatched until the watcher's
 * first lists are complete: before that, a missing Bundle in the cache could
 * just mean "not listed yet". With --leader-elect nothing is dispatched
 * unless this supervisor leads (sup_leader.c).
 * Owns nothing; works on struct supervisor.
 */
#include <stdlib.h>
#include <string.h>

#include <zmq.h>

#include "chan.h"
#include "fh_err.h"
#include "fh_str.h"
#include "fh_index.h"
#include "strmap.h"
#include "supervisor.h"
#include "workq.h"

struct accept_ctx {
    struct supervisor *s;
};

/* accept_slot - workq callback: can this slot's worker take a key now? */
static int
accept_slot(void *arg, uint32_t slot)
{
    struct accept_ctx *a = arg;
    struct child *w = child_find(&a->s->children, PROTO_ROLE_WORKER, slot);

    return w && w->state == CHILD_READY && !w->busy;
}

/* split_key - "ns/name" into two bounded buffers */
static int
split_key(const char *key, char *ns, char *name, size_t cap)
{
    const char *slash = strchr(key, '/');

    if (!slash || (size_t)(slash - key) >= cap || strlen(slash + 1) >= cap)
        return -FH_EINVAL;
    memcpy(ns, key, (size_t)(slash - key));
    ns[slash - key] = '\0';
    strcpy(name, slash + 1);
    return 0;
}

/* copy_obj - deep copy an optional cached object into the task */
static int
copy_obj(const struct proto_obj *src, struct proto_obj *dst, bool *has)
{
    *has = src != NULL;
    return src ? proto_obj_copy(dst, src) : 0;
}

/* send_task - build and send the TASK for key to worker w */
static int
send_task(struct supervisor *s, struct child *w, const char *key, uint32_t attempts,
          uint64_t now_ms)
{
    struct keystate *k = strmap_get(s->keys, key);
    const struct proto_obj *fh = fh_index_get_fh(s->ix, key);
    const struct proto_obj *secret = NULL, *bundle;
    char sk[FH_INDEX_KEY_MAX];
    char ns[PROTO_MAX_NAME + 1], name[PROTO_MAX_NAME + 1];
    char rid[64];
    struct proto_msg m;
    int rc;

    memset(&m, 0, sizeof(m));
    m.type = PROTO_TASK;
    if ((rc = split_key(key, ns, name, sizeof(ns))) < 0)
        return rc;
    if (!fh && k && k->tombstone)
        fh = k->tombstone;
    if (fh && fh->secret_name && fh_index_secret_key(fh, sk, sizeof(sk)) == 0)
        secret = fh_index_get_secret(s->ix, sk);
    bundle = fh_index_get_bundle(s->ix, key);     /* the Bundle we write has the FH's name */
    m.u.task.ns = strdup(ns);
    m.u.task.name = strdup(name);
    m.u.task.attempt = attempts;
    m.u.task.verify_bundle = k && k->verify;
    if (!m.u.task.ns || !m.u.task.name ||
        copy_obj(fh, &m.u.task.fh, &m.u.task.has_fh) < 0 ||
        copy_obj(secret, &m.u.task.secret, &m.u.task.has_secret) < 0 ||
        copy_obj(bundle, &m.u.task.bundle, &m.u.task.has_bundle) < 0) {
        rc = -FH_ENOMEM;
        goto out;
    }
    chan_routing_id_format(rid, sizeof(rid), PROTO_ROLE_WORKER, w->slot, w->gen);
    rc = chan_send(s->router, rid, &m, ZMQ_DONTWAIT);
    if (rc < 0)
        goto out;
    if (k) {
        k->verify = k->pending_verify = false;
        k->pending = false;
        free(k->pending_fh_rv);
        free(k->pending_bundle_rv);
        k->pending_fh_rv = k->pending_bundle_rv = NULL;
    }
    free(w->inflight_key);
    w->inflight_key = strdup(key);
    w->busy = true;
    w->task_started_ms = now_ms;
    s->stats.tasks++;
    s->was_busy = true;
out:
    proto_msg_clear(&m);
    return rc;
}

/* sup_dispatch - see header */
int
sup_dispatch(struct supervisor *s, uint64_t now_ms)
{
    struct accept_ctx a = { s };
    int sent = 0;

    if (s->draining || !sup_all_synced(s) || s->nworkers == 0 || !sup_may_dispatch(s))
        return 0;
    for (;;) {
        char *key = NULL;
        struct workq_pop_info info;
        struct child *w;
        int rc = workq_pop(s->q, now_ms, accept_slot, &a, &key, &info);

        if (rc < 0)
            break;
        w = child_find(&s->children, PROTO_ROLE_WORKER, info.slot);
        rc = send_task(s, w, key, info.attempts, now_ms);
        if (rc < 0) {
            log_warn(&s->log, key, "cannot send task to worker %u: %s", w->slot, fh_strerror(rc));
            workq_done(s->q, key, WORKQ_RETRY, 1000, now_ms);
        } else {
            sent++;
        }
        free(key);
    }
    return sent;
}

/* outcome_of - map a proto outcome to the queue's */
static enum workq_outcome
outcome_of(uint8_t o)
{
    switch (o) {
    case PROTO_OUT_DONE: return WORKQ_SUCCESS;
    case PROTO_OUT_FAILED: return WORKQ_FAILED;
    default: return WORKQ_RETRY;
    }
}

/* record_duration - one task's time into the histogram */
static void
record_duration(struct sup_stats *st, uint64_t ms)
{
    static const uint64_t bounds[SUP_DURATION_NBUCKETS] = SUP_DURATION_BUCKETS_MS;

    st->dur_count++;
    st->dur_sum_ms += ms;
    for (size_t i = 0; i < SUP_DURATION_NBUCKETS; i++) {
        if (ms <= bounds[i]) {
            st->dur_bucket[i]++;
            break;
        }
    }
}

/* sup_handle_result - see header */
int
sup_handle_result(struct supervisor *s, struct child *w, const struct proto_result *r,
                  uint64_t now_ms)
{
    char key[PROTO_MAX_NAME * 2 + 2];
    struct keystate *k;
    bool requeue, bundle_moved;
    int rc;

    snprintf(key, sizeof(key), "%s/%s", r->ns, r->name);
    if (!w->busy || !w->inflight_key || strcmp(w->inflight_key, key) != 0) {
        log_warn(&s->log, key, "result from worker %u for a key it does not hold", w->slot);
        s->stats.malformed++;
        return -FH_EPROTO;
    }
    w->busy = false;
    free(w->inflight_key);
    w->inflight_key = NULL;
    record_duration(&s->stats, now_ms >= w->task_started_ms ? now_ms - w->task_started_ms : 0);
    s->stats.api_reads += r->api_reads;
    s->stats.api_writes += r->api_writes;
    switch (r->outcome) {
    case PROTO_OUT_DONE: s->stats.done++; break;
    case PROTO_OUT_FAILED: s->stats.failed++; break;
    default: s->stats.retry++; break;
    }
    if (r->outcome != PROTO_OUT_DONE)
        log_warn(&s->log, key, "%s (%s)", r->outcome == PROTO_OUT_FAILED ? "failed" : "will retry",
                 r->message ? r->message : "no detail");
    else
        log_debug(&s->log, key, "reconciled (%u reads, %u writes)", r->api_reads, r->api_writes);

    k = strmap_get(s->keys, key);
    if (!k && (r->fh_rv || r->bundle_rv))
        k = sup_keystate_get(s, key);
    if (k && r->fh_rv) {
        free(k->fh_rv_written);
        k->fh_rv_written = strdup(r->fh_rv);
    }
    if (k && r->bundle_rv) {
        free(k->bundle_rv_written);
        k->bundle_rv_written = strdup(r->bundle_rv);
    }
    bundle_moved = k && k->pending_bundle_rv && !fh_streq(k->pending_bundle_rv, k->bundle_rv_written);
    requeue = k && (k->pending || bundle_moved ||
                    (k->pending_fh_rv && !fh_streq(k->pending_fh_rv, k->fh_rv_written)));
    /* A spec change of the Bundle seen in flight that was not this task's own
     * write: someone else edited it, so the next task compares the live one. */
    if (k && k->pending_verify && bundle_moved)
        k->verify = true;
    if (r->outcome == PROTO_OUT_RETRY && r->errclass == PROTO_ERR_OWNERSHIP)
        /* A Bundle someone else owns: its removal is not watched (we watch
         * only our Bundles), so look again now and then; an edit of the
         * FleetHandshake looks at once. */
        rc = workq_retry_min(s->q, key, SUP_OWNERSHIP_RECHECK_MS, now_ms);
    else
        rc = workq_done(s->q, key, outcome_of(r->outcome), r->retry_after_ms, now_ms);
    if (k) {
        k->pending = k->pending_verify = false;
        free(k->pending_fh_rv);
        free(k->pending_bundle_rv);
        k->pending_fh_rv = k->pending_bundle_rv = NULL;
    }
    if (requeue)
        rc = workq_add(s->q, key, now_ms);
    /* A deleted FleetHandshake whose cleanup finished is forgotten entirely. */
    if (k && k->tombstone && !fh_index_get_fh(s->ix, key) && r->outcome == PROTO_OUT_DONE && !requeue) {
        void *old = NULL;

        workq_forget(s->q, key);
        if (strmap_del(s->keys, key, &old) == 0)
            sup_keystate_free(old);
    }
    return rc;
}

/* sup_worker_lost - requeue the task of a dead worker */
void
sup_worker_lost(struct supervisor *s, struct child *w, uint64_t now_ms)
{
    if (w->busy && w->inflight_key) {
        struct keystate *k = strmap_get(s->keys, w->inflight_key);

        /* what the lost task wrote is unknown: a Bundle change seen meanwhile is verified */
        if (k && k->pending_verify)
            k->verify = true;
        log_warn(&s->log, w->inflight_key, "worker %u lost with this key in flight; requeued", w->slot);
        workq_requeue_inflight(s->q, w->inflight_key, now_ms);
    }
    w->busy = false;
    free(w->inflight_key);
    w->inflight_key = NULL;
}

/* sup_idle - nothing to do and nothing running */
bool
sup_idle(const struct supervisor *s)
{
    return workq_len(s->q) == 0 && workq_inflight(s->q) == 0;
}
