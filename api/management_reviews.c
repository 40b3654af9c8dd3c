/* management_reviews.c — the supplysec.v1.ManagementReviews service: the
 * standard and lifecycle methods of the ManagementReview kind
 * (internal/domain/management_review.c). */
#include "management_review.h"
#include "runtime.h"

static const api_method management_reviews_methods[] = {
    API_STANDARD(CREATE, "CreateManagementReview", &management_review_kind),
    API_STANDARD(GET, "GetManagementReview", &management_review_kind),
    API_STANDARD(LIST, "ListManagementReviews", &management_review_kind),
    API_STANDARD(UPDATE, "UpdateManagementReview", &management_review_kind),
    API_STANDARD(DELETE, "DeleteManagementReview", &management_review_kind),
    API_STANDARD(SUBMIT, "SubmitManagementReview", &management_review_kind),
    API_STANDARD(APPROVE, "ApproveManagementReview", &management_review_kind),
    API_STANDARD(REJECT, "RejectManagementReview", &management_review_kind),
    API_STANDARD(REVISE, "CreateManagementReviewRevision", &management_review_kind),
    API_STANDARD(LIST_REVISIONS, "ListManagementReviewRevisions", &management_review_kind),
};

const api_service api_management_reviews_service = {
    &supplysec__v1__management_reviews__descriptor, management_reviews_methods,
    sizeof management_reviews_methods / sizeof management_reviews_methods[0]};
