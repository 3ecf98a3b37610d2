/*
 * reconcile.h - reconcile one FleetHandshake: keep its Bundle in step with
 * its Secret and report the outcome in its status and in a proto_result.
 *
 * API-call budget (part of the contract):
 *   first sync            1 Secret GET + 1 Bundle POST + 1 status PATCH
 *   nothing changed       0 calls (Bundle metadata built-from annotation and
 *                         the status already say everything)
 *   Secret changed        1 Secret GET + 1 Bundle PATCH + 1 status PATCH
 *   Secret missing        1 status PATCH (none if the status already says so)
 * Extra reads happen only to settle a doubt: a Bundle whose metadata does not
 * name this FleetHandshake as controller is read once to classify it;
 * verify_bundle reads it to compare the owned fields; conflicts re-read it.
 *
 * Outcomes: DONE (converged, or nothing to do), RETRY (transient, throttled,
 * forbidden, conflict, or a Bundle that is not ours - the supervisor looks
 * again now and then, because only our own Bundles are watched;
 * retry_after_ms from Retry-After on a 429 or 5xx), FAILED (invalid spec, a
 * Secret outside the watched namespaces, or the apiserver rejecting the
 * Bundle: permanent until an input changes; the status says why).
 *
 * Deleting (the FleetHandshake is gone or terminating): nothing with the
 * orphan policy; else 1 Bundle GET + 1 DELETE with uid and resourceVersion
 * preconditions, only when the live Bundle is still controlled by it.
 *
 * Secret data lives only inside reconcile_task and is wiped before it
 * returns: the Secret as read, the desired Bundle, and every request and
 * response body that held it. Nothing derived from it reaches the status,
 * the result or the log.
 */
#ifndef RECONCILE_H
#define RECONCILE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct fh_log;
struct kube_client;
struct proto_result;
struct proto_task;

/*
 * reconcile_task - run one task. res is overwritten (not freed first); on
 * return 0 it is filled: ns, name and message are heap strings, fh_rv and
 * bundle_rv heap strings or NULL, all released with proto_msg_clear() of the
 * enclosing message (plain free()). now_wall_s is the wall clock in seconds
 * (status timestamps). Returns 0 whenever an outcome was decided (including
 * RETRY and FAILED), or a negative FH_E* code (-FH_ENOMEM, -FH_EINVAL) when
 * no result could be produced; res then holds nothing to free.
 */
int reconcile_task(struct kube_client *kc, const struct proto_task *task,
                   const struct fh_log *log, uint64_t now_wall_s,
                   struct proto_result *res);

/* What a worker tells every reconcile about itself. */
struct reconcile_opts {
    const char *const *namespaces;  /* watched namespaces (borrowed); nns 0 = all */
    size_t nns;
    bool *crd_warned;               /* set once the outdated-CRD warning was logged
                                     * (the worker's, so it is logged once per process);
                                     * NULL = log every time */
};

/*
 * reconcile_task_ex - reconcile_task with opts (NULL = all namespaces):
 * a FleetHandshake whose Secret lies outside opts->namespaces gets
 * Ready=False SecretNamespaceNotWatched and no other call (the watcher would
 * never report that Secret's changes). A status reply that lacks the
 * conditions just written means the apiserver prunes them: the installed CRD
 * is an older one (e.g. the original operator's); that is logged as a
 * warning once per *opts->crd_warned.
 */
int reconcile_task_ex(struct kube_client *kc, const struct proto_task *task,
                      const struct fh_log *log, uint64_t now_wall_s,
                      const struct reconcile_opts *opts, struct proto_result *res);

#endif
