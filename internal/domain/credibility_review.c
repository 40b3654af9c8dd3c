/* credibility_review.c — the rules of a credibility review (ISO 28001 4.5):
 * what it records (every field's limits), that it reviews one of the
 * organization's ACCEPTED requests to the same partner, and what creating
 * it does in the same write: the partner's last and next review dates
 * move, and a NOT_CREDIBLE result (an ADMIN's, as any rejection) rejects
 * the request, naming the review.
 * A review is a record: it is created, then read, never changed. */
#include "credibility_review.h"

#include "access.h"

#include <stdio.h>

#include "auth.h"
#include "business_partner.h"
#include "declaration_request.h"
#include "validate.h"

typedef Supplysec__V1__CredibilityReview Review;

static bool validate(const ProtobufCMessage *res, const char *p, status *st)
{
    const Review *r = (const Review *)res;
    char f[96];
    snprintf(f, sizeof f, "%s.declaration_request", p);
    if (!validate_text(f, r->declaration_request, KIND_NAME_MAX, true, st))
        return false;
    snprintf(f, sizeof f, "%s.method", p);
    if (!validate_enum(f, &supplysec__v1__review_method__descriptor, r->method, true, st))
        return false;
    snprintf(f, sizeof f, "%s.reviewer", p);
    if (!validate_text(f, r->reviewer, 200, true, st))
        return false;
    snprintf(f, sizeof f, "%s.findings", p);
    if (!validate_text(f, r->findings, 10000, false, st))
        return false;
    snprintf(f, sizeof f, "%s.result", p);
    if (!validate_enum(f, &supplysec__v1__review_result__descriptor, r->result, true, st))
        return false;
    snprintf(f, sizeof f, "%s.review_time", p);
    return validate_time(f, r->review_time, true, true, st);
}

/* The request reviewed (and rejected when not credible) and the partner's
 * dates, with the review, in one write; the review records the declaration
 * revision it reviewed. */
static bool with_create(const op_ctx *op, const resource_key *key, ProtobufCMessage *res,
                        resource_batch *b, status *st)
{
    Review *r = (Review *)res;
    char f[96];
    snprintf(f, sizeof f, "%s.declaration_request", key->kind->field);
    bool not_credible = r->result == SUPPLYSEC__V1__REVIEW_RESULT__REVIEW_RESULT_NOT_CREDIBLE;
    /* it rejects the request, which only an ADMIN does */
    if (not_credible &&
        !auth_require(op->who, key->org, SUPPLYSEC__V1__ROLE__ROLE_ADMIN, key->name, st))
        return false;
    DeclarationRequest *req = declaration_request_reviewed(
        op, f, r->declaration_request, key->org, key->parent, not_credible, key->name, b, st);
    if (!req)
        return false;
    if (!message_set_string(res, "declaration", req->declaration) ||
        !message_set_string(res, "declaration_revision_id", req->declaration_revision_id))
        return status_fail(st, STATUS_RESOURCE_EXHAUSTED, "out of memory");
    return partner_reviewed(op, key->parent, r->review_time, b, st);
}

/* What ListCredibilityReviews filters on (docs/api.md). */
static const facet_def facets[] = {
    {.name = "result", .type = FACET_ENUM, .enum_type = &supplysec__v1__review_result__descriptor},
    {.name = "method", .type = FACET_ENUM, .enum_type = &supplysec__v1__review_method__descriptor},
    {.name = "review_time", .type = FACET_TIMESTAMP},
    {.name = "create_time", .type = FACET_TIMESTAMP},
    {.name = "update_time", .type = FACET_TIMESTAMP},
};

static const char *const output_only[] = {"declaration", "declaration_revision_id", NULL};

const kind credibility_review_kind = {
    .type = "CredibilityReview",
    .field = "credibility_review",
    .plural = "credibilityReviews",
    .collection = PARTNER_REVIEWS_COLLECTION,
    .parent = &business_partner_kind,
    .desc = &supplysec__v1__credibility_review__descriptor,
    .min_role =
        {
            [KIND_GET] = SUPPLYSEC__V1__ROLE__ROLE_VIEWER,
            [KIND_LIST] = SUPPLYSEC__V1__ROLE__ROLE_VIEWER,
            [KIND_CREATE] = SUPPLYSEC__V1__ROLE__ROLE_EDITOR,
            /* a record: never changed, never deleted on its own */
        },
    .output_only = output_only,
    .facets = facets,
    .n_facets = sizeof facets / sizeof facets[0],
    .hooks = {.authorize = access_validators, .validate = validate, .with_create = with_create},
};
