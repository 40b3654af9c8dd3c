/* fuzz_page_token.c — page tokens (page_token.h) and the base64 under them
 * (encoding.h), with the HMAC key in an in-memory SQLite store.
 *
 * Input: a byte picking the mode; the list's query key up to a 0x00 byte;
 * then the rest, by mode:
 *   DECODE  a token from outside: it never decodes (the key is random per
 *           run, so no input can carry a valid MAC) unless it is empty,
 *           which starts the list; a refusal is INVALID_ARGUMENT;
 *   ENCODE  a cursor: its token decodes back to it for that query, and for
 *           no other;
 *   TAMPER  a cursor up to a 0x00 byte, then bytes XORed over its token: the
 *           changed token is refused or, when it still decodes, gives the
 *           same cursor (base64 has several spellings of the same bytes);
 *   BASE64_DECODE / BASE64_ENCODE  text / bytes: base64 decodes what it
 *           encodes, either alphabet; what it decodes encodes and decodes
 *           again to the same bytes.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "encoding.h"
#include "input.h"
#include "page_token.h"

enum { MODE_DECODE, MODE_ENCODE, MODE_TAMPER, MODE_BASE64_DECODE, MODE_BASE64_ENCODE, MODES };

/* Cursors are resource names, far shorter; tokens are refused above 4096 chars. */
#define CURSOR_MAX 3000

static store *db;

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    char *err = NULL;
    if (store_open("sqlite::memory:", 1, &db, &err) != STORE_OK) {
        fprintf(stderr, "fuzz_page_token: no store: %s\n", err ? err : "");
        abort();
    }
    return 0;
}

static char *other_query(const char *query)
{
    size_t n = strlen(query);
    char *q = malloc(n + 2);
    if (!q)
        abort();
    memcpy(q, query, n);
    q[n] = 'x';
    q[n + 1] = '\0';
    return q;
}

static char *encode(const char *query, const char *cursor)
{
    status st = {0};
    char *tok = page_token_encode(db, query, cursor, &st);
    FUZZ_REQUIRE(tok != NULL, "no token for \"%s\": %s", cursor, st.msg);
    return tok;
}

static void round_trip(const char *query, const char *cursor)
{
    char *tok = encode(query, cursor), *after = NULL, *other = other_query(query);
    status st = {0};
    FUZZ_REQUIRE(page_token_decode(db, tok, query, &after, &st), "own token refused: %s", st.msg);
    FUZZ_REQUIRE(strcmp(after, cursor) == 0, "cursor \"%s\" came back \"%s\"", cursor, after);
    free(after);
    after = NULL;
    FUZZ_REQUIRE(!page_token_decode(db, tok, other, &after, &st) && after == NULL,
                 "token for \"%s\" taken by \"%s\"", query, other);
    FUZZ_REQUIRE(st.code == STATUS_INVALID_ARGUMENT, "code %d", st.code);
    free(other);
    free(tok);
}

static void base64_round_trip(const uint8_t *b, size_t n, bool url)
{
    char *text = base64_encode(b, n, url);
    uint8_t *back = NULL;
    size_t len = 0;
    FUZZ_REQUIRE(text != NULL, "no base64 for %zu bytes", n);
    FUZZ_REQUIRE(base64_decode(text, strlen(text), &back, &len), "own base64 refused: %s", text);
    FUZZ_REQUIRE(len == n && (n == 0 || memcmp(back, b, n) == 0),
                 "base64 of %zu bytes came back %zu", n, len);
    free(back);
    free(text);
}

static void decode_foreign(const char *query, const char *token)
{
    char *after = NULL;
    status st = {0};
    bool ok = page_token_decode(db, token, query, &after, &st);
    FUZZ_REQUIRE(ok == (token[0] == '\0'), "token \"%.80s\" from outside decoded", token);
    if (ok)
        FUZZ_REQUIRE(after && after[0] == '\0', "empty token, cursor \"%s\"", after);
    else
        FUZZ_REQUIRE(after == NULL && st.code == STATUS_INVALID_ARGUMENT, "refused with code %d",
                     st.code);
    free(after);
}

static void tamper(const char *query, const char *cursor, const uint8_t *x, size_t n)
{
    char *tok = encode(query, cursor), *after = NULL;
    size_t len = strlen(tok);
    for (size_t i = 0; i < n && i < len; i++)
        tok[i] = (char)(tok[i] ^ x[i]); /* a 0x00 result ends the token there */
    status st = {0};
    if (page_token_decode(db, tok, query, &after, &st))
        FUZZ_REQUIRE(strcmp(after, tok[0] ? cursor : "") == 0,
                     "altered token for \"%s\" decoded to \"%s\"", cursor, after);
    else
        FUZZ_REQUIRE(st.code == STATUS_INVALID_ARGUMENT, "refused with code %d", st.code);
    free(after);
    free(tok);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    fuzz_input in = {data, size};
    int mode = fuzz_byte(&in) % MODES;
    char *query = fuzz_text(&in);

    if (mode == MODE_DECODE || mode == MODE_ENCODE || mode == MODE_TAMPER) {
        char *text = fuzz_text(&in);
        if (mode == MODE_DECODE) {
            decode_foreign(query, text);
        } else if (strlen(text) <= CURSOR_MAX) {
            size_t n;
            uint8_t *x = fuzz_bytes(&in, SIZE_MAX, &n);
            if (mode == MODE_ENCODE)
                round_trip(query, text);
            else
                tamper(query, text, x, n);
            free(x);
        }
        free(text);
    } else {
        size_t n, len = 0;
        uint8_t *b = fuzz_bytes(&in, SIZE_MAX, &n), *out = NULL;
        if (mode == MODE_BASE64_ENCODE) {
            base64_round_trip(b, n, false);
            base64_round_trip(b, n, true);
        } else if (base64_decode((const char *)b, n, &out, &len)) {
            FUZZ_REQUIRE((len == 0) == (out == NULL), "%zu bytes at %p", len, (void *)out);
            base64_round_trip(out, len, false);
            base64_round_trip(out, len, true);
            free(out);
        }
        free(b);
    }
    free(query);
    return 0;
}
