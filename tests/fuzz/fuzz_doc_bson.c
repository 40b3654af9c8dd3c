/* fuzz_doc_bson.c — the converter (doc.h) from BSON to a message and back,
 * for every message type (support/descriptors.c), as documents come from
 * the store: the first two bytes (little-endian) pick the type, the rest is the document.
 *
 * Oracles: a document that reads converts back (doc_from_message cannot fail
 * on a message the reader built); that second document reads again and
 * converts to the same bytes (one pass normalizes: dropped unknown fields,
 * Timestamps at millisecond precision); its message goes to JSON and back to
 * a message that packs to the same protobuf bytes; a refusal names why in
 * err. Messages holding a FieldMask path with no JSON form are only written
 * (support/masks.h).
 */
#include <bson/bson.h>
#include <stdlib.h>
#include <string.h>

#include "descriptors.h"
#include "doc.h"
#include "input.h"
#include "masks.h"

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    fuzz_list_if_asked();
    return 0;
}

static uint8_t *pack(const ProtobufCMessage *msg, size_t *len)
{
    *len = protobuf_c_message_get_packed_size(msg);
    uint8_t *buf = malloc(*len ? *len : 1);
    if (!buf)
        abort();
    protobuf_c_message_pack(msg, buf);
    return buf;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    fuzz_input in = {data, size};
    const ProtobufCMessageDescriptor *desc = fuzz_type_at(fuzz_u16(&in));
    size_t len;
    uint8_t *bytes = fuzz_bytes(&in, SIZE_MAX, &len);
    bson_t doc;
    char err[256];

    if (!bson_init_static(&doc, bytes, len)) {
        free(bytes);
        return 0;
    }
    ProtobufCMessage *m1 = doc_to_message(desc, &doc, err, sizeof err);
    if (!m1) {
        FUZZ_REQUIRE(err[0] != '\0' && memchr(err, 0, sizeof err), "%s: refused without a reason",
                     desc->name);
        free(bytes);
        return 0;
    }

    bson_t d1 = BSON_INITIALIZER, d2 = BSON_INITIALIZER;
    FUZZ_REQUIRE(doc_from_message(m1, DOC_BSON, &d1), "%s: read, but cannot be written",
                 desc->name);
    if (!fuzz_masks_round_trip(m1)) { /* a mask path with no JSON form (masks.h) */
        protobuf_c_message_free_unpacked(m1, NULL);
        bson_destroy(&d1);
        free(bytes);
        return 0;
    }
    ProtobufCMessage *m2 = doc_to_message(desc, &d1, err, sizeof err);
    FUZZ_REQUIRE(m2 != NULL, "%s: its own document does not read: %s", desc->name, err);
    FUZZ_REQUIRE(doc_from_message(m2, DOC_BSON, &d2), "%s: second write failed", desc->name);
    FUZZ_REQUIRE(d1.len == d2.len && memcmp(bson_get_data(&d1), bson_get_data(&d2), d1.len) == 0,
                 "%s: BSON round trip not stable", desc->name);

    char *json = doc_message_to_json(m2);
    FUZZ_REQUIRE(json != NULL, "%s: no JSON", desc->name);
    ProtobufCMessage *m3 = doc_message_from_json(desc, json, strlen(json), err, sizeof err);
    FUZZ_REQUIRE(m3 != NULL, "%s: its own JSON does not read: %s\n  %s", desc->name, err, json);
    size_t n2, n3;
    uint8_t *p2 = pack(m2, &n2), *p3 = pack(m3, &n3);
    FUZZ_REQUIRE(n2 == n3 && memcmp(p2, p3, n2) == 0, "%s: BSON and JSON disagree\n  %s",
                 desc->name, json);

    free(p2);
    free(p3);
    bson_free(json);
    protobuf_c_message_free_unpacked(m3, NULL);
    protobuf_c_message_free_unpacked(m2, NULL);
    protobuf_c_message_free_unpacked(m1, NULL);
    bson_destroy(&d2);
    bson_destroy(&d1);
    free(bytes);
    return 0;
}
