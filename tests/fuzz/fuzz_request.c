/* fuzz_request.c — request decoding for every method of every service.
 *
 * The first byte picks the method from the table supplysecd serves
 * (support/descriptors.c over api_all_services); the rest are its request
 * bytes, decoded as call.c's rt_decode() does: the generic wire check of
 * every string and timestamp at any depth and of nesting (wire.h), then protobuf-c's
 * unpack. Oracles:
 *   - wire_check agrees with an independent walk (support/reference.c);
 *   - a refusal sets INVALID_ARGUMENT with a UTF-8 message;
 *   - a request that passes and unpacks holds only UTF-8 strings, packs to
 *     exactly its packed size, and those bytes pass the check again and
 *     unpack to a message that packs to the same bytes.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "descriptors.h"
#include "input.h"
#include "reference.h"
#include "utf8.h"
#include "wire.h"

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    fuzz_list_if_asked();
    return 0;
}

/* Every string of msg, at any depth, is UTF-8 (unpack cuts a string at a NUL, so NULs are
 * the reference walk's to catch). */
static void require_utf8(const ProtobufCMessage *msg, const char *method)
{
    const ProtobufCMessageDescriptor *d = msg->descriptor;
    for (unsigned i = 0; i < d->n_fields; i++) {
        const ProtobufCFieldDescriptor *f = &d->fields[i];
        const char *base = (const char *)msg + f->offset;
        size_t n = 1;
        /* The members of a oneof share their storage: only the one set is there. */
        if ((f->flags & PROTOBUF_C_FIELD_FLAG_ONEOF) &&
            *(const uint32_t *)((const char *)msg + f->quantifier_offset) != f->id)
            continue;
        if (f->label == PROTOBUF_C_LABEL_REPEATED) {
            n = *(const size_t *)((const char *)msg + f->quantifier_offset);
            base = *(const char *const *)base;
        }
        for (size_t k = 0; k < n; k++) {
            if (f->type == PROTOBUF_C_TYPE_STRING) {
                const char *s = ((const char *const *)base)[k];
                FUZZ_REQUIRE(!s || utf8_valid(s, strlen(s), NULL), "%s: field %s not UTF-8", method,
                             f->name);
            } else if (f->type == PROTOBUF_C_TYPE_MESSAGE) {
                const ProtobufCMessage *sub = ((const ProtobufCMessage *const *)base)[k];
                if (sub)
                    require_utf8(sub, method);
            }
        }
    }
}

static uint8_t *pack(const ProtobufCMessage *msg, size_t *len)
{
    *len = protobuf_c_message_get_packed_size(msg);
    uint8_t *buf = malloc(*len ? *len : 1);
    if (!buf)
        abort();
    size_t wrote = protobuf_c_message_pack(msg, buf);
    FUZZ_REQUIRE(wrote == *len, "%s: packed %zu bytes of %zu", msg->descriptor->name, wrote, *len);
    return buf;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    fuzz_input in = {data, size};
    const fuzz_method *m = fuzz_method_at(fuzz_byte(&in));
    const ProtobufCMessageDescriptor *desc = m->method->input;
    size_t len;
    uint8_t *bytes = fuzz_bytes(&in, SIZE_MAX, &len);

    status st = {0};
    bool ok = wire_check(desc, bytes, len, &st);
    FUZZ_REQUIRE(ok == ref_wire_check(desc, bytes, len, WIRE_DEPTH_MAX),
                 "%s: wire_check says %d, the reference walk %d (%s)", m->path, ok, !ok, st.msg);
    if (!ok) {
        FUZZ_REQUIRE(st.code == STATUS_INVALID_ARGUMENT, "%s: code %d", m->path, st.code);
        FUZZ_REQUIRE(utf8_valid(st.msg, strlen(st.msg), NULL), "%s: message not UTF-8", m->path);
        free(bytes);
        return 0;
    }
    ProtobufCMessage *msg = protobuf_c_message_unpack(desc, NULL, len, bytes);
    free(bytes);
    if (!msg)
        return 0;
    require_utf8(msg, m->path);

    size_t n1, n2;
    uint8_t *p1 = pack(msg, &n1);
    status st2 = {0};
    FUZZ_REQUIRE(wire_check(desc, p1, n1, &st2), "%s: repacked request refused: %s", m->path,
                 st2.msg);
    ProtobufCMessage *again = protobuf_c_message_unpack(desc, NULL, n1, p1);
    FUZZ_REQUIRE(again != NULL, "%s: repacked request does not unpack", m->path);
    uint8_t *p2 = pack(again, &n2);
    FUZZ_REQUIRE(n1 == n2 && memcmp(p1, p2, n1) == 0, "%s: packing is not stable (%zu, %zu)",
                 m->path, n1, n2);
    free(p1);
    free(p2);
    protobuf_c_message_free_unpacked(again, NULL);
    protobuf_c_message_free_unpacked(msg, NULL);
    return 0;
}
