/*
 * bundle_print.c - print a cJSON tree that holds Secret data into one buffer
 * we own, so no copy of it is left behind in freed heap. Owns nothing after
 * return; the caller owns (and wipes) the buffer.
 */
#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "bundle.h"
#include "fh_err.h"
#include "secret_mem.h"

#define PRINT_MAX (1024u * 1024u * 1024u)

/* estimate - a generous guess of the compact size of n and its children:
 * strings counted twice for escapes, plus room for structure and numbers.
 * Only a guess; bundle_print retries with a larger buffer when it is short. */
static size_t
estimate(const cJSON *n)
{
    size_t sz = 8;

    if (n->string)
        sz += 2 * strlen(n->string) + 3;
    if (n->valuestring)
        sz += 2 * strlen(n->valuestring) + 2;
    if (cJSON_IsNumber(n))
        sz += 32;
    for (const cJSON *c = n->child; c; c = c->next)
        sz += estimate(c);
    return sz;
}

/* bundle_print - compact JSON into a buffer that grows by wipe-and-retry */
int
bundle_print(const cJSON *obj, char **out, size_t *len)
{
    size_t cap;
    char *buf;

    if (!obj || !out || !len)
        return -FH_EINVAL;
    *out = NULL;
    *len = 0;
    /* cJSON_Print would grow its buffer with realloc(), which may move the
     * text and free the old block unwiped. Printing into a buffer of our own,
     * wiped and enlarged if too small, keeps exactly one copy. */
    cap = estimate(obj) + 64;
    for (;;) {
        if (cap > PRINT_MAX || cap > (size_t)INT_MAX)
            return -FH_ETOOBIG;
        buf = malloc(cap);
        if (!buf)
            return -FH_ENOMEM;
        /* cJSON_PrintPreallocated does not modify the tree despite its
         * non-const parameter. */
        if (cJSON_PrintPreallocated((cJSON *)obj, buf, (int)cap, 0)) {
            *out = buf;
            *len = strlen(buf);
            return 0;
        }
        secret_wipe(buf, cap);
        free(buf);
        cap *= 2;
    }
}
