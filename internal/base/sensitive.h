/* sensitive.h — the fields the API marks sensitive: `[(supplysec.v1.
 * sensitive) = true]` in the proto (proto/supplysec/v1/options.proto), read
 * from the server's own embedded descriptor set, so marking a field in the
 * proto is all it takes. What another organization reads through a share
 * (unless it includes them) or a validator reads has them cleared. */
#ifndef SUPPLYSEC_SENSITIVE_H
#define SUPPLYSEC_SENSITIVE_H

#include <protobuf-c/protobuf-c.h>
#include <stdbool.h>
#include <stddef.h>

#define SENSITIVE_OPTION 50001 /* the option's number in FieldOptions */
#define SENSITIVE_MAX 64       /* fields marked, at most */

/* false when a mark could not be kept (more than SENSITIVE_MAX, or a name
 * too long): the server refuses to start rather than leave a field
 * unredacted. */
bool sensitive_complete(void);

/* Whether field f of messages desc is marked. */
bool sensitive_field(const ProtobufCMessageDescriptor *desc, const ProtobufCFieldDescriptor *f);

/* Clears every marked field of msg and of every message in it. */
void sensitive_redact(ProtobufCMessage *msg);

/* The marked fields, as "supplysec.v1.Facility.security_arrangements": n of
 * them into names (at most max); returns how many there are. */
size_t sensitive_fields(const char **names, size_t max);

#endif
