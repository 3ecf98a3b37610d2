/*
 * child.c - the supervisor's process table: watcher, workers and (with
 * --leader-elect) the elector.
 *
 * Spawns children with fork+exec (every child gets a fresh address space and
 * builds its own ZeroMQ context after exec), records exits, and decides when
 * to restart: exponential backoff on consecutive failures, reset once a child
 * has stayed up for stable_ms, the ceiling straight away for EX_CONFIG exits
 * (a bad configuration does not fix itself by restarting fast). An elector
 * that exits because it lost the Lease (CHILD_EXIT_LOST_LEAD) did its job:
 * that is not a failure and never counts toward crash-looping.
 *
 * Owns the struct child array and each child's in-flight key string.
 * Reaping itself (waitpid) is done by the caller, which then calls
 * child_exited() for the child it found with child_find_pid().
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include "child.h"
#include "fh_err.h"
#include "proto.h"

/* child_table_init - the table without an elector */
int
child_table_init(struct child_table *t, uint32_t nworkers)
{
    return child_table_init_ex(t, nworkers, false);
}

/* child_table_init_ex - allocate the table: watcher, workers 0..n-1, then
 * the elector (slot 0) when asked for */
int
child_table_init_ex(struct child_table *t, uint32_t nworkers, bool elector)
{
    memset(t, 0, sizeof(*t));
    t->v = calloc((size_t)nworkers + 1 + (elector ? 1 : 0), sizeof(*t->v));
    if (!t->v)
        return -FH_ENOMEM;
    t->n = nworkers + 1 + (elector ? 1 : 0);
    t->next_gen = 1;
    t->backoff_base_ms = 500;
    t->backoff_max_ms = 30000;
    t->stable_ms = 30000;
    t->crashloop_failures = 5;
    t->v[0].role = PROTO_ROLE_WATCHER;
    t->v[0].slot = 0;
    for (uint32_t i = 0; i < nworkers; i++) {
        t->v[i + 1].role = PROTO_ROLE_WORKER;
        t->v[i + 1].slot = i;
    }
    if (elector) {
        t->v[nworkers + 1].role = PROTO_ROLE_ELECTOR;
        t->v[nworkers + 1].slot = 0;
    }
    return 0;
}

/* child_role_name - role names as used in routing ids and logs */
const char *
child_role_name(int role)
{
    switch (role) {
    case PROTO_ROLE_WATCHER: return "watcher";
    case PROTO_ROLE_WORKER:  return "worker";
    case PROTO_ROLE_ELECTOR: return "elector";
    default:                 return "child";
    }
}

/* child_table_free - release memory; processes are the caller's business */
void
child_table_free(struct child_table *t)
{
    if (!t->v)
        return;
    for (uint32_t i = 0; i < t->n; i++)
        free(t->v[i].inflight_key);
    free(t->v);
    t->v = NULL;
    t->n = 0;
}

/* child_next_gen - hand out a fresh generation */
uint32_t
child_next_gen(struct child_table *t, struct child *c)
{
    c->gen = t->next_gen++;
    return c->gen;
}

/* child_spawn - fork+exec with a clean signal state */
int
child_spawn(struct child *c, char *const argv[], uint64_t now_ms)
{
    pid_t ppid = getpid();
    pid_t pid = fork();

    if (pid < 0)
        return -errno;
    if (pid == 0) {
        sigset_t none;
        int sigs[] = { SIGTERM, SIGINT, SIGCHLD, SIGPIPE, SIGHUP };

        /* Die with the supervisor; re-check in case it died before prctl. */
        prctl(PR_SET_PDEATHSIG, SIGKILL);
        if (getppid() != ppid)
            _exit(1);
        for (size_t i = 0; i < sizeof(sigs) / sizeof(sigs[0]); i++)
            signal(sigs[i], SIG_DFL);
        sigemptyset(&none);
        sigprocmask(SIG_SETMASK, &none, NULL);
        execv(argv[0], argv);
        /* Only async-signal-safe calls between fork and _exit. */
        {
            static const char msg[] = "{\"level\":\"error\",\"process\":\"supervisor\",\"message\":\"exec of child failed\"}\n";
            ssize_t w = write(2, msg, sizeof(msg) - 1);
            (void)w;
        }
        _exit(127);
    }
    c->pid = pid;
    c->state = CHILD_STARTING;
    c->started_ms = now_ms;
    c->last_seen_ms = now_ms;
    c->kill_at_ms = 0;
    c->busy = false;
    return 0;
}

/* child_find_pid - linear scan; the table is small (workers + 1) */
struct child *
child_find_pid(struct child_table *t, pid_t pid)
{
    for (uint32_t i = 0; i < t->n; i++)
        if (t->v[i].pid == pid && pid > 0)
            return &t->v[i];
    return NULL;
}

/* child_find - by role and slot */
struct child *
child_find(struct child_table *t, int role, uint32_t slot)
{
    for (uint32_t i = 0; i < t->n; i++)
        if (t->v[i].role == role && t->v[i].slot == slot)
            return &t->v[i];
    return NULL;
}

/* child_exited - bookkeeping after waitpid; returns the restart delay */
uint64_t
child_exited(struct child_table *t, struct child *c, int status, uint64_t now_ms)
{
    uint64_t delay = 0;
    bool lost_lead = WIFEXITED(status) && WEXITSTATUS(status) == CHILD_EXIT_LOST_LEAD &&
                     c->role == PROTO_ROLE_ELECTOR;
    bool fenced = c->fenced;
    bool clean = (WIFEXITED(status) && WEXITSTATUS(status) == 0) || lost_lead || fenced;
    bool stable = now_ms - c->started_ms >= t->stable_ms;

    c->fenced = false;
    c->last_status = status;
    c->pid = 0;
    c->busy = false;
    c->kill_at_ms = 0;
    if (stable)
        c->failures = 0;
    if (!clean)
        c->failures++;
    if (WIFEXITED(status) && WEXITSTATUS(status) == CHILD_EXIT_CONFIG) {
        delay = t->backoff_max_ms;
    } else if (lost_lead) {
        delay = t->backoff_base_ms;     /* a fresh elector rejoins as a standby */
    } else if (fenced) {
        delay = 0;                      /* a fresh worker waits for leadership */
    } else if (c->failures > 0) {
        delay = t->backoff_base_ms;
        for (uint32_t i = 1; i < c->failures && delay < t->backoff_max_ms; i++)
            delay *= 2;
        if (delay > t->backoff_max_ms)
            delay = t->backoff_max_ms;
    }
    c->state = CHILD_DOWN;
    c->respawn_at_ms = now_ms + delay;
    c->restarts++;
    return delay;
}

/* child_crashlooping - any child over the failure threshold */
bool
child_crashlooping(const struct child_table *t)
{
    for (uint32_t i = 0; i < t->n; i++)
        if (t->v[i].failures >= t->crashloop_failures)
            return true;
    return false;
}

/* child_status_text - describe a wait status */
void
child_status_text(int status, char *buf, size_t cap)
{
    if (WIFEXITED(status))
        snprintf(buf, cap, "exit %d", WEXITSTATUS(status));
    else if (WIFSIGNALED(status))
        snprintf(buf, cap, "signal %d", WTERMSIG(status));
    else
        snprintf(buf, cap, "status 0x%x", (unsigned)status);
}
