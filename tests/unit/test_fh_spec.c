/* test_fh_spec.c - FleetHandshake parsing, spec validation and name syntax. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>
#include <cjson/cJSON.h>

#include "fh_err.h"
#include "fh_spec.h"

#define META "\"metadata\":{\"name\":\"fh1\",\"namespace\":\"fleet-default\",\"uid\":\"u-1\",\"generation\":4}"

static void
test_parse_fields_and_status(void **state)
{
    static const char json[] =
        "{\"apiVersion\":\"riverpointtechnology.com/v1alpha1\",\"kind\":\"FleetHandshake\"," META ","
        "\"spec\":{\"secretName\":\"db\",\"secretNamespace\":\"default\",\"targetNamespace\":\"apps\","
        "\"targets\":[{\"clusterName\":\"c1\"}]},"
        "\"status\":{\"status\":\"Synced\",\"observedGeneration\":3,\"bundleName\":\"fh1\","
        "\"secretResourceVersion\":\"55\",\"lastSyncTime\":\"2025-01-01T00:00:00Z\","
        "\"conditions\":[{\"type\":\"Other\",\"status\":\"False\"},"
        "{\"type\":\"Ready\",\"status\":\"True\",\"reason\":\"Synced\",\"message\":\"m\","
        "\"lastTransitionTime\":\"2024-12-31T00:00:00Z\",\"observedGeneration\":3}]}}";
    struct fh_spec fh;

    (void)state;
    assert_int_equal(fh_spec_parse(json, &fh), 0);
    assert_string_equal(fh.name, "fh1");
    assert_string_equal(fh.ns, "fleet-default");
    assert_string_equal(fh.uid, "u-1");
    assert_int_equal(fh.generation, 4);
    assert_false(fh.deleting);
    assert_string_equal(fh.secret_name, "db");
    assert_string_equal(fh.secret_ns, "default");
    assert_string_equal(fh.target_ns, "apps");
    assert_true(cJSON_IsArray(fh.targets));
    assert_int_equal(cJSON_GetArraySize(fh.targets), 1);
    assert_string_equal(fh.cur.status, "Synced");
    assert_true(fh.cur.has_observed_generation);
    assert_int_equal(fh.cur.observed_generation, 3);
    assert_string_equal(fh.cur.bundle_name, "fh1");
    assert_string_equal(fh.cur.secret_rv, "55");
    assert_string_equal(fh.cur.last_sync, "2025-01-01T00:00:00Z");
    assert_true(fh.cur.has_ready);
    assert_string_equal(fh.cur.ready_status, "True");
    assert_string_equal(fh.cur.ready_reason, "Synced");
    assert_string_equal(fh.cur.ready_message, "m");
    assert_string_equal(fh.cur.ready_ltt, "2024-12-31T00:00:00Z");
    assert_int_equal(fh.cur.ready_observed_generation, 3);
    assert_int_equal(fh_spec_validate(&fh, NULL, 0), 0);
    fh_spec_clear(&fh);
    assert_null(fh.root);
    fh_spec_clear(&fh);     /* idempotent */
}

static void
test_parse_no_status_deleting(void **state)
{
    static const char json[] =
        "{\"metadata\":{\"name\":\"a\",\"namespace\":\"b\",\"uid\":\"c\","
        "\"deletionTimestamp\":\"2025-01-01T00:00:00Z\"},\"spec\":{}}";
    struct fh_spec fh;

    (void)state;
    assert_int_equal(fh_spec_parse(json, &fh), 0);
    assert_true(fh.deleting);
    assert_int_equal(fh.generation, 0);
    assert_null(fh.secret_name);
    assert_null(fh.targets);
    assert_false(fh.cur.has_ready);
    assert_string_equal(fh.cur.status, "");
    fh_spec_clear(&fh);
}

static void
test_parse_out_of_range_numbers(void **state)
{
    static const char json[] =
        "{\"metadata\":{\"name\":\"a\",\"namespace\":\"b\",\"uid\":\"c\",\"generation\":1e300},"
        "\"status\":{\"observedGeneration\":-1e300,\"conditions\":[{\"type\":\"Ready\","
        "\"observedGeneration\":1e19}]}}";
    struct fh_spec fh;

    (void)state;
    assert_int_equal(fh_spec_parse(json, &fh), 0);
    assert_int_equal(fh.generation, 0);
    assert_false(fh.cur.has_observed_generation);
    assert_true(fh.cur.has_ready);
    assert_false(fh.cur.has_ready_observed_generation);
    fh_spec_clear(&fh);
}

static void
test_parse_rejects(void **state)
{
    static const char *const bad[] = {
        "not json",
        "[1,2]",
        "{\"metadata\":{\"namespace\":\"b\",\"uid\":\"c\"}}",
        "{\"metadata\":{\"name\":\"a\",\"uid\":\"c\"}}",
        "{\"metadata\":{\"name\":\"a\",\"namespace\":\"b\"}}",
        "{\"metadata\":{\"name\":7,\"namespace\":\"b\",\"uid\":\"c\"}}",
        "{\"metadata\":{\"name\":\"\",\"namespace\":\"b\",\"uid\":\"c\"}}",
        "{\"spec\":{}}",
    };
    struct fh_spec fh;

    (void)state;
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        assert_int_equal(fh_spec_parse(bad[i], &fh), -FH_EBADREPLY);
        assert_null(fh.root);
    }
    assert_int_equal(fh_spec_parse(NULL, &fh), -FH_EINVAL);
}

struct vcase {
    const char *spec;       /* the "spec" member's JSON, or NULL for none */
    const char *name;       /* metadata.name */
    int rc;
    const char *msg_has;    /* substring the message must contain */
};

static void
test_validate_table(void **state)
{
    static const char name64[] =
        "a123456789012345678901234567890123456789012345678901234567890123";
    static const struct vcase cases[] = {
        { "{\"secretName\":\"db\",\"secretNamespace\":\"default\",\"targetNamespace\":\"t\"}", "fh1", 0, "" },
        { "{\"secretName\":\"db.v1-x\",\"secretNamespace\":\"d\",\"targetNamespace\":\"t\",\"targets\":[]}", "fh1", 0, "" },
        { "{\"secretName\":\"db\",\"secretNamespace\":\"d\",\"targetNamespace\":\"t\",\"targets\":null}", "fh1", 0, "" },
        { NULL, "fh1", -FH_EINVAL, "spec is required" },
        { "{\"secretNamespace\":\"d\",\"targetNamespace\":\"t\"}", "fh1", -FH_EINVAL, "spec.secretName is required" },
        { "{\"secretName\":null,\"secretNamespace\":\"d\",\"targetNamespace\":\"t\"}", "fh1", -FH_EINVAL, "spec.secretName is required" },
        { "{\"secretName\":5,\"secretNamespace\":\"d\",\"targetNamespace\":\"t\"}", "fh1", -FH_EINVAL, "spec.secretName must be a string" },
        { "{\"secretName\":\"\",\"secretNamespace\":\"d\",\"targetNamespace\":\"t\"}", "fh1", -FH_EINVAL, "spec.secretName must not be empty" },
        { "{\"secretName\":\"db\",\"targetNamespace\":\"t\"}", "fh1", -FH_EINVAL, "spec.secretNamespace is required" },
        { "{\"secretName\":\"db\",\"secretNamespace\":\"d\"}", "fh1", -FH_EINVAL, "spec.targetNamespace is required" },
        { "{\"secretName\":\"My_Secret\",\"secretNamespace\":\"d\",\"targetNamespace\":\"t\"}", "fh1", -FH_EINVAL, "spec.secretName \"My_Secret\" is not a valid Secret name" },
        { "{\"secretName\":\"db\",\"secretNamespace\":\"a.b\",\"targetNamespace\":\"t\"}", "fh1", -FH_EINVAL, "spec.secretNamespace \"a.b\" is not a valid namespace" },
        { "{\"secretName\":\"db\",\"secretNamespace\":\"d\",\"targetNamespace\":\"Apps\"}", "fh1", -FH_EINVAL, "spec.targetNamespace \"Apps\"" },
        { "{\"secretName\":\"db\",\"secretNamespace\":\"d\",\"targetNamespace\":\"t\",\"targets\":{\"clusterName\":\"x\"}}", "fh1", -FH_EINVAL, "spec.targets must be a list" },
        { "{\"secretName\":\"db\",\"secretNamespace\":\"d\",\"targetNamespace\":\"t\",\"targets\":[{},3]}", "fh1", -FH_EINVAL, "spec.targets[1] must be an object" },
        /* long names work, as with the original (the Bundle just carries no name label) */
        { "{\"secretName\":\"db\",\"secretNamespace\":\"d\",\"targetNamespace\":\"t\"}", name64, 0, "" },
        /* numbers a double cannot carry exactly are refused, not corrupted */
        { "{\"secretName\":\"db\",\"secretNamespace\":\"d\",\"targetNamespace\":\"t\",\"targets\":[{\"forceSyncGeneration\":9007199254740991}]}", "fh1", 0, "" },
        { "{\"secretName\":\"db\",\"secretNamespace\":\"d\",\"targetNamespace\":\"t\",\"targets\":[{\"clusterName\":\"c\"},{\"forceSyncGeneration\":9007199254740993}]}", "fh1", -FH_EINVAL, "spec.targets[1].forceSyncGeneration holds a number of magnitude 2^53 or more (read as 9007199254740992)" },
        { "{\"secretName\":\"db\",\"secretNamespace\":\"d\",\"targetNamespace\":\"t\",\"targets\":[{\"helm\":{\"values\":{\"id\":-1e300}}}]}", "fh1", -FH_EINVAL, "spec.targets[0].id holds a number" },
    };
    char json[2048], msg[512];

    (void)state;
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        struct fh_spec fh;

        snprintf(json, sizeof(json),
                 "{\"metadata\":{\"name\":\"%s\",\"namespace\":\"ns\",\"uid\":\"u\"}%s%s}",
                 cases[i].name, cases[i].spec ? ",\"spec\":" : "", cases[i].spec ? cases[i].spec : "");
        assert_int_equal(fh_spec_parse(json, &fh), 0);
        msg[0] = 'x';
        if (fh_spec_validate(&fh, msg, sizeof(msg)) != cases[i].rc)
            fail_msg("case %zu: %s -> %s", i, json, msg);
        if (!strstr(msg, cases[i].msg_has))
            fail_msg("case %zu: message \"%s\" lacks \"%s\"", i, msg, cases[i].msg_has);
        if (cases[i].rc == 0)
            assert_string_equal(msg, "");
        fh_spec_clear(&fh);
    }
}

struct ncase {
    const char *s;
    bool label, subdomain;
};

static void
test_dns1123_table(void **state)
{
    char l63[64], l64[65], s253[254], s254[255];
    const struct ncase cases[] = {
        { "a", true, true },
        { "default", true, true },
        { "a-b-9", true, true },
        { "9a", true, true },
        { "a.b", false, true },
        { "a..b", false, false },
        { ".a", false, false },
        { "a.", false, false },
        { "-a", false, false },
        { "a-", false, false },
        { "A", false, false },
        { "a_b", false, false },
        { "", false, false },
        { "a.-b", false, false },
        { l63, true, true },
        { l64, false, true },
        { s253, false, true },
        { s254, false, false },
    };

    (void)state;
    memset(l63, 'a', 63); l63[63] = '\0';
    memset(l64, 'b', 64); l64[64] = '\0';
    memset(s253, 'c', 253); s253[253] = '\0'; s253[100] = '.';
    memset(s254, 'd', 254); s254[254] = '\0'; s254[100] = '.';
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        if (fh_dns1123_label(cases[i].s) != cases[i].label
            || fh_dns1123_subdomain(cases[i].s) != cases[i].subdomain)
            fail_msg("case %zu (\"%.20s\", len %zu)", i, cases[i].s, strlen(cases[i].s));
    }
    assert_false(fh_dns1123_label(NULL));
    assert_false(fh_dns1123_subdomain(NULL));
}


/* validate_spec - validate a FleetHandshake with this spec JSON; returns rc, msg filled */
static int
validate_spec(const char *spec, char *msg, size_t len)
{
    char json[4096];
    struct fh_spec fh;
    int rc;

    snprintf(json, sizeof(json),
             "{\"metadata\":{\"name\":\"fh1\",\"namespace\":\"ns\",\"uid\":\"u\"},\"spec\":%s}", spec);
    assert_int_equal(fh_spec_parse(json, &fh), 0);
    rc = fh_spec_validate(&fh, msg, len);
    fh_spec_clear(&fh);
    return rc;
}

static void
test_validate_over_long_names(void **state)
{
    char name[301], ns[101], spec[1024], msg[512];

    (void)state;
    /* longer than the watcher's IPC bound: it forwards the JSON, this says why */
    memset(name, 'a', 300);
    name[300] = '\0';
    snprintf(spec, sizeof(spec), "{\"secretName\":\"%s\",\"secretNamespace\":\"d\","
             "\"targetNamespace\":\"t\"}", name);
    assert_int_equal(validate_spec(spec, msg, sizeof(msg)), -FH_EINVAL);
    assert_string_equal(msg, "spec.secretName is 300 characters long; a Secret name has at most 253");
    /* 253 is still a valid Secret name */
    name[253] = '\0';
    snprintf(spec, sizeof(spec), "{\"secretName\":\"%s\",\"secretNamespace\":\"d\","
             "\"targetNamespace\":\"t\"}", name);
    assert_int_equal(validate_spec(spec, msg, sizeof(msg)), 0);

    memset(ns, 'n', 64);
    ns[64] = '\0';
    snprintf(spec, sizeof(spec), "{\"secretName\":\"s\",\"secretNamespace\":\"%s\","
             "\"targetNamespace\":\"t\"}", ns);
    assert_int_equal(validate_spec(spec, msg, sizeof(msg)), -FH_EINVAL);
    assert_string_equal(msg, "spec.secretNamespace is 64 characters long; a namespace name has at most 63");
    snprintf(spec, sizeof(spec), "{\"secretName\":\"s\",\"secretNamespace\":\"d\","
             "\"targetNamespace\":\"%s\"}", ns);
    assert_int_equal(validate_spec(spec, msg, sizeof(msg)), -FH_EINVAL);
    assert_string_equal(msg, "spec.targetNamespace is 64 characters long; a namespace name has at most 63");

    /* an invalid value is quoted, cut at 80 bytes without splitting a character */
    memset(ns, 'a', 79);
    strcpy(ns + 79, "\xc3\xa9" "bcd");
    snprintf(spec, sizeof(spec), "{\"secretName\":\"%s\",\"secretNamespace\":\"d\","
             "\"targetNamespace\":\"t\"}", ns);
    assert_int_equal(validate_spec(spec, msg, sizeof(msg)), -FH_EINVAL);
    assert_non_null(strstr(msg, "spec.secretName \"aaaaaaaaaa"));
    assert_non_null(strstr(msg, "aaa...\" is not a valid Secret name: use at most 253"));
    assert_null(strstr(msg, "\xc3"));
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_parse_fields_and_status),
        cmocka_unit_test(test_parse_no_status_deleting),
        cmocka_unit_test(test_parse_out_of_range_numbers),
        cmocka_unit_test(test_parse_rejects),
        cmocka_unit_test(test_validate_table),
        cmocka_unit_test(test_validate_over_long_names),
        cmocka_unit_test(test_dns1123_table),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
