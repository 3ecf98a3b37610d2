/*
 * fh_spec.c - parse a FleetHandshake's JSON into struct fh_spec and validate
 * the spec. The struct owns the cJSON tree; all other pointers borrow from it.
 */
#include <stdio.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "fh_err.h"
#include "fh_spec.h"

/* str_member - the string value of obj[key], NULL if absent or not a string */
static const char *
str_member(const cJSON *obj, const char *key)
{
    const cJSON *it = cJSON_GetObjectItemCaseSensitive(obj, key);

    return cJSON_IsString(it) ? it->valuestring : NULL;
}

/* fh_spec_parse - parse and pick out the fields reconcile needs */
int
fh_spec_parse(const char *json, struct fh_spec *out)
{
    const cJSON *meta, *spec, *gen, *del, *targets;
    cJSON *root;

    if (!json || !out)
        return -FH_EINVAL;
    memset(out, 0, sizeof(*out));
    /* cJSON reports allocation failure and bad syntax alike; the watcher sent
     * this text after parsing it itself, so bad syntax is the likelier one. */
    root = cJSON_Parse(json);
    if (!root)
        return -FH_EBADREPLY;
    if (!cJSON_IsObject(root))
        goto bad;
    meta = cJSON_GetObjectItemCaseSensitive(root, "metadata");
    out->name = str_member(meta, "name");
    out->ns = str_member(meta, "namespace");
    out->uid = str_member(meta, "uid");
    if (!out->name || !*out->name || !out->ns || !*out->ns || !out->uid || !*out->uid)
        goto bad;
    gen = cJSON_GetObjectItemCaseSensitive(meta, "generation");
    /* Only convert what a double holds exactly; anything else is not a
     * generation the apiserver wrote. */
    if (cJSON_IsNumber(gen) && gen->valuedouble >= 0 && gen->valuedouble <= 9007199254740992.0)
        out->generation = (int64_t)gen->valuedouble;
    del = cJSON_GetObjectItemCaseSensitive(meta, "deletionTimestamp");
    out->deleting = del && !cJSON_IsNull(del);

    spec = cJSON_GetObjectItemCaseSensitive(root, "spec");
    out->secret_name = str_member(spec, "secretName");
    out->secret_ns = str_member(spec, "secretNamespace");
    out->target_ns = str_member(spec, "targetNamespace");
    targets = cJSON_GetObjectItemCaseSensitive(spec, "targets");
    out->targets = cJSON_IsNull(targets) ? NULL : targets;

    fh_status_from_json(cJSON_GetObjectItemCaseSensitive(root, "status"), &out->cur);
    out->root = root;
    return 0;
bad:
    cJSON_Delete(root);
    memset(out, 0, sizeof(*out));
    return -FH_EBADREPLY;
}

/* check_required - a required non-empty string field of spec */
static int
check_required(const cJSON *spec, const char *key, char *msg, size_t len)
{
    const cJSON *it = cJSON_GetObjectItemCaseSensitive(spec, key);

    if (!it || cJSON_IsNull(it)) {
        snprintf(msg, len, "spec.%s is required", key);
        return -FH_EINVAL;
    }
    if (!cJSON_IsString(it)) {
        snprintf(msg, len, "spec.%s must be a string", key);
        return -FH_EINVAL;
    }
    if (!it->valuestring[0]) {
        snprintf(msg, len, "spec.%s must not be empty", key);
        return -FH_EINVAL;
    }
    return 0;
}

/* check_targets - absent/null, or an array of objects */
static int
check_targets(const cJSON *targets, char *msg, size_t len)
{
    const cJSON *t;
    int i = 0;

    if (!targets)
        return 0;
    if (!cJSON_IsArray(targets)) {
        snprintf(msg, len, "spec.targets must be a list of Fleet BundleTargets");
        return -FH_EINVAL;
    }
    cJSON_ArrayForEach(t, targets) {
        if (!cJSON_IsObject(t)) {
            snprintf(msg, len, "spec.targets[%d] must be an object (a Fleet BundleTarget)", i);
            return -FH_EINVAL;
        }
        i++;
    }
    return 0;
}

/* fh_spec_validate - what a Bundle needs from the spec */
int
fh_spec_validate(const struct fh_spec *fh, char *msg, size_t len)
{
    static const char label_rule[] =
        "use at most 63 lowercase letters, digits and '-', starting and ending "
        "with a letter or digit";
    static const char subdomain_rule[] =
        "use at most 253 lowercase letters, digits, '-' and '.', each "
        "dot-separated part starting and ending with a letter or digit";
    const cJSON *spec;
    char dummy[1];
    int rc;

    if (!msg || len == 0) {
        msg = dummy;
        len = sizeof(dummy);
    }
    msg[0] = '\0';
    if (!fh || !fh->root)
        return -FH_EINVAL;
    spec = cJSON_GetObjectItemCaseSensitive(fh->root, "spec");
    if (!cJSON_IsObject(spec)) {
        snprintf(msg, len, "spec is required and must be an object");
        return -FH_EINVAL;
    }
    if ((rc = check_required(spec, "secretName", msg, len)) < 0
        || (rc = check_required(spec, "secretNamespace", msg, len)) < 0
        || (rc = check_required(spec, "targetNamespace", msg, len)) < 0)
        return rc;
    if (!fh_dns1123_subdomain(fh->secret_name)) {
        snprintf(msg, len, "spec.secretName \"%.80s\" is not a valid Secret name: %s",
                 fh->secret_name, subdomain_rule);
        return -FH_EINVAL;
    }
    if (!fh_dns1123_label(fh->secret_ns)) {
        snprintf(msg, len, "spec.secretNamespace \"%.80s\" is not a valid namespace "
                 "name: %s", fh->secret_ns, label_rule);
        return -FH_EINVAL;
    }
    if (!fh_dns1123_label(fh->target_ns)) {
        snprintf(msg, len, "spec.targetNamespace \"%.80s\" is not a valid namespace "
                 "name: %s", fh->target_ns, label_rule);
        return -FH_EINVAL;
    }
    /* The apiserver accepts FleetHandshake names up to 253 characters, but the
     * Bundle carries the name as a label value, which Kubernetes caps at 63. */
    if (strlen(fh->name) > FH_LABEL_VALUE_MAX) {
        snprintf(msg, len, "metadata.name is %zu characters long; at most %u are "
                 "allowed because the Bundle carries it in the label "
                 "fleethandshake.riverpointtechnology.com/name",
                 strlen(fh->name), FH_LABEL_VALUE_MAX);
        return -FH_EINVAL;
    }
    return check_targets(fh->targets, msg, len);
}

/* fh_spec_clear - release the tree */
void
fh_spec_clear(struct fh_spec *fh)
{
    if (!fh)
        return;
    cJSON_Delete(fh->root);
    memset(fh, 0, sizeof(*fh));
}
