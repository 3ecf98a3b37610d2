/*
 * supervisor.h - the supervisor's state and the pieces of its event loop
 * that live outside main.c.
 *
 * main.c owns the one struct supervisor (process-wide state is allowed only
 * there) and passes it to:
 *   sup_events.c   - watcher events -> caches, reverse indexes, work queue
 *   sup_dispatch.c - work queue -> TASK messages to idle workers, RESULTs back
 *   sup_leader.c   - LEADER messages from the elector (--leader-elect)
 * Ownership: everything reachable from struct supervisor is owned by it and
 * released by sup_state_free().
 */
#ifndef SUPERVISOR_H
#define SUPERVISOR_H

#include <stdbool.h>
#include <stdint.h>

#include "child.h"
#include "fh_log.h"
#include "proto.h"

struct strmap;
struct workq;
struct fh_index;

/* Per-FleetHandshake bookkeeping that is not a cache of apiserver state. */
struct keystate {
    char *fh_rv_written;        /* resourceVersion our last status write produced */
    char *bundle_rv_written;    /* resourceVersion our last Bundle write produced */
    bool verify;                /* next task must compare the live Bundle */
    bool pending_verify;        /* a Bundle spec change seen while in flight: becomes
                                 * verify unless it was the echo of that task's write */
    bool pending;               /* changed while in flight: requeue after the result */
    char *pending_fh_rv;        /* latest FH status-only event seen while in flight */
    char *pending_bundle_rv;    /* latest Bundle event seen while in flight */
    struct proto_obj *tombstone;/* last state of a deleted FleetHandshake (owned) */
};

/* A FleetHandshake blocked by a Bundle it does not own is looked at again
 * after at least this long (growing with the retry backoff up to its cap). */
#define SUP_OWNERSHIP_RECHECK_MS 30000u

/* Upper bounds (ms) of the reconcile duration histogram's buckets; +Inf is implied. */
#define SUP_DURATION_BUCKETS_MS { 5, 10, 25, 50, 100, 250, 500, 1000, 2500, 5000, 10000, 30000, 60000 }
#define SUP_DURATION_NBUCKETS 13

struct sup_stats {
    uint64_t events;            /* EVENT messages from the watcher */
    uint64_t tasks;             /* TASK messages sent */
    uint64_t done, retry, failed;   /* RESULT outcomes */
    uint64_t malformed;         /* dropped malformed/unknown/stale messages */
    uint64_t api_reads, api_writes; /* apiserver calls reported by workers */
    uint64_t dur_bucket[SUP_DURATION_NBUCKETS]; /* tasks that took <= bound (not cumulative) */
    uint64_t dur_count;         /* tasks timed (RESULTs) */
    uint64_t dur_sum_ms;        /* their total time, TASK sent -> RESULT received */
};

struct supervisor {
    struct fh_log log;          /* our logger */
    void *zctx;                 /* ZeroMQ context */
    void *router;               /* ROUTER socket all children connect to */
    struct child_table children;/* watcher + workers (+ elector with --leader-elect) */
    uint32_t nworkers;          /* --workers */
    struct workq *q;            /* keys to reconcile */
    struct fh_index *ix;        /* caches + reverse indexes */
    struct strmap *keys;        /* key -> struct keystate */
    bool synced[4];             /* per enum proto_res: first list complete */
    struct strmap *unseen[4];   /* per enum proto_res: cached keys the restarted
                                 * watcher has not reported yet (sup_relist.c) */
    bool draining;              /* SIGTERM received: no new work */
    bool leader_elect;          /* --leader-elect: dispatch only while leading */
    bool leading;               /* the elector's last word: we hold the Lease */
    char *leader;               /* holder the elector last reported (owned), NULL if unknown */
    bool was_busy;              /* work happened since the queue was last idle */
    uint64_t task_timeout_ms;   /* a busy worker is killed after this */
    struct sup_stats stats;     /* counters */
};

/* sup_state_init / sup_state_free - allocate and release the data structures;
 * set s->leader_elect before sup_state_init (it adds the elector child) */
int sup_state_init(struct supervisor *s, uint32_t nworkers, uint64_t seed);
void sup_state_free(struct supervisor *s);

/* sup_keystate_free - free one struct keystate (strmap value destructor); NULL-safe */
void sup_keystate_free(void *p);

/* sup_keystate_get - the keystate of key, created on demand (owned by s); NULL on ENOMEM */
struct keystate *sup_keystate_get(struct supervisor *s, const char *key);

/* sup_handle_event - apply one watcher EVENT and enqueue what it affects */
int sup_handle_event(struct supervisor *s, const struct proto_event *ev, uint64_t now_ms);

/* sup_apply_event - sup_handle_event without counting it as a watch event
 * or marking it seen (for events the supervisor synthesizes) */
int sup_apply_event(struct supervisor *s, const struct proto_event *ev, uint64_t now_ms);

/* sup_handle_synced - a watcher list completed (finishes a pending relist) */
void sup_handle_synced(struct supervisor *s, const struct proto_synced *sy, uint64_t now_ms);

/* sup_relist.c: after a watcher restart, objects deleted meanwhile.
 * sup_relist_begin - the watcher went away: remember every cached key as
 *   unseen (replacing any earlier set). 0 or -FH_ENOMEM (then no sweep).
 * sup_relist_seen - an event of the new watcher: key exists.
 * sup_relist_finish - the new watcher's list of res completed: apply a
 *   DELETED event for every key still unseen; *swept counts them. 0 or the
 *   first error of those events.
 * sup_relist_clear - drop every unseen set (sup_state_free calls it). */
int sup_relist_begin(struct supervisor *s, uint64_t seed);
void sup_relist_seen(struct supervisor *s, uint8_t res, const char *key);
int sup_relist_finish(struct supervisor *s, uint8_t res, uint64_t now_ms, size_t *swept);
void sup_relist_clear(struct supervisor *s);

/* sup_all_synced - FleetHandshakes, Secrets and Bundles have all been listed */
bool sup_all_synced(const struct supervisor *s);

/* sup_resync - enqueue every known FleetHandshake */
int sup_resync(struct supervisor *s, uint64_t now_ms);

/* sup_dispatch - hand ready keys to idle workers; returns tasks sent */
int sup_dispatch(struct supervisor *s, uint64_t now_ms);

/* sup_handle_result - a worker's RESULT */
int sup_handle_result(struct supervisor *s, struct child *w, const struct proto_result *r,
                      uint64_t now_ms);

/* sup_worker_lost - a worker died or was killed with a task in flight */
void sup_worker_lost(struct supervisor *s, struct child *w, uint64_t now_ms);

/* sup_idle - nothing queued, delayed-due or in flight */
bool sup_idle(const struct supervisor *s);

/* sup_may_dispatch - without --leader-elect always; with it, only while the
 * elector says we lead */
bool sup_may_dispatch(const struct supervisor *s);

/* sup_handle_leader - the elector's LEADER: start or stop dispatching (tasks
 * in flight finish either way) and log the change */
void sup_handle_leader(struct supervisor *s, const struct proto_leader *l);

/* sup_elector_lost - the elector exited: whatever it said, we no longer lead */
void sup_elector_lost(struct supervisor *s);

#endif
