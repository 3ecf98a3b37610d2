/* test_workq.c - the keyed work queue: dedup, dirty requeue, retry backoff
 * and Retry-After, forget in every state, delayed keys and poll timeouts,
 * per-slot fairness, re-sharding, and a 10,000-key churn checked against a
 * model that no key is ever handed out twice. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "fh_err.h"
#include "shard_ring.h"
#include "workq.h"

/* Allocation fault injection (the .wrap file): fail_at = k fails the k-th
 * allocation from then on. */
#include "alloc_fault.h"

/* new_q - queue with NONE jitter (exact delays) unless told otherwise */
static struct workq *
new_q(uint32_t nslots, uint32_t base, uint32_t cap, uint8_t jitter)
{
    struct workq_opts o = { { base, cap, jitter }, 42, nslots };
    struct workq *q = workq_new(&o);

    assert_non_null(q);
    return q;
}

/* pop_expect - pop one key (any slot) and compare; frees the copy */
static void
pop_expect(struct workq *q, uint64_t now, const char *want)
{
    char *k = NULL;
    int rc = workq_pop(q, now, NULL, NULL, &k, NULL);

    if (!want) {
        assert_int_equal(rc, -FH_EAGAIN);
        assert_null(k);
        return;
    }
    assert_int_equal(rc, 0);
    assert_string_equal(k, want);
    free(k);
}

/* test_new_defaults_and_bad_policy - NULL opts work; bad policy refused */
static void
test_new_defaults_and_bad_policy(void **state)
{
    struct workq_opts bad = { { 1000, 10, BACKOFF_JITTER_FULL }, 1, 2 };
    struct workq *q = workq_new(NULL);

    (void)state;
    assert_non_null(q);
    assert_int_equal(workq_nslots(q), 1);
    assert_int_equal(workq_len(q), 0);
    assert_int_equal(workq_next_due_ms(q, 0), -1);
    assert_int_equal(workq_add(q, NULL, 0), -FH_EINVAL);
    workq_free(&q);
    assert_null(q);
    workq_free(&q);
    assert_null(workq_new(&bad));
}

/* test_dedup - repeated adds queue a key once; adds in flight do not hand it
 * out again */
static void
test_dedup(void **state)
{
    struct workq *q = new_q(1, 500, 300000, BACKOFF_JITTER_NONE);

    (void)state;
    for (int i = 0; i < 5; i++) {
        assert_int_equal(workq_add(q, "ns/a", 0), 0);
        assert_int_equal(workq_resync(q, "ns/a", 0), 0);
    }
    assert_int_equal(workq_add(q, "ns/b", 0), 0);
    assert_int_equal(workq_len(q), 2);
    pop_expect(q, 0, "ns/a");
    assert_int_equal(workq_state(q, "ns/a", NULL), WORKQ_INFLIGHT);
    assert_int_equal(workq_add(q, "ns/a", 1), 0);
    pop_expect(q, 1, "ns/b");
    pop_expect(q, 1, NULL);                       /* a is in flight: not again */
    assert_int_equal(workq_inflight(q), 2);
    assert_int_equal(workq_len(q), 0);
    workq_free(&q);
}

/* test_changed_in_flight_requeued_once - many adds while in flight give
 * exactly one more run after done, for SUCCESS and FAILED alike */
static void
test_changed_in_flight_requeued_once(void **state)
{
    static const enum workq_outcome outs[] = { WORKQ_SUCCESS, WORKQ_FAILED };
    bool dirty;

    (void)state;
    for (size_t i = 0; i < 2; i++) {
        struct workq *q = new_q(1, 500, 300000, BACKOFF_JITTER_NONE);

        assert_int_equal(workq_add(q, "ns/a", 0), 0);
        pop_expect(q, 0, "ns/a");
        for (int j = 0; j < 10; j++)
            assert_int_equal(workq_add(q, "ns/a", 1), 0);
        assert_int_equal(workq_state(q, "ns/a", &dirty), WORKQ_INFLIGHT);
        assert_true(dirty);
        assert_int_equal(workq_done(q, "ns/a", outs[i], 0, 2), 0);
        assert_int_equal(workq_state(q, "ns/a", &dirty), WORKQ_QUEUED);
        assert_false(dirty);
        pop_expect(q, 2, "ns/a");
        pop_expect(q, 2, NULL);
        assert_int_equal(workq_done(q, "ns/a", outs[i], 0, 3), 0);
        pop_expect(q, 1000000, NULL);             /* nothing more, ever */
        assert_int_equal(workq_len(q), 0);
        assert_int_equal(workq_state(q, "ns/a", NULL), WORKQ_IDLE);
        workq_free(&q);
    }
}

/* test_retry_backoff_grows_and_caps - exact schedule with NONE jitter; not
 * ready before due; attempts count; SUCCESS resets */
static void
test_retry_backoff_grows_and_caps(void **state)
{
    static const uint32_t want[] = { 500, 1000, 2000, 4000, 8000, 10000, 10000 };
    struct workq *q = new_q(1, 500, 10000, BACKOFF_JITTER_NONE);
    uint64_t now = 1000;
    struct workq_pop_info info;
    char *k;

    (void)state;
    assert_int_equal(workq_add(q, "ns/a", now), 0);
    for (size_t i = 0; i < sizeof(want) / sizeof(want[0]); i++) {
        assert_int_equal(workq_pop(q, now, NULL, NULL, &k, &info), 0);
        assert_int_equal(info.attempts, i);
        free(k);
        assert_int_equal(workq_done(q, "ns/a", WORKQ_RETRY, 0, now), 0);
        assert_int_equal(workq_attempts(q, "ns/a"), i + 1);
        assert_int_equal(workq_state(q, "ns/a", NULL), WORKQ_DELAYED);
        assert_int_equal(workq_next_due_ms(q, now), want[i]);
        pop_expect(q, now + want[i] - 1, NULL);   /* one ms early: nothing */
        now += want[i];
    }
    pop_expect(q, now, "ns/a");
    assert_int_equal(workq_done(q, "ns/a", WORKQ_SUCCESS, 0, now), 0);
    assert_int_equal(workq_attempts(q, "ns/a"), 0);
    assert_int_equal(workq_len(q), 0);
    /* after success the next failure starts from base again */
    assert_int_equal(workq_add(q, "ns/a", now), 0);
    pop_expect(q, now, "ns/a");
    assert_int_equal(workq_done(q, "ns/a", WORKQ_RETRY, 0, now), 0);
    assert_int_equal(workq_next_due_ms(q, now), 500);
    workq_free(&q);
}

/* test_retry_jitter_within_ceiling - FULL jitter delays stay under the ceiling */
static void
test_retry_jitter_within_ceiling(void **state)
{
    struct workq *q = new_q(1, 500, 60000, BACKOFF_JITTER_FULL);
    struct backoff_policy p = { 500, 60000, BACKOFF_JITTER_FULL };
    uint64_t now = 0;

    (void)state;
    assert_int_equal(workq_add(q, "ns/a", now), 0);
    for (uint32_t i = 0; i < 20; i++) {
        long d;

        pop_expect(q, now, "ns/a");
        assert_int_equal(workq_done(q, "ns/a", WORKQ_RETRY, 0, now), 0);
        d = workq_next_due_ms(q, now);
        assert_true(d >= 0 && d <= (long)backoff_ceiling(&p, i));
        now += (uint64_t)d;
    }
    workq_free(&q);
}

/* test_retry_after - the larger of backoff and Retry-After wins */
static void
test_retry_after(void **state)
{
    static const struct { uint32_t retry_after; long want; } cases[] = {
        { 0, 500 }, { 100, 500 }, { 500, 500 }, { 10000, 10000 },
    };

    (void)state;
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        struct workq *q = new_q(1, 500, 300000, BACKOFF_JITTER_NONE);

        assert_int_equal(workq_add(q, "ns/a", 0), 0);
        pop_expect(q, 0, "ns/a");
        assert_int_equal(workq_done(q, "ns/a", WORKQ_RETRY, cases[i].retry_after, 0), 0);
        assert_int_equal(workq_next_due_ms(q, 0), cases[i].want);
        workq_free(&q);
    }
}

/* test_changes_end_backoff_but_not_retry_after - a change while backing off
 * is tried at once (attempts kept: the next failure waits longer); while a
 * server's Retry-After holds the key, changes wait; RETRY with dirty still
 * backs off; resync and add_after never shorten a backoff */
static void
test_changes_end_backoff_but_not_retry_after(void **state)
{
    struct workq *q = new_q(1, 500, 300000, BACKOFF_JITTER_NONE);
    struct workq_pop_info info;
    char *k;

    (void)state;
    /* Retry-After 5 s: held */
    assert_int_equal(workq_add(q, "ns/a", 0), 0);
    pop_expect(q, 0, "ns/a");
    assert_int_equal(workq_add(q, "ns/a", 1), 0);          /* dirty */
    assert_int_equal(workq_done(q, "ns/a", WORKQ_RETRY, 5000, 0), 0);
    assert_int_equal(workq_state(q, "ns/a", NULL), WORKQ_DELAYED);
    assert_int_equal(workq_add(q, "ns/a", 10), 0);
    assert_int_equal(workq_add_after(q, "ns/a", 20), 0);
    assert_int_equal(workq_resync(q, "ns/a", 30), 0);
    assert_int_equal(workq_next_due_ms(q, 0), 5000);
    pop_expect(q, 4999, NULL);
    pop_expect(q, 5000, "ns/a");
    /* plain backoff (1 s for the second attempt): a change ends it */
    assert_int_equal(workq_done(q, "ns/a", WORKQ_RETRY, 0, 5000), 0);
    assert_int_equal(workq_next_due_ms(q, 5000), 1000);
    assert_int_equal(workq_resync(q, "ns/a", 5100), 0);
    assert_int_equal(workq_state(q, "ns/a", NULL), WORKQ_DELAYED);
    assert_int_equal(workq_add(q, "ns/a", 5200), 0);
    assert_int_equal(workq_state(q, "ns/a", NULL), WORKQ_QUEUED);
    assert_int_equal(workq_pop(q, 5200, NULL, NULL, &k, &info), 0);
    assert_int_equal(info.attempts, 2);                     /* kept */
    free(k);
    /* retry_min: a 30 s floor over the 2 s backoff, cut short by a change */
    assert_int_equal(workq_retry_min(q, "ns/a", 30000, 6000), 0);
    assert_int_equal(workq_next_due_ms(q, 6000), 30000);
    assert_int_equal(workq_attempts(q, "ns/a"), 3);
    assert_int_equal(workq_add(q, "ns/a", 7000), 0);
    pop_expect(q, 7000, "ns/a");
    assert_int_equal(workq_retry_min(q, "ns/b", 1, 7000), -FH_ENOTFOUND);
    workq_free(&q);
}

/* test_failed_keeps_attempts_no_retry - FAILED waits for a change */
static void
test_failed_keeps_attempts_no_retry(void **state)
{
    struct workq *q = new_q(1, 500, 300000, BACKOFF_JITTER_NONE);
    struct workq_pop_info info;
    char *k;

    (void)state;
    assert_int_equal(workq_add(q, "ns/a", 0), 0);
    pop_expect(q, 0, "ns/a");
    assert_int_equal(workq_done(q, "ns/a", WORKQ_RETRY, 0, 0), 0);
    pop_expect(q, 500, "ns/a");
    assert_int_equal(workq_done(q, "ns/a", WORKQ_FAILED, 0, 500), 0);
    assert_int_equal(workq_attempts(q, "ns/a"), 1);
    assert_int_equal(workq_len(q), 0);
    assert_int_equal(workq_next_due_ms(q, 500), -1);
    pop_expect(q, 10000000, NULL);
    assert_int_equal(workq_add(q, "ns/a", 600), 0);         /* input changed */
    assert_int_equal(workq_pop(q, 600, NULL, NULL, &k, &info), 0);
    assert_int_equal(info.attempts, 1);
    free(k);
    assert_int_equal(workq_done(q, "ns/a", 99, 0, 600), -FH_EINVAL);
    assert_int_equal(workq_state(q, "ns/a", NULL), WORKQ_INFLIGHT);
    assert_int_equal(workq_done(q, "ns/a", WORKQ_SUCCESS, 0, 600), 0);
    assert_int_equal(workq_attempts(q, "ns/a"), 0);
    assert_int_equal(workq_done(q, "ns/a", WORKQ_SUCCESS, 0, 600), -FH_ENOTFOUND);
    assert_int_equal(workq_done(q, "ns/zz", WORKQ_SUCCESS, 0, 600), -FH_ENOTFOUND);
    workq_free(&q);
}

/* test_forget_in_each_state - table over the state the key is in */
static void
test_forget_in_each_state(void **state)
{
    enum { QUEUED, DELAYED, BACKOFF, INFLIGHT, INFLIGHT_READDED, FAILED_IDLE };
    static const struct { int setup; enum workq_outcome out; bool runs_again; } cases[] = {
        { QUEUED, 0, false },
        { DELAYED, 0, false },
        { BACKOFF, 0, false },
        { INFLIGHT, WORKQ_SUCCESS, false },
        { INFLIGHT, WORKQ_RETRY, false },
        { INFLIGHT, WORKQ_FAILED, false },
        { INFLIGHT_READDED, WORKQ_SUCCESS, true },
        { INFLIGHT_READDED, WORKQ_RETRY, true },
        { FAILED_IDLE, 0, false },
    };

    (void)state;
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        struct workq *q = new_q(1, 500, 300000, BACKOFF_JITTER_NONE);
        int s = cases[i].setup;

        switch (s) {
        case QUEUED:
            assert_int_equal(workq_add(q, "ns/a", 0), 0);
            break;
        case DELAYED:
            assert_int_equal(workq_add_after(q, "ns/a", 100), 0);
            break;
        case BACKOFF:
            assert_int_equal(workq_add(q, "ns/a", 0), 0);
            pop_expect(q, 0, "ns/a");
            assert_int_equal(workq_done(q, "ns/a", WORKQ_RETRY, 0, 0), 0);
            break;
        case FAILED_IDLE:                         /* idle but remembering attempts */
            assert_int_equal(workq_add(q, "ns/a", 0), 0);
            pop_expect(q, 0, "ns/a");
            assert_int_equal(workq_done(q, "ns/a", WORKQ_RETRY, 0, 0), 0);
            pop_expect(q, 1000, "ns/a");
            assert_int_equal(workq_done(q, "ns/a", WORKQ_FAILED, 0, 1000), 0);
            assert_int_equal(workq_attempts(q, "ns/a"), 1);
            break;
        default:
            assert_int_equal(workq_add(q, "ns/a", 0), 0);
            pop_expect(q, 0, "ns/a");
            assert_int_equal(workq_add(q, "ns/a", 0), 0);
            assert_int_equal(workq_add_after(q, "ns/a", 50), 0);
            break;
        }
        assert_int_equal(workq_forget(q, "ns/a"), 0);
        if (s == INFLIGHT_READDED)
            assert_int_equal(workq_add(q, "ns/a", 0), 0);
        if (s == INFLIGHT || s == INFLIGHT_READDED) {
            assert_int_equal(workq_inflight(q), 1);
            assert_int_equal(workq_done(q, "ns/a", cases[i].out, 0, 0), 0);
        }
        assert_int_equal(workq_inflight(q), 0);
        assert_int_equal(workq_len(q), cases[i].runs_again ? 1 : 0);
        assert_int_equal(workq_attempts(q, "ns/a"),
                         (cases[i].runs_again && cases[i].out == WORKQ_RETRY) ? 1 : 0);
        pop_expect(q, 1000000, cases[i].runs_again ? "ns/a" : NULL);
        assert_int_equal(workq_forget(q, "ns/unknown"), 0);
        workq_free(&q);
    }
}

/* test_delayed_and_next_due - earliest due wins; add pulls a requeue-after in;
 * pending add_after while in flight applies after SUCCESS */
static void
test_delayed_and_next_due(void **state)
{
    struct workq *q = new_q(1, 500, 300000, BACKOFF_JITTER_NONE);

    (void)state;
    assert_int_equal(workq_next_due_ms(q, 0), -1);
    assert_int_equal(workq_add_after(q, "ns/a", 3000), 0);
    assert_int_equal(workq_add_after(q, "ns/b", 2000), 0);
    assert_int_equal(workq_add_after(q, "ns/c", 2500), 0);
    assert_int_equal(workq_next_due_ms(q, 1000), 1000);
    assert_int_equal(workq_add_after(q, "ns/a", 1500), 0);  /* earlier wins */
    assert_int_equal(workq_add_after(q, "ns/b", 9000), 0);  /* later ignored */
    assert_int_equal(workq_next_due_ms(q, 1000), 500);
    assert_int_equal(workq_next_due_ms(q, 1500), 0);
    assert_int_equal(workq_next_due_ms(q, 99999), 0);
    assert_int_equal(workq_len(q), 3);
    assert_int_equal(workq_queued(q), 0);
    pop_expect(q, 1499, NULL);
    /* several due at once come out in due order */
    pop_expect(q, 2600, "ns/a");
    pop_expect(q, 2600, "ns/b");
    pop_expect(q, 2600, "ns/c");
    assert_int_equal(workq_next_due_ms(q, 2600), -1);
    /* add on a requeue-after key makes it ready now */
    assert_int_equal(workq_add_after(q, "ns/d", 50000), 0);
    assert_int_equal(workq_add(q, "ns/d", 3000), 0);
    assert_int_equal(workq_state(q, "ns/d", NULL), WORKQ_QUEUED);
    assert_int_equal(workq_next_due_ms(q, 3000), -1);
    assert_int_equal(workq_add_after(q, "ns/d", 1), 0);      /* queued: no-op */
    assert_int_equal(workq_state(q, "ns/d", NULL), WORKQ_QUEUED);
    /* add_after while in flight is applied on SUCCESS */
    assert_int_equal(workq_done(q, "ns/a", WORKQ_SUCCESS, 0, 3000), 0);
    assert_int_equal(workq_done(q, "ns/b", WORKQ_SUCCESS, 0, 3000), 0);
    assert_int_equal(workq_add_after(q, "ns/c", 8000), 0);
    assert_int_equal(workq_add_after(q, "ns/c", 7000), 0);
    assert_int_equal(workq_done(q, "ns/c", WORKQ_SUCCESS, 0, 3000), 0);
    assert_int_equal(workq_state(q, "ns/c", NULL), WORKQ_DELAYED);
    assert_int_equal(workq_next_due_ms(q, 3000), 4000);
    workq_free(&q);
}

/* key_for_slot - first synthetic key that shards to slot s of n */
static void
key_for_slot(uint32_t s, uint32_t n, int nth, char *buf, size_t cap)
{
    int found = 0;

    for (int i = 0;; i++) {
        snprintf(buf, cap, "ns/key-%d", i);
        if (shard_ring_slot(buf, n) == s && found++ == nth)
            return;
    }
}

struct busy {
    bool busy[8];               /* slots that refuse work */
    int calls[8];               /* accept calls per slot */
};

/* accept_cb - refuses busy slots, counts calls */
static int
accept_cb(void *arg, uint32_t slot)
{
    struct busy *b = arg;

    b->calls[slot]++;
    return b->busy[slot] ? 0 : 1;
}

/* test_busy_slot_does_not_block_others - FIFO across slots, skipping busy ones */
static void
test_busy_slot_does_not_block_others(void **state)
{
    struct workq *q = new_q(4, 500, 300000, BACKOFF_JITTER_NONE);
    struct busy b;
    char k0a[32], k0b[32], k1[32], k2[32];
    struct workq_pop_info info;
    char *k;

    (void)state;
    memset(&b, 0, sizeof(b));
    key_for_slot(0, 4, 0, k0a, sizeof(k0a));
    key_for_slot(0, 4, 1, k0b, sizeof(k0b));
    key_for_slot(1, 4, 0, k1, sizeof(k1));
    key_for_slot(2, 4, 0, k2, sizeof(k2));
    assert_int_equal(workq_add(q, k0a, 0), 0);
    assert_int_equal(workq_add(q, k0b, 0), 0);
    assert_int_equal(workq_add(q, k1, 0), 0);
    assert_int_equal(workq_add(q, k2, 0), 0);
    assert_int_equal(workq_slot_queued(q, 0), 2);
    assert_int_equal(workq_slot_of(q, k1), 1);
    b.busy[0] = true;
    assert_int_equal(workq_pop(q, 0, accept_cb, &b, &k, &info), 0);
    assert_string_equal(k, k1);                   /* slot 0 skipped, order kept */
    assert_int_equal(info.slot, 1);
    free(k);
    for (int s = 0; s < 4; s++)
        assert_true(b.calls[s] <= 1);             /* at most once per slot */
    b.busy[1] = b.busy[2] = true;
    assert_int_equal(workq_pop(q, 0, accept_cb, &b, &k, NULL), -FH_EAGAIN);
    b.busy[0] = false;
    assert_int_equal(workq_pop(q, 0, accept_cb, &b, &k, NULL), 0);
    assert_string_equal(k, k0a);
    free(k);
    /* pop_slot serves one slot only */
    assert_int_equal(workq_pop_slot(q, 3, 0, &k, NULL), -FH_EAGAIN);
    assert_int_equal(workq_pop_slot(q, 4, 0, &k, NULL), -FH_EINVAL);
    assert_int_equal(workq_pop_slot(q, 2, 0, &k, NULL), 0);
    assert_string_equal(k, k2);
    free(k);
    pop_expect(q, 0, k0b);
    pop_expect(q, 0, NULL);
    workq_free(&q);
}

/* test_requeue_inflight - a dead worker's key becomes ready again */
static void
test_requeue_inflight(void **state)
{
    struct workq *q = new_q(1, 500, 300000, BACKOFF_JITTER_NONE);

    (void)state;
    assert_int_equal(workq_add(q, "ns/a", 0), 0);
    assert_int_equal(workq_add(q, "ns/b", 0), 0);
    pop_expect(q, 0, "ns/a");
    assert_int_equal(workq_add(q, "ns/a", 1), 0);
    assert_int_equal(workq_requeue_inflight(q, "ns/a", 2), 0);
    assert_int_equal(workq_inflight(q), 0);
    assert_int_equal(workq_requeue_inflight(q, "ns/a", 2), -FH_ENOTFOUND);
    pop_expect(q, 2, "ns/b");                     /* tail: b first */
    pop_expect(q, 2, "ns/a");
    assert_int_equal(workq_forget(q, "ns/a"), 0);
    assert_int_equal(workq_requeue_inflight(q, "ns/a", 3), 0);
    assert_int_equal(workq_len(q), 0);            /* forgotten: dropped */
    workq_free(&q);
}

/* test_set_slots_keeps_order - re-sharding keeps global FIFO order */
static void
test_set_slots_keeps_order(void **state)
{
    struct workq *q = new_q(1, 500, 300000, BACKOFF_JITTER_NONE);
    char key[32];

    (void)state;
    for (int i = 0; i < 100; i++) {
        snprintf(key, sizeof(key), "ns/k%03d", i);
        assert_int_equal(workq_add(q, key, 0), 0);
    }
    pop_expect(q, 0, "ns/k000");
    assert_int_equal(workq_set_slots(q, 0), -FH_EINVAL);
    assert_int_equal(workq_set_slots(q, 5), 0);
    assert_int_equal(workq_nslots(q), 5);
    for (uint32_t s = 0; s < 5; s++)
        assert_true(workq_slot_queued(q, s) > 5);
    for (int i = 1; i < 100; i++) {
        snprintf(key, sizeof(key), "ns/k%03d", i);
        pop_expect(q, 0, key);
    }
    assert_int_equal(workq_done(q, "ns/k000", WORKQ_SUCCESS, 0, 0), 0);
    workq_free(&q);
}

/* test_churn_10000_keys - random operations over 10,000 keys against a model:
 * a key is never handed out while in flight, counters always agree, and
 * everything drains */
static void
test_churn_10000_keys(void **state)
{
    enum { N = 10000, OPS = 300000, SLOTS = 7 };
    static unsigned char inflight[N];
    static char keys[N][24];
    struct workq *q = new_q(SLOTS, 100, 5000, BACKOFF_JITTER_FULL);
    uint64_t rng, now = 0;
    size_t model_inflight = 0;
    int nin = 0;
    static int in_list[N];

    (void)state;
    memset(inflight, 0, sizeof(inflight));
    backoff_rng_seed(&rng, 2024);
    for (int i = 0; i < N; i++) {
        snprintf(keys[i], sizeof(keys[i]), "ns-%d/fh-%d", i % 50, i);
        assert_int_equal(workq_add(q, keys[i], now), 0);
    }
    for (int op = 0; op < OPS; op++) {
        uint64_t r = backoff_rng_next(&rng);
        int i = (int)((r >> 8) % N);
        char *k;

        now += r % 3;
        switch (r % 8) {
        case 0: case 1: case 2: {
            struct workq_pop_info info;
            int rc = workq_pop(q, now, NULL, NULL, &k, &info);

            if (rc == -FH_EAGAIN)
                break;
            assert_int_equal(rc, 0);
            i = atoi(strstr(k, "/fh-") + 4);
            assert_string_equal(k, keys[i]);
            assert_false(inflight[i]);            /* never twice */
            assert_int_equal(info.slot, shard_ring_slot(k, SLOTS));
            inflight[i] = 1;
            in_list[nin++] = i;
            model_inflight++;
            free(k);
            break;
        }
        case 3: case 4:
            if (nin > 0) {
                int j = (int)((r >> 20) % (uint64_t)nin);
                int key = in_list[j];
                enum workq_outcome o = (enum workq_outcome)(1 + (r >> 40) % 3);

                assert_int_equal(workq_done(q, keys[key], o, (r >> 50) % 2 ? 0 : 300, now), 0);
                inflight[key] = 0;
                in_list[j] = in_list[--nin];
                model_inflight--;
            }
            break;
        case 5:
            assert_int_equal(workq_add(q, keys[i], now), 0);
            break;
        case 6:
            assert_int_equal(workq_add_after(q, keys[i], now + (r >> 32) % 2000), 0);
            break;
        default:
            if ((r >> 33) % 4 == 0)
                assert_int_equal(workq_forget(q, keys[i]), 0);
            else
                assert_int_equal(workq_resync(q, keys[i], now), 0);
            break;
        }
        assert_int_equal(workq_inflight(q), model_inflight);
    }
    /* finish everything successfully and drain */
    while (nin > 0) {
        int key = in_list[--nin];

        assert_int_equal(workq_done(q, keys[key], WORKQ_SUCCESS, 0, now), 0);
        inflight[key] = 0;
    }
    for (;;) {
        char *k;
        int rc = workq_pop(q, now, NULL, NULL, &k, NULL);

        if (rc == -FH_EAGAIN) {
            long d = workq_next_due_ms(q, now);

            if (d < 0)
                break;
            now += (uint64_t)d;
            continue;
        }
        assert_int_equal(rc, 0);
        assert_int_equal(workq_done(q, k, WORKQ_SUCCESS, 0, now), 0);
        free(k);
    }
    assert_int_equal(workq_len(q), 0);
    assert_int_equal(workq_inflight(q), 0);
    workq_free(&q);
}

/* test_enomem_is_harmless - fail each allocation of each operation in turn:
 * the operation returns 0 or -FH_ENOMEM, a failed one changes nothing, and
 * nothing leaks (ASan/valgrind) */
static void
test_enomem_is_harmless(void **state)
{
    enum { OP_ADD_NEW, OP_ADD_AFTER_NEW, OP_POP, OP_RETRY, OP_SET_SLOTS, OP_NEW, NOPS };

    (void)state;
    for (int op = 0; op < NOPS; op++) {
        for (long k = 0;; k++) {
            struct workq_opts o = { { 500, 300000, BACKOFF_JITTER_NONE }, 1, 3 };
            struct workq *q = workq_new(&o);
            size_t len0, inflight0;
            char *key = NULL;
            int rc = 0;

            assert_non_null(q);
            assert_int_equal(workq_add(q, "ns/x", 0), 0);
            assert_int_equal(workq_add(q, "ns/y", 0), 0);
            if (op == OP_RETRY) {
                pop_expect(q, 0, "ns/x");
            }
            len0 = workq_len(q);
            inflight0 = workq_inflight(q);
            fail_at = k;
            switch (op) {
            case OP_ADD_NEW:
                rc = workq_add(q, "ns/new", 0);
                break;
            case OP_ADD_AFTER_NEW:
                rc = workq_add_after(q, "ns/new", 10);
                break;
            case OP_POP:
                rc = workq_pop(q, 0, NULL, NULL, &key, NULL);
                break;
            case OP_RETRY:
                rc = workq_done(q, "ns/x", WORKQ_RETRY, 0, 0);
                break;
            case OP_SET_SLOTS:
                rc = workq_set_slots(q, 5);
                break;
            default: {
                struct workq *q2 = workq_new(&o);

                rc = q2 ? 0 : -FH_ENOMEM;
                workq_free(&q2);
                break;
            }
            }
            fail_at = -1;
            free(key);
            if (rc == 0) {
                /* a RETRY whose heap could not grow is retried now instead */
                if (op == OP_RETRY)
                    assert_true(workq_state(q, "ns/x", NULL) == WORKQ_DELAYED ||
                                workq_state(q, "ns/x", NULL) == WORKQ_QUEUED);
                workq_free(&q);
                if (k > 0 || op == OP_RETRY)
                    break;
                continue;
            }
            assert_int_equal(rc, -FH_ENOMEM);
            assert_int_equal(workq_len(q), len0);
            assert_int_equal(workq_inflight(q), inflight0);
            assert_int_equal(workq_state(q, "ns/new", NULL), WORKQ_IDLE);
            /* still fully usable */
            pop_expect(q, 100, op == OP_RETRY ? "ns/y" : "ns/x");
            workq_free(&q);
        }
    }
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_new_defaults_and_bad_policy),
        cmocka_unit_test(test_dedup),
        cmocka_unit_test(test_changed_in_flight_requeued_once),
        cmocka_unit_test(test_retry_backoff_grows_and_caps),
        cmocka_unit_test(test_retry_jitter_within_ceiling),
        cmocka_unit_test(test_retry_after),
        cmocka_unit_test(test_changes_end_backoff_but_not_retry_after),
        cmocka_unit_test(test_failed_keeps_attempts_no_retry),
        cmocka_unit_test(test_forget_in_each_state),
        cmocka_unit_test(test_delayed_and_next_due),
        cmocka_unit_test(test_busy_slot_does_not_block_others),
        cmocka_unit_test(test_requeue_inflight),
        cmocka_unit_test(test_set_slots_keeps_order),
        cmocka_unit_test(test_churn_10000_keys),
        cmocka_unit_test(test_enomem_is_harmless),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
