/* log.c — JSON log lines on stderr (see log.h). Each line is formatted in
 * a buffer and written whole by one write(2), so lines from worker threads
 * never interleave. Values are JSON-escaped and every line is valid UTF-8
 * JSON, whatever bytes a value holds; a line too long for the buffer loses
 * its last fields or the end of a value, never its closing brace. Callers
 * never pass secrets.
 *
 * Cost (a call line per call is most of it): a line below the level is
 * never built; the time is formatted once a second per thread; plain runs
 * of a value are copied, not escaped byte by byte; a thread that opted in
 * (the runtime's workers) gathers its lines and writes them together when
 * it next waits for work or its buffer fills (log_buffered, log_flush). */
#include "log.h"

#include "utf8.h"

#include <errno.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
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
        size_t plain = 0; /* printable ASCII that needs no escape: copied as is */
        while (i + plain < n && p[i + plain] >= 0x20 && p[i + plain] < 0x80 &&
               p[i + plain] != '"' && p[i + plain] != '\\')
            plain++;
        if (plain > 0) {
            if (plain + 1 > room(l))
                plain = room(l) - 1;
            put(l, (const char *)p + i, plain);
            i += plain;
            if (room(l) <= 1)
                break;
            continue;
        }
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

/* "2026-11-26T16:05:09.123456Z" into t (32 bytes); the seconds part is
 * formatted once a second per thread. */
static void format_time(char t[32])
{
    static _Thread_local time_t cached_sec = -1;
    static _Thread_local char cached[24]; /* "2026-11-26T16:05:09" */
    static _Thread_local size_t cached_len;
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    if (ts.tv_sec != cached_sec) {
        struct tm tm;
        gmtime_r(&ts.tv_sec, &tm);
        cached_len = strftime(cached, sizeof cached, "%Y-%m-%dT%H:%M:%S", &tm);
        cached_sec = ts.tv_sec;
    }
    memcpy(t, cached, cached_len);
    long us = ts.tv_nsec / 1000;
    char *p = t + cached_len;
    *p++ = '.';
    for (int d = 5; d >= 0; d--, us /= 10)
        p[d] = (char)('0' + us % 10);
    p[6] = 'Z';
    p[7] = '\0';
}

void log_begin(log_line *l, log_level level, const char *msg)
{
    static const char *const names[] = {"debug", "info", "warn", "error"};
    l->len = 0;
    l->level = level;
    l->off = (int)level < atomic_load(&min_level);
    if (l->off)
        return;
    char t[32];
    format_time(t);
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
    if (!l->off)
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
    if (l->off)
        return;
    char num[32];
    snprintf(num, sizeof num, "%lld", value);
    log_raw(l, key, num);
}

void log_bool(log_line *l, const char *key, int value)
{
    if (!l->off)
        log_raw(l, key, value ? "true" : "false");
}

/* A buffering thread's lines not yet written (log_buffered). */
typedef struct pending_lines {
    bool on;
    size_t len;
    char buf[16384];
} pending_lines;

static _Thread_local pending_lines *pending;

static void write_all(const char *p, size_t n)
{
    while (n > 0) {
        ssize_t k = write(STDERR_FILENO, p, n);
        if (k < 0 && errno == EINTR)
            continue;
        if (k <= 0)
            return; /* stderr closed or failing: the lines are dropped */
        p += k;
        n -= (size_t)k;
    }
}

void log_buffered(void)
{
    if (!pending)
        pending = calloc(1, sizeof *pending); /* NULL: lines are written one by one */
}

void log_flush(void)
{
    if (pending && pending->len > 0) {
        write_all(pending->buf, pending->len);
        pending->len = 0;
    }
}

void log_thread_end(void)
{
    log_flush();
    free(pending);
    pending = NULL;
}

void log_emit(log_line *l)
{
    if (l->off)
        return;
    memcpy(l->buf + l->len, "}\n", LOG_TAIL); /* room() kept these */
    size_t n = l->len + LOG_TAIL;
    if (!pending || l->level >= LOG_WARN) {
        log_flush(); /* keeps this thread's lines in order */
        write_all(l->buf, n);
        return;
    }
    if (n > sizeof pending->buf - pending->len)
        log_flush();
    memcpy(pending->buf + pending->len, l->buf, n);
    pending->len += n;
}

bool log_pending(void)
{
    return pending && pending->len > 0;
}
