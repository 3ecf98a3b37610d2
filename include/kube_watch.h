/*
 * kube_watch.h - list+watch of several apiserver collections from one
 * thread that blocks only in zmq_poll().
 *
 * Three layers:
 *   kube_lines      splits a byte stream into newline-terminated lines;
 *   kube_reflector  one collection's list -> watch -> relist state machine
 *                   (modelled on client-go's reflector), with its own store
 *                   of namespace/name -> uid, resourceVersion so that every
 *                   (re)list is delivered as ADDED / MODIFIED / DELETED deltas;
 *   kube_loop       one curl multi handle shared by all reflectors, whose
 *                   sockets and timer are exposed as zmq_pollitem_t so the
 *                   caller can poll them together with its ZeroMQ sockets.
 *
 * Typical use:
 *     loop = kube_loop_new(cfg, NULL, log);
 *     kube_loop_add(loop, &spec, &cb);           (one per collection)
 *     for (;;) {
 *         zmq_pollitem_t items[32] = { { zsock, 0, ZMQ_POLLIN, 0 } };
 *         long timeout = 1000;
 *         int n = kube_loop_pollitems(loop, items + 1, 31, &timeout);
 *         zmq_poll(items, n + 1, timeout);
 *         kube_loop_dispatch(loop, items + 1, n);
 *         ... handle items[0] ...
 *     }
 *
 * Reflector behaviour: LIST without resourceVersion (a consistent read),
 * paged with limit/continue; a 410 on a continue page restarts the list
 * from scratch; a page over the body cap (max_body_bytes) is retried at once
 * with half the limit, down to 10, then reported through on_error (naming
 * the collection) and retried with backoff; the limit returns to page_size
 * after the next complete list -> on_event per delta -> on_synced -> WATCH
 * from the list's resourceVersion with allowWatchBookmarks=true&
 * timeoutSeconds=N. Events update the store and are passed on; BOOKMARK
 * only advances the resourceVersion; a clean end of the watch re-watches
 * from the last one (a bookmark's included).
 * An ERROR event with code 410 (or an HTTP 410 answer to the watch) relists
 * unpaged at the last resourceVersion, and from scratch (paged) if that
 * list is 410 too or over the body cap. Transport errors, 429 (Retry-After honoured), 5xx, other ERROR
 * events, watches that end within 1 s without any event and unparsable
 * lines (the latter followed by a fresh relist) back off exponentially with
 * jitter, 800 ms -> 30 s by default, reset after a healthy watch. A 401
 * re-reads a token file and retries at once if the token changed. A watch
 * that receives no byte for 90 s is reconnected (CURLOPT_LOW_SPEED_*).
 * A reflector never gives up. Every relist is delivered like client-go's
 * Replace: objects the new list lacks are reported DELETED (with the last
 * state seen) after the list's last page, and an object whose uid changed
 * under the same name is reported DELETED (old) then ADDED (new).
 * metadata_only asks for PartialObjectMetadata without a fallback media
 * type, so a server that cannot serve it fails (406) instead of sending
 * whole objects (e.g. Secret data).
 *
 * Ownership: the loop borrows cfg and log (they must outlive it) and copies
 * opts and every spec string. Objects passed to callbacks are borrowed and
 * valid during the call only. Callbacks run inside kube_loop_dispatch() /
 * kube_loop_add(); they must not call kube_loop_add() or kube_loop_free().
 */
#ifndef KUBE_WATCH_H
#define KUBE_WATCH_H

#include <stdbool.h>
#include <stddef.h>

#include <zmq.h>

struct cJSON;
struct fh_log;
struct kube_config;
struct kube_client_opts;

/* ---- kube_lines: newline-delimited JSON from arbitrary chunks ---------- */

#define KUBE_LINES_DEFAULT_MAX (16u * 1024u * 1024u)

struct kube_lines;

/* kube_line_fn - one complete line (without '\n' and a trailing '\r'; never
 * empty; NOT NUL-terminated). Return 0 to go on, a negative code to stop
 * kube_lines_feed(), which then returns that code. */
typedef int (*kube_line_fn)(const char *line, size_t len, void *arg);

/* kube_lines_new - max_line 0 = KUBE_LINES_DEFAULT_MAX; NULL on ENOMEM */
struct kube_lines *kube_lines_new(size_t max_line);

/* kube_lines_free - wipe the remainder, free, set *l = NULL; idempotent */
void kube_lines_free(struct kube_lines **l);

/* kube_lines_feed - consume len bytes: cb for each line completed, the rest
 * is carried to the next call. Empty lines are skipped. A line longer than
 * max_line -> -FH_ETOOBIG (the remainder is dropped). */
int kube_lines_feed(struct kube_lines *l, const char *data, size_t len,
                    kube_line_fn cb, void *arg);

/* kube_lines_finish - end of stream: deliver an unterminated remainder as a
 * last line (if not empty) and reset */
int kube_lines_finish(struct kube_lines *l, kube_line_fn cb, void *arg);

/* kube_lines_reset - drop (and wipe) any remainder */
void kube_lines_reset(struct kube_lines *l);

/* kube_lines_pending - bytes carried over, waiting for their newline */
size_t kube_lines_pending(const struct kube_lines *l);

/* ---- reflector --------------------------------------------------------- */

enum kube_event_type {
    KUBE_EVENT_ADDED = 1,
    KUBE_EVENT_MODIFIED,
    KUBE_EVENT_DELETED,
};

struct kube_reflector_cb {
    /* obj is borrowed, valid during the call only. For DELETED deltas found
     * by a relist it is a minimal object: {"metadata":{name, namespace (if
     * any), uid, resourceVersion}} with the last values the reflector saw. */
    void (*on_event)(void *arg, enum kube_event_type type, const struct cJSON *obj);
    /* after every complete (re)list was delivered */
    void (*on_synced)(void *arg);
    /* for logs/metrics; the reflector recovers by itself. May be NULL. */
    void (*on_error)(void *arg, int err, const char *what);
    void *arg;
};

struct kube_reflector_spec {
    const char *path;            /* collection path, e.g. "/api/v1/secrets" or
                                  * "/apis/g/v/namespaces/ns/plural" (no query) */
    const char *label_selector;  /* NULL = none (unencoded; the reflector escapes it) */
    bool metadata_only;          /* ask for PartialObjectMetadata(List) */
    int page_size;               /* list limit, 0 = 500 */
    long watch_timeout_s;        /* 0 = random in [300,600) per watch, like client-go */
    long backoff_initial_ms;     /* 0 = 800 */
    long backoff_max_ms;         /* 0 = 30000 */
};

/* ---- loop -------------------------------------------------------------- */

struct kube_loop;

/* kube_loop_new - NULL on failure (logged). opts may be NULL (defaults as in
 * kube_client.h; request_timeout_ms bounds each list page, max_body_bytes
 * each list page's body). */
struct kube_loop *kube_loop_new(const struct kube_config *cfg,
                                const struct kube_client_opts *opts,
                                const struct fh_log *log);

/* kube_loop_free - abort transfers, free everything, set *l = NULL; idempotent */
void kube_loop_free(struct kube_loop **l);

/* kube_loop_add - add a reflector; it starts listing at once. spec strings
 * are copied, cb is copied (cb->arg borrowed). 0 or a negative FH_E* code. */
int kube_loop_add(struct kube_loop *l, const struct kube_reflector_spec *spec,
                  const struct kube_reflector_cb *cb);

/* kube_loop_pollitems - write curl's sockets as {.socket = NULL, .fd = ...}
 * items (at most max_items); returns how many, or -FH_ETOOBIG if they do not
 * fit (2 per reflector plus a few is plenty). Lowers *timeout_ms (zmq_poll
 * convention, -1 = infinite) to when curl's timer or a backoff expires. */
int kube_loop_pollitems(struct kube_loop *l, zmq_pollitem_t *items, int max_items,
                        long *timeout_ms);

/* kube_loop_dispatch - after zmq_poll: drive curl for ready fds among items
 * (items with .socket != NULL or unknown fds are ignored) and expired
 * timers, finish completed transfers and start due requests; runs the
 * callbacks. 0 or a negative FH_E* code on a fatal curl failure. */
int kube_loop_dispatch(struct kube_loop *l, const zmq_pollitem_t *items, int n);

/* kube_loop_synced - every reflector has completed its first list */
bool kube_loop_synced(const struct kube_loop *l);

#endif
