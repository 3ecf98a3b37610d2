/*
 * obj_meta.c - apiserver object -> struct proto_obj for the IPC channel.
 *
 * What is kept per resource:
 *   FleetHandshake: identity, generation, deletion, spec.secretNamespace/
 *     secretName (for the supervisor's reverse index) and the whole object as
 *     compact JSON (for the worker), with metadata.managedFields and the
 *     kubectl last-applied annotation dropped to keep messages small.
 *   Secret: identity and resourceVersion only. Never data.
 *   Bundle: identity, generation, deletion, the controller ownerReference if
 *     it is a FleetHandshake, and our built-from annotation.
 * Owns nothing beyond the strings it puts into the caller's struct.
 */
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "fh_err.h"
#include "obj_meta.h"

/* str_field - borrowed string child of o, or NULL */
static const char *
str_field(const cJSON *o, const char *name)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, name);

    return cJSON_IsString(v) ? v->valuestring : NULL;
}

/* dup_bounded - copy s if present and within max; -FH_ETOOBIG otherwise */
static int
dup_bounded(char **dst, const char *s, size_t max)
{
    if (!s) {
        *dst = NULL;
        return 0;
    }
    if (strlen(s) > max)
        return -FH_ETOOBIG;
    *dst = strdup(s);
    return *dst ? 0 : -FH_ENOMEM;
}

/* fill_owner - the controller ownerReference of kind FleetHandshake */
static int
fill_owner(const cJSON *meta, struct proto_obj *out)
{
    const cJSON *refs = cJSON_GetObjectItemCaseSensitive(meta, "ownerReferences");
    const cJSON *ref;
    int rc = 0;

    cJSON_ArrayForEach(ref, refs) {
        const cJSON *ctl = cJSON_GetObjectItemCaseSensitive(ref, "controller");
        const char *kind = str_field(ref, "kind");
        const char *api = str_field(ref, "apiVersion");

        if (!cJSON_IsTrue(ctl) || !kind || strcmp(kind, FH_OWNER_KIND) != 0)
            continue;
        if (!api || strncmp(api, FH_GROUP "/", strlen(FH_GROUP) + 1) != 0)
            continue;
        rc = dup_bounded(&out->owner_uid, str_field(ref, "uid"), PROTO_MAX_SHORT);
        if (rc == 0)
            rc = dup_bounded(&out->owner_name, str_field(ref, "name"), PROTO_MAX_NAME);
        break;
    }
    return rc;
}

/* fh_json - compact JSON of a FleetHandshake without bulky metadata */
static int
fh_json(const cJSON *obj, char **out)
{
    cJSON *copy = cJSON_Duplicate(obj, 1);
    cJSON *meta, *ann;
    int rc = 0;

    if (!copy)
        return -FH_ENOMEM;
    meta = cJSON_GetObjectItemCaseSensitive(copy, "metadata");
    cJSON_DeleteItemFromObjectCaseSensitive(meta, "managedFields");
    ann = cJSON_GetObjectItemCaseSensitive(meta, "annotations");
    cJSON_DeleteItemFromObjectCaseSensitive(ann,
        "kubectl.kubernetes.io/last-applied-configuration");
    *out = cJSON_PrintUnformatted(copy);
    if (!*out)
        rc = -FH_ENOMEM;
    else if (strlen(*out) > PROTO_MAX_JSON)
        rc = -FH_ETOOBIG;
    cJSON_Delete(copy);
    return rc;
}

/* obj_meta_from_json - see header */
int
obj_meta_from_json(int res, const struct cJSON *obj, struct proto_obj *out)
{
    const cJSON *meta = cJSON_GetObjectItemCaseSensitive(obj, "metadata");
    const cJSON *gen = cJSON_GetObjectItemCaseSensitive(meta, "generation");
    const cJSON *spec, *ann;
    int rc = 0;

    memset(out, 0, sizeof(*out));
    out->res = (uint8_t)res;
    if (!cJSON_IsObject(meta) || !str_field(meta, "name")) {
        rc = -FH_EINVALIDOBJ;
        goto out;
    }
    if ((rc = dup_bounded(&out->name, str_field(meta, "name"), PROTO_MAX_NAME)) < 0 ||
        (rc = dup_bounded(&out->ns, str_field(meta, "namespace") ?
                          str_field(meta, "namespace") : "", PROTO_MAX_NAME)) < 0 ||
        (rc = dup_bounded(&out->uid, str_field(meta, "uid"), PROTO_MAX_SHORT)) < 0 ||
        (rc = dup_bounded(&out->rv, str_field(meta, "resourceVersion"), PROTO_MAX_SHORT)) < 0)
        goto out;
    if (cJSON_IsNumber(gen) && gen->valuedouble >= 0)
        out->generation = (int64_t)gen->valuedouble;
    out->deleting = str_field(meta, "deletionTimestamp") != NULL;

    switch (res) {
    case PROTO_RES_FH:
        spec = cJSON_GetObjectItemCaseSensitive(obj, "spec");
        if ((rc = dup_bounded(&out->secret_ns, str_field(spec, "secretNamespace"), PROTO_MAX_NAME)) < 0 ||
            (rc = dup_bounded(&out->secret_name, str_field(spec, "secretName"), PROTO_MAX_NAME)) < 0)
            goto out;
        rc = fh_json(obj, &out->json);
        break;
    case PROTO_RES_BUNDLE:
        ann = cJSON_GetObjectItemCaseSensitive(meta, "annotations");
        if ((rc = dup_bounded(&out->built_from, str_field(ann, FH_ANNOTATION_BUILT_FROM),
                              PROTO_MAX_MESSAGE)) < 0)
            goto out;
        rc = fill_owner(meta, out);
        break;
    case PROTO_RES_SECRET:
        break;
    default:
        rc = -FH_EINVAL;
    }
out:
    if (rc < 0)
        proto_obj_clear(out);
    return rc;
}
