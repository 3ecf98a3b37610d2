/*
 * child_proc.h - what every child process of fh-supervisor does the same way:
 * parse the common flags the supervisor passes (--endpoint, --gen, --slot,
 * --kubeconfig, --log-level, and --namespace for those that take it),
 * connect its DEALER socket and say HELLO, and answer a HEARTBEAT.
 *
 * Ownership: struct child_args borrows the argv strings it points at.
 * child_connect returns a socket the caller closes with chan_close().
 */
#ifndef CHILD_PROC_H
#define CHILD_PROC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "fh_log.h"
#include "fh_time.h"

#define CHILD_MAX_NAMESPACES 64
#define CHILD_EXIT_CONFIG    78     /* sysexits EX_CONFIG: the supervisor throttles restarts */
#define CHILD_EXIT_LOST_LEAD 75     /* sysexits EX_TEMPFAIL: fh-elector lost the Lease; not a
                                       crash, restarted after the base delay */

struct child_args {
    const char *endpoint;           /* --endpoint ipc://... (required) */
    const char *kubeconfig;         /* --kubeconfig, or NULL */
    uint32_t gen;                   /* --gen: our generation */
    uint32_t slot;                  /* --slot: our slot */
    enum fh_log_level level;        /* --log-level */
    const char *namespaces[CHILD_MAX_NAMESPACES]; /* --namespace (repeatable) */
    size_t nns;                     /* how many */
};

/* child_args_parse - parse argv; usage is printed for --help (returns 1) or on
 * error (-FH_EINVAL, message on stderr). with_namespaces allows --namespace;
 * extra_usage (may be NULL) is printed after the common flags. */
int child_args_parse(int argc, char **argv, const char *prog, bool with_namespaces,
                     struct child_args *out);

/* child_connect - DEALER to a->endpoint named "<role>.<slot>.<gen>", then HELLO.
 * Returns the socket or NULL (with *err set). */
void *child_connect(void *zctx, int role, const struct child_args *a, int *err);

/* child_reply_heartbeat - answer the supervisor's HEARTBEAT */
int child_reply_heartbeat(void *sock, uint32_t gen);

#endif
