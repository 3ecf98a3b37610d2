/*
 * sup_metrics.h - the supervisor's counters and gauges in the Prometheus
 * text exposition format (0.0.4), for /metrics on the probe port.
 *
 * Families (all prefixed fleet_handshake_): healthy, ready, leader,
 * cached_objects{resource}, workqueue_depth, workqueue_inflight,
 * watch_events_total, reconcile_total{result=success|requeue|error},
 * reconcile_duration_seconds (histogram), reconcile_apiserver_requests_total
 * {type=read|write}, ipc_messages_dropped_total, and per child process
 * process_up, process_exits_total, process_consecutive_failures
 * {process, slot}. Labels never carry object names.
 * Ownership: writes into the caller's buffer; keeps nothing.
 */
#ifndef SUP_METRICS_H
#define SUP_METRICS_H

#include <stdbool.h>
#include <stddef.h>

struct supervisor;

/* sup_metrics_write - the text into buf (cap bytes, NUL-terminated);
 * returns its length, or -FH_ETOOBIG when it does not fit. ready and
 * healthy are what /readyz and /healthz would answer now. */
int sup_metrics_write(const struct supervisor *s, bool ready, bool healthy, char *buf, size_t cap);

#endif
