/* zombie.h — calls gRPC core takes during the shutdown and never hands to
 * the runtime: refused UNAVAILABLE (retryable), not CANCELLED.
 *
 * gRPC core 1.51 shuts a server down with a graceful GOAWAY: a first GOAWAY
 * that still admits streams, a PING, and the final GOAWAY once the client
 * answers it. A call whose headers are read in between is a "zombie": core
 * lets go of it with grpc_call_unref, which ends it CANCELLED, though the
 * client cancelled nothing and cannot tell it from a call that ran (gRPC
 * issue 41785; the fix proposed upstream ends it UNAVAILABLE). The longer
 * the client takes to answer the PING (a loaded machine), the more calls
 * meet that fate; parking the workers (runtime.c) cannot keep them out,
 * because the client sent them before it saw the first GOAWAY.
 *
 * Like accept.c and cork.c, zombie.c defines a function libgrpc calls through
 * its PLT, grpc_call_unref, so that core's own unref of a zombie binds to
 * it: while the refusal is on, it ends the call UNAVAILABLE first, then
 * hands it to core's grpc_call_unref. The runtime lets go of its own calls
 * with zombie_unref_own, which is core's function unchanged.
 */
#ifndef SUPPLYSEC_ZOMBIE_H
#define SUPPLYSEC_ZOMBIE_H

#include <grpc/grpc.h>

/* From now on, a call gRPC core lets go of itself is ended UNAVAILABLE.
 * Call it before grpc_server_shutdown_and_notify. */
void zombie_refuse_begin(void);

/* Back to core's behaviour (after grpc_server_destroy). */
void zombie_refuse_end(void);

/* Core's grpc_call_unref, for the calls the runtime or a client owns. */
void zombie_unref_own(grpc_call *call);

#endif
