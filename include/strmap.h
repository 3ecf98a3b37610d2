/*
 * strmap.h - hash map from NUL-terminated strings to void pointers.
 *
 * Open addressing with linear probing and backward-shift deletion (no
 * tombstones), grown x2 when more than 3/4 full, never shrunk. Keys are
 * hashed with SipHash-1-3 under a caller-chosen 64-bit seed, so hostile key
 * sets cannot be pre-computed to collide. Every operation is O(1) average.
 *
 * Ownership: the map owns a heap copy of every key. A stored key's address
 * is stable from insertion until that key is deleted (resizes move only the
 * slot, not the string), so callers may keep the pointers strmap_key() and
 * strmap_intern() return. Values are opaque: the map never dereferences or
 * frees them except through the free_val callback of strmap_free().
 *
 * The map must not be modified (put/intern/del) while it is being iterated
 * with strmap_next(); collect keys first and modify afterwards.
 */
#ifndef STRMAP_H
#define STRMAP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct strmap;

/* strmap_new - empty map hashing under seed; NULL on allocation failure.
 * Caller owns the result (strmap_free). */
struct strmap *strmap_new(uint64_t seed);

/* strmap_free - free every key copy, call free_val(val) on every value when
 * free_val is non-NULL, free the map and set *m = NULL; NULL-safe, idempotent */
void strmap_free(struct strmap **m, void (*free_val)(void *val));

/* strmap_put - insert key -> val, or replace the value if key is present.
 * When old_out is non-NULL it receives the replaced value (NULL if the key
 * was new; use strmap_intern to tell a NULL value from a missing key).
 * The key is copied. 0 or -FH_ENOMEM (map unchanged) or -FH_EINVAL. */
int strmap_put(struct strmap *m, const char *key, void *val, void **old_out);

/* strmap_intern - find key, inserting it with value NULL when absent, in one
 * lookup. *val_slot (may be NULL) points at the stored value, writable, valid
 * until the next insertion or deletion; *key_out (may be NULL) is the
 * map-owned key copy (stable until the key is deleted); *created (may be
 * NULL) says whether it was inserted. 0 or -FH_ENOMEM / -FH_EINVAL. */
int strmap_intern(struct strmap *m, const char *key, void ***val_slot,
                  const char **key_out, bool *created);

/* strmap_get - the value stored under key, NULL if absent (or stored NULL) */
void *strmap_get(const struct strmap *m, const char *key);

/* strmap_has - whether key is present */
bool strmap_has(const struct strmap *m, const char *key);

/* strmap_key - the map-owned copy of key (borrowed, stable until deleted),
 * NULL if absent */
const char *strmap_key(const struct strmap *m, const char *key);

/* strmap_del - remove key and free its copy; when old_out is non-NULL it
 * receives the value (which the caller now owns). key may be the map's own
 * copy (from strmap_key/strmap_intern/strmap_next). 0 or -FH_ENOTFOUND. */
int strmap_del(struct strmap *m, const char *key, void **old_out);

/* strmap_len - number of keys */
size_t strmap_len(const struct strmap *m);

/* strmap_next - iterate: set *it = 0 first, then call until it returns false.
 * Each true return yields one entry (borrowed key, value); order is
 * unspecified. key and val may be NULL. */
bool strmap_next(const struct strmap *m, size_t *it, const char **key, void **val);

/* strmap_max_probe - longest probe sequence of any present key (1 = found
 * in its home slot); O(capacity), for tests and diagnostics */
size_t strmap_max_probe(const struct strmap *m);

/* strmap_siphash13 - SipHash-1-3 of len bytes at p under the 128-bit key
 * (k0, k1); what the map uses (k0 = seed, k1 = ~seed) */
uint64_t strmap_siphash13(const void *p, size_t len, uint64_t k0, uint64_t k1);

/* strmap_siphash24 - SipHash-2-4, same code with more rounds; exposed so the
 * tests can check the shared implementation against the reference vectors */
uint64_t strmap_siphash24(const void *p, size_t len, uint64_t k0, uint64_t k1);

#endif
