/*
 * fh_log.h - structured logging: one JSON object per line on stderr.
 *
 * Every line has time, level, process, key and message. The logger state is
 * a plain struct owned by each process's main.c and passed by pointer to the
 * modules that log; there is no global logger.
 *
 * Never pass secret values to these functions.
 */
#ifndef FH_LOG_H
#define FH_LOG_H

#include <stdarg.h>

enum fh_log_level {
    FH_LOG_DEBUG = 0,
    FH_LOG_INFO,
    FH_LOG_WARN,
    FH_LOG_ERROR,
};

struct fh_log {
    char process[48];           /* e.g. "supervisor", "worker.3", "watcher" */
    enum fh_log_level level;    /* lines below this level are dropped */
    int fd;                     /* where lines go, normally 2 (stderr) */
};

/* fh_log_init - fill lg; process is copied (truncated to fit) */
void fh_log_init(struct fh_log *lg, const char *process, enum fh_log_level level);

/* fh_log_level_parse - "debug|info|warn|error" -> level; -FH_EINVAL if unknown */
int fh_log_level_parse(const char *s, enum fh_log_level *out);

/* fh_log - write one line; key may be NULL (written as ""). lg may be NULL (no-op). */
void fh_log(const struct fh_log *lg, enum fh_log_level lvl, const char *key,
            const char *fmt, ...) __attribute__((format(printf, 4, 5)));

/* fh_vlog - va_list form of fh_log */
void fh_vlog(const struct fh_log *lg, enum fh_log_level lvl, const char *key,
             const char *fmt, va_list ap);

/* fh_json_escape - append s JSON-escaped (without quotes) into buf at *pos,
 * never past cap-1; always NUL-terminates. Used by the logger and by anyone
 * hand-writing small JSON. */
void fh_json_escape(char *buf, size_t cap, size_t *pos, const char *s);

#define log_debug(lg, key, ...) fh_log((lg), FH_LOG_DEBUG, (key), __VA_ARGS__)
#define log_info(lg, key, ...)  fh_log((lg), FH_LOG_INFO, (key), __VA_ARGS__)
#define log_warn(lg, key, ...)  fh_log((lg), FH_LOG_WARN, (key), __VA_ARGS__)
#define log_error(lg, key, ...) fh_log((lg), FH_LOG_ERROR, (key), __VA_ARGS__)

#endif
