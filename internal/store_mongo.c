/* store_mongo.c — the MongoDB backend of the storage contract (see store.h).
 *
 * Owns: the document shape in MongoDB, its indexes, the client pool, the
 * write protocol with its audit events, and the mapping of libmongoc errors
 * onto store_status.
 *
 * Documents. One collection per resource kind (the contract's collection),
 * one for audit events ("auditEvents") and one for their per-organization
 * sequence counters ("counters"). A resource is stored as the converter's
 * document with the store's columns in front, all starting with '_':
 *   {_id: name, _org, _parent, _state?, _lookup?, _version: int64,
 *    _audit: the audit event that wrote this version,
 *    _created: the audit event that created the resource, ...fields}
 * so a person or a BI tool reads it as the resource itself. Indexes (created
 * at open for the known kinds, on first use for others, idempotently):
 * (_org, _parent, _id) and (_org, _parent, _state, _id) for a tenant's keyset
 * lists; (_parent, _id) for the platform-wide list of organizations; unique
 * (_lookup) where it exists. The lookup index cannot lead with the tenant: a
 * bearer token is looked up before its organization is known (the apiKeys
 * collection is small and stays unsharded). Audit events:
 *   {_id: "<org>/<seq>", org, seq: int64, collection, resource, incarnation,
 *    principal, principalOrg, role, method, requestId, versionBefore,
 *    versionAfter, time: date,
 *    timeUs: int64, state: committed | pending | aborted | orphaned}
 * with a unique (org, seq) index. seq comes from a counter per organization,
 * so it is dense: a reader can tell a missing event from a late one.
 *
 * Writes. Every write runs the same steps (write_steps): an update or delete
 * first reads the version it replaces (refusing NOT_FOUND and CONFLICT
 * before anything is written), then the audit event is inserted, then the
 * resource is written conditionally on that version. On a replica set or
 * mongos (detected at open) the steps are one transaction, retried by
 * libmongoc's with_transaction on transient errors (the failing reply
 * carries the labels it reads), never after the call's deadline.
 *
 * On a standalone server there are no transactions, and the order keeps the
 * guarantee: the event goes in first as pending, then the resource, then the
 * event is marked committed (aborted when the write definitely failed). A
 * crash in between can leave a pending event for a write that did not
 * happen, never a write without its event. Readers resolve pending events
 * exactly: each resource document names the event that wrote its version
 * (_audit) and the event that created it (_created, its incarnation), and a
 * write marks the event of the version it replaces committed before it
 * writes. So a pending create or update happened iff its resource names it,
 * and a pending delete happened iff the incarnation it deleted is gone. A
 * pending event that did not happen is held back while its write may still
 * be in flight (STABLE_AFTER_US, by the writer's clock: keep hosts in NTP
 * sync) and marked orphaned after that. One case stays ambiguous: a crash
 * between a delete's event and its delete while another writer deletes the
 * same resource records the deletion twice.
 *
 * Optimistic concurrency: update and delete match {_id, _org, _version}; no
 * match is CONFLICT when the resource still exists, NOT_FOUND otherwise.
 * Writes use the URI's write concern, by default w:majority with journal;
 * the reads of a write and the audit log are read with read concern
 * majority.
 *
 * Failures: server selection, network and "not primary" errors, and write
 * concern errors are STORE_UNAVAILABLE (bounded by serverSelectionTimeoutMS
 * and socketTimeoutMS, which default to 2000 and 5000 ms unless the URI sets
 * them); the pool reconnects by itself when the server is back.
 *
 * Threads: one mongoc_client_pool_t; each call pops a client and pushes it
 * back. The set of collections with indexes is guarded by idx_mu.
 */
#include <mongoc/mongoc.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "clock.h"
#include "store.h"

#define AUDIT_COLLECTION "auditEvents"
#define COUNTERS_COLLECTION "counters"
#define DEFAULT_DATABASE "supplysec"
#define STABLE_AFTER_US (60 * 1000000LL)
#define DEFAULT_SELECTION_TIMEOUT_MS 2000
#define DEFAULT_CONNECT_TIMEOUT_MS 2000
#define DEFAULT_SOCKET_TIMEOUT_MS 5000
#define MAX_INDEXED 256

typedef struct mongo_store {
    mongoc_client_pool_t *pool;
    mongoc_uri_t *uri;
    char db[64];
    bool transactions;
    char mode[256];
    mongoc_read_concern_t *majority;
    pthread_mutex_t idx_mu;
    char *indexed[MAX_INDEXED]; /* collections whose indexes exist */
    size_t n_indexed;
} mongo_store;

static pthread_once_t mongoc_once = PTHREAD_ONCE_INIT;

/* libmongoc's log, warnings and errors only, into the server's log. */
static void mongo_log(mongoc_log_level_t level, const char *domain, const char *message, void *user)
{
    (void)user;
    if (level <= MONGOC_LOG_LEVEL_WARNING)
        store_log(level <= MONGOC_LOG_LEVEL_ERROR, domain, message);
}

static void mongo_init(void)
{
    mongoc_log_set_handler(mongo_log, NULL);
    mongoc_init();
}

/* ---- errors ---- */

static bool is_duplicate(const bson_error_t *e)
{
    return e->code == 11000 || e->code == 11001;
}

static store_status status_of_error(const bson_error_t *e)
{
    if (is_duplicate(e))
        return STORE_ALREADY_EXISTS;
    if (e->domain == MONGOC_ERROR_SERVER_SELECTION || e->domain == MONGOC_ERROR_STREAM ||
        e->domain == MONGOC_ERROR_WRITE_CONCERN)
        return STORE_UNAVAILABLE;
    switch (e->code) {
    case 6:     /* HostUnreachable */
    case 7:     /* HostNotFound */
    case 89:    /* NetworkTimeout */
    case 91:    /* ShutdownInProgress */
    case 189:   /* PrimarySteppedDown */
    case 262:   /* ExceededTimeLimit */
    case 9001:  /* SocketException */
    case 10107: /* NotWritablePrimary */
    case 11600: /* InterruptedAtShutdown */
    case 11602: /* InterruptedDueToReplStateChange */
    case 13435: /* NotPrimaryNoSecondaryOk */
    case 13436: /* NotPrimaryOrSecondary */
    case 64:    /* WriteConcernFailed */
    case 112:   /* WriteConflict: retried inside transactions, else the caller retries */
    case 251:   /* NoSuchTransaction */
        return STORE_UNAVAILABLE;
    default:
        return STORE_INTERNAL;
    }
}

/* ---- documents ---- */

/* The stored document: the store's columns, then the resource's fields.
 * audit: the event that writes this version; created: the event that
 * created the resource (its incarnation). */
static bool doc_wrap(const store_record *rec, const char *audit, const char *created, bson_t *out)
{
    bson_t body;
    bson_init(out);
    if (!bson_init_static(&body, rec->doc, rec->doc_len))
        return false;
    return BSON_APPEND_UTF8(out, "_id", rec->name) && BSON_APPEND_UTF8(out, "_org", rec->org) &&
           BSON_APPEND_UTF8(out, "_parent", rec->parent) &&
           (!rec->state || !rec->state[0] || BSON_APPEND_UTF8(out, "_state", rec->state)) &&
           (!rec->lookup || !rec->lookup[0] || BSON_APPEND_UTF8(out, "_lookup", rec->lookup)) &&
           BSON_APPEND_INT64(out, "_version", rec->version) &&
           BSON_APPEND_UTF8(out, "_audit", audit) && BSON_APPEND_UTF8(out, "_created", created) &&
           bson_concat(out, &body);
}

static char *iter_strdup(const bson_iter_t *it)
{
    return BSON_ITER_HOLDS_UTF8(it) ? strdup(bson_iter_utf8(it, NULL)) : NULL;
}

/* Splits a stored document back into a record (owned by the caller). */
static store_status record_unwrap(const bson_t *d, const char *collection, store_record **out)
{
    store_record *r = calloc(1, sizeof *r);
    bson_t body = BSON_INITIALIZER;
    bson_iter_t it;
    bool ok = r && bson_iter_init(&it, d) && (r->collection = strdup(collection));
    while (ok && bson_iter_next(&it)) {
        const char *key = bson_iter_key(&it);
        if (key[0] != '_')
            ok = bson_append_iter(&body, key, -1, &it);
        else if (strcmp(key, "_id") == 0)
            ok = (r->name = iter_strdup(&it)) != NULL;
        else if (strcmp(key, "_org") == 0)
            ok = (r->org = iter_strdup(&it)) != NULL;
        else if (strcmp(key, "_parent") == 0)
            ok = (r->parent = iter_strdup(&it)) != NULL;
        else if (strcmp(key, "_state") == 0)
            ok = (r->state = iter_strdup(&it)) != NULL;
        else if (strcmp(key, "_lookup") == 0)
            ok = (r->lookup = iter_strdup(&it)) != NULL;
        else if (strcmp(key, "_version") == 0)
            r->version = bson_iter_as_int64(&it);
    }
    if (ok && r->name && r->org && r->parent) {
        r->doc_len = body.len;
        ok = (r->doc = malloc(body.len)) != NULL;
        if (ok)
            memcpy(r->doc, bson_get_data(&body), body.len);
    } else {
        ok = false;
    }
    bson_destroy(&body);
    if (!ok) {
        store_record_free(r);
        return STORE_INTERNAL;
    }
    *out = r;
    return STORE_OK;
}

/* ---- indexes ---- */

static bool index_append(bson_t *indexes, int i, const char *name, bool unique,
                         const char *partial_field, int nkeys, ...)
{
    bson_t index, key;
    char idx[16];
    const char *k;
    va_list ap;
    bson_uint32_to_string((uint32_t)i, &k, idx, sizeof idx);
    BSON_APPEND_DOCUMENT_BEGIN(indexes, k, &index);
    BSON_APPEND_DOCUMENT_BEGIN(&index, "key", &key);
    va_start(ap, nkeys);
    for (int j = 0; j < nkeys; j++) {
        const char *field = va_arg(ap, const char *); /* the macro reads its key twice */
        BSON_APPEND_INT32(&key, field, 1);
    }
    va_end(ap);
    bson_append_document_end(&index, &key);
    BSON_APPEND_UTF8(&index, "name", name);
    if (unique)
        BSON_APPEND_BOOL(&index, "unique", true);
    if (partial_field) {
        bson_t pfe, exists;
        BSON_APPEND_DOCUMENT_BEGIN(&index, "partialFilterExpression", &pfe);
        BSON_APPEND_DOCUMENT_BEGIN(&pfe, partial_field, &exists);
        BSON_APPEND_BOOL(&exists, "$exists", true);
        bson_append_document_end(&pfe, &exists);
        bson_append_document_end(&index, &pfe);
    }
    return bson_append_document_end(indexes, &index);
}

static store_status indexes_create(mongo_store *ms, mongoc_client_t *client, const char *coll,
                                   char **err)
{
    bson_t cmd = BSON_INITIALIZER, indexes;
    bson_error_t e;
    BSON_APPEND_UTF8(&cmd, "createIndexes", coll);
    BSON_APPEND_ARRAY_BEGIN(&cmd, "indexes", &indexes);
    if (strcmp(coll, AUDIT_COLLECTION) == 0) {
        index_append(&indexes, 0, "org_seq", true, NULL, 2, "org", "seq");
    } else {
        index_append(&indexes, 0, "org_parent_id", false, NULL, 3, "_org", "_parent", "_id");
        index_append(&indexes, 1, "org_parent_state_id", false, NULL, 4, "_org", "_parent",
                     "_state", "_id");
        index_append(&indexes, 2, "parent_id", false, NULL, 2, "_parent", "_id");
        index_append(&indexes, 3, "lookup", true, "_lookup", 1, "_lookup");
    }
    bson_append_array_end(&cmd, &indexes);
    bool ok = mongoc_client_write_command_with_opts(client, ms->db, &cmd, NULL, NULL, &e);
    bson_destroy(&cmd);
    if (!ok) {
        store_set_err(err, "cannot create the indexes of %s.%s: %s", ms->db, coll, e.message);
        return status_of_error(&e);
    }
    return STORE_OK;
}

/* Creates coll's indexes once per process (createIndexes is idempotent). */
/* Whether coll's indexes were made by this process; call with idx_mu held. */
static bool indexes_known(const mongo_store *ms, const char *coll)
{
    for (size_t i = 0; i < ms->n_indexed; i++)
        if (strcmp(ms->indexed[i], coll) == 0)
            return true;
    return false;
}

/* Creates coll's indexes once per process (createIndexes is idempotent, so
 * two threads racing to the first write of a collection are harmless). */
static store_status indexes_ensure(mongo_store *ms, mongoc_client_t *client, const char *coll)
{
    pthread_mutex_lock(&ms->idx_mu);
    bool known = indexes_known(ms, coll);
    pthread_mutex_unlock(&ms->idx_mu);
    if (known)
        return STORE_OK;
    store_status st = indexes_create(ms, client, coll, NULL);
    if (st != STORE_OK)
        return st;
    pthread_mutex_lock(&ms->idx_mu);
    if (!indexes_known(ms, coll)) {
        char *copy = ms->n_indexed < MAX_INDEXED ? strdup(coll) : NULL;
        if (copy)
            ms->indexed[ms->n_indexed++] = copy;
        else
            st = STORE_INTERNAL; /* more resource kinds than the store was built for */
    }
    pthread_mutex_unlock(&ms->idx_mu);
    return st;
}

/* ---- opening ---- */

static void uri_default_int(mongoc_uri_t *uri, const char *option, int32_t value)
{
    if (!mongoc_uri_has_option(uri, option))
        mongoc_uri_set_option_as_int32(uri, option, value);
}

/* Replica set or mongos: transactions. Fills ms->mode for the start-up log. */
static store_status mode_detect(mongo_store *ms, mongoc_client_t *client, char **err)
{
    bson_t cmd = BSON_INITIALIZER, reply;
    bson_error_t e;
    bson_iter_t it;
    BSON_APPEND_INT32(&cmd, "hello", 1);
    bool ok = mongoc_client_command_simple(client, "admin", &cmd, NULL, &reply, &e);
    bson_destroy(&cmd);
    if (!ok) {
        bson_destroy(&reply);
        store_set_err(err, "cannot reach MongoDB: %s", e.message);
        return status_of_error(&e);
    }
    bool rs = bson_iter_init_find(&it, &reply, "setName");
    bool mongos = bson_iter_init_find(&it, &reply, "msg") && BSON_ITER_HOLDS_UTF8(&it) &&
                  strcmp(bson_iter_utf8(&it, NULL), "isdbgrid") == 0;
    bson_destroy(&reply);
    ms->transactions = rs || mongos;
    snprintf(ms->mode, sizeof ms->mode,
             ms->transactions
                 ? "mongodb %s: each write and its audit event in one transaction"
                 : "mongodb %s: no transactions; each audit event is written before its write "
                   "and confirmed after, so a crash may leave an unconfirmed event (readers skip "
                   "it), never a write without its event",
             rs       ? "replica set"
             : mongos ? "mongos"
                      : "standalone");
    return STORE_OK;
}

static void mongo_close(void *impl)
{
    mongo_store *ms = impl;
    if (!ms)
        return;
    if (ms->pool)
        mongoc_client_pool_destroy(ms->pool);
    if (ms->uri)
        mongoc_uri_destroy(ms->uri);
    if (ms->majority)
        mongoc_read_concern_destroy(ms->majority);
    for (size_t i = 0; i < ms->n_indexed; i++)
        free(ms->indexed[i]);
    pthread_mutex_destroy(&ms->idx_mu);
    free(ms);
}

static store_status mongo_open(const char *uri_str, int workers, void **impl, char **err)
{
    bson_error_t e;
    store_status st = STORE_INVALID;
    (void)workers; /* the pool grows on demand up to the URI's maxPoolSize */
    pthread_once(&mongoc_once, mongo_init);
    mongo_store *ms = calloc(1, sizeof *ms);
    if (!ms) {
        store_set_err(err, "out of memory");
        return STORE_INTERNAL;
    }
    pthread_mutex_init(&ms->idx_mu, NULL);
    ms->uri = mongoc_uri_new_with_error(uri_str, &e);
    if (!ms->uri) {
        store_set_err(err, "invalid MongoDB URI: %s", e.message);
        goto fail;
    }
    uri_default_int(ms->uri, MONGOC_URI_SERVERSELECTIONTIMEOUTMS, DEFAULT_SELECTION_TIMEOUT_MS);
    uri_default_int(ms->uri, MONGOC_URI_CONNECTTIMEOUTMS, DEFAULT_CONNECT_TIMEOUT_MS);
    uri_default_int(ms->uri, MONGOC_URI_SOCKETTIMEOUTMS, DEFAULT_SOCKET_TIMEOUT_MS);
    if (mongoc_write_concern_get_w(mongoc_uri_get_write_concern(ms->uri)) ==
        MONGOC_WRITE_CONCERN_W_DEFAULT) {
        mongoc_write_concern_t *wc = mongoc_write_concern_new();
        mongoc_write_concern_set_w(wc, MONGOC_WRITE_CONCERN_W_MAJORITY);
        mongoc_write_concern_set_journal(wc, true);
        mongoc_uri_set_write_concern(ms->uri, wc);
        mongoc_write_concern_destroy(wc);
    }
    const char *db = mongoc_uri_get_database(ms->uri);
    snprintf(ms->db, sizeof ms->db, "%s", db && db[0] ? db : DEFAULT_DATABASE);
    ms->majority = mongoc_read_concern_new();
    mongoc_read_concern_set_level(ms->majority, MONGOC_READ_CONCERN_LEVEL_MAJORITY);
    ms->pool = mongoc_client_pool_new(ms->uri);
    if (!ms->pool) {
        store_set_err(err, "cannot create a MongoDB client pool");
        goto fail;
    }
    mongoc_client_pool_set_error_api(ms->pool, MONGOC_ERROR_API_VERSION_2);
    if (!mongoc_uri_get_appname(ms->uri))
        mongoc_client_pool_set_appname(ms->pool, "supplysecd");
    mongoc_client_t *client = mongoc_client_pool_pop(ms->pool);
    st = mode_detect(ms, client, err);
    const char *known[] = {"organizations", "apiKeys", AUDIT_COLLECTION};
    for (size_t i = 0; st == STORE_OK && i < sizeof known / sizeof *known; i++)
        if ((st = indexes_create(ms, client, known[i], err)) == STORE_OK)
            ms->indexed[ms->n_indexed++] = strdup(known[i]);
    mongoc_client_pool_push(ms->pool, client);
    if (st != STORE_OK)
        goto fail;
    *impl = ms;
    return STORE_OK;
fail:
    mongo_close(ms);
    return st;
}

static const char *mongo_describe(void *impl)
{
    return ((mongo_store *)impl)->mode;
}

static store_status mongo_ping(void *impl)
{
    mongo_store *ms = impl;
    bson_t cmd = BSON_INITIALIZER;
    bson_error_t e;
    BSON_APPEND_INT32(&cmd, "ping", 1);
    mongoc_client_t *client = mongoc_client_pool_pop(ms->pool);
    bool ok = mongoc_client_command_simple(client, "admin", &cmd, NULL, NULL, &e);
    mongoc_client_pool_push(ms->pool, client);
    bson_destroy(&cmd);
    return ok ? STORE_OK : status_of_error(&e);
}

/* ---- writes ---- */

typedef enum write_kind { WRITE_CREATE, WRITE_UPDATE, WRITE_DELETE } write_kind;

/* One write in progress. */
typedef struct write_op {
    mongo_store *ms;
    mongoc_client_t *client;
    mongoc_client_session_t *session; /* NULL on a standalone server */
    write_kind kind;
    const store_record *rec; /* create, update */
    const char *collection, *org, *name;
    int64_t expected_version;
    const store_audit *ev;
    char audit_id[160];     /* this write's event */
    int64_t version_before; /* the version replaced or deleted, as read */
    char prev_audit[160];   /* the event that wrote that version */
    char created[160];      /* the event that created the resource: its incarnation */
    bson_t *error_reply;    /* in a transaction: the failing reply, with its retry labels */
} write_op;

/* Options carrying the session (when there is one). */
static bool op_opts(write_op *op, bson_t *opts, bson_error_t *e)
{
    bson_init(opts);
    return !op->session || mongoc_client_session_append(op->session, opts, e);
}

static mongoc_collection_t *op_collection(write_op *op, const char *name)
{
    return mongoc_client_get_collection(op->client, op->ms->db, name);
}

/* Keeps a failing server reply for with_transaction, which reads its
 * TransientTransactionError / UnknownTransactionCommitResult labels. */
static void op_keep_reply(write_op *op, const bson_t *reply)
{
    if (!op->session || !reply || bson_empty(reply))
        return;
    if (op->error_reply)
        bson_destroy(op->error_reply);
    op->error_reply = bson_copy(reply);
}

static void copy_str_field(const bson_t *doc, const char *key, char *out, size_t size)
{
    bson_iter_t it;
    if (bson_iter_init_find(&it, doc, key) && BSON_ITER_HOLDS_UTF8(&it))
        snprintf(out, size, "%s", bson_iter_utf8(&it, NULL));
    else
        out[0] = '\0';
}

/* The next audit sequence number of the event's organization. */
static bool seq_next(write_op *op, int64_t *seq, bson_error_t *e)
{
    char id[128];
    bson_t query = BSON_INITIALIZER, update = BSON_INITIALIZER, inc, reply = BSON_INITIALIZER,
           extra = BSON_INITIALIZER;
    bson_iter_t it;
    snprintf(id, sizeof id, AUDIT_COLLECTION "/%s", op->ev->org ? op->ev->org : "");
    BSON_APPEND_UTF8(&query, "_id", id);
    BSON_APPEND_DOCUMENT_BEGIN(&update, "$inc", &inc);
    BSON_APPEND_INT64(&inc, "seq", 1);
    bson_append_document_end(&update, &inc);
    mongoc_find_and_modify_opts_t *fam = mongoc_find_and_modify_opts_new();
    mongoc_find_and_modify_opts_set_update(fam, &update);
    mongoc_find_and_modify_opts_set_flags(fam, MONGOC_FIND_AND_MODIFY_UPSERT |
                                                   MONGOC_FIND_AND_MODIFY_RETURN_NEW);
    /* op_opts and find_and_modify (re)initialise extra and reply */
    bool ok = op_opts(op, &extra, e) && mongoc_find_and_modify_opts_append(fam, &extra);
    mongoc_collection_t *coll = op_collection(op, COUNTERS_COLLECTION);
    ok = ok && mongoc_collection_find_and_modify_with_opts(coll, &query, fam, &reply, e);
    if (!ok)
        op_keep_reply(op, &reply);
    else if (bson_iter_init(&it, &reply) && bson_iter_find_descendant(&it, "value.seq", &it) &&
             BSON_ITER_HOLDS_NUMBER(&it))
        *seq = bson_iter_as_int64(&it);
    else {
        ok = false;
        bson_set_error(e, MONGOC_ERROR_BSON, 0, "counter reply without value.seq");
    }
    bson_destroy(&reply);
    bson_destroy(&extra);
    mongoc_collection_destroy(coll);
    mongoc_find_and_modify_opts_destroy(fam);
    bson_destroy(&query);
    bson_destroy(&update);
    return ok;
}

/* Inserts the write's event in state `state`. */
static bool audit_insert(write_op *op, const char *state, bson_error_t *e)
{
    const store_audit *ev = op->ev;
    int64_t seq = 0;
    if (!seq_next(op, &seq, e))
        return false;
    snprintf(op->audit_id, sizeof op->audit_id, "%s/%lld", ev->org ? ev->org : "", (long long)seq);
    if (op->kind == WRITE_CREATE)
        snprintf(op->created, sizeof op->created, "%s", op->audit_id);
    bson_t doc = BSON_INITIALIZER, opts = BSON_INITIALIZER, reply = BSON_INITIALIZER;
    BSON_APPEND_UTF8(&doc, "_id", op->audit_id);
    BSON_APPEND_UTF8(&doc, "org", ev->org ? ev->org : "");
    BSON_APPEND_INT64(&doc, "seq", seq);
    BSON_APPEND_UTF8(&doc, "collection", op->collection);
    BSON_APPEND_UTF8(&doc, "resource", ev->resource ? ev->resource : "");
    BSON_APPEND_UTF8(&doc, "incarnation", op->created);
    BSON_APPEND_UTF8(&doc, "principal", ev->principal ? ev->principal : "");
    BSON_APPEND_UTF8(&doc, "principalOrg", ev->principal_org ? ev->principal_org : "");
    BSON_APPEND_UTF8(&doc, "role", ev->role ? ev->role : "");
    BSON_APPEND_UTF8(&doc, "method", ev->method ? ev->method : "");
    BSON_APPEND_UTF8(&doc, "requestId", ev->request_id ? ev->request_id : "");
    BSON_APPEND_INT64(&doc, "versionBefore", op->version_before);
    BSON_APPEND_INT64(&doc, "versionAfter", ev->version_after);
    BSON_APPEND_DATE_TIME(&doc, "time", ev->time_us / 1000);
    BSON_APPEND_INT64(&doc, "timeUs", ev->time_us);
    BSON_APPEND_UTF8(&doc, "state", state);
    mongoc_collection_t *coll = op_collection(op, AUDIT_COLLECTION);
    bool ok = op_opts(op, &opts, e) && mongoc_collection_insert_one(coll, &doc, &opts, &reply, e);
    if (!ok)
        op_keep_reply(op, &reply);
    mongoc_collection_destroy(coll);
    bson_destroy(&reply);
    bson_destroy(&opts);
    bson_destroy(&doc);
    return ok;
}

/* Moves a pending event to `state` (standalone only); best effort:
 * readers resolve what this could not write. */
static void audit_mark(mongo_store *ms, mongoc_client_t *client, const char *id, const char *state)
{
    bson_t query = BSON_INITIALIZER, update = BSON_INITIALIZER, set;
    BSON_APPEND_UTF8(&query, "_id", id);
    BSON_APPEND_UTF8(&query, "state", "pending");
    BSON_APPEND_DOCUMENT_BEGIN(&update, "$set", &set);
    BSON_APPEND_UTF8(&set, "state", state);
    bson_append_document_end(&update, &set);
    mongoc_collection_t *coll = mongoc_client_get_collection(client, ms->db, AUDIT_COLLECTION);
    mongoc_collection_update_one(coll, &query, &update, NULL, NULL, NULL);
    mongoc_collection_destroy(coll);
    bson_destroy(&query);
    bson_destroy(&update);
}

/* Reads the stored version of op->name in op->org (majority, or in the
 * transaction): its version, the event that wrote it and the resource's
 * incarnation. NOT_FOUND, or CONFLICT when it is not the expected version. */
static store_status current_read(write_op *op, bson_error_t *e)
{
    bson_t filter = BSON_INITIALIZER, opts;
    const bson_t *doc, *reply;
    store_status st = STORE_INTERNAL;
    BSON_APPEND_UTF8(&filter, "_id", op->name);
    BSON_APPEND_UTF8(&filter, "_org", op->org);
    if (op_opts(op, &opts, e)) {
        BSON_APPEND_INT32(&opts, "limit", 1);
        if (!op->session)
            mongoc_read_concern_append(op->ms->majority, &opts);
        mongoc_collection_t *coll = op_collection(op, op->collection);
        mongoc_cursor_t *cur = mongoc_collection_find_with_opts(coll, &filter, &opts, NULL);
        if (mongoc_cursor_next(cur, &doc)) {
            bson_iter_t it;
            op->version_before =
                bson_iter_init_find(&it, doc, "_version") ? bson_iter_as_int64(&it) : 0;
            copy_str_field(doc, "_audit", op->prev_audit, sizeof op->prev_audit);
            copy_str_field(doc, "_created", op->created, sizeof op->created);
            st = op->expected_version > 0 && op->version_before != op->expected_version
                     ? STORE_CONFLICT
                     : STORE_OK;
        } else if (mongoc_cursor_error_document(cur, e, &reply)) {
            op_keep_reply(op, reply);
            st = status_of_error(e);
        } else {
            st = STORE_NOT_FOUND;
        }
        mongoc_cursor_destroy(cur);
        mongoc_collection_destroy(coll);
    }
    bson_destroy(&opts);
    bson_destroy(&filter);
    return st;
}

/* Replaces (update) or removes (delete) the version current_read saw; a
 * write that got in between makes it CONFLICT or NOT_FOUND. */
static store_status resource_replace(write_op *op, bson_error_t *e)
{
    bson_t query = BSON_INITIALIZER, doc = BSON_INITIALIZER, opts = BSON_INITIALIZER,
           reply = BSON_INITIALIZER;
    bson_iter_t it;
    store_status st = STORE_INTERNAL;
    BSON_APPEND_UTF8(&query, "_id", op->name);
    BSON_APPEND_UTF8(&query, "_org", op->org);
    BSON_APPEND_INT64(&query, "_version", op->version_before);
    mongoc_collection_t *coll = op_collection(op, op->collection);
    bool update = op->kind == WRITE_UPDATE, ok = op_opts(op, &opts, e);
    if (ok && update)
        ok = doc_wrap(op->rec, op->audit_id, op->created, &doc) &&
             mongoc_collection_replace_one(coll, &query, &doc, &opts, &reply, e);
    else if (ok)
        ok = mongoc_collection_delete_one(coll, &query, &opts, &reply, e);
    if (ok) {
        bool hit = bson_iter_init_find(&it, &reply, update ? "matchedCount" : "deletedCount") &&
                   bson_iter_as_int64(&it) == 1;
        st = hit ? STORE_OK : STORE_CONFLICT;
    } else if (e->domain || e->code) {
        st = status_of_error(e);
        op_keep_reply(op, &reply);
    }
    mongoc_collection_destroy(coll);
    bson_destroy(&reply);
    bson_destroy(&opts);
    bson_destroy(&doc);
    bson_destroy(&query);
    return st;
}

static store_status resource_insert(write_op *op, bson_error_t *e)
{
    bson_t doc = BSON_INITIALIZER, opts = BSON_INITIALIZER, reply = BSON_INITIALIZER;
    store_status st = STORE_INTERNAL;
    mongoc_collection_t *coll = op_collection(op, op->collection);
    if (doc_wrap(op->rec, op->audit_id, op->created, &doc) && op_opts(op, &opts, e)) {
        if (mongoc_collection_insert_one(coll, &doc, &opts, &reply, e)) {
            st = STORE_OK;
        } else {
            st = status_of_error(e);
            op_keep_reply(op, &reply);
        }
    }
    bson_destroy(&reply);
    bson_destroy(&opts);
    bson_destroy(&doc);
    mongoc_collection_destroy(coll);
    return st;
}

/* The steps of every write: read what it replaces, mark the event of that
 * version committed (a version about to be replaced was written: this is
 * what keeps readers exact on a standalone server), insert the event, write
 * the resource. A NOT_FOUND or CONFLICT seen before the event is inserted
 * leaves no event at all. */
static store_status write_steps(write_op *op, const char *event_state, bson_error_t *e)
{
    store_status st;
    op->audit_id[0] = op->prev_audit[0] = op->created[0] = '\0';
    op->version_before = op->ev->version_before;
    if (op->kind != WRITE_CREATE) {
        if ((st = current_read(op, e)) != STORE_OK)
            return st;
        if (!op->session && op->prev_audit[0])
            audit_mark(op->ms, op->client, op->prev_audit, "committed");
    }
    if (!audit_insert(op, event_state, e))
        return status_of_error(e);
    if (op->kind == WRITE_CREATE)
        return resource_insert(op, e);
    st = resource_replace(op, e);
    /* the version changed or vanished after it was read */
    return st == STORE_CONFLICT && current_read(op, e) == STORE_NOT_FOUND ? STORE_NOT_FOUND : st;
}

static bool deadline_passed(const write_op *op)
{
    return op->ev->deadline_us > 0 && clock_monotonic_us() >= op->ev->deadline_us;
}

/* One attempt of the transaction: with_transaction calls it again after a
 * transient error (it reads the labels in *reply), never after the
 * deadline. The outcome of the last attempt is in op->error_reply / ctx. */
typedef struct txn_ctx {
    write_op *op;
    store_status status;
} txn_ctx;

static bool transaction_body(mongoc_client_session_t *session, void *vctx, bson_t **reply,
                             bson_error_t *e)
{
    txn_ctx *t = vctx;
    (void)session;
    *reply = NULL;
    if (deadline_passed(t->op)) {
        t->status = STORE_DEADLINE_EXCEEDED;
        bson_set_error(e, MONGOC_ERROR_TRANSACTION, 0, "the call's deadline passed");
        return false;
    }
    t->status = write_steps(t->op, "committed", e);
    if (t->status == STORE_OK)
        return true;
    if (t->op->error_reply) {
        *reply = t->op->error_reply; /* handed over: with_transaction destroys it */
        t->op->error_reply = NULL;
    }
    if (!e->message[0])
        bson_set_error(e, MONGOC_ERROR_TRANSACTION, 0, "%s", store_status_name(t->status));
    return false;
}

static store_status write_in_transaction(write_op *op)
{
    bson_error_t e = {0};
    txn_ctx t = {op, STORE_INTERNAL};
    op->session = mongoc_client_start_session(op->client, NULL, &e);
    if (!op->session)
        return status_of_error(&e);
    bool ok =
        mongoc_client_session_with_transaction(op->session, transaction_body, NULL, &t, NULL, &e);
    mongoc_client_session_destroy(op->session);
    op->session = NULL;
    if (op->error_reply) {
        bson_destroy(op->error_reply);
        op->error_reply = NULL;
    }
    if (ok)
        return STORE_OK;
    /* A failure in the body carries its own status; one of the commit is
     * the transport's. */
    return t.status != STORE_OK ? t.status : status_of_error(&e);
}

/* Standalone: the event first (pending), then the write, then the mark. */
static store_status write_standalone(write_op *op)
{
    bson_error_t e = {0};
    store_status st = write_steps(op, "pending", &e);
    if (!op->audit_id[0])
        return st; /* failed before the event: nothing to mark */
    if (st == STORE_OK)
        audit_mark(op->ms, op->client, op->audit_id, "committed");
    else if (st == STORE_ALREADY_EXISTS || st == STORE_CONFLICT || st == STORE_NOT_FOUND)
        audit_mark(op->ms, op->client, op->audit_id, "aborted");
    /* otherwise the outcome is unknown: the event stays pending for readers */
    return st;
}

static store_status write_run(mongo_store *ms, write_op *op)
{
    if (deadline_passed(op))
        return STORE_DEADLINE_EXCEEDED;
    op->ms = ms;
    op->client = mongoc_client_pool_pop(ms->pool);
    store_status st = indexes_ensure(ms, op->client, op->collection);
    if (st == STORE_OK)
        st = ms->transactions ? write_in_transaction(op) : write_standalone(op);
    mongoc_client_pool_push(ms->pool, op->client);
    return st;
}

static store_status mongo_create(void *impl, const store_record *rec, const store_audit *ev)
{
    write_op op = {.kind = WRITE_CREATE,
                   .rec = rec,
                   .collection = rec->collection,
                   .org = rec->org,
                   .name = rec->name,
                   .ev = ev};
    return write_run(impl, &op);
}

static store_status mongo_update(void *impl, const store_record *rec, int64_t expected_version,
                                 const store_audit *ev)
{
    write_op op = {.kind = WRITE_UPDATE,
                   .rec = rec,
                   .collection = rec->collection,
                   .org = rec->org,
                   .name = rec->name,
                   .expected_version = expected_version,
                   .ev = ev};
    return write_run(impl, &op);
}

static store_status mongo_delete(void *impl, const char *collection, const char *org,
                                 const char *name, int64_t expected_version, const store_audit *ev)
{
    write_op op = {.kind = WRITE_DELETE,
                   .collection = collection,
                   .org = org,
                   .name = name,
                   .expected_version = expected_version,
                   .ev = ev};
    return write_run(impl, &op);
}

/* ---- reads ---- */

/* Runs a find on coll and hands each document to fn until it returns
 * false. */
typedef bool (*doc_fn)(const bson_t *doc, void *ctx);

static store_status find_each(mongo_store *ms, mongoc_client_t *client, const char *coll_name,
                              const bson_t *filter, const bson_t *opts, doc_fn fn, void *ctx)
{
    bson_error_t e;
    const bson_t *doc;
    mongoc_collection_t *coll = mongoc_client_get_collection(client, ms->db, coll_name);
    mongoc_cursor_t *cur = mongoc_collection_find_with_opts(coll, filter, opts, NULL);
    store_status st = STORE_OK;
    while (mongoc_cursor_next(cur, &doc))
        if (!fn(doc, ctx))
            break;
    if (mongoc_cursor_error(cur, &e))
        st = status_of_error(&e);
    mongoc_cursor_destroy(cur);
    mongoc_collection_destroy(coll);
    return st;
}

typedef struct one_ctx {
    const char *collection;
    store_record *rec;
    store_status st;
    char audit[160], created[160]; /* the store's fields the record leaves out */
} one_ctx;

static bool take_one(const bson_t *doc, void *ctx)
{
    one_ctx *o = ctx;
    o->st = record_unwrap(doc, o->collection, &o->rec);
    copy_str_field(doc, "_audit", o->audit, sizeof o->audit);
    copy_str_field(doc, "_created", o->created, sizeof o->created);
    return false;
}

static store_status find_one(mongo_store *ms, const char *collection, const bson_t *filter,
                             store_record **out)
{
    bson_t opts = BSON_INITIALIZER;
    one_ctx o = {.collection = collection, .st = STORE_NOT_FOUND};
    BSON_APPEND_INT32(&opts, "limit", 1);
    mongoc_client_t *client = mongoc_client_pool_pop(ms->pool);
    store_status st = find_each(ms, client, collection, filter, &opts, take_one, &o);
    mongoc_client_pool_push(ms->pool, client);
    bson_destroy(&opts);
    if (st != STORE_OK) {
        store_record_free(o.rec);
        return st;
    }
    *out = o.rec;
    return o.st;
}

static store_status mongo_get(void *impl, const char *collection, const char *org, const char *name,
                              store_record **out)
{
    bson_t filter = BSON_INITIALIZER;
    BSON_APPEND_UTF8(&filter, "_id", name);
    if (org)
        BSON_APPEND_UTF8(&filter, "_org", org);
    store_status st = find_one(impl, collection, &filter, out);
    bson_destroy(&filter);
    return st;
}

static store_status mongo_get_by_lookup(void *impl, const char *collection, const char *lookup,
                                        store_record **out)
{
    bson_t filter = BSON_INITIALIZER;
    BSON_APPEND_UTF8(&filter, "_lookup", lookup);
    store_status st = find_one(impl, collection, &filter, out);
    bson_destroy(&filter);
    return st;
}

typedef struct page_ctx {
    const char *collection;
    store_page *page;
    size_t cap;
    int limit;
    store_status st;
} page_ctx;

static bool page_take(const bson_t *doc, void *ctx)
{
    page_ctx *p = ctx;
    if (p->page->count == (size_t)p->limit) {
        p->page->more = true;
        return false;
    }
    if (p->page->count == p->cap) {
        size_t cap = p->cap ? p->cap * 2 : 16;
        store_record *grown = realloc(p->page->records, cap * sizeof *grown);
        if (!grown) {
            p->st = STORE_INTERNAL;
            return false;
        }
        p->page->records = grown;
        p->cap = cap;
    }
    store_record *r = NULL;
    p->st = record_unwrap(doc, p->collection, &r);
    if (p->st != STORE_OK)
        return false;
    p->page->records[p->page->count++] = *r;
    free(r); /* its fields now belong to the page */
    return true;
}

static store_status mongo_list(void *impl, const store_query *q, store_page **out)
{
    mongo_store *ms = impl;
    bson_t filter = BSON_INITIALIZER, opts = BSON_INITIALIZER, sort, gt;
    if (q->org)
        BSON_APPEND_UTF8(&filter, "_org", q->org);
    if (q->parent)
        BSON_APPEND_UTF8(&filter, "_parent", q->parent);
    if (q->state)
        BSON_APPEND_UTF8(&filter, "_state", q->state);
    BSON_APPEND_DOCUMENT_BEGIN(&filter, "_id", &gt);
    BSON_APPEND_UTF8(&gt, "$gt", q->after ? q->after : "");
    bson_append_document_end(&filter, &gt);
    BSON_APPEND_DOCUMENT_BEGIN(&opts, "sort", &sort);
    BSON_APPEND_INT32(&sort, "_id", 1);
    bson_append_document_end(&opts, &sort);
    BSON_APPEND_INT64(&opts, "limit", (int64_t)q->limit + 1);
    page_ctx p = {q->collection, calloc(1, sizeof *p.page), 0, q->limit, STORE_OK};
    store_status st = p.page ? STORE_OK : STORE_INTERNAL;
    if (st == STORE_OK) {
        mongoc_client_t *client = mongoc_client_pool_pop(ms->pool);
        st = find_each(ms, client, q->collection, &filter, &opts, page_take, &p);
        mongoc_client_pool_push(ms->pool, client);
        if (st == STORE_OK)
            st = p.st;
    }
    bson_destroy(&filter);
    bson_destroy(&opts);
    if (st != STORE_OK) {
        store_page_free(p.page);
        return st;
    }
    *out = p.page;
    return STORE_OK;
}

/* ---- audit reads ---- */

typedef struct audit_ctx {
    mongo_store *ms;
    mongoc_client_t *client;
    int64_t expect; /* the next seq; a gap means an event not (yet) there */
    int limit;
    int64_t now_us;
    store_audit_event *evs;
    size_t count;
    store_status st;
} audit_ctx;

static char *field_str(const bson_t *doc, const char *key)
{
    bson_iter_t it;
    return strdup(bson_iter_init_find(&it, doc, key) && BSON_ITER_HOLDS_UTF8(&it)
                      ? bson_iter_utf8(&it, NULL)
                      : "");
}

static int64_t field_int(const bson_t *doc, const char *key)
{
    bson_iter_t it;
    return bson_iter_init_find(&it, doc, key) && BSON_ITER_HOLDS_NUMBER(&it)
               ? bson_iter_as_int64(&it)
               : 0;
}

/* Did the write of pending event ev happen? A create or update did when
 * its resource names it (any later write marks it committed before writing
 * itself); a delete did when the incarnation it deleted is gone. */
static bool audit_pending_wrote(audit_ctx *a, const bson_t *ev, const char *id)
{
    bson_t filter = BSON_INITIALIZER, opts = BSON_INITIALIZER;
    char *coll = field_str(ev, "collection"), *res = field_str(ev, "resource");
    char *incarnation = field_str(ev, "incarnation");
    one_ctx o = {.collection = coll, .st = STORE_NOT_FOUND};
    bool wrote = false;
    store_status st = STORE_INTERNAL;
    if (coll && res && incarnation) {
        BSON_APPEND_UTF8(&filter, "_id", res);
        BSON_APPEND_INT32(&opts, "limit", 1);
        mongoc_read_concern_append(a->ms->majority, &opts);
        st = find_each(a->ms, a->client, coll, &filter, &opts, take_one, &o);
    }
    if (st != STORE_OK)
        a->st = st;
    else if (field_int(ev, "versionAfter") == 0) /* a delete */
        wrote = o.st == STORE_NOT_FOUND || strcmp(o.created, incarnation) != 0;
    else
        wrote = o.st == STORE_OK && strcmp(o.audit, id) == 0;
    store_record_free(o.rec);
    free(coll);
    free(res);
    free(incarnation);
    bson_destroy(&filter);
    bson_destroy(&opts);
    return wrote;
}

static bool audit_take(const bson_t *doc, void *ctx)
{
    audit_ctx *a = ctx;
    int64_t seq = field_int(doc, "seq");
    bool stable = a->now_us - field_int(doc, "timeUs") >= STABLE_AFTER_US;
    if (seq != a->expect && !stable)
        return false; /* an earlier event may still be on its way */
    a->expect = seq + 1;
    char *state = field_str(doc, "state"), *id = field_str(doc, "_id");
    bool emit = state && strcmp(state, "committed") == 0, go_on = true;
    if (state && id && strcmp(state, "pending") == 0) {
        if (audit_pending_wrote(a, doc, id)) {
            audit_mark(a->ms, a->client, id, "committed");
            emit = true;
        } else if (stable) {
            audit_mark(a->ms, a->client, id, "orphaned");
        } else {
            go_on = false; /* its write may still be in flight */
        }
    }
    free(state);
    free(id);
    if (a->st != STORE_OK || !go_on)
        return false;
    if (!emit)
        return true;
    store_audit_event *e = &a->evs[a->count];
    memset(e, 0, sizeof *e);
    e->seq = seq;
    e->principal = field_str(doc, "principal");
    e->principal_org = field_str(doc, "principalOrg");
    e->org = field_str(doc, "org");
    e->role = field_str(doc, "role");
    e->method = field_str(doc, "method");
    e->resource = field_str(doc, "resource");
    e->request_id = field_str(doc, "requestId");
    e->version_before = field_int(doc, "versionBefore");
    e->version_after = field_int(doc, "versionAfter");
    e->time_us = field_int(doc, "timeUs");
    a->count++;
    if (!e->principal || !e->principal_org || !e->org || !e->role || !e->method || !e->resource ||
        !e->request_id) {
        a->st = STORE_INTERNAL;
        return false;
    }
    return a->count < (size_t)a->limit;
}

static store_status mongo_audit_list(void *impl, const char *org, int64_t after_seq, int limit,
                                     store_audit_event **out, size_t *count)
{
    mongo_store *ms = impl;
    bson_t filter = BSON_INITIALIZER, opts = BSON_INITIALIZER, gt, sort;
    BSON_APPEND_UTF8(&filter, "org", org);
    BSON_APPEND_DOCUMENT_BEGIN(&filter, "seq", &gt);
    BSON_APPEND_INT64(&gt, "$gt", after_seq);
    bson_append_document_end(&filter, &gt);
    BSON_APPEND_DOCUMENT_BEGIN(&opts, "sort", &sort);
    BSON_APPEND_INT32(&sort, "seq", 1);
    bson_append_document_end(&opts, &sort);
    /* majority: an event a failover could roll back is not handed out */
    mongoc_read_concern_append(ms->majority, &opts);
    audit_ctx a = {.ms = ms,
                   .expect = after_seq + 1,
                   .limit = limit,
                   .now_us = clock_realtime_ms() * 1000,
                   .evs = calloc((size_t)limit, sizeof *a.evs),
                   .st = STORE_OK};
    store_status st = a.evs ? STORE_OK : STORE_INTERNAL;
    if (st == STORE_OK) {
        a.client = mongoc_client_pool_pop(ms->pool);
        st = find_each(ms, a.client, AUDIT_COLLECTION, &filter, &opts, audit_take, &a);
        mongoc_client_pool_push(ms->pool, a.client);
        if (st == STORE_OK)
            st = a.st;
    }
    bson_destroy(&filter);
    bson_destroy(&opts);
    if (st != STORE_OK) {
        store_audit_events_free(a.evs, a.count);
        return st;
    }
    *out = a.evs;
    *count = a.count;
    return STORE_OK;
}

/* ---- migration ---- */

static int name_cmp(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Appends a copy of name to *names. */
static bool names_push(char ***names, size_t *count, const char *name)
{
    char **grown = realloc(*names, (*count + 1) * sizeof *grown);
    if (!grown)
        return false;
    *names = grown;
    return ((*names)[*count] = strdup(name)) != NULL && ++*count;
}

static store_status mongo_collections(void *impl, char ***names, size_t *count)
{
    mongo_store *ms = impl;
    bson_error_t e;
    store_status st = STORE_OK;
    mongoc_client_t *client = mongoc_client_pool_pop(ms->pool);
    mongoc_database_t *db = mongoc_client_get_database(client, ms->db);
    char **all = mongoc_database_get_collection_names_with_opts(db, NULL, &e);
    if (!all)
        st = status_of_error(&e);
    for (size_t i = 0; all && all[i] && st == STORE_OK; i++) {
        if (strcmp(all[i], AUDIT_COLLECTION) == 0 || strcmp(all[i], COUNTERS_COLLECTION) == 0 ||
            strncmp(all[i], "system.", 7) == 0)
            continue;
        /* indexes are made at open: only a collection with a record counts */
        bson_t filter = BSON_INITIALIZER, opts = BSON_INITIALIZER;
        BSON_APPEND_INT32(&opts, "limit", 1);
        one_ctx o = {.collection = all[i], .st = STORE_NOT_FOUND};
        st = find_each(ms, client, all[i], &filter, &opts, take_one, &o);
        bson_destroy(&filter);
        bson_destroy(&opts);
        store_record_free(o.rec);
        if (st == STORE_OK && o.st != STORE_OK && o.st != STORE_NOT_FOUND)
            st = o.st; /* a record that cannot be read must not vanish from an export */
        else if (st == STORE_OK && o.st == STORE_OK && !names_push(names, count, all[i]))
            st = STORE_INTERNAL;
    }
    bson_strfreev(all);
    mongoc_database_destroy(db);
    mongoc_client_pool_push(ms->pool, client);
    if (st == STORE_OK && *count)
        qsort(*names, *count, sizeof **names, name_cmp);
    return st;
}

static store_status mongo_audit_orgs(void *impl, char ***orgs, size_t *count)
{
    mongo_store *ms = impl;
    bson_error_t e;
    const bson_t *doc;
    bson_iter_t it;
    store_status st = STORE_OK;
    bson_t *pipeline =
        BCON_NEW("pipeline", "[", "{", "$group", "{", "_id", BCON_UTF8("$org"), "}", "}", "]");
    mongoc_client_t *client = mongoc_client_pool_pop(ms->pool);
    mongoc_collection_t *coll = mongoc_client_get_collection(client, ms->db, AUDIT_COLLECTION);
    mongoc_cursor_t *cur =
        mongoc_collection_aggregate(coll, MONGOC_QUERY_NONE, pipeline, NULL, NULL);
    while (st == STORE_OK && mongoc_cursor_next(cur, &doc))
        if (bson_iter_init_find(&it, doc, "_id") && BSON_ITER_HOLDS_UTF8(&it) &&
            !names_push(orgs, count, bson_iter_utf8(&it, NULL)))
            st = STORE_INTERNAL;
    if (st == STORE_OK && mongoc_cursor_error(cur, &e))
        st = status_of_error(&e);
    mongoc_cursor_destroy(cur);
    mongoc_collection_destroy(coll);
    mongoc_client_pool_push(ms->pool, client);
    bson_destroy(pipeline);
    if (st == STORE_OK && *count)
        qsort(*orgs, *count, sizeof **orgs, name_cmp);
    return st;
}

static store_status mongo_import_record(void *impl, const store_record *rec)
{
    mongo_store *ms = impl;
    bson_error_t e;
    write_op op = {.ms = ms, .rec = rec, .collection = rec->collection};
    op.client = mongoc_client_pool_pop(ms->pool);
    store_status st = indexes_ensure(ms, op.client, rec->collection);
    if (st == STORE_OK)
        st = resource_insert(&op, &e); /* _audit "": it was written before the export */
    mongoc_client_pool_push(ms->pool, op.client);
    return st;
}

static store_status mongo_import_audit(void *impl, const store_audit *ev)
{
    mongo_store *ms = impl;
    bson_error_t err = {0};
    write_op op = {.ms = ms, .collection = "", .ev = ev, .version_before = ev->version_before};
    op.client = mongoc_client_pool_pop(ms->pool);
    store_status st = audit_insert(&op, "committed", &err) ? STORE_OK : status_of_error(&err);
    mongoc_client_pool_push(ms->pool, op.client);
    return st;
}

#define MONGO_BACKEND(name_, scheme_)                                                              \
    const store_backend name_ = {                                                                  \
        .scheme = scheme_,                                                                         \
        .open = mongo_open,                                                                        \
        .close = mongo_close,                                                                      \
        .describe = mongo_describe,                                                                \
        .ping = mongo_ping,                                                                        \
        .create = mongo_create,                                                                    \
        .update = mongo_update,                                                                    \
        .remove = mongo_delete,                                                                    \
        .get = mongo_get,                                                                          \
        .get_by_lookup = mongo_get_by_lookup,                                                      \
        .list = mongo_list,                                                                        \
        .audit_list = mongo_audit_list,                                                            \
        .collections = mongo_collections,                                                          \
        .audit_orgs = mongo_audit_orgs,                                                            \
        .import_record = mongo_import_record,                                                      \
        .import_audit = mongo_import_audit,                                                        \
    }

MONGO_BACKEND(store_mongo_backend, "mongodb");
MONGO_BACKEND(store_mongo_srv_backend, "mongodb+srv");
