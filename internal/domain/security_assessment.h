/* security_assessment.h — the SecurityAssessment kind (ISO 28001 5.2-5.3),
 * a controlled document:
 * organizations/{organization}/securityAssessments/{security_assessment},
 * with its threat scenarios (threat_scenario.h) scored on the copy of the
 * scoring scheme it took when created; and its two reports, the ranking of
 * its scenarios and the risk matrix. */
#ifndef SUPPLYSEC_SECURITY_ASSESSMENT_H
#define SUPPLYSEC_SECURITY_ASSESSMENT_H

#include "kind.h"
#include "supplysec/v1/security_assessments.pb-c.h"

typedef Supplysec__V1__SecurityAssessment SecurityAssessment;

extern const kind security_assessment_kind;

/* RankThreatScenarios of the assessment `name`: a response the caller
 * frees, or NULL with st set. VIEWER. */
Supplysec__V1__RankThreatScenariosResponse *security_assessment_rank(const op_ctx *op,
                                                                     const char *name, status *st);

/* ComputeRiskMatrix of the assessment `name`: a matrix the caller frees, or
 * NULL with st set. VIEWER. */
Supplysec__V1__RiskMatrix *security_assessment_matrix(const op_ctx *op, const char *name,
                                                      status *st);

#endif
