/* org_turns.h — writers of one organization take turns within this process.
 *
 * Every write to an organization moves the head of its audit log (on
 * MongoDB, its counter document), so two transactions writing the same
 * organization at once conflict: one of them gets WriteConflict, pauses and
 * runs again, and under load most of a busy organization's transactions are
 * run more than once. The writers of one server wait for their turn here
 * instead; only writers on different servers sharing the store still meet
 * as conflicts (and retry, as before).
 *
 * Organizations are hashed onto ORG_TURNS locks: two organizations may
 * share one, which costs only a wait. A set of turns is taken in ascending
 * order, so batches writing several organizations cannot deadlock. */
#ifndef SUPPLYSEC_ORG_TURNS_H
#define SUPPLYSEC_ORG_TURNS_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

#define ORG_TURNS 256

typedef struct org_turns {
    pthread_mutex_t lock[ORG_TURNS];
} org_turns;

/* The turns one batch needs: a bit per lock. */
typedef struct org_turn_set {
    uint64_t bits[ORG_TURNS / 64];
} org_turn_set;

void org_turns_init(org_turns *t);
void org_turns_destroy(org_turns *t);

/* Adds the turn of organization org (NUL-terminated, may be empty). */
void org_turn_set_add(org_turn_set *s, const char *org);

/* Waits for every turn of s, until deadline_us (clock_monotonic_us; 0: no
 * deadline). true: all are held; false: the deadline passed and none is. */
bool org_turns_take(org_turns *t, const org_turn_set *s, int64_t deadline_us);

/* Gives back every turn of s (taken by org_turns_take). */
void org_turns_give(org_turns *t, const org_turn_set *s);

#endif
