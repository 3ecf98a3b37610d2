/*
 * child.h - the supervisor's process table: fork+exec of the watcher, the
 * workers and (with --leader-elect) the elector, reaping, restart backoff and
 * crash-loop throttling, generations.
 *
 * Every spawn gets a new generation number, unique for the supervisor's
 * lifetime. A child names itself "<role>.<slot>.<gen>" on the IPC channel, so
 * messages from an earlier incarnation of a slot are recognised and dropped.
 * A slot's work is handed to its next incarnation only after the old process
 * has been reaped (child_reap), which is how "a key is never reconciled by
 * two workers at once" survives restarts.
 *
 * Time is passed in (monotonic ms); nothing here reads the clock.
 * Ownership: the table owns its struct child array; argv passed to
 * child_spawn is borrowed for the duration of the call.
 */
#ifndef CHILD_H
#define CHILD_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "child_proc.h"         /* CHILD_EXIT_CONFIG, CHILD_EXIT_LOST_LEAD */

enum child_state {
    CHILD_DOWN = 0,                 /* not running; respawn_at_ms says when to start */
    CHILD_STARTING,                 /* forked, no HELLO yet */
    CHILD_READY,                    /* HELLO received */
    CHILD_STOPPING,                 /* QUIT sent / being killed; waiting for reap */
};

struct child {
    int role;                       /* enum proto_role */
    uint32_t slot;                  /* worker slot, 0 for the watcher and the elector */
    uint32_t gen;                   /* generation of the current/last incarnation */
    pid_t pid;                      /* 0 when not running */
    enum child_state state;         /* see above */
    uint64_t started_ms;            /* when the current incarnation was forked */
    uint64_t last_seen_ms;          /* last message from it */
    uint64_t respawn_at_ms;         /* DOWN: earliest restart time */
    uint64_t kill_at_ms;            /* STOPPING: when to escalate to SIGKILL (0 = none) */
    uint32_t failures;              /* consecutive abnormal exits (reset after stable uptime) */
    uint32_t restarts;              /* total restarts, for metrics */
    int last_status;                /* last wait status */
    bool fenced;                    /* killed on purpose (leadership lost): its exit is
                                     * not a failure and it restarts at once */
    bool busy;                      /* worker: a task is in flight */
    char *inflight_key;             /* worker: key of that task (owned) */
    uint64_t task_started_ms;       /* worker: when the task was sent */
};

struct child_table {
    struct child *v;                /* watcher, workers 0..n-1, elector if any (owned) */
    uint32_t n;                     /* number of children */
    uint32_t next_gen;              /* next generation to hand out */
    uint64_t backoff_base_ms;       /* first restart delay after a failure */
    uint64_t backoff_max_ms;        /* ceiling (also used for EX_CONFIG exits) */
    uint64_t stable_ms;             /* uptime after which failures reset */
    uint32_t crashloop_failures;    /* failures at which a child counts as crash-looping */
};

/* child_table_init - one watcher + nworkers workers, all DOWN and due now */
int child_table_init(struct child_table *t, uint32_t nworkers);

/* child_table_init_ex - the same, plus an elector (role PROTO_ROLE_ELECTOR,
 * slot 0, last in the array) when elector is true */
int child_table_init_ex(struct child_table *t, uint32_t nworkers, bool elector);

/* child_table_free - free the array and in-flight keys (does not kill) */
void child_table_free(struct child_table *t);

/* child_spawn - fork+exec argv for c; sets pid, gen (already assigned by
 * child_next_gen), state STARTING. The child gets an unblocked signal mask,
 * default dispositions, and PR_SET_PDEATHSIG so it dies with the supervisor. */
int child_spawn(struct child *c, char *const argv[], uint64_t now_ms);

/* child_next_gen - reserve a new generation for c */
uint32_t child_next_gen(struct child_table *t, struct child *c);

/* child_find_pid - the child with this pid, or NULL */
struct child *child_find_pid(struct child_table *t, pid_t pid);

/* child_find - the child with this role and slot, or NULL */
struct child *child_find(struct child_table *t, int role, uint32_t slot);

/* child_exited - record an exit (status from waitpid) and schedule the
 * restart with backoff; returns the delay chosen in ms */
uint64_t child_exited(struct child_table *t, struct child *c, int status, uint64_t now_ms);

/* child_crashlooping - true when some child has failed crashloop_failures times in a row */
bool child_crashlooping(const struct child_table *t);

/* child_role_name - "watcher", "worker", "elector" (static string) */
const char *child_role_name(int role);

/* child_status_text - "exit 1", "signal 9" for logs */
void child_status_text(int status, char *buf, size_t cap);

#endif
