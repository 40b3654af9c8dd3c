/* keyring.c — issuing API keys (see keyring.h): the secret, its hash and
 * the key's record, stored with a guard on the key's organization. */
#include "keyring.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "auth.h"
#include "organization.h"
#include "supplysec/internal/v1/stored.pb-c.h"

bool keyring_issue(const op_ctx *op, const char *parent, const char *org, const char *id,
                   Supplysec__V1__ApiKey *key, char secret[APIKEY_SECRET_LEN + 1], status *st)
{
    char prefix[APIKEY_PREFIX_LEN + 1], name[256];
    uint8_t hash[APIKEY_HASH_LEN];
    if (!apikey_generate(secret, prefix))
        return status_fail(st, STATUS_INTERNAL, "no randomness for a new key");
    static const char *const output_only[] = {"name",        "state",       "key_prefix",
                                              "create_time", "update_time", "revoke_time",
                                              "creator",     "etag",        NULL};
    apikey_hash(secret, hash);
    snprintf(name, sizeof name, "%s/apiKeys/%s", parent, id);
    if (!message_clear_fields(&key->base, output_only))
        return status_fail(st, STATUS_INTERNAL, "cannot clear the output-only fields");
    key->state = SUPPLYSEC__V1__API_KEY__STATE__STATE_ACTIVE;
    if (!message_set_string(&key->base, "key_prefix", prefix) ||
        !message_set_string(&key->base, "creator", op->who ? op->who->name : "bootstrap"))
        return status_fail(st, STATUS_RESOURCE_EXHAUSTED, "out of memory");

    Supplysec__Internal__V1__StoredApiKey stored = SUPPLYSEC__INTERNAL__V1__STORED_API_KEY__INIT;
    stored.api_key = key;
    stored.secret_sha256.data = hash;
    stored.secret_sha256.len = sizeof hash;
    resource_ref ref = {.collection = APIKEYS_COLLECTION,
                        .org = org,
                        .parent = parent,
                        .name = name,
                        .state = "STATE_ACTIVE",
                        .lookup = prefix};
    /* An organization's key is stored only while the organization is: a
     * DeleteOrganization committing first makes this NOT_FOUND (the guard
     * comes first, so that is the answer), one committing after deletes
     * the key with the organization. */
    resource_batch b;
    resource_batch_init(&b, op);
    if (org[0])
        resource_batch_guard(&b, ORGANIZATIONS_COLLECTION, org, parent, 0);
    bool ok = resource_batch_create(&b, &ref, &stored.base, &key->base, st) &&
              resource_batch_apply(&b, st);
    resource_batch_free(&b);
    return ok;
}

bool keyring_bootstrap(store *s, char secret[APIKEY_SECRET_LEN + 1], status *st)
{
    store_query q = {
        .collection = APIKEYS_COLLECTION, .org = "", .parent = PLATFORM_PARENT, .limit = 1};
    store_page *page = NULL;
    if (!status_from_store(st, store_list(s, &q, &page), "platform keys"))
        return false;
    size_t existing = page->count;
    store_page_free(page);
    if (existing)
        return status_fail(st, STATUS_FAILED_PRECONDITION,
                           "this store already has a platform key; use it to create more "
                           "(supplysec keys create --parent platform)");
    op_ctx op = {.store = s, .method = "bootstrap", .request_id = "", .deadline_us = INT64_MAX};
    Supplysec__V1__ApiKey *key = malloc(sizeof *key);
    if (!key)
        return status_fail(st, STATUS_RESOURCE_EXHAUSTED, "out of memory");
    supplysec__v1__api_key__init(key);
    key->role = SUPPLYSEC__V1__ROLE__ROLE_PLATFORM_ADMIN;
    bool ok = message_set_string(&key->base, "display_name", "bootstrap platform administrator")
                  ? keyring_issue(&op, PLATFORM_PARENT, "", BOOTSTRAP_KEY_ID, key, secret, st)
                  : status_fail(st, STATUS_RESOURCE_EXHAUSTED, "out of memory");
    protobuf_c_message_free_unpacked(&key->base, NULL);
    return ok;
}
