/*
 * kube_token.c - bearer token source: a static token, a token file that is
 * re-read when it changes on disk or after a 401, or an exec credential
 * plugin run again shortly before its token expires or after a 401. Owns
 * the cached file/plugin token (wiped when replaced or cleared).
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <stdio.h>
#include <sys/stat.h>
#include <time.h>

#include "fh_err.h"
#include "fh_time.h"
#include "kube_config.h"
#include "kube_exec.h"
#include "kube_token.h"
#include "kube_util.h"
#include "secret_mem.h"

/* read_token - read and trim the file; an empty token is an error */
static int
read_token(const char *file, char **out)
{
    size_t len;
    int rc;

    rc = kube_read_file(file, KUBE_TOKEN_MAX, out, &len);
    if (rc < 0)
        return rc;
    if (kube_trim(*out) == 0) {
        secret_free(out, len + 1);
        return -FH_ECONFIG;
    }
    /* a newline inside would let the token inject another header */
    if (strpbrk(*out, "\r\n")) {
        secret_free(out, len + 1);
        return -FH_ECONFIG;
    }
    return 0;
}

/* refresh_exec - run the plugin unless the cached token is still good */
static int
refresh_exec(struct kube_token *t, bool force, bool *changed)
{
    char *fresh = NULL;
    int64_t expiry = 0;
    int rc;

    if (!force && t->cached &&
        (t->expiry == 0 || (int64_t)time(NULL) + KUBE_TOKEN_EXPIRY_SLACK_S < t->expiry))
        return 0;
    if (!force && fh_now_ms() < t->next_try_ms)
        return -FH_EAGAIN;          /* failed recently; t->err still says why */
    rc = kube_exec_token(t->exec, t->exec_info, t->exec_timeout_ms, &fresh, &expiry,
                         t->err, sizeof(t->err));
    if (rc < 0) {
        t->next_try_ms = fh_now_ms() + KUBE_TOKEN_EXEC_RETRY_MS;
        return rc;
    }
    if (changed)
        *changed = !t->cached || strcmp(t->cached, fresh) != 0;
    secret_free(&t->cached, 0);
    t->cached = fresh;
    t->expiry = expiry;
    t->err[0] = '\0';
    return 0;
}

/* kube_token_init - borrow the config, prime the cache */
int
kube_token_init(struct kube_token *t, const struct kube_config *cfg)
{
    int rc;

    memset(t, 0, sizeof(*t));
    if (cfg->exec) {
        t->exec = cfg->exec;
        t->exec_timeout_ms = KUBE_EXEC_TIMEOUT_MS;
        if ((rc = kube_exec_info(cfg, &t->exec_info)) < 0)
            return rc;
        return refresh_exec(t, true, NULL);
    }
    if (cfg->token_file && cfg->token_file[0]) {
        t->file = cfg->token_file;
        return kube_token_refresh(t, true, NULL);
    }
    if (cfg->token && cfg->token[0]) {
        if (strpbrk(cfg->token, "\r\n"))
            return -FH_ECONFIG;
        t->static_token = cfg->token;
    }
    return 0;
}

/* kube_token_refresh - stat() first so the common case costs no read */
int
kube_token_refresh(struct kube_token *t, bool force, bool *changed)
{
    struct stat st;
    char *fresh = NULL;
    int rc;

    if (changed)
        *changed = false;
    if (t->exec)
        return refresh_exec(t, force, changed);
    if (!t->file)
        return 0;
    if (stat(t->file, &st) < 0) {
        snprintf(t->err, sizeof(t->err), "token file %s: %s", t->file, strerror(errno));
        return -errno;
    }
    if (!force && t->cached && st.st_size == t->size && st.st_ino == t->ino &&
        st.st_mtim.tv_sec == t->mtime.tv_sec && st.st_mtim.tv_nsec == t->mtime.tv_nsec)
        return 0;
    rc = read_token(t->file, &fresh);
    if (rc < 0) {
        snprintf(t->err, sizeof(t->err), "token file %s: %s", t->file,
                 rc == -FH_ECONFIG ? "empty or holds a line break" : fh_strerror(rc));
        return rc;
    }
    t->err[0] = '\0';
    if (changed)
        *changed = !t->cached || strcmp(t->cached, fresh) != 0;
    secret_free(&t->cached, 0);
    t->cached = fresh;
    t->size = st.st_size;
    t->ino = st.st_ino;
    t->mtime = st.st_mtim;
    return 0;
}

/* kube_token_value - file or plugin token, else the static one */
const char *
kube_token_value(const struct kube_token *t)
{
    return t->file || t->exec ? t->cached : t->static_token;
}

/* kube_token_refreshable - whether a refresh could cure a 401 */
bool
kube_token_refreshable(const struct kube_token *t)
{
    return t->file != NULL || t->exec != NULL;
}

/* kube_token_error - see header */
const char *
kube_token_error(const struct kube_token *t)
{
    return t->err;
}

/* kube_token_clear - wipe the cache */
void
kube_token_clear(struct kube_token *t)
{
    secret_free(&t->cached, 0);
    free(t->exec_info);
    memset(t, 0, sizeof(*t));
}
