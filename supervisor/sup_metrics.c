/*
 * sup_metrics.c - the supervisor's state as Prometheus metrics (text
 * exposition format 0.0.4), served on /metrics by the probe server.
 *
 * Everything comes from counters and gauges the supervisor keeps anyway
 * (struct sup_stats, the work queue, the caches, the process table), so a
 * scrape costs O(children) and never touches the apiserver. No label ever
 * holds a Secret's or FleetHandshake's name: cardinality stays bounded by
 * the worker count. Owns nothing.
 */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "fh_err.h"
#include "fh_index.h"
#include "sup_metrics.h"
#include "supervisor.h"
#include "workq.h"

/* An append-only text buffer; overflow is sticky. */
struct out {
    char *buf;
    size_t cap, len;
    bool overflow;
};

/* put - printf into the buffer */
static void __attribute__((format(printf, 2, 3)))
put(struct out *o, const char *fmt, ...)
{
    va_list ap;
    int n;

    if (o->overflow)
        return;
    va_start(ap, fmt);
    n = vsnprintf(o->buf + o->len, o->cap - o->len, fmt, ap);
    va_end(ap);
    if (n < 0 || (size_t)n >= o->cap - o->len) {
        o->overflow = true;
        return;
    }
    o->len += (size_t)n;
}

/* head - HELP and TYPE lines of one metric family */
static void
head(struct out *o, const char *name, const char *type, const char *help)
{
    put(o, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

/* gauge - a family with one unlabelled sample */
static void
gauge(struct out *o, const char *name, const char *help, unsigned long long v)
{
    head(o, name, "gauge", help);
    put(o, "%s %llu\n", name, v);
}

/* counter - the same for a counter */
static void
counter(struct out *o, const char *name, const char *help, unsigned long long v)
{
    head(o, name, "counter", help);
    put(o, "%s %llu\n", name, v);
}

/* durations - the reconcile duration histogram, in seconds */
static void
durations(struct out *o, const struct sup_stats *st)
{
    static const uint64_t bounds[SUP_DURATION_NBUCKETS] = SUP_DURATION_BUCKETS_MS;
    const char *name = "fleet_handshake_reconcile_duration_seconds";
    unsigned long long cum = 0;

    head(o, name, "histogram", "Time from handing a FleetHandshake to a worker to its result.");
    for (size_t i = 0; i < SUP_DURATION_NBUCKETS; i++) {
        cum += st->dur_bucket[i];
        put(o, "%s_bucket{le=\"%llu.%03llu\"} %llu\n", name,
            (unsigned long long)(bounds[i] / 1000), (unsigned long long)(bounds[i] % 1000), cum);
    }
    put(o, "%s_bucket{le=\"+Inf\"} %llu\n", name, (unsigned long long)st->dur_count);
    put(o, "%s_sum %llu.%03llu\n", name, (unsigned long long)(st->dur_sum_ms / 1000),
        (unsigned long long)(st->dur_sum_ms % 1000));
    put(o, "%s_count %llu\n", name, (unsigned long long)st->dur_count);
}

/* children - per-process gauges and counters */
static void
children(struct out *o, const struct child_table *t)
{
    head(o, "fleet_handshake_process_up", "gauge",
         "1 when the child process is running and has said hello.");
    for (uint32_t i = 0; i < t->n; i++)
        put(o, "fleet_handshake_process_up{process=\"%s\",slot=\"%u\"} %d\n",
            child_role_name(t->v[i].role), t->v[i].slot, t->v[i].state == CHILD_READY);
    head(o, "fleet_handshake_process_exits_total", "counter",
         "Exits of the child process (each is followed by a restart unless shutting down).");
    for (uint32_t i = 0; i < t->n; i++)
        put(o, "fleet_handshake_process_exits_total{process=\"%s\",slot=\"%u\"} %u\n",
            child_role_name(t->v[i].role), t->v[i].slot, t->v[i].restarts);
    head(o, "fleet_handshake_process_consecutive_failures", "gauge",
         "Failed runs in a row; /healthz fails at the crash-loop threshold.");
    for (uint32_t i = 0; i < t->n; i++)
        put(o, "fleet_handshake_process_consecutive_failures{process=\"%s\",slot=\"%u\"} %u\n",
            child_role_name(t->v[i].role), t->v[i].slot, t->v[i].failures);
}

/* sup_metrics_write - see header */
int
sup_metrics_write(const struct supervisor *s, bool ready, bool healthy, char *buf, size_t cap)
{
    struct out o = { buf, cap, 0, false };
    const struct sup_stats *st = &s->stats;

    if (!cap)
        return -FH_ETOOBIG;
    buf[0] = '\0';
    gauge(&o, "fleet_handshake_healthy", "1 while /healthz succeeds.", healthy);
    gauge(&o, "fleet_handshake_ready", "1 while /readyz succeeds.", ready);
    gauge(&o, "fleet_handshake_leader",
          "1 while this replica may reconcile (leads the Lease, or runs without leader election).",
          sup_may_dispatch(s));
    head(&o, "fleet_handshake_cached_objects", "gauge",
         "Objects in the supervisor's caches (Secrets and Bundles as metadata only).");
    put(&o, "fleet_handshake_cached_objects{resource=\"fleethandshakes\"} %zu\n",
        fh_index_count(s->ix, PROTO_RES_FH));
    put(&o, "fleet_handshake_cached_objects{resource=\"secrets\"} %zu\n",
        fh_index_count(s->ix, PROTO_RES_SECRET));
    put(&o, "fleet_handshake_cached_objects{resource=\"bundles\"} %zu\n",
        fh_index_count(s->ix, PROTO_RES_BUNDLE));
    gauge(&o, "fleet_handshake_workqueue_depth",
          "FleetHandshakes waiting to be reconciled (ready or backing off).", workq_len(s->q));
    gauge(&o, "fleet_handshake_workqueue_inflight", "FleetHandshakes being reconciled now.",
          workq_inflight(s->q));
    counter(&o, "fleet_handshake_watch_events_total",
            "Watch events received from the watcher.", st->events);
    head(&o, "fleet_handshake_reconcile_total", "counter",
         "Reconciles by result: success, requeue (will retry) or error (gave up until the "
         "next change).");
    put(&o, "fleet_handshake_reconcile_total{result=\"success\"} %llu\n",
        (unsigned long long)st->done);
    put(&o, "fleet_handshake_reconcile_total{result=\"requeue\"} %llu\n",
        (unsigned long long)st->retry);
    put(&o, "fleet_handshake_reconcile_total{result=\"error\"} %llu\n",
        (unsigned long long)st->failed);
    durations(&o, st);
    head(&o, "fleet_handshake_reconcile_apiserver_requests_total", "counter",
         "apiserver requests made by reconciles (the watcher's lists and watches not included).");
    put(&o, "fleet_handshake_reconcile_apiserver_requests_total{type=\"read\"} %llu\n",
        (unsigned long long)st->api_reads);
    put(&o, "fleet_handshake_reconcile_apiserver_requests_total{type=\"write\"} %llu\n",
        (unsigned long long)st->api_writes);
    counter(&o, "fleet_handshake_ipc_messages_dropped_total",
            "Malformed, unknown or stale IPC messages dropped.", st->malformed);
    children(&o, &s->children);
    return o.overflow ? -FH_ETOOBIG : (int)o.len;
}
