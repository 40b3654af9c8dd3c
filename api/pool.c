/* pool.c — threads for jobs that may block (see pool.h). */
#include "pool.h"

#include <pthread.h>
#include <stdbool.h>
#include <stdlib.h>

struct pool {
    pthread_mutex_t mu;
    pthread_cond_t cv;
    pool_job *head, **tail; /* under mu */
    bool stopping;          /* under mu */
    void (*run)(pool_job *job);
    pthread_t *threads;
    int n_threads;
};

static void *pool_main(void *arg)
{
    pool *p = arg;
    pthread_mutex_lock(&p->mu);
    for (;;) {
        while (!p->head && !p->stopping)
            pthread_cond_wait(&p->cv, &p->mu);
        pool_job *job = p->head;
        if (!job)
            break; /* stopping, and nothing is left */
        p->head = job->next;
        if (!p->head)
            p->tail = &p->head;
        pthread_mutex_unlock(&p->mu);
        p->run(job);
        pthread_mutex_lock(&p->mu);
    }
    pthread_mutex_unlock(&p->mu);
    return NULL;
}

pool *pool_new(int n, void (*run)(pool_job *job))
{
    if (n < 1)
        return NULL;
    pool *p = calloc(1, sizeof *p);
    if (!p || !(p->threads = calloc((size_t)n, sizeof *p->threads))) {
        free(p);
        return NULL;
    }
    pthread_mutex_init(&p->mu, NULL);
    pthread_cond_init(&p->cv, NULL);
    p->tail = &p->head;
    p->run = run;
    for (int i = 0; i < n; i++) {
        if (pthread_create(&p->threads[i], NULL, pool_main, p) != 0)
            break;
        p->n_threads++;
    }
    if (p->n_threads == 0) {
        pool_free(p);
        return NULL;
    }
    return p;
}

void pool_submit(pool *p, pool_job *job)
{
    job->next = NULL;
    pthread_mutex_lock(&p->mu);
    *p->tail = job;
    p->tail = &job->next;
    pthread_cond_signal(&p->cv);
    pthread_mutex_unlock(&p->mu);
}

void pool_free(pool *p)
{
    if (!p)
        return;
    pthread_mutex_lock(&p->mu);
    p->stopping = true;
    pthread_cond_broadcast(&p->cv);
    pthread_mutex_unlock(&p->mu);
    for (int i = 0; i < p->n_threads; i++)
        pthread_join(p->threads[i], NULL);
    pthread_cond_destroy(&p->cv);
    pthread_mutex_destroy(&p->mu);
    free(p->threads);
    free(p);
}
