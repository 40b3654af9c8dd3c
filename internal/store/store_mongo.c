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
 * starting with '_' that is not a column. "List filters" in mongo_read.c
 * has the queries. Facet names are refused (STORE_INVALID) when a query path could
 * not reach them: with a '.' or a leading '$'. Indexes (created
 * at open for the known kinds, before the first write of others,
 * idempotently): (_org, _parent, _id) and (_org, _parent, _state, _id) for a
 * tenant's keyset lists; (_parent, _id) for the platform-wide list of
 * organizations; unique (_lookup) where it exists; one per declared facet
 * ("Facet indexes" below). The lookup index cannot
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
 *
 * This file opens and closes the store, maps libmongoc's errors, makes the
 * indexes and holds the backend's table; the backend's other files (the
 * document shape, writes, reads, migration), and what they share, are in
 * mongo_internal.h.
 */
#include "mongo_internal.h"

#include <mongoc/mongoc.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "clock.h"
#include "commit_gate.h"
#include "store.h"

#define DEFAULT_DATABASE "supplysec"
#define DEFAULT_SELECTION_TIMEOUT_MS 2000
#define DEFAULT_CONNECT_TIMEOUT_MS 2000
#define DEFAULT_SOCKET_TIMEOUT_MS 5000

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

store_status mongo_status_of_error(const bson_error_t *e)
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

/* ---- deadlines ---- */

/* Milliseconds left before deadline_us (rounded up, so that a command never
 * gets maxTimeMS 0, which means none); 0 when it passed; -1: no deadline. */
int64_t mongo_ms_left(int64_t deadline_us)
{
    if (!deadline_us)
        return -1;
    int64_t left = deadline_us - clock_monotonic_us();
    return left > 0 ? (left + 999) / 1000 : 0;
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
                                   int64_t deadline_us, char **err)
{
    bson_t cmd = BSON_INITIALIZER, indexes;
    bson_error_t e;
    int64_t left = mongo_ms_left(deadline_us);
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
        return mongo_status_of_error(&e);
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
store_status mongo_indexes_ensure(mongo_store *ms, mongoc_client_t *client, const char *coll,
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

/* ---- facet indexes ----
 * One index per facet a kind declares, {_parent, _facets.<name>, _id}, named
 * "facet_<name>": a filtered list is an equality (or range) on the facet
 * within one parent, in _id order, so the index finds the page's records
 * without reading the others. _parent leads because it names the tenant as
 * well for every child kind, and it is "" for the platform-wide list of
 * organizations. A repeated facet makes it a multikey index (one array per
 * document, which MongoDB allows). With drop_stale (`supplysecd refacet`),
 * an index named facet_* that no declared facet wants any more, or with
 * another key, is dropped first; a start-up never drops one, since a server
 * of an older release would drop the newer one's. */

#define FACET_INDEX_PREFIX "facet_"

/* Whether idx (a listIndexes document) has the key {_parent, path, _id}. */
static bool facet_index_key_is(const bson_t *idx, const char *path)
{
    const char *want[] = {"_parent", path, "_id"};
    bson_iter_t it, key;
    if (!bson_iter_init_find(&it, idx, "key") || !BSON_ITER_HOLDS_DOCUMENT(&it) ||
        !bson_iter_recurse(&it, &key))
        return false;
    size_t i = 0;
    while (bson_iter_next(&key))
        if (i >= 3 || strcmp(bson_iter_key(&key), want[i++]) != 0)
            return false;
    return i == 3;
}

/* The facet_* indexes of coll that names[0..n) do not want as they are,
 * appended to drop (an array); *count: how many. */
static store_status facet_indexes_stale(mongo_store *ms, mongoc_client_t *client,
                                        const char *coll_name, const char *const *names, size_t n,
                                        bson_t *drop, uint32_t *count)
{
    mongoc_collection_t *coll = mongoc_client_get_collection(client, ms->db, coll_name);
    mongoc_cursor_t *cur = mongoc_collection_find_indexes_with_opts(coll, NULL);
    const bson_t *idx;
    bson_error_t e;
    store_status st = STORE_OK;
    while (st == STORE_OK && mongoc_cursor_next(cur, &idx)) {
        bson_iter_t it;
        if (!bson_iter_init_find(&it, idx, "name") || !BSON_ITER_HOLDS_UTF8(&it))
            continue;
        const char *name = bson_iter_utf8(&it, NULL);
        if (strncmp(name, FACET_INDEX_PREFIX, strlen(FACET_INDEX_PREFIX)) != 0)
            continue;
        const char *facet = name + strlen(FACET_INDEX_PREFIX);
        bool wanted = false;
        for (size_t i = 0; i < n && !wanted; i++)
            if (strcmp(names[i], facet) == 0) {
                char *path = bson_strdup_printf("_facets.%s", facet);
                wanted = facet_index_key_is(idx, path);
                bson_free(path);
            }
        if (wanted)
            continue;
        char k[16];
        const char *key;
        bson_uint32_to_string(*count, &key, k, sizeof k);
        if (BSON_APPEND_UTF8(drop, key, name))
            (*count)++;
        else
            st = STORE_INTERNAL;
    }
    /* a collection not created yet has no indexes (NamespaceNotFound) */
    if (st == STORE_OK && mongoc_cursor_error(cur, &e) && e.code != 26)
        st = mongo_status_of_error(&e);
    mongoc_cursor_destroy(cur);
    mongoc_collection_destroy(coll);
    return st;
}

static store_status mongo_index_facets(void *impl, const char *coll, const char *const *names,
                                       size_t n, bool drop_stale)
{
    mongo_store *ms = impl;
    for (size_t i = 0; i < n; i++)
        if (!mongo_facet_key_ok(names[i]))
            return STORE_INVALID;
    mongoc_client_t *client = mongoc_client_pool_pop(ms->pool);
    bson_t drop_cmd = BSON_INITIALIZER, create_cmd = BSON_INITIALIZER, arr;
    bson_error_t e;
    uint32_t stale = 0;
    BSON_APPEND_UTF8(&drop_cmd, "dropIndexes", coll);
    BSON_APPEND_ARRAY_BEGIN(&drop_cmd, "index", &arr);
    store_status st =
        drop_stale ? facet_indexes_stale(ms, client, coll, names, n, &arr, &stale) : STORE_OK;
    bson_append_array_end(&drop_cmd, &arr);
    /* IndexNotFound: another server dropped it first */
    if (st == STORE_OK && stale > 0 &&
        !mongoc_client_write_command_with_opts(client, ms->db, &drop_cmd, NULL, NULL, &e) &&
        e.code != 27)
        st = mongo_status_of_error(&e);
    if (st == STORE_OK && n > 0) {
        BSON_APPEND_UTF8(&create_cmd, "createIndexes", coll);
        BSON_APPEND_ARRAY_BEGIN(&create_cmd, "indexes", &arr);
        for (size_t i = 0; i < n && st == STORE_OK; i++) {
            char *name = bson_strdup_printf(FACET_INDEX_PREFIX "%s", names[i]);
            char *path = bson_strdup_printf("_facets.%s", names[i]);
            if (!index_append(&arr, (int)i, name, false, NULL, 3, "_parent", path, "_id"))
                st = STORE_INTERNAL;
            bson_free(path);
            bson_free(name);
        }
        bson_append_array_end(&create_cmd, &arr);
        if (st == STORE_OK &&
            !mongoc_client_write_command_with_opts(client, ms->db, &create_cmd, NULL, NULL, &e))
            st = mongo_status_of_error(&e);
    }
    bson_destroy(&create_cmd);
    bson_destroy(&drop_cmd);
    mongoc_client_pool_push(ms->pool, client);
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
        return mongo_status_of_error(&e);
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
    org_turns_destroy(&ms->turns);
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
    org_turns_init(&ms->turns);
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
    return ok ? STORE_OK : mongo_status_of_error(&e);
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
        .append_audit = mongo_append_audit,                                                        \
        .refuse_writes = mongo_refuse_writes,                                                      \
        .facet_mark = mongo_facet_mark,                                                            \
        .set_facet_mark = mongo_set_facet_mark,                                                    \
        .refacet = mongo_refacet,                                                                  \
        .index_facets = mongo_index_facets,                                                        \
    }

MONGO_BACKEND(store_mongo_backend, "mongodb");
MONGO_BACKEND(store_mongo_srv_backend, "mongodb+srv");
