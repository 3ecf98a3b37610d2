/* test_child_proc.c - common child flags, connect+HELLO, heartbeat reply. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>
#include <zmq.h>

#include "chan.h"
#include "child_proc.h"
#include "fh_err.h"
#include "proto.h"

static void
test_parse_flags(void **state)
{
    char *ok[] = { "x", "--endpoint", "ipc:///tmp/a", "--gen", "7", "--slot", "3",
                   "--kubeconfig", "/k", "--log-level", "debug", "--namespace", "a",
                   "--namespace", "b", NULL };
    char *no_ns[] = { "x", "--endpoint", "e", "--namespace", "a", NULL };
    char *bad_gen[] = { "x", "--endpoint", "e", "--gen", "7x", NULL };
    char *missing[] = { "x", "--gen", "1", NULL };
    char *help[] = { "x", "--help", NULL };
    struct child_args a;

    (void)state;
    assert_int_equal(child_args_parse(15, ok, "x", true, &a), 0);
    assert_string_equal(a.endpoint, "ipc:///tmp/a");
    assert_int_equal(a.gen, 7);
    assert_int_equal(a.slot, 3);
    assert_string_equal(a.kubeconfig, "/k");
    assert_int_equal(a.level, FH_LOG_DEBUG);
    assert_int_equal(a.nns, 2);
    assert_string_equal(a.namespaces[1], "b");
    assert_int_equal(child_args_parse(5, no_ns, "x", false, &a), -FH_EINVAL);
    assert_int_equal(child_args_parse(5, bad_gen, "x", false, &a), -FH_EINVAL);
    assert_int_equal(child_args_parse(3, missing, "x", false, &a), -FH_EINVAL);
    assert_int_equal(child_args_parse(2, help, "x", false, &a), 1);
}

static void
test_connect_says_hello_and_heartbeats(void **state)
{
    char dir[128], ep[CHAN_ENDPOINT_MAX], rid[CHAN_ID_MAX];
    struct child_args a;
    struct proto_msg m;
    void *zctx = zmq_ctx_new();
    void *router, *dealer;
    int err = 0;

    (void)state;
    assert_int_equal(chan_make_ipc_dir(dir, sizeof(dir)), 0);
    assert_int_equal(chan_ipc_endpoint(ep, sizeof(ep), dir), 0);
    router = chan_router_bind(zctx, ep, &err);
    assert_non_null(router);
    memset(&a, 0, sizeof(a));
    a.endpoint = ep;
    a.gen = 9;
    a.slot = 2;
    dealer = child_connect(zctx, PROTO_ROLE_WORKER, &a, &err);
    assert_non_null(dealer);

    zmq_pollitem_t it = { router, 0, ZMQ_POLLIN, 0 };
    assert_int_equal(zmq_poll(&it, 1, 10000), 1);
    assert_int_equal(chan_recv(router, rid, sizeof(rid), &m, 0), 0);
    assert_string_equal(rid, "worker.2.9");
    assert_int_equal(m.type, PROTO_HELLO);
    assert_int_equal(m.gen, 9);
    assert_int_equal(m.u.hello.slot, 2);
    assert_int_equal(m.u.hello.pid, getpid());
    proto_msg_clear(&m);

    assert_int_equal(child_reply_heartbeat(dealer, 9), 0);
    assert_int_equal(zmq_poll(&it, 1, 10000), 1);
    assert_int_equal(chan_recv(router, rid, sizeof(rid), &m, 0), 0);
    assert_int_equal(m.type, PROTO_HEARTBEAT);
    proto_msg_clear(&m);

    assert_true(fh_now_ms() > 0);
    chan_close(&dealer);
    chan_close(&router);
    zmq_ctx_term(zctx);
    chan_remove_ipc_dir(dir);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_parse_flags),
        cmocka_unit_test(test_connect_says_hello_and_heartbeats),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
