/*
 * kube_backoff.h - monotonic time, a tiny per-owner random generator and
 * exponential backoff with jitter, as used by the blocking client and the
 * reflectors. No global state: each owner embeds its own structs.
 */
#ifndef KUBE_BACKOFF_H
#define KUBE_BACKOFF_H

#include <stdint.h>

struct kube_backoff {
    long initial_ms;    /* first wait */
    long max_ms;        /* upper bound of any wait */
    long cur_ms;        /* base of the next wait; doubles after each */
    uint64_t rng;       /* jitter state (xorshift64*) */
};

/* kube_now_ms - CLOCK_MONOTONIC in milliseconds */
long kube_now_ms(void);

/* kube_rng_seed - a non-zero seed from getrandom(), falling back to time^pid */
uint64_t kube_rng_seed(void);

/* kube_rng_next - next value of the xorshift64* generator in *state */
uint64_t kube_rng_next(uint64_t *state);

/* kube_backoff_init - set bounds (values <= 0 become 800 ms / 30 s) and seed */
void kube_backoff_init(struct kube_backoff *b, long initial_ms, long max_ms);

/* kube_backoff_next - the wait to use now, in [0.75*base, base], where base
 * doubles from initial_ms on every call up to max_ms */
long kube_backoff_next(struct kube_backoff *b);

/* kube_backoff_reset - start again from initial_ms (after a healthy period) */
void kube_backoff_reset(struct kube_backoff *b);

#endif
