/*
 * watch_kinds.c - the reflector spec of each collection fh-watcher watches
 * (path, media type, label selector). Owns nothing.
 */
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fh_err.h"
#include "kube_client.h"
#include "kube_watch.h"
#include "proto.h"
#include "watch_kinds.h"

struct kind {
    int res;
    const char *name;           /* for logs */
    const char *prefix;         /* API group path */
    const char *plural;
    bool metadata_only;         /* Secrets and Bundles: never receive their data */
    const char *selector;       /* NULL = every object */
};

static const struct kind kinds[] = {
    { PROTO_RES_FH, "fleethandshakes.riverpointtechnology.com",
      "/apis/riverpointtechnology.com/v1alpha1", "fleethandshakes", false, NULL },
    { PROTO_RES_SECRET, "secrets", "/api/v1", "secrets", true, NULL },
    { PROTO_RES_BUNDLE, "bundles.fleet.cattle.io", "/apis/fleet.cattle.io/v1alpha1", "bundles",
      true, WATCH_BUNDLE_SELECTOR },
};

/* find - the entry of res, or NULL */
static const struct kind *
find(int res)
{
    for (size_t i = 0; i < sizeof(kinds) / sizeof(kinds[0]); i++)
        if (kinds[i].res == res)
            return &kinds[i];
    return NULL;
}

/* watch_kind_name - see header */
const char *
watch_kind_name(int res)
{
    const struct kind *k = find(res);

    return k ? k->name : "?";
}

/* watch_kind_spec - see header */
int
watch_kind_spec(int res, const char *ns, char *path, size_t cap,
                struct kube_reflector_spec *spec)
{
    const struct kind *k = find(res);
    char *esc = NULL;
    int n, rc = 0;

    memset(spec, 0, sizeof(*spec));
    if (!k || !ns || !path || cap == 0)
        return -FH_EINVAL;
    if (ns[0] && !(esc = kube_path_escape(ns)))
        return -FH_ENOMEM;
    n = esc ? snprintf(path, cap, "%s/namespaces/%s/%s", k->prefix, esc, k->plural)
            : snprintf(path, cap, "%s/%s", k->prefix, k->plural);
    free(esc);
    if (n < 0 || (size_t)n >= cap) {
        path[0] = '\0';
        rc = -FH_ETOOBIG;
    } else {
        spec->path = path;
        spec->metadata_only = k->metadata_only;
        spec->label_selector = k->selector;
    }
    return rc;
}
