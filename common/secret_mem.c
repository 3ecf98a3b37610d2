/*
 * secret_mem.c - wipe-then-free helpers for secret material, and the
 * wiping allocator hooks handed to libraries (cJSON, libcurl) whose buffers
 * hold response bodies.
 * Owns nothing; frees what the caller hands over.
 */
#include <malloc.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "secret_mem.h"

/* secret_wipe - explicit_bzero cannot be optimised away */
void
secret_wipe(void *p, size_t n)
{
    if (p && n)
        explicit_bzero(p, n);
}

/* secret_free - wipe and free a heap string */
void
secret_free(char **p, size_t n)
{
    if (!p || !*p)
        return;
    secret_wipe(*p, n ? n : strlen(*p));
    free(*p);
    *p = NULL;
}

/* wipe_tree - zero every string value and key below node */
static void
wipe_tree(cJSON *node)
{
    for (; node; node = node->next) {
        if (node->valuestring)
            secret_wipe(node->valuestring, strlen(node->valuestring));
        if (node->string && !(node->type & cJSON_StringIsConst))
            secret_wipe(node->string, strlen(node->string));
        if (node->child)
            wipe_tree(node->child);
    }
}

/* secret_json_free - wipe a cJSON tree and delete it */
void
secret_json_free(cJSON **root)
{
    if (!root || !*root)
        return;
    wipe_tree((*root)->child);
    if ((*root)->valuestring)
        secret_wipe((*root)->valuestring, strlen((*root)->valuestring));
    cJSON_Delete(*root);
    *root = NULL;
}

/* secret_block_free - wipe the whole heap block (malloc_usable_size: a
 * buffer that grew may have held more than its current contents), free it */
void
secret_block_free(void *p)
{
    if (!p)
        return;
    secret_wipe(p, malloc_usable_size(p));
    free(p);
}

/* secret_block_realloc - realloc that never leaves an unwiped old block */
void *
secret_block_realloc(void *p, size_t n)
{
    size_t old;
    void *q;

    if (!p)
        return malloc(n);
    if (n == 0) {
        secret_block_free(p);
        return NULL;
    }
    old = malloc_usable_size(p);
    q = malloc(n);
    if (!q)
        return NULL;        /* like realloc: p is still valid */
    memcpy(q, p, old < n ? old : n);
    secret_block_free(p);
    return q;
}

/* secret_json_hooks_install - see header */
void
secret_json_hooks_install(void)
{
    cJSON_Hooks hooks = { malloc, secret_block_free };

    /* with hooks other than malloc/free cJSON never calls realloc: its print
     * buffers grow by malloc + copy + free, so every old buffer is wiped */
    cJSON_InitHooks(&hooks);
}
