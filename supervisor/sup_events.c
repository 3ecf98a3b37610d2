/*
 * sup_events.c - watcher events -> caches, reverse indexes and work queue.
 *
 * Decides which FleetHandshake keys an event affects (through fh_index's
 * reverse indexes: Secret -> FleetHandshakes using it, Bundle -> owner, each
 * O(1)) and whether that is worth a reconcile:
 *   - an event that is the echo of our own write (resourceVersion equals the
 *     one the worker reported) is ignored;
 *   - a Bundle change that only touches its status (Fleet reporting progress)
 *     is ignored;
 *   - a Bundle whose generation moved without us writing it was edited by
 *     someone else: the next task verifies the live Bundle;
 *   - a key in flight is not queued twice: it is marked pending and requeued
 *     when its result arrives (sup_dispatch.c), unless the event turns out to
 *     be the echo of that very task's writes.
 * Owns the struct keystate entries in s->keys.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fh_err.h"
#include "fh_str.h"
#include "fh_index.h"
#include "strmap.h"
#include "supervisor.h"
#include "workq.h"

/* sup_keystate_free - strmap value destructor for struct keystate */
void
sup_keystate_free(void *p)
{
    struct keystate *k = p;

    if (!k)
        return;
    free(k->fh_rv_written);
    free(k->bundle_rv_written);
    free(k->pending_fh_rv);
    free(k->pending_bundle_rv);
    if (k->tombstone) {
        proto_obj_clear(k->tombstone);
        free(k->tombstone);
    }
    free(k);
}

/* sup_keystate_get - the entry for key, created on demand; NULL on ENOMEM */
struct keystate *
sup_keystate_get(struct supervisor *s, const char *key)
{
    void **slot = NULL;
    bool created = false;

    if (strmap_intern(s->keys, key, &slot, NULL, &created) < 0)
        return NULL;
    if (!*slot) {
        *slot = calloc(1, sizeof(struct keystate));
        if (!*slot) {
            strmap_del(s->keys, key, NULL);
            return NULL;
        }
    }
    return *slot;
}

/* sup_state_init - allocate queue, index and keystate map */
int
sup_state_init(struct supervisor *s, uint32_t nworkers, uint64_t seed)
{
    struct workq_opts qo;
    int rc;

    s->nworkers = nworkers;
    rc = child_table_init_ex(&s->children, nworkers, s->leader_elect);
    if (rc < 0)
        return rc;
    memset(&qo, 0, sizeof(qo));        /* zero backoff = the default policy */
    qo.seed = seed;
    qo.nslots = nworkers;
    s->q = workq_new(&qo);
    s->ix = fh_index_new(seed);
    s->keys = strmap_new(seed ^ 0x9e3779b97f4a7c15ULL);
    if (!s->q || !s->ix || !s->keys)
        return -FH_ENOMEM;
    s->task_timeout_ms = 120000;
    return 0;
}

/* sup_state_free - release everything */
void
sup_state_free(struct supervisor *s)
{
    workq_free(&s->q);
    fh_index_free(&s->ix);
    strmap_free(&s->keys, sup_keystate_free);
    sup_relist_clear(s);
    child_table_free(&s->children);
    free(s->leader);
    s->leader = NULL;
}

/* inflight - key is being reconciled by a worker right now */
static bool
inflight(struct supervisor *s, const char *key)
{
    return workq_state(s->q, key, NULL) == WORKQ_INFLIGHT;
}

/* enqueue - queue key now, or mark it pending when it is in flight */
static int
enqueue(struct supervisor *s, const char *key, uint64_t now_ms)
{
    struct keystate *k;

    if (inflight(s, key)) {
        k = sup_keystate_get(s, key);
        if (!k)
            return -FH_ENOMEM;
        k->pending = true;
        return 0;
    }
    return workq_add(s->q, key, now_ms);
}

/* fh_event - a FleetHandshake changed */
static int
fh_event(struct supervisor *s, const struct proto_event *ev, const char *key,
         const struct proto_obj *prev, uint64_t now_ms)
{
    struct keystate *k = strmap_get(s->keys, key);
    const struct proto_obj *o = &ev->obj;
    bool meaningful;

    if (ev->type == PROTO_EV_DELETED) {
        /* Keep the last state so the worker can delete the Bundle it owned. */
        k = sup_keystate_get(s, key);
        if (!k)
            return -FH_ENOMEM;
        if (k->tombstone) {
            proto_obj_clear(k->tombstone);
        } else {
            k->tombstone = calloc(1, sizeof(*k->tombstone));
            if (!k->tombstone)
                return -FH_ENOMEM;
        }
        if (proto_obj_copy(k->tombstone, o) < 0)
            return -FH_ENOMEM;
        k->tombstone->deleting = true;
        return enqueue(s, key, now_ms);
    }
    if (k && k->tombstone) {        /* recreated under the same name */
        proto_obj_clear(k->tombstone);
        free(k->tombstone);
        k->tombstone = NULL;
    }
    meaningful = !prev || prev->generation != o->generation || prev->deleting != o->deleting ||
                 !fh_streq(prev->uid, o->uid) || !fh_streq(prev->secret_ns, o->secret_ns) ||
                 !fh_streq(prev->secret_name, o->secret_name);
    if (!meaningful && k && fh_streq(k->fh_rv_written, o->rv))
        return 0;                   /* the echo of our own status write */
    if (!meaningful && inflight(s, key)) {
        /* Most likely our own status write arriving before the result. */
        k = sup_keystate_get(s, key);
        if (!k)
            return -FH_ENOMEM;
        fh_strset(&k->pending_fh_rv, o->rv);
        return 0;
    }
    return enqueue(s, key, now_ms);
}

/* bundle_event - a Bundle changed; key is its owner FleetHandshake */
static int
bundle_event(struct supervisor *s, const struct proto_event *ev, const char *key,
             const struct proto_obj *prev, uint64_t now_ms)
{
    struct keystate *k = strmap_get(s->keys, key);
    const struct proto_obj *o = &ev->obj;
    bool gen_moved;

    if (!fh_index_get_fh(s->ix, key) && !(k && k->tombstone))
        return 0;                   /* no FleetHandshake of that name */
    if (ev->type == PROTO_EV_MODIFIED && prev && prev->generation == o->generation &&
        prev->deleting == o->deleting && fh_streq(prev->built_from, o->built_from) &&
        fh_streq(prev->owner_uid, o->owner_uid))
        return 0;                   /* status or unrelated metadata only */
    if (k && ev->type != PROTO_EV_DELETED && fh_streq(k->bundle_rv_written, o->rv))
        return 0;                   /* the echo of our own write */
    gen_moved = ev->type == PROTO_EV_MODIFIED && prev && prev->generation != o->generation;
    if (inflight(s, key)) {
        k = sup_keystate_get(s, key);
        if (!k)
            return -FH_ENOMEM;
        if (ev->type == PROTO_EV_DELETED)
            k->pending = true;
        else
            fh_strset(&k->pending_bundle_rv, o->rv);
        /* Most likely the echo of the task's own write, whose resourceVersion
         * is not known until its result: decided in sup_handle_result. */
        if (gen_moved)
            k->pending_verify = true;
        return 0;
    }
    if (gen_moved) {
        k = sup_keystate_get(s, key);
        if (!k)
            return -FH_ENOMEM;
        k->verify = true;
    }
    return workq_add(s->q, key, now_ms);
}

/* sup_handle_event - see header */
int
sup_handle_event(struct supervisor *s, const struct proto_event *ev, uint64_t now_ms)
{
    char key[PROTO_MAX_NAME * 2 + 2];

    s->stats.events++;
    snprintf(key, sizeof(key), "%s/%s", ev->obj.ns, ev->obj.name);
    sup_relist_seen(s, ev->obj.res, key);
    return sup_apply_event(s, ev, now_ms);
}

/* sup_apply_event - see header */
int
sup_apply_event(struct supervisor *s, const struct proto_event *ev, uint64_t now_ms)
{
    char key[PROTO_MAX_NAME * 2 + 2];
    const struct proto_obj *cached = NULL;
    struct proto_obj prev;
    bool have_prev = false;
    char **affected = NULL;
    size_t naffected = 0;
    struct fh_index_change change = { 0 };
    int rc;

    snprintf(key, sizeof(key), "%s/%s", ev->obj.ns, ev->obj.name);
    memset(&prev, 0, sizeof(prev));
    switch (ev->obj.res) {
    case PROTO_RES_FH: cached = fh_index_get_fh(s->ix, key); break;
    case PROTO_RES_BUNDLE: cached = fh_index_get_bundle(s->ix, key); break;
    default: break;
    }
    if (cached) {
        if (proto_obj_copy(&prev, cached) < 0)
            return -FH_ENOMEM;
        have_prev = true;
    }
    rc = fh_index_apply_ex(s->ix, ev->type, &ev->obj, &affected, &naffected, &change);
    if (rc < 0 || (change.flags & FH_IX_UNCHANGED))
        goto out;                   /* e.g. a relist: the same object again */
    switch (ev->obj.res) {
    case PROTO_RES_FH:
        rc = fh_event(s, ev, key, have_prev ? &prev : NULL, now_ms);
        break;
    case PROTO_RES_SECRET:
        for (size_t i = 0; i < naffected && rc == 0; i++)
            rc = enqueue(s, affected[i], now_ms);
        break;
    case PROTO_RES_BUNDLE: {
        bool own_name_seen = false;

        for (size_t i = 0; i < naffected && rc == 0; i++) {
            own_name_seen |= strcmp(affected[i], key) == 0;
            rc = bundle_event(s, ev, affected[i], have_prev ? &prev : NULL, now_ms);
        }
        /* A Bundle nobody owns (e.g. a GitRepo's) under a FleetHandshake's
         * name blocks it (BundleConflict); its changes concern that key too. */
        if (rc == 0 && !own_name_seen && fh_index_get_fh(s->ix, key))
            rc = bundle_event(s, ev, key, have_prev ? &prev : NULL, now_ms);
        break;
    }
    default:
        rc = -FH_EPROTO;
    }
out:
    for (size_t i = 0; i < naffected; i++)
        free(affected[i]);
    free(affected);
    if (have_prev)
        proto_obj_clear(&prev);
    return rc;
}

/* sup_handle_synced - record list completion; after a watcher restart,
 * forget what the new list no longer has */
void
sup_handle_synced(struct supervisor *s, const struct proto_synced *sy, uint64_t now_ms)
{
    size_t swept = 0;
    int rc;

    if (sy->res >= sizeof(s->synced) / sizeof(s->synced[0]))
        return;
    rc = sup_relist_finish(s, sy->res, now_ms, &swept);
    if (rc < 0)
        log_warn(&s->log, NULL, "after the watcher restart, %zu objects deleted meanwhile "
                 "were applied, others failed: %s", swept, fh_strerror(rc));
    else if (swept)
        log_info(&s->log, NULL, "%zu %s deleted while the watcher was restarting", swept,
                 sy->res == PROTO_RES_FH ? "FleetHandshakes" :
                 sy->res == PROTO_RES_SECRET ? "Secrets" : "Bundles");
    s->synced[sy->res] = true;
}

/* sup_all_synced - all three resources listed */
bool
sup_all_synced(const struct supervisor *s)
{
    return s->synced[PROTO_RES_FH] && s->synced[PROTO_RES_SECRET] && s->synced[PROTO_RES_BUNDLE];
}

/* sup_resync - enqueue every cached FleetHandshake */
int
sup_resync(struct supervisor *s, uint64_t now_ms)
{
    char **keys = NULL;
    size_t n = 0;
    int rc = fh_index_keys(s->ix, &keys, &n);

    for (size_t i = 0; i < n; i++) {
        if (rc == 0)
            rc = workq_resync(s->q, keys[i], now_ms);
        free(keys[i]);
    }
    free(keys);
    return rc;
}
