/*
 * kube_reflector.c - one collection's list -> watch -> relist state machine
 * (client-go's reflector, reference §1.5), driven by kube_loop.
 *
 * Owns: its curl easy handle (connections are pooled by the loop's multi
 * handle), the request's header list, the list-page buffer and the watch
 * line assembler (both wiped), the store of what it has delivered, and
 * copies of the spec strings. Borrows everything in struct
 * kube_reflector_env from the loop.
 *
 * States: next == NEXT_LIST or NEXT_WATCH says which request starts when
 * due_ms is reached; in_flight while curl runs it. All waiting is a due
 * time the loop turns into a poll timeout - nothing here sleeps.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>
#include <curl/curl.h>

#include "fh_err.h"
#include "fh_log.h"
#include "kube_backoff.h"
#include "kube_client.h"
#include "kube_http.h"
#include "kube_reflector.h"
#include "kube_status.h"
#include "kube_store.h"
#include "kube_token.h"
#include "secret_mem.h"

#define DEFAULT_PAGE_SIZE   500
#define PAGE_SIZE_FLOOR     10      /* halving on oversized pages stops here */
#define WATCH_MIN_TIMEOUT_S 300     /* client-go: random in [5 min, 10 min) */
#define WATCH_SHORT_MS      1000    /* shorter, event-less watches are errors */
#define LOW_SPEED_TIME_S    90L     /* no byte for this long: dead connection */
#define WATCH_GRACE_S       60L     /* past timeoutSeconds before we give up */
#define ERROR_BODY_MAX      (1u * 1024u * 1024u)

#define ACCEPT_META_LIST  "application/json;as=PartialObjectMetadataList;g=meta.k8s.io;v=v1"
#define ACCEPT_META_WATCH "application/json;as=PartialObjectMetadata;g=meta.k8s.io;v=v1"

enum refl_next { NEXT_LIST, NEXT_WATCH };

/* how a watch must be followed up, decided while its lines are parsed */
enum watch_outcome {
    WO_NONE = 0,
    WO_RELIST_AT_RV,        /* ERROR 410: relist at the last resourceVersion */
    WO_RELIST_FRESH,        /* garbage: back off, then relist from scratch */
    WO_REWATCH_BACKOFF,     /* other ERROR event: back off, re-watch */
};

struct kube_reflector {
    struct kube_reflector_env env;
    struct kube_reflector_cb cb;
    char *path;
    char *selector;             /* escaped label selector, or NULL */
    bool metadata_only;
    int page_size;              /* the configured limit of a list page */
    int page_limit;             /* the limit in use: halved while pages are too big */
    long watch_timeout_s;

    CURL *h;
    struct curl_slist *hdrs;    /* of the request in flight (holds the token) */
    char *url;
    char errbuf[CURL_ERROR_SIZE];
    bool in_flight;
    bool watching;              /* the request in flight is a watch */
    enum refl_next next;
    long due_ms;
    struct kube_backoff backoff;
    uint64_t rng;

    /* list */
    bool list_at_rv;            /* next list: resourceVersion=rv, unpaged */
    bool list_gone_again;       /* the previous list attempt was a 410 too */
    char *cont;                 /* continue token of the next page */
    char *list_rv;              /* resourceVersion of the list in progress */
    unsigned gen;               /* mark of the list in progress */
    struct kube_buf body;       /* list page, or a non-200 body */

    /* watch */
    char *rv;                   /* last resourceVersion delivered */
    struct kube_lines *lines;
    long status_seen;           /* HTTP status, read at the first body byte */
    long started_ms;
    long timeout_s;             /* timeoutSeconds asked of the server */
    unsigned long events;       /* events of this watch, bookmarks included */
    enum watch_outcome wo;
    int wo_err;
    char wo_what[384];

    struct kube_store *store;
    bool synced;
};

/* report - one recoverable problem: callback (or a warning if none) */
static void __attribute__((format(printf, 3, 4)))
report(struct kube_reflector *r, int err, const char *fmt, ...)
{
    char what[512];
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(what, sizeof(what), fmt, ap);
    va_end(ap);
    if (r->cb.on_error) {
        log_debug(r->env.log, r->path, "%s (%s)", what, fh_strerror(err));
        r->cb.on_error(r->cb.arg, err, what);
    } else {
        log_warn(r->env.log, r->path, "%s (%s)", what, fh_strerror(err));
    }
}

/* set_str - replace *dst by a copy of v (NULL allowed) */
static int
set_str(char **dst, const char *v)
{
    char *n = NULL;

    if (v && !(n = strdup(v)))
        return -FH_ENOMEM;
    free(*dst);
    *dst = n;
    return 0;
}

/* schedule - next request after wait_ms */
static void
schedule(struct kube_reflector *r, enum refl_next next, long now, long wait_ms)
{
    r->next = next;
    r->due_ms = now + (wait_ms > 0 ? wait_ms : 0);
}

/* backoff_wait - next backoff, stretched to Retry-After (bounded by the max) */
static long
backoff_wait(struct kube_reflector *r, long retry_after_s)
{
    long wait = kube_backoff_next(&r->backoff);

    if (retry_after_s > 0) {
        long ra = retry_after_s * 1000;

        if (ra > r->backoff.max_ms)
            ra = r->backoff.max_ms;
        if (ra > wait)
            wait = ra;
    }
    return wait;
}

/* kube_reflector_new - copy spec and callbacks, prepare the easy handle */
struct kube_reflector *
kube_reflector_new(const struct kube_reflector_env *env, const struct kube_reflector_spec *spec,
                   const struct kube_reflector_cb *cb)
{
    struct kube_reflector *r;

    if (!spec || !spec->path || spec->path[0] != '/' || strchr(spec->path, '?') || !cb ||
        !cb->on_event) {
        log_error(env->log, NULL, "reflector: bad spec (path must start with '/', no query)");
        return NULL;
    }
    r = calloc(1, sizeof(*r));
    if (!r)
        goto nomem;
    r->env = *env;
    r->cb = *cb;
    r->metadata_only = spec->metadata_only;
    r->page_size = spec->page_size > 0 ? spec->page_size : DEFAULT_PAGE_SIZE;
    r->page_limit = r->page_size;
    r->watch_timeout_s = spec->watch_timeout_s;
    kube_backoff_init(&r->backoff, spec->backoff_initial_ms, spec->backoff_max_ms);
    r->rng = kube_rng_seed();
    kube_buf_init(&r->body, env->max_body);
    r->path = strdup(spec->path);
    if (spec->label_selector && spec->label_selector[0])
        r->selector = kube_path_escape(spec->label_selector);
    r->lines = kube_lines_new(0);
    r->store = kube_store_new();
    r->h = curl_easy_init();
    if (!r->path || (spec->label_selector && spec->label_selector[0] && !r->selector) ||
        !r->lines || !r->store || !r->h)
        goto nomem;
    if (kube_http_setup(r->h, env->cfg, env->target, env->user_agent, env->connect_timeout_ms,
                        r->errbuf) < 0 ||
        curl_easy_setopt(r->h, CURLOPT_PRIVATE, r) != CURLE_OK ||
        curl_easy_setopt(r->h, CURLOPT_LOW_SPEED_LIMIT, 1L) != CURLE_OK ||
        curl_easy_setopt(r->h, CURLOPT_LOW_SPEED_TIME, LOW_SPEED_TIME_S) != CURLE_OK) {
        log_error(env->log, spec->path, "reflector: libcurl lacks a needed option");
        kube_reflector_free(&r);
        return NULL;
    }
    r->next = NEXT_LIST;
    r->due_ms = kube_now_ms();
    return r;
nomem:
    log_error(env->log, spec->path, "reflector: out of memory");
    kube_reflector_free(&r);
    return NULL;
}

/* kube_reflector_free - abort and release */
void
kube_reflector_free(struct kube_reflector **rp)
{
    struct kube_reflector *r;

    if (!rp || !*rp)
        return;
    r = *rp;
    if (r->h) {
        if (r->in_flight)
            curl_multi_remove_handle(r->env.multi, r->h);
        curl_easy_cleanup(r->h);
    }
    kube_http_headers_free(&r->hdrs);
    kube_buf_clear(&r->body);
    kube_lines_free(&r->lines);
    kube_store_free(&r->store);
    free(r->url);
    free(r->path);
    free(r->selector);
    free(r->cont);
    free(r->list_rv);
    free(r->rv);
    free(r);
    *rp = NULL;
}

/* kube_reflector_due - when to start, -1 while busy */
long
kube_reflector_due(const struct kube_reflector *r)
{
    return r->in_flight ? -1 : r->due_ms;
}

/* kube_reflector_synced - first list done */
bool
kube_reflector_synced(const struct kube_reflector *r)
{
    return r->synced;
}

/* append_param - "&name=escaped(value)" (or '?' first) onto *url */
static int
append_param(char **url, const char *name, const char *value, bool escape)
{
    char *esc = escape ? kube_path_escape(value) : NULL;
    const char *v = escape ? esc : value;
    size_t ul = strlen(*url), n;
    char *nu;

    if (escape && !esc)
        return -FH_ENOMEM;
    n = ul + strlen(name) + strlen(v) + 3;
    nu = malloc(n);
    if (!nu) {
        free(esc);
        return -FH_ENOMEM;
    }
    snprintf(nu, n, "%s%c%s=%s", *url, strchr(*url, '?') ? '&' : '?', name, v);
    free(esc);
    free(*url);
    *url = nu;
    return 0;
}

/* build_url - the URL of the next request */
static int
build_url(struct kube_reflector *r)
{
    char num[32];
    int rc = 0;

    free(r->url);
    r->url = kube_target_url(r->env.target, r->path);
    if (!r->url)
        return -FH_ENOMEM;
    if (r->next == NEXT_WATCH) {
        long t = r->watch_timeout_s > 0 ? r->watch_timeout_s :
                 WATCH_MIN_TIMEOUT_S + (long)(kube_rng_next(&r->rng) % WATCH_MIN_TIMEOUT_S);

        r->timeout_s = t;
        snprintf(num, sizeof(num), "%ld", t);
        rc = append_param(&r->url, "watch", "1", false);
        if (rc == 0)
            rc = append_param(&r->url, "allowWatchBookmarks", "true", false);
        if (rc == 0 && r->rv)
            rc = append_param(&r->url, "resourceVersion", r->rv, true);
        if (rc == 0)
            rc = append_param(&r->url, "timeoutSeconds", num, false);
    } else if (r->list_at_rv && r->rv) {
        /* client-go lists unpaged at a known resourceVersion: the apiserver
         * serves that from its watch cache without touching etcd, and the
         * result is at least as new as rv, so nothing goes back in time */
        rc = append_param(&r->url, "resourceVersion", r->rv, true);
    } else {
        /* A list from scratch: paged, and without resourceVersion. client-go's
         * first list asks for resourceVersion=0 (any cached state) with a
         * limit, but the watch cache ignores limit for RV=0 and answers with
         * the whole collection in one body, which the body cap could never
         * hold for a big cluster (nor could it shrink the page, below).
         * Without resourceVersion the first page is a consistent read (the
         * newest state, never older than what a previous watch showed), limit
         * and continue are honoured, and the continue token pins the later
         * pages to the first page's resourceVersion. */
        snprintf(num, sizeof(num), "%d", r->page_limit);
        rc = append_param(&r->url, "limit", num, false);
        if (rc == 0 && r->cont)
            rc = append_param(&r->url, "continue", r->cont, true);
    }
    if (rc == 0 && r->selector)
        rc = append_param(&r->url, "labelSelector", r->selector, false);
    return rc;
}

static int on_line(const char *line, size_t len, void *arg);

/* refl_write - body bytes: watch lines go to the assembler, everything else
 * (list pages, error bodies) into the capped buffer */
static size_t
refl_write(char *ptr, size_t size, size_t nmemb, void *arg)
{
    struct kube_reflector *r = arg;
    size_t n = size * nmemb;
    int rc;

    if (r->status_seen == 0) {
        long code = 0;

        curl_easy_getinfo(r->h, CURLINFO_RESPONSE_CODE, &code);
        r->status_seen = code ? code : -1;
    }
    if (!r->watching || r->status_seen != 200)
        return kube_buf_write_cb(ptr, size, nmemb, &r->body);
    rc = kube_lines_feed(r->lines, ptr, n, on_line, r);
    if (rc < 0) {
        if (r->wo == WO_NONE) {
            r->wo = WO_RELIST_FRESH;
            r->wo_err = rc;
            snprintf(r->wo_what, sizeof(r->wo_what), "watch: %s",
                     rc == -FH_ETOOBIG ? "event line too long" : "cannot buffer event line");
        }
        return 0;   /* abort the transfer */
    }
    return n;
}

/* kube_reflector_start - issue the next request */
int
kube_reflector_start(struct kube_reflector *r, long now)
{
    const char *accept;
    CURLcode crc = CURLE_OK;
    CURLMcode mrc;
    long timeout_ms;
    int rc;

    if (r->in_flight)
        return 0;
    r->watching = r->next == NEXT_WATCH;
    r->status_seen = 0;
    r->events = 0;
    r->wo = WO_NONE;
    r->started_ms = now;
    kube_buf_clear(&r->body);
    if (r->watching)
        r->body.max = ERROR_BODY_MAX;
    else
        r->body.max = r->env.max_body ? r->env.max_body : KUBE_DEFAULT_MAX_BODY;
    kube_lines_reset(r->lines);
    kube_http_headers_free(&r->hdrs);

    rc = kube_token_refresh(r->env.tok, false, NULL);
    if (rc < 0)
        report(r, rc, "cannot refresh the token: %s (keeping the old one)",
               kube_token_error(r->env.tok));
    rc = build_url(r);
    if (rc < 0)
        goto fail;
    if (r->metadata_only)
        accept = r->watching ? ACCEPT_META_WATCH : ACCEPT_META_LIST;
    else
        accept = "application/json";
    rc = kube_http_headers(r->env.target, r->env.tok, accept, NULL, &r->hdrs);
    if (rc < 0)
        goto fail;
    /* a watch ends server-side after timeoutSeconds; the client-side limit
     * only catches a server that forgets to */
    timeout_ms = r->watching ? (r->timeout_s + WATCH_GRACE_S) * 1000L : r->env.request_timeout_ms;
#define SET(opt, val) do { if (crc == CURLE_OK) crc = curl_easy_setopt(r->h, opt, val); } while (0)
    SET(CURLOPT_URL, r->url);
    SET(CURLOPT_HTTPHEADER, r->hdrs);
    SET(CURLOPT_WRITEFUNCTION, refl_write);
    SET(CURLOPT_WRITEDATA, r);
    SET(CURLOPT_TIMEOUT_MS, timeout_ms);
#undef SET
    if (crc != CURLE_OK) {
        rc = kube_curl_err(crc);
        goto fail;
    }
    r->errbuf[0] = '\0';
    mrc = curl_multi_add_handle(r->env.multi, r->h);
    if (mrc != CURLM_OK) {
        rc = mrc == CURLM_OUT_OF_MEMORY ? -FH_ENOMEM : -FH_EIO;
        goto fail;
    }
    r->in_flight = true;
    log_debug(r->env.log, r->path, "%s started", r->watching ? "watch" : "list");
    return 0;
fail:
    curl_easy_setopt(r->h, CURLOPT_HTTPHEADER, NULL);
    kube_http_headers_free(&r->hdrs);
    report(r, rc, "cannot start %s request", r->watching ? "watch" : "list");
    schedule(r, r->next, now, kube_backoff_next(&r->backoff));
    return rc;
}

/* json_str - obj[key] if it is a string, else NULL */
static const char *
json_str(const cJSON *obj, const char *key)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, key);

    return cJSON_IsString(v) ? v->valuestring : NULL;
}

/* deleted_obj - {"metadata":{name, namespace, uid, resourceVersion}} */
static cJSON *
deleted_obj(const struct kube_store_entry *e)
{
    cJSON *o = cJSON_CreateObject();
    cJSON *m = cJSON_AddObjectToObject(o, "metadata");

    if (!m || !cJSON_AddStringToObject(m, "name", e->name) ||
        (e->ns[0] && !cJSON_AddStringToObject(m, "namespace", e->ns)) ||
        (e->uid[0] && !cJSON_AddStringToObject(m, "uid", e->uid)) ||
        (e->rv[0] && !cJSON_AddStringToObject(m, "resourceVersion", e->rv))) {
        cJSON_Delete(o);
        return NULL;
    }
    return o;
}

/* emit_deleted - a store entry vanished: tell the user with what we know */
static void
emit_deleted(void *arg, const struct kube_store_entry *e)
{
    struct kube_reflector *r = arg;
    cJSON *o = deleted_obj(e);

    if (!o) {
        report(r, -FH_ENOMEM, "cannot build DELETED object for %s/%s", e->ns, e->name);
        return;
    }
    r->cb.on_event(r->cb.arg, KUBE_EVENT_DELETED, o);
    cJSON_Delete(o);
}

/* deliver_item - compare one listed object with the store, emit its delta */
static int
deliver_item(struct kube_reflector *r, const cJSON *item)
{
    const cJSON *meta = cJSON_GetObjectItemCaseSensitive(item, "metadata");
    const char *name = json_str(meta, "name");
    const char *ns = json_str(meta, "namespace");
    const char *uid = json_str(meta, "uid");
    const char *rv = json_str(meta, "resourceVersion");
    struct kube_store_entry *e;
    enum kube_event_type type;

    if (!cJSON_IsObject(item) || !name || !name[0]) {
        report(r, -FH_EBADREPLY, "list: item without metadata.name skipped");
        return 0;
    }
    ns = ns ? ns : "";
    uid = uid ? uid : "";
    rv = rv ? rv : "";
    e = kube_store_find(r->store, ns, name);
    if (!e) {
        type = KUBE_EVENT_ADDED;
    } else if (uid[0] && e->uid[0] && strcmp(uid, e->uid) != 0) {
        /* same name, new object: the old one was deleted while we were away */
        emit_deleted(r, e);
        type = KUBE_EVENT_ADDED;
    } else if (strcmp(rv, e->rv) != 0) {
        type = KUBE_EVENT_MODIFIED;
    } else {
        e->mark = r->gen;
        return 0;
    }
    if (kube_store_put(r->store, ns, name, uid, rv, r->gen) < 0)
        return -FH_ENOMEM;
    r->cb.on_event(r->cb.arg, type, item);
    return 0;
}

/* list_page - parse and deliver one 200 list page; schedules what follows */
static int
list_page(struct kube_reflector *r, long now)
{
    cJSON *root = cJSON_ParseWithLength(r->body.data ? r->body.data : "", r->body.len);
    const cJSON *meta, *items, *item;
    const char *rv, *cont;
    bool first = r->cont == NULL;
    int rc = 0;

    kube_buf_clear(&r->body);
    meta = cJSON_GetObjectItemCaseSensitive(root, "metadata");
    items = cJSON_GetObjectItemCaseSensitive(root, "items");
    rv = json_str(meta, "resourceVersion");
    cont = json_str(meta, "continue");
    if (!cJSON_IsObject(root) || !rv || !rv[0] || (items && !cJSON_IsArray(items) &&
                                                   !cJSON_IsNull(items))) {
        rc = -FH_EBADREPLY;
        goto out;
    }
    if (first) {
        r->gen++;
        if ((rc = set_str(&r->list_rv, rv)) < 0)
            goto out;
    }
    if (!cJSON_IsArray(items))
        items = NULL;       /* "items": null is an empty list */
    cJSON_ArrayForEach(item, items) {
        rc = deliver_item(r, item);
        if (rc < 0)
            goto out;
    }
    if (cont && cont[0]) {
        rc = set_str(&r->cont, cont);
        schedule(r, NEXT_LIST, now, 0);
        goto out;
    }
    kube_store_sweep(r->store, r->gen, emit_deleted, r);
    if (r->page_limit != r->page_size) {
        log_info(r->env.log, r->path, "list complete with limit %d; back to limit %d",
                 r->page_limit, r->page_size);
        r->page_limit = r->page_size;
    }
    free(r->cont);
    r->cont = NULL;
    free(r->rv);
    r->rv = r->list_rv;
    r->list_rv = NULL;
    r->list_at_rv = false;
    r->synced = true;
    log_debug(r->env.log, r->path, "list complete at resourceVersion %s, %zu objects", r->rv,
              kube_store_len(r->store));
    if (r->cb.on_synced)
        r->cb.on_synced(r->cb.arg);
    schedule(r, NEXT_WATCH, now, 0);
out:
    secret_json_free(&root);
    return rc;
}

/* status_text - Status text of the buffered error body, then wipe it */
static void
status_text(struct kube_reflector *r, long status, char *buf, size_t len, bool *expired)
{
    kube_status_body(r->body.data, r->body.len, status, buf, len, NULL, expired);
    kube_buf_clear(&r->body);
}

/* unauthorized - a 401 may mean the token file was rotated or the plugin's
 * token expired early */
static void
unauthorized(struct kube_reflector *r, enum refl_next next, long now, const char *what)
{
    bool changed = false;
    int rc = 0;

    if (kube_token_refreshable(r->env.tok))
        rc = kube_token_refresh(r->env.tok, true, &changed);
    report(r, -FH_EUNAUTHORIZED, "%s: 401 Unauthorized%s%s", what,
           changed ? "; got a new token, retrying" : rc < 0 ? "; no new token: " : "",
           rc < 0 ? kube_token_error(r->env.tok) : "");
    schedule(r, next, now, changed ? 0 : kube_backoff_next(&r->backoff));
}

/* too_big - a list response hit the body cap. An unpaged list (at a
 * resourceVersion) is retried paged. A page is retried at once with half the
 * limit (the continue token stays valid with another limit), down to
 * PAGE_SIZE_FLOOR; a page that does not fit even then is reported and
 * retried with backoff until the objects shrink or the cap is raised. The
 * limit goes back to page_size after the next complete list. */
static void
too_big(struct kube_reflector *r, long now)
{
    size_t cap = r->body.max;
    int was = r->page_limit;

    if (r->list_at_rv) {
        r->list_at_rv = false;
        report(r, -FH_ETOOBIG, "list of %s at resourceVersion: response larger than %zu "
               "bytes; listing again in pages of %d", r->path, cap, r->page_limit);
        schedule(r, NEXT_LIST, now, 0);
        return;
    }
    if (r->page_limit > PAGE_SIZE_FLOOR) {
        r->page_limit = r->page_limit / 2 > PAGE_SIZE_FLOOR ? r->page_limit / 2 : PAGE_SIZE_FLOOR;
        report(r, -FH_ETOOBIG, "list of %s: a page of %d objects is larger than %zu bytes; "
               "retrying with limit %d", r->path, was, cap, r->page_limit);
        schedule(r, NEXT_LIST, now, 0);
        return;
    }
    report(r, -FH_ETOOBIG, "list of %s: a page of %d objects is larger than the %zu-byte "
           "response cap even at the smallest page size; some objects are huge (e.g. "
           "annotations); retrying with backoff", r->path, r->page_limit, cap);
    schedule(r, NEXT_LIST, now, kube_backoff_next(&r->backoff));
}

/* list_done - a list page request finished */
static void
list_done(struct kube_reflector *r, CURLcode crc, long status, long now)
{
    char text[300];
    int rc;

    if (crc != CURLE_OK) {
        bool over = r->body.err == -FH_ETOOBIG;

        kube_buf_clear(&r->body);
        if (over) {
            too_big(r, now);
            return;
        }
        report(r, kube_curl_err(crc), "list: %s",
               r->errbuf[0] ? r->errbuf : curl_easy_strerror(crc));
        schedule(r, NEXT_LIST, now, kube_backoff_next(&r->backoff));
        return;
    }
    if (status == 200) {
        rc = list_page(r, now);
        r->list_gone_again = false;
        if (rc < 0) {
            report(r, rc, "list: unusable response");
            free(r->cont);
            r->cont = NULL;
            r->list_at_rv = false;
            schedule(r, NEXT_LIST, now, kube_backoff_next(&r->backoff));
        }
        return;
    }
    if (status == 401) {
        kube_buf_clear(&r->body);
        unauthorized(r, NEXT_LIST, now, "list");
        return;
    }
    status_text(r, status, text, sizeof(text), NULL);
    if (status == 410) {
        /* expired continue token or resourceVersion: start over, fresh */
        report(r, -FH_EGONE, "list%s: %s; listing again from scratch",
               r->cont ? " (continue)" : r->list_at_rv ? " (at resourceVersion)" : "", text);
        free(r->cont);
        r->cont = NULL;
        r->list_at_rv = false;
        schedule(r, NEXT_LIST, now, r->list_gone_again ? kube_backoff_next(&r->backoff) : 0);
        r->list_gone_again = true;
        return;
    }
    report(r, kube_http_err(status), "list: %s", text);
    schedule(r, NEXT_LIST, now, backoff_wait(r, kube_http_retry_after(r->h)));
}

/* watch_garbage - remember that the stream is unusable */
static int
watch_garbage(struct kube_reflector *r, const char *why)
{
    r->wo = WO_RELIST_FRESH;
    r->wo_err = -FH_EBADREPLY;
    snprintf(r->wo_what, sizeof(r->wo_what), "watch: %s", why);
    return -FH_EBADREPLY;
}

/* watch_object - ADDED / MODIFIED / DELETED: update the store, pass it on */
static int
watch_object(struct kube_reflector *r, enum kube_event_type type, const cJSON *obj)
{
    const cJSON *meta = cJSON_GetObjectItemCaseSensitive(obj, "metadata");
    const char *name = json_str(meta, "name");
    const char *ns = json_str(meta, "namespace");
    const char *uid = json_str(meta, "uid");
    const char *rv = json_str(meta, "resourceVersion");

    if (!cJSON_IsObject(obj) || !name || !name[0] || !rv || !rv[0])
        return watch_garbage(r, "event object without metadata.name/resourceVersion");
    if (type == KUBE_EVENT_DELETED)
        kube_store_remove(r->store, ns, name);
    else if (kube_store_put(r->store, ns, name, uid, rv, r->gen) < 0)
        return watch_garbage(r, "out of memory");
    if (set_str(&r->rv, rv) < 0)
        return watch_garbage(r, "out of memory");
    r->cb.on_event(r->cb.arg, type, obj);
    return 0;
}

/* watch_error_event - an ERROR event ends this watch */
static int
watch_error_event(struct kube_reflector *r, const cJSON *obj)
{
    const char *reason = NULL;
    long code = 0;
    char text[300];

    kube_status_fields(obj, &code, &reason, NULL);
    kube_status_format(obj, code, text, sizeof(text));
    if (code == 410 || (reason && (strcmp(reason, "Expired") == 0 || strcmp(reason, "Gone") == 0))) {
        r->wo = WO_RELIST_AT_RV;
        r->wo_err = -FH_EGONE;
    } else {
        r->wo = WO_REWATCH_BACKOFF;
        r->wo_err = code ? kube_http_err(code) : -FH_EBADREPLY;
    }
    snprintf(r->wo_what, sizeof(r->wo_what), "watch ERROR event: %s", text);
    return -FH_ECLOSED;     /* stop reading: the server ends the stream anyway */
}

/* on_line - one watch event line */
static int
on_line(const char *line, size_t len, void *arg)
{
    struct kube_reflector *r = arg;
    cJSON *ev = cJSON_ParseWithLength(line, len);
    const cJSON *obj = cJSON_GetObjectItemCaseSensitive(ev, "object");
    const char *type = json_str(ev, "type");
    int rc;

    /* never quote the line: it may be a Secret */
    if (!ev || !cJSON_IsObject(ev))
        rc = watch_garbage(r, "event line is not a JSON object");
    else if (!type || !cJSON_IsObject(obj))
        rc = watch_garbage(r, "event without type or object");
    else if (strcmp(type, "ADDED") == 0)
        rc = watch_object(r, KUBE_EVENT_ADDED, obj);
    else if (strcmp(type, "MODIFIED") == 0)
        rc = watch_object(r, KUBE_EVENT_MODIFIED, obj);
    else if (strcmp(type, "DELETED") == 0)
        rc = watch_object(r, KUBE_EVENT_DELETED, obj);
    else if (strcmp(type, "BOOKMARK") == 0) {
        const char *rv = json_str(cJSON_GetObjectItemCaseSensitive(obj, "metadata"),
                                  "resourceVersion");

        rc = rv && rv[0] ? set_str(&r->rv, rv) : watch_garbage(r, "BOOKMARK without resourceVersion");
        if (rc == -FH_ENOMEM)
            rc = watch_garbage(r, "out of memory");
    } else if (strcmp(type, "ERROR") == 0)
        rc = watch_error_event(r, obj);
    else
        rc = watch_garbage(r, "unknown event type");
    if (rc == 0)
        r->events++;
    secret_json_free(&ev);
    return rc;
}

/* watch_done - a watch request finished */
static void
watch_done(struct kube_reflector *r, CURLcode crc, long status, long now)
{
    long elapsed = now - r->started_ms;
    char text[300];
    bool expired = false;

    if (r->wo == WO_NONE && crc == CURLE_OK && status == 200)
        kube_lines_finish(r->lines, on_line, r);
    kube_lines_reset(r->lines);
    /* a watch stream that delivered something or lived a while was healthy */
    if (status == 200 && (r->events > 0 || elapsed >= WATCH_SHORT_MS))
        kube_backoff_reset(&r->backoff);

    switch (r->wo) {
    case WO_RELIST_AT_RV:
        report(r, r->wo_err, "%s; relisting", r->wo_what);
        r->list_at_rv = r->rv != NULL;
        free(r->cont);
        r->cont = NULL;
        schedule(r, NEXT_LIST, now, 0);
        return;
    case WO_RELIST_FRESH:
        report(r, r->wo_err, "%s; relisting", r->wo_what);
        r->list_at_rv = false;
        free(r->cont);
        r->cont = NULL;
        schedule(r, NEXT_LIST, now, kube_backoff_next(&r->backoff));
        return;
    case WO_REWATCH_BACKOFF:
        report(r, r->wo_err, "%s", r->wo_what);
        schedule(r, NEXT_WATCH, now, kube_backoff_next(&r->backoff));
        return;
    case WO_NONE:
        break;
    }

    if (crc == CURLE_OK && status == 200) {
        if (r->events == 0 && elapsed < WATCH_SHORT_MS) {
            report(r, -FH_ECLOSED, "watch closed after %ld ms without events", elapsed);
            schedule(r, NEXT_WATCH, now, kube_backoff_next(&r->backoff));
        } else {
            log_debug(r->env.log, r->path, "watch ended after %ld ms, %lu events", elapsed,
                      r->events);
            schedule(r, NEXT_WATCH, now, 0);
        }
        return;
    }
    if (crc == CURLE_OPERATION_TIMEDOUT && status == 200 &&
        (r->events > 0 || elapsed >= WATCH_SHORT_MS)) {
        /* nothing arrived for LOW_SPEED_TIME_S: the connection may be dead */
        log_debug(r->env.log, r->path, "watch idle for %lds, reconnecting", LOW_SPEED_TIME_S);
        schedule(r, NEXT_WATCH, now, 0);
        return;
    }
    if (status == 0 || (crc != CURLE_OK && status == 200)) {
        /* no response at all, or the stream broke midway */
        report(r, kube_curl_err(crc), "watch: %s",
               r->errbuf[0] ? r->errbuf : curl_easy_strerror(crc));
        schedule(r, NEXT_WATCH, now, kube_backoff_next(&r->backoff));
        return;
    }
    if (status == 401) {
        kube_buf_clear(&r->body);
        unauthorized(r, NEXT_WATCH, now, "watch");
        return;
    }
    status_text(r, status, text, sizeof(text), &expired);
    if (status == 410 || expired) {
        report(r, -FH_EGONE, "watch: %s; relisting", text);
        r->list_at_rv = r->rv != NULL;
        schedule(r, NEXT_LIST, now, 0);
        return;
    }
    report(r, status ? kube_http_err(status) : kube_curl_err(crc), "watch: %s", text);
    schedule(r, NEXT_WATCH, now, backoff_wait(r, kube_http_retry_after(r->h)));
}

/* kube_reflector_done - route the finished transfer */
void
kube_reflector_done(struct kube_reflector *r, CURLcode crc, long now)
{
    long status = 0;

    r->in_flight = false;
    curl_easy_getinfo(r->h, CURLINFO_RESPONSE_CODE, &status);
    if (status == 0 && r->status_seen > 0)
        status = r->status_seen;
    kube_http_headers_free(&r->hdrs);
    curl_easy_setopt(r->h, CURLOPT_HTTPHEADER, NULL);
    if (r->watching)
        watch_done(r, crc, status, now);
    else
        list_done(r, crc, status, now);
}
