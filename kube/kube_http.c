/*
 * kube_http.c - libcurl plumbing shared by kube_client and the reflectors:
 * target URL/connect-to derivation, persistent easy-handle options (TLS from
 * in-memory blobs, keep-alive, HTTP/1.1), per-request headers, the capped
 * response buffer and Retry-After parsing. Owns only what kube_target and
 * kube_buf hold.
 */
#include <ctype.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <curl/curl.h>

#include "fh_err.h"
#include "kube_config.h"
#include "kube_http.h"
#include "kube_token.h"
#include "secret_mem.h"

#define RETRY_AFTER_MAX_S 86400L

/* fmt_alloc - vasprintf that yields NULL on failure (asprintf leaves the
 * pointer undefined) */
static char * __attribute__((format(printf, 1, 2)))
fmt_alloc(const char *fmt, ...)
{
    va_list ap;
    char *s;
    int n;

    va_start(ap, fmt);
    n = vasprintf(&s, fmt, ap);
    va_end(ap);
    return n < 0 ? NULL : s;
}

/* kube_target_init - split "scheme://host[:port][/prefix]" when
 * tls-server-name needs the URL host swapped; otherwise use the server as is */
int
kube_target_init(struct kube_target *t, const struct kube_config *cfg)
{
    const char *sep, *auth, *prefix, *rest, *port, *sni = cfg->tls_server_name;
    char *entry = NULL;
    int host_len, port_len, rc = -FH_ECONFIG;

    memset(t, 0, sizeof(*t));
    if (!cfg->server || !(sep = strstr(cfg->server, "://")))
        return -FH_ECONFIG;
    t->https = strncmp(cfg->server, "https://", 8) == 0;
    if (!sni) {
        t->base = strdup(cfg->server);
        return t->base ? 0 : -FH_ENOMEM;
    }
    auth = sep + 3;
    prefix = auth + strcspn(auth, "/");
    if (auth[0] == '[') {               /* IPv6 literal keeps its brackets */
        const char *close = memchr(auth, ']', (size_t)(prefix - auth));

        if (!close)
            return -FH_ECONFIG;
        host_len = (int)(close + 1 - auth);
    } else {
        const char *colon = memchr(auth, ':', (size_t)(prefix - auth));

        host_len = (int)((colon ? colon : prefix) - auth);
    }
    rest = auth + host_len;
    if (host_len == 0)
        return -FH_ECONFIG;
    if (rest < prefix) {
        if (*rest != ':' || rest + 1 == prefix)
            return -FH_ECONFIG;
        port = rest + 1;
        port_len = (int)(prefix - port);
    } else {
        port = t->https ? "443" : "80";
        port_len = (int)strlen(port);
    }
    entry = fmt_alloc("%s:%.*s:%.*s:%.*s", sni, port_len, port, host_len, auth,
                      port_len, port);
    t->host_header = fmt_alloc("Host: %.*s:%.*s", host_len, auth, port_len, port);
    t->base = fmt_alloc("%.*s%s:%.*s%s", (int)(auth - cfg->server), cfg->server, sni,
                        port_len, port, prefix);
    if (!entry || !t->host_header || !t->base) {
        rc = -FH_ENOMEM;
        goto out;
    }
    t->connect_to = curl_slist_append(NULL, entry);
    rc = t->connect_to ? 0 : -FH_ENOMEM;
out:
    free(entry);
    if (rc < 0)
        kube_target_clear(t);
    return rc;
}

/* kube_target_clear - free */
void
kube_target_clear(struct kube_target *t)
{
    free(t->base);
    curl_slist_free_all(t->connect_to);
    free(t->host_header);
    memset(t, 0, sizeof(*t));
}

/* kube_target_url - base + path */
char *
kube_target_url(const struct kube_target *t, const char *path)
{
    size_t bl = strlen(t->base), pl = strlen(path);
    char *u = malloc(bl + pl + 1);

    if (!u)
        return NULL;
    memcpy(u, t->base, bl);
    memcpy(u + bl, path, pl + 1);
    return u;
}

/* kube_http_setup - persistent options; every setopt is checked because a
 * curl built with another TLS backend may lack the blob options */
int
kube_http_setup(CURL *h, const struct kube_config *cfg, const struct kube_target *t,
                const char *user_agent, long connect_timeout_ms, char *errbuf)
{
    CURLcode rc = CURLE_OK;

#define SET(opt, val) do { if (rc == CURLE_OK) rc = curl_easy_setopt(h, opt, val); } while (0)
    SET(CURLOPT_NOSIGNAL, 1L);
    SET(CURLOPT_ERRORBUFFER, errbuf);
    SET(CURLOPT_HTTP_VERSION, (long)CURL_HTTP_VERSION_1_1);
    SET(CURLOPT_USERAGENT, user_agent);
    SET(CURLOPT_CONNECTTIMEOUT_MS, connect_timeout_ms);
    SET(CURLOPT_TCP_KEEPALIVE, 1L);
    SET(CURLOPT_TCP_KEEPIDLE, 30L);
    SET(CURLOPT_TCP_KEEPINTVL, 15L);
    SET(CURLOPT_TCP_NODELAY, 1L);
    SET(CURLOPT_PROTOCOLS_STR, "http,https");
    SET(CURLOPT_FOLLOWLOCATION, 0L);
    /* "" = every encoding curl can decode; the apiserver gzips big lists.
     * The body cap then applies to the decoded size. */
    SET(CURLOPT_ACCEPT_ENCODING, "");
    if (t->connect_to)
        SET(CURLOPT_CONNECT_TO, t->connect_to);
    if (t->https) {
        SET(CURLOPT_SSL_VERIFYPEER, cfg->insecure_skip_tls_verify ? 0L : 1L);
        SET(CURLOPT_SSL_VERIFYHOST, cfg->insecure_skip_tls_verify ? 0L : 2L);
        if (cfg->ca_data) {
            struct curl_blob ca = { cfg->ca_data, cfg->ca_data_len, CURL_BLOB_NOCOPY };

            SET(CURLOPT_CAINFO_BLOB, &ca);
            /* trust only the configured CA, like client-go: no system dir */
            SET(CURLOPT_CAPATH, NULL);
        } else if (cfg->ca_file) {
            SET(CURLOPT_CAINFO, cfg->ca_file);
            SET(CURLOPT_CAPATH, NULL);
        }
        if (cfg->client_cert_data) {
            struct curl_blob b = { cfg->client_cert_data, cfg->client_cert_data_len,
                                   CURL_BLOB_NOCOPY };

            SET(CURLOPT_SSLCERT_BLOB, &b);
            SET(CURLOPT_SSLCERTTYPE, "PEM");
        } else if (cfg->client_cert_file) {
            SET(CURLOPT_SSLCERT, cfg->client_cert_file);
            SET(CURLOPT_SSLCERTTYPE, "PEM");
        }
        if (cfg->client_key_data) {
            struct curl_blob b = { cfg->client_key_data, cfg->client_key_data_len,
                                   CURL_BLOB_NOCOPY };

            SET(CURLOPT_SSLKEY_BLOB, &b);
            SET(CURLOPT_SSLKEYTYPE, "PEM");
        } else if (cfg->client_key_file) {
            SET(CURLOPT_SSLKEY, cfg->client_key_file);
            SET(CURLOPT_SSLKEYTYPE, "PEM");
        }
    }
#undef SET
    return rc == CURLE_OK ? 0 : -FH_ECONFIG;
}

/* add_header - append one formatted header line */
static int
add_header(struct curl_slist **l, const char *name, const char *value)
{
    size_t n = strlen(name) + strlen(value) + 3;
    char *line = malloc(n);
    struct curl_slist *nl;

    if (!line)
        return -FH_ENOMEM;
    snprintf(line, n, "%s: %s", name, value);
    nl = curl_slist_append(*l, line);
    secret_wipe(line, n);
    free(line);
    if (!nl)
        return -FH_ENOMEM;
    *l = nl;
    return 0;
}

/* kube_http_headers - the per-request header list */
int
kube_http_headers(const struct kube_target *t, const struct kube_token *tok,
                  const char *accept, const char *content_type, struct curl_slist **out)
{
    struct curl_slist *l = NULL, *nl;
    const char *token = tok ? kube_token_value(tok) : NULL;
    int rc;

    *out = NULL;
    rc = add_header(&l, "Accept", accept ? accept : "application/json");
    if (rc == 0 && content_type)
        rc = add_header(&l, "Content-Type", content_type);
    if (rc == 0 && token) {
        char *bearer;
        size_t n = strlen(token) + 8;

        bearer = malloc(n);
        if (!bearer) {
            rc = -FH_ENOMEM;
        } else {
            snprintf(bearer, n, "Bearer %s", token);
            rc = add_header(&l, "Authorization", bearer);
            secret_free(&bearer, n);
        }
    }
    if (rc == 0 && t->host_header) {
        nl = curl_slist_append(l, t->host_header);
        rc = nl ? 0 : -FH_ENOMEM;
        l = nl ? nl : l;
    }
    if (rc == 0) {
        /* never wait for "100 Continue" before sending a body */
        nl = curl_slist_append(l, "Expect:");
        rc = nl ? 0 : -FH_ENOMEM;
        l = nl ? nl : l;
    }
    if (rc < 0) {
        kube_http_headers_free(&l);
        return rc;
    }
    *out = l;
    return 0;
}

/* kube_http_headers_free - wipe each line: one carries the bearer token */
void
kube_http_headers_free(struct curl_slist **l)
{
    if (!l || !*l)
        return;
    for (struct curl_slist *it = *l; it; it = it->next)
        if (it->data)
            secret_wipe(it->data, strlen(it->data));
    curl_slist_free_all(*l);
    *l = NULL;
}

/* kube_buf_init - empty */
void
kube_buf_init(struct kube_buf *b, size_t max)
{
    memset(b, 0, sizeof(*b));
    b->max = max ? max : KUBE_DEFAULT_MAX_BODY;
}

/* kube_buf_append - grow by copy-and-wipe; realloc could leave a copy behind */
int
kube_buf_append(struct kube_buf *b, const void *p, size_t n)
{
    if (b->err)
        return b->err;
    if (n > b->max - b->len) {
        b->err = -FH_ETOOBIG;
        return b->err;
    }
    if (b->len + n + 1 > b->cap) {
        size_t ncap = b->cap ? b->cap : 4096;
        char *nd;

        while (ncap < b->len + n + 1)
            ncap *= 2;
        if (ncap > b->max + 1)
            ncap = b->max + 1;
        nd = malloc(ncap);
        if (!nd) {
            b->err = -FH_ENOMEM;
            return b->err;
        }
        if (b->data) {
            memcpy(nd, b->data, b->len);
            secret_wipe(b->data, b->cap);
            free(b->data);
        }
        b->data = nd;
        b->cap = ncap;
    }
    memcpy(b->data + b->len, p, n);
    b->len += n;
    b->data[b->len] = '\0';
    return 0;
}

/* kube_buf_clear - wipe and free */
void
kube_buf_clear(struct kube_buf *b)
{
    size_t max = b->max;

    if (b->data) {
        secret_wipe(b->data, b->cap);
        free(b->data);
    }
    memset(b, 0, sizeof(*b));
    b->max = max;
}

/* kube_buf_write_cb - curl write callback */
size_t
kube_buf_write_cb(char *ptr, size_t size, size_t nmemb, void *userdata)
{
    struct kube_buf *b = userdata;
    size_t n = size * nmemb;

    if (n == 0)
        return 0;
    return kube_buf_append(b, ptr, n) == 0 ? n : 0;
}

/* kube_retry_after_parse - delta-seconds, or an HTTP-date */
long
kube_retry_after_parse(const char *value, time_t now)
{
    const char *p = value;
    long secs = 0;

    if (!value)
        return -1;
    while (*p == ' ' || *p == '\t')
        p++;
    if (!*p)
        return -1;
    if (isdigit((unsigned char)*p)) {
        for (; isdigit((unsigned char)*p); p++) {
            secs = secs * 10 + (*p - '0');
            if (secs > RETRY_AFTER_MAX_S)
                secs = RETRY_AFTER_MAX_S;
        }
        while (*p == ' ' || *p == '\t')
            p++;
        return *p ? -1 : secs;
    }
    {
        time_t when = curl_getdate(p, NULL);

        if (when == (time_t)-1)
            return -1;
        if (when <= now)
            return 0;
        return when - now > RETRY_AFTER_MAX_S ? RETRY_AFTER_MAX_S : (long)(when - now);
    }
}

/* kube_http_retry_after - header of the last response on h */
long
kube_http_retry_after(CURL *h)
{
    struct curl_header *hdr = NULL;

    if (curl_easy_header(h, "Retry-After", 0, CURLH_HEADER, -1, &hdr) != CURLHE_OK || !hdr)
        return -1;
    return kube_retry_after_parse(hdr->value, time(NULL));
}

/* kube_http_warning - the first Warning header of the last response on h
 * (the apiserver's 299 warnings: unknown or dropped fields, deprecations),
 * as a heap copy of at most KUBE_WARNING_MAX bytes; NULL if none */
char *
kube_http_warning(CURL *h)
{
    struct curl_header *hdr = NULL;

    if (curl_easy_header(h, "Warning", 0, CURLH_HEADER, -1, &hdr) != CURLHE_OK || !hdr
        || !hdr->value)
        return NULL;
    return strndup(hdr->value, KUBE_WARNING_MAX);
}

/* kube_curl_err - CURLcode -> FH_E* */
int
kube_curl_err(CURLcode rc)
{
    switch (rc) {
    case CURLE_OK:
        return 0;
    case CURLE_OPERATION_TIMEDOUT:
        return -FH_ETIMEDOUT;
    case CURLE_OUT_OF_MEMORY:
        return -FH_ENOMEM;
    case CURLE_URL_MALFORMAT:
    case CURLE_UNSUPPORTED_PROTOCOL:
        return -FH_ECONFIG;
    default:
        return -FH_EIO;
    }
}
