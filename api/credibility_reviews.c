/* credibility_reviews.c — the supplysec.v1.CredibilityReviews service: the
 * standard methods of the CredibilityReview kind
 * (internal/domain/credibility_review.c declares it and its rules). */
#include "credibility_review.h"
#include "runtime.h"

static const api_method credibility_reviews_methods[] = {
    API_STANDARD(CREATE, "CreateCredibilityReview", &credibility_review_kind),
    API_STANDARD(GET, "GetCredibilityReview", &credibility_review_kind),
    API_STANDARD(LIST, "ListCredibilityReviews", &credibility_review_kind),
};

const api_service api_credibility_reviews_service = {
    &supplysec__v1__credibility_reviews__descriptor, credibility_reviews_methods,
    sizeof credibility_reviews_methods / sizeof credibility_reviews_methods[0]};
