/*
 * kube_store.h - a reflector's memory of what the apiserver has: key
 * namespace/name -> uid and resourceVersion. Used to turn a (re)list into
 * ADDED/MODIFIED/DELETED deltas. It holds metadata only, never bodies.
 *
 * Open addressing with linear probing; the table doubles at 50 % load.
 * Every entry carries the mark (generation) of the last list that saw it;
 * kube_store_sweep() reports and drops the entries a list did not see.
 *
 * Ownership: the store owns copies of all strings; entries returned by
 * kube_store_find() are borrowed until the next modifying call.
 */
#ifndef KUBE_STORE_H
#define KUBE_STORE_H

#include <stddef.h>

struct kube_store;

struct kube_store_entry {
    char *ns;       /* "" for cluster-scoped objects */
    char *name;
    char *uid;      /* "" if unknown */
    char *rv;       /* "" if unknown */
    unsigned mark;  /* list generation that last saw this entry */
};

/* kube_store_new - empty store; NULL on allocation failure */
struct kube_store *kube_store_new(void);

/* kube_store_free - free everything, set *s = NULL; idempotent */
void kube_store_free(struct kube_store **s);

/* kube_store_len - number of entries */
size_t kube_store_len(const struct kube_store *s);

/* kube_store_find - the entry for ns/name or NULL (borrowed) */
struct kube_store_entry *kube_store_find(struct kube_store *s, const char *ns,
                                         const char *name);

/* kube_store_put - insert or update ns/name with uid, rv and mark */
int kube_store_put(struct kube_store *s, const char *ns, const char *name,
                   const char *uid, const char *rv, unsigned mark);

/* kube_store_remove - drop ns/name if present */
void kube_store_remove(struct kube_store *s, const char *ns, const char *name);

/* kube_store_sweep - call gone(arg, e) for every entry whose mark differs
 * from mark, then remove those entries. e is valid during the call only. */
void kube_store_sweep(struct kube_store *s, unsigned mark,
                      void (*gone)(void *arg, const struct kube_store_entry *e),
                      void *arg);

#endif
