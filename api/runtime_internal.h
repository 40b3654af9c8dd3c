/* runtime_internal.h — what the runtime's files share, and no one else
 * includes: the server, its workers, a call's context and the tags of its
 * events, and the functions one file of the runtime calls in another
 * (prefixed rt_). The handlers' view of the runtime is runtime.h.
 *
 *   runtime.c  start and stop, registration of the methods, the limits, the
 *              workers' loop and their parking at the shutdown
 *   call.c     a call's life: arming requests, metadata, decoding,
 *              answering, admission and authentication, its events
 *   watch.c    server streams (watches) and the watcher thread
 *   live.c     each worker's live list of calls, and the idle calls the
 *              shutdown ends at once
 *   tls.c      the server's credentials: TLS, or plaintext on loopback
 *   http.c,    the HTTP listener: Connect and gRPC-Web calls through the
 *   http_rpc.c same steps as a gRPC call (call.c, "a call on any transport")
 */
#ifndef SUPPLYSEC_RUNTIME_INTERNAL_H
#define SUPPLYSEC_RUNTIME_INTERNAL_H

#include <grpc/grpc.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>

#include "auth_cache.h"
#include "metrics.h"
#include "pool.h"
#include "runtime.h"
#include "stream_slots.h"

typedef enum tag_kind {
    TAG_NEW,
    TAG_PAYLOAD, /* a unary or server-stream call's request arrived */
    TAG_READ,
    TAG_FINISH,
    TAG_SHUTDOWN,
    TAG_WATCH_SENT,   /* a watch's message went out */
    TAG_WATCH_CLOSED, /* a watch's call is over: cancelled, or its status sent */
    TAG_WATCH_STATUS, /* a watch's closing status went out */
} tag_kind;

struct call_ctx;
typedef struct tag {
    tag_kind kind;
    struct call_ctx *ctx;
} tag;

/* One registered method: where requests for it are armed. */
typedef struct method_entry {
    char path[256]; /* "/pkg.Service/Method" */
    const ProtobufCMethodDescriptor *md;
    const api_method *api; /* NULL: not in the service's table */
    bool client_streaming; /* requests are read one by one (bidi streams) */
    bool no_side_effects;  /* marked so in the proto: Connect may call it with GET */
    void *handle;          /* from grpc_server_register_method */
} method_entry;

/* One worker thread and the completion queue only it drains. */
/* The requests a worker keeps armed for one method (call.c, "Arming"). */
typedef struct method_arms {
    int armed;       /* armed on the worker's queue, their calls not yet seen */
    int want;        /* how many to keep armed */
    int peak;        /* the most calls at once since the worker's epoch began */
    atomic_int busy; /* calls taken on this queue and not finished (the
                      * watcher finishes some streams, hence atomic) */
} method_arms;

typedef struct worker {
    api_server *srv;
    grpc_completion_queue *cq;
    pthread_t thread;
    /* per method, in srv->methods' order; touched only by this worker's
     * thread once it runs (before that, by api_server_start) */
    method_arms *arms;
    int64_t arms_epoch_us; /* when the wants were last looked at for shrinking */
    /* the live list of the calls that arrived on cq, between rt_on_new_call
     * and rt_on_finish (per worker, so that workers never wait for each other) */
    pthread_mutex_t live_mu;
    struct call_ctx *live;
} worker;

struct api_server {
    grpc_server *server;
    store *store;
    method_entry *methods;
    size_t n_methods;
    worker *workers;
    int n_workers;
    int port;
    atomic_bool shutting_down;
    atomic_int in_flight;      /* calls accepted and not yet finished */
    atomic_int armed;          /* requests armed whose new-call event is not handled yet */
    atomic_bool shutdown_done; /* the server's shutdown tag completed */
    tag shutdown_tag;
    int max_calls;         /* in_flight past it: RESOURCE_EXHAUSTED */
    stream_slots *streams; /* the bound on long-lived streams */
    grpc_resource_quota *quota;
    auth_cache *auth_cache; /* NULL: every call reads its key */
    pool *writers;          /* runs the methods that write (api_method.writes) */
    api_metrics *metrics;   /* what /metrics shows (metrics.h) */
    atomic_int writing;     /* calls handed to writers and not yet answered */
    /* api_server_stop parks the workers (none polls, so no connection's
     * bytes are read) while it shuts the server down: see park_workers. */
    pthread_mutex_t park_mu;
    pthread_cond_t park_cv;
    atomic_bool park_wanted;  /* changed under park_mu; read first without it */
    int parked;               /* under park_mu */
    pthread_mutex_t watch_mu; /* the watch list and every watch's batch state */
    struct call_ctx *watches;
    pthread_t watcher;
};

/* What a call is doing, for the shutdown: an idle call (waiting for its
 * client's next message: a request that has not arrived, a bidirectional
 * stream between messages) has done no work, so it is ended at once with
 * UNAVAILABLE rather than held until the grace period is over. */
enum call_phase { PHASE_BUSY = 0, PHASE_IDLE, PHASE_ENDED };

typedef struct call_ctx {
    pool_job job; /* first: a writer thread's job is the context */
    api_server *srv;
    worker *w;             /* its requests and batches complete on w->cq */
    const method_entry *m; /* NULL for an unregistered (unknown) method */
    tag t_new, t_payload, t_read, t_finish;
    grpc_call *call;
    gpr_timespec deadline;
    grpc_call_details details; /* unknown methods only */
    grpc_metadata_array request_md;
    grpc_byte_buffer *payload; /* received message, or NULL */
    grpc_byte_buffer *send_buf;
    grpc_metadata initial_md[1];
    grpc_slice status_details;
    grpc_status_code code;
    int cancelled;
    int64_t start_us;
    char *peer;                             /* gpr_malloc'd by grpc_call_get_peer; streams only */
    bool holds_stream;                      /* a slot of srv->streams is taken for peer */
    atomic_int phase;                       /* enum call_phase */
    _Atomic int64_t idle_since_us;          /* when it last became idle (monotonic) */
    struct call_ctx *live_prev, *live_next; /* w->live, under w->live_mu */
    api_call api;
    /* server streams (watches), guarded by srv->watch_mu */
    tag t_sent, t_closed, t_status;
    ProtobufCMessage *stream_req; /* kept to ask the handler again */
    grpc_slice last_sent;         /* the last message sent, to send only changes */
    int tags_out;                 /* batches in flight, plus the watcher's holds */
    bool send_busy, closed, end_wanted, status_started;
    struct call_ctx *next_watch;
} call_ctx;

/* ---- call.c ---- */

/* Frees a call's context and what it holds (its stream slot, its call). */
void rt_call_ctx_free(call_ctx *c);
/* Arms the first requests of every method (and of unknown methods) on
 * each worker's queue; false when out of memory. */
bool rt_arms_start(api_server *srv);
/* Unpacks buf as desc after the generic wire check (wire.h); NULL with st
 * set when the bytes are not a well-formed desc. */
ProtobufCMessage *rt_decode(const ProtobufCMessageDescriptor *desc, grpc_byte_buffer *buf,
                            status *st);
/* Starts a batch on c's call, corked (cork.h); aborts when core refuses it. */
void rt_start_batch(call_ctx *c, const grpc_op *ops, size_t n, tag *t);
/* Sends (initial metadata unless already sent) an optional message, the
 * status, and waits for the close. Completes with TAG_FINISH. */
void rt_finish(call_ctx *c, const ProtobufCMessage *resp, bool initial_sent);
/* ---- call.c: a call on any transport (gRPC core's, or http.c's) ---- */

/* The method served at path ("/pkg.Service/Method", len bytes); NULL: none. */
const method_entry *rt_method_by_path(const api_server *srv, const char *path, size_t len);
/* Takes the client's request id (v, n bytes; NULL: none) when it is sane,
 * else makes one. */
void rt_request_id_take(api_call *api, const char *v, size_t n);
/* Binds api to method m (NULL: unknown) and the server's store, with the
 * call's deadline (clock_monotonic_us; INT64_MAX: none). */
void rt_call_begin(api_server *srv, const method_entry *m, api_call *api, int64_t deadline_us);
/* False with api->st RESOURCE_EXHAUSTED when the server holds its most
 * calls at once (the caller has counted itself in srv->in_flight). */
bool rt_calls_admit(api_server *srv, api_call *api);
/* Authenticates the caller from its authorization value (v, n bytes; NULL:
 * none) unless m is keyless; false with api->st set otherwise. */
bool rt_authenticate(api_server *srv, const method_entry *m, api_call *api, const char *v,
                     size_t n);
/* False with api->st set when a keyless method's request (n bytes) is too large. */
bool rt_keyless_size_ok(const method_entry *m, api_call *api, size_t n);
/* Unpacks n bytes at p as desc after the generic wire check (wire.h);
 * NULL with st set when they are not a well-formed desc. */
ProtobufCMessage *rt_decode_bytes(const ProtobufCMessageDescriptor *desc, const uint8_t *p,
                                  size_t n, status *st);
/* Runs m's handler on req (which it frees) and clears what an outsider may
 * not read; the answer, or NULL with api->st set. */
ProtobufCMessage *rt_handle_request(const method_entry *m, api_call *api, ProtobufCMessage *req);
/* The call's JSON log line and its metrics (m NULL: an unknown method; w:
 * the worker whose metrics shard it goes to, NULL for the HTTP threads'). */
void rt_call_done(api_server *srv, const worker *w, const method_entry *m, const api_call *api,
                  const char *method, size_t method_len, metrics_protocol protocol, bool cancelled,
                  int64_t start_us);
/* The events of a call, from the worker that drains its queue. */
void rt_on_new_call(call_ctx *c);
void rt_on_payload(call_ctx *c, bool ok);
void rt_on_read(call_ctx *c, bool ok);
void rt_on_finish(call_ctx *c);
/* A writer thread's job (pool.h): answers a unary call that writes. */
void rt_writer_run(pool_job *job);

/* ---- watch.c ---- */

/* The first snapshot, and the watch registered for the next ones. */
void rt_watch_start(call_ctx *c);
/* A watch's batch completed (TAG_WATCH_SENT, _CLOSED, _STATUS). */
void rt_watch_on_event(call_ctx *c, tag_kind kind);
/* The watcher thread: asks again for every watch each WATCH_POLL_MS. */
void *rt_watcher_main(void *arg);
/* At shutdown: every watch ends, so its client reconnects elsewhere. */
void rt_watches_end(api_server *srv);

/* ---- tls.c ---- */

/* True when addr ("host:port", "[v6]:port", "unix:path", ...) can only be
 * reached from this machine. */
bool rt_is_loopback(const char *addr);

/* ---- live.c ---- */

void rt_live_add(call_ctx *c);
void rt_live_remove(call_ctx *c);
/* Starts a batch that waits for the client's next message; the call is
 * idle until it completes. */
void rt_start_idle_batch(call_ctx *c, const grpc_op *ops, size_t n, tag *t);
/* A message (or the end) arrived: false when the shutdown ended the call
 * while it was idle (it then owes only its final batch). */
bool rt_leave_idle(call_ctx *c);
/* At shutdown: ends with UNAVAILABLE every call idle for RT_IDLE_END_MS or
 * more. A unary call waiting for a request its client already sent is idle
 * for the moment it takes to read it: ending it at once lost a write the
 * client had made (seen on a loaded machine, its worker just back from a
 * slow store). */
#define RT_IDLE_END_MS 500
void rt_idle_calls_end(api_server *srv);

/* ---- tls.c ---- */

/* The credentials cfg asks for; NULL with *err set (asprintf) when they
 * cannot be made or plaintext is asked for on a non-loopback address. */
grpc_server_credentials *rt_make_credentials(const api_server_config *cfg, char **err);

#endif
