/* security_incidents.c — the supplysec.v1.SecurityIncidents service: the
 * standard methods of the SecurityIncident kind and its moves (Close,
 * Reopen), a call into internal/domain/security_incident.c. */
#include "runtime.h"
#include "security_incident.h"

static ProtobufCMessage *close_incident(api_call *call, ProtobufCMessage *msg)
{
    Supplysec__V1__CloseSecurityIncidentRequest *req = (void *)msg;
    SecurityIncident *in =
        security_incident_move(&call->op, req->name, req->etag, true, "", &call->st);
    return in ? &in->base : NULL;
}

static ProtobufCMessage *reopen_incident(api_call *call, ProtobufCMessage *msg)
{
    Supplysec__V1__ReopenSecurityIncidentRequest *req = (void *)msg;
    SecurityIncident *in =
        security_incident_move(&call->op, req->name, req->etag, false, req->reason, &call->st);
    return in ? &in->base : NULL;
}

static const api_method security_incidents_methods[] = {
    API_STANDARD(CREATE, "CreateSecurityIncident", &security_incident_kind),
    API_STANDARD(GET, "GetSecurityIncident", &security_incident_kind),
    API_STANDARD(LIST, "ListSecurityIncidents", &security_incident_kind),
    API_STANDARD(UPDATE, "UpdateSecurityIncident", &security_incident_kind),
    API_STANDARD(DELETE, "DeleteSecurityIncident", &security_incident_kind),
    {.name = "CloseSecurityIncident", .handler = close_incident, .writes = true},
    {.name = "ReopenSecurityIncident", .handler = reopen_incident, .writes = true},
};

const api_service api_security_incidents_service = {
    &supplysec__v1__security_incidents__descriptor, security_incidents_methods,
    sizeof security_incidents_methods / sizeof security_incidents_methods[0]};
