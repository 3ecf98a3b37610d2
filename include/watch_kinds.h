/*
 * watch_kinds.h - the three collections fh-watcher lists and watches, and
 * how: FleetHandshakes as whole objects; Secrets as metadata only (the
 * watcher never receives Secret data fields); Bundles as metadata only and
 * only those we manage (label selector BUNDLE_LABEL_MANAGED_BY=
 * BUNDLE_LABEL_VALUE, the label every Bundle we write carries).
 *
 * Ownership: watch_kind_spec() writes the collection path into the caller's
 * buffer and points spec->path at it; spec->label_selector points to a
 * static string. Nothing is allocated that outlives the call.
 */
#ifndef WATCH_KINDS_H
#define WATCH_KINDS_H

#include <stddef.h>

#include "bundle.h"

struct kube_reflector_spec;

/* the Bundles we manage: unescaped (the reflector URL-escapes it) */
#define WATCH_BUNDLE_SELECTOR BUNDLE_LABEL_MANAGED_BY "=" BUNDLE_LABEL_VALUE

/* watch_kind_name - what resource res (enum proto_res) is called in logs;
 * static string, "?" if unknown */
const char *watch_kind_name(int res);

/*
 * watch_kind_spec - fill spec (zeroed first) for resource res in namespace
 * ns ("" = all namespaces): path (written into path[cap]), metadata_only
 * and label_selector; the other fields keep the reflector's defaults.
 * 0, -FH_EINVAL (unknown res), -FH_ETOOBIG (path does not fit), -FH_ENOMEM.
 */
int watch_kind_spec(int res, const char *ns, char *path, size_t cap,
                    struct kube_reflector_spec *spec);

#endif
