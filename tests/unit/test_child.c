/* test_child.c - process table: spawn/reap, restart backoff, EX_CONFIG, crash-loop. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "child.h"
#include "proto.h"

/* wait_child - blocking waitpid on a known pid (the test's own child) */
static int
wait_child(pid_t pid)
{
    int st = 0;

    assert_int_equal(waitpid(pid, &st, 0), pid);
    return st;
}

static void
test_table_layout(void **state)
{
    struct child_table t;

    (void)state;
    assert_int_equal(child_table_init(&t, 3), 0);
    assert_int_equal(t.n, 4);
    assert_int_equal(t.v[0].role, PROTO_ROLE_WATCHER);
    assert_int_equal(t.v[3].role, PROTO_ROLE_WORKER);
    assert_int_equal(t.v[3].slot, 2);
    assert_ptr_equal(child_find(&t, PROTO_ROLE_WORKER, 1), &t.v[2]);
    assert_null(child_find(&t, PROTO_ROLE_WORKER, 3));
    assert_int_not_equal(child_next_gen(&t, &t.v[1]), child_next_gen(&t, &t.v[2]));
    child_table_free(&t);
}

static void
test_table_with_elector(void **state)
{
    struct child_table t;

    (void)state;
    assert_int_equal(child_table_init_ex(&t, 2, true), 0);
    assert_int_equal(t.n, 4);
    assert_int_equal(t.v[0].role, PROTO_ROLE_WATCHER);
    assert_int_equal(t.v[2].role, PROTO_ROLE_WORKER);
    assert_int_equal(t.v[2].slot, 1);
    assert_int_equal(t.v[3].role, PROTO_ROLE_ELECTOR);
    assert_int_equal(t.v[3].slot, 0);
    assert_ptr_equal(child_find(&t, PROTO_ROLE_ELECTOR, 0), &t.v[3]);
    assert_string_equal(child_role_name(t.v[3].role), "elector");
    assert_string_equal(child_role_name(PROTO_ROLE_WATCHER), "watcher");
    assert_string_equal(child_role_name(PROTO_ROLE_WORKER), "worker");
    child_table_free(&t);

    assert_int_equal(child_table_init_ex(&t, 2, false), 0);
    assert_int_equal(t.n, 3);
    assert_null(child_find(&t, PROTO_ROLE_ELECTOR, 0));
    child_table_free(&t);
}

static void
test_spawn_and_exit_codes(void **state)
{
    struct child_table t;
    char *ok_argv[] = { "/bin/true", NULL };
    char *bad_argv[] = { "/bin/false", NULL };
    char *cfg_argv[] = { "/bin/sh", "-c", "exit 78", NULL };
    char buf[32];
    struct child *c;
    int st;

    (void)state;
    assert_int_equal(child_table_init(&t, 1), 0);
    c = &t.v[1];

    assert_int_equal(child_spawn(c, ok_argv, 1000), 0);
    assert_true(c->pid > 0);
    assert_ptr_equal(child_find_pid(&t, c->pid), c);
    st = wait_child(c->pid);
    assert_int_equal(child_exited(&t, c, st, 1100), 0);    /* clean: restart now */
    assert_int_equal(c->state, CHILD_DOWN);
    assert_int_equal(c->failures, 0);

    /* consecutive failures double the delay: 500, 1000, 2000 */
    for (uint64_t want = 500; want <= 2000; want *= 2) {
        assert_int_equal(child_spawn(c, bad_argv, 2000), 0);
        st = wait_child(c->pid);
        child_status_text(st, buf, sizeof(buf));
        assert_string_equal(buf, "exit 1");
        assert_int_equal(child_exited(&t, c, st, 2100), want);
        assert_int_equal(c->respawn_at_ms, 2100 + want);
    }
    /* after a stable run the failure count resets */
    assert_int_equal(child_spawn(c, bad_argv, 10000), 0);
    st = wait_child(c->pid);
    assert_int_equal(child_exited(&t, c, st, 10000 + t.stable_ms), 500);

    /* EX_CONFIG goes straight to the ceiling */
    assert_int_equal(child_spawn(c, cfg_argv, 50000), 0);
    st = wait_child(c->pid);
    assert_int_equal(child_exited(&t, c, st, 50001), t.backoff_max_ms);
    child_table_free(&t);
}

/* An elector that lost the Lease exits 75: restarted after the base delay,
 * never counted as a failure, so repeated takeovers cannot fail /healthz;
 * the same code from a worker is an ordinary failure. */
static void
test_lost_leadership_is_not_a_failure(void **state)
{
    struct child_table t;
    char *lost_argv[] = { "/bin/sh", "-c", "exit 75", NULL };
    struct child *el, *w;
    int st;

    (void)state;
    assert_int_equal(child_table_init_ex(&t, 1, true), 0);
    el = child_find(&t, PROTO_ROLE_ELECTOR, 0);
    w = child_find(&t, PROTO_ROLE_WORKER, 0);
    for (uint32_t i = 0; i < 2 * t.crashloop_failures; i++) {
        assert_int_equal(child_spawn(el, lost_argv, 100 + i), 0);
        st = wait_child(el->pid);
        assert_int_equal(child_exited(&t, el, st, 200 + i), t.backoff_base_ms);
        assert_int_equal(el->failures, 0);
    }
    assert_false(child_crashlooping(&t));
    assert_int_equal(child_spawn(w, lost_argv, 1000), 0);
    st = wait_child(w->pid);
    assert_int_equal(child_exited(&t, w, st, 1001), t.backoff_base_ms);
    assert_int_equal(w->failures, 1);
    child_table_free(&t);
}

static void
test_crashloop_and_signal_text(void **state)
{
    struct child_table t;
    char *bad_argv[] = { "/bin/false", NULL };
    char *sleeper[] = { "/bin/sleep", "30", NULL };
    char buf[32];
    struct child *c;
    int st;

    (void)state;
    assert_int_equal(child_table_init(&t, 1), 0);
    c = &t.v[0];
    for (uint32_t i = 0; i < t.crashloop_failures; i++) {
        assert_false(child_crashlooping(&t));
        assert_int_equal(child_spawn(c, bad_argv, 100), 0);
        st = wait_child(c->pid);
        child_exited(&t, c, st, 200);
    }
    assert_true(child_crashlooping(&t));
    assert_true(t.v[0].respawn_at_ms - 200 <= t.backoff_max_ms);

    assert_int_equal(child_spawn(c, sleeper, 0), 0);
    kill(c->pid, SIGKILL);
    st = wait_child(c->pid);
    child_status_text(st, buf, sizeof(buf));
    assert_string_equal(buf, "signal 9");
    child_table_free(&t);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_table_layout),
        cmocka_unit_test(test_table_with_elector),
        cmocka_unit_test(test_spawn_and_exit_codes),
        cmocka_unit_test(test_lost_leadership_is_not_a_failure),
        cmocka_unit_test(test_crashloop_and_signal_text),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
