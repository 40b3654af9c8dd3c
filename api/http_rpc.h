/* http_rpc.h — one call over HTTP (http.c's part in it is the connection):
 * which protocol the request speaks (Connect unary or streaming, JSON or
 * binary; gRPC-Web binary, JSON or text), its deadline and request id, the request message out of
 * its framing, the same call as over gRPC (call.c), and the answer in the
 * protocol's framing with its HTTP status. */
#ifndef SUPPLYSEC_HTTP_RPC_H
#define SUPPLYSEC_HTTP_RPC_H

#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>

#include "http_frame.h"
#include "runtime_internal.h"

/* The door between the HTTP threads and the runtime. A thread passes it
 * before it touches the runtime (api_server) and is then counted in the
 * runtime's in-flight calls, which api_server_stop waits for before it
 * frees the runtime; http_gate_close (before api_server_stop) shuts it,
 * and returns once every thread is either counted or turned away.
 * (Counting in srv->in_flight first and looking at a flag after would
 * touch a freed runtime when a request comes after the stop.) */
typedef struct http_gate {
    atomic_bool closed;
    atomic_int entering; /* threads between the look at closed and their count */
    atomic_int watches;  /* gRPC-Web streams open (http_watch.h), at most HTTP_MAX_WATCHES */
} http_gate;

/* true: counted in srv->in_flight (call http_gate_leave); false: closed. */
bool http_gate_enter(http_gate *g, api_server *srv);
void http_gate_leave(api_server *srv);
void http_gate_close(http_gate *g);

/* How many bytes of a body are kept: a keyless method's, or any body of a
 * caller whose key did not authenticate when its headers came, at most
 * HTTP_UNTRUSTED_BODY_MAX (the keyless message bound with room for base64
 * and JSON); an authenticated caller's, HTTP_BODY_ROOM times the message
 * limit plus 1 KiB (base64 is 4/3 of a message, JSON up to about twice;
 * the message itself is held to the limit once taken out). */
#define HTTP_UNTRUSTED_BODY_MAX (4 * API_KEYLESS_REQUEST_MAX)
#define HTTP_BODY_ROOM 2

/* The body limit for a request to path with authorization value auth
 * (NULL: none), judged through the gate when its headers arrive, before any
 * of its body is kept. */
size_t http_rpc_body_limit(http_gate *g, api_server *srv, const char *path, const char *auth,
                           int max_message_bytes);

/* What http.c hands over of a POST to "/pkg.Service/Method". Strings are
 * the header values (NULL: absent), borrowed for the call. */
typedef struct http_rpc_in {
    const char *path;
    const char *content_type;
    const char *authorization;
    const char *request_id;
    const char *connect_timeout_ms; /* Connect */
    const char *connect_version;    /* Connect-Protocol-Version */
    const char *content_encoding;   /* Content-Encoding or Connect-Content-Encoding (Connect),
                                       grpc-encoding (gRPC-Web) */
    const char *grpc_timeout;       /* gRPC-Web */
    const uint8_t *body;
    size_t len;
    bool body_too_large; /* the body passed max_message_bytes (and was dropped) */
    /* a Connect GET: the query's parameters (body unused) */
    bool get;
    const char *q_encoding, *q_base64, *q_compression, *q_connect;
    const char *q_message; /* q_message_len bytes, percent-decoded */
    size_t q_message_len;
    http_gate *gate; /* the listener's: a watch passes it again at its end */
    int max_message_bytes;
    size_t metadata_bytes; /* the request's header names and values */
} http_rpc_in;

struct http_watch;

/* The answer; the caller frees body with free() (http_answer_free). */
typedef struct http_answer {
    struct http_watch *watch; /* a server stream begun: its frames follow (http_watch.h) */
    unsigned status;          /* HTTP status */
    const char *content_type; /* static */
    char *body;
    size_t len;
    /* gRPC-Web trailers-only answers carry the status in headers */
    int grpc_status;    /* -1: not a gRPC-Web status header */
    char *grpc_message; /* percent-encoded; NULL: none */
    char request_id[65];
} http_answer;

void http_answer_free(http_answer *a);

/* A message as p carries it: JSON text (the proto3 mapping) or protobuf
 * bytes, malloc'd into *out. false when out of memory. */
bool http_rpc_encode_message(http_protocol p, const ProtobufCMessage *msg, uint8_t **out,
                             size_t *n);

/* True when content_type is one this file serves (so http.c answers 415
 * Unsupported Media Type otherwise). */
bool http_rpc_content_type_known(const char *content_type);

/* Serves one call; srv's in-flight count already includes it (http_gate_enter). */
void http_rpc_serve(api_server *srv, const http_rpc_in *in, http_answer *out);

/* An answer in in's protocol that carries only status and message, for
 * calls refused before the runtime is asked (the server is stopping). */
void http_rpc_refuse(const http_rpc_in *in, status_code code, const char *msg, http_answer *out);

#endif
