/*
 * kube_config.h - where the apiserver is and how to authenticate to it.
 *
 * Sources, in the order kube_config_load() tries them:
 *   1. an explicit kubeconfig path (--kubeconfig);
 *   2. $KUBECONFIG (first file of a ':'-separated list that exists);
 *   3. in-cluster: KUBERNETES_SERVICE_HOST/PORT + the service-account files;
 *   4. $HOME/.kube/config.
 * kubeconfig files are parsed with libyaml. Every error names the file and the
 * field that is wrong.
 *
 * Ownership: a struct kube_config is owned by whoever loaded it and released
 * with kube_config_free(), which wipes token and key material.
 */
#ifndef KUBE_CONFIG_H
#define KUBE_CONFIG_H

#include <stdbool.h>
#include <stddef.h>

struct kube_exec;

struct kube_config {
    char *server;               /* "https://host:port" without trailing '/' */
    char *ca_file;              /* certificate-authority path, or NULL */
    char *ca_data;              /* decoded PEM bytes of certificate-authority-data, or NULL */
    size_t ca_data_len;
    char *client_cert_file;     /* client-certificate path, or NULL */
    char *client_cert_data;     /* decoded PEM, or NULL */
    size_t client_cert_data_len;
    char *client_key_file;      /* client-key path, or NULL */
    char *client_key_data;      /* decoded PEM, or NULL; wiped on free */
    size_t client_key_data_len;
    char *token;                /* static bearer token, or NULL; wiped on free */
    char *token_file;           /* bearer token file re-read when it changes, or NULL */
    struct kube_exec *exec;     /* exec credential plugin (kube_exec.h), or NULL */
    bool insecure_skip_tls_verify;
    char *tls_server_name;      /* SNI/verification name override, or NULL */
    char *namespace;            /* context namespace / in-cluster namespace, or NULL */
    char *source;               /* where this came from, for logs ("/path", "in-cluster") */
};

/* kube_config_load_file - parse one kubeconfig; context NULL = current-context.
 * On error returns -FH_ECONFIG and writes a one-line reason into err (may be NULL). */
int kube_config_load_file(const char *path, const char *context,
                          struct kube_config **out, char *err, size_t errlen);

/* kube_config_load_incluster - service-account config; dir NULL =
 * /var/run/secrets/kubernetes.io/serviceaccount. Needs KUBERNETES_SERVICE_HOST/PORT. */
int kube_config_load_incluster(const char *dir, struct kube_config **out,
                               char *err, size_t errlen);

/* kube_config_load - the search order described above */
int kube_config_load(const char *explicit_path, struct kube_config **out,
                     char *err, size_t errlen);

/* kube_config_free - wipe secrets, free everything, set *cfg = NULL; idempotent */
void kube_config_free(struct kube_config **cfg);

#endif
