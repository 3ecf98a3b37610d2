/* test_fh_index.c - caches and reverse indexes: Secret -> FleetHandshakes and
 * Bundle -> owner stay correct as FleetHandshakes switch secrets, share them
 * and disappear; change flags; errors leave the index unchanged; and with
 * 10,000 FleetHandshakes each event costs O(1) + O(keys returned), counted
 * with fh_index_work(). */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "fh_err.h"
#include "fh_index.h"

/* Allocation fault injection (the .wrap file): fail_at = k fails the k-th
 * allocation from then on. */
#include "alloc_fault.h"

/* fh - a FleetHandshake event object (strings borrowed; apply copies) */
static struct proto_obj
fh(const char *ns, const char *name, const char *rv, int64_t gen, const char *sns,
   const char *sname)
{
    struct proto_obj o;

    memset(&o, 0, sizeof(o));
    o.res = PROTO_RES_FH;
    o.ns = (char *)ns;
    o.name = (char *)name;
    o.uid = (char *)"uid-fh";
    o.rv = (char *)rv;
    o.generation = gen;
    o.secret_ns = (char *)sns;
    o.secret_name = (char *)sname;
    o.json = (char *)"{}";
    return o;
}

/* secret - Secret metadata */
static struct proto_obj
secret(const char *ns, const char *name, const char *rv)
{
    struct proto_obj o;

    memset(&o, 0, sizeof(o));
    o.res = PROTO_RES_SECRET;
    o.ns = (char *)ns;
    o.name = (char *)name;
    o.uid = (char *)"uid-s";
    o.rv = (char *)rv;
    return o;
}

/* bundle - Bundle metadata */
static struct proto_obj
bundle(const char *ns, const char *name, const char *rv, const char *owner, const char *owner_uid)
{
    struct proto_obj o;

    memset(&o, 0, sizeof(o));
    o.res = PROTO_RES_BUNDLE;
    o.ns = (char *)ns;
    o.name = (char *)name;
    o.uid = (char *)"uid-b";
    o.rv = (char *)rv;
    o.generation = 1;
    o.owner_name = (char *)owner;
    o.owner_uid = (char *)owner_uid;
    return o;
}

/* cmp_str - qsort comparator */
static int
cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* apply_expect - apply and compare the returned keys (as a sorted, comma-
 * separated list, "" for none); returns the change flags */
static unsigned
apply_expect(struct fh_index *ix, uint8_t type, const struct proto_obj *o, const char *want)
{
    char **keys = NULL;
    size_t n = 99;
    struct fh_index_change ch;
    char got[4096];
    size_t pos = 0;

    assert_int_equal(fh_index_apply_ex(ix, type, o, &keys, &n, &ch), 0);
    if (n == 0)
        assert_null(keys);
    else
        qsort(keys, n, sizeof(*keys), cmp_str);
    got[0] = '\0';
    for (size_t i = 0; i < n; i++)
        pos += (size_t)snprintf(got + pos, sizeof(got) - pos, "%s%s", i ? "," : "", keys[i]);
    assert_string_equal(got, want);
    fh_index_keys_free(keys, n);
    return ch.flags;
}

/* test_fh_cached_and_secret_ref - FH cache, default secret namespace */
static void
test_fh_cached_and_secret_ref(void **state)
{
    struct fh_index *ix = fh_index_new(1);
    struct proto_obj a = fh("ns1", "a", "1", 1, NULL, "creds");
    struct proto_obj s = secret("ns1", "creds", "10");
    const struct proto_obj *got;
    char buf[FH_INDEX_KEY_MAX];

    (void)state;
    assert_non_null(ix);
    assert_int_equal(apply_expect(ix, PROTO_EV_ADDED, &a, "ns1/a"), FH_IX_CREATED);
    got = fh_index_get_fh(ix, "ns1/a");
    assert_non_null(got);
    assert_ptr_not_equal(got->name, a.name);             /* an owned copy */
    assert_string_equal(got->json, "{}");
    assert_int_equal(fh_index_secret_users(ix, "ns1/creds"), 1);
    assert_null(fh_index_secret_for_fh(ix, "ns1/a"));     /* Secret not seen yet */
    /* the Secret appearing later still finds its user */
    assert_int_equal(apply_expect(ix, PROTO_EV_ADDED, &s, "ns1/a"), FH_IX_CREATED);
    assert_ptr_equal(fh_index_secret_for_fh(ix, "ns1/a"), fh_index_get_secret(ix, "ns1/creds"));
    assert_int_equal(fh_index_secret_key(&a, buf, sizeof(buf)), 0);
    assert_string_equal(buf, "ns1/creds");
    a.secret_ns = (char *)"";
    assert_int_equal(fh_index_secret_key(&a, buf, sizeof(buf)), 0);
    assert_string_equal(buf, "ns1/creds");
    a.secret_name = NULL;
    assert_int_equal(fh_index_secret_key(&a, buf, sizeof(buf)), -FH_ENOTFOUND);
    assert_int_equal(fh_index_count(ix, PROTO_RES_FH), 1);
    assert_int_equal(fh_index_count(ix, PROTO_RES_SECRET), 1);
    fh_index_free(&ix);
    assert_null(ix);
}

/* test_fh_switches_secret - the reverse index follows a changed secretName */
static void
test_fh_switches_secret(void **state)
{
    struct fh_index *ix = fh_index_new(2);
    struct proto_obj a1 = fh("ns", "a", "1", 1, "vault", "s1");
    struct proto_obj a2 = fh("ns", "a", "2", 2, "vault", "s2");
    struct proto_obj a3 = fh("ns", "a", "3", 3, NULL, NULL);
    struct proto_obj s1 = secret("vault", "s1", "5");
    struct proto_obj s2 = secret("vault", "s2", "6");
    unsigned f;

    (void)state;
    apply_expect(ix, PROTO_EV_ADDED, &a1, "ns/a");
    apply_expect(ix, PROTO_EV_ADDED, &s1, "ns/a");
    apply_expect(ix, PROTO_EV_ADDED, &s2, "");
    f = apply_expect(ix, PROTO_EV_MODIFIED, &a2, "ns/a");
    assert_true(f & FH_IX_SECRET_REF);
    assert_true(f & FH_IX_GENERATION);
    assert_int_equal(fh_index_secret_users(ix, "vault/s1"), 0);
    assert_int_equal(fh_index_secret_users(ix, "vault/s2"), 1);
    s1.rv = (char *)"7";
    s2.rv = (char *)"8";
    apply_expect(ix, PROTO_EV_MODIFIED, &s1, "");
    apply_expect(ix, PROTO_EV_MODIFIED, &s2, "ns/a");
    assert_string_equal(fh_index_secret_for_fh(ix, "ns/a")->name, "s2");
    f = apply_expect(ix, PROTO_EV_MODIFIED, &a3, "ns/a");  /* reference removed */
    assert_true(f & FH_IX_SECRET_REF);
    assert_int_equal(fh_index_secret_users(ix, "vault/s2"), 0);
    s2.rv = (char *)"9";
    apply_expect(ix, PROTO_EV_MODIFIED, &s2, "");
    assert_null(fh_index_secret_for_fh(ix, "ns/a"));
    fh_index_free(&ix);
}

/* test_two_fhs_share_secret - both are affected; deleting one leaves the other */
static void
test_two_fhs_share_secret(void **state)
{
    struct fh_index *ix = fh_index_new(3);
    struct proto_obj a = fh("t1", "a", "1", 1, "shared", "s");
    struct proto_obj b = fh("t2", "b", "1", 1, "shared", "s");
    struct proto_obj c = fh("t3", "c", "1", 1, "shared", "other");
    struct proto_obj s = secret("shared", "s", "1");

    (void)state;
    apply_expect(ix, PROTO_EV_ADDED, &a, "t1/a");
    apply_expect(ix, PROTO_EV_ADDED, &b, "t2/b");
    apply_expect(ix, PROTO_EV_ADDED, &c, "t3/c");
    apply_expect(ix, PROTO_EV_ADDED, &s, "t1/a,t2/b");
    assert_int_equal(fh_index_secret_users(ix, "shared/s"), 2);
    assert_int_equal(apply_expect(ix, PROTO_EV_DELETED, &a, "t1/a"), FH_IX_REMOVED);
    s.rv = (char *)"2";
    apply_expect(ix, PROTO_EV_MODIFIED, &s, "t2/b");
    assert_int_equal(fh_index_secret_users(ix, "shared/s"), 1);
    fh_index_free(&ix);
}

/* test_secret_deleted - users are told, cache is emptied, re-creation works */
static void
test_secret_deleted(void **state)
{
    struct fh_index *ix = fh_index_new(4);
    struct proto_obj a = fh("ns", "a", "1", 1, "ns", "s");
    struct proto_obj s = secret("ns", "s", "1");

    (void)state;
    apply_expect(ix, PROTO_EV_ADDED, &a, "ns/a");
    apply_expect(ix, PROTO_EV_ADDED, &s, "ns/a");
    assert_int_equal(apply_expect(ix, PROTO_EV_DELETED, &s, "ns/a"), FH_IX_REMOVED);
    assert_null(fh_index_get_secret(ix, "ns/s"));
    assert_int_equal(fh_index_count(ix, PROTO_RES_SECRET), 0);
    assert_int_equal(fh_index_secret_users(ix, "ns/s"), 1);   /* still referenced */
    /* a DELETED for a Secret never seen still reaches its users */
    apply_expect(ix, PROTO_EV_DELETED, &s, "ns/a");
    s.rv = (char *)"2";
    assert_int_equal(apply_expect(ix, PROTO_EV_ADDED, &s, "ns/a"), FH_IX_CREATED);
    assert_non_null(fh_index_get_secret(ix, "ns/s"));
    fh_index_free(&ix);
}

/* test_bundle_owner - owner key returned, owner change reaches both,
 * bundle_for_fh prefers the Bundle whose owner uid matches */
static void
test_bundle_owner(void **state)
{
    struct fh_index *ix = fh_index_new(5);
    struct proto_obj a = fh("fleet", "a", "1", 1, NULL, NULL);
    struct proto_obj b1 = bundle("fleet", "a", "1", "a", "uid-old");
    struct proto_obj b2 = bundle("fleet", "a-extra", "1", "a", "uid-fh");
    struct proto_obj foreign = bundle("fleet", "gitrepo-x", "1", NULL, NULL);
    unsigned f;

    (void)state;
    /* a Bundle whose owner is not cached is still reported (caller decides) */
    assert_int_equal(apply_expect(ix, PROTO_EV_ADDED, &b1, "fleet/a"), FH_IX_CREATED);
    apply_expect(ix, PROTO_EV_ADDED, &a, "fleet/a");
    assert_string_equal(fh_index_bundle_for_fh(ix, "fleet/a")->name, "a");
    apply_expect(ix, PROTO_EV_ADDED, &b2, "fleet/a");
    assert_string_equal(fh_index_bundle_for_fh(ix, "fleet/a")->name, "a-extra");  /* uid match */
    apply_expect(ix, PROTO_EV_ADDED, &foreign, "");
    assert_string_equal(fh_index_get_bundle(ix, "fleet/gitrepo-x")->name, "gitrepo-x");
    /* status-only change */
    b1.rv = (char *)"2";
    assert_int_equal(apply_expect(ix, PROTO_EV_MODIFIED, &b1, "fleet/a"), FH_IX_STATUS_ONLY);
    /* owner moves from a to z: both hear about it */
    b1.rv = (char *)"3";
    b1.owner_name = (char *)"z";
    f = apply_expect(ix, PROTO_EV_MODIFIED, &b1, "fleet/a,fleet/z");
    assert_true(f & FH_IX_OWNER);
    assert_string_equal(fh_index_bundle_for_fh(ix, "fleet/z")->name, "a");
    assert_string_equal(fh_index_bundle_for_fh(ix, "fleet/a")->name, "a-extra");
    /* built-from annotation */
    b2.rv = (char *)"2";
    b2.built_from = (char *)"sha256:x";
    assert_true(apply_expect(ix, PROTO_EV_MODIFIED, &b2, "fleet/a") & FH_IX_BUILT_FROM);
    /* deletion reports the owner and cleans the owner index */
    assert_int_equal(apply_expect(ix, PROTO_EV_DELETED, &b2, "fleet/a"), FH_IX_REMOVED);
    assert_null(fh_index_bundle_for_fh(ix, "fleet/a"));
    assert_null(fh_index_get_bundle(ix, "fleet/a-extra"));
    apply_expect(ix, PROTO_EV_DELETED, &foreign, "");
    assert_int_equal(fh_index_count(ix, PROTO_RES_BUNDLE), 1);
    fh_index_free(&ix);
}

/* test_fh_deleted_cleans_indexes - no trace of a deleted FleetHandshake */
static void
test_fh_deleted_cleans_indexes(void **state)
{
    struct fh_index *ix = fh_index_new(6);
    struct proto_obj a = fh("ns", "a", "1", 1, "ns", "s");
    struct proto_obj s = secret("ns", "s", "1");
    char **keys;
    size_t n;

    (void)state;
    apply_expect(ix, PROTO_EV_ADDED, &a, "ns/a");
    apply_expect(ix, PROTO_EV_ADDED, &s, "ns/a");
    apply_expect(ix, PROTO_EV_DELETED, &a, "ns/a");
    assert_null(fh_index_get_fh(ix, "ns/a"));
    assert_int_equal(fh_index_secret_users(ix, "ns/s"), 0);
    assert_null(fh_index_secret_for_fh(ix, "ns/a"));
    s.rv = (char *)"2";
    apply_expect(ix, PROTO_EV_MODIFIED, &s, "");
    assert_int_equal(fh_index_keys(ix, &keys, &n), 0);
    assert_int_equal(n, 0);
    assert_null(keys);
    /* deleting an unknown FH still names it (the caller may hold a tombstone) */
    apply_expect(ix, PROTO_EV_DELETED, &a, "ns/a");
    fh_index_free(&ix);
}

/* test_fh_change_flags - table of FleetHandshake changes and their flags */
static void
test_fh_change_flags(void **state)
{
    static const struct {
        const char *rv; int64_t gen; bool deleting; const char *uid; const char *sname;
        unsigned want; const char *keys;
    } cases[] = {
        { "1", 1, false, "u1", "s", FH_IX_UNCHANGED, "" },       /* relist echo */
        { "2", 1, false, "u1", "s", FH_IX_STATUS_ONLY, "ns/a" },
        { "3", 2, false, "u1", "s", FH_IX_GENERATION, "ns/a" },
        { "4", 2, true, "u1", "s", FH_IX_DELETING, "ns/a" },
        { "5", 2, true, "u1", "t", FH_IX_SECRET_REF, "ns/a" },
        { "6", 1, false, "u2", "t", FH_IX_GENERATION | FH_IX_DELETING | FH_IX_UID, "ns/a" },
    };
    struct fh_index *ix = fh_index_new(7);
    struct proto_obj a = fh("ns", "a", "1", 1, NULL, "s");

    (void)state;
    a.uid = (char *)"u1";
    apply_expect(ix, PROTO_EV_ADDED, &a, "ns/a");
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        struct proto_obj o = fh("ns", "a", cases[i].rv, cases[i].gen, NULL, cases[i].sname);

        o.deleting = cases[i].deleting;
        o.uid = (char *)cases[i].uid;
        assert_int_equal(apply_expect(ix, PROTO_EV_MODIFIED, &o, cases[i].keys), cases[i].want);
    }
    fh_index_free(&ix);
}

/* test_errors_leave_index_unchanged - bad events are refused without effect */
static void
test_errors_leave_index_unchanged(void **state)
{
    struct fh_index *ix = fh_index_new(8);
    struct proto_obj a = fh("ns", "a", "1", 1, "ns", "s");
    struct proto_obj bad;
    char longname[PROTO_MAX_NAME + 2];
    char **keys = (char **)&bad;
    size_t n = 5;

    (void)state;
    memset(longname, 'x', sizeof(longname) - 1);
    longname[sizeof(longname) - 1] = '\0';
    apply_expect(ix, PROTO_EV_ADDED, &a, "ns/a");
    bad = a;
    assert_int_equal(fh_index_apply(ix, 9, &bad, &keys, &n), -FH_EINVAL);
    assert_null(keys);
    assert_int_equal(n, 0);
    bad.res = 42;
    assert_int_equal(fh_index_apply(ix, PROTO_EV_ADDED, &bad, &keys, &n), -FH_EINVAL);
    bad = a;
    bad.name = NULL;
    assert_int_equal(fh_index_apply(ix, PROTO_EV_ADDED, &bad, &keys, &n), -FH_EINVAL);
    bad = a;
    bad.name = longname;
    assert_int_equal(fh_index_apply(ix, PROTO_EV_ADDED, &bad, &keys, &n), -FH_ETOOBIG);
    bad = a;
    bad.rv = (char *)"2";
    bad.secret_name = longname;
    assert_int_equal(fh_index_apply(ix, PROTO_EV_MODIFIED, &bad, &keys, &n), -FH_ETOOBIG);
    assert_int_equal(fh_index_secret_users(ix, "ns/s"), 1);     /* unchanged */
    assert_string_equal(fh_index_get_fh(ix, "ns/a")->rv, "1");
    assert_int_equal(fh_index_apply(ix, PROTO_EV_ADDED, NULL, &keys, &n), -FH_EINVAL);
    assert_int_equal(fh_index_count(ix, PROTO_RES_FH), 1);
    fh_index_free(&ix);
}

/* test_10000_fhs_constant_work_per_event - the per-event step count does not
 * grow with the number of FleetHandshakes */
static void
test_10000_fhs_constant_work_per_event(void **state)
{
    enum { N = 10000, SHARED = 100, PER_EVENT = 12 };
    struct fh_index *ix = fh_index_new(9);
    char name[32], sname[32], rv[32];
    char **keys;
    size_t n;
    uint64_t w0, w;

    (void)state;
    w0 = fh_index_work(ix);
    for (int i = 0; i < N; i++) {
        struct proto_obj o, s, b;

        snprintf(name, sizeof(name), "fh-%d", i);
        snprintf(sname, sizeof(sname), i < SHARED ? "shared" : "sec-%d", i);
        o = fh("tenant", name, "1", 1, NULL, sname);
        s = secret("tenant", sname, "1");
        b = bundle("tenant", name, "1", name, "uid-fh");
        assert_int_equal(fh_index_apply(ix, PROTO_EV_ADDED, &o, &keys, &n), 0);
        fh_index_keys_free(keys, n);
        if (i == 0 || i >= SHARED) {
            assert_int_equal(fh_index_apply(ix, PROTO_EV_ADDED, &s, &keys, &n), 0);
            fh_index_keys_free(keys, n);
        }
        assert_int_equal(fh_index_apply(ix, PROTO_EV_ADDED, &b, &keys, &n), 0);
        assert_int_equal(n, 1);
        fh_index_keys_free(keys, n);
    }
    w = fh_index_work(ix) - w0;
    assert_true(w <= (uint64_t)N * 3 * PER_EVENT + SHARED);    /* linear build */

    for (int i = 0; i < N; i += 97) {
        struct proto_obj o, s, b;

        snprintf(name, sizeof(name), "fh-%d", i);
        snprintf(sname, sizeof(sname), "sec-%d", i);
        snprintf(rv, sizeof(rv), "r%d", i + 2);
        /* FH status update */
        o = fh("tenant", name, rv, 1, NULL, i < SHARED ? "shared" : sname);
        w0 = fh_index_work(ix);
        assert_int_equal(fh_index_apply(ix, PROTO_EV_MODIFIED, &o, &keys, &n), 0);
        assert_true(fh_index_work(ix) - w0 <= PER_EVENT);
        assert_int_equal(n, 1);
        fh_index_keys_free(keys, n);
        /* private Secret change: one user, constant work */
        if (i >= SHARED) {
            s = secret("tenant", sname, rv);
            w0 = fh_index_work(ix);
            assert_int_equal(fh_index_apply(ix, PROTO_EV_MODIFIED, &s, &keys, &n), 0);
            assert_true(fh_index_work(ix) - w0 <= PER_EVENT);
            assert_int_equal(n, 1);
            fh_index_keys_free(keys, n);
        }
        /* Bundle change: its owner only */
        b = bundle("tenant", name, rv, name, "uid-fh");
        w0 = fh_index_work(ix);
        assert_int_equal(fh_index_apply(ix, PROTO_EV_MODIFIED, &b, &keys, &n), 0);
        assert_true(fh_index_work(ix) - w0 <= PER_EVENT);
        assert_int_equal(n, 1);
        fh_index_keys_free(keys, n);
    }
    /* shared Secret: work proportional to its 100 users, not to 10,000 */
    {
        struct proto_obj s = secret("tenant", "shared", "99");

        w0 = fh_index_work(ix);
        assert_int_equal(fh_index_apply(ix, PROTO_EV_MODIFIED, &s, &keys, &n), 0);
        assert_int_equal(n, SHARED);
        assert_true(fh_index_work(ix) - w0 <= PER_EVENT + SHARED);
        fh_index_keys_free(keys, n);
    }
    assert_int_equal(fh_index_keys(ix, &keys, &n), 0);
    assert_int_equal(n, N);
    qsort(keys, n, sizeof(*keys), cmp_str);
    for (size_t i = 1; i < n; i++)
        assert_true(strcmp(keys[i - 1], keys[i]) < 0);           /* unique */
    fh_index_keys_free(keys, n);
    /* delete everything; indexes empty afterwards */
    for (int i = 0; i < N; i++) {
        struct proto_obj o;

        snprintf(name, sizeof(name), "fh-%d", i);
        o = fh("tenant", name, "x", 1, NULL, NULL);
        w0 = fh_index_work(ix);
        assert_int_equal(fh_index_apply(ix, PROTO_EV_DELETED, &o, &keys, &n), 0);
        assert_true(fh_index_work(ix) - w0 <= PER_EVENT);
        fh_index_keys_free(keys, n);
    }
    assert_int_equal(fh_index_count(ix, PROTO_RES_FH), 0);
    assert_int_equal(fh_index_secret_users(ix, "tenant/shared"), 0);
    fh_index_free(&ix);
}

/* snapshot - observable state compared before/after a failed apply */
struct snapshot {
    size_t fhs, secrets, bundles;       /* cache sizes */
    size_t users_s1, users_s2;          /* reverse index sizes */
    char fh_rv[16];                     /* cached rv of ns/a ("" if none) */
    char owner_of_b[16];                /* name of the bundle owned by ns/a */
};

/* snap - take a snapshot */
static void
snap(const struct fh_index *ix, struct snapshot *s)
{
    const struct proto_obj *a = fh_index_get_fh(ix, "ns/a");
    const struct proto_obj *b = fh_index_bundle_for_fh(ix, "ns/a");

    memset(s, 0, sizeof(*s));
    s->fhs = fh_index_count(ix, PROTO_RES_FH);
    s->secrets = fh_index_count(ix, PROTO_RES_SECRET);
    s->bundles = fh_index_count(ix, PROTO_RES_BUNDLE);
    s->users_s1 = fh_index_secret_users(ix, "ns/s1");
    s->users_s2 = fh_index_secret_users(ix, "ns/s2");
    snprintf(s->fh_rv, sizeof(s->fh_rv), "%s", a ? a->rv : "");
    snprintf(s->owner_of_b, sizeof(s->owner_of_b), "%s", b ? b->name : "");
}

/* test_enomem_leaves_index_unchanged - fail every allocation of several
 * applies in turn: each either succeeds or returns -FH_ENOMEM with the index
 * exactly as before (and nothing leaks: ASan/valgrind) */
static void
test_enomem_leaves_index_unchanged(void **state)
{
    struct proto_obj evs[6];
    uint8_t types[6] = { PROTO_EV_MODIFIED, PROTO_EV_ADDED, PROTO_EV_ADDED, PROTO_EV_MODIFIED,
                         PROTO_EV_ADDED, PROTO_EV_DELETED };

    (void)state;
    evs[0] = fh("ns", "a", "2", 2, NULL, "s2");             /* switch secret */
    evs[1] = fh("ns", "new", "1", 1, NULL, "s3");           /* new FH, new ref list */
    evs[2] = secret("ns", "s1", "9");                       /* new Secret with a user */
    evs[3] = bundle("ns", "b", "2", "a", "uid-fh");         /* owner moves to a */
    evs[4] = bundle("ns", "c", "1", "new-owner", "u");      /* new Bundle, new owner list */
    evs[5] = secret("ns", "s1", "9");                       /* Secret deleted */
    for (size_t e = 0; e < 6; e++) {
        for (long k = 0;; k++) {
            struct fh_index *ix = fh_index_new(11);
            struct proto_obj a = fh("ns", "a", "1", 1, NULL, "s1");
            struct proto_obj b = fh("ns", "b", "1", 1, NULL, "s1");
            struct proto_obj bu = bundle("ns", "b", "1", "b", "uid-fh");
            struct snapshot before, after;
            char **keys = NULL;
            size_t n = 0;
            int rc;

            assert_non_null(ix);
            apply_expect(ix, PROTO_EV_ADDED, &a, "ns/a");
            apply_expect(ix, PROTO_EV_ADDED, &b, "ns/b");
            apply_expect(ix, PROTO_EV_ADDED, &bu, "ns/b");
            snap(ix, &before);
            fail_at = k;
            rc = fh_index_apply(ix, types[e], &evs[e], &keys, &n);
            fail_at = -1;
            if (rc == 0) {
                fh_index_keys_free(keys, n);
                fh_index_free(&ix);
                assert_true(k > 0);       /* the apply did allocate */
                break;                    /* k beyond the last allocation */
            }
            assert_int_equal(rc, -FH_ENOMEM);
            assert_null(keys);
            assert_int_equal(n, 0);
            snap(ix, &after);
            assert_memory_equal(&before, &after, sizeof(before));
            fh_index_free(&ix);
        }
    }
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_fh_cached_and_secret_ref),
        cmocka_unit_test(test_fh_switches_secret),
        cmocka_unit_test(test_two_fhs_share_secret),
        cmocka_unit_test(test_secret_deleted),
        cmocka_unit_test(test_bundle_owner),
        cmocka_unit_test(test_fh_deleted_cleans_indexes),
        cmocka_unit_test(test_fh_change_flags),
        cmocka_unit_test(test_errors_leave_index_unchanged),
        cmocka_unit_test(test_10000_fhs_constant_work_per_event),
        cmocka_unit_test(test_enomem_leaves_index_unchanged),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
