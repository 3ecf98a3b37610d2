/*
 * test_lease.c - leader election on a Lease (elector/lease*.c): MicroTime,
 * timing validation, default namespace, identity, the Lease JSON, and
 * client-go's tryAcquireOrRenew/acquire/renew/release driven by a scripted
 * clock against a small in-memory apiserver: kube_request is replaced (ld
 * --wrap) by __wrap_kube_request below, which stores one Lease with
 * resourceVersion checks (409 on a stale one, 422 without one) and can be
 * told to fail the next requests.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include <cmocka.h>
#include <cjson/cJSON.h>

#include "fh_err.h"
#include "fh_log.h"
#include "kube_client.h"
#include "lease.h"

#define NS "kube-system"
#define NAME "fleet-handshake-leader"
#define COLL "/apis/coordination.k8s.io/v1/namespaces/" NS "/leases"
#define PATH COLL "/" NAME
#define ME "node-a_00000000000000aa"
#define OTHER "node-b_00000000000000bb"
#define T0 1000000u                         /* monotonic ms at the start of every test */
#define W0 INT64_C(1750000000000000)        /* wall µs at T0: 2025-06-15T15:06:40Z */
#define W0_TEXT "2025-06-15T15:06:40.000000Z"

/* ---- the in-memory apiserver ------------------------------------------- */

#define MAXREQ 64

/* Test-only state shared with the wrapper (the mock has no other channel). */
static struct {
    char *lease;                /* stored Lease JSON, NULL = absent */
    unsigned rv;                /* last resourceVersion handed out */
    long force[8];              /* statuses for the next requests (0 = serve normally, -1 = no response) */
    size_t nforce, nextforce;
    bool down;                  /* every request fails without a response */
    size_t n;                   /* requests seen */
    char *method[MAXREQ], *path[MAXREQ], *body[MAXREQ];
} api;

/* api_reset - forget everything */
static void
api_reset(void)
{
    free(api.lease);
    for (size_t i = 0; i < MAXREQ; i++) {
        free(api.method[i]);
        free(api.path[i]);
        free(api.body[i]);
    }
    memset(&api, 0, sizeof(api));
}

/* status_body - a metav1.Status */
static char *
status_body(long code, const char *reason)
{
    char *s = NULL;

    assert_true(asprintf(&s, "{\"kind\":\"Status\",\"apiVersion\":\"v1\",\"status\":\"Failure\","
                         "\"message\":\"%s\",\"reason\":\"%s\",\"code\":%ld}", reason, reason, code) > 0);
    return s;
}

/* stamp - give obj the next resourceVersion and store it */
static void
stamp(cJSON *obj)
{
    cJSON *meta = cJSON_GetObjectItemCaseSensitive(obj, "metadata");
    char rv[16];

    snprintf(rv, sizeof(rv), "%u", ++api.rv);
    cJSON_DeleteItemFromObjectCaseSensitive(meta, "resourceVersion");
    cJSON_AddStringToObject(meta, "resourceVersion", rv);
    if (!cJSON_GetObjectItemCaseSensitive(meta, "uid"))
        cJSON_AddStringToObject(meta, "uid", "0b6c1c64-1c3e-4a53-9c52-0f5d2d9b3b8e");
    free(api.lease);
    api.lease = cJSON_PrintUnformatted(obj);
}

/* rv_of - metadata.resourceVersion of a Lease JSON, or NULL */
static const char *
rv_of(const cJSON *obj)
{
    const cJSON *rv = cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(obj, "metadata"),
                                                       "resourceVersion");

    return cJSON_IsString(rv) ? rv->valuestring : NULL;
}

/* serve - the apiserver's answer; fills resp */
static void
serve(const char *method, const char *path, const char *body, struct kube_response *resp)
{
    cJSON *in = body ? cJSON_Parse(body) : NULL;

    if (strcmp(method, "GET") == 0 && strcmp(path, PATH) == 0) {
        resp->status = api.lease ? 200 : 404;
        resp->body = api.lease ? strdup(api.lease) : status_body(404, "NotFound");
    } else if (strcmp(method, "POST") == 0 && strcmp(path, COLL) == 0) {
        assert_non_null(in);
        if (api.lease) {
            resp->status = 409;
            resp->body = status_body(409, "AlreadyExists");
        } else {
            stamp(in);
            resp->status = 201;
            resp->body = strdup(api.lease);
        }
    } else if (strcmp(method, "PUT") == 0 && strcmp(path, PATH) == 0) {
        cJSON *cur = api.lease ? cJSON_Parse(api.lease) : NULL;

        assert_non_null(in);
        if (!cur) {
            resp->status = 404;
            resp->body = status_body(404, "NotFound");
        } else if (!rv_of(in)) {
            resp->status = 422;
            resp->body = status_body(422, "Invalid");
        } else if (strcmp(rv_of(in), rv_of(cur)) != 0) {
            resp->status = 409;
            resp->body = status_body(409, "Conflict");
        } else {
            stamp(in);
            resp->status = 200;
            resp->body = strdup(api.lease);
        }
        cJSON_Delete(cur);
    } else {
        fail_msg("unexpected request %s %s", method, path);
    }
    cJSON_Delete(in);
}

int __wrap_kube_request(struct kube_client *c, const char *method, const char *path,
                        const char *accept, const char *content_type,
                        const char *body, size_t body_len, struct kube_response *resp);

int
__wrap_kube_request(struct kube_client *c, const char *method, const char *path,
                    const char *accept, const char *content_type,
                    const char *body, size_t body_len, struct kube_response *resp)
{
    long force = 0;

    (void)c;
    (void)accept;
    assert_true(api.n < MAXREQ);
    api.method[api.n] = strdup(method);
    api.path[api.n] = strdup(path);
    api.body[api.n] = body ? strndup(body, body_len) : NULL;
    api.n++;
    if (body)
        assert_string_equal(content_type, "application/json");
    memset(resp, 0, sizeof(*resp));
    resp->retry_after_s = -1;
    resp->attempts = 1;
    if (api.nextforce < api.nforce)
        force = api.force[api.nextforce++];
    if (api.down || force < 0)
        return -FH_EIO;
    if (force > 0) {
        resp->status = force;
        resp->body = status_body(force, force == 409 ? "Conflict" : "InternalError");
    } else {
        serve(method, path, body, resp);
    }
    if (resp->body)
        resp->body_len = strlen(resp->body);
    return 0;
}

/* put_lease - someone else writes the Lease (times as MicroTime text) */
static void
put_lease(const char *holder, int duration, const char *acquire, const char *renew, int transitions)
{
    cJSON *obj = NULL;
    char *json = NULL;

    assert_true(asprintf(&json,
        "{\"apiVersion\":\"coordination.k8s.io/v1\",\"kind\":\"Lease\","
        "\"metadata\":{\"name\":\"" NAME "\",\"namespace\":\"" NS "\",\"labels\":{\"keep\":\"me\"}},"
        "\"spec\":{\"holderIdentity\":\"%s\",\"leaseDurationSeconds\":%d,\"acquireTime\":\"%s\","
        "\"renewTime\":\"%s\",\"leaseTransitions\":%d}}", holder, duration, acquire, renew,
        transitions) > 0);
    obj = cJSON_Parse(json);
    assert_non_null(obj);
    stamp(obj);
    cJSON_Delete(obj);
    free(json);
}

/* stored - a field of the stored Lease's spec (*root keeps the parse alive) */
static const cJSON *
stored(cJSON **root, const char *field)
{
    cJSON_Delete(*root);
    *root = cJSON_Parse(api.lease);
    assert_non_null(*root);
    return cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(*root, "spec"), field);
}

/* sent - a field of the spec sent in request i */
static const cJSON *
sent(cJSON **root, size_t i, const char *field)
{
    assert_true(i < api.n);
    assert_non_null(api.body[i]);
    cJSON_Delete(*root);
    *root = cJSON_Parse(api.body[i]);
    assert_non_null(*root);
    return cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(*root, "spec"), field);
}

/* ---- fixtures ---------------------------------------------------------- */

struct fx {
    struct fh_log log;
    struct lease_elector *e;
};

/* elector - a new elector named id with the given timing (ms) */
static struct lease_elector *
elector(struct fx *f, const char *id, uint64_t lease_ms, uint64_t renew_ms, uint64_t retry_ms)
{
    struct lease_config c = { NS, NAME, id, { lease_ms, renew_ms, retry_ms } };
    struct lease_elector *e = NULL;

    assert_int_equal(lease_elector_new(&c, NULL, &f->log, 42, &e), 0);
    return e;
}

static int
setup(void **state)
{
    struct fx *f = calloc(1, sizeof(*f));

    assert_non_null(f);
    fh_log_init(&f->log, "test", FH_LOG_ERROR);
    f->log.fd = -1;                         /* the elector's log lines are not the subject */
    api_reset();
    *state = f;
    return 0;
}

static int
teardown(void **state)
{
    struct fx *f = *state;

    lease_elector_free(&f->e);
    api_reset();
    free(f);
    return 0;
}

/* ---- config, format, JSON ---------------------------------------------- */

static void
test_microtime(void **state)
{
    char out[LEASE_MICROTIME_CAP], tiny[27];

    (void)state;
    assert_int_equal(lease_microtime(W0 + 123456, out, sizeof(out)), 0);
    assert_string_equal(out, "2025-06-15T15:06:40.123456Z");
    assert_int_equal(lease_microtime(W0 + 5, out, sizeof(out)), 0);
    assert_string_equal(out, "2025-06-15T15:06:40.000005Z");        /* always six digits */
    assert_int_equal(lease_microtime(0, out, sizeof(out)), 0);
    assert_string_equal(out, "1970-01-01T00:00:00.000000Z");
    assert_int_equal(lease_microtime(INT64_C(951782400999999), out, sizeof(out)), 0);
    assert_string_equal(out, "2000-02-29T00:00:00.999999Z");
    assert_int_equal(lease_microtime(W0, tiny, sizeof(tiny)), -FH_ETOOBIG);   /* 27 chars need 28 */
    assert_string_equal(tiny, "");
    assert_int_equal(lease_microtime(-1, out, sizeof(out)), -FH_EINVAL);
}

static void
test_timing_check(void **state)
{
    struct lease_timing t;
    char why[256];

    (void)state;
    lease_timing_defaults(&t);
    assert_true(t.lease_ms == 15000 && t.renew_ms == 10000 && t.retry_ms == 2000);
    assert_int_equal(lease_timing_check(&t, why, sizeof(why)), 0);
    t = (struct lease_timing){ 4000, 3000, 1000 };                  /* the e2e tests' values */
    assert_int_equal(lease_timing_check(&t, why, sizeof(why)), 0);

    t = (struct lease_timing){ 10000, 10000, 2000 };                /* lease == renew */
    assert_int_equal(lease_timing_check(&t, why, sizeof(why)), -FH_EINVAL);
    assert_non_null(strstr(why, "--leader-elect-lease-duration"));
    assert_non_null(strstr(why, "--leader-elect-renew-deadline"));
    t = (struct lease_timing){ 15000, 2400, 2000 };                 /* renew == 1.2 x retry */
    assert_int_equal(lease_timing_check(&t, why, sizeof(why)), -FH_EINVAL);
    assert_non_null(strstr(why, "--leader-elect-retry-period"));
    t.renew_ms = 2401;
    assert_int_equal(lease_timing_check(&t, NULL, 0), 0);
    t = (struct lease_timing){ 15000, 10000, 0 };
    assert_int_equal(lease_timing_check(&t, why, sizeof(why)), -FH_EINVAL);
    t = (struct lease_timing){ 900, 500, 100 };                     /* under a second */
    assert_int_equal(lease_timing_check(&t, why, sizeof(why)), -FH_EINVAL);
    t = (struct lease_timing){ 15000, UINT64_MAX / 2, 2000 };       /* no overflow */
    assert_int_equal(lease_timing_check(&t, NULL, 0), -FH_EINVAL);
    assert_int_equal(lease_timing_check(NULL, NULL, 0), -FH_EINVAL);
}

static void
test_default_namespace(void **state)
{
    char path[] = "/tmp/fh-lease-ns-XXXXXX", out[64], tiny[4];
    int fd = mkstemp(path);

    (void)state;
    assert_true(fd >= 0);
    assert_int_equal(write(fd, "  team-ns\n", 10), 10);
    close(fd);
    assert_int_equal(lease_default_namespace(path, "ctx-ns", out, sizeof(out)), 0);
    assert_string_equal(out, "team-ns");                            /* in-cluster file first */
    assert_int_equal(lease_default_namespace(path, NULL, tiny, sizeof(tiny)), -FH_ETOOBIG);
    assert_int_equal(truncate(path, 0), 0);                         /* empty file: skipped */
    assert_int_equal(lease_default_namespace(path, "ctx-ns", out, sizeof(out)), 0);
    assert_string_equal(out, "ctx-ns");
    unlink(path);
    assert_int_equal(lease_default_namespace(path, "ctx-ns", out, sizeof(out)), 0);
    assert_string_equal(out, "ctx-ns");                             /* kubeconfig context */
    assert_int_equal(lease_default_namespace(path, "", out, sizeof(out)), 0);
    assert_string_equal(out, "default");
    assert_int_equal(lease_default_namespace(NULL, NULL, out, sizeof(out)), 0);
    assert_string_equal(out, "default");
}

static void
test_identity(void **state)
{
    char a[LEASE_IDENTITY_MAX + 1], b[LEASE_IDENTITY_MAX + 1], host[256] = "";
    const char *us;

    (void)state;
    assert_int_equal(lease_identity_make(a, sizeof(a)), 0);
    assert_int_equal(lease_identity_make(b, sizeof(b)), 0);
    assert_string_not_equal(a, b);                                  /* random part */
    us = strrchr(a, '_');
    assert_non_null(us);
    assert_int_equal(strlen(us + 1), 16);
    assert_int_equal(strspn(us + 1, "0123456789abcdef"), 16);
    gethostname(host, sizeof(host) - 1);
    if (host[0])
        assert_memory_equal(a, host, (size_t)(us - a));
    assert_int_equal(lease_identity_make(a, 10), -FH_ETOOBIG);
}

static void
test_record_json(void **state)
{
    static const char lease[] =
        "{\"apiVersion\":\"coordination.k8s.io/v1\",\"kind\":\"Lease\",\"metadata\":{\"name\":\"l\","
        "\"namespace\":\"ns\",\"resourceVersion\":\"2451\",\"labels\":{\"a\":\"b\"}},"
        "\"spec\":{\"holderIdentity\":\"op-1\",\"leaseDurationSeconds\":15,"
        "\"acquireTime\":\"2025-06-01T12:00:00.000000Z\",\"renewTime\":\"2025-06-01T12:03:18.412907Z\","
        "\"leaseTransitions\":3,\"strategy\":\"OldestEmulationVersion\"}}";
    cJSON *obj = cJSON_Parse(lease), *back = NULL, *bare = cJSON_Parse("{\"metadata\":{}}");
    struct lease_record r, r2, empty;
    char *body = NULL;

    (void)state;
    assert_int_equal(lease_record_from_json(obj, &r), 0);
    assert_string_equal(r.holder, "op-1");
    assert_true(r.duration_s == 15 && r.transitions == 3);
    assert_string_equal(r.acquire_time, "2025-06-01T12:00:00.000000Z");
    assert_string_equal(r.renew_time, "2025-06-01T12:03:18.412907Z");
    assert_int_equal(lease_record_copy(&r2, &r), 0);
    assert_true(lease_record_equal(&r, &r2));
    r2.transitions++;
    assert_false(lease_record_equal(&r, &r2));

    /* update body: metadata (resourceVersion, labels) kept, spec replaced whole */
    free(r2.holder);
    r2.holder = strdup("me");
    assert_int_equal(lease_body(obj, NULL, NULL, &r2, &body), 0);
    back = cJSON_Parse(body);
    assert_string_equal(cJSON_GetObjectItem(cJSON_GetObjectItem(back, "metadata"), "resourceVersion")->valuestring, "2451");
    assert_non_null(cJSON_GetObjectItem(cJSON_GetObjectItem(back, "metadata"), "labels"));
    assert_string_equal(cJSON_GetObjectItem(cJSON_GetObjectItem(back, "spec"), "holderIdentity")->valuestring, "me");
    assert_int_equal(cJSON_GetObjectItem(cJSON_GetObjectItem(back, "spec"), "leaseTransitions")->valueint, 4);
    assert_null(cJSON_GetObjectItem(cJSON_GetObjectItem(back, "spec"), "strategy"));
    cJSON_Delete(back);
    free(body);

    /* create body: a new Lease ns/name */
    assert_int_equal(lease_body(NULL, "ns", "l", &r2, &body), 0);
    back = cJSON_Parse(body);
    assert_string_equal(cJSON_GetObjectItem(back, "kind")->valuestring, "Lease");
    assert_string_equal(cJSON_GetObjectItem(back, "apiVersion")->valuestring, "coordination.k8s.io/v1");
    assert_string_equal(cJSON_GetObjectItem(cJSON_GetObjectItem(back, "metadata"), "namespace")->valuestring, "ns");
    assert_null(cJSON_GetObjectItem(cJSON_GetObjectItem(back, "metadata"), "resourceVersion"));
    cJSON_Delete(back);
    free(body);
    assert_int_equal(lease_body(NULL, NULL, "l", &r2, &body), -FH_EINVAL);

    /* absent spec: holder "" (not NULL), zeros; not an object: EBADREPLY */
    assert_int_equal(lease_record_from_json(bare, &empty), 0);
    assert_string_equal(empty.holder, "");
    assert_true(empty.duration_s == 0 && !empty.acquire_time && !empty.renew_time);
    lease_record_clear(&empty);
    lease_record_clear(&empty);                                     /* idempotent */
    assert_int_equal(lease_record_from_json(cJSON_GetObjectItem(obj, "kind"), &empty), -FH_EBADREPLY);
    lease_record_clear(&r);
    lease_record_clear(&r2);
    cJSON_Delete(obj);
    cJSON_Delete(bare);
}

static void
test_new_rejects_bad_config(void **state)
{
    struct fx *f = *state;
    struct lease_config c = { NS, NAME, ME, { 4000, 3000, 1000 } };
    struct lease_elector *e = (void *)&c;

    c.timing.renew_ms = 4000;
    assert_int_equal(lease_elector_new(&c, NULL, &f->log, 1, &e), -FH_EINVAL);
    assert_null(e);
    c.timing.renew_ms = 3000;
    c.identity = "";
    assert_int_equal(lease_elector_new(&c, NULL, &f->log, 1, &e), -FH_EINVAL);
    c.identity = ME;
    c.ns = "";
    assert_int_equal(lease_elector_new(&c, NULL, &f->log, 1, &e), -FH_EINVAL);
    assert_int_equal(lease_elector_new(NULL, NULL, &f->log, 1, &e), -FH_EINVAL);
    assert_int_equal(api.n, 0);
}

/* ---- the election ------------------------------------------------------ */

static void
test_acquire_when_absent(void **state)
{
    struct fx *f = *state;
    struct lease_status st;
    cJSON *j = NULL;

    f->e = elector(f, ME, 15000, 10000, 2000);
    assert_false(lease_leading(f->e));
    assert_int_equal(lease_step(f->e, T0, W0, &st), 0);
    assert_true(st.leading);
    assert_false(st.lost);
    assert_string_equal(st.holder, ME);
    assert_true(st.next_ms == T0 + 2000);                           /* renew every RetryPeriod */
    assert_int_equal(api.n, 2);
    assert_string_equal(api.method[0], "GET");
    assert_string_equal(api.method[1], "POST");
    assert_string_equal(api.path[1], COLL);
    assert_string_equal(sent(&j, 1, "holderIdentity")->valuestring, ME);
    assert_int_equal(sent(&j, 1, "leaseDurationSeconds")->valueint, 15);
    assert_string_equal(sent(&j, 1, "acquireTime")->valuestring, W0_TEXT);
    assert_string_equal(sent(&j, 1, "renewTime")->valuestring, W0_TEXT);
    assert_int_equal(sent(&j, 1, "leaseTransitions")->valueint, 0);
    assert_true(lease_leading(f->e));
    cJSON_Delete(j);
}

static void
test_create_race_lost(void **state)
{
    struct fx *f = *state;
    struct lease_status st;

    f->e = elector(f, ME, 15000, 10000, 2000);
    api.force[0] = 0;                                               /* GET: 404 */
    api.force[1] = 409;                                             /* POST: someone was faster */
    api.nforce = 2;
    assert_int_equal(lease_step(f->e, T0, W0, &st), 0);
    assert_false(st.leading);
    assert_null(st.holder);                                         /* nothing observed yet */
    assert_true(st.next_ms >= T0 + 2000 && st.next_ms <= T0 + 4400);
}

/* logged - what the elector logged at ERROR level into a memfd, for one step */
static char *
logged_step(struct fx *f, uint64_t now_ms, int64_t wall_us)
{
    struct lease_status st;
    char *text;
    off_t n;
    int fd = memfd_create("lease-log", 0);

    assert_true(fd >= 0);
    f->log.fd = fd;                 /* setup's level is ERROR: only errors get here */
    assert_int_equal(lease_step(f->e, now_ms, wall_us, &st), 0);
    assert_false(st.leading);
    f->log.fd = -1;
    n = lseek(fd, 0, SEEK_END);
    text = calloc(1, (size_t)n + 1);
    assert_non_null(text);
    assert_int_equal(pread(fd, text, (size_t)n, 0), n);
    close(fd);
    return text;
}

/* A Lease the RBAC rules do not let us create or update: an ERROR line that
 * names the verb, the Lease and the fix - never a quiet standby. */
static void
test_forbidden_is_an_error(void **state)
{
    struct fx *f = *state;
    char *text;

    f->e = elector(f, ME, 15000, 10000, 2000);
    api.force[0] = 0;                                               /* GET: 404 */
    api.force[1] = 403;                                             /* POST: no create rule */
    api.nforce = 2;
    text = logged_step(f, T0, W0);
    assert_non_null(strstr(text, "\"level\":\"error\""));
    assert_non_null(strstr(text, "cannot create lease " NS "/" NAME ": forbidden"));
    assert_non_null(strstr(text, "get, create and update on leases"));
    free(text);
    /* an expired Lease of someone else we may not update */
    put_lease(OTHER, 15, W0_TEXT, W0_TEXT, 3);
    api.nforce = api.nextforce = 0;
    text = logged_step(f, T0 + 2000, W0);           /* first sight: not expired yet */
    assert_string_equal(text, "");
    free(text);
    api.force[0] = 0;                                               /* GET */
    api.force[1] = 403;                                             /* PUT */
    api.nforce = 2;
    api.nextforce = 0;
    text = logged_step(f, T0 + 2000 + 16000, W0);
    assert_non_null(strstr(text, "cannot update lease " NS "/" NAME ": forbidden"));
    free(text);
    /* losing a race is not an error */
    api_reset();
    api.force[0] = 0;
    api.force[1] = 409;
    api.nforce = 2;
    lease_elector_free(&f->e);
    f->e = elector(f, ME, 15000, 10000, 2000);
    text = logged_step(f, T0, W0);
    assert_string_equal(text, "");
    free(text);
}

static void
test_held_and_fresh_not_acquired(void **state)
{
    struct fx *f = *state;
    struct lease_status st;
    bool held = true;

    put_lease(OTHER, 15, "2025-06-15T15:00:00.000000Z", "2025-06-15T15:06:39.000000Z", 2);
    f->e = elector(f, ME, 15000, 10000, 2000);
    assert_int_equal(lease_step(f->e, T0, W0, &st), 0);
    assert_false(st.leading);
    assert_string_equal(st.holder, OTHER);
    assert_int_equal(api.n, 1);                                     /* GET only: no write attempt */
    /* still held 14.999 s after we first saw it: never a write */
    assert_int_equal(lease_try_acquire_or_renew(f->e, T0 + 14999, W0 + 14999000, &held), 0);
    assert_false(held);
    assert_int_equal(api.n, 2);
    assert_string_equal(api.method[1], "GET");
}

static void
test_expiry_by_observed_time_not_renew_time(void **state)
{
    struct fx *f = *state;
    bool held = true;
    cJSON *j = NULL;

    /* a holder whose clock runs far ahead: renewTime in 2099 must not keep
     * the lease alive, and a renewTime in 1970 must not expire it */
    put_lease(OTHER, 15, "2099-01-01T00:00:00.000000Z", "2099-01-01T00:00:00.000000Z", 5);
    f->e = elector(f, ME, 15000, 10000, 2000);
    assert_int_equal(lease_try_acquire_or_renew(f->e, T0, W0, &held), 0);
    assert_false(held);                                             /* first seen now: valid 15 s */
    assert_int_equal(lease_try_acquire_or_renew(f->e, T0 + 14999, W0 + 14999000, &held), 0);
    assert_false(held);
    assert_int_equal(lease_try_acquire_or_renew(f->e, T0 + 15000, W0 + 15000000, &held), 0);
    assert_true(held);                                              /* unchanged for 15 s: expired */
    assert_string_equal(stored(&j, "holderIdentity")->valuestring, ME);
    assert_int_equal(stored(&j, "leaseTransitions")->valueint, 6);

    /* the converse: renewTime in the past, but the record just changed */
    lease_elector_free(&f->e);
    api_reset();
    put_lease(OTHER, 15, "1970-01-01T00:00:00.000000Z", "1970-01-01T00:00:01.000000Z", 0);
    f->e = elector(f, ME, 15000, 10000, 2000);
    assert_int_equal(lease_try_acquire_or_renew(f->e, T0, W0, &held), 0);
    assert_false(held);
    /* the holder renews at +10 s (the record changes): the clock restarts */
    put_lease(OTHER, 15, "1970-01-01T00:00:00.000000Z", "1970-01-01T00:00:11.000000Z", 0);
    assert_int_equal(lease_try_acquire_or_renew(f->e, T0 + 10000, W0 + 10000000, &held), 0);
    assert_false(held);
    assert_int_equal(lease_try_acquire_or_renew(f->e, T0 + 24999, W0 + 24999000, &held), 0);
    assert_false(held);                                             /* 15 s from +10 s, not from 0 */
    assert_int_equal(lease_try_acquire_or_renew(f->e, T0 + 25000, W0 + 25000000, &held), 0);
    assert_true(held);
    cJSON_Delete(j);
}

static void
test_renew_keeps_acquire_time_and_transitions(void **state)
{
    struct fx *f = *state;
    struct lease_status st;
    cJSON *j = NULL;
    size_t before;

    put_lease(OTHER, 4, "2025-06-15T15:00:00.000000Z", "2025-06-15T15:00:01.000000Z", 7);
    f->e = elector(f, ME, 4000, 3000, 1000);
    assert_int_equal(lease_step(f->e, T0, W0, &st), 0);
    assert_false(st.leading);
    assert_int_equal(lease_step(f->e, T0 + 4000, W0 + 4000000, &st), 0);    /* takeover */
    assert_true(st.leading);
    assert_string_equal(stored(&j, "acquireTime")->valuestring, "2025-06-15T15:06:44.000000Z");
    assert_int_equal(stored(&j, "leaseTransitions")->valueint, 8);
    before = api.n;
    assert_int_equal(lease_step(f->e, T0 + 5000, W0 + 5000123, &st), 0);    /* renew */
    assert_true(st.leading);
    assert_true(st.next_ms == T0 + 6000);
    assert_int_equal(api.n, before + 1);                            /* fast path: one PUT, no GET */
    assert_string_equal(api.method[before], "PUT");
    assert_string_equal(sent(&j, before, "acquireTime")->valuestring, "2025-06-15T15:06:44.000000Z");
    assert_string_equal(sent(&j, before, "renewTime")->valuestring, "2025-06-15T15:06:45.000123Z");
    assert_int_equal(sent(&j, before, "leaseTransitions")->valueint, 8);
    assert_string_equal(sent(&j, before, "holderIdentity")->valuestring, ME);
    /* the PUT carried the resourceVersion our last write produced */
    assert_non_null(strstr(api.body[before], "\"resourceVersion\":\"2\""));
    assert_non_null(strstr(api.body[before], "\"keep\":\"me\""));   /* fetched metadata kept */
    cJSON_Delete(j);
}

static void
test_takeover_increments_transitions(void **state)
{
    struct fx *f = *state;
    bool held = false;
    cJSON *j = NULL;

    put_lease(OTHER, 15, "2025-06-15T14:00:00.000000Z", "2025-06-15T14:10:00.000000Z", 3);
    f->e = elector(f, ME, 15000, 10000, 2000);
    assert_int_equal(lease_try_acquire_or_renew(f->e, T0, W0, &held), 0);
    assert_false(held);
    assert_int_equal(lease_try_acquire_or_renew(f->e, T0 + 15001, W0 + 15001000, &held), 0);
    assert_true(held);
    assert_string_equal(api.method[api.n - 1], "PUT");
    assert_string_equal(sent(&j, api.n - 1, "holderIdentity")->valuestring, ME);
    assert_int_equal(sent(&j, api.n - 1, "leaseTransitions")->valueint, 4);
    assert_string_equal(sent(&j, api.n - 1, "acquireTime")->valuestring, "2025-06-15T15:06:55.001000Z");
    assert_string_equal(sent(&j, api.n - 1, "renewTime")->valuestring, "2025-06-15T15:06:55.001000Z");
    assert_int_equal(sent(&j, api.n - 1, "leaseDurationSeconds")->valueint, 15);
    cJSON_Delete(j);
}

static void
test_conflict_on_update_not_leader(void **state)
{
    struct fx *f = *state;
    struct lease_status st;

    put_lease(OTHER, 4, "2025-06-15T15:00:00.000000Z", "2025-06-15T15:00:01.000000Z", 1);
    f->e = elector(f, ME, 4000, 3000, 1000);
    assert_int_equal(lease_step(f->e, T0, W0, &st), 0);
    api.force[0] = 0;                                               /* GET */
    api.force[1] = 409;                                             /* PUT: another candidate won */
    api.nforce = 2;
    assert_int_equal(lease_step(f->e, T0 + 4000, W0 + 4000000, &st), 0);
    assert_false(st.leading);
    assert_false(st.lost);
    assert_string_equal(api.method[api.n - 1], "PUT");
    assert_true(st.next_ms >= T0 + 5000 && st.next_ms <= T0 + 6200);  /* acquire loop, jittered */
    /* next round the lease (still expired, nobody renewed) is ours */
    assert_int_equal(lease_step(f->e, st.next_ms, W0 + 6000000, &st), 0);
    assert_true(st.leading);
}

static void
test_renew_deadline_exceeded_loses(void **state)
{
    struct fx *f = *state;
    struct lease_status st;
    size_t before;

    f->e = elector(f, ME, 4000, 3000, 1000);
    assert_int_equal(lease_step(f->e, T0, W0, &st), 0);
    assert_true(st.leading);
    api.down = true;                                                /* apiserver unreachable */
    before = api.n;
    assert_int_equal(lease_step(f->e, T0 + 1000, W0 + 1000000, &st), 0);
    assert_true(st.leading && !st.lost);
    assert_int_equal(api.n, before + 1);                            /* no GET after a transport error */
    assert_int_equal(lease_step(f->e, T0 + 2999, W0 + 2999000, &st), 0);
    assert_true(st.leading && !st.lost);                            /* within the renew deadline */
    assert_int_equal(lease_step(f->e, T0 + 3000, W0 + 3000000, &st), 0);
    assert_false(st.leading);
    assert_true(st.lost);
    assert_false(lease_leading(f->e));
    /* lost is not released: nothing is written (the caller stops and exits) */
    before = api.n;
    assert_int_equal(lease_release(f->e, T0 + 3001, W0 + 3001000), 0);
    assert_int_equal(api.n, before);
}

static void
test_renew_failures_within_deadline_recover(void **state)
{
    struct fx *f = *state;
    struct lease_status st;

    f->e = elector(f, ME, 4000, 3000, 1000);
    assert_int_equal(lease_step(f->e, T0, W0, &st), 0);
    api.force[0] = 500;                                             /* fast-path PUT */
    api.force[1] = 500;                                             /* GET */
    api.nforce = 2;
    assert_int_equal(lease_step(f->e, T0 + 1000, W0 + 1000000, &st), 0);
    assert_true(st.leading && !st.lost);
    assert_int_equal(lease_step(f->e, T0 + 2000, W0 + 2000000, &st), 0);
    assert_true(st.leading && !st.lost);
    /* the deadline counts from the last success, so a late failure is fine */
    api.force[2] = -1;
    api.nforce = 3;
    assert_int_equal(lease_step(f->e, T0 + 4500, W0 + 4500000, &st), 0);
    assert_true(st.leading && !st.lost);
}

static void
test_taken_over_loses_at_once(void **state)
{
    struct fx *f = *state;
    struct lease_status st;

    f->e = elector(f, ME, 4000, 3000, 1000);
    assert_int_equal(lease_step(f->e, T0, W0, &st), 0);
    assert_true(st.leading);
    /* someone overwrites the Lease (e.g. after a long pause of ours) */
    put_lease(OTHER, 4, "2025-06-15T15:06:41.000000Z", "2025-06-15T15:06:41.000000Z", 1);
    assert_int_equal(lease_step(f->e, T0 + 1000, W0 + 1000000, &st), 0);
    assert_true(st.lost);                                           /* well before the renew deadline */
    assert_false(st.leading);
    assert_string_equal(st.holder, OTHER);
    assert_string_equal(api.method[api.n - 2], "PUT");              /* fast path: 409 on the stale RV */
    assert_string_equal(api.method[api.n - 1], "GET");
}

static void
test_release_body_and_handover(void **state)
{
    struct fx *f = *state;
    struct lease_elector *standby = elector(f, OTHER, 15000, 10000, 2000);
    struct lease_status st;
    cJSON *j = NULL;
    size_t before;

    f->e = elector(f, ME, 15000, 10000, 2000);
    assert_int_equal(lease_step(f->e, T0, W0, &st), 0);
    assert_int_equal(lease_step(standby, T0 + 100, W0 + 100000, &st), 0);
    assert_false(st.leading);
    assert_string_equal(st.holder, ME);
    before = api.n;
    assert_int_equal(lease_release(f->e, T0 + 500, W0 + 500000), 0);
    assert_false(lease_leading(f->e));
    assert_int_equal(api.n, before + 1);
    assert_string_equal(api.method[before], "PUT");
    assert_string_equal(sent(&j, before, "holderIdentity")->valuestring, "");
    assert_int_equal(sent(&j, before, "leaseDurationSeconds")->valueint, 1);
    assert_string_equal(sent(&j, before, "acquireTime")->valuestring, "2025-06-15T15:06:40.500000Z");
    assert_string_equal(sent(&j, before, "renewTime")->valuestring, "2025-06-15T15:06:40.500000Z");
    assert_int_equal(sent(&j, before, "leaseTransitions")->valueint, 0);
    assert_non_null(strstr(api.body[before], "\"resourceVersion\""));
    /* releasing twice writes nothing */
    assert_int_equal(lease_release(f->e, T0 + 600, W0 + 600000), 0);
    assert_int_equal(api.n, before + 1);
    /* the standby takes over at its next round, long before 15 s */
    assert_int_equal(lease_step(standby, T0 + 2100, W0 + 2100000, &st), 0);
    assert_true(st.leading);
    assert_string_equal(stored(&j, "holderIdentity")->valuestring, OTHER);
    assert_int_equal(stored(&j, "leaseTransitions")->valueint, 1);
    lease_elector_free(&standby);
    cJSON_Delete(j);
}

static void
test_restart_with_same_identity_resumes(void **state)
{
    struct fx *f = *state;
    struct lease_status st;
    cJSON *j = NULL;

    f->e = elector(f, ME, 15000, 10000, 2000);
    assert_int_equal(lease_step(f->e, T0, W0, &st), 0);
    lease_elector_free(&f->e);                                      /* the elector process restarts */
    f->e = elector(f, ME, 15000, 10000, 2000);
    assert_int_equal(lease_step(f->e, T0 + 700, W0 + 700000, &st), 0);
    assert_true(st.leading);                                        /* no wait for expiry */
    assert_string_equal(stored(&j, "acquireTime")->valuestring, W0_TEXT);
    assert_int_equal(stored(&j, "leaseTransitions")->valueint, 0);  /* not a transition */
    cJSON_Delete(j);
}

static void
test_standby_jitter_bounds(void **state)
{
    struct fx *f = *state;
    struct lease_status st;
    uint64_t now = T0, lo = UINT64_MAX, hi = 0;

    put_lease(OTHER, 3600, "2025-06-15T15:00:00.000000Z", "2025-06-15T15:00:00.000000Z", 0);
    f->e = elector(f, ME, 15000, 10000, 2000);
    for (int i = 0; i < 40; i++) {
        uint64_t wait;

        assert_int_equal(lease_step(f->e, now, W0 + (int64_t)(now - T0) * 1000, &st), 0);
        assert_false(st.leading);
        wait = st.next_ms - now;
        assert_true(wait >= 2000 && wait <= 4400);                  /* RetryPeriod x [1, 2.2] */
        lo = wait < lo ? wait : lo;
        hi = wait > hi ? wait : hi;
        now = st.next_ms;
    }
    assert_true(hi - lo > 500);                                     /* it does jitter */
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_microtime),
        cmocka_unit_test(test_timing_check),
        cmocka_unit_test(test_default_namespace),
        cmocka_unit_test(test_identity),
        cmocka_unit_test(test_record_json),
        cmocka_unit_test_setup_teardown(test_new_rejects_bad_config, setup, teardown),
        cmocka_unit_test_setup_teardown(test_acquire_when_absent, setup, teardown),
        cmocka_unit_test_setup_teardown(test_create_race_lost, setup, teardown),
        cmocka_unit_test_setup_teardown(test_forbidden_is_an_error, setup, teardown),
        cmocka_unit_test_setup_teardown(test_held_and_fresh_not_acquired, setup, teardown),
        cmocka_unit_test_setup_teardown(test_expiry_by_observed_time_not_renew_time, setup, teardown),
        cmocka_unit_test_setup_teardown(test_renew_keeps_acquire_time_and_transitions, setup, teardown),
        cmocka_unit_test_setup_teardown(test_takeover_increments_transitions, setup, teardown),
        cmocka_unit_test_setup_teardown(test_conflict_on_update_not_leader, setup, teardown),
        cmocka_unit_test_setup_teardown(test_renew_deadline_exceeded_loses, setup, teardown),
        cmocka_unit_test_setup_teardown(test_renew_failures_within_deadline_recover, setup, teardown),
        cmocka_unit_test_setup_teardown(test_taken_over_loses_at_once, setup, teardown),
        cmocka_unit_test_setup_teardown(test_release_body_and_handover, setup, teardown),
        cmocka_unit_test_setup_teardown(test_restart_with_same_identity_resumes, setup, teardown),
        cmocka_unit_test_setup_teardown(test_standby_jitter_bounds, setup, teardown),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
