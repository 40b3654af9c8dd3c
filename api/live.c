/* live.c — the live list of each worker's calls (between their arrival
 * and their end), and the idle calls: those waiting for their client's next
 * message, which the shutdown ends at once (see call_phase in
 * runtime_internal.h). */
#include "runtime_internal.h"

#include <grpc/grpc.h>
#include <pthread.h>
#include <stdatomic.h>

#include "clock.h"

void rt_live_add(call_ctx *c)
{
    worker *w = c->w;
    pthread_mutex_lock(&w->live_mu);
    c->live_next = w->live;
    if (w->live)
        w->live->live_prev = c;
    w->live = c;
    pthread_mutex_unlock(&w->live_mu);
}

void rt_live_remove(call_ctx *c)
{
    worker *w = c->w;
    pthread_mutex_lock(&w->live_mu);
    if (c->live_prev)
        c->live_prev->live_next = c->live_next;
    else
        w->live = c->live_next;
    if (c->live_next)
        c->live_next->live_prev = c->live_prev;
    pthread_mutex_unlock(&w->live_mu);
}

/* Starts a batch that waits for the client's next message; the call is
 * idle until it completes. */
void rt_start_idle_batch(call_ctx *c, const grpc_op *ops, size_t n, tag *t)
{
    atomic_store(&c->idle_since_us, clock_monotonic_us());
    atomic_store(&c->phase, PHASE_IDLE);
    rt_start_batch(c, ops, n, t);
}

/* A message (or the end) arrived: false when the shutdown ended the call
 * while it was idle (it then owes only its final batch). */
bool rt_leave_idle(call_ctx *c)
{
    int idle = PHASE_IDLE;
    if (atomic_compare_exchange_strong(&c->phase, &idle, PHASE_BUSY))
        return true;
    api_fail(&c->api, STATUS_UNAVAILABLE, "the server is shutting down; retry");
    return false;
}

/* At shutdown: ends every call idle for RT_IDLE_END_MS with UNAVAILABLE
 * (runtime_internal.h says why not at once). The list lock keeps
 * each call alive while it is looked at (rt_on_finish unlinks it first). */
void rt_idle_calls_end(api_server *srv)
{
    int64_t before = clock_monotonic_us() - RT_IDLE_END_MS * 1000LL;
    for (int i = 0; i < srv->n_workers; i++) {
        worker *w = &srv->workers[i];
        pthread_mutex_lock(&w->live_mu);
        for (call_ctx *c = w->live; c; c = c->live_next) {
            int idle = PHASE_IDLE;
            if (atomic_load(&c->idle_since_us) <= before &&
                atomic_compare_exchange_strong(&c->phase, &idle, PHASE_ENDED))
                grpc_call_cancel_with_status(c->call, GRPC_STATUS_UNAVAILABLE,
                                             "the server is shutting down; retry", NULL);
        }
        pthread_mutex_unlock(&w->live_mu);
    }
}
