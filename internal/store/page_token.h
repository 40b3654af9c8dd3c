/* page_token.h — AIP-158 page tokens: opaque to clients, bound to the query
 * they continue, and authenticated, so a token is only ever one the server
 * issued for that same query.
 *
 * A token is base64url(mac || after): `after` is the keyset cursor (the last
 * name returned) and mac the first 16 bytes of HMAC-SHA256 over the query
 * key (method, caller's organization, parent, filter: resource.c builds it)
 * and the cursor. The HMAC key is 32 random bytes kept in the store (record
 * serverSecrets/pageTokens, created on first use), so every server sharing a
 * store accepts the others' tokens and a restart keeps them valid. A token
 * from another query, altered, or forged is INVALID_ARGUMENT.
 */
#ifndef SUPPLYSEC_PAGE_TOKEN_H
#define SUPPLYSEC_PAGE_TOKEN_H

#include <stdbool.h>

#include "status.h"
#include "store.h"

#define PAGE_TOKEN_SECRETS_COLLECTION "serverSecrets"
#define PAGE_TOKEN_KEY_NAME "serverSecrets/pageTokens"

/* A malloc'd token continuing query after `after`; NULL with st set (the
 * key could not be read from the store: UNAVAILABLE). */
char *page_token_encode(store *s, const char *query, const char *after, status *st);

/* Sets *after (malloc'd; "" for the empty token, which starts the list) or
 * fails with st: INVALID_ARGUMENT for a token not issued for query. */
bool page_token_decode(store *s, const char *token, const char *query, char **after, status *st);

#endif
