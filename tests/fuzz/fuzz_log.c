/* fuzz_log.c — JSON log lines (api/log.h), which quote bytes from clients
 * (an unregistered method's path, status messages quoting a request).
 *
 * Input: the line's message up to a 0x00 byte, then fields: a byte picking
 * the kind (string, counted string, integer, boolean), the key up to a 0x00
 * byte (mapped onto [a-z_], as keys are the program's names), and the value (text up to 0x00, or
 * two bytes of length and that many bytes, or eight bytes). The line is built as call.c builds
 * one and closed as log_emit closes it (without writing it). Oracles: the line fits its buffer with
 * room for the closing brace, is UTF-8, and reads back as a JSON object (libbson's reader) whose
 * fields are time, level, msg and then some of the fields added, in order, each under its whole
 * key, each string value a prefix, cut between characters, of what was given with the bytes that
 * are not UTF-8 replaced by U+FFFD.
 */
#include <bson/bson.h>
#include <stdlib.h>
#include <string.h>

#include "input.h"
#include "log.h"
#include "reference.h"
#include "utf8.h"

#define MAX_FIELDS 64

typedef struct field {
    char *key;  /* as given */
    char *wkey; /* as it should read back */
    char *want; /* the value as it should read back; NULL for numbers and booleans */
} field;

/* s[0..n) up to a NUL, with each byte that is not UTF-8 replaced by U+FFFD. */
static char *expected(const uint8_t *s, size_t n)
{
    char *out = malloc(3 * n + 1);
    size_t o = 0;
    if (!out)
        abort();
    for (size_t i = 0, k; i < n && s[i]; i += k) {
        k = ref_utf8_char_len(s + i, n - i);
        if (k == 0) {
            memcpy(out + o, "\xEF\xBF\xBD", 3);
            o += 3;
            k = 1;
        } else {
            memcpy(out + o, s + i, k);
            o += k;
        }
    }
    out[o] = '\0';
    return out;
}

/* Whether the field read (key, *it) can be f: its key whole, a string value a prefix of f's,
 * cut between characters, or a number or boolean for one. */
static bool matches(const field *f, const char *key, const bson_iter_t *it)
{
    if (strcmp(f->wkey, key) != 0)
        return false;
    if (!f->want)
        return BSON_ITER_HOLDS_INT(it) || BSON_ITER_HOLDS_BOOL(it);
    if (!BSON_ITER_HOLDS_UTF8(it))
        return false;
    uint32_t vlen;
    const char *v = bson_iter_utf8(it, &vlen);
    return vlen <= strlen(f->want) && memcmp(v, f->want, vlen) == 0 &&
           (size_t)utf8_clip(f->want, vlen) == vlen;
}

/* A key: the program's own field names are lower-case ASCII and '_', never a client's bytes. */
static char *key(fuzz_input *in)
{
    char *k = fuzz_text(in);
    for (char *p = k; *p; p++)
        *p = "abcdefghijklmnopqrstuvwxyz______"[(unsigned char)*p % 32];
    return k;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    fuzz_input in = {data, size};
    field fields[MAX_FIELDS];
    size_t n_fields = 0;
    log_line l;
    char *msg = fuzz_text(&in);

    log_begin(&l, LOG_INFO, msg);
    free(msg);
    while (in.n > 0 && n_fields < MAX_FIELDS) {
        int kind = fuzz_byte(&in) % 4;
        field *f = &fields[n_fields++];
        f->key = key(&in);
        f->wkey = expected((const uint8_t *)f->key, strlen(f->key));
        f->want = NULL;
        if (kind == 0 || kind == 1) {
            size_t n;
            uint8_t *v;
            if (kind == 0) {
                v = (uint8_t *)fuzz_text(&in);
                n = strlen((char *)v);
                log_str(&l, f->key, (char *)v);
            } else {
                v = fuzz_bytes(&in, fuzz_u16(&in), &n);
                log_strn(&l, f->key, (char *)v, n);
            }
            f->want = expected(v, n);
            free(v);
        } else if (kind == 2) {
            long long v = 0;
            for (int i = 0; i < 8; i++)
                v = (long long)((unsigned long long)v << 8 | fuzz_byte(&in));
            log_int(&l, f->key, v);
        } else {
            log_bool(&l, f->key, fuzz_byte(&in) & 1);
        }
    }

    FUZZ_REQUIRE(l.len + 2 <= sizeof l.buf, "line of %zu bytes", l.len);
    memcpy(l.buf + l.len, "}", 1);
    size_t len = l.len + 1;
    FUZZ_REQUIRE(utf8_valid(l.buf, len, NULL), "line not UTF-8");
    bson_error_t err;
    bson_t *doc = bson_new_from_json((const uint8_t *)l.buf, (ssize_t)len, &err);
    FUZZ_REQUIRE(doc != NULL, "line is not JSON: %s\n  %.*s", err.message, (int)len, l.buf);

    bson_iter_t it;
    static const char *const first[] = {"time", "level", "msg"};
    size_t next = 0;
    bson_iter_init(&it, doc);
    for (int i = 0; i < 3; i++)
        FUZZ_REQUIRE(bson_iter_next(&it) && strcmp(bson_iter_key(&it), first[i]) == 0,
                     "field %d is not %s", i, first[i]);
    /* Fields are only ever dropped, never reordered: match each one read to the earliest
     * remaining field added that it can be (same key, a value it can come from). */
    while (bson_iter_next(&it)) {
        const char *key = bson_iter_key(&it);
        while (next < n_fields && !matches(&fields[next], key, &it))
            next++;
        FUZZ_REQUIRE(next < n_fields,
                     "field \"%s\" is not one added, in order, whole key, value cut between "
                     "characters\n  %.*s",
                     key, (int)len, l.buf);
        next++;
    }
    bson_destroy(doc);
    for (size_t i = 0; i < n_fields; i++) {
        free(fields[i].key);
        free(fields[i].wkey);
        free(fields[i].want);
    }
    return 0;
}
