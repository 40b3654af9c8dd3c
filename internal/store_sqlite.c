/* store_sqlite.c — the SQLite backend of the storage contract (see store.h).
 *
 * Owns: the on-disk schema and its version, the connection pool, every SQL
 * statement the store runs, and the mapping of SQLite result codes onto
 * store_status. store.c has already checked the arguments.
 *
 * Schema (PRAGMA user_version = SCHEMA_VERSION, created at open, idempotent):
 * resources is keyed by (collection, name) WITHOUT ROWID, so a get is one
 * b-tree descent. resources_by_org (collection, org, parent, name) serves the
 * keyset list of one tenant's children, resources_by_parent (collection,
 * parent, name) the same list across tenants, and the partial unique index
 * resources_by_lookup (collection, lookup) WHERE lookup IS NOT NULL both
 * enforces and serves the lookup key. audit_events is append-only, its
 * AUTOINCREMENT seq never reused, read per organization by (org, seq).
 *
 * Durability: journal_mode=WAL with synchronous=FULL. The product's worst bug
 * is a lost write: once a write is acknowledged it must survive a crash or a
 * power loss. In WAL mode synchronous=NORMAL syncs only at checkpoints, so a
 * power loss can roll back the last transactions that were already reported
 * as committed; FULL syncs the WAL on every COMMIT. A lock held by another
 * process is waited for up to 5000 ms (busy_wait), or until the write's
 * deadline when that comes first; a write whose deadline has passed once it
 * holds the lock is rolled back unwritten.
 *
 * Threads: connections are opened SQLITE_OPEN_NOMUTEX ("multi-thread" mode:
 * no per-connection mutex), which is safe because a connection and its
 * prepared statements are only ever used by the one thread that took it from
 * the pool: pool_take pops an idle connection under pool_mu (waiting on
 * pool_cv when none is idle) and pool_give pushes it back. The pool holds
 * workers + 1 connections, at least 2 (one for ":memory:", a database private
 * to its connection). Statements are prepared once per connection, on first
 * use, and reset + unbound after each use. Writers also take write_mu around
 * BEGIN IMMEDIATE ... COMMIT: SQLite admits one writer at a time anyway, and
 * queueing on a mutex is fairer and cheaper than the busy handler's sleeps
 * (the wait for it is bounded like the busy wait: 5 s or the deadline);
 * busy_wait still covers other processes opening the same file.
 *
 * Errors: a write is BEGIN IMMEDIATE; the write; INSERT of its audit event;
 * COMMIT, and any failure rolls everything back. SQLITE_BUSY/LOCKED past the
 * timeout, and SQLITE_IOERR/FULL/CANTOPEN/READONLY (a failing, full or
 * read-only disk) are STORE_UNAVAILABLE: the transaction was rolled back and
 * never acknowledged, and the condition is one an operator clears, so the
 * caller is told to retry later. A primary key or unique violation is
 * STORE_ALREADY_EXISTS; corruption and anything unexpected is STORE_INTERNAL.
 */
#include "store.h"

#include "clock.h"

#include <errno.h>
#include <pthread.h>
#include <sqlite3.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#define SCHEMA_VERSION 1
#define STRINGIFY_(x) #x
#define STRINGIFY(x) STRINGIFY_(x)
#define BUSY_TIMEOUT_MS 5000

static const char schema_sql[] =
    "CREATE TABLE IF NOT EXISTS resources ("
    " collection TEXT NOT NULL, name TEXT NOT NULL, org TEXT NOT NULL,"
    " parent TEXT NOT NULL, state TEXT, lookup TEXT, version INTEGER NOT NULL,"
    " doc BLOB NOT NULL, PRIMARY KEY (collection, name)) WITHOUT ROWID, STRICT;"
    "CREATE INDEX IF NOT EXISTS resources_by_org ON resources (collection, org, parent, name);"
    "CREATE INDEX IF NOT EXISTS resources_by_parent ON resources (collection, parent, name);"
    "CREATE UNIQUE INDEX IF NOT EXISTS resources_by_lookup ON resources (collection, lookup)"
    " WHERE lookup IS NOT NULL;"
    "CREATE TABLE IF NOT EXISTS audit_events ("
    " seq INTEGER PRIMARY KEY AUTOINCREMENT, org TEXT NOT NULL, principal TEXT NOT NULL,"
    " principal_org TEXT NOT NULL,"
    " role TEXT NOT NULL, method TEXT NOT NULL, resource TEXT NOT NULL,"
    " request_id TEXT NOT NULL, version_before INTEGER NOT NULL,"
    " version_after INTEGER NOT NULL, time_us INTEGER NOT NULL) STRICT;"
    "CREATE INDEX IF NOT EXISTS audit_by_org ON audit_events (org, seq);";

#define RECORD_COLUMNS "collection, org, parent, name, state, lookup, version, doc"

enum stmt_id {
    ST_BEGIN,
    ST_COMMIT,
    ST_ROLLBACK,
    ST_PING,
    ST_INSERT,
    ST_UPDATE,
    ST_DELETE,
    ST_VERSION,
    ST_GET,
    ST_GET_BY_LOOKUP,
    ST_AUDIT_INSERT,
    ST_AUDIT_LIST,
    ST_COLLECTIONS,
    ST_AUDIT_ORGS,
    ST_LIST_FIRST, /* + a LIST_* mask: the list variant with those filters */
    ST_COUNT = ST_LIST_FIRST + 8,
};

enum { LIST_ORG = 1, LIST_PARENT = 2, LIST_STATE = 4 };

static const char *const fixed_sql[ST_LIST_FIRST] = {
    [ST_BEGIN] = "BEGIN IMMEDIATE",
    [ST_COMMIT] = "COMMIT",
    [ST_ROLLBACK] = "ROLLBACK",
    [ST_PING] = "SELECT 1",
    [ST_INSERT] =
        "INSERT INTO resources (" RECORD_COLUMNS ") VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
    [ST_UPDATE] = "UPDATE resources SET parent = ?3, state = ?5, lookup = ?6, version = ?7,"
                  " doc = ?8 WHERE collection = ?1 AND name = ?4 AND org = ?2 AND version = ?9",
    [ST_DELETE] = "DELETE FROM resources WHERE collection = ?1 AND name = ?3 AND org = ?2"
                  " AND (?4 = 0 OR version = ?4) RETURNING version",
    [ST_VERSION] = "SELECT version FROM resources WHERE collection = ?1 AND name = ?3 AND org = ?2",
    [ST_GET] = "SELECT " RECORD_COLUMNS " FROM resources"
               " WHERE collection = ?1 AND name = ?3 AND (?2 IS NULL OR org = ?2)",
    [ST_GET_BY_LOOKUP] = "SELECT " RECORD_COLUMNS " FROM resources"
                         " WHERE collection = ?1 AND lookup = ?2",
    [ST_AUDIT_INSERT] = "INSERT INTO audit_events (org, principal, role, method, resource,"
                        " request_id, version_before, version_after, time_us, principal_org)"
                        " VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)",
    [ST_AUDIT_LIST] = "SELECT seq, principal, org, role, method, resource, request_id,"
                      " version_before, version_after, time_us, principal_org FROM audit_events"
                      " WHERE org = ?1 AND seq > ?2 ORDER BY seq LIMIT ?3",
    [ST_COLLECTIONS] = "SELECT DISTINCT collection FROM resources ORDER BY collection",
    [ST_AUDIT_ORGS] = "SELECT DISTINCT org FROM audit_events ORDER BY org",
};

typedef struct conn {
    sqlite3 *db;
    sqlite3_stmt *stmts[ST_COUNT];
    int64_t busy_until_us; /* the busy handler gives up then (CLOCK_MONOTONIC) */
} conn;

typedef struct sqlite_store {
    pthread_mutex_t pool_mu;
    pthread_cond_t pool_cv;
    pthread_mutex_t write_mu;
    conn *conns;
    size_t nconns; /* opened so far */
    conn **idle;
    size_t nidle;
} sqlite_store;

/* What a write needs; each write body reads the fields it uses. */
typedef struct write_args {
    const store_record *rec;
    const char *collection, *org, *name;
    int64_t expected_version;
    const store_audit *ev;
} write_args;

/* ---- errors ---- */

static store_status status_of(int rc)
{
    switch (rc & 0xff) {
    case SQLITE_OK:
    case SQLITE_ROW:
    case SQLITE_DONE:
        return STORE_OK;
    case SQLITE_CONSTRAINT:
        return rc == SQLITE_CONSTRAINT_PRIMARYKEY || rc == SQLITE_CONSTRAINT_UNIQUE
                   ? STORE_ALREADY_EXISTS
                   : STORE_INTERNAL;
    case SQLITE_BUSY:
    case SQLITE_LOCKED:
    case SQLITE_IOERR:
    case SQLITE_FULL:
    case SQLITE_CANTOPEN:
    case SQLITE_READONLY:
        return STORE_UNAVAILABLE;
    default:
        return STORE_INTERNAL;
    }
}

/* The status of db's last failure (never STORE_OK). */
static store_status failure_of(sqlite3 *db)
{
    store_status st = status_of(sqlite3_extended_errcode(db));
    return st == STORE_OK ? STORE_INTERNAL : st;
}

/* ---- statements ---- */

static void list_sql(unsigned mask, char *buf, size_t size)
{
    snprintf(buf, size,
             "SELECT " RECORD_COLUMNS " FROM resources WHERE collection = ?1%s%s%s"
             " AND name > ?5 ORDER BY name LIMIT ?6",
             mask & LIST_ORG ? " AND org = ?2" : "", mask & LIST_PARENT ? " AND parent = ?3" : "",
             mask & LIST_STATE ? " AND state = ?4" : "");
}

/* The statement id of c, prepared on its first use. */
static store_status stmt_get(conn *c, int id, sqlite3_stmt **out)
{
    char sql[512];
    if (!c->stmts[id]) {
        if (id >= ST_LIST_FIRST)
            list_sql((unsigned)(id - ST_LIST_FIRST), sql, sizeof sql);
        const char *text = id < ST_LIST_FIRST ? fixed_sql[id] : sql;
        int rc =
            sqlite3_prepare_v3(c->db, text, -1, SQLITE_PREPARE_PERSISTENT, &c->stmts[id], NULL);
        if (rc != SQLITE_OK)
            return failure_of(c->db);
    }
    *out = c->stmts[id];
    return STORE_OK;
}

static void stmt_release(sqlite3_stmt *s)
{
    sqlite3_reset(s);
    sqlite3_clear_bindings(s);
}

/* Binders chain: each does nothing once an earlier one failed. Strings are
 * bound SQLITE_STATIC: they outlive the statement's use. */
static int bind_text(sqlite3_stmt *s, int i, const char *v, int rc)
{
    if (rc != SQLITE_OK)
        return rc;
    return v ? sqlite3_bind_text(s, i, v, -1, SQLITE_STATIC) : sqlite3_bind_null(s, i);
}

static int bind_int(sqlite3_stmt *s, int i, int64_t v, int rc)
{
    return rc != SQLITE_OK ? rc : sqlite3_bind_int64(s, i, v);
}

static int bind_blob(sqlite3_stmt *s, int i, const uint8_t *v, size_t len, int rc)
{
    if (rc != SQLITE_OK)
        return rc;
    if (len == 0)
        return sqlite3_bind_zeroblob(s, i, 0); /* a NULL pointer would bind NULL */
    return sqlite3_bind_blob64(s, i, v, len, SQLITE_STATIC);
}

/* Steps s once after its binders returned bind_rc; the SQLite result code. */
static int stmt_step(sqlite3_stmt *s, int bind_rc)
{
    if (bind_rc != SQLITE_OK)
        return bind_rc;
    int rc = sqlite3_step(s);
    return rc == SQLITE_ROW || rc == SQLITE_DONE ? rc
                                                 : sqlite3_extended_errcode(sqlite3_db_handle(s));
}

/* Runs a statement without parameters and results. */
static store_status exec_stmt(conn *c, int id)
{
    sqlite3_stmt *s;
    store_status st = stmt_get(c, id, &s);
    if (st != STORE_OK)
        return st;
    st = status_of(stmt_step(s, SQLITE_OK));
    stmt_release(s);
    return st;
}

/* ---- reading rows into owned copies ---- */

static bool column_text(sqlite3_stmt *s, int i, char **out)
{
    *out = NULL;
    if (sqlite3_column_type(s, i) == SQLITE_NULL)
        return true;
    const char *text = (const char *)sqlite3_column_text(s, i);
    *out = text ? strdup(text) : NULL;
    return *out != NULL;
}

static bool column_blob(sqlite3_stmt *s, int i, uint8_t **out, size_t *len)
{
    const void *blob = sqlite3_column_blob(s, i);
    int n = sqlite3_column_bytes(s, i);
    *len = n > 0 ? (size_t)n : 0;
    *out = malloc(*len ? *len : 1);
    if (*out && *len)
        memcpy(*out, blob, *len);
    return *out != NULL;
}

/* Fills r (zeroed) from a row of RECORD_COLUMNS. */
static store_status record_read(sqlite3_stmt *s, store_record *r)
{
    bool ok = column_text(s, 0, &r->collection) && column_text(s, 1, &r->org) &&
              column_text(s, 2, &r->parent) && column_text(s, 3, &r->name) &&
              column_text(s, 4, &r->state) && column_text(s, 5, &r->lookup) &&
              column_blob(s, 7, &r->doc, &r->doc_len);
    r->version = sqlite3_column_int64(s, 6);
    return ok ? STORE_OK : STORE_INTERNAL;
}

static store_status audit_read(sqlite3_stmt *s, store_audit_event *e)
{
    e->seq = sqlite3_column_int64(s, 0);
    e->version_before = sqlite3_column_int64(s, 7);
    e->version_after = sqlite3_column_int64(s, 8);
    e->time_us = sqlite3_column_int64(s, 9);
    bool ok = column_text(s, 1, &e->principal) && column_text(s, 2, &e->org) &&
              column_text(s, 3, &e->role) && column_text(s, 4, &e->method) &&
              column_text(s, 5, &e->resource) && column_text(s, 6, &e->request_id) &&
              column_text(s, 10, &e->principal_org);
    return ok ? STORE_OK : STORE_INTERNAL;
}

/* ---- the pool ---- */

static conn *pool_take(sqlite_store *sq)
{
    pthread_mutex_lock(&sq->pool_mu);
    while (sq->nidle == 0)
        pthread_cond_wait(&sq->pool_cv, &sq->pool_mu);
    conn *c = sq->idle[--sq->nidle];
    pthread_mutex_unlock(&sq->pool_mu);
    c->busy_until_us = clock_monotonic_us() + BUSY_TIMEOUT_MS * 1000LL;
    return c;
}

static void pool_give(sqlite_store *sq, conn *c)
{
    pthread_mutex_lock(&sq->pool_mu);
    sq->idle[sq->nidle++] = c;
    pthread_cond_signal(&sq->pool_cv);
    pthread_mutex_unlock(&sq->pool_mu);
}

/* ---- opening ---- */

/* mkdir -p of the directory holding path (mode 0700: the store holds
 * credentials' hashes). */
static store_status make_parent_dirs(const char *path, char **err)
{
    store_status st = STORE_OK;
    char *dir = strdup(path);
    if (!dir) {
        store_set_err(err, "out of memory");
        return STORE_INTERNAL;
    }
    char *slash = strrchr(dir, '/');
    if (slash && slash != dir) {
        *slash = '\0';
        for (char *p = dir + 1; st == STORE_OK; p++) {
            char saved = *p;
            if (saved != '/' && saved != '\0')
                continue;
            *p = '\0';
            if (mkdir(dir, 0700) != 0 && errno != EEXIST) {
                store_set_err(err, "cannot create directory %s: %s", dir, strerror(errno));
                st = STORE_UNAVAILABLE;
            }
            *p = saved;
            if (saved == '\0')
                break;
        }
    }
    free(dir);
    return st;
}

static int query_int(sqlite3 *db, const char *sql, int64_t *out)
{
    sqlite3_stmt *s;
    int rc = sqlite3_prepare_v2(db, sql, -1, &s, NULL);
    if (rc != SQLITE_OK)
        return rc;
    rc = sqlite3_step(s);
    if (rc == SQLITE_ROW) {
        *out = sqlite3_column_int64(s, 0);
        rc = SQLITE_OK;
    }
    sqlite3_finalize(s);
    return rc;
}

/* Switches the database to WAL (persistent in the file). */
static store_status journal_wal(sqlite3 *db, bool memory, char **err)
{
    sqlite3_stmt *s = NULL;
    store_status st = STORE_OK;
    if (sqlite3_prepare_v2(db, "PRAGMA journal_mode=WAL", -1, &s, NULL) != SQLITE_OK ||
        sqlite3_step(s) != SQLITE_ROW) {
        st = failure_of(db);
        store_set_err(err, "cannot switch the store to WAL mode: %s", sqlite3_errmsg(db));
    } else {
        const char *mode = (const char *)sqlite3_column_text(s, 0);
        if (!mode || (strcmp(mode, "wal") != 0 && !(memory && strcmp(mode, "memory") == 0))) {
            st = STORE_INTERNAL;
            store_set_err(err, "the store stayed in journal mode %s, not WAL", mode ? mode : "?");
        }
    }
    sqlite3_finalize(s);
    return st;
}

static store_status schema_version_check(int64_t version, char **err)
{
    if (version == 0 || version == SCHEMA_VERSION)
        return STORE_OK;
    store_set_err(err, "store schema version %lld is not %d: written by another release",
                  (long long)version, SCHEMA_VERSION);
    return STORE_INTERNAL;
}

/* Creates the schema in a write transaction when user_version is still 0. */
static store_status schema_create(sqlite3 *db, char **err)
{
    int64_t version = -1;
    int rc = sqlite3_exec(db, "BEGIN IMMEDIATE", NULL, NULL, NULL);
    if (rc == SQLITE_OK)
        rc = query_int(db, "PRAGMA user_version", &version);
    store_status st = rc == SQLITE_OK ? schema_version_check(version, err) : STORE_OK;
    if (rc == SQLITE_OK && st == STORE_OK && version == 0)
        rc = sqlite3_exec(db, schema_sql, NULL, NULL, NULL);
    if (rc == SQLITE_OK && st == STORE_OK && version == 0)
        rc = sqlite3_exec(db, "PRAGMA user_version = " STRINGIFY(SCHEMA_VERSION), NULL, NULL, NULL);
    if (rc == SQLITE_OK && st == STORE_OK)
        rc = sqlite3_exec(db, "COMMIT", NULL, NULL, NULL);
    if (rc != SQLITE_OK) {
        store_set_err(err, "cannot create the store schema: %s", sqlite3_errmsg(db));
        st = failure_of(db);
    }
    if (!sqlite3_get_autocommit(db))
        sqlite3_exec(db, "ROLLBACK", NULL, NULL, NULL);
    return st;
}

/* The schema at SCHEMA_VERSION: a read when it is there already (so opening
 * does not wait for another process's writer), created when the file is new,
 * refused when a newer release wrote it. */
static store_status schema_ensure(sqlite3 *db, char **err)
{
    int64_t version = -1;
    if (query_int(db, "PRAGMA user_version", &version) != SQLITE_OK) {
        store_set_err(err, "cannot read the store schema version: %s", sqlite3_errmsg(db));
        return failure_of(db);
    }
    if (version == SCHEMA_VERSION)
        return STORE_OK;
    store_status st = schema_version_check(version, err);
    return st == STORE_OK ? schema_create(db, err) : st;
}

/* SQLite's busy handler: waits for another process's lock until the
 * connection's busy_until_us (BUSY_TIMEOUT_MS, or a write's deadline when
 * that comes first). */
static int busy_wait(void *arg, int count)
{
    conn *c = arg;
    if (clock_monotonic_us() >= c->busy_until_us)
        return 0;
    struct timespec ts = {0, count < 10 ? 1000000L : 5000000L};
    nanosleep(&ts, NULL);
    return 1;
}

/* Opens one pooled connection; the first one also sets up the file. */
static store_status conn_open(conn *c, const char *path, bool first, char **err)
{
    bool memory = strcmp(path, ":memory:") == 0;
    int flags = SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX;
    int rc = sqlite3_open_v2(path, &c->db, flags, NULL);
    if (rc == SQLITE_OK) {
        sqlite3_extended_result_codes(c->db, 1);
        rc = sqlite3_busy_handler(c->db, busy_wait, c);
    }
    if (rc == SQLITE_OK)
        rc = sqlite3_exec(c->db, "PRAGMA synchronous=FULL", NULL, NULL, NULL);
    if (rc != SQLITE_OK) {
        store_set_err(err, "cannot open the store %s: %s", path,
                      c->db ? sqlite3_errmsg(c->db) : sqlite3_errstr(rc));
        return c->db ? failure_of(c->db) : STORE_INTERNAL;
    }
    if (!first)
        return STORE_OK;
    store_status st = journal_wal(c->db, memory, err);
    return st == STORE_OK ? schema_ensure(c->db, err) : st;
}

static void conn_close(conn *c)
{
    for (int i = 0; i < ST_COUNT; i++)
        sqlite3_finalize(c->stmts[i]);
    sqlite3_close(c->db);
}

static void store_sqlite_close(void *impl)
{
    sqlite_store *sq = impl;
    if (!sq)
        return;
    /* Closed in reverse: the first connection, last, checkpoints the WAL. */
    for (size_t i = sq->nconns; i-- > 0;)
        conn_close(&sq->conns[i]);
    pthread_cond_destroy(&sq->pool_cv);
    pthread_mutex_destroy(&sq->pool_mu);
    pthread_mutex_destroy(&sq->write_mu);
    free(sq->conns);
    free(sq->idle);
    free(sq);
}

static store_status pool_open(sqlite_store *sq, const char *path, size_t size, char **err)
{
    sq->conns = calloc(size, sizeof *sq->conns);
    sq->idle = calloc(size, sizeof *sq->idle);
    if (!sq->conns || !sq->idle) {
        store_set_err(err, "out of memory");
        return STORE_INTERNAL;
    }
    for (size_t i = 0; i < size; i++) {
        sq->nconns = i + 1;
        store_status st = conn_open(&sq->conns[i], path, i == 0, err);
        if (st != STORE_OK)
            return st;
        sq->idle[sq->nidle++] = &sq->conns[i];
    }
    return STORE_OK;
}

static store_status store_sqlite_open(const char *uri, int workers, void **impl, char **err)
{
    const char *path = uri + strlen("sqlite:");
    *impl = NULL;
    if (!sqlite3_threadsafe()) {
        store_set_err(err, "this SQLite library was built without thread support");
        return STORE_INTERNAL;
    }
    bool memory = strcmp(path, ":memory:") == 0;
    store_status st = memory ? STORE_OK : make_parent_dirs(path, err);
    if (st != STORE_OK)
        return st;
    sqlite_store *sq = calloc(1, sizeof *sq);
    if (!sq) {
        store_set_err(err, "out of memory");
        return STORE_INTERNAL;
    }
    pthread_mutex_init(&sq->pool_mu, NULL);
    pthread_cond_init(&sq->pool_cv, NULL);
    pthread_mutex_init(&sq->write_mu, NULL);
    size_t size = (size_t)workers + 1 < 2 ? 2 : (size_t)workers + 1;
    if (memory)
        size = 1; /* every connection to ":memory:" has a database of its own */
    st = pool_open(sq, path, size, err);
    if (st != STORE_OK) {
        store_sqlite_close(sq);
        return st;
    }
    *impl = sq;
    return STORE_OK;
}

static store_status store_sqlite_ping(void *impl)
{
    sqlite_store *sq = impl;
    conn *c = pool_take(sq);
    store_status st = exec_stmt(c, ST_PING);
    pool_give(sq, c);
    return st;
}

/* ---- writes ---- */

static store_status audit_insert(conn *c, const store_audit *ev, int64_t version_before)
{
    sqlite3_stmt *s;
    store_status st = stmt_get(c, ST_AUDIT_INSERT, &s);
    if (st != STORE_OK)
        return st;
    int rc = bind_text(s, 1, ev->org ? ev->org : "", SQLITE_OK);
    rc = bind_text(s, 2, ev->principal ? ev->principal : "", rc);
    rc = bind_text(s, 3, ev->role ? ev->role : "", rc);
    rc = bind_text(s, 4, ev->method ? ev->method : "", rc);
    rc = bind_text(s, 5, ev->resource ? ev->resource : "", rc);
    rc = bind_text(s, 6, ev->request_id ? ev->request_id : "", rc);
    rc = bind_int(s, 7, version_before, rc);
    rc = bind_int(s, 8, ev->version_after, rc);
    rc = bind_int(s, 9, ev->time_us, rc);
    rc = bind_text(s, 10, ev->principal_org ? ev->principal_org : "", rc);
    st = status_of(stmt_step(s, rc));
    stmt_release(s);
    return st;
}

/* Binds rec to ?1..?8 in RECORD_COLUMNS order. */
static int bind_record(sqlite3_stmt *s, const store_record *rec)
{
    int rc = bind_text(s, 1, rec->collection, SQLITE_OK);
    rc = bind_text(s, 2, rec->org, rc);
    rc = bind_text(s, 3, rec->parent, rc);
    rc = bind_text(s, 4, rec->name, rc);
    rc = bind_text(s, 5, rec->state, rc);
    rc = bind_text(s, 6, rec->lookup, rc);
    rc = bind_int(s, 7, rec->version, rc);
    return bind_blob(s, 8, rec->doc, rec->doc_len, rc);
}

/* After a conditional write matched nothing: CONFLICT when the record
 * exists in that org (at another version), else NOT_FOUND. */
static store_status conflict_or_missing(conn *c, const char *collection, const char *org,
                                        const char *name)
{
    sqlite3_stmt *s;
    store_status st = stmt_get(c, ST_VERSION, &s);
    if (st != STORE_OK)
        return st;
    int rc = bind_text(s, 1, collection, SQLITE_OK);
    rc = bind_text(s, 2, org, rc);
    rc = bind_text(s, 3, name, rc);
    rc = stmt_step(s, rc);
    st = rc == SQLITE_ROW ? STORE_CONFLICT : rc == SQLITE_DONE ? STORE_NOT_FOUND : status_of(rc);
    stmt_release(s);
    return st;
}

static store_status insert_record(conn *c, const store_record *rec)
{
    sqlite3_stmt *s;
    store_status st = stmt_get(c, ST_INSERT, &s);
    if (st != STORE_OK)
        return st;
    st = status_of(stmt_step(s, bind_record(s, rec)));
    stmt_release(s);
    return st;
}

static store_status create_body(conn *c, const write_args *a)
{
    store_status st = insert_record(c, a->rec);
    return st == STORE_OK ? audit_insert(c, a->ev, a->ev->version_before) : st;
}

static store_status update_body(conn *c, const write_args *a)
{
    sqlite3_stmt *s;
    store_status st = stmt_get(c, ST_UPDATE, &s);
    if (st != STORE_OK)
        return st;
    int rc = bind_int(s, 9, a->expected_version, bind_record(s, a->rec));
    st = status_of(stmt_step(s, rc));
    int changed = sqlite3_changes(c->db);
    stmt_release(s);
    if (st == STORE_OK && changed == 0)
        st = conflict_or_missing(c, a->rec->collection, a->rec->org, a->rec->name);
    return st == STORE_OK ? audit_insert(c, a->ev, a->ev->version_before) : st;
}

/* The event records the version actually deleted, also when any was. */
static store_status delete_body(conn *c, const write_args *a)
{
    sqlite3_stmt *s;
    int64_t deleted = 0;
    store_status st = stmt_get(c, ST_DELETE, &s);
    if (st != STORE_OK)
        return st;
    int rc = bind_text(s, 1, a->collection, SQLITE_OK);
    rc = bind_text(s, 2, a->org, rc);
    rc = bind_text(s, 3, a->name, rc);
    rc = stmt_step(s, bind_int(s, 4, a->expected_version, rc));
    if (rc == SQLITE_ROW) {
        deleted = sqlite3_column_int64(s, 0);
        rc = stmt_step(s, SQLITE_OK);
    }
    st = status_of(rc);
    stmt_release(s);
    if (st == STORE_OK && deleted == 0)
        st = conflict_or_missing(c, a->collection, a->org, a->name);
    return st == STORE_OK ? audit_insert(c, a->ev, deleted) : st;
}

/* COMMIT when st is OK, else (or when COMMIT fails) ROLLBACK. */
static store_status tx_end(conn *c, store_status st)
{
    if (st == STORE_OK)
        st = exec_stmt(c, ST_COMMIT);
    if (st != STORE_OK && !sqlite3_get_autocommit(c->db))
        exec_stmt(c, ST_ROLLBACK);
    return st;
}

static bool deadline_passed(int64_t deadline_us)
{
    return deadline_us > 0 && clock_monotonic_us() >= deadline_us;
}

/* Runs body in one write transaction on a pooled connection. The deadline
 * bounds the wait for the lock and is checked again once it is held. */
static store_status write_tx(sqlite_store *sq, store_status (*body)(conn *, const write_args *),
                             const write_args *a)
{
    conn *c = pool_take(sq);
    int64_t deadline = a->ev ? a->ev->deadline_us : 0;
    if (deadline > 0 && deadline < c->busy_until_us)
        c->busy_until_us = deadline;
    /* Queueing behind other writers is bounded the same way as the busy wait. */
    struct timespec until;
    int64_t wait_us = c->busy_until_us - clock_monotonic_us();
    clock_gettime(CLOCK_REALTIME, &until);
    wait_us = wait_us > 0 ? wait_us : 0;
    until.tv_sec += (time_t)(wait_us / 1000000);
    until.tv_nsec += (long)(wait_us % 1000000) * 1000;
    if (until.tv_nsec >= 1000000000L) {
        until.tv_sec++;
        until.tv_nsec -= 1000000000L;
    }
    if (pthread_mutex_timedlock(&sq->write_mu, &until) != 0) {
        pool_give(sq, c);
        return deadline_passed(deadline) ? STORE_DEADLINE_EXCEEDED : STORE_UNAVAILABLE;
    }
    store_status st = exec_stmt(c, ST_BEGIN);
    if (st == STORE_OK)
        st = tx_end(c, deadline_passed(deadline) ? STORE_DEADLINE_EXCEEDED : body(c, a));
    else if (deadline_passed(deadline))
        st = STORE_DEADLINE_EXCEEDED;
    pthread_mutex_unlock(&sq->write_mu);
    pool_give(sq, c);
    return st;
}

static store_status store_sqlite_create(void *impl, const store_record *rec, const store_audit *ev)
{
    write_args a = {.rec = rec, .ev = ev};
    return write_tx(impl, create_body, &a);
}

static store_status store_sqlite_update(void *impl, const store_record *rec,
                                        int64_t expected_version, const store_audit *ev)
{
    write_args a = {.rec = rec, .expected_version = expected_version, .ev = ev};
    return write_tx(impl, update_body, &a);
}

static store_status store_sqlite_delete(void *impl, const char *collection, const char *org,
                                        const char *name, int64_t expected_version,
                                        const store_audit *ev)
{
    write_args a = {.collection = collection,
                    .org = org,
                    .name = name,
                    .expected_version = expected_version,
                    .ev = ev};
    return write_tx(impl, delete_body, &a);
}

/* ---- reads ---- */

/* Steps s (bound, or bind_rc) for at most one record. */
static store_status one_record(sqlite3_stmt *s, int bind_rc, store_record **out)
{
    int rc = stmt_step(s, bind_rc);
    if (rc != SQLITE_ROW)
        return rc == SQLITE_DONE ? STORE_NOT_FOUND : status_of(rc);
    store_record *r = calloc(1, sizeof *r);
    store_status st = r ? record_read(s, r) : STORE_INTERNAL;
    if (st != STORE_OK) {
        store_record_free(r);
        return st;
    }
    *out = r;
    return STORE_OK;
}

static store_status store_sqlite_get(void *impl, const char *collection, const char *org,
                                     const char *name, store_record **out)
{
    sqlite_store *sq = impl;
    sqlite3_stmt *s;
    conn *c = pool_take(sq);
    store_status st = stmt_get(c, ST_GET, &s);
    if (st == STORE_OK) {
        int rc = bind_text(s, 1, collection, SQLITE_OK);
        rc = bind_text(s, 2, org, rc);
        st = one_record(s, bind_text(s, 3, name, rc), out);
        stmt_release(s);
    }
    pool_give(sq, c);
    return st;
}

static store_status store_sqlite_get_by_lookup(void *impl, const char *collection,
                                               const char *lookup, store_record **out)
{
    sqlite_store *sq = impl;
    sqlite3_stmt *s;
    conn *c = pool_take(sq);
    store_status st = stmt_get(c, ST_GET_BY_LOOKUP, &s);
    if (st == STORE_OK) {
        st = one_record(s, bind_text(s, 2, lookup, bind_text(s, 1, collection, SQLITE_OK)), out);
        stmt_release(s);
    }
    pool_give(sq, c);
    return st;
}

/* A zeroed slot at the end of p->records, counted so that store_page_free
 * frees whatever was filled in. */
static store_record *page_append(store_page *p, size_t *cap)
{
    if (p->count == *cap) {
        size_t ncap = *cap ? *cap * 2 : 16;
        store_record *grown = realloc(p->records, ncap * sizeof *grown);
        if (!grown)
            return NULL;
        p->records = grown;
        *cap = ncap;
    }
    store_record *r = &p->records[p->count++];
    memset(r, 0, sizeof *r);
    return r;
}

/* Reads up to limit rows of s into p; one more row sets p->more. */
static store_status page_fill(sqlite3_stmt *s, int bind_rc, int limit, store_page *p)
{
    size_t cap = 0;
    int rc = stmt_step(s, bind_rc);
    for (; rc == SQLITE_ROW; rc = stmt_step(s, SQLITE_OK)) {
        if (p->count == (size_t)limit) {
            p->more = true;
            return STORE_OK;
        }
        store_record *r = page_append(p, &cap);
        store_status st = r ? record_read(s, r) : STORE_INTERNAL;
        if (st != STORE_OK)
            return st;
    }
    return status_of(rc);
}

static int bind_query(sqlite3_stmt *s, const store_query *q)
{
    int rc = bind_text(s, 1, q->collection, SQLITE_OK);
    rc = q->org ? bind_text(s, 2, q->org, rc) : rc;
    rc = q->parent ? bind_text(s, 3, q->parent, rc) : rc;
    rc = q->state ? bind_text(s, 4, q->state, rc) : rc;
    rc = bind_text(s, 5, q->after ? q->after : "", rc);
    return bind_int(s, 6, (int64_t)q->limit + 1, rc);
}

static store_status store_sqlite_list(void *impl, const store_query *q, store_page **out)
{
    sqlite_store *sq = impl;
    sqlite3_stmt *s;
    unsigned mask =
        (q->org ? LIST_ORG : 0) | (q->parent ? LIST_PARENT : 0) | (q->state ? LIST_STATE : 0);
    store_page *p = calloc(1, sizeof *p);
    if (!p)
        return STORE_INTERNAL;
    conn *c = pool_take(sq);
    store_status st = stmt_get(c, ST_LIST_FIRST + (int)mask, &s);
    if (st == STORE_OK) {
        st = page_fill(s, bind_query(s, q), q->limit, p);
        stmt_release(s);
    }
    pool_give(sq, c);
    if (st != STORE_OK) {
        store_page_free(p);
        return st;
    }
    *out = p;
    return STORE_OK;
}

static store_status audit_fill(sqlite3_stmt *s, int bind_rc, int limit, store_audit_event **out,
                               size_t *count)
{
    store_audit_event *evs = NULL;
    size_t cap = 0;
    int rc = stmt_step(s, bind_rc);
    for (; rc == SQLITE_ROW && *count < (size_t)limit; rc = stmt_step(s, SQLITE_OK)) {
        if (*count == cap) {
            cap = cap ? cap * 2 : 16;
            store_audit_event *grown = realloc(*out, cap * sizeof *grown);
            if (!grown)
                return STORE_INTERNAL;
            *out = grown;
        }
        evs = &(*out)[(*count)++];
        memset(evs, 0, sizeof *evs);
        if (audit_read(s, evs) != STORE_OK)
            return STORE_INTERNAL;
    }
    return rc == SQLITE_ROW ? STORE_OK : status_of(rc);
}

static store_status store_sqlite_audit_list(void *impl, const char *org, int64_t after_seq,
                                            int limit, store_audit_event **out, size_t *count)
{
    sqlite_store *sq = impl;
    sqlite3_stmt *s;
    conn *c = pool_take(sq);
    store_status st = stmt_get(c, ST_AUDIT_LIST, &s);
    if (st == STORE_OK) {
        int rc = bind_int(s, 2, after_seq, bind_text(s, 1, org, SQLITE_OK));
        st = audit_fill(s, bind_int(s, 3, limit, rc), limit, out, count);
        stmt_release(s);
    }
    pool_give(sq, c);
    if (st != STORE_OK) {
        store_audit_events_free(*out, *count);
        *out = NULL;
        *count = 0;
    }
    return st;
}

/* ---- migration ---- */

/* The first column of every row of statement id, as sorted strings. */
static store_status names_query(sqlite_store *sq, int id, char ***names, size_t *count)
{
    sqlite3_stmt *s;
    size_t cap = 0;
    conn *c = pool_take(sq);
    store_status st = stmt_get(c, id, &s);
    if (st == STORE_OK) {
        int rc;
        while (st == STORE_OK && (rc = stmt_step(s, SQLITE_OK)) == SQLITE_ROW) {
            if (*count == cap) {
                char **grown = realloc(*names, (cap = cap ? cap * 2 : 8) * sizeof *grown);
                if (!grown) {
                    st = STORE_INTERNAL;
                    break;
                }
                *names = grown;
            }
            if (!column_text(s, 0, &(*names)[*count]))
                st = STORE_INTERNAL;
            else
                (*count)++;
        }
        if (st == STORE_OK && rc != SQLITE_DONE)
            st = status_of(rc);
        stmt_release(s);
    }
    pool_give(sq, c);
    if (st != STORE_OK) {
        store_names_free(*names, *count);
        *names = NULL;
        *count = 0;
    }
    return st;
}

static store_status store_sqlite_collections(void *impl, char ***names, size_t *count)
{
    return names_query(impl, ST_COLLECTIONS, names, count);
}

static store_status store_sqlite_audit_orgs(void *impl, char ***orgs, size_t *count)
{
    return names_query(impl, ST_AUDIT_ORGS, orgs, count);
}

static store_status import_record_body(conn *c, const write_args *a)
{
    return insert_record(c, a->rec);
}

static store_status store_sqlite_import_record(void *impl, const store_record *rec)
{
    write_args a = {.rec = rec};
    return write_tx(impl, import_record_body, &a);
}

static store_status import_audit_body(conn *c, const write_args *a)
{
    return audit_insert(c, a->ev, a->ev->version_before);
}

static store_status store_sqlite_import_audit(void *impl, const store_audit *ev)
{
    write_args a = {.ev = ev};
    return write_tx(impl, import_audit_body, &a);
}

static const char *store_sqlite_describe(void *impl)
{
    (void)impl;
    return "sqlite (WAL, synchronous=FULL; each write and its audit event in one transaction)";
}

const store_backend store_sqlite_backend = {
    .scheme = "sqlite",
    .open = store_sqlite_open,
    .close = store_sqlite_close,
    .describe = store_sqlite_describe,
    .ping = store_sqlite_ping,
    .create = store_sqlite_create,
    .update = store_sqlite_update,
    .remove = store_sqlite_delete,
    .get = store_sqlite_get,
    .get_by_lookup = store_sqlite_get_by_lookup,
    .list = store_sqlite_list,
    .audit_list = store_sqlite_audit_list,
    .collections = store_sqlite_collections,
    .audit_orgs = store_sqlite_audit_orgs,
    .import_record = store_sqlite_import_record,
    .import_audit = store_sqlite_import_audit,
};
