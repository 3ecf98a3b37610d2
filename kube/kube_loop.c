/*
 * kube_loop.c - runs every reflector's HTTP transfers on one curl multi
 * handle and exposes curl's sockets and timer to the caller's zmq_poll().
 *
 * curl tells us which fds to watch (CURLMOPT_SOCKETFUNCTION) and when to
 * call back (CURLMOPT_TIMERFUNCTION); both are recorded in this struct -
 * the fd table and a deadline - and turned into zmq_pollitem_t entries and
 * a poll timeout. Reflector backoffs are due times folded into the same
 * timeout, so the process only ever blocks in zmq_poll().
 *
 * Owns: the multi handle, the fd table, the reflectors, the shared token
 * source and target. Borrows cfg and log.
 */
#include <stdlib.h>
#include <string.h>

#include <curl/curl.h>
#include <zmq.h>

#include "fh_err.h"
#include "fh_log.h"
#include "kube_backoff.h"
#include "kube_client.h"
#include "kube_config.h"
#include "kube_http.h"
#include "kube_reflector.h"
#include "kube_token.h"
#include "kube_watch.h"

struct loop_fd {
    curl_socket_t fd;
    int what;               /* CURL_POLL_IN / OUT / INOUT */
};

struct kube_loop {
    const struct kube_config *cfg;
    const struct fh_log *log;
    struct kube_client_opts opts;
    char *user_agent;
    CURLM *multi;
    struct kube_target target;
    struct kube_token tok;
    struct kube_reflector **refl;
    size_t nrefl;
    struct loop_fd *fds;
    size_t nfds, capfds;
    long timer_due_ms;      /* curl's timer, -1 = none */
};

/* fd_find - index of fd in the table, or nfds */
static size_t
fd_find(const struct kube_loop *l, curl_socket_t fd)
{
    size_t i;

    for (i = 0; i < l->nfds; i++)
        if (l->fds[i].fd == fd)
            break;
    return i;
}

/* on_socket - CURLMOPT_SOCKETFUNCTION: keep the fd table current */
static int
on_socket(CURL *easy, curl_socket_t fd, int what, void *userp, void *socketp)
{
    struct kube_loop *l = userp;
    size_t i = fd_find(l, fd);

    (void)easy;
    (void)socketp;
    if (what == CURL_POLL_REMOVE) {
        if (i < l->nfds)
            l->fds[i] = l->fds[--l->nfds];
        return 0;
    }
    if (i == l->nfds) {
        if (l->nfds == l->capfds) {
            size_t ncap = l->capfds ? l->capfds * 2 : 8;
            struct loop_fd *n = realloc(l->fds, ncap * sizeof(*n));

            if (!n)
                return -1;      /* curl fails the transfer; the reflector backs off */
            l->fds = n;
            l->capfds = ncap;
        }
        l->nfds++;
    }
    l->fds[i].fd = fd;
    l->fds[i].what = what;
    return 0;
}

/* on_timer - CURLMOPT_TIMERFUNCTION: remember the single deadline */
static int
on_timer(CURLM *multi, long timeout_ms, void *userp)
{
    struct kube_loop *l = userp;

    (void)multi;
    l->timer_due_ms = timeout_ms < 0 ? -1 : kube_now_ms() + timeout_ms;
    return 0;
}

/* kube_loop_new - multi handle, callbacks, token, target */
struct kube_loop *
kube_loop_new(const struct kube_config *cfg, const struct kube_client_opts *opts,
              const struct fh_log *log)
{
    struct kube_loop *l;
    int rc;

    if (!cfg || !cfg->server) {
        log_error(log, NULL, "kube loop: no configuration");
        return NULL;
    }
    l = calloc(1, sizeof(*l));
    if (!l) {
        log_error(log, NULL, "kube loop: out of memory");
        return NULL;
    }
    l->cfg = cfg;
    l->log = log;
    l->timer_due_ms = -1;
    kube_client_opts_fill(&l->opts, opts);
    l->user_agent = strdup(l->opts.user_agent);
    l->opts.user_agent = l->user_agent;
    if (!l->user_agent)
        goto nomem;
    rc = kube_target_init(&l->target, cfg);
    if (rc < 0) {
        log_error(log, NULL, "kube loop: %s: unusable server URL", cfg->source ? cfg->source : "?");
        goto fail;
    }
    rc = kube_token_init(&l->tok, cfg);
    if (rc < 0) {
        log_error(log, NULL, "kube loop: no bearer token: %s",
                  kube_token_error(&l->tok)[0] ? kube_token_error(&l->tok) : fh_strerror(rc));
        goto fail;
    }
    l->multi = curl_multi_init();
    if (!l->multi)
        goto nomem;
    if (curl_multi_setopt(l->multi, CURLMOPT_SOCKETFUNCTION, on_socket) != CURLM_OK ||
        curl_multi_setopt(l->multi, CURLMOPT_SOCKETDATA, l) != CURLM_OK ||
        curl_multi_setopt(l->multi, CURLMOPT_TIMERFUNCTION, on_timer) != CURLM_OK ||
        curl_multi_setopt(l->multi, CURLMOPT_TIMERDATA, l) != CURLM_OK) {
        log_error(log, NULL, "kube loop: cannot configure curl multi handle");
        goto fail;
    }
    return l;
nomem:
    log_error(log, NULL, "kube loop: out of memory");
fail:
    kube_loop_free(&l);
    return NULL;
}

/* kube_loop_free - reflectors first: they take their handles out of multi */
void
kube_loop_free(struct kube_loop **lp)
{
    struct kube_loop *l;

    if (!lp || !*lp)
        return;
    l = *lp;
    for (size_t i = 0; i < l->nrefl; i++)
        kube_reflector_free(&l->refl[i]);
    free(l->refl);
    if (l->multi)
        curl_multi_cleanup(l->multi);
    free(l->fds);
    kube_target_clear(&l->target);
    kube_token_clear(&l->tok);
    free(l->user_agent);
    free(l);
    *lp = NULL;
}

/* kube_loop_add - new reflector, started at once */
int
kube_loop_add(struct kube_loop *l, const struct kube_reflector_spec *spec,
              const struct kube_reflector_cb *cb)
{
    struct kube_reflector_env env = {
        .cfg = l->cfg,
        .target = &l->target,
        .tok = &l->tok,
        .log = l->log,
        .multi = l->multi,
        .user_agent = l->user_agent,
        .connect_timeout_ms = l->opts.connect_timeout_ms,
        .request_timeout_ms = l->opts.request_timeout_ms,
        .max_body = l->opts.max_body_bytes,
    };
    struct kube_reflector **n, *r;

    n = realloc(l->refl, (l->nrefl + 1) * sizeof(*n));
    if (!n)
        return -FH_ENOMEM;
    l->refl = n;
    r = kube_reflector_new(&env, spec, cb);
    if (!r)
        return -FH_EINVAL;
    l->refl[l->nrefl++] = r;
    /* a local failure here is retried by the reflector after a backoff */
    kube_reflector_start(r, kube_now_ms());
    return 0;
}

/* kube_loop_pollitems - curl's fds as poll items, timeout lowered */
int
kube_loop_pollitems(struct kube_loop *l, zmq_pollitem_t *items, int max_items,
                    long *timeout_ms)
{
    long now = kube_now_ms(), due = l->timer_due_ms;

    if (max_items < 0 || l->nfds > (size_t)max_items)
        return -FH_ETOOBIG;
    for (size_t i = 0; i < l->nfds; i++) {
        items[i].socket = NULL;
        items[i].fd = l->fds[i].fd;
        items[i].events = (short)(((l->fds[i].what & CURL_POLL_IN) ? ZMQ_POLLIN : 0) |
                                  ((l->fds[i].what & CURL_POLL_OUT) ? ZMQ_POLLOUT : 0));
        items[i].revents = 0;
    }
    for (size_t i = 0; i < l->nrefl; i++) {
        long d = kube_reflector_due(l->refl[i]);

        if (d >= 0 && (due < 0 || d < due))
            due = d;
    }
    if (due >= 0) {
        long wait = due > now ? due - now : 0;

        if (*timeout_ms < 0 || wait < *timeout_ms)
            *timeout_ms = wait;
    }
    return (int)l->nfds;
}

/* finish_transfers - hand every completed transfer to its reflector */
static void
finish_transfers(struct kube_loop *l)
{
    CURLMsg *msg;
    int left;

    while ((msg = curl_multi_info_read(l->multi, &left))) {
        struct kube_reflector *r = NULL;
        CURL *easy = msg->easy_handle;
        CURLcode rc = msg->data.result;

        if (msg->msg != CURLMSG_DONE)
            continue;
        curl_easy_getinfo(easy, CURLINFO_PRIVATE, (char **)&r);
        curl_multi_remove_handle(l->multi, easy);
        if (r)
            kube_reflector_done(r, rc, kube_now_ms());
    }
}

/* kube_loop_dispatch - one round after zmq_poll */
int
kube_loop_dispatch(struct kube_loop *l, const zmq_pollitem_t *items, int n)
{
    CURLMcode mrc = CURLM_OK;
    int running = 0;
    long now;

    for (int i = 0; i < n; i++) {
        int ev = 0;

        if (items[i].socket || !items[i].revents)
            continue;
        /* the table may have changed during this loop: only known fds */
        if (fd_find(l, items[i].fd) == l->nfds)
            continue;
        if (items[i].revents & ZMQ_POLLIN)
            ev |= CURL_CSELECT_IN;
        if (items[i].revents & ZMQ_POLLOUT)
            ev |= CURL_CSELECT_OUT;
        if (items[i].revents & ZMQ_POLLERR)
            ev |= CURL_CSELECT_ERR;
        mrc = curl_multi_socket_action(l->multi, items[i].fd, ev, &running);
        if (mrc != CURLM_OK)
            goto out;
    }
    now = kube_now_ms();
    if (l->timer_due_ms >= 0 && l->timer_due_ms <= now) {
        l->timer_due_ms = -1;
        mrc = curl_multi_socket_action(l->multi, CURL_SOCKET_TIMEOUT, 0, &running);
        if (mrc != CURLM_OK)
            goto out;
    }
    finish_transfers(l);
    now = kube_now_ms();
    for (size_t i = 0; i < l->nrefl; i++) {
        long due = kube_reflector_due(l->refl[i]);

        if (due >= 0 && due <= now)
            kube_reflector_start(l->refl[i], now);
    }
out:
    if (mrc != CURLM_OK) {
        log_error(l->log, NULL, "curl multi: %s", curl_multi_strerror(mrc));
        return mrc == CURLM_OUT_OF_MEMORY ? -FH_ENOMEM : -FH_EIO;
    }
    return 0;
}

/* kube_loop_synced - all initial lists done */
bool
kube_loop_synced(const struct kube_loop *l)
{
    for (size_t i = 0; i < l->nrefl; i++)
        if (!kube_reflector_synced(l->refl[i]))
            return false;
    return l->nrefl > 0;
}
