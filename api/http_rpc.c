/* http_rpc.c — one call over HTTP (see http_rpc.h).
 *
 * The protocols, as their specifications say (connectrpc.com/docs/protocol,
 * github.com/grpc/grpc/blob/master/doc/PROTOCOL-WEB.md):
 *   Connect unary   POST, Content-Type application/json (the proto3 JSON
 *                   mapping, through the one converter, doc.h) or
 *                   application/proto; the body is the message; an error is
 *                   a JSON {"code", "message"} with the HTTP status of its
 *                   code; Connect-Timeout-Ms is the deadline.
 *   Connect stream  POST, application/connect+json or +proto; the body is
 *                   one envelope (a flag byte, a 32-bit length, the
 *                   message); the answer is HTTP 200, an envelope per
 *                   message and an end-stream envelope (flag 0x02) holding
 *                   {} or {"error": {...}}. Served for server streams
 *                   (Health.Watch) and, as one message, for unary methods.
 *   gRPC-Web        POST, application/grpc-web(+proto), +json, or -text
 *                   (the body base64); the body is gRPC's framing (the same
 *                   envelope); the answer is a message frame and a trailer
 *                   frame (flag 0x80) with grpc-status, or, for an error,
 *                   the status in headers alone (trailers-only);
 *                   grpc-timeout is the deadline.
 * A JSON request is turned into the message and then into protobuf bytes,
 * so that it meets the same generic wire checks (embedded NULs, UTF-8,
 * sizes: wire.h) as a binary one. */
#include "http_rpc.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "clock.h"
#include "doc.h"
#include "http_frame.h"
#include "http_watch.h"

/* ---- the gate ---- */

bool http_gate_enter(http_gate *g, api_server *srv)
{
    atomic_fetch_add(&g->entering, 1);
    bool open = !atomic_load(&g->closed);
    if (open)
        atomic_fetch_add(&srv->in_flight, 1); /* srv is alive: the closer waits for us */
    atomic_fetch_sub(&g->entering, 1);
    return open;
}

void http_gate_leave(api_server *srv)
{
    atomic_fetch_sub(&srv->in_flight, 1);
}

void http_gate_close(http_gate *g)
{
    atomic_store(&g->closed, true);
    while (atomic_load(&g->entering) > 0) {
        struct timespec pause = {0, 100000};
        nanosleep(&pause, NULL);
    }
}

bool http_rpc_content_type_known(const char *content_type)
{
    http_protocol p;
    return http_protocol_of(content_type, &p);
}

/* Replaces a->body with its base64 text. */
static bool b64_encode_body(http_answer *a)
{
    size_t n = http_b64_encoded_len(a->len);
    char *text = malloc(n + 1);
    if (!text)
        return false;
    http_b64_encode((const uint8_t *)a->body, a->len, text);
    free(a->body);
    a->body = text;
    a->len = n;
    return true;
}

/* ---- answers ---- */

void http_answer_free(http_answer *a)
{
    free(a->body);
    free(a->grpc_message);
    a->body = a->grpc_message = NULL;
}

/* The HTTP status of a code (the Connect specification's table). */
static unsigned connect_http_status(status_code code)
{
    switch (code) {
    case STATUS_OK:
        return 200;
    case STATUS_CANCELLED:
        return 499;
    case STATUS_INVALID_ARGUMENT:
    case STATUS_FAILED_PRECONDITION:
    case STATUS_OUT_OF_RANGE:
        return 400;
    case STATUS_DEADLINE_EXCEEDED:
        return 504;
    case STATUS_NOT_FOUND:
        return 404;
    case STATUS_ALREADY_EXISTS:
    case STATUS_ABORTED:
        return 409;
    case STATUS_PERMISSION_DENIED:
        return 403;
    case STATUS_RESOURCE_EXHAUSTED:
        return 429;
    case STATUS_UNIMPLEMENTED:
        return 501;
    case STATUS_UNAVAILABLE:
        return 503;
    case STATUS_UNAUTHENTICATED:
        return 401;
    default:
        return 500;
    }
}

static void answer_error(http_protocol p, const status *st, http_answer *out)
{
    out->content_type = http_protocol_answer_type(p);
    if (p == HTTP_CONNECT_JSON || p == HTTP_CONNECT_PROTO) {
        out->status = connect_http_status(st->code);
        out->content_type = "application/json"; /* a unary error is JSON, whatever was asked */
        out->body = http_connect_error_json(st);
        out->len = out->body ? strlen(out->body) : 0;
        return;
    }
    out->status = 200; /* a stream's status is in its end, or gRPC-Web's headers */
    if (http_protocol_connect_stream(p)) {
        size_t n = 0;
        char *end = http_connect_end_stream(st, &n);
        out->body = end ? malloc(5 + n) : NULL;
        if (out->body) {
            http_frame_header((uint8_t *)out->body, 0x02, n);
            memcpy(out->body + 5, end, n);
            out->len = 5 + n;
        }
        free(end);
        return;
    }
    out->grpc_status = (int)st->code; /* trailers-only */
    out->grpc_message = http_percent_encode(st->msg);
}

bool http_rpc_encode_message(http_protocol p, const ProtobufCMessage *msg, uint8_t **out, size_t *n)
{
    if (http_protocol_json(p)) {
        char *json = doc_message_to_json(msg);
        if (!json)
            return false;
        *n = strlen(json);
        *out = malloc(*n + 1);
        if (*out)
            memcpy(*out, json, *n + 1);
        bson_free(json);
        return *out != NULL;
    }
    *n = protobuf_c_message_get_packed_size(msg);
    *out = malloc(*n ? *n : 1);
    if (!*out)
        return false;
    protobuf_c_message_pack(msg, *out);
    return true;
}

/* The answer to a call that succeeded; false when out of memory. */
static bool answer_message(http_protocol p, const ProtobufCMessage *resp, http_answer *out)
{
    out->status = 200;
    out->content_type = http_protocol_answer_type(p);
    uint8_t *msg = NULL;
    size_t n = 0;
    if (!http_rpc_encode_message(p, resp, &msg, &n))
        return false;
    if (p == HTTP_CONNECT_JSON || p == HTTP_CONNECT_PROTO) {
        out->body = (char *)msg;
        out->len = n;
        return true;
    }
    /* the message's envelope, then the end: gRPC-Web's trailer frame or
     * Connect's end-stream message */
    bool connect = http_protocol_connect_stream(p);
    static const char trailer[] = "grpc-status:0\r\n", end_ok[] = "{}";
    const char *end = connect ? end_ok : trailer;
    size_t en = connect ? sizeof end_ok - 1 : sizeof trailer - 1;
    out->body = malloc(5 + n + 5 + en);
    if (!out->body) {
        free(msg);
        return false;
    }
    uint8_t *b = (uint8_t *)out->body;
    http_frame_header(b, 0x00, n);
    memcpy(b + 5, msg, n);
    free(msg);
    http_frame_header(b + 5 + n, connect ? 0x02 : 0x80, en);
    memcpy(b + 10 + n, end, en);
    out->len = 10 + n + en;
    return p == HTTP_GRPC_WEB_TEXT ? b64_encode_body(out) : true;
}

void http_rpc_refuse(const http_rpc_in *in, status_code code, const char *msg, http_answer *out)
{
    api_call id;
    rt_request_id_take(&id, in->request_id, in->request_id ? strlen(in->request_id) : 0);
    memcpy(out->request_id, id.request_id, sizeof out->request_id);
    http_protocol p = HTTP_CONNECT_JSON;
    http_protocol_of(in->content_type, &p);
    status st;
    status_fail(&st, code, "%s", msg);
    out->grpc_status = -1;
    answer_error(p, &st, out);
}

/* ---- the request message ---- */

/* The request's protobuf bytes out of the body (the message out of its
 * envelope, base64 decoded for gRPC-Web text; JSON parsed and packed):
 * *owned is set when they were allocated here. false with st set on a
 * malformed body. */
static bool request_bytes(http_protocol p, const method_entry *m, const http_rpc_in *in,
                          const uint8_t **bytes, size_t *n, uint8_t **owned, status *st)
{
    *owned = NULL;
    const uint8_t *msg = in->body;
    size_t len = in->len;
    uint8_t *decoded = NULL;
    if (p == HTTP_GRPC_WEB_TEXT) {
        decoded = malloc(len / 4 * 3 + 3);
        if (!decoded)
            return status_fail(st, STATUS_RESOURCE_EXHAUSTED, "out of memory");
        if (!http_b64_decode(in->body, in->len, decoded, &len, false)) {
            free(decoded);
            return status_fail(st, STATUS_INVALID_ARGUMENT, "the grpc-web-text body is not base64");
        }
        msg = decoded;
    }
    if (p != HTTP_CONNECT_JSON && p != HTTP_CONNECT_PROTO &&
        !http_frame_unwrap(msg, len, &msg, &len, st)) {
        free(decoded);
        return false;
    }
    if (!http_protocol_json(p)) {
        *bytes = msg;
        *n = len;
        *owned = decoded;
        return true;
    }
    char err[256] = "";
    ProtobufCMessage *parsed = doc_message_from_json(m->md->input, len ? (const char *)msg : "{}",
                                                     len ? len : 2, err, sizeof err);
    free(decoded);
    if (!parsed)
        return status_fail(st, STATUS_INVALID_ARGUMENT, "the request is not a valid %s: %s",
                           m->md->input->name, err);
    size_t packed = protobuf_c_message_get_packed_size(parsed);
    *owned = malloc(packed ? packed : 1);
    if (*owned)
        protobuf_c_message_pack(parsed, *owned);
    protobuf_c_message_free_unpacked(parsed, NULL);
    if (!*owned)
        return status_fail(st, STATUS_RESOURCE_EXHAUSTED, "out of memory");
    *bytes = *owned;
    *n = packed;
    return true;
}

/* The message taken out of its framing is held to the server's limit, as
 * gRPC holds it (the body may be larger: base64, JSON). */
static bool message_size_ok(const http_rpc_in *in, size_t n, status *st)
{
    if (n <= (size_t)in->max_message_bytes)
        return true;
    return status_fail(st, STATUS_RESOURCE_EXHAUSTED,
                       "the request's message is %zu bytes; at most %d are accepted", n,
                       in->max_message_bytes);
}

size_t http_rpc_body_limit(http_gate *g, api_server *srv, const char *path, const char *auth,
                           int max_message_bytes)
{
    size_t limit = HTTP_UNTRUSTED_BODY_MAX;
    if (!http_gate_enter(g, srv))
        return limit; /* answered UNAVAILABLE anyway */
    const method_entry *m = rt_method_by_path(srv, path, strlen(path));
    if (m && m->api && m->api->auth != API_AUTH_NONE && auth) {
        api_call probe;
        memset(&probe, 0, sizeof probe);
        rt_call_begin(srv, m, &probe, INT64_MAX);
        if (rt_authenticate(srv, m, &probe, auth, strlen(auth)))
            limit = (size_t)max_message_bytes * HTTP_BODY_ROOM + 1024;
    }
    http_gate_leave(srv);
    return limit;
}

/* ---- a Connect GET ---- */

/* Checks a GET's query (encoding json or proto, the message, base64=1 for
 * base64url) and that m may be called so; the message's bytes go to
 * got->body (decoded into *owned when base64). false with st set (and
 * *not_allowed when m has side effects: HTTP 405). */
static bool get_query(const method_entry *m, const http_rpc_in *in, http_rpc_in *got,
                      uint8_t **owned, status *st, bool *not_allowed)
{
    if (!m->no_side_effects) {
        *not_allowed = true;
        return status_fail(st, STATUS_UNIMPLEMENTED,
                           "%s is not marked NO_SIDE_EFFECTS in its proto: call it with POST "
                           "(GET is only for the methods marked so)",
                           m->path);
    }
    if (in->q_connect && strcmp(in->q_connect, "v1") != 0)
        return status_fail(st, STATUS_INVALID_ARGUMENT, "connect must be v1, got \"%.32s\"",
                           in->q_connect);
    if (!in->q_encoding ||
        (strcmp(in->q_encoding, "json") != 0 && strcmp(in->q_encoding, "proto") != 0))
        return status_fail(st, STATUS_INVALID_ARGUMENT,
                           "a GET names its message's encoding: encoding=json or encoding=proto");
    if (!in->q_message)
        return status_fail(st, STATUS_INVALID_ARGUMENT, "a GET carries its request in message=");
    if (in->q_base64 && strcmp(in->q_base64, "1") == 0) {
        size_t n = 0;
        *owned = malloc(in->q_message_len / 4 * 3 + 3);
        if (!*owned)
            return status_fail(st, STATUS_RESOURCE_EXHAUSTED, "out of memory");
        if (!http_b64_decode((const uint8_t *)in->q_message, in->q_message_len, *owned, &n, true))
            return status_fail(st, STATUS_INVALID_ARGUMENT, "message= is not base64url");
        got->body = *owned;
        got->len = n;
    }
    return true;
}

/* ---- the call ---- */

void http_rpc_serve(api_server *srv, const http_rpc_in *in, http_answer *out)
{
    int64_t start_us = clock_monotonic_us();
    api_call api;
    memset(&api, 0, sizeof api);
    memset(out, 0, sizeof *out);
    out->grpc_status = -1;
    http_protocol p = HTTP_CONNECT_JSON;
    http_protocol_of(in->content_type, &p); /* http.c checked it is one of them (POST) */
    http_rpc_in got;                        /* a GET's query as a POST's body */
    uint8_t *query_bytes = NULL;
    bool not_allowed = false;
    if (in->get) {
        p = in->q_encoding && strcmp(in->q_encoding, "proto") == 0 ? HTTP_CONNECT_PROTO
                                                                   : HTTP_CONNECT_JSON;
        got = *in;
        got.body = (const uint8_t *)in->q_message;
        got.len = in->q_message_len;
        got.connect_version = NULL; /* its query's connect=, checked by get_query */
        got.content_encoding = in->q_compression;
        in = &got;
    }
    rt_request_id_take(&api, in->request_id, in->request_id ? strlen(in->request_id) : 0);
    memcpy(out->request_id, api.request_id, sizeof out->request_id);
    const method_entry *m = rt_method_by_path(srv, in->path, strlen(in->path));
    rt_call_begin(srv, m, &api, INT64_MAX);

    ProtobufCMessage *resp = NULL;
    uint8_t *owned = NULL;
    const uint8_t *bytes = NULL;
    size_t n = 0;
    int64_t timeout_us = 0;
    bool grpc_web = http_protocol_grpc_web(p);
    const char *timeout = grpc_web ? in->grpc_timeout : in->connect_timeout_ms;
    const char *encoding = in->content_encoding;
    if (!m) {
        api_fail(&api, STATUS_UNIMPLEMENTED, "unknown method %s", in->path);
    } else if (in->get && !get_query(m, in, &got, &query_bytes, &api.st, &not_allowed)) {
        /* got's body is the decoded message from here on */
    } else if (!m->api || !m->api->handler) {
        api_fail(&api, STATUS_UNIMPLEMENTED, "%s is not implemented", m->path);
    } else if (m->api->kind == API_BIDI_STREAM) {
        api_fail(&api, STATUS_UNIMPLEMENTED,
                 "%s is a bidirectional stream, which HTTP/1.1 cannot carry; call it over gRPC",
                 m->path);
    } else if (m->api->kind == API_SERVER_STREAM &&
               (p == HTTP_CONNECT_JSON || p == HTTP_CONNECT_PROTO)) {
        api_fail(&api, STATUS_UNIMPLEMENTED,
                 "%s is a server stream: call it with Connect's streaming protocol "
                 "(application/connect+json or +proto) or gRPC-Web",
                 m->path);
    } else if (in->connect_version && strcmp(in->connect_version, "1") != 0) {
        api_fail(&api, STATUS_INVALID_ARGUMENT, "connect-protocol-version must be 1, got \"%.32s\"",
                 in->connect_version);
    } else if (encoding && strcmp(encoding, "identity") != 0) {
        api_fail(&api, STATUS_UNIMPLEMENTED,
                 "compressed requests are not accepted (encoding \"%.32s\"); send them "
                 "uncompressed",
                 encoding);
    } else if (timeout && !(grpc_web ? http_grpc_timeout(timeout, &timeout_us)
                                     : http_connect_timeout(timeout, &timeout_us))) {
        api_fail(&api, STATUS_INVALID_ARGUMENT, "%s \"%.32s\" is not a timeout",
                 grpc_web ? "grpc-timeout" : "connect-timeout-ms", timeout);
    } else if (in->body_too_large) {
        api_fail(&api, STATUS_RESOURCE_EXHAUSTED,
                 "the request's body is larger than this server keeps (a message of at most %d "
                 "bytes, in its framing; %d bytes without a valid key)",
                 in->max_message_bytes, HTTP_UNTRUSTED_BODY_MAX);
    } else if (in->metadata_bytes > API_MAX_METADATA_BYTES) {
        api_fail(&api, STATUS_RESOURCE_EXHAUSTED,
                 "the request's metadata is %zu bytes; at most %d are accepted", in->metadata_bytes,
                 API_MAX_METADATA_BYTES);
    } else if (m->api->auth == API_AUTH_NONE && in->len > HTTP_UNTRUSTED_BODY_MAX) {
        api_fail(&api, STATUS_RESOURCE_EXHAUSTED,
                 "a request to %s without an API key is at most %d bytes, got a body of %zu",
                 m->path, API_KEYLESS_REQUEST_MAX, in->len);
    } else if (rt_calls_admit(srv, &api)) {
        if (timeout)
            api.op.deadline_us = start_us + timeout_us;
        if (op_check_deadline(&api.op, &api.st) &&
            rt_authenticate(srv, m, &api, in->authorization,
                            in->authorization ? strlen(in->authorization) : 0) &&
            request_bytes(p, m, in, &bytes, &n, &owned, &api.st) &&
            rt_keyless_size_ok(m, &api, n) && message_size_ok(in, n, &api.st)) {
            ProtobufCMessage *req = rt_decode_bytes(m->md->input, bytes, n, &api.st);
            if (req && m->api->kind == API_SERVER_STREAM) {
                out->watch = http_watch_new(srv, m, &api, req, p, start_us, in->gate, &api.st);
            } else if (req) {
                /* a write runs on this connection's thread; counted with the writer
                 * threads' so the stop lets it answer before it cancels (runtime.c) */
                if (m->api->writes)
                    atomic_fetch_add(&srv->writing, 1);
                resp = rt_handle_request(m, &api, req);
                if (m->api->writes)
                    atomic_fetch_sub(&srv->writing, 1);
            }
        }
    }
    free(owned);
    free(query_bytes);
    if (out->watch) { /* answered frame by frame, and logged at its end */
        out->status = 200;
        out->content_type = http_protocol_answer_type(p);
        return;
    }
    if (resp && !answer_message(p, resp, out)) {
        http_answer_free(out);
        api_fail(&api, STATUS_RESOURCE_EXHAUSTED, "out of memory for the answer");
    }
    if (api.st.code != STATUS_OK)
        answer_error(p, &api.st, out);
    if (not_allowed)
        out->status = 405;
    if (resp)
        protobuf_c_message_free_unpacked(resp, NULL);
    rt_call_done(srv, NULL, m, &api, in->path, strlen(in->path),
                 grpc_web ? METRICS_GRPC_WEB : METRICS_CONNECT, false, start_us);
}
