/* commit_gate.c — see commit_gate.h. */
#include "commit_gate.h"

void gate_init(commit_gate *g)
{
    pthread_mutex_init(&g->mu, NULL);
    pthread_cond_init(&g->cv, NULL);
    g->closed = false;
    g->committing = 0;
}

void gate_destroy(commit_gate *g)
{
    pthread_cond_destroy(&g->cv);
    pthread_mutex_destroy(&g->mu);
}

bool gate_enter(commit_gate *g)
{
    pthread_mutex_lock(&g->mu);
    bool open = !g->closed;
    if (open)
        g->committing++;
    pthread_mutex_unlock(&g->mu);
    return open;
}

void gate_leave(commit_gate *g)
{
    pthread_mutex_lock(&g->mu);
    if (--g->committing == 0)
        pthread_cond_broadcast(&g->cv);
    pthread_mutex_unlock(&g->mu);
}

void gate_close(commit_gate *g)
{
    pthread_mutex_lock(&g->mu);
    g->closed = true;
    while (g->committing > 0)
        pthread_cond_wait(&g->cv, &g->mu);
    pthread_mutex_unlock(&g->mu);
}

bool gate_is_closed(commit_gate *g)
{
    pthread_mutex_lock(&g->mu);
    bool closed = g->closed;
    pthread_mutex_unlock(&g->mu);
    return closed;
}
