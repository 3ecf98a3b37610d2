/* test_kube_lines.c - kube_lines turns arbitrarily chunked bytes into the
 * same lines no matter where the chunk boundaries fall. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "fh_err.h"
#include "kube_watch.h"

#define MAX_LINES 64

struct collect {
    char *lines[MAX_LINES];
    size_t n;
    size_t fail_at;     /* return an error for this line index (1-based), 0 = never */
};

/* collect_cb - copy each line */
static int
collect_cb(const char *line, size_t len, void *arg)
{
    struct collect *c = arg;

    assert_true(len > 0);
    assert_true(c->n < MAX_LINES);
    c->lines[c->n] = strndup(line, len);
    assert_non_null(c->lines[c->n]);
    c->n++;
    if (c->fail_at && c->n == c->fail_at)
        return -FH_EBADREPLY;
    return 0;
}

/* collect_clear - free copies */
static void
collect_clear(struct collect *c)
{
    for (size_t i = 0; i < c->n; i++)
        free(c->lines[i]);
    memset(c, 0, sizeof(*c));
}

static const char stream[] =
    "{\"type\":\"ADDED\",\"object\":{\"metadata\":{\"name\":\"a\"}}}\n"
    "{\"type\":\"MODIFIED\",\"object\":{\"metadata\":{\"name\":\"b\"}}}\r\n"
    "\n"
    "\r\n"
    "{\"type\":\"BOOKMARK\",\"object\":{\"metadata\":{\"resourceVersion\":\"9\"}}}\n"
    "{\"type\":\"DELETED\",\"object\":{}}\n";

/* check_stream - the four expected lines */
static void
check_stream(const struct collect *c)
{
    assert_int_equal(c->n, 4);
    assert_string_equal(c->lines[0], "{\"type\":\"ADDED\",\"object\":{\"metadata\":{\"name\":\"a\"}}}");
    assert_string_equal(c->lines[1], "{\"type\":\"MODIFIED\",\"object\":{\"metadata\":{\"name\":\"b\"}}}");
    assert_string_equal(c->lines[2],
                        "{\"type\":\"BOOKMARK\",\"object\":{\"metadata\":{\"resourceVersion\":\"9\"}}}");
    assert_string_equal(c->lines[3], "{\"type\":\"DELETED\",\"object\":{}}");
}

static void
test_whole_stream_at_once(void **state)
{
    struct kube_lines *l = kube_lines_new(0);
    struct collect c = { 0 };

    (void)state;
    assert_non_null(l);
    assert_int_equal(kube_lines_feed(l, stream, strlen(stream), collect_cb, &c), 0);
    check_stream(&c);
    assert_int_equal(kube_lines_pending(l), 0);
    collect_clear(&c);
    kube_lines_free(&l);
    assert_null(l);
    kube_lines_free(&l);
}

static void
test_one_byte_at_a_time(void **state)
{
    struct kube_lines *l = kube_lines_new(0);
    struct collect c = { 0 };

    (void)state;
    for (size_t i = 0; i < strlen(stream); i++)
        assert_int_equal(kube_lines_feed(l, stream + i, 1, collect_cb, &c), 0);
    check_stream(&c);
    collect_clear(&c);
    kube_lines_free(&l);
}

static void
test_random_splits_fixed_seed(void **state)
{
    uint32_t seed = 12345;
    size_t total = strlen(stream);

    (void)state;
    for (int round = 0; round < 200; round++) {
        struct kube_lines *l = kube_lines_new(0);
        struct collect c = { 0 };
        size_t off = 0;

        while (off < total) {
            size_t n;

            seed = seed * 1103515245u + 12345u;
            n = 1 + (seed >> 16) % 40;
            if (n > total - off)
                n = total - off;
            assert_int_equal(kube_lines_feed(l, stream + off, n, collect_cb, &c), 0);
            off += n;
        }
        check_stream(&c);
        collect_clear(&c);
        kube_lines_free(&l);
    }
}

static void
test_remainder_carried_and_finished(void **state)
{
    struct kube_lines *l = kube_lines_new(0);
    struct collect c = { 0 };

    (void)state;
    assert_int_equal(kube_lines_feed(l, "abc", 3, collect_cb, &c), 0);
    assert_int_equal(c.n, 0);
    assert_int_equal(kube_lines_pending(l), 3);
    assert_int_equal(kube_lines_feed(l, "def\nxy", 6, collect_cb, &c), 0);
    assert_int_equal(c.n, 1);
    assert_string_equal(c.lines[0], "abcdef");
    assert_int_equal(kube_lines_pending(l), 2);
    assert_int_equal(kube_lines_finish(l, collect_cb, &c), 0);
    assert_int_equal(c.n, 2);
    assert_string_equal(c.lines[1], "xy");
    assert_int_equal(kube_lines_pending(l), 0);
    /* finishing with nothing pending delivers nothing */
    assert_int_equal(kube_lines_finish(l, collect_cb, &c), 0);
    assert_int_equal(c.n, 2);
    /* reset drops a partial line */
    assert_int_equal(kube_lines_feed(l, "partial", 7, collect_cb, &c), 0);
    kube_lines_reset(l);
    assert_int_equal(kube_lines_feed(l, "new\n", 4, collect_cb, &c), 0);
    assert_string_equal(c.lines[2], "new");
    collect_clear(&c);
    kube_lines_free(&l);
}

static void
test_crlf_split_across_chunks(void **state)
{
    struct kube_lines *l = kube_lines_new(0);
    struct collect c = { 0 };

    (void)state;
    assert_int_equal(kube_lines_feed(l, "one\r", 4, collect_cb, &c), 0);
    assert_int_equal(kube_lines_feed(l, "\ntwo\r\n\r", 7, collect_cb, &c), 0);
    assert_int_equal(kube_lines_feed(l, "\n", 1, collect_cb, &c), 0);
    assert_int_equal(c.n, 2);
    assert_string_equal(c.lines[0], "one");
    assert_string_equal(c.lines[1], "two");
    collect_clear(&c);
    kube_lines_free(&l);
}

static void
test_line_over_cap(void **state)
{
    struct kube_lines *l = kube_lines_new(16);
    struct collect c = { 0 };
    const char sixteen[] = "0123456789abcdef";

    (void)state;
    /* exactly the cap is fine, carried or not */
    assert_int_equal(kube_lines_feed(l, sixteen, 16, collect_cb, &c), 0);
    assert_int_equal(kube_lines_feed(l, "\n", 1, collect_cb, &c), 0);
    assert_int_equal(kube_lines_feed(l, "0123456789abcdef\n", 17, collect_cb, &c), 0);
    assert_int_equal(c.n, 2);
    /* one more byte is refused, in one chunk ... */
    assert_int_equal(kube_lines_feed(l, "0123456789abcdefg\n", 18, collect_cb, &c), -FH_ETOOBIG);
    /* ... or accumulated over several */
    assert_int_equal(kube_lines_feed(l, "0123456789", 10, collect_cb, &c), 0);
    assert_int_equal(kube_lines_feed(l, "abcdefg", 7, collect_cb, &c), -FH_ETOOBIG);
    assert_int_equal(kube_lines_pending(l), 0);
    /* the assembler is usable afterwards */
    assert_int_equal(kube_lines_feed(l, "ok\n", 3, collect_cb, &c), 0);
    assert_int_equal(c.n, 3);
    assert_string_equal(c.lines[2], "ok");
    collect_clear(&c);
    kube_lines_free(&l);
}

static void
test_callback_error_stops(void **state)
{
    struct kube_lines *l = kube_lines_new(0);
    struct collect c = { .fail_at = 2 };

    (void)state;
    assert_int_equal(kube_lines_feed(l, "a\nb\nc\n", 6, collect_cb, &c), -FH_EBADREPLY);
    assert_int_equal(c.n, 2);
    collect_clear(&c);
    kube_lines_free(&l);
}

static void
test_large_line_grows(void **state)
{
    struct kube_lines *l = kube_lines_new(0);
    struct collect c = { 0 };
    size_t big = 300000;
    char *data = malloc(big + 1);

    (void)state;
    assert_non_null(data);
    memset(data, 'x', big);
    data[big] = '\n';
    /* odd-sized chunks force several grow-and-copy steps */
    for (size_t off = 0; off <= big; off += 4099) {
        size_t n = big + 1 - off < 4099 ? big + 1 - off : 4099;

        assert_int_equal(kube_lines_feed(l, data + off, n, collect_cb, &c), 0);
    }
    assert_int_equal(c.n, 1);
    assert_int_equal(strlen(c.lines[0]), big);
    free(data);
    collect_clear(&c);
    kube_lines_free(&l);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_whole_stream_at_once),
        cmocka_unit_test(test_one_byte_at_a_time),
        cmocka_unit_test(test_random_splits_fixed_seed),
        cmocka_unit_test(test_remainder_carried_and_finished),
        cmocka_unit_test(test_crlf_split_across_chunks),
        cmocka_unit_test(test_line_over_cap),
        cmocka_unit_test(test_callback_error_stops),
        cmocka_unit_test(test_large_line_grows),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
