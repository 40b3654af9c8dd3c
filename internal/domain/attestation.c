/* attestation.c — the rules of an attestation: made by customs
 * authorities only, of an operator on the platform, a known certificate
 * type (an AEO with its type), a number and a validity window; read by the
 * authority's members and the operator's; and an operator's attested
 * certificates for its Organization, found through the index each
 * attestation keeps in the operator's tenant (one lookup by name for an
 * organization read, not a query across tenants). */
#include "attestation.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "access.h"
#include "organization.h"
#include "supplysec/internal/v1/stored.pb-c.h"
#include "validate.h"

#define ORG_PREFIX "organizations/"

typedef Supplysec__V1__Attestation Attestation;
typedef Supplysec__V1__AttestedCertificate Attested;

static bool validate(const ProtobufCMessage *res, const char *p, status *st)
{
    const Attestation *a = (const Attestation *)res;
    char f[128];
    resource_key k;
    snprintf(f, sizeof f, "%s.operator", p);
    if (!a->operator_[0])
        return status_fail(st, STATUS_INVALID_ARGUMENT,
                           "%s: required: the operator, organizations/{organization}", f);
    if (!kind_parse_name(&organization_kind, f, a->operator_, &k, st))
        return false;
    snprintf(f, sizeof f, "%s.type", p);
    if (!validate_enum(f, &supplysec__v1__certificate_type__descriptor, a->type, true, st))
        return false;
    snprintf(f, sizeof f, "%s.aeo_type", p);
    if (!validate_enum(f, &supplysec__v1__aeo_type__descriptor, a->aeo_type,
                       a->type == SUPPLYSEC__V1__CERTIFICATE_TYPE__CERTIFICATE_TYPE_AEO, st))
        return false;
    snprintf(f, sizeof f, "%s.number", p);
    if (!validate_text(f, a->number, 100, true, st))
        return false;
    snprintf(f, sizeof f, "%s.valid_from", p);
    if (!validate_time(f, a->valid_from, true, false, st))
        return false;
    snprintf(f, sizeof f, "%s.valid_until", p);
    if (!validate_time(f, a->valid_until, true, false, st))
        return false;
    if (a->valid_until->seconds <= a->valid_from->seconds)
        return status_fail(st, STATUS_INVALID_ARGUMENT, "%s: must be after valid_from", f);
    return true;
}

/* Made by a customs authority, of an operator on the platform (one message
 * whether the operator is missing or not an operator). */
static bool derive(const op_ctx *op, const resource_key *key, ProtobufCMessage *res,
                   const ProtobufCMessage *prev, status *st)
{
    const Attestation *a = (const Attestation *)res;
    Supplysec__V1__OrganizationKind kind = 0;
    resource_key ok;
    status missing = {0};
    if (prev)
        return true;
    if (!organization_kind_of(op, key->org, &kind, st))
        return false;
    if (kind != SUPPLYSEC__V1__ORGANIZATION_KIND__ORGANIZATION_KIND_CUSTOMS_AUTHORITY)
        return status_fail(st, STATUS_FAILED_PRECONDITION,
                           "attestations are made by customs authorities, and %s is not one",
                           key->parent);
    kind = 0;
    kind_parse_name(&organization_kind, "operator", a->operator_, &ok, &missing);
    if (!organization_kind_of(op, ok.org, &kind, &missing) && missing.code != STATUS_NOT_FOUND) {
        *st = missing;
        return false;
    }
    return kind == SUPPLYSEC__V1__ORGANIZATION_KIND__ORGANIZATION_KIND_OPERATOR ||
           status_fail(st, STATUS_INVALID_ARGUMENT,
                       "attestation.operator: %s is not an operator on the platform", a->operator_);
}

static Attested *attested_of(const Attestation *a, const char *authority, const char *country)
{
    Attested *c = malloc(sizeof *c);
    if (!c)
        return NULL;
    supplysec__v1__attested_certificate__init(c);
    c->type = a->type;
    c->aeo_type = a->aeo_type;
    if (!message_set_string(&c->base, "attestation", a->name) ||
        !message_set_string(&c->base, "authority", authority) ||
        !message_set_string(&c->base, "authority_country_code", country) ||
        !message_set_string(&c->base, "number", a->number) ||
        !resource_set_time(&c->base, "valid_from", a->valid_from) ||
        !resource_set_time(&c->base, "valid_until", a->valid_until)) {
        protobuf_c_message_free_unpacked(&c->base, NULL);
        return NULL;
    }
    return c;
}

/* ---- the index in the operator's tenant ---- */

#define INDEX_COLLECTION "attestationIndex"
#define INDEX_SEGMENT "/attestationIndex"

typedef Supplysec__Internal__V1__AttestationIndex AttestationIndex;

/* The index of the operator `org_name` (organizations/{id}): *out (the
 * caller's; NULL when it has none) at *version. */
static bool index_load(const op_ctx *op, const char *org_name, AttestationIndex **out,
                       int64_t *version, status *st)
{
    char name[KIND_NAME_MAX + sizeof INDEX_SEGMENT];
    status missing = {0};
    const char *org_id = org_name + strlen(ORG_PREFIX);
    snprintf(name, sizeof name, "%s" INDEX_SEGMENT, org_name);
    *version = 0;
    *out = (AttestationIndex *)resource_load(
        op, &supplysec__internal__v1__attestation_index__descriptor, INDEX_COLLECTION, org_id, name,
        name, version, &missing);
    if (*out || missing.code == STATUS_NOT_FOUND)
        return true;
    *st = missing;
    return false;
}

/* Adds to b the write of the operator's index with `attestation` listed
 * (add) or no longer (drop), at the version read. */
static bool index_change(const op_ctx *op, const char *operator_name, const char *attestation,
                         bool add, resource_batch *b, status *st)
{
    AttestationIndex *ix = NULL;
    int64_t version = 0;
    if (!index_load(op, operator_name, &ix, &version, st))
        return false;
    if (!ix && !(ix = malloc(sizeof *ix)))
        return status_fail(st, STATUS_RESOURCE_EXHAUSTED, "out of memory");
    if (!version)
        supplysec__internal__v1__attestation_index__init(ix);
    if (!resource_batch_keep(b, &ix->base)) /* the batch frees it */
        return status_fail(st, STATUS_RESOURCE_EXHAUSTED, "out of memory");
    size_t kept = 0;
    for (size_t i = 0; i < ix->n_attestations; i++) {
        if (strcmp(ix->attestations[i], attestation) == 0)
            free(ix->attestations[i]);
        else
            ix->attestations[kept++] = ix->attestations[i];
    }
    ix->n_attestations = kept;
    if (add) {
        char **grown = realloc(ix->attestations, (kept + 1) * sizeof *grown);
        if (!grown || !(grown[kept] = strdup(attestation))) {
            if (grown)
                ix->attestations = grown;
            return status_fail(st, STATUS_RESOURCE_EXHAUSTED, "out of memory");
        }
        ix->attestations = grown;
        ix->n_attestations++;
    }
    /* the write borrows its name until the batch is applied: the batch keeps it */
    size_t size = strlen(operator_name) + sizeof INDEX_SEGMENT;
    char *name = malloc(size);
    if (!name || !resource_batch_keep_mem(b, name))
        return status_fail(st, STATUS_RESOURCE_EXHAUSTED, "out of memory");
    snprintf(name, size, "%s" INDEX_SEGMENT, operator_name);
    resource_ref ref = {.collection = INDEX_COLLECTION,
                        .org = operator_name + strlen(ORG_PREFIX),
                        .parent = operator_name,
                        .name = name};
    return version ? resource_batch_update(b, &ref, &ix->base, &ix->base, version, st)
                   : resource_batch_create(b, &ref, &ix->base, &ix->base, st);
}

static bool with_create(const op_ctx *op, const resource_key *key, ProtobufCMessage *res,
                        resource_batch *b, status *st)
{
    return index_change(op, ((const Attestation *)res)->operator_, key->name, true, b, st);
}

static bool before_delete(const op_ctx *op, const resource_key *key, const ProtobufCMessage *cur,
                          int64_t version, resource_batch *b, status *st)
{
    (void)version;
    return index_change(op, ((const Attestation *)cur)->operator_, key->name, false, b, st);
}

static int later_first(const void *x, const void *y)
{
    const Attested *a = *(Attested *const *)x, *b = *(Attested *const *)y;
    int64_t ua = a->valid_until->seconds, ub = b->valid_until->seconds;
    return (ua < ub) - (ua > ub);
}

/* The attested certificate of the attestation `name` if it is there and
 * valid at now_s (*out NULL otherwise). */
static bool attested_load(const op_ctx *op, const char *name, int64_t now_s, Attested **out,
                          status *st)
{
    resource_key ak;
    status ignored = {0};
    *out = NULL;
    if (!kind_parse_name(&attestation_kind, "name", name, &ak, &ignored))
        return true;
    Attestation *a =
        (Attestation *)resource_load(op, attestation_kind.desc, attestation_kind.collection, ak.org,
                                     ak.name, ak.name, NULL, &ignored);
    if (!a) { /* an authority gone: its word with it */
        if (ignored.code == STATUS_NOT_FOUND)
            return true;
        *st = ignored;
        return false;
    }
    Supplysec__V1__Organization *auth = NULL;
    if (a->valid_from->seconds <= now_s && a->valid_until->seconds > now_s)
        auth = (Supplysec__V1__Organization *)resource_load(op, organization_kind.desc,
                                                            organization_kind.collection, ak.org,
                                                            ak.parent, ak.parent, NULL, &ignored);
    bool ok = true;
    if (auth) {
        ok = (*out = attested_of(a, ak.parent, auth->country_code)) != NULL;
        protobuf_c_message_free_unpacked(&auth->base, NULL);
    }
    protobuf_c_message_free_unpacked(&a->base, NULL);
    return ok || status_fail(st, STATUS_RESOURCE_EXHAUSTED, "out of memory");
}

bool attestation_certificates(const op_ctx *op, const char *org_name, int64_t now_s,
                              Attested ***out, size_t *n, status *st)
{
    AttestationIndex *ix = NULL;
    int64_t version;
    *out = NULL;
    *n = 0;
    /* one lookup by name: most organizations have no index at all */
    if (!index_load(op, org_name, &ix, &version, st))
        return false;
    if (!ix)
        return true;
    bool ok = (*out = calloc(ix->n_attestations + 1, sizeof **out)) != NULL;
    if (!ok)
        status_fail(st, STATUS_RESOURCE_EXHAUSTED, "out of memory");
    for (size_t i = 0; ok && i < ix->n_attestations; i++) {
        Attested *c = NULL;
        ok = attested_load(op, ix->attestations[i], now_s, &c, st);
        if (c)
            (*out)[(*n)++] = c;
    }
    protobuf_c_message_free_unpacked(&ix->base, NULL);
    if (ok && *n > 1)
        qsort(*out, *n, sizeof **out, later_first);
    while (ok && *n > ATTESTED_MAX)
        protobuf_c_message_free_unpacked(&(*out)[--*n]->base, NULL);
    if (!ok) {
        for (size_t i = 0; i < *n; i++)
            protobuf_c_message_free_unpacked(&(*out)[i]->base, NULL);
        free(*out);
        *out = NULL;
        *n = 0;
    }
    return ok;
}

static const facet_def facets[] = {
    {.name = "operator", .type = FACET_STRING},
    {.name = "type", .type = FACET_ENUM, .enum_type = &supplysec__v1__certificate_type__descriptor},
    {.name = "number", .type = FACET_STRING},
    {.name = "valid_from", .type = FACET_TIMESTAMP},
    {.name = "valid_until", .type = FACET_TIMESTAMP},
};

static const char *const immutable[] = {"operator", NULL};

const kind attestation_kind = {
    .type = "Attestation",
    .field = "attestation",
    .plural = "attestations",
    .collection = "attestations",
    .parent = &organization_kind,
    .desc = &supplysec__v1__attestation__descriptor,
    .min_role = KIND_ROLES_ADMIN_KEPT,
    .immutable = immutable,
    .facets = facets,
    .n_facets = sizeof facets / sizeof facets[0],
    .hooks = {.validate = validate,
              .derive = derive,
              .authorize = access_attested,
              .with_create = with_create,
              .before_delete = before_delete},
};
