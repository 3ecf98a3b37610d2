/*
 * fh_time.h - the one monotonic clock every process reads.
 */
#ifndef FH_TIME_H
#define FH_TIME_H

#include <stdint.h>

/* fh_now_ms - CLOCK_MONOTONIC in milliseconds */
uint64_t fh_now_ms(void);

#endif
