/* masks.c — which FieldMask paths survive the converter's JSON form (see masks.h). */
#include "masks.h"

#include <string.h>

#include "descriptors.h"
#include "doc.h"

/* lowerCamelCase back to snake_case, as doc.c reads a mask path, compared with path. */
static bool path_round_trips(const char *path)
{
    char camel[1024];
    size_t n = strlen(path), j = 0;
    if (n == 0 || n >= sizeof camel || strchr(path, ','))
        return false; /* "" is written as nothing (or ",,", which does not read) */
    reflect_json_name(path, camel, sizeof camel);
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

static bool masks_round_trip_pred(const ProtobufCMessage *sub, void *ctx)
{
    (void)ctx;
    return fuzz_masks_round_trip(sub);
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
    return fuzz_submessages_all(msg, masks_round_trip_pred, NULL);
}
