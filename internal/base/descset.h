/* descset.h — the server's own FileDescriptorSet (every proto of the API,
 * embedded at build time: CMakeLists.txt, descriptor_set.c), read field by
 * field from its wire bytes. protobuf-c's generated descriptors leave the
 * options out; what the server takes from them is read here: the fields
 * marked sensitive (sensitive.c) and the methods marked
 * `idempotency_level = NO_SIDE_EFFECTS` (descset_no_side_effects). */
#ifndef SUPPLYSEC_DESCSET_H
#define SUPPLYSEC_DESCSET_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* A run of wire bytes: a message's fields, or one field's body. */
typedef struct descset_span {
    const uint8_t *p, *end;
} descset_span;

/* The whole set: its fields are the files (number 1). */
descset_span descset_all(void);

/* The next field of s: its number, and its body (length-delimited fields;
 * empty for the others) or its value (a varint, or a length); false at the
 * end or on malformed bytes. */
bool descset_next(descset_span *s, uint32_t *number, descset_span *body, uint64_t *value);

/* A length-delimited body as text into out (cut to size - 1). */
void descset_text(const descset_span *b, char *out, size_t size);

/* The text of field number of s (its last occurrence, wherever it
 * stands: a name need not come first), into out; "" when absent. */
void descset_field_text(descset_span s, uint32_t number, char *out, size_t size);

/* Calls visit for field number of every file of the set (4: the message
 * types, 6: the services), with that file's package. */
void descset_each_in_files(uint32_t number,
                           void (*visit)(descset_span body, const char *package, void *arg),
                           void *arg);

/* false when a method's mark could not be kept (too many, a name too long). */
bool descset_marks_complete(void);

/* Whether method of service ("supplysec.v1.Organizations", "GetOrganization")
 * is marked `option idempotency_level = NO_SIDE_EFFECTS;`. */
bool descset_no_side_effects(const char *service, const char *method);

#endif
