/*
 * kube_token.h - the bearer token source shared by kube_client and the
 * reflector loop.
 *
 * A static token (kubeconfig `token`) never changes. A token file
 * (`tokenFile`, or the in-cluster service-account token) is re-read whenever
 * its mtime, size or inode changed since the last read, and on demand after
 * a 401 - projected service-account tokens are rotated by the kubelet. An
 * exec credential plugin (kube_exec.h) is run at init, again when its token
 * is within KUBE_TOKEN_EXPIRY_SLACK_S of its expirationTimestamp, and after
 * a 401.
 *
 * Ownership: a struct kube_token is embedded by its owner; it borrows the
 * config's strings and owns its cached copy of the file or plugin token,
 * which kube_token_clear() wipes.
 */
#ifndef KUBE_TOKEN_H
#define KUBE_TOKEN_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>
#include <time.h>

struct kube_config;
struct kube_exec;

#define KUBE_TOKEN_MAX (64u * 1024u)   /* a bigger token file is refused */
#define KUBE_TOKEN_EXPIRY_SLACK_S 30   /* refresh a plugin token this early */
#define KUBE_TOKEN_EXEC_RETRY_MS 10000 /* a failing plugin is re-run at most this often,
                                          unless forced (after a 401) */

struct kube_token {
    const char *static_token;   /* borrowed from the config, or NULL */
    const char *file;           /* borrowed from the config, or NULL */
    const struct kube_exec *exec; /* borrowed from the config, or NULL */
    char *exec_info;            /* KUBERNETES_EXEC_INFO=... for the plugin (owned) */
    int64_t expiry;             /* plugin token's expiry, unix s; 0 = none */
    int exec_timeout_ms;        /* deadline of one plugin run */
    uint64_t next_try_ms;       /* after a failed plugin run, no unforced retry before */
    char err[384];              /* why the last refresh failed, for logs */
    char *cached;               /* last token read from file or plugin (owned, wiped) */
    struct timespec mtime;      /* of the file when cached was read */
    off_t size;
    ino_t ino;
};

/* kube_token_init - borrow cfg's token settings; reads the file or runs the
 * plugin once so a missing token fails early. 0 or a negative FH_E* code,
 * with the reason in kube_token_error(). */
int kube_token_init(struct kube_token *t, const struct kube_config *cfg);

/* kube_token_refresh - re-read the file if it changed, re-run the plugin if
 * its token is about to expire (either always if force). *changed (may be
 * NULL) says whether the token value differs afterwards. A failing refresh
 * keeps the old token and returns the error (reason: kube_token_error()). */
int kube_token_refresh(struct kube_token *t, bool force, bool *changed);

/* kube_token_value - the current token, NULL if none; borrowed */
const char *kube_token_value(const struct kube_token *t);

/* kube_token_refreshable - true when a 401 may be cured by a refresh
 * (token file or plugin) */
bool kube_token_refreshable(const struct kube_token *t);

/* kube_token_error - why the last init/refresh failed ("" if it did not) */
const char *kube_token_error(const struct kube_token *t);

/* kube_token_clear - wipe and free the cached token; idempotent */
void kube_token_clear(struct kube_token *t);

#endif
