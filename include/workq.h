/*
 * workq.h - the supervisor's keyed work queue of FleetHandshake keys.
 *
 * Each key is in exactly one state:
 *   IDLE      known (remembered attempts after FAILED) or absent
 *   QUEUED    ready; waits in the FIFO of its worker slot
 *   DELAYED   waits in a min-heap until due_ms (requeue-after or retry backoff)
 *   INFLIGHT  handed to a worker by workq_pop; never handed out again until
 *             workq_done / workq_requeue_inflight. Flags: dirty (changed
 *             while in flight), pending due time (add_after while in flight),
 *             forget (deleted while in flight).
 *
 * Keys are sharded over worker slots with shard_ring_slot(key, nslots); every
 * slot has its own FIFO, so a busy slot never blocks other slots' keys, and
 * workq_pop picks, among the slots the caller accepts, the head that was
 * queued first (global FIFO order otherwise). Dedup: a key is at most once in
 * the queue. Cost: add/forget/done/pop are O(log n) (heap) + O(nslots)
 * (pop's scan of slot heads); memory O(keys). The periodic resync is the
 * caller calling workq_resync for every key: O(1) each for keys already
 * waiting or in flight.
 *
 * Transitions (now = caller's CLOCK_MONOTONIC ms; the queue never reads a clock):
 *   add         IDLE->QUEUED; QUEUED no-op; DELAYED(requeue-after)->QUEUED;
 *               DELAYED(retry backoff)->QUEUED (a change is worth trying at
 *               once, as client-go's queue does; attempts are kept, so the
 *               next failure backs off further), except while a server's
 *               Retry-After holds it; INFLIGHT sets dirty.
 *   add_after   IDLE->DELAYED(due); DELAYED(requeue-after) keeps the earlier
 *               due; DELAYED(backoff) and QUEUED no-op; INFLIGHT remembers
 *               the earliest pending due.
 *   resync      IDLE->QUEUED; anything else no-op.
 *   done SUCCESS  attempts = 0; dirty -> QUEUED; else pending due -> DELAYED;
 *               else IDLE (forgotten).
 *   done RETRY  attempts++, DELAYED until now + max(backoff(attempts-1),
 *               retry_after_ms), held (add cannot pull it in) for
 *               retry_after_ms; dirty and pending due are absorbed (the
 *               retry sees the newest object).
 *   retry_min   RETRY with min_delay_ms as a floor that add may cut short.
 *   done FAILED attempts kept; dirty -> QUEUED; else pending due -> DELAYED;
 *               else IDLE (the key waits for its inputs to change).
 *   forget      drops the key in any state; if INFLIGHT, it is dropped at
 *               done/requeue_inflight (unless re-added meanwhile).
 *   requeue_inflight  INFLIGHT -> QUEUED (worker died); dirty/pending absorbed.
 *
 * Ownership: the queue copies every key it is given. workq_pop returns a heap
 * copy the caller frees with free(). Callers' strings are only borrowed for
 * the duration of a call.
 */
#ifndef WORKQ_H
#define WORKQ_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "backoff.h"

struct workq;

enum workq_outcome {                /* same values as enum proto_outcome */
    WORKQ_SUCCESS = 1,              /* converged */
    WORKQ_RETRY = 2,                /* transient failure: back off and retry */
    WORKQ_FAILED = 3,               /* permanent until the inputs change */
};

enum workq_state {
    WORKQ_IDLE = 0,
    WORKQ_QUEUED = 1,
    WORKQ_DELAYED = 2,
    WORKQ_INFLIGHT = 3,
};

struct workq_opts {
    struct backoff_policy backoff;  /* retry delays; all-zero = backoff_policy_default */
    uint64_t seed;                  /* seeds the jitter PRNG and the key map hash */
    uint32_t nslots;                /* worker slots keys are sharded over; 0 = 1 */
};

struct workq_pop_info {
    uint32_t slot;                  /* worker slot that owns the key */
    uint32_t attempts;              /* retries so far (proto_task.attempt) */
    uint64_t waited_ms;             /* now - time it became ready */
};

/* workq_new - empty queue; o may be NULL (defaults, 1 slot). NULL on
 * allocation failure or an invalid backoff policy. Caller frees with workq_free. */
struct workq *workq_new(const struct workq_opts *o);

/* workq_free - free everything, set *q = NULL; NULL-safe */
void workq_free(struct workq **q);

/* workq_add - key changed: make it ready now (see transitions above).
 * 0, -FH_EINVAL (NULL key), -FH_ENOMEM (queue unchanged). */
int workq_add(struct workq *q, const char *key, uint64_t now_ms);

/* workq_add_after - make key ready at due_ms, keeping the earliest due time.
 * 0, -FH_EINVAL, -FH_ENOMEM. */
int workq_add_after(struct workq *q, const char *key, uint64_t due_ms);

/* workq_resync - periodic resync: queue key only if it is idle or unknown.
 * 0, -FH_EINVAL, -FH_ENOMEM. */
int workq_resync(struct workq *q, const char *key, uint64_t now_ms);

/*
 * workq_pop - move due delayed keys to their slot FIFOs, then hand out the
 * earliest-queued key whose slot the caller accepts (accept(arg, slot)
 * returns 1; accept NULL accepts every slot). accept is called at most once
 * per slot with a waiting key. The key becomes INFLIGHT; *key_out receives a
 * heap copy the caller frees; info may be NULL.
 * 0, -FH_EAGAIN (nothing ready for an accepted slot), -FH_ENOMEM (unchanged).
 */
int workq_pop(struct workq *q, uint64_t now_ms,
              int (*accept)(void *arg, uint32_t slot), void *arg,
              char **key_out, struct workq_pop_info *info);

/* workq_pop_slot - workq_pop restricted to one slot. Same returns, plus
 * -FH_EINVAL if slot >= nslots. */
int workq_pop_slot(struct workq *q, uint32_t slot, uint64_t now_ms,
                   char **key_out, struct workq_pop_info *info);

/* workq_done - the worker finished key with outcome; retry_after_ms is the
 * server's Retry-After (0 = none), used by RETRY only.
 * 0, -FH_ENOTFOUND (key not in flight), -FH_EINVAL (bad outcome; unchanged). */
int workq_done(struct workq *q, const char *key, enum workq_outcome outcome,
               uint32_t retry_after_ms, uint64_t now_ms);

/* workq_retry_min - the worker asks to retry key in no less than
 * min_delay_ms (e.g. a Bundle conflict it cannot see resolve), but a change
 * may pull it in earlier. 0 or -FH_ENOTFOUND (key not in flight). */
int workq_retry_min(struct workq *q, const char *key, uint32_t min_delay_ms, uint64_t now_ms);

/* workq_requeue_inflight - the key's worker died: INFLIGHT -> QUEUED at the
 * tail (or dropped if forgotten). Attempts unchanged; to count the crash as a
 * failed try with backoff use workq_done(RETRY) instead.
 * 0, -FH_ENOTFOUND (key not in flight). */
int workq_requeue_inflight(struct workq *q, const char *key, uint64_t now_ms);

/* workq_forget - the object is gone: drop key (deferred while in flight).
 * Always 0 (unknown keys are fine). */
int workq_forget(struct workq *q, const char *key);

/* workq_set_slots - change the number of worker slots: queued keys move to
 * their new slots keeping their order (O(n log n)); in-flight keys stay
 * exclusive. 0, -FH_EINVAL (nslots 0), -FH_ENOMEM (unchanged). */
int workq_set_slots(struct workq *q, uint32_t nslots);

/* workq_slot_of - the slot that owns key under the current slot count */
uint32_t workq_slot_of(const struct workq *q, const char *key);

/* workq_attempts - retries recorded for key (0 if unknown) */
uint32_t workq_attempts(const struct workq *q, const char *key);

/* workq_state - key's state; *dirty (may be NULL) = changed while in flight */
enum workq_state workq_state(const struct workq *q, const char *key, bool *dirty);

/* workq_next_due_ms - ms until the earliest delayed key is due (0 if one is
 * due already), -1 if none is delayed; ready-but-unpopped keys do not count,
 * so this is the right zmq_poll timeout while every slot is busy */
long workq_next_due_ms(const struct workq *q, uint64_t now_ms);

/* workq_len - keys waiting (queued + delayed), not counting in-flight ones */
size_t workq_len(const struct workq *q);

/* workq_queued - keys ready in the slot FIFOs (not counting due delayed ones
 * that the next pop will promote) */
size_t workq_queued(const struct workq *q);

/* workq_slot_queued - keys ready in one slot's FIFO (0 for a bad slot) */
size_t workq_slot_queued(const struct workq *q, uint32_t slot);

/* workq_inflight - keys handed out and not yet done */
size_t workq_inflight(const struct workq *q);

/* workq_nslots - current slot count */
uint32_t workq_nslots(const struct workq *q);

#endif
