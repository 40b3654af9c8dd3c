/* utf8.h — UTF-8 checks for text that crosses a trust boundary: request
 * strings (protobuf says a string field is UTF-8; protobuf-c does not
 * check), log lines (JSON must be UTF-8) and excerpts of input quoted in
 * error messages (cut on a character boundary, never inside one). */
#ifndef SUPPLYSEC_UTF8_H
#define SUPPLYSEC_UTF8_H

#include <stdbool.h>
#include <stddef.h>

/* Length (1-4) of the well-formed UTF-8 character at s[0..n), or 0 when
 * the bytes there are not one: a stray continuation byte, an overlong form,
 * a surrogate, a code point past U+10FFFF, or a sequence cut short. */
size_t utf8_char_len(const unsigned char *s, size_t n);

/* True when s[0..n) is well-formed UTF-8; *bad_at (may be NULL) gets the
 * offset of the first byte that is not. */
bool utf8_valid(const char *s, size_t n, size_t *bad_at);

/* The longest prefix of the NUL-terminated s that is at most max bytes and
 * ends on a character boundary (for "%.*s"). Bytes that are not UTF-8
 * count as one character each. */
int utf8_clip(const char *s, size_t max);

/* printf arguments quoting at most max bytes of s, cut on a boundary:
 *   "got \"%.*s\"", UTF8_CLIP(name, 80) */
#define UTF8_CLIP(s, max) utf8_clip((s), (max)), (s)

#endif
