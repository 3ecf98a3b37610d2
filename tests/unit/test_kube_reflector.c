/* test_kube_reflector.c - reflectors on a kube_loop, driven by zmq_poll,
 * against a scripted loopback apiserver: paging, relist deltas, watch
 * events split across chunks, bookmarks, 410 handling, garbage, clean
 * re-watches, HTTP errors with backoff, several reflectors at once, pages
 * over the body cap, the watcher's Bundle label selector, Status codes. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>
#include <cjson/cJSON.h>
#include <curl/curl.h>
#include <zmq.h>

#include "fh_err.h"
#include "fh_log.h"
#include "kube_backoff.h"
#include "kube_client.h"
#include "kube_config.h"
#include "kube_status.h"
#include "kube_watch.h"
#include "proto.h"
#include "test_kube_server.h"
#include "watch_kinds.h"

#define MAX_EVENTS 128
#define DEADLINE_MS 20000   /* generous: valgrind is slow; never a timing assertion */

struct ev {
    enum kube_event_type type;
    char key[128];          /* ns/name */
    char rv[32];
    char uid[64];
};

struct recorder {
    struct ev ev[MAX_EVENTS];
    size_t nev;
    unsigned synced;
    unsigned errors;
    char last_error[512];
    bool saw_error_text;    /* some error text contained `want_error` */
    const char *want_error;
};

struct fixture {
    struct ts srv;
    char kubeconfig[64];
    struct kube_config *cfg;
    struct kube_loop *loop;
    struct fh_log log;
    struct recorder rec;
    struct recorder rec2;
    char *scratch;          /* a test's big response body, freed at teardown */
};

/* jstr - string member or "" */
static const char *
jstr(const cJSON *o, const char *k)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, k);

    return cJSON_IsString(v) ? v->valuestring : "";
}

/* on_event - record type, key, rv, uid */
static void
on_event(void *arg, enum kube_event_type type, const cJSON *obj)
{
    struct recorder *r = arg;
    const cJSON *m = cJSON_GetObjectItemCaseSensitive(obj, "metadata");

    assert_true(r->nev < MAX_EVENTS);
    r->ev[r->nev].type = type;
    snprintf(r->ev[r->nev].key, sizeof(r->ev[0].key), "%s/%s", jstr(m, "namespace"), jstr(m, "name"));
    snprintf(r->ev[r->nev].rv, sizeof(r->ev[0].rv), "%s", jstr(m, "resourceVersion"));
    snprintf(r->ev[r->nev].uid, sizeof(r->ev[0].uid), "%s", jstr(m, "uid"));
    r->nev++;
}

/* on_synced - count */
static void
on_synced(void *arg)
{
    ((struct recorder *)arg)->synced++;
}

/* on_error - count and keep the text */
static void
on_error(void *arg, int err, const char *what)
{
    struct recorder *r = arg;

    (void)err;
    r->errors++;
    snprintf(r->last_error, sizeof(r->last_error), "%s", what);
    if (r->want_error && strstr(what, r->want_error))
        r->saw_error_text = true;
}

/* expect_ev - event i is (type, key, rv) */
static void
expect_ev(const struct recorder *r, size_t i, enum kube_event_type type, const char *key,
          const char *rv)
{
    if (i >= r->nev)
        fail_msg("event %zu missing (have %zu)", i, r->nev);
    if (r->ev[i].type != type || strcmp(r->ev[i].key, key) != 0 || strcmp(r->ev[i].rv, rv) != 0)
        fail_msg("event %zu: got %d %s rv=%s, want %d %s rv=%s", i, r->ev[i].type,
                 r->ev[i].key, r->ev[i].rv, type, key, rv);
}

static int
setup(void **state)
{
    struct fixture *f = calloc(1, sizeof(*f));
    char err[512];

    if (!f || ts_start(&f->srv) < 0)
        return -1;
    fh_log_init(&f->log, "test", FH_LOG_ERROR);
    f->log.fd = -1;
    if (ts_kubeconfig(&f->srv, f->kubeconfig, sizeof(f->kubeconfig), NULL, NULL) < 0 ||
        kube_config_load_file(f->kubeconfig, NULL, &f->cfg, err, sizeof(err)) < 0)
        return -1;
    f->loop = kube_loop_new(f->cfg, NULL, &f->log);
    if (!f->loop)
        return -1;
    *state = f;
    return 0;
}

static int
teardown(void **state)
{
    struct fixture *f = *state;

    kube_loop_free(&f->loop);
    kube_config_free(&f->cfg);
    unlink(f->kubeconfig);
    ts_stop(&f->srv);
    free(f->scratch);
    free(f);
    return 0;
}

/* run_until - poll/dispatch until cond(f) holds; fail at the deadline */
static void
run_until(struct fixture *f, bool (*cond)(struct fixture *), const char *what)
{
    long end = kube_now_ms() + DEADLINE_MS;

    while (!cond(f)) {
        zmq_pollitem_t items[16];
        long timeout = 100;
        int n;

        if (kube_now_ms() > end)
            fail_msg("deadline passed waiting for: %s (events %zu, synced %u, errors %u: %s)",
                     what, f->rec.nev, f->rec.synced, f->rec.errors, f->rec.last_error);
        n = kube_loop_pollitems(f->loop, items, 16, &timeout);
        assert_true(n >= 0);
        assert_true(timeout >= 0 && timeout <= 100);
        assert_true(zmq_poll(items, n, timeout) >= 0);
        assert_int_equal(kube_loop_dispatch(f->loop, items, n), 0);
    }
}

/* add - one reflector recording into rec */
static void
add(struct fixture *f, const char *path, const char *selector, bool meta, int page,
    struct recorder *rec)
{
    struct kube_reflector_spec spec = {
        .path = path,
        .label_selector = selector,
        .metadata_only = meta,
        .page_size = page,
        .watch_timeout_s = 300,
        .backoff_initial_ms = 2,
        .backoff_max_ms = 10,
    };
    struct kube_reflector_cb cb = { on_event, on_synced, on_error, rec };

    assert_int_equal(kube_loop_add(f->loop, &spec, &cb), 0);
}

#define ITEM(ns, name, uid, rv) \
    "{\"metadata\":{\"name\":\"" name "\",\"namespace\":\"" ns "\",\"uid\":\"" uid \
    "\",\"resourceVersion\":\"" rv "\"}}"
#define LIST(rv, cont, items) \
    "{\"kind\":\"List\",\"apiVersion\":\"v1\",\"metadata\":{\"resourceVersion\":\"" rv \
    "\"" cont "},\"items\":[" items "]}"
#define EVENT(type, obj) "{\"type\":\"" type "\",\"object\":" obj "}\n"
#define GONE_STATUS \
    "{\"kind\":\"Status\",\"apiVersion\":\"v1\",\"metadata\":{},\"status\":\"Failure\"," \
    "\"message\":\"too old resource version: 4 (9)\",\"reason\":\"Expired\",\"code\":410}"

static bool
watching_at_10(struct fixture *f)
{
    return ts_count(&f->srv, "resourceVersion=10&timeoutSeconds=300") > 0;
}

static void
test_list_paging_then_watch(void **state)
{
    struct fixture *f = *state;
    const char *req;

    ts_add(&f->srv, (struct ts_step){
        .match = "GET /api/v1/secrets?limit=2&labelSelector=app%3Dweb%2Ctier%20in%20%28a%2Cb%29 ",
        .status = 200,
        .body = LIST("10", ",\"continue\":\"tok/1\"", ITEM("ns", "a", "ua", "1") "," ITEM("ns", "b", "ub", "2")) });
    ts_add(&f->srv, (struct ts_step){
        .match = "GET /api/v1/secrets?limit=2&continue=tok%2F1&labelSelector=",
        .status = 200, .body = LIST("10", "", ITEM("ns", "c", "uc", "3")) });
    add(f, "/api/v1/secrets", "app=web,tier in (a,b)", true, 2, &f->rec);
    assert_false(kube_loop_synced(f->loop));
    run_until(f, watching_at_10, "watch at resourceVersion 10");

    assert_true(kube_loop_synced(f->loop));
    assert_int_equal(f->rec.synced, 1);
    assert_int_equal(f->rec.nev, 3);
    expect_ev(&f->rec, 0, KUBE_EVENT_ADDED, "ns/a", "1");
    expect_ev(&f->rec, 1, KUBE_EVENT_ADDED, "ns/b", "2");
    expect_ev(&f->rec, 2, KUBE_EVENT_ADDED, "ns/c", "3");
    assert_int_equal(f->rec.errors, 0);

    req = ts_req(&f->srv, 0);
    assert_non_null(strstr(req, "Accept: application/json;as=PartialObjectMetadataList;g=meta.k8s.io;v=v1\r\n"));
    assert_non_null(strstr(req, "Authorization: Bearer abc\r\n"));
    assert_null(strstr(req, "resourceVersion="));
    req = ts_req(&f->srv, 2);
    assert_non_null(strstr(req, "GET /api/v1/secrets?watch=1&allowWatchBookmarks=true&resourceVersion=10&timeoutSeconds=300&labelSelector=app%3Dweb"));
    assert_non_null(strstr(req, "Accept: application/json;as=PartialObjectMetadata;g=meta.k8s.io;v=v1\r\n"));
    /* list pages and watch shared one kept-alive connection */
    assert_int_equal(ts_accepted(&f->srv), 1);
}

static bool
watching_at_13(struct fixture *f)
{
    return ts_count(&f->srv, "resourceVersion=13&") > 0;
}

static void
test_watch_events_chunks_bookmark_rewatch(void **state)
{
    struct fixture *f = *state;

    ts_add(&f->srv, (struct ts_step){ .match = "?limit=500 ", .status = 200,
                                      .body = LIST("5", "", ITEM("ns", "x", "ux", "5")) });
    /* events split mid-line across chunks; the stream then ends cleanly */
    ts_add(&f->srv, (struct ts_step){
        .match = "&resourceVersion=5&", .status = 200,
        .chunks = {
            EVENT("ADDED", ITEM("ns", "y", "uy", "6")) "{\"type\":\"MODI",
            "FIED\",\"object\":" ITEM("ns", "x", "ux", "7") "}\r\n{\"type\":\"BOOKMARK\",\"object\":"
            "{\"kind\":\"Secret\",\"apiVersion\":\"v1\",\"metadata\":{\"resourceVersion\":\"12\"}}}",
            "\n",
        } });
    /* the next watch must start at the bookmark's resourceVersion */
    ts_add(&f->srv, (struct ts_step){
        .match = "&resourceVersion=12&", .status = 200,
        .chunks = { EVENT("DELETED", ITEM("ns", "y", "uy", "13")) } });
    add(f, "/api/v1/secrets", NULL, false, 0, &f->rec);
    run_until(f, watching_at_13, "watch at resourceVersion 13");

    assert_int_equal(f->rec.nev, 4);
    expect_ev(&f->rec, 0, KUBE_EVENT_ADDED, "ns/x", "5");
    expect_ev(&f->rec, 1, KUBE_EVENT_ADDED, "ns/y", "6");
    expect_ev(&f->rec, 2, KUBE_EVENT_MODIFIED, "ns/x", "7");
    expect_ev(&f->rec, 3, KUBE_EVENT_DELETED, "ns/y", "13");
    assert_int_equal(f->rec.synced, 1);
    assert_int_equal(f->rec.errors, 0);
    assert_int_equal(ts_count(&f->srv, "?limit=500 "), 1);     /* no relist */
    assert_non_null(strstr(ts_req(&f->srv, 0), "Accept: application/json\r\n"));
}

static bool
synced_twice_and_watching_at_8(struct fixture *f)
{
    return f->rec.synced >= 2 && ts_count(&f->srv, "&resourceVersion=8&") > 0;
}

static void
test_410_error_relists_with_diff(void **state)
{
    struct fixture *f = *state;
    const struct ev *del_c = NULL;

    ts_add(&f->srv, (struct ts_step){ .match = "?limit=500 ", .status = 200,
        .body = LIST("4", "", ITEM("ns", "a", "ua", "1") "," ITEM("ns", "b", "ub", "2") ","
                              ITEM("ns", "c", "uc", "3") "," ITEM("ns", "e", "ue", "4")) });
    ts_add(&f->srv, (struct ts_step){ .match = "&resourceVersion=4&", .status = 200,
        .chunks = { EVENT("ERROR", GONE_STATUS) } });
    /* relist at the last resourceVersion, unpaged; that is 410 too ... */
    ts_add(&f->srv, (struct ts_step){ .match = "GET /api/v1/secrets?resourceVersion=4 ",
        .status = 410, .body = GONE_STATUS });
    /* ... so the reflector lists from scratch */
    ts_add(&f->srv, (struct ts_step){ .match = "?limit=500 ", .status = 200,
        .body = LIST("8", "", ITEM("ns", "a", "ua", "1") "," ITEM("ns", "b", "ub", "5") ","
                              ITEM("ns", "d", "ud", "6") "," ITEM("ns", "e", "ue2", "7")) });
    add(f, "/api/v1/secrets", NULL, false, 0, &f->rec);
    run_until(f, synced_twice_and_watching_at_8, "second sync and watch at 8");

    expect_ev(&f->rec, 0, KUBE_EVENT_ADDED, "ns/a", "1");
    expect_ev(&f->rec, 1, KUBE_EVENT_ADDED, "ns/b", "2");
    expect_ev(&f->rec, 2, KUBE_EVENT_ADDED, "ns/c", "3");
    expect_ev(&f->rec, 3, KUBE_EVENT_ADDED, "ns/e", "4");
    /* relist: a unchanged (nothing), b modified, d new, e recreated, c gone */
    expect_ev(&f->rec, 4, KUBE_EVENT_MODIFIED, "ns/b", "5");
    expect_ev(&f->rec, 5, KUBE_EVENT_ADDED, "ns/d", "6");
    expect_ev(&f->rec, 6, KUBE_EVENT_DELETED, "ns/e", "4");
    assert_string_equal(f->rec.ev[6].uid, "ue");
    expect_ev(&f->rec, 7, KUBE_EVENT_ADDED, "ns/e", "7");
    assert_string_equal(f->rec.ev[7].uid, "ue2");
    expect_ev(&f->rec, 8, KUBE_EVENT_DELETED, "ns/c", "3");
    del_c = &f->rec.ev[8];
    assert_string_equal(del_c->uid, "uc");
    assert_int_equal(f->rec.nev, 9);
    assert_int_equal(f->rec.synced, 2);
    assert_true(f->rec.errors >= 2);
    assert_int_equal(ts_count(&f->srv, "GET /api/v1/secrets?resourceVersion=4 "), 1);
}

static bool
third_watch(struct fixture *f)
{
    return ts_count(&f->srv, "&resourceVersion=3&") > 0;
}

static void
test_garbage_lines_relist(void **state)
{
    struct fixture *f = *state;

    f->rec.want_error = "not a JSON object";
    ts_add(&f->srv, (struct ts_step){ .match = "?limit=500 ", .status = 200,
        .body = LIST("1", "", ITEM("ns", "a", "ua", "1")) });
    ts_add(&f->srv, (struct ts_step){ .match = "&resourceVersion=1&", .status = 200,
        .chunks = { "this is not json\n" }, .hold = true });
    ts_add(&f->srv, (struct ts_step){ .match = "?limit=500 ", .status = 200,
        .body = LIST("2", "", ITEM("ns", "a", "ua", "1")) });
    /* an event without an object is garbage too */
    ts_add(&f->srv, (struct ts_step){ .match = "&resourceVersion=2&", .status = 200,
        .chunks = { "{\"type\":\"ADDED\"}\n" }, .hold = true });
    ts_add(&f->srv, (struct ts_step){ .match = "?limit=500 ", .status = 200,
        .body = LIST("3", "", ITEM("ns", "a", "ua", "1")) });
    add(f, "/api/v1/secrets", NULL, false, 0, &f->rec);
    run_until(f, third_watch, "third watch");

    assert_int_equal(f->rec.nev, 1);    /* a is unchanged in every relist */
    expect_ev(&f->rec, 0, KUBE_EVENT_ADDED, "ns/a", "1");
    assert_int_equal(f->rec.synced, 3);
    assert_true(f->rec.errors >= 2);
    assert_true(f->rec.saw_error_text);
    assert_int_equal(ts_count(&f->srv, "?limit=500 "), 3);
}

static bool
watching_at_11(struct fixture *f)
{
    return ts_count(&f->srv, "&resourceVersion=11&") > 0;
}

static void
test_410_on_continue_restarts_list(void **state)
{
    struct fixture *f = *state;

    ts_add(&f->srv, (struct ts_step){ .match = "?limit=1 ", .status = 200,
        .body = LIST("10", ",\"continue\":\"old\"", ITEM("ns", "a", "ua", "1")) });
    ts_add(&f->srv, (struct ts_step){ .match = "&continue=old ", .status = 410,
        .body = "{\"kind\":\"Status\",\"apiVersion\":\"v1\",\"metadata\":{\"continue\":\"x\"},"
                "\"status\":\"Failure\",\"message\":\"The provided continue parameter is too old\","
                "\"reason\":\"Expired\",\"code\":410}" });
    ts_add(&f->srv, (struct ts_step){ .match = "?limit=1 ", .status = 200,
        .body = LIST("11", ",\"continue\":\"new\"", ITEM("ns", "a", "ua", "1")) });
    ts_add(&f->srv, (struct ts_step){ .match = "&continue=new ", .status = 200,
        .body = LIST("11", "", ITEM("ns", "b", "ub", "2")) });
    add(f, "/api/v1/secrets", NULL, false, 1, &f->rec);
    run_until(f, watching_at_11, "watch at 11");

    assert_int_equal(f->rec.nev, 2);
    expect_ev(&f->rec, 0, KUBE_EVENT_ADDED, "ns/a", "1");
    expect_ev(&f->rec, 1, KUBE_EVENT_ADDED, "ns/b", "2");
    assert_int_equal(f->rec.synced, 1);
    assert_int_equal(f->rec.errors, 1);
    assert_non_null(strstr(f->rec.last_error, "continue"));
    assert_int_equal(ts_count(&f->srv, "?limit=1 "), 2);
}

static bool
fourth_watch(struct fixture *f)
{
    return ts_count(&f->srv, "watch=1") >= 4;
}

static void
test_watch_http_errors_back_off_and_rewatch(void **state)
{
    struct fixture *f = *state;

    ts_add(&f->srv, (struct ts_step){ .match = "?limit=500 ", .status = 200,
        .body = LIST("1", "", ITEM("", "cluster-scoped", "u1", "1")) });
    ts_add(&f->srv, (struct ts_step){ .match = "watch=1", .status = 429,
        .headers = "Retry-After: 0\r\nContent-Type: text/plain\r\n", .body = "Too many requests" });
    ts_add(&f->srv, (struct ts_step){ .match = "watch=1", .status = 500,
        .body = "{\"kind\":\"Status\",\"message\":\"boom\",\"reason\":\"InternalError\",\"code\":500}" });
    /* a watch that ends at once without events is an error as well */
    ts_add(&f->srv, (struct ts_step){ .match = "watch=1", .status = 200, .body = "" });
    add(f, "/apis/fleet.cattle.io/v1alpha1/bundles", NULL, true, 0, &f->rec);
    run_until(f, fourth_watch, "fourth watch");

    assert_int_equal(f->rec.nev, 1);
    expect_ev(&f->rec, 0, KUBE_EVENT_ADDED, "/cluster-scoped", "1");
    assert_int_equal(f->rec.errors, 3);
    assert_int_equal(ts_count(&f->srv, "?limit=500 "), 1);     /* never relisted */
    assert_int_equal(ts_count(&f->srv, "&resourceVersion=1&"), 4);
}

static bool
relisted_at_rv(struct fixture *f)
{
    return f->rec.synced >= 2 && ts_count(&f->srv, "&resourceVersion=9&") > 0;
}

static void
test_watch_http_410_relists_at_last_rv(void **state)
{
    struct fixture *f = *state;

    ts_add(&f->srv, (struct ts_step){ .match = "?limit=500 ", .status = 200,
        .body = LIST("6", "", ITEM("ns", "a", "ua", "6")) });
    ts_add(&f->srv, (struct ts_step){ .match = "&resourceVersion=6&", .status = 200,
        .chunks = { EVENT("MODIFIED", ITEM("ns", "a", "ua", "7")) } });
    ts_add(&f->srv, (struct ts_step){ .match = "&resourceVersion=7&", .status = 410,
        .body = GONE_STATUS });
    ts_add(&f->srv, (struct ts_step){ .match = "GET /api/v1/secrets?resourceVersion=7 ",
        .status = 200, .body = LIST("9", "", ITEM("ns", "a", "ua", "8")) });
    add(f, "/api/v1/secrets", NULL, false, 0, &f->rec);
    run_until(f, relisted_at_rv, "relist at 7 and watch at 9");

    assert_int_equal(f->rec.nev, 3);
    expect_ev(&f->rec, 0, KUBE_EVENT_ADDED, "ns/a", "6");
    expect_ev(&f->rec, 1, KUBE_EVENT_MODIFIED, "ns/a", "7");
    expect_ev(&f->rec, 2, KUBE_EVENT_MODIFIED, "ns/a", "8");
    assert_int_equal(f->rec.errors, 1);
    assert_int_equal(ts_count(&f->srv, "?limit=500 "), 1);
}

static bool
synced_once(struct fixture *f)
{
    return f->rec.synced >= 1;
}

static void
test_401_rereads_shared_token_file(void **state)
{
    struct fixture *f = *state;
    char tok[] = "/tmp/fh-rtoken-XXXXXX", yaml[96], err[512];
    struct timespec times[2];
    struct stat st;
    FILE *fp;
    int fd = mkstemp(tok);

    /* rebuild the loop on a kubeconfig with tokenFile */
    assert_true(fd >= 0);
    assert_int_equal(write(fd, "tokenA", 6), 6);
    close(fd);
    kube_loop_free(&f->loop);
    kube_config_free(&f->cfg);
    unlink(f->kubeconfig);
    snprintf(yaml, sizeof(yaml), "    tokenFile: %s\n", tok);
    assert_int_equal(ts_kubeconfig(&f->srv, f->kubeconfig, sizeof(f->kubeconfig), NULL, yaml), 0);
    assert_int_equal(kube_config_load_file(f->kubeconfig, NULL, &f->cfg, err, sizeof(err)), 0);
    f->loop = kube_loop_new(f->cfg, NULL, &f->log);
    assert_non_null(f->loop);

    /* rotate without changing size or mtime: only the 401 reveals it */
    assert_int_equal(stat(tok, &st), 0);
    fp = fopen(tok, "w");
    assert_non_null(fp);
    fputs("tokenB", fp);
    fclose(fp);
    times[0] = st.st_atim;
    times[1] = st.st_mtim;
    assert_int_equal(utimensat(AT_FDCWD, tok, times, 0), 0);

    ts_add(&f->srv, (struct ts_step){ .match = "Bearer tokenA", .status = 401,
        .body = "{\"kind\":\"Status\",\"reason\":\"Unauthorized\",\"code\":401}" });
    ts_add(&f->srv, (struct ts_step){ .match = "Bearer tokenB", .status = 200,
        .body = LIST("1", "", ITEM("ns", "a", "ua", "1")) });
    add(f, "/api/v1/secrets", NULL, false, 0, &f->rec);
    run_until(f, synced_once, "list with the new token");
    assert_int_equal(f->rec.nev, 1);
    assert_int_equal(f->rec.errors, 1);
    assert_non_null(strstr(f->rec.last_error, "got a new token"));
    unlink(tok);
}

static bool
both_synced_and_zmq_seen(struct fixture *f)
{
    return kube_loop_synced(f->loop) && f->rec2.errors == 1 /* used as "zmq seen" */ &&
           ts_count(&f->srv, "watch=1") >= 2;
}

static void
test_two_reflectors_beside_a_zmq_socket(void **state)
{
    struct fixture *f = *state;
    void *ctx = zmq_ctx_new(), *a, *b;
    long end = kube_now_ms() + DEADLINE_MS;
    struct recorder bundles = { 0 };

    assert_non_null(ctx);
    a = zmq_socket(ctx, ZMQ_PAIR);
    b = zmq_socket(ctx, ZMQ_PAIR);
    assert_int_equal(zmq_bind(a, "inproc://sup"), 0);
    assert_int_equal(zmq_connect(b, "inproc://sup"), 0);
    assert_int_equal(zmq_send(b, "hello", 5, 0), 5);

    ts_add(&f->srv, (struct ts_step){ .match = "GET /api/v1/secrets?limit=500 ", .status = 200,
        .body = LIST("3", "", ITEM("n1", "s", "us", "3")) });
    ts_add(&f->srv, (struct ts_step){ .match = "GET /apis/fleet.cattle.io/v1alpha1/bundles?limit=500 ",
        .status = 200, .body = LIST("4", "", ITEM("n2", "b", "ub", "4")) });
    add(f, "/api/v1/secrets", NULL, true, 0, &f->rec);
    add(f, "/apis/fleet.cattle.io/v1alpha1/bundles", NULL, true, 0, &bundles);
    /* rec2.errors counts zmq messages here */
    while (!both_synced_and_zmq_seen(f)) {
        zmq_pollitem_t items[16] = { { a, 0, ZMQ_POLLIN, 0 } };
        long timeout = 100;
        int n;

        assert_true(kube_now_ms() < end);
        n = kube_loop_pollitems(f->loop, items + 1, 15, &timeout);
        assert_true(n >= 0);
        assert_true(zmq_poll(items, n + 1, timeout) >= 0);
        if (items[0].revents & ZMQ_POLLIN) {
            char buf[16];

            assert_int_equal(zmq_recv(a, buf, sizeof(buf), 0), 5);
            f->rec2.errors++;
        }
        assert_int_equal(kube_loop_dispatch(f->loop, items, n + 1), 0);
    }
    assert_int_equal(f->rec.nev, 1);
    expect_ev(&f->rec, 0, KUBE_EVENT_ADDED, "n1/s", "3");
    assert_int_equal(bundles.nev, 1);
    expect_ev(&bundles, 0, KUBE_EVENT_ADDED, "n2/b", "4");
    assert_int_equal(ts_count(&f->srv, "secrets?watch=1&allowWatchBookmarks=true&resourceVersion=3&"), 1);
    assert_int_equal(ts_count(&f->srv, "bundles?watch=1&allowWatchBookmarks=true&resourceVersion=4&"), 1);
    zmq_close(a);
    zmq_close(b);
    zmq_ctx_term(ctx);
}

static void
test_bad_spec_and_small_pollset(void **state)
{
    struct fixture *f = *state;
    struct kube_reflector_cb cb = { on_event, on_synced, on_error, &f->rec };
    struct kube_reflector_spec spec = { .path = "api/v1/secrets" };
    zmq_pollitem_t items[1];
    long timeout = -1;

    assert_int_equal(kube_loop_add(f->loop, &spec, &cb), -FH_EINVAL);
    spec.path = "/api/v1/secrets?watch=1";
    assert_int_equal(kube_loop_add(f->loop, &spec, &cb), -FH_EINVAL);
    assert_false(kube_loop_synced(f->loop));     /* no reflectors: not synced */
    /* nothing to do: the caller's infinite timeout stays */
    assert_int_equal(kube_loop_pollitems(f->loop, items, 1, &timeout), 0);
    assert_int_equal(timeout, -1);
    /* a new reflector wants to run now */
    spec.path = "/api/v1/secrets";
    assert_int_equal(kube_loop_add(f->loop, &spec, &cb), 0);
    timeout = -1;
    assert_true(kube_loop_pollitems(f->loop, items, 1, &timeout) >= 0);
    assert_true(timeout >= 0);
}

/* big_list - a list body of one object carrying a 2000-byte annotation
 * (over the 1500-byte cap these tests set), kept in f->scratch */
static const char *
big_list(struct fixture *f)
{
    static const char head[] =
        "{\"kind\":\"List\",\"apiVersion\":\"v1\",\"metadata\":{\"resourceVersion\":\"5\"},"
        "\"items\":[{\"metadata\":{\"name\":\"huge\",\"namespace\":\"ns\",\"uid\":\"uh\","
        "\"resourceVersion\":\"5\",\"annotations\":{\"a\":\"";
    static const char tail[] = "\"}}}]}";
    size_t n = sizeof(head) - 1 + 2000 + sizeof(tail);

    if (!f->scratch) {
        f->scratch = malloc(n);
        assert_non_null(f->scratch);
        memcpy(f->scratch, head, sizeof(head) - 1);
        memset(f->scratch + sizeof(head) - 1, 'x', 2000);
        memcpy(f->scratch + sizeof(head) - 1 + 2000, tail, sizeof(tail));
    }
    return f->scratch;
}

/* small_cap_loop - replace the fixture's loop by one with a 1500-byte body cap */
static void
small_cap_loop(struct fixture *f)
{
    struct kube_client_opts opts = { .max_body_bytes = 1500 };

    kube_loop_free(&f->loop);
    f->loop = kube_loop_new(f->cfg, &opts, &f->log);
    assert_non_null(f->loop);
}

static bool
watching_at_8_after_relist(struct fixture *f)
{
    return f->rec.synced >= 2 && ts_count(&f->srv, "&resourceVersion=8&") > 0;
}

static void
test_oversized_page_halves_limit_then_restores(void **state)
{
    struct fixture *f = *state;

    small_cap_loop(f);
    f->rec.want_error = "retrying with limit 20";
    /* 40 -> 20 -> 10: too big twice, then two small pages */
    ts_add(&f->srv, (struct ts_step){ .match = "?limit=40 ", .status = 200, .body = big_list(f) });
    ts_add(&f->srv, (struct ts_step){ .match = "?limit=20 ", .status = 200, .body = big_list(f) });
    ts_add(&f->srv, (struct ts_step){ .match = "?limit=10 ", .status = 200,
        .body = LIST("5", ",\"continue\":\"c1\"", ITEM("ns", "a", "ua", "1")) });
    ts_add(&f->srv, (struct ts_step){ .match = "?limit=10&continue=c1 ", .status = 200,
        .body = LIST("5", "", ITEM("ns", "b", "ub", "2")) });
    /* a 410 relist: unpaged at resourceVersion 5 is too big as well, so the
     * reflector lists paged from scratch - with the normal limit again */
    ts_add(&f->srv, (struct ts_step){ .match = "&resourceVersion=5&", .status = 200,
        .chunks = { EVENT("ERROR", GONE_STATUS) } });
    ts_add(&f->srv, (struct ts_step){ .match = "GET /api/v1/secrets?resourceVersion=5 ",
        .status = 200, .body = big_list(f) });
    ts_add(&f->srv, (struct ts_step){ .match = "?limit=40 ", .status = 200,
        .body = LIST("8", "", ITEM("ns", "a", "ua", "1")) });
    add(f, "/api/v1/secrets", NULL, true, 40, &f->rec);
    run_until(f, watching_at_8_after_relist, "relist with limit 40 and watch at 8");

    assert_true(f->rec.saw_error_text);
    assert_int_equal(f->rec.nev, 3);
    expect_ev(&f->rec, 0, KUBE_EVENT_ADDED, "ns/a", "1");
    expect_ev(&f->rec, 1, KUBE_EVENT_ADDED, "ns/b", "2");
    expect_ev(&f->rec, 2, KUBE_EVENT_DELETED, "ns/b", "2");    /* gone in the relist */
    assert_int_equal(ts_count(&f->srv, "?limit=40 "), 2);
    assert_int_equal(ts_count(&f->srv, "?limit=20 "), 1);
    assert_int_equal(ts_count(&f->srv, "?limit=10 "), 1);
    assert_int_equal(ts_count(&f->srv, "?limit=10&continue=c1 "), 1);
    assert_int_equal(ts_count(&f->srv, "?limit=5"), 0);       /* never below the floor */
    assert_non_null(strstr(f->rec.last_error, "in pages of 40"));
}

static bool
floor_retried(struct fixture *f)
{
    return ts_count(&f->srv, "?limit=10 ") >= 3 && f->rec.saw_error_text;
}

static void
test_oversized_page_at_floor_reports_and_backs_off(void **state)
{
    struct fixture *f = *state;

    small_cap_loop(f);
    f->rec.want_error = "list of /api/v1/secrets: a page of 10 objects is larger than the "
                        "1500-byte response cap even at the smallest page size";
    ts_add(&f->srv, (struct ts_step){ .match = "?limit=15 ", .status = 200, .body = big_list(f) });
    for (int i = 0; i < 3; i++)
        ts_add(&f->srv, (struct ts_step){ .match = "?limit=10 ", .status = 200,
                                          .body = big_list(f) });
    add(f, "/api/v1/secrets", NULL, true, 15, &f->rec);
    run_until(f, floor_retried, "three lists at the floor");

    assert_int_equal(f->rec.nev, 0);
    assert_int_equal(f->rec.synced, 0);
    assert_false(kube_loop_synced(f->loop));
    assert_int_equal(ts_count(&f->srv, "?limit=15 "), 1);
    assert_true(f->rec.errors >= 3);
}

static bool
bundles_watching_at_4(struct fixture *f)
{
    return ts_count(&f->srv, "bundles?watch=1&allowWatchBookmarks=true&resourceVersion=4&") > 0;
}

static void
test_watcher_bundle_spec_selects_managed_bundles(void **state)
{
    struct fixture *f = *state;
    struct kube_reflector_cb cb = { on_event, on_synced, on_error, &f->rec };
    struct kube_reflector_spec spec;
    char path[256];

    assert_int_equal(watch_kind_spec(PROTO_RES_BUNDLE, "fleet-default", path, sizeof(path),
                                     &spec), 0);
    spec.backoff_initial_ms = 2;
    spec.backoff_max_ms = 10;
    ts_add(&f->srv, (struct ts_step){
        .match = "GET /apis/fleet.cattle.io/v1alpha1/namespaces/fleet-default/bundles?limit=500"
                 "&labelSelector=app.kubernetes.io%2Fmanaged-by%3Dfleet-handshake ",
        .status = 200, .body = LIST("4", "", ITEM("fleet-default", "b", "ub", "3")) });
    assert_int_equal(kube_loop_add(f->loop, &spec, &cb), 0);
    run_until(f, bundles_watching_at_4, "Bundle watch at 4");

    assert_int_equal(f->rec.nev, 1);
    assert_int_equal(f->rec.errors, 0);
    assert_int_equal(ts_count(&f->srv, "labelSelector=app.kubernetes.io%2Fmanaged-by%3D"
                                       "fleet-handshake"), 2);
    assert_non_null(strstr(ts_req(&f->srv, 1),
        "GET /apis/fleet.cattle.io/v1alpha1/namespaces/fleet-default/bundles?watch=1&"
        "allowWatchBookmarks=true&resourceVersion=4&timeoutSeconds="));
    assert_non_null(strstr(ts_req(&f->srv, 1),
        "&labelSelector=app.kubernetes.io%2Fmanaged-by%3Dfleet-handshake HTTP/1.1"));
    assert_non_null(strstr(ts_req(&f->srv, 1), "Accept: application/json;as=PartialObjectMetadata;"));
}

static void
test_status_code_out_of_range_is_no_code(void **state)
{
    static const char *const bodies[] = {
        "{\"kind\":\"Status\",\"code\":1e300}",
        "{\"kind\":\"Status\",\"code\":-1e300}",
        "{\"kind\":\"Status\",\"code\":9.3e18}",
        "{\"kind\":\"Status\",\"code\":7}",
    };
    long code;

    (void)state;
    for (size_t i = 0; i < sizeof(bodies) / sizeof(bodies[0]); i++) {
        cJSON *j = cJSON_Parse(bodies[i]);

        assert_non_null(j);
        code = 42;
        assert_true(kube_status_fields(j, &code, NULL, NULL));
        if (code != 0)
            fail_msg("%s: code %ld", bodies[i], code);
        cJSON_Delete(j);
    }
    {
        cJSON *j = cJSON_Parse("{\"kind\":\"Status\",\"code\":410}");

        assert_true(kube_status_fields(j, &code, NULL, NULL));
        assert_int_equal(code, 410);
        cJSON_Delete(j);
    }
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_list_paging_then_watch, setup, teardown),
        cmocka_unit_test_setup_teardown(test_watch_events_chunks_bookmark_rewatch, setup, teardown),
        cmocka_unit_test_setup_teardown(test_410_error_relists_with_diff, setup, teardown),
        cmocka_unit_test_setup_teardown(test_garbage_lines_relist, setup, teardown),
        cmocka_unit_test_setup_teardown(test_410_on_continue_restarts_list, setup, teardown),
        cmocka_unit_test_setup_teardown(test_watch_http_errors_back_off_and_rewatch, setup, teardown),
        cmocka_unit_test_setup_teardown(test_watch_http_410_relists_at_last_rv, setup, teardown),
        cmocka_unit_test_setup_teardown(test_401_rereads_shared_token_file, setup, teardown),
        cmocka_unit_test_setup_teardown(test_two_reflectors_beside_a_zmq_socket, setup, teardown),
        cmocka_unit_test_setup_teardown(test_bad_spec_and_small_pollset, setup, teardown),
        cmocka_unit_test_setup_teardown(test_oversized_page_halves_limit_then_restores, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_oversized_page_at_floor_reports_and_backs_off,
                                        setup, teardown),
        cmocka_unit_test_setup_teardown(test_watcher_bundle_spec_selects_managed_bundles, setup,
                                        teardown),
        cmocka_unit_test(test_status_code_out_of_range_is_no_code),
    };
    int rc;

    curl_global_init(CURL_GLOBAL_DEFAULT);
    rc = cmocka_run_group_tests(tests, NULL, NULL);
    curl_global_cleanup();
    return rc;
}
