/*
 * main.c - fh-worker: reconciles the FleetHandshake keys the supervisor hands
 * it, one at a time, and reports each outcome.
 *
 * This is the only process that ever holds Secret values (inside
 * reconcile_task, which wipes them after use). It makes itself non-dumpable
 * and disables core files so those values cannot leak through a core dump or
 * /proc/PID/mem of another process running as the same user.
 * One thread, blocking only in zmq_poll. Exits on QUIT (after the current
 * task), on SIGTERM between tasks, or when the supervisor has been silent for
 * too long.
 *
 * Process-wide state lives here: the signal flag.
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <time.h>
#include <unistd.h>

#include <zmq.h>

#include "chan.h"
#include "child_proc.h"
#include "fh_err.h"
#include "fh_log.h"
#include "kube_client.h"
#include "kube_config.h"
#include "kube_global.h"
#include "proc_harden.h"
#include "proto.h"
#include "reconcile.h"
#include "secret_mem.h"

#define SUPERVISOR_SILENCE_MS 15000

static volatile sig_atomic_t stop_requested;

/* on_signal - only sets a flag */
static void
on_signal(int sig)
{
    (void)sig;
    stop_requested = 1;
}

/* run_task - reconcile one key and report */
static int
run_task(void *sock, uint32_t gen, struct kube_client *kc, const struct fh_log *log,
         const struct reconcile_opts *opts, const struct proto_task *task)
{
    struct proto_msg out;
    char key[PROTO_MAX_NAME * 2 + 2];
    int rc;

    memset(&out, 0, sizeof(out));
    out.type = PROTO_RESULT;
    out.gen = gen;
    snprintf(key, sizeof(key), "%s/%s", task->ns, task->name);
    rc = reconcile_task_ex(kc, task, log, (uint64_t)time(NULL), opts, &out.u.result);
    if (rc < 0 || !out.u.result.ns || !out.u.result.name) {
        /* reconcile could not even fill a result: report a retry ourselves */
        proto_msg_clear(&out);
        out.type = PROTO_RESULT;
        out.gen = gen;
        out.u.result.ns = strdup(task->ns);
        out.u.result.name = strdup(task->name);
        out.u.result.outcome = PROTO_OUT_RETRY;
        out.u.result.errclass = PROTO_ERR_INTERNAL;
        if (!out.u.result.ns || !out.u.result.name) {
            proto_msg_clear(&out);
            return -FH_ENOMEM;
        }
        log_error(log, key, "reconcile failed: %s", fh_strerror(rc));
    }
    rc = chan_send(sock, NULL, &out, 0);
    proto_msg_clear(&out);
    return rc;
}

int
main(int argc, char **argv)
{
    struct child_args args;
    struct reconcile_opts opts;
    bool crd_warned = false;
    struct fh_log log;
    struct kube_config *cfg = NULL;
    struct kube_client *kc = NULL;
    void *zctx = NULL, *sock = NULL;
    char err[512], name[32];
    struct sigaction sa;
    struct proto_msg m;
    uint64_t last_seen;
    int exit_code = 1;
    int rc;

    rc = child_args_parse(argc, argv, "fh-worker", true, &args);
    if (rc != 0)
        return rc > 0 ? 0 : CHILD_EXIT_CONFIG;
    opts.namespaces = args.namespaces;
    opts.nns = args.nns;
    opts.crd_warned = &crd_warned;
    snprintf(name, sizeof(name), "worker.%u", args.slot);
    fh_log_init(&log, name, args.level);
    proc_harden_secrets(&log);     /* before the first Secret arrives */
    prctl(PR_SET_PDEATHSIG, SIGTERM);
    /* libcurl's receive buffers hold the Secret as read: wipe them on free */
    rc = kube_global_init_wiping();
    if (rc < 0) {
        log_error(&log, NULL, "cannot initialise libcurl: %s", fh_strerror(rc));
        return 1;
    }
    memset(&sa, 0, sizeof(sa));
    sa.sa_handler = on_signal;
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGINT, &sa, NULL);
    signal(SIGPIPE, SIG_IGN);

    rc = kube_config_load(args.kubeconfig, &cfg, err, sizeof(err));
    if (rc < 0) {
        log_error(&log, NULL, "cannot load apiserver config: %s", err);
        exit_code = CHILD_EXIT_CONFIG;
        goto out;
    }
    kc = kube_client_new(cfg, NULL, &log);
    if (!kc)
        goto out;
    zctx = zmq_ctx_new();
    sock = zctx ? child_connect(zctx, PROTO_ROLE_WORKER, &args, &rc) : NULL;
    if (!sock) {
        log_error(&log, NULL, "cannot connect to %s: %s", args.endpoint, fh_strerror(rc));
        goto out;
    }

    last_seen = fh_now_ms();
    while (!stop_requested) {
        zmq_pollitem_t item = { sock, 0, ZMQ_POLLIN, 0 };

        rc = zmq_poll(&item, 1, 1000);
        if (rc < 0 && errno != EINTR) {
            log_error(&log, NULL, "zmq_poll: %s", zmq_strerror(errno));
            goto out;
        }
        if (rc > 0) {
            rc = chan_recv(sock, NULL, 0, &m, ZMQ_DONTWAIT);
            if (rc == -FH_EPROTO) {
                log_warn(&log, NULL, "dropped malformed message from supervisor");
                continue;
            }
            if (rc == -FH_EAGAIN)
                continue;
            if (rc < 0) {
                log_error(&log, NULL, "channel: %s", fh_strerror(rc));
                goto out;
            }
            last_seen = fh_now_ms();
            switch (m.type) {
            case PROTO_TASK:
                rc = run_task(sock, args.gen, kc, &log, &opts, &m.u.task);
                if (rc < 0)
                    log_error(&log, NULL, "cannot report result: %s", fh_strerror(rc));
                last_seen = fh_now_ms();
                break;
            case PROTO_HEARTBEAT:
                child_reply_heartbeat(sock, args.gen);
                break;
            case PROTO_QUIT:
                stop_requested = 1;
                break;
            default:
                log_warn(&log, NULL, "unexpected %s message", proto_type_name(m.type));
            }
            proto_msg_clear(&m);
        }
        if (fh_now_ms() - last_seen > SUPERVISOR_SILENCE_MS) {
            log_error(&log, NULL, "supervisor silent for %d ms; exiting", SUPERVISOR_SILENCE_MS);
            goto out;
        }
    }
    exit_code = 0;
out:
    chan_close(&sock);
    if (zctx)
        zmq_ctx_term(zctx);
    kube_client_free(&kc);
    kube_config_free(&cfg);
    kube_global_cleanup();
    return exit_code;
}
