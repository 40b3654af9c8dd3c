/* log.c — JSON log lines on stderr (see log.h). Each line is formatted in
 * a buffer and written with one write(2), so lines from worker threads
 * never interleave. Values are JSON-escaped; callers never pass secrets. */
#include "log.h"

#include <stdatomic.h>
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

static void put(log_line *l, const char *s, size_t n)
{
    if (l->len + n >= sizeof l->buf - 3)
        n = sizeof l->buf - 3 - l->len;
    memcpy(l->buf + l->len, s, n);
    l->len += n;
}

static void put_escaped(log_line *l, const char *s, size_t n)
{
    put(l, "\"", 1);
    for (size_t i = 0; i < n && s[i]; i++) {
        unsigned char c = (unsigned char)s[i];
        char esc[8];
        if (c == '"' || c == '\\') {
            esc[0] = '\\';
            esc[1] = (char)c;
            put(l, esc, 2);
        } else if (c < 0x20) {
            snprintf(esc, sizeof esc, "\\u%04x", c);
            put(l, esc, 6);
        } else {
            put(l, (const char *)&c, 1);
        }
    }
    put(l, "\"", 1);
}

static void put_key(log_line *l, const char *key)
{
    put(l, ",", 1);
    put_escaped(l, key, strlen(key));
    put(l, ":", 1);
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
    put_key(l, "level");
    put_escaped(l, names[level], strlen(names[level]));
    put_key(l, "msg");
    put_escaped(l, msg, strlen(msg));
}

void log_str(log_line *l, const char *key, const char *value)
{
    log_strn(l, key, value ? value : "", value ? strlen(value) : 0);
}

void log_strn(log_line *l, const char *key, const char *value, size_t n)
{
    put_key(l, key);
    put_escaped(l, value, n);
}

void log_int(log_line *l, const char *key, long long value)
{
    char num[32];
    int n = snprintf(num, sizeof num, "%lld", value);
    put_key(l, key);
    put(l, num, (size_t)n);
}

void log_bool(log_line *l, const char *key, int value)
{
    put_key(l, key);
    put(l, value ? "true" : "false", value ? 4 : 5);
}

void log_emit(log_line *l)
{
    if ((int)l->level < atomic_load(&min_level))
        return;
    memcpy(l->buf + l->len, "}\n", 2);
    ssize_t ignored = write(STDERR_FILENO, l->buf, l->len + 2);
    (void)ignored;
}
