/*
 * kube_client.h - blocking HTTP requests to the Kubernetes apiserver.
 *
 * One libcurl easy handle per client, reused so the TCP/TLS connection stays
 * alive between requests. TLS verification is on unless the kubeconfig says
 * insecure-skip-tls-verify. Bearer tokens from a token file are re-read when
 * the file changes and after a 401. Requests that fail with a transport error,
 * 429 or 5xx are retried up to opts.max_retries times with exponential backoff
 * (honouring Retry-After, capped by opts.max_retry_wait_ms); after that the
 * last response is returned so the caller can decide (e.g. report
 * "retry after" to the supervisor).
 *
 * Ownership: the client borrows cfg and log (they must outlive it).
 * A struct kube_response's body is owned by the caller and released with
 * kube_response_clear(), which wipes it (bodies may hold Secret data).
 */
#ifndef KUBE_CLIENT_H
#define KUBE_CLIENT_H

#include <stddef.h>

struct fh_log;
struct kube_config;
struct kube_client;

struct kube_client_opts {
    long connect_timeout_ms;    /* default 5000 */
    long request_timeout_ms;    /* default 30000 (whole request) */
    int max_retries;            /* default 3 (0 = default, negative = no retries) */
    long max_retry_wait_ms;     /* cap for one backoff/Retry-After wait, default 5000 */
    const char *user_agent;     /* default "fleet-handshake/<version>" */
    size_t max_body_bytes;      /* response body cap, default 64 MiB; more -> -FH_ETOOBIG */
};

#define KUBE_WARNING_MAX 512

struct kube_response {
    long status;            /* HTTP status; 0 if no response */
    char *body;             /* NUL-terminated body, caller owns; may be NULL */
    size_t body_len;
    long retry_after_s;     /* Retry-After header in seconds, -1 if absent */
    char *warning;          /* the first Warning header's text (e.g. 299 - "unknown
                             * field ..."), at most KUBE_WARNING_MAX bytes; caller
                             * owns (kube_response_clear frees it); NULL if none */
    unsigned attempts;      /* how many HTTP attempts were made */
};

/* kube_client_opts_fill - copy in (may be NULL) into out and replace zero
 * fields by their defaults; out->user_agent may point to a static string */
void kube_client_opts_fill(struct kube_client_opts *out, const struct kube_client_opts *in);

/* kube_client_new - NULL on failure (logged). opts may be NULL for defaults;
 * it is copied (including the user_agent string). */
struct kube_client *kube_client_new(const struct kube_config *cfg,
                                    const struct kube_client_opts *opts,
                                    const struct fh_log *log);

/* kube_client_free - close the connection, free, set *c = NULL; idempotent */
void kube_client_free(struct kube_client **c);

/*
 * kube_request - send one request (with retries as described above).
 * path is "/api/v1/..." including any query string, already URL-encoded.
 * content_type and body may be NULL. accept NULL means "application/json".
 * Returns 0 when an HTTP response arrived (look at resp->status), or a negative
 * FH_E* code when none did (resp->status == 0).
 */
int kube_request(struct kube_client *c, const char *method, const char *path,
                 const char *accept, const char *content_type,
                 const char *body, size_t body_len, struct kube_response *resp);

/* kube_response_clear - wipe and free the body, reset fields; idempotent */
void kube_response_clear(struct kube_response *r);

/* kube_http_err - map an HTTP status to 0 (2xx) or a negative FH_E* code:
 * 401 UNAUTHORIZED, 403 FORBIDDEN, 404 NOTFOUND, 409 CONFLICT, 410 GONE,
 * 400/422 INVALIDOBJ, 429 THROTTLED, 5xx SERVER, anything else HTTP */
int kube_http_err(long status);

/* kube_response_err - like kube_http_err(r->status), but a 409 whose Status
 * reason is AlreadyExists gives -FH_EEXIST */
int kube_response_err(const struct kube_response *r);

/* kube_status_text - copy "Reason: message" of a metav1.Status body into buf
 * (or "HTTP <code>" if the body is not a Status); never copies other bodies */
void kube_status_text(const struct kube_response *r, char *buf, size_t len);

/* kube_path_escape - percent-encode s for use in a path segment or query value;
 * caller frees the result; NULL on allocation failure */
char *kube_path_escape(const char *s);

/* kube_client_config - the config the client was built from (borrowed) */
const struct kube_config *kube_client_config(const struct kube_client *c);

#endif
