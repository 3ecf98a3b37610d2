/*
 * lease_record.c - the Lease on the wire: reading the election record out of
 * a coordination.k8s.io/v1 Lease, writing one back (keeping the fetched
 * metadata and resourceVersion, as client-go's LeaseLock does), and the
 * MicroTime format of its timestamps.
 *
 * Owns nothing beyond a call: records own their strings, bodies go to the
 * caller.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cjson/cJSON.h>

#include "fh_err.h"
#include "lease.h"

/* lease_microtime - RFC 3339 with exactly six fractional digits, UTC */
int
lease_microtime(int64_t wall_us, char *out, size_t cap)
{
    struct tm tm;
    time_t secs;
    int n;

    if (!out)
        return -FH_EINVAL;
    if (cap)
        out[0] = '\0';
    if (wall_us < 0)
        return -FH_EINVAL;
    secs = (time_t)(wall_us / 1000000);
    if (!gmtime_r(&secs, &tm) || tm.tm_year + 1900 > 9999)
        return -FH_EINVAL;
    n = snprintf(out, cap, "%04d-%02d-%02dT%02d:%02d:%02d.%06dZ", tm.tm_year + 1900,
                 tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec,
                 (int)(wall_us % 1000000));
    if (n < 0 || (size_t)n >= cap) {
        if (cap)
            out[0] = '\0';
        return -FH_ETOOBIG;
    }
    return 0;
}

/* s_item - case-sensitive member lookup */
static const cJSON *
s_item(const cJSON *obj, const char *key)
{
    return cJSON_GetObjectItemCaseSensitive(obj, key);
}

/* s_int - an integral JSON number, else 0 */
static int64_t
s_int(const cJSON *v)
{
    double d;

    if (!cJSON_IsNumber(v))
        return 0;
    d = v->valuedouble;
    if (!(d >= -9.0e15 && d <= 9.0e15) || floor(d) != d)
        return 0;
    return (int64_t)d;
}

/* s_dup - heap copy of a JSON string, NULL when absent; -FH_ENOMEM via *rc */
static char *
s_dup(const cJSON *v, const char *fallback, int *rc)
{
    const char *s = cJSON_IsString(v) && v->valuestring ? v->valuestring : fallback;
    char *d;

    if (!s)
        return NULL;
    d = strdup(s);
    if (!d)
        *rc = -FH_ENOMEM;
    return d;
}

/* lease_record_from_json - spec -> record */
int
lease_record_from_json(const struct cJSON *lease, struct lease_record *out)
{
    const cJSON *spec;
    int rc = 0;

    if (!out)
        return -FH_EINVAL;
    memset(out, 0, sizeof(*out));
    if (!cJSON_IsObject(lease))
        return -FH_EBADREPLY;
    spec = s_item(lease, "spec");
    out->holder = s_dup(s_item(spec, "holderIdentity"), "", &rc);
    out->duration_s = s_int(s_item(spec, "leaseDurationSeconds"));
    out->acquire_time = s_dup(s_item(spec, "acquireTime"), NULL, &rc);
    out->renew_time = s_dup(s_item(spec, "renewTime"), NULL, &rc);
    out->transitions = s_int(s_item(spec, "leaseTransitions"));
    if (rc)
        lease_record_clear(out);
    return rc;
}

/* s_streq - NULL-tolerant string equality */
static bool
s_streq(const char *a, const char *b)
{
    if (!a || !b)
        return a == b;
    return strcmp(a, b) == 0;
}

/* lease_record_equal - field by field (client-go compares the raw record) */
bool
lease_record_equal(const struct lease_record *a, const struct lease_record *b)
{
    return s_streq(a->holder, b->holder) && a->duration_s == b->duration_s &&
           s_streq(a->acquire_time, b->acquire_time) && s_streq(a->renew_time, b->renew_time) &&
           a->transitions == b->transitions;
}

/* lease_record_copy - deep copy */
int
lease_record_copy(struct lease_record *dst, const struct lease_record *src)
{
    const char *const from[3] = { src->holder, src->acquire_time, src->renew_time };
    char **to[3] = { &dst->holder, &dst->acquire_time, &dst->renew_time };

    memset(dst, 0, sizeof(*dst));
    dst->duration_s = src->duration_s;
    dst->transitions = src->transitions;
    for (int i = 0; i < 3; i++) {
        if (!from[i])
            continue;
        *to[i] = strdup(from[i]);
        if (!*to[i]) {
            lease_record_clear(dst);
            return -FH_ENOMEM;
        }
    }
    return 0;
}

/* lease_record_clear - free and zero */
void
lease_record_clear(struct lease_record *r)
{
    if (!r)
        return;
    free(r->holder);
    free(r->acquire_time);
    free(r->renew_time);
    memset(r, 0, sizeof(*r));
}

/* s_spec - the LeaseSpec of a record (every field written, as client-go does) */
static cJSON *
s_spec(const struct lease_record *r)
{
    cJSON *spec = cJSON_CreateObject();
    bool ok = spec != NULL;

    ok = ok && cJSON_AddStringToObject(spec, "holderIdentity", r->holder ? r->holder : "");
    ok = ok && cJSON_AddNumberToObject(spec, "leaseDurationSeconds", (double)r->duration_s);
    if (r->acquire_time)
        ok = ok && cJSON_AddStringToObject(spec, "acquireTime", r->acquire_time);
    if (r->renew_time)
        ok = ok && cJSON_AddStringToObject(spec, "renewTime", r->renew_time);
    ok = ok && cJSON_AddNumberToObject(spec, "leaseTransitions", (double)r->transitions);
    if (!ok) {
        cJSON_Delete(spec);
        return NULL;
    }
    return spec;
}

/* s_new_lease - a fresh Lease ns/name without spec */
static cJSON *
s_new_lease(const char *ns, const char *name)
{
    cJSON *obj = cJSON_CreateObject();
    cJSON *meta = cJSON_CreateObject();
    bool ok = obj && meta;

    ok = ok && cJSON_AddStringToObject(obj, "apiVersion", "coordination.k8s.io/v1");
    ok = ok && cJSON_AddStringToObject(obj, "kind", "Lease");
    ok = ok && cJSON_AddStringToObject(meta, "name", name);
    ok = ok && cJSON_AddStringToObject(meta, "namespace", ns);
    if (ok && cJSON_AddItemToObject(obj, "metadata", meta))
        return obj;
    cJSON_Delete(meta);
    cJSON_Delete(obj);
    return NULL;
}

/* lease_body - base (or a new Lease) with spec := r, as JSON text */
int
lease_body(const struct cJSON *base, const char *ns, const char *name,
           const struct lease_record *r, char **out)
{
    cJSON *obj, *spec;
    int rc = -FH_ENOMEM;

    if (!out || !r || (!base && (!ns || !name)))
        return -FH_EINVAL;
    *out = NULL;
    obj = base ? cJSON_Duplicate(base, 1) : s_new_lease(ns, name);
    spec = s_spec(r);
    if (!obj || !spec)
        goto out;
    if (cJSON_GetObjectItemCaseSensitive(obj, "spec")) {
        if (!cJSON_ReplaceItemInObjectCaseSensitive(obj, "spec", spec))
            goto out;
    } else if (!cJSON_AddItemToObject(obj, "spec", spec)) {
        goto out;
    }
    spec = NULL;                                    /* now owned by obj */
    *out = cJSON_PrintUnformatted(obj);
    if (*out)
        rc = 0;
out:
    cJSON_Delete(spec);
    cJSON_Delete(obj);
    return rc;
}
