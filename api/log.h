/* log.h — JSON log lines on stderr, one object per line, written whole. */
#ifndef SUPPLYSEC_LOG_H
#define SUPPLYSEC_LOG_H

#include <stdbool.h>
#include <stddef.h>

typedef enum log_level { LOG_DEBUG, LOG_INFO, LOG_WARN, LOG_ERROR } log_level;

void log_set_level(log_level level);
/* "debug", "info", "warn", "error"; false for anything else. */
int log_parse_level(const char *name, log_level *out);

/* A line builder: fields are appended in order and written by log_emit. */
typedef struct log_line {
    char buf[2048];
    size_t len;
    log_level level;
    bool off; /* below the level: nothing is built or written */
} log_line;

void log_begin(log_line *l, log_level level, const char *msg);
void log_str(log_line *l, const char *key, const char *value);
void log_strn(log_line *l, const char *key, const char *value, size_t n);
void log_int(log_line *l, const char *key, long long value);
void log_bool(log_line *l, const char *key, int value);
void log_emit(log_line *l);

/* The calling thread gathers its INFO and DEBUG lines from now on and
 * writes them together at log_flush or when 16 KiB have gathered (a WARN
 * or ERROR line flushes them and goes out at once). A thread that buffers
 * flushes before it waits for work, so a line is late by at most the work
 * in hand, and calls log_thread_end before it exits. */
void log_buffered(void);
bool log_pending(void);
void log_flush(void);
void log_thread_end(void);

#endif
