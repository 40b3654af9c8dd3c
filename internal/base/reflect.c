/* reflect.c — field access by descriptor (see reflect.h). */
#include "reflect.h"

#include <stdlib.h>
#include <string.h>

static char ascii_upper(char c)
{
    return c >= 'a' && c <= 'z' ? (char)(c - 'a' + 'A') : c;
}

void reflect_json_name(const char *field_name, char *buf, size_t buflen)
{
    size_t n = 0;
    bool upper_next = false;

    if (buflen == 0)
        return;
    for (const char *p = field_name; *p && n + 1 < buflen; p++) {
        if (*p == '_') {
            upper_next = true;
            continue;
        }
        buf[n++] = upper_next ? ascii_upper(*p) : *p;
        upper_next = false;
    }
    buf[n] = '\0';
}

/* Whether key is the lowerCamelCase form of the snake_case field_name. */
static bool json_name_matches(const char *field_name, const char *key)
{
    bool upper_next = false;

    for (const char *p = field_name; *p; p++) {
        if (*p == '_') {
            upper_next = true;
            continue;
        }
        if (*key++ != (upper_next ? ascii_upper(*p) : *p))
            return false;
        upper_next = false;
    }
    return *key == '\0';
}

const ProtobufCFieldDescriptor *reflect_field(const ProtobufCMessageDescriptor *desc,
                                              const char *name)
{
    const ProtobufCFieldDescriptor *f = protobuf_c_message_descriptor_get_field_by_name(desc, name);
    for (unsigned i = 0; !f && i < desc->n_fields; i++)
        if (json_name_matches(desc->fields[i].name, name))
            f = &desc->fields[i];
    return f;
}

/* The field called name if its label (repeated or not) and type are the ones asked for. */
static const ProtobufCFieldDescriptor *typed_field(const ProtobufCMessageDescriptor *desc,
                                                   const char *name, bool repeated,
                                                   ProtobufCType type,
                                                   const ProtobufCMessageDescriptor *msg)
{
    const ProtobufCFieldDescriptor *f = protobuf_c_message_descriptor_get_field_by_name(desc, name);
    if (!f || (f->label == PROTOBUF_C_LABEL_REPEATED) != repeated || f->type != type ||
        (type == PROTOBUF_C_TYPE_MESSAGE && f->descriptor != msg))
        return NULL;
    return f;
}

const ProtobufCFieldDescriptor *reflect_singular(const ProtobufCMessageDescriptor *desc,
                                                 const char *name, ProtobufCType type,
                                                 const ProtobufCMessageDescriptor *msg)
{
    return typed_field(desc, name, false, type, msg);
}

const ProtobufCFieldDescriptor *reflect_repeated(const ProtobufCMessageDescriptor *desc,
                                                 const char *name, ProtobufCType type,
                                                 const ProtobufCMessageDescriptor *msg)
{
    return typed_field(desc, name, true, type, msg);
}

const char *reflect_string(const ProtobufCMessage *msg, const ProtobufCFieldDescriptor *f)
{
    if (!f)
        return "";
    const char *s = *(char *const *)reflect_at(msg, f);
    return s ? s : "";
}

/* ---- by field name ---- */

static void **field_ptr(const ProtobufCMessage *msg, const char *field,
                        const ProtobufCFieldDescriptor **fd)
{
    *fd = protobuf_c_message_descriptor_get_field_by_name(msg->descriptor, field);
    if (!*fd || (*fd)->label == PROTOBUF_C_LABEL_REPEATED)
        return NULL;
    return reflect_at(msg, *fd);
}

bool message_set_string(ProtobufCMessage *msg, const char *field, const char *value)
{
    const ProtobufCFieldDescriptor *fd;
    char **p = (char **)field_ptr(msg, field, &fd);
    if (!p || fd->type != PROTOBUF_C_TYPE_STRING)
        return false;
    char *copy = strdup(value);
    if (!copy)
        return false;
    if (*p && *p != (char *)protobuf_c_empty_string && *p != fd->default_value)
        free(*p);
    *p = copy;
    return true;
}

const char *message_get_string(const ProtobufCMessage *msg, const char *field)
{
    const ProtobufCFieldDescriptor *fd;
    char **p = (char **)field_ptr(msg, field, &fd);
    if (!p || fd->type != PROTOBUF_C_TYPE_STRING || !*p)
        return "";
    return *p;
}

bool message_clear_fields(ProtobufCMessage *msg, const char *const *fields)
{
    for (; *fields; fields++) {
        const ProtobufCFieldDescriptor *fd =
            protobuf_c_message_descriptor_get_field_by_name(msg->descriptor, *fields);
        if (!fd || fd->label == PROTOBUF_C_LABEL_REPEATED)
            return false;
        void *p = reflect_at(msg, fd);
        switch (fd->type) {
        case PROTOBUF_C_TYPE_STRING:
            if (!message_set_string(msg, *fields, ""))
                return false;
            break;
        case PROTOBUF_C_TYPE_MESSAGE:
            if (*(ProtobufCMessage **)p)
                protobuf_c_message_free_unpacked(*(ProtobufCMessage **)p, NULL);
            *(ProtobufCMessage **)p = NULL;
            break;
        case PROTOBUF_C_TYPE_ENUM:
        case PROTOBUF_C_TYPE_INT32:
        case PROTOBUF_C_TYPE_BOOL:
            *(int32_t *)p = 0;
            break;
        case PROTOBUF_C_TYPE_DOUBLE:
            *(double *)p = 0;
            break;
        default:
            return false; /* not used for output-only fields */
        }
    }
    return true;
}

void message_strip_unknown(ProtobufCMessage *msg)
{
    for (unsigned i = 0; i < msg->n_unknown_fields; i++)
        free(msg->unknown_fields[i].data);
    free(msg->unknown_fields);
    msg->unknown_fields = NULL;
    msg->n_unknown_fields = 0;
    for (unsigned i = 0; i < msg->descriptor->n_fields; i++) {
        const ProtobufCFieldDescriptor *fd = &msg->descriptor->fields[i];
        if (fd->type != PROTOBUF_C_TYPE_MESSAGE)
            continue;
        void *p = reflect_at(msg, fd);
        if (fd->label == PROTOBUF_C_LABEL_REPEATED) {
            size_t n = reflect_count(msg, fd);
            for (size_t j = 0; j < n; j++)
                message_strip_unknown((*(ProtobufCMessage ***)p)[j]);
        } else if (*(ProtobufCMessage **)p) {
            message_strip_unknown(*(ProtobufCMessage **)p);
        }
    }
}

void reflect_enum_prefix(const ProtobufCEnumDescriptor *e, char *buf, size_t cap)
{
    const char *s = e->short_name;
    size_t n = 0;
    for (size_t i = 0; s[i] && n + 3 < cap; i++) {
        char c = s[i];
        bool upper = c >= 'A' && c <= 'Z';
        if (upper && i > 0) {
            char prev = s[i - 1], next = s[i + 1];
            bool prev_lower = (prev >= 'a' && prev <= 'z') || (prev >= '0' && prev <= '9');
            bool prev_upper = prev >= 'A' && prev <= 'Z';
            if (prev_lower || (prev_upper && next >= 'a' && next <= 'z'))
                buf[n++] = '_';
        }
        buf[n++] = c >= 'a' && c <= 'z' ? (char)(c - 'a' + 'A') : c;
    }
    buf[n++] = '_';
    buf[n] = '\0';
}

const char *reflect_enum_label(const ProtobufCEnumDescriptor *e, int value)
{
    char prefix[128];
    const ProtobufCEnumValue *v = protobuf_c_enum_descriptor_get_value(e, value);
    if (!v)
        return "?";
    reflect_enum_prefix(e, prefix, sizeof prefix);
    size_t pl = strlen(prefix);
    return strncmp(v->name, prefix, pl) == 0 && v->name[pl] ? v->name + pl : v->name;
}
