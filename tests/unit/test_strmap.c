/* test_strmap.c - the string hash map: CRUD, interning, iteration, growth,
 * deletion against a reference model, and the SipHash reference vectors. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "fh_err.h"
#include "strmap.h"

/* test_siphash_reference_vectors - key 00..0f, message 00..(n-1) (paper, App. A) */
static void
test_siphash_reference_vectors(void **state)
{
    static const struct { size_t len; uint64_t want; } cases[] = {
        { 0, 0x726fdb47dd0e0e31ULL },
        { 1, 0x74f839c593dc67fdULL },
        { 8, 0x93f5f5799a932462ULL },
        { 15, 0xa129ca6149be45e5ULL },
    };
    unsigned char msg[64];
    uint64_t k0 = 0x0706050403020100ULL, k1 = 0x0f0e0d0c0b0a0908ULL;

    (void)state;
    for (size_t i = 0; i < sizeof(msg); i++)
        msg[i] = (unsigned char)i;
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
        assert_true(strmap_siphash24(msg, cases[i].len, k0, k1) == cases[i].want);
    /* 1-3 differs from 2-4 and depends on the key */
    assert_true(strmap_siphash13(msg, 15, k0, k1) != strmap_siphash24(msg, 15, k0, k1));
    assert_true(strmap_siphash13(msg, 15, k0, k1) != strmap_siphash13(msg, 15, k0 + 1, k1));
}

/* test_put_get_replace_delete - the basic operations and their return codes */
static void
test_put_get_replace_delete(void **state)
{
    struct strmap *m = strmap_new(42);
    int a = 1, b = 2;
    void *old = &a;
    char key[8] = "ns/x";

    (void)state;
    assert_non_null(m);
    assert_int_equal(strmap_put(m, key, &a, &old), 0);
    assert_null(old);
    key[3] = 'y';                         /* the map keeps its own copy */
    assert_ptr_equal(strmap_get(m, "ns/x"), &a);
    assert_null(strmap_get(m, "ns/y"));
    assert_int_equal(strmap_put(m, "ns/x", &b, &old), 0);
    assert_ptr_equal(old, &a);
    assert_ptr_equal(strmap_get(m, "ns/x"), &b);
    assert_int_equal(strmap_len(m), 1);
    assert_int_equal(strmap_put(m, "", &a, NULL), 0);     /* empty key is a key */
    assert_ptr_equal(strmap_get(m, ""), &a);
    assert_int_equal(strmap_del(m, "ns/x", &old), 0);
    assert_ptr_equal(old, &b);
    assert_int_equal(strmap_del(m, "ns/x", NULL), -FH_ENOTFOUND);
    assert_false(strmap_has(m, "ns/x"));
    assert_int_equal(strmap_len(m), 1);
    assert_int_equal(strmap_put(m, NULL, &a, NULL), -FH_EINVAL);
    strmap_free(&m, NULL);
    assert_null(m);
    strmap_free(&m, NULL);                /* idempotent */
}

/* test_intern_null_values_and_stable_keys - sets with NULL values; key
 * addresses survive growth */
static void
test_intern_null_values_and_stable_keys(void **state)
{
    struct strmap *m = strmap_new(7);
    const char *k1 = NULL, *k2 = NULL;
    void **slot;
    bool created;
    char buf[32];

    (void)state;
    assert_int_equal(strmap_intern(m, "a", &slot, &k1, &created), 0);
    assert_true(created);
    assert_null(*slot);
    assert_true(strmap_has(m, "a"));
    assert_null(strmap_get(m, "a"));
    *slot = buf;
    assert_int_equal(strmap_intern(m, "a", &slot, &k2, &created), 0);
    assert_false(created);
    assert_ptr_equal(*slot, buf);
    assert_ptr_equal(k1, k2);
    for (int i = 0; i < 5000; i++) {
        snprintf(buf, sizeof(buf), "key-%d", i);
        assert_int_equal(strmap_put(m, buf, NULL, NULL), 0);
    }
    assert_ptr_equal(strmap_key(m, "a"), k1);     /* same address after growth */
    assert_string_equal(k1, "a");
    assert_int_equal(strmap_len(m), 5001);
    strmap_free(&m, NULL);
}

/* test_iterate_visits_each_once - iteration covers every entry exactly once */
static void
test_iterate_visits_each_once(void **state)
{
    enum { N = 1000 };
    struct strmap *m = strmap_new(3);
    static int seen[N];
    static int vals[N];
    size_t it = 0, count = 0;
    const char *k;
    void *v;
    char buf[32];

    (void)state;
    memset(seen, 0, sizeof(seen));
    for (int i = 0; i < N; i++) {
        vals[i] = i;
        snprintf(buf, sizeof(buf), "%d", i);
        assert_int_equal(strmap_put(m, buf, &vals[i], NULL), 0);
    }
    while (strmap_next(m, &it, &k, &v)) {
        int i = atoi(k);

        assert_ptr_equal(v, &vals[i]);
        seen[i]++;
        count++;
    }
    assert_int_equal(count, N);
    for (int i = 0; i < N; i++)
        assert_int_equal(seen[i], 1);
    assert_false(strmap_next(m, &it, &k, &v));    /* stays at the end */
    strmap_free(&m, NULL);
}

/* xs - xorshift64 for the model test */
static uint64_t
xs(uint64_t *s)
{
    *s ^= *s << 13;
    *s ^= *s >> 7;
    *s ^= *s << 17;
    return *s;
}

/* test_random_ops_match_model - 200k random put/del/get against an array
 * model; backward-shift deletion must never lose a displaced key */
static void
test_random_ops_match_model(void **state)
{
    enum { KEYS = 3000, OPS = 200000 };
    static int present[KEYS];
    static intptr_t model[KEYS];
    struct strmap *m = strmap_new(0x1234);
    uint64_t rng = 88172645463325252ULL;
    size_t live = 0;
    char buf[32];

    (void)state;
    memset(present, 0, sizeof(present));
    for (int op = 0; op < OPS; op++) {
        int k = (int)(xs(&rng) % KEYS);
        int what = (int)(xs(&rng) % 3);
        void *got;

        snprintf(buf, sizeof(buf), "ns-%d/fh-%d", k % 17, k);
        if (what == 0) {
            intptr_t v = (intptr_t)(xs(&rng) & 0xffff) + 1;

            assert_int_equal(strmap_put(m, buf, (void *)v, NULL), 0);
            live += !present[k];
            present[k] = 1;
            model[k] = v;
        } else if (what == 1) {
            int rc = strmap_del(m, buf, &got);

            if (present[k]) {
                assert_int_equal(rc, 0);
                assert_true((intptr_t)got == model[k]);
                present[k] = 0;
                live--;
            } else {
                assert_int_equal(rc, -FH_ENOTFOUND);
            }
        } else {
            got = strmap_get(m, buf);
            assert_true((intptr_t)got == (present[k] ? model[k] : 0));
        }
        assert_int_equal(strmap_len(m), live);
    }
    for (int k = 0; k < KEYS; k++) {
        snprintf(buf, sizeof(buf), "ns-%d/fh-%d", k % 17, k);
        assert_int_equal(strmap_has(m, buf), present[k]);
    }
    /* a good hash keeps probe runs short at load <= 3/4 */
    assert_true(strmap_max_probe(m) < 64);
    strmap_free(&m, NULL);
}

/* test_free_calls_free_val - values handed to free_val exactly once each */
static void
test_free_calls_free_val(void **state)
{
    struct strmap *m = strmap_new(1);
    char buf[16];

    (void)state;
    for (int i = 0; i < 100; i++) {
        snprintf(buf, sizeof(buf), "%d", i);
        assert_int_equal(strmap_put(m, buf, strdup(buf), NULL), 0);
    }
    strmap_free(&m, free);                /* leak checkers verify the frees */
    assert_null(m);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_siphash_reference_vectors),
        cmocka_unit_test(test_put_get_replace_delete),
        cmocka_unit_test(test_intern_null_values_and_stable_keys),
        cmocka_unit_test(test_iterate_visits_each_once),
        cmocka_unit_test(test_random_ops_match_model),
        cmocka_unit_test(test_free_calls_free_val),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
