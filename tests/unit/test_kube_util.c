/* test_kube_util.c - bounded file reads, base64, path joining, trimming and
 * backoff bounds used across the kube/ module. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "fh_err.h"
#include "kube_backoff.h"
#include "kube_util.h"

static void
test_read_file_bounds(void **state)
{
    char path[] = "/tmp/fh-readfile-XXXXXX";
    char *buf = NULL;
    size_t len = 0;
    int fd = mkstemp(path);

    (void)state;
    assert_true(fd >= 0);
    assert_int_equal(write(fd, "0123456789", 10), 10);
    close(fd);
    assert_int_equal(kube_read_file(path, 10, &buf, &len), 0);
    assert_int_equal(len, 10);
    assert_string_equal(buf, "0123456789");
    free(buf);
    assert_int_equal(kube_read_file(path, 9, &buf, &len), -FH_ETOOBIG);
    assert_null(buf);
    unlink(path);
    assert_true(kube_read_file(path, 10, &buf, &len) < 0);
    assert_true(kube_read_file("/tmp", 10, &buf, &len) < 0);
    /* a file whose size stat() cannot tell is still bounded */
    assert_int_equal(kube_read_file("/proc/self/status", 16, &buf, &len), -FH_ETOOBIG);
    assert_int_equal(kube_read_file("/proc/self/status", 1 << 20, &buf, &len), 0);
    assert_true(len > 16);
    assert_int_equal(strlen(buf), len);
    free(buf);
}

static void
test_base64(void **state)
{
    char *out = NULL;
    size_t n = 0;

    (void)state;
    assert_int_equal(kube_b64_decode("aGVsbG8=", 8, &out, &n), 0);
    assert_int_equal(n, 5);
    assert_string_equal(out, "hello");
    free(out);
    assert_int_equal(kube_b64_decode("aGVs\nbG8h\n", 10, &out, &n), 0);
    assert_string_equal(out, "hello!");
    free(out);
    assert_int_equal(kube_b64_decode("!!!", 3, &out, &n), -FH_EINVAL);
    assert_null(out);
    assert_int_equal(kube_b64_decode("", 0, &out, &n), -FH_EINVAL);
    assert_int_equal(kube_b64_decode("====", 4, &out, &n), -FH_EINVAL);
}

static void
test_path_join_and_trim(void **state)
{
    char *p;
    char s1[] = "  tok\n", s2[] = "\n\t \r", s3[] = "plain";

    (void)state;
    p = kube_path_join("/etc/kube", "ca.crt");
    assert_string_equal(p, "/etc/kube/ca.crt");
    free(p);
    p = kube_path_join("/etc/kube", "/abs/ca.crt");
    assert_string_equal(p, "/abs/ca.crt");
    free(p);
    p = kube_path_join("", "rel");
    assert_string_equal(p, "rel");
    free(p);
    p = kube_path_join(NULL, "rel");
    assert_string_equal(p, "rel");
    free(p);
    assert_int_equal(kube_trim(s1), 3);
    assert_string_equal(s1, "tok");
    assert_int_equal(s1[4], '\0');      /* shifted-out bytes are wiped */
    assert_int_equal(kube_trim(s2), 0);
    assert_string_equal(s2, "");
    assert_int_equal(kube_trim(s3), 5);
    assert_string_equal(s3, "plain");
}

static void
test_backoff_grows_jitters_and_caps(void **state)
{
    struct kube_backoff b;
    long prev_base = 0;

    (void)state;
    kube_backoff_init(&b, 800, 30000);
    for (int i = 0; i < 20; i++) {
        long base = 800L << (i < 6 ? i : 6);
        long w = kube_backoff_next(&b);

        if (base > 30000)
            base = 30000;
        assert_true(w <= base);
        assert_true(w >= base - base / 4);
        assert_true(base >= prev_base);
        prev_base = base;
    }
    kube_backoff_reset(&b);
    assert_true(kube_backoff_next(&b) <= 800);
    kube_backoff_init(&b, 0, 0);         /* defaults */
    assert_int_equal(b.initial_ms, 800);
    assert_int_equal(b.max_ms, 30000);
    kube_backoff_init(&b, 500, 100);     /* max below initial is raised */
    assert_int_equal(b.max_ms, 500);
    assert_true(kube_now_ms() > 0);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_read_file_bounds),
        cmocka_unit_test(test_base64),
        cmocka_unit_test(test_path_join_and_trim),
        cmocka_unit_test(test_backoff_grows_jitters_and_caps),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
