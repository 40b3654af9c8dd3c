/* masks.c — which FieldMask paths survive the converter's JSON form (see masks.h). */
#include "masks.h"

#include <string.h>

#include "doc.h"

/* lowerCamelCase back to snake_case, as doc.c reads a mask path, compared with path. */
static bool path_round_trips(const char *path)
{
    char camel[1024];
    size_t n = strlen(path), j = 0;
    if (n == 0 || n >= sizeof camel || strchr(path, ','))
        return false; /* "" is written as nothing (or ",,", which does not read) */
    doc_json_name(path, camel, sizeof camel);
    for (const char *c = camel; *c; c++) {
        if (*c >= 'A' && *c <= 'Z') {
            if (j + 2 > n || path[j] != '_' || path[j + 1] != *c - 'A' + 'a')
                return false;
            j += 2;
        } else {
            if (j >= n || path[j] != *c)
                return false;
            j++;
        }
    }
    return j == n;
}

bool fuzz_masks_round_trip(const ProtobufCMessage *msg)
{
    const ProtobufCMessageDescriptor *d = msg->descriptor;
    if (strcmp(d->name, "google.protobuf.FieldMask") == 0) {
        const ProtobufCFieldDescriptor *f =
            protobuf_c_message_descriptor_get_field_by_name(d, "paths");
        size_t n = *(const size_t *)((const char *)msg + f->quantifier_offset);
        char *const *paths = *(char *const *const *)((const char *)msg + f->offset);
        for (size_t i = 0; i < n; i++)
            if (!path_round_trips(paths[i]))
                return false;
        return true;
    }
    for (unsigned i = 0; i < d->n_fields; i++) {
        const ProtobufCFieldDescriptor *f = &d->fields[i];
        if (f->type != PROTOBUF_C_TYPE_MESSAGE)
            continue;
        if ((f->flags & PROTOBUF_C_FIELD_FLAG_ONEOF) &&
            *(const uint32_t *)((const char *)msg + f->quantifier_offset) != f->id)
            continue;
        const char *slot = (const char *)msg + f->offset;
        size_t n = 1;
        if (f->label == PROTOBUF_C_LABEL_REPEATED) {
            n = *(const size_t *)((const char *)msg + f->quantifier_offset);
            slot = *(const char *const *)slot;
        }
        for (size_t k = 0; k < n; k++) {
            const ProtobufCMessage *sub = ((const ProtobufCMessage *const *)slot)[k];
            if (sub && !fuzz_masks_round_trip(sub))
                return false;
        }
    }
    return true;
}
