/* lifecycle.h — the one controlled-document lifecycle (ISO 28000 4.4.5,
 * 4.5.4), for every kind declared KIND_CONTROLLED.
 *
 *   DRAFT --SubmitForReview (EDITOR)--> IN_REVIEW --Approve (ADMIN)--> APPROVED
 *   IN_REVIEW --Reject (ADMIN, a reason)--> DRAFT
 *   APPROVED --CreateRevision (EDITOR)--> DRAFT of revision + 1
 *
 * The document's record holds its latest revision, whatever its state;
 * only a DRAFT changes (std_update) and a document none of whose revisions
 * was approved is the only one deleted. Approving a revision also keeps a
 * copy of it in the kind's revisions collection, readable as
 * `{name}@{revision_id}`, and turns the revision approved before it
 * SUPERSEDED, in the same atomic write, with whatever the kind's
 * with_approval hook adds (a declaration answers its requests again). A
 * move the state does not allow is FAILED_PRECONDITION naming the state
 * and the moves it allows.
 */
#ifndef SUPPLYSEC_LIFECYCLE_H
#define SUPPLYSEC_LIFECYCLE_H

#include "kind.h"

typedef enum doc_move {
    DOC_SUBMIT,  /* SubmitForReview */
    DOC_APPROVE, /* Approve */
    DOC_REJECT,  /* Reject */
    DOC_REVISE,  /* CreateRevision */
    DOC_MOVES
} doc_move;

/* Makes the move on the latest revision of the document `name` (etag:
 * when not empty, the current one, else ABORTED; reason: Reject's, required
 * there, at most 2,000 characters). Returns the stored document. */
ProtobufCMessage *lifecycle_move(const op_ctx *op, const kind *k, doc_move move, const char *name,
                                 const char *etag, const char *reason, status *st);

/* The approved and superseded revisions of the document `name`, oldest
 * first; the page token is bound as std_list's are. */
bool lifecycle_list_revisions(const op_ctx *op, const kind *k, const char *name, int page_size,
                              const char *page_token, resource_page *page, status *st);

/* For the standard methods (standard.c) on a controlled kind: */
/* A new document: revision 1, a DRAFT, started now. */
bool lifecycle_start(ProtobufCMessage *res, status *st);
/* FAILED_PRECONDITION unless cur (the stored latest revision) is a DRAFT. */
bool lifecycle_check_editable(const ProtobufCMessage *cur, const char *name, status *st);
/* FAILED_PRECONDITION once a revision of cur's document was approved. */
bool lifecycle_check_deletable(const ProtobufCMessage *cur, const char *name, status *st);
/* The revision key->revision of key's document; NOT_FOUND naming it when
 * that revision was never approved. */
ProtobufCMessage *lifecycle_load_revision(const op_ctx *op, const kind *k, const resource_key *key,
                                          status *st);
/* The revision of the document `name` (of k, in org) in force: its latest
 * when that is APPROVED, else the one before (a later revision starts as a
 * draft copy of an approved one); "" when none was ever approved. false,
 * with st (NOT_FOUND naming the document), when it cannot be read. */
#define LIFECYCLE_REVISION_MAX 24
bool lifecycle_revision_in_force(const op_ctx *op, const kind *k, const char *org, const char *name,
                                 char rev[LIFECYCLE_REVISION_MAX], status *st);
/* doc, the latest revision of the document `name` of k: *rev the number of
 * its revision in force (0: none was ever approved) and, when approve_s is
 * not NULL, *approve_s when that revision was approved (0 when unknown),
 * read from the kept revision when doc is a later one in the making; that
 * kept revision goes to *kept (the caller's to free) when kept is not NULL,
 * else NULL there (doc is the one in force, or there is none). With both
 * NULL nothing is read. false with st when that revision cannot be read. */
bool lifecycle_in_force(const op_ctx *op, const kind *k, const ProtobufCMessage *doc,
                        const char *name, int *rev, int64_t *approve_s, ProtobufCMessage **kept,
                        status *st);
/* A part kind's record as kept with its document's revision key->revision
 * (key: a name parsed as `{document}@{revision}/...`): its key in the part
 * kind's revisions collection into stored, its name for people into
 * display (both KIND_NAME_MAX + 16). false when they do not fit. */
#define LIFECYCLE_PART_NAME_MAX (KIND_NAME_MAX + 16)
/* name (the document doc itself, or a name under it) as kept with doc's
 * revision rev: `{doc}@{rev, 10 digits}{rest}` into stored (keys sort as
 * numbers), `{doc}@{rev}{rest}` into display. false when name is not doc's
 * or they do not fit. */
bool lifecycle_kept_names(const char *doc, int rev, const char *name, char *stored, char *display);
bool lifecycle_part_names(const resource_key *key, const char *name, char *stored, char *display);
/* Whether res (a revision of a controlled document) is a DRAFT. */
bool lifecycle_is_draft(const ProtobufCMessage *res);
/* The state's name ("DOCUMENT_STATE_DRAFT"), for the store's state column. */
const char *lifecycle_state_name(const ProtobufCMessage *res);

#endif
