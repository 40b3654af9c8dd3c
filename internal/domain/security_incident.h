/* security_incident.h — the SecurityIncident kind (ISO 28001 5.7, ISO 28000
 * 4.5.3): organizations/{organization}/securityIncidents/
 * {security_incident}, OPEN until every required notification is made and
 * every action done, then CLOSED (and reopened with a reason). */
#ifndef SUPPLYSEC_SECURITY_INCIDENT_H
#define SUPPLYSEC_SECURITY_INCIDENT_H

#include "kind.h"
#include "supplysec/v1/security_incidents.pb-c.h"

typedef Supplysec__V1__SecurityIncident SecurityIncident;

extern const kind security_incident_kind;

/* CloseSecurityIncident (close) or ReopenSecurityIncident with reason.
 * ADMIN. */
SecurityIncident *security_incident_move(const op_ctx *op, const char *name, const char *etag,
                                         bool close, const char *reason, status *st);

#endif
