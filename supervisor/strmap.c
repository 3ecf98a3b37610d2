/*
 * strmap.c - string -> void* hash map (open addressing, linear probing).
 *
 * Owns the slot array and one heap copy of every key; values belong to the
 * caller. Deletion shifts later members of the probe run back, so there are
 * no tombstones and probe runs never degrade. Each slot caches the key's
 * hash so growth and probing rarely touch the key strings.
 */
#include <stdlib.h>
#include <string.h>

#include "fh_err.h"
#include "strmap.h"

#define STRMAP_MIN_CAP 16u

struct strmap_slot {
    char *key;                  /* owned copy; NULL = empty slot */
    void *val;                  /* caller's value */
    uint64_t hash;              /* cached hash of key */
};

struct strmap {
    struct strmap_slot *slots;  /* cap entries */
    size_t cap;                 /* power of two */
    size_t len;                 /* occupied slots */
    uint64_t k0;                /* SipHash key, first half (the seed) */
    uint64_t k1;                /* SipHash key, second half (~seed) */
};

#define ROTL(x, b) (uint64_t)(((x) << (b)) | ((x) >> (64 - (b))))

#define SIPROUND(v0, v1, v2, v3)                                   \
    do {                                                           \
        v0 += v1; v1 = ROTL(v1, 13); v1 ^= v0; v0 = ROTL(v0, 32);  \
        v2 += v3; v3 = ROTL(v3, 16); v3 ^= v2;                     \
        v0 += v3; v3 = ROTL(v3, 21); v3 ^= v0;                     \
        v2 += v1; v1 = ROTL(v1, 17); v1 ^= v2; v2 = ROTL(v2, 32);  \
    } while (0)

/* load_le64 - read 8 little-endian bytes */
static uint64_t
load_le64(const unsigned char *p)
{
    uint64_t v = 0;

    for (int i = 7; i >= 0; i--)
        v = (v << 8) | p[i];
    return v;
}

/* siphash - SipHash-c-d of len bytes at in under key (k0, k1) */
static uint64_t
siphash(const void *in, size_t len, uint64_t k0, uint64_t k1, int crounds, int drounds)
{
    const unsigned char *p = in;
    uint64_t v0 = 0x736f6d6570736575ULL ^ k0;
    uint64_t v1 = 0x646f72616e646f6dULL ^ k1;
    uint64_t v2 = 0x6c7967656e657261ULL ^ k0;
    uint64_t v3 = 0x7465646279746573ULL ^ k1;
    uint64_t b = (uint64_t)len << 56;
    size_t left = len & 7;
    const unsigned char *end = p + (len - left);

    for (; p != end; p += 8) {
        uint64_t m = load_le64(p);

        v3 ^= m;
        for (int i = 0; i < crounds; i++)
            SIPROUND(v0, v1, v2, v3);
        v0 ^= m;
    }
    for (size_t i = 0; i < left; i++)
        b |= (uint64_t)p[i] << (8 * i);
    v3 ^= b;
    for (int i = 0; i < crounds; i++)
        SIPROUND(v0, v1, v2, v3);
    v0 ^= b;
    v2 ^= 0xff;
    for (int i = 0; i < drounds; i++)
        SIPROUND(v0, v1, v2, v3);
    return v0 ^ v1 ^ v2 ^ v3;
}

/* strmap_siphash13 - SipHash-1-3 */
uint64_t
strmap_siphash13(const void *p, size_t len, uint64_t k0, uint64_t k1)
{
    return siphash(p, len, k0, k1, 1, 3);
}

/* strmap_siphash24 - SipHash-2-4 */
uint64_t
strmap_siphash24(const void *p, size_t len, uint64_t k0, uint64_t k1)
{
    return siphash(p, len, k0, k1, 2, 4);
}

/* hash_key - the map's hash of a key */
static uint64_t
hash_key(const struct strmap *m, const char *key)
{
    return strmap_siphash13(key, strlen(key), m->k0, m->k1);
}

/* find_slot - index of key's slot, or of the empty slot ending its run */
static size_t
find_slot(const struct strmap *m, const char *key, uint64_t h)
{
    size_t mask = m->cap - 1;
    size_t i = (size_t)h & mask;

    while (m->slots[i].key) {
        if (m->slots[i].hash == h && strcmp(m->slots[i].key, key) == 0)
            return i;
        i = (i + 1) & mask;
    }
    return i;
}

/* strmap_new - allocate an empty map */
struct strmap *
strmap_new(uint64_t seed)
{
    struct strmap *m = calloc(1, sizeof(*m));

    if (!m)
        goto fail;
    m->slots = calloc(STRMAP_MIN_CAP, sizeof(*m->slots));
    if (!m->slots)
        goto fail;
    m->cap = STRMAP_MIN_CAP;
    m->k0 = seed;
    m->k1 = ~seed;
    return m;
fail:
    free(m);
    return NULL;
}

/* strmap_free - release keys, optionally values, and the map */
void
strmap_free(struct strmap **mp, void (*free_val)(void *val))
{
    struct strmap *m = mp ? *mp : NULL;

    if (!m)
        return;
    for (size_t i = 0; i < m->cap; i++) {
        if (!m->slots[i].key)
            continue;
        if (free_val)
            free_val(m->slots[i].val);
        free(m->slots[i].key);
    }
    free(m->slots);
    free(m);
    *mp = NULL;
}

/* grow - double the slot array and re-place every entry */
static int
grow(struct strmap *m)
{
    size_t ncap = m->cap * 2;
    struct strmap_slot *ns;

    if (ncap < m->cap || ncap > SIZE_MAX / sizeof(*ns))
        return -FH_ENOMEM;
    ns = calloc(ncap, sizeof(*ns));
    if (!ns)
        return -FH_ENOMEM;
    for (size_t i = 0; i < m->cap; i++) {
        size_t j;

        if (!m->slots[i].key)
            continue;
        j = (size_t)m->slots[i].hash & (ncap - 1);
        while (ns[j].key)
            j = (j + 1) & (ncap - 1);
        ns[j] = m->slots[i];
    }
    free(m->slots);
    m->slots = ns;
    m->cap = ncap;
    return 0;
}

/* strmap_intern - find or insert key with a NULL value */
int
strmap_intern(struct strmap *m, const char *key, void ***val_slot,
              const char **key_out, bool *created)
{
    uint64_t h;
    size_t i;
    char *copy;

    if (!m || !key)
        return -FH_EINVAL;
    h = hash_key(m, key);
    i = find_slot(m, key, h);
    if (!m->slots[i].key) {
        if ((m->len + 1) * 4 > m->cap * 3) {
            if (grow(m) < 0)
                return -FH_ENOMEM;
            i = find_slot(m, key, h);
        }
        copy = strdup(key);
        if (!copy)
            return -FH_ENOMEM;
        m->slots[i].key = copy;
        m->slots[i].val = NULL;
        m->slots[i].hash = h;
        m->len++;
        if (created)
            *created = true;
    } else if (created) {
        *created = false;
    }
    if (val_slot)
        *val_slot = &m->slots[i].val;
    if (key_out)
        *key_out = m->slots[i].key;
    return 0;
}

/* strmap_put - insert or replace */
int
strmap_put(struct strmap *m, const char *key, void *val, void **old_out)
{
    void **slot;
    bool created;
    int rc;

    rc = strmap_intern(m, key, &slot, NULL, &created);
    if (rc < 0)
        return rc;
    if (old_out)
        *old_out = created ? NULL : *slot;
    *slot = val;
    return 0;
}

/* strmap_get - look up a value */
void *
strmap_get(const struct strmap *m, const char *key)
{
    size_t i;

    if (!m || !key)
        return NULL;
    i = find_slot(m, key, hash_key(m, key));
    return m->slots[i].key ? m->slots[i].val : NULL;
}

/* strmap_has - membership test */
bool
strmap_has(const struct strmap *m, const char *key)
{
    return strmap_key(m, key) != NULL;
}

/* strmap_key - the stored key copy */
const char *
strmap_key(const struct strmap *m, const char *key)
{
    if (!m || !key)
        return NULL;
    return m->slots[find_slot(m, key, hash_key(m, key))].key;
}

/* strmap_del - remove key, shifting the rest of its probe run back */
int
strmap_del(struct strmap *m, const char *key, void **old_out)
{
    size_t mask, i, j;

    if (!m || !key)
        return -FH_ENOTFOUND;
    mask = m->cap - 1;
    i = find_slot(m, key, hash_key(m, key));
    if (!m->slots[i].key)
        return -FH_ENOTFOUND;
    if (old_out)
        *old_out = m->slots[i].val;
    free(m->slots[i].key);
    m->slots[i].key = NULL;
    m->len--;
    /* Backward shift: move each later run member whose home slot is not in
     * the cyclic range (i, j] into the hole, until an empty slot. */
    j = i;
    for (;;) {
        size_t home;

        j = (j + 1) & mask;
        if (!m->slots[j].key)
            break;
        home = (size_t)m->slots[j].hash & mask;
        if (((j - home) & mask) >= ((j - i) & mask)) {
            m->slots[i] = m->slots[j];
            m->slots[j].key = NULL;
            i = j;
        }
    }
    return 0;
}

/* strmap_len - entry count */
size_t
strmap_len(const struct strmap *m)
{
    return m ? m->len : 0;
}

/* strmap_next - iteration step */
bool
strmap_next(const struct strmap *m, size_t *it, const char **key, void **val)
{
    if (!m || !it)
        return false;
    for (; *it < m->cap; (*it)++) {
        if (m->slots[*it].key) {
            if (key)
                *key = m->slots[*it].key;
            if (val)
                *val = m->slots[*it].val;
            (*it)++;
            return true;
        }
    }
    return false;
}

/* strmap_max_probe - longest displacement + 1 over present keys */
size_t
strmap_max_probe(const struct strmap *m)
{
    size_t worst = 0;

    if (!m)
        return 0;
    for (size_t i = 0; i < m->cap; i++) {
        size_t d;

        if (!m->slots[i].key)
            continue;
        d = ((i - ((size_t)m->slots[i].hash & (m->cap - 1))) & (m->cap - 1)) + 1;
        if (d > worst)
            worst = d;
    }
    return worst;
}
