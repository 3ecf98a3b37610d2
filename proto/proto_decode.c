/*
 * proto_decode.c - turns one untrusted frame back into a struct proto_msg.
 *
 * Three steps: (1) a bounds-only pre-scan (s_scan) proves the bytes hold
 * exactly one msgpack object whose containers are not nested too deep and
 * never declare more elements than bytes remain, so msgpack-c cannot be made
 * to allocate more than a small multiple of the frame; (2) msgpack_unpack_next
 * builds the object tree in a zone; (3) the field tables of proto_schema.c
 * check every key's type and range and copy strings out to the heap.
 *
 * Owns the zone only for the duration of one call. On success the message
 * owns heap copies of its strings (proto_msg_clear frees them); on failure
 * everything partially decoded is freed and the message is left zeroed.
 */
#include <stdlib.h>
#include <string.h>

#include <msgpack.h>

#include "fh_err.h"
#include "proto.h"
#include "proto_schema.h"

#define AT(base, off, T) ((T *)(void *)((char *)(base) + (off)))

#define SCAN_MAX_DEPTH 16   /* containers nested deeper than this are rejected */

/* s_be - read an n-byte big-endian length at p[*off] into *out */
static int
s_be(const uint8_t *p, size_t len, size_t *off, unsigned n, uint64_t *out)
{
    uint64_t v = 0;

    if (len - *off < n)
        return -FH_EPROTO;
    for (unsigned i = 0; i < n; i++)
        v = (v << 8) | p[*off + i];
    *off += n;
    *out = v;
    return 0;
}

/* s_scan - skip one msgpack object at p[*off], checking bounds and depth
 * without allocating; recursion is bounded by SCAN_MAX_DEPTH */
static int
s_scan(const uint8_t *p, size_t len, size_t *off, unsigned depth)
{
    uint64_t skip = 0;      /* payload bytes that follow the header */
    uint64_t items = 0;     /* nested objects that follow (maps count 2 per entry) */
    uint8_t c;
    int rc = 0;

    if (*off >= len)
        return -FH_EPROTO;
    c = p[(*off)++];
    if (c <= 0x7f || c >= 0xe0 || c == 0xc0 || c == 0xc2 || c == 0xc3)
        return 0;                               /* fixint, nil, false, true */
    if (c >= 0x80 && c <= 0x8f)
        items = 2u * (c & 0x0fu);               /* fixmap */
    else if (c >= 0x90 && c <= 0x9f)
        items = c & 0x0fu;                      /* fixarray */
    else if (c >= 0xa0 && c <= 0xbf)
        skip = c & 0x1fu;                       /* fixstr */
    else {
        switch (c) {
        case 0xc4: case 0xd9: rc = s_be(p, len, off, 1, &skip); break;   /* bin8, str8 */
        case 0xc5: case 0xda: rc = s_be(p, len, off, 2, &skip); break;   /* bin16, str16 */
        case 0xc6: case 0xdb: rc = s_be(p, len, off, 4, &skip); break;   /* bin32, str32 */
        case 0xc7: rc = s_be(p, len, off, 1, &skip); skip++; break;      /* ext8 + type */
        case 0xc8: rc = s_be(p, len, off, 2, &skip); skip++; break;      /* ext16 + type */
        case 0xc9: rc = s_be(p, len, off, 4, &skip); skip++; break;      /* ext32 + type */
        case 0xcc: case 0xd0: skip = 1; break;
        case 0xcd: case 0xd1: skip = 2; break;
        case 0xca: case 0xce: case 0xd2: skip = 4; break;
        case 0xcb: case 0xcf: case 0xd3: skip = 8; break;
        case 0xd4: skip = 2; break;                                      /* fixext1..16 */
        case 0xd5: skip = 3; break;
        case 0xd6: skip = 5; break;
        case 0xd7: skip = 9; break;
        case 0xd8: skip = 17; break;
        case 0xdc: rc = s_be(p, len, off, 2, &items); break;            /* array16 */
        case 0xdd: rc = s_be(p, len, off, 4, &items); break;            /* array32 */
        case 0xde: rc = s_be(p, len, off, 2, &items); items *= 2; break; /* map16 */
        case 0xdf: rc = s_be(p, len, off, 4, &items); items *= 2; break; /* map32 */
        default:   rc = -FH_EPROTO; break;                               /* 0xc1 */
        }
        if (rc)
            return rc;
    }
    if (skip > len - *off)
        return -FH_EPROTO;
    *off += (size_t)skip;
    if ((c >= 0x80 && c <= 0x9f) || (c >= 0xdc && c <= 0xdf)) {
        if (depth >= SCAN_MAX_DEPTH || items > len - *off)
            return -FH_EPROTO;
        for (uint64_t i = 0; rc == 0 && i < items; i++)
            rc = s_scan(p, len, off, depth + 1);
    }
    return rc;
}

/* s_copy_str - bounded, NUL-free heap copy of a str (or bin if allowed) */
static int
s_copy_str(const msgpack_object *v, const struct ps_field *f, char **out)
{
    const char *src;
    size_t n;
    char *s;

    if (v->type == MSGPACK_OBJECT_STR) {
        src = v->via.str.ptr;
        n = v->via.str.size;
    } else if (v->type == MSGPACK_OBJECT_BIN && f->kind == PS_BLOB) {
        src = v->via.bin.ptr;
        n = v->via.bin.size;
    } else {
        return -FH_EPROTO;
    }
    if (n > f->max || (n && memchr(src, '\0', n)))
        return -FH_EPROTO;
    s = malloc(n + 1);
    if (!s)
        return -FH_ENOMEM;
    if (n)
        memcpy(s, src, n);
    s[n] = '\0';
    *out = s;
    return 0;
}

/* s_uint - an unsigned integer no larger than max */
static int
s_uint(const msgpack_object *v, uint64_t max, uint64_t *out)
{
    if (v->type != MSGPACK_OBJECT_POSITIVE_INTEGER || v->via.u64 > max)
        return -FH_EPROTO;
    *out = v->via.u64;
    return 0;
}

static int s_map(const msgpack_object *map, const struct ps_body *b, void *base);

/* s_field - check one value against field f and store it in the struct at base */
static int
s_field(const msgpack_object *v, const struct ps_field *f, void *base)
{
    uint64_t u = 0;
    struct proto_obj *o;
    int rc;

    switch (f->kind) {
    case PS_STR:
    case PS_BLOB:
        return s_copy_str(v, f, AT(base, f->off, char *));
    case PS_ENUM:
        rc = s_uint(v, f->max, &u);
        if (rc == 0 && u < f->min)
            rc = -FH_EPROTO;
        if (rc == 0)
            *AT(base, f->off, uint8_t) = (uint8_t)u;
        return rc;
    case PS_U32:
        rc = s_uint(v, UINT32_MAX, &u);
        if (rc == 0)
            *AT(base, f->off, uint32_t) = (uint32_t)u;
        return rc;
    case PS_I64:
        rc = s_uint(v, INT64_MAX, &u);
        if (rc == 0)
            *AT(base, f->off, int64_t) = (int64_t)u;
        return rc;
    case PS_PID:
        rc = s_uint(v, INT32_MAX, &u);
        if (rc == 0 && u == 0)
            rc = -FH_EPROTO;
        if (rc == 0)
            *AT(base, f->off, int32_t) = (int32_t)u;
        return rc;
    case PS_BOOL:
        if (v->type != MSGPACK_OBJECT_BOOLEAN)
            return -FH_EPROTO;
        *AT(base, f->off, bool) = v->via.boolean;
        return 0;
    case PS_OBJ:
        o = AT(base, f->off, struct proto_obj);
        rc = s_map(v, ps_obj_body(), o);
        if (rc == 0 && f->obj_res && o->res != f->obj_res)
            rc = -FH_EPROTO;
        if (rc == 0 && f->has_off >= 0)
            *AT(base, (size_t)f->has_off, bool) = true;
        return rc;
    default:
        return -FH_EPROTO;
    }
}

/* s_lookup - index of the field named by key in b, or -1 (unknown key) */
static int
s_lookup(const struct ps_body *b, const msgpack_object_str *key)
{
    for (size_t i = 0; i < b->n; i++) {
        const char *k = b->fields[i].key;

        if (strlen(k) == key->size && memcmp(k, key->ptr, key->size) == 0)
            return (int)i;
    }
    return -1;
}

/* s_map - decode a map into the struct at base following table b: string
 * keys only, no duplicates, unknown keys skipped, required keys present */
static int
s_map(const msgpack_object *map, const struct ps_body *b, void *base)
{
    uint32_t seen = 0;
    int rc = 0;

    if (map->type != MSGPACK_OBJECT_MAP)
        return -FH_EPROTO;
    for (uint32_t i = 0; rc == 0 && i < map->via.map.size; i++) {
        const msgpack_object_kv *kv = &map->via.map.ptr[i];
        int idx;

        if (kv->key.type != MSGPACK_OBJECT_STR)
            return -FH_EPROTO;
        idx = s_lookup(b, &kv->key.via.str);
        if (idx < 0)
            continue;                           /* forward compatible */
        if (seen & (1u << idx))
            return -FH_EPROTO;                  /* duplicate key */
        seen |= 1u << idx;
        rc = s_field(&kv->val, &b->fields[idx], base);
    }
    for (size_t i = 0; rc == 0 && i < b->n; i++)
        if (b->fields[i].required && !(seen & (1u << i)))
            rc = -FH_EPROTO;
    return rc;
}

/* s_envelope - check [version, type, gen, body] and decode the body into m */
static int
s_envelope(const msgpack_object *top, struct proto_msg *m)
{
    const msgpack_object *a;
    const struct ps_body *b;
    uint64_t v;

    if (top->type != MSGPACK_OBJECT_ARRAY || top->via.array.size != 4)
        return -FH_EPROTO;
    a = top->via.array.ptr;
    if (s_uint(&a[0], UINT64_MAX, &v) || v != PROTO_VERSION)
        return -FH_EPROTO;
    if (s_uint(&a[1], UINT8_MAX, &v))
        return -FH_EPROTO;
    b = ps_msg_body((int)v);
    if (!b)
        return -FH_EPROTO;
    m->type = (uint8_t)v;   /* set before the body so proto_msg_clear can undo it */
    if (s_uint(&a[2], UINT32_MAX, &v))
        return -FH_EPROTO;
    m->gen = (uint32_t)v;
    return s_map(&a[3], b, &m->u);
}

/* proto_decode - decode one frame into m */
int
proto_decode(const void *buf, size_t len, struct proto_msg *m)
{
    msgpack_unpacked u;
    msgpack_unpack_return ur;
    size_t off = 0;
    int rc;

    if (!m)
        return -FH_EINVAL;
    memset(m, 0, sizeof(*m));
    if (len > PROTO_MAX_FRAME)
        return -FH_ETOOBIG;
    if (!buf || len == 0)
        return -FH_EPROTO;
    rc = s_scan(buf, len, &off, 0);
    if (rc == 0 && off != len)
        rc = -FH_EPROTO;                        /* trailing bytes */
    if (rc)
        return rc;

    msgpack_unpacked_init(&u);
    off = 0;
    ur = msgpack_unpack_next(&u, buf, len, &off);
    if (ur == MSGPACK_UNPACK_NOMEM_ERROR)
        rc = -FH_ENOMEM;
    else if (ur != MSGPACK_UNPACK_SUCCESS || off != len)
        rc = -FH_EPROTO;
    else
        rc = s_envelope(&u.data, m);
    msgpack_unpacked_destroy(&u);
    if (rc)
        proto_msg_clear(m);
    return rc;
}
