/*
 * kube_exec.h - client-go exec credential plugins (kubeconfig
 * users[].user.exec): `aws eks get-token`, `gke-gcloud-auth-plugin`,
 * `kubelogin`, Rancher's and other OIDC helpers.
 *
 * The plugin is run without a shell, stdin from /dev/null, its environment
 * ours plus the kubeconfig's `env` entries plus KUBERNETES_EXEC_INFO (an
 * ExecCredential with spec.interactive=false, and spec.cluster when the
 * kubeconfig sets provideClusterInfo). It must print an ExecCredential of
 * the same apiVersion whose status carries a bearer token and optionally an
 * expirationTimestamp; kube_token.c caches the token until shortly before
 * that time and runs the plugin again then, or after a 401. Plugins that
 * answer with client certificates are refused with a clear error, as are
 * those that need a terminal (interactiveMode: Always): we are a daemon.
 *
 * Ownership: struct kube_exec belongs to the struct kube_config that holds
 * it and is released by kube_exec_free(). Tokens returned are owned by the
 * caller and must be released with secret_free(); every buffer that held
 * the plugin's output is wiped here.
 */
#ifndef KUBE_EXEC_H
#define KUBE_EXEC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct kube_config;

#define KUBE_EXEC_V1      "client.authentication.k8s.io/v1"
#define KUBE_EXEC_V1BETA1 "client.authentication.k8s.io/v1beta1"
#define KUBE_EXEC_OUTPUT_MAX (1024u * 1024u)   /* more stdout than this is refused */
#define KUBE_EXEC_TIMEOUT_MS 60000             /* a plugin may prompt a browser login... */

struct kube_exec {
    char *api_version;          /* KUBE_EXEC_V1 or KUBE_EXEC_V1BETA1 */
    char **argv;                /* command then args, NULL-terminated (owned) */
    size_t argc;
    char **env;                 /* "NAME=value" entries, NULL-terminated (owned) */
    size_t envc;
    char *install_hint;         /* shown when the command cannot be run, or NULL */
    bool provide_cluster_info;  /* put spec.cluster into KUBERNETES_EXEC_INFO */
};

/* kube_exec_free - free everything and set *x = NULL; NULL-safe */
void kube_exec_free(struct kube_exec **x);

/* kube_exec_info - the KUBERNETES_EXEC_INFO value for cfg's plugin, as
 * "KUBERNETES_EXEC_INFO=<json>" (owned by the caller, free()). 0 or -FH_ENOMEM. */
int kube_exec_info(const struct kube_config *cfg, char **out);

/* kube_exec_parse - check a plugin's stdout: an ExecCredential of
 * api_version with status.token. *token (owned, secret_free) and
 * *expiry_unix (0 when the credential does not expire). On -FH_ECONFIG err
 * says what is wrong (never quoting the token). json is not modified. */
int kube_exec_parse(const char *json, size_t len, const char *api_version, char **token,
                    int64_t *expiry_unix, char *err, size_t errlen);

/* kube_exec_token - run the plugin (info from kube_exec_info) with a
 * deadline and parse its answer. 0; -FH_ECONFIG (plugin failed, timed out or
 * answered wrongly: err says which, with its stderr's first line and the
 * install hint where they help); -FH_ENOMEM; another negative errno. */
int kube_exec_token(const struct kube_exec *x, const char *info, int timeout_ms, char **token,
                    int64_t *expiry_unix, char *err, size_t errlen);

/* kube_exec_rfc3339 - "2026-12-03T22:00:00Z" (fraction and ±hh:mm offsets
 * allowed) to unix seconds. 0 or -FH_EINVAL. */
int kube_exec_rfc3339(const char *s, int64_t *out);

#endif
