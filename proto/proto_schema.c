/*
 * proto_schema.c - the IPC message schema: for every message body (and for
 * the proto_obj map nested in EVENT and TASK) the list of keys, in the order
 * the encoder writes them, with their msgpack type and bounds.
 *
 * This file is the single source of truth for key names; proto/PROTOCOL.md
 * documents the same tables. Changing a key or its order changes the golden
 * vectors in tests/unit/data/proto/. Owns only immutable tables.
 */
#include <stddef.h>

#include "proto.h"
#include "proto_schema.h"

#define NOHAS ((ptrdiff_t)-1)

#define F_STR(k, req, bound, type, member) \
    { k, PS_STR, req, 0, bound, offsetof(type, member), NOHAS, 0 }
#define F_BLOB(k, req, bound, type, member) \
    { k, PS_BLOB, req, 0, bound, offsetof(type, member), NOHAS, 0 }
#define F_ENUM(k, req, lo, hi, type, member) \
    { k, PS_ENUM, req, lo, hi, offsetof(type, member), NOHAS, 0 }
#define F_NUM(k, kind, req, type, member) \
    { k, kind, req, 0, 0, offsetof(type, member), NOHAS, 0 }
#define F_OBJ(k, req, has, res, type, member) \
    { k, PS_OBJ, req, 0, 0, offsetof(type, member), has, res }

static const struct ps_field obj_fields[] = {
    F_ENUM("res",   true,  PROTO_RES_FH, PROTO_RES_BUNDLE, struct proto_obj, res),
    F_STR("ns",     true,  PROTO_MAX_NAME,    struct proto_obj, ns),
    F_STR("name",   true,  PROTO_MAX_NAME,    struct proto_obj, name),
    F_STR("uid",    false, PROTO_MAX_SHORT,   struct proto_obj, uid),
    F_STR("rv",     false, PROTO_MAX_SHORT,   struct proto_obj, rv),
    F_NUM("gen",    PS_I64, false,            struct proto_obj, generation),
    F_NUM("del",    PS_BOOL, false,           struct proto_obj, deleting),
    F_STR("sns",    false, PROTO_MAX_NAME,    struct proto_obj, secret_ns),
    F_STR("sname",  false, PROTO_MAX_NAME,    struct proto_obj, secret_name),
    F_BLOB("json",  false, PROTO_MAX_JSON,    struct proto_obj, json),
    F_STR("ouid",   false, PROTO_MAX_SHORT,   struct proto_obj, owner_uid),
    F_STR("oname",  false, PROTO_MAX_NAME,    struct proto_obj, owner_name),
    F_STR("bfrom",  false, PROTO_MAX_MESSAGE, struct proto_obj, built_from),
};

static const struct ps_field hello_fields[] = {
    F_ENUM("role",  true, PROTO_ROLE_WATCHER, PROTO_ROLE_ELECTOR, struct proto_hello, role),
    F_NUM("slot",   PS_U32, true,             struct proto_hello, slot),
    F_NUM("pid",    PS_PID, true,             struct proto_hello, pid),
};

static const struct ps_field event_fields[] = {
    F_ENUM("type",  true, PROTO_EV_ADDED, PROTO_EV_DELETED, struct proto_event, type),
    F_OBJ("obj",    true, NOHAS, 0,           struct proto_event, obj),
};

static const struct ps_field synced_fields[] = {
    F_ENUM("res",   true, PROTO_RES_FH, PROTO_RES_BUNDLE, struct proto_synced, res),
};

static const struct ps_field task_fields[] = {
    F_STR("ns",     true,  PROTO_MAX_NAME,    struct proto_task, ns),
    F_STR("name",   true,  PROTO_MAX_NAME,    struct proto_task, name),
    F_NUM("att",    PS_U32, false,            struct proto_task, attempt),
    F_NUM("verify", PS_BOOL, false,           struct proto_task, verify_bundle),
    F_OBJ("fh",     false, offsetof(struct proto_task, has_fh), PROTO_RES_FH,
          struct proto_task, fh),
    F_OBJ("secret", false, offsetof(struct proto_task, has_secret), PROTO_RES_SECRET,
          struct proto_task, secret),
    F_OBJ("bundle", false, offsetof(struct proto_task, has_bundle), PROTO_RES_BUNDLE,
          struct proto_task, bundle),
};

static const struct ps_field result_fields[] = {
    F_STR("ns",     true,  PROTO_MAX_NAME,    struct proto_result, ns),
    F_STR("name",   true,  PROTO_MAX_NAME,    struct proto_result, name),
    F_ENUM("out",   true,  PROTO_OUT_DONE, PROTO_OUT_FAILED, struct proto_result, outcome),
    F_ENUM("err",   false, PROTO_ERR_NONE, PROTO_ERR_INTERNAL, struct proto_result, errclass),
    F_NUM("ra",     PS_U32, false,            struct proto_result, retry_after_ms),
    F_STR("fhrv",   false, PROTO_MAX_SHORT,   struct proto_result, fh_rv),
    F_STR("brv",    false, PROTO_MAX_SHORT,   struct proto_result, bundle_rv),
    F_STR("msg",    false, PROTO_MAX_MESSAGE, struct proto_result, message),
    F_NUM("reads",  PS_U32, false,            struct proto_result, api_reads),
    F_NUM("writes", PS_U32, false,            struct proto_result, api_writes),
};

static const struct ps_field leader_fields[] = {
    F_NUM("lead",   PS_BOOL, true,            struct proto_leader, lead),
    F_STR("holder", false, PROTO_MAX_NAME,    struct proto_leader, holder),
};

#define BODY(arr) { arr, sizeof(arr) / sizeof(arr[0]) }

static const struct ps_body obj_body = BODY(obj_fields);
static const struct ps_body empty_body = { NULL, 0 };
static const struct ps_body hello_body = BODY(hello_fields);
static const struct ps_body event_body = BODY(event_fields);
static const struct ps_body synced_body = BODY(synced_fields);
static const struct ps_body task_body = BODY(task_fields);
static const struct ps_body result_body = BODY(result_fields);
static const struct ps_body leader_body = BODY(leader_fields);

_Static_assert(sizeof(obj_fields) / sizeof(obj_fields[0]) <= PS_MAX_FIELDS, "obj table");
_Static_assert(sizeof(result_fields) / sizeof(result_fields[0]) <= PS_MAX_FIELDS, "result table");

/* ps_obj_body - the proto_obj table */
const struct ps_body *
ps_obj_body(void)
{
    return &obj_body;
}

/* ps_msg_body - the body table of one message type, NULL if unknown */
const struct ps_body *
ps_msg_body(int t)
{
    switch (t) {
    case PROTO_HELLO:     return &hello_body;
    case PROTO_HEARTBEAT: return &empty_body;
    case PROTO_QUIT:      return &empty_body;
    case PROTO_EVENT:     return &event_body;
    case PROTO_SYNCED:    return &synced_body;
    case PROTO_TASK:      return &task_body;
    case PROTO_RESULT:    return &result_body;
    case PROTO_LEADER:    return &leader_body;
    default:              return NULL;
    }
}
