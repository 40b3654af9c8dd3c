/* doc.h — the one converter between protobuf-c messages and documents.
 *
 * Driven only by protobuf-c descriptors, it turns any message into a BSON
 * document and back, and (through libbson's JSON reader and writer) into
 * JSON and back. Field names follow the proto3 JSON mapping (lowerCamelCase;
 * the original snake_case name is accepted on input too), enums are stored by
 * name, repeated fields as arrays, nested messages as subdocuments.
 *
 * Two flavours differ only for a few types:
 *                         DOC_BSON (stored)        DOC_JSON (CLI, logs)
 *   int64/uint64          int64                    decimal string
 *   bytes                 binary                   base64 string
 *   Timestamp             BSON date (ms)           RFC 3339 string
 *   FieldMask             "a,b.c" string           "a,b.c" string
 * On input both accept either form where it is unambiguous (a number for
 * int64, a string for an enum or a number, ...).
 *
 * Proto3 defaults (0, "", false, empty repeated, unset message) are left
 * out of documents. Unknown document fields are ignored on input, so old
 * documents read under a newer schema. Timestamps are kept to millisecond
 * precision in BSON (a BSON date's precision).
 */
#ifndef SUPPLYSEC_DOC_H
#define SUPPLYSEC_DOC_H

#include <bson/bson.h>
#include <protobuf-c/protobuf-c.h>
#include <stdbool.h>
#include <stddef.h>

#include "reflect.h" /* reflect_json_name: the JSON names documents use */

typedef enum doc_flavour { DOC_BSON, DOC_JSON } doc_flavour;

/* Appends every set field of msg to out (an initialised, empty document).
 * Returns false only on an internal inconsistency (out is then unspecified). */
bool doc_from_message(const ProtobufCMessage *msg, doc_flavour fl, bson_t *out);

/* Builds a message of type desc from doc. Returns a message the caller frees
 * with protobuf_c_message_free_unpacked(msg, NULL), or NULL with a message in
 * err naming the offending field path (e.g. "organization.countryCode: expected
 * a string"). */
ProtobufCMessage *doc_to_message(const ProtobufCMessageDescriptor *desc, const bson_t *doc,
                                 char *err, size_t errlen);

/* JSON text for msg (proto3 JSON mapping). Caller frees with bson_free. */
char *doc_message_to_json(const ProtobufCMessage *msg);

/* Parses JSON text into a message of type desc; NULL with err set on
 * malformed JSON or a value of the wrong type. */
ProtobufCMessage *doc_message_from_json(const ProtobufCMessageDescriptor *desc, const char *json,
                                        size_t len, char *err, size_t errlen);

#endif
