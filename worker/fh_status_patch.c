/*
 * fh_status_patch.c - serialise a struct fh_status as the JSON merge patch
 * for PATCH .../fleethandshakes/NAME/status. Owns nothing beyond the body it
 * returns to the caller.
 */
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "fh_err.h"
#include "fh_status.h"

/* add_str_or_null - "" means "remove the field": merge patch null */
static bool
add_str_or_null(cJSON *obj, const char *key, const char *val)
{
    if (val && *val)
        return cJSON_AddStringToObject(obj, key, val) != NULL;
    return cJSON_AddNullToObject(obj, key) != NULL;
}

/* add_int_or_null - optional integer; absent -> null */
static bool
add_int_or_null(cJSON *obj, const char *key, bool has, int64_t val)
{
    if (has)
        return cJSON_AddNumberToObject(obj, key, (double)val) != NULL;
    return cJSON_AddNullToObject(obj, key) != NULL;
}

/* add_ready - the conditions list holding the Ready condition, or null */
static bool
add_ready(cJSON *st, const struct fh_status *s)
{
    cJSON *conds, *c;

    if (!s->has_ready)
        return cJSON_AddNullToObject(st, "conditions") != NULL;
    conds = cJSON_AddArrayToObject(st, "conditions");
    c = cJSON_CreateObject();
    if (!conds || !c) {
        cJSON_Delete(c);
        return false;
    }
    cJSON_AddItemToArray(conds, c);
    return cJSON_AddStringToObject(c, "type", "Ready")
           && cJSON_AddStringToObject(c, "status", s->ready_status[0] ? s->ready_status : "Unknown")
           && cJSON_AddStringToObject(c, "reason", s->ready_reason)
           && cJSON_AddStringToObject(c, "message", s->ready_message)
           && add_str_or_null(c, "lastTransitionTime", s->ready_ltt)
           && add_int_or_null(c, "observedGeneration", s->has_ready_observed_generation,
                              s->ready_observed_generation);
}

/* fh_status_patch_body - {"status":{...}} */
int
fh_status_patch_body(const struct fh_status *s, char **body, size_t *len)
{
    cJSON *root = NULL, *st;
    char *txt = NULL;
    int rc = -FH_ENOMEM;

    if (!s || !body || !len)
        return -FH_EINVAL;
    *body = NULL;
    *len = 0;
    root = cJSON_CreateObject();
    if (!root || !(st = cJSON_AddObjectToObject(root, "status")))
        goto out;
    if (!add_str_or_null(st, "status", s->status)
        || !add_int_or_null(st, "observedGeneration", s->has_observed_generation,
                            s->observed_generation)
        || !add_str_or_null(st, "bundleName", s->bundle_name)
        || !add_str_or_null(st, "secretResourceVersion", s->secret_rv)
        || !add_int_or_null(st, "bundleGeneration", s->has_bundle_generation,
                            s->bundle_generation)
        || !add_str_or_null(st, "lastSyncTime", s->last_sync)
        || !add_ready(st, s))
        goto out;
    txt = cJSON_PrintUnformatted(root);
    /* Hand back a malloc()ed copy so free() is right whatever allocator hooks
     * the process installed into cJSON. */
    if (!txt || !(*body = strdup(txt)))
        goto out;
    *len = strlen(*body);
    rc = 0;
out:
    cJSON_free(txt);
    cJSON_Delete(root);
    return rc;
}
