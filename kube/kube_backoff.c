/*
 * kube_backoff.c - monotonic clock, per-owner xorshift64* generator and
 * exponential backoff with jitter. Owns nothing; all state lives in the
 * caller's struct kube_backoff / uint64_t.
 */
#include <stdint.h>
#include <sys/random.h>
#include <time.h>
#include <unistd.h>

#include "backoff.h"
#include "fh_time.h"
#include "kube_backoff.h"

#define BACKOFF_DEFAULT_INITIAL_MS 800
#define BACKOFF_DEFAULT_MAX_MS     30000

/* kube_now_ms - the shared monotonic clock, as the signed type timers here use */
long
kube_now_ms(void)
{
    return (long)fh_now_ms();
}

/* kube_rng_seed - jitter only needs to differ between processes, not be secret */
uint64_t
kube_rng_seed(void)
{
    uint64_t s = 0;
    struct timespec ts;

    if (getrandom(&s, sizeof(s), GRND_NONBLOCK) != (ssize_t)sizeof(s) || s == 0) {
        clock_gettime(CLOCK_REALTIME, &ts);
        s = ((uint64_t)ts.tv_sec << 32) ^ (uint64_t)ts.tv_nsec ^
            ((uint64_t)getpid() << 16);
    }
    return s ? s : 0x9e3779b97f4a7c15ULL;
}

/* kube_rng_next - the shared xorshift64* generator (common/backoff.c) */
uint64_t
kube_rng_next(uint64_t *state)
{
    return backoff_rng_next(state);
}

/* kube_backoff_init - bounds and seed */
void
kube_backoff_init(struct kube_backoff *b, long initial_ms, long max_ms)
{
    b->initial_ms = initial_ms > 0 ? initial_ms : BACKOFF_DEFAULT_INITIAL_MS;
    b->max_ms = max_ms > 0 ? max_ms : BACKOFF_DEFAULT_MAX_MS;
    if (b->max_ms < b->initial_ms)
        b->max_ms = b->initial_ms;
    b->cur_ms = b->initial_ms;
    b->rng = kube_rng_seed();
}

/* kube_backoff_next - up to 25 % jitter below the base spreads the
 * reconnects of many watchers after an apiserver restart, also at the cap */
long
kube_backoff_next(struct kube_backoff *b)
{
    long base = b->cur_ms, wait;

    if (base > b->max_ms)
        base = b->max_ms;
    wait = base - (long)(kube_rng_next(&b->rng) % (uint64_t)(base / 4 + 1));
    b->cur_ms = base >= b->max_ms / 2 ? b->max_ms : base * 2;
    return wait > 0 ? wait : 1;
}

/* kube_backoff_reset - back to the initial wait */
void
kube_backoff_reset(struct kube_backoff *b)
{
    b->cur_ms = b->initial_ms;
}
