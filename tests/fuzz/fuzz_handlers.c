/* fuzz_handlers.c — every method's handler, on sequences of decoded
 * requests, against a fresh in-memory SQLite store per input.
 *
 * Where fuzz_request stops (a request that decodes), this target goes on as
 * runtime.c does: the method's handler from its service's table (found by
 * name, as the runtime registers it), with an authenticated caller. So each
 * handler's own parsing (names, key names, filters, page tokens, masks, the
 * organization rules) is fuzzed, including that of methods added later,
 * without a new target.
 *
 * Input: up to MAX_CALLS calls, each a byte picking the caller (see
 * callers[]), a byte picking the method (support/descriptors.c), two bytes
 * of length and that many request bytes. Each input starts from a store
 * holding the organizations "acme" and "other", made by the
 * CreateOrganization handler; a call whose bytes do not decode is skipped
 * (fuzz_request covers decoding). Oracles, per call:
 *   - a handler answers a response or a failing status, never both, never
 *     neither; never INTERNAL, UNKNOWN or DATA_LOSS (the store is healthy);
 *     its status message is UTF-8;
 *   - a response's bytes pass the wire check of the method's output type
 *     and unpack as it (the server never sends a string that is not UTF-8,
 *     nor a message the client cannot read), and it converts to JSON (the
 *     CLI);
 *   - tenancy: a caller of one organization never receives an Organization
 *     or ApiKey of another.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "descriptors.h"
#include "doc.h"
#include "handlers.h"
#include "input.h"
#include "runtime.h"
#include "supplysec/v1/api_keys.pb-c.h"
#include "supplysec/v1/organizations.pb-c.h"
#include "utf8.h"
#include "wire.h"

#define MAX_CALLS 8

static const principal callers[] = {
    {"platform/apiKeys/bootstrap-admin", "", SUPPLYSEC__V1__ROLE__ROLE_PLATFORM_ADMIN},
    {"organizations/acme/apiKeys/admin", "acme", SUPPLYSEC__V1__ROLE__ROLE_ADMIN},
    {"organizations/acme/apiKeys/editor", "acme", SUPPLYSEC__V1__ROLE__ROLE_EDITOR},
    {"organizations/acme/apiKeys/viewer", "acme", SUPPLYSEC__V1__ROLE__ROLE_VIEWER},
    {"organizations/other/apiKeys/admin", "other", SUPPLYSEC__V1__ROLE__ROLE_ADMIN},
};
#define N_CALLERS (sizeof callers / sizeof callers[0])

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    fuzz_list_if_asked();
    return 0;
}

typedef struct tenant_check {
    const principal *who;
    const char *method;
} tenant_check;

static bool require_tenant_pred(const ProtobufCMessage *sub, void *ctx);

/* A caller of org never sees a resource of another organization. */
static void require_tenant(const ProtobufCMessage *msg, const principal *who, const char *method)
{
    const ProtobufCMessageDescriptor *d = msg->descriptor;
    if (d == &supplysec__v1__organization__descriptor || d == &supplysec__v1__api_key__descriptor) {
        const char *name = d == &supplysec__v1__organization__descriptor
                               ? ((const Supplysec__V1__Organization *)msg)->name
                               : ((const Supplysec__V1__ApiKey *)msg)->name;
        char mine[96];
        size_t n = (size_t)snprintf(mine, sizeof mine, "organizations/%s", who->org);
        FUZZ_REQUIRE(strncmp(name, mine, n) == 0 && (name[n] == '\0' || name[n] == '/'),
                     "%s: %s of organization %s got %s", method, who->name, who->org, name);
    }
    tenant_check tc = {who, method};
    fuzz_submessages_all(msg, require_tenant_pred, &tc);
}

static bool require_tenant_pred(const ProtobufCMessage *sub, void *ctx)
{
    const tenant_check *tc = ctx;
    require_tenant(sub, tc->who, tc->method);
    return true;
}

static void check_answer(const fuzz_method *m, const principal *who, ProtobufCMessage *resp,
                         const status *st)
{
    FUZZ_REQUIRE((resp != NULL) == (st->code == STATUS_OK), "%s: response %d with status %d: %s",
                 m->path, resp != NULL, st->code, st->msg);
    FUZZ_REQUIRE(st->code != STATUS_INTERNAL && st->code != STATUS_UNKNOWN &&
                     st->code != STATUS_DATA_LOSS,
                 "%s as %s: %d %s", m->path, who->name, st->code, st->msg);
    FUZZ_REQUIRE(utf8_valid(st->msg, strlen(st->msg), NULL), "%s: status message not UTF-8",
                 m->path);
    if (!resp)
        return;
    /* Checked as the method's output type, which the client decodes it as: a handler may
     * answer with a wire-compatible type (reflection v1alpha answers with v1's messages). */
    size_t n = protobuf_c_message_get_packed_size(resp);
    uint8_t *b = malloc(n ? n : 1);
    if (!b)
        abort();
    protobuf_c_message_pack(resp, b);
    status wst = {0};
    FUZZ_REQUIRE(wire_check(m->method->output, b, n, &wst), "%s: response fails the wire check: %s",
                 m->path, wst.msg);
    ProtobufCMessage *back = protobuf_c_message_unpack(m->method->output, NULL, n, b);
    FUZZ_REQUIRE(back != NULL, "%s: response (a %s) is not a %s", m->path, resp->descriptor->name,
                 m->method->output->name);
    protobuf_c_message_free_unpacked(back, NULL);
    free(b);
    char *json = doc_message_to_json(resp);
    FUZZ_REQUIRE(json != NULL, "%s: response has no JSON", m->path);
    bson_free(json);
    if (who->org[0])
        require_tenant(resp, who, m->path);
}

/* A fresh store holding the organizations acme and other. */
static store *fresh_store(void)
{
    store *db = NULL;
    char *err = NULL;
    if (store_open("sqlite::memory:", 1, &db, &err) != STORE_OK) {
        fprintf(stderr, "fuzz_handlers: %s\n", err ? err : "no store");
        abort();
    }
    const fuzz_method *m = fuzz_method_named("/supplysec.v1.Organizations/CreateOrganization");
    static const char *const ids[] = {"acme", "other"};
    for (int k = 0; k < 2; k++) {
        Supplysec__V1__CreateOrganizationRequest *req = malloc(sizeof *req);
        Supplysec__V1__Organization *org = malloc(sizeof *org);
        supplysec__v1__create_organization_request__init(req);
        supplysec__v1__organization__init(org);
        org->legal_name = strdup("Acme Logistics GmbH");
        org->country_code = strdup("DE");
        org->kind = SUPPLYSEC__V1__ORGANIZATION_KIND__ORGANIZATION_KIND_OPERATOR;
        req->organization = org;
        req->organization_id = strdup(ids[k]);
        status st = {0};
        ProtobufCMessage *resp = fuzz_call(db, &callers[0], m, &req->base, &st);
        FUZZ_REQUIRE(resp != NULL, "creating %s: %s", ids[k], st.msg);
        protobuf_c_message_free_unpacked(resp, NULL);
        protobuf_c_message_free_unpacked(&req->base, NULL);
    }
    return db;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    fuzz_input in = {data, size};
    store *db = fresh_store();
    for (int i = 0; i < MAX_CALLS && in.n > 0; i++) {
        const principal *who = &callers[fuzz_byte(&in) % N_CALLERS];
        const fuzz_method *m = fuzz_method_at(fuzz_byte(&in));
        size_t len;
        uint8_t *bytes = fuzz_bytes(&in, fuzz_u16(&in), &len);
        status st = {0};
        ProtobufCMessage *req = wire_check(m->method->input, bytes, len, &st)
                                    ? protobuf_c_message_unpack(m->method->input, NULL, len, bytes)
                                    : NULL;
        free(bytes);
        if (!req)
            continue;
        ProtobufCMessage *resp = fuzz_call(db, who, m, req, &st);
        protobuf_c_message_free_unpacked(req, NULL);
        check_answer(m, who, resp, &st);
        if (resp)
            protobuf_c_message_free_unpacked(resp, NULL);
    }
    store_close(db);
    return 0;
}
