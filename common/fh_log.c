/*
 * fh_log.c - JSON-lines logger.
 *
 * Formats {"time":...,"level":...,"process":...,"key":...,"message":...} into
 * a stack buffer and writes it with one write(2), so lines from several
 * processes sharing stderr do not interleave. Owns no heap memory.
 */
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include "fh_err.h"
#include "fh_log.h"

#define LOG_LINE_MAX 4096

static const char *level_names[] = { "debug", "info", "warn", "error" };

/* fh_log_init - set process name, level and output fd */
void
fh_log_init(struct fh_log *lg, const char *process, enum fh_log_level level)
{
    snprintf(lg->process, sizeof(lg->process), "%s", process ? process : "");
    lg->level = level;
    lg->fd = 2;
}

/* fh_log_level_parse - parse a level name */
int
fh_log_level_parse(const char *s, enum fh_log_level *out)
{
    for (size_t i = 0; i < sizeof(level_names) / sizeof(level_names[0]); i++) {
        if (s && strcasecmp(s, level_names[i]) == 0) {
            *out = (enum fh_log_level)i;
            return 0;
        }
    }
    if (s && strcasecmp(s, "warning") == 0) {
        *out = FH_LOG_WARN;
        return 0;
    }
    return -FH_EINVAL;
}

/* utf8_len - length of the valid UTF-8 sequence at s (1-4), or 0 if it is
 * not one (bad lead byte, missing continuation, overlong or surrogate) */
static size_t
utf8_len(const unsigned char *s)
{
    size_t n;
    unsigned cp;

    if (s[0] < 0x80)
        return 1;
    if (s[0] >= 0xc2 && s[0] <= 0xdf)
        n = 2, cp = s[0] & 0x1fu;
    else if (s[0] >= 0xe0 && s[0] <= 0xef)
        n = 3, cp = s[0] & 0x0fu;
    else if (s[0] >= 0xf0 && s[0] <= 0xf4)
        n = 4, cp = s[0] & 0x07u;
    else
        return 0;
    for (size_t i = 1; i < n; i++) {
        if ((s[i] & 0xc0) != 0x80)
            return 0;               /* includes the terminating NUL */
        cp = (cp << 6) | (s[i] & 0x3fu);
    }
    if ((n == 3 && (cp < 0x800 || (cp >= 0xd800 && cp <= 0xdfff))) ||
        (n == 4 && (cp < 0x10000 || cp > 0x10ffff)))
        return 0;
    return n;
}

/* fh_json_escape - append JSON-escaped text, truncating safely: never in
 * the middle of an escape or a UTF-8 sequence; bytes that are not valid
 * UTF-8 become U+FFFD, so every line is valid JSON */
void
fh_json_escape(char *buf, size_t cap, size_t *pos, const char *s)
{
    static const char hex[] = "0123456789abcdef";
    size_t p = *pos;

    if (cap == 0)
        return;
    while (s && *s) {
        unsigned char c = (unsigned char)*s;
        char esc[7];
        const char *src = esc;
        size_t n = 0, adv = 1;

        if (c == '"' || c == '\\') {
            esc[0] = '\\'; esc[1] = (char)c; n = 2;
        } else if (c == '\n') {
            esc[0] = '\\'; esc[1] = 'n'; n = 2;
        } else if (c == '\r') {
            esc[0] = '\\'; esc[1] = 'r'; n = 2;
        } else if (c == '\t') {
            esc[0] = '\\'; esc[1] = 't'; n = 2;
        } else if (c < 0x20 || c == 0x7f) {
            esc[0] = '\\'; esc[1] = 'u'; esc[2] = '0'; esc[3] = '0';
            esc[4] = hex[c >> 4]; esc[5] = hex[c & 15]; n = 6;
        } else if (c < 0x80) {
            esc[0] = (char)c; n = 1;
        } else if ((adv = utf8_len((const unsigned char *)s)) > 0) {
            src = s;                /* a whole valid sequence, copied as is */
            n = adv;
        } else {
            memcpy(esc, "\\ufffd", 6);
            n = 6;
            adv = 1;
        }
        if (p + n >= cap)
            break;
        memcpy(buf + p, src, n);
        p += n;
        s += adv;
    }
    buf[p < cap ? p : cap - 1] = '\0';
    *pos = p;
}

/* fh_vlog - format and emit one line */
void
fh_vlog(const struct fh_log *lg, enum fh_log_level lvl, const char *key,
        const char *fmt, va_list ap)
{
    char msg[LOG_LINE_MAX / 2];
    char line[LOG_LINE_MAX];
    char ts[40];
    struct timespec now;
    struct tm tm;
    size_t pos = 0;
    ssize_t w;

    if (!lg || lvl < lg->level)
        return;
    clock_gettime(CLOCK_REALTIME, &now);
    gmtime_r(&now.tv_sec, &tm);
    strftime(ts, sizeof(ts), "%Y-%m-%dT%H:%M:%S", &tm);
    vsnprintf(msg, sizeof(msg), fmt, ap);

    pos = (size_t)snprintf(line, sizeof(line),
                           "{\"time\":\"%s.%03ldZ\",\"level\":\"%s\",\"process\":\"",
                           ts, now.tv_nsec / 1000000L, level_names[lvl]);
    fh_json_escape(line, sizeof(line) - 4, &pos, lg->process);
    fh_json_escape(line, sizeof(line) - 4, &pos, "");
    if (pos + 10 < sizeof(line)) {
        memcpy(line + pos, "\",\"key\":\"", 9);
        pos += 9;
    }
    fh_json_escape(line, sizeof(line) - 4, &pos, key ? key : "");
    if (pos + 15 < sizeof(line)) {
        memcpy(line + pos, "\",\"message\":\"", 13);
        pos += 13;
    }
    fh_json_escape(line, sizeof(line) - 4, &pos, msg);
    memcpy(line + pos, "\"}\n", 3);
    pos += 3;
    w = write(lg->fd, line, pos);
    (void)w;
}

/* fh_log - printf-style front end of fh_vlog */
void
fh_log(const struct fh_log *lg, enum fh_log_level lvl, const char *key,
       const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    fh_vlog(lg, lvl, key, fmt, ap);
    va_end(ap);
}
