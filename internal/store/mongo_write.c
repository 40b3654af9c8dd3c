/* mongo_write.c — the MongoDB backend's writes (see store_mongo.c, "Writes"
 * and "Guards"): every batch of writes is one transaction with its audit
 * events, numbered from their organizations' counters, run again after a
 * transient failure within the batch's deadline; store_append_audit is a
 * batch of one event and no write. */
#include "mongo_internal.h"

#include <mongoc/mongoc.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "audit_chain.h"
#include "clock.h"
#include "commit_gate.h"
#include "store.h"

/* Without a deadline, a batch is retried for at most this long (libmongoc's
 * with_transaction gives up after the same). */
#define TXN_RETRY_US (120 * 1000000LL)
#define BACKOFF_MAX_US 50000 /* the longest pause before a transaction runs again */
/* Documents in one insert, _ids in one delete: a batch of thousands is a few
 * commands, each short enough for socketTimeoutMS. */
#define WRITE_CHUNK 1000

/* ---- errors ---- */

/* A failure the server may not repeat if the transaction runs again. Not a
 * failure to reach it: retrying those would wait out the selection timeout
 * again and again. */
static bool is_transient(const bson_t *reply, const bson_error_t *e)
{
    return reply && mongoc_error_has_label(reply, "TransientTransactionError") &&
           e->domain != MONGOC_ERROR_STREAM && e->domain != MONGOC_ERROR_SERVER_SELECTION;
}

/* ---- deadlines ---- */

static void sleep_us(int64_t us)
{
    struct timespec ts = {.tv_sec = us / 1000000, .tv_nsec = (us % 1000000) * 1000};
    while (nanosleep(&ts, &ts) != 0)
        ;
}

static bool passed(int64_t deadline_us)
{
    return mongo_ms_left(deadline_us) == 0;
}

/* A pooled client, waiting for one at most until deadline_us (0: as long as
 * it takes); NULL when the deadline passed first. */
static mongoc_client_t *client_pop(mongo_store *ms, int64_t deadline_us)
{
    if (!deadline_us)
        return mongoc_client_pool_pop(ms->pool);
    int64_t pause = 100;
    for (;;) {
        mongoc_client_t *client = mongoc_client_pool_try_pop(ms->pool);
        if (client)
            return client;
        int64_t left = deadline_us - clock_monotonic_us();
        if (left <= 0)
            return NULL;
        sleep_us(pause < left ? pause : left);
        pause = pause < 5000 ? pause * 2 : pause;
    }
}

/* ---- writes: one transaction per batch ---- */

static const char *str_or_empty(const char *s)
{
    return s ? s : "";
}

/* The batch's place in an organization's audit log. */
typedef struct org_log {
    const char *org;
    int64_t next;     /* the seq of its next event */
    int64_t reserved; /* seqs taken at the start */
    int64_t used;     /* seqs given to events */
    /* The head of its hash chain (audit_chain.h), as the counter keeps it:
     * the last chained event's position, hash and seq. */
    int64_t head_position, head_seq;
    uint8_t head_hash[AUDIT_HASH_LEN];
    bool head_hashed;
    bool head_moved; /* to be stored in the counter before the commit */
} org_log;

/* An audit event to insert when the batch's writes are done. */
typedef struct queued_event {
    const store_audit *ev; /* the event, or a delete-all's template */
    const char *collection;
    char *resource; /* a delete-all's record (owned); NULL: ev->resource */
    int64_t version_before, version_after;
} queued_event;

/* One store_apply (or store_append_audit) in progress. */
typedef struct batch {
    mongo_store *ms;
    mongoc_client_t *client;
    mongoc_client_session_t *session;
    const store_write *writes;
    size_t n;
    const store_audit *lone_event; /* store_append_audit: an event and no write */
    int64_t deadline_us;           /* the earliest of the events'; 0: none */
    int64_t give_up_us;            /* no retry after this: the deadline, or TXN_RETRY_US */
    queued_event *events;
    size_t n_events, cap_events;
    org_log *orgs; /* the audit logs the batch has events for */
    size_t n_orgs, cap_orgs;
    size_t failed;  /* the failing write's index; n for the batch's own failure */
    bool transient; /* the last failure may pass if the transaction runs again */
} batch;

static void events_clear(batch *b)
{
    for (size_t i = 0; i < b->n_events; i++)
        free(b->events[i].resource);
    b->n_events = 0;
}

static bool event_add(batch *b, const store_audit *ev, const char *collection, const char *resource,
                      int64_t before, int64_t after)
{
    if (b->n_events == b->cap_events) {
        size_t cap = b->cap_events ? b->cap_events * 2 : 8;
        queued_event *grown = realloc(b->events, cap * sizeof *grown);
        if (!grown)
            return false;
        b->events = grown;
        b->cap_events = cap;
    }
    queued_event *p = &b->events[b->n_events];
    *p = (queued_event){ev, collection, NULL, before, after};
    if (resource && !(p->resource = strdup(resource)))
        return false;
    b->n_events++;
    return true;
}

/* Options of a command in the transaction (initialised in any case): its
 * session, and maxTimeMS, the time left. */
static store_status txn_opts(batch *b, bson_t *opts)
{
    bson_error_t e;
    int64_t left = mongo_ms_left(b->deadline_us);
    bson_init(opts);
    if (left == 0)
        return STORE_DEADLINE_EXCEEDED;
    if (!mongoc_client_session_append(b->session, opts, &e) ||
        (left > 0 && !BSON_APPEND_INT64(opts, "maxTimeMS", left)))
        return STORE_INTERNAL;
    return STORE_OK;
}

/* The status of a failed command (reply: the server's, with its labels). */
static store_status failure(batch *b, const bson_t *reply, const bson_error_t *e)
{
    b->transient = is_transient(reply, e);
    return mongo_status_of_error(e);
}

static mongoc_collection_t *collection_of(batch *b, const char *name)
{
    return mongoc_client_get_collection(b->client, b->ms->db, name);
}

static void filter_of(bson_t *filter, const char *org, const char *name, int64_t version)
{
    bson_init(filter);
    BSON_APPEND_UTF8(filter, "_id", name);
    BSON_APPEND_UTF8(filter, "_org", org);
    if (version > 0)
        BSON_APPEND_INT64(filter, "_version", version);
}

/* After a write at a version matched nothing: NOT_FOUND when the record is
 * not there (in this tenant), CONFLICT when it is at another version. */
static store_status missing_or_stale(batch *b, const char *collection, const char *org,
                                     const char *name)
{
    bson_t filter, opts;
    const bson_t *doc, *reply = NULL;
    bson_error_t e;
    filter_of(&filter, org, name, 0);
    store_status st = txn_opts(b, &opts);
    if (st == STORE_OK) {
        BSON_APPEND_INT32(&opts, "limit", 1);
        mongoc_collection_t *coll = collection_of(b, collection);
        mongoc_cursor_t *cur = mongoc_collection_find_with_opts(coll, &filter, &opts, NULL);
        if (mongoc_cursor_next(cur, &doc))
            st = STORE_CONFLICT;
        else if (mongoc_cursor_error_document(cur, &e, &reply))
            st = failure(b, reply, &e);
        else
            st = STORE_NOT_FOUND;
        mongoc_cursor_destroy(cur);
        mongoc_collection_destroy(coll);
    }
    bson_destroy(&opts);
    bson_destroy(&filter);
    return st;
}

/* The index in its command of the first write error in reply, or -1. */
static int64_t write_error_index(const bson_t *reply)
{
    bson_iter_t it;
    if (bson_iter_init(&it, reply) && bson_iter_find_descendant(&it, "writeErrors.0.index", &it) &&
        BSON_ITER_HOLDS_NUMBER(&it))
        return bson_iter_as_int64(&it);
    return -1;
}

/* Creates writes[i, end) (of one collection) with one insert; *at: the
 * failing one's offset. */
static store_status creates_run(batch *b, size_t i, size_t end, size_t *at)
{
    size_t count = end - i;
    bson_t *docs = calloc(count, sizeof *docs), opts = BSON_INITIALIZER, reply = BSON_INITIALIZER;
    const bson_t **ptrs = calloc(count, sizeof *ptrs);
    bson_error_t e;
    store_status st = STORE_INTERNAL;
    size_t made = 0;
    if (!docs || !ptrs)
        goto out;
    for (; made < count; made++) {
        if (!mongo_doc_wrap(b->writes[i + made].rec, &docs[made]))
            goto out_made;
        ptrs[made] = &docs[made];
    }
    if ((st = txn_opts(b, &opts)) != STORE_OK)
        goto out_made;
    mongoc_collection_t *coll = collection_of(b, b->writes[i].rec->collection);
    if (mongoc_collection_insert_many(coll, ptrs, count, &opts, &reply, &e)) {
        st = STORE_OK;
        for (size_t k = i; k < end && st == STORE_OK; k++) {
            const store_write *w = &b->writes[k];
            if (!event_add(b, w->ev, w->rec->collection, NULL, w->ev->version_before,
                           w->ev->version_after))
                st = STORE_INTERNAL;
        }
    } else {
        st = failure(b, &reply, &e);
        int64_t index = write_error_index(&reply);
        *at = index >= 0 && (size_t)index < count ? (size_t)index : 0;
    }
    mongoc_collection_destroy(coll);
out_made:
    for (size_t k = 0; k < made; k++)
        bson_destroy(&docs[k]);
    if (made < count)
        bson_destroy(&docs[made]); /* mongo_doc_wrap initialised it before failing */
out:
    bson_destroy(&reply);
    bson_destroy(&opts);
    free(ptrs);
    free(docs);
    return st;
}

/* Runs one update or delete statement as a command of its own, with the
 * time left as maxTimeMS; *n: the documents it matched (update) or deleted.
 * libmongoc's update and delete helpers would put maxTimeMS into the
 * statement, where mongod refuses it as an unknown field. */
static store_status statement_run(batch *b, const char *collection, bool update, const bson_t *stmt,
                                  int64_t *n)
{
    bson_t cmd = BSON_INITIALIZER, statements, opts = BSON_INITIALIZER, reply = BSON_INITIALIZER;
    bson_iter_t it;
    bson_error_t e;
    int64_t left = mongo_ms_left(b->deadline_us);
    store_status st = left == 0 ? STORE_DEADLINE_EXCEEDED
                      : mongoc_client_session_append(b->session, &opts, &e) ? STORE_OK
                                                                            : STORE_INTERNAL;
    BSON_APPEND_UTF8(&cmd, update ? "update" : "delete", collection);
    BSON_APPEND_ARRAY_BEGIN(&cmd, update ? "updates" : "deletes", &statements);
    BSON_APPEND_DOCUMENT(&statements, "0", stmt);
    bson_append_array_end(&cmd, &statements);
    if (left > 0)
        BSON_APPEND_INT64(&cmd, "maxTimeMS", left);
    if (st == STORE_OK) {
        mongoc_collection_t *coll = collection_of(b, collection);
        if (!mongoc_collection_write_command_with_opts(coll, &cmd, &opts, &reply, &e)) {
            st = failure(b, &reply, &e);
        } else if (bson_iter_init(&it, &reply) &&
                   bson_iter_find_descendant(&it, "writeErrors.0.code", &it)) {
            bson_set_error(&e, MONGOC_ERROR_SERVER, (uint32_t)bson_iter_as_int64(&it),
                           "write error");
            st = failure(b, &reply, &e);
        } else {
            *n = bson_iter_init_find(&it, &reply, "n") ? bson_iter_as_int64(&it) : 0;
            st = STORE_OK;
        }
        mongoc_collection_destroy(coll);
    }
    bson_destroy(&reply);
    bson_destroy(&opts);
    bson_destroy(&cmd);
    return st;
}

/* One update statement: q, u, neither multi nor upsert. */
static store_status update_statement(batch *b, const char *collection, const bson_t *q,
                                     const bson_t *u, int64_t *matched)
{
    bson_t stmt = BSON_INITIALIZER;
    BSON_APPEND_DOCUMENT(&stmt, "q", q);
    BSON_APPEND_DOCUMENT(&stmt, "u", u);
    store_status st = statement_run(b, collection, true, &stmt, matched);
    bson_destroy(&stmt);
    return st;
}

static store_status update_run(batch *b, const store_write *w)
{
    const store_record *rec = w->rec;
    bson_t filter, doc;
    int64_t matched = 0;
    filter_of(&filter, rec->org, rec->name, w->expected_version);
    store_status st = mongo_doc_wrap(rec, &doc)
                          ? update_statement(b, rec->collection, &filter, &doc, &matched)
                          : STORE_INTERNAL;
    if (st == STORE_OK && matched != 1)
        st = missing_or_stale(b, rec->collection, rec->org, rec->name);
    else if (st == STORE_OK &&
             !event_add(b, w->ev, rec->collection, NULL, w->expected_version, w->ev->version_after))
        st = STORE_INTERNAL;
    bson_destroy(&doc);
    bson_destroy(&filter);
    return st;
}

static store_status delete_run(batch *b, const store_write *w)
{
    bson_t filter, extra, fields = BSON_INITIALIZER, reply = BSON_INITIALIZER;
    bson_iter_t it;
    bson_error_t e;
    store_status st;
    filter_of(&filter, w->org, w->name, w->expected_version);
    BSON_APPEND_INT32(&fields, "_version", 1);
    mongoc_find_and_modify_opts_t *fam = mongoc_find_and_modify_opts_new();
    mongoc_find_and_modify_opts_set_flags(fam, MONGOC_FIND_AND_MODIFY_REMOVE);
    mongoc_find_and_modify_opts_set_fields(fam, &fields);
    if ((st = txn_opts(b, &extra)) == STORE_OK && !mongoc_find_and_modify_opts_append(fam, &extra))
        st = STORE_INTERNAL;
    if (st == STORE_OK) {
        mongoc_collection_t *coll = collection_of(b, w->collection);
        if (!mongoc_collection_find_and_modify_with_opts(coll, &filter, fam, &reply, &e))
            st = failure(b, &reply, &e);
        else if (bson_iter_init(&it, &reply) &&
                 bson_iter_find_descendant(&it, "value._version", &it) &&
                 BSON_ITER_HOLDS_NUMBER(&it))
            st = event_add(b, w->ev, w->collection, NULL, bson_iter_as_int64(&it),
                           w->ev->version_after)
                     ? STORE_OK
                     : STORE_INTERNAL;
        else
            st = missing_or_stale(b, w->collection, w->org, w->name);
        mongoc_collection_destroy(coll);
    }
    mongoc_find_and_modify_opts_destroy(fam);
    bson_destroy(&extra);
    bson_destroy(&reply);
    bson_destroy(&fields);
    bson_destroy(&filter);
    return st;
}

/* The record stays as it is, and a concurrent transaction writing it gets a
 * WriteConflict: $inc of _guard is a write that changes neither its version
 * nor its fields (see the file comment). */
static store_status guard_run(batch *b, const store_write *w)
{
    bson_t filter, update = BSON_INITIALIZER, inc;
    int64_t matched = 0;
    filter_of(&filter, w->org, w->name, w->expected_version);
    BSON_APPEND_DOCUMENT_BEGIN(&update, "$inc", &inc);
    BSON_APPEND_INT64(&inc, "_guard", 1);
    bson_append_document_end(&update, &inc);
    store_status st = update_statement(b, w->collection, &filter, &update, &matched);
    if (st == STORE_OK && matched != 1)
        st = missing_or_stale(b, w->collection, w->org, w->name);
    bson_destroy(&update);
    bson_destroy(&filter);
    return st;
}

/* Deletes the records of a delete-all, names[from, to), by _id. Fewer
 * deleted than found means one changed under the batch: the transaction
 * runs again. */
static store_status delete_chunk(batch *b, const store_write *w, char **names, size_t from,
                                 size_t to)
{
    bson_t stmt = BSON_INITIALIZER, filter, id, in;
    char key[16];
    const char *k;
    int64_t deleted = 0;
    BSON_APPEND_DOCUMENT_BEGIN(&stmt, "q", &filter);
    BSON_APPEND_UTF8(&filter, "_org", w->org);
    if (w->parent)
        BSON_APPEND_UTF8(&filter, "_parent", w->parent);
    BSON_APPEND_DOCUMENT_BEGIN(&filter, "_id", &id);
    BSON_APPEND_ARRAY_BEGIN(&id, "$in", &in);
    for (size_t i = from; i < to; i++) {
        bson_uint32_to_string((uint32_t)(i - from), &k, key, sizeof key);
        bson_append_utf8(&in, k, -1, names[i], -1);
    }
    bson_append_array_end(&id, &in);
    bson_append_document_end(&filter, &id);
    bson_append_document_end(&stmt, &filter);
    BSON_APPEND_INT32(&stmt, "limit", 0);
    store_status st = statement_run(b, w->collection, false, &stmt, &deleted);
    if (st == STORE_OK && deleted != (int64_t)(to - from)) {
        b->transient = true;
        st = STORE_UNAVAILABLE;
    }
    bson_destroy(&stmt);
    return st;
}

/* Every record of w->collection in w->org (under w->parent), each deleted
 * with its own event made from w->ev. */
static store_status delete_all_run(batch *b, const store_write *w)
{
    bson_t filter = BSON_INITIALIZER, opts, projection, sort;
    const bson_t *doc, *reply = NULL;
    bson_iter_t it;
    bson_error_t e;
    store_status st;
    char **names = NULL;
    size_t count = 0, cap = 0;
    BSON_APPEND_UTF8(&filter, "_org", w->org);
    if (w->parent)
        BSON_APPEND_UTF8(&filter, "_parent", w->parent);
    if ((st = txn_opts(b, &opts)) == STORE_OK) {
        BSON_APPEND_DOCUMENT_BEGIN(&opts, "projection", &projection);
        BSON_APPEND_INT32(&projection, "_version", 1);
        bson_append_document_end(&opts, &projection);
        BSON_APPEND_DOCUMENT_BEGIN(&opts, "sort", &sort);
        BSON_APPEND_INT32(&sort, "_id", 1);
        bson_append_document_end(&opts, &sort);
        mongoc_collection_t *coll = collection_of(b, w->collection);
        mongoc_cursor_t *cur = mongoc_collection_find_with_opts(coll, &filter, &opts, NULL);
        st = STORE_OK;
        while (st == STORE_OK && mongoc_cursor_next(cur, &doc)) {
            if (count == cap) {
                cap = cap ? cap * 2 : 16;
                char **grown = realloc(names, cap * sizeof *grown);
                if (!grown) {
                    st = STORE_INTERNAL;
                    break;
                }
                names = grown;
            }
            int64_t version =
                bson_iter_init_find(&it, doc, "_version") ? bson_iter_as_int64(&it) : 0;
            if (!bson_iter_init_find(&it, doc, "_id") || !BSON_ITER_HOLDS_UTF8(&it) ||
                !(names[count] = strdup(bson_iter_utf8(&it, NULL))))
                st = STORE_INTERNAL;
            else if (!event_add(b, w->ev, w->collection, names[count++], version, 0))
                st = STORE_INTERNAL;
        }
        if (st == STORE_OK && mongoc_cursor_error_document(cur, &e, &reply))
            st = failure(b, reply, &e);
        mongoc_cursor_destroy(cur);
        mongoc_collection_destroy(coll);
    }
    for (size_t from = 0; st == STORE_OK && from < count; from += WRITE_CHUNK)
        st = delete_chunk(b, w, names, from,
                          count - from > WRITE_CHUNK ? from + WRITE_CHUNK : count);
    for (size_t i = 0; i < count; i++)
        free(names[i]);
    free(names);
    bson_destroy(&opts);
    bson_destroy(&filter);
    return st;
}

/* The chain's head in a counter document (none: an empty log, or one
 * written before the chain). */
static void head_read(const bson_t *counter, org_log *log)
{
    bson_iter_t it;
    const uint8_t *bin = NULL;
    uint32_t len = 0;
    bson_subtype_t sub;
    log->head_position = log->head_seq = 0;
    log->head_hashed = false;
    if (bson_iter_init(&it, counter) && bson_iter_find_descendant(&it, "chain.position", &it) &&
        BSON_ITER_HOLDS_NUMBER(&it))
        log->head_position = bson_iter_as_int64(&it);
    if (bson_iter_init(&it, counter) && bson_iter_find_descendant(&it, "chain.seq", &it) &&
        BSON_ITER_HOLDS_NUMBER(&it))
        log->head_seq = bson_iter_as_int64(&it);
    if (bson_iter_init(&it, counter) && bson_iter_find_descendant(&it, "chain.hash", &it) &&
        BSON_ITER_HOLDS_BINARY(&it)) {
        bson_iter_binary(&it, &sub, &len, &bin);
        if ((log->head_hashed = len == AUDIT_HASH_LEN))
            memcpy(log->head_hash, bin, AUDIT_HASH_LEN);
    }
}

/* Moves org's counter on by n (a real write even when n is 0: claims grows
 * too) and sets *last to the new seq; head (NULL: not wanted) gets the
 * chain's head the counter keeps. */
static store_status counter_move(batch *b, const char *org, int64_t n, int64_t *last, org_log *head)
{
    char id[160];
    bson_t query = BSON_INITIALIZER, update = BSON_INITIALIZER, inc, extra,
           reply = BSON_INITIALIZER;
    bson_iter_t it;
    bson_error_t e;
    store_status st;
    snprintf(id, sizeof id, AUDIT_COLLECTION "/%s", org);
    BSON_APPEND_UTF8(&query, "_id", id);
    BSON_APPEND_DOCUMENT_BEGIN(&update, "$inc", &inc);
    BSON_APPEND_INT64(&inc, "seq", n);
    BSON_APPEND_INT64(&inc, "claims", 1);
    bson_append_document_end(&update, &inc);
    mongoc_find_and_modify_opts_t *fam = mongoc_find_and_modify_opts_new();
    mongoc_find_and_modify_opts_set_update(fam, &update);
    mongoc_find_and_modify_opts_set_flags(fam, MONGOC_FIND_AND_MODIFY_UPSERT |
                                                   MONGOC_FIND_AND_MODIFY_RETURN_NEW);
    if ((st = txn_opts(b, &extra)) == STORE_OK && !mongoc_find_and_modify_opts_append(fam, &extra))
        st = STORE_INTERNAL;
    if (st == STORE_OK) {
        mongoc_collection_t *coll = collection_of(b, COUNTERS_COLLECTION);
        if (!mongoc_collection_find_and_modify_with_opts(coll, &query, fam, &reply, &e)) {
            st = failure(b, &reply, &e);
        } else if (bson_iter_init(&it, &reply) &&
                   bson_iter_find_descendant(&it, "value.seq", &it) &&
                   BSON_ITER_HOLDS_NUMBER(&it)) {
            *last = bson_iter_as_int64(&it);
            bson_t value;
            const uint8_t *data;
            uint32_t len;
            if (head && bson_iter_init_find(&it, &reply, "value") &&
                BSON_ITER_HOLDS_DOCUMENT(&it)) {
                bson_iter_document(&it, &len, &data);
                if (bson_init_static(&value, data, len))
                    head_read(&value, head);
            }
        } else {
            st = STORE_INTERNAL;
        }
        mongoc_collection_destroy(coll);
    }
    mongoc_find_and_modify_opts_destroy(fam);
    bson_destroy(&extra);
    bson_destroy(&reply);
    bson_destroy(&update);
    bson_destroy(&query);
    return st;
}

static org_log *org_log_of(batch *b, const char *org)
{
    for (size_t i = 0; i < b->n_orgs; i++)
        if (strcmp(b->orgs[i].org, org) == 0)
            return &b->orgs[i];
    return NULL;
}

/* Chains the events of log's organization that the counter's head does not
 * cover yet (seq in (head_seq, next)): those of a release before the chain,
 * or of one still running beside this one during an upgrade. In the
 * batch's transaction, which holds the counter: nobody appends meanwhile. */
static store_status chain_backfill(batch *b, org_log *log)
{
    bson_t filter = BSON_INITIALIZER, opts, range, sort;
    const bson_t *doc, *reply = NULL;
    bson_error_t e;
    typedef struct {
        char *id;
        int64_t position;
        uint8_t hash[AUDIT_HASH_LEN];
    } link;
    link *links = NULL;
    size_t n = 0, cap = 0;
    BSON_APPEND_UTF8(&filter, "org", log->org);
    BSON_APPEND_DOCUMENT_BEGIN(&filter, "seq", &range);
    BSON_APPEND_INT64(&range, "$gt", log->head_seq);
    BSON_APPEND_INT64(&range, "$lt", log->next);
    bson_append_document_end(&filter, &range);
    mongo_audit_filter_confirmed(&filter);
    store_status st = txn_opts(b, &opts);
    if (st == STORE_OK) {
        BSON_APPEND_DOCUMENT_BEGIN(&opts, "sort", &sort);
        BSON_APPEND_INT32(&sort, "seq", 1);
        bson_append_document_end(&opts, &sort);
        mongoc_collection_t *coll = collection_of(b, AUDIT_COLLECTION);
        mongoc_cursor_t *cur = mongoc_collection_find_with_opts(coll, &filter, &opts, NULL);
        while (st == STORE_OK && mongoc_cursor_next(cur, &doc)) {
            store_audit_event ev;
            bson_iter_t it;
            if (n == cap) {
                link *grown = realloc(links, (cap ? 2 * cap : 64) * sizeof *grown);
                if (!grown) {
                    st = STORE_INTERNAL;
                    break;
                }
                links = grown;
                cap = cap ? 2 * cap : 64;
            }
            if (!mongo_audit_event_read(doc, &ev)) {
                st = STORE_INTERNAL;
                break;
            }
            ev.position = links[n].position = log->head_position + 1;
            audit_chain_hash_event(&ev, log->head_hashed ? log->head_hash : NULL, links[n].hash);
            store_audit_event_clear(&ev);
            if (!bson_iter_init_find(&it, doc, "_id") || !BSON_ITER_HOLDS_UTF8(&it) ||
                !(links[n].id = strdup(bson_iter_utf8(&it, NULL)))) {
                st = STORE_INTERNAL;
                break;
            }
            log->head_position = links[n].position;
            memcpy(log->head_hash, links[n].hash, AUDIT_HASH_LEN);
            log->head_hashed = true;
            n++;
        }
        if (st == STORE_OK && mongoc_cursor_error_document(cur, &e, &reply))
            st = failure(b, reply, &e);
        mongoc_cursor_destroy(cur);
        mongoc_collection_destroy(coll);
    }
    for (size_t i = 0; st == STORE_OK && i < n; i++) {
        bson_t q = BSON_INITIALIZER, u = BSON_INITIALIZER, set;
        int64_t matched = 0;
        BSON_APPEND_UTF8(&q, "_id", links[i].id);
        BSON_APPEND_DOCUMENT_BEGIN(&u, "$set", &set);
        BSON_APPEND_INT64(&set, "position", links[i].position);
        BSON_APPEND_BINARY(&set, "hash", BSON_SUBTYPE_BINARY, links[i].hash, AUDIT_HASH_LEN);
        bson_append_document_end(&u, &set);
        st = update_statement(b, AUDIT_COLLECTION, &q, &u, &matched);
        bson_destroy(&u);
        bson_destroy(&q);
    }
    for (size_t i = 0; i < n; i++)
        free(links[i].id);
    free(links);
    bson_destroy(&opts);
    bson_destroy(&filter);
    /* every seq below next is now covered, those of unconfirmed events too */
    log->head_seq = log->next - 1;
    log->head_moved = true;
    return st;
}

/* Before its first write, the batch takes the counter of every organization
 * it has events for, with the seqs of the events it knows of (one per
 * create, update and delete; a delete-all's come at the end). Taking the
 * counter is a write: from then on every other writer of that log
 * conflicts, at its own first command. Taken at the end only, a long batch
 * (a delete-all) would conflict with every short one committed meanwhile,
 * run again and again, and could lose to them for ever. */
static store_status counters_take(batch *b)
{
    store_status st = STORE_OK;
    b->n_orgs = 0;
    for (size_t i = 0; st == STORE_OK && i <= b->n; i++) {
        const store_audit *ev = i < b->n ? b->writes[i].ev : b->lone_event;
        if (!ev || org_log_of(b, str_or_empty(ev->org)))
            continue;
        const char *org = str_or_empty(ev->org);
        int64_t known = b->lone_event && strcmp(str_or_empty(b->lone_event->org), org) == 0;
        for (size_t j = i; j < b->n; j++)
            known += b->writes[j].ev && b->writes[j].kind != STORE_WRITE_DELETE_ALL &&
                     strcmp(str_or_empty(b->writes[j].ev->org), org) == 0;
        if (b->n_orgs == b->cap_orgs) {
            size_t cap = b->cap_orgs ? b->cap_orgs * 2 : 4;
            org_log *grown = realloc(b->orgs, cap * sizeof *grown);
            if (!grown)
                return STORE_INTERNAL;
            b->orgs = grown;
            b->cap_orgs = cap;
        }
        int64_t last = 0;
        org_log *log = &b->orgs[b->n_orgs];
        *log = (org_log){.org = org};
        if ((st = counter_move(b, org, known, &last, log)) == STORE_OK) {
            log->next = last - known + 1;
            log->reserved = known;
            b->n_orgs++;
            if (log->head_seq < log->next - 1)
                st = chain_backfill(b, log);
        }
    }
    return st;
}

static void event_doc(const queued_event *p, int64_t seq, int64_t position,
                      const uint8_t hash[AUDIT_HASH_LEN], bson_t *doc)
{
    const store_audit *ev = p->ev;
    char id[160];
    snprintf(id, sizeof id, "%s/%lld", str_or_empty(ev->org), (long long)seq);
    bson_init(doc);
    BSON_APPEND_UTF8(doc, "_id", id);
    BSON_APPEND_UTF8(doc, "org", str_or_empty(ev->org));
    BSON_APPEND_INT64(doc, "seq", seq);
    BSON_APPEND_UTF8(doc, "collection", p->collection);
    BSON_APPEND_UTF8(doc, "resource", p->resource ? p->resource : str_or_empty(ev->resource));
    BSON_APPEND_UTF8(doc, "principal", str_or_empty(ev->principal));
    BSON_APPEND_UTF8(doc, "principalOrg", str_or_empty(ev->principal_org));
    BSON_APPEND_UTF8(doc, "role", str_or_empty(ev->role));
    BSON_APPEND_UTF8(doc, "method", str_or_empty(ev->method));
    BSON_APPEND_UTF8(doc, "requestId", str_or_empty(ev->request_id));
    BSON_APPEND_INT64(doc, "versionBefore", p->version_before);
    BSON_APPEND_INT64(doc, "versionAfter", p->version_after);
    BSON_APPEND_DATE_TIME(doc, "time", ev->time_us / 1000);
    BSON_APPEND_INT64(doc, "timeUs", ev->time_us);
    BSON_APPEND_INT64(doc, "position", position);
    BSON_APPEND_BINARY(doc, "hash", BSON_SUBTYPE_BINARY, hash, AUDIT_HASH_LEN);
}

/* Stores the chain's new head in log's counter. */
static store_status head_store(batch *b, const org_log *log)
{
    char id[160];
    bson_t q = BSON_INITIALIZER, u = BSON_INITIALIZER, set, chain;
    int64_t matched = 0;
    snprintf(id, sizeof id, AUDIT_COLLECTION "/%s", log->org);
    BSON_APPEND_UTF8(&q, "_id", id);
    BSON_APPEND_DOCUMENT_BEGIN(&u, "$set", &set);
    BSON_APPEND_DOCUMENT_BEGIN(&set, "chain", &chain);
    BSON_APPEND_INT64(&chain, "position", log->head_position);
    BSON_APPEND_INT64(&chain, "seq", log->head_seq);
    if (log->head_hashed)
        BSON_APPEND_BINARY(&chain, "hash", BSON_SUBTYPE_BINARY, log->head_hash, AUDIT_HASH_LEN);
    bson_append_document_end(&set, &chain);
    bson_append_document_end(&u, &set);
    store_status st = update_statement(b, COUNTERS_COLLECTION, &q, &u, &matched);
    if (st == STORE_OK && matched != 1)
        st = STORE_INTERNAL; /* the batch took it at its start */
    bson_destroy(&u);
    bson_destroy(&q);
    return st;
}

/* Numbers the batch's events in their organizations' logs, in batch order,
 * and inserts them. The seqs follow on from those taken at the start: the
 * batch holds the counters, nobody took any in between. */
static store_status events_insert(batch *b)
{
    size_t n = b->n_events, made = 0;
    bson_t *docs = calloc(n + 1, sizeof *docs);
    const bson_t **ptrs = calloc(n + 1, sizeof *ptrs);
    store_status st = docs && ptrs ? STORE_OK : STORE_INTERNAL;
    for (; st == STORE_OK && made < n; made++) {
        org_log *log = org_log_of(b, str_or_empty(b->events[made].ev->org));
        if (!log) {
            st = STORE_INTERNAL;
            break;
        }
        const queued_event *p = &b->events[made];
        uint8_t hash[AUDIT_HASH_LEN];
        audit_chain_hash(p->ev, p->resource ? p->resource : str_or_empty(p->ev->resource),
                         p->version_before, p->version_after, log->head_position + 1,
                         log->head_hashed ? log->head_hash : NULL, hash);
        log->head_position++;
        log->head_seq = log->next;
        memcpy(log->head_hash, hash, AUDIT_HASH_LEN);
        log->head_hashed = log->head_moved = true;
        event_doc(p, log->next++, log->head_position, hash, &docs[made]);
        log->used++;
        ptrs[made] = &docs[made];
    }
    for (size_t i = 0; st == STORE_OK && i < b->n_orgs; i++) {
        org_log *log = &b->orgs[i];
        int64_t last = 0;
        if (log->used > log->reserved &&
            (st = counter_move(b, log->org, log->used - log->reserved, &last, NULL)) == STORE_OK &&
            last != log->next - 1)
            st = STORE_INTERNAL; /* someone moved the counter under the batch */
        if (st == STORE_OK && log->head_moved)
            st = head_store(b, log);
    }
    mongoc_collection_t *coll = collection_of(b, AUDIT_COLLECTION);
    for (size_t from = 0; st == STORE_OK && from < n; from += WRITE_CHUNK) {
        size_t count = n - from < WRITE_CHUNK ? n - from : WRITE_CHUNK;
        bson_t opts, reply = BSON_INITIALIZER;
        bson_error_t e;
        if ((st = txn_opts(b, &opts)) == STORE_OK &&
            !mongoc_collection_insert_many(coll, ptrs + from, count, &opts, &reply, &e))
            st = failure(b, &reply, &e);
        bson_destroy(&reply);
        bson_destroy(&opts);
    }
    mongoc_collection_destroy(coll);
    for (size_t i = 0; i < made; i++)
        bson_destroy(&docs[i]);
    free(ptrs);
    free(docs);
    return st;
}

/* A record's own outcome, which the batch reports at the write's index;
 * anything else is the batch's. */
static bool is_write_outcome(store_status st)
{
    return st == STORE_NOT_FOUND || st == STORE_ALREADY_EXISTS || st == STORE_CONFLICT;
}

/* The writes, in order, then their events: the body of one transaction. */
static store_status batch_body(batch *b)
{
    events_clear(b);
    b->failed = b->n;
    store_status st = counters_take(b);
    if (st == STORE_OK && b->lone_event)
        st = event_add(b, b->lone_event, "", NULL, b->lone_event->version_before,
                       b->lone_event->version_after)
                 ? STORE_OK
                 : STORE_INTERNAL;
    for (size_t i = 0; st == STORE_OK && i < b->n; i++) {
        const store_write *w = &b->writes[i];
        size_t end = i + 1, at = 0;
        switch (w->kind) {
        case STORE_WRITE_CREATE: /* with the creates after it in the same collection */
            while (end < b->n && end - i < WRITE_CHUNK &&
                   b->writes[end].kind == STORE_WRITE_CREATE &&
                   strcmp(b->writes[end].rec->collection, w->rec->collection) == 0)
                end++;
            st = creates_run(b, i, end, &at);
            break;
        case STORE_WRITE_UPDATE:
            st = update_run(b, w);
            break;
        case STORE_WRITE_DELETE:
            st = delete_run(b, w);
            break;
        case STORE_WRITE_GUARD:
            st = guard_run(b, w);
            break;
        case STORE_WRITE_DELETE_ALL:
            st = delete_all_run(b, w);
            break;
        default:
            st = STORE_INVALID;
        }
        if (st != STORE_OK && (is_write_outcome(st) || st == STORE_INVALID))
            b->failed = i + at;
        i = end - 1;
    }
    return st == STORE_OK ? events_insert(b) : st;
}

static int64_t backoff_us(int attempt)
{
    static _Thread_local uint64_t seed;
    if (!seed)
        seed = (uint64_t)clock_monotonic_us() ^ (uint64_t)(uintptr_t)&seed;
    seed ^= seed << 13;
    seed ^= seed >> 7;
    seed ^= seed << 17;
    int64_t cap = 500LL << (attempt < 7 ? attempt : 7);
    cap = cap < BACKOFF_MAX_US ? cap : BACKOFF_MAX_US;
    return cap / 2 + (int64_t)(seed % (uint64_t)(cap / 2 + 1));
}

/* Commits the transaction batch_attempt ran; passes the commit gate. */
static store_status commit(batch *b)
{
    bson_t reply;
    bson_error_t e;
    for (int retry = 0;; retry++) {
        if (mongoc_client_session_commit_transaction(b->session, &reply, &e)) {
            bson_destroy(&reply);
            return STORE_OK;
        }
        bool unknown = mongoc_error_has_label(&reply, "UnknownTransactionCommitResult");
        store_status st = failure(b, &reply, &e);
        bson_destroy(&reply);
        if (b->transient)
            return st; /* it did not commit: the whole transaction runs again */
        if (!unknown)
            return st;
        /* The outcome is unknown: committing again is safe (libmongoc sends
         * the retry with w:majority), and only that can tell. */
        int64_t left = b->give_up_us - clock_monotonic_us();
        if (e.domain == MONGOC_ERROR_STREAM || e.domain == MONGOC_ERROR_SERVER_SELECTION ||
            left <= 0)
            return STORE_UNAVAILABLE; /* maybe written: never DEADLINE_EXCEEDED */
        int64_t pause = backoff_us(retry);
        sleep_us(pause < left ? pause : left);
    }
}

/* One run of the transaction: body, then commit. */
static store_status batch_attempt(batch *b)
{
    bson_error_t e;
    store_status st;
    b->transient = false;
    mongoc_transaction_opt_t *topts = mongoc_transaction_opts_new();
    mongoc_transaction_opts_set_read_concern(topts, b->ms->snapshot);
    int64_t left = mongo_ms_left(b->deadline_us);
    if (left > 0)
        mongoc_transaction_opts_set_max_commit_time_ms(topts, left);
    bool started = left != 0 && mongoc_client_session_start_transaction(b->session, topts, &e);
    mongoc_transaction_opts_destroy(topts);
    if (!started)
        return left == 0 ? STORE_DEADLINE_EXCEEDED : mongo_status_of_error(&e);
    st = batch_body(b);
    if (st == STORE_OK && passed(b->deadline_us))
        st = STORE_DEADLINE_EXCEEDED;
    if (st == STORE_OK && !gate_enter(&b->ms->gate))
        st = STORE_UNAVAILABLE; /* the server is stopping: nothing commits now */
    if (st != STORE_OK) {
        mongoc_client_session_abort_transaction(b->session, NULL); /* nothing was written */
        return st;
    }
    st = commit(b);
    gate_leave(&b->ms->gate);
    return st;
}

/* The transaction, run again after a transient failure while time is left. */
static store_status batch_run(batch *b)
{
    b->give_up_us = b->deadline_us ? b->deadline_us : clock_monotonic_us() + TXN_RETRY_US;
    for (int attempt = 0;; attempt++) {
        store_status st = batch_attempt(b);
        if (st == STORE_OK || !b->transient || gate_is_closed(&b->ms->gate))
            return st;
        int64_t left = b->give_up_us - clock_monotonic_us();
        if (left <= 0)
            return b->deadline_us ? STORE_DEADLINE_EXCEEDED : st;
        int64_t pause = backoff_us(attempt);
        sleep_us(pause < left ? pause : left);
    }
}

static store_status batch_apply(mongo_store *ms, batch *b)
{
    bson_error_t e;
    store_status st = STORE_OK;
    b->ms = ms;
    b->failed = b->n;
    for (size_t i = 0; i < b->n; i++) {
        const store_write *w = &b->writes[i];
        if ((w->kind == STORE_WRITE_CREATE || w->kind == STORE_WRITE_UPDATE) && w->rec &&
            !mongo_facets_storable(w->rec)) {
            b->failed = i;
            return STORE_INVALID;
        }
    }
    for (size_t i = 0; i < b->n; i++) {
        const store_audit *ev = b->writes[i].ev;
        if (ev && ev->deadline_us && (!b->deadline_us || ev->deadline_us < b->deadline_us))
            b->deadline_us = ev->deadline_us;
    }
    if (b->lone_event)
        b->deadline_us = b->lone_event->deadline_us;
    if (passed(b->deadline_us))
        return STORE_DEADLINE_EXCEEDED;
    /* this server's writers of one organization take turns (org_turns.h),
     * before they hold a pooled client */
    org_turn_set turns = {0};
    for (size_t i = 0; i <= b->n; i++) {
        const store_audit *ev = i < b->n ? b->writes[i].ev : b->lone_event;
        if (ev)
            org_turn_set_add(&turns, str_or_empty(ev->org));
    }
    if (!org_turns_take(&ms->turns, &turns, b->deadline_us))
        return STORE_DEADLINE_EXCEEDED;
    b->client = client_pop(ms, b->deadline_us);
    if (!b->client) {
        org_turns_give(&ms->turns, &turns);
        return STORE_DEADLINE_EXCEEDED;
    }
    /* indexes first: a unique lookup must hold from the first insert, and
     * createIndexes is not for inside a transaction */
    for (size_t i = 0; st == STORE_OK && i < b->n; i++)
        if (b->writes[i].kind == STORE_WRITE_CREATE)
            st = mongo_indexes_ensure(ms, b->client, b->writes[i].rec->collection, b->deadline_us);
    if (st == STORE_OK) {
        b->session = mongoc_client_start_session(b->client, NULL, &e);
        st = b->session ? batch_run(b) : mongo_status_of_error(&e);
    }
    if (b->session)
        mongoc_client_session_destroy(b->session);
    mongoc_client_pool_push(ms->pool, b->client);
    org_turns_give(&ms->turns, &turns);
    events_clear(b);
    free(b->events);
    free(b->orgs);
    return st;
}

store_status mongo_apply(void *impl, const store_write *writes, size_t n, size_t *failed)
{
    batch b = {.writes = writes, .n = n};
    store_status st = batch_apply(impl, &b);
    if (st != STORE_OK && failed)
        *failed = b.failed;
    return st;
}

/* An exported event at the end of its organization's log: numbered and
 * inserted in one transaction, like the events of a batch. */
store_status mongo_append_audit(void *impl, const store_audit *ev)
{
    batch b = {.lone_event = ev};
    return batch_apply(impl, &b);
}
