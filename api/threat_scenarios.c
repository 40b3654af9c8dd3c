/* threat_scenarios.c — the supplysec.v1.ThreatScenarios service: the
 * standard methods of the ThreatScenario kind
 * (internal/domain/threat_scenario.c declares it and its rules). */
#include "runtime.h"
#include "threat_scenario.h"

static const api_method threat_scenarios_methods[] = {
    API_STANDARD(CREATE, "CreateThreatScenario", &threat_scenario_kind),
    API_STANDARD(GET, "GetThreatScenario", &threat_scenario_kind),
    API_STANDARD(LIST, "ListThreatScenarios", &threat_scenario_kind),
    API_STANDARD(UPDATE, "UpdateThreatScenario", &threat_scenario_kind),
    API_STANDARD(DELETE, "DeleteThreatScenario", &threat_scenario_kind),
};

const api_service api_threat_scenarios_service = {
    &supplysec__v1__threat_scenarios__descriptor, threat_scenarios_methods,
    sizeof threat_scenarios_methods / sizeof threat_scenarios_methods[0]};
