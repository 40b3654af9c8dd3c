/* security_assessment.h — the SecurityAssessment kind (ISO 28001 5.2-5.3),
 * a controlled document:
 * organizations/{organization}/securityAssessments/{security_assessment},
 * with its threat scenarios (threat_scenario.h) scored on the copy of the
 * scoring scheme it took when created; and its reports, the ranking of its
 * scenarios and the risk matrix (and loss_simulation.h's simulation), of its
 * latest revision or of an approved one as kept (`{name}@{revision}`). */
#ifndef SUPPLYSEC_SECURITY_ASSESSMENT_H
#define SUPPLYSEC_SECURITY_ASSESSMENT_H

#include "kind.h"
#include "lifecycle.h"
#include "supplysec/v1/security_assessments.pb-c.h"
#include "threat_scenario.h"

typedef Supplysec__V1__SecurityAssessment SecurityAssessment;

extern const kind security_assessment_kind;

/* An assessment read for a report: `name` is the assessment (its latest
 * revision) or `{name}@{revision}`, an approved revision, whose scenarios
 * are then the copies kept with it. */
typedef struct assessment_report {
    resource_key key; /* key.revision set for a kept revision */
    bool kept;
    char stored[LIFECYCLE_PART_NAME_MAX], display[LIFECYCLE_PART_NAME_MAX]; /* when kept */
} assessment_report;

/* Parses and authorizes name (read as a VIEWER would: shares and grants of
 * that revision let their holders in) and loads the assessment, which the
 * caller frees; DATA_LOSS when it has no scoring scheme. NULL with st set. */
SecurityAssessment *security_assessment_report_load(const op_ctx *op, const char *name,
                                                    assessment_report *r, status *st);
/* Calls fn on each of the report's scenarios (threat_scenarios_each). */
bool security_assessment_report_scenarios(const op_ctx *op, const assessment_report *r,
                                          bool (*fn)(const ThreatScenario *s, void *ctx,
                                                     status *st),
                                          void *ctx, status *st);

/* RankThreatScenarios of the assessment `name`: a response the caller
 * frees, or NULL with st set. VIEWER. */
Supplysec__V1__RankThreatScenariosResponse *security_assessment_rank(const op_ctx *op,
                                                                     const char *name, status *st);

/* ComputeRiskMatrix of the assessment `name`: a matrix the caller frees, or
 * NULL with st set. VIEWER. */
Supplysec__V1__RiskMatrix *security_assessment_matrix(const op_ctx *op, const char *name,
                                                      status *st);

#endif
