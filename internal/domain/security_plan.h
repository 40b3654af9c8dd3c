/* security_plan.h — the SecurityPlan kind (ISO 28001 5.4-5.6), a
 * controlled document: organizations/{organization}/securityPlans/
 * {security_plan}, made from an approved assessment, with its items
 * (plan_item.h), training records (training_record.h) and monitoring
 * records (monitoring_record.h) under it. */
#ifndef SUPPLYSEC_SECURITY_PLAN_H
#define SUPPLYSEC_SECURITY_PLAN_H

#include "kind.h"
#include "supplysec/v1/security_plans.pb-c.h"

typedef Supplysec__V1__SecurityPlan SecurityPlan;

extern const kind security_plan_kind;

/* The activity `id` of plan's monitoring schedule, or NULL. */
const Supplysec__V1__MonitoringActivity *security_plan_activity(const SecurityPlan *plan,
                                                                const char *id);

#endif
