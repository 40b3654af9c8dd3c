/* number.c — the proto3 JSON mapping's number rules: integers and floats from JSON numbers and
 * strings, range checks (see number.h). Knows no reader or path: doc.c words the refusals. */
#include "number.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

static bool all_digits(const char *s, size_t len)
{
    if (len == 0)
        return false;
    for (size_t i = 0; i < len; i++) {
        if (s[i] < '0' || s[i] > '9')
            return false;
    }
    return true;
}

number_status number_signed_from_string(const char *s, size_t len, int64_t *out)
{
    size_t sign = len > 0 && s[0] == '-';
    long long v;

    if (!all_digits(s + sign, len - sign))
        return NUMBER_WRONG_TYPE;
    /* strtoll stops at s[len], a NUL; checking digits first keeps out what it would skip or
     * take ('+', spaces, "0x"). */
    errno = 0;
    v = strtoll(s, NULL, 10);
    if (errno == ERANGE)
        return NUMBER_OUT_OF_RANGE;
    *out = v;
    return NUMBER_OK;
}

number_status number_signed_from_double(double d, int64_t *out)
{
    if (!isfinite(d))
        return NUMBER_WRONG_TYPE;
    /* -2^63 and 2^63 are exact doubles (INT64_MAX is not), so the conversion below is defined. */
    if (d < -9223372036854775808.0 || d >= 9223372036854775808.0)
        return NUMBER_OUT_OF_RANGE;
    if ((double)(int64_t)d != d)
        return NUMBER_WRONG_TYPE;
    *out = (int64_t)d;
    return NUMBER_OK;
}

static number_status signed_value(const bson_iter_t *it, int64_t *out)
{
    uint32_t len;
    const char *s;

    switch (bson_iter_type(it)) {
    case BSON_TYPE_INT32:
        *out = bson_iter_int32(it);
        return NUMBER_OK;
    case BSON_TYPE_INT64:
        *out = bson_iter_int64(it);
        return NUMBER_OK;
    case BSON_TYPE_DOUBLE:
        return number_signed_from_double(bson_iter_double(it), out);
    case BSON_TYPE_UTF8:
        s = bson_iter_utf8(it, &len);
        return number_signed_from_string(s, len, out);
    default:
        return NUMBER_WRONG_TYPE;
    }
}

number_status number_signed_in_range(const bson_iter_t *it, int64_t min, int64_t max, int64_t *out)
{
    int64_t v;
    number_status st = signed_value(it, &v);

    if (st == NUMBER_OK && (v < min || v > max))
        return NUMBER_OUT_OF_RANGE;
    if (st == NUMBER_OK)
        *out = v;
    return st;
}

number_status number_unsigned_from_string(const char *s, size_t len, uint64_t *out)
{
    unsigned long long v;

    /* A negative integer is an integer out of range, not malformed; "-0" is zero. */
    if (len > 0 && s[0] == '-') {
        if (!all_digits(s + 1, len - 1))
            return NUMBER_WRONG_TYPE;
        if (strspn(s + 1, "0") != len - 1)
            return NUMBER_OUT_OF_RANGE;
        *out = 0;
        return NUMBER_OK;
    }
    if (!all_digits(s, len))
        return NUMBER_WRONG_TYPE;
    errno = 0;
    v = strtoull(s, NULL, 10);
    if (errno == ERANGE)
        return NUMBER_OUT_OF_RANGE;
    *out = v;
    return NUMBER_OK;
}

number_status number_unsigned_from_double(double d, uint64_t *out)
{
    if (!isfinite(d))
        return NUMBER_WRONG_TYPE;
    if (d <= -1.0 || d >= 18446744073709551616.0)
        return NUMBER_OUT_OF_RANGE;
    /* -1 < d < 0 would truncate to 0: a fraction, so the wrong type (-0.0 is zero). */
    if (d < 0.0 || (double)(uint64_t)d != d)
        return NUMBER_WRONG_TYPE;
    *out = (uint64_t)d;
    return NUMBER_OK;
}

static number_status unsigned_value(const bson_iter_t *it, uint64_t *out)
{
    int64_t v;
    uint32_t len;
    const char *s;

    switch (bson_iter_type(it)) {
    case BSON_TYPE_INT32:
    case BSON_TYPE_INT64:
        v = bson_iter_as_int64(it);
        if (v < 0)
            return NUMBER_OUT_OF_RANGE;
        *out = (uint64_t)v;
        return NUMBER_OK;
    case BSON_TYPE_DOUBLE:
        return number_unsigned_from_double(bson_iter_double(it), out);
    case BSON_TYPE_UTF8:
        s = bson_iter_utf8(it, &len);
        return number_unsigned_from_string(s, len, out);
    default:
        return NUMBER_WRONG_TYPE;
    }
}

number_status number_unsigned_in_range(const bson_iter_t *it, uint64_t max, uint64_t *out)
{
    uint64_t v;
    number_status st = unsigned_value(it, &v);

    if (st == NUMBER_OK && v > max)
        return NUMBER_OUT_OF_RANGE;
    if (st == NUMBER_OK)
        *out = v;
    return st;
}

bool number_double_from_string(const char *s, size_t len, double *out)
{
    char *end;

    if (strcmp(s, "NaN") == 0 || strcmp(s, "Infinity") == 0 || strcmp(s, "-Infinity") == 0) {
        *out = s[0] == 'N' ? NAN : s[0] == '-' ? -INFINITY : INFINITY;
        return strlen(s) == len;
    }
    /* Only what a JSON number is made of, so strtod's "inf", "nan", hex and spaces stay out. */
    if (len == 0 || strspn(s, "0123456789+-.eE") != len)
        return false;
    *out = strtod(s, &end);
    return end == s + len && isfinite(*out);
}

bool number_value(const bson_iter_t *it, double *out)
{
    uint32_t len;
    const char *s;

    switch (bson_iter_type(it)) {
    case BSON_TYPE_INT32:
    case BSON_TYPE_INT64:
        *out = (double)bson_iter_as_int64(it);
        return true;
    case BSON_TYPE_DOUBLE:
        /* one NaN: its sign and payload bits have no JSON form ("NaN"), so
         * a document's NaN reads as the one its JSON reads as */
        *out = bson_iter_double(it);
        if (isnan(*out))
            *out = NAN;
        return true;
    case BSON_TYPE_UTF8:
        s = bson_iter_utf8(it, &len);
        return number_double_from_string(s, len, out);
    default:
        return false;
    }
}

bool number_is_unsigned(ProtobufCType type)
{
    return type == PROTOBUF_C_TYPE_UINT32 || type == PROTOBUF_C_TYPE_FIXED32 ||
           type == PROTOBUF_C_TYPE_UINT64 || type == PROTOBUF_C_TYPE_FIXED64;
}

const char *number_type_name(ProtobufCType type)
{
    switch (type) {
    case PROTOBUF_C_TYPE_SINT32:
        return "sint32";
    case PROTOBUF_C_TYPE_SFIXED32:
        return "sfixed32";
    case PROTOBUF_C_TYPE_UINT32:
        return "uint32";
    case PROTOBUF_C_TYPE_FIXED32:
        return "fixed32";
    case PROTOBUF_C_TYPE_INT64:
        return "int64";
    case PROTOBUF_C_TYPE_SINT64:
        return "sint64";
    case PROTOBUF_C_TYPE_SFIXED64:
        return "sfixed64";
    case PROTOBUF_C_TYPE_UINT64:
        return "uint64";
    case PROTOBUF_C_TYPE_FIXED64:
        return "fixed64";
    default:
        return "int32";
    }
}
