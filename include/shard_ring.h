/*
 * shard_ring.h - stable assignment of FleetHandshake keys to worker slots.
 *
 * slot = jump_consistent_hash(shard_ring_hash(key), nslots) (Lamping & Veach,
 * "A Fast, Minimal Memory, Consistent Hash Algorithm", 2014). The key hash is
 * FNV-1a 64 followed by the MurmurHash3 fmix64 finalizer: unseeded and fixed
 * forever, so every process (and every restart) computes the same slot, and
 * growing nslots from N to N+1 moves only ~1/(N+1) of the keys, all of them to
 * the new slot. Cost O(log nslots) per call; no memory, no state.
 *
 * Changing either hash changes which worker owns which key: the unit test
 * pins golden slots so that cannot happen by accident.
 */
#ifndef SHARD_RING_H
#define SHARD_RING_H

#include <stdint.h>

/* shard_ring_hash - stable 64-bit hash of a NUL-terminated key */
uint64_t shard_ring_hash(const char *key);

/* shard_ring_jump - jump consistent hash of h into [0, nslots); 0 when nslots is 0 */
uint32_t shard_ring_jump(uint64_t h, uint32_t nslots);

/* shard_ring_slot - the worker slot in [0, nslots) that owns key; 0 when
 * nslots is 0 or key is NULL */
uint32_t shard_ring_slot(const char *key, uint32_t nslots);

#endif
