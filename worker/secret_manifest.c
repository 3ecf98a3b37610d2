/*
 * secret_manifest.c - the downstream Secret manifest carried in the Bundle:
 * the source Secret's type and data (stringData folded in), renamed into the
 * target namespace, as deterministic compact JSON. The immutable flag is not
 * copied: an immutable downstream copy could never take the next version.
 * Every intermediate buffer and tree holding Secret data is wiped here; the
 * caller owns (and wipes) the returned text.
 */
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "bundle.h"
#include "fh_err.h"
#include "secret_mem.h"

/* b64_encode - standard base64 with padding; *out is a new NUL-terminated
 * buffer the caller wipes and frees (it encodes Secret data) */
static int
b64_encode(const unsigned char *in, size_t n, char **out)
{
    static const char tbl[] =
        "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    size_t olen, i, o = 0;
    char *buf;

    if (n > SIZE_MAX / 2)
        return -FH_ETOOBIG;
    olen = (n + 2) / 3 * 4;
    buf = malloc(olen + 1);
    if (!buf)
        return -FH_ENOMEM;
    for (i = 0; i + 2 < n; i += 3) {
        unsigned v = (unsigned)in[i] << 16 | (unsigned)in[i + 1] << 8 | in[i + 2];

        buf[o++] = tbl[v >> 18 & 63];
        buf[o++] = tbl[v >> 12 & 63];
        buf[o++] = tbl[v >> 6 & 63];
        buf[o++] = tbl[v & 63];
    }
    if (i < n) {
        unsigned v = (unsigned)in[i] << 16 | (i + 1 < n ? (unsigned)in[i + 1] << 8 : 0);

        buf[o++] = tbl[v >> 18 & 63];
        buf[o++] = tbl[v >> 12 & 63];
        buf[o++] = i + 1 < n ? tbl[v >> 6 & 63] : '=';
        buf[o++] = '=';
    }
    buf[o] = '\0';
    *out = buf;
    return 0;
}

/* put_value - set data[key] = a copy of val, replacing an earlier entry */
static int
put_value(cJSON *data, const char *key, const char *val)
{
    cJSON *item = cJSON_CreateString(val);

    if (!item)
        return -FH_ENOMEM;
    if (cJSON_GetObjectItemCaseSensitive(data, key)) {
        cJSON *old = cJSON_DetachItemFromObjectCaseSensitive(data, key);

        secret_json_free(&old);
    }
    if (!cJSON_AddItemToObject(data, key, item)) {
        secret_json_free(&item);
        return -FH_ENOMEM;
    }
    return 0;
}

/* cmp_keys - qsort order of object members: bytewise by key */
static int
cmp_keys(const void *a, const void *b)
{
    const cJSON *x = *(const cJSON *const *)a;
    const cJSON *y = *(const cJSON *const *)b;

    return strcmp(x->string, y->string);
}

/* sort_members - reorder obj's members by key so the output never depends on
 * the order the apiserver (or a hand-made object) listed them in */
static int
sort_members(cJSON *obj)
{
    size_t n = 0, i;
    cJSON **v, *c;

    for (c = obj->child; c; c = c->next)
        n++;
    if (n < 2)
        return 0;
    v = calloc(n, sizeof(*v));
    if (!v)
        return -FH_ENOMEM;
    for (i = 0, c = obj->child; c; c = c->next)
        v[i++] = c;
    qsort(v, n, sizeof(*v), cmp_keys);
    /* Relink as cJSON expects: next chain, prev chain, head->prev = tail. */
    for (i = 0; i < n; i++) {
        v[i]->next = i + 1 < n ? v[i + 1] : NULL;
        v[i]->prev = i > 0 ? v[i - 1] : v[n - 1];
    }
    obj->child = v[0];
    free(v);
    return 0;
}

/* merge_data - data copied as is, then stringData base64-encoded over it */
static int
merge_data(const cJSON *secret, cJSON *data)
{
    const cJSON *src, *it;
    int rc;

    src = cJSON_GetObjectItemCaseSensitive(secret, "data");
    if (src && !cJSON_IsNull(src) && !cJSON_IsObject(src))
        return -FH_EBADREPLY;
    cJSON_ArrayForEach(it, src) {
        if (!cJSON_IsString(it))
            return -FH_EBADREPLY;
        if ((rc = put_value(data, it->string, it->valuestring)) < 0)
            return rc;
    }
    /* The apiserver folds stringData into data on write and never returns it,
     * but a hand-made object might carry it; it wins, as on a real write. */
    src = cJSON_GetObjectItemCaseSensitive(secret, "stringData");
    if (src && !cJSON_IsNull(src) && !cJSON_IsObject(src))
        return -FH_EBADREPLY;
    cJSON_ArrayForEach(it, src) {
        char *enc = NULL;

        if (!cJSON_IsString(it))
            return -FH_EBADREPLY;
        rc = b64_encode((const unsigned char *)it->valuestring, strlen(it->valuestring), &enc);
        if (rc == 0)
            rc = put_value(data, it->string, enc);
        secret_free(&enc, 0);
        if (rc < 0)
            return rc;
    }
    return sort_members(data);
}

/* bundle_secret_manifest - see bundle.h */
int
bundle_secret_manifest(const cJSON *secret, const char *target_ns, char **out, size_t *len)
{
    const cJSON *meta, *name, *type;
    cJSON *m = NULL, *md, *data;
    int rc = -FH_ENOMEM;

    if (!secret || !target_ns || !out || !len)
        return -FH_EINVAL;
    *out = NULL;
    *len = 0;
    meta = cJSON_GetObjectItemCaseSensitive(secret, "metadata");
    name = cJSON_GetObjectItemCaseSensitive(meta, "name");
    if (!cJSON_IsString(name) || !name->valuestring[0])
        return -FH_EBADREPLY;
    type = cJSON_GetObjectItemCaseSensitive(secret, "type");

    if (!(m = cJSON_CreateObject())
        || !cJSON_AddStringToObject(m, "apiVersion", "v1")
        || !cJSON_AddStringToObject(m, "kind", "Secret")
        || !(md = cJSON_AddObjectToObject(m, "metadata"))
        || !cJSON_AddStringToObject(md, "name", name->valuestring)
        || !cJSON_AddStringToObject(md, "namespace", target_ns)
        || !cJSON_AddStringToObject(m, "type", cJSON_IsString(type) && type->valuestring[0]
                                               ? type->valuestring : "Opaque")
        || !(data = cJSON_AddObjectToObject(m, "data")))
        goto out;
    if ((rc = merge_data(secret, data)) < 0)
        goto out;
    rc = bundle_print(m, out, len);
out:
    secret_json_free(&m);
    return rc;
}
