/*
 * fh_index.h - the supervisor's caches of watched objects and the reverse
 * indexes that turn one watcher event into the FleetHandshake keys it affects.
 *
 * Caches (keyed "namespace/name", owned copies made with proto_obj_copy):
 *   FleetHandshakes (full object), Secret metadata, Bundle metadata.
 * Reverse indexes:
 *   secret key "sns/sname" -> the FleetHandshakes whose spec references it.
 *     The reference is (secret_ns, secret_name) of the FleetHandshake; a
 *     missing or empty secret_ns means the FleetHandshake's own namespace; no
 *     secret_name means no reference. Works before the Secret exists.
 *   FleetHandshake key "ns/owner" -> the Bundles in ns whose controller
 *     ownerReference names it (owner_uid is kept in the Bundle copy so the
 *     caller can check it against the FleetHandshake's uid).
 * Both are intrusive doubly-linked lists hanging off hash-map entries, so an
 * event costs O(1) average plus O(number of keys it returns): a Secret event
 * walks only the FleetHandshakes that use that Secret, never all of them.
 * fh_index_work() counts those steps so tests can prove it.
 *
 * Ownership: the index copies everything it is given (apply borrows obj).
 * Lookups return borrowed pointers into the index, valid until the next
 * fh_index_apply or fh_index_free. Key arrays returned through char ***keys
 * are owned by the caller: free each string and the array, or call
 * fh_index_keys_free().
 */
#ifndef FH_INDEX_H
#define FH_INDEX_H

#include <stddef.h>
#include <stdint.h>

#include "proto.h"

struct fh_index;

/* Key buffers: "ns/name" with both parts at most PROTO_MAX_NAME. */
#define FH_INDEX_KEY_MAX (2u * PROTO_MAX_NAME + 2u)

/* What an applied event changed (bits of struct fh_index_change.flags). */
enum fh_index_flag {
    FH_IX_CREATED = 1u << 0,    /* object was not cached before */
    FH_IX_REMOVED = 1u << 1,    /* DELETED event: dropped from the cache */
    FH_IX_UNCHANGED = 1u << 2,  /* same resourceVersion as cached: nothing done, no keys */
    FH_IX_GENERATION = 1u << 3, /* metadata.generation differs */
    FH_IX_DELETING = 1u << 4,   /* deletionTimestamp appeared or vanished */
    FH_IX_SECRET_REF = 1u << 5, /* FH: referenced Secret differs */
    FH_IX_UID = 1u << 6,        /* metadata.uid differs (deleted and recreated) */
    FH_IX_OWNER = 1u << 7,      /* Bundle: owner name or uid differs */
    FH_IX_BUILT_FROM = 1u << 8, /* Bundle: built-from annotation differs */
    FH_IX_STATUS_ONLY = 1u << 9,/* FH/Bundle: cached, new resourceVersion, none of
                                 * GENERATION|DELETING|SECRET_REF|UID|OWNER|BUILT_FROM */
};

struct fh_index_change {
    unsigned flags;             /* enum fh_index_flag bits */
};

/* fh_index_new - empty index; seed keys its hash maps. NULL on ENOMEM.
 * Caller frees with fh_index_free. */
struct fh_index *fh_index_new(uint64_t seed);

/* fh_index_free - free all caches and indexes, set *ix = NULL; NULL-safe */
void fh_index_free(struct fh_index **ix);

/*
 * fh_index_apply_ex - apply one watcher event (ev_type enum
 * proto_event_type, obj->res enum proto_res) and return the FleetHandshake
 * keys it affects in *keys / *n (caller frees; *keys NULL when *n is 0):
 *   FH ADDED/MODIFIED/DELETED   -> the FleetHandshake itself
 *   Secret ADDED/MODIFIED/DELETED -> every FleetHandshake referencing it
 *   Bundle ADDED/MODIFIED/DELETED -> its owner "ns/owner_name", and the
 *       previous owner if the ownerReference changed. Returned whether or
 *       not that FleetHandshake is cached (a deleted one may still need
 *       cleanup); check fh_index_get_fh() if that matters.
 * An ADDED/MODIFIED event whose resourceVersion equals the cached one is a
 * no-op (FH_IX_UNCHANGED, no keys), e.g. after a watcher relist.
 * change may be NULL. On error the index is unchanged, *keys is NULL and *n
 * is 0: -FH_EINVAL (bad type/res, NULL name), -FH_ETOOBIG (ns or name over
 * PROTO_MAX_NAME), -FH_ENOMEM.
 */
int fh_index_apply_ex(struct fh_index *ix, uint8_t ev_type, const struct proto_obj *obj,
                      char ***keys, size_t *n, struct fh_index_change *change);

/* fh_index_apply - fh_index_apply_ex without the change report */
int fh_index_apply(struct fh_index *ix, uint8_t ev_type, const struct proto_obj *obj,
                   char ***keys, size_t *n);

/* fh_index_keys - every cached FleetHandshake key (for the periodic resync),
 * unordered; caller frees. 0 or -FH_ENOMEM (then *keys NULL, *n 0). */
int fh_index_keys(const struct fh_index *ix, char ***keys, size_t *n);

/* fh_index_keys_res - every cached key of one enum proto_res (FH, Secret or
 * Bundle), unordered; caller frees. 0, -FH_EINVAL (bad res) or -FH_ENOMEM. */
int fh_index_keys_res(const struct fh_index *ix, uint8_t res, char ***keys, size_t *n);

/* fh_index_keys_free - free an array returned above; NULL-safe */
void fh_index_keys_free(char **keys, size_t n);

/* fh_index_get_fh - cached FleetHandshake "ns/name", or NULL (borrowed) */
const struct proto_obj *fh_index_get_fh(const struct fh_index *ix, const char *key);

/* fh_index_get_secret - cached Secret metadata "ns/name", or NULL (borrowed) */
const struct proto_obj *fh_index_get_secret(const struct fh_index *ix, const char *key);

/* fh_index_get_bundle - cached Bundle metadata by the Bundle's own
 * "ns/name", or NULL (borrowed) */
const struct proto_obj *fh_index_get_bundle(const struct fh_index *ix, const char *key);

/* fh_index_secret_for_fh - the cached Secret the FleetHandshake fh_key
 * references, or NULL (not cached, no reference, or unknown FH) (borrowed) */
const struct proto_obj *fh_index_secret_for_fh(const struct fh_index *ix, const char *fh_key);

/* fh_index_bundle_for_fh - a cached Bundle owned by FleetHandshake fh_key:
 * one whose owner_uid equals the FH's uid if any, else any Bundle naming it
 * as owner, else NULL (borrowed) */
const struct proto_obj *fh_index_bundle_for_fh(const struct fh_index *ix, const char *fh_key);

/* fh_index_secret_key - write the Secret key a FleetHandshake object
 * references into buf ("sns/sname", namespace defaulted as above).
 * 0, -FH_ENOTFOUND (no secret_name), -FH_ETOOBIG (does not fit / over bounds). */
int fh_index_secret_key(const struct proto_obj *fh, char *buf, size_t cap);

/* fh_index_secret_users - how many cached FleetHandshakes reference the
 * Secret key */
size_t fh_index_secret_users(const struct fh_index *ix, const char *secret_key);

/* fh_index_count - cached objects of one enum proto_res (0 for others) */
size_t fh_index_count(const struct fh_index *ix, uint8_t res);

/* fh_index_work - steps taken so far (hash-map operations plus reverse-index
 * list nodes visited); tests use it to check per-event cost */
uint64_t fh_index_work(const struct fh_index *ix);

#endif
