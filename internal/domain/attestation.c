/* attestation.c — the rules of an attestation: made by customs
 * authorities only, of an operator on the platform, a known certificate
 * type (an AEO with its type), a number and a validity window; read by the
 * authority's members and the operator's; and an operator's attested
 * certificates, gathered across authorities for its Organization. */
#include "attestation.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "access.h"
#include "organization.h"
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

static int later_first(const void *x, const void *y)
{
    const Attested *a = *(Attested *const *)x, *b = *(Attested *const *)y;
    int64_t ua = a->valid_until->seconds, ub = b->valid_until->seconds;
    return (ua < ub) - (ua > ub);
}

bool attestation_certificates(const op_ctx *op, const char *org_name, int64_t now_s,
                              Attested ***out, size_t *n, status *st)
{
    char where[KIND_NAME_MAX + 64];
    resource_page page;
    *out = NULL;
    *n = 0;
    snprintf(where, sizeof where, "operator = \"%s\"", org_name);
    /* an operator's attestations, by a handful of authorities */
    if (!kind_list_where(op, &attestation_kind, NULL, where, "attested", PAGE_SIZE_MAX, "", &page,
                         st))
        return false;
    bool ok = (*out = calloc(page.count + 1, sizeof **out)) != NULL;
    for (size_t i = 0; ok && i < page.count; i++) {
        const Attestation *a = (const Attestation *)page.items[i];
        resource_key ak;
        status ignored = {0};
        if (a->valid_from->seconds > now_s || a->valid_until->seconds <= now_s ||
            !kind_parse_name(&attestation_kind, "name", a->name, &ak, &ignored))
            continue;
        Supplysec__V1__Organization *auth = (Supplysec__V1__Organization *)resource_load(
            op, organization_kind.desc, organization_kind.collection, ak.org, ak.parent, ak.parent,
            NULL, &ignored);
        if (!auth) /* an authority gone: its word with it */
            continue;
        Attested *c = attested_of(a, ak.parent, auth->country_code);
        protobuf_c_message_free_unpacked(&auth->base, NULL);
        ok = c != NULL;
        if (ok)
            (*out)[(*n)++] = c;
    }
    resource_page_free(&page);
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
        return status_fail(st, STATUS_RESOURCE_EXHAUSTED, "out of memory");
    }
    return true;
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
    .hooks = {.validate = validate, .derive = derive, .authorize = access_attested},
};
