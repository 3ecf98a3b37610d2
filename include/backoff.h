/*
 * backoff.h - per-item exponential backoff with jitter, and the small PRNG
 * that feeds the jitter.
 *
 * Ceiling for attempt a (0-based): min(cap_ms, base_ms * 2^a).
 * Jitter modes (AWS Architecture Blog, "Exponential Backoff And Jitter"):
 *   NONE          delay = ceiling
 *   FULL          delay uniform in [0, ceiling]
 *   EQUAL         delay uniform in [ceiling/2, ceiling]
 *   DECORRELATED  delay uniform in [base_ms, min(cap_ms, 3 * prev_ms)]
 *                 where prev_ms is this item's previous delay (0 = none yet,
 *                 treated as base_ms); attempt is not used.
 * All delays are <= cap_ms. Randomness comes from a caller-owned xorshift64*
 * state, so a fixed seed gives a reproducible sequence; nothing here reads
 * the clock or keeps hidden state.
 */
#ifndef BACKOFF_H
#define BACKOFF_H

#include <stdint.h>

enum backoff_jitter {
    BACKOFF_JITTER_NONE = 0,
    BACKOFF_JITTER_FULL = 1,
    BACKOFF_JITTER_EQUAL = 2,
    BACKOFF_JITTER_DECORRELATED = 3,
};

#define BACKOFF_DEFAULT_BASE_MS 500u
#define BACKOFF_DEFAULT_CAP_MS  (5u * 60u * 1000u)

struct backoff_policy {
    uint32_t base_ms;       /* first ceiling (attempt 0) and decorrelated floor; > 0 */
    uint32_t cap_ms;        /* no delay exceeds this; >= base_ms */
    uint8_t jitter;         /* enum backoff_jitter */
};

/* backoff_policy_default - 500 ms base, 5 min cap, FULL jitter */
void backoff_policy_default(struct backoff_policy *p);

/* backoff_policy_check - 0 if usable, -FH_EINVAL if base is 0, cap < base or
 * jitter unknown */
int backoff_policy_check(const struct backoff_policy *p);

/* backoff_ceiling - min(cap, base * 2^attempt), overflow-safe */
uint32_t backoff_ceiling(const struct backoff_policy *p, uint32_t attempt);

/*
 * backoff_next - delay before retry number attempt (0 = first retry) in ms.
 * prev_ms is only used by DECORRELATED (the delay this item got last time,
 * 0 if none). Advances *rng (except for NONE).
 */
uint32_t backoff_next(const struct backoff_policy *p, uint32_t attempt,
                      uint32_t prev_ms, uint64_t *rng);

/* backoff_rng_seed - initialise a PRNG state from any seed (0 is allowed) */
void backoff_rng_seed(uint64_t *rng, uint64_t seed);

/* backoff_rng_next - xorshift64*: next 64 pseudo-random bits */
uint64_t backoff_rng_next(uint64_t *rng);

/* backoff_rng_range - uniform integer in [lo, hi] (hi >= lo) */
uint32_t backoff_rng_range(uint64_t *rng, uint32_t lo, uint32_t hi);

#endif
