/* keyring.h — the ApiKey kind: issuing, reading and revoking API keys, and
 * the first platform key.
 *
 * Keys live under `platform` (platform administrators' keys) or under
 * `organizations/{org}` (its members' keys). An organization's ADMIN
 * manages its keys; platform administrators manage all. A key is stored as
 * a StoredApiKey: the key's metadata and SHA-256 of its secret, the visible
 * prefix as the store's unique lookup column. The secret leaves the server
 * once, in the answer to its creation. GetApiKey and ListApiKeys are
 * standard (standard.h); creating, revoking and the caller's own key are
 * the custom methods below.
 */
#ifndef SUPPLYSEC_KEYRING_H
#define SUPPLYSEC_KEYRING_H

#include <stdbool.h>

#include "apikey.h"
#include "kind.h"
#include "supplysec/v1/api_keys.pb-c.h"

#define BOOTSTRAP_KEY_ID "bootstrap-admin"

extern const kind api_key_kind;

/* CreateApiKey: stores *key (taken: *key is NULL afterwards; its role and
 * display_name are the client's, the rest the server's) under parent with
 * id ("" generates one) and fills secret. A ROLE_PLATFORM_ADMIN key lives
 * under `platform` and only there. An organization's key is stored only if
 * the organization exists when it commits: NOT_FOUND naming parent
 * otherwise, also when a concurrent delete of the organization won.
 * Returns the stored key (the caller's). */
Supplysec__V1__ApiKey *keyring_create(const op_ctx *op, const char *parent, const char *id,
                                      Supplysec__V1__ApiKey **key,
                                      char secret[APIKEY_SECRET_LEN + 1], status *st);

/* RevokeApiKey: the key named, revoked (etag as in an update: ABORTED when
 * stale; FAILED_PRECONDITION when it already is). Returns the stored key. */
Supplysec__V1__ApiKey *keyring_revoke(const op_ctx *op, const char *name, const char *etag,
                                      status *st);

/* GetCaller: the key the call was made with (op->who, authenticated),
 * read from the store, whatever its role: a key may always read itself.
 * *parent is set to what the key acts for (`organizations/{org}` or
 * `platform`; malloc'd). Returns the key (the caller's). */
Supplysec__V1__ApiKey *keyring_caller(const op_ctx *op, char **parent, status *st);

/* Creates the first platform-administrator key; FAILED_PRECONDITION when
 * the store already has a platform key. */
bool keyring_bootstrap(store *s, char secret[APIKEY_SECRET_LEN + 1], status *st);

#endif
