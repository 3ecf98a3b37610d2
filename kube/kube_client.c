/*
 * kube_client.c - blocking apiserver requests over one reused libcurl easy
 * handle, with bearer-token refresh, Retry-After and bounded retries.
 * Owns the client struct, its curl handle, target and token cache; borrows
 * the config and logger. Response bodies belong to the caller.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include <curl/curl.h>

#include "fh_err.h"
#include "fh_log.h"
#include "kube_backoff.h"
#include "kube_client.h"
#include "kube_config.h"
#include "kube_http.h"
#include "kube_token.h"
#include "secret_mem.h"

#define DEFAULT_USER_AGENT "fleet-handshake/0.1"
#define RETRY_INITIAL_MS 200

struct kube_client {
    const struct kube_config *cfg;
    const struct fh_log *log;
    struct kube_client_opts opts;
    char *user_agent;
    CURL *h;
    struct kube_target target;
    struct kube_token tok;
    struct kube_backoff backoff;
    char errbuf[CURL_ERROR_SIZE];
};

/* kube_client_opts_fill - defaults for zero fields (also used by kube_loop) */
void
kube_client_opts_fill(struct kube_client_opts *o, const struct kube_client_opts *in)
{
    if (in)
        *o = *in;
    else
        memset(o, 0, sizeof(*o));
    if (o->connect_timeout_ms <= 0)
        o->connect_timeout_ms = 5000;
    if (o->request_timeout_ms <= 0)
        o->request_timeout_ms = 30000;
    if (o->max_retries == 0)
        o->max_retries = 3;
    else if (o->max_retries < 0)
        o->max_retries = 0;
    if (o->max_retry_wait_ms <= 0)
        o->max_retry_wait_ms = 5000;
    if (!o->user_agent || !o->user_agent[0])
        o->user_agent = DEFAULT_USER_AGENT;
    if (o->max_body_bytes == 0)
        o->max_body_bytes = KUBE_DEFAULT_MAX_BODY;
}

/* kube_client_new - handle, target and token are prepared up front so that
 * configuration mistakes surface here and not on the first request */
struct kube_client *
kube_client_new(const struct kube_config *cfg, const struct kube_client_opts *opts,
                const struct fh_log *log)
{
    struct kube_client *c;
    int rc;

    if (!cfg || !cfg->server) {
        log_error(log, NULL, "kube client: no configuration");
        return NULL;
    }
    c = calloc(1, sizeof(*c));
    if (!c) {
        log_error(log, NULL, "kube client: out of memory");
        return NULL;
    }
    c->cfg = cfg;
    c->log = log;
    kube_client_opts_fill(&c->opts, opts);
    c->user_agent = strdup(c->opts.user_agent);
    c->opts.user_agent = c->user_agent;
    kube_backoff_init(&c->backoff,
                      c->opts.max_retry_wait_ms < RETRY_INITIAL_MS ? c->opts.max_retry_wait_ms :
                                                                     RETRY_INITIAL_MS,
                      c->opts.max_retry_wait_ms);
    if (!c->user_agent) {
        rc = -FH_ENOMEM;
        goto fail;
    }
    rc = kube_target_init(&c->target, cfg);
    if (rc < 0) {
        log_error(log, NULL, "kube client: %s: unusable server URL", cfg->source ? cfg->source : "?");
        goto fail;
    }
    rc = kube_token_init(&c->tok, cfg);
    if (rc < 0) {
        log_error(log, NULL, "kube client: no bearer token: %s",
                  kube_token_error(&c->tok)[0] ? kube_token_error(&c->tok) : fh_strerror(rc));
        goto fail;
    }
    c->h = curl_easy_init();
    if (!c->h) {
        rc = -FH_ENOMEM;
        goto fail;
    }
    rc = kube_http_setup(c->h, cfg, &c->target, c->user_agent, c->opts.connect_timeout_ms,
                         c->errbuf);
    if (rc < 0) {
        log_error(log, NULL, "kube client: libcurl lacks a needed option (TLS blobs?)");
        goto fail;
    }
    return c;
fail:
    if (rc == -FH_ENOMEM)
        log_error(log, NULL, "kube client: out of memory");
    kube_client_free(&c);
    return NULL;
}

/* kube_client_free - release everything */
void
kube_client_free(struct kube_client **cp)
{
    struct kube_client *c;

    if (!cp || !*cp)
        return;
    c = *cp;
    if (c->h)
        curl_easy_cleanup(c->h);
    kube_target_clear(&c->target);
    kube_token_clear(&c->tok);
    free(c->user_agent);
    free(c);
    *cp = NULL;
}

/* kube_client_config - borrowed config */
const struct kube_config *
kube_client_config(const struct kube_client *c)
{
    return c->cfg;
}

/* kube_response_clear - wipe body */
void
kube_response_clear(struct kube_response *r)
{
    if (!r)
        return;
    secret_free(&r->body, r->body_len + 1);
    free(r->warning);
    memset(r, 0, sizeof(*r));
    r->retry_after_s = -1;
}

/* sleep_ms - nanosleep that resumes after signals */
static void
sleep_ms(long ms)
{
    struct timespec ts = { ms / 1000, (ms % 1000) * 1000000L };

    while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
        ;
}

/* before_send - errors where the request never reached the server, so any
 * method may be retried */
static bool
before_send(CURLcode rc)
{
    return rc == CURLE_COULDNT_CONNECT || rc == CURLE_COULDNT_RESOLVE_HOST ||
           rc == CURLE_COULDNT_RESOLVE_PROXY || rc == CURLE_SSL_CONNECT_ERROR;
}

/* idempotent - methods whose repetition is harmless */
static bool
idempotent(const char *method)
{
    return strcmp(method, "GET") == 0 || strcmp(method, "HEAD") == 0 ||
           strcmp(method, "PUT") == 0 || strcmp(method, "DELETE") == 0;
}

/* transport_retryable - a transport error worth another attempt */
static bool
transport_retryable(CURLcode rc, const char *method)
{
    switch (rc) {
    case CURLE_PEER_FAILED_VERIFICATION:    /* configuration, not luck */
    case CURLE_SSL_CERTPROBLEM:
    case CURLE_SSL_CACERT_BADFILE:
    case CURLE_URL_MALFORMAT:
    case CURLE_UNSUPPORTED_PROTOCOL:
    case CURLE_OUT_OF_MEMORY:
    case CURLE_WRITE_ERROR:                 /* our body cap */
        return false;
    default:
        return before_send(rc) || idempotent(method);
    }
}

/* prepare - per-request options on the reused handle. The method options
 * are reset first because the previous request may have been a POST/HEAD. */
static CURLcode
prepare(struct kube_client *c, const char *method, const char *url,
        struct curl_slist *hdrs, const char *body, size_t body_len, struct kube_buf *buf)
{
    CURLcode rc = CURLE_OK;

#define SET(opt, val) do { if (rc == CURLE_OK) rc = curl_easy_setopt(c->h, opt, val); } while (0)
    SET(CURLOPT_URL, url);
    SET(CURLOPT_HTTPHEADER, hdrs);
    SET(CURLOPT_WRITEFUNCTION, kube_buf_write_cb);
    SET(CURLOPT_WRITEDATA, buf);
    SET(CURLOPT_TIMEOUT_MS, c->opts.request_timeout_ms);
    SET(CURLOPT_POSTFIELDS, NULL);
    SET(CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)-1);
    SET(CURLOPT_HTTPGET, 1L);
    SET(CURLOPT_NOBODY, 0L);
    SET(CURLOPT_CUSTOMREQUEST, NULL);
    if (strcmp(method, "HEAD") == 0) {
        SET(CURLOPT_NOBODY, 1L);
    } else if (body || strcmp(method, "POST") == 0 || strcmp(method, "PUT") == 0 ||
               strcmp(method, "PATCH") == 0) {
        /* no copy: body may be secret and stays valid for the call */
        SET(CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)(body ? body_len : 0));
        SET(CURLOPT_POSTFIELDS, body ? body : "");
    }
    if (strcmp(method, "GET") != 0 && strcmp(method, "HEAD") != 0 &&
        strcmp(method, "POST") != 0)
        SET(CURLOPT_CUSTOMREQUEST, method);
#undef SET
    return rc;
}

/* kube_request - see kube_client.h for the retry rules */
int
kube_request(struct kube_client *c, const char *method, const char *path,
             const char *accept, const char *content_type, const char *body,
             size_t body_len, struct kube_response *resp)
{
    struct curl_slist *hdrs = NULL;
    struct kube_buf buf;
    char *url = NULL;
    unsigned attempts = 0;
    int retries = 0, rc = 0;
    bool reauth_done = false;

    memset(resp, 0, sizeof(*resp));
    resp->retry_after_s = -1;
    if (!c || !method || !path || path[0] != '/')
        return -FH_EINVAL;
    kube_buf_init(&buf, c->opts.max_body_bytes);
    url = kube_target_url(&c->target, path);
    if (!url)
        return -FH_ENOMEM;
    kube_backoff_reset(&c->backoff);

    for (;;) {
        CURLcode crc;
        long status = 0, retry_after, wait;
        bool changed = false;

        kube_buf_clear(&buf);
        /* a rotated token file or an expiring plugin token is replaced
         * before it causes a 401 */
        rc = kube_token_refresh(&c->tok, false, NULL);
        if (rc < 0)
            log_warn(c->log, path, "cannot refresh the token: %s (keeping the old one)",
                     kube_token_error(&c->tok));
        rc = kube_http_headers(&c->target, &c->tok, accept, content_type, &hdrs);
        if (rc < 0)
            goto out;
        c->errbuf[0] = '\0';
        crc = prepare(c, method, url, hdrs, body, body_len, &buf);
        if (crc == CURLE_OK)
            crc = curl_easy_perform(c->h);
        attempts++;
        kube_http_headers_free(&hdrs);
        curl_easy_setopt(c->h, CURLOPT_HTTPHEADER, NULL);

        if (crc != CURLE_OK) {
            rc = buf.err ? buf.err : kube_curl_err(crc);
            if (!buf.err && transport_retryable(crc, method) && retries < c->opts.max_retries) {
                retries++;
                wait = kube_backoff_next(&c->backoff);  /* bounded by max_retry_wait_ms */
                log_debug(c->log, path, "%s attempt %u: %s; retrying in %ld ms", method,
                          attempts, c->errbuf[0] ? c->errbuf : curl_easy_strerror(crc), wait);
                sleep_ms(wait);
                continue;
            }
            log_warn(c->log, path, "%s failed after %u attempt(s): %s", method, attempts,
                     buf.err ? fh_strerror(buf.err) :
                     c->errbuf[0] ? c->errbuf : curl_easy_strerror(crc));
            goto out;
        }
        curl_easy_getinfo(c->h, CURLINFO_RESPONSE_CODE, &status);
        retry_after = kube_http_retry_after(c->h);

        if (status == 401 && !reauth_done && kube_token_refreshable(&c->tok)) {
            reauth_done = true;
            if (kube_token_refresh(&c->tok, true, &changed) == 0 && changed) {
                log_info(c->log, path, "401: got a new token, retrying with it");
                continue;
            }
        }
        if ((status == 429 || (status >= 500 && status < 600)) && retries < c->opts.max_retries) {
            retries++;
            wait = retry_after >= 0 ? retry_after * 1000 : kube_backoff_next(&c->backoff);
            if (wait > c->opts.max_retry_wait_ms)
                wait = c->opts.max_retry_wait_ms;
            log_debug(c->log, path, "%s attempt %u: HTTP %ld; retrying in %ld ms", method,
                      attempts, status, wait);
            if (wait > 0)
                sleep_ms(wait);
            continue;
        }
        resp->status = status;
        resp->retry_after_s = retry_after;
        resp->warning = kube_http_warning(c->h);
        resp->body = buf.data;
        resp->body_len = buf.len;
        buf.data = NULL;
        rc = 0;
        break;
    }
out:
    resp->attempts = attempts;
    kube_buf_clear(&buf);
    kube_http_headers_free(&hdrs);
    free(url);
    return rc;
}
