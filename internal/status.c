/* status.c — building statuses and mapping store outcomes onto them. */
#include "status.h"

#include <stdarg.h>
#include <stdio.h>

#include "utf8.h"

bool status_vfail(status *st, status_code code, const char *fmt, va_list ap)
{
    st->code = code;
    int n = vsnprintf(st->msg, sizeof st->msg, fmt, ap);
    if (n >= (int)sizeof st->msg) /* cut: never inside a character */
        st->msg[utf8_clip(st->msg, sizeof st->msg - 1)] = '\0';
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

bool status_from_store(status *st, store_status ss, const char *what)
{
    switch (ss) {
    case STORE_OK:
        st->code = STATUS_OK;
        st->msg[0] = '\0';
        return true;
    case STORE_NOT_FOUND:
        return status_fail(st, STATUS_NOT_FOUND, "%s not found", what);
    case STORE_ALREADY_EXISTS:
        return status_fail(st, STATUS_ALREADY_EXISTS, "%s already exists", what);
    case STORE_CONFLICT:
        return status_fail(st, STATUS_ABORTED,
                           "%s was changed by another write; read it again and retry with "
                           "the new etag",
                           what);
    case STORE_DEADLINE_EXCEEDED:
        return status_fail(st, STATUS_DEADLINE_EXCEEDED,
                           "the call's deadline passed before %s could be written; nothing was "
                           "written",
                           what);
    case STORE_UNAVAILABLE:
        return status_fail(st, STATUS_UNAVAILABLE, "the store is unavailable; retry later");
    case STORE_INVALID:
    case STORE_INTERNAL:
    default:
        return status_fail(st, STATUS_INTERNAL, "internal storage error (%s)",
                           store_status_name(ss));
    }
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
