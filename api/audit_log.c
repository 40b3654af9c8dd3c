/* audit_log.c — the supplysec.v1.AuditLog service: an organization's audit
 * events and the check of their hash chain (internal/domain/audit_log.c). */
#include "audit_log.h"
#include "runtime.h"

static ProtobufCMessage *list_events(api_call *call, ProtobufCMessage *msg)
{
    Supplysec__V1__ListAuditEventsResponse *r = audit_log_list(&call->op, (void *)msg, &call->st);
    return r ? &r->base : NULL;
}

static ProtobufCMessage *verify_log(api_call *call, ProtobufCMessage *msg)
{
    Supplysec__V1__VerifyAuditLogResponse *r = audit_log_verify(&call->op, (void *)msg, &call->st);
    return r ? &r->base : NULL;
}

static const api_method audit_log_methods[] = {
    {.name = "ListAuditEvents", .handler = list_events},
    {.name = "VerifyAuditLog", .handler = verify_log},
};

const api_service api_audit_log_service = {&supplysec__v1__audit_log__descriptor, audit_log_methods,
                                           sizeof audit_log_methods / sizeof audit_log_methods[0]};
