/*
 * kube_token.h - the bearer token source shared by kube_client and the
 * reflector loop.
 *
 * A static token (kubeconfig `token`) never changes. A token file
 * (`tokenFile`, or the in-cluster service-account token) is re-read whenever
 * its mtime, size or inode changed since the last read, and on demand after
 * a 401 - projected service-account tokens are rotated by the kubelet.
 *
 * Ownership: a struct kube_token is embedded by its owner; it borrows the
 * config's strings and owns its cached copy of the file token, which
 * kube_token_clear() wipes.
 */
#ifndef KUBE_TOKEN_H
#define KUBE_TOKEN_H

#include <stdbool.h>
#include <sys/types.h>
#include <time.h>

struct kube_config;

#define KUBE_TOKEN_MAX (64u * 1024u)   /* a bigger token file is refused */

struct kube_token {
    const char *static_token;   /* borrowed from the config, or NULL */
    const char *file;           /* borrowed from the config, or NULL */
    char *cached;               /* last token read from file (owned, wiped) */
    struct timespec mtime;      /* of the file when cached was read */
    off_t size;
    ino_t ino;
};

/* kube_token_init - borrow cfg's token settings; reads the file once so a
 * missing/empty token file fails early. 0 or a negative FH_E* code. */
int kube_token_init(struct kube_token *t, const struct kube_config *cfg);

/* kube_token_refresh - re-read the file if it changed (or always if force).
 * *changed (may be NULL) says whether the token value differs afterwards.
 * A failing re-read keeps the old token and returns the error. */
int kube_token_refresh(struct kube_token *t, bool force, bool *changed);

/* kube_token_value - the current token, NULL if none; borrowed */
const char *kube_token_value(const struct kube_token *t);

/* kube_token_from_file - true when 401s can be cured by re-reading */
bool kube_token_from_file(const struct kube_token *t);

/* kube_token_clear - wipe and free the cached token; idempotent */
void kube_token_clear(struct kube_token *t);

#endif
