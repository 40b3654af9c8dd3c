/* test_calendar.c — RFC 3339 text <-> seconds + nanos and civil dates (calendar.h): round
 * trips, offsets, the Timestamp range at and past its ends, leap days, adding months. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <string.h>

#include "calendar.h"

static calendar_time parse_ok(const char *s)
{
    calendar_time t = {0, 0};
    if (!calendar_parse_rfc3339(s, strlen(s), &t))
        fail_msg("\"%s\" refused", s);
    return t;
}

static void refused(const char *s)
{
    calendar_time t = {7, 7};
    if (calendar_parse_rfc3339(s, strlen(s), &t))
        fail_msg("\"%s\" accepted", s);
    assert_int_equal(t.seconds, 7); /* left untouched */
    assert_int_equal(t.nanos, 7);
}

static void formats_as(calendar_time t, const char *want)
{
    char buf[CALENDAR_RFC3339_MAX];
    calendar_format_rfc3339(t, buf, sizeof buf);
    assert_string_equal(buf, want);
}

static void test_round_trip(void **state)
{
    (void)state;
    /* protobuf's JSON form: 0, 3, 6 or 9 fractional digits */
    const char *texts[] = {"1970-01-01T00:00:00Z",           "2026-01-02T03:04:05Z",
                           "2026-01-02T03:04:05.100Z",       "2026-01-02T03:04:05.000001Z",
                           "2026-01-02T03:04:05.000000001Z", "1969-12-31T23:59:59.999Z",
                           "0001-01-01T00:00:00Z",           "9999-12-31T23:59:59.999999999Z"};
    for (size_t i = 0; i < sizeof texts / sizeof texts[0]; i++)
        formats_as(parse_ok(texts[i]), texts[i]);

    calendar_time t = parse_ok("2026-01-02T03:04:05Z");
    assert_int_equal(t.seconds, INT64_C(1767323045));
    assert_int_equal(t.nanos, 0);
    t = parse_ok("1969-12-31T23:59:59.5Z"); /* nanos count forward before 1970 too */
    assert_int_equal(t.seconds, -1);
    assert_int_equal(t.nanos, 500000000);
    /* a fraction of any length up to 9 digits, printed in the shortest exact form */
    formats_as(parse_ok("2026-01-02T03:04:05.12Z"), "2026-01-02T03:04:05.120Z");
    formats_as(parse_ok("2026-01-02T03:04:05.1234Z"), "2026-01-02T03:04:05.123400Z");
    formats_as(parse_ok("2026-01-02t03:04:05.000z"), "2026-01-02T03:04:05Z");
    refused("2026-01-02T03:04:05.Z");
    refused("2026-01-02T03:04:05.1234567891Z");
}

static void test_offsets(void **state)
{
    (void)state;
    calendar_time utc = parse_ok("2026-01-02T03:04:05Z");
    calendar_time east = parse_ok("2026-01-02T05:34:05+02:30");
    calendar_time west = parse_ok("2026-01-01T23:04:05-04:00");
    calendar_time zero = parse_ok("2026-01-02T03:04:05-00:00");
    assert_int_equal(east.seconds, utc.seconds);
    assert_int_equal(west.seconds, utc.seconds);
    assert_int_equal(zero.seconds, utc.seconds);
    formats_as(west, "2026-01-02T03:04:05Z");
    refused("2026-01-02T03:04:05+24:00");
    refused("2026-01-02T03:04:05+02:60");
    refused("2026-01-02T03:04:05+0200");
    refused("2026-01-02T03:04:05");
    refused("2026-01-02 03:04:05Z");
    refused("2026-01-02T03:04:05Z ");
}

static void test_range_bounds(void **state)
{
    (void)state;
    calendar_time t = parse_ok("0001-01-01T00:00:00Z");
    assert_int_equal(t.seconds, CALENDAR_MIN_SECONDS);
    t = parse_ok("9999-12-31T23:59:59.999999999Z");
    assert_int_equal(t.seconds, CALENDAR_MAX_SECONDS);
    assert_int_equal(t.nanos, 999999999);
    refused("0000-12-31T23:59:59Z");
    refused("0001-01-01T00:59:59+01:00"); /* 0000-12-31 in UTC */
    refused("9999-12-31T23:59:59-00:01"); /* 10000-01-01 in UTC */
    assert_true(calendar_time_valid((calendar_time){CALENDAR_MIN_SECONDS, 0}));
    assert_false(calendar_time_valid((calendar_time){CALENDAR_MIN_SECONDS - 1, 999999999}));
    assert_false(calendar_time_valid((calendar_time){CALENDAR_MAX_SECONDS + 1, 0}));
    assert_false(calendar_time_valid((calendar_time){0, -1}));
    assert_false(calendar_time_valid((calendar_time){0, CALENDAR_NANOS_PER_SECOND}));

    /* BSON dates: milliseconds, also negative */
    assert_true(calendar_from_millis(-1, &t));
    assert_int_equal(t.seconds, -1);
    assert_int_equal(t.nanos, 999000000);
    assert_true(calendar_from_millis(CALENDAR_MAX_SECONDS * 1000 + 999, &t));
    assert_false(calendar_from_millis(CALENDAR_MAX_SECONDS * 1000 + 1000, &t));
    assert_false(calendar_from_millis(CALENDAR_MIN_SECONDS * 1000 - 1, &t));
    assert_false(calendar_from_millis(INT64_MIN, &t));
}

static void test_leap_days_and_civil(void **state)
{
    (void)state;
    assert_true(calendar_date_valid(2024, 2, 29));
    assert_true(calendar_date_valid(2000, 2, 29)); /* divisible by 400 */
    assert_false(calendar_date_valid(1900, 2, 29));
    assert_false(calendar_date_valid(2025, 2, 29));
    assert_false(calendar_date_valid(2025, 4, 31));
    assert_false(calendar_date_valid(2025, 13, 1));
    assert_false(calendar_date_valid(2025, 1, 0));
    parse_ok("2024-02-29T12:00:00Z");
    refused("2025-02-29T12:00:00Z");
    refused("2100-02-29T12:00:00Z");

    assert_int_equal(calendar_days_from_civil(1970, 1, 1), 0);
    assert_int_equal(calendar_days_from_civil(1969, 12, 31), -1);
    assert_int_equal(calendar_days_from_civil(2000, 3, 1), 11017);
    assert_int_equal(calendar_days_from_civil(1, 1, 1), CALENDAR_MIN_SECONDS / 86400);
    /* every day of 1600..2400 survives days -> civil -> days */
    int64_t from = calendar_days_from_civil(1600, 1, 1),
            to = calendar_days_from_civil(2400, 12, 31);
    for (int64_t d = from; d <= to; d++) {
        int64_t y;
        unsigned m, dd;
        calendar_civil_from_days(d, &y, &m, &dd);
        assert_true(calendar_date_valid((unsigned)y, m, dd));
        assert_int_equal(calendar_days_from_civil(y, m, dd), d);
    }
    assert_int_equal(calendar_floor_div(-1, 86400), -1);
    assert_int_equal(calendar_floor_div(-86400, 86400), -1);
    assert_int_equal(calendar_floor_div(86399, 86400), 0);
}

static void adds_months(const char *from, int months, const char *want)
{
    formats_as(calendar_add_months(parse_ok(from), months), want);
}

static void test_add_months(void **state)
{
    (void)state;
    adds_months("2026-03-15T10:20:30Z", 12, "2027-03-15T10:20:30Z");
    adds_months("2026-03-15T10:20:30.5Z", 24, "2028-03-15T10:20:30.500Z");
    adds_months("2026-01-31T00:00:00Z", 1, "2026-02-28T00:00:00Z");
    adds_months("2028-01-31T23:59:59Z", 1, "2028-02-29T23:59:59Z"); /* a leap year */
    adds_months("2028-02-29T12:00:00Z", 12, "2029-02-28T12:00:00Z");
    adds_months("2026-11-30T00:00:00Z", 3, "2027-02-28T00:00:00Z");
    adds_months("2026-12-15T00:00:00Z", 1, "2027-01-15T00:00:00Z");
    adds_months("2026-01-15T00:00:00Z", -1, "2025-12-15T00:00:00Z");
    adds_months("1969-12-31T23:00:00Z", 36, "1972-12-31T23:00:00Z");
    adds_months("2026-05-31T00:00:00Z", 0, "2026-05-31T00:00:00Z");
    adds_months("9999-06-01T00:00:00Z", 12, "9999-12-31T23:59:59.999999999Z");
    adds_months("0001-06-01T00:00:00Z", -12, "0001-01-01T00:00:00Z");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_round_trip),   cmocka_unit_test(test_offsets),
        cmocka_unit_test(test_range_bounds), cmocka_unit_test(test_leap_days_and_civil),
        cmocka_unit_test(test_add_months),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
