/* validation_grants.c — the supplysec.v1.ValidationGrants service: the
 * ValidationGrant kind's standard methods, RevokeValidationGrant and
 * ListValidatedOrganizations, calls into internal/domain/validation_grant.c. */
#include "runtime.h"
#include "validation_grant.h"

static ProtobufCMessage *revoke(api_call *call, ProtobufCMessage *msg)
{
    Supplysec__V1__RevokeValidationGrantRequest *req = (void *)msg;
    ValidationGrant *g = validation_grant_revoke(&call->op, req->name, req->etag, &call->st);
    return g ? &g->base : NULL;
}

static ProtobufCMessage *list_validated(api_call *call, ProtobufCMessage *msg)
{
    Supplysec__V1__ListValidatedOrganizationsResponse *r =
        validation_grant_list_validated(&call->op, (void *)msg, &call->st);
    return r ? &r->base : NULL;
}

static const api_method validation_grants_methods[] = {
    API_STANDARD(CREATE, "CreateValidationGrant", &validation_grant_kind),
    API_STANDARD(GET, "GetValidationGrant", &validation_grant_kind),
    API_STANDARD(LIST, "ListValidationGrants", &validation_grant_kind),
    API_STANDARD(UPDATE, "UpdateValidationGrant", &validation_grant_kind),
    API_STANDARD(DELETE, "DeleteValidationGrant", &validation_grant_kind),
    {.name = "RevokeValidationGrant", .handler = revoke, .writes = true},
    {.name = "ListValidatedOrganizations", .handler = list_validated},
};

const api_service api_validation_grants_service = {
    &supplysec__v1__validation_grants__descriptor, validation_grants_methods,
    sizeof validation_grants_methods / sizeof validation_grants_methods[0]};
