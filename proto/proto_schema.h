/*
 * proto_schema.h - private to proto/: the field tables that drive both the
 * encoder and the decoder, so that key names, key order, msgpack types and
 * bounds are written down exactly once (proto_schema.c; PROTOCOL.md mirrors
 * them for humans).
 *
 * Every message body and every proto_obj is a msgpack map described by an
 * array of struct ps_field. A field names a key, the C member it maps to (an
 * offset inside the body struct), its kind and bounds. The tables are
 * immutable and own nothing.
 */
#ifndef PROTO_SCHEMA_H
#define PROTO_SCHEMA_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "proto.h"

enum ps_kind {
    PS_STR = 1,     /* char *: msgpack str, length <= max, no NUL bytes */
    PS_BLOB,        /* char *: like PS_STR but msgpack bin is accepted too */
    PS_ENUM,        /* uint8_t: unsigned integer in [min, max] */
    PS_U32,         /* uint32_t: unsigned integer <= UINT32_MAX */
    PS_I64,         /* int64_t: integer in [0, INT64_MAX] */
    PS_PID,         /* int32_t: integer in [1, INT32_MAX] */
    PS_BOOL,        /* bool: msgpack true/false */
    PS_OBJ,         /* struct proto_obj: nested map (obj_fields) */
};

/*
 * Encoding rule: required fields and all integer fields are always written;
 * an optional string is written only when non-NULL, an optional bool only
 * when true, an optional PS_OBJ only when its has_* flag is true. Fields are
 * written in table order. Decoding rule: an absent optional field reads as
 * NULL / 0 / false.
 */
struct ps_field {
    const char *key;        /* map key (short ASCII) */
    uint8_t kind;           /* enum ps_kind */
    bool required;          /* decode fails with -FH_EPROTO when missing */
    uint32_t min;           /* PS_ENUM: lowest valid value */
    uint32_t max;           /* PS_STR/PS_BLOB: max length in bytes; PS_ENUM: highest value */
    size_t off;             /* offset of the member inside the body struct */
    ptrdiff_t has_off;      /* PS_OBJ only: offset of its bool has_* flag, or -1 */
    uint8_t obj_res;        /* PS_OBJ only: the res the nested object must have, 0 = any */
};

struct ps_body {
    const struct ps_field *fields;  /* in encoding order */
    size_t n;                       /* number of fields (<= PS_MAX_FIELDS) */
};

#define PS_MAX_FIELDS 16    /* bound used for the decoder's "seen" bitmap */

/* ps_obj_body - the table describing struct proto_obj */
const struct ps_body *ps_obj_body(void);

/* ps_msg_body - the table for message type t (enum proto_type), NULL if t is
 * not a known type. The body struct is the matching member of proto_msg.u
 * (heartbeat and quit have an empty table). */
const struct ps_body *ps_msg_body(int t);

#endif
