/* organizations.c — the supplysec.v1.Organizations service: the standard
 * methods of the Organization kind (internal/domain/organization.c declares it
 * and its rules: who creates, updates and deletes, what a delete takes
 * with it). */
#include "organization.h"
#include "runtime.h"

static const api_method organizations_methods[] = {
    API_STANDARD(CREATE, "CreateOrganization", &organization_kind),
    API_STANDARD(GET, "GetOrganization", &organization_kind),
    API_STANDARD(LIST, "ListOrganizations", &organization_kind),
    API_STANDARD(UPDATE, "UpdateOrganization", &organization_kind),
    API_STANDARD(DELETE, "DeleteOrganization", &organization_kind),
};

const api_service api_organizations_service = {
    &supplysec__v1__organizations__descriptor, organizations_methods,
    sizeof organizations_methods / sizeof organizations_methods[0]};
