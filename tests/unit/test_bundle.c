/* test_bundle.c - the desired Bundle and downstream Secret manifest, owned-
 * field comparison, ownership classification, merge patch, built-from
 * annotation, and the Secret-quote detector. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <cjson/cJSON.h>

#include "bundle.h"
#include "fh_err.h"
#include "fh_spec.h"
#include "proto.h"
#include "secret_mem.h"

#define ALL_BYTES_B64 \
    "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8gISIjJCUmJygpKissLS4vMDEyMzQ1Njc4OTo7PD0+P0BB" \
    "QkNERUZHSElKS0xNTk9QUVJTVFVWV1hZWltcXV5fYGFiY2RlZmdoaWprbG1ub3BxcnN0dXZ3eHl6e3x9fn+AgYKD" \
    "hIWGh4iJiouMjY6PkJGSk5SVlpeYmZqbnJ2en6ChoqOkpaanqKmqq6ytrq+wsbKztLW2t7i5uru8vb6/wMHCw8TF" \
    "xsfIycrLzM3Oz9DR0tPU1dbX2Nna29zd3t/g4eLj5OXm5+jp6uvs7e7v8PHy8/T19vf4+fr7/P3+/w=="

#define TARGETS_DEFAULT "[{\"clusterName\":\"c1\"}]"

/* get - walk a path of object keys */
static const cJSON *
get(const cJSON *o, const char *k1, const char *k2, const char *k3)
{
    o = cJSON_GetObjectItemCaseSensitive(o, k1);
    if (k2)
        o = cJSON_GetObjectItemCaseSensitive(o, k2);
    if (k3)
        o = cJSON_GetObjectItemCaseSensitive(o, k3);
    return o;
}

/* make_fh - a valid FleetHandshake with the given targets JSON (NULL: none) */
static void
make_fh(struct fh_spec *fh, const char *targets)
{
    char json[4096];

    snprintf(json, sizeof(json),
             "{\"metadata\":{\"name\":\"fh1\",\"namespace\":\"fleet-default\",\"uid\":\"fh-uid\","
             "\"generation\":3},\"spec\":{\"secretName\":\"db\",\"secretNamespace\":\"default\","
             "\"targetNamespace\":\"apps\"%s%s}}",
             targets ? ",\"targets\":" : "", targets ? targets : "");
    assert_int_equal(fh_spec_parse(json, fh), 0);
    assert_int_equal(fh_spec_validate(fh, NULL, 0), 0);
}

/* make_secret - a Secret whose body after "metadata" is rest (e.g. "\"data\":{}") */
static cJSON *
make_secret(const char *rest)
{
    char *json;
    cJSON *s;
    size_t n = strlen(rest) + 256;

    json = malloc(n);
    assert_non_null(json);
    snprintf(json, n, "{\"apiVersion\":\"v1\",\"kind\":\"Secret\",\"metadata\":{\"name\":\"db\","
             "\"namespace\":\"default\",\"uid\":\"s-uid\",\"resourceVersion\":\"42\","
             "\"labels\":{\"l\":\"v\"}}%s%s}", *rest ? "," : "", rest);
    s = cJSON_Parse(json);
    free(json);
    assert_non_null(s);
    return s;
}

/* content_of - the manifest text inside a built Bundle */
static const char *
content_of(const cJSON *b)
{
    const cJSON *r = cJSON_GetArrayItem(get(b, "spec", "resources", NULL), 0);

    return cJSON_GetObjectItemCaseSensitive(r, "content")->valuestring;
}

static void
test_build_shape(void **state)
{
    struct fh_spec fh;
    cJSON *sec = make_secret("\"type\":\"Opaque\",\"data\":{\"k\":\"dmFsdWU=\"}");
    cJSON *b = NULL;
    const cJSON *md, *ref, *res;

    (void)state;
    make_fh(&fh, TARGETS_DEFAULT);
    assert_int_equal(bundle_build(&fh, sec, &b), 0);
    assert_string_equal(get(b, "apiVersion", NULL, NULL)->valuestring, "fleet.cattle.io/v1alpha1");
    assert_string_equal(get(b, "kind", NULL, NULL)->valuestring, "Bundle");
    md = get(b, "metadata", NULL, NULL);
    assert_string_equal(get(md, "name", NULL, NULL)->valuestring, "fh1");
    assert_string_equal(get(md, "namespace", NULL, NULL)->valuestring, "fleet-default");
    assert_int_equal(cJSON_GetArraySize(get(md, "labels", NULL, NULL)), 3);
    assert_string_equal(get(md, "labels", "app.kubernetes.io/managed-by", NULL)->valuestring, "fleet-handshake");
    assert_string_equal(get(md, "labels", "app.kubernetes.io/name", NULL)->valuestring, "fleet-handshake");
    assert_string_equal(get(md, "labels", "fleethandshake.riverpointtechnology.com/name", NULL)->valuestring, "fh1");
    assert_string_equal(get(md, "annotations", "fleethandshake.riverpointtechnology.com/built-from", NULL)->valuestring,
                        "fh-uid/3/s-uid/42/v1");
    assert_int_equal(cJSON_GetArraySize(get(md, "ownerReferences", NULL, NULL)), 1);
    ref = cJSON_GetArrayItem(get(md, "ownerReferences", NULL, NULL), 0);
    assert_string_equal(get(ref, "apiVersion", NULL, NULL)->valuestring, "riverpointtechnology.com/v1alpha1");
    assert_string_equal(get(ref, "kind", NULL, NULL)->valuestring, "FleetHandshake");
    assert_string_equal(get(ref, "name", NULL, NULL)->valuestring, "fh1");
    assert_string_equal(get(ref, "uid", NULL, NULL)->valuestring, "fh-uid");
    assert_true(cJSON_IsTrue(get(ref, "controller", NULL, NULL)));
    assert_true(cJSON_IsTrue(get(ref, "blockOwnerDeletion", NULL, NULL)));
    res = get(b, "spec", "resources", NULL);
    assert_int_equal(cJSON_GetArraySize(res), 1);
    assert_string_equal(get(cJSON_GetArrayItem(res, 0), "name", NULL, NULL)->valuestring, "db.json");
    assert_null(get(cJSON_GetArrayItem(res, 0), "encoding", NULL, NULL));
    assert_string_equal(content_of(b),
                        "{\"apiVersion\":\"v1\",\"kind\":\"Secret\",\"metadata\":{\"name\":\"db\","
                        "\"namespace\":\"apps\"},\"type\":\"Opaque\",\"data\":{\"k\":\"dmFsdWU=\"}}");
    assert_string_equal(get(b, "spec", "defaultNamespace", NULL)->valuestring, "apps");
    assert_int_equal(cJSON_GetArraySize(get(b, "spec", NULL, NULL)), 3);
    secret_json_free(&b);
    assert_null(b);
    /* no targets at all -> an empty list */
    fh_spec_clear(&fh);
    make_fh(&fh, NULL);
    assert_int_equal(bundle_build(&fh, sec, &b), 0);
    assert_true(cJSON_IsArray(get(b, "spec", "targets", NULL)));
    assert_int_equal(cJSON_GetArraySize(get(b, "spec", "targets", NULL)), 0);
    secret_json_free(&b);
    secret_json_free(&sec);
    fh_spec_clear(&fh);
}

struct mcase {
    const char *name;
    const char *secret;     /* body after metadata */
    const char *want;       /* exact manifest */
};

#define MHEAD "{\"apiVersion\":\"v1\",\"kind\":\"Secret\",\"metadata\":{\"name\":\"db\",\"namespace\":\"apps\"},"

static void
test_manifest_table(void **state)
{
    static const struct mcase cases[] = {
        { "binary data copied exactly", "\"data\":{\"bin\":\"" ALL_BYTES_B64 "\"}",
          MHEAD "\"type\":\"Opaque\",\"data\":{\"bin\":\"" ALL_BYTES_B64 "\"}}" },
        { "type kept", "\"type\":\"kubernetes.io/tls\",\"data\":{\"tls.crt\":\"YQ==\",\"tls.key\":\"Yg==\"}",
          MHEAD "\"type\":\"kubernetes.io/tls\",\"data\":{\"tls.crt\":\"YQ==\",\"tls.key\":\"Yg==\"}}" },
        { "no type -> Opaque", "\"data\":{\"a\":\"YQ==\"}",
          MHEAD "\"type\":\"Opaque\",\"data\":{\"a\":\"YQ==\"}}" },
        { "empty type -> Opaque", "\"type\":\"\",\"data\":{}",
          MHEAD "\"type\":\"Opaque\",\"data\":{}}" },
        { "empty data", "\"type\":\"Opaque\",\"data\":{}",
          MHEAD "\"type\":\"Opaque\",\"data\":{}}" },
        { "no data at all", "",
          MHEAD "\"type\":\"Opaque\",\"data\":{}}" },
        { "null data", "\"data\":null",
          MHEAD "\"type\":\"Opaque\",\"data\":{}}" },
        { "stringData folded, wins, sorted",
          "\"data\":{\"z\":\"eg==\",\"a\":\"YQ==\"},\"stringData\":{\"a\":\"override\",\"b\":\"h\xc3\xa9llo\",\"c\":\"abc\",\"d\":\"ab\",\"e\":\"\"}",
          MHEAD "\"type\":\"Opaque\",\"data\":{\"a\":\"b3ZlcnJpZGU=\",\"b\":\"aMOpbGxv\",\"c\":\"YWJj\",\"d\":\"YWI=\",\"e\":\"\",\"z\":\"eg==\"}}" },
        /* immutable is not copied: the copy must be able to take the next version */
        { "immutable true dropped", "\"immutable\":true,\"data\":{\"a\":\"YQ==\"}",
          MHEAD "\"type\":\"Opaque\",\"data\":{\"a\":\"YQ==\"}}" },
        { "immutable false dropped", "\"immutable\":false",
          MHEAD "\"type\":\"Opaque\",\"data\":{}}" },
        { "labels/annotations not copied", "\"data\":{\"a\":\"YQ==\"},\"metadata2\":{\"x\":1}",
          MHEAD "\"type\":\"Opaque\",\"data\":{\"a\":\"YQ==\"}}" },
    };

    (void)state;
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        cJSON *sec = make_secret(cases[i].secret);
        char *out = NULL;
        size_t len = 0;

        assert_int_equal(bundle_secret_manifest(sec, "apps", &out, &len), 0);
        if (strcmp(out, cases[i].want) != 0)
            fail_msg("%s:\n got  %s\n want %s", cases[i].name, out, cases[i].want);
        assert_int_equal(len, strlen(out));
        secret_free(&out, len);
        assert_null(out);
        secret_json_free(&sec);
    }
}

static void
test_manifest_rejects(void **state)
{
    static const char *const bad[] = {
        "\"data\":[]",
        "\"data\":{\"a\":1}",
        "\"data\":\"x\"",
        "\"stringData\":{\"a\":null}",
        "\"stringData\":[1]",
    };
    char *out = NULL;
    size_t len;
    cJSON *sec;

    (void)state;
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        sec = make_secret(bad[i]);
        assert_int_equal(bundle_secret_manifest(sec, "apps", &out, &len), -FH_EBADREPLY);
        assert_null(out);
        secret_json_free(&sec);
    }
    sec = cJSON_Parse("{\"metadata\":{\"namespace\":\"d\"},\"data\":{}}");
    assert_int_equal(bundle_secret_manifest(sec, "apps", &out, &len), -FH_EBADREPLY);
    secret_json_free(&sec);
}

static void
test_one_mib_secret(void **state)
{
    const size_t n = 1024 * 1024;
    char *val = malloc(n + 1), *body;
    struct fh_spec fh;
    cJSON *sec, *b = NULL, *m;
    char *printed = NULL;
    size_t plen = 0;

    (void)state;
    assert_non_null(val);
    for (size_t i = 0; i < n; i++)
        val[i] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"[i % 64];
    val[n] = '\0';
    body = malloc(n + 64);
    snprintf(body, n + 64, "\"data\":{\"big\":\"%s\"}", val);
    sec = make_secret(body);
    make_fh(&fh, TARGETS_DEFAULT);
    assert_int_equal(bundle_build(&fh, sec, &b), 0);
    m = cJSON_Parse(content_of(b));
    assert_non_null(m);
    assert_int_equal(strlen(get(m, "data", "big", NULL)->valuestring), n);
    assert_memory_equal(get(m, "data", "big", NULL)->valuestring, val, n);
    assert_int_equal(bundle_print(b, &printed, &plen), 0);
    assert_true(plen > n);
    assert_int_equal(plen, strlen(printed));
    secret_free(&printed, plen);
    secret_json_free(&m);
    secret_json_free(&b);
    secret_json_free(&sec);
    fh_spec_clear(&fh);
    free(body);
    free(val);
}

static void
test_targets_pass_through_byte_for_byte(void **state)
{
    static const char targets[] =
        "[{\"name\":\"prod\",\"clusterSelector\":{\"matchLabels\":{\"env\":\"prod\"},"
        "\"matchExpressions\":[{\"key\":\"tier\",\"operator\":\"In\",\"values\":[\"a\",\"b\"]}]},"
        "\"futureField\":{\"nested\":[1,2.5,true,null,{\"x\":\"\\u00e9\\\"q\\\"\"}]},"
        "\"helm\":{\"values\":{\"replicas\":3,\"deep\":{\"k\":[]}}},\"doNotDeploy\":false},"
        "{\"clusterGroup\":\"g\",\"correctDrift\":{\"enabled\":true}}]";
    struct fh_spec fh;
    cJSON *sec = make_secret("\"data\":{}"), *b = NULL;
    char *txt;

    (void)state;
    make_fh(&fh, targets);
    assert_int_equal(bundle_build(&fh, sec, &b), 0);
    txt = cJSON_PrintUnformatted(get(b, "spec", "targets", NULL));
    /* cJSON writes \u00e9 back as the UTF-8 bytes; everything else is identical. */
    {
        char want[sizeof(targets)];
        char *p;

        snprintf(want, sizeof(want), "%s", targets);
        p = strstr(want, "\\u00e9");
        assert_non_null(p);
        p[0] = '\xc3';
        p[1] = '\xa9';
        memmove(p + 2, p + 6, strlen(p + 6) + 1);
        assert_string_equal(txt, want);
    }
    free(txt);
    secret_json_free(&b);
    secret_json_free(&sec);
    fh_spec_clear(&fh);
}

static void
test_deterministic(void **state)
{
    struct fh_spec fh;
    cJSON *s1 = make_secret("\"type\":\"Opaque\",\"data\":{\"b\":\"Yg==\",\"a\":\"YQ==\",\"c\":\"Yw==\"}");
    cJSON *s2 = make_secret("\"data\":{\"c\":\"Yw==\",\"a\":\"YQ==\",\"b\":\"Yg==\"},\"type\":\"Opaque\"");
    cJSON *b1 = NULL, *b2 = NULL, *b3 = NULL;
    char *p1 = NULL, *p2 = NULL, *p3 = NULL;
    size_t l1, l2, l3;

    (void)state;
    make_fh(&fh, TARGETS_DEFAULT);
    assert_int_equal(bundle_build(&fh, s1, &b1), 0);
    assert_int_equal(bundle_build(&fh, s1, &b2), 0);
    assert_int_equal(bundle_build(&fh, s2, &b3), 0);
    assert_int_equal(bundle_print(b1, &p1, &l1), 0);
    assert_int_equal(bundle_print(b2, &p2, &l2), 0);
    assert_int_equal(bundle_print(b3, &p3, &l3), 0);
    assert_int_equal(l1, l2);
    assert_memory_equal(p1, p2, l1);
    /* data listed in another order gives the same bytes */
    assert_int_equal(l1, l3);
    assert_memory_equal(p1, p3, l1);
    secret_free(&p1, l1);
    secret_free(&p2, l2);
    secret_free(&p3, l3);
    secret_json_free(&b1);
    secret_json_free(&b2);
    secret_json_free(&b3);
    secret_json_free(&s1);
    secret_json_free(&s2);
    fh_spec_clear(&fh);
}

static void
test_print_retries_when_estimate_short(void **state)
{
    /* Control characters print as \u00XX (6 bytes each): more than the
     * 2x estimate, so bundle_print has to grow its buffer. */
    char val[4001];
    cJSON *o = cJSON_CreateObject();
    char *out = NULL, *ref;
    size_t len = 0;

    (void)state;
    memset(val, '\x01', sizeof(val) - 1);
    val[sizeof(val) - 1] = '\0';
    cJSON_AddStringToObject(o, "v", val);
    assert_int_equal(bundle_print(o, &out, &len), 0);
    ref = cJSON_PrintUnformatted(o);
    assert_string_equal(out, ref);
    assert_int_equal(len, 4000 * 6 + 8);
    free(ref);
    secret_free(&out, len);
    cJSON_Delete(o);
}

/* live_from - a copy of desired as Fleet's API server would return it */
static cJSON *
live_from(const cJSON *desired)
{
    cJSON *live = cJSON_Duplicate(desired, 1);
    cJSON *md = cJSON_GetObjectItemCaseSensitive(live, "metadata");
    cJSON *spec = cJSON_GetObjectItemCaseSensitive(live, "spec");
    cJSON *refs = cJSON_GetObjectItemCaseSensitive(md, "ownerReferences");
    cJSON *other = cJSON_Parse("{\"apiVersion\":\"v1\",\"kind\":\"ConfigMap\",\"name\":\"x\",\"uid\":\"cm\"}");

    cJSON_AddStringToObject(md, "resourceVersion", "900");
    cJSON_AddStringToObject(md, "uid", "bundle-uid");
    cJSON_AddNumberToObject(md, "generation", 2);
    cJSON_AddArrayToObject(md, "finalizers");
    cJSON_AddStringToObject(cJSON_GetObjectItemCaseSensitive(md, "labels"), "team", "a");
    cJSON_AddStringToObject(cJSON_GetObjectItemCaseSensitive(md, "annotations"), "note", "hand");
    cJSON_AddItemToArray(refs, other);
    cJSON_AddStringToObject(spec, "targetCustomizationMode", "FirstMatch");
    cJSON_AddItemToObject(spec, "rolloutStrategy", cJSON_Parse("{\"maxUnavailable\":\"100%\"}"));
    cJSON_AddItemToObject(live, "status", cJSON_Parse("{\"summary\":{\"ready\":1},\"observedGeneration\":2}"));
    return live;
}

typedef void (*mutate_fn)(cJSON *live);

static void m_content(cJSON *l) { cJSON *r = cJSON_GetArrayItem(cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(l, "spec"), "resources"), 0); cJSON_ReplaceItemInObjectCaseSensitive(r, "content", cJSON_CreateString("{}")); }
static void m_res_name(cJSON *l) { cJSON *r = cJSON_GetArrayItem(cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(l, "spec"), "resources"), 0); cJSON_ReplaceItemInObjectCaseSensitive(r, "name", cJSON_CreateString("x.json")); }
static void m_encoding(cJSON *l) { cJSON *r = cJSON_GetArrayItem(cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(l, "spec"), "resources"), 0); cJSON_AddStringToObject(r, "encoding", "base64+gz"); }
static void m_extra_res(cJSON *l) { cJSON_AddItemToArray(cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(l, "spec"), "resources"), cJSON_Parse("{\"name\":\"y\",\"content\":\"\"}")); }
static void m_no_res(cJSON *l) { cJSON_DeleteItemFromObjectCaseSensitive(cJSON_GetObjectItemCaseSensitive(l, "spec"), "resources"); }
static void m_targets(cJSON *l) { cJSON_ReplaceItemInObjectCaseSensitive(cJSON_GetObjectItemCaseSensitive(l, "spec"), "targets", cJSON_Parse("[{\"clusterName\":\"c2\"}]")); }
static void m_target_field(cJSON *l) { cJSON_AddStringToObject(cJSON_GetArrayItem(cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(l, "spec"), "targets"), 0), "namespace", "x"); }
static void m_defns(cJSON *l) { cJSON_ReplaceItemInObjectCaseSensitive(cJSON_GetObjectItemCaseSensitive(l, "spec"), "defaultNamespace", cJSON_CreateString("other")); }
static void m_no_defns(cJSON *l) { cJSON_DeleteItemFromObjectCaseSensitive(cJSON_GetObjectItemCaseSensitive(l, "spec"), "defaultNamespace"); }
static void m_label(cJSON *l) { cJSON_ReplaceItemInObjectCaseSensitive(cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(l, "metadata"), "labels"), "app.kubernetes.io/managed-by", cJSON_CreateString("helm")); }
static void m_no_labels(cJSON *l) { cJSON_DeleteItemFromObjectCaseSensitive(cJSON_GetObjectItemCaseSensitive(l, "metadata"), "labels"); }
static void m_ann(cJSON *l) { cJSON_DeleteItemFromObjectCaseSensitive(cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(l, "metadata"), "annotations"), "fleethandshake.riverpointtechnology.com/built-from"); }
static void m_no_refs(cJSON *l) { cJSON_DeleteItemFromObjectCaseSensitive(cJSON_GetObjectItemCaseSensitive(l, "metadata"), "ownerReferences"); }
static void m_ref_uid(cJSON *l) { cJSON *r = cJSON_GetArrayItem(cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(l, "metadata"), "ownerReferences"), 0); cJSON_ReplaceItemInObjectCaseSensitive(r, "uid", cJSON_CreateString("other")); }
static void m_spec_set(cJSON *l, const char *k, cJSON *v) { cJSON *sp = cJSON_GetObjectItemCaseSensitive(l, "spec"); cJSON_DeleteItemFromObjectCaseSensitive(sp, k); cJSON_AddItemToObject(sp, k, v); }
static void m_namespace(cJSON *l) { m_spec_set(l, "namespace", cJSON_CreateString("evil")); }
static void m_paused(cJSON *l) { m_spec_set(l, "paused", cJSON_CreateTrue()); }
static void m_keep(cJSON *l) { m_spec_set(l, "keepResources", cJSON_CreateTrue()); }
static void m_delns(cJSON *l) { m_spec_set(l, "deleteNamespace", cJSON_CreateTrue()); }
static void m_depends(cJSON *l) { m_spec_set(l, "dependsOn", cJSON_Parse("[{\"name\":\"x\"}]")); }
static void m_restrict(cJSON *l) { m_spec_set(l, "targetRestrictions", cJSON_Parse("[{\"clusterName\":\"c\"}]")); }
static void m_ref_ctl(cJSON *l) { cJSON *r = cJSON_GetArrayItem(cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(l, "metadata"), "ownerReferences"), 0); cJSON_DeleteItemFromObjectCaseSensitive(r, "controller"); }

static void
test_owned_equal(void **state)
{
    static const struct { const char *name; mutate_fn fn; } diffs[] = {
        { "content", m_content }, { "resource name", m_res_name }, { "encoding", m_encoding },
        { "extra resource", m_extra_res }, { "no resources", m_no_res }, { "targets", m_targets },
        { "target field", m_target_field }, { "defaultNamespace", m_defns },
        { "no defaultNamespace", m_no_defns }, { "label value", m_label },
        { "labels gone", m_no_labels }, { "annotation gone", m_ann }, { "no ownerRefs", m_no_refs },
        { "ownerRef uid", m_ref_uid }, { "ownerRef not controller", m_ref_ctl },
        { "spec.namespace set", m_namespace }, { "paused", m_paused },
        { "keepResources", m_keep }, { "deleteNamespace", m_delns },
        { "dependsOn", m_depends }, { "targetRestrictions", m_restrict },
    };
    struct fh_spec fh;
    cJSON *sec = make_secret("\"data\":{\"a\":\"YQ==\"}"), *d = NULL, *live;
    bool eq = false;

    (void)state;
    make_fh(&fh, TARGETS_DEFAULT);
    assert_int_equal(bundle_build(&fh, sec, &d), 0);
    /* Fleet defaults, extra labels/annotations/ownerRefs and status are ignored. */
    live = live_from(d);
    assert_int_equal(bundle_owned_equal(d, live, &eq), 0);
    assert_true(eq);
    secret_json_free(&live);
    /* the must-be-absent fields may come back as null, false or empty */
    live = live_from(d);
    m_spec_set(live, "namespace", cJSON_CreateString(""));
    m_spec_set(live, "paused", cJSON_CreateFalse());
    m_spec_set(live, "dependsOn", cJSON_CreateArray());
    m_spec_set(live, "keepResources", cJSON_CreateNull());
    assert_int_equal(bundle_owned_equal(d, live, &eq), 0);
    assert_true(eq);
    secret_json_free(&live);
    for (size_t i = 0; i < sizeof(diffs) / sizeof(diffs[0]); i++) {
        live = live_from(d);
        diffs[i].fn(live);
        eq = true;
        assert_int_equal(bundle_owned_equal(d, live, &eq), 0);
        if (eq)
            fail_msg("difference in %s not seen", diffs[i].name);
        secret_json_free(&live);
    }
    assert_int_equal(bundle_owned_equal(d, NULL, &eq), -FH_EINVAL);
    secret_json_free(&d);
    /* empty target lists compare equal whatever their form */
    fh_spec_clear(&fh);
    make_fh(&fh, "[]");
    assert_int_equal(bundle_build(&fh, sec, &d), 0);
    live = live_from(d);
    cJSON_DeleteItemFromObjectCaseSensitive(cJSON_GetObjectItemCaseSensitive(live, "spec"), "targets");
    assert_int_equal(bundle_owned_equal(d, live, &eq), 0);
    assert_true(eq);
    secret_json_free(&live);
    secret_json_free(&d);
    secret_json_free(&sec);
    fh_spec_clear(&fh);
}

struct ocase {
    const char *name;
    const char *meta;           /* metadata object JSON */
    bool wrap;                  /* pass {"metadata":...} instead of the bare metadata */
    enum bundle_owner want;
};

#define OREF(ctl, uid, name) "{\"apiVersion\":\"riverpointtechnology.com/v1alpha1\",\"kind\":\"FleetHandshake\"," \
    "\"name\":\"" name "\",\"uid\":\"" uid "\"" ctl "}"
#define CTL ",\"controller\":true,\"blockOwnerDeletion\":true"
#define OURLABELS "\"labels\":{\"app.kubernetes.io/managed-by\":\"fleet-handshake\"," \
    "\"fleethandshake.riverpointtechnology.com/name\":\"fh1\"}"

#define LONG70 "a123456789b123456789c123456789d123456789e123456789f123456789g123456789"

static void
test_ownership_table(void **state)
{
    static const struct ocase cases[] = {
        { "controller ref ours", "{\"name\":\"fh1\",\"ownerReferences\":[" OREF(CTL, "fh-uid", "fh1") "]}", true, BUNDLE_OURS },
        { "bare metadata works", "{\"name\":\"fh1\",\"ownerReferences\":[" OREF(CTL, "fh-uid", "fh1") "]}", false, BUNDLE_OURS },
        { "other version of our API", "{\"name\":\"fh1\",\"ownerReferences\":[{\"apiVersion\":\"riverpointtechnology.com/v1beta1\",\"kind\":\"FleetHandshake\",\"name\":\"fh1\",\"uid\":\"fh-uid\",\"controller\":true}]}", true, BUNDLE_OURS },
        { "original operator: plain ref to our uid", "{\"name\":\"fh1\",\"ownerReferences\":[" OREF("", "fh-uid", "fh1") "]}", true, BUNDLE_OURS },
        { "orphan with our labels", "{\"name\":\"fh1\"," OURLABELS "}", true, BUNDLE_ORPHAN_OURS },
        { "orphan with our labels and a foreign plain ref", "{\"name\":\"fh1\"," OURLABELS ",\"ownerReferences\":[{\"apiVersion\":\"v1\",\"kind\":\"ConfigMap\",\"name\":\"c\",\"uid\":\"x\"}]}", true, BUNDLE_ORPHAN_OURS },
        { "our labels, name label for another", "{\"name\":\"fh2\"," OURLABELS "}", true, BUNDLE_FOREIGN },
        { "managed-by someone else", "{\"name\":\"fh1\",\"labels\":{\"app.kubernetes.io/managed-by\":\"helm\",\"fleethandshake.riverpointtechnology.com/name\":\"fh1\"}}", true, BUNDLE_FOREIGN },
        { "earlier FH of same name (controller)", "{\"name\":\"fh1\"," OURLABELS ",\"ownerReferences\":[" OREF(CTL, "old-uid", "fh1") "]}", true, BUNDLE_PREVIOUS_OWNER },
        { "earlier FH of same name (plain, original operator)", "{\"name\":\"fh1\",\"ownerReferences\":[" OREF("", "old-uid", "fh1") "]}", true, BUNDLE_PREVIOUS_OWNER },
        { "controller FH of another name", "{\"name\":\"fh1\"," OURLABELS ",\"ownerReferences\":[" OREF(CTL, "x", "fh9") "]}", true, BUNDLE_FOREIGN },
        { "GitRepo bundle", "{\"name\":\"fh1\",\"labels\":{\"fleet.cattle.io/repo-name\":\"app\"},\"ownerReferences\":[{\"apiVersion\":\"fleet.cattle.io/v1alpha1\",\"kind\":\"GitRepo\",\"name\":\"app\",\"uid\":\"g\",\"controller\":true}]}", true, BUNDLE_FOREIGN },
        { "our labels but another controller", "{\"name\":\"fh1\"," OURLABELS ",\"ownerReferences\":[{\"apiVersion\":\"fleet.cattle.io/v1alpha1\",\"kind\":\"HelmOp\",\"name\":\"h\",\"uid\":\"h\",\"controller\":true}]}", true, BUNDLE_FOREIGN },
        { "Kind from another group", "{\"name\":\"fh1\",\"ownerReferences\":[{\"apiVersion\":\"example.com/v1\",\"kind\":\"FleetHandshake\",\"name\":\"fh1\",\"uid\":\"fh-uid\",\"controller\":true}]}", true, BUNDLE_FOREIGN },
        { "group prefix is not enough", "{\"name\":\"fh1\",\"ownerReferences\":[{\"apiVersion\":\"riverpointtechnology.com.evil/v1\",\"kind\":\"FleetHandshake\",\"name\":\"fh1\",\"uid\":\"fh-uid\",\"controller\":true}]}", true, BUNDLE_FOREIGN },
        { "hand-made, nothing", "{\"name\":\"fh1\"}", true, BUNDLE_FOREIGN },
        /* names too long for a label value: our managed-by label alone */
        { "orphan with a long name", "{\"name\":\"" LONG70 "\",\"labels\":{\"app.kubernetes.io/managed-by\":\"fleet-handshake\"}}", true, BUNDLE_ORPHAN_OURS },
        { "short name needs the name label", "{\"name\":\"fh1\",\"labels\":{\"app.kubernetes.io/managed-by\":\"fleet-handshake\"}}", true, BUNDLE_FOREIGN },
    };
    char json[2048];

    (void)state;
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        enum bundle_owner got = BUNDLE_OURS;
        cJSON *o;

        snprintf(json, sizeof(json), cases[i].wrap ? "{\"metadata\":%s,\"spec\":{}}" : "%s", cases[i].meta);
        o = cJSON_Parse(json);
        assert_non_null(o);
        assert_int_equal(bundle_ownership(o, "fh-uid", &got), 0);
        if (got != cases[i].want)
            fail_msg("%s: got %s want %s", cases[i].name, bundle_owner_name(got),
                     bundle_owner_name(cases[i].want));
        cJSON_Delete(o);
    }
    assert_int_equal(bundle_ownership(NULL, "x", &(enum bundle_owner){ 0 }), -FH_EINVAL);
}

/* A FleetHandshake name longer than a label value: the Bundle works without
 * the name label (the original accepted such names too). */
static void
test_long_name_has_no_name_label(void **state)
{
    struct fh_spec fh;
    cJSON *sec = make_secret("\"data\":{}"), *d = NULL;
    const cJSON *labels;
    char json[1024];

    (void)state;
    snprintf(json, sizeof(json),
             "{\"metadata\":{\"name\":\"" LONG70 "\",\"namespace\":\"fleet-default\",\"uid\":\"fh-uid\","
             "\"generation\":1},\"spec\":{\"secretName\":\"db\",\"secretNamespace\":\"default\","
             "\"targetNamespace\":\"apps\"}}");
    assert_int_equal(fh_spec_parse(json, &fh), 0);
    assert_int_equal(fh_spec_validate(&fh, NULL, 0), 0);
    assert_int_equal(bundle_build(&fh, sec, &d), 0);
    labels = cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(d, "metadata"), "labels");
    assert_null(cJSON_GetObjectItemCaseSensitive(labels, BUNDLE_LABEL_FH_NAME));
    assert_string_equal(cJSON_GetObjectItemCaseSensitive(labels, BUNDLE_LABEL_MANAGED_BY)->valuestring,
                        BUNDLE_LABEL_VALUE);
    assert_string_equal(cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(d, "metadata"),
                                                         "name")->valuestring, LONG70);
    secret_json_free(&d);
    secret_json_free(&sec);
    fh_spec_clear(&fh);
}

static void
test_describe_owner(void **state)
{
    static const struct { const char *json, *want; } cases[] = {
        { "{\"metadata\":{\"ownerReferences\":[{\"kind\":\"GitRepo\",\"name\":\"app\",\"controller\":true}]}}", "controlled by GitRepo \"app\"" },
        { "{\"metadata\":{\"labels\":{\"fleet.cattle.io/repo-name\":\"r\"}}}", "created by GitRepo \"r\"" },
        { "{\"metadata\":{\"labels\":{\"fleet.cattle.io/fleet-helm-name\":\"h\"}}}", "created by HelmOp \"h\"" },
        { "{\"metadata\":{}}", "not created by fleet-handshake" },
    };
    char buf[256];

    (void)state;
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        cJSON *o = cJSON_Parse(cases[i].json);

        bundle_describe_owner(o, buf, sizeof(buf));
        if (!strstr(buf, cases[i].want))
            fail_msg("case %zu: \"%s\"", i, buf);
        cJSON_Delete(o);
    }
}

static void
test_merge_patch(void **state)
{
    struct fh_spec fh;
    cJSON *sec = make_secret("\"data\":{\"a\":\"YQ==\"}"), *d = NULL, *p;
    const cJSON *md, *spec;
    char *body = NULL;
    size_t len = 0;

    (void)state;
    make_fh(&fh, TARGETS_DEFAULT);
    assert_int_equal(bundle_build(&fh, sec, &d), 0);
    assert_int_equal(bundle_merge_patch(d, "900", &body, &len), 0);
    assert_int_equal(len, strlen(body));
    p = cJSON_Parse(body);
    assert_non_null(p);
    /* exactly metadata and spec; no apiVersion/kind/name/namespace/status */
    assert_int_equal(cJSON_GetArraySize(p), 2);
    md = get(p, "metadata", NULL, NULL);
    spec = get(p, "spec", NULL, NULL);
    assert_int_equal(cJSON_GetArraySize(md), 4);
    assert_string_equal(get(md, "resourceVersion", NULL, NULL)->valuestring, "900");
    assert_true(cJSON_Compare(get(md, "labels", NULL, NULL), get(d, "metadata", "labels", NULL), 1));
    assert_true(cJSON_Compare(get(md, "annotations", NULL, NULL), get(d, "metadata", "annotations", NULL), 1));
    assert_true(cJSON_Compare(get(md, "ownerReferences", NULL, NULL), get(d, "metadata", "ownerReferences", NULL), 1));
    /* the three set fields and a null (delete) for each must-be-absent one */
    assert_int_equal(cJSON_GetArraySize(spec), 3 + 6);
    assert_true(cJSON_Compare(get(spec, "resources", NULL, NULL), get(d, "spec", "resources", NULL), 1));
    assert_true(cJSON_Compare(get(spec, "targets", NULL, NULL), get(d, "spec", "targets", NULL), 1));
    assert_string_equal(get(spec, "defaultNamespace", NULL, NULL)->valuestring, "apps");
    {
        static const char *const absent[] = BUNDLE_ABSENT_FIELDS;

        for (size_t i = 0; absent[i]; i++)
            assert_true(cJSON_IsNull(get(spec, absent[i], NULL, NULL)));
    }
    secret_json_free(&p);
    secret_free(&body, len);
    /* no precondition when no resourceVersion is known */
    assert_int_equal(bundle_merge_patch(d, NULL, &body, &len), 0);
    p = cJSON_Parse(body);
    assert_null(get(p, "metadata", "resourceVersion", NULL));
    assert_int_equal(cJSON_GetArraySize(get(p, "metadata", NULL, NULL)), 3);
    secret_json_free(&p);
    secret_free(&body, len);
    /* the desired tree is untouched by building a patch from it */
    assert_string_equal(get(d, "spec", "defaultNamespace", NULL)->valuestring, "apps");
    assert_int_equal(cJSON_GetArraySize(get(d, "metadata", NULL, NULL)), 5);
    secret_json_free(&d);
    secret_json_free(&sec);
    fh_spec_clear(&fh);
}

static void
test_meta_current(void **state)
{
    struct fh_spec fh;
    struct proto_obj bm = { 0 }, sm = { 0 };
    char bf[BUNDLE_BUILT_FROM_MAX];

    (void)state;
    make_fh(&fh, TARGETS_DEFAULT);
    assert_int_equal(bundle_built_from("fh-uid", 3, "s-uid", "42", bf, sizeof(bf)), 0);
    assert_string_equal(bf, "fh-uid/3/s-uid/42/v1");
    assert_int_equal(bundle_built_from("fh-uid", 3, "s-uid", "42", bf, 10), -FH_EINVAL);
    sm.uid = "s-uid";
    sm.rv = "42";
    bm.built_from = "fh-uid/3/s-uid/42/v1";
    assert_true(bundle_meta_current(&bm, &fh, &sm));
    sm.rv = "43";                                   /* Secret changed */
    assert_false(bundle_meta_current(&bm, &fh, &sm));
    sm.rv = "42";
    sm.uid = "s-uid-2";                             /* Secret recreated */
    assert_false(bundle_meta_current(&bm, &fh, &sm));
    sm.uid = "s-uid";
    bm.built_from = "fh-uid/2/s-uid/42/v1";         /* FleetHandshake spec changed */
    assert_false(bundle_meta_current(&bm, &fh, &sm));
    bm.built_from = "other/3/s-uid/42/v1";          /* FleetHandshake recreated */
    assert_false(bundle_meta_current(&bm, &fh, &sm));
    bm.built_from = "fh-uid/3/s-uid/42/v2";         /* format changed */
    assert_false(bundle_meta_current(&bm, &fh, &sm));
    bm.built_from = NULL;                           /* not built by us */
    assert_false(bundle_meta_current(&bm, &fh, &sm));
    bm.built_from = "fh-uid/3/s-uid/42/v1";
    sm.rv = NULL;
    assert_false(bundle_meta_current(&bm, &fh, &sm));
    assert_false(bundle_meta_current(NULL, &fh, &sm));
    fh_spec_clear(&fh);
}

static void
test_text_quotes_secret(void **state)
{
    /* czNjcjN0LVBAc3N3MHJk is base64 of "s3cr3t-P@ssw0rd" */
    cJSON *sec = make_secret("\"data\":{\"p\":\"czNjcjN0LVBAc3N3MHJk\",\"short\":\"MQ==\"},"
                             "\"stringData\":{\"t\":\"tok-123456\"}");
    static const struct { const char *text; bool want; } cases[] = {
        { "Bundle \"x\" is invalid: content: Invalid value: \"...czNjcjN0LVBAc3N3MHJk...\"", true },
        { "admission webhook denied: found s3cr3t-P@ssw0rd in manifest", true },
        { "denied: tok-123456", true },
        { "Bundle \"fh1\" is invalid: spec.targets[0].clusterName: too long", false },
        { "value 1 is not allowed", false },        /* "1" is too short to look for */
        { "", false },
    };

    (void)state;
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        if (bundle_text_quotes_secret(cases[i].text, sec) != cases[i].want)
            fail_msg("case %zu: %s", i, cases[i].text);
    }
    assert_false(bundle_text_quotes_secret("s3cr3t-P@ssw0rd", NULL));
    secret_json_free(&sec);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_build_shape),
        cmocka_unit_test(test_manifest_table),
        cmocka_unit_test(test_manifest_rejects),
        cmocka_unit_test(test_one_mib_secret),
        cmocka_unit_test(test_targets_pass_through_byte_for_byte),
        cmocka_unit_test(test_deterministic),
        cmocka_unit_test(test_print_retries_when_estimate_short),
        cmocka_unit_test(test_owned_equal),
        cmocka_unit_test(test_ownership_table),
        cmocka_unit_test(test_describe_owner),
        cmocka_unit_test(test_merge_patch),
        cmocka_unit_test(test_long_name_has_no_name_label),
        cmocka_unit_test(test_meta_current),
        cmocka_unit_test(test_text_quotes_secret),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
