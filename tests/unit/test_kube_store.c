/* test_kube_store.c - the reflector store keeps every key findable through
 * growth, removals (backward shifts) and sweeps, checked against a plain
 * reference array. */
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "kube_store.h"

#define N 3000

struct gone_log {
    unsigned count;
    bool seen[N];
};

/* key_of - namespace and name of reference key i */
static void
key_of(int i, char *ns, size_t nl, char *name, size_t ml)
{
    snprintf(ns, nl, "ns%d", i % 7);
    snprintf(name, ml, "obj-%d", i);
}

/* gone_cb - record swept entries */
static void
gone_cb(void *arg, const struct kube_store_entry *e)
{
    struct gone_log *g = arg;
    int i = atoi(e->name + 4);

    assert_true(i >= 0 && i < N);
    assert_false(g->seen[i]);
    g->seen[i] = true;
    g->count++;
}

static void
test_put_find_update(void **state)
{
    struct kube_store *s = kube_store_new();
    struct kube_store_entry *e;

    (void)state;
    assert_non_null(s);
    assert_null(kube_store_find(s, "ns", "a"));
    assert_int_equal(kube_store_put(s, "ns", "a", "u1", "1", 1), 0);
    assert_int_equal(kube_store_put(s, NULL, "a", NULL, NULL, 1), 0);  /* cluster-scoped "a" */
    assert_int_equal(kube_store_len(s), 2);
    e = kube_store_find(s, "ns", "a");
    assert_non_null(e);
    assert_string_equal(e->uid, "u1");
    assert_string_equal(e->rv, "1");
    e = kube_store_find(s, "", "a");
    assert_non_null(e);
    assert_string_equal(e->uid, "");
    assert_int_equal(kube_store_put(s, "ns", "a", "u2", "9", 2), 0);
    e = kube_store_find(s, "ns", "a");
    assert_string_equal(e->uid, "u2");
    assert_string_equal(e->rv, "9");
    assert_int_equal(e->mark, 2);
    assert_int_equal(kube_store_len(s), 2);
    /* "n/s" + "a" must not collide with "n" + "s/a" semantically */
    assert_int_equal(kube_store_put(s, "n", "s/a", "x", "1", 1), 0);
    assert_int_equal(kube_store_len(s), 3);
    kube_store_remove(s, "ns", "a");
    kube_store_remove(s, "ns", "missing");
    assert_null(kube_store_find(s, "ns", "a"));
    assert_non_null(kube_store_find(s, "", "a"));
    assert_non_null(kube_store_find(s, "n", "s/a"));
    kube_store_free(&s);
    assert_null(s);
    kube_store_free(&s);
}

static void
test_many_with_removals_and_sweep(void **state)
{
    struct kube_store *s = kube_store_new();
    struct gone_log *g = calloc(1, sizeof(*g));
    bool present[N];
    char ns[16], name[32], rv[16];

    (void)state;
    assert_non_null(g);
    for (int i = 0; i < N; i++) {
        key_of(i, ns, sizeof(ns), name, sizeof(name));
        snprintf(rv, sizeof(rv), "%d", i);
        assert_int_equal(kube_store_put(s, ns, name, "u", rv, 1), 0);
        present[i] = true;
    }
    assert_int_equal(kube_store_len(s), N);
    /* remove every third key: backward shifts must keep the rest findable */
    for (int i = 0; i < N; i += 3) {
        key_of(i, ns, sizeof(ns), name, sizeof(name));
        kube_store_remove(s, ns, name);
        present[i] = false;
    }
    for (int i = 0; i < N; i++) {
        key_of(i, ns, sizeof(ns), name, sizeof(name));
        if (present[i]) {
            struct kube_store_entry *e = kube_store_find(s, ns, name);

            assert_non_null(e);
            snprintf(rv, sizeof(rv), "%d", i);
            assert_string_equal(e->rv, rv);
        } else {
            assert_null(kube_store_find(s, ns, name));
        }
    }
    /* a "relist" that sees only even keys: odd ones are swept */
    for (int i = 0; i < N; i += 2) {
        key_of(i, ns, sizeof(ns), name, sizeof(name));
        if (present[i])
            kube_store_find(s, ns, name)->mark = 2;
    }
    kube_store_sweep(s, 2, gone_cb, g);
    for (int i = 0; i < N; i++) {
        bool expect_gone = present[i] && i % 2 == 1;

        assert_int_equal(g->seen[i], expect_gone);
        key_of(i, ns, sizeof(ns), name, sizeof(name));
        if (present[i] && i % 2 == 0)
            assert_non_null(kube_store_find(s, ns, name));
        else
            assert_null(kube_store_find(s, ns, name));
    }
    assert_int_equal(kube_store_len(s), N - g->count - (N + 2) / 3);
    kube_store_free(&s);
    free(g);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_put_find_update),
        cmocka_unit_test(test_many_with_removals_and_sweep),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
