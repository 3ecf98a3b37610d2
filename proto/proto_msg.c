/*
 * proto_msg.c - lifetime helpers for decoded messages: clear (free every
 * owned string), deep copy of a proto_obj, and type names for logs.
 *
 * Walks the same field tables as the codec (proto_schema.c), so a field added
 * there is freed and copied here without further edits. Owns nothing itself.
 */
#include <stdlib.h>
#include <string.h>

#include "fh_err.h"
#include "proto.h"
#include "proto_schema.h"

#define AT(base, off, T) ((T *)(void *)((char *)(base) + (off)))

/* s_free_strings - free every string (and nested object) of the struct at base */
static void
s_free_strings(const struct ps_body *b, void *base)
{
    for (size_t i = 0; i < b->n; i++) {
        const struct ps_field *f = &b->fields[i];

        if (f->kind == PS_STR || f->kind == PS_BLOB) {
            char **s = AT(base, f->off, char *);

            free(*s);
            *s = NULL;
        } else if (f->kind == PS_OBJ) {
            proto_obj_clear(AT(base, f->off, struct proto_obj));
        }
    }
}

/* proto_obj_clear - free the strings of one proto_obj and zero it */
void
proto_obj_clear(struct proto_obj *o)
{
    if (!o)
        return;
    s_free_strings(ps_obj_body(), o);
    memset(o, 0, sizeof(*o));
}

/* proto_msg_clear - free every string m owns and zero it */
void
proto_msg_clear(struct proto_msg *m)
{
    const struct ps_body *b;

    if (!m)
        return;
    b = ps_msg_body(m->type);
    if (b)
        s_free_strings(b, &m->u);
    memset(m, 0, sizeof(*m));
}

/* proto_obj_copy - deep copy src into dst; on failure dst is left zeroed */
int
proto_obj_copy(struct proto_obj *dst, const struct proto_obj *src)
{
    const struct ps_body *b = ps_obj_body();
    int rc = 0;

    if (!dst || !src || dst == src)
        return -FH_EINVAL;
    *dst = *src;
    for (size_t i = 0; i < b->n; i++)
        if (b->fields[i].kind == PS_STR || b->fields[i].kind == PS_BLOB)
            *AT(dst, b->fields[i].off, char *) = NULL;
    for (size_t i = 0; rc == 0 && i < b->n; i++) {
        const struct ps_field *f = &b->fields[i];
        const char *s;

        if (f->kind != PS_STR && f->kind != PS_BLOB)
            continue;
        s = *AT(src, f->off, char *const);
        if (!s)
            continue;
        *AT(dst, f->off, char *) = strdup(s);
        if (!*AT(dst, f->off, char *))
            rc = -FH_ENOMEM;
    }
    if (rc)
        proto_obj_clear(dst);
    return rc;
}

/* proto_type_name - upper-case name of a message type, "UNKNOWN" otherwise */
const char *
proto_type_name(int type)
{
    switch (type) {
    case PROTO_HELLO:     return "HELLO";
    case PROTO_HEARTBEAT: return "HEARTBEAT";
    case PROTO_QUIT:      return "QUIT";
    case PROTO_EVENT:     return "EVENT";
    case PROTO_SYNCED:    return "SYNCED";
    case PROTO_TASK:      return "TASK";
    case PROTO_RESULT:    return "RESULT";
    case PROTO_LEADER:    return "LEADER";
    default:              return "UNKNOWN";
    }
}
