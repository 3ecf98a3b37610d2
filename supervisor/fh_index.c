/*
 * fh_index.c - caches of FleetHandshakes, Secret and Bundle metadata, and
 * the reverse indexes Secret -> FleetHandshakes and owner -> Bundles.
 *
 * Owns: five hash maps and everything hanging off them - one struct fh_ent
 * per cached FleetHandshake, one heap proto_obj per cached Secret, one
 * struct bundle_ent per cached Bundle, one struct ix_list per referenced
 * Secret / named owner. Entries sit on their list through an embedded
 * struct ix_node, so linking, unlinking and moving an entry are O(1).
 * Every fallible step of an apply happens before the first change, so an
 * error leaves the index as it was.
 */
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fh_err.h"
#include "fh_str.h"
#include "fh_index.h"
#include "strmap.h"

struct ix_list;

struct ix_node {
    struct ix_node *prev;       /* towards the list head */
    struct ix_node *next;       /* towards the list tail */
    struct ix_list *list;       /* list it is on, NULL if none */
};

struct ix_list {
    struct ix_node *head;       /* first member */
    size_t n;                   /* members */
    const char *key;            /* its key in the owning map (map's copy) */
};

struct fh_ent {
    struct proto_obj obj;       /* owned copy of the FleetHandshake */
    const char *key;            /* "ns/name" (the fhs map's copy) */
    char *secret_key;           /* "sns/sname" referenced, or NULL (owned) */
    struct ix_node node;        /* membership of refs[secret_key] */
};

struct bundle_ent {
    struct proto_obj obj;       /* owned copy of the Bundle metadata */
    char *owner_key;            /* "ns/owner_name", or NULL (owned) */
    struct ix_node node;        /* membership of owners[owner_key] */
};

struct fh_index {
    struct strmap *fhs;         /* "ns/name" -> struct fh_ent* */
    struct strmap *secrets;     /* "ns/name" -> struct proto_obj* */
    struct strmap *bundles;     /* "ns/name" -> struct bundle_ent* */
    struct strmap *refs;        /* secret key -> struct ix_list* of fh_ent */
    struct strmap *owners;      /* FH key -> struct ix_list* of bundle_ent */
    uint64_t work;              /* steps taken (see fh_index_work) */
};

struct keyset {
    char **v;                   /* owned strings */
    size_t n;                   /* used */
    size_t cap;                 /* allocated */
};

#define FH_OF(nd) ((struct fh_ent *)(void *)((char *)(nd) - offsetof(struct fh_ent, node)))
#define BUNDLE_OF(nd) \
    ((struct bundle_ent *)(void *)((char *)(nd) - offsetof(struct bundle_ent, node)))

/* ---- small helpers ---------------------------------------------------------- */

/* make_key - "ns/name" into buf (FH_INDEX_KEY_MAX bytes) */
static int
make_key(char *buf, size_t cap, const char *ns, const char *name)
{
    int w;

    if (!name)
        return -FH_EINVAL;
    if (!ns)
        ns = "";
    if (strlen(ns) > PROTO_MAX_NAME || strlen(name) > PROTO_MAX_NAME)
        return -FH_ETOOBIG;
    w = snprintf(buf, cap, "%s/%s", ns, name);
    return (w < 0 || (size_t)w >= cap) ? -FH_ETOOBIG : 0;
}

/* keyset_push - append a copy of key (cap reserved up front by the caller) */
static int
keyset_push(struct keyset *ks, const char *key)
{
    char *c;

    if (ks->n == ks->cap)
        return -FH_ENOMEM;
    c = strdup(key);
    if (!c)
        return -FH_ENOMEM;
    ks->v[ks->n++] = c;
    return 0;
}

/* keyset_add - keyset_push unless key is already there (for tiny sets) */
static int
keyset_add(struct keyset *ks, const char *key)
{
    for (size_t i = 0; i < ks->n; i++)
        if (strcmp(ks->v[i], key) == 0)
            return 0;
    return keyset_push(ks, key);
}

/* keyset_init - room for cap keys */
static int
keyset_init(struct keyset *ks, size_t cap)
{
    ks->n = 0;
    ks->cap = cap;
    ks->v = cap ? calloc(cap, sizeof(*ks->v)) : NULL;
    return (cap && !ks->v) ? -FH_ENOMEM : 0;
}

/* fh_index_keys_free - free a key array */
void
fh_index_keys_free(char **keys, size_t n)
{
    if (!keys)
        return;
    for (size_t i = 0; i < n; i++)
        free(keys[i]);
    free(keys);
}

/* keyset_out - hand the keys to the caller (an empty set yields NULL) */
static void
keyset_out(struct keyset *ks, char ***keys, size_t *n)
{
    if (ks->n == 0) {
        free(ks->v);
        ks->v = NULL;
    }
    *keys = ks->v;
    *n = ks->n;
    ks->v = NULL;
    ks->n = ks->cap = 0;
}

/* list_get - the list under key in map, created when create is set; NULL if
 * absent (or on ENOMEM with *rc set) */
static struct ix_list *
list_get(struct fh_index *ix, struct strmap *map, const char *key, bool create, int *rc)
{
    void **slot;
    const char *stored;
    bool created;
    struct ix_list *l;

    ix->work++;
    if (!create)
        return strmap_get(map, key);
    *rc = strmap_intern(map, key, &slot, &stored, &created);
    if (*rc < 0)
        return NULL;
    if (!created)
        return *slot;
    l = calloc(1, sizeof(*l));
    if (!l) {
        strmap_del(map, stored, NULL);
        *rc = -FH_ENOMEM;
        return NULL;
    }
    l->key = stored;
    *slot = l;
    return l;
}

/* list_drop_if_empty - remove an empty list from its map */
static void
list_drop_if_empty(struct fh_index *ix, struct strmap *map, struct ix_list *l)
{
    if (!l || l->n > 0)
        return;
    ix->work++;
    strmap_del(map, l->key, NULL);          /* frees the key l->key points at */
    free(l);
}

/* node_link - put nd at the head of l */
static void
node_link(struct ix_list *l, struct ix_node *nd)
{
    nd->prev = NULL;
    nd->next = l->head;
    if (l->head)
        l->head->prev = nd;
    l->head = nd;
    nd->list = l;
    l->n++;
}

/* node_unlink - take nd off its list (if any); returns that list */
static struct ix_list *
node_unlink(struct ix_node *nd)
{
    struct ix_list *l = nd->list;

    if (!l)
        return NULL;
    if (nd->prev)
        nd->prev->next = nd->next;
    else
        l->head = nd->next;
    if (nd->next)
        nd->next->prev = nd->prev;
    nd->prev = nd->next = NULL;
    nd->list = NULL;
    l->n--;
    return l;
}

/* fh_index_secret_key - key of the Secret a FleetHandshake references */
int
fh_index_secret_key(const struct proto_obj *fh, char *buf, size_t cap)
{
    const char *ns;

    if (!fh || !fh->secret_name || !fh->secret_name[0])
        return -FH_ENOTFOUND;
    ns = (fh->secret_ns && fh->secret_ns[0]) ? fh->secret_ns : fh->ns;
    return make_key(buf, cap, ns, fh->secret_name);
}

/* ---- lifetime ------------------------------------------------------------- */

/* free_fh - strmap destructor for struct fh_ent */
static void
free_fh(void *p)
{
    struct fh_ent *e = p;

    proto_obj_clear(&e->obj);
    free(e->secret_key);
    free(e);
}

/* free_secret - strmap destructor for a cached Secret */
static void
free_secret(void *p)
{
    proto_obj_clear(p);
    free(p);
}

/* free_bundle - strmap destructor for struct bundle_ent */
static void
free_bundle(void *p)
{
    struct bundle_ent *b = p;

    proto_obj_clear(&b->obj);
    free(b->owner_key);
    free(b);
}

/* fh_index_new - allocate the maps */
struct fh_index *
fh_index_new(uint64_t seed)
{
    struct fh_index *ix = calloc(1, sizeof(*ix));

    if (!ix)
        return NULL;
    ix->fhs = strmap_new(seed);
    ix->secrets = strmap_new(seed + 1);
    ix->bundles = strmap_new(seed + 2);
    ix->refs = strmap_new(seed + 3);
    ix->owners = strmap_new(seed + 4);
    if (!ix->fhs || !ix->secrets || !ix->bundles || !ix->refs || !ix->owners)
        fh_index_free(&ix);
    return ix;
}

/* fh_index_free - release everything */
void
fh_index_free(struct fh_index **ixp)
{
    struct fh_index *ix = ixp ? *ixp : NULL;

    if (!ix)
        return;
    strmap_free(&ix->fhs, free_fh);
    strmap_free(&ix->secrets, free_secret);
    strmap_free(&ix->bundles, free_bundle);
    strmap_free(&ix->refs, free);
    strmap_free(&ix->owners, free);
    free(ix);
    *ixp = NULL;
}

/* same_rv - both carry the same non-NULL resourceVersion */
static bool
same_rv(const struct proto_obj *a, const struct proto_obj *b)
{
    return a->rv && b->rv && strcmp(a->rv, b->rv) == 0;
}

/* ---- FleetHandshake events ------------------------------------------------------- */

/* fh_flags - what differs between the cached and the new FleetHandshake */
static unsigned
fh_flags(const struct fh_ent *e, const struct proto_obj *o, const char *new_skey)
{
    unsigned f = 0;

    if (!e)
        return FH_IX_CREATED;
    if (e->obj.generation != o->generation)
        f |= FH_IX_GENERATION;
    if (e->obj.deleting != o->deleting)
        f |= FH_IX_DELETING;
    if (!fh_streq(e->secret_key, new_skey))
        f |= FH_IX_SECRET_REF;
    if (!fh_streq(e->obj.uid, o->uid))
        f |= FH_IX_UID;
    return f ? f : FH_IX_STATUS_ONLY;
}

/* apply_fh - FleetHandshake added/modified/deleted */
static int
apply_fh(struct fh_index *ix, uint8_t ev_type, const struct proto_obj *obj, const char *key,
         struct keyset *ks, unsigned *flags)
{
    struct fh_ent *e, *fresh = NULL;
    struct proto_obj copy;
    struct ix_list *newl = NULL, *oldl;
    char skbuf[FH_INDEX_KEY_MAX];
    char *skey = NULL;
    bool have_copy = false, inserted = false, list_made = false;
    int rc;

    ix->work++;
    e = strmap_get(ix->fhs, key);
    if (ev_type == PROTO_EV_DELETED) {
        if ((rc = keyset_init(ks, 1)) < 0 || (rc = keyset_add(ks, key)) < 0)
            return rc;
        *flags = FH_IX_REMOVED;
        if (e) {
            list_drop_if_empty(ix, ix->refs, node_unlink(&e->node));
            ix->work++;
            strmap_del(ix->fhs, key, NULL);
            free_fh(e);
        }
        return 0;
    }
    if (e && same_rv(&e->obj, obj)) {
        *flags = FH_IX_UNCHANGED;
        return 0;
    }
    /* fallible preparation */
    rc = fh_index_secret_key(obj, skbuf, sizeof(skbuf));
    if (rc == 0) {
        skey = strdup(skbuf);
        if (!skey) {
            rc = -FH_ENOMEM;
            goto fail;
        }
    } else if (rc != -FH_ENOTFOUND) {
        goto fail;
    }
    if ((rc = proto_obj_copy(&copy, obj)) < 0)
        goto fail;
    have_copy = true;
    if ((rc = keyset_init(ks, 1)) < 0 || (rc = keyset_add(ks, key)) < 0)
        goto fail;
    if (!e) {
        void **slot;
        const char *stored;
        bool created;

        fresh = calloc(1, sizeof(*fresh));
        if (!fresh) {
            rc = -FH_ENOMEM;
            goto fail;
        }
        ix->work++;
        if ((rc = strmap_intern(ix->fhs, key, &slot, &stored, &created)) < 0)
            goto fail;
        inserted = true;
        fresh->key = stored;
        *slot = fresh;
    }
    if (skey && !(e && fh_streq(e->secret_key, skey))) {
        bool existed = strmap_has(ix->refs, skey);

        newl = list_get(ix, ix->refs, skey, true, &rc);
        if (!newl)
            goto fail;
        list_made = !existed;
    }
    /* commit: nothing below can fail */
    *flags = fh_flags(e, obj, skey);
    if (!e)
        e = fresh;
    if (!fh_streq(e->secret_key, skey)) {
        oldl = node_unlink(&e->node);
        if (newl)
            node_link(newl, &e->node);
        list_drop_if_empty(ix, ix->refs, oldl);
    }
    proto_obj_clear(&e->obj);
    e->obj = copy;
    free(e->secret_key);
    e->secret_key = skey;
    return 0;
fail:
    if (list_made)
        list_drop_if_empty(ix, ix->refs, newl);
    if (inserted)
        strmap_del(ix->fhs, key, NULL);
    free(fresh);
    if (have_copy)
        proto_obj_clear(&copy);
    free(skey);
    return rc;
}

/* ---- Secret events ---------------------------------------------------------- */

/* collect_refs - every FleetHandshake key referencing secret key */
static int
collect_refs(struct fh_index *ix, const char *key, struct keyset *ks)
{
    struct ix_list *l = list_get(ix, ix->refs, key, false, NULL);
    int rc = keyset_init(ks, l ? l->n : 0);

    if (rc < 0 || !l)
        return rc;
    for (struct ix_node *nd = l->head; nd; nd = nd->next) {
        ix->work++;
        if ((rc = keyset_push(ks, FH_OF(nd)->key)) < 0)   /* list members are unique */
            return rc;
    }
    return 0;
}

/* apply_secret - Secret metadata added/modified/deleted */
static int
apply_secret(struct fh_index *ix, uint8_t ev_type, const struct proto_obj *obj,
             const char *key, struct keyset *ks, unsigned *flags)
{
    struct proto_obj *cached, *fresh = NULL;
    struct proto_obj copy;
    int rc;

    ix->work++;
    cached = strmap_get(ix->secrets, key);
    if (ev_type != PROTO_EV_DELETED && cached && same_rv(cached, obj)) {
        *flags = FH_IX_UNCHANGED;
        return 0;
    }
    if ((rc = collect_refs(ix, key, ks)) < 0)
        return rc;
    if (ev_type == PROTO_EV_DELETED) {
        *flags = FH_IX_REMOVED;
        if (cached) {
            ix->work++;
            strmap_del(ix->secrets, key, NULL);
            free_secret(cached);
        }
        return 0;
    }
    if ((rc = proto_obj_copy(&copy, obj)) < 0)
        return rc;
    if (cached) {
        *flags = fh_streq(cached->uid, obj->uid) ? 0 : FH_IX_UID;
        proto_obj_clear(cached);
        *cached = copy;
        return 0;
    }
    fresh = malloc(sizeof(*fresh));
    if (!fresh) {
        proto_obj_clear(&copy);
        return -FH_ENOMEM;
    }
    *fresh = copy;
    ix->work++;
    if ((rc = strmap_put(ix->secrets, key, fresh, NULL)) < 0) {
        free_secret(fresh);
        return rc;
    }
    *flags = FH_IX_CREATED;
    return 0;
}

/* ---- Bundle events ----------------------------------------------------------- */

/* bundle_flags - what differs between the cached and the new Bundle */
static unsigned
bundle_flags(const struct bundle_ent *b, const struct proto_obj *o)
{
    unsigned f = 0;

    if (!b)
        return FH_IX_CREATED;
    if (b->obj.generation != o->generation)
        f |= FH_IX_GENERATION;
    if (b->obj.deleting != o->deleting)
        f |= FH_IX_DELETING;
    if (!fh_streq(b->obj.owner_name, o->owner_name) || !fh_streq(b->obj.owner_uid, o->owner_uid))
        f |= FH_IX_OWNER;
    if (!fh_streq(b->obj.built_from, o->built_from))
        f |= FH_IX_BUILT_FROM;
    if (!fh_streq(b->obj.uid, o->uid))
        f |= FH_IX_UID;
    return f ? f : FH_IX_STATUS_ONLY;
}

/* apply_bundle - Bundle metadata added/modified/deleted */
static int
apply_bundle(struct fh_index *ix, uint8_t ev_type, const struct proto_obj *obj,
             const char *key, struct keyset *ks, unsigned *flags)
{
    struct bundle_ent *b, *fresh = NULL;
    struct proto_obj copy;
    struct ix_list *newl = NULL, *oldl;
    char okbuf[FH_INDEX_KEY_MAX];
    char *okey = NULL;
    bool have_copy = false, list_made = false;
    int rc = 0;

    ix->work++;
    b = strmap_get(ix->bundles, key);
    if (ev_type != PROTO_EV_DELETED && b && same_rv(&b->obj, obj)) {
        *flags = FH_IX_UNCHANGED;
        return 0;
    }
    if (obj->owner_name && obj->owner_name[0]) {
        if ((rc = make_key(okbuf, sizeof(okbuf), obj->ns, obj->owner_name)) < 0)
            return rc;
        okey = strdup(okbuf);
        if (!okey)
            return -FH_ENOMEM;
    }
    if ((rc = keyset_init(ks, 2)) < 0)
        goto fail;
    if (ev_type == PROTO_EV_DELETED) {
        if (okey && (rc = keyset_add(ks, okey)) < 0)
            goto fail;
        if (b && b->owner_key && (rc = keyset_add(ks, b->owner_key)) < 0)
            goto fail;
        *flags = FH_IX_REMOVED;
        if (b) {
            list_drop_if_empty(ix, ix->owners, node_unlink(&b->node));
            ix->work++;
            strmap_del(ix->bundles, key, NULL);
            free_bundle(b);
        }
        free(okey);
        return 0;
    }
    if (okey && (rc = keyset_add(ks, okey)) < 0)
        goto fail;
    if (b && b->owner_key && (rc = keyset_add(ks, b->owner_key)) < 0)
        goto fail;
    if ((rc = proto_obj_copy(&copy, obj)) < 0)
        goto fail;
    have_copy = true;
    if (okey && !(b && fh_streq(b->owner_key, okey))) {
        bool existed = strmap_has(ix->owners, okey);

        newl = list_get(ix, ix->owners, okey, true, &rc);
        if (!newl)
            goto fail;
        list_made = !existed;
    }
    if (!b) {
        fresh = calloc(1, sizeof(*fresh));
        if (!fresh) {
            rc = -FH_ENOMEM;
            goto fail;
        }
        ix->work++;
        if ((rc = strmap_put(ix->bundles, key, fresh, NULL)) < 0)
            goto fail;
    }
    /* commit */
    *flags = bundle_flags(b, obj);
    if (!b)
        b = fresh;
    if (!fh_streq(b->owner_key, okey)) {
        oldl = node_unlink(&b->node);
        if (newl)
            node_link(newl, &b->node);
        list_drop_if_empty(ix, ix->owners, oldl);
    }
    proto_obj_clear(&b->obj);
    b->obj = copy;
    free(b->owner_key);
    b->owner_key = okey;
    return 0;
fail:
    if (list_made)
        list_drop_if_empty(ix, ix->owners, newl);
    free(fresh);
    if (have_copy)
        proto_obj_clear(&copy);
    free(okey);
    return rc;
}

/* ---- public entry points ------------------------------------------------------ */

/* fh_index_apply_ex - dispatch one event */
int
fh_index_apply_ex(struct fh_index *ix, uint8_t ev_type, const struct proto_obj *obj,
                  char ***keys, size_t *n, struct fh_index_change *change)
{
    char key[FH_INDEX_KEY_MAX];
    struct keyset ks = { NULL, 0, 0 };
    unsigned flags = 0;
    int rc;

    if (keys)
        *keys = NULL;
    if (n)
        *n = 0;
    if (change)
        change->flags = 0;
    if (!ix || !obj || !keys || !n)
        return -FH_EINVAL;
    if (ev_type != PROTO_EV_ADDED && ev_type != PROTO_EV_MODIFIED && ev_type != PROTO_EV_DELETED)
        return -FH_EINVAL;
    if ((rc = make_key(key, sizeof(key), obj->ns, obj->name)) < 0)
        return rc;
    switch (obj->res) {
    case PROTO_RES_FH:
        rc = apply_fh(ix, ev_type, obj, key, &ks, &flags);
        break;
    case PROTO_RES_SECRET:
        rc = apply_secret(ix, ev_type, obj, key, &ks, &flags);
        break;
    case PROTO_RES_BUNDLE:
        rc = apply_bundle(ix, ev_type, obj, key, &ks, &flags);
        break;
    default:
        rc = -FH_EINVAL;
        break;
    }
    if (rc < 0) {
        fh_index_keys_free(ks.v, ks.n);
        return rc;
    }
    keyset_out(&ks, keys, n);
    if (change)
        change->flags = flags;
    return 0;
}

/* fh_index_apply - without the change report */
int
fh_index_apply(struct fh_index *ix, uint8_t ev_type, const struct proto_obj *obj,
               char ***keys, size_t *n)
{
    return fh_index_apply_ex(ix, ev_type, obj, keys, n, NULL);
}

/* fh_index_keys - all FleetHandshake keys */
int
fh_index_keys(const struct fh_index *ix, char ***keys, size_t *n)
{
    return fh_index_keys_res(ix, PROTO_RES_FH, keys, n);
}

/* fh_index_keys_res - all cached keys of one resource */
int
fh_index_keys_res(const struct fh_index *ix, uint8_t res, char ***keys, size_t *n)
{
    const struct strmap *map;
    struct keyset ks;
    size_t it = 0;
    const char *k;
    int rc;

    *keys = NULL;
    *n = 0;
    if (!ix)
        return -FH_EINVAL;
    switch (res) {
    case PROTO_RES_FH: map = ix->fhs; break;
    case PROTO_RES_SECRET: map = ix->secrets; break;
    case PROTO_RES_BUNDLE: map = ix->bundles; break;
    default: return -FH_EINVAL;
    }
    if ((rc = keyset_init(&ks, strmap_len(map))) < 0)
        return rc;
    while (strmap_next(map, &it, &k, NULL)) {
        char *c = strdup(k);

        if (!c) {
            fh_index_keys_free(ks.v, ks.n);
            return -FH_ENOMEM;
        }
        ks.v[ks.n++] = c;                 /* map keys are unique: no dedup */
    }
    keyset_out(&ks, keys, n);
    return 0;
}

/* fh_index_get_fh - cached FleetHandshake */
const struct proto_obj *
fh_index_get_fh(const struct fh_index *ix, const char *key)
{
    const struct fh_ent *e = ix ? strmap_get(ix->fhs, key) : NULL;

    return e ? &e->obj : NULL;
}

/* fh_index_get_secret - cached Secret metadata */
const struct proto_obj *
fh_index_get_secret(const struct fh_index *ix, const char *key)
{
    return ix ? strmap_get(ix->secrets, key) : NULL;
}

/* fh_index_get_bundle - cached Bundle metadata */
const struct proto_obj *
fh_index_get_bundle(const struct fh_index *ix, const char *key)
{
    const struct bundle_ent *b = ix ? strmap_get(ix->bundles, key) : NULL;

    return b ? &b->obj : NULL;
}

/* fh_index_secret_for_fh - Secret referenced by a cached FleetHandshake */
const struct proto_obj *
fh_index_secret_for_fh(const struct fh_index *ix, const char *fh_key)
{
    const struct fh_ent *e = ix ? strmap_get(ix->fhs, fh_key) : NULL;

    return (e && e->secret_key) ? strmap_get(ix->secrets, e->secret_key) : NULL;
}

/* fh_index_bundle_for_fh - Bundle owned by a FleetHandshake */
const struct proto_obj *
fh_index_bundle_for_fh(const struct fh_index *ix, const char *fh_key)
{
    const struct fh_ent *e;
    const struct ix_list *l;

    if (!ix || !fh_key)
        return NULL;
    e = strmap_get(ix->fhs, fh_key);
    l = strmap_get(ix->owners, fh_key);
    if (!l || !l->head)
        return NULL;
    if (e && e->obj.uid) {
        for (const struct ix_node *nd = l->head; nd; nd = nd->next) {
            const struct bundle_ent *b = BUNDLE_OF(nd);

            if (fh_streq(b->obj.owner_uid, e->obj.uid))
                return &b->obj;
        }
    }
    return &BUNDLE_OF(l->head)->obj;
}

/* fh_index_secret_users - FleetHandshakes referencing a Secret */
size_t
fh_index_secret_users(const struct fh_index *ix, const char *secret_key)
{
    const struct ix_list *l = ix ? strmap_get(ix->refs, secret_key) : NULL;

    return l ? l->n : 0;
}

/* fh_index_count - cache sizes */
size_t
fh_index_count(const struct fh_index *ix, uint8_t res)
{
    if (!ix)
        return 0;
    switch (res) {
    case PROTO_RES_FH:     return strmap_len(ix->fhs);
    case PROTO_RES_SECRET: return strmap_len(ix->secrets);
    case PROTO_RES_BUNDLE: return strmap_len(ix->bundles);
    default:               return 0;
    }
}

/* fh_index_work - step counter */
uint64_t
fh_index_work(const struct fh_index *ix)
{
    return ix ? ix->work : 0;
}
