/* status.h — outcome of a domain operation: a canonical code and a message.
 *
 * The codes are google.rpc.Code's (the canonical error space gRPC also
 * uses), so api/ maps them onto gRPC statuses one to one while internal/
 * stays free of gRPC. Messages are for people: name the field and say what
 * to do.
 */
#ifndef SUPPLYSEC_STATUS_H
#define SUPPLYSEC_STATUS_H

#include <stdarg.h>
#include <stdbool.h>

typedef enum status_code {
    STATUS_OK = 0,
    STATUS_CANCELLED = 1,
    STATUS_UNKNOWN = 2,
    STATUS_INVALID_ARGUMENT = 3,
    STATUS_DEADLINE_EXCEEDED = 4,
    STATUS_NOT_FOUND = 5,
    STATUS_ALREADY_EXISTS = 6,
    STATUS_PERMISSION_DENIED = 7,
    STATUS_RESOURCE_EXHAUSTED = 8,
    STATUS_FAILED_PRECONDITION = 9,
    STATUS_ABORTED = 10,
    STATUS_OUT_OF_RANGE = 11,
    STATUS_UNIMPLEMENTED = 12,
    STATUS_INTERNAL = 13,
    STATUS_UNAVAILABLE = 14,
    STATUS_DATA_LOSS = 15,
    STATUS_UNAUTHENTICATED = 16,
} status_code;

typedef struct status {
    status_code code;
    char msg[512];
} status;

/* Sets st and returns false, so a check reads `return status_fail(st, ...)`. */
bool status_fail(status *st, status_code code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* The same with a va_list. A message longer than msg is cut between two
 * characters, so it stays UTF-8. */
bool status_vfail(status *st, status_code code, const char *fmt, va_list ap)
    __attribute__((format(printf, 3, 0)));

const char *status_code_name(status_code code);

#endif
