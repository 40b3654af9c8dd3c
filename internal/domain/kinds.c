/* kinds.c — the table of resource kinds (see kinds.h). A new kind is one
 * line here, beside its service line in api/services.c. */
#include "kinds.h"

#include <string.h>

#include "attestation.h"
#include "business_partner.h"
#include "countermeasure.h"
#include "credibility_review.h"
#include "declaration.h"
#include "declaration_request.h"
#include "keyring.h"
#include "management_review.h"
#include "monitoring_record.h"
#include "organization.h"
#include "plan_item.h"
#include "recognition.h"
#include "scoring_scheme.h"
#include "share.h"
#include "security_assessment.h"
#include "security_incident.h"
#include "security_objective.h"
#include "security_plan.h"
#include "security_policy.h"
#include "statement_of_application.h"
#include "threat_scenario.h"
#include "training_record.h"
#include "validation_grant.h"

/* One kind per line. */
/* clang-format off */
const kind *const kinds_all[] = {
    &organization_kind,
    &api_key_kind,
    &security_policy_kind,
    &statement_of_application_kind,
    &business_partner_kind,
    &declaration_kind,
    &declaration_request_kind,
    &credibility_review_kind,
    &scoring_scheme_kind,
    &security_assessment_kind,
    &threat_scenario_kind,
    &countermeasure_kind,
    &security_objective_kind,
    &security_incident_kind,
    &security_plan_kind,
    &plan_item_kind,
    &training_record_kind,
    &monitoring_record_kind,
    &management_review_kind,
    &share_kind,
    &validation_grant_kind,
    &recognition_kind,
    &attestation_kind,
};
/* clang-format on */
const size_t kinds_n = sizeof kinds_all / sizeof kinds_all[0];

const kind *kinds_by_collection(const char *collection)
{
    for (size_t i = 0; i < kinds_n; i++)
        if (strcmp(kinds_all[i]->collection, collection) == 0 ||
            (kinds_all[i]->revisions_collection &&
             strcmp(kinds_all[i]->revisions_collection, collection) == 0))
            return kinds_all[i];
    return NULL;
}

bool kinds_record_facets(const char *collection, const uint8_t *doc, size_t len, store_facet **out,
                         size_t *n)
{
    const kind *k = kinds_by_collection(collection);
    *out = NULL;
    *n = 0;
    return k ? kind_record_facets(k, doc, len, out, n) : true;
}
