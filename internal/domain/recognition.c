/* recognition.c — the rules of a recognition: kept by customs authorities
 * only, a known certificate type from one issuing country, on its own
 * programme or a named mutual recognition arrangement; published to every
 * caller with a key; and an authority's recognitions as the set an
 * exemption is judged by. */
#include "recognition.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "access.h"
#include "organization.h"
#include "validate.h"

#define BASIS(x) SUPPLYSEC__V1__RECOGNITION_BASIS__RECOGNITION_BASIS_##x

typedef Supplysec__V1__Recognition Recognition;

static bool validate(const ProtobufCMessage *res, const char *p, status *st)
{
    const Recognition *r = (const Recognition *)res;
    char f[128];
    snprintf(f, sizeof f, "%s.certificate_type", p);
    if (!validate_enum(f, &supplysec__v1__partner_certificate_type__descriptor, r->certificate_type,
                       true, st))
        return false;
    snprintf(f, sizeof f, "%s.issuing_country", p);
    if (!r->issuing_country[0])
        return status_fail(st, STATUS_INVALID_ARGUMENT, "%s: required", f);
    if (!validate_country_code(f, r->issuing_country, st))
        return false;
    snprintf(f, sizeof f, "%s.issuer", p);
    if (!validate_text(f, r->issuer, 200, false, st))
        return false;
    snprintf(f, sizeof f, "%s.basis", p);
    if (!validate_enum(f, &supplysec__v1__recognition_basis__descriptor, r->basis, true, st))
        return false;
    snprintf(f, sizeof f, "%s.arrangement", p);
    return validate_text(f, r->arrangement, 200, r->basis == BASIS(MUTUAL_RECOGNITION), st);
}

/* Kept by a customs authority. */
static bool derive(const op_ctx *op, const resource_key *key, ProtobufCMessage *res,
                   const ProtobufCMessage *prev, status *st)
{
    (void)res;
    if (prev)
        return true;
    Supplysec__V1__OrganizationKind kind;
    if (!organization_kind_of(op, key->org, &kind, st))
        return false;
    return kind == SUPPLYSEC__V1__ORGANIZATION_KIND__ORGANIZATION_KIND_CUSTOMS_AUTHORITY ||
           status_fail(st, STATUS_FAILED_PRECONDITION,
                       "recognitions are kept by customs authorities, and %s is not one",
                       key->parent);
}

typedef struct load_ctx {
    recognition_set *set;
} load_ctx;

static bool take(ProtobufCMessage **msg, const store_record *rec, void *ctx, status *st)
{
    (void)rec;
    recognition_set *s = ((load_ctx *)ctx)->set;
    const Recognition *r = (const Recognition *)*msg;
    if (s->n >= RECOGNITIONS_MAX)
        return status_fail(st, STATUS_FAILED_PRECONDITION,
                           "%s has more than %d recognitions, the most judged at once",
                           s->authority, RECOGNITIONS_MAX);
    recognized *it = &s->items[s->n++];
    it->type = r->certificate_type;
    snprintf(it->country, sizeof it->country, "%s", r->issuing_country);
    if (r->basis == BASIS(MUTUAL_RECOGNITION))
        snprintf(it->label, sizeof it->label, "recognized by %s through %s", s->authority,
                 r->arrangement);
    else
        snprintf(it->label, sizeof it->label, "recognized by %s", s->authority);
    return true;
}

bool recognition_set_load(const op_ctx *op, const char *field, const char *name,
                          recognition_set *out, status *st)
{
    resource_key ak;
    Supplysec__V1__OrganizationKind kind = 0;
    status missing = {0};
    memset(out, 0, sizeof *out);
    if (!kind_parse_name(&organization_kind, field, name, &ak, st))
        return false;
    if (!organization_kind_of(op, ak.org, &kind, &missing) && missing.code != STATUS_NOT_FOUND) {
        *st = missing;
        return false;
    }
    if (kind != SUPPLYSEC__V1__ORGANIZATION_KIND__ORGANIZATION_KIND_CUSTOMS_AUTHORITY)
        return status_fail(st, STATUS_INVALID_ARGUMENT,
                           "%s: %s is not a customs authority on the platform", field, name);
    snprintf(out->authority, sizeof out->authority, "%s", ak.name);
    if (!(out->items = calloc(RECOGNITIONS_MAX, sizeof *out->items)))
        return status_fail(st, STATUS_RESOURCE_EXHAUSTED, "out of memory");
    store_query q = {.collection = recognition_kind.collection, .org = ak.org, .parent = ak.name};
    load_ctx ctx = {out};
    if (!resource_each(op, recognition_kind.desc, &q, "recognitions", take, &ctx, st)) {
        recognition_set_free(out);
        return false;
    }
    return true;
}

void recognition_set_free(recognition_set *s)
{
    free(s->items);
    s->items = NULL;
    s->n = 0;
}

const recognized *recognition_set_covers(const recognition_set *s,
                                         const Supplysec__V1__PartnerCertificate *c)
{
    for (size_t i = 0; i < s->n; i++)
        if (s->items[i].type == c->type && strcmp(s->items[i].country, c->issuing_country) == 0)
            return &s->items[i];
    return NULL;
}

static const facet_def facets[] = {
    {.name = "certificate_type",
     .type = FACET_ENUM,
     .enum_type = &supplysec__v1__partner_certificate_type__descriptor},
    {.name = "issuing_country", .type = FACET_STRING},
    {.name = "basis",
     .type = FACET_ENUM,
     .enum_type = &supplysec__v1__recognition_basis__descriptor},
};

const kind recognition_kind = {
    .type = "Recognition",
    .field = "recognition",
    .plural = "recognitions",
    .collection = "recognitions",
    .parent = &organization_kind,
    .desc = &supplysec__v1__recognition__descriptor,
    .min_role = KIND_ROLES_ADMIN_KEPT,
    .facets = facets,
    .n_facets = sizeof facets / sizeof facets[0],
    .hooks = {.validate = validate, .derive = derive, .authorize = access_published},
};
