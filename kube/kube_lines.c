/*
 * kube_lines.c - reassemble newline-delimited records (watch events) from
 * the arbitrary chunks a transfer delivers. Complete lines inside a chunk
 * are passed on without copying; only a partial line is carried over, in a
 * buffer this module owns and wipes (watch events may carry Secret data).
 */
#include <stdlib.h>
#include <string.h>

#include "fh_err.h"
#include "kube_watch.h"
#include "secret_mem.h"

struct kube_lines {
    char *buf;      /* carried partial line */
    size_t len;
    size_t cap;
    size_t max;     /* longest accepted line, excluding the newline */
};

/* kube_lines_new - empty assembler */
struct kube_lines *
kube_lines_new(size_t max_line)
{
    struct kube_lines *l = calloc(1, sizeof(*l));

    if (l)
        l->max = max_line ? max_line : KUBE_LINES_DEFAULT_MAX;
    return l;
}

/* kube_lines_reset - forget the remainder */
void
kube_lines_reset(struct kube_lines *l)
{
    if (l->buf)
        secret_wipe(l->buf, l->len);
    l->len = 0;
}

/* kube_lines_free - wipe and free */
void
kube_lines_free(struct kube_lines **lp)
{
    struct kube_lines *l;

    if (!lp || !*lp)
        return;
    l = *lp;
    if (l->buf) {
        secret_wipe(l->buf, l->cap);
        free(l->buf);
    }
    free(l);
    *lp = NULL;
}

/* kube_lines_pending - carried bytes */
size_t
kube_lines_pending(const struct kube_lines *l)
{
    return l->len;
}

/* carry - append to the remainder; grows by copy-and-wipe */
static int
carry(struct kube_lines *l, const char *p, size_t n)
{
    if (n > l->max - l->len) {
        kube_lines_reset(l);
        return -FH_ETOOBIG;
    }
    if (l->len + n > l->cap) {
        size_t ncap = l->cap ? l->cap : 1024;
        char *nb;

        while (ncap < l->len + n)
            ncap *= 2;
        if (ncap > l->max)
            ncap = l->max;
        nb = malloc(ncap);
        if (!nb) {
            kube_lines_reset(l);
            return -FH_ENOMEM;
        }
        if (l->buf) {
            memcpy(nb, l->buf, l->len);
            secret_wipe(l->buf, l->cap);
            free(l->buf);
        }
        l->buf = nb;
        l->cap = ncap;
    }
    memcpy(l->buf + l->len, p, n);
    l->len += n;
    return 0;
}

/* emit - strip a trailing CR, skip empty lines */
static int
emit(const char *p, size_t n, kube_line_fn cb, void *arg)
{
    if (n > 0 && p[n - 1] == '\r')
        n--;
    if (n == 0)
        return 0;
    return cb(p, n, arg);
}

/* kube_lines_feed - split data at newlines */
int
kube_lines_feed(struct kube_lines *l, const char *data, size_t len, kube_line_fn cb,
                void *arg)
{
    const char *p = data, *end = data + len;
    int rc;

    while (p < end) {
        const char *nl = memchr(p, '\n', (size_t)(end - p));
        size_t seg;

        if (!nl)
            return carry(l, p, (size_t)(end - p));
        seg = (size_t)(nl - p);
        if (l->len > 0) {
            rc = carry(l, p, seg);
            if (rc < 0)
                return rc;
            rc = emit(l->buf, l->len, cb, arg);
            kube_lines_reset(l);
        } else if (seg > l->max) {
            return -FH_ETOOBIG;
        } else {
            rc = emit(p, seg, cb, arg);
        }
        if (rc < 0)
            return rc;
        p = nl + 1;
    }
    return 0;
}

/* kube_lines_finish - the stream ended: hand over an unterminated last line */
int
kube_lines_finish(struct kube_lines *l, kube_line_fn cb, void *arg)
{
    int rc = 0;

    if (l->len > 0)
        rc = emit(l->buf, l->len, cb, arg);
    kube_lines_reset(l);
    return rc;
}
