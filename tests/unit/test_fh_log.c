/* test_fh_log.c - the JSON-lines logger writes one valid, escaped line per call. */
#include <stdarg.h>
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

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_line_is_json_with_fields),
        cmocka_unit_test(test_level_filter_and_parse),
        cmocka_unit_test(test_long_message_truncated_still_json),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
