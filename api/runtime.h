/* runtime.h — the one gRPC runtime that serves every method.
 *
 * Over gRPC core's C API (see docs/grpc-core.md), driven by protobuf-c
 * service descriptors: each service is registered with a table that maps
 * its method names to handlers. For every call the runtime decodes the
 * request, authenticates the caller, builds the call context (principal,
 * organization, role, deadline, request id), calls the handler, encodes the
 * answer, maps the status and logs one JSON line. Unknown methods get
 * UNIMPLEMENTED at once. Adding an RPC is one handler and one table line.
 * Bidirectional streams call the handler once per request; server streams
 * are watches: the handler is asked again every second and what changed is
 * sent, until the client cancels or the server stops.
 */
#ifndef SUPPLYSEC_RUNTIME_H
#define SUPPLYSEC_RUNTIME_H

#include <protobuf-c/protobuf-c.h>
#include <stdbool.h>

#include "auth.h"
#include "kind.h"
#include "resource.h"
#include "status.h"
#include "store.h"

typedef struct api_method api_method;

/* What a handler sees of its call. */
typedef struct api_call {
    const char *method;      /* "/supplysec.v1.Organizations/GetOrganization" */
    const api_method *entry; /* the method's table line */
    const ProtobufCMethodDescriptor *method_desc;
    char request_id[65];
    principal who; /* valid when authenticated */
    bool authenticated;
    op_ctx op;      /* store, principal, method, request id, deadline */
    op_reads reads; /* what the access rules said of this request's reads (op.reads) */
    status st;      /* set by a failing handler */
} api_call;

/* Answers one request: returns the response (the runtime frees it with
 * protobuf_c_message_free_unpacked) or NULL with call->st set. The handler
 * may take parts out of req (setting the field to NULL); the runtime frees
 * the rest. For a bidirectional stream it is called once per request
 * message. */
typedef ProtobufCMessage *(*api_handler)(api_call *call, ProtobufCMessage *req);

typedef enum api_auth { API_AUTH_KEY = 0, API_AUTH_NONE } api_auth;

/* protobuf-c's method descriptors do not record streaming; the table does. */
typedef enum api_kind { API_UNARY = 0, API_SERVER_STREAM, API_BIDI_STREAM } api_kind;

/* A standard method (AIP-131..135) of a kind, or a controlled kind's
 * lifecycle method (SubmitForReview, Approve, Reject, CreateRevision,
 * ListRevisions): served by api_std_handler from the kind's declaration,
 * its request and response fields bound by name and type from the
 * descriptors (std_methods.c). */
typedef enum api_std {
    API_STD_NONE = 0,
    API_STD_GET,
    API_STD_LIST,
    API_STD_LIST_REVISIONS, /* a controlled kind's revisions (lifecycle.h) */
    API_STD_CREATE,         /* from here on, methods that write */
    API_STD_UPDATE,
    API_STD_DELETE,
    API_STD_SUBMIT, /* a controlled kind's moves (AIP-136 custom methods) */
    API_STD_APPROVE,
    API_STD_REJECT,
    API_STD_REVISE,
} api_std;

struct api_method {
    const char *name;    /* as in the service descriptor, e.g. "GetOrganization" */
    api_handler handler; /* NULL: answered UNIMPLEMENTED with `unimplemented_why` */
    api_auth auth;
    api_kind kind;
    const char *unimplemented_why;
    /* It writes to the store: it runs on a writer thread (pool.h), where
     * it may wait for its commit without holding a worker, and beside
     * other writers whose batches share that commit (group commit). */
    bool writes;
    api_std standard; /* not API_STD_NONE: a standard method of resource_kind */
    const kind *resource_kind;
};

/* A standard method's table line: `API_STANDARD(GET, "GetOrganization",
 * &organization_kind)`. */
#define API_STANDARD(verb, method_name, kind_ptr)                                                  \
    {                                                                                              \
        .name = (method_name), .handler = api_std_handler, .standard = API_STD_##verb,             \
        .resource_kind = (kind_ptr), .writes = API_STD_##verb >= API_STD_CREATE                    \
    }

/* Serves call->entry's standard method. */
ProtobufCMessage *api_std_handler(api_call *call, ProtobufCMessage *req);

/* Start-up: every standard method of svc has the request and response
 * shape its verb needs (AIP-131..135 field names and types) and a kind
 * that passes kind_check; false with err (a sentence naming the method
 * and what is missing) otherwise. */
bool api_std_check(const ProtobufCServiceDescriptor *svc, const api_method *methods, size_t n,
                   char *err, size_t errlen);

typedef struct api_service {
    const ProtobufCServiceDescriptor *desc;
    const api_method *methods;
    size_t n_methods;
} api_service;

/* The bounds a client meets (docs/operations.md, "Limits"); 0 in the
 * config means the default here. */
#define API_DEFAULT_MAX_CALLS 4096            /* calls held at once, any kind */
#define API_DEFAULT_MAX_STREAMS 1024          /* long-lived streams at once */
#define API_DEFAULT_MAX_STREAMS_PER_CONN 16   /* ... on one connection */
#define API_DEFAULT_MEMORY_QUOTA_MB 256       /* gRPC core's resource quota */
#define API_HTTP2_MAX_CONCURRENT_STREAMS 100  /* advertised in SETTINGS */
#define API_KEYLESS_REQUEST_MAX 4096          /* bytes of a request to a keyless method */
#define API_MAX_METADATA_BYTES 16384          /* a call's request headers, checked by the runtime */
#define API_CORE_MAX_METADATA_BYTES 1048576   /* gRPC core's own limit, far above ours */
#define API_DEFAULT_WRITE_THREADS 32          /* writes waiting for a commit at once */
#define API_DEFAULT_AUTH_CACHE_ENTRIES 4096   /* verified keys remembered (auth_cache.h) */
#define API_DEFAULT_AUTH_CACHE_MS_TEXT "1000" /* ... and for how long; "0": not at all */

typedef struct api_server_config {
    const char *listen;    /* host:port */
    int workers;           /* threads draining the completion queue */
    int max_message_bytes; /* larger requests: RESOURCE_EXHAUSTED */
    int max_connections;   /* 0: as many as the open-file limit allows */
    int max_calls;
    int max_streams;
    int max_streams_per_connection;
    int memory_quota_mb;
    int write_threads;
    int auth_cache_entries;
    int auth_cache_ms;    /* 0: no cache (set it: 0 here is no default) */
    const char *tls_cert; /* PEM files; both or neither */
    const char *tls_key;
    const char *tls_client_ca;  /* optional: request and verify client certificates */
    bool allow_insecure_remote; /* plaintext on a non-loopback address */
} api_server_config;

typedef struct api_server api_server;

/* Starts serving services on cfg->listen. NULL with *err (malloc'd) set on failure. */
api_server *api_server_start(const api_server_config *cfg, store *st,
                             const api_service *const *services, size_t n_services, char **err);
int api_server_port(const api_server *srv);
/* Stops accepting, lets in-flight calls finish within grace_ms (then cancels
 * them), joins the workers and frees the server. The store stays open. */
void api_server_stop(api_server *srv, int grace_ms);

/* The services supplysecd serves (services.c). */
extern const api_service *const api_all_services[];
extern const size_t api_n_all_services;

/* Fails the call: sets call->st and returns NULL, for `return api_fail(...)`. */
ProtobufCMessage *api_fail(api_call *call, status_code code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

#endif
