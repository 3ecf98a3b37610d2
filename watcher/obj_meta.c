/*
 * obj_meta.c - apiserver object -> struct proto_obj for the IPC channel.
 *
 * What is kept per resource:
 *   FleetHandshake: identity, generation, deletion, spec.secretNamespace/
 *     secretName (for the supervisor's reverse index) and the whole object as
 *     compact JSON (for the worker), with metadata.managedFields and the
 *     kubectl last-applied annotation dropped to keep messages small.
 *   Secret: identity and resourceVersion only. Never data, never labels or
 *     annotations (kubectl's last-applied annotation holds a copy of the data).
 *   Bundle: identity, generation, deletion, the controller ownerReference if
 *     it is a FleetHandshake, and our built-from annotation (uids, a
 *     generation and a resourceVersion). Nothing of spec.resources.
 *
 * Bounds (proto.h): identity (name, namespace, uid, resourceVersion) over its
 * bound, or an unusable metadata.generation, drops the object. Every other
 * field over its bound is left unset and named in the note, so the object
 * still reaches the supervisor: a FleetHandshake with an over-long
 * spec.secretName keeps its whole JSON and the worker reports InvalidSpec; a
 * DELETED event never needs more than its identity. Only a FleetHandshake
 * whose JSON exceeds PROTO_MAX_JSON (and is not being deleted) is dropped.
 *
 * Owns nothing beyond the strings it puts into the caller's struct.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "fh_err.h"
#include "obj_meta.h"

#define GENERATION_MAX 9007199254740992.0     /* 2^53: a double holds it exactly */

/* what a conversion reports: the reason for a drop, or fields left out */
struct why {
    char *buf;
    size_t len;
};

/* say - append one sentence to the note ("; "-separated), truncating */
static void __attribute__((format(printf, 2, 3)))
say(struct why *w, const char *fmt, ...)
{
    size_t used;
    va_list ap;

    if (!w->buf || w->len == 0)
        return;
    used = strlen(w->buf);
    if (used && used + 2 < w->len) {
        memcpy(w->buf + used, "; ", 3);
        used += 2;
    }
    if (used + 1 >= w->len)
        return;
    va_start(ap, fmt);
    vsnprintf(w->buf + used, w->len - used, fmt, ap);
    va_end(ap);
}

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
    *dst = NULL;
    if (!s)
        return 0;
    if (strlen(s) > max)
        return -FH_ETOOBIG;
    *dst = strdup(s);
    return *dst ? 0 : -FH_ENOMEM;
}

/* identity - a field the object cannot be forwarded without */
static int
identity(char **dst, const char *s, size_t max, const char *what, struct why *w)
{
    int rc = dup_bounded(dst, s, max);

    if (rc == -FH_ETOOBIG)
        say(w, "%s is %zu bytes long, more than the %zu allowed", what, strlen(s), max);
    return rc;
}

/* optional - a field the object can be forwarded without: over its bound it
 * is left unset and named in the note */
static int
optional(char **dst, const char *s, size_t max, const char *what, struct why *w)
{
    int rc = dup_bounded(dst, s, max);

    if (rc != -FH_ETOOBIG)
        return rc;
    say(w, "%s left out: %zu bytes long, more than the %zu allowed", what, strlen(s), max);
    return 0;
}

/* generation - metadata.generation: absent or null is 0; anything but a whole
 * number in [0, 2^53] is no generation the apiserver wrote (and converting
 * a huge or non-finite double to int64_t would be undefined behaviour):
 * -FH_EINVALIDOBJ, except for a DELETED event, which does not need it */
static int
generation(const cJSON *gen, bool deleted, int64_t *out, struct why *w)
{
    *out = 0;
    if (!gen || cJSON_IsNull(gen))
        return 0;
    /* NaN fails both comparisons; only an in-range value is converted */
    if (cJSON_IsNumber(gen) && gen->valuedouble >= 0.0 && gen->valuedouble <= GENERATION_MAX) {
        int64_t i = (int64_t)gen->valuedouble;

        if ((double)i == gen->valuedouble) {
            *out = i;
            return 0;
        }
    }
    if (deleted) {
        say(w, "metadata.generation left out: not a whole number from 0 to 2^53");
        return 0;
    }
    say(w, "metadata.generation is not a whole number from 0 to 2^53");
    return -FH_EINVALIDOBJ;
}

/* fill_owner - the controller ownerReference of kind FleetHandshake */
static int
fill_owner(const cJSON *meta, struct proto_obj *out, struct why *w)
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
        rc = optional(&out->owner_uid, str_field(ref, "uid"), PROTO_MAX_SHORT,
                      "the controller ownerReference's uid", w);
        if (rc == 0)
            rc = optional(&out->owner_name, str_field(ref, "name"), PROTO_MAX_NAME,
                          "the controller ownerReference's name", w);
        if (rc == 0 && (!out->owner_uid) != (!out->owner_name)) {
            /* half an owner is no owner */
            free(out->owner_uid);
            free(out->owner_name);
            out->owner_uid = out->owner_name = NULL;
        }
        break;
    }
    return rc;
}

/* fh_json - compact JSON of a FleetHandshake without bulky metadata */
static int
fh_json(const cJSON *obj, char **out, size_t *len)
{
    cJSON *copy = cJSON_Duplicate(obj, 1);
    cJSON *meta, *ann;

    *out = NULL;
    *len = 0;
    if (!copy)
        return -FH_ENOMEM;
    meta = cJSON_GetObjectItemCaseSensitive(copy, "metadata");
    cJSON_DeleteItemFromObjectCaseSensitive(meta, "managedFields");
    ann = cJSON_GetObjectItemCaseSensitive(meta, "annotations");
    cJSON_DeleteItemFromObjectCaseSensitive(ann,
        "kubectl.kubernetes.io/last-applied-configuration");
    *out = cJSON_PrintUnformatted(copy);
    cJSON_Delete(copy);
    if (!*out)
        return -FH_ENOMEM;
    *len = strlen(*out);
    return 0;
}

/* fill_fh - secretNamespace/secretName (optional) and the JSON */
static int
fill_fh(const cJSON *obj, bool deleted, struct proto_obj *out, struct why *w)
{
    const cJSON *spec = cJSON_GetObjectItemCaseSensitive(obj, "spec");
    size_t len;
    int rc;

    if ((rc = optional(&out->secret_ns, str_field(spec, "secretNamespace"), PROTO_MAX_NAME,
                       "spec.secretNamespace", w)) < 0 ||
        (rc = optional(&out->secret_name, str_field(spec, "secretName"), PROTO_MAX_NAME,
                       "spec.secretName", w)) < 0)
        return rc;
    if ((rc = fh_json(obj, &out->json, &len)) < 0)
        return rc;
    if (len <= PROTO_MAX_JSON)
        return 0;
    free(out->json);
    out->json = NULL;
    if (deleted) {
        say(w, "the object's JSON left out: %zu bytes long, more than the %u allowed", len,
            PROTO_MAX_JSON);
        return 0;
    }
    say(w, "the object's JSON is %zu bytes long, more than the %u allowed", len, PROTO_MAX_JSON);
    return -FH_ETOOBIG;
}

/* obj_meta_from_json - see header */
int
obj_meta_from_json(int res, bool deleted, const struct cJSON *obj, struct proto_obj *out,
                   char *why, size_t why_len)
{
    struct why w = { why, why_len };
    const cJSON *meta = cJSON_GetObjectItemCaseSensitive(obj, "metadata");
    const char *ns;
    int rc = 0;

    memset(out, 0, sizeof(*out));
    if (why && why_len)
        why[0] = '\0';
    out->res = (uint8_t)res;
    if (res != PROTO_RES_FH && res != PROTO_RES_SECRET && res != PROTO_RES_BUNDLE) {
        say(&w, "unknown resource %d", res);
        rc = -FH_EINVAL;
        goto out;
    }
    if (!cJSON_IsObject(meta) || !str_field(meta, "name")) {
        say(&w, "no metadata.name");
        rc = -FH_EINVALIDOBJ;
        goto out;
    }
    ns = str_field(meta, "namespace");
    if ((rc = identity(&out->name, str_field(meta, "name"), PROTO_MAX_NAME, "metadata.name",
                       &w)) < 0 ||
        (rc = identity(&out->ns, ns ? ns : "", PROTO_MAX_NAME, "metadata.namespace", &w)) < 0 ||
        (rc = identity(&out->uid, str_field(meta, "uid"), PROTO_MAX_SHORT, "metadata.uid",
                       &w)) < 0 ||
        (rc = identity(&out->rv, str_field(meta, "resourceVersion"), PROTO_MAX_SHORT,
                       "metadata.resourceVersion", &w)) < 0 ||
        (rc = generation(cJSON_GetObjectItemCaseSensitive(meta, "generation"), deleted,
                         &out->generation, &w)) < 0)
        goto out;
    out->deleting = str_field(meta, "deletionTimestamp") != NULL;

    switch (res) {
    case PROTO_RES_FH:
        rc = fill_fh(obj, deleted, out, &w);
        break;
    case PROTO_RES_BUNDLE:
        rc = optional(&out->built_from,
                      str_field(cJSON_GetObjectItemCaseSensitive(meta, "annotations"),
                                FH_ANNOTATION_BUILT_FROM),
                      PROTO_MAX_MESSAGE, "annotation " FH_ANNOTATION_BUILT_FROM, &w);
        if (rc == 0)
            rc = fill_owner(meta, out, &w);
        break;
    default:        /* PROTO_RES_SECRET: identity only */
        break;
    }
out:
    if (rc == -FH_ENOMEM && why && why_len) {
        why[0] = '\0';
        say(&w, "out of memory");
    }
    if (rc < 0)
        proto_obj_clear(out);
    return rc;
}

/* put_part - append s cut to max bytes at a UTF-8 character boundary,
 * marked "..." when cut; "?" when s is NULL */
static void
put_part(char *buf, size_t len, size_t *pos, const char *s, size_t max)
{
    size_t full, n, room = len - 1 - *pos;

    if (!s)
        s = "?";
    full = n = strlen(s);
    if (n > max)
        n = max;
    if (n > room)
        n = room;
    if (n < full)
        while (n > 0 && ((unsigned char)s[n] & 0xC0) == 0x80)
            n--;        /* do not split a multi-byte character */
    memcpy(buf + *pos, s, n);
    *pos += n;
    if (n < full) {
        room = len - 1 - *pos;
        n = room < 3 ? room : 3;
        memcpy(buf + *pos, "...", n);
        *pos += n;
    }
    buf[*pos] = '\0';
}

/* obj_meta_key - see header */
void
obj_meta_key(const struct cJSON *obj, char *buf, size_t len)
{
    const cJSON *meta = cJSON_GetObjectItemCaseSensitive(obj, "metadata");
    const char *ns = str_field(meta, "namespace");
    size_t pos = 0;

    if (!buf || len == 0)
        return;
    buf[0] = '\0';
    put_part(buf, len, &pos, ns ? ns : "", PROTO_MAX_NAME);
    put_part(buf, len, &pos, "/", 1);
    put_part(buf, len, &pos, str_field(meta, "name"), PROTO_MAX_NAME);
}
