/* reference.c — independent implementations for differential oracles (see
 * reference.h). */
#include "reference.h"

#include <string.h>

size_t ref_utf8_char_len(const uint8_t *s, size_t n)
{
    static const uint32_t shortest[5] = {0, 0, 0x80, 0x800, 0x10000};
    size_t len;
    uint32_t cp;
    if (n == 0)
        return 0;
    if (s[0] < 0x80)
        return 1;
    if ((s[0] & 0xE0) == 0xC0) {
        len = 2;
        cp = s[0] & 0x1F;
    } else if ((s[0] & 0xF0) == 0xE0) {
        len = 3;
        cp = s[0] & 0x0F;
    } else if ((s[0] & 0xF8) == 0xF0) {
        len = 4;
        cp = s[0] & 0x07;
    } else {
        return 0;
    }
    if (n < len)
        return 0;
    for (size_t i = 1; i < len; i++) {
        if ((s[i] & 0xC0) != 0x80)
            return 0;
        cp = cp << 6 | (s[i] & 0x3F);
    }
    if (cp < shortest[len] || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF))
        return 0;
    return len;
}

bool ref_utf8_valid(const uint8_t *s, size_t n)
{
    for (size_t i = 0, k; i < n; i += k)
        if ((k = ref_utf8_char_len(s + i, n - i)) == 0)
            return false;
    return true;
}

/* A varint of at most ten bytes at buf[*at..len). */
static bool varint(const uint8_t *buf, size_t len, size_t *at, uint64_t *v)
{
    *v = 0;
    for (int i = 0; i < 10; i++) {
        if (*at == len)
            return false;
        uint8_t b = buf[(*at)++];
        *v |= (uint64_t)(b & 0x7F) << (7 * i);
        if (b < 0x80)
            return true;
    }
    return false;
}

static const ProtobufCFieldDescriptor *field(const ProtobufCMessageDescriptor *d, uint64_t number)
{
    for (unsigned i = 0; i < d->n_fields; i++)
        if (d->fields[i].id == number)
            return &d->fields[i];
    return NULL;
}

/* A google.protobuf.Timestamp's body, well-formed: its seconds (field 1)
 * and nanos (field 2), the last of each that is a varint, within years 1 to
 * 9999 and 0 to 999,999,999. */
static bool timestamp_in_range(const uint8_t *buf, size_t len)
{
    int64_t seconds = 0, nanos = 0;
    size_t at = 0;
    while (at < len) {
        uint64_t key, v = 0;
        varint(buf, len, &at, &key);
        switch (key & 7) {
        case 0:
            varint(buf, len, &at, &v);
            if (key >> 3 == 1)
                seconds = (int64_t)v;
            else if (key >> 3 == 2)
                nanos = (int64_t)v;
            break;
        case 1:
            at += 8;
            break;
        case 5:
            at += 4;
            break;
        default:
            varint(buf, len, &at, &v);
            at += v;
        }
    }
    return seconds >= INT64_C(-62135596800) && seconds <= INT64_C(253402300799) && nanos >= 0 &&
           nanos <= 999999999;
}

static bool walk(const ProtobufCMessageDescriptor *d, const uint8_t *buf, size_t len, int levels)
{
    size_t at = 0;
    while (at < len) {
        uint64_t key, v;
        if (!varint(buf, len, &at, &key) || key >> 3 == 0 || key >> 3 >= (1u << 29))
            return false;
        unsigned type = key & 7;
        if (type == 0) {
            if (!varint(buf, len, &at, &v))
                return false;
        } else if (type == 1 || type == 5) {
            size_t w = type == 1 ? 8 : 4;
            if (len - at < w)
                return false;
            at += w;
        } else if (type == 2) {
            if (!varint(buf, len, &at, &v) || v > len - at)
                return false;
            const uint8_t *body = buf + at;
            at += v;
            const ProtobufCFieldDescriptor *f = field(d, key >> 3);
            if (f && f->type == PROTOBUF_C_TYPE_STRING) {
                for (uint64_t i = 0; i < v; i++)
                    if (body[i] == 0)
                        return false;
                if (!ref_utf8_valid(body, v))
                    return false;
            } else if (f && f->type == PROTOBUF_C_TYPE_MESSAGE) {
                if (levels == 0 || !walk(f->descriptor, body, v, levels - 1))
                    return false;
                const ProtobufCMessageDescriptor *sub = f->descriptor;
                if (strcmp(sub->name, "google.protobuf.Timestamp") == 0 &&
                    !timestamp_in_range(body, v))
                    return false;
            }
        } else {
            return false;
        }
    }
    return true;
}

bool ref_wire_check(const ProtobufCMessageDescriptor *desc, const uint8_t *buf, size_t len,
                    int max_depth)
{
    return walk(desc, buf, len, max_depth);
}

bool ref_resource_id(const char *s, size_t n)
{
    if (n < 3 || n > 63 || s[n - 1] == '-')
        return false;
    for (size_t i = 0; i < n; i++) {
        bool lower = s[i] >= 'a' && s[i] <= 'z';
        bool digit_or_dash = (s[i] >= '0' && s[i] <= '9') || s[i] == '-';
        if (!(lower || (i > 0 && digit_or_dash)))
            return false;
    }
    return true;
}
