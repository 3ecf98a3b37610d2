/*
 * kube_status.c - HTTP status -> FH_E* mapping and metav1.Status reading.
 * Only bodies whose kind is "Status" are ever copied into messages, so an
 * error path can never leak an object (e.g. a Secret) into a log line.
 * Owns nothing; parsed trees are wiped and freed before returning.
 */
#include <stdio.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "fh_err.h"
#include "kube_client.h"
#include "kube_status.h"
#include "secret_mem.h"

/* kube_http_err - status code -> error */
int
kube_http_err(long status)
{
    if (status >= 200 && status < 300)
        return 0;
    switch (status) {
    case 400: return -FH_EINVALIDOBJ;
    case 401: return -FH_EUNAUTHORIZED;
    case 403: return -FH_EFORBIDDEN;
    case 404: return -FH_ENOTFOUND;
    case 409: return -FH_ECONFLICT;
    case 410: return -FH_EGONE;
    case 422: return -FH_EINVALIDOBJ;
    case 429: return -FH_ETHROTTLED;
    default:  return status >= 500 && status < 600 ? -FH_ESERVER : -FH_EHTTP;
    }
}

/* kube_response_err - 409 splits into Conflict and AlreadyExists */
int
kube_response_err(const struct kube_response *r)
{
    bool exists = false;

    if (r->status == 409 && r->body &&
        kube_status_body(r->body, r->body_len, r->status, NULL, 0, &exists, NULL) && exists)
        return -FH_EEXIST;
    return kube_http_err(r->status);
}

/* kube_status_fields - read a Status object */
bool
kube_status_fields(const cJSON *obj, long *code, const char **reason, const char **message)
{
    const cJSON *kind = cJSON_GetObjectItemCaseSensitive(obj, "kind");
    const cJSON *c, *r, *m;

    if (!cJSON_IsObject(obj) || !cJSON_IsString(kind) || strcmp(kind->valuestring, "Status") != 0)
        return false;
    c = cJSON_GetObjectItemCaseSensitive(obj, "code");
    r = cJSON_GetObjectItemCaseSensitive(obj, "reason");
    m = cJSON_GetObjectItemCaseSensitive(obj, "message");
    /* only an HTTP status is converted: (long) of a huge double is undefined */
    if (code)
        *code = cJSON_IsNumber(c) && c->valuedouble >= 100.0 && c->valuedouble < 1000.0 ?
                (long)c->valuedouble : 0;
    if (reason)
        *reason = cJSON_IsString(r) && r->valuestring[0] ? r->valuestring : NULL;
    if (message)
        *message = cJSON_IsString(m) && m->valuestring[0] ? m->valuestring : NULL;
    return true;
}

/* one_line - control characters become spaces so the text stays one log line */
static void
one_line(char *s)
{
    for (; *s; s++)
        if ((unsigned char)*s < 0x20 || *s == 0x7f)
            *s = ' ';
}

/* kube_status_format - "Reason: message" */
void
kube_status_format(const cJSON *obj, long status, char *buf, size_t len)
{
    const char *reason = NULL, *message = NULL;

    if (!buf || !len)
        return;
    if (!obj || !kube_status_fields(obj, NULL, &reason, &message) || (!reason && !message))
        snprintf(buf, len, "HTTP %ld", status);
    else if (reason && message)
        snprintf(buf, len, "%s: %s", reason, message);
    else if (reason)
        snprintf(buf, len, "%s", reason);
    else
        snprintf(buf, len, "HTTP %ld: %s", status, message);
    one_line(buf);
}

/* kube_status_body - parse only what claims to be a Status */
long
kube_status_body(const char *body, size_t len, long status, char *buf, size_t buflen,
                 bool *already_exists, bool *expired)
{
    const char *reason = NULL;
    cJSON *root = NULL;
    long code = 0;

    if (already_exists)
        *already_exists = false;
    if (expired)
        *expired = false;
    /* cheap pre-check: never parse a large object body just to find out */
    if (body && len && memmem(body, len, "\"Status\"", 8))
        root = cJSON_ParseWithLength(body, len);
    if (root && kube_status_fields(root, &code, &reason, NULL)) {
        if (already_exists)
            *already_exists = reason && strcmp(reason, "AlreadyExists") == 0;
        if (expired)
            *expired = reason && (strcmp(reason, "Expired") == 0 || strcmp(reason, "Gone") == 0);
        if (code == 0)
            code = status ? status : -1;
    } else {
        code = 0;
    }
    kube_status_format(code ? root : NULL, status, buf, buflen);
    secret_json_free(&root);
    return code;
}

/* kube_status_text - public wrapper over kube_status_body */
void
kube_status_text(const struct kube_response *r, char *buf, size_t len)
{
    if (!buf || !len)
        return;
    if (!r) {
        snprintf(buf, len, "no response");
        return;
    }
    kube_status_body(r->body, r->body ? r->body_len : 0, r->status, buf, len, NULL, NULL);
}
