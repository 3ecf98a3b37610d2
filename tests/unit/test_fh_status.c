/* test_fh_status.c - desired status per outcome, timestamp carry-over,
 * comparison that ignores timestamps, and the merge-patch body. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <cjson/cJSON.h>

#include "fh_err.h"
#include "fh_status.h"

#define T0 1700000000u          /* 2023-11-14T22:13:20Z */
#define T1 (T0 + 3600u)         /* 2023-11-14T23:13:20Z */
#define T0S "2023-11-14T22:13:20Z"
#define T1S "2023-11-14T23:13:20Z"

/* input - a filled-in fh_status_input for reason r */
static struct fh_status_input
input(enum fh_reason r, const char *detail)
{
    struct fh_status_input in = {
        .reason = r, .generation = 7, .fh_ns = "fleet-default", .fh_name = "fh1",
        .secret_ns = "default", .secret_name = "db", .target_ns = "apps",
        .secret_rv = "42", .bundle_written = true, .detail = detail,
    };
    return in;
}

static void
test_time_format(void **state)
{
    char buf[32];

    (void)state;
    assert_int_equal(fh_time_rfc3339(0, buf, sizeof(buf)), 0);
    assert_string_equal(buf, "1970-01-01T00:00:00Z");
    assert_int_equal(fh_time_rfc3339(T0, buf, sizeof(buf)), 0);
    assert_string_equal(buf, T0S);
    assert_int_equal(fh_time_rfc3339(T0, buf, 10), -FH_EINVAL);
    assert_int_equal(fh_time_rfc3339(UINT64_MAX, buf, sizeof(buf)), -FH_EINVAL);
}

struct rcase {
    enum fh_reason reason;
    const char *detail;
    const char *status, *ready, *rname;
    const char *msg_has[3];
};

static void
test_reason_table(void **state)
{
    static const struct rcase cases[] = {
        { FH_REASON_SYNCED, NULL, "Synced", "True", "Synced",
          { "Bundle fleet-default/fh1", "Secret default/db", "namespace apps" } },
        { FH_REASON_PENDING, NULL, "Pending", "Unknown", "Pending", { "waiting", NULL, NULL } },
        { FH_REASON_SECRET_NOT_FOUND, NULL, "Missing", "False", "SecretNotFound",
          { "Secret default/db not found", "create it", NULL } },
        { FH_REASON_BUNDLE_CONFLICT, "controlled by GitRepo \"app\"", "Error", "False", "BundleConflict",
          { "Bundle fleet-default/fh1", "controlled by GitRepo \"app\"", "will not overwrite" } },
        { FH_REASON_INVALID_SPEC, "spec.secretName is required", "Error", "False", "InvalidSpec",
          { "spec.secretName is required", NULL, NULL } },
        { FH_REASON_FORBIDDEN, "get secrets in namespace default (Forbidden: no)", "Error", "False", "Forbidden",
          { "not allowed to get secrets in namespace default", "ClusterRole", NULL } },
        { FH_REASON_APPLY_FAILED, "InternalError: boom", "Error", "False", "ApplyFailed",
          { "writing Bundle fleet-default/fh1 failed: InternalError: boom", NULL, NULL } },
        { FH_REASON_SECRET_READ_FAILED, "ServiceUnavailable: x", "Error", "False", "SecretReadFailed",
          { "reading Secret default/db failed: ServiceUnavailable: x", NULL, NULL } },
    };

    (void)state;
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        struct fh_status_input in = input(cases[i].reason, cases[i].detail);
        struct fh_status st;

        assert_int_equal(fh_status_build(NULL, &in, T0, &st), 0);
        assert_string_equal(st.status, cases[i].status);
        assert_string_equal(st.ready_status, cases[i].ready);
        assert_string_equal(st.ready_reason, cases[i].rname);
        assert_string_equal(fh_reason_name(cases[i].reason), cases[i].rname);
        assert_true(st.has_observed_generation);
        assert_int_equal(st.observed_generation, 7);
        assert_int_equal(st.ready_observed_generation, 7);
        assert_string_equal(st.ready_ltt, T0S);
        for (int k = 0; k < 3 && cases[i].msg_has[k]; k++) {
            if (!strstr(st.ready_message, cases[i].msg_has[k]))
                fail_msg("case %zu: \"%s\" lacks \"%s\"", i, st.ready_message, cases[i].msg_has[k]);
        }
    }
    assert_int_equal(fh_status_build(NULL, &(struct fh_status_input){ .reason = FH_REASON_MAX }, T0,
                                     &(struct fh_status){ 0 }), -FH_EINVAL);
}

static void
test_transition_time_carried_over(void **state)
{
    struct fh_status_input in = input(FH_REASON_SYNCED, NULL);
    struct fh_status a, b, c;

    (void)state;
    assert_int_equal(fh_status_build(NULL, &in, T0, &a), 0);
    /* Same Ready status an hour later (even with another reason): keep. */
    in.secret_rv = "43";
    assert_int_equal(fh_status_build(&a, &in, T1, &b), 0);
    assert_string_equal(b.ready_ltt, T0S);
    assert_string_equal(b.last_sync, T1S);      /* written again */
    /* Flip to False: new transition time. */
    in = input(FH_REASON_APPLY_FAILED, "x");
    assert_int_equal(fh_status_build(&b, &in, T1, &c), 0);
    assert_string_equal(c.ready_ltt, T1S);
    in = input(FH_REASON_SECRET_NOT_FOUND, NULL);
    assert_int_equal(fh_status_build(&c, &in, T1 + 5, &a), 0);
    assert_string_equal(a.ready_ltt, T1S);      /* False -> False */
}

static void
test_carry_over_fields(void **state)
{
    struct fh_status_input in = input(FH_REASON_SYNCED, NULL);
    struct fh_status synced, st;

    (void)state;
    assert_int_equal(fh_status_build(NULL, &in, T0, &synced), 0);
    assert_string_equal(synced.bundle_name, "fh1");
    assert_string_equal(synced.secret_rv, "42");
    assert_string_equal(synced.last_sync, T0S);

    /* Confirmed, not written: keep the last sync time. */
    in.bundle_written = false;
    assert_int_equal(fh_status_build(&synced, &in, T1, &st), 0);
    assert_string_equal(st.last_sync, T0S);
    /* Confirmed with no earlier record: now. */
    assert_int_equal(fh_status_build(NULL, &in, T1, &st), 0);
    assert_string_equal(st.last_sync, T1S);

    /* Missing keeps what the Bundle holds. */
    in = input(FH_REASON_SECRET_NOT_FOUND, NULL);
    assert_int_equal(fh_status_build(&synced, &in, T1, &st), 0);
    assert_string_equal(st.bundle_name, "fh1");
    assert_string_equal(st.secret_rv, "42");
    assert_string_equal(st.last_sync, T0S);

    /* A conflict: the Bundle of that name is not ours. */
    in = input(FH_REASON_BUNDLE_CONFLICT, "x");
    assert_int_equal(fh_status_build(&synced, &in, T1, &st), 0);
    assert_string_equal(st.bundle_name, "");
    assert_string_equal(st.secret_rv, "");
}

static void
test_equal_ignores_timestamps_only(void **state)
{
    struct fh_status_input in = input(FH_REASON_SYNCED, NULL);
    struct fh_status a, b;

    (void)state;
    assert_int_equal(fh_status_build(NULL, &in, T0, &a), 0);
    b = a;
    snprintf(b.last_sync, sizeof(b.last_sync), "%s", T1S);
    snprintf(b.ready_ltt, sizeof(b.ready_ltt), "%s", T1S);
    assert_true(fh_status_equal(&a, &b));

    b = a; b.observed_generation = 8;                assert_false(fh_status_equal(&a, &b));
    b = a; b.has_observed_generation = false;        assert_false(fh_status_equal(&a, &b));
    b = a; b.ready_message[0] = 'X';                 assert_false(fh_status_equal(&a, &b));
    b = a; snprintf(b.ready_reason, sizeof(b.ready_reason), "Other"); assert_false(fh_status_equal(&a, &b));
    b = a; snprintf(b.ready_status, sizeof(b.ready_status), "False"); assert_false(fh_status_equal(&a, &b));
    b = a; snprintf(b.secret_rv, sizeof(b.secret_rv), "43");          assert_false(fh_status_equal(&a, &b));
    b = a; b.bundle_name[0] = '\0';                  assert_false(fh_status_equal(&a, &b));
    b = a; b.ready_observed_generation = 1;          assert_false(fh_status_equal(&a, &b));
    b = a; b.has_ready = false;                      assert_false(fh_status_equal(&a, &b));
    b = a; snprintf(b.status, sizeof(b.status), "Error");             assert_false(fh_status_equal(&a, &b));
    assert_false(fh_status_equal(&a, NULL));
}

static void
test_patch_body_round_trip(void **state)
{
    struct fh_status_input in = input(FH_REASON_SYNCED, NULL);
    struct fh_status a, back;
    cJSON *j, *st, *cond;
    char *body = NULL;
    size_t len = 0;

    (void)state;
    assert_int_equal(fh_status_build(NULL, &in, T0, &a), 0);
    assert_int_equal(fh_status_patch_body(&a, &body, &len), 0);
    assert_int_equal(len, strlen(body));
    j = cJSON_Parse(body);
    assert_non_null(j);
    assert_int_equal(cJSON_GetArraySize(j), 1);
    st = cJSON_GetObjectItemCaseSensitive(j, "status");
    assert_string_equal(cJSON_GetObjectItemCaseSensitive(st, "status")->valuestring, "Synced");
    assert_int_equal(cJSON_GetObjectItemCaseSensitive(st, "observedGeneration")->valueint, 7);
    assert_string_equal(cJSON_GetObjectItemCaseSensitive(st, "bundleName")->valuestring, "fh1");
    assert_string_equal(cJSON_GetObjectItemCaseSensitive(st, "secretResourceVersion")->valuestring, "42");
    assert_string_equal(cJSON_GetObjectItemCaseSensitive(st, "lastSyncTime")->valuestring, T0S);
    assert_int_equal(cJSON_GetArraySize(cJSON_GetObjectItemCaseSensitive(st, "conditions")), 1);
    cond = cJSON_GetArrayItem(cJSON_GetObjectItemCaseSensitive(st, "conditions"), 0);
    assert_string_equal(cJSON_GetObjectItemCaseSensitive(cond, "type")->valuestring, "Ready");
    assert_string_equal(cJSON_GetObjectItemCaseSensitive(cond, "status")->valuestring, "True");
    assert_string_equal(cJSON_GetObjectItemCaseSensitive(cond, "lastTransitionTime")->valuestring, T0S);
    assert_int_equal(cJSON_GetObjectItemCaseSensitive(cond, "observedGeneration")->valueint, 7);
    /* What we write reads back equal, so it is not written again. */
    fh_status_from_json(st, &back);
    assert_true(fh_status_equal(&a, &back));
    assert_string_equal(back.ready_ltt, a.ready_ltt);
    cJSON_Delete(j);
    free(body);
}

static void
test_patch_body_nulls_empty_fields(void **state)
{
    struct fh_status_input in = input(FH_REASON_BUNDLE_CONFLICT, "x");
    struct fh_status a;
    cJSON *j, *st;
    char *body = NULL;
    size_t len = 0;

    (void)state;
    assert_int_equal(fh_status_build(NULL, &in, T0, &a), 0);
    assert_int_equal(fh_status_patch_body(&a, &body, &len), 0);
    j = cJSON_Parse(body);
    st = cJSON_GetObjectItemCaseSensitive(j, "status");
    assert_true(cJSON_IsNull(cJSON_GetObjectItemCaseSensitive(st, "bundleName")));
    assert_true(cJSON_IsNull(cJSON_GetObjectItemCaseSensitive(st, "secretResourceVersion")));
    assert_true(cJSON_IsNull(cJSON_GetObjectItemCaseSensitive(st, "lastSyncTime")));
    assert_string_equal(cJSON_GetObjectItemCaseSensitive(st, "status")->valuestring, "Error");
    cJSON_Delete(j);
    free(body);
}

static void
test_from_json_tolerates_junk(void **state)
{
    static const char json[] =
        "{\"status\":5,\"observedGeneration\":\"x\",\"conditions\":[1,{\"type\":\"Ready\","
        "\"status\":\"False\",\"observedGeneration\":1.5}]}";
    struct fh_status st;
    cJSON *j = cJSON_Parse(json);

    (void)state;
    fh_status_from_json(j, &st);
    assert_string_equal(st.status, "");
    assert_false(st.has_observed_generation);
    assert_true(st.has_ready);
    assert_string_equal(st.ready_status, "False");
    assert_false(st.has_ready_observed_generation);
    fh_status_from_json(NULL, &st);
    assert_false(st.has_ready);
    cJSON_Delete(j);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_time_format),
        cmocka_unit_test(test_reason_table),
        cmocka_unit_test(test_transition_time_carried_over),
        cmocka_unit_test(test_carry_over_fields),
        cmocka_unit_test(test_equal_ignores_timestamps_only),
        cmocka_unit_test(test_patch_body_round_trip),
        cmocka_unit_test(test_patch_body_nulls_empty_fields),
        cmocka_unit_test(test_from_json_tolerates_junk),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
