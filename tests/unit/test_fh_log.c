/* test_fh_log.c - the JSON-lines logger writes one valid, escaped line per call. */
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>
#include <cjson/cJSON.h>

#include "fh_err.h"
#include "fh_log.h"

/* capture - run fh_log into a pipe and return the line read back */
static void
capture(struct fh_log *lg, enum fh_log_level lvl, const char *key, const char *msg,
        char *out, size_t cap)
{
    int p[2];
    ssize_t n;

    assert_int_equal(pipe(p), 0);
    lg->fd = p[1];
    fh_log(lg, lvl, key, "%s", msg);
    close(p[1]);
    n = read(p[0], out, cap - 1);
    close(p[0]);
    out[n > 0 ? n : 0] = '\0';
}

static void
test_line_is_json_with_fields(void **state)
{
    struct fh_log lg;
    char line[8192];
    cJSON *j;

    (void)state;
    fh_log_init(&lg, "worker.1", FH_LOG_INFO);
    capture(&lg, FH_LOG_WARN, "ns/name", "quote \" backslash \\ newline \n tab \t ctl \x01", line, sizeof(line));
    assert_non_null(strchr(line, '\n'));
    assert_ptr_equal(strchr(line, '\n'), line + strlen(line) - 1);
    j = cJSON_Parse(line);
    assert_non_null(j);
    assert_string_equal(cJSON_GetObjectItem(j, "level")->valuestring, "warn");
    assert_string_equal(cJSON_GetObjectItem(j, "process")->valuestring, "worker.1");
    assert_string_equal(cJSON_GetObjectItem(j, "key")->valuestring, "ns/name");
    assert_string_equal(cJSON_GetObjectItem(j, "message")->valuestring,
                        "quote \" backslash \\ newline \n tab \t ctl \x01");
    assert_non_null(strstr(cJSON_GetObjectItem(j, "time")->valuestring, "Z"));
    cJSON_Delete(j);
}

static void
test_level_filter_and_parse(void **state)
{
    struct fh_log lg;
    char line[256];
    enum fh_log_level lvl;

    (void)state;
    fh_log_init(&lg, "x", FH_LOG_ERROR);
    capture(&lg, FH_LOG_INFO, NULL, "dropped", line, sizeof(line));
    assert_string_equal(line, "");
    assert_int_equal(fh_log_level_parse("DEBUG", &lvl), 0);
    assert_int_equal(lvl, FH_LOG_DEBUG);
    assert_int_equal(fh_log_level_parse("warning", &lvl), 0);
    assert_int_equal(lvl, FH_LOG_WARN);
    assert_int_equal(fh_log_level_parse("loud", &lvl), -FH_EINVAL);
}

static void
test_long_message_truncated_still_json(void **state)
{
    struct fh_log lg;
    char big[10000];
    char line[8192];
    cJSON *j;

    (void)state;
    memset(big, '"', sizeof(big) - 1);
    big[sizeof(big) - 1] = '\0';
    fh_log_init(&lg, "p", FH_LOG_DEBUG);
    capture(&lg, FH_LOG_ERROR, "k", big, line, sizeof(line));
    j = cJSON_Parse(line);
    assert_non_null(j);
    cJSON_Delete(j);
}

/* valid_utf8 - strict check (no overlongs, surrogates or stray bytes) */
static bool
valid_utf8(const unsigned char *s)
{
    while (*s) {
        size_t n = *s < 0x80 ? 1 : (*s >= 0xc2 && *s <= 0xdf) ? 2 : (*s >= 0xe0 && *s <= 0xef) ? 3
                 : (*s >= 0xf0 && *s <= 0xf4) ? 4 : 0;

        if (!n)
            return false;
        for (size_t i = 1; i < n; i++)
            if ((s[i] & 0xc0) != 0x80)
                return false;
        if (n == 3 && ((s[0] == 0xe0 && s[1] < 0xa0) || (s[0] == 0xed && s[1] >= 0xa0)))
            return false;
        if (n == 4 && ((s[0] == 0xf0 && s[1] < 0x90) || (s[0] == 0xf4 && s[1] >= 0x90)))
            return false;
        s += n;
    }
    return true;
}

static void
test_utf8_kept_invalid_replaced_never_cut(void **state)
{
    struct fh_log lg;
    char big[12001];
    char line[8192];
    cJSON *j;

    (void)state;
    fh_log_init(&lg, "p", FH_LOG_DEBUG);
    /* valid multi-byte text passes unchanged */
    capture(&lg, FH_LOG_INFO, "k", "caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80", line, sizeof(line));
    j = cJSON_Parse(line);
    assert_non_null(j);
    assert_string_equal(cJSON_GetObjectItem(j, "message")->valuestring,
                        "caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80");
    cJSON_Delete(j);
    /* stray, truncated, overlong and surrogate bytes become U+FFFD */
    capture(&lg, FH_LOG_INFO, "k", "a\xff b\xe2\x82 c\xc0\xaf d\xed\xa0\x80 e", line, sizeof(line));
    assert_true(valid_utf8((const unsigned char *)line));
    assert_null(strstr(line, "\xff"));
    assert_non_null(strstr(line, "a\\ufffd b"));
    j = cJSON_Parse(line);
    assert_non_null(j);
    cJSON_Delete(j);
    /* a long run of 3-byte characters is cut between characters */
    for (size_t i = 0; i + 3 <= sizeof(big) - 1; i += 3)
        memcpy(big + i, "\xe2\x82\xac", 3);
    big[sizeof(big) - 1] = '\0';
    capture(&lg, FH_LOG_INFO, "k", big, line, sizeof(line));
    assert_true(valid_utf8((const unsigned char *)line));
    j = cJSON_Parse(line);
    assert_non_null(j);
    cJSON_Delete(j);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_line_is_json_with_fields),
        cmocka_unit_test(test_level_filter_and_parse),
        cmocka_unit_test(test_long_message_truncated_still_json),
        cmocka_unit_test(test_utf8_kept_invalid_replaced_never_cut),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
