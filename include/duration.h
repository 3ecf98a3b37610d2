/*
 * duration.h - Go-style durations ("10m", "1h30m", "500ms", "45s") as used by
 * controller-runtime flags such as --resync-period.
 */
#ifndef DURATION_H
#define DURATION_H

#include <stdint.h>

/* duration_parse_ms - parse s into milliseconds; units ms, s, m, h; a bare
 * number means seconds. -FH_EINVAL for empty, negative, unknown unit or
 * overflow. */
int duration_parse_ms(const char *s, uint64_t *out_ms);

#endif
