/* client.h — unary gRPC calls over gRPC core, for the CLI and tests. */
#ifndef SUPPLYSEC_CLIENT_H
#define SUPPLYSEC_CLIENT_H

#include <protobuf-c/protobuf-c.h>
#include <stdbool.h>

typedef struct api_client api_client;

/* Connects lazily to addr (host:port). ca_file: TLS with that root (NULL
 * and tls false: plaintext). NULL with *err (malloc'd) on failure. */
api_client *api_client_open(const char *addr, bool tls, const char *ca_file, char **err);
void api_client_close(api_client *c);

/* Calls method path ("/pkg.Service/Method") with req. Returns the gRPC
 * status code; on OK *resp is a message of type out (free with
 * protobuf_c_message_free_unpacked), otherwise *details (malloc'd) says why. */
int api_client_call(api_client *c, const char *path, const ProtobufCMessage *req,
                    const ProtobufCMessageDescriptor *out, const char *api_key, int timeout_ms,
                    ProtobufCMessage **resp, char **details);

#endif
