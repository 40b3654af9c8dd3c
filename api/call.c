/* call.c — a call's life (see runtime_internal.h): its context and the
 * request armed for it, its metadata and request id, decoding and encoding,
 * admission and authentication, the handler, the answer and the log line,
 * and the events of a unary call or a bidirectional stream. */
#include "runtime_internal.h"
#include "sensitive.h"

#include <grpc/byte_buffer_reader.h>
#include <grpc/grpc.h>
#include <grpc/support/alloc.h>
#include <grpc/support/time.h>
#include <openssl/rand.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#include "cork.h"
#include "encoding.h"
#include "log.h"
#include "pool.h"
#include "stream_slots.h"
#include "wire.h"
#include "zombie.h"

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

void rt_call_ctx_free(call_ctx *c)
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
        zombie_unref_own(c->call);
    free(c);
}

/* ---- arming ----
 *
 * gRPC core gives a new call to a request armed on its connection's queue
 * when there is one, else to another worker's queue, whose thread must then
 * take the connection's work too; so a burst of concurrent calls of one
 * method on a connection stays on one thread only if that many requests are
 * armed for the method on its queue (docs/performance.md: 4 a method gave
 * Health.Check at 32 streams 55,000 calls/s, 16 or more about 75,000).
 * But every request armed is a tag gRPC core's queue keeps in a list it
 * searches from the front at each completion (Debian builds gRPC without
 * NDEBUG, which keeps that check on): 32 for each of 60 methods made that
 * search 10% of the CPU of a Health.Check. So each method keeps armed
 * twice (up to four times) as many as it has calls at once on the worker
 * (seen over the last epoch), at least ARMS_MIN and at most ARMS_MAX: a
 * busy method has what its bursts take, an idle one costs one (with 163
 * methods, two each left the search at 3% of a Health.Check's samples). */
#define ARMS_MIN 1
#define ARMS_MAX 32
#define ARMS_UNKNOWN 4 /* for methods not registered: answered UNIMPLEMENTED */
#define ARMS_EPOCH_US 1000000

/* Arms one request for m (NULL: an unregistered method) on w's queue. */
static bool arm_request(api_server *srv, worker *w, const method_entry *m)
{
    if (atomic_load(&srv->shutting_down))
        return false;
    call_ctx *c = call_ctx_new(srv, w, m);
    if (!c)
        return false;
    grpc_call_error err;
    if (m)
        err = grpc_server_request_registered_call(srv->server, m->handle, &c->call, &c->deadline,
                                                  &c->request_md, NULL, w->cq, w->cq, &c->t_new);
    else
        err = grpc_server_request_call(srv->server, &c->call, &c->details, &c->request_md, w->cq,
                                       w->cq, &c->t_new);
    if (err != GRPC_CALL_OK) {
        rt_call_ctx_free(c);
        return false;
    }
    atomic_fetch_add(&srv->armed, 1);
    if (m)
        w->arms[m - srv->methods].armed++;
    return true;
}

bool rt_arms_start(api_server *srv)
{
    for (int i = 0; i < srv->n_workers; i++) {
        worker *w = &srv->workers[i];
        w->arms = calloc(srv->n_methods ? srv->n_methods : 1, sizeof *w->arms);
        if (!w->arms)
            return false;
        w->arms_epoch_us = clock_monotonic_us();
        for (size_t j = 0; j < srv->n_methods; j++) {
            w->arms[j].want = ARMS_MIN;
            for (int k = 0; k < ARMS_MIN; k++)
                arm_request(srv, w, &srv->methods[j]);
        }
        for (int k = 0; k < ARMS_UNKNOWN; k++)
            arm_request(srv, w, NULL);
    }
    return true;
}

/* Halves the want of each method that had fewer than a quarter of it busy
 * at once throughout the epoch; the requests over the new want are not
 * re-armed once taken. */
static void arms_shrink(api_server *srv, worker *w, int64_t now_us)
{
    for (size_t j = 0; j < srv->n_methods; j++) {
        method_arms *a = &w->arms[j];
        if (a->want > ARMS_MIN && 4 * a->peak <= a->want)
            a->want /= 2;
        a->peak = atomic_load_explicit(&a->busy, memory_order_relaxed);
    }
    w->arms_epoch_us = now_us;
}

/* A call took one of m's requests on w's queue: count it busy, and arm its
 * replacement plus more when the method's calls at once outgrow half of
 * what is armed. */
static void rearm(api_server *srv, worker *w, const method_entry *m, int64_t now_us)
{
    if (!m) {
        arm_request(srv, w, NULL);
        return;
    }
    method_arms *a = &w->arms[m - srv->methods];
    a->armed--;
    int busy = atomic_fetch_add_explicit(&a->busy, 1, memory_order_relaxed) + 1;
    if (busy > a->peak)
        a->peak = busy;
    while (a->want < ARMS_MAX && a->want < 2 * busy)
        a->want *= 2;
    while (a->armed < a->want && arm_request(srv, w, m))
        ;
    if (now_us - w->arms_epoch_us >= ARMS_EPOCH_US)
        arms_shrink(srv, w, now_us);
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

void rt_request_id_take(api_call *api, const char *v, size_t n)
{
    bool ok = v && n > 0 && n < sizeof api->request_id;
    for (size_t i = 0; ok && i < n; i++)
        ok = v[i] > 0x20 && v[i] < 0x7f;
    if (ok) {
        memcpy(api->request_id, v, n);
        api->request_id[n] = '\0';
    } else {
        uint64_t rnd[2];
        request_id_bits(rnd);
        hex_encode((const unsigned char *)rnd, sizeof rnd, api->request_id);
    }
}

/* Takes the client's x-request-id when it is sane, else makes one, and
 * answers with it. */
static void request_id_take(call_ctx *c)
{
    const char *v = NULL;
    size_t n = 0;
    metadata_find(&c->request_md, "x-request-id", &v, &n);
    rt_request_id_take(&c->api, v, n);
    c->initial_md[0].key = grpc_slice_from_static_string("x-request-id");
    c->initial_md[0].value = grpc_slice_from_copied_string(c->api.request_id);
}

/* ---- encoding ---- */

/* Unpacks buf as desc after the generic wire check (wire.h); NULL with st
 * set when the bytes are not a well-formed desc. */
ProtobufCMessage *rt_decode_bytes(const ProtobufCMessageDescriptor *desc, const uint8_t *p,
                                  size_t n, status *st)
{
    if (!wire_check(desc, p, n, st))
        return NULL;
    ProtobufCMessage *msg = protobuf_c_message_unpack(desc, NULL, n, p);
    if (!msg)
        status_fail(st, STATUS_INVALID_ARGUMENT, "the request is not a valid %s protobuf message",
                    desc->name);
    return msg;
}

ProtobufCMessage *rt_decode(const ProtobufCMessageDescriptor *desc, grpc_byte_buffer *buf,
                            status *st)
{
    grpc_byte_buffer_reader reader;
    if (!grpc_byte_buffer_reader_init(&reader, buf)) {
        status_fail(st, STATUS_INVALID_ARGUMENT, "the request could not be read");
        return NULL;
    }
    grpc_slice s = grpc_byte_buffer_reader_readall(&reader);
    grpc_byte_buffer_reader_destroy(&reader);
    ProtobufCMessage *msg =
        rt_decode_bytes(desc, GRPC_SLICE_START_PTR(s), GRPC_SLICE_LENGTH(s), st);
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

void rt_start_batch(call_ctx *c, const grpc_op *ops, size_t n, tag *t)
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
void rt_finish(call_ctx *c, const ProtobufCMessage *resp, bool initial_sent)
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
    rt_start_batch(c, ops, n, &c->t_finish);
}

void rt_call_done(api_server *srv, const worker *w, const method_entry *m, const api_call *api,
                  const char *method, size_t method_len, metrics_protocol protocol, bool cancelled,
                  int64_t start_us)
{
    static const char *const names[METRICS_PROTOCOLS] = {NULL, "connect", "grpc-web"};
    int64_t duration_us = clock_monotonic_us() - start_us;
    metrics_record(srv->metrics, w ? (size_t)(w - srv->workers) : (size_t)srv->n_workers,
                   m ? (size_t)(m - srv->methods) : srv->n_methods, protocol, api->st.code,
                   duration_us);
    log_line l;
    log_begin(&l,
              api->st.code == STATUS_INTERNAL || api->st.code == STATUS_DATA_LOSS ? LOG_ERROR
                                                                                  : LOG_INFO,
              "call");
    log_str(&l, "request_id", api->request_id);
    log_strn(&l, "method", method, method_len);
    if (names[protocol])
        log_str(&l, "protocol", names[protocol]);
    log_str(&l, "principal", api->authenticated ? api->who.name : "");
    log_str(&l, "organization", api->authenticated ? api->who.org : "");
    log_str(&l, "status", status_code_name(api->st.code));
    if (api->st.code != STATUS_OK)
        log_str(&l, "error", api->st.msg);
    if (cancelled)
        log_bool(&l, "cancelled", 1);
    log_int(&l, "duration_us", duration_us);
    log_emit(&l);
}

static void log_call(call_ctx *c)
{
    if (c->m)
        rt_call_done(c->srv, c->w, c->m, &c->api, c->m->path, strlen(c->m->path), METRICS_GRPC,
                     c->cancelled, c->start_us);
    else
        rt_call_done(c->srv, c->w, NULL, &c->api,
                     (const char *)GRPC_SLICE_START_PTR(c->details.method),
                     GRPC_SLICE_LENGTH(c->details.method), METRICS_GRPC, c->cancelled, c->start_us);
}

/* A keyless method's request is small (a service name, a symbol): one that
 * is not costs memory its sender was never asked to account for. */
bool rt_keyless_size_ok(const method_entry *m, api_call *api, size_t n)
{
    if (m->api->auth != API_AUTH_NONE || n <= API_KEYLESS_REQUEST_MAX)
        return true;
    api_fail(api, STATUS_RESOURCE_EXHAUSTED,
             "a request to %s without an API key is at most %d bytes, got %zu", m->path,
             API_KEYLESS_REQUEST_MAX, n);
    return false;
}

ProtobufCMessage *rt_handle_request(const method_entry *m, api_call *api, ProtobufCMessage *req)
{
    api->reads = (op_reads){.redact = false};
    /* a read-only call reads one snapshot (store.h); a write has none to
     * keep, and runs on a writer thread */
    bool snapshot = !m->api->writes;
    if (snapshot)
        store_read_begin(api->op.store);
    ProtobufCMessage *resp = m->api->handler(api, req);
    if (snapshot)
        store_read_end(api->op.store);
    protobuf_c_message_free_unpacked(req, NULL);
    if (!resp && api->st.code == STATUS_OK)
        api_fail(api, STATUS_INTERNAL, "the handler gave no answer");
    /* read from outside the organization: without what its proto marks
     * sensitive, whatever method answered (access.h) */
    if (resp && api->reads.redact)
        sensitive_redact(resp);
    return resp;
}

/* Runs the method's handler on one request, decoded. */
static ProtobufCMessage *handle(call_ctx *c, grpc_byte_buffer *payload)
{
    if (!payload)
        return api_fail(&c->api, STATUS_INVALID_ARGUMENT, "the request carried no message");
    if (!rt_keyless_size_ok(c->m, &c->api, grpc_byte_buffer_length(payload)))
        return NULL;
    ProtobufCMessage *req = rt_decode(c->m->md->input, payload, &c->api.st);
    return req ? rt_handle_request(c->m, &c->api, req) : NULL;
}

bool rt_authenticate(api_server *srv, const method_entry *m, api_call *api, const char *v, size_t n)
{
    if (m->api->auth == API_AUTH_NONE)
        return true;
    if (!auth_authenticate(srv->store, srv->auth_cache, v, n, &api->who, &api->st))
        return false;
    api->authenticated = true;
    api->op.who = &api->who;
    return true;
}

/* Authenticates unless the method is public; false with st set otherwise. */
static bool authenticate(call_ctx *c)
{
    const char *v = NULL;
    size_t n = 0;
    metadata_find(&c->request_md, "authorization", &v, &n);
    return rt_authenticate(c->srv, c->m, &c->api, v, n);
}

bool rt_calls_admit(api_server *srv, api_call *api)
{
    if (atomic_load(&srv->in_flight) <= srv->max_calls)
        return true;
    api_fail(api, STATUS_RESOURCE_EXHAUSTED,
             "the server is handling %d calls, its limit; retry with backoff", srv->max_calls);
    return false;
}

void rt_call_begin(api_server *srv, const method_entry *m, api_call *api, int64_t deadline_us)
{
    api->method = m ? m->path : "";
    api->entry = m ? m->api : NULL;
    api->method_desc = m ? m->md : NULL;
    api->op = (op_ctx){.store = srv->store,
                       .method = api->method,
                       .request_id = api->request_id,
                       .deadline_us = deadline_us,
                       .reads = &api->reads};
}

const method_entry *rt_method_by_path(const api_server *srv, const char *path, size_t len)
{
    for (size_t i = 0; i < srv->n_methods; i++)
        if (strncmp(srv->methods[i].path, path, len) == 0 && srv->methods[i].path[len] == '\0')
            return &srv->methods[i];
    return NULL;
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
    if (!rt_calls_admit(srv, &c->api))
        return false;
    if (c->m->api->kind == API_UNARY)
        return true;
    c->peer = grpc_call_get_peer(c->call);
    c->holds_stream = stream_slots_take(srv->streams, c->peer ? c->peer : "", &c->api.st);
    return c->holds_stream;
}

/* ---- the events of a call ---- */

void rt_on_new_call(call_ctx *c)
{
    api_server *srv = c->srv;
    c->start_us = clock_monotonic_us();
    rearm(srv, c->w, c->m, c->start_us);
    atomic_fetch_add(&srv->in_flight, 1);
    atomic_fetch_sub(&srv->armed, 1); /* after: the call is counted in flight first */
    rt_live_add(c);
    request_id_take(c);
    rt_call_begin(srv, c->m, &c->api, INT64_MAX);
    if (!c->m) {
        api_fail(&c->api, STATUS_UNIMPLEMENTED, "unknown method %.*s",
                 (int)GRPC_SLICE_LENGTH(c->details.method),
                 (const char *)GRPC_SLICE_START_PTR(c->details.method));
        rt_finish(c, NULL, false);
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
        rt_finish(c, NULL, false);
        return;
    }
    if (!admit(c) || !op_check_deadline(&c->api.op, &c->api.st) || !authenticate(c)) {
        rt_finish(c, NULL, false);
        return;
    }
    if (!c->m->client_streaming) { /* read the one request: rt_on_payload */
        grpc_op op;
        memset(&op, 0, sizeof op);
        op.op = GRPC_OP_RECV_MESSAGE;
        op.data.recv_message.recv_message = &c->payload;
        rt_start_idle_batch(c, &op, 1, &c->t_payload);
        return;
    }
    /* A bidirectional stream: read the first message; each one is answered
     * in rt_on_read. */
    grpc_op ops[2];
    memset(ops, 0, sizeof ops);
    ops[0].op = GRPC_OP_SEND_INITIAL_METADATA;
    ops[0].data.send_initial_metadata.count = 1;
    ops[0].data.send_initial_metadata.metadata = c->initial_md;
    ops[1].op = GRPC_OP_RECV_MESSAGE;
    ops[1].data.recv_message.recv_message = &c->payload;
    rt_start_idle_batch(c, ops, 2, &c->t_read);
}

/* Handles a unary call's request and sends the answer. */
static void answer_unary(call_ctx *c)
{
    ProtobufCMessage *resp = handle(c, c->payload);
    rt_finish(c, resp, false);
    if (resp)
        protobuf_c_message_free_unpacked(resp, NULL);
}

void rt_writer_run(pool_job *job)
{
    call_ctx *c = (call_ctx *)job;
    api_server *srv = c->srv;
    answer_unary(c); /* c may be freed from here on */
    atomic_fetch_sub(&srv->writing, 1);
}

/* The request of a unary or server-stream call arrived (ok false: the call
 * ended first). A method that writes is answered on a writer thread. */
void rt_on_payload(call_ctx *c, bool ok)
{
    if (!rt_leave_idle(c)) {
        rt_finish(c, NULL, false);
        return;
    }
    if (!ok) {
        api_fail(&c->api, STATUS_CANCELLED, "the call ended before its request arrived");
        rt_finish(c, NULL, false);
        return;
    }
    if (c->m->api->kind == API_SERVER_STREAM) {
        rt_watch_start(c);
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
void rt_on_read(call_ctx *c, bool ok)
{
    grpc_byte_buffer *payload = c->payload;
    c->payload = NULL;
    if (!rt_leave_idle(c) || !ok || !payload) {
        if (payload)
            grpc_byte_buffer_destroy(payload);
        rt_finish(c, NULL, true);
        return;
    }
    ProtobufCMessage *resp = handle(c, payload);
    grpc_byte_buffer_destroy(payload);
    if (!resp) {
        rt_finish(c, NULL, true);
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
    rt_start_idle_batch(c, ops, 2, &c->t_read);
}

void rt_on_finish(call_ctx *c)
{
    api_server *srv = c->srv;
    log_call(c);
    rt_live_remove(c);
    if (c->m)
        atomic_fetch_sub_explicit(&c->w->arms[c->m - srv->methods].busy, 1, memory_order_relaxed);
    rt_call_ctx_free(c);
    atomic_fetch_sub(&srv->in_flight, 1); /* last: stop may destroy the server after */
}
