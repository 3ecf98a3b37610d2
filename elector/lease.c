/*
 * lease.c - client-go's leader election (tryAcquireOrRenew, the acquire and
 * renew loops, release) over a coordination.k8s.io/v1 Lease, as pure logic:
 * the caller passes the time in and the apiserver is reached through
 * kube_request only, so unit tests script both. See include/lease.h.
 *
 * Owns the struct lease_elector: copies of its config strings, the Lease
 * object last read or written (its metadata and resourceVersion go into the
 * next PUT: optimistic concurrency), and the record last observed with the
 * local monotonic time it was first seen (observedTime).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "backoff.h"
#include "fh_err.h"
#include "fh_log.h"
#include "kube_client.h"
#include "lease.h"

struct lease_elector {
    char *ns, *name, *identity;     /* config copies */
    char *key;                      /* "ns/name" for logs */
    struct lease_timing timing;
    struct kube_client *kc;         /* borrowed */
    const struct fh_log *log;       /* borrowed */
    char *path;                     /* .../namespaces/NS/leases/NAME */
    char *collection;               /* .../namespaces/NS/leases */
    cJSON *obj;                     /* Lease last read or written, or NULL */
    struct lease_record observed;   /* record last observed */
    bool have_observed;             /* observed is filled */
    uint64_t observed_ms;           /* when observed was first seen (local monotonic) */
    bool leading;                   /* the last step left us leading */
    uint64_t renew_ok_ms;           /* last successful acquire/renew */
    uint64_t rng;                   /* PRNG state for the jitter (backoff.h) */
};

/* s_is_leader - the observed record names us (client-go IsLeader) */
static bool
s_is_leader(const struct lease_elector *e)
{
    return e->have_observed && e->observed.holder && strcmp(e->observed.holder, e->identity) == 0;
}

/* s_valid - the observed record has not expired by our own clock */
static bool
s_valid(const struct lease_elector *e, uint64_t now_ms)
{
    int64_t d = e->observed.duration_s;

    if (!e->have_observed || d <= 0)
        return false;
    return e->observed_ms + (uint64_t)d * 1000u > now_ms;
}

/* s_observe - remember r (moved into e) as seen at now_ms */
static void
s_observe(struct lease_elector *e, struct lease_record *r, uint64_t now_ms)
{
    lease_record_clear(&e->observed);
    e->observed = *r;
    memset(r, 0, sizeof(*r));
    e->have_observed = true;
    e->observed_ms = now_ms;
}

/* s_keep_obj - replace the Lease object with the one in a response body */
static void
s_keep_obj(struct lease_elector *e, const struct kube_response *resp)
{
    cJSON_Delete(e->obj);
    e->obj = resp->body ? cJSON_ParseWithLength(resp->body, resp->body_len) : NULL;
    if (e->obj && !cJSON_IsObject(e->obj)) {
        cJSON_Delete(e->obj);
        e->obj = NULL;
    }
}

/* s_fail - log why a request did not succeed; returns its error code */
static int
s_fail(struct lease_elector *e, const char *what, int rc, const struct kube_response *resp,
       enum fh_log_level lvl)
{
    char text[256];

    if (rc < 0 || resp->status == 0) {
        fh_log(e->log, lvl, e->key, "%s lease: %s", what, fh_strerror(rc < 0 ? rc : -FH_EIO));
        return rc < 0 ? rc : -FH_EIO;
    }
    kube_status_text(resp, text, sizeof(text));
    rc = kube_response_err(resp);
    if (rc == -FH_ECONFLICT || rc == -FH_EEXIST) {
        lvl = FH_LOG_DEBUG;         /* another candidate was quicker: expected */
    } else if (rc == -FH_EFORBIDDEN || rc == -FH_EUNAUTHORIZED) {
        /* Without this the replica stays a standby forever while looking
         * healthy: say it loudly, whatever the log level. */
        fh_log(e->log, FH_LOG_ERROR, e->key, "%s lease %s/%s: %s: %s; the operator's "
               "ServiceAccount needs get, create and update on leases "
               "(coordination.k8s.io) in namespace %s", what, e->ns, e->name,
               rc == -FH_EFORBIDDEN ? "forbidden" : "unauthorized (credentials rejected)",
               text, e->ns);
        return rc;
    } else if (lvl == FH_LOG_INFO) {
        lvl = FH_LOG_WARN;          /* a failed create or takeover is worth seeing (the
                                     * fast-path renew passes DEBUG: the full path follows) */
    }
    fh_log(e->log, lvl, e->key, "%s lease: %s", what, text);
    return rc;
}

/* s_write - POST (create) or PUT (update, with the kept object's
 * resourceVersion) the Lease carrying r; 0 or a negative code */
static int
s_write(struct lease_elector *e, bool create, const struct lease_record *r,
        enum fh_log_level fail_lvl)
{
    struct kube_response resp;
    char *body = NULL;
    int rc;

    memset(&resp, 0, sizeof(resp));
    if (!create && !e->obj)
        return -FH_EINVAL;                  /* nothing to take the resourceVersion from */
    rc = lease_body(create ? NULL : e->obj, e->ns, e->name, r, &body);
    if (rc < 0)
        return rc;
    rc = kube_request(e->kc, create ? "POST" : "PUT", create ? e->collection : e->path, NULL,
                      "application/json", body, strlen(body), &resp);
    free(body);
    if (rc == 0 && resp.status >= 200 && resp.status < 300) {
        s_keep_obj(e, &resp);
    } else {
        rc = s_fail(e, create ? "cannot create" : "cannot update", rc, &resp, fail_lvl);
        if (rc == -FH_ECONFLICT || rc == -FH_EEXIST)
            fh_log(e->log, FH_LOG_DEBUG, e->key, "another candidate wrote the lease first");
    }
    kube_response_clear(&resp);
    return rc;
}

/* s_get - GET the Lease into e->obj and *out; -FH_ENOTFOUND on 404 */
static int
s_get(struct lease_elector *e, struct lease_record *out)
{
    struct kube_response resp;
    int rc;

    memset(&resp, 0, sizeof(resp));
    rc = kube_request(e->kc, "GET", e->path, NULL, NULL, NULL, 0, &resp);
    if (rc == 0 && resp.status == 200) {
        s_keep_obj(e, &resp);
        rc = e->obj ? lease_record_from_json(e->obj, out) : -FH_EBADREPLY;
        if (rc == -FH_EBADREPLY)
            fh_log(e->log, FH_LOG_WARN, e->key, "cannot parse the lease the apiserver returned");
    } else if (rc == 0 && resp.status == 404) {
        rc = -FH_ENOTFOUND;
    } else {
        rc = s_fail(e, "cannot read", rc, &resp, FH_LOG_WARN);
    }
    kube_response_clear(&resp);
    return rc;
}

/* s_mine - the record we write now: us, our duration, acquire = renew = ts */
static struct lease_record
s_mine(const struct lease_elector *e, char *ts)
{
    struct lease_record r;

    memset(&r, 0, sizeof(r));
    r.holder = e->identity;
    r.duration_s = (int64_t)(e->timing.lease_ms / 1000u);
    r.acquire_time = ts;
    r.renew_time = ts;
    return r;
}

/* s_observe_copy - observe a copy of a record we just wrote */
static int
s_observe_copy(struct lease_elector *e, const struct lease_record *r, uint64_t now_ms)
{
    struct lease_record c;
    int rc = lease_record_copy(&c, r);

    if (rc == 0)
        s_observe(e, &c, now_ms);
    return rc;
}

/* lease_try_acquire_or_renew - one round of client-go's tryAcquireOrRenew */
int
lease_try_acquire_or_renew(struct lease_elector *e, uint64_t now_ms, int64_t wall_us, bool *held)
{
    char ts[LEASE_MICROTIME_CAP];
    struct lease_record mine, got;
    int rc;

    *held = false;
    if ((rc = lease_microtime(wall_us, ts, sizeof(ts))) < 0)
        return rc;
    mine = s_mine(e, ts);

    /* 1. fast path: renew what we observed last, no GET */
    if (s_is_leader(e) && s_valid(e, now_ms)) {
        mine.acquire_time = e->observed.acquire_time;
        mine.transitions = e->observed.transitions;
        rc = s_write(e, false, &mine, FH_LOG_DEBUG);
        if (rc == 0) {
            *held = true;
            return s_observe_copy(e, &mine, now_ms);
        }
        if (rc == -FH_ENOMEM)
            return rc;
        if (rc == -FH_EIO || rc == -FH_ETIMEDOUT)
            return 0;       /* apiserver unreachable: no point in two more requests now */
        mine.acquire_time = ts;
        mine.transitions = 0;
    }

    /* 2. read the Lease, create it if missing */
    memset(&got, 0, sizeof(got));
    rc = s_get(e, &got);
    if (rc == -FH_ENOTFOUND) {
        rc = s_write(e, true, &mine, FH_LOG_INFO);
        if (rc == 0) {
            *held = true;
            return s_observe_copy(e, &mine, now_ms);
        }
        return rc == -FH_ENOMEM ? rc : 0;
    }
    if (rc < 0)
        return rc == -FH_ENOMEM ? rc : 0;

    /* 3. a changed record restarts its expiry clock (observedTime) */
    if (!e->have_observed || !lease_record_equal(&e->observed, &got))
        s_observe(e, &got, now_ms);
    else
        lease_record_clear(&got);

    /* 4. someone else holds a valid lease */
    if (e->observed.holder[0] && s_valid(e, now_ms) && !s_is_leader(e))
        return 0;

    /* 5. take it over (or renew what we already hold) */
    if (s_is_leader(e)) {
        mine.acquire_time = e->observed.acquire_time;
        mine.transitions = e->observed.transitions;
    } else {
        mine.transitions = e->observed.transitions + 1;
    }
    rc = s_write(e, false, &mine, FH_LOG_INFO);
    if (rc < 0)
        return rc == -FH_ENOMEM ? rc : 0;
    *held = true;
    return s_observe_copy(e, &mine, now_ms);
}

/* s_jitter - client-go wait.Jitter(d, 1.2): d + rand[0, 1.2 x d] */
static uint64_t
s_jitter(struct lease_elector *e, uint64_t d)
{
    uint64_t span = d / 10u * LEASE_JITTER_TENTHS + d % 10u * LEASE_JITTER_TENTHS / 10u;

    return d + backoff_rng_range(&e->rng, 0, span > UINT32_MAX ? UINT32_MAX : (uint32_t)span);
}

/* lease_step - one round plus the acquire/renew loop bookkeeping */
int
lease_step(struct lease_elector *e, uint64_t now_ms, int64_t wall_us, struct lease_status *st)
{
    bool was = e->leading, held = false;
    int rc = lease_try_acquire_or_renew(e, now_ms, wall_us, &held);

    memset(st, 0, sizeof(*st));
    if (rc < 0 && rc != -FH_ENOMEM)
        rc = 0;                             /* bad clock input: just not held this round */
    if (held) {
        e->leading = true;
        e->renew_ok_ms = now_ms;
        st->next_ms = now_ms + e->timing.retry_ms;
        if (!was)
            fh_log(e->log, FH_LOG_INFO, e->key, "acquired lease as %s (transitions %lld)",
                   e->identity, (long long)e->observed.transitions);
    } else if (was) {
        bool taken = e->have_observed && e->observed.holder[0] && !s_is_leader(e) &&
                     s_valid(e, now_ms);

        if (taken || now_ms - e->renew_ok_ms >= e->timing.renew_ms) {
            e->leading = false;
            st->lost = true;
            if (taken)
                fh_log(e->log, FH_LOG_WARN, e->key, "lease taken over by %s: leadership lost",
                       e->observed.holder);
            else
                fh_log(e->log, FH_LOG_WARN, e->key, "no successful renew for %llu ms (renew "
                       "deadline): leadership lost", (unsigned long long)(now_ms - e->renew_ok_ms));
        }
        st->next_ms = now_ms + e->timing.retry_ms;
    } else {
        st->next_ms = now_ms + s_jitter(e, e->timing.retry_ms);
    }
    st->leading = e->leading;
    st->holder = e->have_observed ? e->observed.holder : NULL;
    return rc;
}

/* lease_leading - see header */
bool
lease_leading(const struct lease_elector *e)
{
    return e && e->leading;
}

/* lease_release - hand the Lease back so a standby need not wait for expiry */
int
lease_release(struct lease_elector *e, uint64_t now_ms, int64_t wall_us)
{
    char ts[LEASE_MICROTIME_CAP];
    struct lease_record r;
    int rc;

    if (!e->leading)
        return 0;
    e->leading = false;
    if ((rc = lease_microtime(wall_us, ts, sizeof(ts))) < 0)
        return rc;
    memset(&r, 0, sizeof(r));
    r.holder = "";
    r.duration_s = 1;
    r.acquire_time = ts;
    r.renew_time = ts;
    r.transitions = e->observed.transitions;
    rc = s_write(e, false, &r, FH_LOG_WARN);
    if (rc < 0)
        return rc;
    fh_log(e->log, FH_LOG_INFO, e->key, "released lease");
    return s_observe_copy(e, &r, now_ms);
}

/* s_init - copy the config strings and build the paths */
static int
s_init(struct lease_elector *e, const struct lease_config *cfg)
{
    char *ens = kube_path_escape(cfg->ns), *ename = kube_path_escape(cfg->name);
    size_t n;
    int rc = -FH_ENOMEM;

    e->ns = strdup(cfg->ns);
    e->name = strdup(cfg->name);
    e->identity = strdup(cfg->identity);
    if (!ens || !ename || !e->ns || !e->name || !e->identity)
        goto out;
    n = strlen(ens) + strlen(ename) + 64;
    e->collection = malloc(n);
    e->path = malloc(n);
    e->key = malloc(strlen(cfg->ns) + strlen(cfg->name) + 2);
    if (!e->collection || !e->path || !e->key)
        goto out;
    snprintf(e->collection, n, "/apis/coordination.k8s.io/v1/namespaces/%s/leases", ens);
    snprintf(e->path, n, "%s/%s", e->collection, ename);
    sprintf(e->key, "%s/%s", cfg->ns, cfg->name);
    rc = 0;
out:
    free(ens);
    free(ename);
    return rc;
}

/* lease_elector_new - see header */
int
lease_elector_new(const struct lease_config *cfg, struct kube_client *kc,
                  const struct fh_log *log, uint64_t seed, struct lease_elector **out)
{
    struct lease_elector *e;
    int rc;

    if (!out)
        return -FH_EINVAL;
    *out = NULL;
    if (!cfg || !cfg->ns || !cfg->ns[0] || !cfg->name || !cfg->name[0] || !cfg->identity ||
        !cfg->identity[0] || strlen(cfg->identity) > LEASE_IDENTITY_MAX ||
        lease_timing_check(&cfg->timing, NULL, 0) < 0)
        return -FH_EINVAL;
    e = calloc(1, sizeof(*e));
    if (!e)
        return -FH_ENOMEM;
    e->timing = cfg->timing;
    e->kc = kc;
    e->log = log;
    backoff_rng_seed(&e->rng, seed);
    rc = s_init(e, cfg);
    if (rc < 0) {
        lease_elector_free(&e);
        return rc;
    }
    *out = e;
    return 0;
}

/* lease_elector_free - see header */
void
lease_elector_free(struct lease_elector **ep)
{
    struct lease_elector *e;

    if (!ep || !*ep)
        return;
    e = *ep;
    free(e->ns);
    free(e->name);
    free(e->identity);
    free(e->key);
    free(e->path);
    free(e->collection);
    cJSON_Delete(e->obj);
    lease_record_clear(&e->observed);
    free(e);
    *ep = NULL;
}
