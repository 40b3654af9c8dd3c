/* doc.c — the one converter between protobuf-c messages and documents.
 *
 * Owns the mapping declared in doc.h: walking any message by its protobuf-c
 * descriptors into a BSON document (DOC_BSON for storage, DOC_JSON for the
 * JSON text of the CLI and logs) and back, plus the few pieces that mapping
 * needs: proto3 JSON field names, enum names, base64, and the well-known
 * types Timestamp and FieldMask (matched by full name). RFC 3339 text and
 * the calendar arithmetic behind it are calendar.c's, shared with filter.c;
 * which numbers and strings an integer or float field takes is number.c's,
 * the error (with the field's path) for one refused is worded here.
 * No code here knows any particular message.
 *
 * Reading builds the message in place: every (sub)message is malloc'd and
 * initialised with protobuf_c_message_init before it is filled, and a field
 * only ever holds its default or memory it owns, so on any error
 * protobuf_c_message_free_unpacked(msg, NULL) frees all that was built.
 */
#include "doc.h"

#include <float.h>
#include <inttypes.h>
#include <limits.h>
#include <math.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "calendar.h"
#include "encoding.h"
#include "number.h"

enum { MAX_DEPTH = 64, MAX_NAME = 256, MAX_PATH = 512, MAX_ERROR = 256 };

static const char TIMESTAMP_TYPE[] = "google.protobuf.Timestamp";
static const char FIELD_MASK_TYPE[] = "google.protobuf.FieldMask";

static const int32_t NANOS_PER_MILLI = 1000000;

/* ---- names ---- */

static char ascii_lower(char c)
{
    return c >= 'A' && c <= 'Z' ? (char)(c - 'A' + 'a') : c;
}

/* "updateMask.fooBar" -> "update_mask.foo_bar", malloc'd. */
static char *snake_case_copy(const char *s, size_t len)
{
    char *out = malloc(2 * len + 1);
    size_t n = 0;

    if (!out)
        return NULL;
    for (size_t i = 0; i < len; i++) {
        if (s[i] >= 'A' && s[i] <= 'Z')
            out[n++] = '_';
        out[n++] = ascii_lower(s[i]);
    }
    out[n] = '\0';
    return out;
}

/* ---- descriptor helpers ---- */

static bool is_oneof(const ProtobufCFieldDescriptor *f)
{
    return (f->flags & PROTOBUF_C_FIELD_FLAG_ONEOF) != 0;
}

static size_t element_size(ProtobufCType type)
{
    switch (type) {
    case PROTOBUF_C_TYPE_INT64:
    case PROTOBUF_C_TYPE_SINT64:
    case PROTOBUF_C_TYPE_SFIXED64:
    case PROTOBUF_C_TYPE_UINT64:
    case PROTOBUF_C_TYPE_FIXED64:
        return sizeof(uint64_t);
    case PROTOBUF_C_TYPE_DOUBLE:
        return sizeof(double);
    case PROTOBUF_C_TYPE_FLOAT:
        return sizeof(float);
    case PROTOBUF_C_TYPE_BOOL:
        return sizeof(protobuf_c_boolean);
    case PROTOBUF_C_TYPE_STRING:
        return sizeof(char *);
    case PROTOBUF_C_TYPE_BYTES:
        return sizeof(ProtobufCBinaryData);
    case PROTOBUF_C_TYPE_MESSAGE:
        return sizeof(ProtobufCMessage *);
    default:
        return sizeof(uint32_t);
    }
}

static bool is_message_type(const ProtobufCMessageDescriptor *desc, const char *full_name)
{
    return strcmp(desc->name, full_name) == 0;
}

static ProtobufCMessage *new_message(const ProtobufCMessageDescriptor *desc)
{
    ProtobufCMessage *msg = malloc(desc->sizeof_message);
    if (msg)
        protobuf_c_message_init(desc, msg);
    return msg;
}

/* ---- timestamps: a Timestamp message's fields <-> calendar_time ---- */

static bool timestamp_fields(const ProtobufCMessageDescriptor *desc,
                             const ProtobufCFieldDescriptor **seconds,
                             const ProtobufCFieldDescriptor **nanos)
{
    *seconds = reflect_singular(desc, "seconds", PROTOBUF_C_TYPE_INT64, NULL);
    *nanos = reflect_singular(desc, "nanos", PROTOBUF_C_TYPE_INT32, NULL);
    return *seconds && *nanos;
}

static bool timestamp_get(const ProtobufCMessage *msg, calendar_time *ts)
{
    const ProtobufCFieldDescriptor *seconds, *nanos;

    if (!timestamp_fields(msg->descriptor, &seconds, &nanos))
        return false;
    ts->seconds = *(const int64_t *)reflect_at(msg, seconds);
    ts->nanos = *(const int32_t *)reflect_at(msg, nanos);
    return true;
}

static bool timestamp_set(ProtobufCMessage *msg, calendar_time ts)
{
    const ProtobufCFieldDescriptor *seconds, *nanos;

    if (!timestamp_fields(msg->descriptor, &seconds, &nanos))
        return false;
    *(int64_t *)reflect_at(msg, seconds) = ts.seconds;
    *(int32_t *)reflect_at(msg, nanos) = ts.nanos;
    return true;
}

/* ---- writing: message -> document ---- */

static bool write_message(const ProtobufCMessage *msg, doc_flavour fl, bson_t *out, int depth);

static bool value_is_default(const ProtobufCFieldDescriptor *f, const void *slot)
{
    switch (f->type) {
    case PROTOBUF_C_TYPE_STRING: {
        const char *s = *(const char *const *)slot;
        return !s || !*s;
    }
    case PROTOBUF_C_TYPE_BYTES:
        return ((const ProtobufCBinaryData *)slot)->len == 0;
    case PROTOBUF_C_TYPE_MESSAGE:
        return *(const ProtobufCMessage *const *)slot == NULL;
    default: {
        /* Bitwise, so that -0.0 is kept. */
        static const uint8_t zero[sizeof(uint64_t)];
        return memcmp(slot, zero, element_size(f->type)) == 0;
    }
    }
}

static bool optional_is_set(const ProtobufCMessage *msg, const ProtobufCFieldDescriptor *f)
{
    if (f->type == PROTOBUF_C_TYPE_STRING || f->type == PROTOBUF_C_TYPE_MESSAGE) {
        const void *ptr = *(const void *const *)reflect_at(msg, f);
        return ptr && ptr != f->default_value;
    }
    return *(const protobuf_c_boolean *)reflect_quantifier(msg, f) != 0;
}

static bool field_is_present(const ProtobufCMessage *msg, const ProtobufCFieldDescriptor *f)
{
    if (is_oneof(f))
        return *(const uint32_t *)reflect_quantifier(msg, f) == f->id;
    if (f->label == PROTOBUF_C_LABEL_REQUIRED)
        return true;
    if (f->label == PROTOBUF_C_LABEL_OPTIONAL)
        return optional_is_set(msg, f);
    return !value_is_default(f, reflect_at(msg, f));
}

static bool write_int64(int64_t v, doc_flavour fl, const char *key, bson_t *out)
{
    char buf[24];

    if (fl == DOC_BSON)
        return bson_append_int64(out, key, -1, v);
    snprintf(buf, sizeof buf, "%" PRId64, v);
    return bson_append_utf8(out, key, -1, buf, -1);
}

/* BSON has no unsigned 64-bit type: values above INT64_MAX go as decimal strings. */
static bool write_uint64(uint64_t v, doc_flavour fl, const char *key, bson_t *out)
{
    char buf[24];

    if (fl == DOC_BSON && v <= INT64_MAX)
        return bson_append_int64(out, key, -1, (int64_t)v);
    snprintf(buf, sizeof buf, "%" PRIu64, v);
    return bson_append_utf8(out, key, -1, buf, -1);
}

static bool write_uint32(uint32_t v, const char *key, bson_t *out)
{
    if (v <= INT32_MAX)
        return bson_append_int32(out, key, -1, (int32_t)v);
    return bson_append_int64(out, key, -1, v);
}

static bool write_double(double v, doc_flavour fl, const char *key, bson_t *out)
{
    if (fl == DOC_BSON || isfinite(v))
        return bson_append_double(out, key, -1, v);
    if (isnan(v))
        return bson_append_utf8(out, key, -1, "NaN", -1);
    return bson_append_utf8(out, key, -1, v > 0 ? "Infinity" : "-Infinity", -1);
}

static bool write_enum(const ProtobufCFieldDescriptor *f, int32_t v, const char *key, bson_t *out)
{
    const ProtobufCEnumValue *ev = protobuf_c_enum_descriptor_get_value(f->descriptor, v);

    if (ev)
        return bson_append_utf8(out, key, -1, ev->name, -1);
    return bson_append_int32(out, key, -1, v);
}

static bool write_bytes(const ProtobufCBinaryData *bd, doc_flavour fl, const char *key, bson_t *out)
{
    static const uint8_t empty[1];
    char *text;
    bool ok;

    if (fl == DOC_BSON) {
        if (bd->len > UINT32_MAX)
            return false;
        return bson_append_binary(out, key, -1, BSON_SUBTYPE_BINARY, bd->data ? bd->data : empty,
                                  (uint32_t)bd->len);
    }
    text = base64_encode(bd->data ? bd->data : empty, bd->len, false);
    ok = text && bson_append_utf8(out, key, -1, text, -1);
    free(text);
    return ok;
}

static bool write_timestamp(const ProtobufCMessage *msg, doc_flavour fl, const char *key,
                            bson_t *out)
{
    calendar_time ts;
    char buf[96];

    if (!timestamp_get(msg, &ts) || !calendar_time_valid(ts))
        return false;
    if (fl == DOC_BSON)
        return bson_append_date_time(out, key, -1, ts.seconds * 1000 + ts.nanos / NANOS_PER_MILLI);
    calendar_format_rfc3339(ts, buf, sizeof buf);
    return bson_append_utf8(out, key, -1, buf, -1);
}

/* Paths joined by commas, each in lowerCamelCase. */
static bool write_field_mask(const ProtobufCMessage *msg, const char *key, bson_t *out)
{
    const ProtobufCFieldDescriptor *f =
        reflect_repeated(msg->descriptor, "paths", PROTOBUF_C_TYPE_STRING, NULL);
    size_t n, total = 1, used = 0;
    char *const *paths;
    char *joined;
    bool ok;

    if (!f)
        return false;
    n = reflect_count(msg, f);
    paths = *(char *const *const *)reflect_at(msg, f);
    for (size_t i = 0; i < n; i++)
        total += strlen(paths[i]) + 1;
    joined = malloc(total);
    if (!joined)
        return false;
    joined[0] = '\0';
    for (size_t i = 0; i < n; i++) {
        if (i > 0)
            joined[used++] = ',';
        reflect_json_name(paths[i], joined + used, total - used);
        used += strlen(joined + used);
    }
    ok = bson_append_utf8(out, key, -1, joined, -1);
    free(joined);
    return ok;
}

static bool write_submessage(const ProtobufCMessage *sub, doc_flavour fl, const char *key,
                             bson_t *out, int depth)
{
    bson_t child;
    bool ok;

    if (!sub)
        return true;
    if (is_message_type(sub->descriptor, TIMESTAMP_TYPE))
        return write_timestamp(sub, fl, key, out);
    if (is_message_type(sub->descriptor, FIELD_MASK_TYPE))
        return write_field_mask(sub, key, out);
    if (!bson_append_document_begin(out, key, -1, &child))
        return false;
    ok = write_message(sub, fl, &child, depth + 1);
    return bson_append_document_end(out, &child) && ok;
}

static bool write_value(const ProtobufCFieldDescriptor *f, const void *slot, doc_flavour fl,
                        const char *key, bson_t *out, int depth)
{
    switch (f->type) {
    case PROTOBUF_C_TYPE_INT32:
    case PROTOBUF_C_TYPE_SINT32:
    case PROTOBUF_C_TYPE_SFIXED32:
        return bson_append_int32(out, key, -1, *(const int32_t *)slot);
    case PROTOBUF_C_TYPE_UINT32:
    case PROTOBUF_C_TYPE_FIXED32:
        return write_uint32(*(const uint32_t *)slot, key, out);
    case PROTOBUF_C_TYPE_INT64:
    case PROTOBUF_C_TYPE_SINT64:
    case PROTOBUF_C_TYPE_SFIXED64:
        return write_int64(*(const int64_t *)slot, fl, key, out);
    case PROTOBUF_C_TYPE_UINT64:
    case PROTOBUF_C_TYPE_FIXED64:
        return write_uint64(*(const uint64_t *)slot, fl, key, out);
    case PROTOBUF_C_TYPE_FLOAT:
        return write_double(*(const float *)slot, fl, key, out);
    case PROTOBUF_C_TYPE_DOUBLE:
        return write_double(*(const double *)slot, fl, key, out);
    case PROTOBUF_C_TYPE_BOOL:
        return bson_append_bool(out, key, -1, *(const protobuf_c_boolean *)slot != 0);
    case PROTOBUF_C_TYPE_ENUM:
        return write_enum(f, *(const int32_t *)slot, key, out);
    case PROTOBUF_C_TYPE_STRING: {
        const char *s = *(const char *const *)slot;
        return bson_append_utf8(out, key, -1, s ? s : "", -1);
    }
    case PROTOBUF_C_TYPE_BYTES:
        return write_bytes(slot, fl, key, out);
    case PROTOBUF_C_TYPE_MESSAGE:
        return write_submessage(*(const ProtobufCMessage *const *)slot, fl, key, out, depth);
    }
    return false;
}

static bool write_repeated(const ProtobufCMessage *msg, const ProtobufCFieldDescriptor *f,
                           doc_flavour fl, const char *key, bson_t *out, int depth)
{
    size_t n = reflect_count(msg, f);
    const char *arr = *(const char *const *)reflect_at(msg, f);
    size_t size = element_size(f->type);
    bson_t child;
    bool ok = true;

    if (n == 0)
        return true;
    if (!arr || n > UINT32_MAX || !bson_append_array_begin(out, key, -1, &child))
        return false;
    for (size_t i = 0; ok && i < n; i++) {
        char buf[16];
        const char *index;
        bson_uint32_to_string((uint32_t)i, &index, buf, sizeof buf);
        ok = write_value(f, arr + i * size, fl, index, &child, depth);
    }
    return bson_append_array_end(out, &child) && ok;
}

static bool write_field(const ProtobufCMessage *msg, const ProtobufCFieldDescriptor *f,
                        doc_flavour fl, bson_t *out, int depth)
{
    char key[MAX_NAME];

    if (strlen(f->name) >= sizeof key)
        return false;
    reflect_json_name(f->name, key, sizeof key);
    if (f->label == PROTOBUF_C_LABEL_REPEATED)
        return write_repeated(msg, f, fl, key, out, depth);
    if (!field_is_present(msg, f))
        return true;
    return write_value(f, reflect_at(msg, f), fl, key, out, depth);
}

static bool write_message(const ProtobufCMessage *msg, doc_flavour fl, bson_t *out, int depth)
{
    const ProtobufCMessageDescriptor *desc = msg->descriptor;

    if (depth > MAX_DEPTH)
        return false;
    for (unsigned i = 0; i < desc->n_fields; i++) {
        if (!write_field(msg, &desc->fields[i], fl, out, depth))
            return false;
    }
    return true;
}

bool doc_from_message(const ProtobufCMessage *msg, doc_flavour fl, bson_t *out)
{
    if (!msg || !msg->descriptor || !out)
        return false;
    return write_message(msg, fl, out, 0);
}

/* ---- reading: document -> message ---- */

/* The path of the field being read ("organization.certificates[2].validUntil")
 * and where its error goes. */
/* A failure's message, and the path to where it happened: written only
 * when a read fails, one component at a time while the failure returns
 * through the levels (so the path grows leftwards from the end of path[];
 * a path too long keeps its end, marked cut). A read that succeeds
 * formats nothing. */
typedef struct reader {
    char msg[MAX_ERROR];
    char path[MAX_PATH];
    size_t start; /* the path is path[start..], NUL-terminated */
    bool cut;
    char *err;
    size_t errlen;
} reader;

static void set_error(char *err, size_t errlen, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void set_error(char *err, size_t errlen, const char *fmt, ...)
{
    va_list ap;

    if (!err || errlen == 0)
        return;
    va_start(ap, fmt);
    vsnprintf(err, errlen, fmt, ap);
    va_end(ap);
}

static bool fail(reader *r, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void reader_init(reader *r, char *err, size_t errlen)
{
    r->msg[0] = '\0';
    r->start = sizeof r->path - 1;
    r->path[r->start] = '\0';
    r->cut = false;
    r->err = err;
    r->errlen = errlen;
}

static bool fail(reader *r, const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(r->msg, sizeof r->msg, fmt, ap);
    va_end(ap);
    return false;
}

/* Puts comp (a field's JSON name, or "[i]") in front of the failure's path. */
static void path_prepend(reader *r, const char *comp)
{
    size_t n = strlen(comp);
    bool dot = r->path[r->start] != '\0' && r->path[r->start] != '[';
    if (r->cut || n + dot > r->start) {
        r->cut = true;
        return;
    }
    if (dot)
        r->path[--r->start] = '.';
    r->start -= n;
    memcpy(r->path + r->start, comp, n);
}

static void path_prepend_field(reader *r, const ProtobufCFieldDescriptor *f)
{
    char name[MAX_NAME];

    reflect_json_name(f->name, name, sizeof name);
    path_prepend(r, name);
}

/* The failure as err gets it: "path: message", keeping the message and the
 * end of a path too long for err. */
static void reader_error(reader *r)
{
    const char *path = r->path + r->start;
    size_t pathlen = strlen(path), len = strlen(r->msg);

    const char *dots = r->cut ? "..." : "";

    if (pathlen == 0)
        set_error(r->err, r->errlen, "%s", r->msg);
    else if (r->errlen < len + 16 || strlen(dots) + pathlen + len + 3 <= r->errlen)
        set_error(r->err, r->errlen, "%s%s: %s", dots, path, r->msg);
    else /* here pathlen > errlen - len - 6 >= 10 */
        set_error(r->err, r->errlen, "...%s: %s", path + pathlen - (r->errlen - len - 6), r->msg);
}

/* Frees what a single value owns and resets it to the field's default. */
static void release_value(const ProtobufCFieldDescriptor *f, void *slot)
{
    if (f->type == PROTOBUF_C_TYPE_STRING) {
        char **s = slot;
        if (*s && *s != f->default_value)
            free(*s);
        *s = (char *)f->default_value;
    } else if (f->type == PROTOBUF_C_TYPE_BYTES) {
        ProtobufCBinaryData *bd = slot;
        const ProtobufCBinaryData *def = f->default_value;
        if (bd->data && (!def || def->data != bd->data))
            free(bd->data);
        *bd = def ? *def : (ProtobufCBinaryData){0, NULL};
    } else if (f->type == PROTOBUF_C_TYPE_MESSAGE) {
        ProtobufCMessage **m = slot;
        if (*m && *m != f->default_value)
            protobuf_c_message_free_unpacked(*m, NULL);
        *m = NULL;
    }
}

static void release_element(const ProtobufCFieldDescriptor *f, void *slot)
{
    if (f->type == PROTOBUF_C_TYPE_STRING)
        free(*(char **)slot);
    else if (f->type == PROTOBUF_C_TYPE_BYTES)
        free(((ProtobufCBinaryData *)slot)->data);
    else if (f->type == PROTOBUF_C_TYPE_MESSAGE)
        protobuf_c_message_free_unpacked(*(ProtobufCMessage **)slot, NULL);
}

static void release_repeated(ProtobufCMessage *msg, const ProtobufCFieldDescriptor *f)
{
    size_t *n = reflect_quantifier(msg, f);
    char **arr = reflect_at(msg, f);
    size_t size = element_size(f->type);

    for (size_t i = 0; *arr && i < *n; i++)
        release_element(f, *arr + i * size);
    free(*arr);
    *arr = NULL;
    *n = 0;
}

/* Clears whichever member of f's oneof is set. */
static void release_oneof(ProtobufCMessage *msg, const ProtobufCFieldDescriptor *f)
{
    uint32_t *which = reflect_quantifier(msg, f);
    const ProtobufCFieldDescriptor *set =
        *which ? protobuf_c_message_descriptor_get_field(msg->descriptor, *which) : NULL;

    if (set)
        release_value(set, reflect_at(msg, set));
    *which = 0;
}

/* Drops a field's current value, so that a repeated key replaces it. */
static void release_field(ProtobufCMessage *msg, const ProtobufCFieldDescriptor *f)
{
    if (f->label == PROTOBUF_C_LABEL_REPEATED)
        release_repeated(msg, f);
    else if (is_oneof(f))
        release_oneof(msg, f);
    else
        release_value(f, reflect_at(msg, f));
}

static void mark_present(ProtobufCMessage *msg, const ProtobufCFieldDescriptor *f)
{
    if (is_oneof(f))
        *(uint32_t *)reflect_quantifier(msg, f) = f->id;
    else if (f->label == PROTOBUF_C_LABEL_OPTIONAL && f->type != PROTOBUF_C_TYPE_STRING &&
             f->type != PROTOBUF_C_TYPE_MESSAGE)
        *(protobuf_c_boolean *)reflect_quantifier(msg, f) = 1;
}

/* -- numbers: the rules are number.c's, the words for a refusal here -- */

static bool integer_error(reader *r, const ProtobufCFieldDescriptor *f, number_status st)
{
    if (st == NUMBER_OUT_OF_RANGE)
        return fail(r, "value out of range for %s", number_type_name(f->type));
    return fail(r, "expected an integer (%s)", number_type_name(f->type));
}

static bool read_signed(reader *r, const ProtobufCFieldDescriptor *f, const bson_iter_t *it,
                        void *slot)
{
    bool wide = element_size(f->type) == sizeof(int64_t);
    int64_t v;
    number_status st =
        number_signed_in_range(it, wide ? INT64_MIN : INT32_MIN, wide ? INT64_MAX : INT32_MAX, &v);

    if (st != NUMBER_OK)
        return integer_error(r, f, st);
    if (wide)
        *(int64_t *)slot = v;
    else
        *(int32_t *)slot = (int32_t)v;
    return true;
}

static bool read_unsigned(reader *r, const ProtobufCFieldDescriptor *f, const bson_iter_t *it,
                          void *slot)
{
    bool wide = element_size(f->type) == sizeof(uint64_t);
    uint64_t v;
    number_status st = number_unsigned_in_range(it, wide ? UINT64_MAX : UINT32_MAX, &v);

    if (st != NUMBER_OK)
        return integer_error(r, f, st);
    if (wide)
        *(uint64_t *)slot = v;
    else
        *(uint32_t *)slot = (uint32_t)v;
    return true;
}

static bool read_float(reader *r, const ProtobufCFieldDescriptor *f, const bson_iter_t *it,
                       void *slot)
{
    double d;

    if (!number_value(it, &d))
        return fail(r, "expected a number");
    if (f->type == PROTOBUF_C_TYPE_DOUBLE) {
        *(double *)slot = d;
        return true;
    }
    if (isfinite(d) && (d > FLT_MAX || d < -FLT_MAX))
        return fail(r, "value out of range for float");
    *(float *)slot = (float)d;
    return true;
}

/* -- other scalars -- */

static bool read_bool(reader *r, const bson_iter_t *it, void *slot)
{
    if (!BSON_ITER_HOLDS_BOOL(it))
        return fail(r, "expected a boolean");
    *(protobuf_c_boolean *)slot = bson_iter_bool(it) ? 1 : 0;
    return true;
}

static bool read_enum(reader *r, const ProtobufCFieldDescriptor *f, const bson_iter_t *it,
                      void *slot)
{
    const ProtobufCEnumDescriptor *ed = f->descriptor;
    int64_t v;

    if (BSON_ITER_HOLDS_UTF8(it)) {
        uint32_t len;
        const char *name = bson_iter_utf8(it, &len);
        const ProtobufCEnumValue *ev = protobuf_c_enum_descriptor_get_value_by_name(ed, name);
        if (!ev || strlen(name) != len)
            return fail(r, "unknown value \"%s\" for enum %s", name, ed->name);
        *(int32_t *)slot = ev->value;
        return true;
    }
    if (number_signed_in_range(it, INT32_MIN, INT32_MAX, &v) != NUMBER_OK)
        return fail(r, "expected an enum name or 32-bit number");
    *(int32_t *)slot = (int32_t)v;
    return true;
}

static bool read_string(reader *r, const bson_iter_t *it, void *slot)
{
    uint32_t len;
    const char *s;
    char *copy;

    if (!BSON_ITER_HOLDS_UTF8(it))
        return fail(r, "expected a string");
    s = bson_iter_utf8(it, &len);
    if (!bson_utf8_validate(s, len, false))
        return fail(r, "invalid UTF-8 (or NUL) in string");
    copy = malloc((size_t)len + 1);
    if (!copy)
        return fail(r, "out of memory");
    memcpy(copy, s, len);
    copy[len] = '\0';
    *(char **)slot = copy;
    return true;
}

static bool read_bytes(reader *r, const bson_iter_t *it, void *slot)
{
    ProtobufCBinaryData bd = {0, NULL};
    bson_subtype_t subtype;
    const uint8_t *data;
    uint32_t len;

    if (BSON_ITER_HOLDS_UTF8(it)) {
        const char *s = bson_iter_utf8(it, &len);
        if (!base64_decode(s, len, &bd.data, &bd.len))
            return fail(r, "invalid base64");
    } else if (BSON_ITER_HOLDS_BINARY(it)) {
        bson_iter_binary(it, &subtype, &len, &data);
        bd.len = len;
        bd.data = len ? malloc(len) : NULL;
        if (len && !bd.data)
            return fail(r, "out of memory");
        if (len)
            memcpy(bd.data, data, len);
    } else {
        return fail(r, "expected binary data or a base64 string");
    }
    *(ProtobufCBinaryData *)slot = bd;
    return true;
}

/* -- messages -- */

static bool read_fields(reader *r, ProtobufCMessage *msg, bson_iter_t *it, int depth);

static bool fill_timestamp(reader *r, ProtobufCMessage *msg, const bson_iter_t *it)
{
    calendar_time ts;
    bool ok = false;

    if (BSON_ITER_HOLDS_DATE_TIME(it)) {
        ok = calendar_from_millis(bson_iter_date_time(it), &ts);
    } else if (BSON_ITER_HOLDS_UTF8(it)) {
        uint32_t len;
        const char *s = bson_iter_utf8(it, &len);
        ok = calendar_parse_rfc3339(s, len, &ts);
    }
    if (!ok)
        return fail(r, "expected a timestamp");
    return timestamp_set(msg, ts) || fail(r, "unexpected Timestamp descriptor");
}

static bool fill_field_mask(reader *r, ProtobufCMessage *msg, const bson_iter_t *it)
{
    const ProtobufCFieldDescriptor *f =
        reflect_repeated(msg->descriptor, "paths", PROTOBUF_C_TYPE_STRING, NULL);
    uint32_t len;
    const char *s, *p;
    size_t count = 1, *n;
    char **arr;

    if (!f)
        return fail(r, "unexpected FieldMask descriptor");
    if (!BSON_ITER_HOLDS_UTF8(it))
        return fail(r, "expected a field mask string");
    s = bson_iter_utf8(it, &len);
    if (!bson_utf8_validate(s, len, false))
        return fail(r, "invalid UTF-8 (or NUL) in field mask");
    if (len == 0)
        return true;
    for (p = s; (p = strchr(p, ',')) != NULL; p++)
        count++;
    arr = calloc(count, sizeof *arr);
    if (!arr)
        return fail(r, "out of memory");
    *(char ***)reflect_at(msg, f) = arr;
    n = reflect_quantifier(msg, f);
    for (p = s; *n < count; ++*n) {
        size_t seglen = strcspn(p, ",");
        if (seglen == 0)
            return fail(r, "empty path in field mask");
        arr[*n] = snake_case_copy(p, seglen);
        if (!arr[*n])
            return fail(r, "out of memory");
        p += seglen + (p[seglen] == ',');
    }
    return true;
}

static bool fill_from_document(reader *r, ProtobufCMessage *msg, const bson_iter_t *it, int depth)
{
    bson_iter_t child;

    if (!BSON_ITER_HOLDS_DOCUMENT(it) || !bson_iter_recurse(it, &child))
        return fail(r, "expected a document");
    return read_fields(r, msg, &child, depth);
}

static bool read_submessage(reader *r, const ProtobufCFieldDescriptor *f, const bson_iter_t *it,
                            void *slot, int depth)
{
    const ProtobufCMessageDescriptor *desc = f->descriptor;
    ProtobufCMessage *sub = new_message(desc);
    bool ok;

    if (!sub)
        return fail(r, "out of memory");
    if (is_message_type(desc, TIMESTAMP_TYPE))
        ok = fill_timestamp(r, sub, it);
    else if (is_message_type(desc, FIELD_MASK_TYPE))
        ok = fill_field_mask(r, sub, it);
    else
        ok = fill_from_document(r, sub, it, depth + 1);
    if (!ok) {
        protobuf_c_message_free_unpacked(sub, NULL);
        return false;
    }
    *(ProtobufCMessage **)slot = sub;
    return true;
}

/* Reads one value into slot; writes slot only on success. */
static bool read_value(reader *r, const ProtobufCFieldDescriptor *f, const bson_iter_t *it,
                       void *slot, int depth)
{
    switch (f->type) {
    case PROTOBUF_C_TYPE_FLOAT:
    case PROTOBUF_C_TYPE_DOUBLE:
        return read_float(r, f, it, slot);
    case PROTOBUF_C_TYPE_BOOL:
        return read_bool(r, it, slot);
    case PROTOBUF_C_TYPE_ENUM:
        return read_enum(r, f, it, slot);
    case PROTOBUF_C_TYPE_STRING:
        return read_string(r, it, slot);
    case PROTOBUF_C_TYPE_BYTES:
        return read_bytes(r, it, slot);
    case PROTOBUF_C_TYPE_MESSAGE:
        return read_submessage(r, f, it, slot, depth);
    default:
        if (number_is_unsigned(f->type))
            return read_unsigned(r, f, it, slot);
        return read_signed(r, f, it, slot);
    }
}

static size_t count_elements(const bson_iter_t *array)
{
    bson_iter_t it = *array;
    size_t n = 0;

    while (bson_iter_next(&it))
        n++;
    return n;
}

static bool read_repeated(reader *r, ProtobufCMessage *msg, const ProtobufCFieldDescriptor *f,
                          const bson_iter_t *it, int depth)
{
    size_t size = element_size(f->type), count, *n;
    bson_iter_t elems;
    char *arr;

    if (!BSON_ITER_HOLDS_ARRAY(it) || !bson_iter_recurse(it, &elems))
        return fail(r, "expected an array");
    release_repeated(msg, f);
    count = count_elements(&elems);
    if (count == 0)
        return true;
    arr = calloc(count, size);
    if (!arr)
        return fail(r, "out of memory");
    *(char **)reflect_at(msg, f) = arr;
    n = reflect_quantifier(msg, f);
    while (*n < count && bson_iter_next(&elems)) {
        if (!read_value(r, f, &elems, arr + *n * size, depth)) {
            char index[32];
            snprintf(index, sizeof index, "[%zu]", *n);
            path_prepend(r, index);
            return false;
        }
        ++*n;
    }
    return true;
}

static bool read_field(reader *r, ProtobufCMessage *msg, const ProtobufCFieldDescriptor *f,
                       const bson_iter_t *it, int depth)
{
    if (BSON_ITER_HOLDS_NULL(it))
        return true;
    if (f->label == PROTOBUF_C_LABEL_REPEATED)
        return read_repeated(r, msg, f, it, depth);
    release_field(msg, f);
    if (!read_value(r, f, it, reflect_at(msg, f), depth))
        return false;
    mark_present(msg, f);
    return true;
}

static bool read_fields(reader *r, ProtobufCMessage *msg, bson_iter_t *it, int depth)
{
    if (depth > MAX_DEPTH)
        return fail(r, "nested deeper than %d levels", MAX_DEPTH);
    while (bson_iter_next(it)) {
        const char *key = bson_iter_key(it);
        const ProtobufCFieldDescriptor *f =
            strcmp(key, "_id") == 0 ? NULL : reflect_field(msg->descriptor, key);
        if (!f)
            continue;
        if (!read_field(r, msg, f, it, depth)) {
            path_prepend_field(r, f);
            return false;
        }
    }
    return true;
}

ProtobufCMessage *doc_to_message(const ProtobufCMessageDescriptor *desc, const bson_t *doc,
                                 char *err, size_t errlen)
{
    reader r;
    ProtobufCMessage *msg = NULL;
    bson_iter_t it;

    reader_init(&r, err, errlen);
    set_error(err, errlen, "%s", "");
    if (!desc || !doc || !bson_iter_init(&it, doc))
        fail(&r, "malformed document");
    else if (!(msg = new_message(desc)))
        fail(&r, "out of memory");
    else if (!read_fields(&r, msg, &it, 0)) {
        protobuf_c_message_free_unpacked(msg, NULL);
        msg = NULL;
    }
    if (!msg)
        reader_error(&r);
    return msg;
}

/* ---- JSON ---- */

char *doc_message_to_json(const ProtobufCMessage *msg)
{
    bson_t doc = BSON_INITIALIZER;
    char *json = NULL;

    if (doc_from_message(msg, DOC_JSON, &doc))
        json = bson_as_relaxed_extended_json(&doc, NULL);
    bson_destroy(&doc);
    return json;
}

static bool starts_with_object(const char *json, size_t len)
{
    for (size_t i = 0; i < len; i++) {
        if (json[i] != ' ' && json[i] != '\t' && json[i] != '\n' && json[i] != '\r')
            return json[i] == '{';
    }
    return false;
}

/* Exactly one JSON object; NULL with err set otherwise. */
static bson_t *bson_from_json_object(const char *json, size_t len, char *err, size_t errlen)
{
    bson_json_reader_t *rd;
    bson_error_t error = {0};
    bson_t *doc, extra = BSON_INITIALIZER;
    int got;

    if (!json || len > SSIZE_MAX || !starts_with_object(json, len)) {
        set_error(err, errlen, "invalid JSON: expected an object");
        return NULL;
    }
    doc = bson_new();
    rd = bson_json_data_reader_new(false, 0);
    bson_json_data_reader_ingest(rd, (const uint8_t *)json, len);
    got = bson_json_reader_read(rd, doc, &error);
    if (got == 1 && bson_json_reader_read(rd, &extra, &error) != 0) {
        got = -1;
        snprintf(error.message, sizeof error.message, "text after the object");
    }
    if (got != 1) {
        set_error(err, errlen, "invalid JSON: %s", got == 0 ? "empty" : error.message);
        bson_destroy(doc);
        doc = NULL;
    }
    bson_destroy(&extra);
    bson_json_reader_destroy(rd);
    return doc;
}

ProtobufCMessage *doc_message_from_json(const ProtobufCMessageDescriptor *desc, const char *json,
                                        size_t len, char *err, size_t errlen)
{
    bson_t *doc = bson_from_json_object(json, len, err, errlen);
    ProtobufCMessage *msg;

    if (!doc)
        return NULL;
    msg = doc_to_message(desc, doc, err, errlen);
    bson_destroy(doc);
    return msg;
}
