/*
 * backoff.c - exponential backoff delays with jitter, xorshift64* PRNG.
 * Owns nothing; the PRNG state is a uint64_t the caller keeps.
 */
#include "backoff.h"
#include "fh_err.h"

/* backoff_policy_default - the operator's defaults */
void
backoff_policy_default(struct backoff_policy *p)
{
    p->base_ms = BACKOFF_DEFAULT_BASE_MS;
    p->cap_ms = BACKOFF_DEFAULT_CAP_MS;
    p->jitter = BACKOFF_JITTER_FULL;
}

/* backoff_policy_check - validate a policy */
int
backoff_policy_check(const struct backoff_policy *p)
{
    if (!p || p->base_ms == 0 || p->cap_ms < p->base_ms ||
        p->jitter > BACKOFF_JITTER_DECORRELATED)
        return -FH_EINVAL;
    return 0;
}

/* backoff_ceiling - base * 2^attempt, saturating at cap */
uint32_t
backoff_ceiling(const struct backoff_policy *p, uint32_t attempt)
{
    uint64_t c = p->base_ms;

    if (c == 0)
        return 0;
    for (uint32_t i = 0; i < attempt && c < p->cap_ms; i++)
        c *= 2;
    return c < p->cap_ms ? (uint32_t)c : p->cap_ms;
}

/* backoff_rng_seed - splitmix64 the seed so 0 and small seeds work */
void
backoff_rng_seed(uint64_t *rng, uint64_t seed)
{
    uint64_t z = seed + 0x9e3779b97f4a7c15ULL;

    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    z ^= z >> 31;
    *rng = z ? z : 0x2545f4914f6cdd1dULL;
}

/* backoff_rng_next - xorshift64* step (state must be non-zero) */
uint64_t
backoff_rng_next(uint64_t *rng)
{
    uint64_t x = *rng ? *rng : 0x2545f4914f6cdd1dULL;

    x ^= x >> 12;
    x ^= x << 25;
    x ^= x >> 27;
    *rng = x;
    return x * 0x2545f4914f6cdd1dULL;
}

/* backoff_rng_range - uniform in [lo, hi]; modulo bias < 2^-32 */
uint32_t
backoff_rng_range(uint64_t *rng, uint32_t lo, uint32_t hi)
{
    uint64_t span;

    if (hi <= lo)
        return lo;
    span = (uint64_t)hi - lo + 1;
    return lo + (uint32_t)(backoff_rng_next(rng) % span);
}

/* backoff_next - one jittered delay */
uint32_t
backoff_next(const struct backoff_policy *p, uint32_t attempt, uint32_t prev_ms,
             uint64_t *rng)
{
    uint32_t ceil = backoff_ceiling(p, attempt);
    uint64_t hi;

    switch (p->jitter) {
    case BACKOFF_JITTER_FULL:
        return backoff_rng_range(rng, 0, ceil);
    case BACKOFF_JITTER_EQUAL:
        return backoff_rng_range(rng, ceil / 2, ceil);
    case BACKOFF_JITTER_DECORRELATED:
        hi = (uint64_t)(prev_ms ? prev_ms : p->base_ms) * 3;
        if (hi > p->cap_ms)
            hi = p->cap_ms;
        if (hi < p->base_ms)
            hi = p->base_ms;
        return backoff_rng_range(rng, p->base_ms < p->cap_ms ? p->base_ms : p->cap_ms,
                                 (uint32_t)hi);
    default:
        return ceil;
    }
}
