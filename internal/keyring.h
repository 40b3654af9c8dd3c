/* keyring.h — issuing API keys and the first platform key.
 *
 * Issuing is shared by ApiKeys.CreateApiKey and `supplysecd bootstrap`: a
 * new secret, its hash stored with the key's metadata as a StoredApiKey, the
 * visible prefix as the store's unique lookup column.
 */
#ifndef SUPPLYSEC_KEYRING_H
#define SUPPLYSEC_KEYRING_H

#include <stdbool.h>

#include "apikey.h"
#include "resource.h"
#include "supplysec/v1/api_keys.pb-c.h"

#define BOOTSTRAP_KEY_ID "bootstrap-admin"

/* Stores key (role and display_name set by the caller; the rest is filled)
 * under parent ("platform" or "organizations/{org}") with id, and writes the
 * secret. The caller keeps ownership of key. An organization's key is
 * stored only if the organization exists when it commits: NOT_FOUND naming
 * parent otherwise, also when a concurrent delete of the organization won. */
bool keyring_issue(const op_ctx *op, const char *parent, const char *org, const char *id,
                   Supplysec__V1__ApiKey *key, char secret[APIKEY_SECRET_LEN + 1], status *st);

/* Creates the first platform-administrator key; FAILED_PRECONDITION when
 * the store already has a platform key. */
bool keyring_bootstrap(store *s, char secret[APIKEY_SECRET_LEN + 1], status *st);

#endif
