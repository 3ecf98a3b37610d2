/*
 * bundle_compare.c - does a live Bundle carry the owned fields of the desired
 * one? Only the fields fleet-handshake sets are looked at: Fleet's API server
 * fills defaults into other spec fields (targetCustomizationMode, ...), and
 * comparing whole specs would make every verify write again. Owns nothing.
 */
#include <stdbool.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "bundle.h"
#include "fh_err.h"

/* item - case-sensitive member lookup (cJSON_GetObjectItem ignores case) */
static const cJSON *
item(const cJSON *obj, const char *key)
{
    return cJSON_GetObjectItemCaseSensitive(obj, key);
}

/* str_eq - both members are strings with equal values */
static bool
str_eq(const cJSON *a, const cJSON *b)
{
    return cJSON_IsString(a) && cJSON_IsString(b) && strcmp(a->valuestring, b->valuestring) == 0;
}

/* subset_map - every key of want is in have with the same string value */
static bool
subset_map(const cJSON *want, const cJSON *have)
{
    const cJSON *w;

    cJSON_ArrayForEach(w, want) {
        if (!str_eq(w, item(have, w->string)))
            return false;
    }
    return true;
}

/* ref_equal - an ownerReference entry matches ours exactly */
static bool
ref_equal(const cJSON *want, const cJSON *have)
{
    static const char *const keys[] = { "apiVersion", "kind", "name", "uid" };

    for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]); i++) {
        if (!str_eq(item(want, keys[i]), item(have, keys[i])))
            return false;
    }
    return cJSON_IsTrue(item(have, "controller")) && cJSON_IsTrue(item(have, "blockOwnerDeletion"));
}

/* has_our_ref - live lists a reference equal to the desired controller ref */
static bool
has_our_ref(const cJSON *dmeta, const cJSON *lmeta)
{
    const cJSON *want = cJSON_GetArrayItem(item(dmeta, "ownerReferences"), 0);
    const cJSON *r;

    if (!want)
        return false;
    cJSON_ArrayForEach(r, item(lmeta, "ownerReferences")) {
        if (ref_equal(want, r))
            return true;
    }
    return false;
}

/* resources_equal - same count, names and contents byte for byte, plain encoding */
static bool
resources_equal(const cJSON *want, const cJSON *have)
{
    const cJSON *w, *h;

    if (!cJSON_IsArray(want) || !cJSON_IsArray(have)
        || cJSON_GetArraySize(want) != cJSON_GetArraySize(have))
        return false;
    for (w = want->child, h = have->child; w && h; w = w->next, h = h->next) {
        const cJSON *enc = item(h, "encoding");

        if (!str_eq(item(w, "name"), item(h, "name"))
            || !str_eq(item(w, "content"), item(h, "content")))
            return false;
        if (enc && !cJSON_IsNull(enc) && !(cJSON_IsString(enc) && enc->valuestring[0] == '\0'))
            return false;
    }
    return true;
}

/* empty_list - absent, null or [] (an empty list may be dropped on the way) */
static bool
empty_list(const cJSON *a)
{
    return !a || cJSON_IsNull(a) || (cJSON_IsArray(a) && !a->child);
}

/* targets_equal - exact JSON equality; empty lists in any form are equal */
static bool
targets_equal(const cJSON *want, const cJSON *have)
{
    if (empty_list(want) || empty_list(have))
        return empty_list(want) && empty_list(have);
    return cJSON_Compare(want, have, 1);
}

/* unset - absent, null, false, "", {} or [] */
static bool
unset(const cJSON *a)
{
    return !a || cJSON_IsNull(a) || cJSON_IsFalse(a)
           || (cJSON_IsString(a) && a->valuestring[0] == '\0')
           || ((cJSON_IsObject(a) || cJSON_IsArray(a)) && !a->child);
}

/* absent_fields - none of BUNDLE_ABSENT_FIELDS is set in spec */
static bool
absent_fields(const cJSON *spec)
{
    static const char *const fields[] = BUNDLE_ABSENT_FIELDS;

    for (size_t i = 0; fields[i]; i++) {
        if (!unset(item(spec, fields[i])))
            return false;
    }
    return true;
}

/* bundle_owned_equal - see bundle.h */
int
bundle_owned_equal(const cJSON *desired, const cJSON *live, bool *equal)
{
    const cJSON *dmeta, *lmeta, *dspec, *lspec;

    if (!desired || !live || !equal)
        return -FH_EINVAL;
    dmeta = item(desired, "metadata");
    lmeta = item(live, "metadata");
    dspec = item(desired, "spec");
    lspec = item(live, "spec");
    *equal = subset_map(item(dmeta, "labels"), item(lmeta, "labels"))
             && subset_map(item(dmeta, "annotations"), item(lmeta, "annotations"))
             && has_our_ref(dmeta, lmeta)
             && resources_equal(item(dspec, "resources"), item(lspec, "resources"))
             && targets_equal(item(dspec, "targets"), item(lspec, "targets"))
             && str_eq(item(dspec, "defaultNamespace"), item(lspec, "defaultNamespace"))
             && absent_fields(lspec);
    return 0;
}
