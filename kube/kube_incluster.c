/*
 * kube_incluster.c - configuration of a pod's service account:
 * KUBERNETES_SERVICE_HOST/PORT plus the token, ca.crt and namespace files.
 * The token file path is kept (not its content) so kube_token re-reads it
 * when the kubelet rotates it. Builds a struct kube_config owned by the
 * caller (kube_config_free()).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "fh_err.h"
#include "kube_config.h"
#include "kube_util.h"
#include "secret_mem.h"

#define SA_DIR "/var/run/secrets/kubernetes.io/serviceaccount"
#define NAMESPACE_MAX 4096u

/* ic_err - "in-cluster: <what>: <reason>" */
static int
ic_err(char *err, size_t errlen, const char *what, const char *reason)
{
    if (err && errlen)
        snprintf(err, errlen, "in-cluster: %s: %s", what, reason);
    return -FH_ECONFIG;
}

/* build_server - IPv6 literals need brackets inside a URL */
static char *
build_server(const char *host, const char *port)
{
    bool v6 = strchr(host, ':') && host[0] != '[';
    size_t n = strlen(host) + strlen(port) + 16;
    char *s = malloc(n);

    if (s)
        snprintf(s, n, v6 ? "https://[%s]:%s" : "https://%s:%s", host, port);
    return s;
}

/* kube_config_load_incluster - service-account config */
int
kube_config_load_incluster(const char *dir, struct kube_config **out, char *err,
                           size_t errlen)
{
    const char *host = getenv("KUBERNETES_SERVICE_HOST");
    const char *port = getenv("KUBERNETES_SERVICE_PORT");
    struct kube_config *c = NULL;
    char *ns = NULL, *tok = NULL, *nsfile = NULL;
    size_t len = 0, toklen = 0;
    int rc;

    *out = NULL;
    if (err && errlen)
        err[0] = '\0';
    if (!dir)
        dir = SA_DIR;
    if (!host || !host[0])
        return ic_err(err, errlen, "KUBERNETES_SERVICE_HOST", "not set");
    if (!port || !port[0])
        return ic_err(err, errlen, "KUBERNETES_SERVICE_PORT", "not set");
    if (strspn(port, "0123456789") != strlen(port) || strlen(port) > 5)
        return ic_err(err, errlen, "KUBERNETES_SERVICE_PORT", "not a port number");
    if (strpbrk(host, "/?#@ \t\r\n"))
        return ic_err(err, errlen, "KUBERNETES_SERVICE_HOST", "not a host name or address");

    c = calloc(1, sizeof(*c));
    if (!c)
        return -FH_ENOMEM;
    c->server = build_server(host, port);
    c->token_file = kube_path_join(dir, "token");
    c->ca_file = kube_path_join(dir, "ca.crt");
    c->source = strdup("in-cluster");
    if (!c->server || !c->token_file || !c->ca_file || !c->source) {
        rc = -FH_ENOMEM;
        goto out;
    }
    /* read the token once now so a missing mount fails at start-up */
    rc = kube_read_file(c->token_file, 64u * 1024u, &tok, &toklen);
    if (rc < 0) {
        rc = ic_err(err, errlen, c->token_file, fh_strerror(rc));
        goto out;
    }
    if (kube_trim(tok) == 0) {
        rc = ic_err(err, errlen, c->token_file, "empty token");
        goto out;
    }
    if (access(c->ca_file, R_OK) < 0) {
        rc = ic_err(err, errlen, c->ca_file, strerror(errno));
        goto out;
    }
    /* the namespace file is optional; a missing one leaves namespace NULL */
    nsfile = kube_path_join(dir, "namespace");
    if (!nsfile) {
        rc = -FH_ENOMEM;
        goto out;
    }
    if (kube_read_file(nsfile, NAMESPACE_MAX, &ns, &len) == 0 && kube_trim(ns) > 0) {
        c->namespace = ns;
        ns = NULL;
    }
    rc = 0;
out:
    free(nsfile);
    secret_free(&tok, toklen);
    free(ns);
    if (rc < 0)
        kube_config_free(&c);
    *out = c;
    return rc;
}
