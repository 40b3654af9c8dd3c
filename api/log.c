/* log.c — JSON log lines on stderr (see log.h). Each line is formatted in
 * a buffer and written with one write(2), so lines from worker threads
 * never interleave. Values are JSON-escaped and every line is valid UTF-8
 * JSON, whatever bytes a value holds; a line too long for the buffer loses
 * its last fields or the end of a value, never its closing brace. Callers
 * never pass secrets. */
#include "log.h"

#include "utf8.h"

#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static atomic_int min_level = LOG_INFO;

void log_set_level(log_level level)
{
    atomic_store(&min_level, (int)level);
}

int log_parse_level(const char *name, log_level *out)
{
    static const char *const names[] = {"debug", "info", "warn", "error"};
    for (int i = 0; i < 4; i++)
        if (strcmp(name, names[i]) == 0) {
            *out = (log_level)i;
            return 1;
        }
    return 0;
}

/* Room kept at the end of the buffer for the closing "}\n". */
#define LOG_TAIL 2

static size_t room(const log_line *l)
{
    return sizeof l->buf - LOG_TAIL - l->len;
}

/* Appends s whole, or nothing when it does not fit. */
static bool put(log_line *l, const char *s, size_t n)
{
    if (n > room(l))
        return false;
    memcpy(l->buf + l->len, s, n);
    l->len += n;
    return true;
}

/* Appends s[0..n) as a JSON string. Bytes that are not UTF-8 (request
 * bytes quoted in an error, say) become U+FFFD, so every line is valid
 * UTF-8 JSON; a value that does not fit is cut between two characters and
 * still closed. False when not even the quotes fit. */
static bool put_escaped(log_line *l, const char *s, size_t n)
{
    if (room(l) < 2)
        return false;
    put(l, "\"", 1);
    const unsigned char *p = (const unsigned char *)s;
    for (size_t i = 0; i < n && p[i];) {
        char esc[8];
        const char *out = esc;
        size_t k = utf8_char_len(p + i, n - i), len;
        if (p[i] == '"' || p[i] == '\\') {
            esc[0] = '\\';
            esc[1] = (char)p[i];
            len = 2;
        } else if (p[i] < 0x20) {
            len = (size_t)snprintf(esc, sizeof esc, "\\u%04x", p[i]);
        } else if (k == 0) {
            out = "\xEF\xBF\xBD"; /* U+FFFD REPLACEMENT CHARACTER */
            len = 3;
            k = 1;
        } else {
            out = (const char *)p + i;
            len = k;
        }
        if (len + 1 > room(l)) /* keep room for the closing quote */
            break;
        put(l, out, len);
        i += k ? k : 1;
    }
    put(l, "\"", 1);
    return true;
}

/* Appends ,"key":"value" whole or not at all (the value may be cut). */
static void put_field(log_line *l, const char *key, const char *value, size_t n)
{
    size_t mark = l->len;
    if (!put(l, ",", 1) || !put_escaped(l, key, strlen(key)) || !put(l, ":", 1) ||
        !put_escaped(l, value, n))
        l->len = mark;
}

void log_begin(log_line *l, log_level level, const char *msg)
{
    static const char *const names[] = {"debug", "info", "warn", "error"};
    struct timespec ts;
    struct tm tm;
    char t[64];
    clock_gettime(CLOCK_REALTIME, &ts);
    gmtime_r(&ts.tv_sec, &tm);
    size_t n = strftime(t, sizeof t, "%Y-%m-%dT%H:%M:%S", &tm);
    snprintf(t + n, sizeof t - n, ".%06ldZ", ts.tv_nsec / 1000);
    l->len = 0;
    l->level = level;
    put(l, "{\"time\":", 8);
    put_escaped(l, t, strlen(t));
    put_field(l, "level", names[level], strlen(names[level]));
    put_field(l, "msg", msg, strlen(msg));
}

void log_str(log_line *l, const char *key, const char *value)
{
    log_strn(l, key, value ? value : "", value ? strlen(value) : 0);
}

void log_strn(log_line *l, const char *key, const char *value, size_t n)
{
    put_field(l, key, value, n);
}

/* Appends ,"key":json where json is a literal (number, true, false). */
static void log_raw(log_line *l, const char *key, const char *json)
{
    size_t mark = l->len;
    if (!put(l, ",", 1) || !put_escaped(l, key, strlen(key)) || !put(l, ":", 1) ||
        !put(l, json, strlen(json)))
        l->len = mark;
}

void log_int(log_line *l, const char *key, long long value)
{
    char num[32];
    snprintf(num, sizeof num, "%lld", value);
    log_raw(l, key, num);
}

void log_bool(log_line *l, const char *key, int value)
{
    log_raw(l, key, value ? "true" : "false");
}

void log_emit(log_line *l)
{
    if ((int)l->level < atomic_load(&min_level))
        return;
    memcpy(l->buf + l->len, "}\n", LOG_TAIL); /* room() kept these */
    ssize_t ignored = write(STDERR_FILENO, l->buf, l->len + 2);
    (void)ignored;
}
