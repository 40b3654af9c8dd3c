/* organization.c — validation of Organization resources. */
#include "organization.h"

#include <stdio.h>
#include <string.h>

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

static bool check_update(const op_ctx *op, const resource_key *key, const ProtobufCMessage *prev,
                         const ProtobufCMessage *next, status *st)
{
    (void)key;
    if (((const Supplysec__V1__Organization *)next)->kind !=
            ((const Supplysec__V1__Organization *)prev)->kind &&
        !auth_is_platform_admin(op->who))
        return status_fail(
            st, STATUS_PERMISSION_DENIED,
            "organization.kind: only platform administrators change an organization's kind");
    return true;
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

/* Every key of the organization goes with it, in the delete's batch: all
 * of it or nothing, so nothing of it survives into a later organization
 * with the same id. A change to the organization since it was read is
 * ABORTED; a key created meanwhile is deleted with it, or fails its guard
 * on the organization (keyring.c). The guard in front claims the
 * organization before the keys are deleted: on MongoDB it is the batch's
 * first write, so keys being created under the organization conflict with
 * the delete from then on, instead of the delete conflicting with each of
 * them until its deadline. */
static bool before_delete(const op_ctx *op, const resource_key *key, const ProtobufCMessage *cur,
                          int64_t version, resource_batch *b, status *st)
{
    (void)cur;
    if (!no_active_keys(op, key, st))
        return false;
    resource_batch_guard(b, ORGANIZATIONS_COLLECTION, key->org, key->name, version);
    resource_batch_delete_all(b, APIKEYS_COLLECTION, key->org, key->name, key->name);
    return true;
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
            .validate = validate_hook,
            .check_update = check_update,
            .before_delete = before_delete,
        },
};
