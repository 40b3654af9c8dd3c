/* clock.h — the two clocks supplysec reads: monotonic for deadlines and
 * durations, real time for timestamps. */
#ifndef SUPPLYSEC_CLOCK_H
#define SUPPLYSEC_CLOCK_H

#include <stdint.h>

/* CLOCK_MONOTONIC in microseconds: deadlines and durations. */
int64_t clock_monotonic_us(void);
/* Milliseconds since the Unix epoch: resource timestamps. */
int64_t clock_realtime_ms(void);

#endif
