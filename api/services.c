/* services.c — the services supplysecd serves: one line each. */
#include "runtime.h"

extern const api_service api_organizations_service;
extern const api_service api_keys_service;
extern const api_service api_security_policies_service;
extern const api_service api_statements_of_application_service;
extern const api_service api_business_partners_service;
extern const api_service api_declarations_service;
extern const api_service api_declaration_requests_service;
extern const api_service api_credibility_reviews_service;
extern const api_service api_scoring_schemes_service;
extern const api_service api_security_assessments_service;
extern const api_service api_threat_scenarios_service;
extern const api_service api_countermeasures_service;
extern const api_service api_security_objectives_service;
extern const api_service api_security_incidents_service;
extern const api_service api_security_plans_service;
extern const api_service api_plan_items_service;
extern const api_service api_training_records_service;
extern const api_service api_monitoring_records_service;
extern const api_service api_management_reviews_service;
extern const api_service api_readiness_service;
extern const api_service api_audit_log_service;
extern const api_service api_validation_grants_service;
extern const api_service api_shares_service;
extern const api_service api_recognitions_service;
extern const api_service api_attestations_service;
extern const api_service api_health_service;
extern const api_service api_reflection_v1_service;
extern const api_service api_reflection_v1alpha_service;

/* One service per line. */
/* clang-format off */
const api_service *const api_all_services[] = {
    &api_organizations_service,
    &api_keys_service,
    &api_security_policies_service,
    &api_statements_of_application_service,
    &api_business_partners_service,
    &api_declarations_service,
    &api_declaration_requests_service,
    &api_credibility_reviews_service,
    &api_scoring_schemes_service,
    &api_security_assessments_service,
    &api_threat_scenarios_service,
    &api_countermeasures_service,
    &api_security_objectives_service,
    &api_security_incidents_service,
    &api_security_plans_service,
    &api_plan_items_service,
    &api_training_records_service,
    &api_monitoring_records_service,
    &api_management_reviews_service,
    &api_readiness_service,
    &api_audit_log_service,
    &api_validation_grants_service,
    &api_shares_service,
    &api_recognitions_service,
    &api_attestations_service,
    &api_health_service,
    &api_reflection_v1_service,
    &api_reflection_v1alpha_service,
};
/* clang-format on */
const size_t api_n_all_services = sizeof api_all_services / sizeof api_all_services[0];
