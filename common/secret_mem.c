/*
 * secret_mem.c - wipe-then-free helpers for secret material.
 * Owns nothing; frees what the caller hands over.
 */
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
