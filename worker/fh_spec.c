/*
 * fh_spec.c - parse a FleetHandshake's JSON into struct fh_spec and validate
 * the spec. The struct owns the cJSON tree; all other pointers borrow from it.
 */
#include <stdbool.h>
#include <math.h>
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

/* From this magnitude on, a double (cJSON keeps every number as one) no
 * longer tells neighbouring integers apart: 2^53. */
#define EXACT_INT_LIMIT 9007199254740992.0
#define MAX_JSON_DEPTH 64

/* inexact_number - the first number under v (depth-first) that cannot be
 * passed on exactly, or NULL; also stops at absurd nesting */
static const cJSON *
inexact_number(const cJSON *v, int depth)
{
    const cJSON *c, *bad;

    if (depth > MAX_JSON_DEPTH)
        return v;
    if (cJSON_IsNumber(v))
        return fabs(v->valuedouble) >= EXACT_INT_LIMIT ? v : NULL;
    cJSON_ArrayForEach(c, v) {
        if ((bad = inexact_number(c, depth + 1)))
            return bad;
    }
    return NULL;
}

/* check_targets - absent/null, or an array of objects whose numbers can be
 * carried into the Bundle unchanged */
static int
check_targets(const cJSON *targets, char *msg, size_t len)
{
    const cJSON *t, *bad;
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
        if ((bad = inexact_number(t, 0))) {
            if (cJSON_IsNumber(bad))
                snprintf(msg, len, "spec.targets[%d]%s%s holds a number of magnitude 2^53 or "
                         "more (read as %.17g): it cannot be passed on exactly; write it as "
                         "a string if the field allows one", i, bad->string ? "." : "", bad->string ? bad->string : "",
                         bad->valuedouble);
            else
                snprintf(msg, len, "spec.targets[%d] is nested more than %d levels deep", i,
                         MAX_JSON_DEPTH);
            return -FH_EINVAL;
        }
        i++;
    }
    return 0;
}

/* shown - at most QUOTE_MAX bytes of s for a message, cut at a UTF-8
 * character boundary and marked "..." when cut */
#define QUOTE_MAX 80
static const char *
shown(const char *s, char *buf, size_t len)
{
    size_t n = strlen(s);

    if (n <= QUOTE_MAX)
        return s;
    n = QUOTE_MAX;
    while (n > 0 && ((unsigned char)s[n] & 0xC0) == 0x80)
        n--;
    snprintf(buf, len, "%.*s...", (int)n, s);
    return buf;
}

/* check_name - value of spec.<key> (present, a non-empty string) against
 * the Kubernetes name rules: too long says so with the length, other
 * mistakes quote (the start of) the value with the rule */
static int
check_name(const char *key, const char *v, bool subdomain, char *msg, size_t len)
{
    static const char label_rule[] =
        "use at most 63 lowercase letters, digits and '-', starting and ending "
        "with a letter or digit";
    static const char subdomain_rule[] =
        "use at most 253 lowercase letters, digits, '-' and '.', each "
        "dot-separated part starting and ending with a letter or digit";
    const char *what = subdomain ? "Secret name" : "namespace name";
    size_t max = subdomain ? FH_DNS1123_SUBDOMAIN_MAX : FH_DNS1123_LABEL_MAX;
    char buf[QUOTE_MAX + 4];

    if (subdomain ? fh_dns1123_subdomain(v) : fh_dns1123_label(v))
        return 0;
    if (strlen(v) > max)
        snprintf(msg, len, "spec.%s is %zu characters long; a %s has at most %zu", key,
                 strlen(v), what, max);
    else
        snprintf(msg, len, "spec.%s \"%s\" is not a valid %s: %s", key,
                 shown(v, buf, sizeof(buf)), what, subdomain ? subdomain_rule : label_rule);
    return -FH_EINVAL;
}

/* fh_spec_validate - what a Bundle needs from the spec */
int
fh_spec_validate(const struct fh_spec *fh, char *msg, size_t len)
{
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
    if ((rc = check_name("secretName", fh->secret_name, true, msg, len)) < 0
        || (rc = check_name("secretNamespace", fh->secret_ns, false, msg, len)) < 0
        || (rc = check_name("targetNamespace", fh->target_ns, false, msg, len)) < 0)
        return rc;
    /* Names up to 253 characters work, as with the original; the Bundle's
     * name label is only set for names that fit a label value (bundle.h). */
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
