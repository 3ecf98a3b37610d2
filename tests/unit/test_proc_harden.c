/* test_proc_harden.c - proc_harden() leaves the process non-dumpable and
 * without core files (what fh-watcher and fh-worker rely on). */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <sys/prctl.h>
#include <sys/resource.h>

#include <cmocka.h>

#include "proc_harden.h"

static void
test_non_dumpable_without_core(void **state)
{
    const char *failed = "untouched";
    struct rlimit rl;

    (void)state;
    assert_int_equal(proc_harden(&failed), 0);
    assert_null(failed);
    assert_int_equal(prctl(PR_GET_DUMPABLE, 0, 0, 0, 0), 0);
    assert_int_equal(getrlimit(RLIMIT_CORE, &rl), 0);
    assert_int_equal(rl.rlim_cur, 0);
    assert_int_equal(rl.rlim_max, 0);
    /* idempotent, and failed may be NULL */
    assert_int_equal(proc_harden(NULL), 0);
    assert_int_equal(prctl(PR_GET_DUMPABLE, 0, 0, 0, 0), 0);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_non_dumpable_without_core),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
