/*
 * sup_relist.c - bring the caches in line with a restarted watcher's lists.
 *
 * A new watcher starts with an empty store: its first lists send ADDED for
 * every object that exists and nothing for objects deleted while no watcher
 * ran (or while the old one was failing). client-go's reflector solves this
 * with Replace(); the supervisor does the same across the process boundary:
 * when the watcher goes away, every cached key is remembered as "unseen"
 * (sup_relist_begin); each event from the new watcher marks its key seen
 * (sup_relist_seen); when the new watcher's list of a resource completes,
 * every key still unseen is gone from the apiserver and is fed through
 * sup_handle_event as a DELETED event built from the cached object
 * (sup_relist_finish), so Secret deletions become Missing, deleted
 * FleetHandshakes get their Bundle removed, and the indexes forget them.
 *
 * Owns the unseen-key sets in s->unseen[] (a strmap per resource, values
 * unused); they exist only between a watcher restart and its first lists.
 */
#include <stdlib.h>
#include <string.h>

#include "fh_err.h"
#include "fh_index.h"
#include "strmap.h"
#include "supervisor.h"

#define NRES (sizeof(((struct supervisor *)0)->unseen) / sizeof(((struct supervisor *)0)->unseen[0]))

/* sup_relist_clear - drop every unseen set */
void
sup_relist_clear(struct supervisor *s)
{
    for (size_t r = 0; r < NRES; r++)
        strmap_free(&s->unseen[r], NULL);
}

/* sup_relist_begin - see supervisor.h */
int
sup_relist_begin(struct supervisor *s, uint64_t seed)
{
    static const uint8_t res[] = { PROTO_RES_FH, PROTO_RES_SECRET, PROTO_RES_BUNDLE };
    int rc = 0;

    sup_relist_clear(s);
    for (size_t i = 0; i < sizeof(res) / sizeof(res[0]) && rc == 0; i++) {
        char **keys = NULL;
        size_t n = 0;

        if ((rc = fh_index_keys_res(s->ix, res[i], &keys, &n)) < 0)
            break;
        if (!(s->unseen[res[i]] = strmap_new(seed + i)))
            rc = -FH_ENOMEM;
        for (size_t k = 0; k < n && rc == 0; k++)
            rc = strmap_put(s->unseen[res[i]], keys[k], s, NULL);
        fh_index_keys_free(keys, n);
    }
    if (rc < 0)
        sup_relist_clear(s);        /* no sweep at all beats a wrong one */
    return rc;
}

/* sup_relist_seen - see supervisor.h */
void
sup_relist_seen(struct supervisor *s, uint8_t res, const char *key)
{
    if (res < NRES && s->unseen[res])
        strmap_del(s->unseen[res], key, NULL);
}

/* cached - the cached object of res under key, or NULL */
static const struct proto_obj *
cached(const struct supervisor *s, uint8_t res, const char *key)
{
    switch (res) {
    case PROTO_RES_FH: return fh_index_get_fh(s->ix, key);
    case PROTO_RES_SECRET: return fh_index_get_secret(s->ix, key);
    case PROTO_RES_BUNDLE: return fh_index_get_bundle(s->ix, key);
    default: return NULL;
    }
}

/* sup_relist_finish - see supervisor.h */
int
sup_relist_finish(struct supervisor *s, uint8_t res, uint64_t now_ms, size_t *swept)
{
    struct strmap *unseen;
    const char *k;
    size_t it = 0, n = 0;
    char **keys = NULL;
    int rc = 0;

    *swept = 0;
    if (res >= NRES || !(unseen = s->unseen[res]))
        return 0;
    s->unseen[res] = NULL;
    if (!(keys = calloc(strmap_len(unseen) + 1, sizeof(*keys)))) {
        rc = -FH_ENOMEM;
        goto out;
    }
    while (strmap_next(unseen, &it, &k, NULL))
        keys[n++] = (char *)k;      /* borrowed from the map until it is freed */
    for (size_t i = 0; i < n; i++) {
        const struct proto_obj *o = cached(s, res, keys[i]);
        struct proto_event ev;
        int erc;

        if (!o)
            continue;
        memset(&ev, 0, sizeof(ev));
        ev.type = PROTO_EV_DELETED;
        if ((erc = proto_obj_copy(&ev.obj, o)) == 0) {
            erc = sup_apply_event(s, &ev, now_ms);
            proto_obj_clear(&ev.obj);
        }
        if (erc < 0 && rc == 0)
            rc = erc;
        else if (erc == 0)
            (*swept)++;
    }
out:
    free(keys);
    strmap_free(&unseen, NULL);
    return rc;
}
