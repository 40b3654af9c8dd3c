/* number.h — the proto3 JSON mapping's number rules: integers and floats from JSON numbers and
 * strings, range checks.
 *
 * A document's number arrives as a BSON int32, int64 or double, or (proto3 JSON, and BSON for
 * uint64 above INT64_MAX) as a decimal string. An integer field takes a string of decimal digits
 * with an optional '-' (no '+', spaces, exponent or fraction) or a double with no fractional part;
 * a float field takes any number, a decimal string, or "NaN", "Infinity", "-Infinity". The
 * converter (doc.c) reads numbers through these and words the refusals, with the field's path.
 *
 * Strings are s[0..len) as bson_iter_utf8 gives them: NUL-terminated at len. The integer
 * functions write *out only on NUMBER_OK.
 */
#ifndef SUPPLYSEC_NUMBER_H
#define SUPPLYSEC_NUMBER_H

#include <bson/bson.h>
#include <protobuf-c/protobuf-c.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Why a value is refused: not an integer at all, or one outside the type's range. */
typedef enum number_status { NUMBER_OK, NUMBER_WRONG_TYPE, NUMBER_OUT_OF_RANGE } number_status;

/* "-123" → -123; digits beyond int64: out of range. */
number_status number_signed_from_string(const char *s, size_t len, int64_t *out);
/* 1e3 → 1000; a fraction, NaN or an infinity: wrong type; beyond int64: out of range. */
number_status number_signed_from_double(double d, int64_t *out);
/* "123" → 123; "-0" → 0; any other negative: out of range; beyond uint64: out of range. */
number_status number_unsigned_from_string(const char *s, size_t len, uint64_t *out);
/* -0.0 → 0; a fraction (also -0.5), NaN or an infinity: wrong type; -1 or less, or 2^64 or
 * more: out of range. */
number_status number_unsigned_from_double(double d, uint64_t *out);
/* A decimal number strtod reads ("1e3", "+1.5", ".5") that is finite, or exactly "NaN",
 * "Infinity", "-Infinity"; false otherwise (*out then unspecified). */
bool number_double_from_string(const char *s, size_t len, double *out);

/* The integer *it holds (int32, int64, double or string) if it is within min..max. */
number_status number_signed_in_range(const bson_iter_t *it, int64_t min, int64_t max, int64_t *out);
/* The same for unsigned integers, within 0..max (a negative int32 or int64: out of range). */
number_status number_unsigned_in_range(const bson_iter_t *it, uint64_t max, uint64_t *out);
/* The number *it holds (int32, int64, double or string) as a double; false for anything else. */
bool number_value(const bson_iter_t *it, double *out);

/* Whether an integer type takes the unsigned rules (uint32, fixed32, uint64, fixed64). */
bool number_is_unsigned(ProtobufCType type);
/* An integer type's proto name ("sfixed64"), for messages; "int32" for non-integer types. */
const char *number_type_name(ProtobufCType type);

#endif
