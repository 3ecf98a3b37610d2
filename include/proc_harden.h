/*
 * proc_harden.h - keep a process's memory to itself: for the processes that
 * hold Secret values (fh-worker) or Secret metadata that may contain them
 * (fh-watcher: kubectl's last-applied annotation).
 *
 * Ownership: nothing is allocated. Changes process-wide settings: call it
 * from main() only.
 */
#ifndef PROC_HARDEN_H
#define PROC_HARDEN_H

/*
 * proc_harden - prctl(PR_SET_DUMPABLE, 0) (no core dump; other processes of
 * the same user cannot ptrace it or read /proc/PID/mem) and RLIMIT_CORE 0.
 * Both are attempted. Returns 0, or -errno of the first failure with
 * *failed (if not NULL) naming the step ("PR_SET_DUMPABLE", "RLIMIT_CORE").
 */
int proc_harden(const char **failed);

struct fh_log;

/*
 * proc_harden_secrets - what a process that may see secret material does
 * first: proc_harden() (a failure is logged as a warning, not fatal) and
 * secret_json_hooks_install(), so every buffer cJSON frees is wiped.
 */
void proc_harden_secrets(const struct fh_log *log);

#endif
