/*
 * kube_util.c - bounded whole-file reads, base64 decoding, path joining and
 * trimming for the kube/ module. Owns nothing beyond the buffers it returns.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/evp.h>

#include "fh_err.h"
#include "kube_util.h"
#include "secret_mem.h"

/* kube_read_file - read a whole regular file, bounded by max */
int
kube_read_file(const char *path, size_t max, char **out, size_t *len)
{
    struct stat st;
    char *buf = NULL;
    size_t have = 0, cap;
    int fd, rc = 0;

    *out = NULL;
    *len = 0;
    fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return -errno;
    if (fstat(fd, &st) < 0) {
        rc = -errno;
        goto out;
    }
    if (S_ISDIR(st.st_mode)) {
        rc = -EISDIR;
        goto out;
    }
    if (st.st_size > 0 && (size_t)st.st_size > max) {
        rc = -FH_ETOOBIG;
        goto out;
    }
    /* st_size can be 0 for special files; read until EOF but never past max */
    cap = (size_t)st.st_size + 1;
    buf = malloc(cap);
    if (!buf) {
        rc = -FH_ENOMEM;
        goto out;
    }
    for (;;) {
        ssize_t n;

        if (have + 1 >= cap) {
            /* full: a one-byte probe tells EOF from "grew since fstat" */
            char probe, *nb;
            size_t ncap;

            n = read(fd, &probe, 1);
            if (n < 0 && errno == EINTR)
                continue;
            if (n < 0) {
                rc = -errno;
                goto out;
            }
            if (n == 0)
                break;
            if (have + 1 > max) {
                rc = -FH_ETOOBIG;
                goto out;
            }
            ncap = cap * 2 > max + 1 ? max + 1 : cap * 2;
            if (ncap < have + 2)
                ncap = have + 2;
            nb = malloc(ncap);
            if (!nb) {
                rc = -FH_ENOMEM;
                goto out;
            }
            memcpy(nb, buf, have);
            secret_wipe(buf, cap);
            free(buf);
            buf = nb;
            cap = ncap;
            buf[have++] = probe;
            continue;
        }
        n = read(fd, buf + have, cap - 1 - have);
        if (n < 0) {
            if (errno == EINTR)
                continue;
            rc = -errno;
            goto out;
        }
        if (n == 0)
            break;
        have += (size_t)n;
    }
    buf[have] = '\0';
    *out = buf;
    *len = have;
    buf = NULL;
out:
    if (buf) {
        secret_wipe(buf, cap);
        free(buf);
    }
    close(fd);
    return rc;
}

/* kube_b64_decode - OpenSSL's streaming decoder skips whitespace and gives
 * the exact length (EVP_DecodeBlock would keep padding bytes) */
int
kube_b64_decode(const char *in, size_t inlen, char **out, size_t *outlen)
{
    EVP_ENCODE_CTX *ctx = NULL;
    unsigned char *buf = NULL;
    size_t cap = inlen / 4 * 3 + 4;
    int n1 = 0, n2 = 0, rc = 0;

    *out = NULL;
    *outlen = 0;
    if (inlen == 0 || inlen > (size_t)1 << 30)
        return -FH_EINVAL;
    ctx = EVP_ENCODE_CTX_new();
    buf = malloc(cap + 1);
    if (!ctx || !buf) {
        rc = -FH_ENOMEM;
        goto out;
    }
    EVP_DecodeInit(ctx);
    if (EVP_DecodeUpdate(ctx, buf, &n1, (const unsigned char *)in, (int)inlen) < 0 ||
        EVP_DecodeFinal(ctx, buf + n1, &n2) < 0 || n1 + n2 <= 0) {
        rc = -FH_EINVAL;
        goto out;
    }
    buf[n1 + n2] = '\0';
    *out = (char *)buf;
    *outlen = (size_t)(n1 + n2);
    buf = NULL;
out:
    if (buf) {
        secret_wipe(buf, cap + 1);
        free(buf);
    }
    EVP_ENCODE_CTX_free(ctx);
    return rc;
}

/* kube_path_join - relative paths in a kubeconfig are relative to its directory */
char *
kube_path_join(const char *dir, const char *rel)
{
    size_t dl, rl;
    char *p;

    if (rel[0] == '/' || !dir || !dir[0])
        return strdup(rel);
    dl = strlen(dir);
    rl = strlen(rel);
    p = malloc(dl + rl + 2);
    if (!p)
        return NULL;
    memcpy(p, dir, dl);
    p[dl] = '/';
    memcpy(p + dl + 1, rel, rl + 1);
    return p;
}

/* kube_trim - files like the service-account namespace end in a newline.
 * The bytes left behind by the shift are wiped: s may be a token. */
size_t
kube_trim(char *s)
{
    size_t orig = strlen(s), n = orig, start = 0;

    while (n > 0 && (s[n - 1] == ' ' || s[n - 1] == '\t' || s[n - 1] == '\n' ||
                     s[n - 1] == '\r'))
        n--;
    while (start < n && (s[start] == ' ' || s[start] == '\t' || s[start] == '\n' ||
                         s[start] == '\r'))
        start++;
    memmove(s, s + start, n - start);
    secret_wipe(s + (n - start), orig - (n - start));
    return n - start;
}
