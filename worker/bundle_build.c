/*
 * bundle_build.c - the desired Bundle object for a FleetHandshake and its
 * Secret, and the built-from annotation that lets a later reconcile see from
 * Bundle metadata alone that the Bundle is current. The returned tree holds
 * Secret data and belongs to the caller.
 */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "bundle.h"
#include "fh_err.h"
#include "fh_spec.h"
#include "proto.h"
#include "secret_mem.h"

/* bundle_built_from - "<fh uid>/<fh gen>/<secret uid>/<secret rv>/v1" */
int
bundle_built_from(const char *fh_uid, int64_t fh_generation, const char *secret_uid,
                  const char *secret_rv, char *buf, size_t len)
{
    int n;

    if (!fh_uid || !secret_uid || !secret_rv || !buf || len == 0)
        return -FH_EINVAL;
    n = snprintf(buf, len, "%s/%" PRId64 "/%s/%s/%s", fh_uid, fh_generation,
                 secret_uid, secret_rv, BUNDLE_BUILT_FROM_FORMAT_VERSION);
    if (n < 0 || (size_t)n >= len) {
        buf[0] = '\0';
        return -FH_EINVAL;
    }
    return 0;
}

/* add_metadata - name, namespace, our labels, annotation and owner reference */
static int
add_metadata(cJSON *b, const struct fh_spec *fh, const char *built_from)
{
    cJSON *md, *labels, *ann, *refs, *ref;

    if (!(md = cJSON_AddObjectToObject(b, "metadata"))
        || !cJSON_AddStringToObject(md, "name", fh->name)
        || !cJSON_AddStringToObject(md, "namespace", fh->ns)
        || !(labels = cJSON_AddObjectToObject(md, "labels"))
        || !cJSON_AddStringToObject(labels, BUNDLE_LABEL_MANAGED_BY, BUNDLE_LABEL_VALUE)
        || !cJSON_AddStringToObject(labels, BUNDLE_LABEL_APP_NAME, BUNDLE_LABEL_VALUE)
        || (strlen(fh->name) <= BUNDLE_LABEL_VALUE_MAX
            && !cJSON_AddStringToObject(labels, BUNDLE_LABEL_FH_NAME, fh->name))
        || !(ann = cJSON_AddObjectToObject(md, "annotations"))
        || !cJSON_AddStringToObject(ann, BUNDLE_ANN_BUILT_FROM, built_from)
        || !(refs = cJSON_AddArrayToObject(md, "ownerReferences")))
        return -FH_ENOMEM;
    ref = cJSON_CreateObject();
    if (!ref)
        return -FH_ENOMEM;
    cJSON_AddItemToArray(refs, ref);
    if (!cJSON_AddStringToObject(ref, "apiVersion", FH_API_VERSION)
        || !cJSON_AddStringToObject(ref, "kind", FH_KIND)
        || !cJSON_AddStringToObject(ref, "name", fh->name)
        || !cJSON_AddStringToObject(ref, "uid", fh->uid)
        || !cJSON_AddTrueToObject(ref, "controller")
        || !cJSON_AddTrueToObject(ref, "blockOwnerDeletion"))
        return -FH_ENOMEM;
    return 0;
}

/* add_spec - resources (the manifest), targets verbatim, defaultNamespace */
static int
add_spec(cJSON *b, const struct fh_spec *fh, const cJSON *secret)
{
    cJSON *spec, *res, *r, *targets;
    char *manifest = NULL;
    char rname[FH_DNS1123_SUBDOMAIN_MAX + 8];
    size_t mlen = 0;
    int rc;

    snprintf(rname, sizeof(rname), "%s.json", fh->secret_name);
    rc = bundle_secret_manifest(secret, fh->target_ns, &manifest, &mlen);
    if (rc < 0)
        return rc;
    rc = -FH_ENOMEM;
    if (!(spec = cJSON_AddObjectToObject(b, "spec"))
        || !(res = cJSON_AddArrayToObject(spec, "resources"))
        || !(r = cJSON_CreateObject()))
        goto out;
    cJSON_AddItemToArray(res, r);
    if (!cJSON_AddStringToObject(r, "name", rname)
        || !cJSON_AddStringToObject(r, "content", manifest))
        goto out;
    /* Targets pass through untouched, unknown fields included: Fleet (not us)
     * decides what they mean. */
    targets = fh->targets ? cJSON_Duplicate(fh->targets, 1) : cJSON_CreateArray();
    if (!targets)
        goto out;
    if (!cJSON_AddItemToObject(spec, "targets", targets)) {
        cJSON_Delete(targets);
        goto out;
    }
    if (!cJSON_AddStringToObject(spec, "defaultNamespace", fh->target_ns))
        goto out;
    rc = 0;
out:
    secret_free(&manifest, mlen);
    return rc;
}

/* bundle_build - the whole desired Bundle */
int
bundle_build(const struct fh_spec *fh, const cJSON *secret, cJSON **out)
{
    const cJSON *smeta, *suid, *srv;
    char built_from[BUNDLE_BUILT_FROM_MAX];
    cJSON *b = NULL;
    int rc;

    if (!fh || !secret || !out)
        return -FH_EINVAL;
    *out = NULL;
    if (fh_spec_validate(fh, NULL, 0) < 0)
        return -FH_EINVAL;
    smeta = cJSON_GetObjectItemCaseSensitive(secret, "metadata");
    suid = cJSON_GetObjectItemCaseSensitive(smeta, "uid");
    srv = cJSON_GetObjectItemCaseSensitive(smeta, "resourceVersion");
    if (!cJSON_IsString(suid) || !cJSON_IsString(srv))
        return -FH_EBADREPLY;
    rc = bundle_built_from(fh->uid, fh->generation, suid->valuestring, srv->valuestring,
                           built_from, sizeof(built_from));
    if (rc < 0)
        return rc;

    rc = -FH_ENOMEM;
    if (!(b = cJSON_CreateObject())
        || !cJSON_AddStringToObject(b, "apiVersion", BUNDLE_API_VERSION)
        || !cJSON_AddStringToObject(b, "kind", "Bundle"))
        goto fail;
    if ((rc = add_metadata(b, fh, built_from)) < 0 || (rc = add_spec(b, fh, secret)) < 0)
        goto fail;
    *out = b;
    return 0;
fail:
    secret_json_free(&b);
    return rc;
}

/* bundle_meta_current - the watcher's Bundle metadata names this build */
bool
bundle_meta_current(const struct proto_obj *bundle_meta, const struct fh_spec *fh,
                    const struct proto_obj *secret_meta)
{
    char want[BUNDLE_BUILT_FROM_MAX];

    if (!bundle_meta || !fh || !secret_meta || !bundle_meta->built_from
        || !fh->uid || !secret_meta->uid || !secret_meta->rv)
        return false;
    if (bundle_built_from(fh->uid, fh->generation, secret_meta->uid, secret_meta->rv,
                          want, sizeof(want)) < 0)
        return false;
    return strcmp(want, bundle_meta->built_from) == 0;
}
