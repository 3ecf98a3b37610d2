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
 *     lead=false and exit CHILD_EXIT_LOST_LEAD (75) without touching the
 *     Lease; the supervisor restarts us as a standby without counting it
 *     as a failure;
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
#include "child_proc.h"
#include "duration.h"
#include "fh_err.h"
#include "fh_log.h"
#include "fh_time.h"
#include "kube_client.h"
#include "kube_config.h"
#include "lease.h"
#include "proto.h"

#define SUPERVISOR_SILENCE_MS 15000
#define MAX_WAIT_MS 1000            /* wake at least this often for the silence check */
#define REQUEST_TIMEOUT_MIN_MS 1000
#define REQUEST_TIMEOUT_MAX_MS 3000
#define MAX_ARGS 64
#define LE_PREFIX "--leader-elect-"

static volatile sig_atomic_t stop_requested;

struct opts {
    const char *ns;                 /* --leader-elect-namespace or NULL (default rules) */
    const char *name;               /* --leader-elect-id */
    const char *identity;           /* --leader-elect-identity or NULL (make one) */
    struct lease_timing timing;     /* the three durations */
};

/* on_signal - only sets a flag; zmq_poll returns EINTR */
static void
on_signal(int sig)
{
    (void)sig;
    stop_requested = 1;
}

/* wall_us - the realtime clock for the Lease's MicroTime stamps (expiry
 * and loops run on fh_now_ms, the monotonic one) */
static int64_t
wall_us(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

/* split_args - move the --leader-elect-* flags (with their values) from
 * argv into le[] (after le[0] = argv[0]); the rest stays in com[] for
 * child_args_parse. -FH_ETOOBIG past MAX_ARGS. */
static int
split_args(int argc, char **argv, char **com, int *ncom, char **le, int *nle)
{
    *ncom = *nle = 1;
    com[0] = le[0] = argv[0];
    for (int i = 1; i < argc; i++) {
        bool mine = strncmp(argv[i], LE_PREFIX, strlen(LE_PREFIX)) == 0;
        bool value = mine && !strchr(argv[i], '=') && i + 1 < argc;

        if ((mine ? *nle : *ncom) + 2 >= MAX_ARGS)
            return -FH_ETOOBIG;
        if (mine) {
            le[(*nle)++] = argv[i];
            if (value)
                le[(*nle)++] = argv[++i];
        } else {
            com[(*ncom)++] = argv[i];
        }
    }
    com[*ncom] = le[*nle] = NULL;
    return 0;
}

/* parse_le - the --leader-elect-* flags into o; 0 or -FH_EINVAL (printed) */
static int
parse_le(int argc, char **argv, struct opts *o)
{
    static const struct option lo[] = {
        { "leader-elect-namespace", required_argument, NULL, 'n' },
        { "leader-elect-id", required_argument, NULL, 'i' },
        { "leader-elect-identity", required_argument, NULL, 'I' },
        { "leader-elect-lease-duration", required_argument, NULL, 'D' },
        { "leader-elect-renew-deadline", required_argument, NULL, 'R' },
        { "leader-elect-retry-period", required_argument, NULL, 'P' },
        { NULL, 0, NULL, 0 },
    };
    int c;

    optind = 1;
    while ((c = getopt_long(argc, argv, "", lo, NULL)) != -1) {
        switch (c) {
        case 'n': o->ns = optarg; break;
        case 'i': o->name = optarg; break;
        case 'I': o->identity = optarg; break;
        case 'D':
        case 'R':
        case 'P': {
            uint64_t *dst = c == 'D' ? &o->timing.lease_ms : c == 'R' ? &o->timing.renew_ms
                                                                      : &o->timing.retry_ms;

            if (duration_parse_ms(optarg, dst) < 0) {
                fprintf(stderr, "fh-elector: bad duration %s\n", optarg);
                return -FH_EINVAL;
            }
            break;
        }
        default:
            fprintf(stderr, "fh-elector: also takes --leader-elect-{namespace,id,identity,"
                            "lease-duration,renew-deadline,retry-period}\n");
            return -FH_EINVAL;
        }
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
        *last_seen = fh_now_ms();
        if (m.type == PROTO_HEARTBEAT) {
            child_reply_heartbeat(sock, gen);
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
    struct child_args args;
    struct fh_log log;
    struct kube_config *cfg = NULL;
    struct kube_client *kc = NULL;
    struct kube_client_opts ko;
    struct lease_elector *el = NULL;
    struct lease_config lc;
    struct lease_status st;
    struct sigaction sa;
    void *zctx = NULL, *sock = NULL;
    char *com[MAX_ARGS], *le[MAX_ARGS];
    char err[512], ns[PROTO_MAX_NAME + 1], identity[LEASE_IDENTITY_MAX + 1];
    char *reported_holder = NULL;
    bool reported_lead = false, reported = false;
    uint64_t last_seen, next_round;
    int exit_code = 1, ncom, nle, rc;

    memset(&o, 0, sizeof(o));
    o.name = LEASE_DEFAULT_NAME;
    lease_timing_defaults(&o.timing);
    if (split_args(argc, argv, com, &ncom, le, &nle) < 0 || parse_le(nle, le, &o) < 0)
        return CHILD_EXIT_CONFIG;
    rc = child_args_parse(ncom, com, "fh-elector", false, &args);
    if (rc != 0)
        return rc > 0 ? 0 : CHILD_EXIT_CONFIG;
    fh_log_init(&log, "elector", args.level);
    if (lease_timing_check(&o.timing, err, sizeof(err)) < 0) {
        log_error(&log, NULL, "invalid leader election timing: %s", err);
        return CHILD_EXIT_CONFIG;
    }
    memset(&sa, 0, sizeof(sa));
    sa.sa_handler = on_signal;
    sigaction(SIGTERM, &sa, NULL);
    signal(SIGINT, SIG_IGN);
    signal(SIGPIPE, SIG_IGN);

    if (kube_config_load(args.kubeconfig, &cfg, err, sizeof(err)) < 0) {
        log_error(&log, NULL, "cannot load apiserver config: %s", err);
        exit_code = CHILD_EXIT_CONFIG;
        goto out;
    }
    if (o.ns)
        snprintf(ns, sizeof(ns), "%s", o.ns);
    else if (lease_default_namespace(LEASE_SA_NAMESPACE_FILE, cfg->namespace, ns, sizeof(ns)) < 0)
        snprintf(ns, sizeof(ns), "default");
    if (o.identity)
        snprintf(identity, sizeof(identity), "%s", o.identity);
    else if (lease_identity_make(identity, sizeof(identity)) < 0) {
        log_error(&log, NULL, "cannot make a leader election identity");
        goto out;
    }
    /* One attempt per request (the election loop is the retry), and short
     * enough that a round of at most three requests stays inside the renew
     * deadline and the supervisor's 10 s silence limit: RenewDeadline / 4,
     * between 1 s and 3 s. */
    memset(&ko, 0, sizeof(ko));
    ko.max_retries = -1;
    ko.request_timeout_ms = (long)(o.timing.renew_ms / 4);
    if (ko.request_timeout_ms < REQUEST_TIMEOUT_MIN_MS)
        ko.request_timeout_ms = REQUEST_TIMEOUT_MIN_MS;
    if (ko.request_timeout_ms > REQUEST_TIMEOUT_MAX_MS)
        ko.request_timeout_ms = REQUEST_TIMEOUT_MAX_MS;
    ko.connect_timeout_ms = ko.request_timeout_ms;
    kc = kube_client_new(cfg, &ko, &log);
    if (!kc)
        goto out;
    memset(&lc, 0, sizeof(lc));
    lc.ns = ns;
    lc.name = o.name;
    lc.identity = identity;
    lc.timing = o.timing;
    rc = lease_elector_new(&lc, kc, &log, fh_now_ms() ^ ((uint64_t)getpid() << 32), &el);
    if (rc < 0) {
        log_error(&log, NULL, "cannot set up leader election: %s", fh_strerror(rc));
        exit_code = rc == -FH_EINVAL ? CHILD_EXIT_CONFIG : 1;
        goto out;
    }

    zctx = zmq_ctx_new();
    rc = -FH_ENOMEM;
    sock = zctx ? child_connect(zctx, PROTO_ROLE_ELECTOR, &args, &rc) : NULL;
    if (!sock) {
        log_error(&log, NULL, "cannot connect to %s: %s", args.endpoint, fh_strerror(rc));
        goto out;
    }
    log_info(&log, NULL, "leader election on lease %s/%s as %s: lease %llu ms, renew deadline "
             "%llu ms, retry %llu ms", ns, o.name, identity,
             (unsigned long long)o.timing.lease_ms, (unsigned long long)o.timing.renew_ms,
             (unsigned long long)o.timing.retry_ms);

    last_seen = next_round = fh_now_ms();
    while (!stop_requested) {
        zmq_pollitem_t item = { sock, 0, ZMQ_POLLIN, 0 };
        uint64_t now = fh_now_ms();
        long timeout = next_round > now ? (long)(next_round - now) : 0;

        if (timeout > MAX_WAIT_MS)
            timeout = MAX_WAIT_MS;
        rc = zmq_poll(&item, 1, timeout);
        if (rc < 0 && errno != EINTR) {
            log_error(&log, NULL, "zmq_poll: %s", zmq_strerror(errno));
            goto out;
        }
        if (rc > 0 && (item.revents & ZMQ_POLLIN)) {
            rc = drain_channel(sock, args.gen, &log, &last_seen);
            if (rc < 0)
                goto out;
            if (rc > 0) {
                log_info(&log, NULL, "quit requested");
                break;
            }
        }
        if (stop_requested)
            break;
        now = fh_now_ms();
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
            if ((rc = send_leader(sock, args.gen, st.leading, st.holder)) < 0)
                log_warn(&log, NULL, "cannot report leadership: %s", fh_strerror(rc));
        }
        if (st.lost) {
            exit_code = CHILD_EXIT_LOST_LEAD;
            goto out;
        }
    }
    /* QUIT or SIGTERM: our workers are done; hand the Lease over at once. */
    if (lease_leading(el)) {
        rc = lease_release(el, fh_now_ms(), wall_us());
        if (rc == 0)
            send_leader(sock, args.gen, false, "");
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
