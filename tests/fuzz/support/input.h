/* input.h — taking a fuzz input apart, and failing an oracle.
 *
 * Every piece is copied into a buffer of its exact size, so ASan reports a
 * read one byte past what the code under test was given. */
#ifndef SUPPLYSEC_FUZZ_INPUT_H
#define SUPPLYSEC_FUZZ_INPUT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct fuzz_input {
    const uint8_t *p;
    size_t n;
} fuzz_input;

/* The next byte, 0 once the input is used up. */
uint8_t fuzz_byte(fuzz_input *in);
/* The next two bytes, little-endian. */
uint16_t fuzz_u16(fuzz_input *in);
/* Text up to the next 0x00 byte (consumed) or the end: malloc'd, NUL-terminated, so never
 * holding a NUL, as strings are once call.c's wire check has passed them. */
char *fuzz_text(fuzz_input *in);
/* The next at most max bytes, malloc'd to exactly *len bytes (never NULL). */
uint8_t *fuzz_bytes(fuzz_input *in, size_t max, size_t *len);

/* An oracle failed: prints what and where to stderr, then aborts, which libFuzzer reports
 * as a crash with the input that caused it. */
#define FUZZ_REQUIRE(cond, ...)                                                                    \
    do {                                                                                           \
        if (!(cond))                                                                               \
            fuzz_fail(__FILE__, __LINE__, #cond, __VA_ARGS__);                                     \
    } while (0)

_Noreturn void fuzz_fail(const char *file, int line, const char *cond, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

#endif
