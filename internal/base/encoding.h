/* encoding.h — hex and base64 text for bytes: etags, fingerprints, request
 * ids, key prefixes and secrets, page tokens, and bytes fields in JSON. */
#ifndef SUPPLYSEC_ENCODING_H
#define SUPPLYSEC_ENCODING_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Lower-case hex of n bytes into out (2n + 1 chars, NUL-terminated). */
void hex_encode(const uint8_t *in, size_t n, char *out);

/* base64 of len bytes: the standard alphabet with padding, or (url) the
 * URL-safe alphabet without padding. malloc'd, NUL-terminated; NULL when
 * out of memory. */
char *base64_encode(const uint8_t *data, size_t len, bool url);

/* Decodes either alphabet, padding optional. *out is malloc'd (NULL when
 * the result is empty). False on a character outside the alphabets or a
 * length no encoding has. */
bool base64_decode(const char *s, size_t len, uint8_t **out, size_t *out_len);

#endif
