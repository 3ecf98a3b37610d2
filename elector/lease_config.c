/*
 * lease_config.c - the settings of leader election: timing defaults and
 * their validation, and our identity. Linked into fh-supervisor too (it
 * refuses bad flags at start and makes the identity once, so a restarted
 * elector resumes the Lease it holds), hence no dependency on kube/.
 *
 * Owns nothing: results go into caller buffers.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>
#include <unistd.h>

#include "fh_err.h"
#include "lease.h"

/* lease_timing_defaults - client-go's defaults for "core clients" */
void
lease_timing_defaults(struct lease_timing *t)
{
    t->lease_ms = LEASE_DEFAULT_DURATION_MS;
    t->renew_ms = LEASE_DEFAULT_RENEW_MS;
    t->retry_ms = LEASE_DEFAULT_RETRY_MS;
}

/* s_why - write a reason if the caller wants one; always -FH_EINVAL */
static int __attribute__((format(printf, 3, 4)))
s_why(char *why, size_t cap, const char *fmt, ...)
{
    va_list ap;

    if (why && cap) {
        va_start(ap, fmt);
        vsnprintf(why, cap, fmt, ap);
        va_end(ap);
    }
    return -FH_EINVAL;
}

/* lease_timing_check - LeaseDuration > RenewDeadline > 1.2 x RetryPeriod */
int
lease_timing_check(const struct lease_timing *t, char *why, size_t cap)
{
    if (!t)
        return -FH_EINVAL;
    if (t->retry_ms == 0)
        return s_why(why, cap, "--leader-elect-retry-period must be positive");
    if (t->lease_ms < 1000)
        return s_why(why, cap, "--leader-elect-lease-duration must be at least 1s (got %llu ms)",
                     (unsigned long long)t->lease_ms);
    if (t->lease_ms <= t->renew_ms)
        return s_why(why, cap, "--leader-elect-lease-duration (%llu ms) must be greater than "
                     "--leader-elect-renew-deadline (%llu ms)", (unsigned long long)t->lease_ms,
                     (unsigned long long)t->renew_ms);
    /* renew > 1.2 * retry, in integers: 10 * renew > 12 * retry */
    if (t->renew_ms > UINT64_MAX / 10 || t->retry_ms > UINT64_MAX / LEASE_JITTER_TENTHS ||
        t->renew_ms * 10 <= t->retry_ms * LEASE_JITTER_TENTHS)
        return s_why(why, cap, "--leader-elect-renew-deadline (%llu ms) must be greater than 1.2 x "
                     "--leader-elect-retry-period (%llu ms)", (unsigned long long)t->renew_ms,
                     (unsigned long long)t->retry_ms);
    return 0;
}

/* lease_identity_make - hostname + "_" + 64 random bits in hex */
int
lease_identity_make(char *out, size_t cap)
{
    char host[256];
    uint64_t r = 0;
    size_t maxhost = LEASE_IDENTITY_MAX - 17;   /* "_" + 16 hex digits */
    int n;

    if (gethostname(host, sizeof(host)) != 0 || !host[0])
        snprintf(host, sizeof(host), "fleet-handshake");
    host[sizeof(host) - 1] = '\0';
    if (strlen(host) > maxhost)
        host[maxhost] = '\0';
    if (getrandom(&r, sizeof(r), GRND_NONBLOCK) != (ssize_t)sizeof(r)) {
        struct timespec ts;

        clock_gettime(CLOCK_REALTIME, &ts);
        r = ((uint64_t)ts.tv_nsec << 20) ^ (uint64_t)ts.tv_sec ^ ((uint64_t)getpid() << 40);
    }
    n = snprintf(out, cap, "%s_%016llx", host, (unsigned long long)r);
    if (n < 0 || (size_t)n >= cap)
        return -FH_ETOOBIG;
    return 0;
}
