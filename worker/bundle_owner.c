/*
 * bundle_owner.c - whose is an existing Bundle of the FleetHandshake's name?
 * Decides between ours, an orphan we may adopt, one an earlier FleetHandshake
 * of the same name left for the garbage collector, and foreign ones that are
 * never touched (GitRepo/HelmOp Bundles, hand-made ones). Owns nothing.
 */
#include <stdio.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "bundle.h"
#include "fh_err.h"

/* item - case-sensitive member lookup */
static const cJSON *
item(const cJSON *obj, const char *key)
{
    return cJSON_GetObjectItemCaseSensitive(obj, key);
}

/* sval - string member or NULL */
static const char *
sval(const cJSON *obj, const char *key)
{
    const cJSON *it = item(obj, key);

    return cJSON_IsString(it) ? it->valuestring : NULL;
}

/* meta_of - accept a whole object or a bare metadata object */
static const cJSON *
meta_of(const cJSON *obj)
{
    const cJSON *m = item(obj, "metadata");

    return cJSON_IsObject(m) ? m : obj;
}

/* is_fh_ref - the reference points at a FleetHandshake of our API group
 * (any version, so a future v1beta1 owner is still recognised) */
static bool
is_fh_ref(const cJSON *ref)
{
    const char *kind = sval(ref, "kind"), *av = sval(ref, "apiVersion");
    size_t g = strlen(FH_API_GROUP);

    return kind && av && strcmp(kind, FH_KIND) == 0
           && strncmp(av, FH_API_GROUP, g) == 0 && av[g] == '/';
}

/* controller_ref - the reference with controller: true, or NULL */
static const cJSON *
controller_ref(const cJSON *meta)
{
    const cJSON *r;

    cJSON_ArrayForEach(r, item(meta, "ownerReferences")) {
        if (cJSON_IsTrue(item(r, "controller")))
            return r;
    }
    return NULL;
}

/* str_is - s is non-NULL and equal to want */
static bool
str_is(const char *s, const char *want)
{
    return s && want && strcmp(s, want) == 0;
}

/* bundle_ownership - see bundle.h for the classes */
int
bundle_ownership(const cJSON *live_or_meta, const char *fh_uid, enum bundle_owner *out)
{
    const cJSON *meta, *ctl, *labels, *r;
    const char *name;

    if (!live_or_meta || !fh_uid || !out)
        return -FH_EINVAL;
    meta = meta_of(live_or_meta);
    name = sval(meta, "name");
    ctl = controller_ref(meta);
    if (ctl) {
        if (is_fh_ref(ctl) && str_is(sval(ctl, "uid"), fh_uid))
            *out = BUNDLE_OURS;
        else if (is_fh_ref(ctl) && str_is(sval(ctl, "name"), name))
            *out = BUNDLE_PREVIOUS_OWNER;
        else
            *out = BUNDLE_FOREIGN;
        return 0;
    }
    /* The original Go operator set a plain (non-controller) reference and no
     * labels; its Bundles are ours to take over, or drop-in replacement would
     * turn every existing FleetHandshake into a conflict. */
    cJSON_ArrayForEach(r, item(meta, "ownerReferences")) {
        if (is_fh_ref(r) && str_is(sval(r, "uid"), fh_uid)) {
            *out = BUNDLE_OURS;
            return 0;
        }
    }
    labels = item(meta, "labels");
    if (str_is(sval(labels, BUNDLE_LABEL_MANAGED_BY), BUNDLE_LABEL_VALUE)
        && (str_is(sval(labels, BUNDLE_LABEL_FH_NAME), name)
            || (name && strlen(name) > BUNDLE_LABEL_VALUE_MAX && !item(labels, BUNDLE_LABEL_FH_NAME)))) {
        *out = BUNDLE_ORPHAN_OURS;
        return 0;
    }
    cJSON_ArrayForEach(r, item(meta, "ownerReferences")) {
        if (is_fh_ref(r) && str_is(sval(r, "name"), name)) {
            *out = BUNDLE_PREVIOUS_OWNER;
            return 0;
        }
    }
    *out = BUNDLE_FOREIGN;
    return 0;
}

/* bundle_owner_name - for logs */
const char *
bundle_owner_name(enum bundle_owner o)
{
    switch (o) {
    case BUNDLE_OURS:           return "ours";
    case BUNDLE_ORPHAN_OURS:    return "orphan";
    case BUNDLE_PREVIOUS_OWNER: return "previous";
    case BUNDLE_FOREIGN:        return "foreign";
    }
    return "unknown";
}

/* bundle_describe_owner - who holds the Bundle, for the conflict message */
void
bundle_describe_owner(const cJSON *live_or_meta, char *buf, size_t len)
{
    const cJSON *meta, *ctl, *labels;
    const char *v;

    if (!buf || len == 0)
        return;
    meta = live_or_meta ? meta_of(live_or_meta) : NULL;
    ctl = controller_ref(meta);
    labels = item(meta, "labels");
    if (ctl)
        snprintf(buf, len, "controlled by %.64s \"%.253s\"",
                 sval(ctl, "kind") ? sval(ctl, "kind") : "an object",
                 sval(ctl, "name") ? sval(ctl, "name") : "?");
    else if ((v = sval(labels, "fleet.cattle.io/repo-name")))
        snprintf(buf, len, "created by GitRepo \"%.253s\"", v);
    else if ((v = sval(labels, "fleet.cattle.io/fleet-helm-name")))
        snprintf(buf, len, "created by HelmOp \"%.253s\"", v);
    else
        snprintf(buf, len, "not created by fleet-handshake: it has neither our "
                 "owner reference nor our labels");
}
