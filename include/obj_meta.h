/*
 * obj_meta.h - turn an apiserver object (cJSON) into the compact struct
 * proto_obj the watcher sends to the supervisor.
 *
 * FleetHandshakes are sent whole (minus managedFields and kubectl's
 * last-applied annotation); Secrets as identity only; Bundles as identity,
 * owner and our built-from annotation. The watcher only ever receives Secret
 * and Bundle metadata (PartialObjectMetadata); that metadata may still hold a
 * copy of a Secret's data (kubectl's last-applied-configuration annotation),
 * so no label or annotation of a Secret is ever copied, and this module
 * never copies a Secret's data even if it were handed a whole Secret.
 *
 * Ownership: obj_meta_from_json fills *out with heap strings the caller
 * releases with proto_obj_clear(). Nothing is kept between calls.
 */
#ifndef OBJ_META_H
#define OBJ_META_H

#include <stdbool.h>
#include <stddef.h>

#include "proto.h"

struct cJSON;

#define FH_ANNOTATION_BUILT_FROM "fleethandshake.riverpointtechnology.com/built-from"
#define FH_OWNER_KIND            "FleetHandshake"
#define FH_GROUP                 "riverpointtechnology.com"

/* room for obj_meta_key(): two parts of PROTO_MAX_NAME, "...", '/' and NUL */
#define OBJ_META_KEY_LEN (2 * (PROTO_MAX_NAME + 3) + 2)

/*
 * obj_meta_from_json - fill out (zeroed first) from obj, an object of
 * resource res (enum proto_res) from an event; deleted says it is a DELETED
 * event.
 *
 * Dropped (negative return, out left zeroed): -FH_EINVAL for an unknown res;
 * -FH_EINVALIDOBJ when metadata.name is missing or metadata.generation is
 * present but not a whole number in [0, 2^53] (huge, negative, fractional or
 * not a number: never what the apiserver writes); -FH_ETOOBIG when the
 * name, namespace, uid or resourceVersion exceeds its proto bound, or a
 * FleetHandshake's JSON exceeds PROTO_MAX_JSON; -FH_ENOMEM.
 *
 * Forwarded with fields left unset (0, note in why): any other field over
 * its bound - a FleetHandshake's spec.secretName/secretNamespace (the JSON
 * stays whole so the worker reports InvalidSpec), a Bundle's built-from
 * annotation or owner - and, for a DELETED event, which needs only its
 * identity, also an unusable generation or an over-long JSON.
 *
 * why (may be NULL; why_len bytes, always NUL-terminated) receives the
 * reason of a drop, or on success the fields left unset ("" if none). It
 * names fields and sizes, never values.
 */
int obj_meta_from_json(int res, bool deleted, const struct cJSON *obj, struct proto_obj *out,
                       char *why, size_t why_len);

/*
 * obj_meta_key - "namespace/name" of obj for log lines, also when the object
 * is malformed: each part is cut to PROTO_MAX_NAME bytes at a UTF-8
 * character boundary and marked "..." when cut; a missing name is "?".
 * Writes at most len bytes including the NUL (OBJ_META_KEY_LEN is enough).
 */
void obj_meta_key(const struct cJSON *obj, char *buf, size_t len);

#endif
