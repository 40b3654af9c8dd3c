/* watch.c — server streams (watches) and the watcher thread.
 *
 * A server-streaming method (Health.Watch) is answered with a snapshot, and
 * again whenever the snapshot changes: the watcher thread asks the handler
 * every WATCH_POLL_MS and sends what differs from the last message. A watch
 * ends when the client cancels or the server stops. All batches of a watch
 * start under watch_mu, so no two threads start batches on its call at once;
 * the context is freed when the call is closed and no batch (nor the
 * watcher, which holds a count while it asks the handler) is outstanding. */
#include "runtime_internal.h"

#include <grpc/grpc.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define WATCH_POLL_MS 1000

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
    rt_start_batch(c, ops, k, &c->t_sent);
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
    rt_start_batch(c, &op, 1, &c->t_status);
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

void rt_watch_on_event(call_ctx *c, tag_kind kind)
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
        rt_on_finish(c);
}

/* The first snapshot, and the watch registered for the next ones. */
void rt_watch_start(call_ctx *c)
{
    api_server *srv = c->srv;
    const ProtobufCMethodDescriptor *md = c->m->md;
    if (!c->payload) {
        api_fail(&c->api, STATUS_INVALID_ARGUMENT, "the request carried no message");
        rt_finish(c, NULL, false);
        return;
    }
    if (!rt_keyless_size_ok(c->m, &c->api, grpc_byte_buffer_length(c->payload))) {
        rt_finish(c, NULL, false);
        return;
    }
    c->stream_req = rt_decode(md->input, c->payload, &c->api.st);
    if (!c->stream_req) {
        rt_finish(c, NULL, false);
        return;
    }
    /* a stream's answers may be shared between callers and are not cleared
     * of sensitive fields: no outsider is let in on one (access.h) */
    c->api.op.reads = NULL;
    ProtobufCMessage *resp = c->m->api->handler(&c->api, c->stream_req);
    if (!resp) {
        if (c->api.st.code == STATUS_OK)
            api_fail(&c->api, STATUS_INTERNAL, "the handler gave no answer");
        rt_finish(c, NULL, false);
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
    rt_start_batch(c, &op, 1, &c->t_closed);
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
            rt_on_finish(c);
    }
    for (size_t i = 0; i < n_answers; i++)
        if (answers[i].resp)
            protobuf_c_message_free_unpacked(answers[i].resp, NULL);
    free(answers);
    free(held);
}

void *rt_watcher_main(void *arg)
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
void rt_watches_end(api_server *srv)
{
    pthread_mutex_lock(&srv->watch_mu);
    for (call_ctx *c = srv->watches; c; c = c->next_watch)
        watch_end_locked(c, STATUS_UNAVAILABLE, "the server is shutting down");
    pthread_mutex_unlock(&srv->watch_mu);
}
