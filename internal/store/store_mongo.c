/* store_mongo.c — the MongoDB backend of the storage contract (see store.h).
 *
 * Owns: the document shape in MongoDB, its indexes, the client pool, the
 * write protocol (every batch of writes is one transaction with its audit
 * events), deadlines on the wire, and the mapping of libmongoc errors onto
 * store_status.
 *
 * Deployments. A replica set (a single node is enough) or mongos: a write
 * and its audit events are kept together by a transaction, so store_open
 * refuses a standalone server, with a message saying how to make it a
 * one-node replica set.
 *
 * Documents. One collection per resource kind (the contract's collection),
 * one for audit events ("auditEvents") and one for their per-organization
 * sequence counters ("counters"). A resource is stored as the converter's
 * document with the store's columns in front, all starting with '_':
 *   {_id: name, _org, _parent, _state?, _lookup?, _version: int64,
 *    _facets?: {<name>: value or [values], ...}, _guard?: int64 (see guards
 *    below), ...fields}
 * so a person or a BI tool reads it as the resource itself. _facets holds the
 * record's facets (store.h) for list filters: a name with one value holds
 * it, one with several the array of its distinct values; strings as UTF-8,
 * every other type as int64; no _facets when there are none. A write
 * replaces the whole document, facets included; a read drops every field
 * starting with '_' that is not a column. "List filters" below has the
 * queries. Facet names are refused (STORE_INVALID) when a query path could
 * not reach them: with a '.' or a leading '$'. Indexes (created
 * at open for the known kinds, before the first write of others,
 * idempotently): (_org, _parent, _id) and (_org, _parent, _state, _id) for a
 * tenant's keyset lists; (_parent, _id) for the platform-wide list of
 * organizations; unique (_lookup) where it exists. The lookup index cannot
 * lead with the tenant: a bearer token is looked up before its organization
 * is known (the apiKeys collection is small and stays unsharded). Audit
 * events:
 *   {_id: "<org>/<seq>", org, seq: int64, collection, resource, principal,
 *    principalOrg, role, method, requestId, versionBefore, versionAfter,
 *    time: date, timeUs: int64}
 * with a unique (org, seq) index. seq comes from the organization's counter
 * document ({_id: "auditEvents/<org>", seq, claims}), which a batch moves on
 * at its first command (see counters_take). Two transactions with events of
 * one organization both write the counter, so the later one gets a
 * WriteConflict and runs again after the first commits: the numbers are
 * dense and in commit order, and a reader never sees a gap that a later
 * commit fills.
 *
 * Writes (store_apply; create, update and delete are its one-write case).
 * A batch is one transaction: the counters of its events' organizations
 * taken, the writes in order (create: insert, a run of creates in one
 * insert; update: replace at the expected version; delete:
 * findAndModify-remove at the version; guard: see below; delete-all: find the
 * records, then delete them by _id), then the events, numbered, in one
 * insert (inserts and deletes of more than WRITE_CHUNK documents are a few
 * commands). A write that matched nothing reads the record to tell NOT_FOUND
 * from CONFLICT. The transaction runs again, after a short random backoff,
 * when the server labels a failure TransientTransactionError (a WriteConflict
 * with a concurrent writer, a primary stepping down), and its commit is
 * retried when labelled UnknownTransactionCommitResult; a failure to reach
 * the server is not retried here (libmongoc retries a commit once itself),
 * so an outage fails within the selection and socket timeouts. The batch's
 * deadline (its events' earliest) bounds all of it: no attempt starts after
 * it, every command carries maxTimeMS, the time left, so the server stops
 * there too, and waiting for a pooled client is bounded by it. Without a
 * deadline, retries stop after TXN_RETRY_US. A commit whose outcome stays
 * unknown is STORE_UNAVAILABLE, never DEADLINE_EXCEEDED, which promises that
 * nothing was written. Server selection and socket waits are bounded by
 * serverSelectionTimeoutMS and socketTimeoutMS, not by the deadline:
 * libmongoc has no per-operation setting for them.
 *
 * Guards. A guard must make a concurrent writer of the same document fail,
 * so it writes the document: $inc of the store-private field _guard, which
 * changes neither the version nor the resource's fields. A write that
 * changes nothing ($set of the value already there) would not do: mongod
 * skips it and it conflicts with nobody.
 *
 * Writes use the URI's write concern, by default w:majority with journal;
 * transactions read at snapshot read concern, the audit log at majority.
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
#include <time.h>

#include "clock.h"
#include "commit_gate.h"
#include "store.h"

#define AUDIT_COLLECTION "auditEvents"
#define COUNTERS_COLLECTION "counters"
#define DEFAULT_DATABASE "supplysec"
#define DEFAULT_SELECTION_TIMEOUT_MS 2000
#define DEFAULT_CONNECT_TIMEOUT_MS 2000
#define DEFAULT_SOCKET_TIMEOUT_MS 5000
#define MAX_INDEXED 256
/* Without a deadline, a batch is retried for at most this long (libmongoc's
 * with_transaction gives up after the same). */
#define TXN_RETRY_US (120 * 1000000LL)
#define BACKOFF_MAX_US 50000 /* the longest pause before a transaction runs again */
/* Documents in one insert, _ids in one delete: a batch of thousands is a few
 * commands, each short enough for socketTimeoutMS. */
#define WRITE_CHUNK 1000

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
    case 50: /* MaxTimeMSExpired: the server stopped at the deadline we sent */
        return STORE_DEADLINE_EXCEEDED;
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
    case 24:    /* LockTimeout */
    case 112:   /* WriteConflict: what is left after the retries ran out */
    case 251:   /* NoSuchTransaction */
        return STORE_UNAVAILABLE;
    default:
        return STORE_INTERNAL;
    }
}

/* A failure the server may not repeat if the transaction runs again. Not a
 * failure to reach it: retrying those would wait out the selection timeout
 * again and again. */
static bool is_transient(const bson_t *reply, const bson_error_t *e)
{
    return reply && mongoc_error_has_label(reply, "TransientTransactionError") &&
           e->domain != MONGOC_ERROR_STREAM && e->domain != MONGOC_ERROR_SERVER_SELECTION;
}

/* ---- documents ---- */

/* Whether a facet's name can be a field of _facets that a query reaches by
 * its path: a dot would split the path, a leading '$' makes an operator. */
static bool facet_key_ok(const char *key)
{
    return key && key[0] && key[0] != '$' && !strchr(key, '.');
}

static bool facet_value_equal(const facet_value *a, const facet_value *b)
{
    if (a->type != b->type)
        return false;
    if (a->type == FACET_STRING)
        return strcmp(a->s ? a->s : "", b->s ? b->s : "") == 0;
    return a->i == b->i;
}

/* A facet value as MongoDB keeps it: STRING as UTF-8, every other type as
 * the integer (ENUM by number, BOOL 0/1, TIMESTAMP in microseconds). */
static bool facet_value_append(bson_t *doc, const char *key, const facet_value *v)
{
    return v->type == FACET_STRING ? BSON_APPEND_UTF8(doc, key, v->s ? v->s : "")
                                   : BSON_APPEND_INT64(doc, key, v->i);
}

/* Appends the index of every distinct value of the facet named by
 * facets[first].key, from first on, to at[] (room for n); returns the count. */
static size_t facet_values_of(const store_facet *facets, size_t n, size_t first, size_t *at)
{
    size_t count = 0;
    for (size_t i = first; i < n; i++) {
        if (strcmp(facets[i].key, facets[first].key) != 0)
            continue;
        bool seen = false;
        for (size_t j = 0; j < count && !seen; j++)
            seen = facet_value_equal(&facets[at[j]].value, &facets[i].value);
        if (!seen)
            at[count++] = i;
    }
    return count;
}

/* Whether MongoDB can keep rec's facets so that queries reach them. */
static bool facets_storable(const store_record *rec)
{
    for (size_t i = 0; i < rec->n_facets; i++)
        if (!facet_key_ok(rec->facets[i].key))
            return false;
    return true;
}

/* The facets as the subdocument _facets: one field per facet name, in the
 * order of their first entries; a name with one distinct value holds it, one
 * with several an array of them (equality in a query matches a scalar or any
 * element of an array alike, so the store need not know which facets are
 * repeated). Nothing when there are none. Call facets_storable first. */
static bool facets_append(bson_t *out, const store_facet *facets, size_t n)
{
    if (n == 0)
        return true;
    size_t *at = malloc(n * sizeof *at);
    bson_t sub, arr;
    bool begun = at && BSON_APPEND_DOCUMENT_BEGIN(out, "_facets", &sub), ok = begun;
    for (size_t i = 0; ok && i < n; i++) {
        bool first = true;
        for (size_t j = 0; first && j < i; j++)
            first = strcmp(facets[j].key, facets[i].key) != 0;
        if (!first)
            continue; /* written with its first entry */
        size_t count = facet_values_of(facets, n, i, at);
        if (count == 1) {
            ok = facet_value_append(&sub, facets[i].key, &facets[i].value);
            continue;
        }
        if (!(ok = BSON_APPEND_ARRAY_BEGIN(&sub, facets[i].key, &arr)))
            break;
        for (size_t k = 0; ok && k < count; k++) {
            char idx[16];
            const char *key;
            bson_uint32_to_string((uint32_t)k, &key, idx, sizeof idx);
            ok = facet_value_append(&arr, key, &facets[at[k]].value);
        }
        ok = bson_append_array_end(&sub, &arr) && ok;
    }
    if (begun)
        ok = bson_append_document_end(out, &sub) && ok;
    free(at);
    return ok;
}

/* The stored document: the store's columns (the facets last), then the
 * resource's fields. */
static bool doc_wrap(const store_record *rec, bson_t *out)
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
           facets_append(out, rec->facets, rec->n_facets) && bson_concat(out, &body);
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

/* ---- deadlines ---- */

static void sleep_us(int64_t us)
{
    struct timespec ts = {.tv_sec = us / 1000000, .tv_nsec = (us % 1000000) * 1000};
    while (nanosleep(&ts, &ts) != 0)
        ;
}

/* Milliseconds left before deadline_us (rounded up, so that a command never
 * gets maxTimeMS 0, which means none); 0 when it passed; -1: no deadline. */
static int64_t ms_left(int64_t deadline_us)
{
    if (!deadline_us)
        return -1;
    int64_t left = deadline_us - clock_monotonic_us();
    return left > 0 ? (left + 999) / 1000 : 0;
}

static bool passed(int64_t deadline_us)
{
    return ms_left(deadline_us) == 0;
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

/* ---- indexes ---- */

static store_status indexes_create(mongo_store *ms, mongoc_client_t *client, const char *coll,
                                   int64_t deadline_us, char **err)
{
    bson_t cmd = BSON_INITIALIZER, indexes;
    bson_error_t e;
    int64_t left = ms_left(deadline_us);
    if (left == 0)
        return STORE_DEADLINE_EXCEEDED;
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
    if (left > 0)
        BSON_APPEND_INT64(&cmd, "maxTimeMS", left);
    bool ok = mongoc_client_write_command_with_opts(client, ms->db, &cmd, NULL, NULL, &e);
    bson_destroy(&cmd);
    if (!ok) {
        store_set_err(err, "cannot create the indexes of %s.%s: %s", ms->db, coll, e.message);
        return status_of_error(&e);
    }
    return STORE_OK;
}

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
static store_status indexes_ensure(mongo_store *ms, mongoc_client_t *client, const char *coll,
                                   int64_t deadline_us)
{
    pthread_mutex_lock(&ms->idx_mu);
    bool known = indexes_known(ms, coll);
    pthread_mutex_unlock(&ms->idx_mu);
    if (known)
        return STORE_OK;
    store_status st = indexes_create(ms, client, coll, deadline_us, NULL);
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

/* Refuses anything but a replica set or mongos (no transactions, no
 * guarantee that a write and its event are stored together), saying how to
 * make a standalone server a one-node replica set. Fills ms->mode for the
 * start-up log. */
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
    /* started with --replSet, never initiated */
    bool uninitiated = bson_iter_init_find(&it, &reply, "isreplicaset") && bson_iter_as_bool(&it);
    bson_destroy(&reply);
    if (!rs && !mongos) {
        const mongoc_host_list_t *hosts = mongoc_uri_get_hosts(ms->uri);
        const char *host = hosts ? hosts->host_and_port : "HOST:27017";
        store_set_err(
            err,
            "MongoDB at %s %s; supplysec needs a replica set or mongos, because each write is "
            "stored with its audit event in one transaction. A single node is enough: %s "
            "rs.initiate({_id: \"rs0\", members: [{_id: 0, host: \"%s\"}]}) (use the name given "
            "to --replSet for _id, and the host name clients reach it by), then add "
            "replicaSet=rs0 to the store URI. docker/compose.yaml runs MongoDB this way.",
            host,
            uninitiated ? "was started with --replSet but its replica set was never initiated"
                        : "is a standalone server",
            uninitiated ? "run once in mongosh"
                        : "restart mongod with --replSet rs0, then run once in mongosh",
            host);
        return STORE_REFUSED;
    }
    snprintf(ms->mode, sizeof ms->mode,
             "mongodb %s: each batch of writes and its audit events in one transaction",
             rs ? "replica set" : "mongos");
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
    if (ms->snapshot)
        mongoc_read_concern_destroy(ms->snapshot);
    for (size_t i = 0; i < ms->n_indexed; i++)
        free(ms->indexed[i]);
    pthread_mutex_destroy(&ms->idx_mu);
    gate_destroy(&ms->gate);
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
    gate_init(&ms->gate);
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
    ms->snapshot = mongoc_read_concern_new();
    mongoc_read_concern_set_level(ms->snapshot, MONGOC_READ_CONCERN_LEVEL_SNAPSHOT);
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
        if ((st = indexes_create(ms, client, known[i], 0, err)) == STORE_OK)
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
} org_log;

/* An audit event to insert when the batch's writes are done. */
typedef struct queued_event {
    const store_audit *ev; /* the event, or a delete-all's template */
    const char *collection;
    char *resource; /* a delete-all's record (owned); NULL: ev->resource */
    int64_t version_before, version_after;
} queued_event;

/* One store_apply (or store_import_audit) in progress. */
typedef struct batch {
    mongo_store *ms;
    mongoc_client_t *client;
    mongoc_client_session_t *session;
    const store_write *writes;
    size_t n;
    const store_audit *lone_event; /* store_import_audit: an event and no write */
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
    int64_t left = ms_left(b->deadline_us);
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
    return status_of_error(e);
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
        if (!doc_wrap(b->writes[i + made].rec, &docs[made]))
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
        bson_destroy(&docs[made]); /* doc_wrap initialised it before failing */
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
    int64_t left = ms_left(b->deadline_us);
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
    store_status st = doc_wrap(rec, &doc)
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

/* Moves org's counter on by n (a real write even when n is 0: claims grows
 * too) and sets *last to the new seq. */
static store_status counter_move(batch *b, const char *org, int64_t n, int64_t *last)
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
        if ((st = counter_move(b, org, known, &last)) == STORE_OK)
            b->orgs[b->n_orgs++] = (org_log){org, last - known + 1, known, 0};
    }
    return st;
}

static void event_doc(const queued_event *p, int64_t seq, bson_t *doc)
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
}

/* Numbers the batch's events in their organizations' logs, in batch order,
 * and inserts them. The seqs follow on from those taken at the start: the
 * batch holds the counters, nobody took any in between. */
static store_status events_insert(batch *b)
{
    size_t n = b->n_events, made = 0;
    if (n == 0)
        return STORE_OK;
    bson_t *docs = calloc(n, sizeof *docs);
    const bson_t **ptrs = calloc(n, sizeof *ptrs);
    store_status st = docs && ptrs ? STORE_OK : STORE_INTERNAL;
    for (; st == STORE_OK && made < n; made++) {
        org_log *log = org_log_of(b, str_or_empty(b->events[made].ev->org));
        if (!log) {
            st = STORE_INTERNAL;
            break;
        }
        event_doc(&b->events[made], log->next++, &docs[made]);
        log->used++;
        ptrs[made] = &docs[made];
    }
    for (size_t i = 0; st == STORE_OK && i < b->n_orgs; i++) {
        org_log *log = &b->orgs[i];
        int64_t last = 0;
        if (log->used > log->reserved &&
            (st = counter_move(b, log->org, log->used - log->reserved, &last)) == STORE_OK &&
            last != log->next - 1)
            st = STORE_INTERNAL; /* someone moved the counter under the batch */
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
    int64_t left = ms_left(b->deadline_us);
    if (left > 0)
        mongoc_transaction_opts_set_max_commit_time_ms(topts, left);
    bool started = left != 0 && mongoc_client_session_start_transaction(b->session, topts, &e);
    mongoc_transaction_opts_destroy(topts);
    if (!started)
        return left == 0 ? STORE_DEADLINE_EXCEEDED : status_of_error(&e);
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
            !facets_storable(w->rec)) {
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
    b->client = client_pop(ms, b->deadline_us);
    if (!b->client)
        return STORE_DEADLINE_EXCEEDED;
    /* indexes first: a unique lookup must hold from the first insert, and
     * createIndexes is not for inside a transaction */
    for (size_t i = 0; st == STORE_OK && i < b->n; i++)
        if (b->writes[i].kind == STORE_WRITE_CREATE)
            st = indexes_ensure(ms, b->client, b->writes[i].rec->collection, b->deadline_us);
    if (st == STORE_OK) {
        b->session = mongoc_client_start_session(b->client, NULL, &e);
        st = b->session ? batch_run(b) : status_of_error(&e);
    }
    if (b->session)
        mongoc_client_session_destroy(b->session);
    mongoc_client_pool_push(ms->pool, b->client);
    events_clear(b);
    free(b->events);
    free(b->orgs);
    return st;
}

static store_status mongo_apply(void *impl, const store_write *writes, size_t n, size_t *failed)
{
    batch b = {.writes = writes, .n = n};
    store_status st = batch_apply(impl, &b);
    if (st != STORE_OK && failed)
        *failed = b.failed;
    return st;
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
} one_ctx;

static bool take_one(const bson_t *doc, void *ctx)
{
    one_ctx *o = ctx;
    o->st = record_unwrap(doc, o->collection, &o->rec);
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

/* ---- list filters ----
 *
 * A filter (filter.h) becomes a query on the facets, the paths _facets.<name>:
 *   a = v, a:v  {"_facets.a": v}       (a scalar, or any element of an array)
 *   a != v      {"_facets.a": {$ne: v}} (also true where a is missing, and
 *                                        for an array only if no element is v)
 *   a < v ...   {"_facets.a": {$lt: v}} ($lte, $gt, $gte; false where a is
 *                                        missing)
 *   x AND y     {$and: [x, y]}, x OR y {$or: [x, y]}, NOT x {$nor: [x]}
 * which is filter_match's meaning, given how facets_append stores them:
 * strings as strings, compared by their UTF-8 bytes (the store never sets a
 * collation), and every other type as int64, compared as numbers. The
 * query's own conditions (tenant, parent, state, cursor) are ANDed with it.
 *
 * A chain of one operator is one $and or $or (the parser nests AND and OR
 * to the left: 64 comparisons would otherwise be 63 levels), and NOT over
 * an OR is one $nor of its operands. So the nesting follows the filter's
 * parentheses and NOTs, which filter.h bounds (FILTER_MAX_DEPTH, and
 * FILTER_MAX_COMPARISONS for the AND/OR levels), and so does this
 * recursion. Each level is two BSON levels (an array, a document): the
 * deepest filter within the limits (31 parentheses alternating AND and OR,
 * then a NOT) makes a find command 131 documents and arrays deep, where
 * mongod refuses messages deeper than 201 (maxBSONDepth 200, error 15). */

static bool filter_node_append(bson_t *doc, const filter_node *nd, const store_query *q);

/* The operands of a chain of op (nd and the nodes of op under it, left to
 * right), each a document in arr from *index on. */
static bool filter_chain_append(bson_t *arr, uint32_t *index, const filter_node *nd, filter_op op,
                                const store_query *q)
{
    if (nd->op == op && nd->left && nd->right)
        return filter_chain_append(arr, index, nd->left, op, q) &&
               filter_chain_append(arr, index, nd->right, op, q);
    char idx[16];
    const char *key;
    bson_t operand;
    bson_uint32_to_string((*index)++, &key, idx, sizeof idx);
    if (!BSON_APPEND_DOCUMENT_BEGIN(arr, key, &operand))
        return false;
    bool ok = filter_node_append(&operand, nd, q);
    return bson_append_document_end(arr, &operand) && ok;
}

/* nd as one field of doc. false: a node that is not a filter's, or a facet
 * outside the query's table or with a name no path reaches (STORE_INVALID). */
static bool filter_node_append(bson_t *doc, const filter_node *nd, const store_query *q)
{
    static const char *const cmp_ops[] = {
        [FILTER_NE] = "$ne", [FILTER_LT] = "$lt",  [FILTER_LE] = "$lte",
        [FILTER_GT] = "$gt", [FILTER_GE] = "$gte",
    };
    bson_t arr, cond;
    bool ok;
    uint32_t index = 0;
    switch (nd->op) {
    case FILTER_AND:
    case FILTER_OR:
        if (!nd->left || !nd->right ||
            !BSON_APPEND_ARRAY_BEGIN(doc, nd->op == FILTER_AND ? "$and" : "$or", &arr))
            return false;
        ok = filter_chain_append(&arr, &index, nd, nd->op, q);
        return bson_append_array_end(doc, &arr) && ok;
    case FILTER_NOT: /* NOT (x OR y ...) is {$nor: [x, y ...]} */
        if (!nd->left || !BSON_APPEND_ARRAY_BEGIN(doc, "$nor", &arr))
            return false;
        ok = filter_chain_append(&arr, &index, nd->left, FILTER_OR, q);
        return bson_append_array_end(doc, &arr) && ok;
    case FILTER_EQ:
    case FILTER_HAS:
    case FILTER_NE:
    case FILTER_LT:
    case FILTER_LE:
    case FILTER_GT:
    case FILTER_GE:
        break;
    default:
        return false;
    }
    if (nd->facet >= q->n_facets || !facet_key_ok(q->facets[nd->facet].name))
        return false;
    char *path = bson_strdup_printf("_facets.%s", q->facets[nd->facet].name);
    if (nd->op == FILTER_EQ || nd->op == FILTER_HAS) {
        ok = facet_value_append(doc, path, &nd->value);
    } else {
        ok = BSON_APPEND_DOCUMENT_BEGIN(doc, path, &cond);
        if (ok) {
            ok = facet_value_append(&cond, cmp_ops[nd->op], &nd->value);
            ok = bson_append_document_end(doc, &cond) && ok;
        }
    }
    bson_free(path);
    return ok;
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
    /* the filter's one field ($and, $or, $nor, _facets.<name>) beside the
     * store's own: the query is their conjunction */
    const filter_node *root = filter_root(q->filter);
    if (root && !filter_node_append(&filter, root, q)) {
        bson_destroy(&filter);
        bson_destroy(&opts);
        return STORE_INVALID;
    }
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
    int limit;
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

static bool audit_take(const bson_t *doc, void *ctx)
{
    audit_ctx *a = ctx;
    store_audit_event *e = &a->evs[a->count++];
    memset(e, 0, sizeof *e);
    e->seq = field_int(doc, "seq");
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
    bson_t filter = BSON_INITIALIZER, opts = BSON_INITIALIZER, gt, nin, states, sort;
    BSON_APPEND_UTF8(&filter, "org", org);
    BSON_APPEND_DOCUMENT_BEGIN(&filter, "seq", &gt);
    BSON_APPEND_INT64(&gt, "$gt", after_seq);
    bson_append_document_end(&filter, &gt);
    /* An earlier release wrote events on standalone servers before their
     * writes and marked them after; one it left pending, aborted or
     * orphaned is not in the log. Events written now have no state. */
    BSON_APPEND_DOCUMENT_BEGIN(&filter, "state", &nin);
    BSON_APPEND_ARRAY_BEGIN(&nin, "$nin", &states);
    BSON_APPEND_UTF8(&states, "0", "pending");
    BSON_APPEND_UTF8(&states, "1", "aborted");
    BSON_APPEND_UTF8(&states, "2", "orphaned");
    bson_append_array_end(&nin, &states);
    bson_append_document_end(&filter, &nin);
    BSON_APPEND_DOCUMENT_BEGIN(&opts, "sort", &sort);
    BSON_APPEND_INT32(&sort, "seq", 1);
    bson_append_document_end(&opts, &sort);
    BSON_APPEND_INT64(&opts, "limit", limit);
    /* majority: an event a failover could roll back is not handed out */
    mongoc_read_concern_append(ms->majority, &opts);
    audit_ctx a = {.limit = limit, .evs = calloc((size_t)limit, sizeof *a.evs), .st = STORE_OK};
    store_status st = a.evs ? STORE_OK : STORE_INTERNAL;
    if (st == STORE_OK) {
        mongoc_client_t *client = mongoc_client_pool_pop(ms->pool);
        st = find_each(ms, client, AUDIT_COLLECTION, &filter, &opts, audit_take, &a);
        mongoc_client_pool_push(ms->pool, client);
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

/* A record as it was exported, version included, without an event: one
 * insert, atomic by itself. */
static store_status mongo_import_record(void *impl, const store_record *rec)
{
    mongo_store *ms = impl;
    bson_t doc, reply = BSON_INITIALIZER;
    bson_error_t e;
    store_status st = STORE_INTERNAL;
    if (!facets_storable(rec))
        return STORE_INVALID;
    mongoc_client_t *client = mongoc_client_pool_pop(ms->pool);
    mongoc_collection_t *coll = mongoc_client_get_collection(client, ms->db, rec->collection);
    bool wrapped = doc_wrap(rec, &doc);
    if (wrapped && (st = indexes_ensure(ms, client, rec->collection, 0)) == STORE_OK)
        st = mongoc_collection_insert_one(coll, &doc, NULL, &reply, &e) ? STORE_OK
                                                                        : status_of_error(&e);
    mongoc_collection_destroy(coll);
    mongoc_client_pool_push(ms->pool, client);
    bson_destroy(&reply);
    bson_destroy(&doc);
    return st;
}

/* An exported event at the end of its organization's log: numbered and
 * inserted in one transaction, like the events of a batch. */
static store_status mongo_import_audit(void *impl, const store_audit *ev)
{
    batch b = {.lone_event = ev};
    return batch_apply(impl, &b);
}

/* ---- facets given anew ----
 * A collection's mark is the counters document {_id: "facets/<collection>",
 * mark}. A record's facets are replaced by one update at its version ($set
 * or $unset of _facets), atomic by itself; neither _version nor the fields
 * change. */

static bool mark_of(const bson_t *doc, void *ctx)
{
    bson_iter_t it;
    char **mark = ctx;
    if (bson_iter_init_find(&it, doc, "mark") && BSON_ITER_HOLDS_UTF8(&it))
        *mark = strdup(bson_iter_utf8(&it, NULL));
    return false;
}

static store_status mongo_facet_mark(void *impl, const char *collection, char **mark)
{
    mongo_store *ms = impl;
    char *id = bson_strdup_printf("facets/%s", collection);
    bson_t filter = BSON_INITIALIZER;
    BSON_APPEND_UTF8(&filter, "_id", id);
    mongoc_client_t *client = mongoc_client_pool_pop(ms->pool);
    store_status st = find_each(ms, client, COUNTERS_COLLECTION, &filter, NULL, mark_of, mark);
    mongoc_client_pool_push(ms->pool, client);
    bson_destroy(&filter);
    bson_free(id);
    if (st == STORE_OK && !*mark && !(*mark = strdup("")))
        st = STORE_INTERNAL;
    return st;
}

/* One update_one of coll; *matched: whether it matched a document. */
static store_status update_one(mongo_store *ms, const char *coll_name, const bson_t *selector,
                               const bson_t *update, bool upsert, bool *matched)
{
    bson_t opts = BSON_INITIALIZER, reply = BSON_INITIALIZER;
    bson_error_t e;
    bson_iter_t it;
    BSON_APPEND_BOOL(&opts, "upsert", upsert);
    mongoc_client_t *client = mongoc_client_pool_pop(ms->pool);
    mongoc_collection_t *coll = mongoc_client_get_collection(client, ms->db, coll_name);
    store_status st = mongoc_collection_update_one(coll, selector, update, &opts, &reply, &e)
                          ? STORE_OK
                          : status_of_error(&e);
    if (matched)
        *matched = bson_iter_init_find(&it, &reply, "matchedCount") &&
                   BSON_ITER_HOLDS_NUMBER(&it) && bson_iter_as_int64(&it) > 0;
    mongoc_collection_destroy(coll);
    mongoc_client_pool_push(ms->pool, client);
    bson_destroy(&reply);
    bson_destroy(&opts);
    return st;
}

static store_status mongo_set_facet_mark(void *impl, const char *collection, const char *mark)
{
    char *id = bson_strdup_printf("facets/%s", collection);
    bson_t selector = BSON_INITIALIZER, update = BSON_INITIALIZER, set;
    BSON_APPEND_UTF8(&selector, "_id", id);
    BSON_APPEND_DOCUMENT_BEGIN(&update, "$set", &set);
    BSON_APPEND_UTF8(&set, "mark", mark);
    bson_append_document_end(&update, &set);
    store_status st = update_one(impl, COUNTERS_COLLECTION, &selector, &update, true, NULL);
    bson_destroy(&update);
    bson_destroy(&selector);
    bson_free(id);
    return st;
}

static store_status mongo_refacet(void *impl, const store_record *rec)
{
    bson_t selector = BSON_INITIALIZER, update = BSON_INITIALIZER, op;
    bool matched = false;
    store_status st = STORE_INTERNAL;
    if (!facets_storable(rec))
        return STORE_INVALID;
    BSON_APPEND_UTF8(&selector, "_id", rec->name);
    BSON_APPEND_UTF8(&selector, "_org", rec->org);
    BSON_APPEND_INT64(&selector, "_version", rec->version);
    bool built = BSON_APPEND_DOCUMENT_BEGIN(&update, rec->n_facets ? "$set" : "$unset", &op) &&
                 (rec->n_facets ? facets_append(&op, rec->facets, rec->n_facets)
                                : BSON_APPEND_UTF8(&op, "_facets", "")) &&
                 bson_append_document_end(&update, &op);
    if (built)
        st = update_one(impl, rec->collection, &selector, &update, false, &matched);
    if (st == STORE_OK && !matched) { /* moved on, or gone */
        store_record *now = NULL;
        st = mongo_get(impl, rec->collection, rec->org, rec->name, &now);
        st = st == STORE_OK ? STORE_CONFLICT : st;
        store_record_free(now);
    }
    bson_destroy(&update);
    bson_destroy(&selector);
    return st;
}

static void mongo_refuse_writes(void *impl)
{
    gate_close(&((mongo_store *)impl)->gate);
}

/* store_create, store_update and store_delete reach apply as one-write
 * batches (store.c): there is no other write path. */
#define MONGO_BACKEND(name_, scheme_)                                                              \
    const store_backend name_ = {                                                                  \
        .scheme = scheme_,                                                                         \
        .open = mongo_open,                                                                        \
        .close = mongo_close,                                                                      \
        .describe = mongo_describe,                                                                \
        .ping = mongo_ping,                                                                        \
        .apply = mongo_apply,                                                                      \
        .get = mongo_get,                                                                          \
        .get_by_lookup = mongo_get_by_lookup,                                                      \
        .list = mongo_list,                                                                        \
        .audit_list = mongo_audit_list,                                                            \
        .collections = mongo_collections,                                                          \
        .audit_orgs = mongo_audit_orgs,                                                            \
        .import_record = mongo_import_record,                                                      \
        .import_audit = mongo_import_audit,                                                        \
        .refuse_writes = mongo_refuse_writes,                                                      \
        .facet_mark = mongo_facet_mark,                                                            \
        .set_facet_mark = mongo_set_facet_mark,                                                    \
        .refacet = mongo_refacet,                                                                  \
    }

MONGO_BACKEND(store_mongo_backend, "mongodb");
MONGO_BACKEND(store_mongo_srv_backend, "mongodb+srv");
