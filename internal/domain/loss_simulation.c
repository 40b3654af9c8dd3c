/* loss_simulation.c — the Monte Carlo simulation of an assessment's annual
 * loss (see loss_simulation.h): for each scenario, in name order, n years
 * at its incident levels and the same n years (the same draws, from the
 * scenario's own stream of the seed) at its residual ones, each year's count of
 * events drawn from a Poisson law at the likelihood level's rate and each
 * event's cost uniformly from the consequence level's range; the whole
 * assessment's year is the sum of its scenarios' same year. Memory: three
 * arrays of n doubles (one scenario's years, and the two totals), whatever
 * the number of scenarios. */
#include "loss_simulation.h"

#include <math.h>
#include <openssl/rand.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "clock.h"
#include "scoring_scheme.h"
#include "security_assessment.h"
#include "threat_scenario.h"

#define COMBINATION(x) SUPPLYSEC__V1__SCORE_COMBINATION__SCORE_COMBINATION_##x
#define POISSON_PART 30.0 /* exp(-30) is far from underflow */

/* ---- the generator and the draws ---- */

static uint64_t splitmix64(uint64_t *x)
{
    uint64_t z = (*x += 0x9e3779b97f4a7c15u);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9u;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebu;
    return z ^ (z >> 31);
}

void loss_rng_seed(loss_rng *r, uint64_t seed)
{
    for (int i = 0; i < 4; i++)
        r->s[i] = splitmix64(&seed);
}

static uint64_t rotl(uint64_t x, int k)
{
    return (x << k) | (x >> (64 - k));
}

static uint64_t next(loss_rng *r)
{
    uint64_t *s = r->s;
    uint64_t out = rotl(s[1] * 5, 7) * 9, t = s[1] << 17;
    s[2] ^= s[0];
    s[3] ^= s[1];
    s[1] ^= s[2];
    s[0] ^= s[3];
    s[2] ^= t;
    s[3] = rotl(s[3], 45);
    return out;
}

double loss_uniform(loss_rng *r)
{
    return (double)(next(r) >> 11) * 0x1.0p-53;
}

unsigned loss_poisson(loss_rng *r, double rate)
{
    unsigned count = 0;
    while (rate > 0) {
        double part = rate > POISSON_PART ? POISSON_PART : rate;
        rate -= part;
        double limit = exp(-part), p = loss_uniform(r);
        while (p > limit) {
            count++;
            p *= loss_uniform(r);
        }
    }
    return count;
}

bool loss_simulate(loss_rng *r, double rate, double lo, double hi, size_t n, double *years,
                   double *total, int64_t deadline_us)
{
    for (size_t i = 0; i < n; i++) {
        if ((i & 1023) == 0 && deadline_us != INT64_MAX && clock_monotonic_us() >= deadline_us)
            return false;
        unsigned events = loss_poisson(r, rate);
        double loss = 0;
        for (unsigned e = 0; e < events; e++)
            loss += lo + (hi - lo) * loss_uniform(r);
        years[i] = loss;
        if (total)
            total[i] += loss;
    }
    return true;
}

/* ---- the statistics ---- */

/* Leaves the k-th smallest of a[0..n) at a[k] (Hoare's selection). */
static void select_kth(double *a, size_t n, size_t k)
{
    size_t lo = 0, hi = n - 1;
    while (lo < hi) {
        double pivot = a[lo + (hi - lo) / 2];
        size_t i = lo, j = hi;
        while (i <= j) {
            while (a[i] < pivot)
                i++;
            while (a[j] > pivot)
                j--;
            if (i <= j) {
                double t = a[i];
                a[i] = a[j];
                a[j] = t;
                i++;
                if (j == 0)
                    break;
                j--;
            }
        }
        if (k <= j)
            hi = j;
        else if (k >= i)
            lo = i;
        else
            return;
    }
}

/* The nearest-rank p-quantile: the smallest value with at least p·n
 * values at or below it. */
static double quantile(double *a, size_t n, double p)
{
    size_t rank = (size_t)ceil(p * (double)n);
    size_t k = rank ? rank - 1 : 0;
    select_kth(a, n, k);
    return a[k];
}

void loss_stats_of(double *values, size_t n, loss_stats *out)
{
    double sum = 0;
    for (size_t i = 0; i < n; i++)
        sum += values[i];
    out->mean = sum / (double)n;
    out->p50 = quantile(values, n, 0.50);
    out->p90 = quantile(values, n, 0.90);
    out->p99 = quantile(values, n, 0.99);
}

/* ---- an assessment ---- */

typedef struct simulation {
    const op_ctx *op;
    int64_t deadline_us; /* the call's, or LOSS_TIME_MAX_US from the start if sooner */
    const ScoringScheme *sch;
    uint64_t seed;
    loss_rng rng;
    size_t n;
    double *years, *total_before, *total_after;
    Supplysec__V1__ScenarioLoss **scenarios;
    size_t n_scenarios, cap;
} simulation;

static Supplysec__V1__LossDistribution *distribution(const loss_stats *s)
{
    Supplysec__V1__LossDistribution *d = malloc(sizeof *d);
    if (d) {
        supplysec__v1__loss_distribution__init(d);
        d->mean = s->mean;
        d->p50 = s->p50;
        d->p90 = s->p90;
        d->p99 = s->p99;
    }
    return d;
}

/* One scenario's years at levels c, l, into a distribution. */
static Supplysec__V1__LossDistribution *years_at(simulation *sim, int c, int l, double *total,
                                                 const char *name, status *st)
{
    const Supplysec__V1__Scale *cs = sim->sch->consequence, *ls = sim->sch->likelihood;
    if (c < 1 || (size_t)c > cs->n_levels || l < 1 || (size_t)l > ls->n_levels) {
        status_fail(st, STATUS_DATA_LOSS, "%s: levels %d, %d are off the scheme", name, c, l);
        return NULL;
    }
    double rate = ls->levels[l - 1]->value;
    if (rate > LOSS_RATE_MAX) {
        status_fail(st, STATUS_FAILED_PRECONDITION,
                    "%s: its likelihood \"%s\" is %g events a year; the simulation takes at most "
                    "%g",
                    name, ls->levels[l - 1]->label, rate, LOSS_RATE_MAX);
        return NULL;
    }
    const Supplysec__V1__ScaleLevel *cl = cs->levels[c - 1];
    if (!loss_simulate(&sim->rng, rate, cl->min_cost, cl->max_cost, sim->n, sim->years, total,
                       sim->deadline_us)) {
        status_fail(st, STATUS_DEADLINE_EXCEEDED,
                    "the simulation ran out of time at %s (at most %lld s, or the call's "
                    "deadline): ask for fewer trials",
                    name, (long long)(LOSS_TIME_MAX_US / 1000000));
        return NULL;
    }
    loss_stats s;
    loss_stats_of(sim->years, sim->n, &s);
    Supplysec__V1__LossDistribution *d = distribution(&s);
    if (!d)
        status_fail(st, STATUS_RESOURCE_EXHAUSTED, "out of memory");
    return d;
}

static bool simulate_one(const ThreatScenario *s, void *ctx, status *st)
{
    simulation *sim = ctx;
    if (sim->n_scenarios == sim->cap) {
        size_t cap = sim->cap ? sim->cap * 2 : 64;
        void *p = realloc(sim->scenarios, cap * sizeof *sim->scenarios);
        if (!p)
            return status_fail(st, STATUS_RESOURCE_EXHAUSTED, "out of memory");
        sim->scenarios = p;
        sim->cap = cap;
    }
    Supplysec__V1__ScenarioLoss *sl = malloc(sizeof *sl);
    if (!sl)
        return status_fail(st, STATUS_RESOURCE_EXHAUSTED, "out of memory");
    supplysec__v1__scenario_loss__init(sl);
    sim->scenarios[sim->n_scenarios++] = sl; /* freed with the others */
    if (!(sl->threat_scenario = strdup(s->name)))
        return status_fail(st, STATUS_RESOURCE_EXHAUSTED, "out of memory");
    /* before and after from the same draws (common random numbers): a
     * scenario no countermeasure changed shows the same figures twice, and
     * one that changed shows the change, not the noise */
    uint64_t x = sim->seed + sim->n_scenarios, stream = splitmix64(&x);
    loss_rng_seed(&sim->rng, stream);
    if (!(sl->before = years_at(sim, s->consequence_level, s->likelihood_level, sim->total_before,
                                s->name, st)))
        return false;
    loss_rng_seed(&sim->rng, stream);
    return (sl->after = years_at(sim, s->residual_consequence_level, s->residual_likelihood_level,
                                 sim->total_after, s->name, st));
}

Supplysec__V1__AnnualLossSimulation *security_assessment_simulate(const op_ctx *op,
                                                                  const char *name, int trials,
                                                                  uint64_t seed, status *st)
{
    if (trials < 0 || trials > LOSS_TRIALS_MAX) {
        status_fail(st, STATUS_INVALID_ARGUMENT, "trials: 1 to %d (0 for %d), got %d",
                    LOSS_TRIALS_MAX, LOSS_TRIALS_DEFAULT, trials);
        return NULL;
    }
    assessment_report rep;
    SecurityAssessment *a = security_assessment_report_load(op, name, &rep, st);
    if (!a)
        return NULL;
    Supplysec__V1__AnnualLossSimulation *out = NULL;
    simulation sim = {.op = op,
                      .deadline_us = clock_monotonic_us() + LOSS_TIME_MAX_US,
                      .sch = a->scheme,
                      .n = trials ? (size_t)trials : LOSS_TRIALS_DEFAULT};
    if (op->deadline_us < sim.deadline_us)
        sim.deadline_us = op->deadline_us;
    /* (the loader refused an assessment without its scheme's scales: DATA_LOSS) */
    if (sim.sch->combination != COMBINATION(EXPECTED_ANNUAL_LOSS)) {
        status_fail(st, STATUS_FAILED_PRECONDITION,
                    "%s is scored on \"%s\", which has no costs: the simulation needs an "
                    "expected-annual-loss scheme (the SEMI_QUANTITATIVE preset)",
                    name, sim.sch->title);
        goto done;
    }
    while (!seed && RAND_bytes((unsigned char *)&seed, sizeof seed) == 1)
        ; /* 0 means "draw one" */
    if (!seed) {
        status_fail(st, STATUS_INTERNAL, "no random seed");
        goto done;
    }
    sim.seed = seed;
    sim.years = malloc(sim.n * sizeof *sim.years);
    sim.total_before = calloc(sim.n, sizeof *sim.total_before);
    sim.total_after = calloc(sim.n, sizeof *sim.total_after);
    if (!sim.years || !sim.total_before || !sim.total_after) {
        status_fail(st, STATUS_RESOURCE_EXHAUSTED, "out of memory");
        goto done;
    }
    if (!security_assessment_report_scenarios(op, &rep, simulate_one, &sim, st))
        goto done;
    loss_stats before, after;
    loss_stats_of(sim.total_before, sim.n, &before);
    loss_stats_of(sim.total_after, sim.n, &after);
    if (!(out = malloc(sizeof *out))) {
        status_fail(st, STATUS_RESOURCE_EXHAUSTED, "out of memory");
        goto done;
    }
    supplysec__v1__annual_loss_simulation__init(out);
    out->seed = seed;
    out->trials = (int32_t)sim.n;
    out->scenarios = sim.scenarios; /* they move into the answer */
    out->n_scenarios = sim.n_scenarios;
    sim.scenarios = NULL;
    sim.n_scenarios = 0;
    out->security_assessment = strdup(name);
    out->revision_id = strdup(a->revision_id);
    out->currency = strdup(sim.sch->currency);
    out->total_before = distribution(&before);
    out->total_after = distribution(&after);
    if (!out->security_assessment || !out->revision_id || !out->currency || !out->total_before ||
        !out->total_after) {
        status_fail(st, STATUS_RESOURCE_EXHAUSTED, "out of memory");
        protobuf_c_message_free_unpacked(&out->base, NULL);
        out = NULL;
    }
done:
    for (size_t i = 0; i < sim.n_scenarios; i++)
        protobuf_c_message_free_unpacked(&sim.scenarios[i]->base, NULL);
    free(sim.scenarios);
    free(sim.years);
    free(sim.total_before);
    free(sim.total_after);
    protobuf_c_message_free_unpacked(&a->base, NULL);
    return out;
}
