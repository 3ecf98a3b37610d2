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
#include <getopt.h>
#include <malloc.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

#include <cjson/cJSON.h>
#include <zmq.h>

#include "chan.h"
#include "fh_err.h"
#include "fh_log.h"
#include "kube_client.h"
#include "kube_config.h"
#include "proto.h"
#include "reconcile.h"
#include "secret_mem.h"

#define SUPERVISOR_SILENCE_MS 15000
#define EXIT_CONFIG 78

static volatile sig_atomic_t stop_requested;

/* on_signal - only sets a flag */
static void
on_signal(int sig)
{
    (void)sig;
    stop_requested = 1;
}

/* now_ms - monotonic milliseconds */
static uint64_t
now_ms(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

/* wiping_free - cJSON's free: every buffer cJSON used may have held Secret
 * data (its print buffers grow by copying), so wipe it whole before freeing */
static void
wiping_free(void *p)
{
    if (p) {
        secret_wipe(p, malloc_usable_size(p));
        free(p);
    }
}

/* harden - no core dumps, not ptrace-able/readable by same-uid processes */
static void
harden(const struct fh_log *log)
{
    struct rlimit no_core = { 0, 0 };

    if (prctl(PR_SET_DUMPABLE, 0) != 0)
        log_warn(log, NULL, "PR_SET_DUMPABLE failed: %s", strerror(errno));
    if (setrlimit(RLIMIT_CORE, &no_core) != 0)
        log_warn(log, NULL, "RLIMIT_CORE failed: %s", strerror(errno));
    prctl(PR_SET_PDEATHSIG, SIGTERM);
}

/* run_task - reconcile one key and report */
static int
run_task(void *sock, uint32_t gen, struct kube_client *kc, const struct fh_log *log,
         const struct proto_task *task)
{
    struct proto_msg out;
    char key[PROTO_MAX_NAME * 2 + 2];
    int rc;

    memset(&out, 0, sizeof(out));
    out.type = PROTO_RESULT;
    out.gen = gen;
    snprintf(key, sizeof(key), "%s/%s", task->ns, task->name);
    rc = reconcile_task(kc, task, log, (uint64_t)time(NULL), &out.u.result);
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

/* usage - print help */
static void
usage(FILE *f)
{
    fprintf(f, "usage: fh-worker --endpoint ipc://PATH --slot N --gen N [--kubeconfig PATH]\n"
               "                 [--log-level debug|info|warn|error]\n"
               "Started by fh-supervisor; not meant to be run by hand.\n");
}

int
main(int argc, char **argv)
{
    static const struct option opts[] = {
        { "endpoint", required_argument, NULL, 'e' },
        { "gen", required_argument, NULL, 'g' },
        { "slot", required_argument, NULL, 's' },
        { "kubeconfig", required_argument, NULL, 'k' },
        { "log-level", required_argument, NULL, 'l' },
        { "help", no_argument, NULL, 'h' },
        { NULL, 0, NULL, 0 },
    };
    struct fh_log log;
    struct kube_config *cfg = NULL;
    struct kube_client *kc = NULL;
    const char *endpoint = NULL, *kubeconfig = NULL;
    enum fh_log_level lvl = FH_LOG_INFO;
    uint32_t gen = 0, slot = 0;
    void *zctx = NULL, *sock = NULL;
    char err[512], rid[64], name[32];
    struct sigaction sa;
    struct proto_msg m;
    uint64_t last_seen;
    int exit_code = 1;
    int c, rc;

    while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
        switch (c) {
        case 'e': endpoint = optarg; break;
        case 'g': gen = (uint32_t)strtoul(optarg, NULL, 10); break;
        case 's': slot = (uint32_t)strtoul(optarg, NULL, 10); break;
        case 'k': kubeconfig = optarg; break;
        case 'l':
            if (fh_log_level_parse(optarg, &lvl) < 0) {
                fprintf(stderr, "bad --log-level %s\n", optarg);
                return EXIT_CONFIG;
            }
            break;
        case 'h': usage(stdout); return 0;
        default: usage(stderr); return EXIT_CONFIG;
        }
    }
    snprintf(name, sizeof(name), "worker.%u", slot);
    fh_log_init(&log, name, lvl);
    if (!endpoint) {
        usage(stderr);
        return EXIT_CONFIG;
    }
    harden(&log);
    {
        cJSON_Hooks hooks = { malloc, wiping_free };

        cJSON_InitHooks(&hooks);
    }
    memset(&sa, 0, sizeof(sa));
    sa.sa_handler = on_signal;
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGINT, &sa, NULL);
    signal(SIGPIPE, SIG_IGN);

    rc = kube_config_load(kubeconfig, &cfg, err, sizeof(err));
    if (rc < 0) {
        log_error(&log, NULL, "cannot load apiserver config: %s", err);
        exit_code = EXIT_CONFIG;
        goto out;
    }
    kc = kube_client_new(cfg, NULL, &log);
    if (!kc)
        goto out;
    zctx = zmq_ctx_new();
    chan_routing_id_format(rid, sizeof(rid), PROTO_ROLE_WORKER, slot, gen);
    sock = zctx ? chan_dealer_connect(zctx, endpoint, rid, &rc) : NULL;
    if (!sock) {
        log_error(&log, NULL, "cannot connect to %s", endpoint);
        goto out;
    }
    memset(&m, 0, sizeof(m));
    m.type = PROTO_HELLO;
    m.gen = gen;
    m.u.hello.role = PROTO_ROLE_WORKER;
    m.u.hello.slot = slot;
    m.u.hello.pid = (int32_t)getpid();
    if ((rc = chan_send(sock, NULL, &m, 0)) < 0) {
        log_error(&log, NULL, "cannot greet supervisor: %s", fh_strerror(rc));
        goto out;
    }

    last_seen = now_ms();
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
            last_seen = now_ms();
            switch (m.type) {
            case PROTO_TASK:
                rc = run_task(sock, gen, kc, &log, &m.u.task);
                if (rc < 0)
                    log_error(&log, NULL, "cannot report result: %s", fh_strerror(rc));
                last_seen = now_ms();
                break;
            case PROTO_HEARTBEAT: {
                struct proto_msg hb;

                memset(&hb, 0, sizeof(hb));
                hb.type = PROTO_HEARTBEAT;
                hb.gen = gen;
                chan_send(sock, NULL, &hb, 0);
                break;
            }
            case PROTO_QUIT:
                stop_requested = 1;
                break;
            default:
                log_warn(&log, NULL, "unexpected %s message", proto_type_name(m.type));
            }
            proto_msg_clear(&m);
        }
        if (now_ms() - last_seen > SUPERVISOR_SILENCE_MS) {
            log_error(&log, NULL, "supervisor silent for %d ms; exiting", SUPERVISOR_SILENCE_MS);
            goto out;
        }
    }
    exit_code = 0;
out:
    if (sock)
        zmq_close(sock);
    if (zctx)
        zmq_ctx_term(zctx);
    kube_client_free(&kc);
    kube_config_free(&cfg);
    return exit_code;
}
