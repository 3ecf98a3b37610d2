/*
 * test_kube_server.h - a tiny scripted HTTP/1.1 server for the kube/ unit
 * tests (test_kube_client.c, test_kube_reflector.c), run in a thread on a
 * loopback port.
 *
 * The test queues steps; each incoming request is answered by the first
 * unused step whose `match` is a substring of the request head (request
 * line + headers). A request that matches no step is held open without an
 * answer (like an idle watch) until the client or the server closes. Every
 * request (head and body) is recorded for assertions. Keep-alive, chunked
 * responses (each chunk written separately), "hold the stream open after
 * these chunks" and "close after responding" are supported.
 *
 * All state lives in struct ts, shared with the server thread under ts.mu.
 */
#ifndef TEST_KUBE_SERVER_H
#define TEST_KUBE_SERVER_H

#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#define TS_MAX_STEPS  64
#define TS_MAX_REQS   256
#define TS_MAX_CONNS  32
#define TS_MAX_CHUNKS 8
#define TS_CONN_BUF   65536

struct ts_step {
    const char *match;                  /* substring of the request head; NULL = any */
    int status;
    const char *headers;                /* extra header lines, each ending "\r\n" */
    const char *body;                   /* Content-Length body unless chunks are given */
    const char *chunks[TS_MAX_CHUNKS];  /* chunked body, each chunk written separately */
    bool hold;                          /* chunks: keep the stream open afterwards */
    bool close;                         /* close the connection after responding */
};

struct ts_conn {
    int fd;                             /* -1 = free slot */
    bool held;                          /* answered with hold, or no step matched */
    size_t len;
    char buf[TS_CONN_BUF];
};

struct ts {
    int lfd;
    int port;
    int wake[2];
    pthread_t th;
    pthread_mutex_t mu;
    struct ts_step steps[TS_MAX_STEPS];
    bool used[TS_MAX_STEPS];
    size_t nsteps;
    char *reqs[TS_MAX_REQS];
    size_t nreqs;
    unsigned accepted;
    struct ts_conn *conns;              /* TS_MAX_CONNS, server thread only */
};

/* ts_write_all - send everything, ignoring a client that went away */
static inline void
ts_write_all(int fd, const char *p, size_t n)
{
    while (n > 0) {
        ssize_t w = send(fd, p, n, MSG_NOSIGNAL);

        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0)
            return;
        p += w;
        n -= (size_t)w;
    }
}

/* ts_respond - write the response of one step */
static inline void
ts_respond(int fd, const struct ts_step *st)
{
    char head[2048];
    int n;

    n = snprintf(head, sizeof(head), "HTTP/1.1 %d %s\r\n%s%s%s", st->status,
                 st->status < 300 ? "OK" : "Scripted",
                 st->headers && strstr(st->headers, "Content-Type") ? "" :
                     "Content-Type: application/json\r\n",
                 st->headers ? st->headers : "",
                 st->close ? "Connection: close\r\n" : "");
    if (st->chunks[0]) {
        n += snprintf(head + n, sizeof(head) - (size_t)n, "Transfer-Encoding: chunked\r\n\r\n");
        ts_write_all(fd, head, (size_t)n);
        for (int i = 0; i < TS_MAX_CHUNKS && st->chunks[i]; i++) {
            char sz[32];
            size_t cl = strlen(st->chunks[i]);

            snprintf(sz, sizeof(sz), "%zx\r\n", cl);
            ts_write_all(fd, sz, strlen(sz));
            ts_write_all(fd, st->chunks[i], cl);
            ts_write_all(fd, "\r\n", 2);
        }
        if (!st->hold)
            ts_write_all(fd, "0\r\n\r\n", 5);
        return;
    }
    n += snprintf(head + n, sizeof(head) - (size_t)n, "Content-Length: %zu\r\n\r\n",
                  st->body ? strlen(st->body) : 0);
    ts_write_all(fd, head, (size_t)n);
    if (st->body)
        ts_write_all(fd, st->body, strlen(st->body));
}

/* ts_conn_close - free a connection slot */
static inline void
ts_conn_close(struct ts_conn *c)
{
    if (c->fd >= 0)
        close(c->fd);
    c->fd = -1;
    c->len = 0;
    c->held = false;
}

/* ts_handle - serve complete requests in c's buffer; false = close it */
static inline bool
ts_handle(struct ts *s, struct ts_conn *c)
{
    while (!c->held) {
        char *end, *cl;
        size_t head_len, body_len = 0, total;
        struct ts_step st;
        bool found = false;
        char *rec;

        c->buf[c->len] = '\0';
        end = strstr(c->buf, "\r\n\r\n");
        if (!end)
            return true;
        head_len = (size_t)(end - c->buf) + 4;
        cl = strcasestr(c->buf, "\r\nContent-Length:");
        if (cl && cl < end)
            body_len = strtoul(cl + 17, NULL, 10);
        total = head_len + body_len;
        if (total > c->len)
            return true;
        rec = strndup(c->buf, total);
        pthread_mutex_lock(&s->mu);
        if (rec && s->nreqs < TS_MAX_REQS)
            s->reqs[s->nreqs++] = rec;
        else
            free(rec);
        for (size_t i = 0; i < s->nsteps; i++) {
            if (s->used[i])
                continue;
            if (!s->steps[i].match || (strstr(c->buf, s->steps[i].match) &&
                                       strstr(c->buf, s->steps[i].match) < end)) {
                s->used[i] = true;
                st = s->steps[i];
                found = true;
                break;
            }
        }
        pthread_mutex_unlock(&s->mu);
        memmove(c->buf, c->buf + total, c->len - total);
        c->len -= total;
        if (!found) {
            c->held = true;
            return true;
        }
        ts_respond(c->fd, &st);
        if (st.close)
            return false;
        if (st.chunks[0] && st.hold)
            c->held = true;
    }
    return true;
}

/* ts_main - poll loop of the server thread */
static inline void *
ts_main(void *arg)
{
    struct ts *s = arg;

    for (;;) {
        struct pollfd pf[TS_MAX_CONNS + 2];
        int map[TS_MAX_CONNS + 2];
        int n = 0;

        pf[n].fd = s->wake[0];
        pf[n++].events = POLLIN;
        pf[n].fd = s->lfd;
        pf[n++].events = POLLIN;
        for (int i = 0; i < TS_MAX_CONNS; i++) {
            if (s->conns[i].fd < 0)
                continue;
            map[n] = i;
            pf[n].fd = s->conns[i].fd;
            pf[n++].events = POLLIN;
        }
        if (poll(pf, (nfds_t)n, -1) < 0) {
            if (errno == EINTR)
                continue;
            break;
        }
        if (pf[0].revents)
            break;
        if (pf[1].revents & POLLIN) {
            int fd = accept(s->lfd, NULL, NULL), one = 1;

            if (fd >= 0) {
                int slot = -1;

                setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
                for (int i = 0; i < TS_MAX_CONNS; i++)
                    if (s->conns[i].fd < 0) {
                        slot = i;
                        break;
                    }
                if (slot < 0) {
                    close(fd);
                } else {
                    s->conns[slot].fd = fd;
                    s->conns[slot].len = 0;
                    s->conns[slot].held = false;
                    pthread_mutex_lock(&s->mu);
                    s->accepted++;
                    pthread_mutex_unlock(&s->mu);
                }
            }
        }
        for (int k = 2; k < n; k++) {
            struct ts_conn *c = &s->conns[map[k]];
            ssize_t r;

            if (!pf[k].revents)
                continue;
            if (c->len >= TS_CONN_BUF - 1) {
                ts_conn_close(c);
                continue;
            }
            r = read(c->fd, c->buf + c->len, TS_CONN_BUF - 1 - c->len);
            if (r <= 0) {
                ts_conn_close(c);
                continue;
            }
            c->len += (size_t)r;
            if (!ts_handle(s, c))
                ts_conn_close(c);
        }
    }
    for (int i = 0; i < TS_MAX_CONNS; i++)
        ts_conn_close(&s->conns[i]);
    return NULL;
}

/* ts_start - listen on 127.0.0.1:<ephemeral> and start the thread; 0 or -1 */
static inline int
ts_start(struct ts *s)
{
    struct sockaddr_in a;
    socklen_t al = sizeof(a);
    int one = 1;

    memset(s, 0, sizeof(*s));
    s->conns = calloc(TS_MAX_CONNS, sizeof(*s->conns));
    if (!s->conns)
        return -1;
    for (int i = 0; i < TS_MAX_CONNS; i++)
        s->conns[i].fd = -1;
    pthread_mutex_init(&s->mu, NULL);
    if (pipe(s->wake) < 0)
        return -1;
    s->lfd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (s->lfd < 0)
        return -1;
    setsockopt(s->lfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
    memset(&a, 0, sizeof(a));
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (bind(s->lfd, (struct sockaddr *)&a, sizeof(a)) < 0 || listen(s->lfd, 16) < 0 ||
        getsockname(s->lfd, (struct sockaddr *)&a, &al) < 0)
        return -1;
    s->port = ntohs(a.sin_port);
    return pthread_create(&s->th, NULL, ts_main, s) == 0 ? 0 : -1;
}

/* ts_add - queue a step (also while the server runs) */
static inline void
ts_add(struct ts *s, struct ts_step st)
{
    pthread_mutex_lock(&s->mu);
    if (s->nsteps < TS_MAX_STEPS)
        s->steps[s->nsteps++] = st;
    pthread_mutex_unlock(&s->mu);
}

/* ts_nreqs - requests recorded so far */
static inline size_t
ts_nreqs(struct ts *s)
{
    size_t n;

    pthread_mutex_lock(&s->mu);
    n = s->nreqs;
    pthread_mutex_unlock(&s->mu);
    return n;
}

/* ts_req - recorded request i (stable until ts_stop), NULL if none yet */
static inline const char *
ts_req(struct ts *s, size_t i)
{
    const char *r = NULL;

    pthread_mutex_lock(&s->mu);
    if (i < s->nreqs)
        r = s->reqs[i];
    pthread_mutex_unlock(&s->mu);
    return r;
}

/* ts_count - recorded requests containing needle */
static inline size_t
ts_count(struct ts *s, const char *needle)
{
    size_t n = 0;

    pthread_mutex_lock(&s->mu);
    for (size_t i = 0; i < s->nreqs; i++)
        if (strstr(s->reqs[i], needle))
            n++;
    pthread_mutex_unlock(&s->mu);
    return n;
}

/* ts_accepted - TCP connections accepted so far */
static inline unsigned
ts_accepted(struct ts *s)
{
    unsigned n;

    pthread_mutex_lock(&s->mu);
    n = s->accepted;
    pthread_mutex_unlock(&s->mu);
    return n;
}

/* ts_stop - stop the thread, close everything, free the records */
static inline void
ts_stop(struct ts *s)
{
    ssize_t w = write(s->wake[1], "x", 1);

    (void)w;
    pthread_join(s->th, NULL);
    close(s->lfd);
    close(s->wake[0]);
    close(s->wake[1]);
    for (size_t i = 0; i < s->nreqs; i++)
        free(s->reqs[i]);
    free(s->conns);
    pthread_mutex_destroy(&s->mu);
    memset(s, 0, sizeof(*s));
}

/* ts_kubeconfig - write a kubeconfig for http://127.0.0.1:<port> into a new
 * temp file (path into out, caller unlinks). user_yaml / cluster_extra are
 * extra indented lines for the user / cluster mappings (may be NULL). */
static inline int
ts_kubeconfig(const struct ts *s, char *out, size_t outlen, const char *cluster_extra,
              const char *user_yaml)
{
    FILE *f;
    int fd;

    snprintf(out, outlen, "/tmp/fh-kubeconfig-XXXXXX");
    fd = mkstemp(out);
    if (fd < 0)
        return -1;
    f = fdopen(fd, "w");
    if (!f) {
        close(fd);
        return -1;
    }
    fprintf(f, "apiVersion: v1\nkind: Config\ncurrent-context: t\n"
               "clusters:\n- name: t\n  cluster:\n    server: http://127.0.0.1:%d\n%s"
               "users:\n- name: u\n  user:\n%s"
               "contexts:\n- name: t\n  context: {cluster: t, user: u}\n",
            s->port, cluster_extra ? cluster_extra : "",
            user_yaml ? user_yaml : "    token: abc\n");
    return fclose(f) == 0 ? 0 : -1;
}

#endif
