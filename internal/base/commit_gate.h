/* commit_gate.h — the door every commit of a store goes through, so that a
 * stopping server can close it (store_refuse_writes): after gate_close
 * returns, every batch has either committed already or never will. */
#ifndef SUPPLYSEC_COMMIT_GATE_H
#define SUPPLYSEC_COMMIT_GATE_H

#include <pthread.h>
#include <stdbool.h>

typedef struct commit_gate {
    pthread_mutex_t mu;
    pthread_cond_t cv;
    bool closed;    /* under mu; also read without it by gate_is_closed */
    int committing; /* under mu */
} commit_gate;

void gate_init(commit_gate *g);
void gate_destroy(commit_gate *g);
/* Before a COMMIT: false when the gate is closed (roll back instead). */
bool gate_enter(commit_gate *g);
/* After that COMMIT returned, whatever its outcome. */
void gate_leave(commit_gate *g);
/* Closes the gate and waits until no COMMIT is under way. */
void gate_close(commit_gate *g);
/* For waits that should stop early (a busy lock, a retry pause). */
bool gate_is_closed(commit_gate *g);

#endif
