/* alloc_fault.h - allocation fault injection for unit tests that link with
 * --wrap=malloc,calloc,realloc,strdup (list them in the test's .wrap file).
 * Include it in exactly one file of the test program: it defines the
 * wrappers and the counter they share.
 *
 * Set fail_at = k and the allocation numbered k (0-based, counted from that
 * moment) returns NULL; -1 (the default) never fails. The counter is the
 * test program's own state, not the code under test's. */
#ifndef FH_TEST_ALLOC_FAULT_H
#define FH_TEST_ALLOC_FAULT_H

#include <stddef.h>

static long fail_at = -1;

void *__real_malloc(size_t n);
void *__real_calloc(size_t n, size_t m);
void *__real_realloc(void *p, size_t n);
char *__real_strdup(const char *s);
void *__wrap_malloc(size_t n);
void *__wrap_calloc(size_t n, size_t m);
void *__wrap_realloc(void *p, size_t n);
char *__wrap_strdup(const char *s);

/* injected - whether this allocation fails */
static int
injected(void)
{
    return fail_at >= 0 && fail_at-- == 0;
}

/* __wrap_malloc - malloc that fails on cue */
void *
__wrap_malloc(size_t n)
{
    return injected() ? NULL : __real_malloc(n);
}

/* __wrap_calloc - calloc that fails on cue */
void *
__wrap_calloc(size_t n, size_t m)
{
    return injected() ? NULL : __real_calloc(n, m);
}

/* __wrap_realloc - realloc that fails on cue */
void *
__wrap_realloc(void *p, size_t n)
{
    return injected() ? NULL : __real_realloc(p, n);
}

/* __wrap_strdup - strdup that fails on cue */
char *
__wrap_strdup(const char *s)
{
    return injected() ? NULL : __real_strdup(s);
}

#endif
