/* api_keys.c — the supplysec.v1.ApiKeys service.
 *
 * Keys live under `platform` (platform administrators) or
 * `organizations/{org}` (members). An organization's ADMIN manages its keys;
 * platform administrators manage all. A key of another organization is
 * NOT_FOUND. The secret leaves the server once, in CreateApiKey's answer.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "keyring.h"
#include "runtime.h"
#include "supplysec/internal/v1/stored.pb-c.h"
#include "utf8.h"
#include "validate.h"

typedef Supplysec__Internal__V1__StoredApiKey StoredApiKey;

/* A parsed key parent: "platform" or "organizations/{org}". */
typedef struct key_parent {
    char org[RESOURCE_ID_MAX + 1]; /* "" for platform */
    char parent[96];
} key_parent;

/* Parses parent and checks the caller may manage keys there. */
static bool key_parent_take(api_call *call, const char *field, const char *parent, key_parent *kp)
{
    if (strcmp(parent, PLATFORM_PARENT) == 0) {
        kp->org[0] = '\0';
        strcpy(kp->parent, PLATFORM_PARENT);
        return auth_is_platform_admin(&call->who)
                   ? true
                   : status_fail(&call->st, STATUS_PERMISSION_DENIED,
                                 "%s: only platform administrators manage platform keys", field);
    }
    if (!parse_name1(field, parent, "organizations", kp->org, sizeof kp->org, &call->st))
        return false;
    snprintf(kp->parent, sizeof kp->parent, "organizations/%s", kp->org);
    return auth_require(&call->who, kp->org, SUPPLYSEC__V1__ROLE__ROLE_ADMIN, parent, &call->st);
}

/* Parses a key name into its parent and id, checking the caller's access. */
static bool key_name_take(api_call *call, const char *name, key_parent *kp)
{
    const char *slash = strstr(name, "/apiKeys/");
    char id[RESOURCE_ID_MAX + 1], parent[96];
    if (!slash || (size_t)(slash - name) >= sizeof parent)
        return status_fail(&call->st, STATUS_INVALID_ARGUMENT,
                           "name: expected organizations/{org}/apiKeys/{key} or "
                           "platform/apiKeys/{key}, got \"%.*s\"",
                           UTF8_CLIP(name, 80));
    memcpy(parent, name, (size_t)(slash - name));
    parent[slash - name] = '\0';
    if (!parse_name1("name", slash + 1, "apiKeys", id, sizeof id, &call->st))
        return false;
    if (!key_parent_take(call, "name", parent, kp)) {
        /* Someone else's key is not found, whatever the reason. */
        if (call->st.code == STATUS_PERMISSION_DENIED && kp->org[0] == '\0')
            return status_fail(&call->st, STATUS_NOT_FOUND, "%s not found", name);
        return false;
    }
    return true;
}

static bool role_allowed(api_call *call, const key_parent *kp, Supplysec__V1__Role role)
{
    if (role == SUPPLYSEC__V1__ROLE__ROLE_UNSPECIFIED ||
        !protobuf_c_enum_descriptor_get_value(&supplysec__v1__role__descriptor, (int)role))
        return status_fail(&call->st, STATUS_INVALID_ARGUMENT,
                           "api_key.role: required (ROLE_VIEWER, ROLE_EDITOR or ROLE_ADMIN)");
    bool platform = kp->org[0] == '\0';
    if (platform != (role == SUPPLYSEC__V1__ROLE__ROLE_PLATFORM_ADMIN))
        return status_fail(&call->st, STATUS_INVALID_ARGUMENT,
                           platform ? "api_key.role: keys under platform are ROLE_PLATFORM_ADMIN"
                                    : "api_key.role: ROLE_PLATFORM_ADMIN keys live under the "
                                      "`platform` parent");
    return true;
}

static ProtobufCMessage *create_api_key(api_call *call, ProtobufCMessage *msg)
{
    Supplysec__V1__CreateApiKeyRequest *req = (void *)msg;
    key_parent kp;
    char id[RESOURCE_ID_MAX + 1], secret[APIKEY_SECRET_LEN + 1];

    if (!req->api_key)
        return api_fail(call, STATUS_INVALID_ARGUMENT, "api_key: required");
    if (!resource_id_take("api_key_id", req->api_key_id, id, &call->st) ||
        !validate_text("api_key.display_name", req->api_key->display_name, 200, false, &call->st) ||
        !key_parent_take(call, "parent", req->parent, &kp) ||
        !role_allowed(call, &kp, req->api_key->role))
        return NULL;

    /* keyring_issue stores the key only while its organization exists */
    Supplysec__V1__CreateApiKeyResponse *resp = malloc(sizeof *resp);
    if (!resp)
        return api_fail(call, STATUS_RESOURCE_EXHAUSTED, "out of memory");
    supplysec__v1__create_api_key_response__init(resp);
    resp->api_key = req->api_key;
    req->api_key = NULL; /* taken */
    bool ok = keyring_issue(&call->op, kp.parent, kp.org, id, resp->api_key, secret, &call->st) &&
              (resp->secret = strdup(secret)) != NULL;
    memset(secret, 0, sizeof secret);
    if (!ok) {
        protobuf_c_message_free_unpacked(&resp->base, NULL);
        return call->st.code ? NULL : api_fail(call, STATUS_RESOURCE_EXHAUSTED, "out of memory");
    }
    return &resp->base;
}

/* DATA_LOSS for a stored key document without its metadata. */
static bool stored_key_check(api_call *call, const StoredApiKey *stored, const char *name)
{
    return stored->api_key ? true
                           : status_fail(&call->st, STATUS_DATA_LOSS,
                                         "the stored document of %s has no key metadata", name);
}

/* Loads the stored key `name` in kp's organization. */
static StoredApiKey *stored_key_load(api_call *call, const key_parent *kp, const char *name,
                                     int64_t *version)
{
    StoredApiKey *stored = (StoredApiKey *)resource_load(
        &call->op, &supplysec__internal__v1__stored_api_key__descriptor, APIKEYS_COLLECTION,
        kp->org, name, name, version, &call->st);
    if (stored && !stored_key_check(call, stored, name)) {
        protobuf_c_message_free_unpacked(&stored->base, NULL);
        return NULL;
    }
    return stored;
}

/* Hands out the public part of a stored key and frees the rest. */
static ProtobufCMessage *public_key(StoredApiKey *stored)
{
    Supplysec__V1__ApiKey *key = stored->api_key;
    stored->api_key = NULL;
    protobuf_c_message_free_unpacked(&stored->base, NULL);
    return &key->base;
}

static ProtobufCMessage *get_api_key(api_call *call, ProtobufCMessage *msg)
{
    Supplysec__V1__GetApiKeyRequest *req = (void *)msg;
    key_parent kp;
    if (!key_name_take(call, req->name, &kp))
        return NULL;
    StoredApiKey *stored = stored_key_load(call, &kp, req->name, NULL);
    return stored ? public_key(stored) : NULL;
}

/* "state = ACTIVE" (or STATE_ACTIVE, REVOKED) → the stored state name. */
static bool parse_state_filter(api_call *call, const char *filter, const char **state)
{
    char value[32];
    *state = NULL;
    if (filter[0] == '\0')
        return true;
    int end = -1;
    if (sscanf(filter, " state = %31[A-Z_] %n", value, &end) == 1 && end >= 0 &&
        filter[end] == '\0') {
        const char *v = strncmp(value, "STATE_", 6) == 0 ? value + 6 : value;
        if (strcmp(v, "ACTIVE") == 0)
            *state = "STATE_ACTIVE";
        else if (strcmp(v, "REVOKED") == 0)
            *state = "STATE_REVOKED";
    }
    return *state ? true
                  : status_fail(&call->st, STATUS_INVALID_ARGUMENT,
                                "filter: supported are `state = ACTIVE` and `state = REVOKED`, "
                                "got \"%.*s\"",
                                UTF8_CLIP(filter, 80));
}

static ProtobufCMessage *list_api_keys(api_call *call, ProtobufCMessage *msg)
{
    Supplysec__V1__ListApiKeysRequest *req = (void *)msg;
    key_parent kp;
    const char *state;
    int page_size;
    char query_key[256];
    if (!key_parent_take(call, "parent", req->parent, &kp) ||
        !validate_page_size("page_size", req->page_size, &page_size, &call->st) ||
        !parse_state_filter(call, req->filter, &state))
        return NULL;
    store_query q = {
        .collection = APIKEYS_COLLECTION, .org = kp.org, .parent = kp.parent, .state = state};
    snprintf(query_key, sizeof query_key, "ListApiKeys|%s|%s", kp.parent, state ? state : "");
    resource_page page;
    if (!resource_list(&call->op, &supplysec__internal__v1__stored_api_key__descriptor, &q,
                       query_key, req->page_token, page_size, &page, &call->st))
        return NULL;
    for (size_t i = 0; i < page.count; i++)
        if (!stored_key_check(call, (StoredApiKey *)page.items[i], kp.parent)) {
            resource_page_free(&page);
            return NULL;
        }
    Supplysec__V1__ListApiKeysResponse *resp = malloc(sizeof *resp);
    if (!resp) {
        resource_page_free(&page);
        return api_fail(call, STATUS_RESOURCE_EXHAUSTED, "out of memory");
    }
    supplysec__v1__list_api_keys_response__init(resp);
    resp->api_keys = (Supplysec__V1__ApiKey **)page.items; /* reused in place */
    for (size_t i = 0; i < page.count; i++)
        resp->api_keys[i] = (Supplysec__V1__ApiKey *)public_key((StoredApiKey *)page.items[i]);
    resp->n_api_keys = page.count;
    resp->next_page_token = page.next_page_token;
    return &resp->base;
}

static ProtobufCMessage *revoke_api_key(api_call *call, ProtobufCMessage *msg)
{
    Supplysec__V1__RevokeApiKeyRequest *req = (void *)msg;
    key_parent kp;
    int64_t version;
    if (!key_name_take(call, req->name, &kp))
        return NULL;
    StoredApiKey *stored = stored_key_load(call, &kp, req->name, &version);
    if (!stored)
        return NULL;
    if (!resource_check_etag(&stored->api_key->base, req->etag, &call->st))
        goto fail;
    if (stored->api_key->state == SUPPLYSEC__V1__API_KEY__STATE__STATE_REVOKED) {
        api_fail(call, STATUS_FAILED_PRECONDITION, "%s is already revoked", req->name);
        goto fail;
    }
    stored->api_key->state = SUPPLYSEC__V1__API_KEY__STATE__STATE_REVOKED;
    if (!resource_stamp_now(&stored->api_key->base, "revoke_time")) {
        api_fail(call, STATUS_RESOURCE_EXHAUSTED, "out of memory");
        goto fail;
    }
    resource_ref ref = {.collection = APIKEYS_COLLECTION,
                        .org = kp.org,
                        .parent = kp.parent,
                        .name = req->name,
                        .state = "STATE_REVOKED",
                        .lookup = stored->api_key->key_prefix};
    if (!resource_update(&call->op, &ref, &stored->base, &stored->api_key->base, version,
                         &call->st))
        goto fail;
    return public_key(stored);
fail:
    protobuf_c_message_free_unpacked(&stored->base, NULL);
    return NULL;
}

static const api_method api_keys_methods[] = {
    {.name = "CreateApiKey", .handler = create_api_key, .writes = true},
    {.name = "GetApiKey", .handler = get_api_key},
    {.name = "ListApiKeys", .handler = list_api_keys},
    {.name = "RevokeApiKey", .handler = revoke_api_key, .writes = true},
};

const api_service api_keys_service = {&supplysec__v1__api_keys__descriptor, api_keys_methods,
                                      sizeof api_keys_methods / sizeof api_keys_methods[0]};
