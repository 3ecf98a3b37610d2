/* test_obj_meta.c - apiserver objects -> proto_obj: what is kept, what never is. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <cjson/cJSON.h>

#include "fh_err.h"
#include "obj_meta.h"
#include "proto.h"

/* convert - parse text and convert it */
static int
convert(int res, const char *text, struct proto_obj *o)
{
    cJSON *j = cJSON_Parse(text);
    int rc;

    assert_non_null(j);
    rc = obj_meta_from_json(res, j, o);
    cJSON_Delete(j);
    return rc;
}

static void
test_fleethandshake_kept_whole_minus_bulk(void **state)
{
    struct proto_obj o;
    cJSON *back;

    (void)state;
    assert_int_equal(convert(PROTO_RES_FH,
        "{\"apiVersion\":\"riverpointtechnology.com/v1alpha1\",\"kind\":\"FleetHandshake\","
        "\"metadata\":{\"name\":\"f\",\"namespace\":\"fleet-default\",\"uid\":\"u1\","
        "\"resourceVersion\":\"42\",\"generation\":3,\"deletionTimestamp\":\"2026-01-01T00:00:00Z\","
        "\"managedFields\":[{\"manager\":\"kubectl\"}],"
        "\"annotations\":{\"kubectl.kubernetes.io/last-applied-configuration\":\"{}\",\"keep\":\"me\"}},"
        "\"spec\":{\"secretName\":\"s\",\"secretNamespace\":\"default\",\"targets\":[{\"x\":1}]}}", &o), 0);
    assert_int_equal(o.res, PROTO_RES_FH);
    assert_string_equal(o.ns, "fleet-default");
    assert_string_equal(o.name, "f");
    assert_string_equal(o.uid, "u1");
    assert_string_equal(o.rv, "42");
    assert_int_equal(o.generation, 3);
    assert_true(o.deleting);
    assert_string_equal(o.secret_ns, "default");
    assert_string_equal(o.secret_name, "s");
    back = cJSON_Parse(o.json);
    assert_non_null(back);
    assert_null(cJSON_GetObjectItem(cJSON_GetObjectItem(back, "metadata"), "managedFields"));
    assert_string_equal(cJSON_GetObjectItem(cJSON_GetObjectItem(cJSON_GetObjectItem(back, "metadata"),
                        "annotations"), "keep")->valuestring, "me");
    assert_null(strstr(o.json, "last-applied"));
    assert_non_null(strstr(o.json, "\"targets\":[{\"x\":1}]"));
    cJSON_Delete(back);
    proto_obj_clear(&o);
}

static void
test_secret_metadata_only_never_data(void **state)
{
    struct proto_obj o;

    (void)state;
    /* even if a full Secret were handed over, no data may be copied */
    assert_int_equal(convert(PROTO_RES_SECRET,
        "{\"metadata\":{\"name\":\"s\",\"namespace\":\"default\",\"uid\":\"u\",\"resourceVersion\":\"7\"},"
        "\"data\":{\"password\":\"c2VjcmV0\"},\"stringData\":{\"p\":\"secret\"}}", &o), 0);
    assert_string_equal(o.rv, "7");
    assert_null(o.json);
    assert_null(o.secret_name);
    assert_false(o.deleting);
    proto_obj_clear(&o);
}

static void
test_bundle_owner_and_annotation(void **state)
{
    struct proto_obj o;

    (void)state;
    assert_int_equal(convert(PROTO_RES_BUNDLE,
        "{\"metadata\":{\"name\":\"b\",\"namespace\":\"fleet-default\",\"uid\":\"bu\",\"resourceVersion\":\"9\","
        "\"generation\":2,\"annotations\":{\"" FH_ANNOTATION_BUILT_FROM "\":\"u1/3/su/7/v1\"},"
        "\"ownerReferences\":["
        "{\"apiVersion\":\"v1\",\"kind\":\"ConfigMap\",\"name\":\"x\",\"uid\":\"cm\",\"controller\":false},"
        "{\"apiVersion\":\"other.io/v1\",\"kind\":\"FleetHandshake\",\"name\":\"imposter\",\"uid\":\"i\",\"controller\":true},"
        "{\"apiVersion\":\"riverpointtechnology.com/v1alpha1\",\"kind\":\"FleetHandshake\",\"name\":\"f\",\"uid\":\"u1\",\"controller\":true}]}}",
        &o), 0);
    assert_int_equal(o.generation, 2);
    assert_string_equal(o.built_from, "u1/3/su/7/v1");
    assert_string_equal(o.owner_uid, "u1");
    assert_string_equal(o.owner_name, "f");
    proto_obj_clear(&o);

    /* no controller reference of ours: no owner */
    assert_int_equal(convert(PROTO_RES_BUNDLE,
        "{\"metadata\":{\"name\":\"b\",\"namespace\":\"n\",\"ownerReferences\":[{\"apiVersion\":"
        "\"riverpointtechnology.com/v1alpha1\",\"kind\":\"FleetHandshake\",\"name\":\"f\",\"uid\":\"u1\"}]}}", &o), 0);
    assert_null(o.owner_uid);
    assert_null(o.built_from);
    proto_obj_clear(&o);
}

static void
test_malformed_objects_rejected(void **state)
{
    static const char *bad[] = {
        "{}", "{\"metadata\":[]}", "{\"metadata\":{\"namespace\":\"x\"}}",
        "{\"metadata\":{\"name\":5}}", "[1,2]",
    };
    struct proto_obj o;
    char *big;

    (void)state;
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        assert_int_equal(convert(PROTO_RES_FH, bad[i], &o), -FH_EINVALIDOBJ);
        assert_null(o.name);
    }
    /* a name over the proto bound */
    big = malloc(600);
    assert_non_null(big);
    strcpy(big, "{\"metadata\":{\"name\":\"");
    memset(big + strlen(big), 'a', 300);
    strcpy(big + 21 + 300, "\"}}");
    assert_int_equal(convert(PROTO_RES_SECRET, big, &o), -FH_ETOOBIG);
    free(big);
    /* cluster-scoped object: namespace is "" */
    assert_int_equal(convert(PROTO_RES_SECRET, "{\"metadata\":{\"name\":\"n\"}}", &o), 0);
    assert_string_equal(o.ns, "");
    proto_obj_clear(&o);
    assert_int_equal(convert(99, "{\"metadata\":{\"name\":\"n\"}}", &o), -FH_EINVAL);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_fleethandshake_kept_whole_minus_bulk),
        cmocka_unit_test(test_secret_metadata_only_never_data),
        cmocka_unit_test(test_bundle_owner_and_annotation),
        cmocka_unit_test(test_malformed_objects_rejected),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
