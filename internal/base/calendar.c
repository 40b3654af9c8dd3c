/* calendar.c — RFC 3339 text <-> seconds + nanos, civil dates (see calendar.h).
 *
 * Moved out of doc.c unchanged in behaviour, so the converter and the list filter share one
 * reading of times. */
#include "calendar.h"

#include <inttypes.h>
#include <stdio.h>

static const int32_t NANOS_PER_MILLI = 1000000;

bool calendar_time_valid(calendar_time t)
{
    return t.seconds >= CALENDAR_MIN_SECONDS && t.seconds <= CALENDAR_MAX_SECONDS && t.nanos >= 0 &&
           t.nanos < CALENDAR_NANOS_PER_SECOND;
}

int64_t calendar_floor_div(int64_t a, int64_t b)
{
    int64_t q = a / b;
    return (a % b != 0 && (a < 0) != (b < 0)) ? q - 1 : q;
}

/* H. Hinnant's algorithm: eras of 400 years (146097 days) starting on 1 March, so the leap
 * day is the last day of a year and months from March have a fixed length pattern. */
int64_t calendar_days_from_civil(int64_t y, unsigned m, unsigned d)
{
    y -= m <= 2;
    int64_t era = calendar_floor_div(y, 400);
    unsigned yoe = (unsigned)(y - era * 400);
    unsigned mp = m > 2 ? m - 3 : m + 9;
    unsigned doy = (153 * mp + 2) / 5 + d - 1;
    unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + (int64_t)doe - 719468;
}

void calendar_civil_from_days(int64_t days, int64_t *y, unsigned *m, unsigned *d)
{
    days += 719468;
    int64_t era = calendar_floor_div(days, 146097);
    unsigned doe = (unsigned)(days - era * 146097);
    unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    unsigned mp = (5 * doy + 2) / 153;
    *d = doy - (153 * mp + 2) / 5 + 1;
    *m = mp < 10 ? mp + 3 : mp - 9;
    *y = (int64_t)yoe + era * 400 + (*m <= 2);
}

bool calendar_date_valid(unsigned y, unsigned m, unsigned d)
{
    static const unsigned days_in_month[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    bool leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;

    if (m < 1 || m > 12 || d < 1)
        return false;
    return d <= days_in_month[m - 1] + (m == 2 && leap);
}

void calendar_format_rfc3339(calendar_time t, char *buf, size_t buflen)
{
    int64_t days = calendar_floor_div(t.seconds, 86400);
    int64_t secs = t.seconds - days * 86400;
    int64_t y;
    unsigned m, d;
    char frac[16] = "";

    calendar_civil_from_days(days, &y, &m, &d);
    if (t.nanos % NANOS_PER_MILLI == 0 && t.nanos != 0)
        snprintf(frac, sizeof frac, ".%03" PRId32, t.nanos / NANOS_PER_MILLI);
    else if (t.nanos % 1000 == 0 && t.nanos != 0)
        snprintf(frac, sizeof frac, ".%06" PRId32, t.nanos / 1000);
    else if (t.nanos != 0)
        snprintf(frac, sizeof frac, ".%09" PRId32, t.nanos);
    snprintf(buf, buflen, "%04" PRId64 "-%02u-%02uT%02u:%02u:%02u%sZ", y, m, d,
             (unsigned)(secs / 3600), (unsigned)(secs / 60 % 60), (unsigned)(secs % 60), frac);
}

static bool parse_digits(const char *s, size_t n, unsigned *out)
{
    unsigned v = 0;

    for (size_t i = 0; i < n; i++) {
        if (s[i] < '0' || s[i] > '9')
            return false;
        v = v * 10 + (unsigned)(s[i] - '0');
    }
    *out = v;
    return true;
}

/* Optional ".f" with 1 to 9 digits at s[*i]. */
static bool parse_fraction(const char *s, size_t len, size_t *i, int32_t *nanos)
{
    size_t start, n = 0;
    unsigned v;

    *nanos = 0;
    if (*i >= len || s[*i] != '.')
        return true;
    start = ++*i;
    while (*i < len && s[*i] >= '0' && s[*i] <= '9')
        ++*i;
    n = *i - start;
    if (n < 1 || n > 9 || !parse_digits(s + start, n, &v))
        return false;
    for (size_t k = n; k < 9; k++)
        v *= 10;
    *nanos = (int32_t)v;
    return true;
}

/* "Z" or "+hh:mm"/"-hh:mm" at s[*i]; *offset in seconds east of UTC. */
static bool parse_offset(const char *s, size_t len, size_t *i, int64_t *offset)
{
    unsigned hh, mm;

    if (*i < len && (s[*i] == 'Z' || s[*i] == 'z')) {
        *offset = 0;
        ++*i;
        return true;
    }
    if (*i + 6 > len || (s[*i] != '+' && s[*i] != '-') || !parse_digits(s + *i + 1, 2, &hh) ||
        s[*i + 3] != ':' || !parse_digits(s + *i + 4, 2, &mm) || hh > 23 || mm > 59)
        return false;
    *offset = (s[*i] == '-' ? -1 : 1) * (int64_t)(hh * 3600 + mm * 60);
    *i += 6;
    return true;
}

bool calendar_parse_rfc3339(const char *s, size_t len, calendar_time *out)
{
    unsigned y, mo, d, h, mi, sec;
    size_t i = 19;
    int64_t offset;
    calendar_time t;

    if (len < 20 || !parse_digits(s, 4, &y) || s[4] != '-' || !parse_digits(s + 5, 2, &mo) ||
        s[7] != '-' || !parse_digits(s + 8, 2, &d) || (s[10] != 'T' && s[10] != 't') ||
        !parse_digits(s + 11, 2, &h) || s[13] != ':' || !parse_digits(s + 14, 2, &mi) ||
        s[16] != ':' || !parse_digits(s + 17, 2, &sec))
        return false;
    if (!parse_fraction(s, len, &i, &t.nanos) || !parse_offset(s, len, &i, &offset) || i != len)
        return false;
    if (!calendar_date_valid(y, mo, d) || h > 23 || mi > 59 || sec > 59)
        return false;
    t.seconds = calendar_days_from_civil(y, mo, d) * 86400 + h * 3600 + mi * 60 + sec - offset;
    if (!calendar_time_valid(t))
        return false;
    *out = t;
    return true;
}

bool calendar_from_millis(int64_t ms, calendar_time *out)
{
    calendar_time t;

    /* The remainder, not ms - seconds * 1000: that product overflows for dates near INT64_MIN. */
    int64_t rem = ms % 1000;
    t.seconds = calendar_floor_div(ms, 1000);
    t.nanos = (int32_t)(rem < 0 ? rem + 1000 : rem) * NANOS_PER_MILLI;
    if (!calendar_time_valid(t))
        return false;
    *out = t;
    return true;
}

calendar_time calendar_add_months(calendar_time t, int months)
{
    if (!calendar_time_valid(t)) /* outside a Timestamp's range: nothing to add to */
        return t;
    int64_t days = calendar_floor_div(t.seconds, 86400);
    int64_t in_day = t.seconds - days * 86400;
    int64_t y;
    unsigned m, d;
    calendar_civil_from_days(days, &y, &m, &d);
    int64_t month0 = y * 12 + (int64_t)(m - 1) + months;
    y = calendar_floor_div(month0, 12);
    m = (unsigned)(month0 - y * 12) + 1;
    if (y < 1)
        return (calendar_time){CALENDAR_MIN_SECONDS, 0};
    if (y > 9999)
        return (calendar_time){CALENDAR_MAX_SECONDS, CALENDAR_NANOS_PER_SECOND - 1};
    while (d > 28 && !calendar_date_valid((unsigned)y, m, d))
        d--;
    return (calendar_time){calendar_days_from_civil(y, m, d) * 86400 + in_day, t.nanos};
}
