/* credibility_review.h — the CredibilityReview kind (ISO 28001 4.5):
 * organizations/{organization}/businessPartners/{business_partner}/
 * credibilityReviews/{credibility_review}, a record of the review of one
 * accepted declaration request. */
#ifndef SUPPLYSEC_CREDIBILITY_REVIEW_H
#define SUPPLYSEC_CREDIBILITY_REVIEW_H

#include "kind.h"
#include "supplysec/v1/credibility_reviews.pb-c.h"

extern const kind credibility_review_kind;

#endif
