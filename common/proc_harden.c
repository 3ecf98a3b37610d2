/*
 * proc_harden.c - make the calling process non-dumpable and core-less, and
 * (proc_harden_secrets) make cJSON wipe what it frees. Owns nothing.
 */
#include <errno.h>
#include <stddef.h>
#include <sys/prctl.h>
#include <sys/resource.h>

#include "fh_err.h"
#include "fh_log.h"
#include "proc_harden.h"
#include "secret_mem.h"

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

/* proc_harden_secrets - see header */
void
proc_harden_secrets(const struct fh_log *log)
{
    const char *failed = NULL;
    int rc = proc_harden(&failed);

    if (rc < 0)
        log_warn(log, NULL, "%s failed: %s", failed ? failed : "hardening", fh_strerror(rc));
    secret_json_hooks_install();
}
