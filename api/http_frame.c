/* http_frame.c — see http_frame.h. */
#include "http_frame.h"

#include <ctype.h>
#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <bson/bson.h>

#include "encoding.h"
#include "utf8.h"

/* ---- what the request speaks ---- */

/* The media type of a Content-Type value, without parameters, compared
 * without case. */
static bool media_is(const char *content_type, const char *want)
{
    size_t n = strlen(want);
    if (!content_type || strncasecmp(content_type, want, n) != 0)
        return false;
    const char *rest = content_type + n;
    while (*rest == ' ')
        rest++;
    return *rest == '\0' || *rest == ';';
}

static const struct {
    const char *media, *alias; /* what a request may name it (alias: NULL or another name) */
    const char *answer;        /* the Content-Type of its answers */
} protocols[] = {
    [HTTP_CONNECT_JSON] = {"application/json", NULL, "application/json"},
    [HTTP_CONNECT_PROTO] = {"application/proto", NULL, "application/proto"},
    [HTTP_CONNECT_STREAM_JSON] = {"application/connect+json", NULL, "application/connect+json"},
    [HTTP_CONNECT_STREAM_PROTO] = {"application/connect+proto", NULL, "application/connect+proto"},
    [HTTP_GRPC_WEB] = {"application/grpc-web", "application/grpc-web+proto",
                       "application/grpc-web+proto"},
    [HTTP_GRPC_WEB_TEXT] = {"application/grpc-web-text", "application/grpc-web-text+proto",
                            "application/grpc-web-text+proto"},
    [HTTP_GRPC_WEB_JSON] = {"application/grpc-web+json", NULL, "application/grpc-web+json"},
};

bool http_protocol_of(const char *content_type, http_protocol *p)
{
    for (size_t i = 0; i < sizeof protocols / sizeof protocols[0]; i++)
        if (media_is(content_type, protocols[i].media) ||
            (protocols[i].alias && media_is(content_type, protocols[i].alias))) {
            *p = (http_protocol)i;
            return true;
        }
    return false;
}

bool http_protocol_json(http_protocol p)
{
    return p == HTTP_CONNECT_JSON || p == HTTP_CONNECT_STREAM_JSON || p == HTTP_GRPC_WEB_JSON;
}

bool http_protocol_grpc_web(http_protocol p)
{
    return p == HTTP_GRPC_WEB || p == HTTP_GRPC_WEB_TEXT || p == HTTP_GRPC_WEB_JSON;
}

bool http_protocol_connect_stream(http_protocol p)
{
    return p == HTTP_CONNECT_STREAM_JSON || p == HTTP_CONNECT_STREAM_PROTO;
}

const char *http_protocol_answer_type(http_protocol p)
{
    return protocols[p].answer;
}

/* ---- Connect's errors ---- */

/* Connect's name of a code: the gRPC name in lower case ("canceled" with
 * one L). */
static void connect_code(status_code code, char out[32])
{
    const char *name = code == STATUS_CANCELLED ? "canceled" : status_code_name(code);
    size_t i = 0;
    for (; name[i] && i + 1 < 32; i++)
        out[i] = (char)tolower((unsigned char)name[i]);
    out[i] = '\0';
}

char *http_connect_error_json(const status *st)
{
    /* a message quoting a header may hold bytes that are not UTF-8, which
     * JSON cannot carry (and libbson's escaper refuses): each becomes '?' */
    char text[sizeof st->msg];
    size_t n = strnlen(st->msg, sizeof st->msg - 1);
    for (size_t i = 0; i < n;) {
        size_t c = utf8_char_len((const unsigned char *)st->msg + i, n - i);
        if (c == 0) {
            text[i++] = '?';
            continue;
        }
        memcpy(text + i, st->msg + i, c);
        i += c;
    }
    text[n] = '\0';
    char *msg = bson_utf8_escape_for_json(text, -1);
    char *out = NULL, code[32];
    connect_code(st->code, code);
    if (!msg || asprintf(&out, "{\"code\":\"%s\",\"message\":\"%s\"}", code, msg) < 0)
        out = NULL;
    bson_free(msg);
    return out;
}

char *http_connect_end_stream(const status *st, size_t *n)
{
    char *out = NULL;
    if (st->code == STATUS_OK) {
        out = strdup("{}");
    } else {
        char *error = http_connect_error_json(st);
        if (!error || asprintf(&out, "{\"error\":%s}", error) < 0)
            out = NULL;
        free(error);
    }
    *n = out ? strlen(out) : 0;
    return out;
}

/* ---- deadlines ---- */

bool http_connect_timeout(const char *v, int64_t *us)
{
    size_t n = strlen(v);
    if (n == 0 || n > 10)
        return false;
    int64_t ms = 0;
    for (size_t i = 0; i < n; i++) {
        if (!isdigit((unsigned char)v[i]))
            return false;
        ms = ms * 10 + (v[i] - '0');
    }
    *us = ms * 1000;
    return true;
}

bool http_grpc_timeout(const char *v, int64_t *us)
{
    size_t n = strlen(v);
    if (n < 2 || n > 9)
        return false;
    int64_t x = 0;
    for (size_t i = 0; i + 1 < n; i++) {
        if (!isdigit((unsigned char)v[i]))
            return false;
        x = x * 10 + (v[i] - '0');
    }
    switch (v[n - 1]) {
    case 'H':
        *us = x * 3600 * 1000000;
        return true;
    case 'M':
        *us = x * 60 * 1000000;
        return true;
    case 'S':
        *us = x * 1000000;
        return true;
    case 'm':
        *us = x * 1000;
        return true;
    case 'u':
        *us = x;
        return true;
    case 'n':
        *us = x / 1000;
        return true;
    default:
        return false;
    }
}

/* ---- base64 (gRPC-Web text, a Connect GET's message): encoding.c's decoder, chunk by chunk ----
 */

bool http_b64_decode(const uint8_t *in, size_t n, uint8_t *out, size_t *out_len, bool unpadded)
{
    size_t o = 0;
    for (size_t i = 0; i < n;) {
        /* one chunk: up to and with its padding */
        size_t j = i;
        while (j < n && in[j] != '=')
            j++;
        while (j < n && in[j] == '=')
            j++;
        if (!unpadded && (j - i) % 4 != 0)
            return false;
        uint8_t *bytes = NULL;
        size_t len = 0;
        if (!base64_decode((const char *)in + i, j - i, &bytes, &len))
            return false;
        if (len)
            memcpy(out + o, bytes, len);
        free(bytes);
        o += len;
        i = j;
    }
    *out_len = o;
    return true;
}

size_t http_b64_encoded_len(size_t n)
{
    return 4 * ((n + 2) / 3);
}

void http_b64_encode(const uint8_t *in, size_t n, char *out)
{
    EVP_EncodeBlock((unsigned char *)out, in, (int)n);
}

/* ---- frames and messages ---- */

void http_frame_header(uint8_t *at, uint8_t flag, size_t len)
{
    at[0] = flag;
    at[1] = (uint8_t)(len >> 24);
    at[2] = (uint8_t)(len >> 16);
    at[3] = (uint8_t)(len >> 8);
    at[4] = (uint8_t)len;
}

char *http_percent_encode(const char *msg)
{
    size_t n = strlen(msg);
    char *out = malloc(3 * n + 1);
    if (!out)
        return NULL;
    size_t o = 0;
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)msg[i];
        if (c < 0x20 || c > 0x7e || c == '%')
            o += (size_t)sprintf(out + o, "%%%02X", c);
        else
            out[o++] = (char)c;
    }
    out[o] = '\0';
    return out;
}

bool http_frame_unwrap(const uint8_t *body, size_t len, const uint8_t **msg, size_t *n, status *st)
{
    if (len < 5)
        return status_fail(st, STATUS_INVALID_ARGUMENT,
                           "the request carried no message (a gRPC-Web or Connect streaming body "
                           "is one frame: a flag byte, a 4-byte length and the message)");
    size_t frame = (size_t)body[1] << 24 | (size_t)body[2] << 16 | (size_t)body[3] << 8 | body[4];
    if (body[0] & 0x01)
        return status_fail(st, STATUS_UNIMPLEMENTED,
                           "compressed messages are not accepted; send them uncompressed");
    if (body[0] != 0 || frame != len - 5)
        return status_fail(st, STATUS_INVALID_ARGUMENT,
                           "the body is not exactly one message frame (%zu bytes, the frame "
                           "says %zu)",
                           len, frame + 5);
    *msg = body + 5;
    *n = frame;
    return true;
}
