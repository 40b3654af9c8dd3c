/* reflect.h — field access by descriptor: a message's fields found by
 * their proto name or their JSON (lowerCamelCase) name, read and written
 * at their offsets. The one place the project does protobuf-c reflection;
 * the converter (doc.h), update masks, facets, kinds and the standard
 * methods' request binding use it.
 *
 * Ownership: strings set are copied; messages cleared are freed; anything
 * returned is borrowed from the message.
 */
#ifndef SUPPLYSEC_REFLECT_H
#define SUPPLYSEC_REFLECT_H

#include <protobuf-c/protobuf-c.h>
#include <stdbool.h>
#include <stddef.h>

/* snake_case field name → its JSON name ("update_mask" → "updateMask"),
 * cut to buflen. */
void reflect_json_name(const char *field_name, char *buf, size_t buflen);

/* "RiskTier" -> "RISK_TIER_": the prefix proto style puts on the names of
 * an enum's values, into buf (cut to cap). */
void reflect_enum_prefix(const ProtobufCEnumDescriptor *e, char *buf, size_t cap);
/* The name of e's value without that prefix ("HIGH" for RISK_TIER_HIGH),
 * borrowed from the descriptor; "?" for a value e does not name. */
const char *reflect_enum_label(const ProtobufCEnumDescriptor *e, int value);

/* The field of desc called name: its proto name or its JSON name; NULL
 * when there is none. */
const ProtobufCFieldDescriptor *reflect_field(const ProtobufCMessageDescriptor *desc,
                                              const char *name);
/* The singular field of desc called name (proto name) of the given type,
 * and for messages of the message type msg; NULL otherwise. */
const ProtobufCFieldDescriptor *reflect_singular(const ProtobufCMessageDescriptor *desc,
                                                 const char *name, ProtobufCType type,
                                                 const ProtobufCMessageDescriptor *msg);
/* The same for a repeated field: its elements of the given type (and message type msg). */
const ProtobufCFieldDescriptor *reflect_repeated(const ProtobufCMessageDescriptor *desc,
                                                 const char *name, ProtobufCType type,
                                                 const ProtobufCMessageDescriptor *msg);

/* Where f's value is in msg (f a field of msg's descriptor). */
static inline void *reflect_at(const ProtobufCMessage *msg, const ProtobufCFieldDescriptor *f)
{
    return (char *)msg + f->offset;
}
/* Where f's quantifier is in msg: a repeated field's count (size_t), an optional scalar's has_
 * flag (protobuf_c_boolean) or a oneof's case (uint32_t). */
static inline void *reflect_quantifier(const ProtobufCMessage *msg,
                                       const ProtobufCFieldDescriptor *f)
{
    return (char *)msg + f->quantifier_offset;
}
/* How many elements the repeated field f has in msg. */
static inline size_t reflect_count(const ProtobufCMessage *msg, const ProtobufCFieldDescriptor *f)
{
    return *(const size_t *)((const char *)msg + f->quantifier_offset);
}
/* The string field f of msg ("" when unset); f NULL: "". */
const char *reflect_string(const ProtobufCMessage *msg, const ProtobufCFieldDescriptor *f);

/* By field name (proto name), singular fields only: */
/* the string ("" when unset, absent or not a string) */
const char *message_get_string(const ProtobufCMessage *msg, const char *field);
/* a copy of value; false when absent, not a string or out of memory */
bool message_set_string(ProtobufCMessage *msg, const char *field, const char *value);
/* each of the NULL-terminated fields to its default (strings, messages,
 * enums, int32, bool); false for one absent, repeated or of another type */
bool message_clear_fields(ProtobufCMessage *msg, const char *const *fields);
/* Drops the unknown fields of msg and of every message in it. */
void message_strip_unknown(ProtobufCMessage *msg);

#endif
