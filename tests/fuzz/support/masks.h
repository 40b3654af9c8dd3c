/* masks.h — which FieldMask paths survive the converter's JSON form.
 *
 * doc.c writes a FieldMask as its paths in lowerCamelCase joined by ',' and
 * reads each back by putting '_' before every capital. A path with no such
 * form ("", "_", "a__b", "a_", "aB", one holding ',') comes back different
 * or not at all; the reader itself makes some (it takes "a__b" as it is). Such
 * paths only ever reach the converter from the CLI's JSON, where the server
 * refuses them as fields of no message, so the round-trip oracles of the
 * doc targets leave messages holding them out (docs/security.md). */
#ifndef SUPPLYSEC_FUZZ_MASKS_H
#define SUPPLYSEC_FUZZ_MASKS_H

#include <protobuf-c/protobuf-c.h>
#include <stdbool.h>

/* True when every path of every FieldMask in msg, at any depth, comes back as it is. */
bool fuzz_masks_round_trip(const ProtobufCMessage *msg);

#endif
