/* http_frame.h — the framings of the HTTP protocols, as pure functions
 * (no runtime, no allocation unless said): which protocol a Content-Type
 * names, the two timeout headers, base64 (gRPC-Web text, Connect GET), the
 * frame (gRPC-Web's, Connect streaming's envelope), grpc-message's
 * percent-encoding and Connect's error JSON. tests/fuzz/
 * fuzz_http_frame.c checks each against an independent reading. */
#ifndef SUPPLYSEC_HTTP_FRAME_H
#define SUPPLYSEC_HTTP_FRAME_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "status.h"

typedef enum http_protocol {
    HTTP_CONNECT_JSON, /* Connect unary: the body is the message */
    HTTP_CONNECT_PROTO,
    HTTP_CONNECT_STREAM_JSON, /* Connect streaming: enveloped messages, an end-stream message */
    HTTP_CONNECT_STREAM_PROTO,
    HTTP_GRPC_WEB, /* gRPC-Web: frames, a trailer frame */
    HTTP_GRPC_WEB_TEXT,
    HTTP_GRPC_WEB_JSON
} http_protocol;

/* The protocol a Content-Type value names (its media type, without case
 * and parameters); false for any other. */
bool http_protocol_of(const char *content_type, http_protocol *p);
/* Its messages are JSON (the proto3 mapping), not protobuf bytes. */
bool http_protocol_json(http_protocol p);
/* One of gRPC-Web's framings (grpc-timeout, trailers, grpc-status). */
bool http_protocol_grpc_web(http_protocol p);
/* Connect's streaming protocol (an end-stream message ends the answer). */
bool http_protocol_connect_stream(http_protocol p);
/* The Content-Type of its answers. */
const char *http_protocol_answer_type(http_protocol p);

/* Connect's error object, {"code":...,"message":...} (malloc'd; NULL when
 * out of memory), and a streaming answer's end-stream message: {} for OK,
 * else {"error":{...}} (malloc'd, its length in *n). */
char *http_connect_error_json(const status *st);
char *http_connect_end_stream(const status *st, size_t *n);

/* Connect-Timeout-Ms: 1 to 10 digits of milliseconds. */
bool http_connect_timeout(const char *v, int64_t *us);
/* grpc-timeout: 1 to 8 digits and a unit, H M S m u n (PROTOCOL-HTTP2.md). */
bool http_grpc_timeout(const char *v, int64_t *us);

/* Decodes base64 text that may be several padded chunks one after the
 * other (a client may send each frame encoded on its own), in either
 * alphabet; with unpadded, a last chunk may leave its padding out (a
 * Connect GET's message). out has room for n / 4 * 3 + 3 bytes. false on
 * anything but base64. */
bool http_b64_decode(const uint8_t *in, size_t n, uint8_t *out, size_t *out_len, bool unpadded);
/* The padded base64 of n bytes: its length, and the text (out has room
 * for that length + 1: a NUL ends it). */
size_t http_b64_encoded_len(size_t n);
void http_b64_encode(const uint8_t *in, size_t n, char *out);

/* Writes a frame's 5-byte header (flag, 32-bit big-endian length) at at. */
void http_frame_header(uint8_t *at, uint8_t flag, size_t len);
/* The one message frame of a gRPC-Web or Connect streaming request body:
 * its message (within body); false with st set otherwise (compressed:
 * UNIMPLEMENTED). */
bool http_frame_unwrap(const uint8_t *body, size_t len, const uint8_t **msg, size_t *n, status *st);
/* grpc-message's encoding: every byte outside 0x20..0x7e, and '%', as %XX
 * (malloc'd; NULL when out of memory). */
char *http_percent_encode(const char *msg);

#endif
