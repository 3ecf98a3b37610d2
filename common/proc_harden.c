/*
 * proc_harden.c - make the calling process non-dumpable and core-less.
 * Owns nothing.
 */
#include <errno.h>
#include <stddef.h>
#include <sys/prctl.h>
#include <sys/resource.h>

#include "proc_harden.h"

/* proc_harden - see header */
int
proc_harden(const char **failed)
{
    struct rlimit no_core = { 0, 0 };
    const char *what = NULL;
    int rc = 0;

    if (prctl(PR_SET_DUMPABLE, 0, 0, 0, 0) != 0) {
        rc = -errno;
        what = "PR_SET_DUMPABLE";
    }
    if (setrlimit(RLIMIT_CORE, &no_core) != 0 && rc == 0) {
        rc = -errno;
        what = "RLIMIT_CORE";
    }
    if (failed)
        *failed = what;
    return rc;
}
