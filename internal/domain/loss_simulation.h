/* loss_simulation.h — the Monte Carlo simulation of a security assessment's
 * annual loss, the quantitative method ISO 28004's guidance names, for an
 * assessment scored on an expected-annual-loss scheme: the generator, the
 * draws, the statistics, and the simulation of an assessment. */
#ifndef SUPPLYSEC_LOSS_SIMULATION_H
#define SUPPLYSEC_LOSS_SIMULATION_H

#include <stddef.h>
#include <stdint.h>

#include "kind.h"
#include "supplysec/v1/security_assessments.pb-c.h"

#define LOSS_TRIALS_DEFAULT 10000
#define LOSS_TRIALS_MAX 100000
#define LOSS_RATE_MAX 1000.0 /* events a year a scenario may be simulated at */
/* The longest a simulation runs, whatever the client's deadline (or none):
 * it holds a worker thread. */
#define LOSS_TIME_MAX_US (60 * 1000000LL)

/* xoshiro256**, seeded through splitmix64: the same seed, the same draws. */
typedef struct loss_rng {
    uint64_t s[4];
} loss_rng;

void loss_rng_seed(loss_rng *r, uint64_t seed);
/* Uniform in [0, 1). */
double loss_uniform(loss_rng *r);
/* A count of events in a year at rate events a year (0 <= rate <=
 * LOSS_RATE_MAX): Poisson, by Knuth's product of uniforms, the rate split
 * in parts of at most 30 (a sum of Poisson counts is one). */
unsigned loss_poisson(loss_rng *r, double rate);

typedef struct loss_stats {
    double mean, p50, p90, p99;
} loss_stats;

/* The mean and the nearest-rank percentiles of values[0..n) (n > 0),
 * which it reorders. */
void loss_stats_of(double *values, size_t n, loss_stats *out);

/* years[i]: the loss of simulated year i (of n) of one scenario, events at
 * rate a year each costing uniformly from lo to hi; added to total[i] too
 * when total is not NULL. False when deadline_us (CLOCK_MONOTONIC
 * microseconds; INT64_MAX for none) passes first, looked at every 1,024
 * years. */
bool loss_simulate(loss_rng *r, double rate, double lo, double hi, size_t n, double *years,
                   double *total, int64_t deadline_us);

/* SimulateAnnualLoss of the assessment `name` (trials 0: the default;
 * seed 0: one drawn): an answer the caller frees, or NULL with st set.
 * VIEWER. */
Supplysec__V1__AnnualLossSimulation *security_assessment_simulate(const op_ctx *op,
                                                                  const char *name, int trials,
                                                                  uint64_t seed, status *st);

#endif
