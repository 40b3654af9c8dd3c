/* handlers.h — calling a method's handler as api/call.c does once a call is
 * decoded and authenticated, without gRPC: the handler from its service's
 * table (found by name, as the runtime registers it), an api_call with the
 * caller, the store, the method and no deadline. */
#ifndef SUPPLYSEC_FUZZ_HANDLERS_H
#define SUPPLYSEC_FUZZ_HANDLERS_H

#include "descriptors.h"
#include "runtime.h"

/* The response (free with protobuf_c_message_free_unpacked) or NULL, with *st as the
 * handler left it; a method without a handler is UNIMPLEMENTED. req stays the caller's. */
ProtobufCMessage *fuzz_call(store *db, const principal *who, const fuzz_method *m,
                            ProtobufCMessage *req, status *st);

#endif
