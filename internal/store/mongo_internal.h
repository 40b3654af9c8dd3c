/* mongo_internal.h — what the MongoDB backend's files share, and no one else
 * includes: the store (its client pool, database, read concerns, the
 * collections whose indexes exist, the commit gate), the names of its own
 * collections, and the functions one file of the backend calls in another
 * (prefixed mongo_). The design is in store_mongo.c's file comment; the
 * contract's view of the backend is store.h.
 *
 *   store_mongo.c    opening and closing, ping and describe, libmongoc's
 *                    errors as store_status, the time left as maxTimeMS, the
 *                    indexes, and the backend's table
 *   mongo_doc.c      the stored document: a record's columns and facets
 *                    wrapped around its fields, and unwrapped
 *   mongo_write.c    writes: one transaction per batch with its audit events
 *                    (store_apply, store_append_audit)
 *   mongo_read.c     reads: a record, list pages and their filters, the
 *                    audit log
 *   mongo_migrate.c  migration (collections, audit logs, records imported)
 *                    and facets given anew (marks, refacet)
 */
#ifndef SUPPLYSEC_MONGO_INTERNAL_H
#define SUPPLYSEC_MONGO_INTERNAL_H

#include <mongoc/mongoc.h>
#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "commit_gate.h"
#include "org_turns.h"
#include "store.h"

#define AUDIT_COLLECTION "auditEvents"
#define COUNTERS_COLLECTION "counters"
#define MAX_INDEXED 256

typedef struct mongo_store {
    mongoc_client_pool_t *pool;
    mongoc_uri_t *uri;
    char db[64];
    char mode[256];
    mongoc_read_concern_t *majority, *snapshot;
    pthread_mutex_t idx_mu;
    char *indexed[MAX_INDEXED]; /* collections whose indexes exist */
    size_t n_indexed;
    commit_gate gate; /* every commitTransaction passes it (store_refuse_writes) */
    org_turns turns;  /* this server's writers of one organization take turns */
} mongo_store;

/* ---- store_mongo.c ---- */

/* The store_status of a libmongoc or server error. */
store_status mongo_status_of_error(const bson_error_t *e);
/* Milliseconds left before deadline_us (rounded up, so that a command never
 * gets maxTimeMS 0, which means none); 0 when it passed; -1: no deadline. */
int64_t mongo_ms_left(int64_t deadline_us);
/* Creates coll's indexes once per process, before its first write. */
store_status mongo_indexes_ensure(mongo_store *ms, mongoc_client_t *client, const char *coll,
                                  int64_t deadline_us);

/* ---- mongo_doc.c ---- */

/* Whether a facet's name can be a field of _facets that a query reaches by
 * its path. */
bool mongo_facet_key_ok(const char *key);
/* A facet value as MongoDB keeps it: STRING as UTF-8, every other type as
 * the integer. */
bool mongo_facet_value_append(bson_t *doc, const char *key, const facet_value *v);
/* Whether MongoDB can keep rec's facets so that queries reach them. */
bool mongo_facets_storable(const store_record *rec);
/* The facets as the subdocument _facets; nothing when there are none. Call
 * mongo_facets_storable first. */
bool mongo_facets_append(bson_t *out, const store_facet *facets, size_t n);
/* The stored document: the store's columns (the facets last), then the
 * resource's fields. */
bool mongo_doc_wrap(const store_record *rec, bson_t *out);
/* Splits a stored document back into a record (owned by the caller). */
store_status mongo_record_unwrap(const bson_t *d, const char *collection, store_record **out);

/* ---- mongo_read.c ---- */

/* Called with each document a find returns, until it returns false. */
typedef bool (*doc_fn)(const bson_t *doc, void *ctx);

typedef struct one_ctx {
    const char *collection;
    store_record *rec;
    store_status st;
} one_ctx;

/* Runs a find on coll and hands each document to fn until it returns
 * false. */
store_status mongo_find_each(mongo_store *ms, mongoc_client_t *client, const char *coll_name,
                             const bson_t *filter, const bson_t *opts, doc_fn fn, void *ctx);
/* A doc_fn (ctx: a one_ctx): the first document as a record. */
bool mongo_take_one(const bson_t *doc, void *ctx);

/* mongo_read.c: an audit event document as read back (false: a field is
 * missing or memory ran out; nothing to free then), and the filter that
 * leaves out the unconfirmed events of an earlier release. */
bool mongo_audit_event_read(const bson_t *doc, store_audit_event *e);
void mongo_audit_filter_confirmed(bson_t *filter);

/* ---- the backend's table (MONGO_BACKEND in store_mongo.c) ---- */

/* mongo_write.c */
store_status mongo_apply(void *impl, const store_write *writes, size_t n, size_t *failed);
store_status mongo_append_audit(void *impl, const store_audit *ev);
/* mongo_read.c */
store_status mongo_get(void *impl, const char *collection, const char *org, const char *name,
                       store_record **out);
store_status mongo_get_by_lookup(void *impl, const char *collection, const char *lookup,
                                 store_record **out);
store_status mongo_list(void *impl, const store_query *q, store_page **out);
store_status mongo_audit_list(void *impl, const char *org, int64_t from, bool newest, int limit,
                              store_audit_event **out, size_t *count);
/* mongo_migrate.c */
store_status mongo_collections(void *impl, char ***names, size_t *count);
store_status mongo_audit_orgs(void *impl, char ***orgs, size_t *count);
store_status mongo_import_record(void *impl, const store_record *rec);
store_status mongo_facet_mark(void *impl, const char *collection, char **mark);
store_status mongo_set_facet_mark(void *impl, const char *collection, const char *mark);
store_status mongo_refacet(void *impl, const store_record *recs, size_t n, size_t *done);

#endif
