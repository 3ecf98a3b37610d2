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

#endif
