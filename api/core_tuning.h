/* core_tuning.h — settings of the libraries under gRPC core that its C API
 * does not reach.
 *
 * Debian builds Abseil without NDEBUG, so every absl::Mutex that gRPC core
 * takes (several per call: completion queues, the server's request
 * matcher, the transport) also records lock ordering in a global graph,
 * Abseil's debug-build deadlock detector. That bookkeeping cost 4–6 % of
 * the server's CPU at 32 streams (docs/performance.md). A release build
 * of Abseil has it off; core_tuning_apply turns it off here too. */
#ifndef SUPPLYSEC_CORE_TUNING_H
#define SUPPLYSEC_CORE_TUNING_H

#include <stdbool.h>

/* Call once, before grpc_init and before any other thread starts. Returns
 * whether Abseil's deadlock detection was found and turned off; false
 * (an Abseil without the entry point) leaves everything as it was. */
bool core_tuning_apply(void);

#endif
