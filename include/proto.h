/*
 * proto.h - the IPC message catalogue between the supervisor and its children
 * (watcher, workers and, with --leader-elect, the elector).
 *
 * Every message travels as one ZeroMQ frame holding a msgpack array
 *     [ PROTO_VERSION, type, sender_generation, body ]
 * where body is a msgpack map with short string keys (see proto/PROTOCOL.md).
 * Unknown map keys are ignored (forward compatible); a missing required key,
 * a wrong msgpack type, an out-of-range value or a string over its bound makes
 * proto_decode() fail with -FH_EPROTO. Nothing in this catalogue ever carries
 * Secret data: Secrets travel as metadata only.
 *
 * Ownership: a decoded struct proto_msg owns heap copies of all its strings;
 * release them with proto_msg_clear(). Encoders borrow their input.
 */
#ifndef PROTO_H
#define PROTO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define PROTO_VERSION 1

#define PROTO_MAX_FRAME     (4u * 1024u * 1024u)  /* whole encoded message */
#define PROTO_MAX_NAME      253u                  /* names, namespaces */
#define PROTO_MAX_SHORT     128u                  /* uids, resourceVersions */
#define PROTO_MAX_JSON      (3u * 1024u * 1024u)  /* an object's JSON text */
#define PROTO_MAX_MESSAGE   1024u                 /* human-readable messages */

enum proto_type {
    PROTO_HELLO = 1,        /* child -> supervisor: started (role, slot, pid) */
    PROTO_HEARTBEAT = 2,    /* both ways, once a second while idle */
    PROTO_QUIT = 3,         /* supervisor -> child: finish current work, exit 0 */
    PROTO_EVENT = 4,        /* watcher -> supervisor: one object added/changed/gone */
    PROTO_SYNCED = 5,       /* watcher -> supervisor: a (re)list of one resource is complete */
    PROTO_TASK = 6,         /* supervisor -> worker: reconcile one FleetHandshake key */
    PROTO_RESULT = 7,       /* worker -> supervisor: outcome of the task */
    PROTO_LEADER = 8,       /* elector -> supervisor: leadership changed (lead, holder) */
    PROTO_TYPE_MAX
};

enum proto_role {
    PROTO_ROLE_WATCHER = 1,
    PROTO_ROLE_WORKER = 2,
    PROTO_ROLE_ELECTOR = 3, /* fh-elector, only with --leader-elect */
};

enum proto_res {
    PROTO_RES_FH = 1,       /* riverpointtechnology.com/v1alpha1 FleetHandshake (full object) */
    PROTO_RES_SECRET = 2,   /* v1 Secret, metadata only */
    PROTO_RES_BUNDLE = 3,   /* fleet.cattle.io/v1alpha1 Bundle, metadata only */
};

enum proto_event_type {
    PROTO_EV_ADDED = 1,
    PROTO_EV_MODIFIED = 2,
    PROTO_EV_DELETED = 3,
};

enum proto_outcome {
    PROTO_OUT_DONE = 1,     /* converged; nothing left to do */
    PROTO_OUT_RETRY = 2,    /* transient failure; retry with backoff (or retry_after_ms) */
    PROTO_OUT_FAILED = 3,   /* permanent until the inputs change; status says why */
};

enum proto_errclass {
    PROTO_ERR_NONE = 0,
    PROTO_ERR_TRANSIENT = 1,    /* network, 5xx, timeouts */
    PROTO_ERR_THROTTLED = 2,    /* 429 */
    PROTO_ERR_CONFLICT = 3,     /* 409 after bounded retries */
    PROTO_ERR_FORBIDDEN = 4,    /* 401/403: RBAC */
    PROTO_ERR_INVALID = 5,      /* 400/422, malformed FleetHandshake */
    PROTO_ERR_OWNERSHIP = 6,    /* Bundle owned by someone else */
    PROTO_ERR_INTERNAL = 7,
};

/*
 * proto_obj - what the watcher tells the supervisor about one object, and
 * what the supervisor hands a worker. Optional strings are NULL when absent.
 */
struct proto_obj {
    uint8_t res;            /* enum proto_res */
    char *ns;               /* metadata.namespace ("" for cluster-scoped) */
    char *name;             /* metadata.name */
    char *uid;              /* metadata.uid */
    char *rv;               /* metadata.resourceVersion */
    int64_t generation;     /* metadata.generation (0 if absent) */
    bool deleting;          /* metadata.deletionTimestamp is set */
    /* PROTO_RES_FH only */
    char *secret_ns;        /* spec.secretNamespace, NULL if missing/not a string */
    char *secret_name;      /* spec.secretName, NULL if missing/not a string */
    char *json;             /* the whole FleetHandshake as compact JSON */
    /* PROTO_RES_BUNDLE only */
    char *owner_uid;        /* uid of the controller ownerReference of kind FleetHandshake */
    char *owner_name;       /* its name */
    char *built_from;       /* annotation fleethandshake.riverpointtechnology.com/built-from */
};

struct proto_hello {
    uint8_t role;           /* enum proto_role */
    uint32_t slot;          /* worker slot index; 0 for the watcher and the elector */
    int32_t pid;
};

struct proto_event {
    uint8_t type;           /* enum proto_event_type */
    struct proto_obj obj;
};

struct proto_synced {
    uint8_t res;            /* enum proto_res whose list completed */
};

struct proto_task {
    char *ns;               /* FleetHandshake namespace (the key) */
    char *name;             /* FleetHandshake name (the key) */
    uint32_t attempt;       /* 0 on the first try, counts retries */
    bool verify_bundle;     /* re-read the live Bundle and compare owned fields */
    bool has_fh, has_secret, has_bundle;   /* which of the three below are present */
    struct proto_obj fh;    /* cached FleetHandshake (res FH) */
    struct proto_obj secret;/* cached Secret metadata (res SECRET) */
    struct proto_obj bundle;/* cached Bundle metadata (res BUNDLE) */
};

struct proto_result {
    char *ns;
    char *name;
    uint8_t outcome;        /* enum proto_outcome */
    uint8_t errclass;       /* enum proto_errclass */
    uint32_t retry_after_ms;/* 0 = use the supervisor's backoff */
    char *fh_rv;            /* resourceVersion our status write produced, or NULL */
    char *bundle_rv;        /* resourceVersion our Bundle write produced, or NULL */
    char *message;          /* short human text, never secret data, or NULL */
    uint32_t api_reads;     /* apiserver GETs this task made */
    uint32_t api_writes;    /* apiserver writes this task made */
};

struct proto_leader {
    bool lead;              /* this supervisor holds the Lease and may dispatch */
    char *holder;           /* current holder identity as last observed, NULL if unknown
                               ("" = released); for logs only */
};

struct proto_msg {
    uint8_t type;           /* enum proto_type */
    uint32_t gen;           /* sender's generation (children); supervisor sends 0 */
    union {
        struct proto_hello hello;
        struct proto_event event;
        struct proto_synced synced;
        struct proto_task task;
        struct proto_result result;
        struct proto_leader leader;
    } u;
};

/* proto_encode - encode m; on success *buf (caller frees with free()) and *len are set */
int proto_encode(const struct proto_msg *m, char **buf, size_t *len);

/* proto_decode - decode one frame into m (zeroed first); -FH_EPROTO on any
 * malformed input, in which case m holds nothing that needs clearing */
int proto_decode(const void *buf, size_t len, struct proto_msg *m);
/* Other proto_decode results: -FH_ETOOBIG when len > PROTO_MAX_FRAME (the
 * bytes are not looked at), -FH_ENOMEM when copying strings out fails,
 * -FH_EINVAL when m is NULL. m is left zeroed after every failure. */

/* proto_msg_clear - free every string m owns and zero it; idempotent */
void proto_msg_clear(struct proto_msg *m);

/* proto_obj_clear - free the strings of one proto_obj and zero it */
void proto_obj_clear(struct proto_obj *o);

/* proto_obj_copy - deep copy src into dst (dst is overwritten, not freed first) */
int proto_obj_copy(struct proto_obj *dst, const struct proto_obj *src);

/* proto_type_name - "EVENT", "TASK", ... for logs; borrowed static string */
const char *proto_type_name(int type);

#endif
