/*
 * fh_err.h - error codes shared by every fleet-handshake module.
 *
 * Functions return 0 on success or a negative FH_E* code (or -errno for
 * plain system-call failures, which never collide: FH_E* start at 1000).
 */
#ifndef FH_ERR_H
#define FH_ERR_H

enum fh_err {
    FH_OK = 0,
    FH_ENOMEM = 1000,   /* allocation failed */
    FH_EINVAL,          /* bad argument or bad local input */
    FH_EPROTO,          /* malformed IPC message */
    FH_EIO,             /* transport failure (connect, TLS, reset) */
    FH_ETIMEDOUT,       /* request or operation timed out */
    FH_ENOTFOUND,       /* 404 */
    FH_ECONFLICT,       /* 409 Conflict (stale resourceVersion) */
    FH_EEXIST,          /* 409 AlreadyExists */
    FH_EUNAUTHORIZED,   /* 401 */
    FH_EFORBIDDEN,      /* 403 */
    FH_EGONE,           /* 410 Expired: resourceVersion too old */
    FH_EINVALIDOBJ,     /* 422 Invalid, or 400 BadRequest */
    FH_ETHROTTLED,      /* 429 */
    FH_ESERVER,         /* 5xx */
    FH_EHTTP,           /* any other unexpected HTTP status */
    FH_ECONFIG,         /* unusable kubeconfig / in-cluster config */
    FH_EBADREPLY,       /* apiserver reply we cannot parse */
    FH_EAGAIN,          /* try again later (queue full, would block) */
    FH_ECLOSED,         /* peer or stream closed */
    FH_ETOOBIG,         /* input exceeds a documented bound */
    FH_ELAST
};

/* fh_strerror - text for an error code (positive or negative). Borrowed, static. */
const char *fh_strerror(int err);

#endif
