/*
 * kube_http.h - libcurl plumbing shared by the blocking client and the
 * reflectors: where to connect (kube_target), the easy-handle options that
 * never change between requests (TLS, timeouts, keep-alive), per-request
 * headers, a capped response buffer that wipes what it frees, Retry-After
 * parsing and curl-error mapping.
 *
 * TLS material from the kubeconfig is handed to curl as in-memory blobs
 * (CURLOPT_CAINFO_BLOB, CURLOPT_SSLCERT_BLOB, CURLOPT_SSLKEY_BLOB) that
 * reference the config's buffers without copying: the config must outlive
 * every handle set up from it. "-data" fields win over file paths.
 *
 * tls-server-name: libcurl has no option to override only the SNI and
 * verification name, so the URL is built with the tls-server-name as host,
 * CURLOPT_CONNECT_TO sends the connection to the real server address, and a
 * "Host:" header restores the real host:port for the HTTP layer. The
 * certificate is therefore verified against tls-server-name, as client-go does.
 *
 * Ownership: struct kube_target owns its strings (kube_target_clear()).
 * struct kube_buf owns its data (kube_buf_clear() wipes it).
 */
#ifndef KUBE_HTTP_H
#define KUBE_HTTP_H

#include <stdbool.h>
#include <stddef.h>
#include <time.h>

#include <curl/curl.h>

#include "kube_client.h"

struct kube_config;
struct kube_token;

#define KUBE_DEFAULT_MAX_BODY (64u * 1024u * 1024u)

struct kube_target {
    char *base;         /* URL prefix "scheme://host[:port][/prefix]", no trailing '/' */
    struct curl_slist *connect_to;  /* CURLOPT_CONNECT_TO list when tls-server-name is set */
    char *host_header;  /* "Host: host:port" when tls-server-name is set, else NULL */
    int https;          /* 1 for https:// servers */
};

/* kube_target_init - derive the URL base from cfg->server (and
 * tls_server_name). -FH_ECONFIG if the server URL is unusable. */
int kube_target_init(struct kube_target *t, const struct kube_config *cfg);

/* kube_target_clear - free the strings; idempotent */
void kube_target_clear(struct kube_target *t);

/* kube_target_url - base + path (path starts with '/'); caller frees */
char *kube_target_url(const struct kube_target *t, const char *path);

/* kube_http_setup - options that stay for the handle's life: TLS, CA,
 * client certificate, connect timeout, keep-alive, HTTP/1.1, User-Agent,
 * no signals, http/https only, errbuf (CURL_ERROR_SIZE bytes, must live as
 * long as h). cfg and t must outlive h. 0 or -FH_ECONFIG. */
int kube_http_setup(CURL *h, const struct kube_config *cfg,
                    const struct kube_target *t, const char *user_agent,
                    long connect_timeout_ms, char *errbuf);

/* kube_http_headers - a new header list: Accept, Content-Type (if any),
 * Authorization (if tok has a token), Host (tls-server-name) and an empty
 * Expect. *out must be released with kube_http_headers_free(). */
int kube_http_headers(const struct kube_target *t, const struct kube_token *tok,
                      const char *accept, const char *content_type,
                      struct curl_slist **out);

/* kube_http_headers_free - wipe every header line (one holds the token),
 * free the list, set *l = NULL */
void kube_http_headers_free(struct curl_slist **l);

/* kube_buf - response body accumulator with a hard cap */
struct kube_buf {
    char *data;     /* NUL-terminated when non-NULL */
    size_t len;
    size_t cap;     /* allocated bytes */
    size_t max;     /* hard cap on len; exceeding it sets err = -FH_ETOOBIG */
    int err;        /* first error while appending, 0 if none */
};

/* kube_buf_init - empty buffer with cap max (0 = KUBE_DEFAULT_MAX_BODY) */
void kube_buf_init(struct kube_buf *b, size_t max);

/* kube_buf_append - append n bytes. Growth allocates a new block, copies,
 * then wipes and frees the old one so no stale copy of a body remains. */
int kube_buf_append(struct kube_buf *b, const void *p, size_t n);

/* kube_buf_clear - wipe and free the data, keep max; idempotent */
void kube_buf_clear(struct kube_buf *b);

/* kube_buf_write_cb - CURLOPT_WRITEFUNCTION appending to a struct kube_buf
 * (CURLOPT_WRITEDATA); returns 0 (abort) when the cap is hit */
size_t kube_buf_write_cb(char *ptr, size_t size, size_t nmemb, void *userdata);

/* kube_retry_after_parse - Retry-After value (delta-seconds or HTTP-date,
 * relative to now) -> seconds >= 0, or -1 if absent/unparsable */
long kube_retry_after_parse(const char *value, time_t now);

/* kube_http_retry_after - Retry-After of the last response on h, or -1 */
long kube_http_retry_after(CURL *h);

/* kube_http_warning - first Warning header of the last response on h as a
 * heap string (caller frees) of at most KUBE_WARNING_MAX bytes, or NULL */
char *kube_http_warning(CURL *h);

/* kube_curl_err - map a CURLcode to a negative FH_E* code */
int kube_curl_err(CURLcode rc);

#endif
