/* calendar.h — RFC 3339 text <-> seconds + nanos, and civil (proleptic
 * Gregorian) dates.
 *
 * One place for time arithmetic so the converter (doc.c: Timestamp fields as
 * RFC 3339 JSON and BSON dates) and the list filter (filter.c: timestamp
 * literals) read and print times the same way. The range is a protobuf
 * Timestamp's, 0001-01-01T00:00:00Z to 9999-12-31T23:59:59.999999999Z, so
 * every accepted text fits the stores and prints back with a four-digit year.
 */
#ifndef SUPPLYSEC_CALENDAR_H
#define SUPPLYSEC_CALENDAR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* 0001-01-01T00:00:00Z and 9999-12-31T23:59:59Z in seconds since the Unix epoch. */
#define CALENDAR_MIN_SECONDS INT64_C(-62135596800)
#define CALENDAR_MAX_SECONDS INT64_C(253402300799)
#define CALENDAR_NANOS_PER_SECOND 1000000000
/* Room for the longest text calendar_format_rfc3339 writes, "9999-12-31T23:59:59.123456789Z",
 * and its NUL. */
#define CALENDAR_RFC3339_MAX 31

/* A point in time as protobuf's Timestamp holds it: nanos in 0..999999999 count forward from
 * seconds, also before 1970. */
typedef struct calendar_time {
    int64_t seconds;
    int32_t nanos;
} calendar_time;

/* True when t is within CALENDAR_MIN_SECONDS..CALENDAR_MAX_SECONDS with nanos in range. */
bool calendar_time_valid(calendar_time t);

/* Parses s[0..len) (not NUL-terminated) as RFC 3339: "2026-01-02T03:04:05Z", 'T'/'t',
 * an optional fraction of 1 to 9 digits, 'Z'/'z' or "+hh:mm"/"-hh:mm". False, leaving *out
 * untouched, for anything else, an invalid date (2025-02-29) or a time outside the range. */
bool calendar_parse_rfc3339(const char *s, size_t len, calendar_time *out);

/* "2026-01-02T03:04:05.123Z" in UTC with 0, 3, 6 or 9 fractional digits, as few as represent
 * nanos exactly (protobuf's JSON form). t must be valid. */
void calendar_format_rfc3339(calendar_time t, char *buf, size_t buflen);

/* Milliseconds since the epoch (a BSON date) as a time; false outside the range. */
bool calendar_from_millis(int64_t ms, calendar_time *out);

/* a / b rounded toward negative infinity (b != 0), for days and eras before 1970. */
int64_t calendar_floor_div(int64_t a, int64_t b);

/* Days since 1970-01-01 of the proleptic Gregorian date y-m-d (m 1..12, d 1..31), and back. */
int64_t calendar_days_from_civil(int64_t y, unsigned m, unsigned d);
void calendar_civil_from_days(int64_t days, int64_t *y, unsigned *m, unsigned *d);

/* True when y-m-d is a real date: m 1..12, d within the month (29 February in leap years). */
bool calendar_date_valid(unsigned y, unsigned m, unsigned d);

/* t plus months (may be negative), on the same day of the month or the month's last day when
 * it has fewer (2026-01-31 + 1 month = 2026-02-28), the time of day kept; clamped to the range.
 * A t that is not valid comes back unchanged. */
calendar_time calendar_add_months(calendar_time t, int months);

#endif
