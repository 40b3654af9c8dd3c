/* http_watch.c — see http_watch.h. */
#include "http_watch.h"

#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>

#include "clock.h"
#include "http_frame.h"
#include "sensitive.h"

#define WATCH_ASK_US 1000000 /* the handler is asked again this often, as over gRPC */
#define WATCH_NAP_MS 100     /* between looks at the stop, the deadline and the socket */

struct http_watch {
    api_server *srv;     /* touched only under the in-flight rule (watch_end_count) */
    size_t method_index; /* in srv->methods, for the metrics */
    api_handler handler;
    char path[256];
    api_call api; /* a copy; its op's pointers point into this copy */
    ProtobufCMessage *req;
    http_protocol protocol; /* gRPC-Web's three, or Connect streaming's two */
    int64_t start_us, next_ask_us;
    http_gate *gate;
    int fd;
    uint8_t *last; /* the last message sent, packed */
    size_t last_len;
    char *out; /* frames waiting to go out */
    size_t out_len, out_off;
    bool ending, ended; /* the trailer is queued; it went out */
};

http_watch *http_watch_new(api_server *srv, const method_entry *m, const api_call *api,
                           ProtobufCMessage *req, http_protocol protocol, int64_t start_us,
                           http_gate *gate, status *st)
{
    if (atomic_fetch_add(&gate->watches, 1) >= HTTP_MAX_WATCHES) {
        atomic_fetch_sub(&gate->watches, 1);
        protobuf_c_message_free_unpacked(req, NULL);
        status_fail(st, STATUS_RESOURCE_EXHAUSTED,
                    "the server has %d HTTP streams open, its limit; retry later",
                    HTTP_MAX_WATCHES);
        return NULL;
    }
    http_watch *w = calloc(1, sizeof *w);
    if (!w) {
        atomic_fetch_sub(&gate->watches, 1);
        protobuf_c_message_free_unpacked(req, NULL);
        status_fail(st, STATUS_RESOURCE_EXHAUSTED, "out of memory for the stream");
        return NULL;
    }
    w->srv = srv;
    w->method_index = (size_t)(m - srv->methods);
    w->handler = m->api->handler;
    snprintf(w->path, sizeof w->path, "%s", m->path);
    w->api = *api;
    w->api.method = w->path;
    w->api.entry = NULL; /* the table line is the runtime's; the handler has what it needs */
    w->api.op.method = w->path;
    w->api.op.request_id = w->api.request_id;
    w->api.op.reads = &w->api.reads;
    if (w->api.authenticated)
        w->api.op.who = &w->api.who;
    w->req = req;
    w->protocol = protocol;
    w->start_us = start_us;
    w->gate = gate;
    w->fd = -1;
    return w;
}

void http_watch_set_fd(http_watch *w, int fd)
{
    w->fd = fd;
    int on = 1, idle = HTTP_WATCH_KEEPALIVE_S, interval = 10, count = 3;
    setsockopt(fd, SOL_SOCKET, SO_KEEPALIVE, &on, sizeof on);
    setsockopt(fd, IPPROTO_TCP, TCP_KEEPIDLE, &idle, sizeof idle);
    setsockopt(fd, IPPROTO_TCP, TCP_KEEPINTVL, &interval, sizeof interval);
    setsockopt(fd, IPPROTO_TCP, TCP_KEEPCNT, &count, sizeof count);
}

/* Appends one frame (flag, payload) to the bytes waiting, base64 on its
 * own for gRPC-Web text (as gRPC-Web servers send it: each chunk padded). */
static bool queue_frame(http_watch *w, uint8_t flag, const uint8_t *payload, size_t n)
{
    size_t raw = 5 + n;
    bool text = w->protocol == HTTP_GRPC_WEB_TEXT;
    size_t add = text ? http_b64_encoded_len(raw) : raw;
    uint8_t *frame = malloc(raw);
    char *grown = realloc(w->out, w->out_len + add + 1);
    if (grown)
        w->out = grown;
    if (!frame || !grown) {
        free(frame);
        return false;
    }
    http_frame_header(frame, flag, n);
    memcpy(frame + 5, payload, n);
    if (text)
        http_b64_encode(frame, raw, w->out + w->out_len);
    else
        memcpy(w->out + w->out_len, frame, raw);
    w->out_len += add;
    free(frame);
    return true;
}

/* Queues the end with the watch's closing status: gRPC-Web's trailer
 * frame, or Connect's end-stream message. */
static void queue_end(http_watch *w, status_code code, const char *msg)
{
    w->api.st.code = code;
    if (msg != w->api.st.msg)
        snprintf(w->api.st.msg, sizeof w->api.st.msg, "%s", msg);
    char *end = NULL;
    size_t n = 0;
    if (http_protocol_connect_stream(w->protocol)) {
        end = http_connect_end_stream(&w->api.st, &n);
    } else {
        char *encoded = code == STATUS_OK ? NULL : http_percent_encode(w->api.st.msg);
        int len =
            asprintf(&end, "grpc-status:%d\r\n%s%s%s", (int)code, encoded ? "grpc-message:" : "",
                     encoded ? encoded : "", encoded ? "\r\n" : "");
        n = len > 0 ? (size_t)len : 0;
        if (len < 0)
            end = NULL;
        free(encoded);
    }
    if (end)
        queue_frame(w, http_protocol_connect_stream(w->protocol) ? 0x02 : 0x80,
                    (const uint8_t *)end, n);
    free(end);
    w->ending = true;
}

/* Asks the handler (through the gate: a handler may touch the runtime);
 * queues its answer when it differs from the last sent. false (the end
 * queued) when the handler fails or the server stops. */
static bool ask(http_watch *w)
{
    if (!http_gate_enter(w->gate, w->srv)) {
        queue_end(w, STATUS_UNAVAILABLE, "the server is stopping; reconnect");
        return false;
    }
    w->api.reads = (op_reads){.redact = false};
    ProtobufCMessage *resp = w->handler(&w->api, w->req);
    http_gate_leave(w->srv);
    if (!resp) {
        queue_end(w, w->api.st.code == STATUS_OK ? STATUS_INTERNAL : w->api.st.code,
                  w->api.st.code == STATUS_OK ? "the handler gave no answer" : w->api.st.msg);
        return false;
    }
    if (w->api.reads.redact)
        sensitive_redact(resp);
    size_t n = 0;
    uint8_t *packed = NULL;
    bool encoded = http_rpc_encode_message(w->protocol, resp, &packed, &n);
    protobuf_c_message_free_unpacked(resp, NULL);
    if (!encoded) {
        queue_end(w, STATUS_RESOURCE_EXHAUSTED, "out of memory");
        return false;
    }
    if (w->last && n == w->last_len && memcmp(packed, w->last, n) == 0) {
        free(packed);
        return true;
    }
    if (!queue_frame(w, 0x00, packed, n)) {
        free(packed);
        queue_end(w, STATUS_RESOURCE_EXHAUSTED, "out of memory");
        return false;
    }
    free(w->last);
    w->last = packed;
    w->last_len = n;
    return true;
}

/* The client closed its side (a gRPC-Web client sends nothing more after
 * its request, so anything readable is the end or a reset). */
static bool client_gone(const http_watch *w)
{
    if (w->fd < 0)
        return false;
    struct pollfd p = {.fd = w->fd, .events = POLLIN | POLLRDHUP};
    return poll(&p, 1, 0) > 0 && (p.revents & (POLLIN | POLLRDHUP | POLLHUP | POLLERR));
}

ssize_t http_watch_read(void *cls, uint64_t pos, char *buf, size_t max)
{
    (void)pos;
    http_watch *w = cls;
    for (;;) {
        if (w->out_off < w->out_len) {
            size_t n = w->out_len - w->out_off;
            n = n < max ? n : max;
            memcpy(buf, w->out + w->out_off, n);
            w->out_off += n;
            if (w->out_off == w->out_len) {
                w->out_off = w->out_len = 0;
                w->ended = w->ending;
            }
            return (ssize_t)n;
        }
        if (w->ended)
            return -1; /* MHD_CONTENT_READER_END_OF_STREAM */
        int64_t now = clock_monotonic_us();
        if (atomic_load(&w->gate->closed)) {
            queue_end(w, STATUS_UNAVAILABLE, "the server is stopping; reconnect");
        } else if (now >= w->api.op.deadline_us) {
            queue_end(w, STATUS_DEADLINE_EXCEEDED, "the watch's deadline passed");
        } else if (now - w->start_us >= HTTP_WATCH_MAX_S * 1000000LL) {
            queue_end(w, STATUS_UNAVAILABLE, "the stream reached its longest life; reconnect");
        } else if (client_gone(w)) {
            w->api.st.code = STATUS_CANCELLED;
            snprintf(w->api.st.msg, sizeof w->api.st.msg, "the client went away");
            return -2; /* MHD_CONTENT_READER_END_WITH_ERROR: nobody to tell */
        } else if (now >= w->next_ask_us) {
            w->next_ask_us = now + WATCH_ASK_US;
            ask(w);
        } else {
            struct timespec nap = {0, WATCH_NAP_MS * 1000000L};
            nanosleep(&nap, NULL);
        }
    }
}

void http_watch_free(void *cls)
{
    http_watch *w = cls;
    if (!w->ended && w->api.st.code == STATUS_OK) {
        w->api.st.code = STATUS_CANCELLED;
        snprintf(w->api.st.msg, sizeof w->api.st.msg, "the connection closed");
    }
    /* through the gate, as a call: srv may be gone once the gate is closed */
    if (http_gate_enter(w->gate, w->srv)) {
        rt_call_done(w->srv, NULL, &w->srv->methods[w->method_index], &w->api, w->path,
                     strlen(w->path),
                     http_protocol_grpc_web(w->protocol) ? METRICS_GRPC_WEB : METRICS_CONNECT,
                     w->api.st.code == STATUS_CANCELLED, w->start_us);
        http_gate_leave(w->srv);
    }
    atomic_fetch_sub(&w->gate->watches, 1);
    protobuf_c_message_free_unpacked(w->req, NULL);
    free(w->last);
    free(w->out);
    free(w);
}
