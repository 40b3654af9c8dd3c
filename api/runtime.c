/* runtime.c — the generic gRPC server over gRPC core (see runtime.h).
 *
 * Life of a call. At start every method of every service is registered
 * (host NULL) and, on each worker's own completion queue,
 * REQUESTS_PER_METHOD requests are armed for each, plus some
 * unregistered-call requests so an unknown method is answered
 * UNIMPLEMENTED at once. Each worker drains its queue; each event is a tag
 * inside a call context:
 *   TAG_NEW      a call arrived: re-arm on the same queue, admit and
 *                authenticate it, then read its request or its stream;
 *   TAG_PAYLOAD  a unary (or server-stream) request arrived: decode,
 *                handle, encode and send all in one batch (a method that
 *                writes is handled on a writer thread, pool.h);
 *   TAG_READ     a stream message arrived (or the client half-closed);
 *   TAG_FINISH   the final batch completed: log the call and free it.
 * Each context has at most one batch in flight, so no two threads touch a
 * call at once. A worker's answers and call lines are gathered and sent
 * when it next waits (cork.h, log.h). Shutdown follows docs/grpc-core.md:
 * park the workers, stop re-arming, shutdown and notify, wait (at the end
 * of the grace period: refuse commits, let writes answer, cancel the
 * rest), wait for in-flight calls, destroy the server, drain and destroy
 * the queues.
 */
#include "runtime.h"

#include <arpa/inet.h>
#include <grpc/byte_buffer_reader.h>
#include <grpc/grpc.h>
#include <grpc/grpc_security.h>
#include <grpc/support/alloc.h>
#include <grpc/support/log.h>
#include <grpc/support/time.h>
#include <openssl/rand.h>
#include <pthread.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "accept.h"
#include "auth_cache.h"
#include "core_tuning.h"
#include "cork.h"
#include "encoding.h"
#include "kinds.h"
#include "log.h"
#include "pool.h"
#include "pem.h"
#include "stream_slots.h"
#include "wire.h"

/* Requests armed per method on each worker's queue. gRPC core gives a new
 * call to a request armed on its connection's queue when there is one, else
 * to any other queue, whose thread must then take the connection's work
 * too; enough requests for a burst of concurrent calls on one connection
 * keep it on one thread (4 per method: Health.Check at 32 streams 55,000/s;
 * 16 or more: about 75,000/s; docs/performance.md). Each costs a call
 * context of about 1.1 KiB until a call takes it. */
#define REQUESTS_PER_METHOD 32
#define UNKNOWN_REQUESTS 4

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
    void *handle;          /* from grpc_server_register_method */
} method_entry;

/* One worker thread and the completion queue only it drains. */
typedef struct worker {
    api_server *srv;
    grpc_completion_queue *cq;
    pthread_t thread;
    /* the live list of the calls that arrived on cq, between on_new_call
     * and on_finish (per worker, so that workers never wait for each other) */
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

ProtobufCMessage *api_fail(api_call *call, status_code code, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    status_vfail(&call->st, code, fmt, ap);
    va_end(ap);
    return NULL;
}

/* ---- arming requests ---- */

static call_ctx *call_ctx_new(api_server *srv, worker *w, const method_entry *m)
{
    call_ctx *c = calloc(1, sizeof *c);
    if (!c)
        return NULL;
    c->srv = srv;
    c->w = w;
    c->m = m;
    c->t_new = (tag){TAG_NEW, c};
    c->t_payload = (tag){TAG_PAYLOAD, c};
    c->t_read = (tag){TAG_READ, c};
    c->t_finish = (tag){TAG_FINISH, c};
    c->t_sent = (tag){TAG_WATCH_SENT, c};
    c->t_closed = (tag){TAG_WATCH_CLOSED, c};
    c->t_status = (tag){TAG_WATCH_STATUS, c};
    c->last_sent = grpc_empty_slice();
    grpc_metadata_array_init(&c->request_md);
    grpc_call_details_init(&c->details);
    c->status_details = grpc_empty_slice();
    return c;
}

static void call_ctx_free(call_ctx *c)
{
    if (c->holds_stream)
        stream_slots_give(c->srv->streams, c->peer ? c->peer : "");
    gpr_free(c->peer);
    if (c->stream_req)
        protobuf_c_message_free_unpacked(c->stream_req, NULL);
    grpc_slice_unref(c->last_sent);
    if (c->payload)
        grpc_byte_buffer_destroy(c->payload);
    if (c->send_buf)
        grpc_byte_buffer_destroy(c->send_buf);
    grpc_metadata_array_destroy(&c->request_md);
    grpc_call_details_destroy(&c->details);
    grpc_slice_unref(c->initial_md[0].value); /* a zeroed slice is a no-op */
    grpc_slice_unref(c->status_details);
    if (c->call)
        grpc_call_unref(c->call);
    free(c);
}

/* Arms one request for m (NULL: an unregistered method) on w's queue. */
static void arm_request(api_server *srv, worker *w, const method_entry *m)
{
    if (atomic_load(&srv->shutting_down))
        return;
    call_ctx *c = call_ctx_new(srv, w, m);
    if (!c)
        return;
    grpc_call_error err;
    if (m)
        err = grpc_server_request_registered_call(srv->server, m->handle, &c->call, &c->deadline,
                                                  &c->request_md, NULL, w->cq, w->cq, &c->t_new);
    else
        err = grpc_server_request_call(srv->server, &c->call, &c->details, &c->request_md, w->cq,
                                       w->cq, &c->t_new);
    if (err != GRPC_CALL_OK)
        call_ctx_free(c);
    else
        atomic_fetch_add(&srv->armed, 1);
}

/* ---- metadata ---- */

static bool metadata_find(const grpc_metadata_array *md, const char *key, const char **value,
                          size_t *len)
{
    for (size_t i = 0; i < md->count; i++)
        if (grpc_slice_str_cmp(md->metadata[i].key, key) == 0) {
            *value = (const char *)GRPC_SLICE_START_PTR(md->metadata[i].value);
            *len = GRPC_SLICE_LENGTH(md->metadata[i].value);
            return true;
        }
    return false;
}

/* 128 bits for a request id: unique, not secret (it is echoed to the
 * client and logged), so a per-thread splitmix64 stream seeded once from
 * the OS generator serves, without RAND_bytes' locks and fork check on
 * every call (6% of a Health.Check's CPU; docs/performance.md). */
static void request_id_bits(uint64_t out[2])
{
    static _Thread_local uint64_t state;
    static _Thread_local bool seeded;
    if (!seeded) {
        if (RAND_bytes((unsigned char *)&state, sizeof state) != 1)
            state = (uint64_t)clock_monotonic_us() ^ (uint64_t)(uintptr_t)&state;
        seeded = true;
    }
    for (int i = 0; i < 2; i++) {
        uint64_t z = (state += 0x9E3779B97F4A7C15ull);
        z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
        z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
        out[i] = z ^ (z >> 31);
    }
}

/* Takes the client's x-request-id when it is sane, else makes one. */
static void request_id_take(call_ctx *c)
{
    const char *v;
    size_t n;
    bool ok = metadata_find(&c->request_md, "x-request-id", &v, &n) && n > 0 &&
              n < sizeof c->api.request_id;
    for (size_t i = 0; ok && i < n; i++)
        ok = v[i] > 0x20 && v[i] < 0x7f;
    if (ok) {
        memcpy(c->api.request_id, v, n);
        c->api.request_id[n] = '\0';
    } else {
        uint64_t rnd[2];
        request_id_bits(rnd);
        hex_encode((const unsigned char *)rnd, sizeof rnd, c->api.request_id);
    }
    c->initial_md[0].key = grpc_slice_from_static_string("x-request-id");
    c->initial_md[0].value = grpc_slice_from_copied_string(c->api.request_id);
}

/* ---- encoding ---- */

/* Unpacks buf as desc after the generic wire check (wire.h); NULL with st
 * set when the bytes are not a well-formed desc. */
static ProtobufCMessage *decode(const ProtobufCMessageDescriptor *desc, grpc_byte_buffer *buf,
                                status *st)
{
    grpc_byte_buffer_reader reader;
    if (!grpc_byte_buffer_reader_init(&reader, buf)) {
        status_fail(st, STATUS_INVALID_ARGUMENT, "the request could not be read");
        return NULL;
    }
    grpc_slice s = grpc_byte_buffer_reader_readall(&reader);
    grpc_byte_buffer_reader_destroy(&reader);
    ProtobufCMessage *msg = NULL;
    if (wire_check(desc, GRPC_SLICE_START_PTR(s), GRPC_SLICE_LENGTH(s), st)) {
        msg = protobuf_c_message_unpack(desc, NULL, GRPC_SLICE_LENGTH(s), GRPC_SLICE_START_PTR(s));
        if (!msg)
            status_fail(st, STATUS_INVALID_ARGUMENT,
                        "the request is not a valid %s protobuf message", desc->name);
    }
    grpc_slice_unref(s);
    return msg;
}

static grpc_byte_buffer *encode(const ProtobufCMessage *msg)
{
    size_t n = protobuf_c_message_get_packed_size(msg);
    grpc_slice s = grpc_slice_malloc(n);
    protobuf_c_message_pack(msg, GRPC_SLICE_START_PTR(s));
    grpc_byte_buffer *bb = grpc_raw_byte_buffer_create(&s, 1);
    grpc_slice_unref(s);
    return bb;
}

/* ---- answering ---- */

static void start_batch(call_ctx *c, const grpc_op *ops, size_t n, tag *t)
{
    cork_begin(); /* a worker's answers wait for its cork_flush */
    grpc_call_error err = grpc_call_start_batch(c->call, ops, n, t, NULL);
    cork_end();
    if (err != GRPC_CALL_OK) {
        log_line l;
        log_begin(&l, LOG_ERROR, "grpc_call_start_batch failed");
        log_int(&l, "error", err);
        log_str(&l, "method", c->api.method);
        log_emit(&l);
        abort(); /* a programming error: the batch shape is ours */
    }
}

/* Sends (initial metadata unless already sent) an optional message, the
 * status, and waits for the close. Completes with TAG_FINISH. */
static void finish(call_ctx *c, const ProtobufCMessage *resp, bool initial_sent)
{
    grpc_op ops[4];
    size_t n = 0;
    memset(ops, 0, sizeof ops);
    if (!initial_sent) {
        ops[n].op = GRPC_OP_SEND_INITIAL_METADATA;
        ops[n].data.send_initial_metadata.count = 1;
        ops[n].data.send_initial_metadata.metadata = c->initial_md;
        n++;
    }
    if (resp && c->api.st.code == STATUS_OK) {
        c->send_buf = encode(resp);
        ops[n].op = GRPC_OP_SEND_MESSAGE;
        ops[n].data.send_message.send_message = c->send_buf;
        n++;
    }
    c->code = (grpc_status_code)c->api.st.code;
    grpc_slice_unref(c->status_details);
    c->status_details = grpc_slice_from_copied_string(c->api.st.msg);
    ops[n].op = GRPC_OP_SEND_STATUS_FROM_SERVER;
    ops[n].data.send_status_from_server.status = c->code;
    ops[n].data.send_status_from_server.status_details =
        c->api.st.code == STATUS_OK ? NULL : &c->status_details;
    n++;
    ops[n].op = GRPC_OP_RECV_CLOSE_ON_SERVER;
    ops[n].data.recv_close_on_server.cancelled = &c->cancelled;
    n++;
    start_batch(c, ops, n, &c->t_finish);
}

static void log_call(call_ctx *c)
{
    log_line l;
    log_begin(&l,
              c->api.st.code == STATUS_INTERNAL || c->api.st.code == STATUS_DATA_LOSS ? LOG_ERROR
                                                                                      : LOG_INFO,
              "call");
    log_str(&l, "request_id", c->api.request_id);
    if (c->m)
        log_str(&l, "method", c->m->path);
    else
        log_strn(&l, "method", (const char *)GRPC_SLICE_START_PTR(c->details.method),
                 GRPC_SLICE_LENGTH(c->details.method));
    log_str(&l, "principal", c->api.authenticated ? c->api.who.name : "");
    log_str(&l, "organization", c->api.authenticated ? c->api.who.org : "");
    log_str(&l, "status", status_code_name(c->api.st.code));
    if (c->api.st.code != STATUS_OK)
        log_str(&l, "error", c->api.st.msg);
    if (c->cancelled)
        log_bool(&l, "cancelled", 1);
    log_int(&l, "duration_us", clock_monotonic_us() - c->start_us);
    log_emit(&l);
}

/* A keyless method's request is small (a service name, a symbol): one that
 * is not costs memory its sender was never asked to account for. */
static bool keyless_size_ok(call_ctx *c, grpc_byte_buffer *payload)
{
    size_t n = grpc_byte_buffer_length(payload);
    if (c->m->api->auth != API_AUTH_NONE || n <= API_KEYLESS_REQUEST_MAX)
        return true;
    api_fail(&c->api, STATUS_RESOURCE_EXHAUSTED,
             "a request to %s without an API key is at most %d bytes, got %zu", c->m->path,
             API_KEYLESS_REQUEST_MAX, n);
    return false;
}

/* Runs the method's handler on one decoded request. */
static ProtobufCMessage *handle(call_ctx *c, grpc_byte_buffer *payload)
{
    const ProtobufCMethodDescriptor *md = c->m->md;
    if (!payload)
        return api_fail(&c->api, STATUS_INVALID_ARGUMENT, "the request carried no message");
    if (!keyless_size_ok(c, payload))
        return NULL;
    ProtobufCMessage *req = decode(md->input, payload, &c->api.st);
    if (!req)
        return NULL;
    ProtobufCMessage *resp = c->m->api->handler(&c->api, req);
    protobuf_c_message_free_unpacked(req, NULL);
    if (!resp && c->api.st.code == STATUS_OK)
        api_fail(&c->api, STATUS_INTERNAL, "the handler gave no answer");
    return resp;
}

/* Authenticates unless the method is public; false with st set otherwise. */
static bool authenticate(call_ctx *c)
{
    if (c->m->api->auth == API_AUTH_NONE)
        return true;
    const char *v = NULL;
    size_t n = 0;
    metadata_find(&c->request_md, "authorization", &v, &n);
    if (!auth_authenticate(c->srv->store, c->srv->auth_cache, v, n, &c->api.who, &c->api.st))
        return false;
    c->api.authenticated = true;
    c->api.op.who = &c->api.who;
    return true;
}

/* ---- server streams: watches ----
 *
 * A server-streaming method (Health.Watch) is answered with a snapshot, and
 * again whenever the snapshot changes: the watcher thread asks the handler
 * every WATCH_POLL_MS and sends what differs from the last message. A watch
 * ends when the client cancels or the server stops. All batches of a watch
 * start under watch_mu, so no two threads start batches on its call at once;
 * the context is freed when the call is closed and no batch (nor the
 * watcher, which holds a count while it asks the handler) is outstanding. */

#define WATCH_POLL_MS 1000

static void on_finish(call_ctx *c);

/* Sends resp unless it equals the last message. watch_mu held. */
static void watch_send_locked(call_ctx *c, const ProtobufCMessage *resp, bool initial)
{
    size_t n = protobuf_c_message_get_packed_size(resp);
    grpc_slice s = grpc_slice_malloc(n);
    protobuf_c_message_pack(resp, GRPC_SLICE_START_PTR(s));
    if (!initial && grpc_slice_eq(s, c->last_sent)) {
        grpc_slice_unref(s);
        return;
    }
    grpc_slice_unref(c->last_sent);
    c->last_sent = grpc_slice_ref(s);
    if (c->send_buf)
        grpc_byte_buffer_destroy(c->send_buf);
    c->send_buf = grpc_raw_byte_buffer_create(&s, 1);
    grpc_slice_unref(s);
    grpc_op ops[2];
    size_t k = 0;
    memset(ops, 0, sizeof ops);
    if (initial) {
        ops[k].op = GRPC_OP_SEND_INITIAL_METADATA;
        ops[k].data.send_initial_metadata.count = 1;
        ops[k].data.send_initial_metadata.metadata = c->initial_md;
        k++;
    }
    ops[k].op = GRPC_OP_SEND_MESSAGE;
    ops[k].data.send_message.send_message = c->send_buf;
    k++;
    c->send_busy = true;
    c->tags_out++;
    start_batch(c, ops, k, &c->t_sent);
}

/* Sends the closing status (c->api.st). watch_mu held; no send in flight. */
static void watch_status_locked(call_ctx *c)
{
    grpc_op op;
    memset(&op, 0, sizeof op);
    c->status_started = true;
    c->code = (grpc_status_code)c->api.st.code;
    grpc_slice_unref(c->status_details);
    c->status_details = grpc_slice_from_copied_string(c->api.st.msg);
    op.op = GRPC_OP_SEND_STATUS_FROM_SERVER;
    op.data.send_status_from_server.status = c->code;
    op.data.send_status_from_server.status_details =
        c->api.st.code == STATUS_OK ? NULL : &c->status_details;
    c->tags_out++;
    start_batch(c, &op, 1, &c->t_status);
}

/* Ends the watch with status code: at once, or after the send in flight. */
static void watch_end_locked(call_ctx *c, status_code code, const char *msg)
{
    if (c->closed || c->end_wanted)
        return;
    c->end_wanted = true;
    c->api.st.code = code;
    if (msg != c->api.st.msg)
        snprintf(c->api.st.msg, sizeof c->api.st.msg, "%s", msg);
    if (!c->send_busy)
        watch_status_locked(c);
}

/* Unlinks c when it is done; true when the caller must free it (after
 * unlocking). watch_mu held. */
static bool watch_release_locked(call_ctx *c)
{
    if (!c->closed || c->tags_out > 0)
        return false;
    for (call_ctx **p = &c->srv->watches; *p; p = &(*p)->next_watch)
        if (*p == c) {
            *p = c->next_watch;
            break;
        }
    return true;
}

static void watch_on_event(call_ctx *c, tag_kind kind)
{
    api_server *srv = c->srv;
    pthread_mutex_lock(&srv->watch_mu);
    c->tags_out--;
    if (kind == TAG_WATCH_SENT) {
        c->send_busy = false;
        if (c->end_wanted && !c->status_started && !c->closed)
            watch_status_locked(c);
    } else if (kind == TAG_WATCH_CLOSED) {
        c->closed = true;
    }
    bool done = watch_release_locked(c);
    pthread_mutex_unlock(&srv->watch_mu);
    if (done)
        on_finish(c);
}

/* The first snapshot, and the watch registered for the next ones. */
static void watch_start(call_ctx *c)
{
    api_server *srv = c->srv;
    const ProtobufCMethodDescriptor *md = c->m->md;
    if (!c->payload) {
        api_fail(&c->api, STATUS_INVALID_ARGUMENT, "the request carried no message");
        finish(c, NULL, false);
        return;
    }
    if (!keyless_size_ok(c, c->payload)) {
        finish(c, NULL, false);
        return;
    }
    c->stream_req = decode(md->input, c->payload, &c->api.st);
    if (!c->stream_req) {
        finish(c, NULL, false);
        return;
    }
    ProtobufCMessage *resp = c->m->api->handler(&c->api, c->stream_req);
    if (!resp) {
        if (c->api.st.code == STATUS_OK)
            api_fail(&c->api, STATUS_INTERNAL, "the handler gave no answer");
        finish(c, NULL, false);
        return;
    }
    grpc_op op;
    memset(&op, 0, sizeof op);
    op.op = GRPC_OP_RECV_CLOSE_ON_SERVER;
    op.data.recv_close_on_server.cancelled = &c->cancelled;
    pthread_mutex_lock(&srv->watch_mu);
    c->next_watch = srv->watches;
    srv->watches = c;
    watch_send_locked(c, resp, true);
    c->tags_out++;
    start_batch(c, &op, 1, &c->t_closed);
    if (atomic_load(&srv->shutting_down))
        watch_end_locked(c, STATUS_UNAVAILABLE, "the server is shutting down");
    pthread_mutex_unlock(&srv->watch_mu);
    protobuf_c_message_free_unpacked(resp, NULL);
}

/* What one round of the watcher learned for one request (watches that
 * asked the same thing share the answer: the store is asked once). */
typedef struct watch_answer {
    const call_ctx *asker;  /* its stream_req is the request */
    ProtobufCMessage *resp; /* NULL: the handler failed with st */
    status st;
} watch_answer;

static bool same_request(const ProtobufCMessage *a, const ProtobufCMessage *b)
{
    size_t n = protobuf_c_message_get_packed_size(a);
    if (a->descriptor != b->descriptor || n != protobuf_c_message_get_packed_size(b))
        return false;
    uint8_t small_a[256], small_b[256];
    if (n > sizeof small_a)
        return false; /* large requests are simply asked again */
    protobuf_c_message_pack(a, small_a);
    protobuf_c_message_pack(b, small_b);
    return memcmp(small_a, small_b, n) == 0;
}

/* The answer for c this round: reused, or asked of the handler now. */
static watch_answer *watch_ask(call_ctx *c, watch_answer *answers, size_t *n_answers)
{
    for (size_t i = 0; i < *n_answers; i++)
        if (answers[i].asker->m == c->m &&
            same_request(answers[i].asker->stream_req, c->stream_req))
            return &answers[i];
    watch_answer *a = &answers[(*n_answers)++];
    c->api.st.code = STATUS_OK;
    c->api.st.msg[0] = '\0';
    a->asker = c;
    a->resp = c->m->api->handler(&c->api, c->stream_req);
    a->st = c->api.st;
    if (!a->resp && a->st.code == STATUS_OK)
        status_fail(&a->st, STATUS_INTERNAL, "the handler gave no answer");
    return a;
}

/* One round of the watcher: ask again for each open watch and send what
 * changed. Stops early when the server is stopping. */
static void watch_poll(api_server *srv)
{
    size_t n = 0, cap = 0, n_answers = 0;
    pthread_mutex_lock(&srv->watch_mu);
    for (call_ctx *c = srv->watches; c; c = c->next_watch)
        cap++;
    call_ctx **held = cap ? malloc(cap * sizeof *held) : NULL;
    watch_answer *answers = cap ? calloc(cap, sizeof *answers) : NULL;
    for (call_ctx *c = srv->watches; c && held && answers; c = c->next_watch)
        if (!c->closed && !c->end_wanted) {
            c->tags_out++; /* keeps c alive while the handler runs unlocked */
            held[n++] = c;
        }
    pthread_mutex_unlock(&srv->watch_mu);
    for (size_t i = 0; i < n; i++) {
        call_ctx *c = held[i];
        watch_answer *a =
            atomic_load(&srv->shutting_down) ? NULL : watch_ask(c, answers, &n_answers);
        pthread_mutex_lock(&srv->watch_mu);
        c->tags_out--;
        if (a && !a->resp)
            watch_end_locked(c, a->st.code, a->st.msg);
        else if (a && !c->closed && !c->end_wanted && !c->send_busy)
            watch_send_locked(c, a->resp, false);
        bool done = watch_release_locked(c);
        pthread_mutex_unlock(&srv->watch_mu);
        if (done)
            on_finish(c);
    }
    for (size_t i = 0; i < n_answers; i++)
        if (answers[i].resp)
            protobuf_c_message_free_unpacked(answers[i].resp, NULL);
    free(answers);
    free(held);
}

static void *watcher_main(void *arg)
{
    api_server *srv = arg;
    while (!atomic_load(&srv->shutting_down)) {
        for (int waited = 0; waited < WATCH_POLL_MS && !atomic_load(&srv->shutting_down);
             waited += 50) {
            struct timespec ts = {0, 50 * 1000000L};
            nanosleep(&ts, NULL);
        }
        if (!atomic_load(&srv->shutting_down))
            watch_poll(srv);
    }
    return NULL;
}

/* At shutdown: every watch ends, so its client reconnects elsewhere. */
static void watches_end(api_server *srv)
{
    pthread_mutex_lock(&srv->watch_mu);
    for (call_ctx *c = srv->watches; c; c = c->next_watch)
        watch_end_locked(c, STATUS_UNAVAILABLE, "the server is shutting down");
    pthread_mutex_unlock(&srv->watch_mu);
}

/* The server's own bounds, before any work: the request's metadata size,
 * calls held at once, and for a stream a slot on its connection and on the
 * server. gRPC core's own metadata limit is set far higher
 * (API_CORE_MAX_METADATA_BYTES): past it, core 1.51 fails the other calls
 * on the same connection too, so the per-call answer has to be ours. */
static bool admit(call_ctx *c)
{
    api_server *srv = c->srv;
    size_t md_bytes = 0;
    for (size_t i = 0; i < c->request_md.count; i++)
        md_bytes += GRPC_SLICE_LENGTH(c->request_md.metadata[i].key) +
                    GRPC_SLICE_LENGTH(c->request_md.metadata[i].value);
    if (md_bytes > API_MAX_METADATA_BYTES) {
        api_fail(&c->api, STATUS_RESOURCE_EXHAUSTED,
                 "the request's metadata is %zu bytes; at most %d are accepted", md_bytes,
                 API_MAX_METADATA_BYTES);
        return false;
    }
    if (atomic_load(&srv->in_flight) > srv->max_calls) {
        api_fail(&c->api, STATUS_RESOURCE_EXHAUSTED,
                 "the server is handling %d calls, its limit; retry with backoff", srv->max_calls);
        return false;
    }
    if (c->m->api->kind == API_UNARY)
        return true;
    c->peer = grpc_call_get_peer(c->call);
    c->holds_stream = stream_slots_take(srv->streams, c->peer ? c->peer : "", &c->api.st);
    return c->holds_stream;
}

/* ---- the live list and idle calls ---- */

static void live_add(call_ctx *c)
{
    worker *w = c->w;
    pthread_mutex_lock(&w->live_mu);
    c->live_next = w->live;
    if (w->live)
        w->live->live_prev = c;
    w->live = c;
    pthread_mutex_unlock(&w->live_mu);
}

static void live_remove(call_ctx *c)
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
static void start_idle_batch(call_ctx *c, const grpc_op *ops, size_t n, tag *t)
{
    atomic_store(&c->phase, PHASE_IDLE);
    start_batch(c, ops, n, t);
}

/* A message (or the end) arrived: false when the shutdown ended the call
 * while it was idle (it then owes only its final batch). */
static bool leave_idle(call_ctx *c)
{
    int idle = PHASE_IDLE;
    if (atomic_compare_exchange_strong(&c->phase, &idle, PHASE_BUSY))
        return true;
    api_fail(&c->api, STATUS_UNAVAILABLE, "the server is shutting down; retry");
    return false;
}

/* At shutdown: ends every idle call with UNAVAILABLE. The list lock keeps
 * each call alive while it is looked at (on_finish unlinks it first). */
static void idle_calls_end(api_server *srv)
{
    for (int i = 0; i < srv->n_workers; i++) {
        worker *w = &srv->workers[i];
        pthread_mutex_lock(&w->live_mu);
        for (call_ctx *c = w->live; c; c = c->live_next) {
            int idle = PHASE_IDLE;
            if (atomic_compare_exchange_strong(&c->phase, &idle, PHASE_ENDED))
                grpc_call_cancel_with_status(c->call, GRPC_STATUS_UNAVAILABLE,
                                             "the server is shutting down; retry", NULL);
        }
        pthread_mutex_unlock(&w->live_mu);
    }
}

static void on_new_call(call_ctx *c)
{
    api_server *srv = c->srv;
    arm_request(srv, c->w, c->m);
    atomic_fetch_add(&srv->in_flight, 1);
    atomic_fetch_sub(&srv->armed, 1); /* after: the call is counted in flight first */
    live_add(c);
    c->start_us = clock_monotonic_us();
    request_id_take(c);
    c->api.method = c->m ? c->m->path : "";
    c->api.entry = c->m ? c->m->api : NULL;
    c->api.method_desc = c->m ? c->m->md : NULL;
    c->api.op = (op_ctx){.store = srv->store,
                         .method = c->api.method,
                         .request_id = c->api.request_id,
                         .deadline_us = INT64_MAX};
    if (!c->m) {
        api_fail(&c->api, STATUS_UNIMPLEMENTED, "unknown method %.*s",
                 (int)GRPC_SLICE_LENGTH(c->details.method),
                 (const char *)GRPC_SLICE_START_PTR(c->details.method));
        finish(c, NULL, false);
        return;
    }
    if (c->deadline.tv_sec != INT64_MAX) {
        gpr_timespec left = gpr_time_sub(c->deadline, gpr_now(GPR_CLOCK_MONOTONIC));
        c->api.op.deadline_us = clock_monotonic_us() + left.tv_sec * 1000000 + left.tv_nsec / 1000;
    }
    if (!c->m->api || !c->m->api->handler) {
        api_fail(&c->api, STATUS_UNIMPLEMENTED, "%s is not implemented%s%s", c->m->path,
                 c->m->api && c->m->api->unimplemented_why ? ": " : "",
                 c->m->api && c->m->api->unimplemented_why ? c->m->api->unimplemented_why : "");
        finish(c, NULL, false);
        return;
    }
    if (!admit(c) || !op_check_deadline(&c->api.op, &c->api.st) || !authenticate(c)) {
        finish(c, NULL, false);
        return;
    }
    if (!c->m->client_streaming) { /* read the one request: on_payload */
        grpc_op op;
        memset(&op, 0, sizeof op);
        op.op = GRPC_OP_RECV_MESSAGE;
        op.data.recv_message.recv_message = &c->payload;
        start_idle_batch(c, &op, 1, &c->t_payload);
        return;
    }
    /* A bidirectional stream: read the first message; each one is answered
     * in on_read. */
    grpc_op ops[2];
    memset(ops, 0, sizeof ops);
    ops[0].op = GRPC_OP_SEND_INITIAL_METADATA;
    ops[0].data.send_initial_metadata.count = 1;
    ops[0].data.send_initial_metadata.metadata = c->initial_md;
    ops[1].op = GRPC_OP_RECV_MESSAGE;
    ops[1].data.recv_message.recv_message = &c->payload;
    start_idle_batch(c, ops, 2, &c->t_read);
}

/* Handles a unary call's request and sends the answer. */
static void answer_unary(call_ctx *c)
{
    ProtobufCMessage *resp = handle(c, c->payload);
    finish(c, resp, false);
    if (resp)
        protobuf_c_message_free_unpacked(resp, NULL);
}

static void writer_run(pool_job *job)
{
    call_ctx *c = (call_ctx *)job;
    api_server *srv = c->srv;
    answer_unary(c); /* c may be freed from here on */
    atomic_fetch_sub(&srv->writing, 1);
}

/* The request of a unary or server-stream call arrived (ok false: the call
 * ended first). A method that writes is answered on a writer thread. */
static void on_payload(call_ctx *c, bool ok)
{
    if (!leave_idle(c)) {
        finish(c, NULL, false);
        return;
    }
    if (!ok) {
        api_fail(&c->api, STATUS_CANCELLED, "the call ended before its request arrived");
        finish(c, NULL, false);
        return;
    }
    if (c->m->api->kind == API_SERVER_STREAM) {
        watch_start(c);
        return;
    }
    if (c->m->api->writes) {
        atomic_fetch_add(&c->srv->writing, 1);
        pool_submit(c->srv->writers, &c->job); /* answer_unary, on a writer thread */
        return;
    }
    answer_unary(c);
}

/* A stream message arrived (payload NULL: the client is done). */
static void on_read(call_ctx *c, bool ok)
{
    grpc_byte_buffer *payload = c->payload;
    c->payload = NULL;
    if (!leave_idle(c) || !ok || !payload) {
        if (payload)
            grpc_byte_buffer_destroy(payload);
        finish(c, NULL, true);
        return;
    }
    ProtobufCMessage *resp = handle(c, payload);
    grpc_byte_buffer_destroy(payload);
    if (!resp) {
        finish(c, NULL, true);
        return;
    }
    if (c->send_buf)
        grpc_byte_buffer_destroy(c->send_buf);
    c->send_buf = encode(resp);
    protobuf_c_message_free_unpacked(resp, NULL);
    grpc_op ops[2];
    memset(ops, 0, sizeof ops);
    ops[0].op = GRPC_OP_SEND_MESSAGE;
    ops[0].data.send_message.send_message = c->send_buf;
    ops[1].op = GRPC_OP_RECV_MESSAGE;
    ops[1].data.recv_message.recv_message = &c->payload;
    start_idle_batch(c, ops, 2, &c->t_read);
}

static void on_finish(call_ctx *c)
{
    api_server *srv = c->srv;
    log_call(c);
    live_remove(c);
    call_ctx_free(c);
    atomic_fetch_sub(&srv->in_flight, 1); /* last: stop may destroy the server after */
}

/* A worker waits at most this long for an event before it looks whether
 * it should park. */
#define PARK_POLL_MS 50

/* Events a worker handles before it flushes its gathered answers and log
 * lines even though more events are waiting (cork.h). */
#define FLUSH_EVERY 32

static void park_if_wanted(api_server *srv)
{
    if (!atomic_load(&srv->park_wanted))
        return; /* the common case: no lock taken */
    pthread_mutex_lock(&srv->park_mu);
    if (srv->park_wanted) {
        cork_flush(); /* nothing of this worker's waits while it is parked */
        srv->parked++;
        pthread_cond_broadcast(&srv->park_cv);
        while (srv->park_wanted)
            pthread_cond_wait(&srv->park_cv, &srv->park_mu);
        srv->parked--;
    }
    pthread_mutex_unlock(&srv->park_mu);
}

static void *worker_main(void *arg)
{
    worker *w = arg;
    api_server *srv = w->srv;
    log_buffered();
    cork_thread();
    int busy = 0; /* events handled since the last flush */
    for (;;) {
        /* Answers and call lines gathered while busy go out before the
         * worker waits, and after FLUSH_EVERY events at the latest. */
        grpc_event ev = {.type = GRPC_QUEUE_TIMEOUT};
        if ((log_pending() || cork_pending()) && busy < FLUSH_EVERY) {
            cork_begin();
            ev = grpc_completion_queue_next(w->cq, gpr_time_0(GPR_CLOCK_REALTIME), NULL);
            cork_end();
        }
        if (ev.type == GRPC_QUEUE_TIMEOUT || busy >= FLUSH_EVERY) {
            cork_flush();
            log_flush();
            busy = 0;
        }
        if (ev.type == GRPC_QUEUE_TIMEOUT) {
            ev = grpc_completion_queue_next(w->cq, gpr_time_from_millis(PARK_POLL_MS, GPR_TIMESPAN),
                                            NULL);
        }
        park_if_wanted(srv);
        if (ev.type == GRPC_QUEUE_SHUTDOWN)
            break;
        if (ev.type != GRPC_OP_COMPLETE)
            continue;
        busy++;
        tag *t = ev.tag;
        if (t->kind == TAG_SHUTDOWN) {
            atomic_store(&srv->shutdown_done, true); /* api_server_stop polls it */
            continue;
        }
        call_ctx *c = t->ctx;
        switch (t->kind) {
        case TAG_NEW:
            if (!ev.success) { /* shutdown: the request was never matched */
                c->call = NULL;
                call_ctx_free(c);
                atomic_fetch_sub(&srv->armed, 1);
            } else {
                on_new_call(c);
            }
            break;
        case TAG_PAYLOAD:
            on_payload(c, ev.success);
            break;
        case TAG_READ:
            on_read(c, ev.success);
            break;
        case TAG_FINISH:
            on_finish(c);
            break;
        case TAG_WATCH_SENT:
        case TAG_WATCH_CLOSED:
        case TAG_WATCH_STATUS:
            watch_on_event(c, t->kind);
            break;
        default:
            break;
        }
    }
    cork_flush();
    log_thread_end();
    return NULL;
}

/* ---- start and stop ---- */

/* True when addr ("host:port", "[v6]:port", "ipv4:...", "ipv6:...",
 * "unix:path") can only be reached from this machine: a numeric address in
 * 127.0.0.0/8 or ::1, the name "localhost", or a Unix socket. A host name
 * that merely begins like one ("127.x.example") is not. */
static bool is_loopback(const char *addr)
{
    if (strncmp(addr, "unix:", 5) == 0)
        return true;
    if (strncmp(addr, "ipv4:", 5) == 0 || strncmp(addr, "ipv6:", 5) == 0)
        addr += 5;
    char host[256];
    const char *colon;
    if (addr[0] == '[') {
        const char *close = strchr(addr, ']');
        if (!close || close[1] != ':')
            return false;
        addr++;
        colon = close;
    } else {
        colon = strrchr(addr, ':');
    }
    if (!colon || (size_t)(colon - addr) >= sizeof host)
        return false;
    memcpy(host, addr, (size_t)(colon - addr));
    host[colon - addr] = '\0';
    struct in_addr v4;
    struct in6_addr v6;
    if (inet_pton(AF_INET, host, &v4) == 1)
        return (ntohl(v4.s_addr) >> 24) == 127;
    if (inet_pton(AF_INET6, host, &v6) == 1)
        return IN6_IS_ADDR_LOOPBACK(&v6);
    return strcmp(host, "localhost") == 0;
}

static grpc_server_credentials *make_credentials(const api_server_config *cfg, char **err)
{
    if (!cfg->tls_cert && !cfg->tls_key) {
        if (!is_loopback(cfg->listen) && !cfg->allow_insecure_remote) {
            asprintf(err,
                     "refusing plaintext on non-loopback address %s: give --tls-cert and "
                     "--tls-key, or --allow-insecure-remote",
                     cfg->listen);
            return NULL;
        }
        return grpc_insecure_server_credentials_create();
    }
    if (!cfg->tls_cert || !cfg->tls_key) {
        asprintf(err, "TLS needs both --tls-cert and --tls-key");
        return NULL;
    }
    grpc_ssl_pem_key_cert_pair pair = {pem_read(cfg->tls_key), pem_read(cfg->tls_cert)};
    char *ca = cfg->tls_client_ca ? pem_read(cfg->tls_client_ca) : NULL;
    grpc_server_credentials *creds = NULL;
    if (!pair.private_key || !pair.cert_chain || (cfg->tls_client_ca && !ca))
        asprintf(err, "cannot read the TLS files (%s, %s%s%s)", cfg->tls_cert, cfg->tls_key,
                 cfg->tls_client_ca ? ", " : "", cfg->tls_client_ca ? cfg->tls_client_ca : "");
    else
        creds = grpc_ssl_server_credentials_create_ex(
            ca, &pair, 1,
            ca ? GRPC_SSL_REQUEST_AND_REQUIRE_CLIENT_CERTIFICATE_AND_VERIFY
               : GRPC_SSL_DONT_REQUEST_CLIENT_CERTIFICATE,
            NULL);
    free((char *)pair.private_key);
    free((char *)pair.cert_chain);
    free(ca);
    if (!creds && !*err)
        asprintf(err, "gRPC rejected the TLS configuration");
    return creds;
}

/* The lowest free descriptor: how many are open before any connection. */
static int descriptors_open(void)
{
    int fd = fcntl(0, F_DUPFD_CLOEXEC, 0);
    if (fd >= 0)
        close(fd);
    return fd >= 0 ? fd : 0;
}

static int or_default(int v, int fallback)
{
    return v > 0 ? v : fallback;
}

/* Sets the bounds of docs/operations.md "Limits": the descriptor ceiling
 * (accept.h) below the open-file limit, raised first to its hard limit,
 * with room kept for the store's files and connections (a MongoDB pool
 * grows to 100); the calls and streams held at once; gRPC core's memory. */
static void limits_apply(api_server *srv, const api_server_config *cfg)
{
    long soft = accept_raise_fd_limit();
    long reserve = 128 + soft / 16;
    if (reserve > soft / 2)
        reserve = soft / 2;
    long ceiling = soft - reserve;
    if (cfg->max_connections > 0 && descriptors_open() + (long)cfg->max_connections < ceiling)
        ceiling = descriptors_open() + cfg->max_connections;
    accept_limit_set((int)ceiling);
    srv->max_calls = or_default(cfg->max_calls, API_DEFAULT_MAX_CALLS);
    int streams = or_default(cfg->max_streams, API_DEFAULT_MAX_STREAMS);
    int per_conn = or_default(cfg->max_streams_per_connection, API_DEFAULT_MAX_STREAMS_PER_CONN);
    srv->streams = stream_slots_new(streams, per_conn);
    if (!srv->streams)
        abort(); /* at start-up, with nothing served yet */
    int quota_mb = or_default(cfg->memory_quota_mb, API_DEFAULT_MEMORY_QUOTA_MB);
    srv->quota = grpc_resource_quota_create("supplysecd");
    grpc_resource_quota_resize(srv->quota, (size_t)quota_mb << 20);
    int writers = or_default(cfg->write_threads, API_DEFAULT_WRITE_THREADS);
    srv->writers = pool_new(writers, writer_run);
    if (!srv->writers)
        abort(); /* at start-up, with nothing served yet */
    int cache_entries = or_default(cfg->auth_cache_entries, API_DEFAULT_AUTH_CACHE_ENTRIES);
    srv->auth_cache = auth_cache_new((size_t)cache_entries, cfg->auth_cache_ms);
    log_line l;
    log_begin(&l, LOG_INFO, "limits");
    log_int(&l, "open_file_limit", soft);
    log_int(&l, "descriptor_ceiling", ceiling);
    log_int(&l, "max_calls", srv->max_calls);
    log_int(&l, "max_streams", streams);
    log_int(&l, "max_streams_per_connection", per_conn);
    log_int(&l, "memory_quota_mb", quota_mb);
    log_int(&l, "write_threads", writers);
    log_int(&l, "auth_cache_entries", (long long)auth_cache_capacity(srv->auth_cache));
    log_int(&l, "auth_cache_ms", srv->auth_cache ? cfg->auth_cache_ms : 0);
    log_int(&l, "keyless_request_max_bytes", API_KEYLESS_REQUEST_MAX);
    log_emit(&l);
}

static bool register_methods(api_server *srv, const api_service *const *services, size_t n,
                             char **err)
{
    char why[512];
    if (!kind_check_all(kinds_all, kinds_n, why, sizeof why)) {
        asprintf(err, "resource kinds: %s", why);
        return false;
    }
    size_t total = 0;
    for (size_t i = 0; i < n; i++)
        total += services[i]->desc->n_methods;
    srv->methods = calloc(total ? total : 1, sizeof *srv->methods);
    if (!srv->methods)
        return false;
    for (size_t i = 0; i < n; i++) {
        const api_service *svc = services[i];
        for (unsigned j = 0; j < svc->desc->n_methods; j++) {
            method_entry *m = &srv->methods[srv->n_methods++];
            m->md = &svc->desc->methods[j];
            snprintf(m->path, sizeof m->path, "/%s/%s", svc->desc->name, m->md->name);
            for (size_t k = 0; k < svc->n_methods; k++)
                if (strcmp(svc->methods[k].name, m->md->name) == 0)
                    m->api = &svc->methods[k];
            m->client_streaming = m->api && m->api->kind == API_BIDI_STREAM;
            /* PAYLOAD_NONE: the call is ours from its headers on, so a
             * request whose message never comes counts against max_calls;
             * with READ_INITIAL_BYTE_BUFFER gRPC core would hold it unseen
             * and unbounded (about 17 KiB each) until the message came. */
            m->handle =
                grpc_server_register_method(srv->server, m->path, NULL, GRPC_SRM_PAYLOAD_NONE, 0);
            if (!m->handle) {
                asprintf(err, "cannot register %s", m->path);
                return false;
            }
        }
        for (size_t k = 0; k < svc->n_methods; k++)
            if (!protobuf_c_service_descriptor_get_method_by_name(svc->desc,
                                                                  svc->methods[k].name)) {
                asprintf(err, "%s has no method %s", svc->desc->name, svc->methods[k].name);
                return false;
            }
        if (!api_std_check(svc->desc, svc->methods, svc->n_methods, why, sizeof why)) {
            asprintf(err, "%s: %s", svc->desc->name, why);
            return false;
        }
    }
    return true;
}

/* gRPC core's own log lines (gpr_log) as JSON lines like every other, so
 * stderr stays one JSON object per line. */
static void grpc_log_json(gpr_log_func_args *args)
{
    log_line l;
    log_begin(&l,
              args->severity == GPR_LOG_SEVERITY_ERROR  ? LOG_ERROR
              : args->severity == GPR_LOG_SEVERITY_INFO ? LOG_INFO
                                                        : LOG_DEBUG,
              args->message ? args->message : "");
    log_str(&l, "component", "grpc");
    log_str(&l, "file", args->file);
    log_int(&l, "line", args->line);
    log_emit(&l);
}

/* One completion queue per worker, each drained by its thread alone: a
 * connection's calls complete on the queue of the worker that polls it
 * (gRPC core matches a call to a request armed on the connection's own queue
 * first), so a call is read, handled and answered on one thread with no
 * hand-off. See docs/performance.md. */
static bool workers_create(api_server *srv, int n)
{
    srv->workers = calloc((size_t)n, sizeof *srv->workers);
    if (!srv->workers)
        return false;
    for (int i = 0; i < n; i++) {
        srv->workers[i].srv = srv;
        pthread_mutex_init(&srv->workers[i].live_mu, NULL);
        srv->workers[i].cq = grpc_completion_queue_create_for_next(NULL);
        grpc_server_register_completion_queue(srv->server, srv->workers[i].cq, NULL);
        srv->n_workers++;
    }
    return true;
}

/* Shuts the queues down (the server is destroyed), lets each drain (its
 * worker's thread, when running, else here) and frees them. */
static void queues_destroy(api_server *srv, bool threads_running)
{
    for (int i = 0; i < srv->n_workers; i++)
        grpc_completion_queue_shutdown(srv->workers[i].cq);
    for (int i = 0; i < srv->n_workers; i++) {
        worker *w = &srv->workers[i];
        if (threads_running)
            pthread_join(w->thread, NULL);
        else
            while (
                grpc_completion_queue_next(w->cq, gpr_inf_future(GPR_CLOCK_REALTIME), NULL).type !=
                GRPC_QUEUE_SHUTDOWN)
                ;
        grpc_completion_queue_destroy(w->cq);
        pthread_mutex_destroy(&w->live_mu);
    }
    free(srv->workers);
    srv->workers = NULL;
    srv->n_workers = 0;
}

api_server *api_server_start(const api_server_config *cfg, store *st,
                             const api_service *const *services, size_t n_services, char **err)
{
    *err = NULL;
    api_server *srv = calloc(1, sizeof *srv);
    if (!srv)
        return NULL;
    gpr_set_log_function(grpc_log_json);
    if (!core_tuning_apply()) {
        log_line l;
        log_begin(&l, LOG_WARN, "Abseil's deadlock detection stays on: its switch was not found");
        log_emit(&l);
    }
    grpc_init();
    srv->store = st;
    srv->shutdown_tag.kind = TAG_SHUTDOWN;
    pthread_mutex_init(&srv->park_mu, NULL);
    pthread_cond_init(&srv->park_cv, NULL);
    pthread_mutex_init(&srv->watch_mu, NULL);
    limits_apply(srv, cfg);
    /* channelz off: nothing here serves its admin service, and it reads the
     * clock and bumps shared counters for every stream and message. */
    grpc_arg args[6] = {
        {.type = GRPC_ARG_INTEGER,
         .key = GRPC_ARG_MAX_RECEIVE_MESSAGE_LENGTH,
         .value.integer = cfg->max_message_bytes},
        {.type = GRPC_ARG_INTEGER, .key = GRPC_ARG_ALLOW_REUSEPORT, .value.integer = 0},
        {.type = GRPC_ARG_INTEGER,
         .key = GRPC_ARG_MAX_CONCURRENT_STREAMS,
         .value.integer = API_HTTP2_MAX_CONCURRENT_STREAMS},
        {.type = GRPC_ARG_POINTER,
         .key = GRPC_ARG_RESOURCE_QUOTA,
         .value.pointer = {srv->quota, grpc_resource_quota_arg_vtable()}},
        {.type = GRPC_ARG_INTEGER,
         .key = GRPC_ARG_MAX_METADATA_SIZE,
         .value.integer = API_CORE_MAX_METADATA_BYTES},
        {.type = GRPC_ARG_INTEGER, .key = GRPC_ARG_ENABLE_CHANNELZ, .value.integer = 0},
    };
    grpc_channel_args chargs = {6, args};
    srv->server = grpc_server_create(&chargs, NULL);
    if (!workers_create(srv, cfg->workers > 0 ? cfg->workers : 1) ||
        !register_methods(srv, services, n_services, err))
        goto fail;
    grpc_server_credentials *creds = make_credentials(cfg, err);
    if (!creds)
        goto fail;
    srv->port = grpc_server_add_http2_port(srv->server, cfg->listen, creds);
    grpc_server_credentials_release(creds);
    if (srv->port == 0) {
        asprintf(err, "cannot listen on %s (address in use or invalid)", cfg->listen);
        goto fail;
    }
    grpc_server_start(srv->server);
    for (int i = 0; i < srv->n_workers; i++) {
        worker *w = &srv->workers[i];
        for (size_t j = 0; j < srv->n_methods; j++)
            for (int k = 0; k < REQUESTS_PER_METHOD; k++)
                arm_request(srv, w, &srv->methods[j]);
        for (int k = 0; k < UNKNOWN_REQUESTS; k++)
            arm_request(srv, w, NULL);
    }
    for (int i = 0; i < srv->n_workers; i++)
        pthread_create(&srv->workers[i].thread, NULL, worker_main, &srv->workers[i]);
    pthread_create(&srv->watcher, NULL, watcher_main, srv);
    return srv;
fail:
    if (!*err)
        asprintf(err, "out of memory");
    grpc_server_destroy(srv->server);
    queues_destroy(srv, false);
    pthread_mutex_destroy(&srv->watch_mu);
    pthread_mutex_destroy(&srv->park_mu);
    pthread_cond_destroy(&srv->park_cv);
    stream_slots_free(srv->streams);
    grpc_resource_quota_unref(srv->quota);
    auth_cache_free(srv->auth_cache);
    pool_free(srv->writers); /* idle: every call has finished */
    free(srv->methods);
    free(srv);
    grpc_shutdown();
    return NULL;
}

int api_server_port(const api_server *srv)
{
    return srv->port;
}

static void sleep_ms(int ms)
{
    struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000};
    nanosleep(&ts, NULL);
}

/* At the end of the grace period, before calls are cancelled: no write
 * commits from now on, and the writes still running answer for themselves
 * (OK when they committed before, UNAVAILABLE when they never will), so a
 * client is never told of a failure that was in fact written. A write
 * stuck in an unreachable store is waited for at most WRITES_END_MS; the
 * store will not commit it either. */
#define WRITES_END_MS 2000

static void writes_end(api_server *srv)
{
    store_refuse_writes(srv->store);
    int64_t until = clock_monotonic_us() + WRITES_END_MS * 1000LL;
    while (atomic_load(&srv->writing) > 0 && clock_monotonic_us() < until)
        sleep_ms(5);
}

/* Parks every worker (each at its next event, or within PARK_POLL_MS),
 * waiting at most PARK_WAIT_MS for one busy with a slow read. */
#define PARK_WAIT_MS 1000

static void park_workers(api_server *srv)
{
    int64_t start = clock_monotonic_us(), until = start + PARK_WAIT_MS * 1000LL;
    pthread_mutex_lock(&srv->park_mu);
    srv->park_wanted = true;
    while (srv->parked < srv->n_workers && clock_monotonic_us() < until) {
        pthread_mutex_unlock(&srv->park_mu);
        sleep_ms(1);
        pthread_mutex_lock(&srv->park_mu);
    }
    int parked = srv->parked;
    pthread_mutex_unlock(&srv->park_mu);
    log_line l;
    log_begin(&l, LOG_INFO, "workers parked for the shutdown");
    log_int(&l, "parked", parked);
    log_int(&l, "workers", srv->n_workers);
    log_int(&l, "waited_us", clock_monotonic_us() - start);
    log_emit(&l);
}

static void unpark_workers(api_server *srv)
{
    pthread_mutex_lock(&srv->park_mu);
    srv->park_wanted = false;
    pthread_cond_broadcast(&srv->park_cv);
    pthread_mutex_unlock(&srv->park_mu);
}

void api_server_stop(api_server *srv, int grace_ms)
{
    /* gRPC core 1.51 cancels (CANCELLED, not retryable) a call whose
     * headers it reads after the shutdown began, though its GOAWAY has not
     * reached the client yet. With the workers parked nobody reads: the
     * shutdown and its GOAWAY come between two reads, every call read
     * before is served, and the client learns from the GOAWAY that the
     * calls after it were not taken (UNAVAILABLE, retried elsewhere).
     * Stop accepting first: the watcher may be inside a slow store probe
     * (an unreachable MongoDB), and joining it must not keep the listener
     * open for that long. */
    park_workers(srv);
    atomic_store(&srv->shutting_down, true);
    grpc_server_shutdown_and_notify(srv->server, srv->workers[0].cq, &srv->shutdown_tag);
    unpark_workers(srv);
    watches_end(srv);
    pthread_join(srv->watcher, NULL);
    watches_end(srv); /* a watch its last round held may still be open */
    int64_t limit = clock_monotonic_us() + (int64_t)grace_ms * 1000;
    bool cancelled = false;
    while (!atomic_load(&srv->shutdown_done) || atomic_load(&srv->in_flight) > 0) {
        idle_calls_end(srv); /* again each round: a stream may turn idle later */
        if (!cancelled && atomic_load(&srv->in_flight) == 0 && atomic_load(&srv->armed) == 0) {
            /* No call of ours is left: every request armed has come back
             * (the unmatched ones fail at the shutdown; a matched one is in
             * flight from the moment it is taken off its queue), yet gRPC
             * core waits for every connection to close after its GOAWAY:
             * a client that never reads keeps one open for ever. Close them
             * now. Cancelling while a matched call still waited in a queue
             * ended it CANCELLED. */
            grpc_server_cancel_all_calls(srv->server);
            cancelled = true;
        }
        if (!cancelled && clock_monotonic_us() > limit) {
            log_line l;
            log_begin(&l, LOG_WARN, "grace period over; cancelling the calls still running");
            log_int(&l, "in_flight", atomic_load(&srv->in_flight));
            log_emit(&l);
            writes_end(srv);
            grpc_server_cancel_all_calls(srv->server);
            cancelled = true;
        }
        sleep_ms(5);
    }
    grpc_server_destroy(srv->server);
    queues_destroy(srv, true);
    pthread_mutex_destroy(&srv->watch_mu);
    pthread_mutex_destroy(&srv->park_mu);
    pthread_cond_destroy(&srv->park_cv);
    stream_slots_free(srv->streams);
    grpc_resource_quota_unref(srv->quota);
    auth_cache_free(srv->auth_cache);
    pool_free(srv->writers); /* idle: every call has finished */
    free(srv->methods);
    free(srv);
    grpc_shutdown();
}
