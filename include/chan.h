/*
 * chan.h - the ZeroMQ channel between the supervisor and its children.
 *
 * Topology (fixed): the supervisor binds one ROUTER on an ipc:// endpoint
 * inside a private 0700 directory; every child (watcher, workers, elector)
 * connects one DEALER whose routing id is "<role>.<slot>.<gen>", e.g.
 * "worker.3.7", "watcher.0.2" or "elector.0.9". Each proto message travels
 * as one frame (proto_encode); on the ROUTER it is preceded by the peer's
 * routing id frame:
 *
 *     DEALER -> ROUTER   arrives as [routing id][payload]
 *     ROUTER -> DEALER   sent as    [routing id][payload], arrives as [payload]
 *
 * There is no empty delimiter frame. Anything else (more or fewer frames, an
 * id that is not text, a payload proto_decode rejects) is consumed whole and
 * reported as -FH_EPROTO so the caller can count and drop it.
 *
 * Socket options set here: ZMQ_LINGER 0 (closing never blocks), SNDHWM and
 * RCVHWM CHAN_HWM messages per peer, ZMQ_MAXMSGSIZE PROTO_MAX_FRAME (a peer
 * sending a bigger frame is disconnected by libzmq), and on the ROUTER
 * ZMQ_ROUTER_MANDATORY 1: sending to a peer that is not (or no longer)
 * connected fails with -FH_ECLOSED instead of being dropped silently, and a
 * full peer queue fails with -FH_EAGAIN under ZMQ_DONTWAIT.
 *
 * Error mapping used by every function: EAGAIN -> -FH_EAGAIN; EHOSTUNREACH
 * and ETERM (context shut down) -> -FH_ECLOSED; ENOMEM -> -FH_ENOMEM; any
 * other errno e -> -e.
 *
 * Ownership: sockets returned here belong to the caller, who closes them with
 * chan_close() before terminating the context. Messages passed to chan_send
 * are borrowed; chan_recv fills a struct proto_msg the caller owns and must
 * release with proto_msg_clear(). Sockets are not thread-safe: use each one
 * from a single thread. The module keeps no state of its own.
 */
#ifndef CHAN_H
#define CHAN_H

#include <stddef.h>
#include <stdint.h>

#include "proto.h"

#define CHAN_ID_MAX     32          /* routing id buffer incl. NUL: "watcher.4294967295.4294967295" is 29 */
#define CHAN_HWM        1000        /* messages queued per peer and direction */
#define CHAN_SOCK_NAME  "fh.sock"   /* socket file name inside the ipc directory */
#define CHAN_DIR_MAX    96          /* ipc directory path bound (sun_path is 108 incl. NUL) */
#define CHAN_ENDPOINT_MAX (6 + CHAN_DIR_MAX + 1 + sizeof(CHAN_SOCK_NAME))   /* "ipc://" dir "/" name NUL */

/* chan_router_bind - create the supervisor's ROUTER on zctx and bind it to
 * endpoint. Returns the socket, or NULL with *err (if err is non-NULL) set to
 * a negative code; *err is 0 on success. */
void *chan_router_bind(void *zctx, const char *endpoint, int *err);

/* chan_dealer_connect - create a child's DEALER with the given routing id
 * (must parse with chan_routing_id_parse, else -FH_EINVAL) and connect it to
 * endpoint. The connection is made in the background; messages sent before it
 * is up are queued (up to CHAN_HWM). Returns the socket or NULL, as above. */
void *chan_dealer_connect(void *zctx, const char *endpoint, const char *routing_id, int *err);

/* chan_close - close *sock (linger 0, so it never blocks) and set it to NULL;
 * no-op when sock or *sock is NULL */
void chan_close(void **sock);

/* chan_send - encode m and send it. On a ROUTER, peer_id names the
 * destination and must be non-NULL; on a DEALER it must be NULL. flags is 0
 * (block while the peer's queue is full) or ZMQ_DONTWAIT. Returns 0,
 * -FH_EAGAIN (queue full, nothing sent), -FH_ECLOSED (no such peer, or the
 * context is shutting down), -FH_EINVAL/-FH_ETOOBIG (m rejected by
 * proto_encode, nothing sent), or another negative code. */
int chan_send(void *sock, const char *peer_id, const struct proto_msg *m, int flags);

/* chan_recv - receive one message into m (zeroed first; on success the caller
 * owns it and calls proto_msg_clear). On a ROUTER the sender's routing id is
 * copied into peer_id (peer_id_cap bytes, at least 2; CHAN_ID_MAX fits every
 * valid id) - also on -FH_EPROTO when the id frame itself was readable, else
 * peer_id is "". On a DEALER peer_id may be NULL and is ignored. flags is 0
 * (block) or ZMQ_DONTWAIT. Returns 0; -FH_EAGAIN (nothing waiting);
 * -FH_EPROTO (a malformed message was consumed and dropped: wrong frame
 * count, id not NUL-free text or longer than peer_id_cap-1, or payload
 * rejected by proto_decode); -FH_ECLOSED (context shutting down); or another
 * negative code. */
int chan_recv(void *sock, char *peer_id, size_t peer_id_cap, struct proto_msg *m, int flags);

/* chan_routing_id_format - write "<role>.<slot>.<gen>" into out (cap bytes;
 * CHAN_ID_MAX always suffices). role is enum proto_role. Returns 0,
 * -FH_EINVAL (unknown role) or -FH_ETOOBIG (cap too small). */
int chan_routing_id_format(char *out, size_t cap, int role, uint32_t slot, uint32_t gen);

/* chan_routing_id_parse - parse "<role>.<slot>.<gen>" as written by
 * chan_routing_id_format: role "watcher", "worker" or "elector", slot and
 * gen canonical decimal uint32 (no sign, no leading zeros, no spaces). Any output pointer
 * may be NULL. Returns 0, -FH_EPROTO if id is not of that form (outputs
 * untouched), or -FH_EINVAL if id is NULL. */
int chan_routing_id_parse(const char *id, int *role, uint32_t *slot, uint32_t *gen);

/* chan_make_ipc_dir - create a fresh private directory (mode 0700)
 * "$TMPDIR/fh-XXXXXX" (or /tmp when TMPDIR is unset or empty) and write its
 * path into path_out (cap bytes). Fails with -FH_ETOOBIG, creating nothing,
 * if the path would not fit cap or CHAN_DIR_MAX (so chan_ipc_endpoint on it
 * always fits a unix socket path); other failures are -errno. */
int chan_make_ipc_dir(char *path_out, size_t cap);

/* chan_ipc_endpoint - write "ipc://<dir>/fh.sock" into out (cap bytes;
 * CHAN_ENDPOINT_MAX suffices for any dir from chan_make_ipc_dir). Returns 0,
 * -FH_EINVAL, or -FH_ETOOBIG if it does not fit cap or a unix socket path. */
int chan_ipc_endpoint(char *out, size_t cap, const char *dir);

/* chan_remove_ipc_dir - remove dir's socket file (if still there) and the
 * directory itself; call after closing the ROUTER. Returns 0 or -errno. */
int chan_remove_ipc_dir(const char *dir);

#endif
