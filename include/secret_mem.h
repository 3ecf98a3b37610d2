/*
 * secret_mem.h - wiping memory that held secret material.
 *
 * Only the worker ever holds Secret values; it calls these on every buffer
 * and cJSON tree that did, as soon as the value is no longer needed.
 */
#ifndef SECRET_MEM_H
#define SECRET_MEM_H

#include <stddef.h>

struct cJSON;

/* secret_wipe - zero n bytes at p in a way the compiler cannot elide */
void secret_wipe(void *p, size_t n);

/* secret_free - wipe strlen(*p) bytes (or n if n > 0), free, set *p = NULL */
void secret_free(char **p, size_t n);

/* secret_json_free - wipe every string and key in the tree, then cJSON_Delete it;
 * sets *root = NULL. */
void secret_json_free(struct cJSON **root);

#endif
