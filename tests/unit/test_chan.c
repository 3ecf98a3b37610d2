/*
 * test_chan.c - the ZeroMQ channel: a ROUTER and DEALERs over a real ipc://
 * endpoint in a private temp directory, inside one process. Covers the hello
 * round trip with routing ids, replies to a chosen peer, sends to unknown
 * peers, malformed frames in both directions (consumed, next message still
 * arrives), foreign peer ids, HWM backpressure, context shutdown, routing-id
 * parsing and the ipc directory helpers. Every wait is a zmq_poll with a
 * generous deadline; nothing sleeps.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <cmocka.h>
#include <zmq.h>

#include "chan.h"
#include "fh_err.h"
#include "proto.h"

#define DEADLINE_MS 10000   /* failure bound only: a healthy run never waits this long */

#define FX_MAX_SOCKS 8

struct fx {
    void *ctx;
    void *router;
    void *socks[FX_MAX_SOCKS];  /* every other socket a test opens; teardown closes them */
    size_t nsocks;
    char dir[CHAN_DIR_MAX + 1];
    char endpoint[CHAN_ENDPOINT_MAX];
};

/* fx_setup - context, private directory, bound ROUTER */
static int
fx_setup(void **state)
{
    struct fx *fx = calloc(1, sizeof(*fx));
    int err = -1;

    assert_non_null(fx);
    fx->ctx = zmq_ctx_new();
    assert_non_null(fx->ctx);
    assert_int_equal(chan_make_ipc_dir(fx->dir, sizeof(fx->dir)), 0);
    assert_int_equal(chan_ipc_endpoint(fx->endpoint, sizeof(fx->endpoint), fx->dir), 0);
    fx->router = chan_router_bind(fx->ctx, fx->endpoint, &err);
    assert_non_null(fx->router);
    assert_int_equal(err, 0);
    *state = fx;
    return 0;
}

/* fx_teardown - close, terminate, remove the directory */
static int
fx_teardown(void **state)
{
    struct fx *fx = *state;

    /* closing here, not in the tests, keeps zmq_ctx_term from hanging on
     * sockets a failed test left open */
    for (size_t i = 0; i < fx->nsocks; i++)
        chan_close(&fx->socks[i]);
    chan_close(&fx->router);
    assert_int_equal(zmq_ctx_term(fx->ctx), 0);
    assert_int_equal(chan_remove_ipc_dir(fx->dir), 0);
    free(fx);
    return 0;
}

/* track - hand a socket to the fixture, which closes it in teardown */
static void *
track(struct fx *fx, void *s)
{
    assert_non_null(s);
    assert_true(fx->nsocks < FX_MAX_SOCKS);
    fx->socks[fx->nsocks++] = s;
    return s;
}

/* dealer - connect a DEALER with routing id id (closed by teardown) */
static void *
dealer(struct fx *fx, const char *id)
{
    int err = -1;
    void *s = chan_dealer_connect(fx->ctx, fx->endpoint, id, &err);

    assert_non_null(s);
    assert_int_equal(err, 0);
    return track(fx, s);
}

/* wait_in - block in zmq_poll until sock is readable (fails past the deadline) */
static void
wait_in(void *sock)
{
    zmq_pollitem_t it = { .socket = sock, .events = ZMQ_POLLIN };

    assert_int_equal(zmq_poll(&it, 1, DEADLINE_MS), 1);
}

/* recv_at - wait, then chan_recv with DONTWAIT; returns its code */
static int
recv_at(void *sock, char *peer, size_t cap, struct proto_msg *m)
{
    wait_in(sock);
    return chan_recv(sock, peer, cap, m, ZMQ_DONTWAIT);
}

/* msg_hello - a HELLO as a child sends it */
static struct proto_msg
msg_hello(uint8_t role, uint32_t slot, uint32_t gen, int32_t pid)
{
    struct proto_msg m;

    memset(&m, 0, sizeof(m));
    m.type = PROTO_HELLO;
    m.gen = gen;
    m.u.hello.role = role;
    m.u.hello.slot = slot;
    m.u.hello.pid = pid;
    return m;
}

/* msg_plain - a body-less message (HEARTBEAT, QUIT) */
static struct proto_msg
msg_plain(uint8_t type, uint32_t gen)
{
    struct proto_msg m;

    memset(&m, 0, sizeof(m));
    m.type = type;
    m.gen = gen;
    return m;
}

/* say_hello - a dealer introduces itself and the router reads it */
static void
say_hello(struct fx *fx, void *d, const char *id, uint32_t slot, uint32_t gen)
{
    struct proto_msg m = msg_hello(PROTO_ROLE_WORKER, slot, gen, 100 + (int32_t)slot);
    char peer[CHAN_ID_MAX];

    assert_int_equal(chan_send(d, NULL, &m, 0), 0);
    assert_int_equal(recv_at(fx->router, peer, sizeof(peer), &m), 0);
    assert_string_equal(peer, id);
    assert_int_equal(m.type, PROTO_HELLO);
    proto_msg_clear(&m);
}

static void
test_hello_roundtrip(void **state)
{
    struct fx *fx = *state;
    void *d = dealer(fx, "worker.3.7");
    struct proto_msg m = msg_hello(PROTO_ROLE_WORKER, 3, 7, 4242);
    char peer[CHAN_ID_MAX];
    int role = 0;
    uint32_t slot = 0, gen = 0;

    assert_int_equal(chan_send(d, NULL, &m, 0), 0);
    memset(&m, 0x5a, sizeof(m));
    assert_int_equal(recv_at(fx->router, peer, sizeof(peer), &m), 0);
    assert_string_equal(peer, "worker.3.7");
    assert_int_equal(m.type, PROTO_HELLO);
    assert_int_equal(m.gen, 7);
    assert_int_equal(m.u.hello.role, PROTO_ROLE_WORKER);
    assert_int_equal(m.u.hello.slot, 3);
    assert_int_equal(m.u.hello.pid, 4242);
    proto_msg_clear(&m);
    assert_int_equal(chan_routing_id_parse(peer, &role, &slot, &gen), 0);
    assert_int_equal(role, PROTO_ROLE_WORKER);
    assert_int_equal(slot, 3);
    assert_int_equal(gen, 7);

    /* and the supervisor answers on the same channel */
    m = msg_plain(PROTO_HEARTBEAT, 0);
    assert_int_equal(chan_send(fx->router, peer, &m, ZMQ_DONTWAIT), 0);
    assert_int_equal(recv_at(d, NULL, 0, &m), 0);
    assert_int_equal(m.type, PROTO_HEARTBEAT);
    proto_msg_clear(&m);
    /* nothing else is queued */
    assert_int_equal(chan_recv(fx->router, peer, sizeof(peer), &m, ZMQ_DONTWAIT), -FH_EAGAIN);
    assert_int_equal(chan_recv(d, NULL, 0, &m, ZMQ_DONTWAIT), -FH_EAGAIN);
}

static void
test_reply_to_specific_peer(void **state)
{
    struct fx *fx = *state;
    void *w1 = dealer(fx, "worker.1.5");
    void *w2 = dealer(fx, "worker.2.5");
    void *wt = dealer(fx, "watcher.0.5");
    struct proto_msg m;
    char peer[CHAN_ID_MAX];

    say_hello(fx, w1, "worker.1.5", 1, 5);
    say_hello(fx, w2, "worker.2.5", 2, 5);
    m = msg_hello(PROTO_ROLE_WATCHER, 0, 5, 99);
    assert_int_equal(chan_send(wt, NULL, &m, 0), 0);
    assert_int_equal(recv_at(fx->router, peer, sizeof(peer), &m), 0);
    assert_string_equal(peer, "watcher.0.5");
    assert_int_equal(m.u.hello.role, PROTO_ROLE_WATCHER);
    proto_msg_clear(&m);

    /* a TASK for worker 2, a QUIT for worker 1 */
    memset(&m, 0, sizeof(m));
    m.type = PROTO_TASK;
    m.u.task.ns = (char *)"team-a";
    m.u.task.name = (char *)"db-creds";
    m.u.task.attempt = 1;
    assert_int_equal(chan_send(fx->router, "worker.2.5", &m, ZMQ_DONTWAIT), 0);
    m = msg_plain(PROTO_QUIT, 0);
    assert_int_equal(chan_send(fx->router, "worker.1.5", &m, ZMQ_DONTWAIT), 0);

    assert_int_equal(recv_at(w1, NULL, 0, &m), 0);
    assert_int_equal(m.type, PROTO_QUIT);
    proto_msg_clear(&m);
    assert_int_equal(recv_at(w2, NULL, 0, &m), 0);
    assert_int_equal(m.type, PROTO_TASK);
    assert_string_equal(m.u.task.ns, "team-a");
    assert_string_equal(m.u.task.name, "db-creds");
    assert_int_equal(m.u.task.attempt, 1);
    proto_msg_clear(&m);
    /* each got exactly its own message */
    assert_int_equal(chan_recv(w1, NULL, 0, &m, ZMQ_DONTWAIT), -FH_EAGAIN);
    assert_int_equal(chan_recv(w2, NULL, 0, &m, ZMQ_DONTWAIT), -FH_EAGAIN);
    assert_int_equal(chan_recv(wt, NULL, 0, &m, ZMQ_DONTWAIT), -FH_EAGAIN);
}

static void
test_send_to_unknown_peer(void **state)
{
    struct fx *fx = *state;
    struct proto_msg m = msg_plain(PROTO_QUIT, 0);
    void *d;

    assert_int_equal(chan_send(fx->router, "worker.9.9", &m, ZMQ_DONTWAIT), -FH_ECLOSED);
    assert_int_equal(chan_send(fx->router, "worker.9.9", &m, 0), -FH_ECLOSED);
    /* the router is still usable afterwards (no half-sent message left behind) */
    d = dealer(fx, "worker.9.8");
    say_hello(fx, d, "worker.9.8", 9, 8);
    assert_int_equal(chan_send(fx->router, "worker.9.8", &m, ZMQ_DONTWAIT), 0);
    assert_int_equal(recv_at(d, NULL, 0, &m), 0);
    assert_int_equal(m.type, PROTO_QUIT);
    proto_msg_clear(&m);
}

static void
test_malformed_from_dealer(void **state)
{
    struct fx *fx = *state;
    void *d = dealer(fx, "worker.4.1");
    struct proto_msg m = msg_plain(PROTO_HEARTBEAT, 1);
    char peer[CHAN_ID_MAX];

    assert_int_equal(zmq_send(d, "\xc1garbage", 8, 0), 8);              /* not msgpack */
    assert_int_equal(zmq_send(d, "\x94\x01\x02", 3, 0), 3);             /* truncated */
    assert_int_equal(zmq_send(d, "", 0, 0), 0);                         /* empty frame */
    assert_int_equal(zmq_send(d, "\x94\x01\x02\x01\x80", 5, ZMQ_SNDMORE), 5);   /* two frames */
    assert_int_equal(zmq_send(d, "\x94\x01\x02\x01\x80", 5, 0), 5);
    assert_int_equal(chan_send(d, NULL, &m, 0), 0);                     /* then a good one */

    for (int i = 0; i < 4; i++) {
        strcpy(peer, "stale");
        assert_int_equal(recv_at(fx->router, peer, sizeof(peer), &m), -FH_EPROTO);
        assert_string_equal(peer, "worker.4.1");    /* the culprit is known */
        assert_int_equal(m.type, 0);
    }
    assert_int_equal(recv_at(fx->router, peer, sizeof(peer), &m), 0);
    assert_string_equal(peer, "worker.4.1");
    assert_int_equal(m.type, PROTO_HEARTBEAT);
    assert_int_equal(m.gen, 1);
    proto_msg_clear(&m);
    assert_int_equal(chan_recv(fx->router, peer, sizeof(peer), &m, ZMQ_DONTWAIT), -FH_EAGAIN);
}

static void
test_malformed_to_dealer(void **state)
{
    struct fx *fx = *state;
    void *d = dealer(fx, "watcher.0.3");
    struct proto_msg m;

    say_hello(fx, d, "watcher.0.3", 0, 3);
    assert_int_equal(zmq_send(fx->router, "watcher.0.3", 11, ZMQ_SNDMORE), 11);
    assert_int_equal(zmq_send(fx->router, "\xde\xad", 2, 0), 2);
    assert_int_equal(zmq_send(fx->router, "watcher.0.3", 11, ZMQ_SNDMORE), 11);
    assert_int_equal(zmq_send(fx->router, "\x94\x01\x03\x00\x80", 5, ZMQ_SNDMORE), 5);
    assert_int_equal(zmq_send(fx->router, "\x94\x01\x03\x00\x80", 5, 0), 5);
    m = msg_plain(PROTO_QUIT, 0);
    assert_int_equal(chan_send(fx->router, "watcher.0.3", &m, 0), 0);

    assert_int_equal(recv_at(d, NULL, 0, &m), -FH_EPROTO);
    assert_int_equal(recv_at(d, NULL, 0, &m), -FH_EPROTO);
    assert_int_equal(recv_at(d, NULL, 0, &m), 0);
    assert_int_equal(m.type, PROTO_QUIT);
    proto_msg_clear(&m);
}

static void
test_foreign_peer_ids(void **state)
{
    struct fx *fx = *state;
    void *anon = track(fx, zmq_socket(fx->ctx, ZMQ_DEALER));
    void *nul = track(fx, zmq_socket(fx->ctx, ZMQ_DEALER));
    void *longid = dealer(fx, "worker.4000000000.4000000000");
    struct proto_msg m = msg_plain(PROTO_HEARTBEAT, 2);
    char peer[CHAN_ID_MAX], small[8];
    int zero = 0;
    char *buf = NULL;
    size_t len = 0;

    assert_non_null(anon);
    assert_non_null(nul);
    assert_int_equal(proto_encode(&m, &buf, &len), 0);
    /* no routing id: libzmq makes one up, starting with a zero byte */
    assert_int_equal(zmq_setsockopt(anon, ZMQ_LINGER, &zero, sizeof(zero)), 0);
    assert_int_equal(zmq_connect(anon, fx->endpoint), 0);
    assert_int_equal(zmq_send(anon, buf, len, 0), (int)len);
    assert_int_equal(recv_at(fx->router, peer, sizeof(peer), &m), -FH_EPROTO);
    assert_string_equal(peer, "");
    /* a routing id with a NUL byte inside */
    assert_int_equal(zmq_setsockopt(nul, ZMQ_LINGER, &zero, sizeof(zero)), 0);
    assert_int_equal(zmq_setsockopt(nul, ZMQ_ROUTING_ID, "a\0b", 3), 0);
    assert_int_equal(zmq_connect(nul, fx->endpoint), 0);
    assert_int_equal(zmq_send(nul, buf, len, 0), (int)len);
    assert_int_equal(recv_at(fx->router, peer, sizeof(peer), &m), -FH_EPROTO);
    assert_string_equal(peer, "");
    /* an id longer than the caller's buffer is dropped, not truncated */
    m = msg_plain(PROTO_HEARTBEAT, 2);
    assert_int_equal(chan_send(longid, NULL, &m, 0), 0);
    assert_int_equal(chan_send(longid, NULL, &m, 0), 0);
    assert_int_equal(recv_at(fx->router, small, sizeof(small), &m), -FH_EPROTO);
    assert_string_equal(small, "");
    assert_int_equal(recv_at(fx->router, peer, sizeof(peer), &m), 0);
    assert_string_equal(peer, "worker.4000000000.4000000000");
    proto_msg_clear(&m);
    free(buf);
}

static void
test_large_message(void **state)
{
    struct fx *fx = *state;
    void *d = dealer(fx, "worker.0.1");
    struct proto_msg m, got;
    char peer[CHAN_ID_MAX];
    char *json = malloc(PROTO_MAX_JSON + 1);

    assert_non_null(json);
    memset(json, 'j', PROTO_MAX_JSON);
    json[PROTO_MAX_JSON] = '\0';
    memset(&m, 0, sizeof(m));
    m.type = PROTO_EVENT;
    m.u.event.type = PROTO_EV_ADDED;
    m.u.event.obj.res = PROTO_RES_FH;
    m.u.event.obj.ns = (char *)"ns";
    m.u.event.obj.name = (char *)"big";
    m.u.event.obj.json = json;
    assert_int_equal(chan_send(d, NULL, &m, 0), 0);
    assert_int_equal(recv_at(fx->router, peer, sizeof(peer), &got), 0);
    assert_int_equal(got.type, PROTO_EVENT);
    assert_int_equal(strlen(got.u.event.obj.json), PROTO_MAX_JSON);
    assert_memory_equal(got.u.event.obj.json, json, PROTO_MAX_JSON);
    proto_msg_clear(&got);
    free(json);
}

static void
test_dealer_backpressure(void **state)
{
    struct fx *fx = *state;
    char ep[CHAN_ENDPOINT_MAX + 16];
    struct proto_msg m = msg_plain(PROTO_HEARTBEAT, 1);
    int err = -1, rc = 0, sent = 0;
    void *d;

    /* nobody listens here: messages queue in the DEALER up to its HWM */
    snprintf(ep, sizeof(ep), "ipc://%s/nobody.sock", fx->dir);
    d = track(fx, chan_dealer_connect(fx->ctx, ep, "worker.5.1", &err));
    while (sent < 4 * CHAN_HWM && (rc = chan_send(d, NULL, &m, ZMQ_DONTWAIT)) == 0)
        sent++;
    assert_int_equal(rc, -FH_EAGAIN);
    assert_true(sent >= CHAN_HWM);
    assert_true(sent <= 2 * CHAN_HWM);
}

static void
test_context_shutdown_is_closed(void **state)
{
    struct fx *fx = *state;
    void *d = dealer(fx, "worker.1.1");
    struct proto_msg m = msg_plain(PROTO_HEARTBEAT, 1);
    char peer[CHAN_ID_MAX];

    say_hello(fx, d, "worker.1.1", 1, 1);
    /* a blocking receive returns instead of hanging once the context shuts down */
    assert_int_equal(zmq_ctx_shutdown(fx->ctx), 0);
    assert_int_equal(chan_recv(fx->router, peer, sizeof(peer), &m, 0), -FH_ECLOSED);
    assert_int_equal(chan_recv(d, NULL, 0, &m, 0), -FH_ECLOSED);
    m = msg_plain(PROTO_HEARTBEAT, 1);
    assert_int_equal(chan_send(d, NULL, &m, 0), -FH_ECLOSED);
    m = msg_plain(PROTO_QUIT, 0);
    assert_int_equal(chan_send(fx->router, "worker.1.1", &m, 0), -FH_ECLOSED);
}

static void
test_bad_arguments(void **state)
{
    struct fx *fx = *state;
    void *d = dealer(fx, "worker.6.1");
    struct proto_msg m = msg_plain(PROTO_HEARTBEAT, 1), bad;
    char peer[CHAN_ID_MAX];
    int err = 0;

    memset(&bad, 0, sizeof(bad));          /* type 0: proto_encode refuses it */
    assert_int_equal(chan_send(fx->router, NULL, &m, 0), -FH_EINVAL);
    assert_int_equal(chan_send(fx->router, "", &m, 0), -FH_EINVAL);
    assert_int_equal(chan_send(d, "worker.6.1", &m, 0), -FH_EINVAL);
    assert_int_equal(chan_send(d, NULL, NULL, 0), -FH_EINVAL);
    assert_int_equal(chan_send(d, NULL, &bad, 0), -FH_EINVAL);
    assert_int_equal(chan_send(NULL, NULL, &m, 0), -FH_EINVAL);
    assert_int_equal(chan_recv(fx->router, NULL, 0, &m, ZMQ_DONTWAIT), -FH_EINVAL);
    assert_int_equal(chan_recv(fx->router, peer, 1, &m, ZMQ_DONTWAIT), -FH_EINVAL);
    assert_int_equal(chan_recv(d, NULL, 0, NULL, ZMQ_DONTWAIT), -FH_EINVAL);
    /* the refused sends left nothing behind: the next real message is first */
    m = msg_plain(PROTO_HEARTBEAT, 1);
    assert_int_equal(chan_send(d, NULL, &m, 0), 0);
    assert_int_equal(recv_at(fx->router, peer, sizeof(peer), &m), 0);
    assert_int_equal(m.type, PROTO_HEARTBEAT);
    proto_msg_clear(&m);

    assert_null(chan_dealer_connect(fx->ctx, fx->endpoint, "worker.6", &err));
    assert_int_equal(err, -FH_EINVAL);
    assert_null(chan_dealer_connect(fx->ctx, fx->endpoint, NULL, &err));
    assert_int_equal(err, -FH_EINVAL);
    assert_null(chan_router_bind(fx->ctx, "ipc:///nonexistent-fh-dir/x/fh.sock", &err));
    assert_true(err < 0);
    assert_null(chan_router_bind(NULL, fx->endpoint, &err));
    assert_int_equal(err, -FH_EINVAL);
    chan_close(NULL);
    d = chan_dealer_connect(fx->ctx, fx->endpoint, "worker.6.2", &err);
    assert_non_null(d);
    chan_close(&d);
    assert_null(d);
    chan_close(&d);                         /* idempotent */
}

static void
test_routing_id_parse(void **state)
{
    static const struct {
        const char *id;
        int role;
        uint32_t slot, gen;
    } good[] = {
        { "worker.3.7", PROTO_ROLE_WORKER, 3, 7 },
        { "watcher.0.2", PROTO_ROLE_WATCHER, 0, 2 },
        { "worker.0.0", PROTO_ROLE_WORKER, 0, 0 },
        { "worker.4294967295.4294967295", PROTO_ROLE_WORKER, UINT32_MAX, UINT32_MAX },
        { "watcher.10.100", PROTO_ROLE_WATCHER, 10, 100 },
        { "elector.0.9", PROTO_ROLE_ELECTOR, 0, 9 },
    };
    static const char *const bad[] = {
        "", "worker", "worker.", "worker.3", "worker.3.", "worker..7", ".3.7",
        "worker.3.7.", "worker.3.7.1", "worker.03.7", "worker.3.07", "worker.00.1",
        "worker.-1.2", "worker.+1.2", "worker.1.-2", "worker.4294967296.1",
        "worker.1.4294967296", "worker.99999999999999999999.1", "worker. 3.7",
        "worker.3.7 ", " worker.3.7", "Worker.3.7", "workers.3.7", "supervisor.0.1",
        "worker.3.7x", "worker.3:7", "worker_3_7", "watcher.0x1.2", "worker.3.7\n",
        "electors.0.1", "elector.0", "Elector.0.1",
    };
    int role;
    uint32_t slot, gen;

    (void)state;
    for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
        char again[CHAN_ID_MAX];

        role = -1;
        slot = gen = 12345;
        assert_int_equal(chan_routing_id_parse(good[i].id, &role, &slot, &gen), 0);
        assert_int_equal(role, good[i].role);
        assert_int_equal(slot, good[i].slot);
        assert_int_equal(gen, good[i].gen);
        assert_int_equal(chan_routing_id_format(again, sizeof(again), role, slot, gen), 0);
        assert_string_equal(again, good[i].id);
    }
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        role = -1;
        slot = gen = 12345;
        if (chan_routing_id_parse(bad[i], &role, &slot, &gen) != -FH_EPROTO)
            fail_msg("accepted bad routing id '%s'", bad[i]);
        assert_int_equal(role, -1);             /* outputs untouched */
        assert_int_equal(slot, 12345);
        assert_int_equal(gen, 12345);
    }
    assert_int_equal(chan_routing_id_parse(NULL, &role, &slot, &gen), -FH_EINVAL);
    assert_int_equal(chan_routing_id_parse("worker.1.2", NULL, NULL, NULL), 0);
}

static void
test_routing_id_format(void **state)
{
    char out[CHAN_ID_MAX], tiny[11];     /* "worker.3.7" and its NUL */

    (void)state;
    assert_int_equal(chan_routing_id_format(out, sizeof(out), PROTO_ROLE_WATCHER,
                                            UINT32_MAX, UINT32_MAX), 0);
    assert_string_equal(out, "watcher.4294967295.4294967295");
    assert_int_equal(chan_routing_id_format(tiny, sizeof(tiny), PROTO_ROLE_WORKER, 3, 7), 0);
    assert_string_equal(tiny, "worker.3.7");
    assert_int_equal(chan_routing_id_format(tiny, sizeof(tiny), PROTO_ROLE_WORKER, 10, 7),
                     -FH_ETOOBIG);
    assert_string_equal(tiny, "");
    assert_int_equal(chan_routing_id_format(out, sizeof(out), 0, 1, 1), -FH_EINVAL);
    assert_int_equal(chan_routing_id_format(out, sizeof(out), 4, 1, 1), -FH_EINVAL);
}

static void
test_ipc_dir(void **state)
{
    char dir[CHAN_DIR_MAX + 1], ep[CHAN_ENDPOINT_MAX], tiny[8], longdir[200];
    const char *old = getenv("TMPDIR");
    char *saved = old ? strdup(old) : NULL;
    struct stat st;

    (void)state;
    assert_int_equal(chan_make_ipc_dir(dir, sizeof(dir)), 0);
    assert_int_equal(stat(dir, &st), 0);
    assert_true(S_ISDIR(st.st_mode));
    assert_int_equal(st.st_mode & 07777, 0700);
    assert_non_null(strstr(dir, "/fh-"));
    assert_int_equal(chan_ipc_endpoint(ep, sizeof(ep), dir), 0);
    assert_int_equal(strncmp(ep, "ipc://", 6), 0);
    assert_string_equal(ep + 6 + strlen(dir), "/" CHAN_SOCK_NAME);
    assert_int_equal(chan_ipc_endpoint(tiny, sizeof(tiny), dir), -FH_ETOOBIG);
    assert_int_equal(chan_remove_ipc_dir(dir), 0);
    assert_int_not_equal(stat(dir, &st), 0);
    /* the caller's buffer is too small: refused before anything is created */
    memset(tiny, '#', sizeof(tiny));
    assert_int_equal(chan_make_ipc_dir(tiny, sizeof(tiny)), -FH_ETOOBIG);
    assert_string_equal(tiny, "");
    assert_true(chan_remove_ipc_dir(dir) < 0);

    /* a path that could not hold a unix socket is refused up front */
    memset(longdir, 'd', sizeof(longdir) - 1);
    longdir[0] = '/';
    longdir[sizeof(longdir) - 1] = '\0';
    assert_int_equal(chan_ipc_endpoint(ep, sizeof(ep), longdir), -FH_ETOOBIG);
    assert_int_equal(setenv("TMPDIR", longdir, 1), 0);
    assert_int_equal(chan_make_ipc_dir(dir, sizeof(dir)), -FH_ETOOBIG);
    /* a TMPDIR that does not exist is an errno failure */
    assert_int_equal(setenv("TMPDIR", "/nonexistent-fh-dir", 1), 0);
    assert_true(chan_make_ipc_dir(dir, sizeof(dir)) < 0);
    if (saved)
        assert_int_equal(setenv("TMPDIR", saved, 1), 0);
    else
        assert_int_equal(unsetenv("TMPDIR"), 0);
    free(saved);
    assert_int_equal(chan_ipc_endpoint(ep, sizeof(ep), ""), -FH_EINVAL);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_hello_roundtrip, fx_setup, fx_teardown),
        cmocka_unit_test_setup_teardown(test_reply_to_specific_peer, fx_setup, fx_teardown),
        cmocka_unit_test_setup_teardown(test_send_to_unknown_peer, fx_setup, fx_teardown),
        cmocka_unit_test_setup_teardown(test_malformed_from_dealer, fx_setup, fx_teardown),
        cmocka_unit_test_setup_teardown(test_malformed_to_dealer, fx_setup, fx_teardown),
        cmocka_unit_test_setup_teardown(test_foreign_peer_ids, fx_setup, fx_teardown),
        cmocka_unit_test_setup_teardown(test_large_message, fx_setup, fx_teardown),
        cmocka_unit_test_setup_teardown(test_dealer_backpressure, fx_setup, fx_teardown),
        cmocka_unit_test_setup_teardown(test_bad_arguments, fx_setup, fx_teardown),
        cmocka_unit_test_setup_teardown(test_context_shutdown_is_closed, fx_setup, fx_teardown),
        cmocka_unit_test(test_routing_id_parse),
        cmocka_unit_test(test_routing_id_format),
        cmocka_unit_test(test_ipc_dir),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
