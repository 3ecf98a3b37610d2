/*
 * health.c - the health probe server's connection handling: accept, read a
 * request, answer it through the caller's check (probes) or metrics
 * (/metrics) callback, shut down.
 *
 * Owns the listening socket, a fixed array of max_clients client slots
 * (allocated once, so answering a probe never allocates), their sockets,
 * and the response buffer of a /metrics answer while it is sent. Each
 * client goes READING -> WRITING -> LINGER -> closed, with a deadline per
 * phase; see health.h for the bounds and the loop contract.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include "fh_err.h"
#include "health.h"

#define HEALTH_DETAIL_MAX 512u
#define HEALTH_OUT_MAX    (HEALTH_DETAIL_MAX + 512u)
#define HEALTH_LINGER_MS  1000u

enum client_state {
    CLIENT_FREE = 0,            /* slot unused */
    CLIENT_READING,             /* collecting the request head */
    CLIENT_WRITING,             /* sending the response */
    CLIENT_LINGER,              /* response sent, write side shut, draining input */
};

struct health_client {
    int fd;                     /* socket, -1 when free */
    uint8_t state;              /* enum client_state */
    uint64_t deadline_ms;       /* closed when now passes this */
    char *in;                   /* max_request bytes (owned, allocated once) */
    size_t in_len;              /* bytes read so far */
    char out[HEALTH_OUT_MAX];   /* a probe's response */
    char *big;                  /* a /metrics response (owned), or NULL */
    const char *resp;           /* what is being sent: out or big */
    size_t out_len;             /* its length */
    size_t out_off;             /* bytes already sent */
};

struct health {
    int listen_fd;              /* -1 when disabled */
    int port;                   /* bound port, 0 when disabled */
    struct health_opts o;       /* bounds and callback, defaults filled in */
    struct health_client *c;    /* o.max_clients slots */
    size_t nclients;            /* slots in use */
};

/* health_new_fd - allocate the server around a listening socket */
struct health *
health_new_fd(int listen_fd, const struct health_opts *o)
{
    struct health *h = calloc(1, sizeof(*h));
    struct sockaddr_storage ss;
    socklen_t len = sizeof(ss);

    if (!h)
        goto fail;
    h->listen_fd = -1;
    if (o)
        h->o = *o;
    if (!h->o.max_clients)
        h->o.max_clients = HEALTH_DEFAULT_MAX_CLIENTS;
    if (!h->o.max_request)
        h->o.max_request = HEALTH_DEFAULT_MAX_REQUEST;
    if (!h->o.idle_ms)
        h->o.idle_ms = HEALTH_DEFAULT_IDLE_MS;
    h->c = calloc(h->o.max_clients, sizeof(*h->c));
    if (!h->c)
        goto fail;
    for (uint32_t i = 0; i < h->o.max_clients; i++) {
        h->c[i].fd = -1;
        h->c[i].in = malloc(h->o.max_request);
        if (!h->c[i].in)
            goto fail;
    }
    h->listen_fd = listen_fd;
    if (listen_fd >= 0 && getsockname(listen_fd, (struct sockaddr *)&ss, &len) == 0) {
        if (ss.ss_family == AF_INET)
            h->port = ntohs(((struct sockaddr_in *)&ss)->sin_port);
        else if (ss.ss_family == AF_INET6)
            h->port = ntohs(((struct sockaddr_in6 *)&ss)->sin6_port);
    }
    return h;
fail:
    if (listen_fd >= 0)
        close(listen_fd);
    if (h)
        h->listen_fd = -1;
    health_free(&h);
    return NULL;
}

/* health_new - listen on addr with default bounds */
struct health *
health_new(const char *addr, health_check_fn check, void *arg, int *err)
{
    struct health_opts o;

    memset(&o, 0, sizeof(o));
    o.check = check;
    o.arg = arg;
    return health_new_opts(addr, &o, err);
}

/* health_new_opts - listen on addr with the given options */
struct health *
health_new_opts(const char *addr, const struct health_opts *o, int *err)
{
    struct health *h;
    int fd, rc;

    if (err)
        *err = 0;
    rc = health_listen(addr, &fd, NULL);
    if (rc < 0) {
        if (err)
            *err = rc;
        return NULL;
    }
    h = health_new_fd(fd, o);
    if (!h && err)
        *err = -FH_ENOMEM;
    return h;
}

/* client_close - close a client and free its slot */
static void
client_close(struct health *h, struct health_client *c)
{
    if (c->state == CLIENT_FREE)
        return;
    close(c->fd);
    c->fd = -1;
    c->state = CLIENT_FREE;
    free(c->big);
    c->big = NULL;
    c->in_len = c->out_len = c->out_off = 0;
    h->nclients--;
}

/* health_free - close everything */
void
health_free(struct health **hp)
{
    struct health *h = hp ? *hp : NULL;

    if (!h)
        return;
    if (h->c) {
        for (uint32_t i = 0; i < h->o.max_clients; i++) {
            client_close(h, &h->c[i]);
            free(h->c[i].in);
        }
        free(h->c);
    }
    if (h->listen_fd >= 0)
        close(h->listen_fd);
    free(h);
    *hp = NULL;
}

/* health_port - bound port */
int
health_port(const struct health *h)
{
    return h ? h->port : 0;
}

/* health_clients - open connections */
size_t
health_clients(const struct health *h)
{
    return h ? h->nclients : 0;
}

/* health_pollitems - listening socket (if a slot is free) + clients */
int
health_pollitems(struct health *h, zmq_pollitem_t *items, int max)
{
    int n = 0;

    if (!h || h->listen_fd < 0 || max <= 0)
        return 0;
    if (h->nclients < h->o.max_clients)
        items[n++] = (zmq_pollitem_t){ NULL, h->listen_fd, ZMQ_POLLIN, 0 };
    for (uint32_t i = 0; i < h->o.max_clients && n < max; i++) {
        struct health_client *c = &h->c[i];

        if (c->state == CLIENT_FREE)
            continue;
        items[n++] = (zmq_pollitem_t){ NULL, c->fd,
                                       c->state == CLIENT_WRITING ? ZMQ_POLLOUT : ZMQ_POLLIN, 0 };
    }
    return n;
}

/* health_next_timeout_ms - earliest client deadline */
long
health_next_timeout_ms(const struct health *h, uint64_t now_ms)
{
    uint64_t best = UINT64_MAX;

    if (!h || h->nclients == 0)
        return -1;
    for (uint32_t i = 0; i < h->o.max_clients; i++)
        if (h->c[i].state != CLIENT_FREE && h->c[i].deadline_ms < best)
            best = h->c[i].deadline_ms;
    if (best == UINT64_MAX)
        return -1;
    return best <= now_ms ? 0 : (long)(best - now_ms);
}

/* is_probe_path - "/healthz", "/readyz" or a sub-path of either */
static bool
is_probe_path(const char *p)
{
    static const char *const roots[] = { "/healthz", "/readyz" };

    for (size_t i = 0; i < sizeof(roots) / sizeof(roots[0]); i++) {
        size_t n = strlen(roots[i]);

        if (strncmp(p, roots[i], n) == 0 && (p[n] == '\0' || p[n] == '/'))
            return true;
    }
    return false;
}

/* answer_metrics - 200 with the metrics text, 500 when they cannot be made */
static bool
answer_metrics(struct health *h, struct health_client *c, bool head)
{
    size_t cap = HEALTH_METRICS_MAX + 512u;
    char *body = malloc(HEALTH_METRICS_MAX);
    int n = -FH_ENOMEM, w = -1;

    c->big = malloc(cap);
    if (body && c->big)
        n = h->o.metrics(h->o.arg, body, HEALTH_METRICS_MAX);
    if (n >= 0 && (size_t)n < HEALTH_METRICS_MAX)
        w = health_http_format_ct(c->big, cap, 200, "text/plain; version=0.0.4; charset=utf-8",
                                  body, (size_t)n, head);
    free(body);
    if (w < 0) {
        free(c->big);
        c->big = NULL;
        return false;
    }
    c->resp = c->big;
    c->out_len = (size_t)w;
    return true;
}

/* answer - decide status and body for a parsed (or failed) request */
static void
answer(struct health *h, struct health_client *c, int parse_rc, const struct health_req *req)
{
    char detail[HEALTH_DETAIL_MAX];
    const char *body;
    bool head = false;
    int status, rc, w;

    detail[0] = '\0';
    if (parse_rc == -FH_ETOOBIG) {
        status = 414;
        body = "request target too long";
    } else if (parse_rc == -FH_EPROTO) {
        status = 400;
        body = "bad request";
    } else if (parse_rc == -FH_EAGAIN) {
        status = 431;                         /* head did not fit max_request */
        body = "request header too large";
    } else if (strcmp(req->method, "GET") != 0 && strcmp(req->method, "HEAD") != 0) {
        status = 405;
        body = "method not allowed";
    } else if (strcmp(req->path, "/metrics") == 0 && h->o.metrics) {
        head = strcmp(req->method, "HEAD") == 0;
        if (answer_metrics(h, c, head)) {
            c->out_off = 0;
            c->state = CLIENT_WRITING;
            return;
        }
        status = 500;
        body = "cannot produce metrics";
    } else {
        head = strcmp(req->method, "HEAD") == 0;
        rc = is_probe_path(req->path) ? (h->o.check ? h->o.check(h->o.arg, req->path, detail,
                                                                   sizeof(detail)) : 1)
                                      : -1;
        detail[sizeof(detail) - 1] = '\0';
        if (rc < 0) {
            status = 404;
            body = "404 page not found";
        } else if (rc > 0) {
            status = 200;
            body = (req->verbose && detail[0]) ? detail : "ok";
        } else {
            status = 503;
            body = detail[0] ? detail : "unhealthy";
        }
    }
    w = health_http_format(c->out, sizeof(c->out), status, body, head);
    if (w < 0)                                /* detail too long: drop it */
        w = health_http_format(c->out, sizeof(c->out), status, status == 200 ? "ok" : "unhealthy",
                               head);
    c->resp = c->out;
    c->out_len = w > 0 ? (size_t)w : 0;
    c->out_off = 0;
    c->state = CLIENT_WRITING;
}

/* do_write - send what the socket takes; on completion shut down writing */
static void
do_write(struct health *h, struct health_client *c, uint64_t now_ms)
{
    while (c->out_off < c->out_len) {
        ssize_t w = send(c->fd, c->resp + c->out_off, c->out_len - c->out_off,
                         MSG_NOSIGNAL | MSG_DONTWAIT);

        if (w < 0 && errno == EINTR)
            continue;
        if (w < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
            return;                           /* wait for POLLOUT */
        if (w <= 0) {
            client_close(h, c);
            return;
        }
        c->out_off += (size_t)w;
    }
    shutdown(c->fd, SHUT_WR);
    c->state = CLIENT_LINGER;
    c->deadline_ms = now_ms + (h->o.idle_ms < HEALTH_LINGER_MS ? h->o.idle_ms : HEALTH_LINGER_MS);
}

/* do_read - take what has arrived; answer once the head is complete */
static void
do_read(struct health *h, struct health_client *c, uint64_t now_ms)
{
    struct health_req req;
    int rc;

    for (;;) {
        ssize_t r;

        if (c->in_len == h->o.max_request)
            break;
        r = recv(c->fd, c->in + c->in_len, h->o.max_request - c->in_len, MSG_DONTWAIT);
        if (r < 0 && errno == EINTR)
            continue;
        if (r < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
            break;
        if (r <= 0) {                         /* EOF or error before a full request */
            client_close(h, c);
            return;
        }
        c->in_len += (size_t)r;
    }
    rc = health_http_parse(c->in, c->in_len, &req);
    if (rc == -FH_EAGAIN && c->in_len < h->o.max_request)
        return;                               /* need more */
    answer(h, c, rc, &req);
    c->deadline_ms = now_ms + h->o.idle_ms;
    do_write(h, c, now_ms);
}

/* do_drain - LINGER: discard input until the peer closes */
static void
do_drain(struct health *h, struct health_client *c)
{
    char scratch[1024];

    for (;;) {
        ssize_t r = recv(c->fd, scratch, sizeof(scratch), MSG_DONTWAIT);

        if (r < 0 && errno == EINTR)
            continue;
        if (r < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
            return;
        if (r <= 0) {
            client_close(h, c);
            return;
        }
    }
}

/* accept_all - take pending connections while slots are free */
static void
accept_all(struct health *h, uint64_t now_ms)
{
    uint32_t slot = 0;

    while (h->nclients < h->o.max_clients) {
        int fd = accept4(h->listen_fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);

        if (fd < 0) {
            if (errno == EINTR || errno == ECONNABORTED)
                continue;
            return;                           /* EAGAIN, or EMFILE etc.: try next round */
        }
        while (h->c[slot].state != CLIENT_FREE)
            slot++;
        h->c[slot].fd = fd;
        h->c[slot].state = CLIENT_READING;
        h->c[slot].deadline_ms = now_ms + h->o.idle_ms;
        h->c[slot].in_len = 0;
        h->nclients++;
    }
}

/* find_client - the busy slot with socket fd */
static struct health_client *
find_client(struct health *h, int fd)
{
    for (uint32_t i = 0; i < h->o.max_clients; i++)
        if (h->c[i].state != CLIENT_FREE && h->c[i].fd == fd)
            return &h->c[i];
    return NULL;
}

/* health_dispatch - serve ready clients, expire late ones, accept new ones */
int
health_dispatch(struct health *h, const zmq_pollitem_t *items, int n, uint64_t now_ms)
{
    bool can_accept = false;

    if (!h || h->listen_fd < 0)
        return 0;
    for (int i = 0; i < n; i++) {
        struct health_client *c;
        short ev = items[i].revents;

        if (items[i].socket != NULL || ev == 0)
            continue;
        if (items[i].fd == h->listen_fd) {
            can_accept = (ev & ZMQ_POLLIN) != 0;
            continue;
        }
        c = find_client(h, items[i].fd);
        if (!c)
            continue;
        if (c->state == CLIENT_READING)
            do_read(h, c, now_ms);
        else if (c->state == CLIENT_WRITING)
            do_write(h, c, now_ms);
        else
            do_drain(h, c);
    }
    for (uint32_t i = 0; i < h->o.max_clients; i++)
        if (h->c[i].state != CLIENT_FREE && now_ms >= h->c[i].deadline_ms)
            client_close(h, &h->c[i]);
    if (can_accept)
        accept_all(h, now_ms);
    return 0;
}
