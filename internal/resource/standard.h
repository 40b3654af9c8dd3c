/* standard.h — the standard methods (AIP-131..135) of any kind.
 *
 * Each reads like the rule it implements — validate, authorize, load,
 * decide, store, answer — with the kind's declaration (kind.h) supplying
 * what differs between kinds. No gRPC here: api/ binds a method's request
 * fields to these arguments and the answer back to its response.
 *
 * Ownership: messages handed out are the caller's (free with
 * protobuf_c_message_free_unpacked); a resource handed in to std_create is
 * taken; everything else is borrowed. Messages name request fields as AIP
 * spells them: `name`, `parent`, `<field>_id`, `<field>`, `update_mask`,
 * `etag`, `page_size`, `page_token`, `filter`.
 */
#ifndef SUPPLYSEC_STANDARD_H
#define SUPPLYSEC_STANDARD_H

#include "kind.h"

/* AIP-131. NOT_FOUND for another tenant's resource as for a missing one. */
ProtobufCMessage *std_get(const op_ctx *op, const kind *k, const char *name, status *st);

typedef struct std_list_req {
    const char *parent;     /* "" for a top-level kind */
    int page_size;          /* 0: the default */
    const char *page_token; /* "" or NULL: from the start */
    const char *filter;     /* "" or NULL: everything */
} std_list_req;

/* AIP-132: one page, ordered by name. A top-level kind lists what the
 * caller's organization may see of it (platform administrators: all). The
 * page token is bound to the method (op->method), the caller's
 * organization, the parent and the filter: used on any other list it is
 * INVALID_ARGUMENT. */
bool std_list(const op_ctx *op, const kind *k, const std_list_req *req, resource_page *page,
              status *st);

/* AIP-133: creates *res (taken: *res is NULL afterwards, whatever the
 * outcome) under parent with id (NULL or "": generated), output-only
 * fields cleared, validated and derived by the kind's hooks. Returns the
 * stored resource. A child is stored only while its parent exists when
 * the write commits (NOT_FOUND naming the parent otherwise). */
ProtobufCMessage *std_create(const op_ctx *op, const kind *k, const char *parent, const char *id,
                             ProtobufCMessage **res, status *st);

/* AIP-134: patch (borrowed; its name says which resource, its etag, when
 * set, must be the current one: ABORTED otherwise, nothing written) with
 * the mask's paths (mask_given false: the populated fields of patch).
 * Output-only fields are never taken from patch; an immutable field the
 * mask names may only keep its value. Returns the stored resource. */
ProtobufCMessage *std_update(const op_ctx *op, const kind *k, const ProtobufCMessage *patch,
                             char *const *paths, size_t n_paths, bool mask_given, status *st);

/* AIP-135: deletes name (etag as in std_update), with what the kind's
 * before_delete hook adds, all or nothing. */
bool std_delete(const op_ctx *op, const kind *k, const char *name, const char *etag, status *st);

/* A Revoke method (a share, a grant): ends the resource `name` of k for
 * good, at etag when not "", by an ADMIN: `revoke_time` now, `revoker` the
 * caller, `state` revoked_state (the message's fields by these names);
 * FAILED_PRECONDITION when it is revoked already. Answered as stored. */
ProtobufCMessage *std_revoke(const op_ctx *op, const kind *k, const char *name, const char *etag,
                             int revoked_state, status *st);

/* For a kind whose records are part of a document (kind.part_of_document):
 * refuses (FAILED_PRECONDITION) unless the document's latest revision is a
 * DRAFT, and guards the document in b at the version seen, so that a submit
 * or an approval between this read and the commit aborts the write (the
 * standard methods call it; a custom write on such a record calls it too).
 * Other kinds: true. */
bool std_document_draft_guard(const op_ctx *op, const kind *k, const resource_key *key,
                              resource_batch *b, status *st);

#endif
