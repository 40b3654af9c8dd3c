/* statement_of_application.c — the rules of a statement of application
 * (ISO 28001 4.1): what a draft may hold (every field's limits and
 * formats, the facilities' UN/LOCODEs, partners of the organization's own
 * only), and what an approved revision must (the functions, where they are
 * performed, the covered portion of the chain, partners that exist and,
 * where it names the basis of an exemption, are exempt). */
#include "statement_of_application.h"

#include "access.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "business_partner.h"
#include "clock.h"
#include "organization.h"
#include "validate.h"

typedef Supplysec__V1__StatementOfApplication Statement;

#define MAX_FACILITIES 200
#define MAX_PARTNERS 1000
#define PARTNERS_SEGMENT "businessPartners"

bool un_locode_valid(const char *code)
{
    if (strlen(code) != 5)
        return false;
    for (int i = 0; i < 5; i++) {
        char c = code[i];
        bool letter = c >= 'A' && c <= 'Z', digit = c >= '2' && c <= '9';
        if (!(letter || (i >= 2 && digit)))
            return false;
    }
    return true;
}

/* The values of a repeated enum field: each known, none twice. */
static bool enums_valid(const char *field, const ProtobufCEnumDescriptor *desc, const int *values,
                        size_t n, status *st)
{
    char f[160];
    for (size_t i = 0; i < n; i++) {
        snprintf(f, sizeof f, "%s[%zu]", field, i);
        if (!validate_enum(f, desc, values[i], true, st))
            return false;
        for (size_t j = 0; j < i; j++)
            if (values[j] == values[i])
                return status_fail(st, STATUS_INVALID_ARGUMENT, "%s: listed twice", f);
    }
    return true;
}

static bool facility_valid(const Statement *s, size_t i, const char *p, status *st)
{
    const Supplysec__V1__Facility *fa = s->facilities[i];
    char f[160];
    snprintf(f, sizeof f, "%s.facilities[%zu].name", p, i);
    if (!validate_text(f, fa->name, 200, true, st))
        return false;
    snprintf(f, sizeof f, "%s.facilities[%zu].address", p, i);
    if (!validate_text(f, fa->address, 500, false, st))
        return false;
    snprintf(f, sizeof f, "%s.facilities[%zu].security_arrangements", p, i);
    if (!validate_text(f, fa->security_arrangements, 2000, false, st))
        return false;
    snprintf(f, sizeof f, "%s.facilities[%zu].country_code", p, i);
    if (!validate_country_code(f, fa->country_code, st))
        return false;
    snprintf(f, sizeof f, "%s.facilities[%zu].un_locode", p, i);
    if (fa->un_locode[0] && !un_locode_valid(fa->un_locode))
        return status_fail(st, STATUS_INVALID_ARGUMENT,
                           "%s: \"%.8s\" is not a UN/LOCODE (two letters of the country and three "
                           "letters or digits 2-9, e.g. \"DEHAM\")",
                           f, fa->un_locode);
    if (fa->un_locode[0] && strncmp(fa->un_locode, fa->country_code, 2) != 0)
        return status_fail(st, STATUS_INVALID_ARGUMENT,
                           "%s: %s lies in %.2s, but country_code is %s", f, fa->un_locode,
                           fa->un_locode, fa->country_code);
    snprintf(f, sizeof f, "%s.facilities[%zu].id", p, i);
    if (fa->id[0] && !validate_resource_id(f, fa->id, st))
        return false;
    for (size_t j = 0; fa->id[0] && j < i; j++)
        if (strcmp(s->facilities[j]->id, fa->id) == 0)
            return status_fail(st, STATUS_INVALID_ARGUMENT, "%s: \"%s\" is facilities[%zu]'s too",
                               f, fa->id, j);
    snprintf(f, sizeof f, "%s.facilities[%zu].functions", p, i);
    if (!enums_valid(f, &supplysec__v1__supply_chain_role__descriptor, (const int *)fa->functions,
                     fa->n_functions, st))
        return false;
    for (size_t j = 0; j < fa->n_functions; j++) {
        bool listed = false;
        for (size_t k = 0; k < s->n_functions && !listed; k++)
            listed = s->functions[k] == fa->functions[j];
        if (!listed)
            return status_fail(st, STATUS_INVALID_ARGUMENT,
                               "%s[%zu]: %s is not among the statement's functions", f, j,
                               protobuf_c_enum_descriptor_get_value(
                                   &supplysec__v1__supply_chain_role__descriptor, fa->functions[j])
                                   ->name);
    }
    return true;
}

static bool portion_valid(const Supplysec__V1__SupplyChainPortion *cp, const char *p, status *st)
{
    char f[160];
    if (!cp)
        return true;
    snprintf(f, sizeof f, "%s.covered_portion.from", p);
    if (!validate_text(f, cp->from, 500, false, st))
        return false;
    snprintf(f, sizeof f, "%s.covered_portion.to", p);
    if (!validate_text(f, cp->to, 500, false, st))
        return false;
    snprintf(f, sizeof f, "%s.covered_portion.goods", p);
    if (!validate_text(f, cp->goods, 2000, false, st))
        return false;
    snprintf(f, sizeof f, "%s.covered_portion.transport_modes", p);
    return enums_valid(f, &supplysec__v1__transport_mode__descriptor,
                       (const int *)cp->transport_modes, cp->n_transport_modes, st);
}

static bool validate(const ProtobufCMessage *res, const char *p, status *st)
{
    const Statement *s = (const Statement *)res;
    char f[160];
    snprintf(f, sizeof f, "%s.title", p);
    if (!validate_text(f, s->title, 200, true, st))
        return false;
    snprintf(f, sizeof f, "%s.functions", p);
    if (!enums_valid(f, &supplysec__v1__supply_chain_role__descriptor, (const int *)s->functions,
                     s->n_functions, st))
        return false;
    if (s->n_facilities > MAX_FACILITIES)
        return status_fail(st, STATUS_INVALID_ARGUMENT, "%s.facilities: at most %d", p,
                           MAX_FACILITIES);
    for (size_t i = 0; i < s->n_facilities; i++)
        if (!facility_valid(s, i, p, st))
            return false;
    if (!portion_valid(s->covered_portion, p, st))
        return false;
    if (s->n_business_partners > MAX_PARTNERS)
        return status_fail(st, STATUS_INVALID_ARGUMENT, "%s.business_partners: at most %d", p,
                           MAX_PARTNERS);
    for (size_t i = 0; i < s->n_business_partners; i++) {
        const Supplysec__V1__CoveredPartner *cp = s->business_partners[i];
        snprintf(f, sizeof f, "%s.business_partners[%zu].exemption_basis", p, i);
        if (!validate_text(f, cp->exemption_basis, 500, false, st))
            return false;
        snprintf(f, sizeof f, "%s.business_partners[%zu].business_partner", p, i);
        if (!validate_text(f, cp->business_partner, KIND_NAME_MAX, true, st))
            return false;
        for (size_t j = 0; j < i; j++)
            if (strcmp(s->business_partners[j]->business_partner, cp->business_partner) == 0)
                return status_fail(st, STATUS_INVALID_ARGUMENT, "%s: %s listed twice", f,
                                   cp->business_partner);
    }
    return true;
}

/* Each covered partner is one of the organization's own business partners
 * (by name: `organizations/{org}/businessPartners/{id}`). Nothing is
 * derived; the check needs the statement's organization, which only this
 * hook is given. */
static bool derive(const op_ctx *op, const resource_key *key, ProtobufCMessage *res,
                   const ProtobufCMessage *prev, status *st)
{
    (void)op;
    (void)prev;
    const Statement *s = (const Statement *)res;
    char prefix[KIND_NAME_MAX];
    int n = snprintf(prefix, sizeof prefix, "organizations/%s/" PARTNERS_SEGMENT "/", key->org);
    for (size_t i = 0; i < s->n_business_partners; i++) {
        const char *name = s->business_partners[i]->business_partner;
        char f[96];
        snprintf(f, sizeof f, "%s.business_partners[%zu].business_partner", key->kind->field, i);
        if (strncmp(name, prefix, (size_t)n) != 0)
            return status_fail(st, STATUS_INVALID_ARGUMENT,
                               "%s: must name one of this organization's business partners, "
                               "%s{id}",
                               f, prefix);
        if (!validate_resource_id(f, name + n, st))
            return false;
    }
    return true;
}

/* A covered partner of an approved statement exists, and is exempt now
 * when the statement names the basis of its exemption. */
static bool partner_approvable(const op_ctx *op, const resource_key *key,
                               const Supplysec__V1__CoveredPartner *cp, size_t i, status *st)
{
    status lst = {0};
    Supplysec__V1__BusinessPartner *bp = (Supplysec__V1__BusinessPartner *)resource_load(
        op, business_partner_kind.desc, business_partner_kind.collection, key->org,
        cp->business_partner, cp->business_partner, NULL, &lst);
    if (!bp)
        return lst.code == STATUS_NOT_FOUND
                   ? status_fail(st, STATUS_FAILED_PRECONDITION,
                                 "%s cannot be approved: business_partners[%zu] names %s, which "
                                 "does not exist",
                                 key->name, i, cp->business_partner)
                   : (*st = lst, false);
    char basis[PARTNER_BASIS_MAX];
    if (!partner_present(op, bp, st)) { /* its certificates as they are now */
        protobuf_c_message_free_unpacked(&bp->base, NULL);
        return false;
    }
    bool exempt = partner_exemption(bp, clock_realtime_ms() / 1000, basis, sizeof basis);
    protobuf_c_message_free_unpacked(&bp->base, NULL);
    if (cp->exemption_basis[0] && !exempt)
        return status_fail(st, STATUS_FAILED_PRECONDITION,
                           "%s cannot be approved: business_partners[%zu] claims an exemption for "
                           "%s, which holds no valid, verified, internationally accepted "
                           "certificate now; record its certificate or clear exemption_basis",
                           key->name, i, cp->business_partner);
    return true;
}

/* What an approved statement must say: the functions, where they are
 * performed, and the portion of the chain they cover. */
static bool before_approve(const op_ctx *op, const resource_key *key, const ProtobufCMessage *res,
                           status *st)
{
    const Statement *s = (const Statement *)res;
    const Supplysec__V1__SupplyChainPortion *cp = s->covered_portion;
    const char *missing = !s->n_functions          ? "functions"
                          : !s->n_facilities       ? "facilities"
                          : !cp                    ? "covered_portion"
                          : !cp->from[0]           ? "covered_portion.from"
                          : !cp->to[0]             ? "covered_portion.to"
                          : !cp->n_transport_modes ? "covered_portion.transport_modes"
                                                   : NULL;
    if (missing)
        return status_fail(st, STATUS_FAILED_PRECONDITION,
                           "%s cannot be approved without %s: set it in a draft", key->name,
                           missing);
    for (size_t i = 0; i < s->n_business_partners; i++)
        if (!partner_approvable(op, key, s->business_partners[i], i, st))
            return false;
    return true;
}

/* The latest revision is in force when APPROVED; a later one exists only
 * once the one before it was approved (CreateRevision starts from an
 * APPROVED one), so a DRAFT or IN_REVIEW revision n > 1 leaves n - 1 in
 * force. */
bool statement_facility_name(const char *field, const char *org, const char *name,
                             char statement[KIND_NAME_MAX], const char **facility_id, status *st)
{
    const char *fac = strstr(name, STATEMENT_FACILITIES_SEGMENT);
    resource_key sk;
    if (!fac || (size_t)(fac - name) >= KIND_NAME_MAX)
        return status_fail(st, STATUS_INVALID_ARGUMENT,
                           "%s: a facility is named "
                           "organizations/%s/statementsOfApplication/{id}/facilities/{facility_id}",
                           field, org);
    snprintf(statement, KIND_NAME_MAX, "%.*s", (int)(fac - name), name);
    if (!kind_parse_name(&statement_of_application_kind, field, statement, &sk, st))
        return false;
    if (strcmp(sk.org, org) != 0)
        return status_fail(st, STATUS_INVALID_ARGUMENT,
                           "%s: must name a facility of one of this organization's statements, "
                           "organizations/%s/statementsOfApplication/{id}/facilities/{facility_id}",
                           field, org);
    *facility_id = fac + strlen(STATEMENT_FACILITIES_SEGMENT);
    return validate_resource_id(field, *facility_id, st);
}

bool statement_facility_exists(const op_ctx *op, const char *org, const char *statement,
                               const char *facility_id, status *st)
{
    Supplysec__V1__StatementOfApplication *s =
        (Supplysec__V1__StatementOfApplication *)resource_load(
            op, statement_of_application_kind.desc, statement_of_application_kind.collection, org,
            statement, statement, NULL, st);
    if (!s)
        return false;
    bool found = false;
    for (size_t i = 0; i < s->n_facilities && !found; i++)
        found = strcmp(s->facilities[i]->id, facility_id) == 0;
    protobuf_c_message_free_unpacked(&s->base, NULL);
    return found ||
           status_fail(st, STATUS_NOT_FOUND, "%s has no facility %s", statement, facility_id);
}

/* What ListStatementsOfApplication filters on (docs/api.md). */
static const facet_def facets[] = {
    {.name = "state", .type = FACET_ENUM, .enum_type = &supplysec__v1__document_state__descriptor},
    {.name = "title", .type = FACET_STRING},
    {.name = "functions",
     .type = FACET_ENUM,
     .enum_type = &supplysec__v1__supply_chain_role__descriptor,
     .repeated = true},
    {.name = "create_time", .type = FACET_TIMESTAMP},
    {.name = "update_time", .type = FACET_TIMESTAMP},
};

const kind statement_of_application_kind = {
    .type = "StatementOfApplication",
    .field = "statement_of_application",
    .plural = "statementsOfApplication",
    .collection = "statementsOfApplication",
    .parent = &organization_kind,
    .desc = &supplysec__v1__statement_of_application__descriptor,
    .min_role = KIND_ROLES_DOCUMENT,
    .facets = facets,
    .n_facets = sizeof facets / sizeof facets[0],
    .lifecycle = KIND_CONTROLLED,
    .revisions_collection = "statementOfApplicationRevisions",
    .hooks = {.authorize = access_shared_or_validators,
              .validate = validate,
              .derive = derive,
              .before_approve = before_approve},
};
