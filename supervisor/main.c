/*
 * main.c - fh-supervisor: starts, watches and restarts the watcher, the
 * workers and (with --leader-elect) the elector, shards FleetHandshake keys
 * over the workers, and serves the health probes.
 *
 * One thread, one zmq_poll over: the ROUTER socket every child connects to,
 * a signalfd (SIGTERM, SIGINT, SIGCHLD) and the health listener/clients.
 * The poll timeout is the nearest timer: heartbeat tick, a delayed retry, a
 * respawn, the periodic resync, or a kill deadline. The supervisor never
 * talks to the apiserver and never sees Secret data.
 *
 * Lifecycle: SIGTERM/SIGINT -> stop dispatching, QUIT to the watcher and the
 * workers, wait for them to finish their current key and exit, then QUIT the
 * elector, which releases the Lease (no worker of ours can still be writing,
 * and a standby takes over at its next retry); SIGKILL whatever is left
 * after --drain-timeout, exit 0.
 *
 * Process-wide state is the struct supervisor in main() and nothing else.
 */
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/signalfd.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <zmq.h>

#include "chan.h"
#include "child.h"
#include "duration.h"
#include "fh_err.h"
#include "fh_index.h"
#include "fh_log.h"
#include "fh_time.h"
#include "health.h"
#include "sup_metrics.h"
#include "lease.h"
#include "proto.h"
#include "supervisor.h"
#include "workq.h"

#define MAX_NAMESPACES   64
#define MAX_WORKERS      256
#define MAX_POLL         128
#define HEARTBEAT_MS     1000
#define SILENCE_KILL_MS  10000
#define HELLO_TIMEOUT_MS 30000
#define EXIT_CONFIG      78

struct options {
    const char *kubeconfig;                 /* passed to children */
    const char *namespaces[MAX_NAMESPACES]; /* --namespace, passed to the watcher */
    size_t nns;                             /* count of namespaces */
    uint32_t workers;                       /* --workers */
    const char *health_addr;                /* --health-probe-bind-address */
    uint64_t resync_ms;                     /* --resync-period */
    uint64_t drain_ms;                      /* --drain-timeout */
    uint64_t task_timeout_ms;               /* --task-timeout */
    const char *log_level;                  /* --log-level (text, for children) */
    char bin_dir[PATH_MAX];                 /* where fh-watcher/fh-worker/fh-elector live */
    bool leader_elect;                      /* --leader-elect */
    struct lease_timing lease;              /* --leader-elect-{lease-duration,renew-deadline,
                                               retry-period} */
    const char *lease_ns;                   /* --leader-elect-namespace, NULL = elector's default */
    const char *lease_id;                   /* --leader-elect-id (the Lease name) */
    char identity[LEASE_IDENTITY_MAX + 1];  /* our holderIdentity, kept across elector restarts */
};

/* usage - flags, named as controller-runtime names them where it has them */
static void
usage(FILE *f)
{
    fprintf(f,
        "usage: fh-supervisor [flags]\n"
        "  --kubeconfig PATH                 kubeconfig (default: $KUBECONFIG, in-cluster, ~/.kube/config)\n"
        "  --namespace NS                    watch only NS (repeatable; default: all namespaces)\n"
        "  --workers N                       worker processes (default 4)\n"
        "  --health-probe-bind-address ADDR  /healthz and /readyz (default :8081; 0 disables)\n"
        "  --resync-period DURATION          re-check every FleetHandshake this often (default 10m)\n"
        "  --drain-timeout DURATION          SIGTERM grace for in-flight work (default 25s)\n"
        "  --task-timeout DURATION           kill a worker stuck on one key this long (default 2m)\n"
        "  --log-level LEVEL                 debug, info, warn or error (default info)\n"
        "  --leader-elect[=BOOL]             elect a leader on a Lease; only the leader reconciles (default false)\n"
        "  --leader-elect-lease-duration D   how long a Lease stays valid unrenewed (default 15s)\n"
        "  --leader-elect-renew-deadline D   the leader gives up after this without a renew (default 10s)\n"
        "  --leader-elect-retry-period D     time between election attempts (default 2s)\n"
        "  --leader-elect-namespace NS       namespace of the Lease (default: in-cluster namespace,\n"
        "                                    else the kubeconfig context's, else default)\n"
        "  --leader-elect-id NAME            name of the Lease (default fleet-handshake-leader)\n"
        "  --bin-dir DIR                     where fh-watcher, fh-worker and fh-elector are (default: next to fh-supervisor)\n");
}

/* parse_bool - Go's strconv.ParseBool spellings */
static int
parse_bool(const char *s, bool *out)
{
    static const char *const yes[] = { "1", "t", "T", "true", "TRUE", "True" };
    static const char *const no[] = { "0", "f", "F", "false", "FALSE", "False" };

    for (size_t i = 0; i < sizeof(yes) / sizeof(yes[0]); i++) {
        if (strcmp(s, yes[i]) == 0) {
            *out = true;
            return 0;
        }
        if (strcmp(s, no[i]) == 0) {
            *out = false;
            return 0;
        }
    }
    return -FH_EINVAL;
}

/* namespace_name_ok - an RFC 1123 label, as Kubernetes names namespaces */
static bool
namespace_name_ok(const char *s)
{
    size_t n = strlen(s);

    if (n == 0 || n > 63 || s[0] == '-' || s[n - 1] == '-')
        return false;
    for (size_t i = 0; i < n; i++) {
        if (!((s[i] >= 'a' && s[i] <= 'z') || (s[i] >= '0' && s[i] <= '9') || s[i] == '-'))
            return false;
    }
    return true;
}

/* parse_options - flags into o; returns 0, 1 (help printed) or -FH_EINVAL */
static int
parse_options(int argc, char **argv, struct options *o, struct fh_log *log)
{
    static const struct option opts[] = {
        { "kubeconfig", required_argument, NULL, 'k' },
        { "namespace", required_argument, NULL, 'n' },
        { "workers", required_argument, NULL, 'w' },
        { "health-probe-bind-address", required_argument, NULL, 'H' },
        { "resync-period", required_argument, NULL, 'r' },
        { "drain-timeout", required_argument, NULL, 'd' },
        { "task-timeout", required_argument, NULL, 't' },
        { "log-level", required_argument, NULL, 'l' },
        { "bin-dir", required_argument, NULL, 'b' },
        { "leader-elect", optional_argument, NULL, 'L' },
        { "leader-elect-lease-duration", required_argument, NULL, 'D' },
        { "leader-elect-renew-deadline", required_argument, NULL, 'R' },
        { "leader-elect-retry-period", required_argument, NULL, 'P' },
        { "leader-elect-namespace", required_argument, NULL, 'N' },
        { "leader-elect-id", required_argument, NULL, 'I' },
        { "help", no_argument, NULL, 'h' },
        { NULL, 0, NULL, 0 },
    };
    enum fh_log_level lvl;
    char *end;
    int c;

    while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
        switch (c) {
        case 'k': o->kubeconfig = optarg; break;
        case 'n':
            if (o->nns >= MAX_NAMESPACES) {
                log_error(log, NULL, "too many --namespace flags (max %d)", MAX_NAMESPACES);
                return -FH_EINVAL;
            }
            if (!namespace_name_ok(optarg)) {
                log_error(log, NULL, "--namespace \"%s\" is not a namespace name (1-63 of "
                          "a-z, 0-9 and '-', starting and ending alphanumeric); omit the flag "
                          "to watch all namespaces", optarg);
                return -FH_EINVAL;
            }
            for (size_t i = 0; i < o->nns; i++) {
                if (strcmp(o->namespaces[i], optarg) == 0) {
                    log_error(log, NULL, "--namespace %s given twice", optarg);
                    return -FH_EINVAL;
                }
            }
            o->namespaces[o->nns++] = optarg;
            break;
        case 'w': {
            unsigned long v = strtoul(optarg, &end, 10);

            if (*end || v < 1 || v > MAX_WORKERS) {
                log_error(log, NULL, "--workers must be 1..%d, got %s", MAX_WORKERS, optarg);
                return -FH_EINVAL;
            }
            o->workers = (uint32_t)v;
            break;
        }
        case 'H': o->health_addr = optarg; break;
        case 'L':
            o->leader_elect = true;
            if (optarg && parse_bool(optarg, &o->leader_elect) < 0) {
                log_error(log, NULL, "bad --leader-elect=%s (use true or false)", optarg);
                return -FH_EINVAL;
            }
            break;
        case 'N':
        case 'I':
            if (!optarg[0] || strlen(optarg) > PROTO_MAX_NAME) {
                log_error(log, NULL, "--leader-elect-%s must be 1..%u characters",
                          c == 'N' ? "namespace" : "id", PROTO_MAX_NAME);
                return -FH_EINVAL;
            }
            *(c == 'N' ? &o->lease_ns : &o->lease_id) = optarg;
            break;
        case 'r':
        case 'd':
        case 't':
        case 'D':
        case 'R':
        case 'P': {
            uint64_t *dst = c == 'r' ? &o->resync_ms : c == 'd' ? &o->drain_ms :
                            c == 't' ? &o->task_timeout_ms : c == 'D' ? &o->lease.lease_ms :
                            c == 'R' ? &o->lease.renew_ms : &o->lease.retry_ms;

            if (duration_parse_ms(optarg, dst) < 0) {
                log_error(log, NULL, "bad duration %s (use e.g. 30s, 10m, 1h)", optarg);
                return -FH_EINVAL;
            }
            break;
        }
        case 'l':
            if (fh_log_level_parse(optarg, &lvl) < 0) {
                log_error(log, NULL, "bad --log-level %s", optarg);
                return -FH_EINVAL;
            }
            log->level = lvl;
            o->log_level = optarg;
            break;
        case 'b': snprintf(o->bin_dir, sizeof(o->bin_dir), "%s", optarg); break;
        case 'h': usage(stdout); return 1;
        default: usage(stderr); return -FH_EINVAL;
        }
    }
    if (optind < argc) {
        log_error(log, NULL, "unexpected argument %s", argv[optind]);
        return -FH_EINVAL;
    }
    if (o->leader_elect) {
        char why[256];

        if (lease_timing_check(&o->lease, why, sizeof(why)) < 0) {
            log_error(log, NULL, "invalid leader election timing: %s (LeaseDuration > "
                      "RenewDeadline > 1.2 x RetryPeriod)", why);
            return -FH_EINVAL;
        }
    }
    return 0;
}

/* add_duration - "--flag" "<ms>ms" into argv (buf holds the text) */
static int
add_duration(char **argv, int n, const char *flag, uint64_t ms, char *buf, size_t cap)
{
    snprintf(buf, cap, "%llums", (unsigned long long)ms);
    argv[n++] = (char *)flag;
    argv[n++] = buf;
    return n;
}

/* default_bin_dir - the directory of our own executable */
static void
default_bin_dir(char *dir, size_t cap)
{
    ssize_t n = readlink("/proc/self/exe", dir, cap - 1);
    char *slash;

    if (n <= 0) {
        snprintf(dir, cap, ".");
        return;
    }
    dir[n] = '\0';
    slash = strrchr(dir, '/');
    if (slash)
        *slash = '\0';
}

/* spawn_child - build argv and fork+exec one child */
static int
spawn_child(struct supervisor *s, const struct options *o, const char *endpoint,
            struct child *c, uint64_t now)
{
    char path[PATH_MAX + 32], gen[16], slot[16], dur[3][32];
    char *argv[32 + 2 * MAX_NAMESPACES];
    int n = 0, rc;

    snprintf(path, sizeof(path), "%s/fh-%s", o->bin_dir, child_role_name(c->role));
    snprintf(gen, sizeof(gen), "%u", child_next_gen(&s->children, c));
    snprintf(slot, sizeof(slot), "%u", c->slot);
    argv[n++] = path;
    argv[n++] = "--endpoint";
    argv[n++] = (char *)endpoint;
    argv[n++] = "--gen";
    argv[n++] = gen;
    argv[n++] = "--slot";
    argv[n++] = slot;
    argv[n++] = "--log-level";
    argv[n++] = (char *)o->log_level;
    if (o->kubeconfig) {
        argv[n++] = "--kubeconfig";
        argv[n++] = (char *)o->kubeconfig;
    }
    /* the watcher lists only these; workers refuse Secrets outside them */
    if (c->role == PROTO_ROLE_WATCHER || c->role == PROTO_ROLE_WORKER) {
        for (size_t i = 0; i < o->nns; i++) {
            argv[n++] = "--namespace";
            argv[n++] = (char *)o->namespaces[i];
        }
    }
    if (c->role == PROTO_ROLE_ELECTOR) {
        n = add_duration(argv, n, "--leader-elect-lease-duration", o->lease.lease_ms, dur[0],
                         sizeof(dur[0]));
        n = add_duration(argv, n, "--leader-elect-renew-deadline", o->lease.renew_ms, dur[1],
                         sizeof(dur[1]));
        n = add_duration(argv, n, "--leader-elect-retry-period", o->lease.retry_ms, dur[2],
                         sizeof(dur[2]));
        argv[n++] = "--leader-elect-id";
        argv[n++] = (char *)o->lease_id;
        argv[n++] = "--leader-elect-identity";
        argv[n++] = (char *)o->identity;
        if (o->lease_ns) {
            argv[n++] = "--leader-elect-namespace";
            argv[n++] = (char *)o->lease_ns;
        }
    }
    argv[n] = NULL;
    rc = child_spawn(c, argv, now);
    if (rc < 0)
        log_error(&s->log, NULL, "cannot start %s: %s", path, fh_strerror(rc));
    else
        log_info(&s->log, NULL, "started %s slot %u generation %u pid %d",
                 child_role_name(c->role), c->slot, c->gen, (int)c->pid);
    return rc;
}

/* peer_of - the current incarnation that sent routing id rid, or NULL (stale) */
static struct child *
peer_of(struct supervisor *s, const char *rid)
{
    int role;
    uint32_t slot, gen;
    struct child *c;

    if (chan_routing_id_parse(rid, &role, &slot, &gen) < 0)
        return NULL;
    c = child_find(&s->children, role, slot);
    if (!c || c->gen != gen || c->pid == 0)
        return NULL;
    return c;
}

/* send_simple - HEARTBEAT or QUIT to one child; 0 or chan_send's error */
static int
send_simple(struct supervisor *s, struct child *c, uint8_t type)
{
    struct proto_msg m;
    char rid[64];

    memset(&m, 0, sizeof(m));
    m.type = type;
    chan_routing_id_format(rid, sizeof(rid), c->role, c->slot, c->gen);
    return chan_send(s->router, rid, &m, ZMQ_DONTWAIT);
}

/* handle_router - drain the ROUTER socket */
static void
handle_router(struct supervisor *s, uint64_t now)
{
    for (;;) {
        char rid[64];
        struct proto_msg m;
        struct child *c;
        int rc = chan_recv(s->router, rid, sizeof(rid), &m, ZMQ_DONTWAIT);

        if (rc == -FH_EAGAIN)
            return;
        if (rc < 0) {
            s->stats.malformed++;
            if (rc != -FH_EPROTO)
                return;
            continue;
        }
        c = peer_of(s, rid);
        if (!c) {
            s->stats.malformed++;      /* a previous incarnation: ignore */
            proto_msg_clear(&m);
            continue;
        }
        c->last_seen_ms = now;
        switch (m.type) {
        case PROTO_HELLO:
            if (c->state == CHILD_STARTING)
                c->state = CHILD_READY;
            log_info(&s->log, NULL, "%s ready", rid);
            break;
        case PROTO_HEARTBEAT:
            break;
        case PROTO_EVENT:
            if (c->role == PROTO_ROLE_WATCHER && sup_handle_event(s, &m.u.event, now) < 0)
                log_warn(&s->log, NULL, "event from %s not applied", rid);
            break;
        case PROTO_SYNCED:
            if (c->role == PROTO_ROLE_WATCHER) {
                bool before = sup_all_synced(s);

                sup_handle_synced(s, &m.u.synced, now);
                if (!before && sup_all_synced(s))
                    log_info(&s->log, NULL, "initial lists synced");
            }
            break;
        case PROTO_RESULT:
            if (c->role == PROTO_ROLE_WORKER)
                sup_handle_result(s, c, &m.u.result, now);
            break;
        case PROTO_LEADER:
            if (c->role == PROTO_ROLE_ELECTOR)
                sup_handle_leader(s, &m.u.leader);
            else
                s->stats.malformed++;
            break;
        default:
            s->stats.malformed++;
        }
        proto_msg_clear(&m);
    }
}

/* watcher_lost - the new watcher relists from scratch: not synced until it
 * has, and what it no longer lists was deleted meanwhile (sup_relist.c) */
static void
watcher_lost(struct supervisor *s, uint64_t now)
{
    int rc;

    memset(s->synced, 0, sizeof(s->synced));
    if ((rc = sup_relist_begin(s, now)) < 0)
        log_warn(&s->log, NULL, "cannot track objects deleted while the watcher restarts: %s",
                 fh_strerror(rc));
}

/* reap - collect exited children; schedule restarts */
static void
reap(struct supervisor *s, uint64_t now)
{
    for (;;) {
        int status;
        pid_t pid = waitpid(-1, &status, WNOHANG);
        struct child *c;
        char how[32];
        uint64_t delay;

        if (pid <= 0)
            return;
        c = child_find_pid(&s->children, pid);
        if (!c)
            continue;               /* not ours (e.g. re-parented orphan) */
        child_status_text(status, how, sizeof(how));
        if (c->role == PROTO_ROLE_WORKER)
            sup_worker_lost(s, c, now);
        else if (c->role == PROTO_ROLE_ELECTOR)
            sup_elector_lost(s);                        /* no elector, no leadership */
        else
            watcher_lost(s, now);
        delay = child_exited(&s->children, c, status, now);
        if (s->draining)
            log_info(&s->log, NULL, "%s slot %u exited (%s)", child_role_name(c->role), c->slot, how);
        else
            log_warn(&s->log, NULL, "%s slot %u exited (%s); restart in %llu ms",
                     child_role_name(c->role), c->slot, how, (unsigned long long)delay);
    }
}

/* health_check - /healthz and /readyz */
static int
health_check(void *arg, const char *path, char *detail, size_t cap)
{
    struct supervisor *s = arg;

    if (strcmp(path, "/healthz") == 0) {
        if (child_crashlooping(&s->children)) {
            for (uint32_t i = 0; i < s->children.n; i++) {
                const struct child *c = &s->children.v[i];
                char how[32];

                if (c->failures < s->children.crashloop_failures)
                    continue;
                child_status_text(c->last_status, how, sizeof(how));
                snprintf(detail, cap, "%s %u is crash-looping: %u failed runs in a row, last %s",
                         child_role_name(c->role), c->slot, c->failures, how);
                return 0;
            }
            snprintf(detail, cap, "a child process is crash-looping");
            return 0;
        }
        snprintf(detail, cap, "ok");
        return 1;
    }
    if (strcmp(path, "/readyz") == 0) {
        if (s->draining) {
            snprintf(detail, cap, "shutting down");
            return 0;
        }
        if (!sup_all_synced(s)) {
            snprintf(detail, cap, "waiting for the first lists of FleetHandshakes, Secrets and Bundles");
            return 0;
        }
        for (uint32_t i = 0; i < s->children.n; i++) {
            if (s->children.v[i].state != CHILD_READY) {
                snprintf(detail, cap, "waiting for %s %u", child_role_name(s->children.v[i].role),
                         s->children.v[i].slot);
                return 0;
            }
        }
        snprintf(detail, cap, "ok");
        return 1;
    }
    return -1;
}

/* metrics - /metrics: the supervisor's state, with the probes' verdicts */
static int
metrics(void *arg, char *buf, size_t cap)
{
    char detail[256];
    bool healthy = health_check(arg, "/healthz", detail, sizeof(detail)) > 0;
    bool ready = health_check(arg, "/readyz", detail, sizeof(detail)) > 0;

    return sup_metrics_write(arg, ready, healthy, buf, cap);
}

/* tick - timers: respawns, heartbeats, liveness, kills; returns next wake-up */
static uint64_t
tick(struct supervisor *s, const struct options *o, const char *endpoint, uint64_t now,
     uint64_t *next_heartbeat)
{
    uint64_t next = now + HEARTBEAT_MS;
    bool beat = now >= *next_heartbeat;

    if (beat)
        *next_heartbeat = now + HEARTBEAT_MS;
    for (uint32_t i = 0; i < s->children.n; i++) {
        struct child *c = &s->children.v[i];

        switch (c->state) {
        case CHILD_DOWN:
            if (s->draining)
                break;
            if (now >= c->respawn_at_ms)
                spawn_child(s, o, endpoint, c, now);
            else if (c->respawn_at_ms < next)
                next = c->respawn_at_ms;
            break;
        case CHILD_STARTING:
            if (now - c->started_ms > HELLO_TIMEOUT_MS) {
                log_warn(&s->log, NULL, "child pid %d never said hello; killing", (int)c->pid);
                kill(c->pid, SIGKILL);
                c->state = CHILD_STOPPING;
            }
            break;
        case CHILD_READY:
            if (c->busy && now - c->task_started_ms > s->task_timeout_ms) {
                log_error(&s->log, c->inflight_key, "worker %u stuck on a task for %llu ms; killing",
                          c->slot, (unsigned long long)(now - c->task_started_ms));
                kill(c->pid, SIGKILL);
                c->state = CHILD_STOPPING;
            } else if (!c->busy && now - c->last_seen_ms > SILENCE_KILL_MS) {
                log_error(&s->log, NULL, "%s %u silent for %llu ms; killing",
                          child_role_name(c->role), c->slot,
                          (unsigned long long)(now - c->last_seen_ms));
                kill(c->pid, SIGKILL);
                c->state = CHILD_STOPPING;
            } else if (beat && !c->busy) {
                send_simple(s, c, PROTO_HEARTBEAT);
            }
            break;
        case CHILD_STOPPING:
            if (c->kill_at_ms && now >= c->kill_at_ms) {
                kill(c->pid, SIGKILL);
                c->kill_at_ms = 0;
            } else if (c->kill_at_ms && c->kill_at_ms < next) {
                next = c->kill_at_ms;
            }
            break;
        }
    }
    return next;
}

/* start_drain - SIGTERM: stop new work and ask every child but the elector
 * to quit (drain_elector follows once the workers are gone) */
static void
start_drain(struct supervisor *s, uint64_t now, uint64_t drain_ms)
{
    s->draining = true;
    log_info(&s->log, NULL, "draining: %zu queued, %zu in flight", workq_len(s->q),
             workq_inflight(s->q));
    for (uint32_t i = 0; i < s->children.n; i++) {
        struct child *c = &s->children.v[i];

        if (c->pid == 0 || c->role == PROTO_ROLE_ELECTOR)
            continue;
        send_simple(s, c, PROTO_QUIT);
        c->state = CHILD_STOPPING;
        c->kill_at_ms = now + drain_ms;
    }
}

/* drain_elector - once no worker of ours can still write to the apiserver,
 * QUIT the elector: it releases the Lease so a standby takes over at once */
static void
drain_elector(struct supervisor *s, uint64_t now, uint64_t drain_ms)
{
    struct child *e = child_find(&s->children, PROTO_ROLE_ELECTOR, 0);

    if (!e || e->pid == 0 || e->state == CHILD_STOPPING)
        return;
    for (uint32_t i = 0; i < s->children.n; i++)
        if (s->children.v[i].role == PROTO_ROLE_WORKER && s->children.v[i].pid != 0)
            return;
    log_info(&s->log, NULL, "workers stopped; %s", s->leading ? "releasing the lease" :
             "stopping the elector");
    if (send_simple(s, e, PROTO_QUIT) < 0)
        kill(e->pid, SIGTERM);          /* not connected yet: it handles SIGTERM the same way */
    e->state = CHILD_STOPPING;
    e->kill_at_ms = now + drain_ms;
}

/* any_running - some child has not been reaped yet */
static bool
any_running(const struct supervisor *s)
{
    for (uint32_t i = 0; i < s->children.n; i++)
        if (s->children.v[i].pid != 0)
            return true;
    return false;
}

/* setup_signals - block and route SIGTERM/SIGINT/SIGCHLD through a signalfd */
static int
setup_signals(void)
{
    sigset_t set;

    sigemptyset(&set);
    sigaddset(&set, SIGTERM);
    sigaddset(&set, SIGINT);
    sigaddset(&set, SIGCHLD);
    if (sigprocmask(SIG_BLOCK, &set, NULL) < 0)
        return -errno;
    signal(SIGPIPE, SIG_IGN);
    return signalfd(-1, &set, SFD_NONBLOCK | SFD_CLOEXEC);
}

int
main(int argc, char **argv)
{
    struct supervisor s;
    struct options o;
    struct health *health = NULL;
    char ipc_dir[PATH_MAX], endpoint[PATH_MAX + 16];
    uint64_t now, next_heartbeat, next_resync;
    bool idle_logged = true;
    int sfd = -1, rc, exit_code = 1;

    memset(&s, 0, sizeof(s));
    memset(&o, 0, sizeof(o));
    ipc_dir[0] = '\0';
    fh_log_init(&s.log, "supervisor", FH_LOG_INFO);
    o.workers = 4;
    o.health_addr = ":8081";
    o.resync_ms = 10 * 60 * 1000;
    o.drain_ms = 25000;
    o.task_timeout_ms = 120000;
    o.log_level = "info";
    lease_timing_defaults(&o.lease);
    o.lease_id = LEASE_DEFAULT_NAME;
    default_bin_dir(o.bin_dir, sizeof(o.bin_dir));
    rc = parse_options(argc, argv, &o, &s.log);
    if (rc != 0)
        return rc > 0 ? 0 : EXIT_CONFIG;
    s.leader_elect = o.leader_elect;
    if (o.leader_elect && lease_identity_make(o.identity, sizeof(o.identity)) < 0) {
        log_error(&s.log, NULL, "cannot make a leader election identity");
        return EXIT_CONFIG;
    }

    now = fh_now_ms();
    if ((rc = sup_state_init(&s, o.workers, (uint64_t)now ^ ((uint64_t)getpid() << 32))) < 0) {
        log_error(&s.log, NULL, "cannot allocate state: %s", fh_strerror(rc));
        goto out;
    }
    s.task_timeout_ms = o.task_timeout_ms;
    if ((sfd = setup_signals()) < 0) {
        log_error(&s.log, NULL, "cannot set up signals: %s", fh_strerror(sfd));
        goto out;
    }
    if ((rc = chan_make_ipc_dir(ipc_dir, sizeof(ipc_dir))) < 0) {
        log_error(&s.log, NULL, "cannot create the IPC directory: %s", fh_strerror(rc));
        goto out;
    }
    if ((rc = chan_ipc_endpoint(endpoint, sizeof(endpoint), ipc_dir)) < 0) {
        log_error(&s.log, NULL, "IPC path too long: %s", fh_strerror(rc));
        goto out;
    }
    s.zctx = zmq_ctx_new();
    s.router = s.zctx ? chan_router_bind(s.zctx, endpoint, &rc) : NULL;
    if (!s.router) {
        log_error(&s.log, NULL, "cannot bind %s: %s", endpoint, fh_strerror(rc));
        goto out;
    }
    if (strcmp(o.health_addr, "0") != 0) {
        struct health_opts ho = { .check = health_check, .metrics = metrics, .arg = &s };

        health = health_new_opts(o.health_addr, &ho, &rc);
        if (!health) {
            log_error(&s.log, NULL, "cannot listen on %s for health probes: %s", o.health_addr,
                      fh_strerror(rc));
            exit_code = EXIT_CONFIG;
            goto out;
        }
        log_info(&s.log, NULL, "health probes and metrics on %s (port %d)", o.health_addr,
                 health_port(health));
    }
    log_info(&s.log, NULL, "starting: %u workers, resync every %llu s, binaries in %s", o.workers,
             (unsigned long long)(o.resync_ms / 1000), o.bin_dir);
    if (o.leader_elect)
        log_info(&s.log, NULL, "leader election on lease %s%s%s as %s: standby until elected",
                 o.lease_ns ? o.lease_ns : "", o.lease_ns ? "/" : "", o.lease_id, o.identity);

    next_heartbeat = fh_now_ms() + HEARTBEAT_MS;
    next_resync = o.resync_ms ? fh_now_ms() + o.resync_ms : UINT64_MAX;
    for (;;) {
        zmq_pollitem_t items[MAX_POLL];
        uint64_t wake;
        long timeout, due;
        int n = 0, nh = 0;

        now = fh_now_ms();
        wake = tick(&s, &o, endpoint, now, &next_heartbeat);
        if (s.draining)
            drain_elector(&s, now, o.drain_ms);
        if (s.draining && !any_running(&s))
            break;
        if (!s.draining && now >= next_resync) {
            sup_resync(&s, now);
            log_info(&s.log, NULL, "periodic resync: %zu FleetHandshakes, %zu queued",
                     fh_index_count(s.ix, PROTO_RES_FH), workq_len(s.q));
            next_resync = now + o.resync_ms;
        }
        sup_dispatch(&s, now);
        if (!s.draining && sup_all_synced(&s) && sup_idle(&s) && !idle_logged && s.was_busy) {
            log_info(&s.log, NULL, "queue idle: %llu tasks, %llu done, %llu retried, %llu failed, "
                     "%llu apiserver reads, %llu writes",
                     (unsigned long long)s.stats.tasks, (unsigned long long)s.stats.done,
                     (unsigned long long)s.stats.retry, (unsigned long long)s.stats.failed,
                     (unsigned long long)s.stats.api_reads, (unsigned long long)s.stats.api_writes);
            idle_logged = true;
            s.was_busy = false;
        } else if (!sup_idle(&s)) {
            idle_logged = false;
        }

        items[n++] = (zmq_pollitem_t){ s.router, 0, ZMQ_POLLIN, 0 };
        items[n++] = (zmq_pollitem_t){ NULL, sfd, ZMQ_POLLIN, 0 };
        if (health) {
            nh = health_pollitems(health, items + n, MAX_POLL - n);
            if (nh > 0)
                n += nh;
            else
                nh = 0;
        }
        if (next_resync < wake)
            wake = next_resync;
        timeout = wake > now ? (long)(wake - now) : 0;
        due = workq_next_due_ms(s.q, now);
        if (due >= 0 && due < timeout)
            timeout = due;
        due = health ? health_next_timeout_ms(health, now) : -1;
        if (due >= 0 && due < timeout)
            timeout = due;
        rc = zmq_poll(items, n, timeout);
        if (rc < 0 && errno != EINTR) {
            log_error(&s.log, NULL, "zmq_poll: %s", zmq_strerror(errno));
            goto out;
        }
        now = fh_now_ms();
        if (rc > 0 && (items[1].revents & ZMQ_POLLIN)) {
            struct signalfd_siginfo si;

            while (read(sfd, &si, sizeof(si)) == (ssize_t)sizeof(si)) {
                if (si.ssi_signo == SIGCHLD)
                    continue;
                if (!s.draining) {
                    log_info(&s.log, NULL, "received signal %u", si.ssi_signo);
                    start_drain(&s, now, o.drain_ms);
                }
            }
            reap(&s, now);
        }
        if (rc > 0 && (items[0].revents & ZMQ_POLLIN))
            handle_router(&s, now);
        if (health)     /* every iteration: it also expires idle clients */
            health_dispatch(health, items + 2, nh, now);
    }
    log_info(&s.log, NULL, "stopped: %llu tasks, %llu events, %llu malformed messages dropped",
             (unsigned long long)s.stats.tasks, (unsigned long long)s.stats.events,
             (unsigned long long)s.stats.malformed);
    exit_code = 0;
out:
    health_free(&health);
    if (s.router)
        zmq_close(s.router);
    if (s.zctx)
        zmq_ctx_term(s.zctx);
    sup_state_free(&s);
    if (sfd >= 0)
        close(sfd);
    if (ipc_dir[0])
        chan_remove_ipc_dir(ipc_dir);
    return exit_code;
}
