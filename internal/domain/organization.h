/* organization.h — the rules of an Organization resource (docs/domain.md). */
#ifndef SUPPLYSEC_ORGANIZATION_H
#define SUPPLYSEC_ORGANIZATION_H

#include <stdbool.h>

#include "kind.h"
#include "status.h"
#include "supplysec/v1/organizations.pb-c.h"

/* Checks every writable field; messages name the field under `prefix`
 * (e.g. "organization"). */
bool organization_validate(const Supplysec__V1__Organization *org, const char *prefix, status *st);

/* The Organization kind: organizations/{organization}, top level, each its
 * own tenant. Platform administrators create and delete them (a delete
 * takes the organization's keys with it, and is refused while one is
 * active); an organization's ADMIN updates it, all but its kind; its
 * members read it. */
extern const kind organization_kind;

/* The kind of the organization org_id (NOT_FOUND naming it when there is
 * none). */
bool organization_kind_of(const op_ctx *op, const char *org_id,
                          Supplysec__V1__OrganizationKind *kind, status *st);

#endif
