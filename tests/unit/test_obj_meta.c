/* test_obj_meta.c - apiserver objects -> proto_obj: what is kept, what never
 * is (Secret annotations, Bundle resources), bounds (drop vs. field left
 * out), DELETED events, generation conversion, log keys. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <math.h>

#include <cmocka.h>
#include <cjson/cJSON.h>

#include "fh_err.h"
#include "obj_meta.h"
#include "proto.h"

/* convert_ev - parse text and convert it as an event (deleted or not);
 * the note or reason goes to why */
static int
convert_ev(int res, bool deleted, const char *text, struct proto_obj *o, char *why, size_t len)
{
    cJSON *j = cJSON_Parse(text);
    int rc;

    assert_non_null(j);
    rc = obj_meta_from_json(res, deleted, j, o, why, len);
    cJSON_Delete(j);
    return rc;
}

/* convert - an ADDED/MODIFIED conversion that must leave no note */
static int
convert(int res, const char *text, struct proto_obj *o)
{
    char why[512];
    int rc = convert_ev(res, false, text, o, why, sizeof(why));

    if (rc == 0 && why[0])
        fail_msg("unexpected note: %s", why);
    return rc;
}

/* encoded_has - whether the EVENT message carrying o contains needle */
static bool
encoded_has(const struct proto_obj *o, const char *needle)
{
    struct proto_msg m;
    char *buf = NULL;
    size_t len = 0;
    bool found;

    memset(&m, 0, sizeof(m));
    m.type = PROTO_EVENT;
    m.u.event.type = PROTO_EV_MODIFIED;
    m.u.event.obj = *o;
    assert_int_equal(proto_encode(&m, &buf, &len), 0);
    found = memmem(buf, len, needle, strlen(needle)) != NULL;
    free(buf);
    return found;
}

/* repeat - a heap string of n copies of c */
static char *
repeat(char c, size_t n)
{
    char *s = malloc(n + 1);

    assert_non_null(s);
    memset(s, c, n);
    s[n] = '\0';
    return s;
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


/* base64 of "hunter2-the-password", as kubectl apply leaves it in the annotation */
#define DATA_B64 "aHVudGVyMi10aGUtcGFzc3dvcmQ="
#define LAST_APPLIED \
    "\"kubectl.kubernetes.io/last-applied-configuration\":\"{\\\"apiVersion\\\":\\\"v1\\\"," \
    "\\\"data\\\":{\\\"password\\\":\\\"" DATA_B64 "\\\"},\\\"kind\\\":\\\"Secret\\\"}\""

static void
test_secret_annotations_and_labels_never_forwarded(void **state)
{
    struct proto_obj o;

    (void)state;
    /* PartialObjectMetadata of a Secret made with kubectl apply */
    assert_int_equal(convert(PROTO_RES_SECRET,
        "{\"kind\":\"PartialObjectMetadata\",\"apiVersion\":\"meta.k8s.io/v1\","
        "\"metadata\":{\"name\":\"s\",\"namespace\":\"default\",\"uid\":\"u\",\"resourceVersion\":\"7\","
        "\"labels\":{\"leak\":\"" DATA_B64 "\"},"
        "\"annotations\":{" LAST_APPLIED ",\"" FH_ANNOTATION_BUILT_FROM "\":\"" DATA_B64 "\"},"
        "\"managedFields\":[{\"fieldsV1\":{\"f:data\":{\"f:password\":{}}}}]}}", &o), 0);
    assert_string_equal(o.name, "s");
    assert_string_equal(o.rv, "7");
    assert_null(o.json);
    assert_null(o.built_from);
    assert_null(o.owner_uid);
    assert_null(o.secret_name);
    assert_false(encoded_has(&o, DATA_B64));
    assert_false(encoded_has(&o, "last-applied"));
    assert_false(encoded_has(&o, "password"));
    proto_obj_clear(&o);
}

static void
test_bundle_forwarded_fields_hold_no_data(void **state)
{
    struct proto_obj o;

    (void)state;
    /* even a whole Bundle (resources hold the Secret) gives only metadata */
    assert_int_equal(convert(PROTO_RES_BUNDLE,
        "{\"metadata\":{\"name\":\"b\",\"namespace\":\"fleet-default\",\"uid\":\"bu\",\"resourceVersion\":\"9\","
        "\"labels\":{\"app.kubernetes.io/managed-by\":\"fleet-handshake\"},"
        "\"annotations\":{" LAST_APPLIED ",\"" FH_ANNOTATION_BUILT_FROM "\":\"u1/3/su/7/v1\"},"
        "\"ownerReferences\":[{\"apiVersion\":\"riverpointtechnology.com/v1alpha1\","
        "\"kind\":\"FleetHandshake\",\"name\":\"f\",\"uid\":\"u1\",\"controller\":true}]},"
        "\"spec\":{\"resources\":[{\"name\":\"s.json\",\"content\":\"{\\\"data\\\":{\\\"password\\\":\\\""
        DATA_B64 "\\\"}}\"}]}}", &o), 0);
    assert_string_equal(o.built_from, "u1/3/su/7/v1");
    assert_string_equal(o.owner_uid, "u1");
    assert_null(o.json);
    assert_false(encoded_has(&o, DATA_B64));
    assert_false(encoded_has(&o, "password"));
    assert_false(encoded_has(&o, "managed-by"));
    proto_obj_clear(&o);
}

static void
test_fh_oversized_secret_fields_forwarded_unset(void **state)
{
    struct proto_obj o;
    char *name = repeat('n', 300), *ns = repeat('s', 260), *text, why[512];
    size_t n;
    cJSON *back;

    (void)state;
    n = strlen(name) + strlen(ns) + 256;
    text = malloc(n);
    assert_non_null(text);
    snprintf(text, n, "{\"metadata\":{\"name\":\"f\",\"namespace\":\"fleet-default\",\"uid\":\"u1\","
             "\"resourceVersion\":\"4\",\"generation\":2},\"spec\":{\"secretName\":\"%s\","
             "\"secretNamespace\":\"%s\",\"targetNamespace\":\"t\"}}", name, ns);
    assert_int_equal(convert_ev(PROTO_RES_FH, false, text, &o, why, sizeof(why)), 0);
    assert_string_equal(o.name, "f");
    assert_int_equal(o.generation, 2);
    assert_null(o.secret_name);
    assert_null(o.secret_ns);
    /* the JSON is whole: the worker sees the real spec and reports InvalidSpec */
    assert_non_null(o.json);
    back = cJSON_Parse(o.json);
    assert_non_null(back);
    assert_string_equal(cJSON_GetObjectItem(cJSON_GetObjectItem(back, "spec"), "secretName")->valuestring,
                        name);
    assert_string_equal(cJSON_GetObjectItem(cJSON_GetObjectItem(back, "spec"), "secretNamespace")->valuestring,
                        ns);
    cJSON_Delete(back);
    assert_non_null(strstr(why, "spec.secretName left out: 300 bytes long, more than the 253 allowed"));
    assert_non_null(strstr(why, "spec.secretNamespace left out: 260 bytes long"));
    assert_null(strstr(why, "nnnn"));       /* sizes, never values */
    proto_obj_clear(&o);
    free(text);
    free(name);
    free(ns);
}

static void
test_deleted_needs_only_identity(void **state)
{
    struct proto_obj o;
    char *big = repeat('x', PROTO_MAX_JSON + 10), *text, why[512];
    size_t n = strlen(big) + 512;

    (void)state;
    text = malloc(n);
    assert_non_null(text);
    /* a FleetHandshake over the JSON bound with a generation nobody wrote */
    snprintf(text, n, "{\"metadata\":{\"name\":\"f\",\"namespace\":\"fleet-default\",\"uid\":\"u1\","
             "\"resourceVersion\":\"4\",\"generation\":1e300},\"spec\":{\"secretName\":\"s\","
             "\"secretNamespace\":\"d\",\"targets\":[{\"x\":\"%s\"}]}}", big);
    assert_int_equal(convert_ev(PROTO_RES_FH, true, text, &o, why, sizeof(why)), 0);
    assert_string_equal(o.ns, "fleet-default");
    assert_string_equal(o.name, "f");
    assert_string_equal(o.uid, "u1");
    assert_string_equal(o.rv, "4");
    assert_int_equal(o.generation, 0);
    assert_null(o.json);
    assert_string_equal(o.secret_name, "s");       /* what fits is still sent */
    assert_non_null(strstr(why, "metadata.generation left out"));
    assert_non_null(strstr(why, "JSON left out"));
    proto_obj_clear(&o);
    /* the same object in an ADDED/MODIFIED event cannot be forwarded */
    assert_int_equal(convert_ev(PROTO_RES_FH, false, text, &o, why, sizeof(why)), -FH_EINVALIDOBJ);
    assert_non_null(strstr(why, "metadata.generation is not a whole number"));
    assert_null(o.name);
    snprintf(text, n, "{\"metadata\":{\"name\":\"f\",\"namespace\":\"fleet-default\",\"uid\":\"u1\","
             "\"resourceVersion\":\"4\"},\"spec\":{\"targets\":[{\"x\":\"%s\"}]}}", big);
    assert_int_equal(convert_ev(PROTO_RES_FH, false, text, &o, why, sizeof(why)), -FH_ETOOBIG);
    assert_non_null(strstr(why, "the object's JSON is"));
    assert_null(o.json);

    /* a Bundle with an over-long annotation: DELETED and MODIFIED both go through */
    free(big);
    big = repeat('b', PROTO_MAX_MESSAGE + 1);
    snprintf(text, n, "{\"metadata\":{\"name\":\"b\",\"namespace\":\"n\",\"uid\":\"bu\","
             "\"resourceVersion\":\"5\",\"annotations\":{\"" FH_ANNOTATION_BUILT_FROM "\":\"%s\"}}}",
             big);
    for (int del = 0; del < 2; del++) {
        assert_int_equal(convert_ev(PROTO_RES_BUNDLE, del, text, &o, why, sizeof(why)), 0);
        assert_string_equal(o.name, "b");
        assert_null(o.built_from);
        assert_non_null(strstr(why, "annotation " FH_ANNOTATION_BUILT_FROM " left out"));
        proto_obj_clear(&o);
    }
    /* identity over its bound drops even a DELETED event */
    free(big);
    big = repeat('r', PROTO_MAX_SHORT + 1);
    snprintf(text, n, "{\"metadata\":{\"name\":\"b\",\"namespace\":\"n\",\"resourceVersion\":\"%s\"}}", big);
    assert_int_equal(convert_ev(PROTO_RES_SECRET, true, text, &o, why, sizeof(why)), -FH_ETOOBIG);
    assert_non_null(strstr(why, "metadata.resourceVersion is 129 bytes long"));
    free(big);
    free(text);
}

struct gcase {
    const char *gen;        /* JSON text of metadata.generation, NULL = absent */
    int rc;
    int64_t want;
};

static void
test_generation_bounds(void **state)
{
    static const struct gcase cases[] = {
        { NULL, 0, 0 },
        { "null", 0, 0 },
        { "0", 0, 0 },
        { "7", 0, 7 },
        { "9007199254740992", 0, 9007199254740992LL },
        { "9007199254740994", -FH_EINVALIDOBJ, 0 },
        { "1e300", -FH_EINVALIDOBJ, 0 },
        { "-1e300", -FH_EINVALIDOBJ, 0 },
        { "9.3e18", -FH_EINVALIDOBJ, 0 },
        { "-1", -FH_EINVALIDOBJ, 0 },
        { "1.5", -FH_EINVALIDOBJ, 0 },
        { "\"3\"", -FH_EINVALIDOBJ, 0 },
        { "true", -FH_EINVALIDOBJ, 0 },
    };
    struct proto_obj o;
    char text[256];
    cJSON *j;

    (void)state;
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        int rc;

        snprintf(text, sizeof(text), "{\"metadata\":{\"name\":\"b\",\"namespace\":\"n\"%s%s}}",
                 cases[i].gen ? ",\"generation\":" : "", cases[i].gen ? cases[i].gen : "");
        rc = convert_ev(PROTO_RES_BUNDLE, false, text, &o, NULL, 0);
        if (rc != cases[i].rc || (rc == 0 && o.generation != cases[i].want))
            fail_msg("generation %s: rc %d gen %lld", cases[i].gen ? cases[i].gen : "(absent)",
                     rc, (long long)o.generation);
        proto_obj_clear(&o);
    }
    /* NaN and infinity cannot come from JSON text, but from a built tree */
    j = cJSON_Parse("{\"metadata\":{\"name\":\"b\",\"namespace\":\"n\"}}");
    assert_non_null(j);
    cJSON_AddNumberToObject(cJSON_GetObjectItem(j, "metadata"), "generation", NAN);
    assert_int_equal(obj_meta_from_json(PROTO_RES_FH, false, j, &o, NULL, 0), -FH_EINVALIDOBJ);
    cJSON_ReplaceItemInObject(cJSON_GetObjectItem(j, "metadata"), "generation",
                              cJSON_CreateNumber(INFINITY));
    assert_int_equal(obj_meta_from_json(PROTO_RES_FH, false, j, &o, NULL, 0), -FH_EINVALIDOBJ);
    cJSON_Delete(j);
}

static void
test_log_key_truncated_safely(void **state)
{
    char key[OBJ_META_KEY_LEN], *name, *text;
    struct proto_obj o;
    char why[512];
    cJSON *j;

    (void)state;
    j = cJSON_Parse("{\"metadata\":{\"name\":\"a\",\"namespace\":\"b\"}}");
    obj_meta_key(j, key, sizeof(key));
    assert_string_equal(key, "b/a");
    cJSON_Delete(j);
    j = cJSON_Parse("{\"metadata\":{\"namespace\":\"b\"}}");
    obj_meta_key(j, key, sizeof(key));
    assert_string_equal(key, "b/?");
    assert_int_equal(obj_meta_from_json(PROTO_RES_SECRET, true, j, &o, why, sizeof(why)),
                     -FH_EINVALIDOBJ);
    assert_string_equal(why, "no metadata.name");
    cJSON_Delete(j);
    obj_meta_key(NULL, key, sizeof(key));
    assert_string_equal(key, "/?");

    /* 252 ASCII bytes and a 2-byte character: the cut must not split it */
    name = malloc(300);
    assert_non_null(name);
    memset(name, 'a', 252);
    strcpy(name + 252, "\xc3\xa9zz");
    text = malloc(400);
    assert_non_null(text);
    snprintf(text, 400, "{\"metadata\":{\"name\":\"%s\",\"namespace\":\"ns\"}}", name);
    j = cJSON_Parse(text);
    assert_non_null(j);
    obj_meta_key(j, key, sizeof(key));
    assert_int_equal(strlen(key), 3 + 252 + 3);
    assert_memory_equal(key + 3 + 252, "...", 4);
    assert_int_equal(obj_meta_from_json(PROTO_RES_SECRET, false, j, &o, why, sizeof(why)),
                     -FH_ETOOBIG);
    assert_string_equal(why, "metadata.name is 256 bytes long, more than the 253 allowed");
    /* a tiny buffer is never overrun */
    obj_meta_key(j, key, 5);
    assert_string_equal(key, "ns/a");
    cJSON_Delete(j);
    free(text);
    free(name);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_fleethandshake_kept_whole_minus_bulk),
        cmocka_unit_test(test_secret_metadata_only_never_data),
        cmocka_unit_test(test_bundle_owner_and_annotation),
        cmocka_unit_test(test_malformed_objects_rejected),
        cmocka_unit_test(test_secret_annotations_and_labels_never_forwarded),
        cmocka_unit_test(test_bundle_forwarded_fields_hold_no_data),
        cmocka_unit_test(test_fh_oversized_secret_fields_forwarded_unset),
        cmocka_unit_test(test_deleted_needs_only_identity),
        cmocka_unit_test(test_generation_bounds),
        cmocka_unit_test(test_log_key_truncated_safely),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
