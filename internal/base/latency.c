/* latency.c — see latency.h. */
#include "latency.h"

const int64_t latency_bound_us[LATENCY_BOUNDS] = {
    100,   250,    500,    1000,   2500,    5000,    10000,   25000,
    50000, 100000, 250000, 500000, 1000000, 2500000, 5000000, 10000000,
};

void latency_record(latency_histogram *h, int64_t us)
{
    if (us < 0)
        us = 0;
    int i = 0;
    while (i < LATENCY_BOUNDS && us > latency_bound_us[i])
        i++;
    atomic_fetch_add_explicit(&h->bucket[i], 1, memory_order_relaxed);
    atomic_fetch_add_explicit(&h->sum_us, (uint64_t)us, memory_order_relaxed);
}
