/*
 * bundle_sync.h - reading, writing and deleting the Bundle on the apiserver.
 *
 * bundle_sync_write creates the Bundle (POST) or patches its owned fields
 * (JSON merge patch with a resourceVersion precondition), and handles the
 * races: 409 AlreadyExists on create and 409 Conflict on patch re-read the
 * live Bundle and re-check who owns it before trying again (at most
 * BSYNC_MAX_WRITES writes); a 404 on patch turns into a create. It never
 * writes over a Bundle that is not ours.
 *
 * Ownership: trees returned through live hold Secret data (caller
 * secret_json_free()s them). struct bsync_out owns bundle_rv
 * (bsync_out_clear()). Request and response bodies are wiped before return.
 */
#ifndef BUNDLE_SYNC_H
#define BUNDLE_SYNC_H

#include <stdbool.h>

#include "wreq.h"

struct cJSON;
struct fh_spec;

#define BSYNC_MAX_WRITES 3

enum bsync_result {
    BSYNC_WRITTEN = 0,      /* created or patched; bundle_rv set */
    BSYNC_UNCHANGED,        /* a re-read showed the owned fields already current */
    BSYNC_FOREIGN,          /* a Bundle of that name is not ours: left alone */
    BSYNC_PREVIOUS_OWNER,   /* it belongs to an earlier FleetHandshake of the same name */
    BSYNC_CONFLICT,         /* still 409 after BSYNC_MAX_WRITES writes */
    BSYNC_FAILED,           /* a request failed: see fail */
    BSYNC_OWNER_GONE,       /* an orphaned Bundle of ours, but the FleetHandshake is
                             * gone or going: not adopted */
};

struct bsync_in {
    const struct fh_spec *fh;       /* validated FleetHandshake */
    const struct cJSON *desired;    /* from bundle_build */
    const struct cJSON *secret;     /* the Secret, to redact apiserver text quoting it */
    bool exists;                    /* a Bundle of that name is believed to exist */
    const char *rv;                 /* its resourceVersion (patch precondition), or NULL */
};

struct bsync_out {
    enum bsync_result result;
    bool created;                   /* WRITTEN by create rather than patch */
    char *bundle_rv;                /* WRITTEN: resourceVersion of our write; owned */
    int64_t bundle_generation;      /* WRITTEN/UNCHANGED: the Bundle's metadata.generation */
    char owner[256];                /* FOREIGN/PREVIOUS_OWNER: who holds the Bundle */
    struct wreq_fail fail;          /* FAILED: what went wrong */
};

/*
 * bundle_sync_get - GET the Bundle NS/NAME. Returns 0 with *live set,
 * -FH_ENOTFOUND on 404 (*live NULL), or another negative code with fail
 * filled (*live NULL). The reply body is wiped before return.
 */
int bundle_sync_get(struct wreq *w, const char *ns, const char *name,
                    struct cJSON **live, struct wreq_fail *fail);

/*
 * bundle_sync_owner_alive - before adopting an orphaned Bundle, read the
 * FleetHandshake itself (not the cache, which may lag: client-go's
 * ControllerRefManager does the same): 1 when it exists with fh's uid and
 * no deletionTimestamp, 0 when it is gone or being deleted (adopting would
 * undo an orphan deletion, and the garbage collector would then delete the
 * Bundle the user meant to keep), or a negative code with fail filled.
 */
int bundle_sync_owner_alive(struct wreq *w, const struct fh_spec *fh, struct wreq_fail *fail);

/* bundle_sync_write - see above. Returns 0 with out->result set (out zeroed
 * first), or -FH_ENOMEM/-FH_EINVAL when it could not even try. */
int bundle_sync_write(struct wreq *w, const struct bsync_in *in, struct bsync_out *out);

/*
 * bundle_sync_delete - DELETE the Bundle NS/NAME with the precondition
 * {"uid": bundle_uid} (so a Bundle recreated meanwhile is never deleted),
 * plus "resourceVersion": rv when rv is not NULL (so a Bundle changed since
 * it was read - e.g. orphaned by the garbage collector - is not deleted).
 * Returns 0 when it is gone (deleted, already absent, or - without rv -
 * replaced by another object: precondition 409), -FH_ECONFLICT for a 409
 * with rv (read it again), else a negative code with fail filled.
 */
int bundle_sync_delete(struct wreq *w, const char *ns, const char *name,
                       const char *bundle_uid, const char *rv, struct wreq_fail *fail);

/* bsync_out_clear - free bundle_rv and zero out; idempotent */
void bsync_out_clear(struct bsync_out *out);

#endif
