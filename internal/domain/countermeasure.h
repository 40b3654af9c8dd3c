/* countermeasure.h — the Countermeasure kind (ISO 28001 5.3.2):
 * organizations/{organization}/securityAssessments/{security_assessment}/
 * threatScenarios/{threat_scenario}/countermeasures/{countermeasure}, part
 * of its assessment; the levels it brings its scenario to count once it is
 * ACCEPTED. */
#ifndef SUPPLYSEC_COUNTERMEASURE_H
#define SUPPLYSEC_COUNTERMEASURE_H

#include "kind.h"
#include "scoring_scheme.h"
#include "supplysec/v1/countermeasures.pb-c.h"
#include "threat_scenario.h"

typedef Supplysec__V1__Countermeasure Countermeasure;

extern const kind countermeasure_kind;

#define COUNTERMEASURES_COLLECTION "countermeasures"

/* Sets s's residual levels and score (s, named `scenario`, of org, scored
 * on sch): the lowest score among its incident levels and the residual
 * levels of its ACCEPTED countermeasures, the one named changed_name (when
 * not NULL) taken as `changed` (NULL: as deleted) instead of as stored. */
bool scenario_residual(const op_ctx *op, const char *org, const char *scenario,
                       const ScoringScheme *sch, ThreatScenario *s, const char *changed_name,
                       const Countermeasure *changed, status *st);

/* AcceptCountermeasure (accept) or DeclineCountermeasure with reason: the
 * countermeasure and its scenario's new residual in one write. ADMIN. */
Countermeasure *countermeasure_decide(const op_ctx *op, const char *name, const char *etag,
                                      bool accept, const char *reason, status *st);

#endif
