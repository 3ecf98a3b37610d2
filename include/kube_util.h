/*
 * kube_util.h - small helpers shared by the kube/ module: reading whole
 * files with a size bound, base64 decoding and joining paths.
 *
 * Ownership: every char * returned through an out-parameter is heap memory
 * owned by the caller (free() it, or secret_free() if it may hold a secret).
 */
#ifndef KUBE_UTIL_H
#define KUBE_UTIL_H

#include <stddef.h>

/* kube_read_file - read all of path (at most max bytes) into a new
 * NUL-terminated buffer *out of *len bytes. Returns 0, -errno, -FH_ETOOBIG
 * or -FH_ENOMEM. The buffer is wiped before it is freed on error paths;
 * callers wipe it themselves when it holds a secret. */
int kube_read_file(const char *path, size_t max, char **out, size_t *len);

/* kube_b64_decode - decode base64 text (whitespace and newlines allowed)
 * into a new NUL-terminated buffer *out of *outlen bytes. Returns 0,
 * -FH_EINVAL for malformed or empty input, -FH_ENOMEM. */
int kube_b64_decode(const char *in, size_t inlen, char **out, size_t *outlen);

/* kube_path_join - dir + "/" + rel, or a copy of rel when it is absolute or
 * dir is NULL/empty. Caller frees; NULL on allocation failure. */
char *kube_path_join(const char *dir, const char *rel);

/* kube_trim - strip leading/trailing ASCII whitespace in place; returns the
 * new length. s is NUL-terminated. */
size_t kube_trim(char *s);

#endif
