/* validation_grant.h — the ValidationGrant kind:
 * organizations/{organization}/validationGrants/{validation_grant}, an
 * operator's grant of read access to a customs authority's validators for
 * the validation of an AEO application (access.h says what they read). */
#ifndef SUPPLYSEC_VALIDATION_GRANT_H
#define SUPPLYSEC_VALIDATION_GRANT_H

#include "kind.h"
#include "supplysec/v1/validation_grants.pb-c.h"

typedef Supplysec__V1__ValidationGrant ValidationGrant;

extern const kind validation_grant_kind;

#define VALIDATION_GRANT_MAX_DAYS 731 /* from start_time to end_time */

/* Its state at now_s (seconds since the epoch). */
Supplysec__V1__GrantState validation_grant_state(const ValidationGrant *g, int64_t now_s);

/* The grants of org in force now that name the authority (its id): a
 * page of them (free with resource_page_free; none: count 0). false only
 * when the store fails (st). */
bool validation_grants_in_force(const op_ctx *op, const char *org, const char *authority,
                                resource_page *page, status *st);

/* RevokeValidationGrant: ends the grant `name` at once (at etag when not
 * ""), answered as stored. ADMIN. */
ValidationGrant *validation_grant_revoke(const op_ctx *op, const char *name, const char *etag,
                                         status *st);

/* ListValidatedOrganizations of the authority `authority` (the caller's
 * own organization: its validators and ADMINs). */
Supplysec__V1__ListValidatedOrganizationsResponse *validation_grant_list_validated(
    const op_ctx *op, const Supplysec__V1__ListValidatedOrganizationsRequest *req, status *st);

#endif
