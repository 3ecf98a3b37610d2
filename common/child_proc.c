/*
 * child_proc.c - the parts every fh-supervisor child shares: common flags,
 * connecting to the supervisor and greeting it, heartbeats.
 * Owns nothing beyond the socket it hands back.
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <zmq.h>

#include "chan.h"
#include "child_proc.h"
#include "fh_err.h"
#include "proto.h"

/* usage - the common flags */
static void
usage(FILE *f, const char *prog, bool with_namespaces)
{
    fprintf(f, "usage: %s --endpoint ipc://PATH --gen N [--slot N] [--kubeconfig PATH]\n"
               "       [--log-level debug|info|warn|error]%s\n"
               "Started by fh-supervisor; not meant to be run by hand.\n",
            prog, with_namespaces ? " [--namespace NS]..." : "");
}

/* parse_u32 - decimal uint32 */
static int
parse_u32(const char *s, uint32_t *out)
{
    char *end;
    unsigned long v = strtoul(s, &end, 10);

    if (!*s || *end || v > UINT32_MAX)
        return -FH_EINVAL;
    *out = (uint32_t)v;
    return 0;
}

/* child_args_parse - see header */
int
child_args_parse(int argc, char **argv, const char *prog, bool with_namespaces,
                 struct child_args *out)
{
    static const struct option opts[] = {
        { "endpoint", required_argument, NULL, 'e' },
        { "gen", required_argument, NULL, 'g' },
        { "slot", required_argument, NULL, 's' },
        { "kubeconfig", required_argument, NULL, 'k' },
        { "namespace", required_argument, NULL, 'n' },
        { "log-level", required_argument, NULL, 'l' },
        { "help", no_argument, NULL, 'h' },
        { NULL, 0, NULL, 0 },
    };
    int c;

    memset(out, 0, sizeof(*out));
    out->level = FH_LOG_INFO;
    optind = 1;
    while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
        switch (c) {
        case 'e': out->endpoint = optarg; break;
        case 'k': out->kubeconfig = optarg; break;
        case 'g':
        case 's':
            if (parse_u32(optarg, c == 'g' ? &out->gen : &out->slot) < 0) {
                fprintf(stderr, "%s: bad number %s\n", prog, optarg);
                return -FH_EINVAL;
            }
            break;
        case 'n':
            if (!with_namespaces || out->nns >= CHILD_MAX_NAMESPACES) {
                fprintf(stderr, "%s: --namespace not accepted here or too many (max %d)\n",
                        prog, CHILD_MAX_NAMESPACES);
                return -FH_EINVAL;
            }
            out->namespaces[out->nns++] = optarg;
            break;
        case 'l':
            if (fh_log_level_parse(optarg, &out->level) < 0) {
                fprintf(stderr, "%s: bad --log-level %s\n", prog, optarg);
                return -FH_EINVAL;
            }
            break;
        case 'h':
            usage(stdout, prog, with_namespaces);
            return 1;
        default:
            usage(stderr, prog, with_namespaces);
            return -FH_EINVAL;
        }
    }
    if (!out->endpoint || optind < argc) {
        usage(stderr, prog, with_namespaces);
        return -FH_EINVAL;
    }
    return 0;
}

/* child_connect - connect and say HELLO */
void *
child_connect(void *zctx, int role, const struct child_args *a, int *err)
{
    char rid[CHAN_ID_MAX];
    struct proto_msg m;
    void *sock;
    int rc;

    rc = chan_routing_id_format(rid, sizeof(rid), role, a->slot, a->gen);
    if (rc < 0) {
        *err = rc;
        return NULL;
    }
    sock = chan_dealer_connect(zctx, a->endpoint, rid, err);
    if (!sock)
        return NULL;
    memset(&m, 0, sizeof(m));
    m.type = PROTO_HELLO;
    m.gen = a->gen;
    m.u.hello.role = (uint8_t)role;
    m.u.hello.slot = a->slot;
    m.u.hello.pid = (int32_t)getpid();
    rc = chan_send(sock, NULL, &m, 0);
    if (rc < 0) {
        *err = rc;
        chan_close(&sock);
        return NULL;
    }
    return sock;
}

/* child_reply_heartbeat - one HEARTBEAT back */
int
child_reply_heartbeat(void *sock, uint32_t gen)
{
    struct proto_msg hb;

    memset(&hb, 0, sizeof(hb));
    hb.type = PROTO_HEARTBEAT;
    hb.gen = gen;
    return chan_send(sock, NULL, &hb, ZMQ_DONTWAIT);
}
