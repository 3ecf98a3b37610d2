/*
 * test_sup_flow.c - the supervisor's event -> queue -> dispatch -> result
 * flow (sup_events.c, sup_dispatch.c, sup_leader.c) on a real struct
 * supervisor, with chan_send wrapped (test_sup_flow.wrap) so every TASK the
 * supervisor sends is captured instead of going over ZeroMQ.
 *
 * Covers: nothing is dispatched before all three first lists are synced; a
 * Secret event queues exactly the FleetHandshakes that use it; a key is in
 * flight at one worker at most and always at the worker its shard says; a
 * key changed while in flight is dispatched again after its result, but the
 * echo of its own writes is not; a Bundle edited by someone else makes the
 * next task verify the live Bundle, the echo of its own write does not; leader election gates dispatching
 * (standby, became leader, lost leadership, elector died); draining stops
 * dispatching; a result for a key the worker does not hold is rejected; a
 * dead worker's key is requeued; a deleted FleetHandshake is dispatched
 * once with its tombstone and then forgotten; a failed send is retried;
 * /metrics (sup_metrics.c) reports that flow in valid exposition format.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "chan.h"
#include "fh_err.h"
#include "fh_index.h"
#include "proto.h"
#include "shard_ring.h"
#include "sup_metrics.h"
#include "supervisor.h"
#include "workq.h"

#define NWORKERS 4
#define MAX_SENT 64
#define HEALTH_METRICS_MAX_FOR_TEST (64 * 1024)

/* One captured TASK. */
struct sent {
    char peer[64];
    char key[160];
    bool has_fh, has_secret, has_bundle, verify, fh_deleting;
};

/* What __wrap_chan_send saw; reset by each test's setup. */
static struct sent sent[MAX_SENT];
static size_t nsent;
static int send_fail;               /* > 0: fail that many sends with -FH_EAGAIN */

int __wrap_chan_send(void *sock, const char *peer_id, const struct proto_msg *m, int flags);

/* __wrap_chan_send - record TASKs instead of sending them */
int
__wrap_chan_send(void *sock, const char *peer_id, const struct proto_msg *m, int flags)
{
    struct sent *e;

    (void)sock;
    (void)flags;
    if (send_fail > 0) {
        send_fail--;
        return -FH_EAGAIN;
    }
    assert_int_equal(m->type, PROTO_TASK);
    assert_true(nsent < MAX_SENT);
    e = &sent[nsent++];
    snprintf(e->peer, sizeof(e->peer), "%s", peer_id);
    snprintf(e->key, sizeof(e->key), "%s/%s", m->u.task.ns, m->u.task.name);
    e->has_fh = m->u.task.has_fh;
    e->has_secret = m->u.task.has_secret;
    e->has_bundle = m->u.task.has_bundle;
    e->verify = m->u.task.verify_bundle;
    e->fh_deleting = m->u.task.has_fh && m->u.task.fh.deleting;
    return 0;
}

/* setup - a supervisor with NWORKERS ready workers; *state = it */
static int
setup_common(void **state, bool leader_elect)
{
    struct supervisor *s = calloc(1, sizeof(*s));

    assert_non_null(s);
    fh_log_init(&s->log, "supervisor", FH_LOG_ERROR);
    s->leader_elect = leader_elect;
    assert_int_equal(sup_state_init(s, NWORKERS, 42), 0);
    for (uint32_t i = 0; i < NWORKERS; i++) {
        struct child *w = child_find(&s->children, PROTO_ROLE_WORKER, i);

        assert_non_null(w);
        child_next_gen(&s->children, w);
        w->state = CHILD_READY;
    }
    nsent = 0;
    send_fail = 0;
    *state = s;
    return 0;
}

static int
setup(void **state)
{
    return setup_common(state, false);
}

static int
setup_elect(void **state)
{
    return setup_common(state, true);
}

static int
teardown(void **state)
{
    struct supervisor *s = *state;

    sup_state_free(s);
    free(s);
    return 0;
}

/* all_synced - the watcher's three first lists complete */
static void
all_synced(struct supervisor *s)
{
    struct proto_synced sy;

    for (uint8_t r = PROTO_RES_FH; r <= PROTO_RES_BUNDLE; r++) {
        sy.res = r;
        sup_handle_synced(s, &sy, 0);
    }
}

/* fh_ev - a FleetHandshake event */
static void
fh_ev(struct supervisor *s, uint8_t type, const char *name, const char *rv, int64_t gen,
      const char *secret)
{
    struct proto_event ev;

    memset(&ev, 0, sizeof(ev));
    ev.type = type;
    ev.obj.res = PROTO_RES_FH;
    ev.obj.ns = (char *)"fleet-default";
    ev.obj.name = (char *)name;
    ev.obj.uid = (char *)name;      /* unique enough: one uid per name here */
    ev.obj.rv = (char *)rv;
    ev.obj.generation = gen;
    ev.obj.secret_ns = (char *)"default";
    ev.obj.secret_name = (char *)secret;
    ev.obj.json = (char *)"{}";
    assert_int_equal(sup_handle_event(s, &ev, 1000), 0);
}

/* secret_ev - a Secret (metadata) event in namespace default */
static void
secret_ev(struct supervisor *s, uint8_t type, const char *name, const char *rv)
{
    struct proto_event ev;

    memset(&ev, 0, sizeof(ev));
    ev.type = type;
    ev.obj.res = PROTO_RES_SECRET;
    ev.obj.ns = (char *)"default";
    ev.obj.name = (char *)name;
    ev.obj.uid = (char *)name;
    ev.obj.rv = (char *)rv;
    assert_int_equal(sup_handle_event(s, &ev, 1000), 0);
}

/* bundle_ev - an event of the Bundle owned by FleetHandshake owner */
static void
bundle_ev(struct supervisor *s, uint8_t type, const char *owner, const char *rv, int64_t gen)
{
    struct proto_event ev;

    memset(&ev, 0, sizeof(ev));
    ev.type = type;
    ev.obj.res = PROTO_RES_BUNDLE;
    ev.obj.ns = (char *)"fleet-default";
    ev.obj.name = (char *)owner;
    ev.obj.uid = (char *)"bundle-uid";
    ev.obj.rv = (char *)rv;
    ev.obj.generation = gen;
    ev.obj.owner_uid = (char *)owner;
    ev.obj.owner_name = (char *)owner;
    assert_int_equal(sup_handle_event(s, &ev, 1000), 0);
}

/* worker_of - the worker child holding the task sent to peer */
static struct child *
worker_of(struct supervisor *s, const char *peer)
{
    int role;
    uint32_t slot, gen;
    struct child *w;

    assert_int_equal(chan_routing_id_parse(peer, &role, &slot, &gen), 0);
    assert_int_equal(role, PROTO_ROLE_WORKER);
    w = child_find(&s->children, PROTO_ROLE_WORKER, slot);
    assert_non_null(w);
    assert_int_equal(w->gen, gen);
    return w;
}

/* result - worker w reports outcome for fleet-default/name */
static int
result(struct supervisor *s, struct child *w, const char *name, uint8_t outcome,
       const char *fh_rv, const char *bundle_rv, uint64_t now_ms)
{
    struct proto_result r;

    memset(&r, 0, sizeof(r));
    r.ns = (char *)"fleet-default";
    r.name = (char *)name;
    r.outcome = outcome;
    r.fh_rv = (char *)fh_rv;
    r.bundle_rv = (char *)bundle_rv;
    return sup_handle_result(s, w, &r, now_ms);
}

/* find_sent - index of the captured task for key, or -1 */
static int
find_sent(const char *key)
{
    for (size_t i = 0; i < nsent; i++)
        if (strcmp(sent[i].key, key) == 0)
            return (int)i;
    return -1;
}

/* done_all - answer every captured task DONE (their workers are free again) */
static void
done_all(struct supervisor *s, uint64_t now)
{
    for (size_t i = 0; i < nsent; i++)
        assert_int_equal(result(s, worker_of(s, sent[i].peer), sent[i].key + strlen("fleet-default/"),
                                PROTO_OUT_DONE, NULL, NULL, now), 0);
    nsent = 0;
}

/* first_task - lists synced, FleetHandshake "a" added and dispatched: its worker */
static struct child *
first_task(struct supervisor *s)
{
    all_synced(s);
    fh_ev(s, PROTO_EV_ADDED, "a", "1", 1, "sa");
    assert_int_equal(sup_dispatch(s, 1000), 1);
    assert_string_equal(sent[0].key, "fleet-default/a");
    return worker_of(s, sent[0].peer);
}

static void
test_nothing_dispatched_until_all_lists_synced(void **state)
{
    struct supervisor *s = *state;
    struct proto_synced sy = { PROTO_RES_FH };

    fh_ev(s, PROTO_EV_ADDED, "a", "1", 1, "sa");
    assert_int_equal(sup_dispatch(s, 1000), 0);
    sup_handle_synced(s, &sy, 0);
    sy.res = PROTO_RES_SECRET;
    sup_handle_synced(s, &sy, 0);
    assert_false(sup_all_synced(s));
    assert_int_equal(sup_dispatch(s, 1000), 0);     /* Bundles not listed yet */
    assert_int_equal(nsent, 0);
    sy.res = PROTO_RES_BUNDLE;
    sup_handle_synced(s, &sy, 0);
    assert_int_equal(sup_dispatch(s, 1000), 1);
    assert_string_equal(sent[0].key, "fleet-default/a");
    assert_true(sent[0].has_fh);
    assert_false(sent[0].has_secret);               /* no Secret event seen */
    assert_false(sent[0].has_bundle);
}

static void
test_secret_event_queues_exactly_its_users(void **state)
{
    struct supervisor *s = *state;
    char key[32];

    all_synced(s);
    fh_ev(s, PROTO_EV_ADDED, "a", "1", 1, "shared");
    fh_ev(s, PROTO_EV_ADDED, "b", "2", 1, "shared");
    fh_ev(s, PROTO_EV_ADDED, "c", "3", 1, "other");
    /* finish the first round so the queue is empty */
    while (sup_dispatch(s, 1000) > 0)
        ;
    assert_int_equal(nsent, 3);
    for (size_t i = 0; i < 3; i++)
        assert_int_equal(result(s, worker_of(s, sent[i].peer), sent[i].key + strlen("fleet-default/"),
                                PROTO_OUT_DONE, NULL, NULL, 1000), 0);
    assert_true(sup_idle(s));
    nsent = 0;

    secret_ev(s, PROTO_EV_ADDED, "shared", "10");
    while (sup_dispatch(s, 1000) > 0)
        ;
    assert_int_equal(nsent, 2);
    assert_true(find_sent("fleet-default/a") >= 0);
    assert_true(find_sent("fleet-default/b") >= 0);
    assert_int_equal(find_sent("fleet-default/c"), -1);
    for (size_t i = 0; i < nsent; i++) {
        assert_true(sent[i].has_secret);
        snprintf(key, sizeof(key), "%s", sent[i].key);
        /* always the worker the key's shard names */
        assert_int_equal(worker_of(s, sent[i].peer)->slot, shard_ring_slot(key, NWORKERS));
    }
}

static void
test_one_worker_per_key_and_change_while_in_flight(void **state)
{
    struct supervisor *s = *state;
    struct child *w;

    w = first_task(s);
    assert_true(w->busy);
    assert_string_equal(w->inflight_key, "fleet-default/a");

    /* spec change while in flight: not dispatched twice, however often asked */
    fh_ev(s, PROTO_EV_MODIFIED, "a", "2", 2, "sa");
    secret_ev(s, PROTO_EV_ADDED, "sa", "3");
    assert_int_equal(sup_dispatch(s, 1000), 0);
    assert_int_equal(sup_dispatch(s, 1001), 0);
    assert_int_equal(nsent, 1);

    /* its result: the change made while it ran is dispatched again */
    assert_int_equal(result(s, w, "a", PROTO_OUT_DONE, "4", "5", 1002), 0);
    assert_int_equal(sup_dispatch(s, 1002), 1);
    assert_string_equal(sent[1].key, "fleet-default/a");
    assert_string_equal(sent[1].peer, sent[0].peer);
    assert_true(sent[1].has_secret);

    /* the echo of that task's own writes arrives while it is in flight */
    fh_ev(s, PROTO_EV_MODIFIED, "a", "6", 2, "sa");   /* our status write */
    bundle_ev(s, PROTO_EV_ADDED, "a", "7", 1);        /* our Bundle write */
    assert_int_equal(result(s, w, "a", PROTO_OUT_DONE, "6", "7", 1003), 0);
    assert_int_equal(sup_dispatch(s, 1003), 0);
    assert_true(sup_idle(s));

    /* echoes arriving after the result are ignored too */
    fh_ev(s, PROTO_EV_MODIFIED, "a", "6", 2, "sa");
    bundle_ev(s, PROTO_EV_MODIFIED, "a", "7", 1);
    assert_true(sup_idle(s));

    /* Fleet writing the Bundle's status (same generation): nothing to do */
    bundle_ev(s, PROTO_EV_MODIFIED, "a", "8", 1);
    assert_true(sup_idle(s));

    /* someone edits the Bundle's spec: the next task verifies it */
    bundle_ev(s, PROTO_EV_MODIFIED, "a", "9", 2);
    assert_int_equal(sup_dispatch(s, 1004), 1);
    assert_true(sent[2].verify);
    assert_true(sent[2].has_bundle);
}

/* A Bundle spec change seen while a task is in flight is verified next time
 * only if it was not the echo of that task's own write. */
static void
test_verify_only_for_a_foreign_bundle_edit_while_in_flight(void **state)
{
    struct supervisor *s = *state;
    struct child *w;

    w = first_task(s);
    bundle_ev(s, PROTO_EV_ADDED, "a", "2", 1);                  /* the first write's echo */
    assert_int_equal(result(s, w, "a", PROTO_OUT_DONE, "3", "2", 1001), 0);
    assert_true(sup_idle(s));

    /* a spec change: its Bundle write moves the generation, and the echo
     * arrives before the result */
    fh_ev(s, PROTO_EV_MODIFIED, "a", "4", 2, "sa");
    assert_int_equal(sup_dispatch(s, 1002), 1);
    bundle_ev(s, PROTO_EV_MODIFIED, "a", "5", 2);
    assert_int_equal(result(s, w, "a", PROTO_OUT_DONE, "6", "5", 1003), 0);
    assert_true(sup_idle(s));
    fh_ev(s, PROTO_EV_MODIFIED, "a", "7", 3, "sa");             /* the next change */
    assert_int_equal(sup_dispatch(s, 1004), 1);
    assert_false(sent[2].verify);                               /* no extra reads */

    /* this task's write (rv 8) and then a hand edit (rv 9) */
    bundle_ev(s, PROTO_EV_MODIFIED, "a", "8", 3);
    bundle_ev(s, PROTO_EV_MODIFIED, "a", "9", 4);
    assert_int_equal(result(s, w, "a", PROTO_OUT_DONE, "10", "8", 1005), 0);
    assert_int_equal(sup_dispatch(s, 1005), 1);                 /* the hand edit */
    assert_true(sent[3].verify);

    /* a hand edit while in flight, and the worker lost before its result */
    bundle_ev(s, PROTO_EV_MODIFIED, "a", "11", 5);
    sup_worker_lost(s, w, 1006);
    child_next_gen(&s->children, w);
    w->state = CHILD_READY;
    assert_int_equal(sup_dispatch(s, 1006), 1);
    assert_true(sent[4].verify);
}

static void
test_leader_gates_dispatching(void **state)
{
    struct supervisor *s = *state;
    struct proto_leader l = { false, (char *)"other_1" };

    all_synced(s);
    fh_ev(s, PROTO_EV_ADDED, "a", "1", 1, "sa");
    fh_ev(s, PROTO_EV_ADDED, "b", "2", 1, "sb");
    assert_false(sup_may_dispatch(s));
    assert_int_equal(sup_dispatch(s, 1000), 0);      /* standby before any word */
    sup_handle_leader(s, &l);
    assert_string_equal(s->leader, "other_1");
    assert_int_equal(sup_dispatch(s, 1000), 0);      /* standby: someone else leads */

    l.lead = true;
    l.holder = (char *)"me_1";
    sup_handle_leader(s, &l);
    assert_true(sup_may_dispatch(s));
    assert_int_equal(sup_dispatch(s, 1000), 2);      /* the queue it kept */

    /* the two busy workers are real processes for what follows */
    for (size_t i = 0; i < 2; i++) {
        struct child *w = worker_of(s, sent[i].peer);

        w->pid = fork();
        assert_true(w->pid >= 0);
        if (w->pid == 0) {
            pause();
            _exit(0);
        }
    }
    l.lead = false;
    l.holder = (char *)"other_2";
    sup_handle_leader(s, &l);
    fh_ev(s, PROTO_EV_ADDED, "c", "3", 1, "sc");
    assert_int_equal(sup_dispatch(s, 1001), 0);
    /* workers with a task in flight are killed (fenced) before another
     * replica can take the Lease over; their exits are no failures and their
     * keys go back to the queue */
    for (size_t i = 0; i < 2; i++) {
        struct child *w = worker_of(s, sent[i].peer);
        int status = 0;

        assert_true(w->fenced);
        assert_int_equal(w->state, CHILD_STOPPING);
        assert_int_equal(waitpid(w->pid, &status, 0), w->pid);
        assert_true(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL);
        sup_worker_lost(s, w, 1001);
        assert_int_equal(child_exited(&s->children, w, status, 1001), 0);  /* restart at once */
        assert_int_equal(w->failures, 0);
        child_next_gen(&s->children, w);   /* the restarted worker says hello */
        w->state = CHILD_READY;
    }
    assert_int_equal(workq_state(s->q, "fleet-default/a", NULL), WORKQ_QUEUED);
    assert_int_equal(workq_state(s->q, "fleet-default/b", NULL), WORKQ_QUEUED);
    nsent = 0;

    l.lead = true;
    sup_handle_leader(s, &l);
    assert_int_equal(sup_dispatch(s, 1002), 3);      /* a and b again, and c */
    assert_true(find_sent("fleet-default/a") >= 0 && find_sent("fleet-default/b") >= 0);
    assert_true(find_sent("fleet-default/c") >= 0);
    done_all(s, 1002);

    /* the elector dies: whatever it said last, we no longer lead */
    sup_elector_lost(s);
    assert_false(sup_may_dispatch(s));
    assert_null(s->leader);
    fh_ev(s, PROTO_EV_ADDED, "d", "4", 1, "sd");
    assert_int_equal(sup_dispatch(s, 1003), 0);
    assert_int_equal(nsent, 0);
}

static void
test_without_leader_election_always_dispatches(void **state)
{
    struct supervisor *s = *state;

    assert_true(sup_may_dispatch(s));
    all_synced(s);
    fh_ev(s, PROTO_EV_ADDED, "a", "1", 1, "sa");
    assert_int_equal(sup_dispatch(s, 1000), 1);
}

static void
test_drain_bad_result_and_worker_loss(void **state)
{
    struct supervisor *s = *state;
    struct child *w, *other;

    w = first_task(s);
    other = child_find(&s->children, PROTO_ROLE_WORKER, (w->slot + 1) % NWORKERS);

    /* a result from a worker that does not hold the key changes nothing */
    assert_int_equal(result(s, other, "a", PROTO_OUT_DONE, NULL, NULL, 1000), -FH_EPROTO);
    assert_int_equal(s->stats.malformed, 1);
    assert_true(w->busy);
    assert_int_equal(result(s, w, "zz", PROTO_OUT_DONE, NULL, NULL, 1000), -FH_EPROTO);
    assert_true(w->busy);

    /* the worker dies mid-task: its key is queued again, for its slot */
    sup_worker_lost(s, w, 1000);
    assert_false(w->busy);
    assert_null(w->inflight_key);
    assert_int_equal(workq_len(s->q), 1);
    assert_int_equal(sup_dispatch(s, 1000), 1);
    assert_string_equal(sent[1].key, "fleet-default/a");
    assert_int_equal(worker_of(s, sent[1].peer)->slot, w->slot);

    /* draining: no new work, however much is queued */
    assert_int_equal(result(s, w, "a", PROTO_OUT_DONE, NULL, NULL, 1001), 0);
    s->draining = true;
    fh_ev(s, PROTO_EV_ADDED, "b", "2", 1, "sb");
    assert_int_equal(sup_dispatch(s, 1002), 0);
    assert_int_equal(nsent, 2);
}

static void
test_deleted_fh_dispatched_with_tombstone_then_forgotten(void **state)
{
    struct supervisor *s = *state;
    struct child *w;

    w = first_task(s);
    assert_int_equal(result(s, w, "a", PROTO_OUT_DONE, NULL, "2", 1000), 0);
    bundle_ev(s, PROTO_EV_ADDED, "a", "2", 1);
    assert_true(sup_idle(s));

    fh_ev(s, PROTO_EV_DELETED, "a", "3", 1, "sa");
    assert_null(fh_index_get_fh(s->ix, "fleet-default/a"));
    assert_int_equal(sup_dispatch(s, 1001), 1);
    assert_true(sent[1].has_fh);                    /* the tombstone */
    assert_true(sent[1].fh_deleting);
    assert_true(sent[1].has_bundle);                /* so the worker can delete it */
    assert_int_equal(result(s, w, "a", PROTO_OUT_DONE, NULL, NULL, 1002), 0);
    assert_true(sup_idle(s));
    /* forgotten: a resync finds nothing to do */
    assert_int_equal(sup_resync(s, 1003), 0);
    assert_int_equal(sup_dispatch(s, 1003), 0);
}

static void
test_watcher_restart_forgets_what_was_deleted_meanwhile(void **state)
{
    struct supervisor *s = *state;
    struct proto_synced sy;

    all_synced(s);
    fh_ev(s, PROTO_EV_ADDED, "keep", "1", 1, "s-keep");
    fh_ev(s, PROTO_EV_ADDED, "gone", "2", 1, "s-gone");
    fh_ev(s, PROTO_EV_ADDED, "lost", "3", 1, "s-lost");
    secret_ev(s, PROTO_EV_ADDED, "s-keep", "4");
    secret_ev(s, PROTO_EV_ADDED, "s-lost", "5");
    bundle_ev(s, PROTO_EV_ADDED, "gone", "6", 1);
    while (sup_dispatch(s, 1000) > 0)
        ;
    done_all(s, 1000);
    assert_true(sup_idle(s));

    /* The watcher dies. Meanwhile FleetHandshake "gone" is deleted and so is
     * Secret s-lost; nobody sees those events. */
    memset(s->synced, 0, sizeof(s->synced));
    assert_int_equal(sup_relist_begin(s, 7), 0);
    /* The new watcher lists what exists now (same resourceVersions). */
    fh_ev(s, PROTO_EV_ADDED, "keep", "1", 1, "s-keep");
    fh_ev(s, PROTO_EV_ADDED, "lost", "3", 1, "s-lost");
    sy.res = PROTO_RES_FH;
    sup_handle_synced(s, &sy, 1100);
    /* "gone" is forgotten by the index, its tombstone is queued */
    assert_null(fh_index_get_fh(s->ix, "fleet-default/gone"));
    assert_non_null(fh_index_get_fh(s->ix, "fleet-default/keep"));
    secret_ev(s, PROTO_EV_ADDED, "s-keep", "4");
    sy.res = PROTO_RES_SECRET;
    sup_handle_synced(s, &sy, 1100);
    assert_null(fh_index_get_secret(s->ix, "default/s-lost"));
    assert_non_null(fh_index_get_secret(s->ix, "default/s-keep"));
    /* the Bundle of "gone" still exists (the worker deletes it) */
    bundle_ev(s, PROTO_EV_ADDED, "gone", "6", 1);
    sy.res = PROTO_RES_BUNDLE;
    sup_handle_synced(s, &sy, 1100);
    assert_non_null(fh_index_get_bundle(s->ix, "fleet-default/gone"));

    while (sup_dispatch(s, 1200) > 0)
        ;
    /* exactly the two keys whose inputs vanished, the deleted one with its
     * tombstone and Bundle so the worker can remove the Bundle */
    assert_int_equal(nsent, 2);
    assert_true(find_sent("fleet-default/lost") >= 0);
    assert_false(sent[find_sent("fleet-default/lost")].has_secret);
    assert_true(find_sent("fleet-default/gone") >= 0);
    assert_true(sent[find_sent("fleet-default/gone")].fh_deleting);
    assert_true(sent[find_sent("fleet-default/gone")].has_bundle);
    assert_int_equal(find_sent("fleet-default/keep"), -1);
    done_all(s, 1200);
    /* the synthesized deletions are not counted as watch events */
    assert_int_equal(s->stats.events, 10);
    /* a later relist of the same watcher (e.g. after 410) sweeps nothing */
    sy.res = PROTO_RES_FH;
    sup_handle_synced(s, &sy, 1300);
    assert_non_null(fh_index_get_fh(s->ix, "fleet-default/keep"));
    assert_int_equal(sup_dispatch(s, 1300), 0);
}

static void
test_failed_send_is_retried_later(void **state)
{
    struct supervisor *s = *state;
    struct child *w;

    all_synced(s);
    fh_ev(s, PROTO_EV_ADDED, "a", "1", 1, "sa");
    send_fail = 1;
    assert_int_equal(sup_dispatch(s, 1000), 0);
    assert_int_equal(nsent, 0);
    w = child_find(&s->children, PROTO_ROLE_WORKER, shard_ring_slot("fleet-default/a", NWORKERS));
    assert_false(w->busy);
    assert_int_equal(sup_dispatch(s, 1001), 0);     /* backing off, not spinning */
    assert_true(workq_next_due_ms(s->q, 1001) > 0);
    assert_int_equal(sup_dispatch(s, 1000 + 60000), 1);
    assert_string_equal(sent[0].key, "fleet-default/a");
    assert_true(w->busy);
}

/* sample - the value of the sample line starting with "name " (name may
 * carry labels); fails the test when absent */
static unsigned long long
sample(const char *text, const char *name)
{
    size_t n = strlen(name);

    for (const char *l = text; *l; l = strchr(l, '\n') + 1) {
        if (strncmp(l, name, n) == 0 && l[n] == ' ')
            return strtoull(l + n + 1, NULL, 10);
        if (!strchr(l, '\n'))
            break;
    }
    fail_msg("no sample %s", name);
    return 0;
}

/* check_exposition - every line is a comment or "name[{labels}] value", each
 * family's HELP and TYPE come before its samples, buckets are cumulative */
static void
check_exposition(const char *text)
{
    char family[128] = "";
    unsigned long long last_bucket = 0;

    for (const char *l = text; *l;) {
        const char *nl = strchr(l, '\n');
        char line[512];

        assert_non_null(nl);                    /* the text ends with a newline */
        assert_true((size_t)(nl - l) < sizeof(line));
        memcpy(line, l, (size_t)(nl - l));
        line[nl - l] = '\0';
        if (strncmp(line, "# HELP ", 7) == 0) {
            sscanf(line + 7, "%127s", family);
            last_bucket = 0;
        } else if (strncmp(line, "# TYPE ", 7) == 0) {
            char name[128], type[32];

            assert_int_equal(sscanf(line + 7, "%127s %31s", name, type), 2);
            assert_string_equal(name, family);
            assert_true(strcmp(type, "gauge") == 0 || strcmp(type, "counter") == 0 ||
                        strcmp(type, "histogram") == 0);
        } else {
            const char *sp = strrchr(line, ' ');
            char *end;
            unsigned long long v;

            assert_non_null(sp);
            assert_true(family[0] && strncmp(line, family, strlen(family)) == 0);
            assert_true(strspn(line, "abcdefghijklmnopqrstuvwxyz_") >= strlen(family));
            v = strtoull(sp + 1, &end, 10);
            assert_true(*end == '\0' || *end == '.');
            if (strstr(line, "_bucket{")) {
                assert_true(v >= last_bucket);
                last_bucket = v;
            }
        }
        l = nl + 1;
    }
}

static void
test_metrics_report_the_flow(void **state)
{
    struct supervisor *s = *state;
    static char text[HEALTH_METRICS_MAX_FOR_TEST];
    struct child *w = first_task(s);
    int n;

    fh_ev(s, PROTO_EV_ADDED, "b", "2", 1, "sb");
    assert_int_equal(sup_dispatch(s, 1000), 1);
    assert_int_equal(result(s, w, "a", PROTO_OUT_DONE, NULL, NULL, 1007), 0);
    assert_int_equal(result(s, worker_of(s, sent[1].peer), "b", PROTO_OUT_RETRY, NULL, NULL,
                            3000), 0);
    w->state = CHILD_STARTING;                  /* one worker restarting */
    w->restarts = 2;

    n = sup_metrics_write(s, false, true, text, sizeof(text));
    assert_true(n > 0 && (size_t)n == strlen(text));
    check_exposition(text);
    assert_int_equal(sample(text, "fleet_handshake_ready"), 0);
    assert_int_equal(sample(text, "fleet_handshake_healthy"), 1);
    assert_int_equal(sample(text, "fleet_handshake_leader"), 1);
    assert_int_equal(sample(text, "fleet_handshake_cached_objects{resource=\"fleethandshakes\"}"), 2);
    assert_int_equal(sample(text, "fleet_handshake_workqueue_depth"), 1);   /* b backs off */
    assert_int_equal(sample(text, "fleet_handshake_workqueue_inflight"), 0);
    assert_int_equal(sample(text, "fleet_handshake_watch_events_total"), 2);
    assert_int_equal(sample(text, "fleet_handshake_reconcile_total{result=\"success\"}"), 1);
    assert_int_equal(sample(text, "fleet_handshake_reconcile_total{result=\"requeue\"}"), 1);
    assert_int_equal(sample(text, "fleet_handshake_reconcile_total{result=\"error\"}"), 0);
    /* a took 7 ms, b 2000 ms */
    assert_int_equal(sample(text, "fleet_handshake_reconcile_duration_seconds_bucket{le=\"0.005\"}"), 0);
    assert_int_equal(sample(text, "fleet_handshake_reconcile_duration_seconds_bucket{le=\"0.010\"}"), 1);
    assert_int_equal(sample(text, "fleet_handshake_reconcile_duration_seconds_bucket{le=\"1.000\"}"), 1);
    assert_int_equal(sample(text, "fleet_handshake_reconcile_duration_seconds_bucket{le=\"2.500\"}"), 2);
    assert_int_equal(sample(text, "fleet_handshake_reconcile_duration_seconds_bucket{le=\"+Inf\"}"), 2);
    assert_non_null(strstr(text, "fleet_handshake_reconcile_duration_seconds_sum 2.007\n"));
    assert_int_equal(sample(text, "fleet_handshake_reconcile_duration_seconds_count"), 2);
    {
        char name[96];

        snprintf(name, sizeof(name), "fleet_handshake_process_up{process=\"worker\",slot=\"%u\"}",
                 w->slot);
        assert_int_equal(sample(text, name), 0);
        snprintf(name, sizeof(name),
                 "fleet_handshake_process_exits_total{process=\"worker\",slot=\"%u\"}", w->slot);
        assert_int_equal(sample(text, name), 2);
    }
    /* too small a buffer is an error, never a truncated scrape */
    assert_int_equal(sup_metrics_write(s, true, true, text, 100), -FH_ETOOBIG);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_nothing_dispatched_until_all_lists_synced, setup, teardown),
        cmocka_unit_test_setup_teardown(test_secret_event_queues_exactly_its_users, setup, teardown),
        cmocka_unit_test_setup_teardown(test_one_worker_per_key_and_change_while_in_flight, setup, teardown),
        cmocka_unit_test_setup_teardown(test_verify_only_for_a_foreign_bundle_edit_while_in_flight, setup, teardown),
        cmocka_unit_test_setup_teardown(test_leader_gates_dispatching, setup_elect, teardown),
        cmocka_unit_test_setup_teardown(test_without_leader_election_always_dispatches, setup, teardown),
        cmocka_unit_test_setup_teardown(test_drain_bad_result_and_worker_loss, setup, teardown),
        cmocka_unit_test_setup_teardown(test_deleted_fh_dispatched_with_tombstone_then_forgotten, setup, teardown),
        cmocka_unit_test_setup_teardown(test_failed_send_is_retried_later, setup, teardown),
        cmocka_unit_test_setup_teardown(test_watcher_restart_forgets_what_was_deleted_meanwhile, setup, teardown),
        cmocka_unit_test_setup_teardown(test_metrics_report_the_flow, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
