/* organization.h — the rules of an Organization resource (DOMAIN.md §1). */
#ifndef SUPPLYSEC_ORGANIZATION_H
#define SUPPLYSEC_ORGANIZATION_H

#include <stdbool.h>

#include "status.h"
#include "supplysec/v1/organizations.pb-c.h"

#define ORGANIZATIONS_COLLECTION "organizations"

/* Fields the server sets; never taken from a request. NULL-terminated. */
extern const char *const resource_output_only_fields[];

/* Checks every writable field; messages name the field under `prefix`
 * (e.g. "organization"). */
bool organization_validate(const Supplysec__V1__Organization *org, const char *prefix, status *st);

#endif
