/*
 * proto_encode.c - turns a struct proto_msg into one msgpack frame
 *     [PROTO_VERSION, type, gen, {body}]
 * following the field tables of proto_schema.c, so the output is
 * deterministic (fixed key order, smallest integer encodings).
 *
 * The encoder validates its input against the same bounds the decoder
 * enforces: a message it accepts always decodes. It borrows the message and
 * returns a malloc'ed buffer the caller frees.
 */
#include <stdlib.h>
#include <string.h>

#include <msgpack.h>

#include "fh_err.h"
#include "proto.h"
#include "proto_schema.h"

#define AT(base, off, T) ((T *)(void *)((char *)(base) + (off)))

static int s_pack_map(msgpack_packer *pk, const struct ps_body *b, const void *base);

/* s_ok - map a msgpack_pack_* return value (0 or -1 on buffer failure) */
static int
s_ok(int r)
{
    return r == 0 ? 0 : -FH_ENOMEM;
}

/* s_pack_text - write a str (key or value) of known length */
static int
s_pack_text(msgpack_packer *pk, const char *s, size_t n)
{
    int rc;

    rc = s_ok(msgpack_pack_str(pk, n));
    if (rc == 0)
        rc = s_ok(msgpack_pack_str_body(pk, s, n));
    return rc;
}

/* s_present - whether field f of the struct at base is written */
static bool
s_present(const struct ps_field *f, const void *base)
{
    if (f->required)
        return true;
    switch (f->kind) {
    case PS_STR:
    case PS_BLOB:
        return *AT(base, f->off, char *const) != NULL;
    case PS_BOOL:
        return *AT(base, f->off, const bool);
    case PS_OBJ:
        return f->has_off < 0 || *AT(base, (size_t)f->has_off, const bool);
    default:
        return true;    /* integers are always written */
    }
}

/* s_pack_value - validate and write the value of field f */
static int
s_pack_value(msgpack_packer *pk, const struct ps_field *f, const void *base)
{
    const char *s;
    size_t n;
    uint8_t e;
    int64_t g;
    int32_t pid;
    const struct proto_obj *o;

    switch (f->kind) {
    case PS_STR:
    case PS_BLOB:
        s = *AT(base, f->off, char *const);
        if (!s)
            return -FH_EINVAL;          /* a required string is missing */
        n = strlen(s);
        if (n > f->max)
            return -FH_ETOOBIG;
        return s_pack_text(pk, s, n);
    case PS_ENUM:
        e = *AT(base, f->off, const uint8_t);
        if (e < f->min || e > f->max)
            return -FH_EINVAL;
        return s_ok(msgpack_pack_uint8(pk, e));
    case PS_U32:
        return s_ok(msgpack_pack_uint32(pk, *AT(base, f->off, const uint32_t)));
    case PS_I64:
        g = *AT(base, f->off, const int64_t);
        if (g < 0)
            return -FH_EINVAL;
        return s_ok(msgpack_pack_int64(pk, g));
    case PS_PID:
        pid = *AT(base, f->off, const int32_t);
        if (pid <= 0)
            return -FH_EINVAL;
        return s_ok(msgpack_pack_int32(pk, pid));
    case PS_BOOL:
        return s_ok(*AT(base, f->off, const bool) ? msgpack_pack_true(pk)
                                                  : msgpack_pack_false(pk));
    case PS_OBJ:
        o = AT(base, f->off, const struct proto_obj);
        if (f->obj_res && o->res != f->obj_res)
            return -FH_EINVAL;
        return s_pack_map(pk, ps_obj_body(), o);
    default:
        return -FH_EINVAL;
    }
}

/* s_pack_map - write the struct at base as a map following table b */
static int
s_pack_map(msgpack_packer *pk, const struct ps_body *b, const void *base)
{
    size_t i, count = 0;
    int rc;

    for (i = 0; i < b->n; i++)
        if (s_present(&b->fields[i], base))
            count++;
    rc = s_ok(msgpack_pack_map(pk, count));
    for (i = 0; rc == 0 && i < b->n; i++) {
        const struct ps_field *f = &b->fields[i];

        if (!s_present(f, base))
            continue;
        rc = s_pack_text(pk, f->key, strlen(f->key));
        if (rc == 0)
            rc = s_pack_value(pk, f, base);
    }
    return rc;
}

/* proto_encode - encode m into a fresh malloc'ed frame */
int
proto_encode(const struct proto_msg *m, char **buf, size_t *len)
{
    msgpack_sbuffer sb;
    msgpack_packer pk;
    const struct ps_body *b;
    int rc;

    if (!m || !buf || !len)
        return -FH_EINVAL;
    *buf = NULL;
    *len = 0;
    b = ps_msg_body(m->type);
    if (!b)
        return -FH_EINVAL;

    msgpack_sbuffer_init(&sb);
    msgpack_packer_init(&pk, &sb, msgpack_sbuffer_write);
    rc = s_ok(msgpack_pack_array(&pk, 4));
    if (rc == 0)
        rc = s_ok(msgpack_pack_uint8(&pk, PROTO_VERSION));
    if (rc == 0)
        rc = s_ok(msgpack_pack_uint8(&pk, m->type));
    if (rc == 0)
        rc = s_ok(msgpack_pack_uint32(&pk, m->gen));
    if (rc == 0)
        rc = s_pack_map(&pk, b, &m->u);
    if (rc == 0 && sb.size > PROTO_MAX_FRAME)
        rc = -FH_ETOOBIG;
    if (rc != 0)
        goto out;
    *len = sb.size;
    *buf = msgpack_sbuffer_release(&sb);
out:
    msgpack_sbuffer_destroy(&sb);
    return rc;
}
