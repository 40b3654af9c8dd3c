/* pool.h — threads that run jobs which may block (store writes waiting for
 * their commit), so that the workers draining the completion queues never
 * wait for a disk. A job is intrusive: embed a pool_job in the owner and
 * recover the owner in run. Jobs run in submission order, each once. */
#ifndef SUPPLYSEC_POOL_H
#define SUPPLYSEC_POOL_H

#include <stddef.h>

typedef struct pool_job {
    struct pool_job *next;
} pool_job;

typedef struct pool pool;

/* n threads calling run(job) for each job submitted; NULL when n < 1 or
 * threads cannot be made. */
pool *pool_new(int n, void (*run)(pool_job *job));
void pool_submit(pool *p, pool_job *job);
/* Runs the jobs still queued, then joins the threads and frees p. */
void pool_free(pool *p);

#endif
