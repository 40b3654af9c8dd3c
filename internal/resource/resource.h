/* resource.h — resources as protobuf messages in the store.
 *
 * The generic repository every service uses: load a message from its
 * document, stamp the AIP resource fields (name, create_time, update_time,
 * etag) and write it with its audit event, list a page behind an opaque
 * token. A write first checks the call's deadline: a call whose deadline
 * has passed writes nothing.
 *
 * Etags are derived from (name, create_time, version): they change on every
 * write, and a deleted-then-recreated resource never reuses one.
 */
#ifndef SUPPLYSEC_RESOURCE_H
#define SUPPLYSEC_RESOURCE_H

#include <protobuf-c/protobuf-c.h>
#include <stdbool.h>
#include <stdint.h>

#include "auth.h"
#include "reflect.h" /* message_get_string and the others, for every resource */
#include "clock.h"
#include "status.h"
#include "store.h"

/* What one call brings to the domain: who, what, until when. Borrowed. */
/* What the access rules (domain/access.h) learn while a request is
 * answered that its answer must honour; kept per request by the caller of
 * the operations, written through a const op_ctx. */
typedef struct op_reads {
    bool redact; /* read from outside the organization without its sensitive fields */
    /* Set while the hooks judge the items of an answer whose read is
     * recorded already (the revisions of a list): no event of their own. */
    bool itemwise;
} op_reads;

typedef struct op_ctx {
    store *store;
    const principal *who; /* NULL only for bootstrap */
    const char *method;
    const char *request_id;
    int64_t deadline_us; /* CLOCK_MONOTONIC microseconds; INT64_MAX for none */
    op_reads *reads;     /* NULL: not kept (the answer is never an outsider's) */
    /* A customs authority the request names to judge by
     * (`organizations/{id}`: business partners' exemptions by its
     * recognitions); NULL or "": none. */
    const char *authority;
} op_ctx;

/* Where a resource lives in the store. Borrowed. */
typedef struct resource_ref {
    const char *collection;
    const char *org;
    const char *parent;
    const char *name;
    const char *state;  /* or NULL */
    const char *lookup; /* or NULL */
    /* The name stamped on the message when it is not the store's key (a
     * revision kept as `doc@0000000003`, named `doc@3`); NULL: name. */
    const char *stamp_name;
    bool keep_create_time; /* a create keeps the message's create_time (a revision's copy) */
    /* The fields of the resource (meta, in the writes below) the store keeps
     * as facets for list filters (filter.h; fields by these names,
     * kind_check checks their types); NULL: none. */
    const facet_def *facets;
    size_t n_facets;
} resource_ref;

/* STATUS_DEADLINE_EXCEEDED once the call's deadline has passed. */
bool op_check_deadline(const op_ctx *op, status *st);

/* Loads the message stored under (collection, org, name); org NULL matches
 * any tenant. Caller frees with protobuf_c_message_free_unpacked. `what`
 * names it in a NOT_FOUND message. */
ProtobufCMessage *resource_load(const op_ctx *op, const ProtobufCMessageDescriptor *desc,
                                const char *collection, const char *org, const char *name,
                                const char *what, int64_t *version, status *st);

/* ABORTED when etag is non-empty and differs from meta's etag. */
bool resource_check_etag(const ProtobufCMessage *meta, const char *etag, status *st);

/* Stamps meta (the resource with the AIP fields; msg itself or a message
 * nested in it) as version 1 and stores msg. */
bool resource_create(const op_ctx *op, const resource_ref *ref, ProtobufCMessage *msg,
                     ProtobufCMessage *meta, status *st);
/* Stamps meta as version_before + 1 and replaces the stored msg, only if the
 * stored version is still version_before (else ABORTED). */
bool resource_update(const op_ctx *op, const resource_ref *ref, ProtobufCMessage *msg,
                     ProtobufCMessage *meta, int64_t version_before, status *st);
bool resource_delete(const op_ctx *op, const char *collection, const char *org, const char *name,
                     int64_t version_before, status *st);

/* Several writes of one call, stored all or nothing with their audit events
 * (store_apply): deleting an organization with its keys, creating a key
 * under its organization. resource_create, _update and _delete are one-write
 * batches. Build with the resource_batch_* adders, then apply once and free.
 * What is handed to an adder is borrowed until resource_batch_apply; the
 * messages of creates and updates are stamped and encoded when added. */
typedef struct resource_batch {
    const op_ctx *op;
    size_t n, cap; /* writes added; room for (grows up to STORE_WRITES_MAX) */
    store_write *writes;
    store_audit *events;
    store_record *recs;
    uint8_t **docs;       /* encoded messages, owned */
    store_facet **facets; /* their facets, owned (strings inside) */
    const char **what;    /* names each write in a failure's message */
    bool overflow;        /* a write could not be added (no memory, or past the store's limit): the
                             batch is refused */
    struct resource_kept *kept; /* resource_batch_keep's, freed with the batch */
    size_t n_kept, cap_kept;
} resource_batch;

void resource_batch_init(resource_batch *b, const op_ctx *op);
/* Stamps meta as version 1 (update: version_before + 1) and adds the write
 * of msg; false (st set) when it cannot be encoded. */
bool resource_batch_create(resource_batch *b, const resource_ref *ref, ProtobufCMessage *msg,
                           ProtobufCMessage *meta, status *st);
bool resource_batch_update(resource_batch *b, const resource_ref *ref, ProtobufCMessage *msg,
                           ProtobufCMessage *meta, int64_t version_before, status *st);
/* version_before 0: whatever version is stored. */
void resource_batch_delete(resource_batch *b, const char *collection, const char *org,
                           const char *name, int64_t version_before);
/* The batch stores nothing unless (collection, org, name) exists at version
 * (0: any) when it commits: what a batch creates under a parent cannot
 * outlive a concurrent delete of the parent. */
void resource_batch_guard(resource_batch *b, const char *collection, const char *org,
                          const char *name, int64_t version);
/* Deletes every record of collection in org under parent (NULL: any), each
 * with its audit event; `what` names them in a failure's message. */
void resource_batch_delete_all(resource_batch *b, const char *collection, const char *org,
                               const char *parent, const char *what);
/* Stores the batch: DEADLINE_EXCEEDED once the call's deadline has passed;
 * otherwise the store's outcome, its message naming the failing write's
 * resource (NOT_FOUND, ALREADY_EXISTS, ABORTED for a stale version). */
bool resource_batch_apply(resource_batch *b, status *st);
/* The batch takes msg, or a malloc'd block (what a write added to it
 * borrows: names, keys) and frees it with itself; false (freed now, the
 * batch refused) when out of memory. */
bool resource_batch_keep(resource_batch *b, ProtobufCMessage *msg);
bool resource_batch_keep_mem(resource_batch *b, void *block);
void resource_batch_free(resource_batch *b);

/* One page of a list. items are owned by the page. */
typedef struct resource_page {
    ProtobufCMessage **items;
    size_t count;
    char *next_page_token; /* malloc'd; "" on the last page */
} resource_page;

/* Calls fn on every record q finds (q->after and q->limit are set here),
 * in name order, page after page, each decoded as desc: fn may take the
 * message (setting *msg to NULL), else it is freed after the call. Stops at
 * fn's false (st set); false too when the store fails (its message naming
 * `what`) or a record cannot be decoded (DATA_LOSS). */
bool resource_each(const op_ctx *op, const ProtobufCMessageDescriptor *desc, store_query *q,
                   const char *what,
                   bool (*fn)(ProtobufCMessage **msg, const store_record *rec, void *ctx,
                              status *st),
                   void *ctx, status *st);

/* Lists q (q->after and q->limit are set from page_token and page_size).
 * query_key identifies the query for its page tokens (method, parent,
 * filter). */
bool resource_list(const op_ctx *op, const ProtobufCMessageDescriptor *desc, store_query *q,
                   const char *query_key, const char *page_token, int page_size,
                   resource_page *page, status *st);
void resource_page_free(resource_page *page);
/* Keeps the items of page for which keep(item, ctx) holds, in order, and
 * frees the others (the page's token stays: a page may come out short). */
void resource_page_keep(resource_page *page, bool (*keep)(const ProtobufCMessage *item, void *ctx),
                        void *ctx);

/* The facet values of msg for the facet table defs[0..n) (fields of msg by
 * name): a malloc'd array (*count entries; NULL when none) whose strings
 * live in the same block, freed with free(). false when out of memory or
 * past STORE_FACETS_MAX values. */
bool resource_facets(const ProtobufCMessage *msg, const facet_def *defs, size_t n,
                     store_facet **out, size_t *count);

/* Records in org's audit log that op's caller read `resource` (a name, or
 * the parent of a list): the reads of an organization's records by
 * someone outside it who is let in by a grant. false with st when the
 * event cannot be stored: then the read must not be answered. */
bool resource_record_read(const op_ctx *op, const char *org, const char *resource, status *st);

/* Sets the Timestamp field `field` of msg to now (ms precision). */
bool resource_stamp_now(ProtobufCMessage *msg, const char *field);
/* Sets it to a copy of t; t NULL clears it. */
bool resource_set_time(ProtobufCMessage *msg, const char *field,
                       const Google__Protobuf__Timestamp *t);

/* The AIP fields the server sets on every resource; never taken from a
 * request. NULL-terminated. */
extern const char *const resource_output_only_fields[];

#endif
