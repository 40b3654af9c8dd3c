/* wire.c — walks protobuf wire bytes by descriptor (see wire.h).
 *
 * The walk reads tags and lengths only; it never allocates. Unknown fields
 * are skipped by their wire type (they are dropped by protobuf-c anyway);
 * groups (wire types 3 and 4) are refused, as protobuf-c cannot read them.
 */
#include "wire.h"

#include <stdio.h>
#include <string.h>

#include "utf8.h"

typedef struct walk {
    const uint8_t *start;                  /* for byte offsets in messages */
    const char *path[WIRE_DEPTH_MAX + 1];  /* field names from the top */
    const ProtobufCMessageDescriptor *top; /* the request's type */
    status *st;
} walk;

static bool read_varint(const uint8_t **p, const uint8_t *end, uint64_t *out)
{
    uint64_t v = 0;
    for (unsigned shift = 0; shift < 64; shift += 7) {
        if (*p >= end)
            return false;
        uint8_t b = *(*p)++;
        v |= (uint64_t)(b & 0x7f) << shift;
        if (!(b & 0x80)) {
            *out = v;
            return true;
        }
    }
    return false; /* more than ten bytes */
}

static bool malformed(walk *w, const uint8_t *at)
{
    return status_fail(w->st, STATUS_INVALID_ARGUMENT,
                       "the request is not a valid %s protobuf message (at byte %zu)", w->top->name,
                       (size_t)(at - w->start));
}

/* "organization.legal_name" for the field at depth (path[0..depth]). */
static void path_text(const walk *w, int depth, char *out, size_t size)
{
    size_t used = 0;
    out[0] = '\0';
    for (int i = 0; i <= depth && used < size; i++) {
        int n = snprintf(out + used, size - used, "%s%s", i ? "." : "", w->path[i]);
        if (n < 0)
            break;
        used += (size_t)n;
    }
}

static bool check_string(walk *w, int depth, const uint8_t *s, size_t n)
{
    char field[256];
    const void *nul = memchr(s, 0, n);
    size_t bad;
    if (nul) {
        path_text(w, depth, field, sizeof field);
        return status_fail(w->st, STATUS_INVALID_ARGUMENT,
                           "%s: contains a NUL byte (at byte %zu of %zu); text must not", field,
                           (size_t)((const uint8_t *)nul - s), n);
    }
    if (!utf8_valid((const char *)s, n, &bad)) {
        path_text(w, depth, field, sizeof field);
        return status_fail(w->st, STATUS_INVALID_ARGUMENT,
                           "%s: is not valid UTF-8 (at byte %zu of %zu); send text as UTF-8", field,
                           bad, n);
    }
    return true;
}

static bool check_message(walk *w, const ProtobufCMessageDescriptor *desc, const uint8_t *p,
                          const uint8_t *end, int depth)
{
    while (p < end) {
        const uint8_t *at = p;
        uint64_t tag, len, ignored;
        if (!read_varint(&p, end, &tag))
            return malformed(w, at);
        uint64_t number = tag >> 3;
        if (number == 0 || number > 536870911u) /* 2^29 - 1 */
            return malformed(w, at);
        switch (tag & 7) {
        case 0: /* varint */
            if (!read_varint(&p, end, &ignored))
                return malformed(w, at);
            continue;
        case 1: /* 64-bit */
            if (end - p < 8)
                return malformed(w, at);
            p += 8;
            continue;
        case 5: /* 32-bit */
            if (end - p < 4)
                return malformed(w, at);
            p += 4;
            continue;
        case 2: /* length-delimited */
            if (!read_varint(&p, end, &len) || len > (uint64_t)(end - p))
                return malformed(w, at);
            break;
        default: /* groups, or no wire type at all */
            return malformed(w, at);
        }
        const uint8_t *body = p;
        p += len;
        const ProtobufCFieldDescriptor *f =
            protobuf_c_message_descriptor_get_field(desc, (unsigned)number);
        if (!f)
            continue;
        w->path[depth] = f->name;
        if (f->type == PROTOBUF_C_TYPE_STRING) {
            if (!check_string(w, depth, body, (size_t)len))
                return false;
        } else if (f->type == PROTOBUF_C_TYPE_MESSAGE) {
            if (depth + 1 > WIRE_DEPTH_MAX) {
                char field[256];
                path_text(w, depth, field, sizeof field);
                return status_fail(w->st, STATUS_INVALID_ARGUMENT,
                                   "%s: messages nested deeper than %d levels", field,
                                   WIRE_DEPTH_MAX);
            }
            if (!check_message(w, f->descriptor, body, body + len, depth + 1))
                return false;
        }
    }
    return true;
}

bool wire_check(const ProtobufCMessageDescriptor *desc, const uint8_t *buf, size_t len, status *st)
{
    walk w = {.start = buf, .top = desc, .st = st};
    if (len == 0)
        return true; /* every field at its default */
    return check_message(&w, desc, buf, buf + len, 0);
}
