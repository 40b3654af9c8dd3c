/* test_number.c — the proto3 JSON mapping's number rules (internal/doc/number.h): integers
 * from strings and doubles at and past int64's and uint64's ends, what an integer string may
 * not hold ('+', spaces, exponents, fractions), "-0", negative unsigned values, the float
 * strings "NaN", "Infinity", "-Infinity", and the BSON values a document brings. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <math.h>
#include <string.h>

#include "number.h"

/* ---- from strings and doubles ---- */

static void signed_text_is(const char *s, int64_t want)
{
    int64_t v = 7;
    number_status st = number_signed_from_string(s, strlen(s), &v);
    if (st != NUMBER_OK || v != want)
        fail_msg("\"%s\": status %d, value %lld; want %lld", s, st, (long long)v, (long long)want);
}

/* Refused with status want, leaving *out untouched. */
static void signed_text_refused(const char *s, number_status want)
{
    int64_t v = 7;
    number_status st = number_signed_from_string(s, strlen(s), &v);
    if (st != want || v != 7)
        fail_msg("\"%s\": status %d, value %lld; want status %d", s, st, (long long)v, want);
}

static void unsigned_text_is(const char *s, uint64_t want)
{
    uint64_t v = 7;
    number_status st = number_unsigned_from_string(s, strlen(s), &v);
    if (st != NUMBER_OK || v != want)
        fail_msg("\"%s\": status %d, value %llu; want %llu", s, st, (unsigned long long)v,
                 (unsigned long long)want);
}

static void unsigned_text_refused(const char *s, number_status want)
{
    uint64_t v = 7;
    number_status st = number_unsigned_from_string(s, strlen(s), &v);
    if (st != want || v != 7)
        fail_msg("\"%s\": status %d, value %llu; want status %d", s, st, (unsigned long long)v,
                 want);
}

static void test_signed_from_string(void **state)
{
    (void)state;
    signed_text_is("0", 0);
    signed_text_is("-0", 0);
    signed_text_is("42", 42);
    signed_text_is("-42", -42);
    signed_text_is("007", 7); /* leading zeros are digits too */
    signed_text_is("9223372036854775807", INT64_MAX);
    signed_text_is("-9223372036854775808", INT64_MIN);
    signed_text_is("0000000000000000000000009223372036854775807", INT64_MAX);

    signed_text_refused("9223372036854775808", NUMBER_OUT_OF_RANGE);
    signed_text_refused("-9223372036854775809", NUMBER_OUT_OF_RANGE);
    signed_text_refused("99999999999999999999999999", NUMBER_OUT_OF_RANGE);

    /* only an optional '-' and digits: the JSON number forms are refused as strings */
    signed_text_refused("", NUMBER_WRONG_TYPE);
    signed_text_refused("-", NUMBER_WRONG_TYPE);
    signed_text_refused("+1", NUMBER_WRONG_TYPE);
    signed_text_refused("--1", NUMBER_WRONG_TYPE);
    signed_text_refused(" 1", NUMBER_WRONG_TYPE);
    signed_text_refused("1 ", NUMBER_WRONG_TYPE);
    signed_text_refused("\t1", NUMBER_WRONG_TYPE);
    signed_text_refused("1e3", NUMBER_WRONG_TYPE);
    signed_text_refused("1.0", NUMBER_WRONG_TYPE);
    signed_text_refused("1.5", NUMBER_WRONG_TYPE);
    signed_text_refused("0x10", NUMBER_WRONG_TYPE);
    signed_text_refused("NaN", NUMBER_WRONG_TYPE);
    signed_text_refused("Infinity", NUMBER_WRONG_TYPE);

    /* an embedded NUL is not a digit */
    int64_t v = 7;
    assert_int_equal(number_signed_from_string("1\0002", 3, &v), NUMBER_WRONG_TYPE);
    assert_int_equal(v, 7);
}

static void test_unsigned_from_string(void **state)
{
    (void)state;
    unsigned_text_is("0", 0);
    unsigned_text_is("42", 42);
    unsigned_text_is("18446744073709551615", UINT64_MAX);
    unsigned_text_is("9223372036854775808", (uint64_t)INT64_MAX + 1);
    /* negative zero, however written, is zero */
    unsigned_text_is("-0", 0);
    unsigned_text_is("-000", 0);

    unsigned_text_refused("18446744073709551616", NUMBER_OUT_OF_RANGE);
    unsigned_text_refused("99999999999999999999999999", NUMBER_OUT_OF_RANGE);
    /* any other negative integer is an integer out of range, not malformed */
    unsigned_text_refused("-1", NUMBER_OUT_OF_RANGE);
    unsigned_text_refused("-01", NUMBER_OUT_OF_RANGE);
    unsigned_text_refused("-18446744073709551615", NUMBER_OUT_OF_RANGE);

    unsigned_text_refused("", NUMBER_WRONG_TYPE);
    unsigned_text_refused("-", NUMBER_WRONG_TYPE);
    unsigned_text_refused("-x", NUMBER_WRONG_TYPE);
    unsigned_text_refused("- 1", NUMBER_WRONG_TYPE);
    unsigned_text_refused("+1", NUMBER_WRONG_TYPE);
    unsigned_text_refused(" 1", NUMBER_WRONG_TYPE);
    unsigned_text_refused("1 ", NUMBER_WRONG_TYPE);
    unsigned_text_refused("1e3", NUMBER_WRONG_TYPE);
    unsigned_text_refused("1.0", NUMBER_WRONG_TYPE);
    unsigned_text_refused("-1.5", NUMBER_WRONG_TYPE);
}

static void signed_double_is(double d, int64_t want)
{
    int64_t v = 7;
    number_status st = number_signed_from_double(d, &v);
    if (st != NUMBER_OK || v != want)
        fail_msg("%g: status %d, value %lld; want %lld", d, st, (long long)v, (long long)want);
}

static void signed_double_refused(double d, number_status want)
{
    int64_t v = 7;
    number_status st = number_signed_from_double(d, &v);
    if (st != want || v != 7)
        fail_msg("%g: status %d, value %lld; want status %d", d, st, (long long)v, want);
}

static void test_signed_from_double(void **state)
{
    (void)state;
    signed_double_is(0.0, 0);
    signed_double_is(-0.0, 0);
    signed_double_is(1e3, 1000); /* what the JSON number 1e3 becomes */
    signed_double_is(-42.0, -42);
    signed_double_is(-9223372036854775808.0, INT64_MIN);                   /* -2^63, exact */
    signed_double_is(9223372036854774784.0, INT64_C(9223372036854774784)); /* below 2^63 */

    signed_double_refused(9223372036854775808.0, NUMBER_OUT_OF_RANGE);  /* 2^63 */
    signed_double_refused(-9223372036854777856.0, NUMBER_OUT_OF_RANGE); /* below -2^63 */
    signed_double_refused(1e300, NUMBER_OUT_OF_RANGE);
    signed_double_refused(1.5, NUMBER_WRONG_TYPE);
    signed_double_refused(-0.5, NUMBER_WRONG_TYPE);
    signed_double_refused(1e-300, NUMBER_WRONG_TYPE);
    signed_double_refused(NAN, NUMBER_WRONG_TYPE);
    signed_double_refused(INFINITY, NUMBER_WRONG_TYPE);
    signed_double_refused(-INFINITY, NUMBER_WRONG_TYPE);
}

static void unsigned_double_is(double d, uint64_t want)
{
    uint64_t v = 7;
    number_status st = number_unsigned_from_double(d, &v);
    if (st != NUMBER_OK || v != want)
        fail_msg("%g: status %d, value %llu; want %llu", d, st, (unsigned long long)v,
                 (unsigned long long)want);
}

static void unsigned_double_refused(double d, number_status want)
{
    uint64_t v = 7;
    number_status st = number_unsigned_from_double(d, &v);
    if (st != want || v != 7)
        fail_msg("%g: status %d, value %llu; want status %d", d, st, (unsigned long long)v, want);
}

static void test_unsigned_from_double(void **state)
{
    (void)state;
    unsigned_double_is(0.0, 0);
    unsigned_double_is(-0.0, 0);
    unsigned_double_is(1e3, 1000);
    unsigned_double_is(9223372036854775808.0, UINT64_C(9223372036854775808));   /* 2^63 */
    unsigned_double_is(18446744073709549568.0, UINT64_C(18446744073709549568)); /* below 2^64 */

    unsigned_double_refused(18446744073709551616.0, NUMBER_OUT_OF_RANGE); /* 2^64 */
    unsigned_double_refused(1e300, NUMBER_OUT_OF_RANGE);
    unsigned_double_refused(-1.0, NUMBER_OUT_OF_RANGE);
    unsigned_double_refused(-1.5, NUMBER_OUT_OF_RANGE);
    unsigned_double_refused(-1e300, NUMBER_OUT_OF_RANGE);
    /* between -1 and 0: a fraction, not a negative integer */
    unsigned_double_refused(-0.5, NUMBER_WRONG_TYPE);
    unsigned_double_refused(2.5, NUMBER_WRONG_TYPE);
    unsigned_double_refused(NAN, NUMBER_WRONG_TYPE);
    unsigned_double_refused(INFINITY, NUMBER_WRONG_TYPE);
    unsigned_double_refused(-INFINITY, NUMBER_WRONG_TYPE);
}

static double double_text(const char *s)
{
    double d = 7.0;
    if (!number_double_from_string(s, strlen(s), &d))
        fail_msg("\"%s\" refused", s);
    return d;
}

static void double_text_refused(const char *s)
{
    double d;
    if (number_double_from_string(s, strlen(s), &d))
        fail_msg("\"%s\" accepted as %g", s, d);
}

static void test_double_from_string(void **state)
{
    (void)state;
    /* proto3 JSON's three names, spelt exactly */
    assert_true(isnan(double_text("NaN")));
    assert_true(isinf(double_text("Infinity")) && double_text("Infinity") > 0);
    assert_true(isinf(double_text("-Infinity")) && double_text("-Infinity") < 0);
    double_text_refused("nan");
    double_text_refused("-NaN");
    double_text_refused("inf");
    double_text_refused("infinity");
    double_text_refused("+Infinity");
    double_text_refused("Infinity ");
    double d = 7.0;
    assert_false(number_double_from_string("NaN\0x", 5, &d)); /* an embedded NUL */

    assert_true(double_text("0") == 0.0);
    assert_true(double_text("1.5") == 1.5);
    assert_true(double_text("1e3") == 1000.0);
    assert_true(double_text("1E-3") == 0.001);
    assert_true(double_text("+1.5") == 1.5);
    assert_true(double_text(".5") == 0.5);
    assert_true(double_text("5.") == 5.0);
    assert_true(double_text("-0") == 0.0 && signbit(double_text("-0")));
    assert_true(double_text("1.7976931348623157e308") == 1.7976931348623157e308);
    /* too small for a double: strtod's nearest, zero or a subnormal, is taken */
    assert_true(double_text("1e-400") == 0.0);
    /* too large: it would be an infinity no one wrote */
    double_text_refused("1e400");
    double_text_refused("-1e400");

    double_text_refused("");
    double_text_refused(" 1");
    double_text_refused("1 ");
    double_text_refused(".");
    double_text_refused("1e");
    double_text_refused("--1");
    double_text_refused("1-");
    double_text_refused("0x10");
    double_text_refused("0x1p3");
    double_text_refused("1,5");
}

/* ---- from BSON values ---- */

/* doc holds "v"; *it is put on it. */
static void at_v(const bson_t *doc, bson_iter_t *it)
{
    assert_true(bson_iter_init_find(it, doc, "v"));
}

static void test_signed_in_range(void **state)
{
    (void)state;
    bson_t doc = BSON_INITIALIZER;
    bson_iter_t it;
    int64_t v;

    /* each BSON form, within int32 */
    bson_append_int32(&doc, "v", -1, INT32_MIN);
    at_v(&doc, &it);
    assert_int_equal(number_signed_in_range(&it, INT32_MIN, INT32_MAX, &v), NUMBER_OK);
    assert_true(v == INT32_MIN);
    bson_reinit(&doc);
    bson_append_int64(&doc, "v", -1, INT32_MAX);
    at_v(&doc, &it);
    assert_int_equal(number_signed_in_range(&it, INT32_MIN, INT32_MAX, &v), NUMBER_OK);
    assert_true(v == INT32_MAX);
    bson_reinit(&doc);
    bson_append_double(&doc, "v", -1, 1e3);
    at_v(&doc, &it);
    assert_int_equal(number_signed_in_range(&it, INT32_MIN, INT32_MAX, &v), NUMBER_OK);
    assert_true(v == 1000);
    bson_reinit(&doc);
    bson_append_utf8(&doc, "v", -1, "-9223372036854775808", -1);
    at_v(&doc, &it);
    assert_int_equal(number_signed_in_range(&it, INT64_MIN, INT64_MAX, &v), NUMBER_OK);
    assert_true(v == INT64_MIN);

    /* past the range asked for, and left untouched */
    v = 7;
    bson_reinit(&doc);
    bson_append_int64(&doc, "v", -1, (int64_t)INT32_MAX + 1);
    at_v(&doc, &it);
    assert_int_equal(number_signed_in_range(&it, INT32_MIN, INT32_MAX, &v), NUMBER_OUT_OF_RANGE);
    bson_reinit(&doc);
    bson_append_double(&doc, "v", -1, -2147483649.0);
    at_v(&doc, &it);
    assert_int_equal(number_signed_in_range(&it, INT32_MIN, INT32_MAX, &v), NUMBER_OUT_OF_RANGE);
    bson_reinit(&doc);
    bson_append_utf8(&doc, "v", -1, "2147483648", -1);
    at_v(&doc, &it);
    assert_int_equal(number_signed_in_range(&it, INT32_MIN, INT32_MAX, &v), NUMBER_OUT_OF_RANGE);
    assert_true(v == 7);

    /* not an integer */
    bson_reinit(&doc);
    bson_append_bool(&doc, "v", -1, true);
    at_v(&doc, &it);
    assert_int_equal(number_signed_in_range(&it, INT64_MIN, INT64_MAX, &v), NUMBER_WRONG_TYPE);
    bson_reinit(&doc);
    bson_append_double(&doc, "v", -1, 0.5);
    at_v(&doc, &it);
    assert_int_equal(number_signed_in_range(&it, INT64_MIN, INT64_MAX, &v), NUMBER_WRONG_TYPE);
    bson_reinit(&doc);
    bson_append_utf8(&doc, "v", -1, "1e3", -1);
    at_v(&doc, &it);
    assert_int_equal(number_signed_in_range(&it, INT64_MIN, INT64_MAX, &v), NUMBER_WRONG_TYPE);
    assert_true(v == 7);
    bson_destroy(&doc);
}

static void test_unsigned_in_range(void **state)
{
    (void)state;
    bson_t doc = BSON_INITIALIZER;
    bson_iter_t it;
    uint64_t v;

    bson_append_int64(&doc, "v", -1, UINT32_MAX);
    at_v(&doc, &it);
    assert_int_equal(number_unsigned_in_range(&it, UINT32_MAX, &v), NUMBER_OK);
    assert_true(v == UINT32_MAX);
    bson_reinit(&doc);
    bson_append_utf8(&doc, "v", -1, "18446744073709551615", -1);
    at_v(&doc, &it);
    assert_int_equal(number_unsigned_in_range(&it, UINT64_MAX, &v), NUMBER_OK);
    assert_true(v == UINT64_MAX);
    bson_reinit(&doc);
    bson_append_double(&doc, "v", -1, -0.0);
    at_v(&doc, &it);
    assert_int_equal(number_unsigned_in_range(&it, UINT32_MAX, &v), NUMBER_OK);
    assert_true(v == 0);

    v = 7;
    bson_reinit(&doc);
    bson_append_int32(&doc, "v", -1, -1); /* negative: out of range */
    at_v(&doc, &it);
    assert_int_equal(number_unsigned_in_range(&it, UINT64_MAX, &v), NUMBER_OUT_OF_RANGE);
    bson_reinit(&doc);
    bson_append_int64(&doc, "v", -1, INT64_MIN);
    at_v(&doc, &it);
    assert_int_equal(number_unsigned_in_range(&it, UINT64_MAX, &v), NUMBER_OUT_OF_RANGE);
    bson_reinit(&doc);
    bson_append_utf8(&doc, "v", -1, "4294967296", -1);
    at_v(&doc, &it);
    assert_int_equal(number_unsigned_in_range(&it, UINT32_MAX, &v), NUMBER_OUT_OF_RANGE);
    bson_reinit(&doc);
    bson_append_utf8(&doc, "v", -1, "-5", -1);
    at_v(&doc, &it);
    assert_int_equal(number_unsigned_in_range(&it, UINT64_MAX, &v), NUMBER_OUT_OF_RANGE);
    bson_reinit(&doc);
    bson_append_null(&doc, "v", -1);
    at_v(&doc, &it);
    assert_int_equal(number_unsigned_in_range(&it, UINT64_MAX, &v), NUMBER_WRONG_TYPE);
    assert_true(v == 7);
    bson_destroy(&doc);
}

static void test_number_value(void **state)
{
    (void)state;
    bson_t doc = BSON_INITIALIZER;
    bson_iter_t it;
    double d;

    bson_append_int32(&doc, "v", -1, -3);
    at_v(&doc, &it);
    assert_true(number_value(&it, &d) && d == -3.0);
    bson_reinit(&doc);
    bson_append_int64(&doc, "v", -1, INT64_C(1) << 53);
    at_v(&doc, &it);
    assert_true(number_value(&it, &d) && d == 9007199254740992.0);
    bson_reinit(&doc);
    bson_append_double(&doc, "v", -1, 0.25);
    at_v(&doc, &it);
    assert_true(number_value(&it, &d) && d == 0.25);
    bson_reinit(&doc);
    bson_append_utf8(&doc, "v", -1, "-Infinity", -1);
    at_v(&doc, &it);
    assert_true(number_value(&it, &d) && isinf(d) && d < 0);
    bson_reinit(&doc);
    bson_append_utf8(&doc, "v", -1, "one", -1);
    at_v(&doc, &it);
    assert_false(number_value(&it, &d));
    bson_reinit(&doc);
    bson_append_bool(&doc, "v", -1, true);
    at_v(&doc, &it);
    assert_false(number_value(&it, &d));
    bson_destroy(&doc);
}

static void test_types(void **state)
{
    (void)state;
    assert_true(number_is_unsigned(PROTOBUF_C_TYPE_UINT32));
    assert_true(number_is_unsigned(PROTOBUF_C_TYPE_FIXED32));
    assert_true(number_is_unsigned(PROTOBUF_C_TYPE_UINT64));
    assert_true(number_is_unsigned(PROTOBUF_C_TYPE_FIXED64));
    assert_false(number_is_unsigned(PROTOBUF_C_TYPE_INT64));
    assert_false(number_is_unsigned(PROTOBUF_C_TYPE_SFIXED32));
    assert_string_equal(number_type_name(PROTOBUF_C_TYPE_INT32), "int32");
    assert_string_equal(number_type_name(PROTOBUF_C_TYPE_SINT32), "sint32");
    assert_string_equal(number_type_name(PROTOBUF_C_TYPE_SFIXED64), "sfixed64");
    assert_string_equal(number_type_name(PROTOBUF_C_TYPE_FIXED64), "fixed64");
    assert_string_equal(number_type_name(PROTOBUF_C_TYPE_UINT64), "uint64");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_signed_from_string),
        cmocka_unit_test(test_unsigned_from_string),
        cmocka_unit_test(test_signed_from_double),
        cmocka_unit_test(test_unsigned_from_double),
        cmocka_unit_test(test_double_from_string),
        cmocka_unit_test(test_signed_in_range),
        cmocka_unit_test(test_unsigned_in_range),
        cmocka_unit_test(test_number_value),
        cmocka_unit_test(test_types),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
