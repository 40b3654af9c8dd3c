/* fieldmask.h — AIP-134 update masks applied to documents.
 *
 * An update replaces the fields named in the mask with the request's values
 * and leaves every other field as stored. The merge works on the converter's
 * documents, so it serves every resource type: paths are field names
 * (snake_case or lowerCamelCase), dotted through singular message fields;
 * `*` replaces every writable field. Output-only fields are never taken from
 * the request.
 */
#ifndef SUPPLYSEC_FIELDMASK_H
#define SUPPLYSEC_FIELDMASK_H

#include <protobuf-c/protobuf-c.h>
#include <stdbool.h>

#include "status.h"

#define FIELDMASK_MAX_PATHS 64

/* INVALID_ARGUMENT naming update_mask when a path is not a field of desc,
 * when the mask is empty, or has more than FIELDMASK_MAX_PATHS paths.
 * fieldmask_apply checks this itself; handlers call it to validate first. */
bool fieldmask_validate(const ProtobufCMessageDescriptor *desc, char *const *paths, size_t n,
                        status *st);

/* The implied mask of AIP-134 when a request has none: the populated
 * top-level fields of patch, output-only ones left out. *paths (malloc'd,
 * freed with fieldmask_paths_free) may be empty. */
bool fieldmask_populated(const ProtobufCMessage *patch, const char *const *output_only,
                         char ***paths, size_t *n, status *st);
void fieldmask_paths_free(char **paths, size_t n);

/* Returns a new message of current's type: current with the masked fields
 * taken from patch (same type). output_only: NULL-terminated top-level field
 * names kept from current. Caller frees with protobuf_c_message_free_unpacked. */
ProtobufCMessage *fieldmask_apply(const ProtobufCMessage *current, const ProtobufCMessage *patch,
                                  char *const *paths, size_t n, const char *const *output_only,
                                  status *st);

#endif
