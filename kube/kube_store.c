/*
 * kube_store.c - a reflector's key -> (uid, resourceVersion) table, used to
 * compute relist deltas. Open addressing with linear probing and
 * backward-shift deletion (no tombstones). Owns all entry strings.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "fh_err.h"
#include "kube_store.h"

#define STORE_MIN_CAP 64

struct kube_store {
    struct kube_store_entry *slots;     /* name == NULL marks an empty slot */
    size_t cap;                         /* power of two */
    size_t len;
};

/* hash_key - FNV-1a over namespace, a separator and name */
static uint64_t
hash_key(const char *ns, const char *name)
{
    uint64_t h = 1469598103934665603ULL;

    for (const unsigned char *p = (const unsigned char *)ns; *p; p++)
        h = (h ^ *p) * 1099511628211ULL;
    h = (h ^ '/') * 1099511628211ULL;
    for (const unsigned char *p = (const unsigned char *)name; *p; p++)
        h = (h ^ *p) * 1099511628211ULL;
    return h;
}

/* kube_store_new - empty table */
struct kube_store *
kube_store_new(void)
{
    struct kube_store *s = calloc(1, sizeof(*s));

    if (!s)
        return NULL;
    s->slots = calloc(STORE_MIN_CAP, sizeof(*s->slots));
    if (!s->slots) {
        free(s);
        return NULL;
    }
    s->cap = STORE_MIN_CAP;
    return s;
}

/* entry_free - free one entry's strings */
static void
entry_free(struct kube_store_entry *e)
{
    free(e->ns);
    free(e->name);
    free(e->uid);
    free(e->rv);
    memset(e, 0, sizeof(*e));
}

/* kube_store_free - free all */
void
kube_store_free(struct kube_store **sp)
{
    struct kube_store *s;

    if (!sp || !*sp)
        return;
    s = *sp;
    for (size_t i = 0; i < s->cap; i++)
        if (s->slots[i].name)
            entry_free(&s->slots[i]);
    free(s->slots);
    free(s);
    *sp = NULL;
}

/* kube_store_len - entries */
size_t
kube_store_len(const struct kube_store *s)
{
    return s->len;
}

/* slot_of - index holding ns/name, or the empty slot where it would go */
static size_t
slot_of(const struct kube_store *s, const char *ns, const char *name)
{
    size_t i = (size_t)hash_key(ns, name) & (s->cap - 1);

    while (s->slots[i].name &&
           (strcmp(s->slots[i].name, name) != 0 || strcmp(s->slots[i].ns, ns) != 0))
        i = (i + 1) & (s->cap - 1);
    return i;
}

/* grow - rehash into twice the slots */
static int
grow(struct kube_store *s)
{
    struct kube_store_entry *old = s->slots;
    size_t oldcap = s->cap;

    s->slots = calloc(oldcap * 2, sizeof(*s->slots));
    if (!s->slots) {
        s->slots = old;
        return -FH_ENOMEM;
    }
    s->cap = oldcap * 2;
    for (size_t i = 0; i < oldcap; i++)
        if (old[i].name)
            s->slots[slot_of(s, old[i].ns, old[i].name)] = old[i];
    free(old);
    return 0;
}

/* kube_store_find - lookup */
struct kube_store_entry *
kube_store_find(struct kube_store *s, const char *ns, const char *name)
{
    size_t i = slot_of(s, ns ? ns : "", name);

    return s->slots[i].name ? &s->slots[i] : NULL;
}

/* replace_str - swap in a copy of v */
static int
replace_str(char **dst, const char *v)
{
    char *n;

    if (*dst && strcmp(*dst, v) == 0)
        return 0;
    n = strdup(v);
    if (!n)
        return -FH_ENOMEM;
    free(*dst);
    *dst = n;
    return 0;
}

/* kube_store_put - insert or update */
int
kube_store_put(struct kube_store *s, const char *ns, const char *name, const char *uid,
               const char *rv, unsigned mark)
{
    struct kube_store_entry *e;
    size_t i;

    ns = ns ? ns : "";
    uid = uid ? uid : "";
    rv = rv ? rv : "";
    if ((s->len + 1) * 2 > s->cap && grow(s) < 0)
        return -FH_ENOMEM;
    i = slot_of(s, ns, name);
    e = &s->slots[i];
    if (!e->name) {
        struct kube_store_entry n = { strdup(ns), strdup(name), strdup(uid), strdup(rv), mark };

        if (!n.ns || !n.name || !n.uid || !n.rv) {
            entry_free(&n);
            return -FH_ENOMEM;
        }
        *e = n;
        s->len++;
        return 0;
    }
    if (replace_str(&e->uid, uid) < 0 || replace_str(&e->rv, rv) < 0)
        return -FH_ENOMEM;
    e->mark = mark;
    return 0;
}

/* remove_at - backward-shift deletion keeps every probe chain unbroken */
static void
remove_at(struct kube_store *s, size_t i)
{
    size_t mask = s->cap - 1, j = i;

    entry_free(&s->slots[i]);
    s->len--;
    for (;;) {
        size_t home;

        j = (j + 1) & mask;
        if (!s->slots[j].name)
            break;
        home = (size_t)hash_key(s->slots[j].ns, s->slots[j].name) & mask;
        /* move j back to i unless its home lies cyclically in (i, j] */
        if ((j > i && (home <= i || home > j)) || (j < i && (home <= i && home > j))) {
            s->slots[i] = s->slots[j];
            memset(&s->slots[j], 0, sizeof(s->slots[j]));
            i = j;
        }
    }
}

/* kube_store_remove - delete one */
void
kube_store_remove(struct kube_store *s, const char *ns, const char *name)
{
    size_t i = slot_of(s, ns ? ns : "", name);

    if (s->slots[i].name)
        remove_at(s, i);
}

/* kube_store_sweep - report, then remove, entries a list did not mark.
 * Reporting first and removing in a second pass keeps the iteration simple:
 * backward shifts could otherwise move an unvisited entry behind the cursor. */
void
kube_store_sweep(struct kube_store *s, unsigned mark,
                 void (*gone)(void *arg, const struct kube_store_entry *e), void *arg)
{
    size_t i = 0, stale = 0;

    for (i = 0; i < s->cap; i++) {
        if (s->slots[i].name && s->slots[i].mark != mark) {
            gone(arg, &s->slots[i]);
            stale++;
        }
    }
    for (i = 0; stale > 0 && i < s->cap;) {
        if (s->slots[i].name && s->slots[i].mark != mark) {
            remove_at(s, i);
            stale--;
            continue;   /* slot i may now hold a shifted entry */
        }
        i++;
    }
}
