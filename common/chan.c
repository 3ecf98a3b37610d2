/*
 * chan.c - ZeroMQ plumbing shared by the supervisor (one ROUTER) and its
 * children (one DEALER each): socket creation with the agreed options,
 * framing of proto messages, errno mapping, routing ids, and the private
 * ipc directory. See include/chan.h for the contract.
 *
 * Owns nothing beyond a call: sockets go to the caller, encoded frames are
 * handed to libzmq (zero-copy, freed by its callback), received frames are
 * closed before returning.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <zmq.h>

#include "chan.h"
#include "fh_err.h"
#include "proto.h"

/* s_zerr - map a libzmq errno to our codes */
static int
s_zerr(int e)
{
    switch (e) {
    case EAGAIN:       return -FH_EAGAIN;
    case EHOSTUNREACH: return -FH_ECLOSED;
    case ETERM:        return -FH_ECLOSED;
    case ENOMEM:       return -FH_ENOMEM;
    default:           return e > 0 ? -e : -FH_EIO;
    }
}

/* s_setint - set an int socket option */
static int
s_setint(void *sock, int opt, int v)
{
    return zmq_setsockopt(sock, opt, &v, sizeof(v)) == 0 ? 0 : s_zerr(errno);
}

/* s_common_opts - the options every channel socket gets */
static int
s_common_opts(void *sock)
{
    int64_t maxmsg = PROTO_MAX_FRAME;
    int rc;

    rc = s_setint(sock, ZMQ_LINGER, 0);
    if (rc == 0)
        rc = s_setint(sock, ZMQ_SNDHWM, CHAN_HWM);
    if (rc == 0)
        rc = s_setint(sock, ZMQ_RCVHWM, CHAN_HWM);
    if (rc == 0 && zmq_setsockopt(sock, ZMQ_MAXMSGSIZE, &maxmsg, sizeof(maxmsg)) != 0)
        rc = s_zerr(errno);
    return rc;
}

/* s_socket_type - ZMQ_ROUTER, ZMQ_DEALER, or a negative code */
static int
s_socket_type(void *sock)
{
    int type = 0;
    size_t len = sizeof(type);

    if (!sock)
        return -FH_EINVAL;
    if (zmq_getsockopt(sock, ZMQ_TYPE, &type, &len) != 0)
        return s_zerr(errno);
    if (type != ZMQ_ROUTER && type != ZMQ_DEALER)
        return -FH_EINVAL;
    return type;
}

/* chan_router_bind - the supervisor's ROUTER */
void *
chan_router_bind(void *zctx, const char *endpoint, int *err)
{
    void *sock = NULL;
    int rc = 0;

    if (!zctx || !endpoint) {
        rc = -FH_EINVAL;
        goto out;
    }
    sock = zmq_socket(zctx, ZMQ_ROUTER);
    if (!sock) {
        rc = s_zerr(errno);
        goto out;
    }
    rc = s_common_opts(sock);
    if (rc == 0)
        rc = s_setint(sock, ZMQ_ROUTER_MANDATORY, 1);
    if (rc == 0 && zmq_bind(sock, endpoint) != 0)
        rc = s_zerr(errno);
out:
    if (rc != 0)
        chan_close(&sock);
    if (err)
        *err = rc;
    return sock;
}

/* chan_dealer_connect - a child's DEALER with its routing id */
void *
chan_dealer_connect(void *zctx, const char *endpoint, const char *routing_id, int *err)
{
    void *sock = NULL;
    int rc = 0;

    if (!zctx || !endpoint || !routing_id
        || chan_routing_id_parse(routing_id, NULL, NULL, NULL) != 0) {
        rc = -FH_EINVAL;
        goto out;
    }
    sock = zmq_socket(zctx, ZMQ_DEALER);
    if (!sock) {
        rc = s_zerr(errno);
        goto out;
    }
    rc = s_common_opts(sock);
    if (rc == 0 && zmq_setsockopt(sock, ZMQ_ROUTING_ID, routing_id, strlen(routing_id)) != 0)
        rc = s_zerr(errno);
    if (rc == 0 && zmq_connect(sock, endpoint) != 0)
        rc = s_zerr(errno);
out:
    if (rc != 0)
        chan_close(&sock);
    if (err)
        *err = rc;
    return sock;
}

/* chan_close - close a socket and null the caller's pointer */
void
chan_close(void **sock)
{
    if (!sock || !*sock)
        return;
    zmq_close(*sock);       /* ZMQ_LINGER is 0: pending messages are dropped */
    *sock = NULL;
}

/* s_free_frame - libzmq's release callback for a frame built by proto_encode */
static void
s_free_frame(void *data, void *hint)
{
    (void)hint;
    free(data);
}

/* chan_send - encode m and send it (with the peer's id frame on a ROUTER) */
int
chan_send(void *sock, const char *peer_id, const struct proto_msg *m, int flags)
{
    zmq_msg_t msg;
    char *buf = NULL;
    size_t len = 0;
    int type, rc;

    type = s_socket_type(sock);
    if (type < 0)
        return type;
    if (!m || (type == ZMQ_ROUTER) != (peer_id != NULL) || (peer_id && !*peer_id))
        return -FH_EINVAL;
    if (flags & ~ZMQ_DONTWAIT)
        return -FH_EINVAL;
    rc = proto_encode(m, &buf, &len);
    if (rc != 0)
        return rc;
    /* With ZMQ_ROUTER_MANDATORY the id frame is where an unknown peer
     * (EHOSTUNREACH) or a full queue (EAGAIN) is reported; once it is
     * accepted the payload frame is accepted too. */
    if (type == ZMQ_ROUTER && zmq_send(sock, peer_id, strlen(peer_id), ZMQ_SNDMORE | flags) < 0) {
        rc = s_zerr(errno);
        goto out;
    }
    if (zmq_msg_init_data(&msg, buf, len, s_free_frame, NULL) != 0) {
        rc = s_zerr(errno);
        goto out;
    }
    buf = NULL;             /* msg owns it now */
    if (zmq_msg_send(&msg, sock, flags) < 0) {
        rc = s_zerr(errno);
        zmq_msg_close(&msg);
    }
out:
    free(buf);
    return rc;
}

/* s_drain - receive and discard the remaining parts of a multipart message */
static void
s_drain(void *sock)
{
    int more = 1;
    size_t len = sizeof(more);

    while (zmq_getsockopt(sock, ZMQ_RCVMORE, &more, &len) == 0 && more) {
        zmq_msg_t part;

        zmq_msg_init(&part);
        if (zmq_msg_recv(&part, sock, 0) < 0)
            more = 0;       /* context terminating: nothing more to read */
        zmq_msg_close(&part);
        len = sizeof(more);
    }
}

/* s_copy_id - copy a routing id frame into peer_id as text */
static int
s_copy_id(zmq_msg_t *f, char *peer_id, size_t cap)
{
    size_t n = zmq_msg_size(f);

    if (n == 0 || n >= cap || memchr(zmq_msg_data(f), '\0', n))
        return -FH_EPROTO;
    memcpy(peer_id, zmq_msg_data(f), n);
    peer_id[n] = '\0';
    return 0;
}

/* chan_recv - receive one message; malformed ones are consumed whole */
int
chan_recv(void *sock, char *peer_id, size_t peer_id_cap, struct proto_msg *m, int flags)
{
    zmq_msg_t id, payload;
    int type, rc = 0;

    if (m)
        memset(m, 0, sizeof(*m));
    type = s_socket_type(sock);
    if (type < 0)
        return type;
    if (!m || (flags & ~ZMQ_DONTWAIT)
        || (type == ZMQ_ROUTER && (!peer_id || peer_id_cap < 2)))
        return -FH_EINVAL;
    if (type == ZMQ_ROUTER)
        peer_id[0] = '\0';
    zmq_msg_init(&id);
    zmq_msg_init(&payload);

    if (type == ZMQ_ROUTER) {
        if (zmq_msg_recv(&id, sock, flags) < 0) {
            rc = s_zerr(errno);
            goto out;
        }
        /* the rest of a multipart message is already here: parts arrive atomically */
        rc = s_copy_id(&id, peer_id, peer_id_cap);
        if (rc != 0 || !zmq_msg_more(&id)) {
            rc = -FH_EPROTO;
            goto out;
        }
        if (zmq_msg_recv(&payload, sock, 0) < 0) {
            rc = s_zerr(errno);
            goto out;
        }
    } else if (zmq_msg_recv(&payload, sock, flags) < 0) {
        rc = s_zerr(errno);
        goto out;
    }
    if (zmq_msg_more(&payload)) {
        rc = -FH_EPROTO;
        goto out;
    }
    rc = proto_decode(zmq_msg_data(&payload), zmq_msg_size(&payload), m);
    if (rc == -FH_ETOOBIG)
        rc = -FH_EPROTO;
out:
    if (rc == -FH_EPROTO)
        s_drain(sock);
    zmq_msg_close(&payload);
    zmq_msg_close(&id);
    return rc;
}

static const char *const role_names[] = {
    [PROTO_ROLE_WATCHER] = "watcher",
    [PROTO_ROLE_WORKER] = "worker",
    [PROTO_ROLE_ELECTOR] = "elector",
};

/* chan_routing_id_format - "<role>.<slot>.<gen>" */
int
chan_routing_id_format(char *out, size_t cap, int role, uint32_t slot, uint32_t gen)
{
    int n;

    if (!out || role < PROTO_ROLE_WATCHER || role > PROTO_ROLE_ELECTOR)
        return -FH_EINVAL;
    n = snprintf(out, cap, "%s.%u.%u", role_names[role], slot, gen);
    if (n < 0 || (size_t)n >= cap) {
        if (cap)
            out[0] = '\0';
        return -FH_ETOOBIG;
    }
    return 0;
}

/* s_parse_u32 - canonical decimal uint32 at *p, ending at stop; advances *p */
static int
s_parse_u32(const char **p, char stop, uint32_t *out)
{
    const char *s = *p;
    uint64_t v = 0;
    size_t digits = 0;

    for (; *s >= '0' && *s <= '9'; s++, digits++) {
        v = v * 10 + (uint64_t)(*s - '0');
        if (v > UINT32_MAX)
            return -FH_EPROTO;
    }
    if (digits == 0 || *s != stop || (digits > 1 && **p == '0'))
        return -FH_EPROTO;
    *out = (uint32_t)v;
    *p = s;
    return 0;
}

/* chan_routing_id_parse - strict inverse of chan_routing_id_format */
int
chan_routing_id_parse(const char *id, int *role, uint32_t *slot, uint32_t *gen)
{
    const char *p = NULL;
    uint32_t s, g;
    int r = 0;

    if (!id)
        return -FH_EINVAL;
    for (int i = PROTO_ROLE_WATCHER; i <= PROTO_ROLE_ELECTOR; i++) {
        size_t n = strlen(role_names[i]);

        if (strncmp(id, role_names[i], n) == 0 && id[n] == '.') {
            r = i;
            p = id + n + 1;
        }
    }
    if (!p || s_parse_u32(&p, '.', &s) != 0)
        return -FH_EPROTO;
    p++;
    if (s_parse_u32(&p, '\0', &g) != 0)
        return -FH_EPROTO;
    if (role)
        *role = r;
    if (slot)
        *slot = s;
    if (gen)
        *gen = g;
    return 0;
}

/* chan_make_ipc_dir - mkdtemp a private directory for the ROUTER's socket */
int
chan_make_ipc_dir(char *path_out, size_t cap)
{
    const char *base = getenv("TMPDIR");
    char tmpl[CHAN_DIR_MAX + 1];
    int n;

    if (!path_out || cap == 0)
        return -FH_EINVAL;
    path_out[0] = '\0';
    if (!base || !*base)
        base = "/tmp";
    n = snprintf(tmpl, sizeof(tmpl), "%s/fh-XXXXXX", base);
    if (n < 0 || (size_t)n >= sizeof(tmpl) || (size_t)n >= cap)
        return -FH_ETOOBIG;
    if (!mkdtemp(tmpl))
        return -errno;
    /* mkdtemp already uses 0700; make it exact whatever the umask */
    if (chmod(tmpl, 0700) != 0) {
        int e = errno;

        rmdir(tmpl);
        return -e;
    }
    memcpy(path_out, tmpl, (size_t)n + 1);
    return 0;
}

/* chan_ipc_endpoint - "ipc://<dir>/fh.sock", bounded by sun_path */
int
chan_ipc_endpoint(char *out, size_t cap, const char *dir)
{
    struct sockaddr_un sa;
    int n;

    if (!out || !dir || !*dir)
        return -FH_EINVAL;
    if (strlen(dir) + 1 + strlen(CHAN_SOCK_NAME) >= sizeof(sa.sun_path))
        return -FH_ETOOBIG;
    n = snprintf(out, cap, "ipc://%s/%s", dir, CHAN_SOCK_NAME);
    if (n < 0 || (size_t)n >= cap) {
        if (cap)
            out[0] = '\0';
        return -FH_ETOOBIG;
    }
    return 0;
}

/* chan_remove_ipc_dir - unlink the socket file if present, then rmdir */
int
chan_remove_ipc_dir(const char *dir)
{
    char path[CHAN_DIR_MAX + sizeof(CHAN_SOCK_NAME) + 2];
    int n;

    if (!dir || !*dir)
        return -FH_EINVAL;
    n = snprintf(path, sizeof(path), "%s/%s", dir, CHAN_SOCK_NAME);
    if (n < 0 || (size_t)n >= sizeof(path))
        return -FH_ETOOBIG;
    if (unlink(path) != 0 && errno != ENOENT)
        return -errno;
    if (rmdir(dir) != 0)
        return -errno;
    return 0;
}
