/* fuzz_doc_json.c — the converter (doc.h) from JSON text to a message and
 * back, for every message type (support/descriptors.c), as the CLI reads a
 * request: the first two bytes pick the type, the rest is the text (not
 * NUL-terminated: doc_message_from_json takes a length).
 *
 * Oracles: JSON that reads converts back (doc_message_to_json cannot fail on
 * a message the reader built); that text reads again and converts to the
 * same text (one pass normalizes: field order, names, number forms); a
 * refusal names why in err. Messages holding a FieldMask path with no JSON
 * form are only written (support/masks.h).
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

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    fuzz_input in = {data, size};
    const ProtobufCMessageDescriptor *desc = fuzz_type_at(fuzz_u16(&in));
    size_t len;
    uint8_t *text = fuzz_bytes(&in, SIZE_MAX, &len);
    char err[256];

    ProtobufCMessage *m1 = doc_message_from_json(desc, (const char *)text, len, err, sizeof err);
    free(text);
    if (!m1) {
        FUZZ_REQUIRE(err[0] != '\0' && memchr(err, 0, sizeof err), "%s: refused without a reason",
                     desc->name);
        return 0;
    }
    char *j1 = doc_message_to_json(m1);
    FUZZ_REQUIRE(j1 != NULL, "%s: read, but cannot be written", desc->name);
    if (!fuzz_masks_round_trip(m1)) { /* a mask path with no JSON form (masks.h) */
        bson_free(j1);
        protobuf_c_message_free_unpacked(m1, NULL);
        return 0;
    }
    ProtobufCMessage *m2 = doc_message_from_json(desc, j1, strlen(j1), err, sizeof err);
    FUZZ_REQUIRE(m2 != NULL, "%s: its own JSON does not read: %s\n  %s", desc->name, err, j1);
    char *j2 = doc_message_to_json(m2);
    FUZZ_REQUIRE(j2 != NULL && strcmp(j1, j2) == 0, "%s: JSON round trip not stable\n  %s\n  %s",
                 desc->name, j1, j2 ? j2 : "(none)");

    bson_free(j2);
    bson_free(j1);
    protobuf_c_message_free_unpacked(m2, NULL);
    protobuf_c_message_free_unpacked(m1, NULL);
    return 0;
}
