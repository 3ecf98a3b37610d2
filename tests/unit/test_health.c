/* test_health.c - the health probe server over real loopback sockets driven
 * by zmq_poll: status codes, HEAD, verbose, requests arriving in pieces,
 * oversize requests, more clients than slots, idle timeouts on a scripted
 * clock, vanished clients; plus the address, request-parse and response
 * tables. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <errno.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cmocka.h>

#include "fh_err.h"
#include "health.h"

#define MAX_ROUNDS 500          /* poll rounds before a test gives up */
#define ROUND_MS 20             /* zmq_poll timeout per round */

/* ---- pure tables --------------------------------------------------------------- */

/* test_parse_addr_table - controller-runtime bind address forms */
static void
test_parse_addr_table(void **state)
{
    static const struct {
        const char *in; int rc; bool disabled; bool any; const char *host; uint16_t port;
    } cases[] = {
        { ":8081", 0, false, true, "", 8081 },
        { "0.0.0.0:8081", 0, false, false, "0.0.0.0", 8081 },
        { "127.0.0.1:0", 0, false, false, "127.0.0.1", 0 },
        { "[::]:8081", 0, false, false, "::", 8081 },
        { "[::1]:65535", 0, false, false, "::1", 65535 },
        { "localhost:9440", 0, false, false, "localhost", 9440 },
        { "0", 0, true, false, "", 0 },
        { "", 0, true, false, "", 0 },
        { "8081", -FH_EINVAL, false, false, "", 0 },          /* missing port */
        { ":", -FH_EINVAL, false, false, "", 0 },
        { ":65536", -FH_EINVAL, false, false, "", 0 },
        { ":123456", -FH_EINVAL, false, false, "", 0 },
        { ":80a", -FH_EINVAL, false, false, "", 0 },
        { ":-1", -FH_EINVAL, false, false, "", 0 },
        { "::1:8081", -FH_EINVAL, false, false, "", 0 },      /* needs brackets */
        { "[::1]8081", -FH_EINVAL, false, false, "", 0 },
        { "[::1", -FH_EINVAL, false, false, "", 0 },
        { "[]:80", -FH_EINVAL, false, false, "", 0 },
        { "[host]:80", -FH_EINVAL, false, false, "", 0 },
        { "a b:80", -FH_EINVAL, false, false, "", 0 },
        { "00", -FH_EINVAL, false, false, "", 0 },
    };
    struct health_addr a;

    (void)state;
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        int rc = health_parse_addr(cases[i].in, &a);

        if (rc != cases[i].rc)
            fail_msg("\"%s\": rc %d, want %d", cases[i].in, rc, cases[i].rc);
        if (rc < 0)
            continue;
        assert_int_equal(a.disabled, cases[i].disabled);
        assert_int_equal(a.any, cases[i].any);
        assert_string_equal(a.host, cases[i].host);
        assert_int_equal(a.port, cases[i].port);
    }
    assert_int_equal(health_parse_addr(NULL, &a), -FH_EINVAL);
}

/* test_http_parse_table - request heads */
static void
test_http_parse_table(void **state)
{
    static const struct {
        const char *in; int rc; const char *method; const char *path; bool verbose;
    } cases[] = {
        { "GET /healthz HTTP/1.1\r\nHost: a\r\n\r\n", 0, "GET", "/healthz", false },
        { "HEAD /readyz HTTP/1.0\r\n\r\n", 0, "HEAD", "/readyz", false },
        { "GET /readyz?verbose HTTP/1.1\r\n\r\n", 0, "GET", "/readyz", true },
        { "GET /readyz?x=1&verbose=true HTTP/1.1\r\n\r\n", 0, "GET", "/readyz", true },
        { "GET /readyz?verbosely HTTP/1.1\r\n\r\n", 0, "GET", "/readyz", false },
        { "GET /healthz#frag HTTP/1.1\n\n", 0, "GET", "/healthz", false },
        { "GET /healthz HTTP/1.1\r\nHost: a\r\n", -FH_EAGAIN, "", "", false },
        { "GET /heal", -FH_EAGAIN, "", "", false },
        { "", -FH_EAGAIN, "", "", false },
        { "get /healthz HTTP/1.1\r\n\r\n", -FH_EPROTO, "", "", false },
        { "GET healthz HTTP/1.1\r\n\r\n", -FH_EPROTO, "", "", false },
        { "GET /healthz HTTP/2.0\r\n\r\n", -FH_EPROTO, "", "", false },
        { "GET /healthz\r\n\r\n", -FH_EPROTO, "", "", false },
        { "GET  /healthz HTTP/1.1\r\n\r\n", -FH_EPROTO, "", "", false },
        { "GET /healthz HTTP/1.1 x\r\n\r\n", -FH_EPROTO, "", "", false },
        { "LONGMETHOD /healthz HTTP/1.1\r\n\r\n", -FH_EPROTO, "", "", false },
        { "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n", -FH_EPROTO, "", "", false },
    };
    struct health_req req;
    char big[600];

    (void)state;
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        int rc = health_http_parse(cases[i].in, strlen(cases[i].in), &req);

        if (rc != cases[i].rc)
            fail_msg("case %zu: rc %d, want %d", i, rc, cases[i].rc);
        if (rc < 0)
            continue;
        assert_string_equal(req.method, cases[i].method);
        assert_string_equal(req.path, cases[i].path);
        assert_int_equal(req.verbose, cases[i].verbose);
    }
    assert_int_equal(health_http_parse("GET /\0x HTTP/1.1\r\n\r\n", 21, &req), -FH_EPROTO);
    snprintf(big, sizeof(big), "GET /%0400d HTTP/1.1\r\n\r\n", 0);
    assert_int_equal(health_http_parse(big, strlen(big), &req), -FH_ETOOBIG);
}

/* test_http_format - status line, headers, HEAD, too-small buffer */
static void
test_http_format(void **state)
{
    char buf[512];
    int n;

    (void)state;
    n = health_http_format(buf, sizeof(buf), 200, "ok", false);
    assert_true(n > 0);
    assert_int_equal(strncmp(buf, "HTTP/1.1 200 OK\r\n", 17), 0);
    assert_non_null(strstr(buf, "Content-Length: 2\r\n"));
    assert_non_null(strstr(buf, "Connection: close\r\n"));
    assert_string_equal(buf + n - 6, "\r\n\r\nok");
    n = health_http_format(buf, sizeof(buf), 503, "not ready", true);
    assert_non_null(strstr(buf, "Content-Length: 9\r\n"));
    assert_string_equal(buf + n - 4, "\r\n\r\n");                 /* no body */
    n = health_http_format(buf, sizeof(buf), 405, "x", false);
    assert_non_null(strstr(buf, "Allow: GET, HEAD\r\n"));
    assert_int_equal(health_http_format(buf, 20, 200, "ok", false), -FH_ETOOBIG);
}

/* ---- socket driver ----------------------------------------------------------------- */

struct probe {
    int healthy;                /* what check returns for /healthz */
    int ready;                  /* ... for /readyz */
    const char *detail;         /* written into detail */
    char last_path[256];        /* path check saw last */
    int calls;                  /* check calls */
};

/* check_cb - scripted health check */
static int
check_cb(void *arg, const char *path, char *detail, size_t cap)
{
    struct probe *p = arg;

    assert_true(cap >= 256);
    assert_string_equal(detail, "");
    p->calls++;
    snprintf(p->last_path, sizeof(p->last_path), "%s", path);
    if (p->detail)
        snprintf(detail, cap, "%s", p->detail);
    if (strcmp(path, "/healthz") == 0)
        return p->healthy;
    if (strcmp(path, "/readyz") == 0)
        return p->ready;
    return -1;
}

struct srv {
    struct health *h;           /* server under test */
    uint64_t now;               /* scripted clock */
    struct probe p;             /* check state */
    size_t max_seen;            /* most simultaneous clients observed */
};

/* srv_start - server on 127.0.0.1:<ephemeral> */
static void
srv_start(struct srv *s, uint32_t max_clients, uint32_t max_request, uint32_t idle_ms)
{
    struct health_opts o;
    uint16_t port = 0;
    int fd;

    memset(s, 0, sizeof(*s));
    s->p.healthy = 1;
    s->p.ready = 1;
    s->now = 1000;
    assert_int_equal(health_listen("127.0.0.1:0", &fd, &port), 0);
    assert_true(fd >= 0);
    assert_true(port > 0);
    memset(&o, 0, sizeof(o));
    o.check = check_cb;
    o.arg = &s->p;
    o.max_clients = max_clients;
    o.max_request = max_request;
    o.idle_ms = idle_ms;
    s->h = health_new_fd(fd, &o);
    assert_non_null(s->h);
    assert_int_equal(health_port(s->h), port);
}

/* pump - one loop iteration as the supervisor does it; clock + 1 ms */
static void
pump(struct srv *s)
{
    zmq_pollitem_t items[64];
    int n = health_pollitems(s->h, items, 64);
    long t = health_next_timeout_ms(s->h, s->now);

    assert_true(zmq_poll(items, n, (t >= 0 && t < ROUND_MS) ? t : ROUND_MS) >= 0);
    assert_int_equal(health_dispatch(s->h, items, n, s->now), 0);
    if (health_clients(s->h) > s->max_seen)
        s->max_seen = health_clients(s->h);
    s->now++;
}

/* client - connected, non-blocking loopback socket */
static int
client(const struct srv *s)
{
    struct sockaddr_in sa;
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);

    assert_true(fd >= 0);
    memset(&sa, 0, sizeof(sa));
    sa.sin_family = AF_INET;
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    sa.sin_port = htons((uint16_t)health_port(s->h));
    assert_int_equal(connect(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);  /* via backlog */
    return fd;
}

/* send_str - write all of str (small; fits the socket buffer) */
static void
send_str(int fd, const char *str, size_t len)
{
    assert_int_equal(send(fd, str, len, MSG_NOSIGNAL), (ssize_t)len);
}

/* try_read - append what is available; 1 on EOF, 0 otherwise */
static int
try_read(int fd, char *buf, size_t cap, size_t *len)
{
    for (;;) {
        ssize_t r = recv(fd, buf + *len, cap - 1 - *len, MSG_DONTWAIT);

        if (r > 0) {
            *len += (size_t)r;
            buf[*len] = '\0';
            continue;
        }
        if (r == 0)
            return 1;
        assert_true(errno == EAGAIN || errno == EWOULDBLOCK);   /* never a reset */
        return 0;
    }
}

/* exchange - send req on a new connection, pump until the server closes it;
 * the response lands in buf */
static void
exchange(struct srv *s, const char *req, char *buf, size_t cap)
{
    int fd = client(s);
    size_t len = 0;
    int round;

    buf[0] = '\0';
    send_str(fd, req, strlen(req));
    for (round = 0; round < MAX_ROUNDS; round++) {
        pump(s);
        if (try_read(fd, buf, cap, &len))
            break;
    }
    assert_true(round < MAX_ROUNDS);
    close(fd);
    for (int i = 0; i < 10 && health_clients(s->h) > 0; i++)
        pump(s);                          /* let LINGER see the close */
    assert_int_equal(health_clients(s->h), 0);
}

/* body_of - the body after the blank line */
static const char *
body_of(const char *resp)
{
    const char *b = strstr(resp, "\r\n\r\n");

    assert_non_null(b);
    return b + 4;
}

/* test_status_codes - table of requests, check results and responses */
static void
test_status_codes(void **state)
{
    static const struct {
        const char *req; int healthy; int ready; const char *detail;
        const char *status; const char *body; const char *path_seen;
    } cases[] = {
        { "GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n", 1, 1, NULL,
          "HTTP/1.1 200 OK", "ok", "/healthz" },
        { "GET /readyz HTTP/1.1\r\n\r\n", 1, 0, "waiting for worker 2",
          "HTTP/1.1 503 Service Unavailable", "waiting for worker 2", "/readyz" },
        { "GET /readyz HTTP/1.1\r\n\r\n", 1, 0, NULL,
          "HTTP/1.1 503 Service Unavailable", "unhealthy", "/readyz" },
        { "GET /readyz?verbose HTTP/1.1\r\n\r\n", 1, 1, "4 workers ready",
          "HTTP/1.1 200 OK", "4 workers ready", "/readyz" },
        { "GET /readyz HTTP/1.1\r\n\r\n", 1, 1, "4 workers ready",
          "HTTP/1.1 200 OK", "ok", "/readyz" },
        { "GET /healthz/unknown HTTP/1.1\r\n\r\n", 1, 1, NULL,
          "HTTP/1.1 404 Not Found", "404 page not found", "/healthz/unknown" },
        { "GET /metrics HTTP/1.1\r\n\r\n", 1, 1, NULL,
          "HTTP/1.1 404 Not Found", "404 page not found", "" },
        { "GET /healthzz HTTP/1.1\r\n\r\n", 1, 1, NULL,
          "HTTP/1.1 404 Not Found", "404 page not found", "" },
        { "HEAD /healthz HTTP/1.1\r\n\r\n", 1, 1, NULL,
          "HTTP/1.1 200 OK", "", "/healthz" },
        { "POST /healthz HTTP/1.1\r\nContent-Length: 3\r\n\r\nabc", 1, 1, NULL,
          "HTTP/1.1 405 Method Not Allowed", "method not allowed", "" },
        { "hello\r\n\r\n", 1, 1, NULL,
          "HTTP/1.1 400 Bad Request", "bad request", "" },
        { "GET /healthz HTTP/1.0\n\n", 0, 1, "a child is crash-looping",
          "HTTP/1.1 503 Service Unavailable", "a child is crash-looping", "/healthz" },
    };
    struct srv s;
    char resp[2048];

    (void)state;
    srv_start(&s, 4, 1024, 5000);
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        s.p.healthy = cases[i].healthy;
        s.p.ready = cases[i].ready;
        s.p.detail = cases[i].detail;
        s.p.last_path[0] = '\0';
        exchange(&s, cases[i].req, resp, sizeof(resp));
        if (strncmp(resp, cases[i].status, strlen(cases[i].status)) != 0)
            fail_msg("case %zu: got \"%.40s\"", i, resp);
        assert_string_equal(body_of(resp), cases[i].body);
        assert_string_equal(s.p.last_path, cases[i].path_seen);
        if (strncmp(cases[i].req, "HEAD", 4) == 0)
            assert_non_null(strstr(resp, "Content-Length: 2\r\n"));
    }
    health_free(&s.h);
    assert_null(s.h);
}

/* metrics_cb - scripted metrics: 40,000 bytes of samples, or an error when
 * the probe says unhealthy (stands in for "does not fit") */
static int
metrics_cb(void *arg, char *buf, size_t cap)
{
    struct probe *p = arg;
    size_t n = 0;

    p->calls++;
    if (!p->healthy)
        return -FH_ETOOBIG;
    assert_true(cap >= HEALTH_METRICS_MAX);
    while (n + 20 <= 40000) {
        memcpy(buf + n, "fh_sample_total 12\n", 19);
        n += 19;
    }
    buf[n] = '\0';
    return (int)n;
}

/* test_metrics - /metrics: a large body, HEAD, an error; probes unaffected */
static void
test_metrics(void **state)
{
    static char resp[HEALTH_METRICS_MAX + 1024];
    struct health_opts o;
    struct srv s;
    uint16_t port;
    int fd;

    (void)state;
    memset(&s, 0, sizeof(s));
    s.p.healthy = s.p.ready = 1;
    s.now = 1000;
    assert_int_equal(health_listen("127.0.0.1:0", &fd, &port), 0);
    memset(&o, 0, sizeof(o));
    o.check = check_cb;
    o.metrics = metrics_cb;
    o.arg = &s.p;
    s.h = health_new_fd(fd, &o);
    assert_non_null(s.h);

    exchange(&s, "GET /metrics HTTP/1.1\r\n\r\n", resp, sizeof(resp));
    assert_true(strncmp(resp, "HTTP/1.1 200 OK\r\n", 17) == 0);
    assert_non_null(strstr(resp, "Content-Type: text/plain; version=0.0.4; charset=utf-8\r\n"));
    assert_int_equal(strlen(body_of(resp)), 2105 * 19);
    assert_non_null(strstr(resp, "Content-Length: 39995\r\n"));
    assert_int_equal(strncmp(body_of(resp), "fh_sample_total 12\n", 19), 0);

    exchange(&s, "HEAD /metrics HTTP/1.1\r\n\r\n", resp, sizeof(resp));
    assert_true(strncmp(resp, "HTTP/1.1 200 OK\r\n", 17) == 0);
    assert_non_null(strstr(resp, "Content-Length: 39995\r\n"));
    assert_string_equal(body_of(resp), "");

    exchange(&s, "GET /metrics?x=1 HTTP/1.1\r\n\r\n", resp, sizeof(resp));
    assert_true(strncmp(resp, "HTTP/1.1 200 OK\r\n", 17) == 0);
    exchange(&s, "GET /metrics/x HTTP/1.1\r\n\r\n", resp, sizeof(resp));
    assert_true(strncmp(resp, "HTTP/1.1 404 ", 13) == 0);

    s.p.healthy = 0;
    exchange(&s, "GET /metrics HTTP/1.1\r\n\r\n", resp, sizeof(resp));
    assert_true(strncmp(resp, "HTTP/1.1 500 Internal Server Error\r\n", 36) == 0);
    assert_string_equal(body_of(resp), "cannot produce metrics");

    s.p.healthy = 1;
    exchange(&s, "GET /healthz HTTP/1.1\r\n\r\n", resp, sizeof(resp));
    assert_string_equal(body_of(resp), "ok");
    health_free(&s.h);
}

/* test_request_in_pieces - a request trickling in is answered once complete */
static void
test_request_in_pieces(void **state)
{
    static const char *const pieces[] = {
        "GE", "T /rea", "dyz HTTP/1.1\r", "\nHost: 127.0.0.1\r\n",
        "User-Agent: kube-probe\r\n", "\r",
    };
    struct srv s;
    char resp[1024];
    size_t len = 0;
    int fd, round;

    (void)state;
    srv_start(&s, 4, 1024, 5000);
    fd = client(&s);
    for (size_t i = 0; i < sizeof(pieces) / sizeof(pieces[0]); i++) {
        send_str(fd, pieces[i], strlen(pieces[i]));
        for (int r = 0; r < 3; r++)
            pump(&s);
        assert_int_equal(try_read(fd, resp, sizeof(resp), &len), 0);
        assert_int_equal(len, 0);                     /* nothing answered early */
        assert_int_equal(health_clients(s.h), 1);
    }
    assert_int_equal(s.p.calls, 0);
    send_str(fd, "\n", 1);
    for (round = 0; round < MAX_ROUNDS; round++) {
        pump(&s);
        if (try_read(fd, resp, sizeof(resp), &len))
            break;
    }
    assert_true(round < MAX_ROUNDS);
    assert_int_equal(strncmp(resp, "HTTP/1.1 200 OK\r\n", 17), 0);
    assert_int_equal(s.p.calls, 1);
    close(fd);
    health_free(&s.h);
}

/* test_oversize_request_rejected - 431, then closed cleanly (no reset) */
static void
test_oversize_request_rejected(void **state)
{
    struct srv s;
    char req[3000];
    char resp[1024];

    (void)state;
    srv_start(&s, 4, 256, 5000);
    memcpy(req, "GET /healthz HTTP/1.1\r\nX-Pad: ", 30);
    memset(req + 30, 'a', sizeof(req) - 31);
    req[sizeof(req) - 1] = '\0';
    exchange(&s, req, resp, sizeof(resp));
    assert_int_equal(strncmp(resp, "HTTP/1.1 431 ", 13), 0);
    assert_int_equal(s.p.calls, 0);
    /* a long target is 414 */
    snprintf(req, sizeof(req), "GET /healthz/%0300d HTTP/1.1\r\n\r\n", 7);
    health_free(&s.h);
    srv_start(&s, 4, 1024, 5000);
    exchange(&s, req, resp, sizeof(resp));
    assert_int_equal(strncmp(resp, "HTTP/1.1 414 ", 13), 0);
    /* still serving afterwards */
    exchange(&s, "GET /healthz HTTP/1.1\r\n\r\n", resp, sizeof(resp));
    assert_int_equal(strncmp(resp, "HTTP/1.1 200 ", 13), 0);
    health_free(&s.h);
}

/* test_many_clients - 40 concurrent clients, 4 slots: all answered, never
 * more than 4 open at once */
static void
test_many_clients(void **state)
{
    enum { N = 40 };
    static const char req[] = "GET /healthz HTTP/1.1\r\n\r\n";
    struct srv s;
    int fds[N];
    char resp[N][512];
    size_t len[N];
    bool done[N];
    int ndone = 0, round;

    (void)state;
    srv_start(&s, 4, 512, 5000);
    for (int i = 0; i < N; i++) {
        fds[i] = client(&s);
        send_str(fds[i], req, sizeof(req) - 1);
        len[i] = 0;
        done[i] = false;
    }
    for (round = 0; round < MAX_ROUNDS && ndone < N; round++) {
        pump(&s);
        for (int i = 0; i < N; i++) {
            if (!done[i] && try_read(fds[i], resp[i], sizeof(resp[i]), &len[i])) {
                done[i] = true;
                ndone++;
                close(fds[i]);
            }
        }
    }
    assert_int_equal(ndone, N);
    for (int i = 0; i < N; i++)
        assert_int_equal(strncmp(resp[i], "HTTP/1.1 200 OK\r\n", 17), 0);
    assert_true(s.max_seen <= 4);
    assert_true(s.max_seen >= 2);
    assert_int_equal(s.p.calls, N);
    health_free(&s.h);
}

/* test_idle_timeout - a client that never finishes is dropped at its deadline
 * (scripted clock); next_timeout reports the deadline */
static void
test_idle_timeout(void **state)
{
    struct srv s;
    char buf[256];
    size_t len = 0;
    int fd, round;

    (void)state;
    srv_start(&s, 4, 512, 3000);
    assert_int_equal(health_next_timeout_ms(s.h, s.now), -1);
    fd = client(&s);
    send_str(fd, "GET /hea", 8);
    for (round = 0; round < MAX_ROUNDS && health_clients(s.h) == 0; round++)
        pump(&s);
    assert_int_equal(health_clients(s.h), 1);
    {
        uint64_t accepted = s.now - 1;

        assert_int_equal(health_next_timeout_ms(s.h, accepted), 3000);
        assert_int_equal(health_next_timeout_ms(s.h, accepted + 2000), 1000);
        assert_int_equal(health_next_timeout_ms(s.h, accepted + 4000), 0);
        s.now = accepted + 2999;
        pump(&s);
        assert_int_equal(health_clients(s.h), 1);     /* not yet */
        s.now = accepted + 3000;
    }
    pump(&s);
    assert_int_equal(health_clients(s.h), 0);
    for (round = 0; round < 5; round++)
        if (try_read(fd, buf, sizeof(buf), &len))
            break;
    assert_true(round < 5);                           /* closed by the server */
    assert_int_equal(len, 0);
    assert_int_equal(s.p.calls, 0);
    close(fd);
    health_free(&s.h);
}

/* test_client_vanishes - a client closing mid-request frees its slot */
static void
test_client_vanishes(void **state)
{
    struct srv s;
    int fd, round;

    (void)state;
    srv_start(&s, 2, 512, 5000);
    fd = client(&s);
    send_str(fd, "GET /healthz HTT", 16);
    for (round = 0; round < MAX_ROUNDS && health_clients(s.h) == 0; round++)
        pump(&s);
    assert_int_equal(health_clients(s.h), 1);
    close(fd);
    for (round = 0; round < MAX_ROUNDS && health_clients(s.h) > 0; round++)
        pump(&s);
    assert_int_equal(health_clients(s.h), 0);
    assert_int_equal(s.p.calls, 0);
    health_free(&s.h);
}

/* test_new_listen_and_disabled - health_new forms, port in use, disabled */
static void
test_new_listen_and_disabled(void **state)
{
    struct health *h, *h2;
    zmq_pollitem_t items[4];
    char addr[32];
    int err = 1, fd;
    uint16_t port = 1;

    (void)state;
    h = health_new("0", check_cb, NULL, &err);
    assert_non_null(h);
    assert_int_equal(err, 0);
    assert_int_equal(health_port(h), 0);
    assert_int_equal(health_pollitems(h, items, 4), 0);
    assert_int_equal(health_dispatch(h, items, 0, 0), 0);
    assert_int_equal(health_next_timeout_ms(h, 0), -1);
    health_free(&h);
    assert_int_equal(health_listen("0", &fd, &port), 0);
    assert_int_equal(fd, -1);
    assert_int_equal(port, 0);
    assert_null(health_new("8081", check_cb, NULL, &err));
    assert_int_equal(err, -FH_EINVAL);
    h = health_new("127.0.0.1:0", check_cb, NULL, &err);
    assert_non_null(h);
    assert_true(health_port(h) > 0);
    assert_int_equal(health_pollitems(h, items, 4), 1);  /* just the listener */
    assert_int_equal(health_pollitems(h, items, 0), 0);
    snprintf(addr, sizeof(addr), "127.0.0.1:%d", health_port(h));
    h2 = health_new(addr, check_cb, NULL, &err);
    assert_null(h2);
    assert_int_equal(err, -EADDRINUSE);
    health_free(&h);
    /* ":0" listens on every address (dual-stack or IPv4 fallback) */
    assert_int_equal(health_listen(":0", &fd, &port), 0);
    assert_true(fd >= 0 && port > 0);
    close(fd);
    health_free(&h);                                  /* NULL-safe */
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_parse_addr_table),
        cmocka_unit_test(test_http_parse_table),
        cmocka_unit_test(test_http_format),
        cmocka_unit_test(test_status_codes),
        cmocka_unit_test(test_metrics),
        cmocka_unit_test(test_request_in_pieces),
        cmocka_unit_test(test_oversize_request_rejected),
        cmocka_unit_test(test_many_clients),
        cmocka_unit_test(test_idle_timeout),
        cmocka_unit_test(test_client_vanishes),
        cmocka_unit_test(test_new_listen_and_disabled),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
