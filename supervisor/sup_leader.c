/*
 * sup_leader.c - leadership as fh-elector reports it (--leader-elect only).
 *
 * The supervisor never talks to the apiserver: the elector runs the Lease
 * election and sends LEADER {lead, holder} on every change. A standby keeps
 * its watcher listing and watching and its workers started (so failover is
 * warm and /readyz is 200) but dispatches nothing; on lead=true it starts
 * dispatching whatever its queue holds; on lead=false, or when the elector
 * exits, it stops at once, and workers with a task in flight are killed
 * (fenced): the renew deadline is 5 s shorter than the lease duration, so
 * they are gone before another replica can take the Lease over, and two
 * replicas never write the same FleetHandshake at once. Their keys go back
 * to the queue; fenced exits are not failures. A release on SIGTERM kills
 * nothing: the workers have already drained. Owns s->leader (the holder
 * identity last reported, for logs).
 */
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>

#include "fh_str.h"
#include "supervisor.h"
#include "workq.h"

/* sup_may_dispatch - see header */
bool
sup_may_dispatch(const struct supervisor *s)
{
    return !s->leader_elect || s->leading;
}

/* fence - kill every worker with a task in flight; returns how many */
static size_t
fence(struct supervisor *s)
{
    size_t n = 0;

    for (uint32_t i = 0; i < s->children.n; i++) {
        struct child *c = &s->children.v[i];

        if (c->role != PROTO_ROLE_WORKER || !c->busy || c->pid <= 0 || c->state == CHILD_STOPPING)
            continue;
        c->fenced = true;
        c->state = CHILD_STOPPING;
        c->kill_at_ms = 0;
        kill(c->pid, SIGKILL);
        n++;
    }
    return n;
}

/* sup_handle_leader - see header */
void
sup_handle_leader(struct supervisor *s, const struct proto_leader *l)
{
    bool holder_changed = !fh_streq(s->leader, l->holder);

    if (holder_changed) {
        free(s->leader);
        s->leader = l->holder ? strdup(l->holder) : NULL;
    }
    if (l->lead && !s->leading) {
        s->leading = true;
        log_info(&s->log, NULL, "became leader: dispatching %zu queued keys", workq_len(s->q));
    } else if (!l->lead && s->leading) {
        s->leading = false;
        if (s->draining)
            log_info(&s->log, NULL, "released leadership");
        else
            log_warn(&s->log, NULL, "lost leadership: dispatching stopped, %zu workers with a "
                     "task in flight killed (their keys are requeued)", fence(s));
    } else if (!l->lead && holder_changed && !s->draining) {
        if (l->holder && l->holder[0])
            log_info(&s->log, NULL, "standby, leader is %s", l->holder);
        else if (l->holder)
            log_info(&s->log, NULL, "standby, lease released: taking it at the next retry");
    }
}

/* sup_elector_lost - see header */
void
sup_elector_lost(struct supervisor *s)
{
    if (s->leading && !s->draining)
        log_warn(&s->log, NULL, "lost leadership: the elector exited; dispatching stopped, "
                 "%zu workers with a task in flight killed", fence(s));
    s->leading = false;
    free(s->leader);
    s->leader = NULL;
}
