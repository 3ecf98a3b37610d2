/*
 * main.c - fh-elector: runs leader election on a Lease for its supervisor
 * and tells it, over the ZeroMQ channel, whether it may dispatch work.
 *
 * Started by fh-supervisor only with --leader-elect (same --kubeconfig as the
 * other children, the --leader-elect-* flags passed through, and the
 * supervisor's identity so a restarted elector resumes the Lease it holds).
 * The election is lease.c; this file is the process around it: one thread,
 * blocking only in zmq_poll (timeout = the next election round) and in the
 * bounded apiserver requests of a round. It sends PROTO_LEADER whenever
 * "leading" or the observed holder changes, answers HEARTBEAT, and:
 *   - QUIT or SIGTERM: if leading, release the Lease, then exit 0 (the
 *     supervisor sends QUIT only after its workers have exited);
 *   - leadership lost (renew deadline passed, or taken over): report
 *     lead=false and exit 1 without touching the Lease; the supervisor
 *     restarts us;
 *   - supervisor silent for too long: exit 1 without releasing.
 * SIGINT is ignored: on Ctrl-C the supervisor orders the shutdown. The
 * parent-death signal stays SIGKILL (set by the supervisor), so if the
 * supervisor is killed the Lease is not released and expires normally.
 *
 * Process-wide state lives here: the signal flag.
 */
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <zmq.h>

#include "chan.h"
#include "duration.h"
#include "fh_err.h"
#include "fh_log.h"
#include "kube_client.h"
#include "kube_config.h"
#include "lease.h"
#include "proto.h"

#define SUPERVISOR_SILENCE_MS 15000
#define EXIT_CONFIG 78
#define EXIT_LOST 1
#define MAX_WAIT_MS 1000            /* wake at least this often for the silence check */

static volatile sig_atomic_t stop_requested;

struct opts {
    const char *endpoint;           /* ipc:// of the supervisor's ROUTER */
    uint32_t gen;                   /* our generation */
    const char *kubeconfig;         /* --kubeconfig or NULL */
    const char *ns;                 /* --leader-elect-namespace or NULL (default rules) */
    const char *name;               /* --leader-elect-id */
    const char *identity;           /* --leader-elect-identity or NULL (make one) */
    struct lease_timing timing;     /* the three durations */
    enum fh_log_level level;        /* --log-level */
};

/* on_signal - only sets a flag; zmq_poll returns EINTR */
static void
on_signal(int sig)
{
    (void)sig;
    stop_requested = 1;
}

/* mono_ms / wall_us - the two clocks lease.c is driven by */
static uint64_t
mono_ms(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

static int64_t
wall_us(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

/* usage - print help */
static void
usage(FILE *f)
{
    fprintf(f, "usage: fh-elector --endpoint ipc://PATH --gen N [--kubeconfig PATH]\n"
               "                  [--leader-elect-namespace NS] [--leader-elect-id NAME]\n"
               "                  [--leader-elect-lease-duration D] [--leader-elect-renew-deadline D]\n"
               "                  [--leader-elect-retry-period D] [--leader-elect-identity ID]\n"
               "                  [--log-level debug|info|warn|error]\n"
               "Started by fh-supervisor --leader-elect; not meant to be run by hand.\n");
}

/* parse - flags into o; 0, 1 (help printed) or EXIT_CONFIG */
static int
parse(int argc, char **argv, struct opts *o)
{
    static const struct option lo[] = {
        { "endpoint", required_argument, NULL, 'e' },
        { "gen", required_argument, NULL, 'g' },
        { "slot", required_argument, NULL, 's' },
        { "kubeconfig", required_argument, NULL, 'k' },
        { "log-level", required_argument, NULL, 'l' },
        { "leader-elect-namespace", required_argument, NULL, 'n' },
        { "leader-elect-id", required_argument, NULL, 'i' },
        { "leader-elect-identity", required_argument, NULL, 'I' },
        { "leader-elect-lease-duration", required_argument, NULL, 'D' },
        { "leader-elect-renew-deadline", required_argument, NULL, 'R' },
        { "leader-elect-retry-period", required_argument, NULL, 'P' },
        { "help", no_argument, NULL, 'h' },
        { NULL, 0, NULL, 0 },
    };
    int c;

    while ((c = getopt_long(argc, argv, "h", lo, NULL)) != -1) {
        switch (c) {
        case 'e': o->endpoint = optarg; break;
        case 'g': o->gen = (uint32_t)strtoul(optarg, NULL, 10); break;
        case 's': break;
        case 'k': o->kubeconfig = optarg; break;
        case 'l':
            if (fh_log_level_parse(optarg, &o->level) < 0) {
                fprintf(stderr, "bad --log-level %s\n", optarg);
                return EXIT_CONFIG;
            }
            break;
        case 'n': o->ns = optarg; break;
        case 'i': o->name = optarg; break;
        case 'I': o->identity = optarg; break;
        case 'D':
        case 'R':
        case 'P': {
            uint64_t *dst = c == 'D' ? &o->timing.lease_ms : c == 'R' ? &o->timing.renew_ms
                                                                      : &o->timing.retry_ms;

            if (duration_parse_ms(optarg, dst) < 0) {
                fprintf(stderr, "bad duration %s\n", optarg);
                return EXIT_CONFIG;
            }
            break;
        }
        case 'h': usage(stdout); return 1;
        default: usage(stderr); return EXIT_CONFIG;
        }
    }
    if (!o->endpoint || optind < argc) {
        usage(stderr);
        return EXIT_CONFIG;
    }
    return 0;
}

/* send_leader - tell the supervisor where leadership stands */
static int
send_leader(void *sock, uint32_t gen, bool lead, const char *holder)
{
    char h[PROTO_MAX_NAME + 1];
    struct proto_msg m;

    memset(&m, 0, sizeof(m));
    m.type = PROTO_LEADER;
    m.gen = gen;
    m.u.leader.lead = lead;
    if (holder) {
        snprintf(h, sizeof(h), "%s", holder);   /* a foreign identity may be longer */
        m.u.leader.holder = h;
    }
    return chan_send(sock, NULL, &m, 0);
}

/* drain_channel - answer heartbeats; returns 1 when told to quit, -1 when
 * the channel is gone, else 0 */
static int
drain_channel(void *sock, uint32_t gen, const struct fh_log *log, uint64_t *last_seen)
{
    struct proto_msg m;
    int rc, quit = 0;

    for (;;) {
        rc = chan_recv(sock, NULL, 0, &m, ZMQ_DONTWAIT);
        if (rc == -FH_EAGAIN)
            return quit;
        if (rc == -FH_EPROTO) {
            log_warn(log, NULL, "dropped malformed message from supervisor");
            continue;
        }
        if (rc < 0)
            return -1;
        *last_seen = mono_ms();
        if (m.type == PROTO_HEARTBEAT) {
            struct proto_msg hb;

            memset(&hb, 0, sizeof(hb));
            hb.type = PROTO_HEARTBEAT;
            hb.gen = gen;
            chan_send(sock, NULL, &hb, 0);
        } else if (m.type == PROTO_QUIT) {
            quit = 1;
        } else {
            log_warn(log, NULL, "unexpected %s message", proto_type_name(m.type));
        }
        proto_msg_clear(&m);
    }
}

/* same_holder - NULL-tolerant comparison of holder identities */
static bool
same_holder(const char *a, const char *b)
{
    if (!a || !b)
        return a == b;
    return strcmp(a, b) == 0;
}

int
main(int argc, char **argv)
{
    struct opts o;
    struct fh_log log;
    struct kube_config *cfg = NULL;
    struct kube_client *kc = NULL;
    struct kube_client_opts ko;
    struct lease_elector *el = NULL;
    struct lease_config lc;
    struct lease_status st;
    struct proto_msg hello;
    struct sigaction sa;
    void *zctx = NULL, *sock = NULL;
    char err[512], rid[CHAN_ID_MAX], ns[PROTO_MAX_NAME + 1], identity[LEASE_IDENTITY_MAX + 1];
    char *reported_holder = NULL;
    bool reported_lead = false, reported = false;
    uint64_t last_seen, next_round;
    int exit_code = 1, rc;

    memset(&o, 0, sizeof(o));
    o.name = LEASE_DEFAULT_NAME;
    o.level = FH_LOG_INFO;
    lease_timing_defaults(&o.timing);
    rc = parse(argc, argv, &o);
    if (rc != 0)
        return rc == 1 ? 0 : rc;
    fh_log_init(&log, "elector", o.level);
    if (lease_timing_check(&o.timing, err, sizeof(err)) < 0) {
        log_error(&log, NULL, "invalid leader election timing: %s", err);
        return EXIT_CONFIG;
    }
    memset(&sa, 0, sizeof(sa));
    sa.sa_handler = on_signal;
    sigaction(SIGTERM, &sa, NULL);
    signal(SIGINT, SIG_IGN);
    signal(SIGPIPE, SIG_IGN);

    if (kube_config_load(o.kubeconfig, &cfg, err, sizeof(err)) < 0) {
        log_error(&log, NULL, "cannot load apiserver config: %s", err);
        exit_code = EXIT_CONFIG;
        goto out;
    }
    if (o.ns)
        snprintf(ns, sizeof(ns), "%s", o.ns);
    else if (lease_default_namespace(LEASE_SA_NAMESPACE_FILE, cfg->namespace, ns, sizeof(ns)) < 0)
        snprintf(ns, sizeof(ns), "default");
    if (o.identity)
        snprintf(identity, sizeof(identity), "%s", o.identity);
    else if (lease_identity_make(identity, sizeof(identity)) < 0)
        goto out;
    /* One attempt per request (the election loop is the retry), and short
     * enough that a round of at most three requests stays well inside the
     * supervisor's silence limit and the renew deadline. */
    memset(&ko, 0, sizeof(ko));
    ko.max_retries = -1;
    ko.request_timeout_ms = (long)(o.timing.renew_ms / 4 > 1000 ? o.timing.renew_ms / 4 : 1000);
    ko.connect_timeout_ms = ko.request_timeout_ms;
    kc = kube_client_new(cfg, &ko, &log);
    if (!kc)
        goto out;
    memset(&lc, 0, sizeof(lc));
    lc.ns = ns;
    lc.name = o.name;
    lc.identity = identity;
    lc.timing = o.timing;
    rc = lease_elector_new(&lc, kc, &log, mono_ms() ^ ((uint64_t)getpid() << 32), &el);
    if (rc < 0) {
        log_error(&log, NULL, "cannot set up leader election: %s", fh_strerror(rc));
        exit_code = rc == -FH_EINVAL ? EXIT_CONFIG : 1;
        goto out;
    }

    zctx = zmq_ctx_new();
    chan_routing_id_format(rid, sizeof(rid), PROTO_ROLE_ELECTOR, 0, o.gen);
    sock = zctx ? chan_dealer_connect(zctx, o.endpoint, rid, &rc) : NULL;
    if (!sock) {
        log_error(&log, NULL, "cannot connect to %s", o.endpoint);
        goto out;
    }
    memset(&hello, 0, sizeof(hello));
    hello.type = PROTO_HELLO;
    hello.gen = o.gen;
    hello.u.hello.role = PROTO_ROLE_ELECTOR;
    hello.u.hello.pid = (int32_t)getpid();
    if ((rc = chan_send(sock, NULL, &hello, 0)) < 0) {
        log_error(&log, NULL, "cannot greet supervisor: %s", fh_strerror(rc));
        goto out;
    }
    log_info(&log, NULL, "leader election on lease %s/%s as %s: lease %llu ms, renew deadline "
             "%llu ms, retry %llu ms", ns, o.name, identity,
             (unsigned long long)o.timing.lease_ms, (unsigned long long)o.timing.renew_ms,
             (unsigned long long)o.timing.retry_ms);

    last_seen = next_round = mono_ms();
    while (!stop_requested) {
        zmq_pollitem_t item = { sock, 0, ZMQ_POLLIN, 0 };
        uint64_t now = mono_ms();
        long timeout = next_round > now ? (long)(next_round - now) : 0;

        if (timeout > MAX_WAIT_MS)
            timeout = MAX_WAIT_MS;
        rc = zmq_poll(&item, 1, timeout);
        if (rc < 0 && errno != EINTR) {
            log_error(&log, NULL, "zmq_poll: %s", zmq_strerror(errno));
            goto out;
        }
        if (rc > 0 && (item.revents & ZMQ_POLLIN)) {
            rc = drain_channel(sock, o.gen, &log, &last_seen);
            if (rc < 0)
                goto out;
            if (rc > 0) {
                log_info(&log, NULL, "quit requested");
                break;
            }
        }
        if (stop_requested)
            break;
        now = mono_ms();
        if (now - last_seen > SUPERVISOR_SILENCE_MS) {
            log_error(&log, NULL, "supervisor silent for %d ms; exiting without releasing",
                      SUPERVISOR_SILENCE_MS);
            goto out;
        }
        if (now < next_round)
            continue;
        if ((rc = lease_step(el, now, wall_us(), &st)) < 0) {
            log_error(&log, NULL, "leader election: %s", fh_strerror(rc));
            goto out;
        }
        next_round = st.next_ms;
        if (!reported || st.leading != reported_lead || !same_holder(st.holder, reported_holder)) {
            if (st.holder && !st.leading && !same_holder(st.holder, reported_holder))
                log_info(&log, NULL, "lease %s/%s is held by %s", ns, o.name,
                         st.holder[0] ? st.holder : "nobody (released)");
            free(reported_holder);
            reported_holder = st.holder ? strdup(st.holder) : NULL;
            reported_lead = st.leading;
            reported = true;
            if ((rc = send_leader(sock, o.gen, st.leading, st.holder)) < 0)
                log_warn(&log, NULL, "cannot report leadership: %s", fh_strerror(rc));
        }
        if (st.lost) {
            exit_code = EXIT_LOST;
            goto out;
        }
    }
    /* QUIT or SIGTERM: our workers are done; hand the Lease over at once. */
    if (lease_leading(el)) {
        rc = lease_release(el, mono_ms(), wall_us());
        if (rc == 0)
            send_leader(sock, o.gen, false, "");
    }
    exit_code = 0;
out:
    free(reported_holder);
    lease_elector_free(&el);
    if (sock)
        zmq_close(sock);
    if (zctx)
        zmq_ctx_term(zctx);
    kube_client_free(&kc);
    kube_config_free(&cfg);
    return exit_code;
}
