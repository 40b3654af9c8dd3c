/* test_auth_cache.c — the promises of auth_cache.h, through auth_authenticate
 * and through the cache's own calls, against in-memory SQLite stores whose
 * keys are made as a server makes them: keyring_bootstrap, then the
 * CreateOrganization, CreateApiKey, RevokeApiKey and DeleteOrganization
 * handlers called through api_all_services as the runtime calls them.
 *
 * A hit returns exactly the principal that was verified; a revoke (or a
 * delete of the key or of its organization) through the same store makes
 * the very next authentication read the store again; creates do not; an
 * entry expires with its time to live, belongs to one store, and one put
 * with an epoch from before a change never hits; the table keeps at most
 * its capacity; no cache (NULL) still authenticates.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "apikey.h"
#include "auth.h"
#include "auth_cache.h"
#include "keyring.h"
#include "organization.h"
#include "runtime.h"
#include "status.h"
#include "store.h"
#include "supplysec/v1/api_keys.pb-c.h"
#include "supplysec/v1/organizations.pb-c.h"

#define ACME_ADMIN "organizations/acme/apiKeys/ops"
#define PLATFORM_ADMIN "platform/apiKeys/" BOOTSTRAP_KEY_ID

typedef struct fx {
    store *s;
    char platform[APIKEY_SECRET_LEN + 1]; /* the bootstrap key's secret */
    char acme[APIKEY_SECRET_LEN + 1];     /* ACME_ADMIN's secret */
} fx;

/* ---- calling handlers as the runtime does (tests/fuzz/support/handlers.c) ---- */

static const api_method *method_named(const char *service, const char *method)
{
    for (size_t s = 0; s < api_n_all_services; s++) {
        const api_service *svc = api_all_services[s];
        if (strcmp(svc->desc->name, service) != 0)
            continue;
        for (size_t i = 0; i < svc->n_methods; i++)
            if (strcmp(svc->methods[i].name, method) == 0)
                return &svc->methods[i];
    }
    return NULL;
}

/* Calls service/method as the platform administrator with a heap copy of
 * req (a handler may take parts of its request), as the runtime calls it
 * with an unpacked one. The response (the caller frees it) or NULL, with
 * *st as the handler left it. */
static ProtobufCMessage *call(store *db, const char *service, const char *method,
                              const ProtobufCMessage *req, status *st)
{
    static const principal platform = {PLATFORM_ADMIN, "",
                                       SUPPLYSEC__V1__ROLE__ROLE_PLATFORM_ADMIN};
    const api_method *am = method_named(service, method);
    assert_non_null(am);
    assert_non_null(am->handler);
    uint8_t buf[1024];
    size_t n = protobuf_c_message_get_packed_size(req);
    assert_true(n <= sizeof buf);
    protobuf_c_message_pack(req, buf);
    ProtobufCMessage *copy = protobuf_c_message_unpack(req->descriptor, NULL, n, buf);
    assert_non_null(copy);
    char path[160];
    snprintf(path, sizeof path, "/%s/%s", service, method);
    api_call c;
    memset(&c, 0, sizeof c);
    c.method = path;
    c.entry = am;
    for (size_t i = 0; i < api_n_all_services && !c.method_desc; i++)
        if (strcmp(api_all_services[i]->desc->name, service) == 0)
            c.method_desc =
                protobuf_c_service_descriptor_get_method_by_name(api_all_services[i]->desc, method);
    snprintf(c.request_id, sizeof c.request_id, "test-auth-cache");
    c.who = platform;
    c.authenticated = true;
    c.op.store = db;
    c.op.who = &c.who;
    c.op.method = path;
    c.op.request_id = c.request_id;
    c.op.deadline_us = INT64_MAX;
    ProtobufCMessage *resp = am->handler(&c, copy);
    protobuf_c_message_free_unpacked(copy, NULL);
    *st = c.st;
    return resp;
}

/* The same, which must succeed; the response is freed. */
static void call_ok(store *db, const char *service, const char *method, const ProtobufCMessage *req)
{
    status st = {0};
    ProtobufCMessage *resp = call(db, service, method, req, &st);
    if (!resp)
        fail_msg("%s/%s: %d %s", service, method, st.code, st.msg);
    protobuf_c_message_free_unpacked(resp, NULL);
}

static void create_org(store *db, const char *id)
{
    Supplysec__V1__CreateOrganizationRequest req = SUPPLYSEC__V1__CREATE_ORGANIZATION_REQUEST__INIT;
    Supplysec__V1__Organization org = SUPPLYSEC__V1__ORGANIZATION__INIT;
    org.legal_name = "Acme Logistics GmbH";
    org.country_code = "DE";
    org.kind = SUPPLYSEC__V1__ORGANIZATION_KIND__ORGANIZATION_KIND_OPERATOR;
    req.organization = &org;
    req.organization_id = (char *)id;
    call_ok(db, "supplysec.v1.Organizations", "CreateOrganization", &req.base);
}

/* A key of organization org with id and role; its secret into secret. */
static void create_key(store *db, const char *org, const char *id, Supplysec__V1__Role role,
                       char secret[APIKEY_SECRET_LEN + 1])
{
    char parent[96];
    snprintf(parent, sizeof parent, "organizations/%s", org);
    Supplysec__V1__CreateApiKeyRequest req = SUPPLYSEC__V1__CREATE_API_KEY_REQUEST__INIT;
    Supplysec__V1__ApiKey ak = SUPPLYSEC__V1__API_KEY__INIT;
    ak.role = role;
    ak.display_name = (char *)id;
    req.parent = parent;
    req.api_key = &ak;
    req.api_key_id = (char *)id;
    status st = {0};
    Supplysec__V1__CreateApiKeyResponse *resp =
        (void *)call(db, "supplysec.v1.ApiKeys", "CreateApiKey", &req.base, &st);
    if (!resp)
        fail_msg("CreateApiKey %s/%s: %d %s", org, id, st.code, st.msg);
    assert_int_equal(strlen(resp->secret), APIKEY_SECRET_LEN);
    snprintf(secret, APIKEY_SECRET_LEN + 1, "%s", resp->secret);
    protobuf_c_message_free_unpacked(&resp->base, NULL);
}

static void revoke_key(store *db, const char *name)
{
    Supplysec__V1__RevokeApiKeyRequest req = SUPPLYSEC__V1__REVOKE_API_KEY_REQUEST__INIT;
    req.name = (char *)name;
    call_ok(db, "supplysec.v1.ApiKeys", "RevokeApiKey", &req.base);
}

static status_code delete_org(store *db, const char *org)
{
    char name[96];
    snprintf(name, sizeof name, "organizations/%s", org);
    Supplysec__V1__DeleteOrganizationRequest req = SUPPLYSEC__V1__DELETE_ORGANIZATION_REQUEST__INIT;
    req.name = name;
    status st = {0};
    ProtobufCMessage *resp =
        call(db, "supplysec.v1.Organizations", "DeleteOrganization", &req.base, &st);
    if (resp) {
        protobuf_c_message_free_unpacked(resp, NULL);
        return STATUS_OK;
    }
    return st.code;
}

/* An audit event for a write made directly through the store. */
static store_audit ev_of(const char *org, const char *resource)
{
    return (store_audit){.principal = PLATFORM_ADMIN,
                         .principal_org = "",
                         .org = org,
                         .role = "ROLE_PLATFORM_ADMIN",
                         .method = "/test/Delete",
                         .resource = resource,
                         .request_id = "test-auth-cache",
                         .time_us = 1700000000000000};
}

/* ---- authenticating ---- */

static void prefix_of(const char *secret, char prefix[APIKEY_PREFIX_LEN + 1])
{
    memcpy(prefix, secret, APIKEY_PREFIX_LEN);
    prefix[APIKEY_PREFIX_LEN] = '\0';
}

/* auth_authenticate with `Bearer <secret>`. */
static bool authn(store *s, auth_cache *c, const char *secret, principal *who, status *st)
{
    char header[16 + APIKEY_SECRET_LEN];
    int n = snprintf(header, sizeof header, "Bearer %s", secret);
    memset(who, 0, sizeof *who);
    memset(st, 0, sizeof *st);
    return auth_authenticate(s, c, header, (size_t)n, who, st);
}

static void assert_principal(const principal *who, const char *name, const char *org,
                             Supplysec__V1__Role role)
{
    assert_string_equal(who->name, name);
    assert_string_equal(who->org, org);
    assert_int_equal(who->role, role);
}

static void assert_authenticates(store *s, auth_cache *c, const char *secret, const char *name,
                                 const char *org, Supplysec__V1__Role role)
{
    principal who;
    status st;
    if (!authn(s, c, secret, &who, &st))
        fail_msg("%s did not authenticate: %d %s", name, st.code, st.msg);
    assert_principal(&who, name, org, role);
}

static void assert_unauthenticated(store *s, auth_cache *c, const char *secret)
{
    principal who;
    status st;
    bool ok = authn(s, c, secret, &who, &st);
    if (ok)
        fail_msg("authenticated as %s", who.name);
    assert_int_equal(st.code, STATUS_UNAUTHENTICATED);
}

/* auth_cache_get for secret: hit or miss; a hit must be the expected principal. */
static bool cached(auth_cache *c, store *s, const char *secret, const char *name, const char *org,
                   Supplysec__V1__Role role)
{
    char prefix[APIKEY_PREFIX_LEN + 1];
    principal who;
    memset(&who, 0, sizeof who);
    prefix_of(secret, prefix);
    if (!auth_cache_get(c, s, prefix, secret, &who))
        return false;
    assert_principal(&who, name, org, role);
    return true;
}

#define ADMIN SUPPLYSEC__V1__ROLE__ROLE_ADMIN
#define VIEWER SUPPLYSEC__V1__ROLE__ROLE_VIEWER
#define PLATFORM SUPPLYSEC__V1__ROLE__ROLE_PLATFORM_ADMIN

/* ---- fixture: a store with the platform key, organization acme and its ADMIN key ---- */

static void open_store(store **s, char platform[APIKEY_SECRET_LEN + 1])
{
    char *err = NULL;
    status st = {0};
    if (store_open("sqlite::memory:", 1, s, &err) != STORE_OK)
        fail_msg("store_open: %s", err ? err : "");
    if (!keyring_bootstrap(*s, platform, &st))
        fail_msg("keyring_bootstrap: %s", st.msg);
}

static int setup(void **state)
{
    fx *f = calloc(1, sizeof *f);
    assert_non_null(f);
    open_store(&f->s, f->platform);
    create_org(f->s, "acme");
    create_key(f->s, "acme", "ops", ADMIN, f->acme);
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    fx *f = *state;
    store_close(f->s);
    free(f);
    return 0;
}

static void sleep_ms(long ms)
{
    struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
    while (nanosleep(&ts, &ts) != 0)
        ;
}

/* ---- the tests ---- */

/* A success fills the cache with exactly its principal; the next succeeds. */
static void test_success_fills_cache(void **state)
{
    fx *f = *state;
    auth_cache *c = auth_cache_new(64, 60000);
    assert_non_null(c);
    assert_false(cached(c, f->s, f->acme, ACME_ADMIN, "acme", ADMIN));
    assert_false(cached(c, f->s, f->platform, PLATFORM_ADMIN, "", PLATFORM));

    assert_authenticates(f->s, c, f->acme, ACME_ADMIN, "acme", ADMIN);
    assert_true(cached(c, f->s, f->acme, ACME_ADMIN, "acme", ADMIN));
    assert_false(cached(c, f->s, f->platform, PLATFORM_ADMIN, "", PLATFORM));
    assert_authenticates(f->s, c, f->acme, ACME_ADMIN, "acme", ADMIN);
    assert_true(cached(c, f->s, f->acme, ACME_ADMIN, "acme", ADMIN));

    /* A platform key (no organization) too, beside it. */
    assert_authenticates(f->s, c, f->platform, PLATFORM_ADMIN, "", PLATFORM);
    assert_true(cached(c, f->s, f->platform, PLATFORM_ADMIN, "", PLATFORM));
    assert_authenticates(f->s, c, f->platform, PLATFORM_ADMIN, "", PLATFORM);
    assert_true(cached(c, f->s, f->acme, ACME_ADMIN, "acme", ADMIN));
    auth_cache_free(c);
}

/* Another secret under a cached prefix: a miss, and the store says no. */
static void test_wrong_secret_for_cached_prefix(void **state)
{
    fx *f = *state;
    auth_cache *c = auth_cache_new(64, 60000);
    assert_non_null(c);
    assert_authenticates(f->s, c, f->acme, ACME_ADMIN, "acme", ADMIN);
    assert_true(cached(c, f->s, f->acme, ACME_ADMIN, "acme", ADMIN));

    char wrong[APIKEY_SECRET_LEN + 1], prefix[APIKEY_PREFIX_LEN + 1];
    memcpy(wrong, f->acme, sizeof wrong);
    wrong[APIKEY_SECRET_LEN - 1] = wrong[APIKEY_SECRET_LEN - 1] == 'A' ? 'B' : 'A';
    prefix_of(wrong, prefix);
    assert_memory_equal(prefix, f->acme, APIKEY_PREFIX_LEN); /* same prefix, other secret */
    principal who;
    memset(&who, 0, sizeof who);
    assert_false(auth_cache_get(c, f->s, prefix, wrong, &who));
    assert_string_equal(who.name, ""); /* a miss leaves *who alone */
    for (int i = 0; i < 2; i++)        /* also once the failure was seen */
        assert_unauthenticated(f->s, c, wrong);
    assert_false(auth_cache_get(c, f->s, prefix, wrong, &who));

    /* The right one is still cached: failures are not remembered, nor evict. */
    assert_true(cached(c, f->s, f->acme, ACME_ADMIN, "acme", ADMIN));
    assert_authenticates(f->s, c, f->acme, ACME_ADMIN, "acme", ADMIN);
    auth_cache_free(c);
}

/* RevokeApiKey: the very next authentication of the cached key fails. */
static void test_revoke_invalidates(void **state)
{
    fx *f = *state;
    char viewer[APIKEY_SECRET_LEN + 1];
    create_key(f->s, "acme", "viewer", VIEWER, viewer);
    auth_cache *c = auth_cache_new(64, 60000);
    assert_non_null(c);
    assert_authenticates(f->s, c, viewer, "organizations/acme/apiKeys/viewer", "acme", VIEWER);
    assert_true(cached(c, f->s, viewer, "organizations/acme/apiKeys/viewer", "acme", VIEWER));

    revoke_key(f->s, "organizations/acme/apiKeys/viewer");
    assert_false(cached(c, f->s, viewer, "organizations/acme/apiKeys/viewer", "acme", VIEWER));
    assert_unauthenticated(f->s, c, viewer);
    assert_unauthenticated(f->s, c, viewer); /* and stays so: nothing refilled it */
    assert_false(cached(c, f->s, viewer, "organizations/acme/apiKeys/viewer", "acme", VIEWER));

    /* The other key is read again from the store and still works. */
    assert_authenticates(f->s, c, f->acme, ACME_ADMIN, "acme", ADMIN);
    assert_true(cached(c, f->s, f->acme, ACME_ADMIN, "acme", ADMIN));
    auth_cache_free(c);
}

/* There is no DeleteApiKey method (ApiKeys has Create, Get, List, Revoke): a
 * key record goes away by a delete through the store (what such a method,
 * or an operator's tool on this store, would do) or with its organization
 * (DeleteOrganization's STORE_WRITE_DELETE_ALL). Either way the cached key
 * fails at once. */
static void test_key_delete_invalidates(void **state)
{
    fx *f = *state;
    char viewer[APIKEY_SECRET_LEN + 1];
    create_key(f->s, "acme", "viewer", VIEWER, viewer);
    auth_cache *c = auth_cache_new(64, 60000);
    assert_non_null(c);
    assert_authenticates(f->s, c, viewer, "organizations/acme/apiKeys/viewer", "acme", VIEWER);
    assert_authenticates(f->s, c, f->acme, ACME_ADMIN, "acme", ADMIN);

    store_audit ev = ev_of("acme", "organizations/acme/apiKeys/viewer");
    assert_int_equal(
        store_delete(f->s, APIKEYS_COLLECTION, "acme", "organizations/acme/apiKeys/viewer", 0, &ev),
        STORE_OK);
    assert_unauthenticated(f->s, c, viewer);
    assert_false(cached(c, f->s, viewer, "organizations/acme/apiKeys/viewer", "acme", VIEWER));

    /* Every key of acme at once, as DeleteOrganization's batch does. */
    assert_authenticates(f->s, c, f->acme, ACME_ADMIN, "acme", ADMIN);
    assert_true(cached(c, f->s, f->acme, ACME_ADMIN, "acme", ADMIN));
    ev = ev_of("acme", "organizations/acme");
    store_write all = {.kind = STORE_WRITE_DELETE_ALL,
                       .collection = APIKEYS_COLLECTION,
                       .org = "acme",
                       .parent = "organizations/acme",
                       .ev = &ev};
    assert_int_equal(store_apply(f->s, &all, 1, NULL), STORE_OK);
    assert_unauthenticated(f->s, c, f->acme);
    assert_authenticates(f->s, c, f->platform, PLATFORM_ADMIN, "", PLATFORM);
    auth_cache_free(c);
}

/* The organization of a cached key deleted: the key fails at once.
 * DeleteOrganization refuses while the organization has an active key
 * (FAILED_PRECONDITION, which changes nothing and so keeps the entry), so
 * the handler can only delete an organization whose keys were revoked
 * first; the organization record deleted on its own is what the cache must
 * also notice (auth.c's org_predates_key reads it). */
static void test_org_delete_invalidates(void **state)
{
    fx *f = *state;
    auth_cache *c = auth_cache_new(64, 60000);
    assert_non_null(c);

    /* Through the handler. */
    char beta[APIKEY_SECRET_LEN + 1];
    create_org(f->s, "beta");
    create_key(f->s, "beta", "ops", ADMIN, beta);
    assert_authenticates(f->s, c, beta, "organizations/beta/apiKeys/ops", "beta", ADMIN);
    assert_int_equal(delete_org(f->s, "beta"), STATUS_FAILED_PRECONDITION);
    assert_true(cached(c, f->s, beta, "organizations/beta/apiKeys/ops", "beta", ADMIN));
    assert_authenticates(f->s, c, beta, "organizations/beta/apiKeys/ops", "beta", ADMIN);
    revoke_key(f->s, "organizations/beta/apiKeys/ops");
    assert_unauthenticated(f->s, c, beta);
    assert_int_equal(delete_org(f->s, "beta"), STATUS_OK);
    assert_unauthenticated(f->s, c, beta);
    /* no later organization takes the id, so nothing revives the key */
    Supplysec__V1__CreateOrganizationRequest again =
        SUPPLYSEC__V1__CREATE_ORGANIZATION_REQUEST__INIT;
    Supplysec__V1__Organization org = SUPPLYSEC__V1__ORGANIZATION__INIT;
    org.legal_name = "Beta Again";
    org.country_code = "DE";
    org.kind = SUPPLYSEC__V1__ORGANIZATION_KIND__ORGANIZATION_KIND_OPERATOR;
    again.organization = &org;
    again.organization_id = "beta";
    status st = {0};
    assert_null(call(f->s, "supplysec.v1.Organizations", "CreateOrganization", &again.base, &st));
    assert_int_equal(st.code, STATUS_ALREADY_EXISTS);
    assert_unauthenticated(f->s, c, beta);

    /* The organization record deleted under a cached, active key. */
    assert_authenticates(f->s, c, f->acme, ACME_ADMIN, "acme", ADMIN);
    assert_true(cached(c, f->s, f->acme, ACME_ADMIN, "acme", ADMIN));
    store_audit ev = ev_of("acme", "organizations/acme");
    assert_int_equal(
        store_delete(f->s, ORGANIZATIONS_COLLECTION, "acme", "organizations/acme", 0, &ev),
        STORE_OK);
    assert_false(cached(c, f->s, f->acme, ACME_ADMIN, "acme", ADMIN));
    assert_unauthenticated(f->s, c, f->acme);
    assert_unauthenticated(f->s, c, f->acme);
    assert_authenticates(f->s, c, f->platform, PLATFORM_ADMIN, "", PLATFORM);
    auth_cache_free(c);
}

/* Creates (an organization, a key, with the key's guard on its
 * organization) change nothing an entry relied on: it keeps hitting. */
static void test_create_keeps_entries(void **state)
{
    fx *f = *state;
    auth_cache *c = auth_cache_new(64, 60000);
    assert_non_null(c);
    assert_authenticates(f->s, c, f->acme, ACME_ADMIN, "acme", ADMIN);
    assert_authenticates(f->s, c, f->platform, PLATFORM_ADMIN, "", PLATFORM);
    uint64_t epoch = auth_cache_epoch(f->s);

    char k1[APIKEY_SECRET_LEN + 1], k2[APIKEY_SECRET_LEN + 1];
    create_org(f->s, "gamma");
    assert_true(cached(c, f->s, f->acme, ACME_ADMIN, "acme", ADMIN));
    create_key(f->s, "gamma", "ops", ADMIN, k1);
    create_key(f->s, "acme", "second", VIEWER, k2);
    assert_int_equal(auth_cache_epoch(f->s), epoch);
    assert_true(cached(c, f->s, f->acme, ACME_ADMIN, "acme", ADMIN));
    assert_true(cached(c, f->s, f->platform, PLATFORM_ADMIN, "", PLATFORM));

    /* The new keys are not cached until used, then are. */
    assert_false(cached(c, f->s, k1, "organizations/gamma/apiKeys/ops", "gamma", ADMIN));
    assert_authenticates(f->s, c, k1, "organizations/gamma/apiKeys/ops", "gamma", ADMIN);
    assert_authenticates(f->s, c, k2, "organizations/acme/apiKeys/second", "acme", VIEWER);
    assert_true(cached(c, f->s, k1, "organizations/gamma/apiKeys/ops", "gamma", ADMIN));
    assert_true(cached(c, f->s, k2, "organizations/acme/apiKeys/second", "acme", VIEWER));
    assert_true(cached(c, f->s, f->acme, ACME_ADMIN, "acme", ADMIN));
    auth_cache_free(c);
}

/* The time to live: an entry of a 50 ms cache hits at once and misses
 * 200 ms later, while one of a 2 s cache filled at the same time still hits
 * (a behaviour test, not a speed test: the margins are wide either way);
 * authentication then reads the store and fills it again. */
/* What a key does not rely on leaves the cache alone: an update of its
 * organization (its document, not its existence), and writes the store
 * refused (a stale version: nothing was written). */
static void test_org_update_and_refused_writes_keep_entries(void **state)
{
    fx *f = *state;
    auth_cache *c = auth_cache_new(64, 60000);
    assert_non_null(c);
    assert_authenticates(f->s, c, f->acme, ACME_ADMIN, "acme", ADMIN);
    uint64_t epoch = auth_cache_epoch(f->s);

    store_record *org = NULL, *key = NULL;
    assert_int_equal(store_get(f->s, "organizations", "acme", "organizations/acme", &org),
                     STORE_OK);
    store_audit ev = ev_of("acme", "organizations/acme");
    org->version++;
    assert_int_equal(store_update(f->s, org, org->version - 1, &ev), STORE_OK);
    assert_int_equal(auth_cache_epoch(f->s), epoch);
    assert_true(cached(c, f->s, f->acme, ACME_ADMIN, "acme", ADMIN));

    assert_int_equal(store_get(f->s, "apiKeys", "acme", ACME_ADMIN, &key), STORE_OK);
    store_audit kev = ev_of("acme", ACME_ADMIN);
    key->version += 5; /* expects a version the key never had */
    assert_int_equal(store_update(f->s, key, key->version - 1, &kev), STORE_CONFLICT);
    assert_int_equal(auth_cache_epoch(f->s), epoch);
    assert_true(cached(c, f->s, f->acme, ACME_ADMIN, "acme", ADMIN));

    /* while an update of the key itself that is written does invalidate */
    key->version -= 4;
    assert_int_equal(store_update(f->s, key, key->version - 1, &kev), STORE_OK);
    assert_int_not_equal(auth_cache_epoch(f->s), epoch);
    assert_false(cached(c, f->s, f->acme, ACME_ADMIN, "acme", ADMIN));
    store_record_free(org);
    store_record_free(key);
    auth_cache_free(c);
}

static void test_ttl(void **state)
{
    fx *f = *state;
    auth_cache *c = auth_cache_new(64, 50), *slow = auth_cache_new(64, 2000);
    assert_non_null(c);
    assert_non_null(slow);
    assert_authenticates(f->s, c, f->acme, ACME_ADMIN, "acme", ADMIN);
    assert_authenticates(f->s, slow, f->acme, ACME_ADMIN, "acme", ADMIN);
    assert_true(cached(c, f->s, f->acme, ACME_ADMIN, "acme", ADMIN));
    sleep_ms(200);
    assert_false(cached(c, f->s, f->acme, ACME_ADMIN, "acme", ADMIN));
    assert_true(cached(slow, f->s, f->acme, ACME_ADMIN, "acme", ADMIN));
    assert_authenticates(f->s, c, f->acme, ACME_ADMIN, "acme", ADMIN);
    assert_true(cached(c, f->s, f->acme, ACME_ADMIN, "acme", ADMIN));
    auth_cache_free(c);
    auth_cache_free(slow);
}

/* An entry belongs to the store it was read from: the same prefix and
 * secret on another store (at the same change count) is a miss, and that
 * store, which has no such key, says UNAUTHENTICATED. */
static void test_entry_bound_to_store(void **state)
{
    fx *f = *state;
    store *b = NULL;
    char b_platform[APIKEY_SECRET_LEN + 1];
    open_store(&b, b_platform);
    create_org(b, "acme");
    auth_cache *c = auth_cache_new(64, 60000);
    assert_non_null(c);

    assert_authenticates(f->s, c, f->acme, ACME_ADMIN, "acme", ADMIN);
    assert_true(cached(c, f->s, f->acme, ACME_ADMIN, "acme", ADMIN));
    assert_int_equal(auth_cache_epoch(b), auth_cache_epoch(f->s)); /* only the store differs */
    assert_false(cached(c, b, f->acme, ACME_ADMIN, "acme", ADMIN));
    assert_unauthenticated(b, c, f->acme);

    /* Put for store A directly: still nothing on B. */
    char prefix[APIKEY_PREFIX_LEN + 1];
    prefix_of(f->acme, prefix);
    principal who = {ACME_ADMIN, "acme", ADMIN};
    auth_cache_put(c, f->s, auth_cache_epoch(f->s), prefix, f->acme, &who);
    assert_false(cached(c, b, f->acme, ACME_ADMIN, "acme", ADMIN));
    assert_true(cached(c, f->s, f->acme, ACME_ADMIN, "acme", ADMIN));

    /* B's own key, cached for B, is no hit on A. */
    assert_authenticates(b, c, b_platform, PLATFORM_ADMIN, "", PLATFORM);
    assert_true(cached(c, b, b_platform, PLATFORM_ADMIN, "", PLATFORM));
    assert_false(cached(c, f->s, b_platform, PLATFORM_ADMIN, "", PLATFORM));
    assert_unauthenticated(f->s, c, b_platform);

    auth_cache_free(c);
    store_close(b);
}

/* A 4-entry cache (one 4-way set) given 5 keys keeps 4: the oldest put is
 * the one replaced, and no lookup answers with another key's principal. */
static void test_capacity(void **state)
{
    fx *f = *state;
    enum { N = 5 };
    char secrets[N][APIKEY_SECRET_LEN + 1], names[N][64], ids[N][16];
    for (int i = 0; i < N; i++) {
        snprintf(ids[i], sizeof ids[i], "key%d", i);
        snprintf(names[i], sizeof names[i], "organizations/acme/apiKeys/key%d", i);
        create_key(f->s, "acme", ids[i], VIEWER, secrets[i]);
    }
    auth_cache *c = auth_cache_new(4, 60000);
    assert_non_null(c);
    for (int i = 0; i < N; i++)
        assert_authenticates(f->s, c, secrets[i], names[i], "acme", VIEWER);

    int hits = 0;
    for (int i = 0; i < N; i++)
        hits += cached(c, f->s, secrets[i], names[i], "acme", VIEWER); /* checks the principal */
    assert_int_equal(hits, 4);
    assert_false(cached(c, f->s, secrets[0], names[0], "acme", VIEWER));

    /* No key's secret is a hit under another key's prefix. */
    for (int i = 0; i < N; i++)
        for (int j = 0; j < N; j++) {
            char prefix[APIKEY_PREFIX_LEN + 1];
            principal who;
            if (i == j)
                continue;
            prefix_of(secrets[i], prefix);
            assert_false(auth_cache_get(c, f->s, prefix, secrets[j], &who));
        }

    /* Each still authenticates, as itself, whatever the cache holds. */
    for (int round = 0; round < 3; round++)
        for (int i = 0; i < N; i++) {
            assert_authenticates(f->s, c, secrets[i], names[i], "acme", VIEWER);
            hits = 0;
            for (int j = 0; j < N; j++)
                hits += cached(c, f->s, secrets[j], names[j], "acme", VIEWER);
            assert_true(hits <= 4);
            assert_true(cached(c, f->s, secrets[i], names[i], "acme", VIEWER));
        }
    auth_cache_free(c);
}

/* An entry put with the epoch read before a change that committed before
 * the put (a lookup that raced a revoke) never hits. */
static void test_epoch_race(void **state)
{
    fx *f = *state;
    auth_cache *c = auth_cache_new(64, 60000);
    assert_non_null(c);
    char prefix[APIKEY_PREFIX_LEN + 1];
    prefix_of(f->acme, prefix);
    principal who = {ACME_ADMIN, "acme", ADMIN};

    uint64_t epoch = auth_cache_epoch(f->s); /* the lookup starts ... */
    revoke_key(f->s, ACME_ADMIN);            /* ... a revoke commits ... */
    assert_true(auth_cache_epoch(f->s) != epoch);
    auth_cache_put(c, f->s, epoch, prefix, f->acme, &who); /* ... it remembers what it read */
    assert_false(cached(c, f->s, f->acme, ACME_ADMIN, "acme", ADMIN));
    assert_unauthenticated(f->s, c, f->acme);

    /* The control: the same put with the epoch of now does hit (so the miss
     * above is the epoch's doing); the cache trusts its caller's epoch. */
    auth_cache_put(c, f->s, auth_cache_epoch(f->s), prefix, f->acme, &who);
    assert_true(cached(c, f->s, f->acme, ACME_ADMIN, "acme", ADMIN));
    auth_cache_free(c);
}

/* No cache: capacity or time to live 0 is NULL, and NULL is a cache that
 * holds nothing. */
static void test_no_cache(void **state)
{
    fx *f = *state;
    assert_null(auth_cache_new(0, 1000));
    assert_null(auth_cache_new(4096, 0));
    assert_null(auth_cache_new(0, 0));
    auth_cache_free(NULL);

    for (int i = 0; i < 2; i++) {
        assert_authenticates(f->s, NULL, f->acme, ACME_ADMIN, "acme", ADMIN);
        assert_authenticates(f->s, NULL, f->platform, PLATFORM_ADMIN, "", PLATFORM);
    }
    char prefix[APIKEY_PREFIX_LEN + 1];
    prefix_of(f->acme, prefix);
    principal who = {ACME_ADMIN, "acme", ADMIN};
    auth_cache_put(NULL, f->s, auth_cache_epoch(f->s), prefix, f->acme, &who);
    assert_false(auth_cache_get(NULL, f->s, prefix, f->acme, &who));

    revoke_key(f->s, ACME_ADMIN);
    assert_unauthenticated(f->s, NULL, f->acme);
    assert_authenticates(f->s, NULL, f->platform, PLATFORM_ADMIN, "", PLATFORM);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_success_fills_cache, setup, teardown),
        cmocka_unit_test_setup_teardown(test_wrong_secret_for_cached_prefix, setup, teardown),
        cmocka_unit_test_setup_teardown(test_revoke_invalidates, setup, teardown),
        cmocka_unit_test_setup_teardown(test_key_delete_invalidates, setup, teardown),
        cmocka_unit_test_setup_teardown(test_org_delete_invalidates, setup, teardown),
        cmocka_unit_test_setup_teardown(test_create_keeps_entries, setup, teardown),
        cmocka_unit_test_setup_teardown(test_org_update_and_refused_writes_keep_entries, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_ttl, setup, teardown),
        cmocka_unit_test_setup_teardown(test_entry_bound_to_store, setup, teardown),
        cmocka_unit_test_setup_teardown(test_capacity, setup, teardown),
        cmocka_unit_test_setup_teardown(test_epoch_race, setup, teardown),
        cmocka_unit_test_setup_teardown(test_no_cache, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
