/*
 * secret_mem.h - wiping memory that held secret material.
 *
 * The worker holds Secret values; the watcher holds Secret metadata, which
 * may carry a copy of the values (kubectl's last-applied-configuration
 * annotation). Both call these on every buffer and cJSON tree that did, as
 * soon as it is no longer needed, and install the wiping allocator hooks
 * below so that the libraries' own buffers are wiped as well.
 *
 * Ownership: the free functions take over what they are handed. The hooks
 * are process-wide library state: install them from main() only, before
 * the library allocates anything.
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

/* secret_block_free - free() for blocks from malloc/calloc/realloc: wipes
 * the whole block (malloc_usable_size bytes) first. NULL is a no-op. */
void secret_block_free(void *p);

/* secret_block_realloc - realloc() that moves the data to a new block and
 * wipes the old one (realloc may leave a copy behind). n == 0 frees p and
 * returns NULL; on allocation failure returns NULL and p stays valid. */
void *secret_block_realloc(void *p, size_t n);

/* secret_json_hooks_install - make cJSON allocate with malloc and free with
 * secret_block_free, so every cJSON node, string and print buffer is wiped
 * when freed, also by plain cJSON_Delete()/cJSON_free(). */
void secret_json_hooks_install(void);

#endif
