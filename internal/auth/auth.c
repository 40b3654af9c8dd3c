/* auth.c — authentication by API key and authorization by role (see auth.h). */
#include "auth.h"

#include <bson/bson.h>
#include <stdio.h>
#include <string.h>

#include "apikey.h"
#include "auth_cache.h"
#include "doc.h"
#include "supplysec/internal/v1/stored.pb-c.h"

#define UNAUTHENTICATED_HINT "send `authorization: Bearer <api key>` with an active key"

/* The milliseconds since the epoch of a stored document's `createTime`
 * (a BSON date, as doc.c writes Timestamps), or -1. */
static int64_t doc_create_time_ms(const store_record *rec)
{
    bson_t doc;
    bson_iter_t it;
    if (bson_init_static(&doc, rec->doc, rec->doc_len) &&
        bson_iter_init_find(&it, &doc, "createTime") && BSON_ITER_HOLDS_DATE_TIME(&it))
        return bson_iter_date_time(&it);
    return -1;
}

/* A key acts only while its organization exists, and only for the
 * organization it was made in: not for a later one that reuses the id. */
static bool org_predates_key(store *s, const char *org, const Supplysec__V1__ApiKey *key,
                             const char *prefix, status *st)
{
    char name[128];
    store_record *rec = NULL;
    snprintf(name, sizeof name, ORGANIZATIONS_COLLECTION "/%s", org);
    store_status ss = store_get(s, ORGANIZATIONS_COLLECTION, org, name, &rec);
    if (ss == STORE_NOT_FOUND)
        return status_fail(st, STATUS_UNAUTHENTICATED,
                           "API key %s belongs to an organization that no longer exists", prefix);
    if (!status_from_store(st, ss, "organization"))
        return false;
    int64_t org_ms = doc_create_time_ms(rec);
    store_record_free(rec);
    int64_t key_ms = key->create_time
                         ? key->create_time->seconds * 1000 + key->create_time->nanos / 1000000
                         : -1;
    if (org_ms < 0 || key_ms < 0 || org_ms > key_ms)
        return status_fail(st, STATUS_UNAUTHENTICATED,
                           "API key %s belongs to an earlier organization of that name", prefix);
    return true;
}

bool auth_authenticate(store *s, auth_cache *cache, const char *authorization, size_t len,
                       principal *who, status *st)
{
    char secret[APIKEY_SECRET_LEN + 1], prefix[APIKEY_PREFIX_LEN + 1];
    store_record *rec = NULL;
    Supplysec__Internal__V1__StoredApiKey *key = NULL;
    bool ok = false;

    if (!authorization)
        return status_fail(st, STATUS_UNAUTHENTICATED,
                           "missing credentials: " UNAUTHENTICATED_HINT);
    if (!apikey_parse_bearer(authorization, len, secret, prefix))
        return status_fail(st, STATUS_UNAUTHENTICATED,
                           "malformed credentials: " UNAUTHENTICATED_HINT);
    if (auth_cache_get(cache, s, prefix, secret, who)) {
        explicit_bzero(secret, sizeof secret);
        return true;
    }
    uint64_t epoch = auth_cache_epoch(s); /* before the reads: see auth_cache.h */
    store_status ss = store_get_by_lookup(s, APIKEYS_COLLECTION, prefix, &rec);
    if (ss == STORE_NOT_FOUND) {
        status_fail(st, STATUS_UNAUTHENTICATED, "unknown API key %s", prefix);
        goto out;
    }
    if (!status_from_store(st, ss, "API key"))
        goto out;
    bson_t doc;
    char err[128];
    if (bson_init_static(&doc, rec->doc, rec->doc_len))
        key = (Supplysec__Internal__V1__StoredApiKey *)doc_to_message(
            &supplysec__internal__v1__stored_api_key__descriptor, &doc, err, sizeof err);
    if (!key || !key->api_key) {
        status_fail(st, STATUS_INTERNAL, "stored API key %s cannot be read", prefix);
        goto out;
    }
    if (!apikey_matches(secret, key->secret_sha256.data, key->secret_sha256.len)) {
        status_fail(st, STATUS_UNAUTHENTICATED, "unknown API key %s", prefix);
        goto out;
    }
    if (key->api_key->state != SUPPLYSEC__V1__API_KEY__STATE__STATE_ACTIVE) {
        status_fail(st, STATUS_UNAUTHENTICATED, "API key %s was revoked", prefix);
        goto out;
    }
    if (rec->org[0] && !org_predates_key(s, rec->org, key->api_key, prefix, st))
        goto out;
    snprintf(who->name, sizeof who->name, "%s", key->api_key->name);
    snprintf(who->org, sizeof who->org, "%s", rec->org);
    who->role = key->api_key->role;
    auth_cache_put(cache, s, epoch, prefix, secret, who);
    ok = true;
out:
    if (key)
        protobuf_c_message_free_unpacked(&key->base, NULL);
    store_record_free(rec);
    explicit_bzero(secret, sizeof secret);
    return ok;
}

bool auth_is_platform_admin(const principal *who)
{
    return who->role == SUPPLYSEC__V1__ROLE__ROLE_PLATFORM_ADMIN && who->org[0] == '\0';
}

bool auth_is_validator(const principal *who)
{
    return who && who->role == SUPPLYSEC__V1__ROLE__ROLE_VALIDATOR && who->org[0] != '\0';
}

bool auth_require(const principal *who, const char *org, Supplysec__V1__Role min_role,
                  const char *what, status *st)
{
    if (auth_is_platform_admin(who))
        return true;
    if (strcmp(who->org, org) != 0)
        return status_fail(st, STATUS_NOT_FOUND, "%s not found", what);
    if (auth_role_rank(who->role) < auth_role_rank(min_role))
        return status_fail(st, STATUS_PERMISSION_DENIED, "%s needs role %s; this key has %s", what,
                           auth_role_name(min_role), auth_role_name(who->role));
    return true;
}

int auth_role_rank(Supplysec__V1__Role role)
{
    switch (role) {
    case SUPPLYSEC__V1__ROLE__ROLE_VIEWER:
    case SUPPLYSEC__V1__ROLE__ROLE_VALIDATOR:
        return 1;
    case SUPPLYSEC__V1__ROLE__ROLE_EDITOR:
        return 2;
    case SUPPLYSEC__V1__ROLE__ROLE_ADMIN:
        return 3;
    case SUPPLYSEC__V1__ROLE__ROLE_PLATFORM_ADMIN:
        return 4;
    default:
        return 0;
    }
}

const char *auth_role_name(Supplysec__V1__Role role)
{
    const ProtobufCEnumValue *v =
        protobuf_c_enum_descriptor_get_value(&supplysec__v1__role__descriptor, (int)role);
    return v ? v->name : "ROLE_UNSPECIFIED";
}
