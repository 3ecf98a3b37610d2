/*
 * kube_global.c - libcurl's global initialisation with wiping allocators.
 * Owns nothing; sets libcurl's process-wide allocator table.
 */
#include <stdlib.h>
#include <string.h>

#include <curl/curl.h>

#include "fh_err.h"
#include "kube_global.h"
#include "secret_mem.h"

/* kube_global_init_wiping - see header */
int
kube_global_init_wiping(void)
{
    /* strdup and calloc allocate with malloc, so secret_block_free can free
     * what they return */
    return curl_global_init_mem(CURL_GLOBAL_DEFAULT, malloc, secret_block_free,
                                secret_block_realloc, strdup, calloc) == CURLE_OK ? 0 : -FH_EIO;
}

/* kube_global_cleanup - see header */
void
kube_global_cleanup(void)
{
    curl_global_cleanup();
}
