/* test_backoff.c - exponential backoff: ceilings, cap, jitter bounds for each
 * mode, determinism under a fixed seed, PRNG range. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "backoff.h"
#include "fh_err.h"

/* test_defaults_and_check - defaults and the validator */
static void
test_defaults_and_check(void **state)
{
    static const struct { struct backoff_policy p; int rc; } cases[] = {
        { { 500, 300000, BACKOFF_JITTER_FULL }, 0 },
        { { 1, 1, BACKOFF_JITTER_NONE }, 0 },
        { { 0, 1000, BACKOFF_JITTER_FULL }, -FH_EINVAL },
        { { 1000, 999, BACKOFF_JITTER_FULL }, -FH_EINVAL },
        { { 500, 1000, 9 }, -FH_EINVAL },
    };
    struct backoff_policy p;

    (void)state;
    backoff_policy_default(&p);
    assert_int_equal(p.base_ms, 500);
    assert_int_equal(p.cap_ms, 300000);
    assert_int_equal(p.jitter, BACKOFF_JITTER_FULL);
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
        assert_int_equal(backoff_policy_check(&cases[i].p), cases[i].rc);
    assert_int_equal(backoff_policy_check(NULL), -FH_EINVAL);
}

/* test_ceiling_doubles_then_caps - exact ceilings, monotone, overflow-safe */
static void
test_ceiling_doubles_then_caps(void **state)
{
    static const struct { uint32_t attempt; uint32_t want; } cases[] = {
        { 0, 500 }, { 1, 1000 }, { 2, 2000 }, { 3, 4000 }, { 9, 256000 },
        { 10, 300000 }, { 11, 300000 }, { 63, 300000 }, { 64, 300000 },
        { UINT32_MAX, 300000 },
    };
    struct backoff_policy p;
    uint32_t prev = 0;

    (void)state;
    backoff_policy_default(&p);
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
        assert_int_equal(backoff_ceiling(&p, cases[i].attempt), cases[i].want);
    for (uint32_t a = 0; a < 100; a++) {
        uint32_t c = backoff_ceiling(&p, a);

        assert_true(c >= prev);
        prev = c;
    }
    p.cap_ms = UINT32_MAX;                /* no uint32 overflow near the top */
    assert_int_equal(backoff_ceiling(&p, 40), UINT32_MAX);
}

/* test_jitter_bounds - every mode stays in its documented interval */
static void
test_jitter_bounds(void **state)
{
    static const uint8_t modes[] = {
        BACKOFF_JITTER_NONE, BACKOFF_JITTER_FULL, BACKOFF_JITTER_EQUAL,
        BACKOFF_JITTER_DECORRELATED,
    };
    uint64_t rng;

    (void)state;
    backoff_rng_seed(&rng, 1);
    for (size_t m = 0; m < sizeof(modes) / sizeof(modes[0]); m++) {
        struct backoff_policy p = { 500, 300000, modes[m] };
        uint32_t prev = 0;

        for (uint32_t a = 0; a < 30; a++) {
            for (int rep = 0; rep < 200; rep++) {
                uint32_t c = backoff_ceiling(&p, a);
                uint32_t d = backoff_next(&p, a, prev, &rng);
                uint64_t hi = (uint64_t)(prev ? prev : p.base_ms) * 3;

                assert_true(d <= p.cap_ms);
                switch (modes[m]) {
                case BACKOFF_JITTER_NONE:
                    assert_int_equal(d, c);
                    break;
                case BACKOFF_JITTER_FULL:
                    assert_true(d <= c);
                    break;
                case BACKOFF_JITTER_EQUAL:
                    assert_true(d >= c / 2 && d <= c);
                    break;
                default:
                    assert_true(d >= p.base_ms);
                    assert_true(d <= (hi < p.cap_ms ? hi : p.cap_ms));
                    break;
                }
                if (rep == 0)
                    prev = d;
            }
        }
    }
}

/* test_jitter_spreads - FULL jitter is not constant: over 1000 draws at
 * attempt 3 (ceiling 4000) both halves of the range are hit */
static void
test_jitter_spreads(void **state)
{
    struct backoff_policy p;
    uint64_t rng;
    int low = 0, high = 0;

    (void)state;
    backoff_policy_default(&p);
    backoff_rng_seed(&rng, 99);
    for (int i = 0; i < 1000; i++) {
        uint32_t d = backoff_next(&p, 3, 0, &rng);

        if (d < 2000)
            low++;
        else
            high++;
    }
    assert_true(low > 350 && high > 350);
}

/* test_decorrelated_grows_to_cap - feeding back prev climbs to the cap */
static void
test_decorrelated_grows_to_cap(void **state)
{
    struct backoff_policy p = { 500, 60000, BACKOFF_JITTER_DECORRELATED };
    uint64_t rng;
    uint32_t d = 0, maxd = 0;

    (void)state;
    backoff_rng_seed(&rng, 5);
    for (int i = 0; i < 200; i++) {
        d = backoff_next(&p, (uint32_t)i, d, &rng);
        if (d > maxd)
            maxd = d;
    }
    assert_true(maxd > 30000);
    assert_true(maxd <= 60000);
}

/* test_deterministic_with_seed - same seed, same sequence; other seed differs */
static void
test_deterministic_with_seed(void **state)
{
    struct backoff_policy p;
    uint64_t a, b, c;
    int differ = 0;

    (void)state;
    backoff_policy_default(&p);
    backoff_rng_seed(&a, 12345);
    backoff_rng_seed(&b, 12345);
    backoff_rng_seed(&c, 12346);
    for (uint32_t i = 0; i < 100; i++) {
        uint32_t x = backoff_next(&p, i % 12, 0, &a);
        uint32_t y = backoff_next(&p, i % 12, 0, &b);
        uint32_t z = backoff_next(&p, i % 12, 0, &c);

        assert_int_equal(x, y);
        differ += x != z;
    }
    assert_true(differ > 50);
    backoff_rng_seed(&a, 0);              /* seed 0 still yields a live state */
    assert_true(a != 0);
    assert_true(backoff_rng_next(&a) != backoff_rng_next(&a));
}

/* test_rng_range_edges - inclusive bounds, degenerate ranges */
static void
test_rng_range_edges(void **state)
{
    uint64_t rng;
    int seen[4] = { 0 };

    (void)state;
    backoff_rng_seed(&rng, 7);
    assert_int_equal(backoff_rng_range(&rng, 9, 9), 9);
    assert_int_equal(backoff_rng_range(&rng, 9, 3), 9);
    for (int i = 0; i < 400; i++) {
        uint32_t v = backoff_rng_range(&rng, 10, 13);

        assert_true(v >= 10 && v <= 13);
        seen[v - 10]++;
    }
    for (int i = 0; i < 4; i++)
        assert_true(seen[i] > 50);
    assert_true(backoff_rng_range(&rng, 0, UINT32_MAX) <= UINT32_MAX);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_defaults_and_check),
        cmocka_unit_test(test_ceiling_doubles_then_caps),
        cmocka_unit_test(test_jitter_bounds),
        cmocka_unit_test(test_jitter_spreads),
        cmocka_unit_test(test_decorrelated_grows_to_cap),
        cmocka_unit_test(test_deterministic_with_seed),
        cmocka_unit_test(test_rng_range_edges),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
