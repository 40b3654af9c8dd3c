/* input.c — taking a fuzz input apart, and failing an oracle (see input.h). */
#include "input.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

uint8_t fuzz_byte(fuzz_input *in)
{
    if (in->n == 0)
        return 0;
    in->n--;
    return *in->p++;
}

uint16_t fuzz_u16(fuzz_input *in)
{
    uint16_t lo = fuzz_byte(in);
    return (uint16_t)(lo | (uint16_t)fuzz_byte(in) << 8);
}

char *fuzz_text(fuzz_input *in)
{
    const uint8_t *nul = in->n ? memchr(in->p, 0, in->n) : NULL;
    size_t len = nul ? (size_t)(nul - in->p) : in->n;
    char *s = malloc(len + 1);
    if (!s)
        abort();
    if (len)
        memcpy(s, in->p, len);
    s[len] = '\0';
    in->p += len + (nul != NULL);
    in->n -= len + (nul != NULL);
    return s;
}

uint8_t *fuzz_bytes(fuzz_input *in, size_t max, size_t *len)
{
    *len = in->n < max ? in->n : max;
    /* malloc(0) may return NULL; one byte keeps "never NULL" without widening the buffer ASan
     * guards for a non-empty piece. */
    uint8_t *b = malloc(*len ? *len : 1);
    if (!b)
        abort();
    if (*len)
        memcpy(b, in->p, *len);
    in->p += *len;
    in->n -= *len;
    return b;
}

void fuzz_fail(const char *file, int line, const char *cond, const char *fmt, ...)
{
    va_list ap;
    fprintf(stderr, "\n%s:%d: oracle failed: %s\n  ", file, line, cond);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
    abort();
}
