/*
 * lease_namespace.c - where the Lease lives when --leader-elect-namespace is
 * not given: the pod's namespace (the service-account namespace file), else
 * the kubeconfig context's namespace, else "default".
 *
 * Owns nothing: the result goes into the caller's buffer.
 */
#include <stdlib.h>
#include <string.h>

#include "fh_err.h"
#include "kube_util.h"
#include "lease.h"

/* s_put - copy s into out, or -FH_ETOOBIG */
static int
s_put(char *out, size_t cap, const char *s)
{
    size_t n = strlen(s);

    if (!out || n >= cap)
        return -FH_ETOOBIG;
    memcpy(out, s, n + 1);
    return 0;
}

/* lease_default_namespace - in-cluster file, kubeconfig context, "default" */
int
lease_default_namespace(const char *sa_file, const char *context_ns, char *out, size_t cap)
{
    char *text = NULL;
    size_t len = 0;
    int rc;

    if (sa_file && kube_read_file(sa_file, 4096, &text, &len) == 0) {
        kube_trim(text);
        if (text[0]) {
            rc = s_put(out, cap, text);
            free(text);
            return rc;
        }
    }
    free(text);
    if (context_ns && context_ns[0])
        return s_put(out, cap, context_ns);
    return s_put(out, cap, "default");
}
