/* keyring.c — the ApiKey kind (see keyring.h): its declaration, issuing a
 * key (the secret, its hash and the key's record, stored with a guard on
 * the key's organization), revoking one, the caller's own key, and the
 * bootstrap key. */
#include "keyring.h"

#include <assert.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "auth.h"
#include "organization.h"
#include "supplysec/internal/v1/stored.pb-c.h"
#include "validate.h"

typedef Supplysec__Internal__V1__StoredApiKey StoredApiKey;

/* ---- the kind ---- */

static bool validate(const ProtobufCMessage *res, const char *prefix, status *st)
{
    const Supplysec__V1__ApiKey *key = (const Supplysec__V1__ApiKey *)res;
    char f[96];
    snprintf(f, sizeof f, "%s.display_name", prefix);
    return validate_text(f, key->display_name, 200, false, st);
}

/* The state column (what an organization's delete checks) and the prefix
 * a bearer token is looked up by. */
static void columns(const ProtobufCMessage *res, const char **state, const char **lookup)
{
    const Supplysec__V1__ApiKey *key = (const Supplysec__V1__ApiKey *)res;
    const ProtobufCEnumValue *v = protobuf_c_enum_descriptor_get_value(
        &supplysec__v1__api_key__state__descriptor, (int)key->state);
    *state = v ? v->name : NULL;
    *lookup = key->key_prefix;
}

/* What ListApiKeys filters on (docs/api.md). */
static const facet_def facets[] = {
    {.name = "state", .type = FACET_ENUM, .enum_type = &supplysec__v1__api_key__state__descriptor},
    {.name = "role", .type = FACET_ENUM, .enum_type = &supplysec__v1__role__descriptor},
};

static const char *const output_only[] = {"state", "key_prefix", "revoke_time", "creator", NULL};

const kind api_key_kind = {
    .type = "ApiKey",
    .field = "api_key",
    .plural = "apiKeys",
    .collection = APIKEYS_COLLECTION,
    .parent = &organization_kind,
    .platform_parent = true,
    .desc = &supplysec__v1__api_key__descriptor,
    .envelope = &supplysec__internal__v1__stored_api_key__descriptor,
    .envelope_field = "api_key",
    .min_role =
        {
            [KIND_GET] = SUPPLYSEC__V1__ROLE__ROLE_ADMIN,
            [KIND_LIST] = SUPPLYSEC__V1__ROLE__ROLE_ADMIN,
            [KIND_CREATE] = SUPPLYSEC__V1__ROLE__ROLE_ADMIN,
        },
    .output_only = output_only,
    .facets = facets,
    .n_facets = sizeof facets / sizeof facets[0],
    .hooks = {.validate = validate, .columns = columns},
};

/* ---- issuing ---- */

/* A key's role: one of an organization's roles under an organization,
 * ROLE_PLATFORM_ADMIN under `platform`. */
static bool role_allowed(const resource_key *key, Supplysec__V1__Role role, status *st)
{
    if (role == SUPPLYSEC__V1__ROLE__ROLE_UNSPECIFIED ||
        !protobuf_c_enum_descriptor_get_value(&supplysec__v1__role__descriptor, (int)role))
        return status_fail(st, STATUS_INVALID_ARGUMENT,
                           "api_key.role: required (ROLE_VIEWER, ROLE_EDITOR, ROLE_ADMIN, or "
                           "ROLE_VALIDATOR in a customs authority)");
    bool platform = key->org[0] == '\0';
    if (platform != (role == SUPPLYSEC__V1__ROLE__ROLE_PLATFORM_ADMIN))
        return status_fail(st, STATUS_INVALID_ARGUMENT,
                           platform ? "api_key.role: keys under platform are ROLE_PLATFORM_ADMIN"
                                    : "api_key.role: ROLE_PLATFORM_ADMIN keys live under the "
                                      "`platform` parent");
    return true;
}

/* A VALIDATOR key belongs to a customs authority: the organization's
 * version read (the key is stored only while it is still that version, so
 * a kind changed meanwhile makes the create ABORTED), or FAILED_PRECONDITION
 * for an operator. */
static bool authority_version(const op_ctx *op, const resource_key *name, int64_t *version,
                              status *st)
{
    const char *org_name = name->parent;
    Supplysec__V1__Organization *org = (Supplysec__V1__Organization *)resource_load(
        op, organization_kind.desc, organization_kind.collection, name->org, org_name, org_name,
        version, st);
    if (!org)
        return false;
    bool authority =
        org->kind == SUPPLYSEC__V1__ORGANIZATION_KIND__ORGANIZATION_KIND_CUSTOMS_AUTHORITY;
    protobuf_c_message_free_unpacked(&org->base, NULL);
    return authority ||
           status_fail(st, STATUS_FAILED_PRECONDITION,
                       "api_key.role: ROLE_VALIDATOR keys belong to customs authorities, and %s "
                       "is not one (its kind is set by platform administrators)",
                       org_name);
}

/* Stores key (the caller's) as the key `name` with a new secret, while its
 * organization is at org_version (0: any). */
static bool issue(const op_ctx *op, const resource_key *name, Supplysec__V1__ApiKey *key,
                  int64_t org_version, char secret[APIKEY_SECRET_LEN + 1], status *st)
{
    char prefix[APIKEY_PREFIX_LEN + 1];
    uint8_t hash[APIKEY_HASH_LEN];
    if (!apikey_generate(secret, prefix))
        return status_fail(st, STATUS_INTERNAL, "no randomness for a new key");
    apikey_hash(secret, hash);
    key->state = SUPPLYSEC__V1__API_KEY__STATE__STATE_ACTIVE;
    if (!message_set_string(&key->base, "key_prefix", prefix) ||
        !message_set_string(&key->base, "creator", op->who ? op->who->name : "bootstrap"))
        return status_fail(st, STATUS_RESOURCE_EXHAUSTED, "out of memory");

    StoredApiKey stored = SUPPLYSEC__INTERNAL__V1__STORED_API_KEY__INIT;
    stored.api_key = key;
    stored.secret_sha256.data = hash;
    stored.secret_sha256.len = sizeof hash;
    resource_ref ref = kind_ref(&api_key_kind, name, &key->base);
    /* An organization's key is stored only while the organization is: a
     * DeleteOrganization committing first makes this NOT_FOUND (the guard
     * comes first, so that is the answer), one committing after deletes
     * the key with the organization. */
    resource_batch b;
    resource_batch_init(&b, op);
    if (name->org[0])
        resource_batch_guard(&b, ORGANIZATIONS_COLLECTION, name->org, name->parent, org_version);
    bool ok = resource_batch_create(&b, &ref, &stored.base, &key->base, st) &&
              resource_batch_apply(&b, st);
    resource_batch_free(&b);
    return ok;
}

Supplysec__V1__ApiKey *keyring_create(const op_ctx *op, const char *parent, const char *id,
                                      Supplysec__V1__ApiKey **key,
                                      char secret[APIKEY_SECRET_LEN + 1], status *st)
{
    const kind *k = &api_key_kind;
    Supplysec__V1__ApiKey *res = *key;
    *key = NULL; /* taken */
    resource_key name;
    char new_id[RESOURCE_ID_MAX + 1];
    const char *out_buf[KIND_OUTPUT_ONLY_MAX];

    if (!res) {
        status_fail(st, STATUS_INVALID_ARGUMENT, "api_key: required");
        return NULL;
    }
    if (!resource_id_take("api_key_id", id ? id : "", new_id, st) ||
        !k->hooks.validate(&res->base, k->field, st) ||
        !kind_parse_parent(k, "parent", parent ? parent : "", &name, st) ||
        !kind_authorize(op, KIND_CREATE, &name, name.parent, st) ||
        !role_allowed(&name, res->role, st))
        goto fail;
    if (!kind_key_set_id(&name, new_id)) {
        status_fail(st, STATUS_INVALID_ARGUMENT, "parent: too long for a name under it");
        goto fail;
    }
    if (!message_clear_fields(&res->base, kind_output_only(k, out_buf, KIND_OUTPUT_ONLY_MAX))) {
        status_fail(st, STATUS_INTERNAL, "cannot clear the output-only fields of an ApiKey");
        goto fail;
    }
    int64_t org_version = 0;
    if (res->role == SUPPLYSEC__V1__ROLE__ROLE_VALIDATOR &&
        !authority_version(op, &name, &org_version, st))
        goto fail;
    if (issue(op, &name, res, org_version, secret, st))
        return res;
fail:
    if (res)
        protobuf_c_message_free_unpacked(&res->base, NULL);
    return NULL;
}

/* ---- revoking ---- */

/* The stored key (its hash with the metadata) that key names, its version
 * into *version (unless NULL); NULL with st set (NOT_FOUND when there is
 * none). */
static StoredApiKey *stored_key(const op_ctx *op, const resource_key *key, int64_t *version,
                                status *st)
{
    return (StoredApiKey *)resource_load(op, api_key_kind.envelope, api_key_kind.collection,
                                         key->org, key->name, key->name, version, st);
}

Supplysec__V1__ApiKey *keyring_revoke(const op_ctx *op, const char *name, const char *etag,
                                      status *st)
{
    const kind *k = &api_key_kind;
    resource_key key;
    int64_t version;
    if (!kind_parse_name(k, "name", name, &key, st) ||
        !kind_authorize_role(op, &key, SUPPLYSEC__V1__ROLE__ROLE_ADMIN, key.name, st))
        return NULL;
    StoredApiKey *stored = stored_key(op, &key, &version, st);
    if (!stored)
        return NULL;
    Supplysec__V1__ApiKey *res =
        (Supplysec__V1__ApiKey *)kind_resource_in(k, &stored->base, key.name, st);
    if (!res || !resource_check_etag(&res->base, etag, st))
        goto fail;
    if (res->state == SUPPLYSEC__V1__API_KEY__STATE__STATE_REVOKED) {
        status_fail(st, STATUS_FAILED_PRECONDITION, "%s is already revoked", key.name);
        goto fail;
    }
    res->state = SUPPLYSEC__V1__API_KEY__STATE__STATE_REVOKED;
    if (!resource_stamp_now(&res->base, "revoke_time")) {
        status_fail(st, STATUS_RESOURCE_EXHAUSTED, "out of memory");
        goto fail;
    }
    resource_ref ref = kind_ref(k, &key, &res->base);
    if (!resource_update(op, &ref, &stored->base, &res->base, version, st))
        goto fail;
    return (Supplysec__V1__ApiKey *)kind_resource_take(k, &stored->base, key.name, st);
fail:
    protobuf_c_message_free_unpacked(&stored->base, NULL);
    return NULL;
}

/* ---- the caller's own key ---- */

Supplysec__V1__ApiKey *keyring_caller(const op_ctx *op, char **parent, status *st)
{
    assert(op->who); /* the runtime authenticated the call */
    const kind *k = &api_key_kind;
    resource_key key;
    *parent = NULL;
    if (!kind_parse_name(k, "caller", op->who->name, &key, st))
        return NULL;
    StoredApiKey *stored = stored_key(op, &key, NULL, st);
    if (!stored)
        return NULL;
    Supplysec__V1__ApiKey *res =
        (Supplysec__V1__ApiKey *)kind_resource_take(k, &stored->base, key.name, st);
    if (res && (op->who->org[0] ? asprintf(parent, "organizations/%s", op->who->org) < 0
                                : !(*parent = strdup(PLATFORM_PARENT)))) {
        *parent = NULL;
        protobuf_c_message_free_unpacked(&res->base, NULL);
        status_fail(st, STATUS_RESOURCE_EXHAUSTED, "out of memory");
        return NULL;
    }
    return res;
}

/* ---- the first platform key ---- */

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
    resource_key name;
    if (!kind_parse_parent(&api_key_kind, "parent", PLATFORM_PARENT, &name, st) ||
        !kind_key_set_id(&name, BOOTSTRAP_KEY_ID))
        return status_fail(st, STATUS_INTERNAL, "cannot name the bootstrap key");
    Supplysec__V1__ApiKey *key = malloc(sizeof *key);
    if (!key)
        return status_fail(st, STATUS_RESOURCE_EXHAUSTED, "out of memory");
    supplysec__v1__api_key__init(key);
    key->role = SUPPLYSEC__V1__ROLE__ROLE_PLATFORM_ADMIN;
    bool ok = message_set_string(&key->base, "display_name", "bootstrap platform administrator")
                  ? issue(&op, &name, key, 0, secret, st)
                  : status_fail(st, STATUS_RESOURCE_EXHAUSTED, "out of memory");
    protobuf_c_message_free_unpacked(&key->base, NULL);
    return ok;
}
