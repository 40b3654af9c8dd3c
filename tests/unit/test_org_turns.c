/* test_org_turns.c — writers of one organization take turns (org_turns.h): a
 * turn held elsewhere makes a taker wait until it is given back or its
 * deadline passes, a taker that gives up holds nothing, and a set of turns
 * taken by two threads in any order of organizations never deadlocks. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <pthread.h>
#include <stdio.h>
#include <time.h>

#include "clock.h"
#include "org_turns.h"

static org_turns turns;

static int setup(void **state)
{
    (void)state;
    org_turns_init(&turns);
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    org_turns_destroy(&turns);
    return 0;
}

static org_turn_set set_of(const char *a, const char *b)
{
    org_turn_set s = {0};
    org_turn_set_add(&s, a);
    if (b)
        org_turn_set_add(&s, b);
    return s;
}

static int count(const org_turn_set *s)
{
    int n = 0;
    for (int i = 0; i < ORG_TURNS / 64; i++)
        n += __builtin_popcountll(s->bits[i]);
    return n;
}

/* true when another thread could take s now */
static bool free_now(const org_turn_set *s)
{
    for (int i = 0; i < ORG_TURNS; i++) {
        if (!((s->bits[i / 64] >> (i % 64)) & 1))
            continue;
        if (pthread_mutex_trylock(&turns.lock[i]) != 0)
            return false;
        pthread_mutex_unlock(&turns.lock[i]);
    }
    return true;
}

static void test_one_org_one_turn(void **state)
{
    (void)state;
    org_turn_set s = set_of("acme", "acme");
    assert_int_equal(count(&s), 1);
    org_turn_set empty = set_of("", NULL);
    assert_int_equal(count(&empty), 1); /* the platform's own log has a turn too */
}

typedef struct {
    org_turn_set set;
    int64_t deadline_us;
    bool took;
    int64_t waited_us;
} taker;

static void *take_in_thread(void *arg)
{
    taker *t = arg;
    int64_t start = clock_monotonic_us();
    t->took = org_turns_take(&turns, &t->set, t->deadline_us);
    t->waited_us = clock_monotonic_us() - start;
    if (t->took)
        org_turns_give(&turns, &t->set);
    return NULL;
}

static void test_taker_gives_up_at_its_deadline_holding_nothing(void **state)
{
    (void)state;
    /* find a second organization whose turn is not acme's */
    org_turn_set held = set_of("acme", NULL);
    char other[32] = "";
    for (int i = 0; i < 1000; i++) {
        snprintf(other, sizeof other, "other-%d", i);
        org_turn_set o = set_of(other, NULL);
        if (o.bits[0] != held.bits[0] || o.bits[1] != held.bits[1] || o.bits[2] != held.bits[2] ||
            o.bits[3] != held.bits[3])
            break;
    }
    assert_true(org_turns_take(&turns, &held, 0));
    taker t = {.set = set_of(other, "acme"), .deadline_us = clock_monotonic_us() + 50000};
    pthread_t th;
    pthread_create(&th, NULL, take_in_thread, &t);
    pthread_join(th, NULL);
    assert_false(t.took);
    assert_true(t.waited_us >= 45000);
    /* the other organization's turn, taken on the way, was given back */
    assert_false(free_now(&t.set)); /* acme's is still held here */
    org_turn_set only_other = set_of(other, NULL);
    assert_true(free_now(&only_other));
    org_turns_give(&turns, &held);
    assert_true(free_now(&t.set));
}

static void test_waiter_goes_when_the_turn_is_given_back(void **state)
{
    (void)state;
    org_turn_set held = set_of("acme", NULL);
    assert_true(org_turns_take(&turns, &held, 0));
    taker t = {.set = held, .deadline_us = clock_monotonic_us() + 10 * 1000000};
    pthread_t th;
    pthread_create(&th, NULL, take_in_thread, &t);
    struct timespec pause = {0, 20 * 1000000};
    nanosleep(&pause, NULL);
    org_turns_give(&turns, &held);
    pthread_join(th, NULL);
    assert_true(t.took);
    assert_true(t.waited_us >= 15000);
}

static void *take_many(void *arg)
{
    const char **orgs = arg;
    for (int i = 0; i < 20000; i++) {
        org_turn_set s = set_of(orgs[i % 4], orgs[(i + 1) % 4]);
        if (!org_turns_take(&turns, &s, 0))
            return (void *)1;
        org_turns_give(&turns, &s);
    }
    return NULL;
}

static void test_sets_taken_in_any_order_never_deadlock(void **state)
{
    (void)state;
    static const char *forward[] = {"a", "b", "c", "d"};
    static const char *backward[] = {"d", "c", "b", "a"};
    pthread_t t1, t2;
    void *r1, *r2;
    pthread_create(&t1, NULL, take_many, (void *)forward);
    pthread_create(&t2, NULL, take_many, (void *)backward);
    pthread_join(t1, &r1);
    pthread_join(t2, &r2);
    assert_null(r1);
    assert_null(r2);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_one_org_one_turn),
        cmocka_unit_test(test_taker_gives_up_at_its_deadline_holding_nothing),
        cmocka_unit_test(test_waiter_goes_when_the_turn_is_given_back),
        cmocka_unit_test(test_sets_taken_in_any_order_never_deadlock),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
