/* management_review.h — the ManagementReview kind (ISO 28000 4.6), a
 * controlled document: organizations/{organization}/managementReviews/
 * {management_review}, whose inputs the server compiles from the
 * organization's data (evidence.h) when it is created. */
#ifndef SUPPLYSEC_MANAGEMENT_REVIEW_H
#define SUPPLYSEC_MANAGEMENT_REVIEW_H

#include "kind.h"
#include "supplysec/v1/management_reviews.pb-c.h"

typedef Supplysec__V1__ManagementReview ManagementReview;

extern const kind management_review_kind;

#endif
