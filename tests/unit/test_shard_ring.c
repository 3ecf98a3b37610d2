/* test_shard_ring.c - key -> slot assignment: reference jump-hash values,
 * pinned golden slots, balance over 10,000 keys and minimal movement on growth. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "shard_ring.h"

#define NKEYS 10000

/* key_of - the i-th synthetic FleetHandshake key */
static void
key_of(int i, char *buf, size_t cap)
{
    snprintf(buf, cap, "tenant-%d/fleethandshake-%05d", i % 37, i);
}

/* test_jump_reference_values - same buckets as the published algorithm
 * (values also used by ClickHouse's jumpConsistentHash test) */
static void
test_jump_reference_values(void **state)
{
    static const struct { uint64_t key; uint32_t n; uint32_t want; } cases[] = {
        { 1, 1, 0 },
        { 42, 57, 43 },
        { 256, 1024, 520 },
        { 3735883980ULL, 1, 0 },
        { 3735883980ULL, 666, 361 },
        { 16045690984833335023ULL, 255, 237 },
    };

    (void)state;
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
        assert_int_equal(shard_ring_jump(cases[i].key, cases[i].n), cases[i].want);
    assert_int_equal(shard_ring_jump(12345, 0), 0);
}

/* test_golden_slots - pinned hashes and slots; a change of hash or algorithm
 * reshuffles every worker's keys and must be deliberate */
static void
test_golden_slots(void **state)
{
    static const uint32_t ns[6] = { 1, 2, 4, 7, 16, 1000 };
    static const struct { const char *key; uint64_t hash; uint32_t slot[6]; } cases[] = {
        { "default/fh-a", 0x135282fa4ee36a87ULL, { 0, 1, 2, 2, 2, 777 } },
        { "default/fh-b", 0x9df121a44af57c90ULL, { 0, 0, 0, 0, 0, 605 } },
        { "team-x/handshake", 0xc487f2e6bde00775ULL, { 0, 0, 3, 3, 14, 859 } },
        { "kube-system/x", 0x6a471f8d8eb405e1ULL, { 0, 0, 2, 2, 14, 393 } },
        { "", 0xefd01f60ba992926ULL, { 0, 1, 1, 1, 1, 499 } },
        { "fleet-default/cluster-0001", 0x0f910065500b9282ULL, { 0, 1, 2, 2, 2, 742 } },
    };

    (void)state;
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        assert_true(shard_ring_hash(cases[i].key) == cases[i].hash);
        for (size_t j = 0; j < 6; j++) {
            assert_int_equal(shard_ring_slot(cases[i].key, ns[j]), cases[i].slot[j]);
            /* stable across calls */
            assert_int_equal(shard_ring_slot(cases[i].key, ns[j]), cases[i].slot[j]);
        }
    }
    assert_int_equal(shard_ring_slot(NULL, 4), 0);
    assert_int_equal(shard_ring_slot("a/b", 0), 0);
}

/* test_balance - every slot within +-15% of the mean over 10,000 keys */
static void
test_balance(void **state)
{
    static const uint32_t cases[] = { 2, 3, 4, 7, 8 };
    char key[64];

    (void)state;
    for (size_t c = 0; c < sizeof(cases) / sizeof(cases[0]); c++) {
        uint32_t n = cases[c];
        unsigned count[16] = { 0 };
        double mean = (double)NKEYS / n;

        for (int i = 0; i < NKEYS; i++) {
            uint32_t s;

            key_of(i, key, sizeof(key));
            s = shard_ring_slot(key, n);
            assert_true(s < n);
            count[s]++;
        }
        for (uint32_t s = 0; s < n; s++) {
            if (count[s] < mean * 0.85 || count[s] > mean * 1.15)
                fail_msg("n=%u slot %u has %u keys, mean %.0f", n, s, count[s], mean);
        }
    }
}

/* test_growth_moves_few_keys - N -> N+1 moves ~1/(N+1) of keys, all to the
 * new slot; N+1 -> N moves exactly those back */
static void
test_growth_moves_few_keys(void **state)
{
    char key[64];

    (void)state;
    for (uint32_t n = 1; n <= 12; n++) {
        int moved = 0;
        double want = (double)NKEYS / (n + 1);

        for (int i = 0; i < NKEYS; i++) {
            uint32_t a, b;

            key_of(i, key, sizeof(key));
            a = shard_ring_slot(key, n);
            b = shard_ring_slot(key, n + 1);
            if (a != b) {
                moved++;
                assert_int_equal(b, n);       /* only onto the new slot */
            }
        }
        if (moved < want * 0.85 || moved > want * 1.15)
            fail_msg("n=%u -> %u moved %d keys, expected ~%.0f", n, n + 1, moved, want);
    }
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_jump_reference_values),
        cmocka_unit_test(test_golden_slots),
        cmocka_unit_test(test_balance),
        cmocka_unit_test(test_growth_moves_few_keys),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
