/*
 * main.c - fh-watcher: lists and watches the apiserver and streams compact
 * events to the supervisor.
 *
 * Three reflectors per watched namespace (or one each cluster-wide), as
 * watch_kinds.h describes: FleetHandshakes (whole objects), Secrets (metadata
 * only: this process never receives Secret data fields) and the Bundles we
 * manage (metadata only, label selector). Every change becomes one
 * PROTO_EVENT on the DEALER socket; the end of every (re)list one
 * PROTO_SYNCED. One thread, blocking only in zmq_poll over the DEALER socket
 * and libcurl's sockets. Exits when told to QUIT, on SIGTERM, or when the
 * supervisor has been silent for too long.
 *
 * Secret metadata may still hold a copy of the data (kubectl's
 * last-applied-configuration annotation), so it is treated as sensitive:
 * the process is non-dumpable with no core files, every buffer that held a
 * response (ours, cJSON's and libcurl's) is wiped before it is freed, and
 * no annotation or label of a Secret is forwarded (obj_meta.h) or logged.
 *
 * Process-wide state lives here: the signal flag and struct watcher.
 */
#include <errno.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <time.h>
#include <unistd.h>

#include <cjson/cJSON.h>
#include <zmq.h>

#include "chan.h"
#include "child_proc.h"
#include "fh_err.h"
#include "fh_log.h"
#include "kube_config.h"
#include "kube_global.h"
#include "kube_watch.h"
#include "obj_meta.h"
#include "proc_harden.h"
#include "proto.h"
#include "secret_mem.h"
#include "watch_kinds.h"

#define MAX_NAMESPACES     CHILD_MAX_NAMESPACES
#define MAX_POLL_ITEMS     256
#define SUPERVISOR_SILENCE_MS 15000

static volatile sig_atomic_t stop_requested;

struct watcher;

struct wres {
    struct watcher *w;          /* back pointer */
    int res;                    /* enum proto_res */
    bool synced;                /* first list of this reflector done */
};

struct watcher {
    struct fh_log log;          /* our logger */
    void *zctx;                 /* ZeroMQ context */
    void *sock;                 /* DEALER to the supervisor */
    uint32_t gen;               /* our generation */
    struct kube_config *cfg;    /* apiserver config */
    struct kube_loop *loop;     /* all reflectors */
    struct wres res[3 * MAX_NAMESPACES]; /* callback args, one per reflector */
    size_t nres;                /* used entries of res */
    unsigned long sent;         /* events sent */
    unsigned long send_errors;  /* events that could not be sent */
    unsigned long bad_objects;  /* objects we could not convert */
};

/* on_signal - only sets a flag; zmq_poll returns EINTR */
static void
on_signal(int sig)
{
    (void)sig;
    stop_requested = 1;
}

/* send_msg - blocking send to the supervisor (DEALER blocks at HWM: backpressure) */
static int
send_msg(struct watcher *w, struct proto_msg *m)
{
    int rc;

    m->gen = w->gen;
    rc = chan_send(w->sock, NULL, m, 0);
    if (rc < 0)
        w->send_errors++;
    return rc;
}

/* ev_name - "ADDED" ... for logs */
static const char *
ev_name(enum kube_event_type type)
{
    return type == KUBE_EVENT_ADDED ? "ADDED" : type == KUBE_EVENT_MODIFIED ? "MODIFIED" :
           "DELETED";
}

/* on_event - reflector callback: convert and forward. A drop, and fields
 * left out, are logged with the object's key and the reason (never values). */
static void
on_event(void *arg, enum kube_event_type type, const cJSON *obj)
{
    struct wres *r = arg;
    struct proto_msg m;
    char key[OBJ_META_KEY_LEN];
    char why[512];
    int rc;

    memset(&m, 0, sizeof(m));
    m.type = PROTO_EVENT;
    m.u.event.type = type == KUBE_EVENT_ADDED ? PROTO_EV_ADDED :
                     type == KUBE_EVENT_MODIFIED ? PROTO_EV_MODIFIED : PROTO_EV_DELETED;
    rc = obj_meta_from_json(r->res, type == KUBE_EVENT_DELETED, obj, &m.u.event.obj, why,
                            sizeof(why));
    obj_meta_key(obj, key, sizeof(key));
    if (rc < 0) {
        r->w->bad_objects++;
        log_warn(&r->w->log, key, "dropping %s event of %s: %s (%s)", ev_name(type),
                 watch_kind_name(r->res), why[0] ? why : "unusable object", fh_strerror(rc));
        return;
    }
    if (why[0])
        log_warn(&r->w->log, key, "%s event of %s forwarded without some fields: %s",
                 ev_name(type), watch_kind_name(r->res), why);
    log_debug(&r->w->log, key, "event %s on %s rv %s", ev_name(type), watch_kind_name(r->res),
              m.u.event.obj.rv ? m.u.event.obj.rv : "");
    rc = send_msg(r->w, &m);
    if (rc < 0)
        log_error(&r->w->log, key, "cannot send event: %s", fh_strerror(rc));
    else
        r->w->sent++;
    proto_msg_clear(&m);
}

/* all_synced - every reflector of resource res (one per watched namespace)
 * has completed its first list; *n counts them */
static bool
all_synced(const struct watcher *w, int res, size_t *n)
{
    *n = 0;
    for (size_t i = 0; i < w->nres; i++) {
        if (w->res[i].res != res)
            continue;
        if (!w->res[i].synced)
            return false;
        (*n)++;
    }
    return true;
}

/* on_synced - a (re)list completed. SYNCED goes to the supervisor only once
 * the lists of that resource in every watched namespace are complete: it
 * treats SYNCED as "the cache now holds everything" (readiness, first
 * dispatch, and forgetting what a restarted watcher no longer lists). */
static void
on_synced(void *arg)
{
    struct wres *r = arg;
    struct proto_msg m;
    bool first = !r->synced;
    size_t n;

    r->synced = true;
    if (!all_synced(r->w, r->res, &n))
        return;
    if (first)
        log_info(&r->w->log, NULL, "initial list of %s synced%s", watch_kind_name(r->res),
                 n > 1 ? " in every watched namespace" : "");
    memset(&m, 0, sizeof(m));
    m.type = PROTO_SYNCED;
    m.u.synced.res = (uint8_t)r->res;
    send_msg(r->w, &m);
}

/* on_error - reflector problems are logged; the reflector recovers itself */
static void
on_error(void *arg, int err, const char *what)
{
    struct wres *r = arg;

    /* Forbidden here means the RBAC rules lack list/watch on this resource:
     * say so plainly, it is the first thing an operator admin will look for.
     * Unauthorized means the credentials themselves were refused. */
    if (err == -FH_EFORBIDDEN)
        log_error(&r->w->log, NULL, "cannot list/watch %s: %s (%s); check the operator's RBAC "
                  "rules", watch_kind_name(r->res), fh_strerror(err), what ? what : "");
    else if (err == -FH_EUNAUTHORIZED)
        log_error(&r->w->log, NULL, "cannot list/watch %s: %s (%s); the apiserver refused the "
                  "credentials: check the kubeconfig's token, token file or exec plugin",
                  watch_kind_name(r->res), fh_strerror(err), what ? what : "");
    else
        log_warn(&r->w->log, NULL, "list/watch of %s: %s: %s", watch_kind_name(r->res),
                 what ? what : "", fh_strerror(err));
}

/* add_reflector - one list+watch of resource res in ns ("" = all) */
static int
add_reflector(struct watcher *w, int res, const char *ns)
{
    struct kube_reflector_spec spec;
    struct kube_reflector_cb cb;
    struct wres *r;
    char path[512];
    int rc;

    if (w->nres >= sizeof(w->res) / sizeof(w->res[0]))
        return -FH_ETOOBIG;
    rc = watch_kind_spec(res, ns, path, sizeof(path), &spec);
    if (rc < 0)
        return rc;
    r = &w->res[w->nres++];
    r->w = w;
    r->res = res;
    cb.on_event = on_event;
    cb.on_synced = on_synced;
    cb.on_error = on_error;
    cb.arg = r;
    return kube_loop_add(w->loop, &spec, &cb);
}

/* add_namespace - the three reflectors for one namespace ("" = all) */
static int
add_namespace(struct watcher *w, const char *ns)
{
    static const int kinds[] = { PROTO_RES_FH, PROTO_RES_SECRET, PROTO_RES_BUNDLE };
    int rc = 0;

    for (size_t i = 0; i < sizeof(kinds) / sizeof(kinds[0]) && rc == 0; i++)
        rc = add_reflector(w, kinds[i], ns);
    return rc;
}

/* handle_supervisor - one message from the supervisor; returns 1 to stop */
static int
handle_supervisor(struct watcher *w, uint64_t *last_seen)
{
    struct proto_msg m;
    int stop = 0;
    int rc;

    for (;;) {
        rc = chan_recv(w->sock, NULL, 0, &m, ZMQ_DONTWAIT);
        if (rc == -FH_EAGAIN)
            break;
        if (rc == -FH_EPROTO) {
            log_warn(&w->log, NULL, "dropped malformed message from supervisor");
            continue;
        }
        if (rc < 0)
            return 1;
        *last_seen = fh_now_ms();
        if (m.type == PROTO_HEARTBEAT) {
            child_reply_heartbeat(w->sock, w->gen);
        } else if (m.type == PROTO_QUIT) {
            log_info(&w->log, NULL, "quit requested");
            stop = 1;
        }
        proto_msg_clear(&m);
    }
    return stop;
}

int
main(int argc, char **argv)
{
    struct watcher w;
    struct child_args args;
    char err[512];
    struct sigaction sa;
    uint64_t last_seen;
    int exit_code = 1;
    int rc;

    memset(&w, 0, sizeof(w));
    rc = child_args_parse(argc, argv, "fh-watcher", true, &args);
    if (rc != 0)
        return rc > 0 ? 0 : CHILD_EXIT_CONFIG;
    w.gen = args.gen;
    fh_log_init(&w.log, "watcher", args.level);
    proc_harden_secrets(&w.log);   /* before any response arrives */
    memset(&sa, 0, sizeof(sa));
    sa.sa_handler = on_signal;
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGINT, &sa, NULL);
    signal(SIGPIPE, SIG_IGN);
    prctl(PR_SET_PDEATHSIG, SIGTERM);
    rc = kube_global_init_wiping();
    if (rc < 0) {
        log_error(&w.log, NULL, "cannot initialise libcurl: %s", fh_strerror(rc));
        return 1;
    }

    rc = kube_config_load(args.kubeconfig, &w.cfg, err, sizeof(err));
    if (rc < 0) {
        log_error(&w.log, NULL, "cannot load apiserver config: %s", err);
        exit_code = CHILD_EXIT_CONFIG;
        goto out;
    }
    w.loop = kube_loop_new(w.cfg, NULL, &w.log);
    if (!w.loop) {
        log_error(&w.log, NULL, "cannot set up the apiserver client");
        goto out;
    }
    w.zctx = zmq_ctx_new();
    w.sock = w.zctx ? child_connect(w.zctx, PROTO_ROLE_WATCHER, &args, &rc) : NULL;
    if (!w.sock) {
        log_error(&w.log, NULL, "cannot connect to %s: %s", args.endpoint, fh_strerror(rc));
        goto out;
    }

    if (args.nns == 0)
        rc = add_namespace(&w, "");
    for (size_t i = 0; i < args.nns && rc == 0; i++)
        rc = add_namespace(&w, args.namespaces[i]);
    if (rc < 0) {
        log_error(&w.log, NULL, "cannot start watches: %s", fh_strerror(rc));
        goto out;
    }
    log_info(&w.log, NULL, "watching %s via %s", args.nns ? "selected namespaces" : "all namespaces",
             w.cfg->source ? w.cfg->source : "?");

    last_seen = fh_now_ms();
    while (!stop_requested) {
        zmq_pollitem_t items[MAX_POLL_ITEMS];
        long timeout = 1000;
        int n;

        items[0].socket = w.sock;
        items[0].fd = 0;
        items[0].events = ZMQ_POLLIN;
        items[0].revents = 0;
        n = kube_loop_pollitems(w.loop, items + 1, MAX_POLL_ITEMS - 1, &timeout);
        if (n < 0) {
            log_error(&w.log, NULL, "poll set: %s", fh_strerror(n));
            goto out;
        }
        rc = zmq_poll(items, n + 1, timeout);
        if (rc < 0 && errno != EINTR) {
            log_error(&w.log, NULL, "zmq_poll: %s", zmq_strerror(errno));
            goto out;
        }
        if (rc < 0)
            continue;
        if ((items[0].revents & ZMQ_POLLIN) && handle_supervisor(&w, &last_seen))
            break;
        kube_loop_dispatch(w.loop, items + 1, n);
        if (fh_now_ms() - last_seen > SUPERVISOR_SILENCE_MS) {
            log_error(&w.log, NULL, "supervisor silent for %d ms; exiting", SUPERVISOR_SILENCE_MS);
            goto out;
        }
    }
    log_info(&w.log, NULL, "stopping: %lu events sent, %lu send errors, %lu bad objects",
             w.sent, w.send_errors, w.bad_objects);
    exit_code = 0;
out:
    kube_loop_free(&w.loop);
    chan_close(&w.sock);
    if (w.zctx)
        zmq_ctx_term(w.zctx);
    kube_config_free(&w.cfg);
    kube_global_cleanup();
    return exit_code;
}
