/*
 * obj_meta.h - turn an apiserver object (cJSON) into the compact struct
 * proto_obj the watcher sends to the supervisor.
 *
 * FleetHandshakes are sent whole (minus managedFields and kubectl's
 * last-applied annotation); Secrets and Bundles as metadata only. The watcher
 * only ever receives Secret and Bundle metadata (PartialObjectMetadata), and
 * this module never copies a Secret's data even if it were handed one.
 *
 * Ownership: obj_meta_from_json fills *out with heap strings the caller
 * releases with proto_obj_clear().
 */
#ifndef OBJ_META_H
#define OBJ_META_H

#include "proto.h"

struct cJSON;

#define FH_ANNOTATION_BUILT_FROM "fleethandshake.riverpointtechnology.com/built-from"
#define FH_OWNER_KIND            "FleetHandshake"
#define FH_GROUP                 "riverpointtechnology.com"

/* obj_meta_from_json - fill out (zeroed first) for resource res; -FH_EINVALIDOBJ
 * when the object lacks metadata.name / namespace, -FH_ETOOBIG past proto bounds */
int obj_meta_from_json(int res, const struct cJSON *obj, struct proto_obj *out);

#endif
