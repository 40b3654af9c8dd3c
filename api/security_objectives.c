/* security_objectives.c — the supplysec.v1.SecurityObjectives service: the
 * standard methods of the SecurityObjective kind and AddObjectiveMeasurement,
 * a call into internal/domain/security_objective.c. */
#include "runtime.h"
#include "security_objective.h"

static ProtobufCMessage *add_measurement(api_call *call, ProtobufCMessage *msg)
{
    Supplysec__V1__AddObjectiveMeasurementRequest *req = (void *)msg;
    Supplysec__V1__ObjectiveMeasurement *m = req->measurement;
    req->measurement = NULL; /* the domain takes it */
    SecurityObjective *o = security_objective_add(&call->op, req->name, m, req->etag, &call->st);
    return o ? &o->base : NULL;
}

static const api_method security_objectives_methods[] = {
    API_STANDARD(CREATE, "CreateSecurityObjective", &security_objective_kind),
    API_STANDARD(GET, "GetSecurityObjective", &security_objective_kind),
    API_STANDARD(LIST, "ListSecurityObjectives", &security_objective_kind),
    API_STANDARD(UPDATE, "UpdateSecurityObjective", &security_objective_kind),
    API_STANDARD(DELETE, "DeleteSecurityObjective", &security_objective_kind),
    {.name = "AddObjectiveMeasurement", .handler = add_measurement, .writes = true},
};

const api_service api_security_objectives_service = {
    &supplysec__v1__security_objectives__descriptor, security_objectives_methods,
    sizeof security_objectives_methods / sizeof security_objectives_methods[0]};
