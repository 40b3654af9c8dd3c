/* test_doc.c — the message <-> document converter (internal/doc/doc.h).
 *
 * Every generated message type, filled by a descriptor-driven filler with a
 * non-default value in every field, must survive message -> BSON -> message
 * and message -> JSON -> message unchanged (compared by their packed bytes).
 * A hand-written descriptor (AllTypes) covers the scalar types, labels and
 * oneofs the project's protos do not use. The rest pins down document shapes
 * and the errors (with field paths) for bad input; run under ASan/LSan, the
 * error tests also show nothing leaks.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "doc.h"
#include "google/protobuf/empty.pb-c.h"
#include "google/protobuf/field_mask.pb-c.h"
#include "google/protobuf/timestamp.pb-c.h"
#include "grpc/health/v1/health.pb-c.h"
#include "grpc/reflection/v1/reflection.pb-c.h"
#include "grpc/reflection/v1alpha/reflection.pb-c.h"
#include "supplysec/internal/v1/stored.pb-c.h"
#include "supplysec/v1/api_keys.pb-c.h"
#include "supplysec/v1/common.pb-c.h"
#include "supplysec/v1/organizations.pb-c.h"

/* 2026-01-02T03:04:05.123Z */
static const int64_t T_SECONDS = 1767323045;
static const int32_t T_NANOS = 123000000;
static const int64_t T_MILLIS = 1767323045123LL;

/* ---- AllTypes: a hand-written descriptor with every field type and label ---- */

typedef struct AllTypes AllTypes;
struct AllTypes {
    ProtobufCMessage base;
    int32_t f_int32;
    int32_t f_sint32;
    int32_t f_sfixed32;
    uint32_t f_uint32;
    uint32_t f_fixed32;
    int64_t f_int64;
    int64_t f_sint64;
    int64_t f_sfixed64;
    uint64_t f_uint64;
    uint64_t f_fixed64;
    float f_float;
    double f_double;
    protobuf_c_boolean f_bool;
    int32_t f_color;
    char *f_string;
    ProtobufCBinaryData f_bytes;
    AllTypes *child;
    size_t n_r_int32;
    int32_t *r_int32;
    size_t n_r_sint64;
    int64_t *r_sint64;
    size_t n_r_uint64;
    uint64_t *r_uint64;
    size_t n_r_float;
    float *r_float;
    size_t n_r_double;
    double *r_double;
    size_t n_r_bool;
    protobuf_c_boolean *r_bool;
    size_t n_r_color;
    int32_t *r_color;
    size_t n_r_string;
    char **r_string;
    size_t n_r_bytes;
    ProtobufCBinaryData *r_bytes;
    size_t n_r_child;
    AllTypes **r_child;
    size_t n_r_when;
    Google__Protobuf__Timestamp **r_when;
    protobuf_c_boolean has_opt_int64;
    int64_t opt_int64;
    char *opt_string;
    uint32_t req_fixed32;
    uint32_t choice_case;
    union {
        char *c_string;
        int64_t c_int64;
        AllTypes *c_child;
    };
    Google__Protobuf__Timestamp *when;
    Google__Protobuf__FieldMask *mask;
};

enum { COLOR_UNSPECIFIED = 0, COLOR_RED = 1, COLOR_GREEN = 2 };

static const ProtobufCEnumValue color_values[] = {
    {"COLOR_UNSPECIFIED", "COLOR_UNSPECIFIED", COLOR_UNSPECIFIED},
    {"COLOR_RED", "COLOR_RED", COLOR_RED},
    {"COLOR_GREEN", "COLOR_GREEN", COLOR_GREEN},
};
static const ProtobufCEnumValueIndex color_by_name[] = {
    {"COLOR_GREEN", 2}, {"COLOR_RED", 1}, {"COLOR_UNSPECIFIED", 0}};
static const ProtobufCIntRange color_ranges[] = {{0, 0}, {0, 3}};
static const ProtobufCEnumDescriptor color_descriptor = {PROTOBUF_C__ENUM_DESCRIPTOR_MAGIC,
                                                         "doctest.Color",
                                                         "Color",
                                                         "Color",
                                                         "doctest",
                                                         3,
                                                         color_values,
                                                         3,
                                                         color_by_name,
                                                         1,
                                                         color_ranges,
                                                         NULL,
                                                         NULL,
                                                         NULL,
                                                         NULL};

static const ProtobufCMessageDescriptor all_types_descriptor;

#define FIELD(id, name, label, type, quantifier, desc, def, flags)                                 \
    {                                                                                              \
#name, id, PROTOBUF_C_LABEL_##label, PROTOBUF_C_TYPE_##type, quantifier,                   \
            offsetof(AllTypes, name), desc, def, flags, 0, NULL, NULL                              \
    }
#define PLAIN(id, name, type) FIELD(id, name, NONE, type, 0, NULL, NULL, 0)
#define REPEATED(id, name, type, desc)                                                             \
    FIELD(id, name, REPEATED, type, offsetof(AllTypes, n_##name), desc, NULL, 0)
#define ONEOF(id, name, type, desc, def)                                                           \
    FIELD(id, name, NONE, type, offsetof(AllTypes, choice_case), desc, def,                        \
          PROTOBUF_C_FIELD_FLAG_ONEOF)

static const ProtobufCFieldDescriptor all_types_fields[] = {
    PLAIN(1, f_int32, INT32),
    PLAIN(2, f_sint32, SINT32),
    PLAIN(3, f_sfixed32, SFIXED32),
    PLAIN(4, f_uint32, UINT32),
    PLAIN(5, f_fixed32, FIXED32),
    PLAIN(6, f_int64, INT64),
    PLAIN(7, f_sint64, SINT64),
    PLAIN(8, f_sfixed64, SFIXED64),
    PLAIN(9, f_uint64, UINT64),
    PLAIN(10, f_fixed64, FIXED64),
    PLAIN(11, f_float, FLOAT),
    PLAIN(12, f_double, DOUBLE),
    PLAIN(13, f_bool, BOOL),
    FIELD(14, f_color, NONE, ENUM, 0, &color_descriptor, NULL, 0),
    FIELD(15, f_string, NONE, STRING, 0, NULL, &protobuf_c_empty_string, 0),
    PLAIN(16, f_bytes, BYTES),
    FIELD(17, child, NONE, MESSAGE, 0, &all_types_descriptor, NULL, 0),
    REPEATED(18, r_int32, INT32, NULL),
    REPEATED(19, r_sint64, SINT64, NULL),
    REPEATED(20, r_uint64, UINT64, NULL),
    REPEATED(21, r_float, FLOAT, NULL),
    REPEATED(22, r_double, DOUBLE, NULL),
    REPEATED(23, r_bool, BOOL, NULL),
    REPEATED(24, r_color, ENUM, &color_descriptor),
    REPEATED(25, r_string, STRING, NULL),
    REPEATED(26, r_bytes, BYTES, NULL),
    REPEATED(27, r_child, MESSAGE, &all_types_descriptor),
    REPEATED(28, r_when, MESSAGE, &google__protobuf__timestamp__descriptor),
    FIELD(29, opt_int64, OPTIONAL, INT64, offsetof(AllTypes, has_opt_int64), NULL, NULL, 0),
    FIELD(30, opt_string, OPTIONAL, STRING, 0, NULL, NULL, 0),
    FIELD(31, req_fixed32, REQUIRED, FIXED32, 0, NULL, NULL, 0),
    ONEOF(32, c_string, STRING, NULL, &protobuf_c_empty_string),
    ONEOF(33, c_int64, INT64, NULL, NULL),
    ONEOF(34, c_child, MESSAGE, &all_types_descriptor, NULL),
    FIELD(35, when, NONE, MESSAGE, 0, &google__protobuf__timestamp__descriptor, NULL, 0),
    FIELD(36, mask, NONE, MESSAGE, 0, &google__protobuf__field_mask__descriptor, NULL, 0),
};
enum { N_ALL_TYPES_FIELDS = sizeof all_types_fields / sizeof all_types_fields[0] };

static unsigned all_types_by_name[N_ALL_TYPES_FIELDS];
static const ProtobufCIntRange all_types_ranges[] = {{1, 0}, {0, N_ALL_TYPES_FIELDS}};

static void all_types_init(AllTypes *m)
{
    static const AllTypes init = {
        .base = PROTOBUF_C_MESSAGE_INIT(&all_types_descriptor),
        .f_string = (char *)protobuf_c_empty_string,
    };
    *m = init;
}

static const ProtobufCMessageDescriptor all_types_descriptor = {
    PROTOBUF_C__MESSAGE_DESCRIPTOR_MAGIC,
    "doctest.AllTypes",
    "AllTypes",
    "AllTypes",
    "doctest",
    sizeof(AllTypes),
    N_ALL_TYPES_FIELDS,
    all_types_fields,
    all_types_by_name,
    1,
    all_types_ranges,
    (ProtobufCMessageInit)all_types_init,
    NULL,
    NULL,
    NULL};

static int by_field_name(const void *a, const void *b)
{
    return strcmp(all_types_fields[*(const unsigned *)a].name,
                  all_types_fields[*(const unsigned *)b].name);
}

static int setup_all_types(void **state)
{
    (void)state;
    for (unsigned i = 0; i < N_ALL_TYPES_FIELDS; i++)
        all_types_by_name[i] = i;
    qsort(all_types_by_name, N_ALL_TYPES_FIELDS, sizeof all_types_by_name[0], by_field_name);
    return 0;
}

/* ---- a descriptor-driven filler: a non-default value in every field ---- */

typedef struct filler {
    unsigned counter;
    unsigned pick; /* which member of each oneof */
    int max_depth;
} filler;

static ProtobufCMessage *fill_message(const ProtobufCMessageDescriptor *desc, filler *fl,
                                      int depth);

static void *checked(void *p)
{
    assert_non_null(p);
    return p;
}

/* Position of f within its oneof, and the oneof's size. */
static unsigned oneof_position(const ProtobufCMessageDescriptor *desc,
                               const ProtobufCFieldDescriptor *f, unsigned *size)
{
    unsigned pos = 0;

    *size = 0;
    for (unsigned i = 0; i < desc->n_fields; i++) {
        const ProtobufCFieldDescriptor *g = &desc->fields[i];
        if (!(g->flags & PROTOBUF_C_FIELD_FLAG_ONEOF) ||
            g->quantifier_offset != f->quantifier_offset)
            continue;
        if (g == f)
            pos = *size;
        ++*size;
    }
    return pos;
}

static unsigned largest_oneof(const ProtobufCMessageDescriptor *desc)
{
    unsigned largest = 1, size;

    for (unsigned i = 0; i < desc->n_fields; i++) {
        if (desc->fields[i].flags & PROTOBUF_C_FIELD_FLAG_ONEOF) {
            oneof_position(desc, &desc->fields[i], &size);
            largest = size > largest ? size : largest;
        }
    }
    return largest;
}

static ProtobufCMessage *fill_timestamp(filler *fl)
{
    Google__Protobuf__Timestamp *ts = checked(malloc(sizeof *ts));

    google__protobuf__timestamp__init(ts);
    ts->seconds = T_SECONDS + (int64_t)fl->counter * 86399;
    ts->nanos = (int32_t)(1 + fl->counter % 999) * 1000000;
    return &ts->base;
}

static ProtobufCMessage *fill_field_mask(void)
{
    Google__Protobuf__FieldMask *fm = checked(malloc(sizeof *fm));

    google__protobuf__field_mask__init(fm);
    fm->n_paths = 2;
    fm->paths = checked(calloc(2, sizeof *fm->paths));
    fm->paths[0] = checked(strdup("legal_name"));
    fm->paths[1] = checked(strdup("identifiers.aeo_type"));
    return &fm->base;
}

static ProtobufCMessage *fill_submessage(const ProtobufCMessageDescriptor *desc, filler *fl,
                                         int depth)
{
    if (desc == &google__protobuf__timestamp__descriptor)
        return fill_timestamp(fl);
    if (desc == &google__protobuf__field_mask__descriptor)
        return fill_field_mask();
    if (depth >= fl->max_depth)
        return NULL;
    return fill_message(desc, fl, depth + 1);
}

static int32_t nonzero_enum_value(const ProtobufCEnumDescriptor *ed, unsigned counter)
{
    return ed->values[1 + counter % (ed->n_values - 1)].value;
}

/* Fills one value; false when there is nothing to fill (depth limit). */
static bool fill_value(const ProtobufCFieldDescriptor *f, void *slot, filler *fl, int depth)
{
    unsigned c = ++fl->counter;
    char text[80];

    switch (f->type) {
    case PROTOBUF_C_TYPE_INT32:
    case PROTOBUF_C_TYPE_SINT32:
    case PROTOBUF_C_TYPE_SFIXED32:
        *(int32_t *)slot = -100000 - (int32_t)c;
        break;
    case PROTOBUF_C_TYPE_UINT32:
    case PROTOBUF_C_TYPE_FIXED32:
        *(uint32_t *)slot = 4000000000u - c;
        break;
    case PROTOBUF_C_TYPE_INT64:
    case PROTOBUF_C_TYPE_SINT64:
    case PROTOBUF_C_TYPE_SFIXED64:
        *(int64_t *)slot = INT64_MIN + 7 + c;
        break;
    case PROTOBUF_C_TYPE_UINT64:
    case PROTOBUF_C_TYPE_FIXED64:
        *(uint64_t *)slot = UINT64_MAX - c;
        break;
    case PROTOBUF_C_TYPE_FLOAT:
        *(float *)slot = 1.1f + (float)c;
        break;
    case PROTOBUF_C_TYPE_DOUBLE:
        *(double *)slot = 0.1 + c;
        break;
    case PROTOBUF_C_TYPE_BOOL:
        *(protobuf_c_boolean *)slot = 1;
        break;
    case PROTOBUF_C_TYPE_ENUM:
        *(int32_t *)slot = nonzero_enum_value(f->descriptor, c);
        break;
    case PROTOBUF_C_TYPE_STRING:
        snprintf(text, sizeof text, "s%u \"quoted\" \\ / caf\xc3\xa9 \xe2\x9c\x93\n\t", c);
        *(char **)slot = checked(strdup(text));
        break;
    case PROTOBUF_C_TYPE_BYTES: {
        ProtobufCBinaryData *bd = slot;
        static const uint8_t bytes[] = {0, 1, 0, 0xff, 0xfb, 0};
        bd->len = sizeof bytes - c % 2;
        bd->data = checked(malloc(sizeof bytes));
        memcpy(bd->data, bytes, sizeof bytes);
        bd->data[1] = (uint8_t)c;
        break;
    }
    case PROTOBUF_C_TYPE_MESSAGE:
        *(ProtobufCMessage **)slot = fill_submessage(f->descriptor, fl, depth);
        return *(ProtobufCMessage **)slot != NULL;
    }
    return true;
}

static size_t element_size(const ProtobufCFieldDescriptor *f)
{
    switch (f->type) {
    case PROTOBUF_C_TYPE_INT64:
    case PROTOBUF_C_TYPE_SINT64:
    case PROTOBUF_C_TYPE_SFIXED64:
    case PROTOBUF_C_TYPE_UINT64:
    case PROTOBUF_C_TYPE_FIXED64:
        return 8;
    case PROTOBUF_C_TYPE_DOUBLE:
        return sizeof(double);
    case PROTOBUF_C_TYPE_STRING:
        return sizeof(char *);
    case PROTOBUF_C_TYPE_BYTES:
        return sizeof(ProtobufCBinaryData);
    case PROTOBUF_C_TYPE_MESSAGE:
        return sizeof(void *);
    default:
        return 4;
    }
}

static void fill_repeated(ProtobufCMessage *msg, const ProtobufCFieldDescriptor *f, filler *fl,
                          int depth)
{
    size_t *n = (size_t *)((char *)msg + f->quantifier_offset);
    char **arr = (char **)((char *)msg + f->offset);
    size_t size = element_size(f);

    *arr = checked(calloc(3, size));
    while (*n < 3 && fill_value(f, *arr + *n * size, fl, depth))
        ++*n;
    if (*n == 0) {
        free(*arr);
        *arr = NULL;
    }
}

static void fill_field(ProtobufCMessage *msg, const ProtobufCFieldDescriptor *f, filler *fl,
                       int depth)
{
    bool oneof = f->flags & PROTOBUF_C_FIELD_FLAG_ONEOF;
    void *quantifier = (char *)msg + f->quantifier_offset;
    unsigned size, position = oneof ? oneof_position(msg->descriptor, f, &size) : 0;

    if (f->label == PROTOBUF_C_LABEL_REPEATED) {
        fill_repeated(msg, f, fl, depth);
        return;
    }
    if (oneof && position != fl->pick % size)
        return;
    if (!fill_value(f, (char *)msg + f->offset, fl, depth))
        return;
    if (oneof)
        *(uint32_t *)quantifier = f->id;
    else if (f->label == PROTOBUF_C_LABEL_OPTIONAL && f->type != PROTOBUF_C_TYPE_STRING &&
             f->type != PROTOBUF_C_TYPE_MESSAGE)
        *(protobuf_c_boolean *)quantifier = 1;
}

static ProtobufCMessage *fill_message(const ProtobufCMessageDescriptor *desc, filler *fl, int depth)
{
    ProtobufCMessage *msg = checked(malloc(desc->sizeof_message));

    protobuf_c_message_init(desc, msg);
    for (unsigned i = 0; i < desc->n_fields; i++)
        fill_field(msg, &desc->fields[i], fl, depth);
    return msg;
}

/* Top-level keys a fully filled message has: one per field, one per oneof. */
static unsigned expected_keys(const ProtobufCMessageDescriptor *desc)
{
    unsigned keys = 0, size;

    for (unsigned i = 0; i < desc->n_fields; i++) {
        const ProtobufCFieldDescriptor *f = &desc->fields[i];
        if (!(f->flags & PROTOBUF_C_FIELD_FLAG_ONEOF) || oneof_position(desc, f, &size) == 0)
            keys++;
    }
    return keys;
}

/* ---- helpers ---- */

static void assert_same_message(const ProtobufCMessage *a, const ProtobufCMessage *b)
{
    size_t na = protobuf_c_message_get_packed_size(a);
    size_t nb = protobuf_c_message_get_packed_size(b);
    uint8_t *pa = checked(malloc(na + 1)), *pb = checked(malloc(nb + 1));

    assert_ptr_equal(a->descriptor, b->descriptor);
    assert_int_equal(na, nb);
    assert_int_equal(protobuf_c_message_pack(a, pa), na);
    assert_int_equal(protobuf_c_message_pack(b, pb), nb);
    assert_memory_equal(pa, pb, na);
    free(pa);
    free(pb);
}

static ProtobufCMessage *must_read(const ProtobufCMessageDescriptor *desc, const bson_t *doc)
{
    char err[256] = "";
    ProtobufCMessage *msg = doc_to_message(desc, doc, err, sizeof err);

    if (!msg)
        fail_msg("%s: %s", desc->name, err);
    return msg;
}

static ProtobufCMessage *must_read_json(const ProtobufCMessageDescriptor *desc, const char *json)
{
    char err[256] = "";
    ProtobufCMessage *msg = doc_message_from_json(desc, json, strlen(json), err, sizeof err);

    if (!msg)
        fail_msg("%s: %s in %s", desc->name, err, json);
    return msg;
}

static bson_t *must_write(const ProtobufCMessage *msg, doc_flavour fl)
{
    bson_t *doc = bson_new();

    assert_true(doc_from_message(msg, fl, doc));
    return doc;
}

static bson_t *json_doc(const char *json)
{
    bson_error_t error;
    bson_t *doc = bson_new_from_json((const uint8_t *)json, -1, &error);

    if (!doc)
        fail_msg("test JSON %s: %s", json, error.message);
    return doc;
}

/* Reading doc must fail with exactly want. */
static void assert_read_error(const ProtobufCMessageDescriptor *desc, const bson_t *doc,
                              const char *want)
{
    char err[256] = "";
    ProtobufCMessage *msg = doc_to_message(desc, doc, err, sizeof err);

    if (msg) {
        protobuf_c_message_free_unpacked(msg, NULL);
        fail_msg("%s: accepted, wanted \"%s\"", desc->name, want);
    }
    assert_string_equal(err, want);
}

static void assert_json_error(const ProtobufCMessageDescriptor *desc, const char *json,
                              const char *want)
{
    bson_t *doc = json_doc(json);
    assert_read_error(desc, doc, want);
    bson_destroy(doc);
}

/* The JSON text reading must fail with an error starting with want. */
static void assert_json_text_error(const ProtobufCMessageDescriptor *desc, const char *json,
                                   size_t len, const char *want)
{
    char err[256] = "";
    ProtobufCMessage *msg = doc_message_from_json(desc, json, len, err, sizeof err);

    if (msg) {
        protobuf_c_message_free_unpacked(msg, NULL);
        fail_msg("accepted %s", json);
    }
    if (strncmp(err, want, strlen(want)) != 0)
        fail_msg("error \"%s\" does not start with \"%s\"", err, want);
}

static void assert_json_text(const ProtobufCMessage *msg, const char *want)
{
    char *json = doc_message_to_json(msg);

    assert_non_null(json);
    assert_string_equal(json, want);
    bson_free(json);
}

static Supplysec__V1__Organization *new_organization(void)
{
    Supplysec__V1__Organization *org = checked(malloc(sizeof *org));

    supplysec__v1__organization__init(org);
    return org;
}

static void free_message(void *msg)
{
    protobuf_c_message_free_unpacked(msg, NULL);
}

/* ---- round trips of every message type ---- */

static const ProtobufCMessageDescriptor *const ALL_DESCRIPTORS[] = {
    &supplysec__v1__identifiers__descriptor,
    &supplysec__v1__certificate__descriptor,
    &supplysec__v1__organization__descriptor,
    &supplysec__v1__create_organization_request__descriptor,
    &supplysec__v1__get_organization_request__descriptor,
    &supplysec__v1__list_organizations_request__descriptor,
    &supplysec__v1__list_organizations_response__descriptor,
    &supplysec__v1__update_organization_request__descriptor,
    &supplysec__v1__delete_organization_request__descriptor,
    &supplysec__v1__api_key__descriptor,
    &supplysec__v1__create_api_key_request__descriptor,
    &supplysec__v1__create_api_key_response__descriptor,
    &supplysec__v1__get_api_key_request__descriptor,
    &supplysec__v1__list_api_keys_request__descriptor,
    &supplysec__v1__list_api_keys_response__descriptor,
    &supplysec__v1__revoke_api_key_request__descriptor,
    &supplysec__internal__v1__stored_api_key__descriptor,
    &grpc__health__v1__health_check_request__descriptor,
    &grpc__health__v1__health_check_response__descriptor,
    &grpc__reflection__v1__server_reflection_request__descriptor,
    &grpc__reflection__v1__extension_request__descriptor,
    &grpc__reflection__v1__server_reflection_response__descriptor,
    &grpc__reflection__v1__file_descriptor_response__descriptor,
    &grpc__reflection__v1__extension_number_response__descriptor,
    &grpc__reflection__v1__list_service_response__descriptor,
    &grpc__reflection__v1__service_response__descriptor,
    &grpc__reflection__v1__error_response__descriptor,
    &grpc__reflection__v1alpha__server_reflection_request__descriptor,
    &grpc__reflection__v1alpha__extension_request__descriptor,
    &grpc__reflection__v1alpha__server_reflection_response__descriptor,
    &grpc__reflection__v1alpha__file_descriptor_response__descriptor,
    &grpc__reflection__v1alpha__extension_number_response__descriptor,
    &grpc__reflection__v1alpha__list_service_response__descriptor,
    &grpc__reflection__v1alpha__service_response__descriptor,
    &grpc__reflection__v1alpha__error_response__descriptor,
    &google__protobuf__timestamp__descriptor,
    &google__protobuf__field_mask__descriptor,
    &google__protobuf__empty__descriptor,
    &all_types_descriptor,
};
enum { N_DESCRIPTORS = sizeof ALL_DESCRIPTORS / sizeof ALL_DESCRIPTORS[0] };

static void round_trip_bson(const ProtobufCMessage *msg)
{
    bson_t *doc = must_write(msg, DOC_BSON);
    ProtobufCMessage *back = must_read(msg->descriptor, doc);

    assert_int_equal(bson_count_keys(doc), expected_keys(msg->descriptor));
    assert_same_message(msg, back);
    free_message(back);
    bson_destroy(doc);
}

static void round_trip_json(const ProtobufCMessage *msg)
{
    char *json = doc_message_to_json(msg);
    ProtobufCMessage *back;

    assert_non_null(json);
    back = must_read_json(msg->descriptor, json);
    assert_same_message(msg, back);
    free_message(back);
    bson_free(json);
}

static void for_every_filled_message(void (*check)(const ProtobufCMessage *))
{
    for (unsigned d = 0; d < N_DESCRIPTORS; d++) {
        unsigned picks = largest_oneof(ALL_DESCRIPTORS[d]);
        for (unsigned pick = 0; pick < picks; pick++) {
            filler fl = {.counter = d * 100, .pick = pick, .max_depth = 2};
            ProtobufCMessage *msg = fill_message(ALL_DESCRIPTORS[d], &fl, 0);
            check(msg);
            free_message(msg);
        }
    }
}

static void test_round_trip_bson(void **state)
{
    (void)state;
    for_every_filled_message(round_trip_bson);
}

static void test_round_trip_json(void **state)
{
    (void)state;
    for_every_filled_message(round_trip_json);
}

/* A message written as BSON and rendered as JSON by libbson reads back too. */
static void round_trip_bson_as_json(const ProtobufCMessage *msg)
{
    bson_t *doc = must_write(msg, DOC_BSON);
    char *json = bson_as_canonical_extended_json(doc, NULL);
    ProtobufCMessage *back = must_read_json(msg->descriptor, json);

    assert_same_message(msg, back);
    free_message(back);
    bson_free(json);
    bson_destroy(doc);
}

static void test_round_trip_extended_json(void **state)
{
    (void)state;
    for_every_filled_message(round_trip_bson_as_json);
}

/* ---- document shapes ---- */

static void test_json_name(void **state)
{
    char buf[32];

    (void)state;
    reflect_json_name("legal_name", buf, sizeof buf);
    assert_string_equal(buf, "legalName");
    reflect_json_name("aeo_authorisation_number", buf, sizeof buf);
    assert_string_equal(buf, "aeoAuthorisationNumber");
    reflect_json_name("name", buf, sizeof buf);
    assert_string_equal(buf, "name");
    reflect_json_name("secret_sha256", buf, sizeof buf);
    assert_string_equal(buf, "secretSha256");
    reflect_json_name("legal_name", buf, 6);
    assert_string_equal(buf, "legal");
    reflect_json_name("legal_name", buf, 1);
    assert_string_equal(buf, "");
}

static Supplysec__V1__Organization *shape_organization(void)
{
    Supplysec__V1__Organization *org = new_organization();
    Google__Protobuf__Timestamp *ts = checked(malloc(sizeof *ts));

    google__protobuf__timestamp__init(ts);
    ts->seconds = T_SECONDS;
    ts->nanos = T_NANOS;
    org->name = checked(strdup("organizations/acme"));
    org->legal_name = checked(strdup("Acme GmbH"));
    org->kind = SUPPLYSEC__V1__ORGANIZATION_KIND__ORGANIZATION_KIND_OPERATOR;
    org->create_time = ts;
    return org;
}

static void test_organization_bson_shape(void **state)
{
    Supplysec__V1__Organization *org = shape_organization();
    bson_t *doc = must_write(&org->base, DOC_BSON);
    bson_t *want = BCON_NEW("name", BCON_UTF8("organizations/acme"), "legalName",
                            BCON_UTF8("Acme GmbH"), "kind", BCON_UTF8("ORGANIZATION_KIND_OPERATOR"),
                            "createTime", BCON_DATE_TIME(T_MILLIS));

    (void)state;
    if (!bson_equal(doc, want)) {
        char *got = bson_as_canonical_extended_json(doc, NULL);
        fail_msg("got %s", got);
    }
    bson_destroy(want);
    bson_destroy(doc);
    free_message(org);
}

static void test_organization_json_shape(void **state)
{
    Supplysec__V1__Organization *org = shape_organization();

    (void)state;
    assert_json_text(&org->base,
                     "{ \"name\" : \"organizations/acme\", \"legalName\" : \"Acme GmbH\", "
                     "\"kind\" : \"ORGANIZATION_KIND_OPERATOR\", "
                     "\"createTime\" : \"2026-01-02T03:04:05.123Z\" }");
    free_message(org);
}

static void test_defaults_omitted(void **state)
{
    Supplysec__V1__Organization *org = new_organization();
    Supplysec__V1__ListOrganizationsRequest list = SUPPLYSEC__V1__LIST_ORGANIZATIONS_REQUEST__INIT;
    bson_t *doc;

    (void)state;
    doc = must_write(&org->base, DOC_BSON);
    assert_int_equal(bson_count_keys(doc), 0);
    bson_destroy(doc);
    assert_json_text(&org->base, "{ }");
    assert_json_text(&list.base, "{ }");

    /* A set but empty submessage is kept, as an empty document. */
    org->identifiers = checked(malloc(sizeof *org->identifiers));
    supplysec__v1__identifiers__init(org->identifiers);
    org->legal_name = checked(strdup(""));
    assert_json_text(&org->base, "{ \"identifiers\" : {  } }");
    free_message(org);
}

static void test_repeated_and_nested_shape(void **state)
{
    Supplysec__V1__Organization *org = new_organization();
    Supplysec__V1__Certificate *cert = checked(malloc(sizeof *cert));

    (void)state;
    supplysec__v1__certificate__init(cert);
    cert->type = SUPPLYSEC__V1__CERTIFICATE_TYPE__CERTIFICATE_TYPE_TAPA;
    org->n_supply_chain_roles = 2;
    org->supply_chain_roles = checked(calloc(2, sizeof *org->supply_chain_roles));
    org->supply_chain_roles[0] = SUPPLYSEC__V1__SUPPLY_CHAIN_ROLE__SUPPLY_CHAIN_ROLE_CARRIER;
    org->supply_chain_roles[1] = SUPPLYSEC__V1__SUPPLY_CHAIN_ROLE__SUPPLY_CHAIN_ROLE_IMPORTER;
    org->n_certificates = 1;
    org->certificates = checked(calloc(1, sizeof *org->certificates));
    org->certificates[0] = cert;
    assert_json_text(&org->base,
                     "{ \"supplyChainRoles\" : [ \"SUPPLY_CHAIN_ROLE_CARRIER\", "
                     "\"SUPPLY_CHAIN_ROLE_IMPORTER\" ], "
                     "\"certificates\" : [ { \"type\" : \"CERTIFICATE_TYPE_TAPA\" } ] }");
    free_message(org);
}

static void test_oneof_default_member_written(void **state)
{
    Grpc__Reflection__V1__ServerReflectionRequest req =
        GRPC__REFLECTION__V1__SERVER_REFLECTION_REQUEST__INIT;
    AllTypes all;
    bson_t *doc;
    ProtobufCMessage *back;

    (void)state;
    req.message_request_case =
        GRPC__REFLECTION__V1__SERVER_REFLECTION_REQUEST__MESSAGE_REQUEST_LIST_SERVICES;
    req.list_services = "";
    assert_json_text(&req.base, "{ \"listServices\" : \"\" }");
    doc = must_write(&req.base, DOC_BSON);
    back = must_read(req.base.descriptor, doc);
    assert_int_equal(((Grpc__Reflection__V1__ServerReflectionRequest *)back)->message_request_case,
                     req.message_request_case);
    assert_string_equal(((Grpc__Reflection__V1__ServerReflectionRequest *)back)->list_services, "");
    free_message(back);
    bson_destroy(doc);

    all_types_init(&all);
    all.choice_case = 33;
    all.c_int64 = 0;
    assert_json_text(&all.base, "{ \"reqFixed32\" : 0, \"cInt64\" : \"0\" }");
    doc = must_write(&all.base, DOC_BSON);
    back = must_read(&all_types_descriptor, doc);
    assert_int_equal(((AllTypes *)back)->choice_case, 33);
    assert_same_message(&all.base, back);
    free_message(back);
    bson_destroy(doc);
}

static void test_json_scalar_forms(void **state)
{
    AllTypes all;

    (void)state;
    all_types_init(&all);
    all.f_int64 = INT64_MIN;
    all.f_uint64 = UINT64_MAX;
    all.f_uint32 = UINT32_MAX;
    all.f_float = NAN;
    all.f_double = -INFINITY;
    all.f_bool = 1;
    all.f_color = 42;
    all.req_fixed32 = 7;
    all.has_opt_int64 = 1;
    all.opt_int64 = 0;
    assert_json_text(&all.base,
                     "{ \"fUint32\" : 4294967295, \"fInt64\" : \"-9223372036854775808\", "
                     "\"fUint64\" : \"18446744073709551615\", \"fFloat\" : \"NaN\", "
                     "\"fDouble\" : \"-Infinity\", \"fBool\" : true, \"fColor\" : 42, "
                     "\"optInt64\" : \"0\", \"reqFixed32\" : 7 }");
}

static void test_bson_scalar_forms(void **state)
{
    AllTypes all;
    bson_t *doc;
    bson_iter_t it;
    ProtobufCMessage *back;

    (void)state;
    all_types_init(&all);
    all.f_int64 = 5;
    all.f_uint64 = UINT64_MAX;
    all.f_fixed64 = 9;
    all.f_double = NAN;
    doc = must_write(&all.base, DOC_BSON);
    assert_true(bson_iter_init_find(&it, doc, "fInt64") && BSON_ITER_HOLDS_INT64(&it));
    assert_true(bson_iter_init_find(&it, doc, "fFixed64") && BSON_ITER_HOLDS_INT64(&it));
    assert_true(bson_iter_init_find(&it, doc, "fUint64") && BSON_ITER_HOLDS_UTF8(&it));
    assert_string_equal(bson_iter_utf8(&it, NULL), "18446744073709551615");
    assert_true(bson_iter_init_find(&it, doc, "fDouble") && BSON_ITER_HOLDS_DOUBLE(&it));
    assert_true(isnan(bson_iter_double(&it)));
    back = must_read(&all_types_descriptor, doc);
    assert_true(((AllTypes *)back)->f_uint64 == UINT64_MAX);
    assert_true(isnan(((AllTypes *)back)->f_double));
    free_message(back);
    bson_destroy(doc);
}

/* ---- lenient input ---- */

static void test_numeric_input_forms(void **state)
{
    bson_t *doc =
        BCON_NEW("fInt32", BCON_INT64(-2147483648LL), "fSint32", BCON_DOUBLE(12.0), "fUint32",
                 BCON_UTF8("4294967295"), "fInt64", BCON_INT32(-3), "fSint64",
                 BCON_DOUBLE(-9007199254740992.0), "fSfixed64", BCON_UTF8("-9223372036854775808"),
                 "fUint64", BCON_UTF8("18446744073709551615"), "fFixed64", BCON_INT64(77), "fFloat",
                 BCON_UTF8("Infinity"), "fDouble", BCON_UTF8("-1.5e3"), "rDouble", "[",
                 BCON_UTF8("NaN"), BCON_INT32(2), "]", "fColor", BCON_INT32(2), "rColor", "[",
                 BCON_UTF8("COLOR_RED"), BCON_INT32(9), "]");
    AllTypes *m = (AllTypes *)must_read(&all_types_descriptor, doc);

    (void)state;
    assert_int_equal(m->f_int32, INT32_MIN);
    assert_int_equal(m->f_sint32, 12);
    assert_int_equal(m->f_uint32, UINT32_MAX);
    assert_int_equal(m->f_int64, -3);
    assert_true(m->f_sint64 == -9007199254740992LL);
    assert_true(m->f_sfixed64 == INT64_MIN);
    assert_true(m->f_uint64 == UINT64_MAX);
    assert_int_equal(m->f_fixed64, 77);
    assert_true(isinf(m->f_float) && m->f_float > 0);
    assert_true(m->f_double == -1500.0);
    assert_int_equal(m->n_r_double, 2);
    assert_true(isnan(m->r_double[0]) && m->r_double[1] == 2.0);
    assert_int_equal(m->f_color, COLOR_GREEN);
    assert_int_equal(m->n_r_color, 2);
    assert_int_equal(m->r_color[0], COLOR_RED);
    assert_int_equal(m->r_color[1], 9);
    free_message(m);
    bson_destroy(doc);
}

static void test_snake_case_input(void **state)
{
    bson_t *doc = BCON_NEW("legal_name", BCON_UTF8("Acme"), "country_code", BCON_UTF8("DE"),
                           "supply_chain_roles", "[", BCON_UTF8("SUPPLY_CHAIN_ROLE_CARRIER"),
                           BCON_INT32(2), "]", "create_time", BCON_DATE_TIME(T_MILLIS),
                           "identifiers", "{", "aeo_type", BCON_UTF8("AEO_TYPE_AEOF"), "}");
    Supplysec__V1__Organization *org =
        (Supplysec__V1__Organization *)must_read(&supplysec__v1__organization__descriptor, doc);

    (void)state;
    assert_string_equal(org->legal_name, "Acme");
    assert_string_equal(org->country_code, "DE");
    assert_string_equal(org->name, "");
    assert_int_equal(org->n_supply_chain_roles, 2);
    assert_int_equal(org->supply_chain_roles[0],
                     SUPPLYSEC__V1__SUPPLY_CHAIN_ROLE__SUPPLY_CHAIN_ROLE_CARRIER);
    assert_int_equal(org->supply_chain_roles[1],
                     SUPPLYSEC__V1__SUPPLY_CHAIN_ROLE__SUPPLY_CHAIN_ROLE_EXPORTER);
    assert_true(org->create_time->seconds == T_SECONDS);
    assert_int_equal(org->create_time->nanos, T_NANOS);
    assert_int_equal(org->identifiers->aeo_type, SUPPLYSEC__V1__AEO_TYPE__AEO_TYPE_AEOF);
    free_message(org);
    bson_destroy(doc);
}

static void test_unknown_fields_ignored(void **state)
{
    bson_oid_t oid;
    bson_t *doc;
    Supplysec__V1__Organization *org;

    (void)state;
    bson_oid_init_from_string(&oid, "0123456789abcdef01234567");
    doc = BCON_NEW("_id", BCON_OID(&oid), "bogus", BCON_INT32(1), "name", BCON_UTF8("x"),
                   "identifiers", "{", "extra", "[", BCON_INT32(1), "]", "eori", BCON_UTF8("DE1"),
                   "}", "legalname", BCON_UTF8("wrong case is unknown"), "kind", BCON_NULL);
    org = (Supplysec__V1__Organization *)must_read(&supplysec__v1__organization__descriptor, doc);
    assert_string_equal(org->name, "x");
    assert_string_equal(org->identifiers->eori, "DE1");
    assert_string_equal(org->legal_name, "");
    assert_int_equal(org->kind, 0);
    free_message(org);
    bson_destroy(doc);
}

/* A key given twice (or under both names), or two members of a oneof: the last wins. */
static void test_repeated_keys_last_wins(void **state)
{
    bson_t *doc =
        BCON_NEW("legalName", BCON_UTF8("first"), "legal_name", BCON_UTF8("second"), "identifiers",
                 "{", "eori", BCON_UTF8("A"), "}", "identifiers", "{", "ctpatAccount",
                 BCON_UTF8("B"), "}", "supplyChainRoles", "[", BCON_INT32(1), "]",
                 "supplyChainRoles", "[", BCON_INT32(3), BCON_INT32(4), "]", "createTime",
                 BCON_DATE_TIME(1), "createTime", BCON_DATE_TIME(T_MILLIS));
    Supplysec__V1__Organization *org =
        (Supplysec__V1__Organization *)must_read(&supplysec__v1__organization__descriptor, doc);
    AllTypes *all;

    (void)state;
    assert_string_equal(org->legal_name, "second");
    assert_string_equal(org->identifiers->eori, "");
    assert_string_equal(org->identifiers->ctpat_account, "B");
    assert_int_equal(org->n_supply_chain_roles, 2);
    assert_int_equal(org->supply_chain_roles[0], 3);
    assert_true(org->create_time->seconds == T_SECONDS);
    free_message(org);
    bson_destroy(doc);

    doc = BCON_NEW("cString", BCON_UTF8("x"), "cChild", "{", "fInt32", BCON_INT32(5), "}", "cInt64",
                   BCON_INT32(9), "cString", BCON_UTF8("last"));
    all = (AllTypes *)must_read(&all_types_descriptor, doc);
    assert_int_equal(all->choice_case, 32);
    assert_string_equal(all->c_string, "last");
    free_message(all);
    bson_destroy(doc);
}

static void test_bytes_forms(void **state)
{
    static const uint8_t raw[] = {0, 0xfb, 0xff, 0, 'a'};
    Supplysec__Internal__V1__StoredApiKey key = SUPPLYSEC__INTERNAL__V1__STORED_API_KEY__INIT;
    const char *inputs[] = {
        "{\"secretSha256\": \"APv/AGE=\"}", "{\"secretSha256\": \"APv_AGE\"}",
        "{\"secret_sha256\": \"APv/AGE\"}",
        "{\"secretSha256\": {\"$binary\": {\"base64\": \"APv/AGE=\", \"subType\": \"00\"}}}"};
    bson_t *doc;
    bson_iter_t it;
    bson_subtype_t subtype;
    uint32_t len;
    const uint8_t *data;

    (void)state;
    key.secret_sha256.data = (uint8_t *)raw;
    key.secret_sha256.len = sizeof raw;
    assert_json_text(&key.base, "{ \"secretSha256\" : \"APv/AGE=\" }");
    doc = must_write(&key.base, DOC_BSON);
    assert_true(bson_iter_init_find(&it, doc, "secretSha256") && BSON_ITER_HOLDS_BINARY(&it));
    bson_iter_binary(&it, &subtype, &len, &data);
    assert_int_equal(subtype, BSON_SUBTYPE_BINARY);
    assert_int_equal(len, sizeof raw);
    assert_memory_equal(data, raw, sizeof raw);
    bson_destroy(doc);

    for (size_t i = 0; i < sizeof inputs / sizeof inputs[0]; i++) {
        Supplysec__Internal__V1__StoredApiKey *back =
            (Supplysec__Internal__V1__StoredApiKey *)must_read_json(
                &supplysec__internal__v1__stored_api_key__descriptor, inputs[i]);
        assert_int_equal(back->secret_sha256.len, sizeof raw);
        assert_memory_equal(back->secret_sha256.data, raw, sizeof raw);
        free_message(back);
    }
}

static void test_timestamp_strings(void **state)
{
    static const struct {
        const char *text;
        int64_t seconds;
        int32_t nanos;
    } cases[] = {
        {"2026-01-02T03:04:05Z", 1767323045, 0},
        {"2026-01-02T03:04:05.123Z", 1767323045, 123000000},
        {"2026-01-02T03:04:05.1Z", 1767323045, 100000000},
        {"2026-01-02T03:04:05.123456789Z", 1767323045, 123456789},
        {"2026-01-02t03:04:05.000001z", 1767323045, 1000},
        {"2026-01-02T05:04:05+02:00", 1767323045, 0},
        {"2026-01-02T02:34:05.5-00:30", 1767323045, 500000000},
        {"1970-01-01T00:00:00Z", 0, 0},
        {"1969-12-31T23:59:59.999Z", -1, 999000000},
        {"2024-02-29T00:00:00Z", 1709164800, 0},
        {"0001-01-01T00:00:00Z", -62135596800LL, 0},
        {"9999-12-31T23:59:59.999999999Z", 253402300799LL, 999999999},
    };

    (void)state;
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char json[128];
        Supplysec__V1__Certificate *cert;
        snprintf(json, sizeof json, "{\"validFrom\": \"%s\"}", cases[i].text);
        cert = (Supplysec__V1__Certificate *)must_read_json(&supplysec__v1__certificate__descriptor,
                                                            json);
        if (cert->valid_from->seconds != cases[i].seconds ||
            cert->valid_from->nanos != cases[i].nanos)
            fail_msg("%s -> %lld.%09d", cases[i].text, (long long)cert->valid_from->seconds,
                     cert->valid_from->nanos);
        round_trip_json(&cert->base);
        free_message(cert);
    }
}

static void test_timestamp_formats(void **state)
{
    Google__Protobuf__Timestamp ts = GOOGLE__PROTOBUF__TIMESTAMP__INIT;
    Supplysec__V1__Certificate cert = SUPPLYSEC__V1__CERTIFICATE__INIT;
    bson_t *doc;
    Supplysec__V1__Certificate *back;

    (void)state;
    cert.valid_from = &ts;
    ts.seconds = T_SECONDS;
    assert_json_text(&cert.base, "{ \"validFrom\" : \"2026-01-02T03:04:05Z\" }");
    ts.nanos = 123456000;
    assert_json_text(&cert.base, "{ \"validFrom\" : \"2026-01-02T03:04:05.123456Z\" }");
    ts.nanos = 5;
    assert_json_text(&cert.base, "{ \"validFrom\" : \"2026-01-02T03:04:05.000000005Z\" }");
    ts.seconds = -1;
    ts.nanos = 999000000;
    assert_json_text(&cert.base, "{ \"validFrom\" : \"1969-12-31T23:59:59.999Z\" }");

    /* BSON keeps milliseconds, truncating below. */
    ts.seconds = T_SECONDS;
    ts.nanos = 123999999;
    doc = must_write(&cert.base, DOC_BSON);
    back = (Supplysec__V1__Certificate *)must_read(&supplysec__v1__certificate__descriptor, doc);
    assert_true(back->valid_from->seconds == T_SECONDS);
    assert_int_equal(back->valid_from->nanos, 123000000);
    free_message(back);
    bson_destroy(doc);

    /* A timestamp outside 0001..9999 or with bad nanos cannot be written. */
    doc = bson_new();
    ts.nanos = -1;
    assert_false(doc_from_message(&cert.base, DOC_BSON, doc));
    bson_destroy(doc);
    doc = bson_new();
    ts.nanos = 0;
    ts.seconds = 253402300800LL;
    assert_false(doc_from_message(&cert.base, DOC_JSON, doc));
    bson_destroy(doc);
}

static void test_field_mask_forms(void **state)
{
    Supplysec__V1__UpdateOrganizationRequest req = SUPPLYSEC__V1__UPDATE_ORGANIZATION_REQUEST__INIT;
    Google__Protobuf__FieldMask mask = GOOGLE__PROTOBUF__FIELD_MASK__INIT;
    char *paths[] = {"legal_name", "identifiers.aeo_type", "*"};
    Supplysec__V1__UpdateOrganizationRequest *back;

    (void)state;
    mask.n_paths = 3;
    mask.paths = paths;
    req.update_mask = &mask;
    assert_json_text(&req.base, "{ \"updateMask\" : \"legalName,identifiers.aeoType,*\" }");
    back = (Supplysec__V1__UpdateOrganizationRequest *)must_read_json(
        &supplysec__v1__update_organization_request__descriptor,
        "{\"update_mask\": \"legalName,identifiers.aeo_type,countryCode\"}");
    assert_int_equal(back->update_mask->n_paths, 3);
    assert_string_equal(back->update_mask->paths[0], "legal_name");
    assert_string_equal(back->update_mask->paths[1], "identifiers.aeo_type");
    assert_string_equal(back->update_mask->paths[2], "country_code");
    free_message(back);

    mask.n_paths = 0;
    assert_json_text(&req.base, "{ \"updateMask\" : \"\" }");
    back = (Supplysec__V1__UpdateOrganizationRequest *)must_read_json(
        &supplysec__v1__update_organization_request__descriptor, "{\"updateMask\": \"\"}");
    assert_non_null(back->update_mask);
    assert_int_equal(back->update_mask->n_paths, 0);
    free_message(back);
}

static void test_empty_message(void **state)
{
    Google__Protobuf__Empty empty = GOOGLE__PROTOBUF__EMPTY__INIT;
    Supplysec__V1__Organization *org;

    (void)state;
    assert_json_text(&empty.base, "{ }");
    free_message(must_read_json(&google__protobuf__empty__descriptor, "{\"x\": [1, {}]}"));
    org = (Supplysec__V1__Organization *)must_read_json(&supplysec__v1__organization__descriptor,
                                                        " \n{}\n ");
    assert_string_equal(org->name, "");
    free_message(org);
}

/* ---- bad input ---- */

static void test_wrong_types(void **state)
{
    const ProtobufCMessageDescriptor *create =
        &supplysec__v1__create_organization_request__descriptor;

    (void)state;
    assert_json_error(create, "{\"organization\": {\"countryCode\": 49}}",
                      "organization.countryCode: expected a string");
    assert_json_error(create, "{\"organization\": {\"country_code\": true}}",
                      "organization.countryCode: expected a string");
    assert_json_error(create,
                      "{\"organization\": {\"certificates\": [{}, {}, {\"validUntil\": 5}]}}",
                      "organization.certificates[2].validUntil: expected a timestamp");
    assert_json_error(create, "{\"organization\": {\"certificates\": [{}, 7]}}",
                      "organization.certificates[1]: expected a document");
    assert_json_error(create, "{\"organization\": {\"certificates\": {}}}",
                      "organization.certificates: expected an array");
    assert_json_error(create, "{\"organization\": {\"supplyChainRoles\": [1, null]}}",
                      "organization.supplyChainRoles[1]: expected an enum name or 32-bit number");
    assert_json_error(create, "{\"organization\": \"acme\"}", "organization: expected a document");
    assert_json_error(create, "{\"organization\": {\"identifiers\": {\"aeoType\": \"AEOF\"}}}",
                      "organization.identifiers.aeoType: unknown value \"AEOF\" for enum "
                      "supplysec.v1.AeoType");
    assert_json_error(create, "{\"organization\": {\"kind\": 1.5}}",
                      "organization.kind: expected an enum name or 32-bit number");
    assert_json_error(&supplysec__v1__update_organization_request__descriptor,
                      "{\"updateMask\": [\"name\"]}", "updateMask: expected a field mask string");
    assert_json_error(&supplysec__v1__update_organization_request__descriptor,
                      "{\"updateMask\": \"name,,etag\"}", "updateMask: empty path in field mask");
    assert_json_error(&supplysec__internal__v1__stored_api_key__descriptor,
                      "{\"secretSha256\": \"not base64!\"}", "secretSha256: invalid base64");
    assert_json_error(&supplysec__internal__v1__stored_api_key__descriptor,
                      "{\"secretSha256\": \"QUJDR\"}", "secretSha256: invalid base64");
    assert_json_error(&supplysec__internal__v1__stored_api_key__descriptor,
                      "{\"secretSha256\": 12}",
                      "secretSha256: expected binary data or a base64 string");
    assert_json_error(&all_types_descriptor, "{\"fBool\": 1}", "fBool: expected a boolean");
    assert_json_error(&all_types_descriptor, "{\"fDouble\": true}", "fDouble: expected a number");
    assert_json_error(&all_types_descriptor, "{\"fDouble\": \"nan\"}",
                      "fDouble: expected a number");
    assert_json_error(&all_types_descriptor, "{\"fFloat\": 1e39}",
                      "fFloat: value out of range for float");
    assert_json_error(&all_types_descriptor, "{\"fInt64\": \"12abc\"}",
                      "fInt64: expected an integer (int64)");
    assert_json_error(&all_types_descriptor, "{\"fInt64\": 1.5}",
                      "fInt64: expected an integer (int64)");
    assert_json_error(&all_types_descriptor, "{\"fInt64\": \" 12\"}",
                      "fInt64: expected an integer (int64)");
    assert_json_error(&all_types_descriptor, "{\"rChild\": [{}, {\"rString\": [\"a\", 2]}]}",
                      "rChild[1].rString[1]: expected a string");
    assert_json_error(&all_types_descriptor, "{\"cChild\": {\"child\": {\"fSint32\": []}}}",
                      "cChild.child.fSint32: expected an integer (sint32)");
}

static void test_out_of_range(void **state)
{
    (void)state;
    assert_json_error(&supplysec__v1__list_organizations_request__descriptor,
                      "{\"pageSize\": 2147483648}", "pageSize: value out of range for int32");
    assert_json_error(&supplysec__v1__list_organizations_request__descriptor,
                      "{\"pageSize\": -2147483649}", "pageSize: value out of range for int32");
    assert_json_error(&supplysec__v1__list_organizations_request__descriptor, "{\"pageSize\": 3e9}",
                      "pageSize: value out of range for int32");
    assert_json_error(&supplysec__v1__list_organizations_request__descriptor,
                      "{\"page_size\": \"2147483648\"}", "pageSize: value out of range for int32");
    assert_json_error(&all_types_descriptor, "{\"fUint32\": -1}",
                      "fUint32: value out of range for uint32");
    assert_json_error(&all_types_descriptor, "{\"fFixed32\": 4294967296}",
                      "fFixed32: value out of range for fixed32");
    assert_json_error(&all_types_descriptor, "{\"fUint64\": \"-1\"}",
                      "fUint64: value out of range for uint64");
    assert_json_error(&all_types_descriptor, "{\"fUint64\": \"18446744073709551616\"}",
                      "fUint64: value out of range for uint64");
    assert_json_error(&all_types_descriptor, "{\"fInt64\": \"9223372036854775808\"}",
                      "fInt64: value out of range for int64");
    assert_json_error(&all_types_descriptor, "{\"fSfixed64\": 9.3e18}",
                      "fSfixed64: value out of range for sfixed64");
    assert_json_error(&all_types_descriptor, "{\"fColor\": 2147483648}",
                      "fColor: expected an enum name or 32-bit number");
}

static void test_bad_timestamps(void **state)
{
    static const char *const bad[] = {
        "2026-13-01T00:00:00Z",     "yesterday",
        "2026-02-29T00:00:00Z",     "2026-01-01T00:00:00",
        "2026-01-01T24:00:00Z",     "2026-01-01T00:60:00Z",
        "2026-01-01T00:00:60Z",     "2026-01-01 00:00:00Z",
        "2026-01-01T00:00:00.Z",    "2026-01-01T00:00:00.1234567890Z",
        "2026-01-01T00:00:00+2:00", "2026-01-01T00:00:00+24:00",
        "2026-1-01T00:00:00Z",      "0000-12-31T00:00:00Z",
        "2026-01-01T00:00:00Zjunk", "",
    };

    (void)state;
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        char json[128];
        snprintf(json, sizeof json, "{\"organization\": {\"createTime\": \"%s\"}}", bad[i]);
        assert_json_error(&supplysec__v1__create_organization_request__descriptor, json,
                          "organization.createTime: expected a timestamp");
    }
    /* Dates outside 0001..9999. */
    assert_json_error(&supplysec__v1__organization__descriptor,
                      "{\"createTime\": {\"$date\": {\"$numberLong\": \"253402300800000\"}}}",
                      "createTime: expected a timestamp");
    assert_json_error(&supplysec__v1__organization__descriptor,
                      "{\"createTime\": {\"$date\": {\"$numberLong\": \"-62135596800001\"}}}",
                      "createTime: expected a timestamp");
    /* Near INT64_MIN milliseconds, refused without overflowing (found by fuzz_doc_bson). */
    assert_json_error(&supplysec__v1__organization__descriptor,
                      "{\"createTime\": {\"$date\": {\"$numberLong\": \"-9223372036854775803\"}}}",
                      "createTime: expected a timestamp");
}

static void test_invalid_utf8(void **state)
{
    bson_t *org = bson_new();
    bson_t *doc = bson_new();
    bson_t *mask = bson_new();

    (void)state;
    bson_append_utf8(org, "name", -1, "ok", -1);
    bson_append_utf8(org, "legalName", -1, "bad \xff\xfe", -1);
    bson_append_document(doc, "organization", -1, org);
    assert_read_error(&supplysec__v1__create_organization_request__descriptor, doc,
                      "organization.legalName: invalid UTF-8 (or NUL) in string");
    bson_append_utf8(mask, "updateMask", -1, "name,\xc3", -1);
    assert_read_error(&supplysec__v1__update_organization_request__descriptor, mask,
                      "updateMask: invalid UTF-8 (or NUL) in field mask");
    assert_json_error(&supplysec__v1__organization__descriptor, "{\"name\": \"a\\u0000b\"}",
                      "name: invalid UTF-8 (or NUL) in string");
    bson_destroy(mask);
    bson_destroy(doc);
    bson_destroy(org);
}

static void test_bad_json_text(void **state)
{
    const ProtobufCMessageDescriptor *org = &supplysec__v1__organization__descriptor;
    const char *truncated = "{\"name\": ";

    (void)state;
    assert_json_text_error(org, truncated, strlen(truncated), "invalid JSON: ");
    assert_json_text_error(org, "{\"name\": \"x\"", 12, "invalid JSON: ");
    assert_json_text_error(org, "{name: 1}", 9, "invalid JSON: ");
    assert_json_text_error(org, "[1, 2]", 6, "invalid JSON: expected an object");
    assert_json_text_error(org, "42", 2, "invalid JSON: expected an object");
    assert_json_text_error(org, "\"x\"", 3, "invalid JSON: expected an object");
    assert_json_text_error(org, "", 0, "invalid JSON: expected an object");
    assert_json_text_error(org, "  ", 2, "invalid JSON: expected an object");
    assert_json_text_error(org, NULL, 0, "invalid JSON: expected an object");
    assert_json_text_error(org, "{} {}", 5, "invalid JSON: ");
    assert_json_text_error(org, "{} x", 4, "invalid JSON: ");
    /* The length is honoured: the closing brace is cut off. */
    assert_json_text_error(org, "{\"name\": \"x\"}", 12, "invalid JSON: ");
    assert_json_text_error(org, "{\"name\": 5}", 11, "name: expected a string");
}

static void test_small_error_buffer(void **state)
{
    char err[8] = "xxxxxxx";
    bson_t *doc = json_doc("{\"legalName\": 5}");

    (void)state;
    assert_null(doc_to_message(&supplysec__v1__organization__descriptor, doc, err, sizeof err));
    assert_string_equal(err, "legalNa");
    assert_null(doc_to_message(&supplysec__v1__organization__descriptor, doc, NULL, 0));
    bson_destroy(doc);
}

/* Errors after much was built: everything is freed (LSan checks). */
static void test_errors_free_partial_messages(void **state)
{
    (void)state;
    assert_json_error(
        &all_types_descriptor,
        "{\"fString\": \"a\", \"fBytes\": \"AAEC\", \"child\": {\"fString\": \"b\", "
        "\"rChild\": [{\"rString\": [\"x\", \"y\"]}, {\"when\": \"2026-01-01T00:00:00Z\","
        " \"mask\": \"a,b\", \"rBytes\": [\"AA\", 3]}]}}",
        "child.rChild[1].rBytes[1]: expected binary data or a base64 string");
    assert_json_error(
        &all_types_descriptor,
        "{\"cChild\": {\"rString\": [\"x\"], \"cString\": \"y\"}, \"optString\": \"z\", "
        "\"rWhen\": [\"2026-01-01T00:00:00Z\", \"bad\"]}",
        "rWhen[1]: expected a timestamp");
    assert_json_error(&all_types_descriptor, "{\"mask\": \"a,b,\"}",
                      "mask: empty path in field mask");
    assert_json_error(&all_types_descriptor,
                      "{\"cString\": \"x\", \"cChild\": {\"fString\": \"y\", \"fInt32\": \"z\"}}",
                      "cChild.fInt32: expected an integer (int32)");
}

static AllTypes *deep_chain(int levels)
{
    AllTypes *top = NULL;

    for (int i = 0; i < levels; i++) {
        AllTypes *m = checked(malloc(sizeof *m));
        all_types_init(m);
        m->child = top;
        top = m;
    }
    return top;
}

static bson_t *deep_document(int levels)
{
    bson_t *doc = bson_new();

    for (int i = 0; i < levels; i++) {
        bson_t *outer = bson_new();
        bson_append_document(outer, "child", -1, doc);
        bson_destroy(doc);
        doc = outer;
    }
    return doc;
}

static void test_depth_limit(void **state)
{
    AllTypes *ok = deep_chain(65), *deep = deep_chain(66);
    bson_t *doc = bson_new(), *ok_doc = deep_document(64), *deep_doc = deep_document(65);
    char err[256] = "";
    ProtobufCMessage *back;

    (void)state;
    assert_true(doc_from_message(&ok->base, DOC_BSON, doc));
    bson_reinit(doc);
    assert_false(doc_from_message(&deep->base, DOC_BSON, doc));
    back = must_read(&all_types_descriptor, ok_doc);
    free_message(back);
    assert_null(doc_to_message(&all_types_descriptor, deep_doc, err, sizeof err));
    assert_non_null(strstr(err, "child.child.child"));
    if (!strstr(err, ": nested deeper than 64 levels"))
        fail_msg("%s", err);
    bson_destroy(deep_doc);
    bson_destroy(ok_doc);
    bson_destroy(doc);
    free_message(deep);
    free_message(ok);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_json_name),
        cmocka_unit_test(test_round_trip_bson),
        cmocka_unit_test(test_round_trip_json),
        cmocka_unit_test(test_round_trip_extended_json),
        cmocka_unit_test(test_organization_bson_shape),
        cmocka_unit_test(test_organization_json_shape),
        cmocka_unit_test(test_defaults_omitted),
        cmocka_unit_test(test_repeated_and_nested_shape),
        cmocka_unit_test(test_oneof_default_member_written),
        cmocka_unit_test(test_json_scalar_forms),
        cmocka_unit_test(test_bson_scalar_forms),
        cmocka_unit_test(test_numeric_input_forms),
        cmocka_unit_test(test_snake_case_input),
        cmocka_unit_test(test_unknown_fields_ignored),
        cmocka_unit_test(test_repeated_keys_last_wins),
        cmocka_unit_test(test_bytes_forms),
        cmocka_unit_test(test_timestamp_strings),
        cmocka_unit_test(test_timestamp_formats),
        cmocka_unit_test(test_field_mask_forms),
        cmocka_unit_test(test_empty_message),
        cmocka_unit_test(test_wrong_types),
        cmocka_unit_test(test_out_of_range),
        cmocka_unit_test(test_bad_timestamps),
        cmocka_unit_test(test_invalid_utf8),
        cmocka_unit_test(test_bad_json_text),
        cmocka_unit_test(test_small_error_buffer),
        cmocka_unit_test(test_errors_free_partial_messages),
        cmocka_unit_test(test_depth_limit),
    };
    return cmocka_run_group_tests(tests, setup_all_types, NULL);
}
