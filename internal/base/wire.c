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
#include "validate.h"

#define PATH_PART_MAX 96 /* one field's name and index */

typedef struct walk {
    const uint8_t *start;                         /* for byte offsets in messages */
    char path[WIRE_DEPTH_MAX + 1][PATH_PART_MAX]; /* "legal_name", "certificates[2]" */
    const ProtobufCMessageDescriptor *top;        /* the request's type */
    status *st;
} walk;

#define INDEXED_FIELDS_MAX 32 /* repeated fields of one message whose elements are counted */

/* The index of the next element of repeated field number in one message. */
typedef struct elements {
    uint32_t number[INDEXED_FIELDS_MAX], count[INDEXED_FIELDS_MAX];
    size_t n;
} elements;

static long element_index(elements *e, uint32_t number)
{
    for (size_t i = 0; i < e->n; i++)
        if (e->number[i] == number)
            return (long)e->count[i]++;
    if (e->n == INDEXED_FIELDS_MAX)
        return -1; /* named without an index */
    e->number[e->n] = number;
    e->count[e->n++] = 1;
    return 0;
}

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

/* A google.protobuf.Timestamp, well-formed (check_message passed): its
 * seconds and nanos within what validate_timestamp allows, so that every
 * handler and the store can keep it, whether an update's mask names it or
 * not. */
static bool check_timestamp(walk *w, int depth, const uint8_t *p, const uint8_t *end)
{
    int64_t seconds = 0, nanos = 0;
    while (p < end) {
        uint64_t tag = 0, v = 0;
        read_varint(&p, end, &tag); /* well-formed: check_message read it */
        switch (tag & 7) {
        case 0:
            read_varint(&p, end, &v);
            if ((tag >> 3) == 1)
                seconds = (int64_t)v;
            else if ((tag >> 3) == 2)
                nanos = (int64_t)v;
            break;
        case 1:
            p += 8;
            break;
        case 5:
            p += 4;
            break;
        default: /* length-delimited */
            read_varint(&p, end, &v);
            p += v;
        }
    }
    char field[256];
    path_text(w, depth, field, sizeof field);
    if (nanos < INT32_MIN || nanos > INT32_MAX)
        nanos = -1; /* out of range either way */
    return validate_timestamp(field, seconds, (int32_t)nanos, w->st);
}

static bool check_message(walk *w, const ProtobufCMessageDescriptor *desc, const uint8_t *p,
                          const uint8_t *end, int depth)
{
    elements seen = {0};
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
        long index =
            f->label == PROTOBUF_C_LABEL_REPEATED ? element_index(&seen, (uint32_t)number) : -1;
        if (index >= 0)
            snprintf(w->path[depth], PATH_PART_MAX, "%s[%ld]", f->name, index);
        else
            snprintf(w->path[depth], PATH_PART_MAX, "%s", f->name);
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
            if (!check_message(w, f->descriptor, body, body + len, depth + 1) ||
                (f->descriptor == &google__protobuf__timestamp__descriptor &&
                 !check_timestamp(w, depth, body, body + len)))
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
