/* organization.c — the rules of an organization, the tenant: what it
 * holds (every field's limits), that its kind is a platform
 * administrator's to change, and that deleting it deletes all of it, in
 * one write, while its id stays taken for good, so no later organization
 * ever reads what was its, nor anything addressed to it. */
#include "organization.h"

#include "access.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "attestation.h"
#include "clock.h"
#include "keyring.h"
#include "kinds.h"
#include "utf8.h"
#include "validate.h"

static bool enum_known(const ProtobufCEnumDescriptor *desc, int value)
{
    return value != 0 && protobuf_c_enum_descriptor_get_value(desc, value) != NULL;
}

/* EORI: an ISO country code and up to 15 letters or digits. */
static bool validate_eori(const char *field, const char *eori, status *st)
{
    size_t n = strlen(eori);
    if (n == 0)
        return true;
    char cc[3] = {eori[0], n > 1 ? eori[1] : '\0', '\0'};
    bool ok = n >= 3 && n <= 17 && validate_country_code(field, cc, st);
    for (size_t i = 2; ok && i < n; i++)
        ok = (eori[i] >= 'A' && eori[i] <= 'Z') || (eori[i] >= '0' && eori[i] <= '9');
    return ok ? true
              : status_fail(st, STATUS_INVALID_ARGUMENT,
                            "%s: \"%.*s\" is not an EORI number (a country code and up to 15 "
                            "upper-case letters or digits, e.g. \"DE1234567890123\")",
                            field, UTF8_CLIP(eori, 20));
}

static bool validate_identifiers(const Supplysec__V1__Identifiers *id, const char *p, status *st)
{
    char f[128];
    if (!id)
        return true;
    snprintf(f, sizeof f, "%s.identifiers.eori", p);
    if (!validate_eori(f, id->eori, st))
        return false;
    snprintf(f, sizeof f, "%s.identifiers.aeo_authorisation_number", p);
    if (!validate_text(f, id->aeo_authorisation_number, 64, false, st))
        return false;
    if (id->aeo_type != 0 && !enum_known(&supplysec__v1__aeo_type__descriptor, id->aeo_type))
        return status_fail(st, STATUS_INVALID_ARGUMENT, "%s.identifiers.aeo_type: unknown value %d",
                           p, id->aeo_type);
    snprintf(f, sizeof f, "%s.identifiers.ctpat_account", p);
    return validate_text(f, id->ctpat_account, 64, false, st);
}

static bool validate_certificate(const Supplysec__V1__Certificate *c, const char *p, size_t i,
                                 status *st)
{
    char f[128];
    if (!enum_known(&supplysec__v1__certificate_type__descriptor, c->type))
        return status_fail(st, STATUS_INVALID_ARGUMENT,
                           "%s.certificates[%zu].type: required (e.g. CERTIFICATE_TYPE_AEO)", p, i);
    snprintf(f, sizeof f, "%s.certificates[%zu].issuer", p, i);
    if (!validate_text(f, c->issuer, 200, false, st))
        return false;
    snprintf(f, sizeof f, "%s.certificates[%zu].number", p, i);
    if (!validate_text(f, c->number, 100, true, st))
        return false;
    if (c->valid_from && c->valid_until &&
        (c->valid_until->seconds < c->valid_from->seconds ||
         (c->valid_until->seconds == c->valid_from->seconds &&
          c->valid_until->nanos < c->valid_from->nanos)))
        return status_fail(st, STATUS_INVALID_ARGUMENT,
                           "%s.certificates[%zu].valid_until: before valid_from", p, i);
    return true;
}

/* The certificates' times within what a Timestamp holds. */
static bool validate_times(const Supplysec__V1__Organization *org, const char *p, status *st)
{
    char f[128];
    for (size_t i = 0; i < org->n_certificates; i++) {
        const Supplysec__V1__Certificate *c = org->certificates[i];
        snprintf(f, sizeof f, "%s.certificates[%zu].valid_from", p, i);
        if (c->valid_from &&
            !validate_timestamp(f, c->valid_from->seconds, c->valid_from->nanos, st))
            return false;
        snprintf(f, sizeof f, "%s.certificates[%zu].valid_until", p, i);
        if (c->valid_until &&
            !validate_timestamp(f, c->valid_until->seconds, c->valid_until->nanos, st))
            return false;
    }
    return true;
}

bool organization_validate(const Supplysec__V1__Organization *org, const char *p, status *st)
{
    char f[128];
    if (!validate_times(org, p, st))
        return false;
    snprintf(f, sizeof f, "%s.legal_name", p);
    if (!validate_text(f, org->legal_name, 200, true, st))
        return false;
    snprintf(f, sizeof f, "%s.country_code", p);
    if (!validate_country_code(f, org->country_code, st))
        return false;
    if (!enum_known(&supplysec__v1__organization_kind__descriptor, org->kind))
        return status_fail(st, STATUS_INVALID_ARGUMENT,
                           "%s.kind: required, ORGANIZATION_KIND_OPERATOR or "
                           "ORGANIZATION_KIND_CUSTOMS_AUTHORITY",
                           p);
    if (!validate_identifiers(org->identifiers, p, st))
        return false;
    for (size_t i = 0; i < org->n_supply_chain_roles; i++) {
        if (!enum_known(&supplysec__v1__supply_chain_role__descriptor, org->supply_chain_roles[i]))
            return status_fail(st, STATUS_INVALID_ARGUMENT,
                               "%s.supply_chain_roles[%zu]: unknown or unspecified role", p, i);
        for (size_t j = 0; j < i; j++)
            if (org->supply_chain_roles[j] == org->supply_chain_roles[i])
                return status_fail(st, STATUS_INVALID_ARGUMENT,
                                   "%s.supply_chain_roles[%zu]: listed twice", p, i);
    }
    const Supplysec__V1__PartnerReviewMonths *rm = org->partner_review_months;
    const int32_t months[] = {rm ? rm->high : 0, rm ? rm->medium : 0, rm ? rm->low : 0};
    const char *tiers[] = {"high", "medium", "low"};
    for (size_t i = 0; i < 3; i++)
        if (months[i] < 0 || months[i] > 120)
            return status_fail(st, STATUS_INVALID_ARGUMENT,
                               "%s.partner_review_months.%s: %d months; 0 (the default) to 120", p,
                               tiers[i], months[i]);
    if (org->n_certificates > 100)
        return status_fail(st, STATUS_INVALID_ARGUMENT, "%s.certificates: at most 100", p);
    for (size_t i = 0; i < org->n_certificates; i++)
        if (!validate_certificate(org->certificates[i], p, i, st))
            return false;
    return true;
}

/* ---- the kind ---- */

static bool validate_hook(const ProtobufCMessage *res, const char *prefix, status *st)
{
    return organization_validate((const Supplysec__V1__Organization *)res, prefix, st);
}

/* FAILED_PRECONDITION while the organization has active VALIDATOR keys
 * (a customs authority's; an operator has none). */
static bool no_active_validators(const op_ctx *op, const resource_key *key, status *st)
{
    filter *flt = NULL;
    store_page *page = NULL;
    if (!filter_parse("role", "role = ROLE_VALIDATOR", api_key_kind.facets, api_key_kind.n_facets,
                      &flt, st))
        return false;
    store_query q = {.collection = APIKEYS_COLLECTION,
                     .org = key->org,
                     .parent = key->name,
                     .state = "STATE_ACTIVE",
                     .limit = 1,
                     .filter = flt,
                     .facets = api_key_kind.facets,
                     .n_facets = api_key_kind.n_facets};
    bool ok = status_from_store(st, store_list(op->store, &q, &page), "API keys");
    size_t active = ok ? page->count : 0;
    store_page_free(page);
    filter_free(flt);
    if (ok && active)
        return status_fail(st, STATUS_FAILED_PRECONDITION,
                           "organization.kind: %s has active ROLE_VALIDATOR keys, which only a "
                           "customs authority holds; revoke them first",
                           key->name);
    return ok;
}

static bool check_update(const op_ctx *op, const resource_key *key, const ProtobufCMessage *prev,
                         const ProtobufCMessage *next, status *st)
{
    const Supplysec__V1__Organization *was = (const void *)prev, *now = (const void *)next;
    if (now->kind == was->kind)
        return true;
    if (!auth_is_platform_admin(op->who))
        return status_fail(
            st, STATUS_PERMISSION_DENIED,
            "organization.kind: only platform administrators change an organization's kind");
    return was->kind != SUPPLYSEC__V1__ORGANIZATION_KIND__ORGANIZATION_KIND_CUSTOMS_AUTHORITY ||
           no_active_validators(op, key, st);
}

/* FAILED_PRECONDITION while the organization has active keys. */
static bool no_active_keys(const op_ctx *op, const resource_key *key, status *st)
{
    store_page *page = NULL;
    store_query q = {.collection = APIKEYS_COLLECTION,
                     .org = key->org,
                     .parent = key->name,
                     .state = "STATE_ACTIVE",
                     .limit = 1};
    if (!status_from_store(st, store_list(op->store, &q, &page), "API keys"))
        return false;
    size_t active = page->count;
    store_page_free(page);
    if (active)
        return status_fail(st, STATUS_FAILED_PRECONDITION,
                           "%s still has active API keys; revoke them first", key->name);
    return true;
}

/* The ids organizations ever had: one record each, written with the
 * organization and never deleted, so a create under a used id fails (in
 * the same write) and nothing stored for or about the old organization, in
 * its collections or in others' (a request addressed to it), reaches a new
 * one. */
#define ORGANIZATION_IDS_COLLECTION "organizationIds"

/* `organizationIds/{id}`: the record's name, in the audit log too. */
static void id_record_name(const resource_key *key, char name[KIND_NAME_MAX])
{
    snprintf(name, KIND_NAME_MAX, "%s/%s", ORGANIZATION_IDS_COLLECTION, key->org);
}

/* The record of key's id, to add to b (its message kept by b). */
static bool id_record(const resource_key *key, const char *legal_name, resource_batch *b,
                      status *st)
{
    Supplysec__V1__Organization *rec = malloc(sizeof *rec);
    if (!rec)
        return status_fail(st, STATUS_RESOURCE_EXHAUSTED, "out of memory");
    supplysec__v1__organization__init(rec);
    if (!resource_batch_keep(b, &rec->base) ||
        !message_set_string(&rec->base, "legal_name", legal_name))
        return status_fail(st, STATUS_RESOURCE_EXHAUSTED, "out of memory");
    char *name = malloc(KIND_NAME_MAX); /* the batch borrows it */
    if (!name || !resource_batch_keep_mem(b, name))
        return status_fail(st, STATUS_RESOURCE_EXHAUSTED, "out of memory");
    id_record_name(key, name);
    resource_ref ref = {
        .collection = ORGANIZATION_IDS_COLLECTION, .org = key->org, .parent = "", .name = name};
    return resource_batch_create(b, &ref, &rec->base, &rec->base, st);
}

/* Whether key's id was ever used (its record exists). */
static bool id_used(const op_ctx *op, const resource_key *key, bool *used, status *st)
{
    status lst = {0};
    char name[KIND_NAME_MAX];
    id_record_name(key, name);
    ProtobufCMessage *rec =
        resource_load(op, &supplysec__v1__organization__descriptor, ORGANIZATION_IDS_COLLECTION,
                      key->org, name, name, NULL, &lst);
    *used = rec != NULL;
    if (rec)
        protobuf_c_message_free_unpacked(rec, NULL);
    return rec || lst.code == STATUS_NOT_FOUND || (*st = lst, false);
}

/* A new organization takes its id for good. */
static bool with_create(const op_ctx *op, const resource_key *key, ProtobufCMessage *res,
                        resource_batch *b, status *st)
{
    bool used;
    if (!id_used(op, key, &used, st))
        return false;
    if (used)
        return status_fail(st, STATUS_ALREADY_EXISTS,
                           "%s: the id belonged to an organization deleted since, and an "
                           "organization's id is never used again: choose another",
                           key->name);
    return id_record(key, ((Supplysec__V1__Organization *)res)->legal_name, b, st);
}

/* All of the organization goes with it, in the delete's batch: all of it
 * or nothing. A change to the organization since it was read is ABORTED; a
 * key created meanwhile is deleted with it, or fails its guard on the
 * organization (keyring.c). The guard in front claims the organization
 * before the rest is deleted: on MongoDB it is the batch's first write, so
 * keys being created under the organization conflict with the delete from
 * then on, instead of the delete conflicting with each of them until its
 * deadline. Its id stays taken (an organization created before ids were
 * recorded gets its record now). */
static bool before_delete(const op_ctx *op, const resource_key *key, const ProtobufCMessage *cur,
                          int64_t version, resource_batch *b, status *st)
{
    bool used;
    if (!no_active_keys(op, key, st) || !id_used(op, key, &used, st))
        return false;
    resource_batch_guard(b, ORGANIZATIONS_COLLECTION, key->org, key->name, version);
    resource_batch_delete_all(b, APIKEYS_COLLECTION, key->org, key->name, key->name);
    for (size_t i = 0; i < kinds_n; i++) {
        const kind *k = kinds_all[i];
        if (k == &organization_kind || strcmp(k->collection, APIKEYS_COLLECTION) == 0)
            continue;
        resource_batch_delete_all(b, k->collection, key->org, NULL, k->plural);
        if (k->revisions_collection)
            resource_batch_delete_all(b, k->revisions_collection, key->org, NULL, k->plural);
    }
    return used || id_record(key, ((const Supplysec__V1__Organization *)cur)->legal_name, b, st);
}

bool organization_kind_of(const op_ctx *op, const char *org_id,
                          Supplysec__V1__OrganizationKind *kind, status *st)
{
    char name[RESOURCE_ID_MAX + 32];
    snprintf(name, sizeof name, "organizations/%s", org_id);
    Supplysec__V1__Organization *o = (Supplysec__V1__Organization *)resource_load(
        op, organization_kind.desc, organization_kind.collection, org_id, name, name, NULL, st);
    if (!o)
        return false;
    *kind = o->kind;
    protobuf_c_message_free_unpacked(&o->base, NULL);
    return true;
}

static void attested_clear(Supplysec__V1__Organization *o)
{
    for (size_t i = 0; i < o->n_attested_certificates; i++)
        protobuf_c_message_free_unpacked(&o->attested_certificates[i]->base, NULL);
    free(o->attested_certificates);
    o->attested_certificates = NULL;
    o->n_attested_certificates = 0;
}

/* The attested certificates are the authorities' records, never stored
 * here (a repeated field: not in the output-only list). */
static bool derive(const op_ctx *op, const resource_key *key, ProtobufCMessage *res,
                   const ProtobufCMessage *prev, status *st)
{
    (void)op;
    (void)key;
    (void)prev;
    (void)st;
    attested_clear((Supplysec__V1__Organization *)res);
    return true;
}

/* As of each read: the certificates authorities attest it holds. */
static bool present(const op_ctx *op, const resource_key *key, ProtobufCMessage *res, status *st)
{
    Supplysec__V1__Organization *o = (Supplysec__V1__Organization *)res;
    attested_clear(o);
    return attestation_certificates(op, key->name, clock_realtime_ms() / 1000,
                                    &o->attested_certificates, &o->n_attested_certificates, st);
}

/* What ListOrganizations filters on (docs/api.md). */
static const facet_def facets[] = {
    {.name = "kind",
     .type = FACET_ENUM,
     .enum_type = &supplysec__v1__organization_kind__descriptor},
    {.name = "country_code", .type = FACET_STRING},
    {.name = "legal_name", .type = FACET_STRING},
    {.name = "supply_chain_roles",
     .type = FACET_ENUM,
     .repeated = true,
     .enum_type = &supplysec__v1__supply_chain_role__descriptor},
    {.name = "create_time", .type = FACET_TIMESTAMP},
    {.name = "update_time", .type = FACET_TIMESTAMP},
};

const kind organization_kind = {
    .type = "Organization",
    .field = "organization",
    .plural = "organizations",
    .collection = ORGANIZATIONS_COLLECTION,
    .desc = &supplysec__v1__organization__descriptor,
    .min_role =
        {
            [KIND_GET] = SUPPLYSEC__V1__ROLE__ROLE_VIEWER,
            [KIND_LIST] = SUPPLYSEC__V1__ROLE__ROLE_VIEWER,
            [KIND_CREATE] = SUPPLYSEC__V1__ROLE__ROLE_PLATFORM_ADMIN,
            [KIND_UPDATE] = SUPPLYSEC__V1__ROLE__ROLE_ADMIN,
            [KIND_DELETE] = SUPPLYSEC__V1__ROLE__ROLE_PLATFORM_ADMIN,
        },
    .facets = facets,
    .n_facets = sizeof facets / sizeof facets[0],
    .hooks =
        {
            .authorize = access_validators,
            .validate = validate_hook,
            .derive = derive,
            .present = present,
            .check_update = check_update,
            .with_create = with_create,
            .before_delete = before_delete,
        },
};
