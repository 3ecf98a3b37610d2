/*
 * kube_global.h - process-wide libcurl set-up for processes whose responses
 * carry secret material (fh-watcher: Secret metadata may hold a copy of the
 * data in kubectl's last-applied annotation).
 *
 * kube_global_init_wiping() hands libcurl allocators that wipe every block
 * before freeing it (secret_mem.h), so curl's receive buffers, header
 * buffers and the inflate windows of gzip'd bodies leave nothing behind in
 * freed heap. TLS buffers belong to OpenSSL, which allocates on its own.
 *
 * Ownership: library-global state. Call from main() only, before anything
 * else uses libcurl (curl_easy_init() initialises curl implicitly, and an
 * initialised curl silently keeps its first allocators), and
 * kube_global_cleanup() once at exit.
 */
#ifndef KUBE_GLOBAL_H
#define KUBE_GLOBAL_H

/* kube_global_init_wiping - curl_global_init_mem with wiping free/realloc;
 * 0 or -FH_EIO */
int kube_global_init_wiping(void);

/* kube_global_cleanup - curl_global_cleanup() */
void kube_global_cleanup(void);

#endif
