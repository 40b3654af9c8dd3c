/* test_loss_simulation.c — the Monte Carlo simulation's parts
 * (loss_simulation.h): the generator repeats itself from a seed; Poisson
 * counts average their rate, small and split; uniform costs stay in their
 * range; the statistics are the mean and nearest-rank percentiles; a
 * year's loss averages rate x mean cost, the expected annual loss. Every
 * draw comes from a fixed seed, so each figure is the same on every run. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <math.h>
#include <stdlib.h>

#include "loss_simulation.h"

static void test_same_seed_same_draws(void **state)
{
    (void)state;
    loss_rng a, b, c;
    loss_rng_seed(&a, 42);
    loss_rng_seed(&b, 42);
    loss_rng_seed(&c, 43);
    int differ = 0;
    for (int i = 0; i < 1000; i++) {
        double x = loss_uniform(&a), y = loss_uniform(&b), z = loss_uniform(&c);
        assert_true(x == y);
        assert_true(x >= 0 && x < 1);
        differ += x != z;
    }
    assert_true(differ > 990);
}

static double mean_count(double rate, int n)
{
    loss_rng r;
    loss_rng_seed(&r, 7);
    double sum = 0;
    for (int i = 0; i < n; i++)
        sum += loss_poisson(&r, rate);
    return sum / n;
}

static void test_poisson_averages_its_rate(void **state)
{
    (void)state;
    assert_true(mean_count(0, 1000) == 0);
    /* standard error sqrt(rate / n): within four of them */
    const double rates[] = {0.01, 0.1, 1, 3, 12, 52, 100, 1000};
    for (size_t i = 0; i < sizeof rates / sizeof rates[0]; i++) {
        int n = 200000;
        double m = mean_count(rates[i], n), se = sqrt(rates[i] / n);
        if (fabs(m - rates[i]) > 4 * se)
            fail_msg("rate %g: mean %g, more than 4 standard errors (%g) off", rates[i], m, se);
    }
}

static void test_statistics(void **state)
{
    (void)state;
    double v[100];
    for (int i = 0; i < 100; i++) /* 1..100, shuffled */
        v[i] = (double)((i * 37) % 100 + 1);
    loss_stats s;
    loss_stats_of(v, 100, &s);
    assert_true(s.mean == 50.5);
    assert_true(s.p50 == 50 && s.p90 == 90 && s.p99 == 99);
    double one = 7;
    loss_stats_of(&one, 1, &s);
    assert_true(s.mean == 7 && s.p50 == 7 && s.p99 == 7);
    double same[5] = {3, 3, 3, 3, 3};
    loss_stats_of(same, 5, &s);
    assert_true(s.p90 == 3);
}

static void test_years_average_the_expected_annual_loss(void **state)
{
    (void)state;
    enum { N = 100000 };
    double *years = malloc(N * sizeof *years), *total = calloc(N, sizeof *total);
    loss_rng r;
    loss_rng_seed(&r, 2026);
    /* once a year, 10,000 to 100,000 an event: 55,000 a year expected */
    assert_true(loss_simulate(&r, 1, 10000, 100000, N, years, total, INT64_MAX));
    double sum = 0, lo = INFINITY;
    for (int i = 0; i < N; i++) {
        sum += years[i];
        assert_true(total[i] == years[i]);
        if (years[i] > 0 && years[i] < lo)
            lo = years[i];
    }
    assert_true(lo >= 10000);
    double mean = sum / N;
    if (fabs(mean - 55000) > 0.01 * 55000)
        fail_msg("mean %g, more than 1%% off 55,000", mean);
    loss_stats s;
    loss_stats_of(years, N, &s);
    assert_true(s.p50 > 10000 && s.p50 < 100000); /* one event in most middling years */
    assert_true(s.p99 > s.p90 && s.p90 > s.p50);
    /* a deadline already passed: stopped */
    assert_false(loss_simulate(&r, 1, 10000, 100000, N, years, NULL, 1));
    free(years);
    free(total);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_same_seed_same_draws),
        cmocka_unit_test(test_poisson_averages_its_rate),
        cmocka_unit_test(test_statistics),
        cmocka_unit_test(test_years_average_the_expected_annual_loss),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
