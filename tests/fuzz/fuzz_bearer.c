/* fuzz_bearer.c — the `authorization` header: apikey_parse_bearer and the
 * whole of auth_authenticate against an in-memory SQLite store holding one
 * platform key made by keyring_bootstrap (its secret is random per run, so
 * the fuzzer cannot have it).
 *
 * The first byte picks how the header value is made from the rest:
 *   0  the bytes as they are (not NUL-terminated, as gRPC hands them over);
 *   1  "Bearer " + the stored key's real prefix + the bytes: the lookup
 *      finds the key and the secret comparison runs;
 *   2  "Bearer " + the real secret with the bytes XORed over it: all zero
 *      bytes leave the real secret, so the success path runs too.
 * Oracles: the parse agrees with an independent reading of the format
 * (case-insensitive "Bearer ", spaces, ssk_<16 hex>_<43 base64url>, nothing
 * after); authentication succeeds exactly when the secret given is the
 * stored key's, as that platform administrator, and otherwise fails
 * UNAUTHENTICATED with a UTF-8 message that never quotes the secret.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "apikey.h"
#include "auth.h"
#include "input.h"
#include "keyring.h"
#include "store.h"
#include "utf8.h"

static store *db;
static char real[APIKEY_SECRET_LEN + 1];

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    char *err = NULL;
    status st = {0};
    if (store_open("sqlite::memory:", 1, &db, &err) != STORE_OK ||
        !keyring_bootstrap(db, real, &st)) {
        fprintf(stderr, "fuzz_bearer: no store: %s %s\n", err ? err : "", st.msg);
        abort();
    }
    return 0;
}

static bool ref_parse(const char *v, size_t n, char secret[APIKEY_SECRET_LEN + 1])
{
    size_t i = 7;
    if (n < 7 || strncasecmp(v, "bearer ", 7) != 0)
        return false;
    while (i < n && v[i] == ' ')
        i++;
    if (n - i != APIKEY_SECRET_LEN)
        return false;
    for (size_t k = 0; k < APIKEY_SECRET_LEN; k++) {
        char c = v[i + k];
        bool ok;
        if (k < 4)
            ok = c == "ssk_"[k];
        else if (k < APIKEY_PREFIX_LEN)
            ok = (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f');
        else if (k == APIKEY_PREFIX_LEN)
            ok = c == '_';
        else
            ok = (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
                 c == '-' || c == '_';
        if (!ok)
            return false;
    }
    memcpy(secret, v + i, APIKEY_SECRET_LEN);
    secret[APIKEY_SECRET_LEN] = '\0';
    return true;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    fuzz_input in = {data, size};
    int mode = fuzz_byte(&in) % 3;
    size_t n, len;
    uint8_t *rest = fuzz_bytes(&in, SIZE_MAX, &n);
    char *value;

    if (mode == 0) {
        value = (char *)rest;
        len = n;
    } else {
        len = 7 + (mode == 1 ? APIKEY_PREFIX_LEN + n : APIKEY_SECRET_LEN);
        value = malloc(len);
        if (!value)
            abort();
        memcpy(value, "Bearer ", 7);
        memcpy(value + 7, real, len - 7 < APIKEY_SECRET_LEN ? len - 7 : APIKEY_SECRET_LEN);
        if (mode == 1 && n)
            memcpy(value + 7 + APIKEY_PREFIX_LEN, rest, n);
        for (size_t i = 0; mode == 2 && i < n && i < APIKEY_SECRET_LEN; i++)
            value[7 + i] ^= (char)rest[i];
        free(rest);
    }

    char secret[APIKEY_SECRET_LEN + 1], prefix[APIKEY_PREFIX_LEN + 1], want[APIKEY_SECRET_LEN + 1];
    bool parsed = apikey_parse_bearer(value, len, secret, prefix);
    FUZZ_REQUIRE(parsed == ref_parse(value, len, want), "parse says %d", parsed);
    if (parsed) {
        FUZZ_REQUIRE(strcmp(secret, want) == 0, "secret \"%s\", expected \"%s\"", secret, want);
        FUZZ_REQUIRE(strlen(prefix) == APIKEY_PREFIX_LEN &&
                         strncmp(prefix, secret, APIKEY_PREFIX_LEN) == 0,
                     "prefix \"%s\" of \"%s\"", prefix, secret);
    }

    principal who;
    status st = {0};
    memset(&who, 0, sizeof who);
    bool ok = auth_authenticate(db, value, len, &who, &st);
    bool genuine = parsed && strcmp(secret, real) == 0;
    FUZZ_REQUIRE(ok == genuine, "authenticated %d, genuine %d: %s", ok, genuine, st.msg);
    if (ok) {
        FUZZ_REQUIRE(auth_is_platform_admin(&who), "bootstrap key is not platform admin: %s",
                     who.name);
    } else {
        FUZZ_REQUIRE(st.code == STATUS_UNAUTHENTICATED, "code %d: %s", st.code, st.msg);
        FUZZ_REQUIRE(utf8_valid(st.msg, strlen(st.msg), NULL), "message not UTF-8");
        FUZZ_REQUIRE(!parsed || !strstr(st.msg, secret + APIKEY_PREFIX_LEN),
                     "message quotes the secret: %s", st.msg);
    }
    free(value);
    return 0;
}
