/*
 * fh_time.c - monotonic milliseconds. Owns nothing.
 */
#include <time.h>

#include "fh_time.h"

/* fh_now_ms - CLOCK_MONOTONIC, which never jumps with wall-clock changes */
uint64_t
fh_now_ms(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}
