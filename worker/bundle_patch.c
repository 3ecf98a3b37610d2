/*
 * bundle_patch.c - the JSON merge patch that sets exactly the owned fields of
 * a Bundle. The patch tree only references the desired tree (no copies of
 * Secret data); the printed body belongs to the caller, who wipes it.
 */
#include <string.h>

#include <cjson/cJSON.h>

#include "bundle.h"
#include "fh_err.h"

/* ref_member - add a reference to src[key] under dst[key]; missing -> fail */
static bool
ref_member(cJSON *dst, const cJSON *src, const char *key)
{
    cJSON *it = cJSON_GetObjectItemCaseSensitive(src, key);

    /* References share the desired tree's nodes; cJSON_Delete of the patch
     * tree leaves them alone, so nothing here needs wiping. */
    return it && cJSON_AddItemReferenceToObject(dst, key, it);
}

/* bundle_merge_patch - see bundle.h */
int
bundle_merge_patch(const cJSON *desired, const char *resource_version, char **body, size_t *len)
{
    static const char *const absent[] = BUNDLE_ABSENT_FIELDS;
    const cJSON *dmeta, *dspec;
    cJSON *p = NULL, *md, *spec;
    int rc = -FH_ENOMEM;

    if (!desired || !body || !len)
        return -FH_EINVAL;
    *body = NULL;
    *len = 0;
    dmeta = cJSON_GetObjectItemCaseSensitive(desired, "metadata");
    dspec = cJSON_GetObjectItemCaseSensitive(desired, "spec");
    if (!cJSON_IsObject(dmeta) || !cJSON_IsObject(dspec))
        return -FH_EINVAL;
    if (!(p = cJSON_CreateObject())
        || !(md = cJSON_AddObjectToObject(p, "metadata"))
        || !(spec = cJSON_AddObjectToObject(p, "spec")))
        goto out;
    /* Merge patch merges maps key by key (other labels/annotations survive)
     * and replaces lists whole (ownerReferences, resources, targets). */
    if (!ref_member(md, dmeta, "labels") || !ref_member(md, dmeta, "annotations")
        || !ref_member(md, dmeta, "ownerReferences")
        || !ref_member(spec, dspec, "resources") || !ref_member(spec, dspec, "targets")
        || !ref_member(spec, dspec, "defaultNamespace"))
        goto out;
    /* null deletes: fields that must stay unset (someone may have set them) */
    for (size_t i = 0; absent[i]; i++) {
        if (!cJSON_AddNullToObject(spec, absent[i]))
            goto out;
    }
    /* A resourceVersion in a patch is a precondition: 409 if it moved on. */
    if (resource_version && !cJSON_AddStringToObject(md, "resourceVersion", resource_version))
        goto out;
    rc = bundle_print(p, body, len);
out:
    cJSON_Delete(p);
    return rc;
}
