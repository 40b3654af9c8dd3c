/* wire.h — the generic check of a request's protobuf bytes, driven by the
 * message descriptor, that runs before protobuf-c unpacks them.
 *
 * protobuf-c hands a string field over NUL-terminated and never checks its
 * UTF-8, so "\0" + a stale etag would read as an empty etag and
 * "Acme\0Evil Corp" as "Acme". Every string field, at any depth, is checked
 * here on the wire, where its length is still known: an embedded NUL or
 * bytes that are not UTF-8 are INVALID_ARGUMENT naming the field. The walk
 * also bounds nesting, so no request recurses deeper than WIRE_DEPTH_MAX.
 */
#ifndef SUPPLYSEC_WIRE_H
#define SUPPLYSEC_WIRE_H

#include <protobuf-c/protobuf-c.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "status.h"

#define WIRE_DEPTH_MAX 32

/* True when buf[0..len) parses as desc with every string well-formed;
 * otherwise false with st set to INVALID_ARGUMENT. */
bool wire_check(const ProtobufCMessageDescriptor *desc, const uint8_t *buf, size_t len, status *st);

#endif
