/*
 * wreq.c - counted apiserver requests, resource paths and failure records
 * for the worker. Owns nothing beyond what it returns.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "bundle.h"
#include "fh_err.h"
#include "kube_client.h"
#include "wreq.h"

/* wreq_do - one request, counted */
int
wreq_do(struct wreq *w, const char *method, const char *path, const char *body,
        size_t body_len, struct kube_response *resp)
{
    const char *ctype = NULL;

    if (strcmp(method, "GET") == 0) {
        w->reads++;
    } else {
        w->writes++;
        ctype = strcmp(method, "PATCH") == 0 ? "application/merge-patch+json"
                                             : "application/json";
    }
    return kube_request(w->kc, method, path, NULL, body ? ctype : NULL, body, body_len, resp);
}

/* ns_path - prefix/namespaces/NS/plural[/NAME][suffix], segments escaped */
static char *
ns_path(const char *prefix, const char *ns, const char *plural, const char *name,
        const char *suffix)
{
    char *ens = kube_path_escape(ns);
    char *ename = name ? kube_path_escape(name) : NULL;
    char *out = NULL;

    if (ens && (ename || !name)) {
        if (asprintf(&out, "%s/namespaces/%s/%s%s%s%s", prefix, ens, plural,
                     ename ? "/" : "", ename ? ename : "", suffix ? suffix : "") < 0)
            out = NULL;
    }
    free(ens);
    free(ename);
    return out;
}

/* wreq_secret_path - core v1 Secret */
char *
wreq_secret_path(const char *ns, const char *name)
{
    return ns_path("/api/v1", ns, "secrets", name, NULL);
}

/* wreq_bundle_path - Fleet Bundle object or collection */
char *
wreq_bundle_path(const char *ns, const char *name)
{
    return ns_path("/apis/fleet.cattle.io/v1alpha1", ns, "bundles", name, NULL);
}

/* wreq_fh_path - a FleetHandshake */
char *
wreq_fh_path(const char *ns, const char *name)
{
    return ns_path("/apis/riverpointtechnology.com/v1alpha1", ns, "fleethandshakes", name, NULL);
}

/* wreq_fh_status_path - status subresource of a FleetHandshake */
char *
wreq_fh_status_path(const char *ns, const char *name)
{
    return ns_path("/apis/riverpointtechnology.com/v1alpha1", ns, "fleethandshakes",
                   name, "/status");
}

/* value_end - end of the Go-formatted value starting at p: a quoted string
 * (escapes honoured) or anything up to the next ": "; NULL if unterminated */
static char *
value_end(char *p)
{
    char *end, *q;

    if (*p == '"') {
        for (p++; *p; p++) {
            if (*p == '\\' && p[1])
                p++;
            else if (*p == '"')
                return p + 1;
        }
        return NULL;
    }
    /* A composite value (map, struct) may hold quoted text with ": " inside:
     * then there is no safe end, and the caller drops the rest. */
    end = strstr(p, ": ");
    q = strpbrk(p, "\"{[");
    if (!end || (q && q < end))
        return NULL;
    return end;
}

/* omit_invalid_values - field.Error renders "<field>: Invalid value: <value>:
 * <detail>" and the value could be Secret content; replace every such value
 * by "(omitted)" and keep the field and the detail */
static void
omit_invalid_values(char *text, size_t cap)
{
    static const char marker[] = "Invalid value: ";
    static const char repl[] = "(omitted)";
    char *p = text;

    while ((p = strstr(p, marker))) {
        char *v = p + sizeof(marker) - 1;
        char *end = value_end(v);
        size_t tail;

        if (!end || (size_t)(v - text) + sizeof(repl) > cap) {
            snprintf(v, cap - (size_t)(v - text), "%s", repl);
            return;
        }
        tail = strlen(end);
        /* A value shorter than the replacement makes the text grow: keep
         * within cap by dropping the end of the text. */
        if ((size_t)(v - text) + sizeof(repl) + tail > cap)
            tail = cap - (size_t)(v - text) - sizeof(repl);
        memmove(v + sizeof(repl) - 1, end, tail);
        memcpy(v, repl, sizeof(repl) - 1);
        v[sizeof(repl) - 1 + tail] = '\0';
        p = v + sizeof(repl) - 1;
    }
}

/* wreq_fail_set - remember what failed, with safe text */
void
wreq_fail_set(struct wreq_fail *f, int rc, const struct kube_response *resp,
              const char *verb, const char *resource, const char *ns,
              const cJSON *quotes)
{
    memset(f, 0, sizeof(*f));
    f->verb = verb;
    f->resource = resource;
    snprintf(f->ns, sizeof(f->ns), "%s", ns ? ns : "");
    f->retry_after_s = resp ? resp->retry_after_s : -1;
    if (rc < 0 || !resp || resp->status == 0) {
        f->http = 0;
        f->err = rc < 0 ? rc : -FH_EIO;
        snprintf(f->text, sizeof(f->text), "%s", fh_strerror(f->err));
        return;
    }
    f->http = resp->status;
    f->err = kube_http_err(resp->status);
    kube_status_text(resp, f->text, sizeof(f->text));
    omit_invalid_values(f->text, sizeof(f->text));
    if (quotes && bundle_text_quotes_secret(f->text, quotes))
        snprintf(f->text, sizeof(f->text), "HTTP %ld (message omitted: it quoted Secret data)",
                 f->http);
}

/* wreq_json - parse a response body */
cJSON *
wreq_json(const struct kube_response *resp)
{
    if (!resp || !resp->body || resp->body_len == 0)
        return NULL;
    return cJSON_ParseWithLength(resp->body, resp->body_len);
}

/* wreq_rv - copy metadata.resourceVersion */
char *
wreq_rv(const cJSON *obj)
{
    const cJSON *rv = cJSON_GetObjectItemCaseSensitive(
        cJSON_GetObjectItemCaseSensitive(obj, "metadata"), "resourceVersion");

    return cJSON_IsString(rv) ? strdup(rv->valuestring) : NULL;
}

/* wreq_generation - metadata.generation as an integer */
int64_t
wreq_generation(const cJSON *obj)
{
    const cJSON *meta = cJSON_GetObjectItemCaseSensitive(obj, "metadata");
    const cJSON *g = cJSON_GetObjectItemCaseSensitive(meta, "generation");

    return cJSON_IsNumber(g) && g->valuedouble >= 0 ? (int64_t)g->valuedouble : 0;
}
