/* status.c — building statuses and mapping store outcomes onto them. */
#include "status.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "utf8.h"

bool status_vfail(status *st, status_code code, const char *fmt, va_list ap)
{
    /* Formatted with room for one more character than msg keeps: a character that the end of
     * msg would cut is then seen whole and left out by utf8_clip. Clipping msg itself would
     * see only its first bytes, which count as bytes that are not UTF-8, and keep them. */
    char buf[sizeof st->msg + 4];
    st->code = code;
    int n = vsnprintf(buf, sizeof buf, fmt, ap);
    size_t keep = n < 0                        ? 0
                  : (size_t)n < sizeof st->msg ? (size_t)n
                                               : (size_t)utf8_clip(buf, sizeof st->msg - 1);
    memcpy(st->msg, buf, keep);
    st->msg[keep] = '\0';
    return false;
}

bool status_fail(status *st, status_code code, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    status_vfail(st, code, fmt, ap);
    va_end(ap);
    return false;
}

const char *status_code_name(status_code code)
{
    static const char *const names[] = {
        "OK",
        "CANCELLED",
        "UNKNOWN",
        "INVALID_ARGUMENT",
        "DEADLINE_EXCEEDED",
        "NOT_FOUND",
        "ALREADY_EXISTS",
        "PERMISSION_DENIED",
        "RESOURCE_EXHAUSTED",
        "FAILED_PRECONDITION",
        "ABORTED",
        "OUT_OF_RANGE",
        "UNIMPLEMENTED",
        "INTERNAL",
        "UNAVAILABLE",
        "DATA_LOSS",
        "UNAUTHENTICATED",
    };
    if ((unsigned)code < sizeof names / sizeof names[0])
        return names[code];
    return "UNKNOWN";
}
