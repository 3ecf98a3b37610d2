/*
 * lease.h - leader election on a coordination.k8s.io/v1 Lease, the way
 * client-go's leaderelection package does it, for fh-elector (elector/).
 *
 * The algorithm (elector/lease.c), one round = lease_try_acquire_or_renew:
 *   1. fast path: while we lead and our own observation of the Lease is still
 *      valid, PUT it with renewTime = now (acquireTime and leaseTransitions
 *      kept); success ends the round;
 *   2. GET the Lease; 404 -> POST a new one naming us (409 -> lost the race);
 *   3. if the record differs from the one last observed, remember it and set
 *      observedTime = our monotonic now. Expiry is observedTime +
 *      leaseDurationSeconds < now: the holder's renewTime is never compared
 *      with our clock, so clock skew between nodes does not matter;
 *   4. held by someone else and not expired -> not leader this round;
 *   5. else PUT with the fetched resourceVersion (a racing candidate gets
 *      409): as the current holder keep acquireTime/leaseTransitions, as a
 *      new holder acquireTime = now and leaseTransitions + 1.
 * lease_step wraps rounds into client-go's two loops: while standing by, a
 * round every RetryPeriod + up to JitterFactor(1.2) x RetryPeriod; while
 * leading, a round every RetryPeriod, and leadership is lost when no renew
 * succeeded for RenewDeadline (or when another holder's valid record is
 * seen). lease_release gives the Lease up (holderIdentity "",
 * leaseDurationSeconds 1, acquireTime = renewTime = now), so a standby takes
 * over at its next round instead of waiting for expiry.
 *
 * Time is always passed in: now_ms from CLOCK_MONOTONIC (expiry, loops) and
 * wall_us from CLOCK_REALTIME (the MicroTime stamps written to the Lease).
 * Nothing here reads a clock or sleeps, so tests drive a scripted clock and
 * script the apiserver by wrapping kube_request. The now_ms of a round is
 * taken before its requests, so an observation is dated early by at most
 * the round's earlier requests (two request timeouts; fh-elector keeps the
 * timeout at RenewDeadline / 4, within 1..3 s).
 *
 * Ownership: struct lease_elector owns copies of the config strings, the
 * Lease object last read or written and the observed record; it borrows the
 * kube client and the logger, which must outlive it. struct lease_record
 * owns its strings (lease_record_clear). lease_status.holder is borrowed
 * from the elector until its next call.
 */
#ifndef LEASE_H
#define LEASE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct cJSON;
struct fh_log;
struct kube_client;

#define LEASE_DEFAULT_DURATION_MS   15000u  /* --leader-elect-lease-duration */
#define LEASE_DEFAULT_RENEW_MS      10000u  /* --leader-elect-renew-deadline */
#define LEASE_DEFAULT_RETRY_MS      2000u   /* --leader-elect-retry-period */
#define LEASE_JITTER_TENTHS         12u     /* client-go JitterFactor 1.2 */
#define LEASE_DEFAULT_NAME          "fleet-handshake-leader"    /* --leader-elect-id */
#define LEASE_SA_NAMESPACE_FILE     "/var/run/secrets/kubernetes.io/serviceaccount/namespace"
#define LEASE_IDENTITY_MAX          253u    /* identity bytes, without NUL */
#define LEASE_MICROTIME_CAP         32u     /* "2006-01-02T15:04:05.000000Z" + NUL fits */

/* ---------------------------------------------------------------- config */

struct lease_timing {
    uint64_t lease_ms;      /* LeaseDuration: how long a record stays valid unrenewed */
    uint64_t renew_ms;      /* RenewDeadline: the leader gives up after this without a renew */
    uint64_t retry_ms;      /* RetryPeriod: time between rounds */
};

/* lease_timing_defaults - 15 s / 10 s / 2 s */
void lease_timing_defaults(struct lease_timing *t);

/* lease_timing_check - LeaseDuration > RenewDeadline > 1.2 x RetryPeriod,
 * RetryPeriod > 0, and LeaseDuration at least 1 s (the Lease stores whole
 * seconds). 0, or -FH_EINVAL with a one-line reason naming the flags in why
 * (cap bytes; may be NULL). */
int lease_timing_check(const struct lease_timing *t, char *why, size_t cap);

/* lease_default_namespace - where the Lease lives when
 * --leader-elect-namespace is not given: the content of sa_file (the
 * in-cluster namespace file, trimmed) if it exists and is not empty, else
 * context_ns (the kubeconfig context's namespace; may be NULL or ""), else
 * "default". 0 or -FH_ETOOBIG (out too small). */
int lease_default_namespace(const char *sa_file, const char *context_ns, char *out, size_t cap);

/* lease_identity_make - "<hostname>_<16 random hex digits>" into out; 0 or
 * -FH_ETOOBIG. The hostname is cut so the identity fits LEASE_IDENTITY_MAX. */
int lease_identity_make(char *out, size_t cap);

/* ---------------------------------------------------------------- record */

struct lease_record {
    char *holder;           /* spec.holderIdentity; "" when absent (never NULL once filled) */
    int64_t duration_s;     /* spec.leaseDurationSeconds; 0 when absent */
    char *acquire_time;     /* spec.acquireTime as sent (MicroTime), or NULL */
    char *renew_time;       /* spec.renewTime as sent (MicroTime), or NULL */
    int64_t transitions;    /* spec.leaseTransitions; 0 when absent */
};

/* lease_microtime - format wall_us (µs since the epoch, UTC) as a Kubernetes
 * MicroTime "2006-01-02T15:04:05.000000Z". 0, -FH_EINVAL (before 1970 or
 * after 9999) or -FH_ETOOBIG (cap < 28). */
int lease_microtime(int64_t wall_us, char *out, size_t cap);

/* lease_record_from_json - read spec of a Lease object into *out (zeroed
 * first). Missing or mistyped fields read as absent. 0, -FH_EBADREPLY (not
 * an object) or -FH_ENOMEM. */
int lease_record_from_json(const struct cJSON *lease, struct lease_record *out);

/* lease_record_equal - same holder, duration, times and transitions */
bool lease_record_equal(const struct lease_record *a, const struct lease_record *b);

/* lease_record_copy - deep copy; 0 or -FH_ENOMEM (dst left zeroed) */
int lease_record_copy(struct lease_record *dst, const struct lease_record *src);

/* lease_record_clear - free the strings and zero r; NULL-safe, idempotent */
void lease_record_clear(struct lease_record *r);

/* lease_body - the JSON text of a Lease carrying record r: base (the object
 * last read, whose metadata and resourceVersion are kept) with its spec
 * replaced, or when base is NULL a new Lease ns/name. *out is the caller's
 * (free()). 0, -FH_EINVAL or -FH_ENOMEM. */
int lease_body(const struct cJSON *base, const char *ns, const char *name,
               const struct lease_record *r, char **out);

/* ---------------------------------------------------------------- elector */

struct lease_config {
    const char *ns;         /* namespace of the Lease */
    const char *name;       /* --leader-elect-id */
    const char *identity;   /* our holderIdentity (<= LEASE_IDENTITY_MAX bytes) */
    struct lease_timing timing;
};

struct lease_status {
    bool leading;           /* we hold the Lease after this step */
    bool lost;              /* we held it and gave up in this step */
    const char *holder;     /* holder last observed ("" = released), NULL if none observed yet */
    uint64_t next_ms;       /* monotonic time of the next lease_step */
};

struct lease_elector;

/* lease_elector_new - an elector that is not leading and has observed
 * nothing; seed drives the retry jitter. 0, -FH_EINVAL (bad config:
 * lease_timing_check, empty names) or -FH_ENOMEM. */
int lease_elector_new(const struct lease_config *cfg, struct kube_client *kc,
                      const struct fh_log *log, uint64_t seed, struct lease_elector **out);

/* lease_elector_free - free and set *e = NULL; idempotent; does not release */
void lease_elector_free(struct lease_elector **e);

/* lease_try_acquire_or_renew - one round (see top). *held says whether we
 * hold the Lease after it; apiserver errors and lost races only make *held
 * false (they are logged). 0, or -FH_ENOMEM. */
int lease_try_acquire_or_renew(struct lease_elector *e, uint64_t now_ms, int64_t wall_us,
                               bool *held);

/* lease_step - one round plus the loop bookkeeping (see top); call it when
 * now_ms >= the previous st->next_ms (the first time: at once). After
 * st->lost the elector is no longer leading; the caller reports that and
 * stops (client-go processes exit), without releasing. 0 or -FH_ENOMEM. */
int lease_step(struct lease_elector *e, uint64_t now_ms, int64_t wall_us, struct lease_status *st);

/* lease_leading - whether the last step left us leading */
bool lease_leading(const struct lease_elector *e);

/* lease_release - when leading: PUT holderIdentity "", leaseDurationSeconds
 * 1, acquireTime = renewTime = now (transitions kept), then not leading.
 * 0 (released, or nothing to release) or the negative error of the PUT
 * (the elector is not leading afterwards either way). */
int lease_release(struct lease_elector *e, uint64_t now_ms, int64_t wall_us);

#endif
