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

#include "descset.h"
#include "reflect.h"

#define NAME_MAX_LEN 192

typedef struct marked {
    char message[NAME_MAX_LEN]; /* full name, "supplysec.v1.Facility" */
    char field[64];
    char full[NAME_MAX_LEN + 64];
} marked;

static marked table[SENSITIVE_MAX];
static size_t n_table;
static pthread_once_t once = PTHREAD_ONCE_INIT;
static bool incomplete; /* a mark could not be kept: sensitive_complete */

/* ---- the walk ---- */

static bool option_set(descset_span options)
{
    uint32_t number;
    descset_span b;
    uint64_t v;
    bool set = false;
    while (descset_next(&options, &number, &b, &v))
        if (number == SENSITIVE_OPTION)
            set = v != 0;
    return set;
}

static void field_walk(descset_span field, const char *message)
{
    uint32_t number;
    descset_span b;
    uint64_t v;
    char name[64] = "";
    bool set = false;
    while (descset_next(&field, &number, &b, &v)) {
        if (number == 1)
            descset_text(&b, name, sizeof name);
        else if (number == 8)
            set = option_set(b);
    }
    if (set && (!name[0] || n_table == SENSITIVE_MAX)) {
        incomplete = true;
        return;
    }
    if (set) {
        marked *m = &table[n_table++];
        snprintf(m->message, sizeof m->message, "%s", message);
        snprintf(m->field, sizeof m->field, "%s", name);
        snprintf(m->full, sizeof m->full, "%s.%s", message, name);
    }
}

static void message_walk(descset_span msg, const char *scope, void *arg)
{
    uint32_t number;
    descset_span b;
    uint64_t v;
    char name[NAME_MAX_LEN], full[NAME_MAX_LEN];
    descset_field_text(msg, 1, name, sizeof name);
    if (snprintf(full, sizeof full, "%s%s%s", scope, scope[0] ? "." : "", name) >=
        (int)sizeof full) {
        incomplete = true; /* its marks would go unread */
        return;
    }
    while (descset_next(&msg, &number, &b, &v)) {
        if (number == 2)
            field_walk(b, full);
        else if (number == 3)
            message_walk(b, full, arg);
    }
}

static void load(void)
{
    descset_each_in_files(4, message_walk, NULL);
}

/* ---- use ---- */

bool sensitive_complete(void)
{
    pthread_once(&once, load);
    return !incomplete;
}

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
