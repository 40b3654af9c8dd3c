/* auth.h — who is calling, and what they may do.
 *
 * A principal is an API key: its resource name, its organization ("" for a
 * platform key) and its role. Authorization follows docs/domain.md: members act
 * in their own organization by role (VIEWER reads, EDITOR writes documents,
 * ADMIN also manages the organization and its keys; a customs authority's
 * VALIDATOR reads like a VIEWER); platform administrators manage
 * organizations and every key. A resource of another organization is
 * NOT_FOUND, never PERMISSION_DENIED, so its existence does not leak; a
 * write beyond one's role in one's own organization is PERMISSION_DENIED.
 */
#ifndef SUPPLYSEC_AUTH_H
#define SUPPLYSEC_AUTH_H

#include <stdbool.h>
#include <stddef.h>

#include "status.h"
#include "store.h"
#include "supplysec/v1/common.pb-c.h"

/* Where authentication reads a key and the organization it belongs to
 * (the ApiKey and Organization kinds live there: domain/). */
#define APIKEYS_COLLECTION "apiKeys"
#define ORGANIZATIONS_COLLECTION "organizations"
#define PLATFORM_PARENT "platform"

typedef struct principal {
    char name[160]; /* e.g. organizations/acme/apiKeys/ops */
    char org[64];   /* organization id; "" for platform keys */
    Supplysec__V1__Role role;
} principal;

typedef struct auth_cache auth_cache; /* auth_cache.h */

/* Checks an `authorization` metadata value (not NUL-terminated; NULL when
 * absent): from cache when it holds the key (auth_cache.h; NULL: no
 * cache), else by reading the key by its prefix and its organization from
 * the store, and then remembered in cache. UNAUTHENTICATED when missing,
 * malformed, unknown or revoked; UNAVAILABLE when the store is. */
bool auth_authenticate(store *s, auth_cache *cache, const char *authorization, size_t len,
                       principal *who, status *st);

bool auth_is_platform_admin(const principal *who);

/* May who act on resources of organization org with at least min_role?
 * Another organization: NOT_FOUND naming `what`; too low a role:
 * PERMISSION_DENIED. Platform administrators pass everywhere. */
bool auth_require(const principal *who, const char *org, Supplysec__V1__Role min_role,
                  const char *what, status *st);

const char *auth_role_name(Supplysec__V1__Role role);

/* What a role may do in its own organization, as a rank a least role is
 * compared with: VIEWER 1, EDITOR 2, ADMIN 3, PLATFORM_ADMIN 4, and a
 * VALIDATOR 1 (it reads its authority's records like a VIEWER and writes
 * nothing; what it reads of others comes from grants, access.h). 0 for
 * anything else. Roles are never compared by their enum numbers. */
int auth_role_rank(Supplysec__V1__Role role);

/* Whether who is a customs validator (ROLE_VALIDATOR of an organization). */
bool auth_is_validator(const principal *who);

#endif
