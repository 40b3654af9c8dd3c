/* zombie.c — core's unref of a call it never handed over, refused
 * UNAVAILABLE during the shutdown (see zombie.h). */
#include "zombie.h"

#include <dlfcn.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdlib.h>

#include "log.h"

typedef void call_unref_fn(grpc_call *);

static atomic_bool refusing;
static _Atomic(call_unref_fn *) core_unref;
static atomic_llong refused_total;

/* Core's own grpc_call_unref: the next definition after the executable's. */
static call_unref_fn *core_call_unref(void)
{
    call_unref_fn *fn = atomic_load(&core_unref);
    if (!fn) {
        fn = (call_unref_fn *)dlsym(RTLD_NEXT, "grpc_call_unref");
        if (!fn) /* libgrpc is linked in: its symbol is always there */
            abort();
        atomic_store(&core_unref, fn);
    }
    return fn;
}

void grpc_call_unref(grpc_call *call)
{
    /* Only core reaches this while the runtime refuses (the runtime and the
     * client use zombie_unref_own); in a server core lets go of a call of
     * its own only when it never handed it over. */
    if (atomic_load(&refusing)) {
        grpc_call_cancel_with_status(call, GRPC_STATUS_UNAVAILABLE,
                                     "the server is shutting down; retry the call", NULL);
        atomic_fetch_add(&refused_total, 1);
    }
    core_call_unref()(call);
}

void zombie_unref_own(grpc_call *call)
{
    core_call_unref()(call);
}

void zombie_refuse_begin(void)
{
    core_call_unref(); /* resolved now, not on a thread of core's */
    atomic_store(&refused_total, 0);
    atomic_store(&refusing, true);
}

void zombie_refuse_end(void)
{
    atomic_store(&refusing, false);
    long long n = atomic_load(&refused_total);
    if (n > 0) {
        log_line l;
        log_begin(&l, LOG_INFO, "calls that reached the shutdown refused with UNAVAILABLE");
        log_int(&l, "refused", n);
        log_emit(&l);
    }
}
