/* security_objective.h — the SecurityObjective kind (ISO 28000 4.3; AEO
 * criterion I): organizations/{organization}/securityObjectives/
 * {security_objective}, an objective with its indicator, target and
 * measurements, on or off target as its latest measurement says. */
#ifndef SUPPLYSEC_SECURITY_OBJECTIVE_H
#define SUPPLYSEC_SECURITY_OBJECTIVE_H

#include "kind.h"
#include "supplysec/v1/security_objectives.pb-c.h"

typedef Supplysec__V1__SecurityObjective SecurityObjective;

extern const kind security_objective_kind;

/* AddObjectiveMeasurement: m (taken, whatever the outcome) added to the
 * objective `name` (at etag when not ""), answered as stored. EDITOR. */
SecurityObjective *security_objective_add(const op_ctx *op, const char *name,
                                          Supplysec__V1__ObjectiveMeasurement *m, const char *etag,
                                          status *st);

#endif
