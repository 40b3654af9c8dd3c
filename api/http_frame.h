/* http_frame.h — the framings of the HTTP protocols, as pure functions
 * (no runtime, no allocation unless said): which protocol a Content-Type
 * names, the two timeout headers, base64 (gRPC-Web text, Connect GET), the
 * gRPC-Web frame and grpc-message's percent-encoding. tests/fuzz/
 * fuzz_http_frame.c checks each against an independent reading. */
#ifndef SUPPLYSEC_HTTP_FRAME_H
#define SUPPLYSEC_HTTP_FRAME_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "status.h"

typedef enum http_protocol {
    HTTP_CONNECT_JSON,
    HTTP_CONNECT_PROTO,
    HTTP_GRPC_WEB,
    HTTP_GRPC_WEB_TEXT
} http_protocol;

/* The protocol a Content-Type value names (its media type, without case
 * and parameters); false for any other. */
bool http_protocol_of(const char *content_type, http_protocol *p);

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
/* The one message frame of a gRPC-Web request body: its message (within
 * body); false with st set otherwise (compressed: UNIMPLEMENTED). */
bool http_frame_unwrap(const uint8_t *body, size_t len, const uint8_t **msg, size_t *n, status *st);
/* grpc-message's encoding: every byte outside 0x20..0x7e, and '%', as %XX
 * (malloc'd; NULL when out of memory). */
char *http_percent_encode(const char *msg);

#endif
