/* free_probe.h - watches free() for unit tests that link with --wrap=free
 * (list it in the test's .wrap file): counts the blocks freed by the code
 * under test (the static archives and the test file, not shared libraries
 * such as libcurl or libcjson, whose frees reach us only through the
 * allocator hooks the code installs), remembers the last one, and counts
 * those that still contain probe_needle when they are freed - a block that
 * held a secret must arrive wiped. Include it in exactly one file of the
 * test program. Safe to call from several threads. */
#ifndef FH_TEST_FREE_PROBE_H
#define FH_TEST_FREE_PROBE_H

#include <malloc.h>
#include <stddef.h>
#include <string.h>

#if defined(__has_include)
#if __has_include(<valgrind/memcheck.h>)
#include <valgrind/memcheck.h>
#endif
#endif
#ifndef VALGRIND_MAKE_MEM_DEFINED
#define VALGRIND_MAKE_MEM_DEFINED(p, n) ((void)(p), (void)(n))
#endif

static const char *probe_needle;        /* NULL = do not look */
static unsigned long probe_frees;       /* blocks freed */
static unsigned long probe_dirty;       /* of those, still holding probe_needle */
static void *probe_last;                /* the last block freed */

void __real_free(void *p);
void __wrap_free(void *p);

/* __wrap_free - look at the block, then free it */
void
__wrap_free(void *p)
{
    const char *needle = __atomic_load_n(&probe_needle, __ATOMIC_SEQ_CST);

    if (p) {
        size_t n = malloc_usable_size(p);

        __atomic_fetch_add(&probe_frees, 1, __ATOMIC_SEQ_CST);
        __atomic_store_n(&probe_last, p, __ATOMIC_SEQ_CST);
        if (needle) {
            /* bytes never written count as "defined" here: we only search */
            VALGRIND_MAKE_MEM_DEFINED(p, n);
            if (memmem(p, n, needle, strlen(needle)))
                __atomic_fetch_add(&probe_dirty, 1, __ATOMIC_SEQ_CST);
        }
    }
    __real_free(p);
}

/* probe_reset - start counting afresh, looking for needle (may be NULL) */
static inline void
probe_reset(const char *needle)
{
    __atomic_store_n(&probe_frees, 0, __ATOMIC_SEQ_CST);
    __atomic_store_n(&probe_dirty, 0, __ATOMIC_SEQ_CST);
    __atomic_store_n(&probe_last, NULL, __ATOMIC_SEQ_CST);
    __atomic_store_n(&probe_needle, needle, __ATOMIC_SEQ_CST);
}

#endif
