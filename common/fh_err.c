/*
 * fh_err.c - human-readable text for FH_E* codes and -errno values.
 * Owns nothing; all strings are static.
 */
#include <string.h>

#include "fh_err.h"

/* fh_strerror - map an error code to a static string */
const char *
fh_strerror(int err)
{
    if (err < 0)
        err = -err;
    switch (err) {
    case FH_OK:            return "ok";
    case FH_ENOMEM:        return "out of memory";
    case FH_EINVAL:        return "invalid argument";
    case FH_EPROTO:        return "malformed message";
    case FH_EIO:           return "transport error";
    case FH_ETIMEDOUT:     return "timed out";
    case FH_ENOTFOUND:     return "not found";
    case FH_ECONFLICT:     return "conflict";
    case FH_EEXIST:        return "already exists";
    case FH_EUNAUTHORIZED: return "unauthorized";
    case FH_EFORBIDDEN:    return "forbidden";
    case FH_EGONE:         return "resource version expired";
    case FH_EINVALIDOBJ:   return "invalid object";
    case FH_ETHROTTLED:    return "throttled";
    case FH_ESERVER:       return "server error";
    case FH_EHTTP:         return "unexpected HTTP status";
    case FH_ECONFIG:       return "bad configuration";
    case FH_EBADREPLY:     return "unparsable reply";
    case FH_EAGAIN:        return "try again";
    case FH_ECLOSED:       return "closed";
    case FH_ETOOBIG:       return "too big";
    default:               return err < FH_ENOMEM ? strerror(err) : "unknown error";
    }
}
