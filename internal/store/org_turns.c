/* org_turns.c — see org_turns.h. */
#include "org_turns.h"

#include <assert.h>
#include <errno.h>
#include <time.h>

void org_turns_init(org_turns *t)
{
    for (int i = 0; i < ORG_TURNS; i++)
        pthread_mutex_init(&t->lock[i], NULL);
}

void org_turns_destroy(org_turns *t)
{
    for (int i = 0; i < ORG_TURNS; i++)
        pthread_mutex_destroy(&t->lock[i]);
}

void org_turn_set_add(org_turn_set *s, const char *org)
{
    uint32_t h = 2166136261u; /* FNV-1a */
    for (const unsigned char *p = (const unsigned char *)org; *p; p++)
        h = (h ^ *p) * 16777619u;
    h %= ORG_TURNS;
    s->bits[h / 64] |= (uint64_t)1 << (h % 64);
}

static bool held(const org_turn_set *s, int i)
{
    return (s->bits[i / 64] >> (i % 64)) & 1;
}

/* Gives back the turns of s below index end. */
static void give_below(org_turns *t, const org_turn_set *s, int end)
{
    for (int i = end - 1; i >= 0; i--)
        if (held(s, i))
            pthread_mutex_unlock(&t->lock[i]);
}

bool org_turns_take(org_turns *t, const org_turn_set *s, int64_t deadline_us)
{
    for (int i = 0; i < ORG_TURNS; i++) {
        if (!held(s, i))
            continue;
        int rc;
        if (deadline_us == 0) {
            rc = pthread_mutex_lock(&t->lock[i]);
        } else {
            /* deadline_us is on CLOCK_MONOTONIC (clock.c) */
            struct timespec at = {.tv_sec = deadline_us / 1000000,
                                  .tv_nsec = (long)(deadline_us % 1000000) * 1000};
            rc = pthread_mutex_clocklock(&t->lock[i], CLOCK_MONOTONIC, &at);
        }
        if (rc != 0) {
            assert(rc == ETIMEDOUT);
            give_below(t, s, i);
            return false;
        }
    }
    return true;
}

void org_turns_give(org_turns *t, const org_turn_set *s)
{
    give_below(t, s, ORG_TURNS);
}
