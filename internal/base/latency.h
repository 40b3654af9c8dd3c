/* latency.h — a histogram of durations that threads record into without a
 * lock (relaxed atomics), for the metrics (/metrics: api/metrics.c): fixed
 * bucket bounds from 100 µs to 10 s, each bucket counting the durations up
 * to its bound that no smaller bound took, and the sum. */
#ifndef SUPPLYSEC_LATENCY_H
#define SUPPLYSEC_LATENCY_H

#include <stdatomic.h>
#include <stdint.h>

#define LATENCY_BOUNDS 16

/* The upper bounds of the buckets, in microseconds, ascending; a last
 * bucket (index LATENCY_BOUNDS) takes the rest. */
extern const int64_t latency_bound_us[LATENCY_BOUNDS];

typedef struct latency_histogram {
    atomic_uint_least64_t bucket[LATENCY_BOUNDS + 1];
    atomic_uint_least64_t sum_us;
} latency_histogram;

/* Records one duration (negative ones count as 0). */
void latency_record(latency_histogram *h, int64_t us);

#endif
