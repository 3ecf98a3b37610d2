/* test_reconcile.c - reconcile_task against a scripted apiserver: the exact
 * sequence of calls for each situation, what the writes carry, the outcome
 * reported, and that the Secret never shows up anywhere but a Bundle write.
 * kube_request is replaced (ld --wrap) by __wrap_kube_request below. */
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

#include "bundle.h"
#include "fh_err.h"
#include "fh_log.h"
#include "fh_spec.h"
#include "kube_client.h"
#include "proto.h"
#include "reconcile.h"
#include "secret_mem.h"

#define NOW 1750000000u
#define FH_UID "fh-uid-1"
#define PLAIN1 "s3cr3t-P@ssw0rd-xyz"
#define B64_1 "czNjcjN0LVBAc3N3MHJkLXh5eg=="
#define PLAIN2 "n3w-s3cr3t-value-42"
#define B64_2 "bjN3LXMzY3IzdC12YWx1ZS00Mg=="

#define SECRET_PATH "/api/v1/namespaces/default/secrets/db-creds"
#define BUNDLES "/apis/fleet.cattle.io/v1alpha1/namespaces/fleet-default/bundles"
#define BUNDLE BUNDLES "/fh1"
#define STATUS "/apis/riverpointtechnology.com/v1alpha1/namespaces/fleet-default/fleethandshakes/fh1/status"

#define ST(code, reason, msg) "{\"kind\":\"Status\",\"apiVersion\":\"v1\",\"metadata\":{},\"status\":\"Failure\"," \
    "\"message\":\"" msg "\",\"reason\":\"" reason "\",\"code\":" #code "}"
#define CONFLICT ST(409, "Conflict", "Operation cannot be fulfilled on bundles.fleet.cattle.io \\\"fh1\\\": the object has been modified; please apply your changes to the latest version and try again")
#define EXISTS ST(409, "AlreadyExists", "bundles.fleet.cattle.io \\\"fh1\\\" already exists")
#define NOTFOUND ST(404, "NotFound", "not found")
#define FORBIDDEN ST(403, "Forbidden", "secrets \\\"db-creds\\\" is forbidden: User \\\"system:serviceaccount:fh:fh\\\" cannot get resource \\\"secrets\\\" in API group \\\"\\\" in the namespace \\\"default\\\"")
#define REPLY_RV(rv) "{\"kind\":\"Bundle\",\"metadata\":{\"name\":\"fh1\",\"resourceVersion\":\"" rv "\",\"generation\":1}}"
#define FH_REPLY "{\"kind\":\"FleetHandshake\",\"metadata\":{\"name\":\"fh1\",\"resourceVersion\":\"77\"}}"
#define FH_PATH "/apis/riverpointtechnology.com/v1alpha1/namespaces/fleet-default/fleethandshakes/fh1"
#define FH_LIVE(extra) "{\"kind\":\"FleetHandshake\",\"metadata\":{\"name\":\"fh1\",\"namespace\":" \
    "\"fleet-default\",\"uid\":\"" FH_UID "\",\"resourceVersion\":\"70\"" extra "}}"

/* ---- the scripted apiserver ------------------------------------------- */

struct call {
    const char *method;
    const char *path;
    long status;            /* 0 with rc < 0: no response */
    const char *body;       /* reply body, may be NULL */
    long retry_after;       /* 0 = header absent */
    int rc;                 /* kube_request's return */
};

#define MAXCALLS 16

/* Test-only state shared with the wrapper (the mock has no other channel). */
static struct {
    const struct call *calls;
    size_t n, next;
    char *method[MAXCALLS];
    char *req[MAXCALLS];
    size_t req_len[MAXCALLS];
    char *ctype[MAXCALLS];
    const char *const *warnings;    /* Warning header per call, may be NULL */
} fake;

int __wrap_kube_request(struct kube_client *c, const char *method, const char *path,
                        const char *accept, const char *content_type,
                        const char *body, size_t body_len, struct kube_response *resp);

int
__wrap_kube_request(struct kube_client *c, const char *method, const char *path,
                    const char *accept, const char *content_type,
                    const char *body, size_t body_len, struct kube_response *resp)
{
    const struct call *e;
    size_t i = fake.next;

    (void)c;
    (void)accept;
    if (i >= fake.n)
        fail_msg("unexpected call %zu: %s %s", i, method, path);
    e = &fake.calls[i];
    if (strcmp(method, e->method) != 0 || strcmp(path, e->path) != 0)
        fail_msg("call %zu: got %s %s, want %s %s", i, method, path, e->method, e->path);
    fake.method[i] = strdup(method);
    fake.req[i] = body ? strndup(body, body_len) : NULL;
    fake.req_len[i] = body_len;
    fake.ctype[i] = content_type ? strdup(content_type) : NULL;
    fake.next++;
    memset(resp, 0, sizeof(*resp));
    resp->status = e->status;
    resp->retry_after_s = e->retry_after ? e->retry_after : -1;
    resp->attempts = 1;
    if (e->body) {
        resp->body = strdup(e->body);
        resp->body_len = strlen(e->body);
    }
    if (fake.warnings && fake.warnings[i])
        resp->warning = strdup(fake.warnings[i]);
    return e->rc;
}

/* fake_reset - forget captured requests */
static void
fake_reset(void)
{
    for (size_t i = 0; i < MAXCALLS; i++) {
        free(fake.method[i]);
        free(fake.req[i]);
        free(fake.ctype[i]);
    }
    memset(&fake, 0, sizeof(fake));
}

/* ---- fixtures ---------------------------------------------------------- */

struct env {
    struct proto_task task;
    char *fh_json;
    struct proto_result res;
    struct fh_log log;
    int logfd;
    char *logtext;
    uint64_t now;           /* wall clock for this run; 0 = NOW */
    const char *const *namespaces;  /* watched namespaces; nns 0 = all */
    size_t nns;
    bool crd_warned;                /* reconcile_opts.crd_warned */
    const char *const *warnings;    /* Warning header per scripted call, may be NULL */
};

/* fh_json - a FleetHandshake; status_obj is the JSON of .status or NULL */
static char *
fh_json(int64_t gen, const char *targets, const char *status_obj, const char *extra_spec)
{
    char *s = NULL;

    assert_true(asprintf(&s,
        "{\"apiVersion\":\"riverpointtechnology.com/v1alpha1\",\"kind\":\"FleetHandshake\","
        "\"metadata\":{\"name\":\"fh1\",\"namespace\":\"fleet-default\",\"uid\":\"" FH_UID "\","
        "\"generation\":%lld,\"resourceVersion\":\"70\"},"
        "\"spec\":{\"secretName\":\"db-creds\",\"secretNamespace\":\"default\","
        "\"targetNamespace\":\"target-ns\",\"targets\":%s%s}%s%s}",
        (long long)gen, targets ? targets : "[{\"clusterName\":\"c1\"}]", extra_spec ? extra_spec : "",
        status_obj ? ",\"status\":" : "", status_obj ? status_obj : "") > 0);
    return s;
}

/* secret_json - the Secret as the apiserver returns it */
static char *
secret_json(const char *rv, const char *b64)
{
    char *s = NULL;

    assert_true(asprintf(&s,
        "{\"apiVersion\":\"v1\",\"kind\":\"Secret\",\"metadata\":{\"name\":\"db-creds\","
        "\"namespace\":\"default\",\"uid\":\"sec-uid-1\",\"resourceVersion\":\"%s\"},"
        "\"type\":\"Opaque\",\"data\":{\"password\":\"%s\"}}", rv, b64) > 0);
    return s;
}

/* env_init - a task for fh1 with the given FleetHandshake JSON (owned by env) */
static void
env_init(struct env *e, char *fh)
{
    memset(e, 0, sizeof(*e));
    e->fh_json = fh;
    e->task.ns = "fleet-default";
    e->task.name = "fh1";
    e->task.has_fh = fh != NULL;
    e->task.fh.res = PROTO_RES_FH;
    e->task.fh.ns = "fleet-default";
    e->task.fh.name = "fh1";
    e->task.fh.uid = FH_UID;
    e->task.fh.json = fh;
    fh_log_init(&e->log, "worker.0", FH_LOG_DEBUG);
    e->logfd = memfd_create("log", 0);
    assert_true(e->logfd >= 0);
    e->log.fd = e->logfd;
}

/* with_secret - the watcher has seen the Secret at rv */
static void
with_secret(struct env *e, const char *rv)
{
    e->task.has_secret = true;
    e->task.secret.res = PROTO_RES_SECRET;
    e->task.secret.ns = "default";
    e->task.secret.name = "db-creds";
    e->task.secret.uid = "sec-uid-1";
    e->task.secret.rv = (char *)rv;
}

/* with_bundle - the watcher has seen a Bundle fh1 */
static void
with_bundle(struct env *e, const char *rv, const char *owner_uid, const char *built_from)
{
    e->task.has_bundle = true;
    e->task.bundle.res = PROTO_RES_BUNDLE;
    e->task.bundle.ns = "fleet-default";
    e->task.bundle.name = "fh1";
    e->task.bundle.uid = "b-uid-1";
    e->task.bundle.rv = (char *)rv;
    e->task.bundle.generation = 1;      /* what REPLY_RV answers after our writes */
    e->task.bundle.owner_uid = (char *)owner_uid;
    e->task.bundle.owner_name = owner_uid ? "fh1" : NULL;
    e->task.bundle.built_from = (char *)built_from;
}

/* assert_clean - no Secret value in s */
static void
assert_clean(const char *what, const char *s, size_t n)
{
    static const char *const needles[] = { PLAIN1, B64_1, PLAIN2, B64_2 };

    if (!s)
        return;
    for (size_t i = 0; i < sizeof(needles) / sizeof(needles[0]); i++) {
        if (memmem(s, n, needles[i], strlen(needles[i])))
            fail_msg("%s contains Secret data: %.300s", what, s);
    }
}

/* is_bundle_write - call i is a POST or PATCH of the Bundle */
static bool
is_bundle_write(size_t i)
{
    return (strcmp(fake.method[i], "POST") == 0 && strcmp(fake.calls[i].path, BUNDLES) == 0)
           || (strcmp(fake.method[i], "PATCH") == 0 && strcmp(fake.calls[i].path, BUNDLE) == 0);
}

/* run - reconcile with the scripted calls; every call must be used, and no
 * Secret value may appear outside a Bundle write */
static void
run(struct env *e, const struct call *calls, size_t n)
{
    struct reconcile_opts o = { e->namespaces, e->nns, &e->crd_warned };
    off_t sz;

    fake_reset();
    fake.calls = calls;
    fake.n = n;
    fake.warnings = e->warnings;
    assert_int_equal(reconcile_task_ex(NULL, &e->task, &e->log, e->now ? e->now : NOW, &o,
                                       &e->res), 0);
    if (fake.next != n)
        fail_msg("only %zu of %zu expected calls made", fake.next, n);
    assert_non_null(e->res.ns);
    assert_string_equal(e->res.ns, "fleet-default");
    assert_string_equal(e->res.name, "fh1");
    assert_non_null(e->res.message);
    assert_true(strlen(e->res.message) < PROTO_MAX_MESSAGE);
    for (size_t i = 0; i < n; i++) {
        if (is_bundle_write(i))
            continue;
        assert_clean(calls[i].path, fake.req[i], fake.req_len[i]);
    }
    assert_clean("result message", e->res.message, strlen(e->res.message));
    sz = lseek(e->logfd, 0, SEEK_END);
    e->logtext = calloc(1, (size_t)sz + 1);
    assert_int_equal(pread(e->logfd, e->logtext, (size_t)sz, 0), sz);
    assert_clean("log", e->logtext, (size_t)sz);
    /* counters match what was sent */
    {
        uint32_t r = 0, w = 0;

        for (size_t i = 0; i < n; i++)
            strcmp(calls[i].method, "GET") == 0 ? r++ : w++;
        assert_int_equal(e->res.api_reads, r);
        assert_int_equal(e->res.api_writes, w);
    }
}

/* env_clear - free what a test made */
static void
env_clear(struct env *e)
{
    free(e->res.ns);
    free(e->res.name);
    free(e->res.message);
    free(e->res.fh_rv);
    free(e->res.bundle_rv);
    free(e->fh_json);
    free(e->logtext);
    close(e->logfd);
    fake_reset();
    memset(e, 0, sizeof(*e));
}

/* body_json - parse captured request i */
static cJSON *
body_json(size_t i)
{
    cJSON *j;

    assert_non_null(fake.req[i]);
    j = cJSON_Parse(fake.req[i]);
    assert_non_null(j);
    return j;
}

/* jget - nested lookup by a dotted path of object keys ("a.b.c") */
static const cJSON *
jget(const cJSON *o, const char *dotted)
{
    char buf[256], *save = NULL, *tok;

    snprintf(buf, sizeof(buf), "%s", dotted);
    for (tok = strtok_r(buf, ".", &save); tok && o; tok = strtok_r(NULL, ".", &save))
        o = cJSON_GetObjectItemCaseSensitive(o, tok);
    return o;
}

/* jstr - string at a dotted path, or "" */
static const char *
jstr(const cJSON *o, const char *dotted)
{
    o = jget(o, dotted);
    return cJSON_IsString(o) ? o->valuestring : "";
}

/* ready - the Ready condition of a status patch */
static const cJSON *
ready(const cJSON *patch)
{
    return cJSON_GetArrayItem(jget(patch, "status.conditions"), 0);
}

/* status_of - the .status object of captured request i as compact JSON */
static char *
status_of(size_t i)
{
    cJSON *j = body_json(i);
    char *s = cJSON_PrintUnformatted(cJSON_GetObjectItemCaseSensitive(j, "status"));

    cJSON_Delete(j);
    return s;
}

/* live_bundle - a Bundle as the apiserver would return it: built from the
 * FleetHandshake JSON and Secret JSON, with Fleet's defaults; mutate may edit it */
static char *
live_bundle(const char *fhj, const char *secj, const char *rv, void (*mutate)(cJSON *))
{
    struct fh_spec fh;
    cJSON *sec = cJSON_Parse(secj), *b = NULL, *md;
    char *out;

    assert_int_equal(fh_spec_parse(fhj, &fh), 0);
    assert_int_equal(bundle_build(&fh, sec, &b), 0);
    md = cJSON_GetObjectItemCaseSensitive(b, "metadata");
    cJSON_AddStringToObject(md, "resourceVersion", rv);
    cJSON_AddStringToObject(md, "uid", "b-uid-1");
    cJSON_AddStringToObject(cJSON_GetObjectItemCaseSensitive(b, "spec"), "targetCustomizationMode", "FirstMatch");
    cJSON_AddItemToObject(b, "status", cJSON_Parse("{\"summary\":{\"ready\":1}}"));
    if (mutate)
        mutate(b);
    out = cJSON_PrintUnformatted(b);
    secret_json_free(&b);
    secret_json_free(&sec);
    fh_spec_clear(&fh);
    return out;
}

#define EARLIER (NOW - 86400u)

/* first_sync_status - run a first sync a day before NOW and return the
 * status it wrote */
static char *
first_sync_status(void)
{
    struct env e;
    char *sec = secret_json("500", B64_1), *st;
    const struct call calls[] = {
        { "GET", SECRET_PATH, 200, sec, 0, 0 },
        { "POST", BUNDLES, 201, REPLY_RV("900"), 0, 0 },
        { "PATCH", STATUS, 200, FH_REPLY, 0, 0 },
    };

    env_init(&e, fh_json(1, NULL, NULL, NULL));
    e.now = EARLIER;
    with_secret(&e, "500");
    run(&e, calls, 3);
    st = status_of(2);
    env_clear(&e);
    free(sec);
    return st;
}

#define BUILT_500 FH_UID "/1/sec-uid-1/500/v1"

/* ---- tests -------------------------------------------------------------- */

static void
test_first_sync(void **state)
{
    struct env e;
    char *sec = secret_json("500", B64_1);
    const struct call calls[] = {
        { "GET", SECRET_PATH, 200, sec, 0, 0 },
        { "POST", BUNDLES, 201, REPLY_RV("900"), 0, 0 },
        { "PATCH", STATUS, 200, FH_REPLY, 0, 0 },
    };
    cJSON *b, *m, *s;
    const cJSON *ref;
    char now[32];

    (void)state;
    env_init(&e, fh_json(1, NULL, NULL, NULL));
    with_secret(&e, "500");
    run(&e, calls, 3);
    assert_int_equal(e.res.outcome, PROTO_OUT_DONE);
    assert_int_equal(e.res.errclass, PROTO_ERR_NONE);
    assert_string_equal(e.res.bundle_rv, "900");
    assert_string_equal(e.res.fh_rv, "77");
    assert_string_equal(fake.ctype[1], "application/json");
    assert_string_equal(fake.ctype[2], "application/merge-patch+json");

    b = body_json(1);
    assert_string_equal(jstr(b, "apiVersion"), "fleet.cattle.io/v1alpha1");
    assert_string_equal(jstr(b, "kind"), "Bundle");
    assert_string_equal(jstr(b, "metadata.name"), "fh1");
    assert_string_equal(jstr(b, "metadata.namespace"), "fleet-default");
    assert_string_equal(cJSON_GetObjectItemCaseSensitive(jget(b, "metadata.labels"), "app.kubernetes.io/managed-by")->valuestring, "fleet-handshake");
    assert_string_equal(cJSON_GetObjectItemCaseSensitive(jget(b, "metadata.labels"), "fleethandshake.riverpointtechnology.com/name")->valuestring, "fh1");
    assert_string_equal(cJSON_GetObjectItemCaseSensitive(jget(b, "metadata.annotations"), "fleethandshake.riverpointtechnology.com/built-from")->valuestring, BUILT_500);
    assert_int_equal(cJSON_GetArraySize(jget(b, "metadata.ownerReferences")), 1);
    ref = cJSON_GetArrayItem(jget(b, "metadata.ownerReferences"), 0);
    assert_string_equal(jstr(ref, "apiVersion"), "riverpointtechnology.com/v1alpha1");
    assert_string_equal(jstr(ref, "kind"), "FleetHandshake");
    assert_string_equal(jstr(ref, "name"), "fh1");
    assert_string_equal(jstr(ref, "uid"), FH_UID);
    assert_true(cJSON_IsTrue(jget(ref, "controller")));
    assert_true(cJSON_IsTrue(jget(ref, "blockOwnerDeletion")));
    assert_string_equal(jstr(b, "spec.defaultNamespace"), "target-ns");
    assert_string_equal(jstr(cJSON_GetArrayItem(jget(b, "spec.targets"), 0), "clusterName"), "c1");
    assert_string_equal(jstr(cJSON_GetArrayItem(jget(b, "spec.resources"), 0), "name"), "db-creds.json");
    m = cJSON_Parse(jstr(cJSON_GetArrayItem(jget(b, "spec.resources"), 0), "content"));
    assert_non_null(m);
    assert_string_equal(jstr(m, "metadata.namespace"), "target-ns");
    assert_string_equal(jstr(m, "metadata.name"), "db-creds");
    assert_string_equal(jstr(m, "data.password"), B64_1);
    secret_json_free(&m);
    secret_json_free(&b);

    s = body_json(2);
    fh_time_rfc3339(NOW, now, sizeof(now));
    assert_string_equal(jstr(s, "status.status"), "Synced");
    assert_int_equal(jget(s, "status.observedGeneration")->valueint, 1);
    assert_string_equal(jstr(s, "status.bundleName"), "fh1");
    assert_string_equal(jstr(s, "status.secretResourceVersion"), "500");
    assert_string_equal(jstr(s, "status.lastSyncTime"), now);
    assert_string_equal(jstr(ready(s), "type"), "Ready");
    assert_string_equal(jstr(ready(s), "status"), "True");
    assert_string_equal(jstr(ready(s), "reason"), "Synced");
    assert_string_equal(jstr(ready(s), "lastTransitionTime"), now);
    assert_int_equal(jget(ready(s), "observedGeneration")->valueint, 1);
    cJSON_Delete(s);
    env_clear(&e);
    free(sec);
}

static void
test_nothing_changed_no_calls(void **state)
{
    struct env e;
    char *st = first_sync_status();

    (void)state;
    /* a restart: the cache shows our Bundle built from these inputs and the
     * status we wrote */
    env_init(&e, fh_json(1, NULL, st, NULL));
    with_secret(&e, "500");
    with_bundle(&e, "900", FH_UID, BUILT_500);
    run(&e, NULL, 0);
    assert_int_equal(e.res.outcome, PROTO_OUT_DONE);
    assert_null(e.res.fh_rv);
    assert_null(e.res.bundle_rv);
    env_clear(&e);
    free(st);
}

static void
test_secret_changed(void **state)
{
    struct env e;
    char *st = first_sync_status();
    char *sec = secret_json("501", B64_2);
    const struct call calls[] = {
        { "GET", SECRET_PATH, 200, sec, 0, 0 },
        { "PATCH", BUNDLE, 200, REPLY_RV("901"), 0, 0 },
        { "PATCH", STATUS, 200, FH_REPLY, 0, 0 },
    };
    cJSON *p, *s, *m;
    char then[32], now[32];

    (void)state;
    env_init(&e, fh_json(1, NULL, st, NULL));
    with_secret(&e, "501");
    with_bundle(&e, "900", FH_UID, BUILT_500);
    run(&e, calls, 3);
    assert_int_equal(e.res.outcome, PROTO_OUT_DONE);
    assert_string_equal(e.res.bundle_rv, "901");
    assert_string_equal(fake.ctype[1], "application/merge-patch+json");
    p = body_json(1);
    assert_string_equal(jstr(p, "metadata.resourceVersion"), "900");
    assert_string_equal(cJSON_GetObjectItemCaseSensitive(jget(p, "metadata.annotations"), "fleethandshake.riverpointtechnology.com/built-from")->valuestring,
                        FH_UID "/1/sec-uid-1/501/v1");
    assert_null(jget(p, "apiVersion"));
    m = cJSON_Parse(jstr(cJSON_GetArrayItem(jget(p, "spec.resources"), 0), "content"));
    assert_string_equal(jstr(m, "data.password"), B64_2);
    secret_json_free(&m);
    secret_json_free(&p);
    s = body_json(2);
    assert_string_equal(jstr(s, "status.secretResourceVersion"), "501");
    /* Ready stayed True: transition time kept; the write moved lastSyncTime */
    fh_time_rfc3339(EARLIER, then, sizeof(then));
    fh_time_rfc3339(NOW, now, sizeof(now));
    assert_string_equal(jstr(ready(s), "lastTransitionTime"), then);
    assert_string_equal(jstr(s, "status.lastSyncTime"), now);
    cJSON_Delete(s);
    env_clear(&e);
    free(sec);
    free(st);
}

static void
test_spec_changed_targets(void **state)
{
    struct env e;
    char *st = first_sync_status();
    char *sec = secret_json("500", B64_1);
    const struct call calls[] = {
        { "GET", SECRET_PATH, 200, sec, 0, 0 },
        { "PATCH", BUNDLE, 200, REPLY_RV("902"), 0, 0 },
        { "PATCH", STATUS, 200, FH_REPLY, 0, 0 },
    };
    cJSON *p, *s;

    (void)state;
    env_init(&e, fh_json(2, "[{\"clusterGroup\":\"prod\",\"x-unknown\":{\"a\":1}}]", st, NULL));
    with_secret(&e, "500");
    with_bundle(&e, "900", FH_UID, BUILT_500);      /* built from generation 1 */
    run(&e, calls, 3);
    p = body_json(1);
    assert_string_equal(jstr(cJSON_GetArrayItem(jget(p, "spec.targets"), 0), "clusterGroup"), "prod");
    assert_int_equal(jget(cJSON_GetArrayItem(jget(p, "spec.targets"), 0), "x-unknown.a")->valueint, 1);
    assert_string_equal(cJSON_GetObjectItemCaseSensitive(jget(p, "metadata.annotations"), "fleethandshake.riverpointtechnology.com/built-from")->valuestring,
                        FH_UID "/2/sec-uid-1/500/v1");
    secret_json_free(&p);
    s = body_json(2);
    assert_int_equal(jget(s, "status.observedGeneration")->valueint, 2);
    assert_int_equal(jget(ready(s), "observedGeneration")->valueint, 2);
    cJSON_Delete(s);
    env_clear(&e);
    free(sec);
    free(st);
}

static void
test_secret_missing(void **state)
{
    struct env e;
    const struct call calls[] = {
        { "GET", SECRET_PATH, 404, NOTFOUND, 0, 0 },    /* the cache's word is checked once */
        { "PATCH", STATUS, 200, FH_REPLY, 0, 0 },
    };
    cJSON *s;
    char *st;

    (void)state;
    env_init(&e, fh_json(1, NULL, NULL, NULL));
    with_bundle(&e, "900", FH_UID, BUILT_500);      /* Bundle kept as it is */
    run(&e, calls, 2);
    assert_int_equal(e.res.outcome, PROTO_OUT_DONE);
    s = body_json(1);
    assert_string_equal(jstr(s, "status.status"), "Missing");
    assert_string_equal(jstr(ready(s), "status"), "False");
    assert_string_equal(jstr(ready(s), "reason"), "SecretNotFound");
    assert_non_null(strstr(jstr(ready(s), "message"), "Secret default/db-creds not found"));
    assert_non_null(strstr(jstr(ready(s), "message"), "create it"));
    cJSON_Delete(s);
    st = status_of(1);
    env_clear(&e);

    /* again with that status in place: no call at all (resync, restart) */
    env_init(&e, fh_json(1, NULL, st, NULL));
    with_bundle(&e, "900", FH_UID, BUILT_500);
    run(&e, NULL, 0);
    assert_int_equal(e.res.outcome, PROTO_OUT_DONE);
    env_clear(&e);

    /* but a new generation asks again */
    env_init(&e, fh_json(2, NULL, st, NULL));
    with_bundle(&e, "900", FH_UID, BUILT_500);
    run(&e, calls, 2);
    env_clear(&e);
    free(st);
}

/* The FleetHandshake's event came before its Secret's (applied together):
 * the cache has no Secret, but it exists. Never a Missing that is not true. */
static void
test_secret_not_yet_cached_is_read(void **state)
{
    struct env e;
    char *sec = secret_json("500", B64_1);
    const struct call calls[] = {
        { "GET", SECRET_PATH, 200, sec, 0, 0 },
        { "POST", BUNDLES, 201, REPLY_RV("900"), 0, 0 },
        { "PATCH", STATUS, 200, FH_REPLY, 0, 0 },
    };
    cJSON *s;

    (void)state;
    env_init(&e, fh_json(1, NULL, NULL, NULL));
    run(&e, calls, 3);
    assert_int_equal(e.res.outcome, PROTO_OUT_DONE);
    s = body_json(2);
    assert_string_equal(jstr(s, "status.status"), "Synced");
    assert_string_equal(jstr(s, "status.secretResourceVersion"), "500");
    cJSON_Delete(s);
    env_clear(&e);
    free(sec);
}

static void
test_secret_deleted_before_get(void **state)
{
    struct env e;
    const struct call calls[] = {
        { "GET", SECRET_PATH, 404, NOTFOUND, 0, 0 },
        { "PATCH", STATUS, 200, FH_REPLY, 0, 0 },
    };
    cJSON *s;

    (void)state;
    env_init(&e, fh_json(1, NULL, NULL, NULL));
    with_secret(&e, "500");
    run(&e, calls, 2);
    assert_int_equal(e.res.outcome, PROTO_OUT_DONE);
    s = body_json(1);
    assert_string_equal(jstr(s, "status.status"), "Missing");
    assert_string_equal(jstr(ready(s), "reason"), "SecretNotFound");
    cJSON_Delete(s);
    env_clear(&e);
}

/* m_gitrepo - make a live Bundle a GitRepo's */
static void
m_gitrepo(cJSON *b)
{
    cJSON *md = cJSON_GetObjectItemCaseSensitive(b, "metadata");

    cJSON_ReplaceItemInObjectCaseSensitive(md, "labels", cJSON_Parse("{\"fleet.cattle.io/repo-name\":\"apps\"}"));
    cJSON_ReplaceItemInObjectCaseSensitive(md, "ownerReferences", cJSON_Parse(
        "[{\"apiVersion\":\"fleet.cattle.io/v1alpha1\",\"kind\":\"GitRepo\",\"name\":\"apps\",\"uid\":\"g1\",\"controller\":true}]"));
    cJSON_DeleteItemFromObjectCaseSensitive(md, "annotations");
}

static void
test_foreign_bundle_conflict(void **state)
{
    struct env e;
    char *fh = fh_json(1, NULL, NULL, NULL);
    char *sec = secret_json("500", B64_1);
    char *live = live_bundle(fh, sec, "950", m_gitrepo);
    const struct call calls[] = {
        { "GET", BUNDLE, 200, live, 0, 0 },
        { "PATCH", STATUS, 200, FH_REPLY, 0, 0 },
    };
    cJSON *s;

    (void)state;
    env_init(&e, fh);
    with_secret(&e, "500");
    with_bundle(&e, "950", NULL, NULL);     /* no FleetHandshake controller in the cache */
    run(&e, calls, 2);
    /* retried now and then: the foreign Bundle's removal is not watched */
    assert_int_equal(e.res.outcome, PROTO_OUT_RETRY);
    assert_int_equal(e.res.errclass, PROTO_ERR_OWNERSHIP);
    assert_null(e.res.bundle_rv);
    s = body_json(1);
    assert_string_equal(jstr(s, "status.status"), "Error");
    assert_string_equal(jstr(ready(s), "reason"), "BundleConflict");
    assert_non_null(strstr(jstr(ready(s), "message"), "Bundle fleet-default/fh1"));
    assert_non_null(strstr(jstr(ready(s), "message"), "GitRepo \"apps\""));
    assert_non_null(strstr(jstr(ready(s), "message"), "will not overwrite"));
    cJSON_Delete(s);
    env_clear(&e);
    free(sec);
    free(live);
}

/* m_orphan - our labels, no owner reference */
static void
m_orphan(cJSON *b)
{
    cJSON_DeleteItemFromObjectCaseSensitive(cJSON_GetObjectItemCaseSensitive(b, "metadata"), "ownerReferences");
}

/* m_original - as the original Go operator wrote it: plain ownerRef, no labels */
static void
m_original(cJSON *b)
{
    cJSON *md = cJSON_GetObjectItemCaseSensitive(b, "metadata");

    cJSON_DeleteItemFromObjectCaseSensitive(md, "labels");
    cJSON_DeleteItemFromObjectCaseSensitive(md, "annotations");
    cJSON_DeleteItemFromObjectCaseSensitive(cJSON_GetObjectItemCaseSensitive(b, "spec"), "defaultNamespace");
    cJSON_ReplaceItemInObjectCaseSensitive(md, "ownerReferences", cJSON_Parse(
        "[{\"apiVersion\":\"riverpointtechnology.com/v1alpha1\",\"kind\":\"FleetHandshake\",\"name\":\"fh1\",\"uid\":\"" FH_UID "\"}]"));
}

static void
test_adopt_original_operator_bundle(void **state)
{
    struct env e;
    char *fh = fh_json(1, NULL, "{\"status\":\"Synced\"}", NULL);
    char *sec = secret_json("500", B64_1);
    char *live = live_bundle(fh, sec, "950", m_original);
    const struct call calls[] = {
        { "GET", BUNDLE, 200, live, 0, 0 },
        { "GET", SECRET_PATH, 200, sec, 0, 0 },
        { "PATCH", BUNDLE, 200, REPLY_RV("951"), 0, 0 },
        { "PATCH", STATUS, 200, FH_REPLY, 0, 0 },
    };
    cJSON *p;

    (void)state;
    env_init(&e, fh);
    with_secret(&e, "500");
    with_bundle(&e, "950", NULL, NULL);
    run(&e, calls, 4);
    assert_int_equal(e.res.outcome, PROTO_OUT_DONE);
    p = body_json(2);
    assert_string_equal(jstr(p, "metadata.resourceVersion"), "950");
    assert_true(cJSON_IsTrue(jget(cJSON_GetArrayItem(jget(p, "metadata.ownerReferences"), 0), "controller")));
    assert_string_equal(jstr(p, "spec.defaultNamespace"), "target-ns");
    secret_json_free(&p);
    env_clear(&e);
    free(sec);
    free(live);
}

static void
test_previous_owner_waits(void **state)
{
    struct env e;
    const struct call calls[] = {
        { "PATCH", STATUS, 200, FH_REPLY, 0, 0 },
    };
    cJSON *s;

    (void)state;
    env_init(&e, fh_json(1, NULL, NULL, NULL));
    with_secret(&e, "500");
    with_bundle(&e, "950", "old-uid", "old-uid/4/sec-uid-1/400/v1");
    run(&e, calls, 1);
    assert_int_equal(e.res.outcome, PROTO_OUT_RETRY);
    assert_int_equal(e.res.errclass, PROTO_ERR_OWNERSHIP);
    s = body_json(0);
    assert_string_equal(jstr(s, "status.status"), "Pending");
    assert_string_equal(jstr(ready(s), "status"), "Unknown");
    assert_non_null(strstr(jstr(ready(s), "message"), "earlier FleetHandshake"));
    cJSON_Delete(s);
    env_clear(&e);
}

static void
test_conflict_on_patch_retried(void **state)
{
    struct env e;
    char *st = first_sync_status();
    char *fh = fh_json(1, NULL, st, NULL);
    char *sec = secret_json("501", B64_2);
    char *old = secret_json("500", B64_1);
    char *live = live_bundle(fh, old, "905", NULL);
    const struct call calls[] = {
        { "GET", SECRET_PATH, 200, sec, 0, 0 },
        { "PATCH", BUNDLE, 409, CONFLICT, 0, 0 },
        { "GET", BUNDLE, 200, live, 0, 0 },
        { "PATCH", BUNDLE, 200, REPLY_RV("906"), 0, 0 },
        { "PATCH", STATUS, 200, FH_REPLY, 0, 0 },
    };
    cJSON *p;

    (void)state;
    env_init(&e, fh);
    with_secret(&e, "501");
    with_bundle(&e, "900", FH_UID, BUILT_500);
    run(&e, calls, 5);
    assert_int_equal(e.res.outcome, PROTO_OUT_DONE);
    assert_string_equal(e.res.bundle_rv, "906");
    p = body_json(1);
    assert_string_equal(jstr(p, "metadata.resourceVersion"), "900");
    secret_json_free(&p);
    p = body_json(3);
    assert_string_equal(jstr(p, "metadata.resourceVersion"), "905");
    secret_json_free(&p);
    env_clear(&e);
    free(sec);
    free(old);
    free(live);
    free(st);
}

static void
test_conflict_exhausted(void **state)
{
    struct env e;
    char *st = first_sync_status();
    char *fh = fh_json(1, NULL, st, NULL);
    char *sec = secret_json("501", B64_2);
    char *old = secret_json("500", B64_1);
    char *live = live_bundle(fh, old, "905", NULL);
    const struct call calls[] = {
        { "GET", SECRET_PATH, 200, sec, 0, 0 },
        { "PATCH", BUNDLE, 409, CONFLICT, 0, 0 },
        { "GET", BUNDLE, 200, live, 0, 0 },
        { "PATCH", BUNDLE, 409, CONFLICT, 0, 0 },
        { "GET", BUNDLE, 200, live, 0, 0 },
        { "PATCH", BUNDLE, 409, CONFLICT, 0, 0 },
    };

    (void)state;
    env_init(&e, fh);
    with_secret(&e, "501");
    with_bundle(&e, "900", FH_UID, BUILT_500);
    run(&e, calls, 6);
    assert_int_equal(e.res.outcome, PROTO_OUT_RETRY);
    assert_int_equal(e.res.errclass, PROTO_ERR_CONFLICT);
    assert_null(e.res.bundle_rv);
    env_clear(&e);
    free(sec);
    free(old);
    free(live);
    free(st);
}

static void
test_already_exists_adopts_orphan(void **state)
{
    struct env e;
    char *fh = fh_json(1, NULL, NULL, NULL);
    char *sec = secret_json("500", B64_1);
    char *old = secret_json("400", B64_2);
    char *live = live_bundle(fh, old, "960", m_orphan);
    /* the live FleetHandshake is read before adopting: the cache may not
     * know yet that it is being deleted */
    const struct call calls[] = {
        { "GET", SECRET_PATH, 200, sec, 0, 0 },
        { "POST", BUNDLES, 409, EXISTS, 0, 0 },
        { "GET", BUNDLE, 200, live, 0, 0 },
        { "GET", FH_PATH, 200, FH_LIVE(""), 0, 0 },
        { "PATCH", BUNDLE, 200, REPLY_RV("961"), 0, 0 },
        { "PATCH", STATUS, 200, FH_REPLY, 0, 0 },
    };
    const struct call calls_deleting[] = {
        { "GET", SECRET_PATH, 200, sec, 0, 0 },
        { "POST", BUNDLES, 409, EXISTS, 0, 0 },
        { "GET", BUNDLE, 200, live, 0, 0 },
        { "GET", FH_PATH, 200, FH_LIVE(",\"deletionTimestamp\":\"2025-01-01T00:00:00Z\"," \
                                       "\"finalizers\":[\"orphan\"]"), 0, 0 },
    };
    const struct call calls_gone[] = {
        { "GET", SECRET_PATH, 200, sec, 0, 0 },
        { "POST", BUNDLES, 409, EXISTS, 0, 0 },
        { "GET", BUNDLE, 200, live, 0, 0 },
        { "GET", FH_PATH, 404, NOTFOUND, 0, 0 },
    };
    cJSON *p;
    const cJSON *ref;

    (void)state;
    /* being deleted (an orphan deletion) or gone: not adopted, no write */
    env_init(&e, strdup(fh));
    with_secret(&e, "500");
    run(&e, calls_deleting, 4);
    assert_int_equal(e.res.outcome, PROTO_OUT_DONE);
    assert_null(e.res.bundle_rv);
    env_clear(&e);
    env_init(&e, strdup(fh));
    with_secret(&e, "500");
    run(&e, calls_gone, 4);
    assert_int_equal(e.res.outcome, PROTO_OUT_DONE);
    env_clear(&e);
    /* alive: adopted */
    env_init(&e, fh);
    with_secret(&e, "500");
    run(&e, calls, 6);
    assert_int_equal(e.res.outcome, PROTO_OUT_DONE);
    assert_string_equal(e.res.bundle_rv, "961");
    p = body_json(4);
    assert_string_equal(jstr(p, "metadata.resourceVersion"), "960");
    ref = cJSON_GetArrayItem(jget(p, "metadata.ownerReferences"), 0);
    assert_string_equal(jstr(ref, "uid"), FH_UID);
    assert_true(cJSON_IsTrue(jget(ref, "controller")));
    secret_json_free(&p);
    env_clear(&e);
    free(sec);
    free(old);
    free(live);
}

static void
test_already_exists_refuses_foreign(void **state)
{
    struct env e;
    char *fh = fh_json(1, NULL, NULL, NULL);
    char *sec = secret_json("500", B64_1);
    char *live = live_bundle(fh, sec, "960", m_gitrepo);
    const struct call calls[] = {
        { "GET", SECRET_PATH, 200, sec, 0, 0 },
        { "POST", BUNDLES, 409, EXISTS, 0, 0 },
        { "GET", BUNDLE, 200, live, 0, 0 },
        { "PATCH", STATUS, 200, FH_REPLY, 0, 0 },
    };
    cJSON *s;

    (void)state;
    env_init(&e, fh);
    with_secret(&e, "500");
    run(&e, calls, 4);
    assert_int_equal(e.res.outcome, PROTO_OUT_RETRY);
    assert_int_equal(e.res.errclass, PROTO_ERR_OWNERSHIP);
    s = body_json(3);
    assert_string_equal(jstr(ready(s), "reason"), "BundleConflict");
    cJSON_Delete(s);
    env_clear(&e);
    free(sec);
    free(live);
}

static void
test_patch_404_creates(void **state)
{
    struct env e;
    char *st = first_sync_status();
    char *sec = secret_json("501", B64_2);
    const struct call calls[] = {
        { "GET", SECRET_PATH, 200, sec, 0, 0 },
        { "PATCH", BUNDLE, 404, NOTFOUND, 0, 0 },
        { "POST", BUNDLES, 201, REPLY_RV("990"), 0, 0 },
        { "PATCH", STATUS, 200, FH_REPLY, 0, 0 },
    };

    (void)state;
    env_init(&e, fh_json(1, NULL, st, NULL));
    with_secret(&e, "501");
    with_bundle(&e, "900", FH_UID, BUILT_500);
    run(&e, calls, 4);
    assert_int_equal(e.res.outcome, PROTO_OUT_DONE);
    assert_string_equal(e.res.bundle_rv, "990");
    env_clear(&e);
    free(sec);
    free(st);
}

/* m_hand_edit - someone edited the content by hand */
static void
m_hand_edit(cJSON *b)
{
    cJSON *r = cJSON_GetArrayItem(cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(b, "spec"), "resources"), 0);

    cJSON_ReplaceItemInObjectCaseSensitive(r, "content", cJSON_CreateString("{\"kind\":\"Secret\"}"));
}

static void
test_verify_repairs_hand_edit(void **state)
{
    struct env e;
    char *st = first_sync_status();
    char *fh = fh_json(1, NULL, st, NULL);
    char *sec = secret_json("500", B64_1);
    char *live = live_bundle(fh, sec, "930", m_hand_edit);
    const struct call calls[] = {
        { "GET", SECRET_PATH, 200, sec, 0, 0 },
        { "GET", BUNDLE, 200, live, 0, 0 },
        { "PATCH", BUNDLE, 200, REPLY_RV("931"), 0, 0 },
    };
    cJSON *p, *m;

    (void)state;
    env_init(&e, fh);
    with_secret(&e, "500");
    with_bundle(&e, "930", FH_UID, BUILT_500);
    e.task.verify_bundle = true;
    /* status already says Synced for rv 500: no status write */
    run(&e, calls, 3);
    assert_int_equal(e.res.outcome, PROTO_OUT_DONE);
    assert_string_equal(e.res.bundle_rv, "931");
    p = body_json(2);
    assert_string_equal(jstr(p, "metadata.resourceVersion"), "930");
    m = cJSON_Parse(jstr(cJSON_GetArrayItem(jget(p, "spec.resources"), 0), "content"));
    assert_string_equal(jstr(m, "data.password"), B64_1);
    secret_json_free(&m);
    secret_json_free(&p);
    env_clear(&e);
    free(sec);
    free(live);
    free(st);
}

static void
test_verify_unchanged_no_write(void **state)
{
    struct env e;
    char *st = first_sync_status();
    char *fh = fh_json(1, NULL, st, NULL);
    char *sec = secret_json("500", B64_1);
    char *live = live_bundle(fh, sec, "930", NULL);
    const struct call calls[] = {
        { "GET", SECRET_PATH, 200, sec, 0, 0 },
        { "GET", BUNDLE, 200, live, 0, 0 },
    };

    (void)state;
    env_init(&e, fh);
    with_secret(&e, "500");
    with_bundle(&e, "930", FH_UID, BUILT_500);
    e.task.verify_bundle = true;
    run(&e, calls, 2);
    assert_int_equal(e.res.outcome, PROTO_OUT_DONE);
    assert_null(e.res.bundle_rv);
    assert_null(e.res.fh_rv);
    env_clear(&e);
    free(sec);
    free(live);
    free(st);
}

/* gen2 - a live Bundle whose generation moved (someone edited it) */
static void
gen2(cJSON *b)
{
    cJSON_AddNumberToObject(cJSON_GetObjectItemCaseSensitive(b, "metadata"), "generation", 2);
}

/* Edited while the operator was down: the watcher's Bundle metadata shows a
 * generation our status did not record, so the annotation is not trusted:
 * the live Bundle is read and compared; equal -> no Bundle write, and the
 * status records the new generation so the next restart makes no call. */
static void
test_generation_moved_while_down_is_verified(void **state)
{
    struct env e;
    char *st = first_sync_status();
    char *fh = fh_json(1, NULL, st, NULL);
    char *sec = secret_json("500", B64_1);
    char *live = live_bundle(fh, sec, "931", gen2);
    const struct call calls[] = {
        { "GET", SECRET_PATH, 200, sec, 0, 0 },
        { "GET", BUNDLE, 200, live, 0, 0 },
        { "PATCH", STATUS, 200, FH_REPLY, 0, 0 },
    };
    cJSON *s;

    (void)state;
    env_init(&e, fh);
    with_secret(&e, "500");
    with_bundle(&e, "931", FH_UID, BUILT_500);
    e.task.bundle.generation = 2;
    assert_false(e.task.verify_bundle);
    run(&e, calls, 3);
    assert_int_equal(e.res.outcome, PROTO_OUT_DONE);
    assert_null(e.res.bundle_rv);
    s = body_json(2);
    assert_int_equal(jget(s, "status.bundleGeneration")->valueint, 2);
    cJSON_Delete(s);
    env_clear(&e);
    free(sec);
    free(live);
    free(st);
}

static void
test_throttled(void **state)
{
    struct env e;
    const struct call calls[] = {
        { "GET", SECRET_PATH, 429, "Too many requests, please try again later.", 7, 0 },
    };

    (void)state;
    env_init(&e, fh_json(1, NULL, NULL, NULL));
    with_secret(&e, "500");
    run(&e, calls, 1);
    assert_int_equal(e.res.outcome, PROTO_OUT_RETRY);
    assert_int_equal(e.res.errclass, PROTO_ERR_THROTTLED);
    assert_int_equal(e.res.retry_after_ms, 7000);
    env_clear(&e);
}

static void
test_forbidden(void **state)
{
    struct env e;
    const struct call calls[] = {
        { "GET", SECRET_PATH, 403, FORBIDDEN, 0, 0 },
        { "PATCH", STATUS, 200, FH_REPLY, 0, 0 },
    };
    const struct call calls_status_denied_too[] = {
        { "GET", SECRET_PATH, 403, FORBIDDEN, 0, 0 },
        { "PATCH", STATUS, 403, ST(403, "Forbidden", "no"), 0, 0 },
    };
    cJSON *s;

    (void)state;
    env_init(&e, fh_json(1, NULL, NULL, NULL));
    with_secret(&e, "500");
    run(&e, calls, 2);
    assert_int_equal(e.res.outcome, PROTO_OUT_RETRY);
    assert_int_equal(e.res.errclass, PROTO_ERR_FORBIDDEN);
    s = body_json(1);
    assert_string_equal(jstr(s, "status.status"), "Error");
    assert_string_equal(jstr(ready(s), "reason"), "Forbidden");
    assert_non_null(strstr(jstr(ready(s), "message"), "get secrets in namespace default"));
    cJSON_Delete(s);
    env_clear(&e);

    env_init(&e, fh_json(1, NULL, NULL, NULL));
    with_secret(&e, "500");
    run(&e, calls_status_denied_too, 2);
    assert_int_equal(e.res.outcome, PROTO_OUT_RETRY);
    assert_int_equal(e.res.errclass, PROTO_ERR_FORBIDDEN);
    assert_null(e.res.fh_rv);
    env_clear(&e);
}

static void
test_invalid_spec(void **state)
{
    struct env e;
    const struct call calls[] = {
        { "PATCH", STATUS, 200, FH_REPLY, 0, 0 },
    };
    char *fh = NULL;
    cJSON *s;

    (void)state;
    assert_true(asprintf(&fh, "{\"metadata\":{\"name\":\"fh1\",\"namespace\":\"fleet-default\","
                         "\"uid\":\"" FH_UID "\",\"generation\":3},\"spec\":{\"secretName\":\"Bad_Name\","
                         "\"secretNamespace\":\"default\",\"targetNamespace\":\"t\",\"targets\":[]}}") > 0);
    env_init(&e, fh);
    with_secret(&e, "500");
    run(&e, calls, 1);
    assert_int_equal(e.res.outcome, PROTO_OUT_FAILED);
    assert_int_equal(e.res.errclass, PROTO_ERR_INVALID);
    s = body_json(0);
    assert_string_equal(jstr(s, "status.status"), "Error");
    assert_string_equal(jstr(ready(s), "reason"), "InvalidSpec");
    assert_non_null(strstr(jstr(ready(s), "message"), "spec.secretName \"Bad_Name\""));
    assert_int_equal(jget(s, "status.observedGeneration")->valueint, 3);
    cJSON_Delete(s);
    env_clear(&e);
}

static void
test_bundle_rejected_message_redacted(void **state)
{
    struct env e;
    char *sec = secret_json("500", B64_1);
    const struct call calls[] = {
        { "GET", SECRET_PATH, 200, sec, 0, 0 },
        { "POST", BUNDLES, 422, ST(422, "Invalid", "Bundle.fleet.cattle.io \\\"fh1\\\" is invalid: "
          "spec.resources[0].content: Invalid value: \\\"{\\\\\\\"data\\\\\\\":{\\\\\\\"password\\\\\\\":\\\\\\\"" B64_1
          "\\\\\\\"}}\\\": must be shorter"), 0, 0 },
        { "PATCH", STATUS, 200, FH_REPLY, 0, 0 },
    };
    const struct call calls_webhook[] = {
        { "GET", SECRET_PATH, 200, sec, 0, 0 },
        { "POST", BUNDLES, 400, ST(400, "BadRequest", "admission webhook denied the request: value " PLAIN1 " is banned"), 0, 0 },
        { "PATCH", STATUS, 200, FH_REPLY, 0, 0 },
    };
    cJSON *s;

    (void)state;
    env_init(&e, fh_json(1, NULL, NULL, NULL));
    with_secret(&e, "500");
    run(&e, calls, 3);
    assert_int_equal(e.res.outcome, PROTO_OUT_FAILED);
    assert_int_equal(e.res.errclass, PROTO_ERR_INVALID);
    s = body_json(2);
    assert_string_equal(jstr(ready(s), "reason"), "InvalidSpec");
    assert_non_null(strstr(jstr(ready(s), "message"),
                           "spec.resources[0].content: Invalid value: (omitted): must be shorter"));
    cJSON_Delete(s);
    env_clear(&e);

    env_init(&e, fh_json(1, NULL, NULL, NULL));
    with_secret(&e, "500");
    run(&e, calls_webhook, 3);
    assert_int_equal(e.res.outcome, PROTO_OUT_FAILED);
    s = body_json(2);
    assert_non_null(strstr(jstr(ready(s), "message"), "message omitted: it quoted Secret data"));
    cJSON_Delete(s);
    env_clear(&e);
    free(sec);
}

static void
test_server_error_and_transport(void **state)
{
    struct env e;
    char *sec = secret_json("500", B64_1);
    const struct call calls_5xx[] = {
        { "GET", SECRET_PATH, 200, sec, 0, 0 },
        { "POST", BUNDLES, 500, ST(500, "InternalError", "Internal error occurred: failed calling webhook"), 0, 0 },
        { "PATCH", STATUS, 200, FH_REPLY, 0, 0 },
    };
    const struct call calls_transport[] = {
        { "GET", SECRET_PATH, 0, NULL, 0, -FH_EIO },
    };
    cJSON *s;

    (void)state;
    env_init(&e, fh_json(1, NULL, NULL, NULL));
    with_secret(&e, "500");
    run(&e, calls_5xx, 3);
    assert_int_equal(e.res.outcome, PROTO_OUT_RETRY);
    assert_int_equal(e.res.errclass, PROTO_ERR_TRANSIENT);
    s = body_json(2);
    assert_string_equal(jstr(ready(s), "reason"), "ApplyFailed");
    assert_non_null(strstr(jstr(ready(s), "message"), "failed calling webhook"));
    cJSON_Delete(s);
    env_clear(&e);

    /* no answer at all: no status write either */
    env_init(&e, fh_json(1, NULL, NULL, NULL));
    with_secret(&e, "500");
    run(&e, calls_transport, 1);
    assert_int_equal(e.res.outcome, PROTO_OUT_RETRY);
    assert_int_equal(e.res.errclass, PROTO_ERR_TRANSIENT);
    env_clear(&e);
    free(sec);
}

/* Live Bundles for the delete cases: controlled by us, orphaned by the
 * garbage collector (ownerReferences gone, labels kept), and the original
 * operator's plain reference. */
#define LIVE_REF(ctl) "{\"apiVersion\":\"riverpointtechnology.com/v1alpha1\",\"kind\":\"FleetHandshake\"," \
    "\"name\":\"fh1\",\"uid\":\"" FH_UID "\"" ctl "}"
#define LIVE_BUNDLE(rv, refs) "{\"kind\":\"Bundle\",\"metadata\":{\"name\":\"fh1\",\"namespace\":\"fleet-default\"," \
    "\"uid\":\"b-uid-1\",\"resourceVersion\":\"" rv "\",\"labels\":{\"app.kubernetes.io/managed-by\":" \
    "\"fleet-handshake\",\"fleethandshake.riverpointtechnology.com/name\":\"fh1\"}" refs "},\"spec\":{}}"
#define LIVE_OURS(rv) LIVE_BUNDLE(rv, ",\"ownerReferences\":[" LIVE_REF(",\"controller\":true") "]")
#define LIVE_ORPHANED LIVE_BUNDLE("905", "")

/* deleting_fh - a terminating FleetHandshake's JSON, with finalizers */
static char *
deleting_fh(const char *finalizers)
{
    char *fh = NULL;

    assert_true(asprintf(&fh, "{\"metadata\":{\"name\":\"fh1\",\"namespace\":\"fleet-default\","
                         "\"uid\":\"" FH_UID "\",\"deletionTimestamp\":\"2025-01-01T00:00:00Z\","
                         "\"finalizers\":%s}}", finalizers) > 0);
    return fh;
}

static void
test_fh_deleted_deletes_bundle(void **state)
{
    struct env e;
    const struct call calls[] = {
        { "GET", BUNDLE, 200, LIVE_OURS("900"), 0, 0 },
        { "DELETE", BUNDLE, 200, "{}", 0, 0 },
    };
    const struct call calls_gone[] = {
        { "GET", BUNDLE, 404, NOTFOUND, 0, 0 },
    };
    const struct call calls_orphaned[] = {
        { "GET", BUNDLE, 200, LIVE_ORPHANED, 0, 0 },
    };
    const struct call calls_changed[] = {
        { "GET", BUNDLE, 200, LIVE_OURS("900"), 0, 0 },
        { "DELETE", BUNDLE, 409, CONFLICT, 0, 0 },      /* orphaned in between */
        { "GET", BUNDLE, 200, LIVE_ORPHANED, 0, 0 },
    };
    const struct call calls_status_moved[] = {
        { "GET", BUNDLE, 200, LIVE_OURS("900"), 0, 0 },
        { "DELETE", BUNDLE, 409, CONFLICT, 0, 0 },      /* Fleet wrote its status */
        { "GET", BUNDLE, 200, LIVE_OURS("901"), 0, 0 },
        { "DELETE", BUNDLE, 200, "{}", 0, 0 },
    };
    cJSON *d;

    (void)state;
    /* the FleetHandshake is terminating: read, then delete exactly what was read */
    env_init(&e, NULL);
    e.task.has_fh = true;
    e.task.fh.deleting = true;
    with_bundle(&e, "900", FH_UID, BUILT_500);
    run(&e, calls, 2);
    assert_int_equal(e.res.outcome, PROTO_OUT_DONE);
    d = body_json(1);
    assert_string_equal(jstr(d, "preconditions.uid"), "b-uid-1");
    assert_string_equal(jstr(d, "preconditions.resourceVersion"), "900");
    assert_string_equal(jstr(d, "propagationPolicy"), "Background");
    cJSON_Delete(d);
    env_clear(&e);

    /* gone already (garbage collected): fine, no DELETE */
    env_init(&e, NULL);
    with_bundle(&e, "900", FH_UID, BUILT_500);
    run(&e, calls_gone, 1);
    assert_int_equal(e.res.outcome, PROTO_OUT_DONE);
    env_clear(&e);

    /* deletionTimestamp in the JSON counts too */
    env_init(&e, deleting_fh("[]"));
    with_bundle(&e, "900", FH_UID, BUILT_500);
    run(&e, calls, 2);
    env_clear(&e);

    /* kubectl delete --cascade=orphan: the orphan finalizer -> no call at all */
    env_init(&e, deleting_fh("[\"orphan\"]"));
    with_bundle(&e, "900", FH_UID, BUILT_500);
    run(&e, NULL, 0);
    assert_int_equal(e.res.outcome, PROTO_OUT_DONE);
    assert_non_null(strstr(e.res.message, "orphan"));
    env_clear(&e);

    /* the garbage collector orphaned it before the cache heard: kept */
    env_init(&e, deleting_fh("[]"));
    with_bundle(&e, "900", FH_UID, BUILT_500);
    run(&e, calls_orphaned, 1);
    assert_int_equal(e.res.outcome, PROTO_OUT_DONE);
    env_clear(&e);

    /* orphaned between our read and our delete: the precondition saves it */
    env_init(&e, deleting_fh("[]"));
    with_bundle(&e, "900", FH_UID, BUILT_500);
    run(&e, calls_changed, 3);
    assert_int_equal(e.res.outcome, PROTO_OUT_DONE);
    env_clear(&e);

    /* only its status moved: read again and delete */
    env_init(&e, deleting_fh("[]"));
    with_bundle(&e, "900", FH_UID, BUILT_500);
    run(&e, calls_status_moved, 4);
    assert_int_equal(e.res.outcome, PROTO_OUT_DONE);
    d = body_json(3);
    assert_string_equal(jstr(d, "preconditions.resourceVersion"), "901");
    cJSON_Delete(d);
    env_clear(&e);

    /* already being deleted (Fleet's finalizer at work): nothing more, cached
     * or found on the read */
    env_init(&e, deleting_fh("[]"));
    with_bundle(&e, "900", FH_UID, BUILT_500);
    e.task.bundle.deleting = true;
    run(&e, NULL, 0);
    assert_int_equal(e.res.outcome, PROTO_OUT_DONE);
    env_clear(&e);
    {
        const struct call calls_deleting[] = {
            { "GET", BUNDLE, 200, LIVE_BUNDLE("902", ",\"deletionTimestamp\":\"2025-01-01T00:00:00Z\","
              "\"ownerReferences\":[" LIVE_REF(",\"controller\":true") "]"), 0, 0 },
        };

        env_init(&e, deleting_fh("[]"));
        with_bundle(&e, "900", FH_UID, BUILT_500);
        run(&e, calls_deleting, 1);
        assert_int_equal(e.res.outcome, PROTO_OUT_DONE);
        env_clear(&e);
    }

    /* a Bundle that is not this FleetHandshake's, or an unknown uid: left alone */
    env_init(&e, NULL);
    with_bundle(&e, "900", "someone-else", NULL);
    run(&e, NULL, 0);
    assert_int_equal(e.res.outcome, PROTO_OUT_DONE);
    env_clear(&e);
    env_init(&e, NULL);
    e.task.fh.uid = NULL;
    with_bundle(&e, "900", FH_UID, BUILT_500);
    run(&e, NULL, 0);
    env_clear(&e);
    /* no Bundle at all */
    env_init(&e, NULL);
    run(&e, NULL, 0);
    assert_int_equal(e.res.outcome, PROTO_OUT_DONE);
    env_clear(&e);
}

static void
test_secret_namespace_not_watched(void **state)
{
    static const char *const watched[] = { "fleet-default", "team-a" };
    struct env e;
    const struct call calls[] = {
        { "PATCH", STATUS, 200, FH_REPLY, 0, 0 },
    };
    const struct call calls_watched[] = {
        { "GET", SECRET_PATH, 404, NOTFOUND, 0, 0 },
        { "PATCH", STATUS, 200, FH_REPLY, 0, 0 },
    };
    cJSON *p;

    (void)state;
    /* the Secret (namespace default) is outside --namespace: no read, a
     * status that says what to change */
    env_init(&e, fh_json(1, NULL, NULL, NULL));
    e.namespaces = watched;
    e.nns = 2;
    run(&e, calls, 1);
    assert_int_equal(e.res.outcome, PROTO_OUT_FAILED);
    p = body_json(0);
    assert_string_equal(jstr(p, "status.status"), "Error");
    assert_string_equal(jstr(ready(p), "reason"), "SecretNamespaceNotWatched");
    assert_non_null(strstr(jstr(ready(p), "message"), "fleet-default, team-a"));
    assert_non_null(strstr(jstr(ready(p), "message"), "watchNamespaces"));
    cJSON_Delete(p);
    env_clear(&e);
    /* watched: the usual path */
    {
        static const char *const with_default[] = { "fleet-default", "default" };

        env_init(&e, fh_json(1, NULL, NULL, NULL));
        e.namespaces = with_default;
        e.nns = 2;
        run(&e, calls_watched, 2);
        assert_int_equal(e.res.outcome, PROTO_OUT_DONE);
        env_clear(&e);
    }
}

/* An apiserver warning on a write (a target field Fleet's CRD drops, say) is
 * logged; one that quotes the Secret is not repeated. */
static void
test_apiserver_warnings_are_logged(void **state)
{
    char *sec = secret_json("500", B64_1);
    const struct call calls[] = {
        { "GET", SECRET_PATH, 200, sec, 0, 0 },
        { "POST", BUNDLES, 201, REPLY_RV("951"), 0, 0 },
        { "PATCH", STATUS, 200, FH_REPLY, 0, 0 },
    };
    static const char *const warnings[] = {
        NULL, "299 - \"unknown field \\\"spec.targets[0].future\\\"\"", "299 - \"deprecated\"",
    };
    static const char *const quoting[] = { NULL, "299 - \"webhook saw " PLAIN1 "\"", NULL };
    struct env e;

    (void)state;
    env_init(&e, fh_json(1, NULL, NULL, NULL));
    with_secret(&e, "500");
    e.warnings = warnings;
    run(&e, calls, 3);
    assert_non_null(strstr(e.logtext, "created Bundle fleet-default/fh1 with a warning"));
    assert_non_null(strstr(e.logtext, "spec.targets[0].future"));
    assert_non_null(strstr(e.logtext, "status written with an apiserver warning"));
    env_clear(&e);
    env_init(&e, fh_json(1, NULL, NULL, NULL));
    with_secret(&e, "500");
    e.warnings = quoting;
    run(&e, calls, 3);                          /* run() fails if the log quotes the Secret */
    assert_non_null(strstr(e.logtext, "quotes the Secret's data; not repeated"));
    env_clear(&e);
    free(sec);
}

static void
test_outdated_crd_is_reported_once(void **state)
{
    /* the original operator's CRD: the apiserver keeps only status.status */
    const struct call calls[] = {
        { "GET", SECRET_PATH, 404, NOTFOUND, 0, 0 },
        { "PATCH", STATUS, 200, "{\"kind\":\"FleetHandshake\",\"metadata\":{\"name\":\"fh1\","
          "\"resourceVersion\":\"77\"},\"status\":{\"status\":\"Missing\"}}", 0, 0 },
    };
    const struct call calls_current[] = {
        { "GET", SECRET_PATH, 404, NOTFOUND, 0, 0 },
        { "PATCH", STATUS, 200, "{\"kind\":\"FleetHandshake\",\"metadata\":{\"name\":\"fh1\","
          "\"resourceVersion\":\"77\"},\"status\":{\"status\":\"Missing\",\"conditions\":[]}}", 0, 0 },
    };
    struct env e;

    (void)state;
    env_init(&e, fh_json(1, NULL, NULL, NULL));
    run(&e, calls, 2);
    assert_non_null(strstr(e.logtext, "CRD is outdated"));
    assert_true(e.crd_warned);
    env_clear(&e);
    /* once per worker: the flag is the worker's */
    env_init(&e, fh_json(1, NULL, NULL, NULL));
    e.crd_warned = true;
    run(&e, calls, 2);
    assert_null(strstr(e.logtext, "CRD is outdated"));
    env_clear(&e);
    /* the current CRD keeps conditions: nothing said */
    env_init(&e, fh_json(1, NULL, NULL, NULL));
    run(&e, calls_current, 2);
    assert_null(strstr(e.logtext, "CRD is outdated"));
    assert_false(e.crd_warned);
    env_clear(&e);
}

static void
test_status_write_404_means_gone(void **state)
{
    struct env e;
    const struct call calls[] = {
        { "GET", SECRET_PATH, 404, NOTFOUND, 0, 0 },
        { "PATCH", STATUS, 404, NOTFOUND, 0, 0 },
    };

    (void)state;
    env_init(&e, fh_json(1, NULL, NULL, NULL));
    run(&e, calls, 2);              /* Secret missing -> status write -> 404 */
    assert_int_equal(e.res.outcome, PROTO_OUT_DONE);
    assert_null(e.res.fh_rv);
    env_clear(&e);
}

static void
test_unparsable_task(void **state)
{
    struct env e;

    (void)state;
    env_init(&e, strdup("{not json"));
    run(&e, NULL, 0);
    assert_int_equal(e.res.outcome, PROTO_OUT_FAILED);
    assert_int_equal(e.res.errclass, PROTO_ERR_INTERNAL);
    env_clear(&e);
    assert_int_equal(reconcile_task(NULL, NULL, NULL, NOW, &e.res), -FH_EINVAL);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_first_sync),
        cmocka_unit_test(test_nothing_changed_no_calls),
        cmocka_unit_test(test_secret_changed),
        cmocka_unit_test(test_spec_changed_targets),
        cmocka_unit_test(test_secret_missing),
        cmocka_unit_test(test_secret_not_yet_cached_is_read),
        cmocka_unit_test(test_secret_deleted_before_get),
        cmocka_unit_test(test_foreign_bundle_conflict),
        cmocka_unit_test(test_adopt_original_operator_bundle),
        cmocka_unit_test(test_previous_owner_waits),
        cmocka_unit_test(test_conflict_on_patch_retried),
        cmocka_unit_test(test_conflict_exhausted),
        cmocka_unit_test(test_already_exists_adopts_orphan),
        cmocka_unit_test(test_already_exists_refuses_foreign),
        cmocka_unit_test(test_patch_404_creates),
        cmocka_unit_test(test_verify_repairs_hand_edit),
        cmocka_unit_test(test_verify_unchanged_no_write),
        cmocka_unit_test(test_generation_moved_while_down_is_verified),
        cmocka_unit_test(test_throttled),
        cmocka_unit_test(test_forbidden),
        cmocka_unit_test(test_invalid_spec),
        cmocka_unit_test(test_bundle_rejected_message_redacted),
        cmocka_unit_test(test_server_error_and_transport),
        cmocka_unit_test(test_fh_deleted_deletes_bundle),
        cmocka_unit_test(test_secret_namespace_not_watched),
        cmocka_unit_test(test_outdated_crd_is_reported_once),
        cmocka_unit_test(test_apiserver_warnings_are_logged),
        cmocka_unit_test(test_status_write_404_means_gone),
        cmocka_unit_test(test_unparsable_task),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
