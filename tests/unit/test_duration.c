/* test_duration.c - Go-style duration parsing, table-driven. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>

#include <cmocka.h>

#include "duration.h"
#include "fh_err.h"

static void
test_table(void **state)
{
    static const struct { const char *in; int rc; uint64_t ms; } cases[] = {
        { "10m", 0, 600000 }, { "1h30m", 0, 5400000 }, { "500ms", 0, 500 },
        { "45s", 0, 45000 }, { "30", 0, 30000 }, { "0", 0, 0 }, { "2h0m5s", 0, 7205000 },
        { "", -FH_EINVAL, 0 }, { "m", -FH_EINVAL, 0 }, { "-5s", -FH_EINVAL, 0 },
        { "5d", -FH_EINVAL, 0 }, { "1.5h", -FH_EINVAL, 0 }, { "10m5", -FH_EINVAL, 0 },
        { "99999999999999999999s", -FH_EINVAL, 0 },
    };

    (void)state;
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        uint64_t ms = 12345;
        int rc = duration_parse_ms(cases[i].in, &ms);

        assert_int_equal(rc, cases[i].rc);
        if (rc == 0)
            assert_int_equal(ms, cases[i].ms);
    }
    assert_int_equal(duration_parse_ms(NULL, NULL), -FH_EINVAL);
}

int
main(void)
{
    const struct CMUnitTest tests[] = { cmocka_unit_test(test_table) };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
