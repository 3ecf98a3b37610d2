/*
 * kube_token.c - bearer token source: a static token, or a token file that
 * is re-read when it changes on disk or after a 401. Owns the cached file
 * token (wiped when replaced or cleared).
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "fh_err.h"
#include "kube_config.h"
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

/* kube_token_init - borrow the config, prime the cache */
int
kube_token_init(struct kube_token *t, const struct kube_config *cfg)
{
    memset(t, 0, sizeof(*t));
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
    if (!t->file)
        return 0;
    if (stat(t->file, &st) < 0)
        return -errno;
    if (!force && t->cached && st.st_size == t->size && st.st_ino == t->ino &&
        st.st_mtim.tv_sec == t->mtime.tv_sec && st.st_mtim.tv_nsec == t->mtime.tv_nsec)
        return 0;
    rc = read_token(t->file, &fresh);
    if (rc < 0)
        return rc;
    if (changed)
        *changed = !t->cached || strcmp(t->cached, fresh) != 0;
    secret_free(&t->cached, 0);
    t->cached = fresh;
    t->size = st.st_size;
    t->ino = st.st_ino;
    t->mtime = st.st_mtim;
    return 0;
}

/* kube_token_value - file token wins over a static one */
const char *
kube_token_value(const struct kube_token *t)
{
    return t->file ? t->cached : t->static_token;
}

/* kube_token_from_file - whether a re-read could help */
bool
kube_token_from_file(const struct kube_token *t)
{
    return t->file != NULL;
}

/* kube_token_clear - wipe the cache */
void
kube_token_clear(struct kube_token *t)
{
    secret_free(&t->cached, 0);
    memset(t, 0, sizeof(*t));
}
