/*
 * kube_reflector.h - the interface between kube_loop and one reflector
 * (internal to kube/; users see kube_watch.h).
 *
 * The loop owns the curl multi handle, the token source and the target;
 * it lends them to each reflector through struct kube_reflector_env. A
 * reflector owns one curl easy handle, which it adds to the multi handle
 * when a request starts; the loop removes it when curl reports the
 * transfer done and then calls kube_reflector_done().
 *
 * Ownership: kube_reflector_new() copies env, spec strings and cb;
 * kube_reflector_free() releases everything the reflector owns.
 */
#ifndef KUBE_REFLECTOR_H
#define KUBE_REFLECTOR_H

#include <stdbool.h>
#include <stddef.h>

#include <curl/curl.h>

#include "kube_watch.h"

struct fh_log;
struct kube_config;
struct kube_target;
struct kube_token;
struct kube_reflector;

struct kube_reflector_env {
    const struct kube_config *cfg;
    const struct kube_target *target;
    struct kube_token *tok;         /* shared by all reflectors of a loop */
    const struct fh_log *log;
    CURLM *multi;
    const char *user_agent;
    long connect_timeout_ms;
    long request_timeout_ms;        /* per list page */
    size_t max_body;                /* per list page */
};

/* kube_reflector_new - NULL on failure (logged); does not start anything */
struct kube_reflector *kube_reflector_new(const struct kube_reflector_env *env,
                                          const struct kube_reflector_spec *spec,
                                          const struct kube_reflector_cb *cb);

/* kube_reflector_free - take the handle out of the multi if a transfer is
 * running, free everything, set *r = NULL; idempotent */
void kube_reflector_free(struct kube_reflector **r);

/* kube_reflector_due - monotonic ms at which the next request should start,
 * or -1 while a request is in flight */
long kube_reflector_due(const struct kube_reflector *r);

/* kube_reflector_start - start the next request now (list page or watch).
 * On a local failure (e.g. ENOMEM) it schedules a backoff and returns the
 * error; the reflector stays usable. */
int kube_reflector_start(struct kube_reflector *r, long now_ms);

/* kube_reflector_done - the transfer finished with rc (the loop already
 * removed the easy handle from the multi handle) */
void kube_reflector_done(struct kube_reflector *r, CURLcode rc, long now_ms);

/* kube_reflector_synced - the first list has completed */
bool kube_reflector_synced(const struct kube_reflector *r);

#endif
