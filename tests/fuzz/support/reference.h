/* reference.h — second, independent implementations of the rules the
 * product checks, for differential oracles: the fuzz targets require the
 * product and the reference to agree on every input.
 *
 * They are written differently on purpose (UTF-8 by decoding code points
 * rather than by byte ranges; the wire walk without paths or messages), so
 * one mistake is unlikely to be in both. */
#ifndef SUPPLYSEC_FUZZ_REFERENCE_H
#define SUPPLYSEC_FUZZ_REFERENCE_H

#include <protobuf-c/protobuf-c.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* RFC 3629: the length of the character at s[0..n), 0 when not one. */
size_t ref_utf8_char_len(const uint8_t *s, size_t n);
bool ref_utf8_valid(const uint8_t *s, size_t n);

/* wire.h's rule: buf parses as desc (tags, lengths, no groups, field
 * numbers 1..2^29-1), every known string field at any depth is UTF-8
 * without NUL, every google.protobuf.Timestamp within years 1 to 9999
 * (nanos 0 to 999,999,999), and message fields nest at most max_depth
 * levels. */
bool ref_wire_check(const ProtobufCMessageDescriptor *desc, const uint8_t *buf, size_t len,
                    int max_depth);

/* `[a-z][a-z0-9-]{2,62}`, not ending in '-'. */
bool ref_resource_id(const char *s, size_t n);

#endif
