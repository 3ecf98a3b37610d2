/*
 * duration.c - parse Go-style duration strings into milliseconds.
 * Owns nothing.
 */
#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#include "duration.h"
#include "fh_err.h"

/* duration_parse_ms - see header */
int
duration_parse_ms(const char *s, uint64_t *out_ms)
{
    uint64_t total = 0;
    const char *p = s;

    if (!s || !*s)
        return -FH_EINVAL;
    if (strcmp(s, "0") == 0) {
        *out_ms = 0;
        return 0;
    }
    while (*p) {
        uint64_t v = 0, mult;
        const char *start = p;

        while (isdigit((unsigned char)*p)) {
            if (v > UINT64_MAX / 10)
                return -FH_EINVAL;
            v = v * 10 + (uint64_t)(*p - '0');
            p++;
        }
        if (p == start)
            return -FH_EINVAL;
        if (strncmp(p, "ms", 2) == 0) {
            mult = 1; p += 2;
        } else if (*p == 's') {
            mult = 1000; p++;
        } else if (*p == 'm') {
            mult = 60000; p++;
        } else if (*p == 'h') {
            mult = 3600000; p++;
        } else if (*p == '\0' && start == s) {
            mult = 1000;            /* bare number: seconds */
        } else {
            return -FH_EINVAL;
        }
        if (v > (UINT64_MAX - total) / mult)
            return -FH_EINVAL;
        total += v * mult;
    }
    *out_ms = total;
    return 0;
}
