/* api_keys.c — the supplysec.v1.ApiKeys service: GetApiKey and ListApiKeys
 * are the ApiKey kind's standard methods; CreateApiKey (its answer carries
 * the secret), RevokeApiKey and GetCaller (the caller's own key) are custom
 * (internal/domain/keyring.c declares the kind and its rules). */
#include <stdlib.h>
#include <string.h>

#include "keyring.h"
#include "runtime.h"

static ProtobufCMessage *create_api_key(api_call *call, ProtobufCMessage *msg)
{
    Supplysec__V1__CreateApiKeyRequest *req = (void *)msg;
    char secret[APIKEY_SECRET_LEN + 1];
    Supplysec__V1__CreateApiKeyResponse *resp = malloc(sizeof *resp);
    if (!resp)
        return api_fail(call, STATUS_RESOURCE_EXHAUSTED, "out of memory");
    supplysec__v1__create_api_key_response__init(resp);
    resp->api_key =
        keyring_create(&call->op, req->parent, req->api_key_id, &req->api_key, secret, &call->st);
    bool ok = resp->api_key && (resp->secret = strdup(secret)) != NULL;
    explicit_bzero(secret, sizeof secret); /* not optimised away as a dead store */
    if (!ok) {
        protobuf_c_message_free_unpacked(&resp->base, NULL);
        return call->st.code ? NULL : api_fail(call, STATUS_RESOURCE_EXHAUSTED, "out of memory");
    }
    return &resp->base;
}

static ProtobufCMessage *revoke_api_key(api_call *call, ProtobufCMessage *msg)
{
    Supplysec__V1__RevokeApiKeyRequest *req = (void *)msg;
    Supplysec__V1__ApiKey *key = keyring_revoke(&call->op, req->name, req->etag, &call->st);
    return key ? &key->base : NULL;
}

static ProtobufCMessage *get_caller(api_call *call, ProtobufCMessage *msg)
{
    (void)msg; /* GetCallerRequest has no fields */
    Supplysec__V1__GetCallerResponse *resp = malloc(sizeof *resp);
    if (!resp)
        return api_fail(call, STATUS_RESOURCE_EXHAUSTED, "out of memory");
    supplysec__v1__get_caller_response__init(resp);
    resp->api_key = keyring_caller(&call->op, &resp->parent, &call->st);
    if (!resp->api_key) {
        free(resp);
        return NULL;
    }
    return &resp->base;
}

static const api_method api_keys_methods[] = {
    {.name = "CreateApiKey", .handler = create_api_key, .writes = true},
    API_STANDARD(GET, "GetApiKey", &api_key_kind),
    API_STANDARD(LIST, "ListApiKeys", &api_key_kind),
    {.name = "RevokeApiKey", .handler = revoke_api_key, .writes = true},
    {.name = "GetCaller", .handler = get_caller},
};

const api_service api_keys_service = {&supplysec__v1__api_keys__descriptor, api_keys_methods,
                                      sizeof api_keys_methods / sizeof api_keys_methods[0]};
