/* threat_scenario.h — the ThreatScenario kind (ISO 28001 5.3.2):
 * organizations/{organization}/securityAssessments/{security_assessment}/
 * threatScenarios/{threat_scenario}, part of its assessment (it changes
 * only while the assessment is a DRAFT) and scored on the assessment's copy
 * of its scoring scheme. */
#ifndef SUPPLYSEC_THREAT_SCENARIO_H
#define SUPPLYSEC_THREAT_SCENARIO_H

#include "kind.h"
#include "supplysec/v1/threat_scenarios.pb-c.h"

typedef Supplysec__V1__ThreatScenario ThreatScenario;

extern const kind threat_scenario_kind;

#define THREAT_SCENARIOS_COLLECTION "threatScenarios"

/* Calls fn on each scenario of assessment (of org), by name, until fn
 * returns false (with st set); false also when they cannot be read. */
bool threat_scenarios_each(const op_ctx *op, const char *org, const char *assessment,
                           bool (*fn)(const ThreatScenario *s, void *ctx, status *st), void *ctx,
                           status *st);

/* The same over the scenarios kept with an approved revision of their
 * assessment: stored_parent is the kept assessment's key
 * (`{assessment}@{10 digits}`), display_parent its name for people
 * (`{assessment}@{revision}`), which each scenario's name is given. */
bool threat_scenarios_each_kept(const op_ctx *op, const char *org, const char *stored_parent,
                                const char *display_parent,
                                bool (*fn)(const ThreatScenario *s, void *ctx, status *st),
                                void *ctx, status *st);

/* Whether s's incident score is over the acceptable level while it has
 * neither a residual score within it nor a risk acceptance. */
bool threat_scenario_untreated(const ThreatScenario *s, double acceptable_level);

#endif
