/* sensitive.c — the fields marked sensitive (sensitive.h), found once by a
 * walk over the embedded FileDescriptorSet's wire bytes: file (1) →
 * package (2), message_type (4) → name (1), field (2), nested_type (3) →
 * field name (1), options (8) → option SENSITIVE_OPTION, a bool. Only
 * what that path needs is decoded; everything else is skipped by its wire
 * type. A marked field must be a singular string (the options that mark
 * one of another type are not taken: sensitive_fields shows what was). */
#include "sensitive.h"

#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <stdio.h>
#include <string.h>

#include "reflect.h"

extern const unsigned char supplysec_descriptor_set[];
extern const size_t supplysec_descriptor_set_len;

#define NAME_MAX_LEN 192

typedef struct marked {
    char message[NAME_MAX_LEN]; /* full name, "supplysec.v1.Facility" */
    char field[64];
    char full[NAME_MAX_LEN + 64];
} marked;

static marked table[SENSITIVE_MAX];
static size_t n_table;
static pthread_once_t once = PTHREAD_ONCE_INIT;

/* ---- the wire ---- */

typedef struct span {
    const uint8_t *p, *end;
} span;

static bool varint(span *s, uint64_t *v)
{
    *v = 0;
    for (int shift = 0; shift < 64 && s->p < s->end; shift += 7) {
        uint8_t b = *s->p++;
        *v |= (uint64_t)(b & 0x7f) << shift;
        if (!(b & 0x80))
            return true;
    }
    return false;
}

/* The next field of s: its number, wire type and, for a length-delimited
 * one, its bytes; false at the end or on malformed bytes. */
static bool next(span *s, uint32_t *number, span *body, uint64_t *value)
{
    uint64_t key, len;
    if (s->p >= s->end || !varint(s, &key))
        return false;
    *number = (uint32_t)(key >> 3);
    body->p = body->end = NULL; /* a field of another wire type has no body */
    switch (key & 7) {
    case 0:
        return varint(s, value);
    case 1:
    case 5: {
        size_t n = (key & 7) == 1 ? 8 : 4;
        if ((size_t)(s->end - s->p) < n)
            return false;
        s->p += n;
        *value = 0;
        return true;
    }
    case 2:
        if (!varint(s, &len) || len > (uint64_t)(s->end - s->p))
            return false;
        body->p = s->p;
        body->end = s->p + len;
        s->p += len;
        *value = len;
        return true;
    default:
        return false;
    }
}

static void text(const span *b, char *out, size_t size)
{
    if (!b->p) { /* not length-delimited: malformed, taken as empty */
        out[0] = '\0';
        return;
    }
    size_t n = (size_t)(b->end - b->p);
    snprintf(out, size, "%.*s", (int)(n < size ? n : size - 1), (const char *)b->p);
}

/* ---- the walk ---- */

static bool option_set(span options)
{
    uint32_t number;
    span b;
    uint64_t v;
    bool set = false;
    while (next(&options, &number, &b, &v))
        if (number == SENSITIVE_OPTION)
            set = v != 0;
    return set;
}

static void field_walk(span field, const char *message)
{
    uint32_t number;
    span b;
    uint64_t v;
    char name[64] = "";
    bool set = false;
    while (next(&field, &number, &b, &v)) {
        if (number == 1)
            text(&b, name, sizeof name);
        else if (number == 8)
            set = option_set(b);
    }
    if (set && name[0] && n_table < SENSITIVE_MAX) {
        marked *m = &table[n_table++];
        snprintf(m->message, sizeof m->message, "%s", message);
        snprintf(m->field, sizeof m->field, "%s", name);
        snprintf(m->full, sizeof m->full, "%s.%s", message, name);
    }
}

static void message_walk(span msg, const char *scope)
{
    uint32_t number;
    span b;
    uint64_t v;
    char name[NAME_MAX_LEN] = "", full[NAME_MAX_LEN];
    span first = msg;
    while (next(&first, &number, &b, &v)) /* its name, wherever it stands */
        if (number == 1)
            text(&b, name, sizeof name);
    snprintf(full, sizeof full, "%s%s%s", scope, scope[0] ? "." : "", name);
    while (next(&msg, &number, &b, &v)) {
        if (number == 2)
            field_walk(b, full);
        else if (number == 3)
            message_walk(b, full);
    }
}

static void file_walk(span file)
{
    uint32_t number;
    span b;
    uint64_t v;
    char package[NAME_MAX_LEN] = "";
    span first = file;
    while (next(&first, &number, &b, &v))
        if (number == 2)
            text(&b, package, sizeof package);
    while (next(&file, &number, &b, &v))
        if (number == 4)
            message_walk(b, package);
}

static void load(void)
{
    span set = {supplysec_descriptor_set, supplysec_descriptor_set + supplysec_descriptor_set_len};
    uint32_t number;
    span b;
    uint64_t v;
    while (next(&set, &number, &b, &v))
        if (number == 1)
            file_walk(b);
}

/* ---- use ---- */

bool sensitive_field(const ProtobufCMessageDescriptor *desc, const ProtobufCFieldDescriptor *f)
{
    pthread_once(&once, load);
    if (f->type != PROTOBUF_C_TYPE_STRING || f->label == PROTOBUF_C_LABEL_REPEATED)
        return false;
    for (size_t i = 0; i < n_table; i++)
        if (strcmp(table[i].field, f->name) == 0 && strcmp(table[i].message, desc->name) == 0)
            return true;
    return false;
}

void sensitive_redact(ProtobufCMessage *msg)
{
    if (!msg)
        return;
    const ProtobufCMessageDescriptor *desc = msg->descriptor;
    for (unsigned i = 0; i < desc->n_fields; i++) {
        const ProtobufCFieldDescriptor *f = &desc->fields[i];
        char *at = (char *)msg + f->offset;
        if (sensitive_field(desc, f)) {
            /* cleared without allocating, so it cannot fail and leave the value */
            char **str = (char **)at;
            if (*str && *str != (const char *)f->default_value)
                free(*str);
            *str = (char *)protobuf_c_empty_string;
        } else if (f->type == PROTOBUF_C_TYPE_MESSAGE && f->label == PROTOBUF_C_LABEL_REPEATED) {
            size_t n = *(size_t *)((char *)msg + f->quantifier_offset);
            ProtobufCMessage **items = *(ProtobufCMessage ***)at;
            for (size_t k = 0; k < n; k++)
                sensitive_redact(items[k]);
        } else if (f->type == PROTOBUF_C_TYPE_MESSAGE) {
            sensitive_redact(*(ProtobufCMessage **)at);
        }
    }
}

size_t sensitive_fields(const char **names, size_t max)
{
    pthread_once(&once, load);
    for (size_t i = 0; i < n_table && i < max; i++)
        names[i] = table[i].full;
    return n_table;
}
