/* fuzz_bearer.c — the `authorization` header: apikey_parse_bearer and the
 * whole of auth_authenticate against an in-memory SQLite store holding
 * three keys, made as a server makes them (keyring_bootstrap, then the
 * CreateOrganization, CreateApiKey and RevokeApiKey handlers): the platform
 * key, an ADMIN key of organization acme and a revoked VIEWER key of acme.
 * Their secrets are random per run, so the fuzzer cannot have them.
 *
 * The first byte b picks the key (b / 3 % 3) and how the header value is
 * made from the rest (b % 3):
 *   0  the bytes as they are (not NUL-terminated, as gRPC hands them over);
 *   1  "Bearer " + the key's real prefix + the bytes: the lookup finds the
 *      key and the secret comparison runs;
 *   2  "Bearer " + the key's real secret with the bytes XORed over it: all
 *      zero bytes leave the real secret, so the success path runs too.
 * Oracles: the parse agrees with an independent reading of the format
 * (case-insensitive "Bearer ", spaces, ssk_<16 hex>_<43 base64url>, nothing
 * after); authentication succeeds exactly when the secret given is an
 * active key's, as that key's organization and role, and otherwise fails
 * UNAUTHENTICATED with a UTF-8 message that never quotes a secret.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "apikey.h"
#include "auth.h"
#include "handlers.h"
#include "input.h"
#include "keyring.h"
#include "store.h"
#include "supplysec/v1/api_keys.pb-c.h"
#include "supplysec/v1/organizations.pb-c.h"
#include "utf8.h"

typedef struct key {
    char secret[APIKEY_SECRET_LEN + 1];
    const char *org;
    Supplysec__V1__Role role;
    bool active;
} key;

static store *db;
static key keys[3];

/* Calls path as the platform administrator with a heap copy of req (a handler may take
 * parts of its request), as the runtime calls it with an unpacked one. */
static ProtobufCMessage *call(const char *path, const ProtobufCMessage *req)
{
    static const principal platform = {"platform/apiKeys/bootstrap-admin", "",
                                       SUPPLYSEC__V1__ROLE__ROLE_PLATFORM_ADMIN};
    uint8_t buf[1024];
    size_t n = protobuf_c_message_get_packed_size(req);
    FUZZ_REQUIRE(n <= sizeof buf, "%s: request of %zu bytes", path, n);
    protobuf_c_message_pack(req, buf);
    ProtobufCMessage *copy = protobuf_c_message_unpack(req->descriptor, NULL, n, buf);
    status st = {0};
    ProtobufCMessage *resp = fuzz_call(db, &platform, fuzz_method_named(path), copy, &st);
    protobuf_c_message_free_unpacked(copy, NULL);
    FUZZ_REQUIRE(resp != NULL, "%s: %s", path, st.msg);
    return resp;
}

/* An acme key with role; its secret into k. */
static void acme_key(const char *id, Supplysec__V1__Role role, key *k)
{
    Supplysec__V1__CreateApiKeyRequest req = SUPPLYSEC__V1__CREATE_API_KEY_REQUEST__INIT;
    Supplysec__V1__ApiKey ak = SUPPLYSEC__V1__API_KEY__INIT;
    ak.role = role;
    ak.display_name = (char *)id;
    req.parent = "organizations/acme";
    req.api_key = &ak;
    req.api_key_id = (char *)id;
    Supplysec__V1__CreateApiKeyResponse *resp =
        (void *)call("/supplysec.v1.ApiKeys/CreateApiKey", &req.base);
    snprintf(k->secret, sizeof k->secret, "%s", resp->secret);
    k->org = "acme";
    k->role = role;
    k->active = true;
    protobuf_c_message_free_unpacked(&resp->base, NULL);
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    char *err = NULL;
    status st = {0};
    if (store_open("sqlite::memory:", 1, &db, &err) != STORE_OK ||
        !keyring_bootstrap(db, keys[0].secret, &st)) {
        fprintf(stderr, "fuzz_bearer: no store: %s %s\n", err ? err : "", st.msg);
        abort();
    }
    keys[0].org = "";
    keys[0].role = SUPPLYSEC__V1__ROLE__ROLE_PLATFORM_ADMIN;
    keys[0].active = true;

    Supplysec__V1__CreateOrganizationRequest creq =
        SUPPLYSEC__V1__CREATE_ORGANIZATION_REQUEST__INIT;
    Supplysec__V1__Organization org = SUPPLYSEC__V1__ORGANIZATION__INIT;
    org.legal_name = "Acme Logistics GmbH";
    org.country_code = "DE";
    org.kind = SUPPLYSEC__V1__ORGANIZATION_KIND__ORGANIZATION_KIND_OPERATOR;
    creq.organization = &org;
    creq.organization_id = "acme";
    protobuf_c_message_free_unpacked(
        call("/supplysec.v1.Organizations/CreateOrganization", &creq.base), NULL);
    acme_key("admin", SUPPLYSEC__V1__ROLE__ROLE_ADMIN, &keys[1]);
    acme_key("viewer", SUPPLYSEC__V1__ROLE__ROLE_VIEWER, &keys[2]);
    Supplysec__V1__RevokeApiKeyRequest rreq = SUPPLYSEC__V1__REVOKE_API_KEY_REQUEST__INIT;
    rreq.name = "organizations/acme/apiKeys/viewer";
    protobuf_c_message_free_unpacked(call("/supplysec.v1.ApiKeys/RevokeApiKey", &rreq.base), NULL);
    keys[2].active = false;
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
    uint8_t b = fuzz_byte(&in);
    int mode = b % 3;
    const char *real = keys[b / 3 % 3].secret;
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
        memcpy(value + 7, real, mode == 1 ? APIKEY_PREFIX_LEN : APIKEY_SECRET_LEN);
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

    const key *k = NULL;
    for (size_t i = 0; parsed && i < sizeof keys / sizeof keys[0]; i++)
        if (strcmp(secret, keys[i].secret) == 0)
            k = &keys[i];
    principal who;
    status st = {0};
    memset(&who, 0, sizeof who);
    bool ok = auth_authenticate(db, NULL, value, len, &who, &st);
    FUZZ_REQUIRE(ok == (k && k->active), "authenticated %d, key %d (active %d): %s", ok,
                 k ? (int)(k - keys) : -1, k && k->active, st.msg);
    if (ok) {
        FUZZ_REQUIRE(strcmp(who.org, k->org) == 0 && who.role == k->role,
                     "key of %s, role %d authenticated as %s of \"%s\", role %d", k->org, k->role,
                     who.name, who.org, who.role);
    } else {
        FUZZ_REQUIRE(st.code == STATUS_UNAUTHENTICATED, "code %d: %s", st.code, st.msg);
        FUZZ_REQUIRE(utf8_valid(st.msg, strlen(st.msg), NULL), "message not UTF-8");
        for (size_t i = 0; i < sizeof keys / sizeof keys[0]; i++)
            FUZZ_REQUIRE(!strstr(st.msg, keys[i].secret + APIKEY_PREFIX_LEN),
                         "message quotes a secret: %s", st.msg);
        FUZZ_REQUIRE(!parsed || !strstr(st.msg, secret + APIKEY_PREFIX_LEN),
                     "message quotes the secret given: %s", st.msg);
    }
    free(value);
    return 0;
}
