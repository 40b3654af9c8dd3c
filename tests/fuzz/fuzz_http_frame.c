/* fuzz_http_frame.c — the HTTP listener's parsers of outside input
 * (http_frame.h): the Content-Type, the two timeout headers, base64 (both
 * alphabets, padded chunks, unpadded), the gRPC-Web request frame, and
 * grpc-message's percent-encoding.
 *
 * The first byte picks the parser; the rest is its input. Oracles, each an
 * independent reading of the format:
 *   0  a Content-Type is one of the protocols exactly when its media type,
 *      lower-cased and without parameters, is one of the six names;
 *   1  Connect-Timeout-Ms is 1 to 10 digits, its value in ms; grpc-timeout
 *      1 to 8 digits and a unit, its value in µs;
 *   2  base64: what decodes re-encodes (in the standard alphabet, padded,
 *      chunk by chunk) to the input with '-' and '_' read as '+' and '/';
 *      the decoder never writes past n / 4 * 3 + 3 bytes; any bytes
 *      encoded decode back to themselves;
 *   3  a frame unwraps exactly when it is at least 5 bytes, its flag is 0
 *      and its length is the rest; a flag with bit 0 set is UNIMPLEMENTED,
 *      every other refusal INVALID_ARGUMENT;
 *   4  percent-encoding gives only 0x20..0x7e and decodes back to the text.
 */
#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "http_frame.h"
#include "input.h"

static const char *const media[] = {
    "application/json",          "application/proto",         "application/connect+json",
    "application/connect+proto", "application/grpc-web",      "application/grpc-web+proto",
    "application/grpc-web+json", "application/grpc-web-text", "application/grpc-web-text+proto",
};

static void check_content_type(fuzz_input *in)
{
    char *ct = fuzz_text(in);
    http_protocol p;
    bool got = http_protocol_of(ct, &p);
    /* the media type: up to ';', trailing spaces dropped, no case */
    size_t n = strcspn(ct, ";");
    while (n && ct[n - 1] == ' ')
        n--;
    bool want = false;
    for (size_t i = 0; i < sizeof media / sizeof media[0]; i++)
        want |= strlen(media[i]) == n && strncasecmp(ct, media[i], n) == 0;
    FUZZ_REQUIRE(got == want, "\"%s\": known %d, expected %d", ct, got, want);
    free(ct);
}

static void check_timeouts(fuzz_input *in)
{
    char *v = fuzz_text(in);
    size_t n = strlen(v), digits = strspn(v, "0123456789");
    int64_t us = -1, ref = 0;
    bool got = http_connect_timeout(v, &us);
    bool want = n >= 1 && n <= 10 && digits == n;
    FUZZ_REQUIRE(got == want, "connect-timeout-ms \"%s\": %d", v, got);
    if (want) {
        for (size_t i = 0; i < n; i++)
            ref = ref * 10 + (v[i] - '0');
        FUZZ_REQUIRE(us == ref * 1000, "connect-timeout-ms \"%s\": %lld", v, (long long)us);
    }
    static const struct {
        char unit;
        int64_t mul, div;
    } units[] = {{'H', 3600000000LL, 1}, {'M', 60000000, 1}, {'S', 1000000, 1},
                 {'m', 1000, 1},         {'u', 1, 1},        {'n', 1, 1000}};
    got = http_grpc_timeout(v, &us);
    want = false;
    if (n >= 2 && n <= 9 && digits == n - 1)
        for (size_t i = 0; i < sizeof units / sizeof units[0]; i++)
            if (v[n - 1] == units[i].unit) {
                want = true;
                ref = 0;
                for (size_t k = 0; k + 1 < n; k++)
                    ref = ref * 10 + (v[k] - '0');
                ref = ref * units[i].mul / units[i].div;
            }
    FUZZ_REQUIRE(got == want, "grpc-timeout \"%s\": %d", v, got);
    FUZZ_REQUIRE(!want || us == ref, "grpc-timeout \"%s\": %lld, expected %lld", v, (long long)us,
                 (long long)ref);
    free(v);
}

static void check_base64(fuzz_input *in)
{
    bool unpadded = fuzz_byte(in) & 1;
    size_t n;
    uint8_t *text = fuzz_bytes(in, 4096, &n);
    size_t room = n / 4 * 3 + 3, got = 0;
    uint8_t *out = malloc(room); /* exactly: ASan catches a write past it */
    if (http_b64_decode(text, n, out, &got, unpadded)) {
        FUZZ_REQUIRE(got <= room, "decoded %zu bytes into %zu", got, room);
        /* re-encode chunk by chunk: every 4 characters are 1 to 3 bytes */
        size_t o = 0;
        for (size_t i = 0; i < n; i += 4) {
            /* 2 to 4 characters that are not padding make 1 to 3 bytes
             * (a last chunk may be short when unpadded) */
            size_t chunk = n - i < 4 ? n - i : 4, bytes = 0;
            for (size_t k = 0; k < chunk; k++)
                bytes += text[i + k] != '=';
            bytes -= 1;
            char enc[5];
            http_b64_encode(out + o, bytes, enc);
            for (size_t k = 0; k < chunk; k++) {
                char c = (char)text[i + k];
                c = c == '-' ? '+' : c == '_' ? '/' : c;
                /* the unused low bits of the last character may differ */
                bool last = k + 1 == chunk || text[i + k + 1] == '=';
                if (!last)
                    FUZZ_REQUIRE(enc[k] == c, "chunk at %zu re-encodes differently", i);
            }
            o += bytes;
        }
        FUZZ_REQUIRE(o == got, "decoded %zu bytes, chunks say %zu", got, o);
    }
    free(out);
    /* any bytes encode and decode back */
    size_t en = http_b64_encoded_len(n);
    char *enc = malloc(en + 1);
    http_b64_encode(text, n, enc);
    uint8_t *back = malloc(en / 4 * 3 + 3);
    size_t bn = 0;
    FUZZ_REQUIRE(http_b64_decode((const uint8_t *)enc, en, back, &bn, false), "own text refused");
    FUZZ_REQUIRE(bn == n && memcmp(back, text, n) == 0, "round trip of %zu bytes", n);
    free(back);
    free(enc);
    free(text);
}

static void check_frame(fuzz_input *in)
{
    size_t n;
    uint8_t *body = fuzz_bytes(in, 4096, &n);
    const uint8_t *msg = NULL;
    size_t len = 0;
    status st = {STATUS_OK, ""};
    bool got = http_frame_unwrap(body, n, &msg, &len, &st);
    bool want =
        n >= 5 && body[0] == 0 &&
        ((size_t)body[1] << 24 | (size_t)body[2] << 16 | (size_t)body[3] << 8 | body[4]) == n - 5;
    FUZZ_REQUIRE(got == want, "frame of %zu bytes: %d", n, got);
    if (got)
        FUZZ_REQUIRE(msg == body + 5 && len == n - 5, "message at %td, %zu bytes", msg - body, len);
    else
        FUZZ_REQUIRE(st.code ==
                         (n >= 5 && (body[0] & 1) ? STATUS_UNIMPLEMENTED : STATUS_INVALID_ARGUMENT),
                     "refused with %d", st.code);
    free(body);
}

static int hex(char c)
{
    return isdigit((unsigned char)c) ? c - '0' : c >= 'A' && c <= 'F' ? c - 'A' + 10 : -1;
}

static void check_percent(fuzz_input *in)
{
    char *text = fuzz_text(in);
    char *enc = http_percent_encode(text);
    FUZZ_REQUIRE(enc != NULL, "out of memory");
    size_t o = 0, n = strlen(enc);
    char *back = malloc(n + 1);
    for (size_t i = 0; i < n; i++) {
        FUZZ_REQUIRE(enc[i] >= 0x20 && enc[i] <= 0x7e, "byte %02x at %zu", (unsigned char)enc[i],
                     i);
        if (enc[i] == '%') {
            FUZZ_REQUIRE(i + 2 < n && hex(enc[i + 1]) >= 0 && hex(enc[i + 2]) >= 0,
                         "a bad escape at %zu", i);
            back[o++] = (char)(hex(enc[i + 1]) * 16 + hex(enc[i + 2]));
            i += 2;
        } else {
            back[o++] = enc[i];
        }
    }
    back[o] = '\0';
    FUZZ_REQUIRE(strcmp(back, text) == 0, "does not decode back");
    free(back);
    free(enc);
    free(text);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    fuzz_input in = {data, size};
    switch (fuzz_byte(&in) % 5) {
    case 0:
        check_content_type(&in);
        break;
    case 1:
        check_timeouts(&in);
        break;
    case 2:
        check_base64(&in);
        break;
    case 3:
        check_frame(&in);
        break;
    default:
        check_percent(&in);
        break;
    }
    return 0;
}
