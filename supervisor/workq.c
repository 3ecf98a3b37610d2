/*
 * workq.c - keyed work queue: per-slot FIFOs of ready keys, a min-heap of
 * delayed keys, in-flight bookkeeping and per-key retry backoff.
 *
 * Owns: the key -> item map (and so every key copy), every item, the slot
 * FIFO array and the heap array. Items are linked into at most one structure
 * (a FIFO when QUEUED, the heap when DELAYED, nothing otherwise); an item's
 * key pointer is the map's own copy, stable until the item is removed.
 */
#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include "fh_err.h"
#include "shard_ring.h"
#include "strmap.h"
#include "workq.h"

#define NO_DUE UINT64_MAX
#define NO_HEAP SIZE_MAX

struct wq_item {
    const char *key;            /* the map's copy (borrowed from q->items) */
    uint8_t state;              /* enum workq_state */
    bool dirty;                 /* INFLIGHT: added again meanwhile */
    bool forget;                /* INFLIGHT: drop when it comes back */
    bool backoff;               /* DELAYED: retry backoff (see hold_ms) */
    uint64_t hold_ms;           /* DELAYED backoff: a change pulls it in only from
                                 * this time on (the server's Retry-After; 0 = at once) */
    uint32_t slot;              /* QUEUED: which FIFO */
    uint32_t attempts;          /* consecutive RETRY outcomes */
    uint32_t last_delay_ms;     /* last backoff delay (decorrelated jitter) */
    uint64_t due_ms;            /* DELAYED: due time; INFLIGHT: pending due or NO_DUE */
    uint64_t seq;               /* FIFO order (QUEUED) or heap tie-break (DELAYED) */
    uint64_t ready_ms;          /* when it last became ready (for waited_ms) */
    size_t heap_idx;            /* DELAYED: index in q->heap, else NO_HEAP */
    struct wq_item *prev;       /* QUEUED: FIFO neighbour towards the head */
    struct wq_item *next;       /* QUEUED: FIFO neighbour towards the tail */
};

struct wq_fifo {
    struct wq_item *head;       /* oldest */
    struct wq_item *tail;       /* newest */
    size_t len;                 /* items in this FIFO */
};

struct workq {
    struct strmap *items;       /* key -> struct wq_item* (owned) */
    struct wq_fifo *fifos;      /* nslots FIFOs */
    uint32_t nslots;            /* >= 1 */
    struct wq_item **heap;      /* min-heap on (due_ms, seq) */
    size_t heap_len;            /* used heap entries */
    size_t heap_cap;            /* allocated heap entries */
    size_t nqueued;             /* items in all FIFOs */
    size_t ninflight;           /* INFLIGHT items */
    uint64_t next_seq;          /* monotone counter for seq */
    struct backoff_policy policy;   /* retry delays */
    uint64_t rng;               /* jitter PRNG state */
};

/* ---- heap ---------------------------------------------------------------- */

/* heap_less - ordering of delayed items */
static bool
heap_less(const struct wq_item *a, const struct wq_item *b)
{
    return a->due_ms < b->due_ms || (a->due_ms == b->due_ms && a->seq < b->seq);
}

/* heap_set - place it at index i */
static void
heap_set(struct workq *q, size_t i, struct wq_item *it)
{
    q->heap[i] = it;
    it->heap_idx = i;
}

/* heap_up - sift index i towards the root */
static void
heap_up(struct workq *q, size_t i)
{
    struct wq_item *it = q->heap[i];

    while (i > 0) {
        size_t p = (i - 1) / 2;

        if (!heap_less(it, q->heap[p]))
            break;
        heap_set(q, i, q->heap[p]);
        i = p;
    }
    heap_set(q, i, it);
}

/* heap_down - sift index i towards the leaves */
static void
heap_down(struct workq *q, size_t i)
{
    struct wq_item *it = q->heap[i];

    for (;;) {
        size_t l = 2 * i + 1, r = l + 1, m = l;

        if (l >= q->heap_len)
            break;
        if (r < q->heap_len && heap_less(q->heap[r], q->heap[l]))
            m = r;
        if (!heap_less(q->heap[m], it))
            break;
        heap_set(q, i, q->heap[m]);
        i = m;
    }
    heap_set(q, i, it);
}

/* heap_reserve - room for one more entry */
static int
heap_reserve(struct workq *q)
{
    size_t ncap;
    struct wq_item **nh;

    if (q->heap_len < q->heap_cap)
        return 0;
    ncap = q->heap_cap ? q->heap_cap * 2 : 64;
    if (ncap > SIZE_MAX / sizeof(*nh))
        return -FH_ENOMEM;
    nh = realloc(q->heap, ncap * sizeof(*nh));
    if (!nh)
        return -FH_ENOMEM;
    q->heap = nh;
    q->heap_cap = ncap;
    return 0;
}

/* heap_push - insert (capacity reserved by the caller) */
static void
heap_push(struct workq *q, struct wq_item *it)
{
    heap_set(q, q->heap_len++, it);
    heap_up(q, it->heap_idx);
}

/* heap_remove - take it out of the heap, wherever it is */
static void
heap_remove(struct workq *q, struct wq_item *it)
{
    size_t i = it->heap_idx;
    struct wq_item *last = q->heap[--q->heap_len];

    it->heap_idx = NO_HEAP;
    if (i == q->heap_len)
        return;
    heap_set(q, i, last);
    heap_up(q, i);
    heap_down(q, last->heap_idx);
}

/* ---- FIFOs --------------------------------------------------------------- */

/* fifo_append - add it at the tail of FIFO f */
static void
fifo_append(struct wq_fifo *f, struct wq_item *it)
{
    it->next = NULL;
    it->prev = f->tail;
    if (f->tail)
        f->tail->next = it;
    else
        f->head = it;
    f->tail = it;
    f->len++;
}

/* fifo_unlink - remove it from FIFO f */
static void
fifo_unlink(struct wq_fifo *f, struct wq_item *it)
{
    if (it->prev)
        it->prev->next = it->next;
    else
        f->head = it->next;
    if (it->next)
        it->next->prev = it->prev;
    else
        f->tail = it->prev;
    it->prev = it->next = NULL;
    f->len--;
}

/* ---- item state changes -------------------------------------------------- */

/* detach - take it out of whatever structure holds it; state becomes IDLE */
static void
detach(struct workq *q, struct wq_item *it)
{
    switch (it->state) {
    case WORKQ_QUEUED:
        fifo_unlink(&q->fifos[it->slot], it);
        q->nqueued--;
        break;
    case WORKQ_DELAYED:
        heap_remove(q, it);
        break;
    case WORKQ_INFLIGHT:
        q->ninflight--;
        break;
    default:
        break;
    }
    it->state = WORKQ_IDLE;
    it->dirty = it->forget = it->backoff = false;
    it->hold_ms = 0;
    it->due_ms = NO_DUE;
}

/* drop - remove it from the queue entirely and free it */
static void
drop(struct workq *q, struct wq_item *it)
{
    detach(q, it);
    strmap_del(q->items, it->key, NULL);   /* frees the key copy it->key points at */
    free(it);
}

/* settle_idle - IDLE items with nothing to remember are freed */
static void
settle_idle(struct workq *q, struct wq_item *it)
{
    if (it->state == WORKQ_IDLE && it->attempts == 0)
        drop(q, it);
}

/* to_queued - detach and append to its slot FIFO */
static void
to_queued(struct workq *q, struct wq_item *it, uint64_t now_ms)
{
    detach(q, it);
    it->state = WORKQ_QUEUED;
    it->slot = shard_ring_slot(it->key, q->nslots);
    it->seq = q->next_seq++;
    it->ready_ms = now_ms;
    fifo_append(&q->fifos[it->slot], it);
    q->nqueued++;
}

/* to_delayed - detach and push on the heap; fails only before any change */
static int
to_delayed(struct workq *q, struct wq_item *it, uint64_t due_ms, bool backoff)
{
    if (it->state != WORKQ_DELAYED && heap_reserve(q) < 0)
        return -FH_ENOMEM;
    detach(q, it);
    it->state = WORKQ_DELAYED;
    it->backoff = backoff;
    it->due_ms = due_ms;
    it->seq = q->next_seq++;
    heap_push(q, it);
    return 0;
}

/* get_item - the item for key, creating an IDLE one when absent */
static int
get_item(struct workq *q, const char *key, struct wq_item **out, bool *created)
{
    void **slot;
    const char *stored;
    struct wq_item *it;
    int rc;

    if (!q || !key)
        return -FH_EINVAL;
    rc = strmap_intern(q->items, key, &slot, &stored, created);
    if (rc < 0)
        return rc;
    if (!*created) {
        *out = *slot;
        return 0;
    }
    it = calloc(1, sizeof(*it));
    if (!it) {
        strmap_del(q->items, stored, NULL);
        return -FH_ENOMEM;
    }
    it->key = stored;
    it->state = WORKQ_IDLE;
    it->due_ms = NO_DUE;
    it->heap_idx = NO_HEAP;
    *slot = it;
    *out = it;
    return 0;
}

/* ---- public API ------------------------------------------------------------ */

/* workq_new - allocate an empty queue */
struct workq *
workq_new(const struct workq_opts *o)
{
    struct workq *q = calloc(1, sizeof(*q));
    uint64_t seed = o ? o->seed : 0;

    if (!q)
        goto fail;
    if (o && (o->backoff.base_ms || o->backoff.cap_ms || o->backoff.jitter))
        q->policy = o->backoff;
    else
        backoff_policy_default(&q->policy);
    if (backoff_policy_check(&q->policy) < 0)
        goto fail;
    q->nslots = (o && o->nslots) ? o->nslots : 1;
    q->fifos = calloc(q->nslots, sizeof(*q->fifos));
    if (!q->fifos)
        goto fail;
    q->items = strmap_new(seed ^ 0x5bd1e995a9e3779bULL);
    if (!q->items)
        goto fail;
    backoff_rng_seed(&q->rng, seed);
    return q;
fail:
    if (q) {
        free(q->fifos);
        free(q);
    }
    return NULL;
}

/* workq_free - release all items and arrays */
void
workq_free(struct workq **qp)
{
    struct workq *q = qp ? *qp : NULL;

    if (!q)
        return;
    strmap_free(&q->items, free);
    free(q->fifos);
    free(q->heap);
    free(q);
    *qp = NULL;
}

/* workq_add - ready now, with dedup and dirty marking */
int
workq_add(struct workq *q, const char *key, uint64_t now_ms)
{
    struct wq_item *it;
    bool created;
    int rc = get_item(q, key, &it, &created);

    if (rc < 0)
        return rc;
    switch (it->state) {
    case WORKQ_IDLE:
        to_queued(q, it, now_ms);
        break;
    case WORKQ_DELAYED:
        /* A change ends a backoff (the retry sees the new input), but not a
         * server's Retry-After. */
        if (!it->backoff || now_ms >= it->hold_ms)
            to_queued(q, it, now_ms);
        break;
    case WORKQ_INFLIGHT:
        it->dirty = true;
        it->forget = false;
        break;
    default:
        break;
    }
    return 0;
}

/* workq_add_after - delayed, earliest due wins */
int
workq_add_after(struct workq *q, const char *key, uint64_t due_ms)
{
    struct wq_item *it;
    bool created;
    int rc = get_item(q, key, &it, &created);

    if (rc < 0)
        return rc;
    switch (it->state) {
    case WORKQ_IDLE:
        rc = to_delayed(q, it, due_ms, false);
        if (rc < 0 && created)
            drop(q, it);
        return rc;
    case WORKQ_DELAYED:
        if (!it->backoff && due_ms < it->due_ms) {
            it->due_ms = due_ms;
            heap_up(q, it->heap_idx);
        }
        return 0;
    case WORKQ_INFLIGHT:
        if (due_ms < it->due_ms)
            it->due_ms = due_ms;
        it->forget = false;
        return 0;
    default:
        return 0;
    }
}

/* workq_resync - queue only idle keys */
int
workq_resync(struct workq *q, const char *key, uint64_t now_ms)
{
    struct wq_item *it;
    bool created;
    int rc = get_item(q, key, &it, &created);

    if (rc < 0)
        return rc;
    if (it->state == WORKQ_IDLE)
        to_queued(q, it, now_ms);
    return 0;
}

/* promote - move every delayed item due by now_ms to its FIFO, in due order */
static void
promote(struct workq *q, uint64_t now_ms)
{
    while (q->heap_len > 0 && q->heap[0]->due_ms <= now_ms) {
        struct wq_item *it = q->heap[0];
        uint64_t due = it->due_ms;

        to_queued(q, it, now_ms);
        it->ready_ms = due;
    }
}

/* hand_out - copy the key, unlink it from its FIFO, mark it in flight */
static int
hand_out(struct workq *q, struct wq_item *it, uint64_t now_ms, char **key_out,
         struct workq_pop_info *info)
{
    char *copy = strdup(it->key);

    if (!copy)
        return -FH_ENOMEM;
    if (info) {
        info->slot = it->slot;
        info->attempts = it->attempts;
        info->waited_ms = now_ms > it->ready_ms ? now_ms - it->ready_ms : 0;
    }
    detach(q, it);
    it->state = WORKQ_INFLIGHT;
    q->ninflight++;
    *key_out = copy;
    return 0;
}

/* workq_pop - earliest ready key among accepted slots */
int
workq_pop(struct workq *q, uint64_t now_ms, int (*accept)(void *arg, uint32_t slot),
          void *arg, char **key_out, struct workq_pop_info *info)
{
    struct wq_item *best = NULL;

    if (!q || !key_out)
        return -FH_EINVAL;
    promote(q, now_ms);
    for (uint32_t s = 0; s < q->nslots; s++) {
        struct wq_item *h = q->fifos[s].head;

        if (!h || (best && h->seq > best->seq))
            continue;
        if (accept && accept(arg, s) != 1)
            continue;
        best = h;
    }
    if (!best)
        return -FH_EAGAIN;
    return hand_out(q, best, now_ms, key_out, info);
}

/* workq_pop_slot - head of one slot's FIFO */
int
workq_pop_slot(struct workq *q, uint32_t slot, uint64_t now_ms, char **key_out,
               struct workq_pop_info *info)
{
    if (!q || !key_out || slot >= q->nslots)
        return -FH_EINVAL;
    promote(q, now_ms);
    if (!q->fifos[slot].head)
        return -FH_EAGAIN;
    return hand_out(q, q->fifos[slot].head, now_ms, key_out, info);
}

/* after_run - where a SUCCESS/FAILED key goes: dirty, pending due, or idle */
static void
after_run(struct workq *q, struct wq_item *it, uint64_t now_ms)
{
    bool dirty = it->dirty;
    uint64_t pending = it->due_ms;

    detach(q, it);
    if (dirty) {
        to_queued(q, it, now_ms);
    } else if (pending != NO_DUE) {
        /* heap_reserve failing here would lose the requeue-after; queue it
         * now instead, which is early but never lost */
        if (to_delayed(q, it, pending, false) < 0)
            to_queued(q, it, now_ms);
    } else {
        settle_idle(q, it);
    }
}

/* back_from_worker - the in-flight item for key, about to leave INFLIGHT:
 * 0 with *it set; 1 when it was forgotten meanwhile (now dropped);
 * -FH_ENOTFOUND when key is not in flight */
static int
back_from_worker(struct workq *q, const char *key, struct wq_item **it)
{
    *it = q ? strmap_get(q->items, key) : NULL;
    if (!*it || (*it)->state != WORKQ_INFLIGHT)
        return -FH_ENOTFOUND;
    if ((*it)->forget) {
        drop(q, *it);
        *it = NULL;
        return 1;
    }
    return 0;
}

/* retry - RETRY: back off at least floor_ms; a change may not pull the key
 * in before now + hold_ms */
static void
retry(struct workq *q, struct wq_item *it, uint32_t floor_ms, uint32_t hold_ms, uint64_t now_ms)
{
    uint32_t delay = backoff_next(&q->policy, it->attempts, it->last_delay_ms, &q->rng);

    it->last_delay_ms = delay;
    if (it->attempts < UINT32_MAX)
        it->attempts++;
    if (floor_ms > delay)
        delay = floor_ms;
    if (to_delayed(q, it, now_ms + delay, true) < 0) {
        to_queued(q, it, now_ms);   /* no heap room: retry now rather than lose it */
        return;
    }
    it->hold_ms = hold_ms ? now_ms + hold_ms : 0;
}

/* workq_done - apply a worker's outcome */
int
workq_done(struct workq *q, const char *key, enum workq_outcome outcome,
           uint32_t retry_after_ms, uint64_t now_ms)
{
    struct wq_item *it;
    int rc;

    if (outcome != WORKQ_SUCCESS && outcome != WORKQ_RETRY && outcome != WORKQ_FAILED)
        return workq_state(q, key, NULL) == WORKQ_INFLIGHT ? -FH_EINVAL : -FH_ENOTFOUND;
    if ((rc = back_from_worker(q, key, &it)) != 0)
        return rc < 0 ? rc : 0;
    switch (outcome) {
    case WORKQ_SUCCESS:
        it->attempts = 0;
        it->last_delay_ms = 0;
        after_run(q, it, now_ms);
        break;
    case WORKQ_RETRY:
        retry(q, it, retry_after_ms, retry_after_ms, now_ms);
        break;
    default:
        after_run(q, it, now_ms);
        break;
    }
    return 0;
}

/* workq_retry_min - RETRY with a floor a change may cut short */
int
workq_retry_min(struct workq *q, const char *key, uint32_t min_delay_ms, uint64_t now_ms)
{
    struct wq_item *it;
    int rc = back_from_worker(q, key, &it);

    if (rc == 0)
        retry(q, it, min_delay_ms, 0, now_ms);
    return rc < 0 ? rc : 0;
}

/* workq_requeue_inflight - worker died: back to the tail of its FIFO */
int
workq_requeue_inflight(struct workq *q, const char *key, uint64_t now_ms)
{
    struct wq_item *it;
    int rc = back_from_worker(q, key, &it);

    if (rc == 0)
        to_queued(q, it, now_ms);
    return rc < 0 ? rc : 0;
}

/* workq_forget - drop key now, or when it returns from its worker */
int
workq_forget(struct workq *q, const char *key)
{
    struct wq_item *it = q ? strmap_get(q->items, key) : NULL;

    if (!it)
        return 0;
    if (it->state == WORKQ_INFLIGHT) {
        it->forget = true;
        it->dirty = false;
        it->due_ms = NO_DUE;
        return 0;
    }
    drop(q, it);
    return 0;
}

/* cmp_seq - qsort order of queued items */
static int
cmp_seq(const void *a, const void *b)
{
    const struct wq_item *x = *(struct wq_item *const *)a;
    const struct wq_item *y = *(struct wq_item *const *)b;

    return (x->seq > y->seq) - (x->seq < y->seq);
}

/* workq_set_slots - re-shard the queued keys */
int
workq_set_slots(struct workq *q, uint32_t nslots)
{
    struct wq_fifo *nf = NULL;
    struct wq_item **all = NULL;
    size_t n = 0;
    int rc = 0;

    if (!q || nslots == 0)
        return -FH_EINVAL;
    nf = calloc(nslots, sizeof(*nf));
    all = calloc(q->nqueued ? q->nqueued : 1, sizeof(*all));
    if (!nf || !all) {
        rc = -FH_ENOMEM;
        goto out;
    }
    for (uint32_t s = 0; s < q->nslots; s++)
        for (struct wq_item *it = q->fifos[s].head; it; it = it->next)
            all[n++] = it;
    qsort(all, n, sizeof(*all), cmp_seq);
    free(q->fifos);
    q->fifos = nf;
    nf = NULL;
    q->nslots = nslots;
    for (size_t i = 0; i < n; i++) {
        all[i]->slot = shard_ring_slot(all[i]->key, nslots);
        fifo_append(&q->fifos[all[i]->slot], all[i]);
    }
out:
    free(nf);
    free(all);
    return rc;
}

/* workq_slot_of - shard of key */
uint32_t
workq_slot_of(const struct workq *q, const char *key)
{
    return shard_ring_slot(key, q ? q->nslots : 1);
}

/* workq_attempts - retry counter of key */
uint32_t
workq_attempts(const struct workq *q, const char *key)
{
    const struct wq_item *it = q ? strmap_get(q->items, key) : NULL;

    return it ? it->attempts : 0;
}

/* workq_state - state (and dirty flag) of key */
enum workq_state
workq_state(const struct workq *q, const char *key, bool *dirty)
{
    const struct wq_item *it = q ? strmap_get(q->items, key) : NULL;

    if (dirty)
        *dirty = it ? it->dirty : false;
    return it ? (enum workq_state)it->state : WORKQ_IDLE;
}

/* workq_next_due_ms - poll timeout for the delayed heap */
long
workq_next_due_ms(const struct workq *q, uint64_t now_ms)
{
    uint64_t due;

    if (!q || q->heap_len == 0)
        return -1;
    due = q->heap[0]->due_ms;
    if (due <= now_ms)
        return 0;
    return due - now_ms > (uint64_t)LONG_MAX ? LONG_MAX : (long)(due - now_ms);
}

/* workq_len - waiting keys */
size_t
workq_len(const struct workq *q)
{
    return q ? q->nqueued + q->heap_len : 0;
}

/* workq_queued - ready keys */
size_t
workq_queued(const struct workq *q)
{
    return q ? q->nqueued : 0;
}

/* workq_slot_queued - ready keys of one slot */
size_t
workq_slot_queued(const struct workq *q, uint32_t slot)
{
    return (q && slot < q->nslots) ? q->fifos[slot].len : 0;
}

/* workq_inflight - keys at workers */
size_t
workq_inflight(const struct workq *q)
{
    return q ? q->ninflight : 0;
}

/* workq_nslots - slot count */
uint32_t
workq_nslots(const struct workq *q)
{
    return q ? q->nslots : 0;
}
