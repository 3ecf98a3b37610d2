/* test_secret_mem.c - wiping helpers and the wiping allocator hooks: a block
 * that held a secret is zero when it reaches free(), also when cJSON frees
 * its own nodes and print buffers. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <cjson/cJSON.h>

#include "free_probe.h"
#include "secret_mem.h"

#define MARKER "S3CR3T-MARKER-4c1e"

static void
test_block_free_wipes_whole_block(void **state)
{
    char *p = malloc(200);

    (void)state;
    assert_non_null(p);
    /* the secret sits past the string's end: the whole block is wiped */
    strcpy(p, "short");
    strcpy(p + 100, MARKER);
    probe_reset(MARKER);
    secret_block_free(p);
    secret_block_free(NULL);
    assert_int_equal(probe_frees, 1);
    assert_int_equal(probe_dirty, 0);
    probe_reset(NULL);
}

static void
test_block_realloc_moves_and_wipes(void **state)
{
    char *p = malloc(32), *q, *old;

    (void)state;
    assert_non_null(p);
    strcpy(p, MARKER);
    old = p;
    probe_reset(MARKER);
    q = secret_block_realloc(p, 8192);
    assert_non_null(q);
    assert_string_equal(q, MARKER);
    assert_int_equal(probe_frees, 1);
    assert_ptr_equal(probe_last, old);
    assert_int_equal(probe_dirty, 0);
    q = secret_block_realloc(q, 8);         /* shrinking keeps the start */
    assert_non_null(q);
    assert_memory_equal(q, MARKER, 8);
    assert_null(secret_block_realloc(q, 0)); /* 0 frees */
    assert_int_equal(probe_frees, 3);
    assert_int_equal(probe_dirty, 0);
    q = secret_block_realloc(NULL, 16);      /* NULL allocates */
    assert_non_null(q);
    secret_block_free(q);
    probe_reset(NULL);
}

static void
test_json_hooks_wipe_cjson_buffers(void **state)
{
    char value[2048], *text, *printed;
    cJSON *j;

    (void)state;
    /* a value much longer than cJSON's first print buffer, so it grows */
    memset(value, 'v', sizeof(value) - 1);
    value[sizeof(value) - 1] = '\0';
    memcpy(value + 500, MARKER, strlen(MARKER));
    text = malloc(sizeof(value) + 64);
    assert_non_null(text);
    snprintf(text, sizeof(value) + 64, "{\"metadata\":{\"annotations\":{\"a\":\"%s\"}}}", value);

    secret_json_hooks_install();
    probe_reset(MARKER);
    j = cJSON_Parse(text);
    assert_non_null(j);
    printed = cJSON_PrintUnformatted(j);
    assert_non_null(printed);
    assert_non_null(strstr(printed, MARKER));
    cJSON_free(printed);
    cJSON_Delete(j);            /* plain delete: the hooks do the wiping */
    /* every node, string and print buffer came back through free(), wiped */
    assert_true(probe_frees >= 5);
    assert_int_equal(probe_dirty, 0);
    cJSON_InitHooks(NULL);
    probe_reset(NULL);
    secret_free(&text, 0);
}

static void
test_secret_json_free_and_secret_free(void **state)
{
    cJSON *j = cJSON_Parse("{\"k\":[\"" MARKER "\",{\"" MARKER "\":\"x\"}]}");
    char *s = strdup(MARKER);

    (void)state;
    assert_non_null(j);
    assert_non_null(s);
    secret_json_hooks_install();
    probe_reset(MARKER);
    secret_free(&s, 0);
    assert_null(s);
    assert_int_equal(probe_frees, 1);
    assert_int_equal(probe_dirty, 0);
    cJSON_InitHooks(NULL);
    secret_json_free(&j);       /* wipes strings and keys itself */
    assert_null(j);
    secret_json_free(&j);       /* idempotent */
    probe_reset(NULL);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_block_free_wipes_whole_block),
        cmocka_unit_test(test_block_realloc_moves_and_wipes),
        cmocka_unit_test(test_json_hooks_wipe_cjson_buffers),
        cmocka_unit_test(test_secret_json_free_and_secret_free),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
