/*
 * shard_ring.c - key -> worker slot by stable hash + jump consistent hash.
 * Owns nothing; pure functions.
 */
#include <stddef.h>

#include "shard_ring.h"

/* shard_ring_hash - FNV-1a 64 then fmix64 so similar keys spread in all bits */
uint64_t
shard_ring_hash(const char *key)
{
    uint64_t h = 0xcbf29ce484222325ULL;

    for (const unsigned char *p = (const unsigned char *)key; p && *p; p++) {
        h ^= *p;
        h *= 0x100000001b3ULL;
    }
    h ^= h >> 33;
    h *= 0xff51afd7ed558ccdULL;
    h ^= h >> 33;
    h *= 0xc4ceb9fe1a85ec53ULL;
    h ^= h >> 33;
    return h;
}

/* shard_ring_jump - Lamping & Veach jump consistent hash */
uint32_t
shard_ring_jump(uint64_t h, uint32_t nslots)
{
    int64_t b = -1, j = 0;

    if (nslots == 0)
        return 0;
    while (j < (int64_t)nslots) {
        b = j;
        h = h * 2862933555777941757ULL + 1;
        j = (int64_t)((double)(b + 1) * ((double)(1LL << 31) / (double)((h >> 33) + 1)));
    }
    return (uint32_t)b;
}

/* shard_ring_slot - owner slot of key */
uint32_t
shard_ring_slot(const char *key, uint32_t nslots)
{
    if (!key)
        return 0;
    return shard_ring_jump(shard_ring_hash(key), nslots);
}
