/*
 * wreq.h - the worker's apiserver calls: one counted request, the paths of
 * the three resources it touches, and a failure record that says what was
 * attempted and what the apiserver answered (safe to show: callers redact
 * text that could quote Secret data before it gets here).
 *
 * Ownership: struct wreq borrows the client and the logger. Paths returned
 * by wreq_*_path are heap strings the caller free()s. struct wreq_fail is a
 * value.
 */
#ifndef WREQ_H
#define WREQ_H

#include <stddef.h>
#include <stdint.h>

struct cJSON;
struct fh_log;
struct kube_client;
struct kube_response;

#define WREQ_TEXT_MAX 512u

struct wreq {
    struct kube_client *kc;     /* borrowed */
    const struct fh_log *log;   /* borrowed, may be NULL */
    const char *key;            /* "ns/name" for log lines, borrowed */
    uint32_t reads;             /* GETs sent */
    uint32_t writes;            /* POST/PATCH/PUT/DELETE sent */
};

/* What failed: enough for the outcome, the status message and the log. */
struct wreq_fail {
    long http;                  /* HTTP status, 0 when no response arrived */
    int err;                    /* negative FH_E* (transport or kube_http_err) */
    long retry_after_s;         /* Retry-After, -1 if none */
    const char *verb;           /* static: "get", "create", "patch", "delete" */
    const char *resource;       /* static: "secrets", "bundles.fleet.cattle.io", ... */
    char ns[64];                /* namespace the request was for */
    char text[WREQ_TEXT_MAX];   /* "Reason: message" from the apiserver, or the
                                 * transport error; never Secret data */
};

#define WREQ_RES_SECRETS   "secrets"
#define WREQ_RES_BUNDLES   "bundles.fleet.cattle.io"
#define WREQ_RES_FH_STATUS "fleethandshakes.riverpointtechnology.com/status"
#define WREQ_RES_FH        "fleethandshakes.riverpointtechnology.com"

/*
 * wreq_do - kube_request, counted in w->reads (GET) or w->writes (others).
 * Content-Type is application/merge-patch+json for PATCH and
 * application/json otherwise. Returns kube_request's result; resp is filled
 * as kube_request does (caller kube_response_clear()s it).
 */
int wreq_do(struct wreq *w, const char *method, const char *path,
            const char *body, size_t body_len, struct kube_response *resp);

/* wreq_secret_path - /api/v1/namespaces/NS/secrets/NAME */
char *wreq_secret_path(const char *ns, const char *name);

/* wreq_bundle_path - /apis/fleet.cattle.io/v1alpha1/namespaces/NS/bundles[/NAME]
 * (name NULL: the collection) */
char *wreq_bundle_path(const char *ns, const char *name);

/* wreq_fh_path - /apis/riverpointtechnology.com/v1alpha1/namespaces/NS/fleethandshakes/NAME */
char *wreq_fh_path(const char *ns, const char *name);

/* wreq_fh_status_path - /apis/riverpointtechnology.com/v1alpha1/namespaces/NS/fleethandshakes/NAME/status */
char *wreq_fh_status_path(const char *ns, const char *name);

/*
 * wreq_fail_set - record a failed request: rc from kube_request (negative
 * when no response arrived) or resp's status. The apiserver text is taken
 * with kube_status_text; when quotes (may be NULL) is given and the text
 * quotes a value of that Secret, the text is replaced by a notice. The value
 * in every "Invalid value: <value>: ..." is replaced by "(omitted)" as well,
 * because Kubernetes echoes the rejected value there (which could be Secret
 * content). verb/resource must be static strings.
 */
void wreq_fail_set(struct wreq_fail *f, int rc, const struct kube_response *resp,
                   const char *verb, const char *resource, const char *ns,
                   const struct cJSON *quotes);

/* wreq_json - parse resp's body; NULL if absent or not JSON. The tree is the
 * caller's (secret_json_free it when the body may hold Secret data). */
struct cJSON *wreq_json(const struct kube_response *resp);

/* wreq_rv - a heap copy of metadata.resourceVersion of obj, or NULL */
char *wreq_rv(const struct cJSON *obj);

/* wreq_generation - metadata.generation of obj, 0 if absent */
int64_t wreq_generation(const struct cJSON *obj);

#endif
