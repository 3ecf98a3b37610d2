/*
 * test_proto.c - the IPC codec: golden vectors (tests/unit/data/proto/<type>.hex),
 * round trips of every message type with optional fields present and absent,
 * encoder input validation, lifetime helpers, and a malformed-input corpus
 * (truncations, type swaps, range violations, over-long strings, NUL bytes,
 * nesting, huge declared sizes, seeded random bytes and mutations) that must
 * be rejected without crashing or leaking.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <msgpack.h>

#include "fh_err.h"
#include "proto.h"

#define S(x) ((char *)(x))  /* samples borrow string literals; never cleared */

#define UID_FH     "6f1c2a7e-0d4b-4c1e-9a51-3b7d2f0e8c11"
#define UID_SECRET "0a8e5d3c-1111-4d2e-8f00-5c6b7a8d9e0f"
#define UID_BUNDLE "9c0b7a6d-2222-4e3f-a111-6d7c8b9a0f1e"
#define FH_JSON "{\"apiVersion\":\"riverpointtechnology.com/v1alpha1\",\"kind\":\"FleetHandshake\"," \
                "\"metadata\":{\"name\":\"db-creds\",\"namespace\":\"team-a\"}}"

/* ------------------------------------------------------------------------ */
/* samples: the documented messages behind the golden vectors                */

/* sample_fh - the cached FleetHandshake used by EVENT and TASK */
static struct proto_obj
sample_fh(void)
{
    struct proto_obj o = {
        .res = PROTO_RES_FH, .ns = S("team-a"), .name = S("db-creds"),
        .uid = S(UID_FH), .rv = S("12345"), .generation = 3,
        .secret_ns = S("vault"), .secret_name = S("db"), .json = S(FH_JSON),
    };
    return o;
}

/* sample - the golden message of one type */
static struct proto_msg
sample(int type)
{
    struct proto_msg m;

    memset(&m, 0, sizeof(m));
    m.type = (uint8_t)type;
    switch (type) {
    case PROTO_HELLO:
        m.gen = 7;
        m.u.hello.role = PROTO_ROLE_WORKER;
        m.u.hello.slot = 3;
        m.u.hello.pid = 4242;
        break;
    case PROTO_HEARTBEAT:
        m.gen = 7;
        break;
    case PROTO_QUIT:
        m.gen = 0;
        break;
    case PROTO_EVENT:
        m.gen = 2;
        m.u.event.type = PROTO_EV_MODIFIED;
        m.u.event.obj = sample_fh();
        m.u.event.obj.deleting = true;
        break;
    case PROTO_SYNCED:
        m.gen = 2;
        m.u.synced.res = PROTO_RES_SECRET;
        break;
    case PROTO_TASK:
        m.gen = 0;
        m.u.task.ns = S("team-a");
        m.u.task.name = S("db-creds");
        m.u.task.attempt = 2;
        m.u.task.verify_bundle = true;
        m.u.task.has_fh = m.u.task.has_secret = m.u.task.has_bundle = true;
        m.u.task.fh = sample_fh();
        m.u.task.secret.res = PROTO_RES_SECRET;
        m.u.task.secret.ns = S("vault");
        m.u.task.secret.name = S("db");
        m.u.task.secret.uid = S(UID_SECRET);
        m.u.task.secret.rv = S("900");
        m.u.task.bundle.res = PROTO_RES_BUNDLE;
        m.u.task.bundle.ns = S("team-a");
        m.u.task.bundle.name = S("db-creds");
        m.u.task.bundle.uid = S(UID_BUNDLE);
        m.u.task.bundle.rv = S("777");
        m.u.task.bundle.generation = 1;
        m.u.task.bundle.owner_uid = S(UID_FH);
        m.u.task.bundle.owner_name = S("db-creds");
        m.u.task.bundle.built_from = S("fh=3;secret=900");
        break;
    case PROTO_RESULT:
        m.gen = 7;
        m.u.result.ns = S("team-a");
        m.u.result.name = S("db-creds");
        m.u.result.outcome = PROTO_OUT_RETRY;
        m.u.result.errclass = PROTO_ERR_THROTTLED;
        m.u.result.retry_after_ms = 1500;
        m.u.result.fh_rv = S("12346");
        m.u.result.bundle_rv = S("778");
        m.u.result.message = S("apiserver throttled (429)");
        m.u.result.api_reads = 3;
        m.u.result.api_writes = 1;
        break;
    case PROTO_LEADER:
        m.gen = 9;
        m.u.leader.lead = true;
        m.u.leader.holder = S("node-a_0123456789abcdef");
        break;
    default:
        break;
    }
    return m;
}

static const char *const vector_names[PROTO_TYPE_MAX] = {
    NULL, "hello", "heartbeat", "quit", "event", "synced", "task", "result", "leader",
};

/* ------------------------------------------------------------------------ */
/* helpers                                                                   */

struct bytes {
    unsigned char *p;
    size_t n;
};

/* load_vector - read tests/unit/data/proto/<name>.hex ('#' comments and
 * whitespace ignored) into malloc'ed bytes */
static struct bytes
load_vector(const char *name)
{
    const char *dir = getenv("FH_TEST_DATA");
    char path[512];
    struct bytes b = { NULL, 0 };
    FILE *f;
    int c, hi = -1;
    size_t cap = 4096;

    snprintf(path, sizeof(path), "%s/proto/%s.hex", dir ? dir : "tests/unit/data", name);
    f = fopen(path, "r");
    if (!f)
        fail_msg("cannot open %s (run from the repository root or set FH_TEST_DATA)", path);
    b.p = malloc(cap);
    assert_non_null(b.p);
    while ((c = fgetc(f)) != EOF) {
        int v = 0;

        if (c == '#') {
            while ((c = fgetc(f)) != EOF && c != '\n')
                ;
            continue;
        }
        if (c == ' ' || c == '\n' || c == '\t' || c == '\r')
            continue;
        if (c >= '0' && c <= '9')
            v = c - '0';
        else if (c >= 'a' && c <= 'f')
            v = c - 'a' + 10;
        else
            fail_msg("%s: bad character 0x%02x", path, c);
        if (hi < 0) {
            hi = v;
            continue;
        }
        assert_true(b.n < cap);
        b.p[b.n++] = (unsigned char)(hi << 4 | v);
        hi = -1;
    }
    fclose(f);
    assert_int_equal(hi, -1);
    assert_true(b.n > 0);
    return b;
}

/* hex_bytes - decode an inline hex string (spaces allowed) */
static struct bytes
hex_bytes(const char *hex)
{
    struct bytes b;
    int hi = -1;

    b.p = malloc(strlen(hex) / 2 + 1);
    b.n = 0;
    assert_non_null(b.p);
    for (; *hex; hex++) {
        int v;

        if (*hex == ' ')
            continue;
        v = (*hex >= 'a') ? *hex - 'a' + 10 : *hex - '0';
        if (hi < 0) {
            hi = v;
        } else {
            b.p[b.n++] = (unsigned char)(hi << 4 | v);
            hi = -1;
        }
    }
    assert_int_equal(hi, -1);
    return b;
}

/* assert_str_eq - both NULL or equal strings */
static void
assert_str_eq(const char *a, const char *b)
{
    if (!a || !b)
        assert_ptr_equal(a, b);
    else
        assert_string_equal(a, b);
}

/* assert_obj_eq - field-by-field proto_obj comparison */
static void
assert_obj_eq(const struct proto_obj *a, const struct proto_obj *b)
{
    assert_int_equal(a->res, b->res);
    assert_str_eq(a->ns, b->ns);
    assert_str_eq(a->name, b->name);
    assert_str_eq(a->uid, b->uid);
    assert_str_eq(a->rv, b->rv);
    assert_true(a->generation == b->generation);
    assert_int_equal(a->deleting, b->deleting);
    assert_str_eq(a->secret_ns, b->secret_ns);
    assert_str_eq(a->secret_name, b->secret_name);
    assert_str_eq(a->json, b->json);
    assert_str_eq(a->owner_uid, b->owner_uid);
    assert_str_eq(a->owner_name, b->owner_name);
    assert_str_eq(a->built_from, b->built_from);
}

/* assert_msg_eq - field-by-field message comparison */
static void
assert_msg_eq(const struct proto_msg *a, const struct proto_msg *b)
{
    assert_int_equal(a->type, b->type);
    assert_int_equal(a->gen, b->gen);
    switch (a->type) {
    case PROTO_HELLO:
        assert_int_equal(a->u.hello.role, b->u.hello.role);
        assert_int_equal(a->u.hello.slot, b->u.hello.slot);
        assert_int_equal(a->u.hello.pid, b->u.hello.pid);
        break;
    case PROTO_EVENT:
        assert_int_equal(a->u.event.type, b->u.event.type);
        assert_obj_eq(&a->u.event.obj, &b->u.event.obj);
        break;
    case PROTO_SYNCED:
        assert_int_equal(a->u.synced.res, b->u.synced.res);
        break;
    case PROTO_TASK:
        assert_str_eq(a->u.task.ns, b->u.task.ns);
        assert_str_eq(a->u.task.name, b->u.task.name);
        assert_int_equal(a->u.task.attempt, b->u.task.attempt);
        assert_int_equal(a->u.task.verify_bundle, b->u.task.verify_bundle);
        assert_int_equal(a->u.task.has_fh, b->u.task.has_fh);
        assert_int_equal(a->u.task.has_secret, b->u.task.has_secret);
        assert_int_equal(a->u.task.has_bundle, b->u.task.has_bundle);
        if (a->u.task.has_fh)
            assert_obj_eq(&a->u.task.fh, &b->u.task.fh);
        if (a->u.task.has_secret)
            assert_obj_eq(&a->u.task.secret, &b->u.task.secret);
        if (a->u.task.has_bundle)
            assert_obj_eq(&a->u.task.bundle, &b->u.task.bundle);
        break;
    case PROTO_RESULT:
        assert_str_eq(a->u.result.ns, b->u.result.ns);
        assert_str_eq(a->u.result.name, b->u.result.name);
        assert_int_equal(a->u.result.outcome, b->u.result.outcome);
        assert_int_equal(a->u.result.errclass, b->u.result.errclass);
        assert_int_equal(a->u.result.retry_after_ms, b->u.result.retry_after_ms);
        assert_str_eq(a->u.result.fh_rv, b->u.result.fh_rv);
        assert_str_eq(a->u.result.bundle_rv, b->u.result.bundle_rv);
        assert_str_eq(a->u.result.message, b->u.result.message);
        assert_int_equal(a->u.result.api_reads, b->u.result.api_reads);
        assert_int_equal(a->u.result.api_writes, b->u.result.api_writes);
        break;
    case PROTO_LEADER:
        assert_int_equal(a->u.leader.lead, b->u.leader.lead);
        assert_str_eq(a->u.leader.holder, b->u.leader.holder);
        break;
    default:
        break;
    }
}

/* roundtrip - encode m, decode it back, compare; returns the frame length */
static size_t
roundtrip(const struct proto_msg *m)
{
    struct proto_msg d;
    char *buf = NULL;
    size_t len = 0;

    assert_int_equal(proto_encode(m, &buf, &len), 0);
    assert_non_null(buf);
    assert_int_equal(proto_decode(buf, len, &d), 0);
    assert_msg_eq(m, &d);
    proto_msg_clear(&d);
    free(buf);
    return len;
}

/* decode_rc - decode and release; the result code only */
static int
decode_rc(const void *p, size_t n)
{
    struct proto_msg d;
    static const struct proto_msg zero;
    int rc;

    memset(&d, 0xa5, sizeof(d));
    rc = proto_decode(p, n, &d);
    if (rc != 0)
        assert_memory_equal(&d, &zero, sizeof(d));  /* m ends zeroed */
    proto_msg_clear(&d);
    return rc;
}

/* xorshift64 - the fixed-seed PRNG for the random corpora */
static uint64_t
xorshift64(uint64_t *s)
{
    uint64_t x = *s;

    x ^= x << 13;
    x ^= x >> 7;
    x ^= x << 17;
    *s = x;
    return x;
}

/* ------------------------------------------------------------------------ */
/* golden vectors                                                            */

static void
test_golden_encode(void **state)
{
    (void)state;
    for (int t = PROTO_HELLO; t < PROTO_TYPE_MAX; t++) {
        struct proto_msg m = sample(t);
        struct bytes want = load_vector(vector_names[t]);
        char *buf = NULL;
        size_t len = 0;

        assert_int_equal(proto_encode(&m, &buf, &len), 0);
        if (len != want.n || memcmp(buf, want.p, len) != 0) {
            fprintf(stderr, "encoding of %s differs from %s.hex:\n", proto_type_name(t),
                    vector_names[t]);
            for (size_t i = 0; i < len; i++)
                fprintf(stderr, "%02x", (unsigned char)buf[i]);
            fprintf(stderr, "\n");
        }
        assert_int_equal(len, want.n);
        assert_memory_equal(buf, want.p, len);
        free(buf);
        free(want.p);
    }
}

static void
test_golden_decode(void **state)
{
    (void)state;
    for (int t = PROTO_HELLO; t < PROTO_TYPE_MAX; t++) {
        struct proto_msg want = sample(t);
        struct bytes v = load_vector(vector_names[t]);
        struct proto_msg got;

        assert_int_equal(proto_decode(v.p, v.n, &got), 0);
        assert_msg_eq(&got, &want);
        proto_msg_clear(&got);
        free(v.p);
    }
}

static void
test_encode_is_deterministic(void **state)
{
    struct proto_msg m = sample(PROTO_TASK);
    char *a = NULL, *b = NULL;
    size_t la = 0, lb = 0;

    (void)state;
    assert_int_equal(proto_encode(&m, &a, &la), 0);
    assert_int_equal(proto_encode(&m, &b, &lb), 0);
    assert_int_equal(la, lb);
    assert_memory_equal(a, b, la);
    free(a);
    free(b);
}

/* ------------------------------------------------------------------------ */
/* round trips                                                               */

static void
test_roundtrip_full(void **state)
{
    (void)state;
    for (int t = PROTO_HELLO; t < PROTO_TYPE_MAX; t++) {
        struct proto_msg m = sample(t);

        roundtrip(&m);
    }
}

static void
test_roundtrip_optional_absent(void **state)
{
    struct proto_msg m;
    struct proto_obj bare = { .res = PROTO_RES_SECRET, .ns = S(""), .name = S("n") };

    (void)state;
    /* event with a bare object: only res, ns, name (and gen 0) */
    m = sample(PROTO_EVENT);
    m.u.event.type = PROTO_EV_ADDED;
    m.u.event.obj = bare;
    roundtrip(&m);

    /* task with no cached objects, attempt 0, no verify */
    m = sample(PROTO_TASK);
    m.u.task.attempt = 0;
    m.u.task.verify_bundle = false;
    m.u.task.has_fh = m.u.task.has_secret = m.u.task.has_bundle = false;
    memset(&m.u.task.fh, 0, sizeof(m.u.task.fh));
    memset(&m.u.task.secret, 0, sizeof(m.u.task.secret));
    memset(&m.u.task.bundle, 0, sizeof(m.u.task.bundle));
    roundtrip(&m);

    /* task with only the secret */
    m.u.task.has_secret = true;
    m.u.task.secret = bare;
    roundtrip(&m);

    /* result with only the required keys and zero counters */
    m = sample(PROTO_RESULT);
    m.u.result.outcome = PROTO_OUT_DONE;
    m.u.result.errclass = PROTO_ERR_NONE;
    m.u.result.retry_after_ms = 0;
    m.u.result.fh_rv = m.u.result.bundle_rv = m.u.result.message = NULL;
    m.u.result.api_reads = m.u.result.api_writes = 0;
    roundtrip(&m);

    /* a watcher hello */
    m = sample(PROTO_HELLO);
    m.u.hello.role = PROTO_ROLE_WATCHER;
    m.u.hello.slot = 0;
    roundtrip(&m);

    /* an elector hello */
    m.u.hello.role = PROTO_ROLE_ELECTOR;
    roundtrip(&m);

    /* leader: lead false (a required bool is written even when false), no holder */
    m = sample(PROTO_LEADER);
    m.u.leader.lead = false;
    m.u.leader.holder = NULL;
    roundtrip(&m);

    /* leader: released lease, holder "" is present, not absent */
    m.u.leader.holder = S("");
    roundtrip(&m);
}

static void
test_roundtrip_absent_keys_not_written(void **state)
{
    struct proto_msg m = sample(PROTO_RESULT);
    char *full = NULL, *bare = NULL;
    size_t lfull = 0, lbare = 0;

    (void)state;
    assert_int_equal(proto_encode(&m, &full, &lfull), 0);
    m.u.result.fh_rv = m.u.result.bundle_rv = m.u.result.message = NULL;
    assert_int_equal(proto_encode(&m, &bare, &lbare), 0);
    /* absent strings cost nothing: neither key nor value is present */
    assert_null(memmem(bare, lbare, "fhrv", 4));
    assert_null(memmem(bare, lbare, "msg", 3));
    assert_non_null(memmem(full, lfull, "fhrv", 4));
    assert_true(lbare < lfull);
    free(full);
    free(bare);
}

static void
test_roundtrip_extremes(void **state)
{
    struct proto_msg m;
    char name[PROTO_MAX_NAME + 1], shortv[PROTO_MAX_SHORT + 1], msg[PROTO_MAX_MESSAGE + 1];
    char *json;

    (void)state;
    memset(name, 'n', PROTO_MAX_NAME);
    name[PROTO_MAX_NAME] = '\0';
    memset(shortv, 'u', PROTO_MAX_SHORT);
    shortv[PROTO_MAX_SHORT] = '\0';
    memset(msg, 'm', PROTO_MAX_MESSAGE);
    msg[PROTO_MAX_MESSAGE] = '\0';
    json = malloc(PROTO_MAX_JSON + 1);
    assert_non_null(json);
    memset(json, 'j', PROTO_MAX_JSON);
    json[PROTO_MAX_JSON] = '\0';

    m = sample(PROTO_HELLO);
    m.gen = UINT32_MAX;
    m.u.hello.slot = UINT32_MAX;
    m.u.hello.pid = INT32_MAX;
    roundtrip(&m);

    m = sample(PROTO_TASK);
    m.u.task.ns = m.u.task.name = name;
    m.u.task.attempt = UINT32_MAX;
    m.u.task.fh.generation = INT64_MAX;
    m.u.task.fh.uid = m.u.task.fh.rv = shortv;
    m.u.task.fh.json = json;
    m.u.task.bundle.built_from = msg;
    m.u.task.bundle.owner_uid = shortv;
    m.u.task.bundle.owner_name = name;
    assert_true(roundtrip(&m) > PROTO_MAX_JSON);

    m = sample(PROTO_RESULT);
    m.u.result.message = msg;
    m.u.result.fh_rv = m.u.result.bundle_rv = shortv;
    m.u.result.retry_after_ms = m.u.result.api_reads = m.u.result.api_writes = UINT32_MAX;
    m.u.result.errclass = PROTO_ERR_INTERNAL;
    m.u.result.outcome = PROTO_OUT_FAILED;
    roundtrip(&m);

    m = sample(PROTO_EVENT);
    m.u.event.type = PROTO_EV_DELETED;
    m.u.event.obj.res = PROTO_RES_BUNDLE;
    m.u.event.obj.json = S("");                 /* empty strings are not absent */
    m.u.event.obj.built_from = S("");
    roundtrip(&m);

    free(json);
}

/* ------------------------------------------------------------------------ */
/* encoder input validation                                                  */

static void
test_encode_rejects_bad_input(void **state)
{
    struct proto_msg m;
    char *buf = (char *)&m;
    size_t len = 99;
    char big[PROTO_MAX_NAME + 2];
    char *json;

    (void)state;
    memset(big, 'x', sizeof(big) - 1);
    big[sizeof(big) - 1] = '\0';

    assert_int_equal(proto_encode(NULL, &buf, &len), -FH_EINVAL);
    m = sample(PROTO_HELLO);
    assert_int_equal(proto_encode(&m, NULL, &len), -FH_EINVAL);

#define EXPECT_ENC(rc_) do { \
        buf = (char *)&m; len = 99; \
        assert_int_equal(proto_encode(&m, &buf, &len), (rc_)); \
        assert_null(buf); assert_int_equal(len, 0); \
    } while (0)

    m = sample(PROTO_HELLO); m.type = 0;                          EXPECT_ENC(-FH_EINVAL);
    m = sample(PROTO_HELLO); m.type = PROTO_TYPE_MAX;             EXPECT_ENC(-FH_EINVAL);
    m = sample(PROTO_HELLO); m.u.hello.role = 0;                  EXPECT_ENC(-FH_EINVAL);
    m = sample(PROTO_HELLO); m.u.hello.role = 4;                  EXPECT_ENC(-FH_EINVAL);
    m = sample(PROTO_HELLO); m.u.hello.pid = 0;                   EXPECT_ENC(-FH_EINVAL);
    m = sample(PROTO_HELLO); m.u.hello.pid = -5;                  EXPECT_ENC(-FH_EINVAL);
    m = sample(PROTO_SYNCED); m.u.synced.res = 4;                 EXPECT_ENC(-FH_EINVAL);
    m = sample(PROTO_EVENT); m.u.event.type = 0;                  EXPECT_ENC(-FH_EINVAL);
    m = sample(PROTO_EVENT); m.u.event.obj.res = 0;               EXPECT_ENC(-FH_EINVAL);
    m = sample(PROTO_EVENT); m.u.event.obj.ns = NULL;             EXPECT_ENC(-FH_EINVAL);
    m = sample(PROTO_EVENT); m.u.event.obj.name = NULL;           EXPECT_ENC(-FH_EINVAL);
    m = sample(PROTO_EVENT); m.u.event.obj.generation = -1;       EXPECT_ENC(-FH_EINVAL);
    m = sample(PROTO_EVENT); m.u.event.obj.name = big;            EXPECT_ENC(-FH_ETOOBIG);
    m = sample(PROTO_EVENT); m.u.event.obj.uid = big;             EXPECT_ENC(-FH_ETOOBIG);
    m = sample(PROTO_TASK); m.u.task.ns = NULL;                   EXPECT_ENC(-FH_EINVAL);
    m = sample(PROTO_TASK); m.u.task.fh.res = PROTO_RES_SECRET;   EXPECT_ENC(-FH_EINVAL);
    m = sample(PROTO_TASK); m.u.task.secret.res = PROTO_RES_FH;   EXPECT_ENC(-FH_EINVAL);
    m = sample(PROTO_TASK); m.u.task.bundle.res = PROTO_RES_FH;   EXPECT_ENC(-FH_EINVAL);
    m = sample(PROTO_RESULT); m.u.result.outcome = 0;             EXPECT_ENC(-FH_EINVAL);
    m = sample(PROTO_RESULT); m.u.result.errclass = 8;            EXPECT_ENC(-FH_EINVAL);
    m = sample(PROTO_RESULT); m.u.result.name = NULL;             EXPECT_ENC(-FH_EINVAL);
    m = sample(PROTO_RESULT); m.u.result.fh_rv = big;             EXPECT_ENC(-FH_ETOOBIG);

    /* an absent sub-object is not validated (has_bundle false, bundle garbage-free but invalid) */
    m = sample(PROTO_TASK);
    m.u.task.has_bundle = false;
    m.u.task.bundle.res = 0;
    buf = NULL;
    assert_int_equal(proto_encode(&m, &buf, &len), 0);
    free(buf);

    /* JSON: at its bound fine, one byte over rejected; three at the bound
     * exceed the frame bound */
    json = malloc(PROTO_MAX_JSON + 2);
    assert_non_null(json);
    memset(json, '{', PROTO_MAX_JSON + 1);
    json[PROTO_MAX_JSON + 1] = '\0';
    m = sample(PROTO_EVENT); m.u.event.obj.json = json;           EXPECT_ENC(-FH_ETOOBIG);
    json[PROTO_MAX_JSON] = '\0';
    buf = NULL;
    assert_int_equal(proto_encode(&m, &buf, &len), 0);
    free(buf);
    m = sample(PROTO_TASK);
    m.u.task.fh.json = m.u.task.secret.json = m.u.task.bundle.json = json;
    EXPECT_ENC(-FH_ETOOBIG);
    free(json);
#undef EXPECT_ENC
}

/* ------------------------------------------------------------------------ */
/* lifetime helpers                                                          */

static void
test_obj_copy_and_clear(void **state)
{
    struct bytes v = load_vector("task");
    struct proto_msg d;
    struct proto_obj c, bare_src = { .res = PROTO_RES_SECRET, .ns = S("a"), .name = S("b") };
    struct proto_obj bare;

    (void)state;
    assert_int_equal(proto_decode(v.p, v.n, &d), 0);
    assert_int_equal(proto_obj_copy(&c, &d.u.task.bundle), 0);
    assert_ptr_not_equal(c.name, d.u.task.bundle.name);
    proto_msg_clear(&d);                /* the copy owns its own strings */
    assert_string_equal(c.name, "db-creds");
    assert_string_equal(c.built_from, "fh=3;secret=900");
    assert_string_equal(c.owner_uid, UID_FH);
    assert_int_equal(c.res, PROTO_RES_BUNDLE);
    assert_true(c.generation == 1);
    assert_null(c.json);
    proto_obj_clear(&c);
    assert_null(c.name);
    assert_int_equal(c.res, 0);
    proto_obj_clear(&c);                /* idempotent */
    proto_obj_clear(NULL);

    assert_int_equal(proto_obj_copy(&bare, &bare_src), 0);
    assert_string_equal(bare.ns, "a");
    assert_null(bare.uid);
    assert_null(bare.secret_ns);
    proto_obj_clear(&bare);
    assert_int_equal(proto_obj_copy(NULL, &bare_src), -FH_EINVAL);
    assert_int_equal(proto_obj_copy(&bare, NULL), -FH_EINVAL);

    proto_msg_clear(&d);                /* idempotent */
    proto_msg_clear(NULL);
    free(v.p);
}

static void
test_type_names(void **state)
{
    (void)state;
    assert_string_equal(proto_type_name(PROTO_HELLO), "HELLO");
    assert_string_equal(proto_type_name(PROTO_HEARTBEAT), "HEARTBEAT");
    assert_string_equal(proto_type_name(PROTO_QUIT), "QUIT");
    assert_string_equal(proto_type_name(PROTO_EVENT), "EVENT");
    assert_string_equal(proto_type_name(PROTO_SYNCED), "SYNCED");
    assert_string_equal(proto_type_name(PROTO_TASK), "TASK");
    assert_string_equal(proto_type_name(PROTO_RESULT), "RESULT");
    assert_string_equal(proto_type_name(PROTO_LEADER), "LEADER");
    assert_string_equal(proto_type_name(0), "UNKNOWN");
    assert_string_equal(proto_type_name(PROTO_TYPE_MAX), "UNKNOWN");
    assert_string_equal(proto_type_name(-1), "UNKNOWN");
}

/* ------------------------------------------------------------------------ */
/* malformed corpus                                                          */

static void
test_every_truncation_rejected(void **state)
{
    (void)state;
    for (int t = PROTO_HELLO; t < PROTO_TYPE_MAX; t++) {
        struct bytes v = load_vector(vector_names[t]);

        for (size_t n = 0; n < v.n; n++)
            if (decode_rc(v.p, n) != -FH_EPROTO)
                fail_msg("%s truncated to %zu bytes was accepted", vector_names[t], n);
        free(v.p);
    }
}

static void
test_trailing_bytes_rejected(void **state)
{
    (void)state;
    for (int t = PROTO_HELLO; t < PROTO_TYPE_MAX; t++) {
        struct bytes v = load_vector(vector_names[t]);
        unsigned char *two = malloc(2 * v.n);

        assert_non_null(two);
        memcpy(two, v.p, v.n);
        memcpy(two + v.n, v.p, v.n);
        assert_int_equal(decode_rc(two, v.n + 1), -FH_EPROTO);   /* one extra byte */
        assert_int_equal(decode_rc(two, 2 * v.n), -FH_EPROTO);   /* two messages */
        free(two);
        free(v.p);
    }
}

/*
 * Edits applied to a golden vector: the vector is unpacked, re-packed with one
 * change at a path ("" = the envelope, "3" = the body, "3.obj.ns" = a key of
 * a nested map, digits index arrays) and decoded; want is the expected code.
 */
enum edit_op {
    E_SET,      /* replace the value at path with raw msgpack (hex) or a str of slen 'x' */
    E_DEL,      /* remove the key at path */
    E_DUP,      /* write the key at path twice */
    E_ADD,      /* append raw key+value bytes (hex) to the map at path */
};

struct edit {
    const char *vec;
    const char *path;
    enum edit_op op;
    const char *hex;
    size_t slen;
    int want;
};

#define EP (-FH_EPROTO)
static const struct edit edits[] = {
    /* envelope */
    { "hello", "", E_SET, "93 01 01 07", 0, EP },                     /* 3 elements */
    { "hello", "", E_SET, "95 01 01 07 80 00", 0, EP },               /* 5 elements */
    { "hello", "", E_SET, "84 01 01 02 02 03 07 04 80", 0, EP },      /* map, not array */
    { "hello", "", E_SET, "c0", 0, EP },
    { "hello", "", E_SET, "a5 68 65 6c 6c 6f", 0, EP },
    { "hello", "0", E_SET, "02", 0, EP },                             /* version 2 */
    { "hello", "0", E_SET, "00", 0, EP },
    { "hello", "0", E_SET, "a1 31", 0, EP },                          /* version "1" */
    { "hello", "0", E_SET, "cb 3f f0 00 00 00 00 00 00", 0, EP },     /* version 1.0 */
    { "heartbeat", "1", E_SET, "00", 0, EP },                         /* type 0 */
    { "heartbeat", "1", E_SET, "09", 0, EP },                         /* type 9 */
    { "heartbeat", "1", E_SET, "08", 0, EP },                         /* LEADER needs "lead" */
    { "heartbeat", "1", E_SET, "cd 01 02", 0, EP },                   /* type 258 */
    { "heartbeat", "1", E_SET, "ff", 0, EP },                         /* type -1 */
    { "heartbeat", "1", E_SET, "a1 32", 0, EP },
    { "heartbeat", "2", E_SET, "ce ff ff ff ff", 0, 0 },              /* gen UINT32_MAX */
    { "heartbeat", "2", E_SET, "cf 00 00 00 01 00 00 00 00", 0, EP }, /* gen 2^32 */
    { "heartbeat", "2", E_SET, "ff", 0, EP },                         /* gen -1 */
    { "heartbeat", "2", E_SET, "c3", 0, EP },
    { "heartbeat", "2", E_SET, "ca 3f 80 00 00", 0, EP },
    { "heartbeat", "3", E_SET, "90", 0, EP },                         /* body array */
    { "heartbeat", "3", E_SET, "c0", 0, EP },
    { "heartbeat", "3", E_ADD, "a4 6e 65 78 74 92 01 a1 78", 0, 0 },  /* unknown key */
    { "quit", "3", E_ADD, "01 01", 0, EP },                           /* integer key */
    { "quit", "3", E_ADD, "c4 01 78 01", 0, EP },                     /* bin key */
    /* hello */
    { "hello", "3.role", E_SET, "a1 32", 0, EP },
    { "hello", "3.role", E_SET, "00", 0, EP },
    { "hello", "3.role", E_SET, "04", 0, EP },
    { "hello", "3.role", E_SET, "03", 0, 0 },                         /* elector */
    { "hello", "3.role", E_SET, "cd 01 02", 0, EP },                  /* 258 wraps to 2 in uint8 */
    { "hello", "3.role", E_SET, "01", 0, 0 },
    { "hello", "3.slot", E_SET, "ff", 0, EP },
    { "hello", "3.slot", E_SET, "cf 00 00 00 01 00 00 00 00", 0, EP },
    { "hello", "3.slot", E_SET, "ce ff ff ff ff", 0, 0 },
    { "hello", "3.slot", E_SET, "c2", 0, EP },
    { "hello", "3.slot", E_SET, "a1 33", 0, EP },
    { "hello", "3.pid", E_SET, "00", 0, EP },
    { "hello", "3.pid", E_SET, "ff", 0, EP },
    { "hello", "3.pid", E_SET, "d0 ff", 0, EP },
    { "hello", "3.pid", E_SET, "ce 80 00 00 00", 0, EP },             /* INT32_MAX + 1 */
    { "hello", "3.pid", E_SET, "ce 7f ff ff ff", 0, 0 },
    { "hello", "3.pid", E_SET, "cb 40 b0 92 00 00 00 00 00", 0, EP }, /* 4242.0 */
    { "hello", "3.role", E_DEL, NULL, 0, EP },
    { "hello", "3.slot", E_DEL, NULL, 0, EP },
    { "hello", "3.pid", E_DEL, NULL, 0, EP },
    { "hello", "3.role", E_DUP, NULL, 0, EP },
    { "hello", "3", E_ADD, "a5 72 6f 6c 65 00 05", 0, 0 },            /* "role\0" is another key */
    { "hello", "3", E_ADD, "a3 7a 7a 7a 93 91 80 c0 d4 01 02", 0, 0 },/* nested unknown value */
    /* leader */
    { "leader", "3.lead", E_DEL, NULL, 0, EP },
    { "leader", "3.lead", E_SET, "01", 0, EP },                       /* int is not bool */
    { "leader", "3.lead", E_SET, "c0", 0, EP },
    { "leader", "3.lead", E_SET, "c2", 0, 0 },
    { "leader", "3.lead", E_DUP, NULL, 0, EP },
    { "leader", "3.holder", E_DEL, NULL, 0, 0 },
    { "leader", "3.holder", E_SET, "a0", 0, 0 },                      /* released */
    { "leader", "3.holder", E_SET, NULL, PROTO_MAX_NAME, 0 },
    { "leader", "3.holder", E_SET, NULL, PROTO_MAX_NAME + 1, EP },
    { "leader", "3.holder", E_SET, "a3 61 00 62", 0, EP },
    { "leader", "3.holder", E_SET, "c3", 0, EP },
    /* synced */
    { "synced", "3.res", E_SET, "00", 0, EP },
    { "synced", "3.res", E_SET, "04", 0, EP },
    { "synced", "3.res", E_SET, "c3", 0, EP },
    { "synced", "3.res", E_DEL, NULL, 0, EP },
    /* event and the object map */
    { "event", "3.type", E_SET, "00", 0, EP },
    { "event", "3.type", E_SET, "04", 0, EP },
    { "event", "3.type", E_DEL, NULL, 0, EP },
    { "event", "3.obj", E_SET, "c0", 0, EP },
    { "event", "3.obj", E_SET, "90", 0, EP },
    { "event", "3.obj", E_SET, "80", 0, EP },                         /* empty object */
    { "event", "3.obj", E_DEL, NULL, 0, EP },
    { "event", "3.obj", E_DUP, NULL, 0, EP },
    { "event", "3.obj.res", E_SET, "04", 0, EP },
    { "event", "3.obj.res", E_SET, "00", 0, EP },
    { "event", "3.obj.res", E_DEL, NULL, 0, EP },
    { "event", "3.obj.ns", E_DEL, NULL, 0, EP },
    { "event", "3.obj.name", E_DEL, NULL, 0, EP },
    { "event", "3.obj.ns", E_DUP, NULL, 0, EP },                      /* after a string was copied */
    { "event", "3.obj.json", E_DUP, NULL, 0, EP },
    { "event", "3.obj.uid", E_DEL, NULL, 0, 0 },
    { "event", "3.obj.json", E_DEL, NULL, 0, 0 },
    { "event", "3.obj.ns", E_SET, "a0", 0, 0 },                       /* "" is a namespace */
    { "event", "3.obj.ns", E_SET, "01", 0, EP },
    { "event", "3.obj.ns", E_SET, "c0", 0, EP },
    { "event", "3.obj.ns", E_SET, "c4 01 61", 0, EP },                /* bin only for json */
    { "event", "3.obj.ns", E_SET, "a3 61 00 62", 0, EP },             /* NUL inside */
    { "event", "3.obj.ns", E_SET, "a1 00", 0, EP },
    { "event", "3.obj.ns", E_SET, NULL, PROTO_MAX_NAME, 0 },
    { "event", "3.obj.ns", E_SET, NULL, PROTO_MAX_NAME + 1, EP },
    { "event", "3.obj.name", E_SET, NULL, PROTO_MAX_NAME + 1, EP },
    { "event", "3.obj.uid", E_SET, NULL, PROTO_MAX_SHORT, 0 },
    { "event", "3.obj.uid", E_SET, NULL, PROTO_MAX_SHORT + 1, EP },
    { "event", "3.obj.rv", E_SET, NULL, PROTO_MAX_SHORT + 1, EP },
    { "event", "3.obj.sns", E_SET, NULL, PROTO_MAX_NAME + 1, EP },
    { "event", "3.obj.sname", E_SET, NULL, PROTO_MAX_NAME + 1, EP },
    { "event", "3.obj.json", E_SET, NULL, PROTO_MAX_JSON, 0 },
    { "event", "3.obj.json", E_SET, NULL, PROTO_MAX_JSON + 1, EP },
    { "event", "3.obj.uid", E_SET, "c0", 0, EP },
    { "event", "3.obj.uid", E_SET, "d4 01 00", 0, EP },               /* ext */
    { "event", "3.obj.rv", E_SET, "cd 30 39", 0, EP },                /* rv as integer */
    { "event", "3.obj.json", E_SET, "c4 02 7b 7d", 0, 0 },            /* json as bin */
    { "event", "3.obj.json", E_SET, "c4 03 7b 00 7d", 0, EP },
    { "event", "3.obj.json", E_SET, "a3 7b 00 7d", 0, EP },
    { "event", "3.obj.json", E_SET, "80", 0, EP },
    { "event", "3.obj.gen", E_SET, "ff", 0, EP },
    { "event", "3.obj.gen", E_SET, "d3 ff ff ff ff ff ff ff ff", 0, EP },
    { "event", "3.obj.gen", E_SET, "cf 7f ff ff ff ff ff ff ff", 0, 0 },
    { "event", "3.obj.gen", E_SET, "cf 80 00 00 00 00 00 00 00", 0, EP },
    { "event", "3.obj.gen", E_SET, "a1 33", 0, EP },
    { "event", "3.obj.gen", E_DEL, NULL, 0, 0 },
    { "event", "3.obj.del", E_SET, "01", 0, EP },
    { "event", "3.obj.del", E_SET, "c0", 0, EP },
    { "event", "3.obj.del", E_SET, "c2", 0, 0 },
    { "event", "3.obj", E_ADD, "a5 66 75 74 75 72 a4 6e 65 77 21", 0, 0 },
    { "event", "3.obj", E_ADD, "c3 01", 0, EP },                      /* bool key */
    /* task */
    { "task", "3.ns", E_DEL, NULL, 0, EP },
    { "task", "3.name", E_DEL, NULL, 0, EP },
    { "task", "3.name", E_SET, NULL, PROTO_MAX_NAME + 1, EP },
    { "task", "3.att", E_DEL, NULL, 0, 0 },
    { "task", "3.att", E_SET, "cf 00 00 00 01 00 00 00 00", 0, EP },
    { "task", "3.att", E_SET, "ff", 0, EP },
    { "task", "3.verify", E_SET, "00", 0, EP },
    { "task", "3.verify", E_DEL, NULL, 0, 0 },
    { "task", "3.fh", E_DEL, NULL, 0, 0 },
    { "task", "3.secret", E_DEL, NULL, 0, 0 },
    { "task", "3.bundle", E_DEL, NULL, 0, 0 },
    { "task", "3.fh", E_SET, "90", 0, EP },
    { "task", "3.fh", E_SET, "c0", 0, EP },
    { "task", "3.fh", E_DUP, NULL, 0, EP },
    { "task", "3.fh.res", E_SET, "02", 0, EP },                       /* fh must be a FleetHandshake */
    { "task", "3.secret.res", E_SET, "01", 0, EP },
    { "task", "3.bundle.res", E_SET, "02", 0, EP },
    { "task", "3.fh.name", E_DEL, NULL, 0, EP },
    { "task", "3.bundle.ns", E_DEL, NULL, 0, EP },
    { "task", "3.bundle.bfrom", E_SET, NULL, PROTO_MAX_MESSAGE, 0 },
    { "task", "3.bundle.bfrom", E_SET, NULL, PROTO_MAX_MESSAGE + 1, EP },
    { "task", "3.bundle.ouid", E_SET, NULL, PROTO_MAX_SHORT + 1, EP },
    { "task", "3.bundle.oname", E_SET, NULL, PROTO_MAX_NAME + 1, EP },
    { "task", "3.bundle.oname", E_SET, "a2 00 00", 0, EP },
    { "task", "3.bundle", E_ADD, "a5 66 75 74 75 72 c3", 0, 0 },
    /* result */
    { "result", "3.out", E_SET, "00", 0, EP },
    { "result", "3.out", E_SET, "04", 0, EP },
    { "result", "3.out", E_DEL, NULL, 0, EP },
    { "result", "3.ns", E_DEL, NULL, 0, EP },
    { "result", "3.name", E_DEL, NULL, 0, EP },
    { "result", "3.err", E_SET, "08", 0, EP },
    { "result", "3.err", E_SET, "00", 0, 0 },
    { "result", "3.err", E_DEL, NULL, 0, 0 },
    { "result", "3.ra", E_SET, "ff", 0, EP },
    { "result", "3.ra", E_SET, "cf 00 00 00 01 00 00 00 00", 0, EP },
    { "result", "3.fhrv", E_SET, NULL, PROTO_MAX_SHORT + 1, EP },
    { "result", "3.brv", E_SET, NULL, PROTO_MAX_SHORT + 1, EP },
    { "result", "3.msg", E_SET, NULL, PROTO_MAX_MESSAGE, 0 },
    { "result", "3.msg", E_SET, NULL, PROTO_MAX_MESSAGE + 1, EP },
    { "result", "3.msg", E_SET, "a4 61 62 00 63", 0, EP },
    { "result", "3.msg", E_DEL, NULL, 0, 0 },
    { "result", "3.reads", E_SET, "a1 33", 0, EP },
    { "result", "3.writes", E_SET, "ca 3f 80 00 00", 0, EP },
    { "result", "3.writes", E_DUP, NULL, 0, EP },
    { "result", "3.ns", E_SET, "a0", 0, 0 },
};
#undef EP

/* put_raw - append raw bytes to the packer's buffer */
static void
put_raw(msgpack_packer *pk, const struct bytes *b)
{
    assert_int_equal(msgpack_sbuffer_write(pk->data, (const char *)b->p, b->n), 0);
}

/* put_value - write the E_SET replacement */
static void
put_value(msgpack_packer *pk, const struct edit *e)
{
    if (e->hex) {
        struct bytes b = hex_bytes(e->hex);

        put_raw(pk, &b);
        free(b.p);
    } else {
        char *s = malloc(e->slen);

        assert_non_null(s);
        memset(s, 'x', e->slen);
        assert_int_equal(msgpack_pack_str_with_body(pk, s, e->slen), 0);
        free(s);
    }
}

/* repack - re-encode object o (at path) applying edit e */
static void
repack(msgpack_packer *pk, const msgpack_object *o, const char *path, const struct edit *e)
{
    char child[256];

    if (e->op == E_SET && strcmp(path, e->path) == 0) {
        put_value(pk, e);
        return;
    }
    if (o->type == MSGPACK_OBJECT_ARRAY) {
        assert_int_equal(msgpack_pack_array(pk, o->via.array.size), 0);
        for (uint32_t i = 0; i < o->via.array.size; i++) {
            snprintf(child, sizeof(child), "%s%s%u", path, *path ? "." : "", i);
            repack(pk, &o->via.array.ptr[i], child, e);
        }
    } else if (o->type == MSGPACK_OBJECT_MAP) {
        size_t n = o->via.map.size;
        bool add = e->op == E_ADD && strcmp(path, e->path) == 0;

        for (uint32_t i = 0; i < o->via.map.size; i++) {
            const msgpack_object_str *k = &o->via.map.ptr[i].key.via.str;

            snprintf(child, sizeof(child), "%s.%.*s", path, (int)k->size, k->ptr);
            if (strcmp(child, e->path) == 0 && e->op == E_DEL)
                n--;
            if (strcmp(child, e->path) == 0 && e->op == E_DUP)
                n++;
        }
        assert_int_equal(msgpack_pack_map(pk, n + (add ? 1 : 0)), 0);
        for (uint32_t i = 0; i < o->via.map.size; i++) {
            const msgpack_object_kv *kv = &o->via.map.ptr[i];
            int times = 1;

            snprintf(child, sizeof(child), "%s.%.*s", path, (int)kv->key.via.str.size,
                     kv->key.via.str.ptr);
            if (strcmp(child, e->path) == 0 && e->op == E_DEL)
                times = 0;
            if (strcmp(child, e->path) == 0 && e->op == E_DUP)
                times = 2;
            for (int t = 0; t < times; t++) {
                assert_int_equal(msgpack_pack_object(pk, kv->key), 0);
                repack(pk, &kv->val, child, e);
            }
        }
        if (add) {
            struct bytes b = hex_bytes(e->hex);

            put_raw(pk, &b);
            free(b.p);
        }
    } else {
        assert_int_equal(msgpack_pack_object(pk, *o), 0);
    }
}

/* path_exists - whether the edit's path names something in the vector */
static bool
path_exists(const msgpack_object *o, const char *path, const char *want)
{
    char child[256];

    if (strcmp(path, want) == 0)
        return true;
    if (o->type == MSGPACK_OBJECT_ARRAY) {
        for (uint32_t i = 0; i < o->via.array.size; i++) {
            snprintf(child, sizeof(child), "%s%s%u", path, *path ? "." : "", i);
            if (path_exists(&o->via.array.ptr[i], child, want))
                return true;
        }
    } else if (o->type == MSGPACK_OBJECT_MAP) {
        for (uint32_t i = 0; i < o->via.map.size; i++) {
            const msgpack_object_kv *kv = &o->via.map.ptr[i];

            snprintf(child, sizeof(child), "%s.%.*s", path, (int)kv->key.via.str.size,
                     kv->key.via.str.ptr);
            if (path_exists(&kv->val, child, want))
                return true;
        }
    }
    return false;
}

static void
test_edit_corpus(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof(edits) / sizeof(edits[0]); i++) {
        const struct edit *e = &edits[i];
        struct bytes v = load_vector(e->vec);
        msgpack_unpacked u;
        msgpack_sbuffer sb;
        msgpack_packer pk;
        size_t off = 0;
        int rc;

        msgpack_unpacked_init(&u);
        assert_int_equal(msgpack_unpack_next(&u, (const char *)v.p, v.n, &off),
                         MSGPACK_UNPACK_SUCCESS);
        if (!path_exists(&u.data, "", e->path))
            fail_msg("edit %zu: path '%s' not in %s", i, e->path, e->vec);
        msgpack_sbuffer_init(&sb);
        msgpack_packer_init(&pk, &sb, msgpack_sbuffer_write);
        repack(&pk, &u.data, "", e);
        rc = decode_rc(sb.data, sb.size);
        if (rc != e->want)
            fail_msg("edit %zu (%s %s op %d %s len %zu): got %d want %d", i, e->vec, e->path,
                     (int)e->op, e->hex ? e->hex : "-", e->slen, rc, e->want);
        msgpack_sbuffer_destroy(&sb);
        msgpack_unpacked_destroy(&u);
        free(v.p);
    }
}

static void
test_nesting_and_declared_sizes(void **state)
{
    /* [1, 2, 7, {"x": <nested>}] with a body map of one unknown key */
    static const unsigned char head[] = { 0x94, 0x01, 0x02, 0x07, 0x81, 0xa1, 'x' };
    unsigned char buf[300];
    size_t n;

    (void)state;
    /* moderately nested unknown value: skipped */
    memcpy(buf, head, sizeof(head));
    n = sizeof(head);
    for (int i = 0; i < 8; i++)
        buf[n++] = 0x91;
    buf[n++] = 0xc0;
    assert_int_equal(decode_rc(buf, n), 0);

    /* 200 levels: rejected before msgpack-c sees it */
    n = sizeof(head);
    for (int i = 0; i < 200; i++)
        buf[n++] = 0x91;
    buf[n++] = 0xc0;
    assert_int_equal(decode_rc(buf, n), -FH_EPROTO);

    /* containers that declare far more elements than bytes exist */
    {
        static const char *const huge[] = {
            "94 01 02 07 dd ff ff ff ff",
            "94 01 02 07 df ff ff ff ff",
            "94 01 02 07 dc ff ff",
            "94 01 02 07 de ff ff 00",
            "94 01 02 07 81 a1 78 dd 00 ff ff ff 00 00",
            "dd 00 00 00 04 01 02 07 80",                 /* array32 envelope: valid */
            "94 01 02 07 81 a1 78 db ff ff ff ff 61",     /* str32 length overflow */
            "94 01 02 07 81 a1 78 c6 7f ff ff ff",        /* bin32 */
            "94 01 02 07 81 a1 78 c9 00 00 00 10 01",     /* ext32 */
            "94 01 02 07 81 a1 78 c1",                    /* never-used byte */
            "94 01 02 07 81 a1 78 d8 01 00",              /* short fixext16 */
        };
        for (size_t i = 0; i < sizeof(huge) / sizeof(huge[0]); i++) {
            struct bytes b = hex_bytes(huge[i]);
            int rc = decode_rc(b.p, b.n);

            /* the array32 envelope with the right count is a valid HEARTBEAT */
            assert_int_equal(rc, i == 5 ? 0 : -FH_EPROTO);
            free(b.p);
        }
    }
}

static void
test_frame_bounds(void **state)
{
    unsigned char *big;
    struct proto_msg d;

    (void)state;
    big = calloc(1, PROTO_MAX_FRAME + 1);
    assert_non_null(big);
    assert_int_equal(proto_decode(big, PROTO_MAX_FRAME + 1, &d), -FH_ETOOBIG);
    assert_int_equal(d.type, 0);
    assert_int_equal(proto_decode(big, PROTO_MAX_FRAME, &d), -FH_EPROTO);   /* 0x00 + zeros */
    free(big);
    assert_int_equal(proto_decode(NULL, 0, &d), -FH_EPROTO);
    assert_int_equal(proto_decode("", 0, &d), -FH_EPROTO);
    assert_int_equal(proto_decode("\x94", 1, NULL), -FH_EINVAL);
}

static void
test_random_bytes(void **state)
{
    uint64_t seed = 0x9e3779b97f4a7c15ull;
    unsigned char buf[96];
    int accepted = 0;

    (void)state;
    for (int it = 0; it < 4000; it++) {
        size_t n = xorshift64(&seed) % sizeof(buf);
        struct proto_msg d;
        int rc;

        for (size_t i = 0; i < n; i++)
            buf[i] = (unsigned char)xorshift64(&seed);
        /* half of the inputs start like an envelope, to get past the first checks */
        if ((it & 1) && n >= 4) {
            buf[0] = 0x94;
            buf[1] = 0x01;
            buf[2] = (unsigned char)(1 + xorshift64(&seed) % 7);
        }
        rc = proto_decode(buf, n, &d);
        assert_true(rc == 0 || rc == -FH_EPROTO);
        if (rc == 0)
            accepted++;
        proto_msg_clear(&d);
    }
    /* random bytes almost never form a valid message */
    assert_true(accepted < 400);
}

static void
test_mutated_vectors(void **state)
{
    uint64_t seed = 42;
    int accepted = 0, rejected = 0;

    (void)state;
    for (int it = 0; it < 6000; it++) {
        int t = PROTO_HELLO + (int)(xorshift64(&seed) % (PROTO_TYPE_MAX - 1));
        struct bytes v = load_vector(vector_names[t]);
        int flips = 1 + (int)(xorshift64(&seed) % 4);
        struct proto_msg d, again;
        char *buf = NULL;
        size_t len = 0;
        int rc;

        for (int f = 0; f < flips; f++) {
            size_t at = xorshift64(&seed) % v.n;

            if (xorshift64(&seed) & 1)
                v.p[at] ^= (unsigned char)(1u << (xorshift64(&seed) % 8));
            else
                v.p[at] = (unsigned char)xorshift64(&seed);
        }
        rc = proto_decode(v.p, v.n, &d);
        assert_true(rc == 0 || rc == -FH_EPROTO);
        if (rc == 0) {
            /* whatever the decoder accepts, the encoder accepts and reproduces */
            accepted++;
            assert_int_equal(proto_encode(&d, &buf, &len), 0);
            assert_int_equal(proto_decode(buf, len, &again), 0);
            assert_msg_eq(&d, &again);
            proto_msg_clear(&again);
            free(buf);
        } else {
            rejected++;
        }
        proto_msg_clear(&d);
        free(v.p);
    }
    /* both outcomes happen: string-content flips are valid, structure flips are not */
    assert_true(accepted > 0);
    assert_true(rejected > 0);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_golden_encode),
        cmocka_unit_test(test_golden_decode),
        cmocka_unit_test(test_encode_is_deterministic),
        cmocka_unit_test(test_roundtrip_full),
        cmocka_unit_test(test_roundtrip_optional_absent),
        cmocka_unit_test(test_roundtrip_absent_keys_not_written),
        cmocka_unit_test(test_roundtrip_extremes),
        cmocka_unit_test(test_encode_rejects_bad_input),
        cmocka_unit_test(test_obj_copy_and_clear),
        cmocka_unit_test(test_type_names),
        cmocka_unit_test(test_every_truncation_rejected),
        cmocka_unit_test(test_trailing_bytes_rejected),
        cmocka_unit_test(test_edit_corpus),
        cmocka_unit_test(test_nesting_and_declared_sizes),
        cmocka_unit_test(test_frame_bounds),
        cmocka_unit_test(test_random_bytes),
        cmocka_unit_test(test_mutated_vectors),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
