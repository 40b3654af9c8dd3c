/* business_partner.h — the BusinessPartner kind (ISO 28001 4.2-4.5):
 * organizations/{organization}/businessPartners/{business_partner}, and the
 * rules that derive whether a partner must give a declaration of security
 * and when its credibility is next reviewed. */
#ifndef SUPPLYSEC_BUSINESS_PARTNER_H
#define SUPPLYSEC_BUSINESS_PARTNER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "calendar.h"
#include "kind.h"
#include "recognition.h"
#include "supplysec/v1/business_partners.pb-c.h"

extern const kind business_partner_kind;

/* Where its children, the credibility reviews, are kept (credibility_review.h). */
#define PARTNER_REVIEWS_COLLECTION "credibilityReviews"

/* Whether c exempts its holder at now_s (seconds since the epoch): a type
 * accepted internationally (AEO-S, AEO-F, C-TPAT, ISO 28001, ISO 20858),
 * verified (how and when), and valid: valid_until set and later than now. */
bool partner_certificate_exempts(const Supplysec__V1__PartnerCertificate *c, int64_t now_s);

/* Room for an exemption basis: a certificate number of 100 characters (up to
 * 400 bytes of UTF-8) and the words around it. */
#define PARTNER_BASIS_MAX 1280

/* Whether p is exempt at now_s; when it is, the exempting certificate (the
 * one valid longest) described in basis, e.g. "AEO-S DEAEOS1234 (DE),
 * valid until 2027-05-01, verified by authority register". */
bool partner_exemption(const Supplysec__V1__BusinessPartner *p, int64_t now_s, char *basis,
                       size_t basis_size);
/* The same judged by the certificates a customs authority recognizes (by
 * NULL: the internationally accepted ones): a verified, valid certificate
 * of a type and issuing country one of its recognitions names. */
bool partner_exemption_by(const Supplysec__V1__BusinessPartner *p, int64_t now_s,
                          const recognition_set *by, char *basis, size_t basis_size);

/* p's fields as an answer shows them now (the kind's present hook): the
 * certificates of the organization it takes them from, the exemption. */
bool partner_present(const op_ctx *op, Supplysec__V1__BusinessPartner *p, status *st);

/* The review interval for tier in months: months_by_tier[tier] when it is
 * not 0 (an organization's own), else HIGH 12, MEDIUM 24, LOW 36. */
int partner_review_months(Supplysec__V1__RiskTier tier, const int months_by_tier[4]);

/* When the next credibility review is due after the last one: plus the
 * tier's interval. (A partner never reviewed is due from its creation.) */
calendar_time partner_next_review(calendar_time last, Supplysec__V1__RiskTier tier,
                                  const int months_by_tier[4]);

/* For a credibility review of the partner `partner` (its name) made at
 * review_time: its last review (unless a later one is recorded) and the
 * next one due, updated in b (which keeps what the write borrows). */
bool partner_reviewed(const op_ctx *op, const char *partner,
                      const Google__Protobuf__Timestamp *review_time, resource_batch *b,
                      status *st);

#endif
