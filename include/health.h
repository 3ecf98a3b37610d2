/*
 * health.h - /healthz, /readyz and /metrics over a tiny non-blocking HTTP/1.1
 * server that lives inside the supervisor's zmq_poll loop.
 *
 * Address (--health-probe-bind-address, controller-runtime format):
 *   ":8081"          every address (IPv6 dual-stack "::", else 0.0.0.0)
 *   "0.0.0.0:8081", "127.0.0.1:0" (port 0 = kernel picks), "[::]:8081",
 *   "[::1]:8081", "localhost:8081" (a name is resolved once, at listen time)
 *   "0" or ""        disabled
 * Anything else (no port, port > 65535, "::1:80" without brackets, ...) is
 * -FH_EINVAL.
 *
 * Serving: GET or HEAD of "/healthz", "/readyz" or a sub-path of either
 * ("/readyz/informers") calls check(arg, path, detail, cap) with the path
 * (query removed) and an empty detail buffer of cap bytes:
 *   returns 1  -> 200, body "ok" (or detail when the query has "verbose"
 *                 and detail is not empty)
 *   returns 0  -> 503, body detail (or "unhealthy" if empty)
 *   returns <0 -> 404 (unknown sub-check)
 * GET or HEAD of exactly "/metrics", when a metrics callback is set, calls
 * metrics(arg, buf, HEALTH_METRICS_MAX) and answers 200 with what it wrote
 * (Prometheus text format 0.0.4), or 500 when it returns an error.
 * Other paths 404, other methods 405, malformed requests 400, a request
 * line + headers longer than max_request 431. Every response carries
 * Content-Length and "Connection: close"; the connection is then shut down
 * (remaining input is drained briefly so the client never sees a reset).
 *
 * Bounds: at most max_clients connections (while full the listening socket
 * is left out of the poll set, so pending connections wait in the kernel
 * backlog and nothing spins); a request must arrive completely within
 * idle_ms of its accept, and a response must be taken within idle_ms, else
 * the connection is closed. Sockets are non-blocking; no call here blocks,
 * and nothing reads the clock: now_ms comes from the caller.
 *
 * Loop contract: every iteration call health_pollitems() (it changes as
 * clients come and go), include health_next_timeout_ms() in the poll
 * timeout, then call health_dispatch() with the same items after zmq_poll -
 * also when zmq_poll returned 0, so idle clients are closed on time.
 *
 * Ownership: struct health owns the listening socket and all client
 * sockets and buffers; health_free() closes them. check, metrics and arg
 * are borrowed. Probe answers never allocate; a /metrics answer allocates
 * its response, freed when that connection closes.
 */
#ifndef HEALTH_H
#define HEALTH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <zmq.h>

#define HEALTH_DEFAULT_MAX_CLIENTS 16u
#define HEALTH_DEFAULT_MAX_REQUEST 4096u
#define HEALTH_DEFAULT_IDLE_MS     5000u
#define HEALTH_HOST_MAX            256u   /* bytes for a host, with NUL */
#define HEALTH_METRICS_MAX         (64u * 1024u) /* largest /metrics body */

struct health;

/* health_check_fn - see above; detail is NUL-terminated, cap >= 256 */
typedef int (*health_check_fn)(void *arg, const char *path, char *detail, size_t cap);

/* health_metrics_fn - write the metrics text into buf (cap bytes); returns
 * its length (< cap) or a negative error (-FH_ETOOBIG when it does not fit) */
typedef int (*health_metrics_fn)(void *arg, char *buf, size_t cap);

struct health_opts {
    health_check_fn check;      /* NULL = always healthy */
    health_metrics_fn metrics;  /* NULL = no /metrics (404) */
    void *arg;                  /* passed to check and metrics */
    uint32_t max_clients;       /* 0 = HEALTH_DEFAULT_MAX_CLIENTS */
    uint32_t max_request;       /* request line + headers, 0 = HEALTH_DEFAULT_MAX_REQUEST */
    uint32_t idle_ms;           /* per-connection time budget, 0 = HEALTH_DEFAULT_IDLE_MS */
};

struct health_addr {
    bool disabled;              /* "0" or "" */
    bool any;                   /* host part empty: every address */
    char host[HEALTH_HOST_MAX]; /* host without brackets ("" when any) */
    uint16_t port;              /* 0 = kernel picks */
};

/* health_parse_addr - parse a bind address into *out. 0 or -FH_EINVAL. */
int health_parse_addr(const char *addr, struct health_addr *out);

/* health_listen - parse addr and open a non-blocking, close-on-exec
 * listening TCP socket. *fd_out is the socket (caller owns it) or -1 when
 * addr disables probes; *port_out (may be NULL) the bound port (0 when
 * disabled). 0, -FH_EINVAL (bad address or unresolvable name) or -errno
 * (e.g. -EADDRINUSE). */
int health_listen(const char *addr, int *fd_out, uint16_t *port_out);

/* health_new_fd - server on an already listening socket, which it takes
 * over (closed by health_free, or right away on failure). listen_fd -1
 * gives a disabled server (no poll items). o may be NULL. NULL on ENOMEM. */
struct health *health_new_fd(int listen_fd, const struct health_opts *o);

/* health_new - health_listen + health_new_fd with default bounds. NULL on
 * failure with *err (may be NULL) set to the negative code. A disabling
 * address gives a disabled server, not NULL. */
struct health *health_new(const char *addr, health_check_fn check, void *arg, int *err);

/* health_new_opts - health_new with every option (o->max_* and idle_ms may
 * be 0 for the defaults) */
struct health *health_new_opts(const char *addr, const struct health_opts *o, int *err);

/* health_free - close every socket, free, set *h = NULL; NULL-safe */
void health_free(struct health **h);

/* health_port - bound port, 0 if disabled */
int health_port(const struct health *h);

/* health_pollitems - fill up to max items (listening socket when a client
 * slot is free, then each client with POLLIN or POLLOUT as its state needs);
 * returns how many were filled (0 if disabled or max <= 0) */
int health_pollitems(struct health *h, zmq_pollitem_t *items, int max);

/* health_dispatch - after zmq_poll: serve the clients among items (matched
 * by fd; other items are ignored), close those past their deadline, accept
 * new connections. Always 0 (client errors just close that client). */
int health_dispatch(struct health *h, const zmq_pollitem_t *items, int n, uint64_t now_ms);

/* health_next_timeout_ms - ms until the earliest client deadline (0 if
 * passed), -1 if there are no clients */
long health_next_timeout_ms(const struct health *h, uint64_t now_ms);

/* health_clients - open client connections */
size_t health_clients(const struct health *h);

/* ---- HTTP helpers (health_http.c), exposed for tests ---- */

struct health_req {
    char method[8];             /* "GET", "HEAD", ... */
    char path[256];             /* target without query */
    bool verbose;               /* query has a "verbose" parameter */
};

/* health_http_parse - look for one complete request head (up to the blank
 * line) in buf[0..len). 0 = complete and well-formed (*req filled),
 * -FH_EAGAIN = need more bytes, -FH_EPROTO = malformed (answer 400),
 * -FH_ETOOBIG = target longer than req->path (answer 414). */
int health_http_parse(const char *buf, size_t len, struct health_req *req);

/* health_http_format - write a complete response with status and body
 * (body omitted for HEAD, Content-Length kept) into buf; returns its length,
 * or -FH_ETOOBIG if cap is too small */
int health_http_format(char *buf, size_t cap, int status, const char *body, bool head);

/* health_http_format_ct - the same with a Content-Type and a body of blen
 * bytes (body may hold anything but need not be NUL-terminated) */
int health_http_format_ct(char *buf, size_t cap, int status, const char *content_type,
                          const char *body, size_t blen, bool head);

#endif
