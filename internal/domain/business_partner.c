/* business_partner.c — the rules of a business partner (ISO 28001 4.2-4.5):
 * what a client may write (every field's limits and formats), and what the
 * server derives and never takes from a client: the certificates of a
 * partner that is an organization on the platform (read from its record),
 * whether the partner must give a declaration of security and on what
 * basis it is exempt (as of each read: an expiring certificate ends the
 * exemption by itself), and when the credibility of its declaration is
 * next reviewed (from the last review, the risk tier and the
 * organization's intervals). */
#include "business_partner.h"

#include "access.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "attestation.h"
#include "clock.h"
#include "organization.h"
#include "validate.h"

typedef Supplysec__V1__BusinessPartner Partner;
typedef Supplysec__V1__PartnerCertificate Cert;
typedef Google__Protobuf__Timestamp Timestamp;

#define MAX_CERTIFICATES 20
#define ORG_PREFIX "organizations/"

/* ---- exemption and review schedule ---- */

static const char *cert_label(Supplysec__V1__PartnerCertificateType t)
{
    switch (t) {
    case SUPPLYSEC__V1__PARTNER_CERTIFICATE_TYPE__PARTNER_CERTIFICATE_TYPE_AEO_S:
        return "AEO-S";
    case SUPPLYSEC__V1__PARTNER_CERTIFICATE_TYPE__PARTNER_CERTIFICATE_TYPE_AEO_F:
        return "AEO-F";
    case SUPPLYSEC__V1__PARTNER_CERTIFICATE_TYPE__PARTNER_CERTIFICATE_TYPE_AEO_C:
        return "AEO-C";
    case SUPPLYSEC__V1__PARTNER_CERTIFICATE_TYPE__PARTNER_CERTIFICATE_TYPE_CTPAT:
        return "C-TPAT";
    case SUPPLYSEC__V1__PARTNER_CERTIFICATE_TYPE__PARTNER_CERTIFICATE_TYPE_ISO_28000:
        return "ISO 28000";
    case SUPPLYSEC__V1__PARTNER_CERTIFICATE_TYPE__PARTNER_CERTIFICATE_TYPE_ISO_28001:
        return "ISO 28001";
    case SUPPLYSEC__V1__PARTNER_CERTIFICATE_TYPE__PARTNER_CERTIFICATE_TYPE_ISO_20858:
        return "ISO 20858";
    default:
        return "other";
    }
}

/* The internationally accepted certificates and approvals of ISO 28001 4.3:
 * AEO under a WCO-SAFE-conformant programme with its security part
 * (AEO-S, AEO-F; C-TPAT is one), verification to ISO 28001 or ISO 20858. */
static bool accepted_internationally(Supplysec__V1__PartnerCertificateType t)
{
    return t == SUPPLYSEC__V1__PARTNER_CERTIFICATE_TYPE__PARTNER_CERTIFICATE_TYPE_AEO_S ||
           t == SUPPLYSEC__V1__PARTNER_CERTIFICATE_TYPE__PARTNER_CERTIFICATE_TYPE_AEO_F ||
           t == SUPPLYSEC__V1__PARTNER_CERTIFICATE_TYPE__PARTNER_CERTIFICATE_TYPE_CTPAT ||
           t == SUPPLYSEC__V1__PARTNER_CERTIFICATE_TYPE__PARTNER_CERTIFICATE_TYPE_ISO_28001 ||
           t == SUPPLYSEC__V1__PARTNER_CERTIFICATE_TYPE__PARTNER_CERTIFICATE_TYPE_ISO_20858;
}

bool partner_certificate_exempts(const Cert *c, int64_t now_s)
{
    return accepted_internationally(c->type) && c->verified_by != 0 && c->verify_time &&
           c->valid_until && c->valid_until->seconds > now_s;
}

static const char *verification_label(Supplysec__V1__CertificateVerification v)
{
    switch (v) {
    case SUPPLYSEC__V1__CERTIFICATE_VERIFICATION__CERTIFICATE_VERIFICATION_AUTHORITY_REGISTER:
        return "authority register";
    case SUPPLYSEC__V1__CERTIFICATE_VERIFICATION__CERTIFICATE_VERIFICATION_ISSUER_CONFIRMATION:
        return "issuer confirmation";
    case SUPPLYSEC__V1__CERTIFICATE_VERIFICATION__CERTIFICATE_VERIFICATION_DOCUMENT:
        return "the certificate document";
    case SUPPLYSEC__V1__CERTIFICATE_VERIFICATION__CERTIFICATE_VERIFICATION_PLATFORM_ORGANIZATION:
        return "the partner's organization on the platform";
    case SUPPLYSEC__V1__CERTIFICATE_VERIFICATION__CERTIFICATE_VERIFICATION_AUTHORITY_ATTESTATION:
        return "the issuing authority's attestation on the platform";
    default:
        return "nothing";
    }
}

bool partner_exemption(const Partner *p, int64_t now_s, char *basis, size_t basis_size)
{
    return partner_exemption_by(p, now_s, NULL, basis, basis_size);
}

bool partner_exemption_by(const Partner *p, int64_t now_s, const recognition_set *by, char *basis,
                          size_t basis_size)
{
    const Cert *best = NULL;
    const recognized *because = NULL;
    for (size_t i = 0; i < p->n_certificates; i++) {
        const Cert *c = p->certificates[i];
        const recognized *r = by ? recognition_set_covers(by, c) : NULL;
        bool exempts = by ? r && c->verified_by != 0 && c->verify_time && c->valid_until &&
                                c->valid_until->seconds > now_s
                          : partner_certificate_exempts(c, now_s);
        if (exempts && (!best || c->valid_until->seconds > best->valid_until->seconds)) {
            best = c;
            because = r;
        }
    }
    if (!best)
        return false;
    int64_t y;
    unsigned m, d;
    calendar_civil_from_days(calendar_floor_div(best->valid_until->seconds, 86400), &y, &m, &d);
    snprintf(basis, basis_size, "%s %s%s%s%s, valid until %04lld-%02u-%02u, verified by %s%s%s",
             cert_label(best->type), best->number, best->issuing_country[0] ? " (" : "",
             best->issuing_country, best->issuing_country[0] ? ")" : "", (long long)y, m, d,
             verification_label(best->verified_by), because ? ", " : "",
             because ? because->label : "");
    return true;
}

int partner_review_months(Supplysec__V1__RiskTier tier, const int months_by_tier[4])
{
    if (months_by_tier && tier >= 0 && tier < 4 && months_by_tier[tier] > 0)
        return months_by_tier[tier];
    switch (tier) {
    case SUPPLYSEC__V1__RISK_TIER__RISK_TIER_HIGH:
        return 12;
    case SUPPLYSEC__V1__RISK_TIER__RISK_TIER_MEDIUM:
        return 24;
    default:
        return 36;
    }
}

calendar_time partner_next_review(calendar_time last, Supplysec__V1__RiskTier tier,
                                  const int months_by_tier[4])
{
    return calendar_add_months(last, partner_review_months(tier, months_by_tier));
}

/* ---- what a client writes ---- */

/* The certificates' times within what a Timestamp holds. */
static bool times_valid(const ProtobufCMessage *res, const char *p, status *st)
{
    const Partner *bp = (const Partner *)res;
    char f[128];
    for (size_t i = 0; i < bp->n_certificates; i++) {
        snprintf(f, sizeof f, "%s.certificates[%zu].valid_until", p, i);
        if (!validate_time(f, bp->certificates[i]->valid_until, false, false, st))
            return false;
        snprintf(f, sizeof f, "%s.certificates[%zu].verify_time", p, i);
        if (!validate_time(f, bp->certificates[i]->verify_time, false, false, st))
            return false;
    }
    return true;
}

static bool certificate_valid(const Cert *c, const char *p, size_t i, status *st)
{
    char f[128];
    snprintf(f, sizeof f, "%s.certificates[%zu].type", p, i);
    if (!validate_enum(f, &supplysec__v1__partner_certificate_type__descriptor, c->type, true, st))
        return false;
    snprintf(f, sizeof f, "%s.certificates[%zu].issuing_authority", p, i);
    if (!validate_text(f, c->issuing_authority, 200, false, st))
        return false;
    snprintf(f, sizeof f, "%s.certificates[%zu].issuing_country", p, i);
    if (c->issuing_country[0] && !validate_country_code(f, c->issuing_country, st))
        return false;
    snprintf(f, sizeof f, "%s.certificates[%zu].number", p, i);
    if (!validate_text(f, c->number, 100, true, st))
        return false;
    snprintf(f, sizeof f, "%s.certificates[%zu].verified_by", p, i);
    if (!validate_enum(f, &supplysec__v1__certificate_verification__descriptor, c->verified_by,
                       false, st))
        return false;
    if (c->verified_by ==
            SUPPLYSEC__V1__CERTIFICATE_VERIFICATION__CERTIFICATE_VERIFICATION_PLATFORM_ORGANIZATION ||
        c->verified_by ==
            SUPPLYSEC__V1__CERTIFICATE_VERIFICATION__CERTIFICATE_VERIFICATION_AUTHORITY_ATTESTATION)
        return status_fail(st, STATUS_INVALID_ARGUMENT,
                           "%s: set by the server only, for certificates taken from the partner's "
                           "organization (certificates_from_organization)",
                           f);
    if ((c->verified_by != 0) != (c->verify_time != NULL))
        return status_fail(st, STATUS_INVALID_ARGUMENT,
                           "%s.certificates[%zu].verify_time: give both verified_by and "
                           "verify_time, or neither",
                           p, i);
    return true;
}

static bool validate(const ProtobufCMessage *res, const char *p, status *st)
{
    const Partner *bp = (const Partner *)res;
    char f[128];
    if (!times_valid(res, p, st))
        return false;
    snprintf(f, sizeof f, "%s.legal_name", p);
    if (!validate_text(f, bp->legal_name, 200, true, st))
        return false;
    snprintf(f, sizeof f, "%s.country_code", p);
    if (!validate_country_code(f, bp->country_code, st))
        return false;
    for (size_t i = 0; i < bp->n_roles; i++) {
        snprintf(f, sizeof f, "%s.roles[%zu]", p, i);
        if (!validate_enum(f, &supplysec__v1__supply_chain_role__descriptor, bp->roles[i], true,
                           st))
            return false;
        for (size_t j = 0; j < i; j++)
            if (bp->roles[j] == bp->roles[i])
                return status_fail(st, STATUS_INVALID_ARGUMENT, "%s: listed twice", f);
    }
    snprintf(f, sizeof f, "%s.organization", p);
    if (bp->organization[0]) {
        size_t n = strlen(ORG_PREFIX);
        if (strncmp(bp->organization, ORG_PREFIX, n) != 0)
            return status_fail(st, STATUS_INVALID_ARGUMENT,
                               "%s: an organization's name, organizations/{organization}", f);
        if (!validate_resource_id(f, bp->organization + n, st))
            return false;
    } else if (bp->certificates_from_organization) {
        return status_fail(st, STATUS_INVALID_ARGUMENT,
                           "%s: required with certificates_from_organization", f);
    }
    snprintf(f, sizeof f, "%s.risk_tier", p);
    if (!validate_enum(f, &supplysec__v1__risk_tier__descriptor, bp->risk_tier, true, st))
        return false;
    if (bp->certificates_from_organization) /* replaced by derive */
        return true;
    if (bp->n_certificates > MAX_CERTIFICATES)
        return status_fail(st, STATUS_INVALID_ARGUMENT, "%s.certificates: at most %d", p,
                           MAX_CERTIFICATES);
    for (size_t i = 0; i < bp->n_certificates; i++)
        if (!certificate_valid(bp->certificates[i], p, i, st))
            return false;
    return true;
}

/* ---- what the server derives ---- */

static void certificates_clear(Partner *bp)
{
    for (size_t i = 0; i < bp->n_certificates; i++)
        protobuf_c_message_free_unpacked(&bp->certificates[i]->base, NULL);
    free(bp->certificates);
    bp->certificates = NULL;
    bp->n_certificates = 0;
}

/* A certificate type of the Organization records as a partner
 * certificate's: an AEO by its type (an AEO of no stated type exempts no
 * one: OTHER). */
static Supplysec__V1__PartnerCertificateType partner_type(Supplysec__V1__CertificateType t,
                                                          Supplysec__V1__AeoType aeo)
{
    switch (t) {
    case SUPPLYSEC__V1__CERTIFICATE_TYPE__CERTIFICATE_TYPE_AEO:
        return aeo == SUPPLYSEC__V1__AEO_TYPE__AEO_TYPE_AEOS
                   ? SUPPLYSEC__V1__PARTNER_CERTIFICATE_TYPE__PARTNER_CERTIFICATE_TYPE_AEO_S
               : aeo == SUPPLYSEC__V1__AEO_TYPE__AEO_TYPE_AEOF
                   ? SUPPLYSEC__V1__PARTNER_CERTIFICATE_TYPE__PARTNER_CERTIFICATE_TYPE_AEO_F
               : aeo == SUPPLYSEC__V1__AEO_TYPE__AEO_TYPE_AEOC
                   ? SUPPLYSEC__V1__PARTNER_CERTIFICATE_TYPE__PARTNER_CERTIFICATE_TYPE_AEO_C
                   : SUPPLYSEC__V1__PARTNER_CERTIFICATE_TYPE__PARTNER_CERTIFICATE_TYPE_OTHER;
    case SUPPLYSEC__V1__CERTIFICATE_TYPE__CERTIFICATE_TYPE_CTPAT:
        return SUPPLYSEC__V1__PARTNER_CERTIFICATE_TYPE__PARTNER_CERTIFICATE_TYPE_CTPAT;
    case SUPPLYSEC__V1__CERTIFICATE_TYPE__CERTIFICATE_TYPE_ISO_28000:
        return SUPPLYSEC__V1__PARTNER_CERTIFICATE_TYPE__PARTNER_CERTIFICATE_TYPE_ISO_28000;
    case SUPPLYSEC__V1__CERTIFICATE_TYPE__CERTIFICATE_TYPE_ISO_28001:
        return SUPPLYSEC__V1__PARTNER_CERTIFICATE_TYPE__PARTNER_CERTIFICATE_TYPE_ISO_28001;
    case SUPPLYSEC__V1__CERTIFICATE_TYPE__CERTIFICATE_TYPE_ISO_20858:
        return SUPPLYSEC__V1__PARTNER_CERTIFICATE_TYPE__PARTNER_CERTIFICATE_TYPE_ISO_20858;
    default:
        return SUPPLYSEC__V1__PARTNER_CERTIFICATE_TYPE__PARTNER_CERTIFICATE_TYPE_OTHER;
    }
}

/* Appends a certificate taken from the platform to bp (room for it made
 * by the caller): verified by `by` now. */
static bool platform_cert_add(Partner *bp, Supplysec__V1__PartnerCertificateType type,
                              Supplysec__V1__CertificateVerification by, const char *issuer,
                              const char *country, const char *number, const Timestamp *until)
{
    Cert *c = malloc(sizeof *c);
    if (!c)
        return false;
    supplysec__v1__partner_certificate__init(c);
    bp->certificates[bp->n_certificates++] = c;
    c->type = type;
    c->verified_by = by;
    return message_set_string(&c->base, "issuing_authority", issuer) &&
           message_set_string(&c->base, "issuing_country", country) &&
           message_set_string(&c->base, "number", number) &&
           resource_stamp_now(&c->base, "verify_time") &&
           resource_set_time(&c->base, "valid_until", until);
}

/* The partner's certificates taken from the platform as it is now: those
 * customs authorities attest its organization holds (verified by the
 * authority), and its organization's own when it publishes them (verified
 * by the platform). Read at each answer, so a withdrawn consent,
 * attestation or certificate shows at once. An organization that does not
 * exist gives none, as one without certificates does: the answer says
 * nothing of which. */
static bool certificates_from_organization(const op_ctx *op, Partner *bp, status *st)
{
    certificates_clear(bp);
    const char *org_id = bp->organization + strlen(ORG_PREFIX);
    status lst = {0};
    Supplysec__V1__AttestedCertificate **attested = NULL;
    size_t n_attested = 0;
    Supplysec__V1__Organization *org = (Supplysec__V1__Organization *)resource_load(
        op, &supplysec__v1__organization__descriptor, organization_kind.collection, org_id,
        bp->organization, bp->organization, NULL, &lst);
    if (!org && (lst.code == STATUS_UNAVAILABLE || lst.code == STATUS_DEADLINE_EXCEEDED)) {
        *st = lst;
        return false;
    } /* any other failure (a record it cannot read) gives none: it names nothing */
    if (!org)
        return true;
    if (!attestation_certificates(op, bp->organization, clock_realtime_ms() / 1000, &attested,
                                  &n_attested, st)) {
        protobuf_c_message_free_unpacked(&org->base, NULL);
        return false;
    }
    size_t own = org->publish_certificates ? org->n_certificates : 0;
    if (n_attested + own > MAX_CERTIFICATES)
        own = MAX_CERTIFICATES > n_attested ? MAX_CERTIFICATES - n_attested : 0;
    bool ok = (bp->certificates = calloc(n_attested + own + 1, sizeof *bp->certificates)) != NULL;
    int aeo = org->identifiers ? org->identifiers->aeo_type : 0;
    for (size_t i = 0; ok && i < n_attested; i++) {
        const Supplysec__V1__AttestedCertificate *a = attested[i];
        ok = platform_cert_add(
            bp, partner_type(a->type, a->aeo_type),
            SUPPLYSEC__V1__CERTIFICATE_VERIFICATION__CERTIFICATE_VERIFICATION_AUTHORITY_ATTESTATION,
            a->authority, a->authority_country_code, a->number, a->valid_until);
    }
    for (size_t i = 0; ok && i < own; i++) {
        const Supplysec__V1__Certificate *oc = org->certificates[i];
        ok = platform_cert_add(
            bp, partner_type(oc->type, aeo),
            SUPPLYSEC__V1__CERTIFICATE_VERIFICATION__CERTIFICATE_VERIFICATION_PLATFORM_ORGANIZATION,
            oc->issuer, "", oc->number, oc->valid_until);
    }
    for (size_t i = 0; i < n_attested; i++)
        protobuf_c_message_free_unpacked(&attested[i]->base, NULL);
    free(attested);
    protobuf_c_message_free_unpacked(&org->base, NULL);
    return ok || status_fail(st, STATUS_RESOURCE_EXHAUSTED, "out of memory");
}

/* The organization's review intervals by tier (0: the default). */
static bool review_months_of(const op_ctx *op, const char *org_id, int months[4], status *st)
{
    char name[KIND_NAME_MAX];
    snprintf(name, sizeof name, ORG_PREFIX "%s", org_id);
    memset(months, 0, 4 * sizeof *months);
    Supplysec__V1__Organization *org = (Supplysec__V1__Organization *)resource_load(
        op, &supplysec__v1__organization__descriptor, organization_kind.collection, org_id, name,
        name, NULL, st);
    if (!org)
        return false;
    const Supplysec__V1__PartnerReviewMonths *rm = org->partner_review_months;
    if (rm) {
        months[SUPPLYSEC__V1__RISK_TIER__RISK_TIER_HIGH] = rm->high;
        months[SUPPLYSEC__V1__RISK_TIER__RISK_TIER_MEDIUM] = rm->medium;
        months[SUPPLYSEC__V1__RISK_TIER__RISK_TIER_LOW] = rm->low;
    }
    protobuf_c_message_free_unpacked(&org->base, NULL);
    return true;
}

/* On every write: the next review (the last review kept from what is
 * stored: only credibility reviews set it); no certificates are stored for
 * a partner that takes them from its organization. */
static bool derive(const op_ctx *op, const resource_key *key, ProtobufCMessage *res,
                   const ProtobufCMessage *prev, status *st)
{
    Partner *bp = (Partner *)res;
    const Partner *before = (const Partner *)prev;
    int months[4];
    if (bp->certificates_from_organization) /* read at each answer (present), never stored */
        certificates_clear(bp);
    if (!review_months_of(op, key->org, months, st))
        return false;
    calendar_time next;
    if (before && before->last_credibility_review_time) {
        calendar_time last = {before->last_credibility_review_time->seconds,
                              before->last_credibility_review_time->nanos};
        next = partner_next_review(last, bp->risk_tier, months);
    } else if (before && before->create_time) {
        next = (calendar_time){before->create_time->seconds, before->create_time->nanos};
    } else {
        int64_t ms = clock_realtime_ms();
        next = (calendar_time){ms / 1000, (int32_t)(ms % 1000) * 1000000};
    }
    Timestamp ts = {.seconds = next.seconds, .nanos = next.nanos};
    return resource_set_time(res, "next_credibility_review_time", &ts) ||
           status_fail(st, STATUS_RESOURCE_EXHAUSTED, "out of memory");
}

/* On every answer, as of now: the platform organization's certificates
 * when the partner takes them from there, exempt or not and on what basis
 * (by the certificates the request's customs authority recognizes, when it
 * names one); an exempt partner has no review due. */
static bool present(const op_ctx *op, const resource_key *key, ProtobufCMessage *res, status *st)
{
    (void)key;
    Partner *bp = (Partner *)res;
    if (bp->certificates_from_organization && !certificates_from_organization(op, bp, st))
        return false;
    char basis[PARTNER_BASIS_MAX] = "";
    recognition_set by = {0};
    const char *authority = op && op->authority ? op->authority : "";
    if (authority[0] && !recognition_set_load(op, "authority", authority, &by, st))
        return false;
    bool exempt = partner_exemption_by(bp, clock_realtime_ms() / 1000, authority[0] ? &by : NULL,
                                       basis, sizeof basis);
    recognition_set_free(&by);
    bp->declaration_required = !exempt;
    if (!message_set_string(res, "exemption_basis", basis) ||
        (exempt && !resource_set_time(res, "next_credibility_review_time", NULL)))
        return status_fail(st, STATUS_RESOURCE_EXHAUSTED, "out of memory");
    return true;
}

bool partner_reviewed(const op_ctx *op, const char *partner, const Timestamp *review_time,
                      resource_batch *b, status *st)
{
    resource_key *key = malloc(sizeof *key);
    if (!key)
        return status_fail(st, STATUS_RESOURCE_EXHAUSTED, "out of memory");
    if (!resource_batch_keep_mem(b, key))
        return status_fail(st, STATUS_RESOURCE_EXHAUSTED, "out of memory");
    int64_t version;
    int months[4];
    if (!kind_parse_name(&business_partner_kind, "parent", partner, key, st) ||
        !review_months_of(op, key->org, months, st))
        return false;
    Partner *bp =
        (Partner *)resource_load(op, business_partner_kind.desc, business_partner_kind.collection,
                                 key->org, key->name, key->name, &version, st);
    if (!bp || !resource_batch_keep(b, &bp->base))
        return bp ? status_fail(st, STATUS_RESOURCE_EXHAUSTED, "out of memory") : false;
    /* a review dated before the last one recorded does not move the dates back */
    const Timestamp *last = bp->last_credibility_review_time;
    if (last && (last->seconds > review_time->seconds ||
                 (last->seconds == review_time->seconds && last->nanos >= review_time->nanos)))
        return true;
    calendar_time next = partner_next_review(
        (calendar_time){review_time->seconds, review_time->nanos}, bp->risk_tier, months);
    Timestamp next_ts = {.seconds = next.seconds, .nanos = next.nanos};
    if (!resource_set_time(&bp->base, "last_credibility_review_time", review_time) ||
        !resource_set_time(&bp->base, "next_credibility_review_time", &next_ts))
        return status_fail(st, STATUS_RESOURCE_EXHAUSTED, "out of memory");
    resource_ref ref = kind_ref(&business_partner_kind, key, &bp->base);
    return resource_batch_update(b, &ref, &bp->base, &bp->base, version, st);
}

bool partner_present(const op_ctx *op, Partner *p, status *st)
{
    return present(op, NULL, &p->base, st);
}

/* Credibility reviews are records the organization keeps (ISO 28001 4.5):
 * a partner that has some is not deleted. */
static bool before_delete(const op_ctx *op, const resource_key *key, const ProtobufCMessage *cur,
                          int64_t version, resource_batch *b, status *st)
{
    (void)cur;
    (void)version;
    (void)b;
    store_query q = {
        .collection = PARTNER_REVIEWS_COLLECTION, .org = key->org, .parent = key->name, .limit = 1};
    store_page *page = NULL;
    if (!status_from_store(st, store_list(op->store, &q, &page), "credibility reviews"))
        return false;
    bool reviewed = page->count > 0;
    store_page_free(page);
    if (reviewed)
        return status_fail(st, STATUS_FAILED_PRECONDITION,
                           "%s has credibility reviews on record, which are kept; it is not "
                           "deleted",
                           key->name);
    return true;
}

/* What ListBusinessPartners filters on (docs/api.md). */
static const facet_def facets[] = {
    {.name = "legal_name", .type = FACET_STRING},
    {.name = "country_code", .type = FACET_STRING},
    {.name = "roles",
     .type = FACET_ENUM,
     .enum_type = &supplysec__v1__supply_chain_role__descriptor,
     .repeated = true},
    {.name = "risk_tier", .type = FACET_ENUM, .enum_type = &supplysec__v1__risk_tier__descriptor},
    {.name = "organization", .type = FACET_STRING},
    {.name = "create_time", .type = FACET_TIMESTAMP},
    {.name = "update_time", .type = FACET_TIMESTAMP},
};

static const char *const output_only[] = {"declaration_required", "exemption_basis",
                                          "last_credibility_review_time",
                                          "next_credibility_review_time", NULL};

const kind business_partner_kind = {
    .type = "BusinessPartner",
    .field = "business_partner",
    .plural = "businessPartners",
    .collection = "businessPartners",
    .parent = &organization_kind,
    .desc = &supplysec__v1__business_partner__descriptor,
    .min_role = KIND_ROLES_DOCUMENT,
    .output_only = output_only,
    .facets = facets,
    .n_facets = sizeof facets / sizeof facets[0],
    .hooks = {.authorize = access_validators,
              .validate = validate,
              .derive = derive,
              .present = present,
              .before_delete = before_delete},
};
