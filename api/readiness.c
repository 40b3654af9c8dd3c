/* readiness.c — the supplysec.v1.Readiness service: readiness reports and
 * the frameworks they judge (internal/domain/readiness.c). */
#include "readiness.h"
#include "runtime.h"

static ProtobufCMessage *get_report(api_call *call, ProtobufCMessage *msg)
{
    Supplysec__V1__GetReadinessReportRequest *req = (void *)msg;
    Supplysec__V1__ReadinessReport *r =
        readiness_report(&call->op, req->name, req->authority, &call->st);
    return r ? &r->base : NULL;
}

static ProtobufCMessage *list_frameworks(api_call *call, ProtobufCMessage *msg)
{
    (void)msg;
    Supplysec__V1__ListReadinessFrameworksResponse *r = readiness_frameworks_list(&call->st);
    return r ? &r->base : NULL;
}

static const api_method readiness_methods[] = {
    {.name = "GetReadinessReport", .handler = get_report},
    {.name = "ListReadinessFrameworks", .handler = list_frameworks},
};

const api_service api_readiness_service = {&supplysec__v1__readiness__descriptor, readiness_methods,
                                           sizeof readiness_methods / sizeof readiness_methods[0]};
