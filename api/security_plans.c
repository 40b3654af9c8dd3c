/* security_plans.c — the supplysec.v1.SecurityPlans service and the three
 * under a plan (PlanItems, TrainingRecords, MonitoringRecords): the
 * standard and lifecycle methods of their kinds (internal/domain). */
#include "monitoring_record.h"
#include "plan_item.h"
#include "runtime.h"
#include "security_plan.h"
#include "training_record.h"

static const api_method security_plans_methods[] = {
    API_STANDARD(CREATE, "CreateSecurityPlan", &security_plan_kind),
    API_STANDARD(GET, "GetSecurityPlan", &security_plan_kind),
    API_STANDARD(LIST, "ListSecurityPlans", &security_plan_kind),
    API_STANDARD(UPDATE, "UpdateSecurityPlan", &security_plan_kind),
    API_STANDARD(DELETE, "DeleteSecurityPlan", &security_plan_kind),
    API_STANDARD(SUBMIT, "SubmitSecurityPlan", &security_plan_kind),
    API_STANDARD(APPROVE, "ApproveSecurityPlan", &security_plan_kind),
    API_STANDARD(REJECT, "RejectSecurityPlan", &security_plan_kind),
    API_STANDARD(REVISE, "CreateSecurityPlanRevision", &security_plan_kind),
    API_STANDARD(LIST_REVISIONS, "ListSecurityPlanRevisions", &security_plan_kind),
};

const api_service api_security_plans_service = {
    &supplysec__v1__security_plans__descriptor, security_plans_methods,
    sizeof security_plans_methods / sizeof security_plans_methods[0]};

static const api_method plan_items_methods[] = {
    API_STANDARD(GET, "GetPlanItem", &plan_item_kind),
    API_STANDARD(LIST, "ListPlanItems", &plan_item_kind),
    API_STANDARD(UPDATE, "UpdatePlanItem", &plan_item_kind),
};

const api_service api_plan_items_service = {
    &supplysec__v1__plan_items__descriptor, plan_items_methods,
    sizeof plan_items_methods / sizeof plan_items_methods[0]};

static const api_method training_records_methods[] = {
    API_STANDARD(CREATE, "CreateTrainingRecord", &training_record_kind),
    API_STANDARD(GET, "GetTrainingRecord", &training_record_kind),
    API_STANDARD(LIST, "ListTrainingRecords", &training_record_kind),
    API_STANDARD(UPDATE, "UpdateTrainingRecord", &training_record_kind),
    API_STANDARD(DELETE, "DeleteTrainingRecord", &training_record_kind),
};

const api_service api_training_records_service = {
    &supplysec__v1__training_records__descriptor, training_records_methods,
    sizeof training_records_methods / sizeof training_records_methods[0]};

static const api_method monitoring_records_methods[] = {
    API_STANDARD(CREATE, "CreateMonitoringRecord", &monitoring_record_kind),
    API_STANDARD(GET, "GetMonitoringRecord", &monitoring_record_kind),
    API_STANDARD(LIST, "ListMonitoringRecords", &monitoring_record_kind),
    API_STANDARD(UPDATE, "UpdateMonitoringRecord", &monitoring_record_kind),
};

const api_service api_monitoring_records_service = {
    &supplysec__v1__monitoring_records__descriptor, monitoring_records_methods,
    sizeof monitoring_records_methods / sizeof monitoring_records_methods[0]};
