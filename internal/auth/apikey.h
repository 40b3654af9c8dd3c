/* apikey.h — API key secrets: generation, hashing, parsing a bearer token.
 *
 * A secret looks like `ssk_1a2b3c4d5e6f7a8b_<43 base64url chars>`: the
 * visible prefix `ssk_<16 hex>` (64 random bits, so prefixes of millions of
 * keys do not collide) identifies the key and is the store's unique lookup
 * column; the tail carries 256 random bits from
 * OpenSSL. Only SHA-256(secret) is stored (the secret's entropy makes a slow
 * hash unnecessary); comparison is constant time.
 */
#ifndef SUPPLYSEC_APIKEY_H
#define SUPPLYSEC_APIKEY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define APIKEY_PREFIX_LEN 20 /* "ssk_" + 16 hex */
#define APIKEY_SECRET_LEN (APIKEY_PREFIX_LEN + 1 + 43)
#define APIKEY_HASH_LEN 32

/* Fills a new secret (NUL-terminated) and its prefix. */
bool apikey_generate(char secret[APIKEY_SECRET_LEN + 1], char prefix[APIKEY_PREFIX_LEN + 1]);

void apikey_hash(const char *secret, uint8_t out[APIKEY_HASH_LEN]);

/* Constant-time comparison of a stored hash with the hash of secret. */
bool apikey_matches(const char *secret, const uint8_t *stored_hash, size_t stored_len);

/* From an `authorization` header value (not NUL-terminated) takes the
 * bearer secret into secret and its prefix into prefix. False when the value
 * is not `Bearer <well-formed secret>`. */
bool apikey_parse_bearer(const char *value, size_t len, char secret[APIKEY_SECRET_LEN + 1],
                         char prefix[APIKEY_PREFIX_LEN + 1]);

#endif
