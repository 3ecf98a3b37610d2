/* test_kube_global.c - with kube_global_init_wiping() (and cJSON's wiping
 * hooks, as fh-watcher installs them) no buffer that held a response body
 * reaches free() unwiped: a reflector lists and watches Secret metadata
 * whose kubectl last-applied annotation carries a marker, and every block
 * freed - ours, libcurl's, cJSON's - is checked for it. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>
#include <cjson/cJSON.h>
#include <curl/curl.h>
#include <zmq.h>

#include "fh_err.h"
#include "fh_log.h"
#include "free_probe.h"
#include "kube_backoff.h"
#include "kube_config.h"
#include "kube_global.h"
#include "kube_watch.h"
#include "secret_mem.h"
#include "test_kube_server.h"

#define MARKER "cGFzc3dvcmQtbWFya2Vy"   /* base64 of "password-marker" */
#define DEADLINE_MS 20000
#define ANNOTATIONS \
    "\"annotations\":{\"kubectl.kubernetes.io/last-applied-configuration\":" \
    "\"{\\\"data\\\":{\\\"password\\\":\\\"" MARKER "\\\"}}\"}"
#define ITEM(name, rv) \
    "{\"metadata\":{\"name\":\"" name "\",\"namespace\":\"ns\",\"uid\":\"u-" name "\"," \
    "\"resourceVersion\":\"" rv "\"," ANNOTATIONS "}}"

struct seen {
    unsigned events;
    bool marker_in_event;       /* the reflector did deliver the annotation */
};

/* on_event - count, and check the marker really went through */
static void
on_event(void *arg, enum kube_event_type type, const cJSON *obj)
{
    struct seen *s = arg;
    char *text = cJSON_PrintUnformatted(obj);

    (void)type;
    s->events++;
    if (text && strstr(text, MARKER))
        s->marker_in_event = true;
    cJSON_free(text);
}

static void
test_curl_frees_through_the_wiping_allocator(void **state)
{
    char *esc;

    (void)state;
    probe_reset(NULL);
    esc = curl_easy_escape(NULL, "a b", 0);
    assert_non_null(esc);
    curl_free(esc);
    assert_ptr_equal(probe_last, esc);
    probe_reset(NULL);
}

static void
test_reflector_leaves_no_response_bytes_in_freed_heap(void **state)
{
    struct kube_reflector_spec spec = {
        .path = "/api/v1/secrets", .metadata_only = true, .page_size = 1,
        .watch_timeout_s = 300, .backoff_initial_ms = 2, .backoff_max_ms = 10,
    };
    struct seen seen = { 0 };
    struct kube_reflector_cb cb = { on_event, NULL, NULL, &seen };
    struct kube_config *cfg = NULL;
    struct kube_loop *loop;
    char kubeconfig[64], err[512];
    struct fh_log log;
    struct ts srv;
    long end;

    (void)state;
    assert_int_equal(ts_start(&srv), 0);
    fh_log_init(&log, "test", FH_LOG_ERROR);
    log.fd = -1;
    assert_int_equal(ts_kubeconfig(&srv, kubeconfig, sizeof(kubeconfig), NULL, NULL), 0);
    assert_int_equal(kube_config_load_file(kubeconfig, NULL, &cfg, err, sizeof(err)), 0);
    ts_add(&srv, (struct ts_step){ .match = "?limit=1 ", .status = 200,
        .body = "{\"kind\":\"PartialObjectMetadataList\",\"metadata\":{\"resourceVersion\":\"3\","
                "\"continue\":\"c\"},\"items\":[" ITEM("a", "1") "]}" });
    ts_add(&srv, (struct ts_step){ .match = "&continue=c ", .status = 200,
        .body = "{\"kind\":\"PartialObjectMetadataList\",\"metadata\":{\"resourceVersion\":\"3\"},"
                "\"items\":[" ITEM("b", "2") "]}" });
    /* a watch event split mid-marker across chunks, then the stream stays open */
    ts_add(&srv, (struct ts_step){ .match = "watch=1", .status = 200, .hold = true,
        .chunks = { "{\"type\":\"MODIFIED\",\"object\":" ITEM("c", "4") "}\n"
                    "{\"type\":\"ADDED\",\"object\":{\"metadata\":{\"name\":\"d\",\"namespace\":"
                    "\"ns\",\"resourceVersion\":\"5\",\"annotations\":{\"x\":\"cGFzc3dv",
                    "cmQtbWFya2Vy\"}}}}\n" } });

    probe_reset(MARKER);
    loop = kube_loop_new(cfg, NULL, &log);
    assert_non_null(loop);
    assert_int_equal(kube_loop_add(loop, &spec, &cb), 0);
    end = kube_now_ms() + DEADLINE_MS;
    while (seen.events < 4) {
        zmq_pollitem_t items[16];
        long timeout = 100;
        int n;

        assert_true(kube_now_ms() < end);
        n = kube_loop_pollitems(loop, items, 16, &timeout);
        assert_true(n >= 0);
        assert_true(zmq_poll(items, n, timeout) >= 0);
        assert_int_equal(kube_loop_dispatch(loop, items, n), 0);
    }
    kube_loop_free(&loop);
    kube_config_free(&cfg);
    assert_true(seen.marker_in_event);
    assert_true(probe_frees > 20);
    if (probe_dirty)
        fail_msg("%lu freed blocks still held the response's annotation", probe_dirty);
    probe_reset(NULL);
    unlink(kubeconfig);
    ts_stop(&srv);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_curl_frees_through_the_wiping_allocator),
        cmocka_unit_test(test_reflector_leaves_no_response_bytes_in_freed_heap),
    };
    int rc;

    /* as fh-watcher's main does, before anything touches libcurl or cJSON */
    if (kube_global_init_wiping() < 0)
        return 1;
    secret_json_hooks_install();
    rc = cmocka_run_group_tests(tests, NULL, NULL);
    kube_global_cleanup();
    return rc;
}
