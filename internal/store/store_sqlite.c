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
 * workers + 1 connections (one for the writer holding the write lock), at
 * least POOL_MIN: the HTTP listener's threads and the health probe read too,
 * and a worker waiting for a connection holds up every call it polls.
 * ":memory:" has one: each connection to it has a database of its own.
 * Statements are prepared once per connection, on first use, and reset +
 * unbound after each use. Writers also take write_mu around BEGIN IMMEDIATE
 * ... COMMIT: SQLite admits one writer at a time anyway, and queueing on a
 * mutex is fairer and cheaper than the busy handler's sleeps (the wait for
 * it is bounded like the busy wait: 5 s or the deadline); busy_wait still
 * covers other processes opening the same file.
 *
 * Writes (store_apply; create, update and delete are its one-write case):
 * a batch is BEGIN IMMEDIATE; each write and the INSERT of its audit event,
 * in order; COMMIT. A guard reads the record's version, which stays so
 * because the transaction holds the write lock until COMMIT; a delete-all
 * makes its events from the matching records in one INSERT ... SELECT and
 * deletes them in one DELETE. The deadline is checked before each write and
 * before COMMIT, so a batch never commits after it.
 *
 * Errors: any failure rolls the whole batch back. SQLITE_BUSY/LOCKED past the
 * timeout, and SQLITE_IOERR/FULL/CANTOPEN/READONLY (a failing, full or
 * read-only disk) are STORE_UNAVAILABLE: the transaction was rolled back and
 * never acknowledged, and the condition is one an operator clears, so the
 * caller is told to retry later. A primary key or unique violation is
 * STORE_ALREADY_EXISTS; corruption and anything unexpected is STORE_INTERNAL.
 *
 * The file (sqlite_file.c has the details): start-up refuses an empty file,
 * a file that is not SQLite, a SQLite file that is not a supplysec store and
 * a missing file where the marker says a store was; a fresh store is made
 * only where none ever was, or by init. While open, the store keeps to the
 * files it opened: before every COMMIT (one or two stat calls, nothing next
 * to the fsync) and in the health probe it checks that they are still the
 * ones at their paths. When they are not, the transaction is rolled back.
 * A deleted file is then put back from the open database, which still holds
 * every committed write (copied into a new file, linked into place, and every
 * connection reopened on it, with the other connections drained first), and
 * the write runs again on it: nothing acknowledged is lost, and an operator
 * who ran `rm data/supplysec.db*` finds the store back within a second. A
 * replaced file is not touched (someone put it there): writes are
 * STORE_UNAVAILABLE until a restart, which checks the new file's identity.
 *
 * Faults and health: SQLite's failures are classified as they happen (disk
 * full, read-only, I/O error, corrupt; the file moved) into one sticky fault,
 * logged once as an ERROR when it appears. The health probe (store_health,
 * at most about once a second) reports it, with what statvfs says of the
 * filesystem (mounted read-only, no space left) and the files check. Full,
 * read-only and I/O faults clear when a write succeeds, or when the probe's
 * own one-row test write does (at most once a second, only while faulted),
 * so health recovers without traffic. Corruption never clears: writes are
 * refused (STORE_INTERNAL: retrying cannot help, and writing into a damaged
 * b-tree can spread the damage) while reads go on, until the file is
 * restored from a backup and the server restarted.
 */
#include "store.h"

#include "audit_chain.h"
#include "clock.h"
#include "commit_gate.h"
#include "sqlite_file.h"

#include <errno.h>
#include <pthread.h>
#include <sqlite3.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <time.h>
#include <unistd.h>

/* 2: facets; 3: the audit log's hash chain. Older ones are upgraded in place
 * (schema_ensure). */
#define SCHEMA_VERSION 3
#define STRINGIFY_(x) #x
#define STRINGIFY(x) STRINGIFY_(x)
#define BUSY_TIMEOUT_MS 5000
#define POOL_MIN 4 /* connections at least, whatever the workers (see the top) */
/* While faulted, the health probe's test write runs at most this often, and
 * a failed attempt to put a deleted file back is retried no sooner. */
#define RETRY_INTERVAL_US 1000000
/* How long the health probe waits for the write lock (a writer holds it for
 * one transaction). */
#define PROBE_LOCK_WAIT_US 200000

/* A record's facets (store.h), one row per value; the value column has no
 * type, so integers stay integers and text text (a facet has one type).
 * The primary key serves the filters' EXISTS probes per record; the second
 * index a scan by value. */
/* Each event's place in its organization's hash chain and its hash
 * (audit_chain.h); an event stored without them (by hand) has position 0 and
 * no hash, and breaks the chain where it stands. */
#define AUDIT_CHAIN_COLUMNS " position INTEGER NOT NULL DEFAULT 0, hash BLOB"
#define AUDIT_CHAIN_INDEX                                                                          \
    "CREATE INDEX IF NOT EXISTS audit_by_position ON audit_events (org, position);"

#define FACETS_SQL                                                                                 \
    "CREATE TABLE IF NOT EXISTS facets ("                                                          \
    " collection TEXT NOT NULL, name TEXT NOT NULL, key TEXT NOT NULL, value NOT NULL,"            \
    " PRIMARY KEY (collection, name, key, value)) WITHOUT ROWID;"                                  \
    "CREATE INDEX IF NOT EXISTS facets_by_value ON facets (collection, key, value, name);"

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
    " version_after INTEGER NOT NULL, time_us INTEGER NOT NULL," AUDIT_CHAIN_COLUMNS ") STRICT;"
    "CREATE INDEX IF NOT EXISTS audit_by_org ON audit_events (org, seq);" FACETS_SQL
        AUDIT_CHAIN_INDEX "PRAGMA user_version = " STRINGIFY(SCHEMA_VERSION) ";";

#define RECORD_COLUMNS "collection, org, parent, name, state, lookup, version, doc"

enum stmt_id {
    ST_BEGIN,
    ST_COMMIT,
    ST_ROLLBACK,
    ST_SAVEPOINT,
    ST_RELEASE,
    ST_ROLLBACK_TO,
    ST_BEGIN_READ,
    ST_PING,
    ST_INSERT,
    ST_UPDATE,
    ST_DELETE,
    ST_VERSION,
    ST_DELETE_ALL_MATCH,
    ST_DELETE_ALL,
    ST_GET,
    ST_GET_BY_LOOKUP,
    ST_AUDIT_INSERT,
    ST_AUDIT_HEAD,
    ST_AUDIT_LIST,
    ST_AUDIT_LIST_NEWEST,
    ST_COLLECTIONS,
    ST_AUDIT_ORGS,
    ST_PROBE,
    ST_FACET_INSERT,
    ST_FACETS_DELETE,
    ST_FACETS_DELETE_ALL,
    ST_META_GET,
    ST_META_PUT,
    ST_LIST_FIRST, /* + a LIST_* mask: the list variant with those filters */
    ST_COUNT = ST_LIST_FIRST + 8,
};

enum { LIST_ORG = 1, LIST_PARENT = 2, LIST_STATE = 4 };

static const char *const fixed_sql[ST_LIST_FIRST] = {
    [ST_BEGIN] = "BEGIN IMMEDIATE",
    [ST_COMMIT] = "COMMIT",
    [ST_ROLLBACK] = "ROLLBACK",
    [ST_SAVEPOINT] = "SAVEPOINT batch",
    [ST_RELEASE] = "RELEASE batch",
    [ST_ROLLBACK_TO] = "ROLLBACK TO batch",
    [ST_BEGIN_READ] = "BEGIN",
    [ST_PING] = "SELECT 1",
    [ST_INSERT] =
        "INSERT INTO resources (" RECORD_COLUMNS ") VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
    [ST_UPDATE] = "UPDATE resources SET parent = ?3, state = ?5, lookup = ?6, version = ?7,"
                  " doc = ?8 WHERE collection = ?1 AND name = ?4 AND org = ?2 AND version = ?9",
    [ST_DELETE] = "DELETE FROM resources WHERE collection = ?1 AND name = ?3 AND org = ?2"
                  " AND (?4 = 0 OR version = ?4) RETURNING version",
    [ST_VERSION] = "SELECT version FROM resources WHERE collection = ?1 AND name = ?3 AND org = ?2",
    /* The records a delete-all deletes, for their events. */
    [ST_DELETE_ALL_MATCH] = "SELECT name, version FROM resources WHERE collection = ?1"
                            " AND org = ?2 AND (?3 IS NULL OR parent = ?3) ORDER BY name",
    [ST_DELETE_ALL] = "DELETE FROM resources WHERE collection = ?1 AND org = ?2"
                      " AND (?3 IS NULL OR parent = ?3)",
    [ST_GET] = "SELECT " RECORD_COLUMNS " FROM resources"
               " WHERE collection = ?1 AND name = ?3 AND (?2 IS NULL OR org = ?2)",
    [ST_GET_BY_LOOKUP] = "SELECT " RECORD_COLUMNS " FROM resources"
                         " WHERE collection = ?1 AND lookup = ?2",
    [ST_AUDIT_INSERT] =
        "INSERT INTO audit_events (org, principal, role, method, resource,"
        " request_id, version_before, version_after, time_us, principal_org,"
        " position, hash) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12)",
    /* The head of an organization's chain: its latest event. */
    [ST_AUDIT_HEAD] = "SELECT position, hash FROM audit_events WHERE org = ?1"
                      " ORDER BY seq DESC LIMIT 1",
    [ST_AUDIT_LIST] = "SELECT seq, principal, org, role, method, resource, request_id,"
                      " version_before, version_after, time_us, principal_org, position, hash"
                      " FROM audit_events WHERE org = ?1 AND seq > ?2 ORDER BY seq LIMIT ?3",
    [ST_AUDIT_LIST_NEWEST] = "SELECT seq, principal, org, role, method, resource, request_id,"
                             " version_before, version_after, time_us, principal_org, position,"
                             " hash FROM audit_events WHERE org = ?1 AND seq < ?2"
                             " ORDER BY seq DESC LIMIT ?3",
    [ST_COLLECTIONS] = "SELECT DISTINCT collection FROM resources ORDER BY collection",
    [ST_AUDIT_ORGS] = "SELECT DISTINCT org FROM audit_events ORDER BY org",
    /* The health probe's test write (store_meta is sqlite_file.c's). */
    [ST_PROBE] = "INSERT INTO store_meta (key, value) VALUES ('health_probe', ?1)"
                 " ON CONFLICT (key) DO UPDATE SET value = excluded.value",
    [ST_FACET_INSERT] = "INSERT OR IGNORE INTO facets (collection, name, key, value)"
                        " VALUES (?1, ?2, ?3, ?4)",
    [ST_FACETS_DELETE] = "DELETE FROM facets WHERE collection = ?1 AND name = ?2",
    /* before ST_DELETE_ALL, the same match */
    [ST_FACETS_DELETE_ALL] = "DELETE FROM facets WHERE collection = ?1 AND name IN"
                             " (SELECT name FROM resources WHERE collection = ?1 AND org = ?2"
                             " AND (?3 IS NULL OR parent = ?3))",
    /* store_facet_mark's marks, under the key "facets:<collection>" */
    [ST_META_GET] = "SELECT value FROM store_meta WHERE key = 'facets:' || ?1",
    [ST_META_PUT] = "INSERT INTO store_meta (key, value) VALUES ('facets:' || ?1, ?2)"
                    " ON CONFLICT (key) DO UPDATE SET value = excluded.value",
};

typedef struct conn {
    sqlite3 *db; /* NULL once closed */
    sqlite3_stmt *stmts[ST_COUNT];
    int64_t busy_until_us;     /* the busy handler gives up then (CLOCK_MONOTONIC) */
    int fault_rc, fault_errno; /* the first fault-class failure since taken, for pool_give */
    commit_gate *gate;         /* the store's: a closed gate ends a busy wait */
} conn;

/* Sticky faults, in rising severity: one is only replaced by a worse one. */
typedef enum fault {
    FAULT_NONE,
    FAULT_IO,       /* an I/O error */
    FAULT_FULL,     /* no space left */
    FAULT_READONLY, /* the file or its filesystem refuses writes */
    FAULT_MOVED,    /* the open files are no longer the ones at their paths */
    FAULT_CORRUPT,  /* SQLite found the database damaged */
} fault;

typedef struct sqlite_store {
    pthread_mutex_t pool_mu;
    pthread_cond_t pool_cv;
    pthread_mutex_t write_mu;
    conn *conns;
    size_t nconns; /* opened so far */
    conn **idle;
    size_t nidle;
    bool draining; /* putting files back: pool_take waits (under pool_mu) */
    bool broken;   /* reopening failed: pool_take gives nothing (under pool_mu) */
    bool open;     /* opening finished */
    bool memory;
    sqlite_paths paths;                 /* unset for ":memory:" */
    sqlite_file_id wal_id, shm_id;      /* the -wal and -shm files the connections opened */
    int64_t restore_tried_us, probe_us; /* under write_mu */
    pthread_mutex_t fault_mu;           /* guards the rest */
    fault fault;
    char fault_why[512];
    bool fs_readonly, fs_full; /* what the probe's statvfs saw last */
    /* The monitor thread runs the health probe every second, so a deleted
     * file is put back (and a fault logged) without waiting for traffic. */
    pthread_t monitor;
    bool monitor_running, monitor_stop; /* under monitor_mu */
    pthread_mutex_t monitor_mu;
    pthread_cond_t monitor_cv;
    /* Group commit (store_sqlite_apply): batches waiting to be written, and
     * whether a writer is writing a group now; under group_mu. */
    pthread_mutex_t group_mu;
    pthread_cond_t group_cv;
    struct commit_member *group_queue, **group_tail;
    bool group_leader;
    commit_gate gate; /* every COMMIT of a write passes it (store_refuse_writes) */
} sqlite_store;

/* What a write transaction runs: a batch of store.h writes (apply), or one
 * record or event of an import, a facet mark, a record's facets given
 * anew. Each body reads the fields it uses. */
typedef struct write_args {
    const store_write *writes; /* apply: writes[0..n) */
    size_t n;
    size_t failed; /* apply: the first failing write's index (n: the batch's); refacet: done */
    const store_record *rec;    /* import_record; refacet: rec[0..n) */
    const store_audit *ev;      /* append_audit */
    const char *collection;     /* set_facet_mark */
    const char *mark;           /* set_facet_mark */
    struct commit_group *group; /* group_body */
    int64_t deadline_us;        /* clock_monotonic_us() time; 0: none */
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

/* ---- faults ---- */

static const char *store_path(const sqlite_store *sq)
{
    return sq->memory ? ":memory:" : sq->paths.db;
}

/* Records f unless a worse fault is there; logs it (once per new text). */
static void fault_raise(sqlite_store *sq, fault f, const char *why)
{
    pthread_mutex_lock(&sq->fault_mu);
    bool news = f > sq->fault || (f == sq->fault && strcmp(why, sq->fault_why) != 0);
    if (news) {
        sq->fault = f;
        snprintf(sq->fault_why, sizeof sq->fault_why, "%s", why);
    }
    pthread_mutex_unlock(&sq->fault_mu);
    if (news)
        store_log(true, "store", why);
}

/* Clears the fault when it is one of lo..hi, saying how in the log (and,
 * for the faults a write clears, what it was). */
static void fault_clear(sqlite_store *sq, fault lo, fault hi, const char *how)
{
    char was[sizeof sq->fault_why] = "";
    pthread_mutex_lock(&sq->fault_mu);
    bool cleared = sq->fault != FAULT_NONE && sq->fault >= lo && sq->fault <= hi;
    if (cleared) {
        snprintf(was, sizeof was, "%s", sq->fault_why);
        sq->fault = FAULT_NONE;
        sq->fault_why[0] = '\0';
    }
    pthread_mutex_unlock(&sq->fault_mu);
    if (cleared && lo == FAULT_MOVED) { /* how tells the whole story */
        store_log(false, "store", how);
    } else if (cleared) {
        char line[sizeof was + 256];
        snprintf(line, sizeof line, "%s; it was: %s", how, was);
        store_log(false, "store", line);
    }
}

static fault fault_now(sqlite_store *sq)
{
    pthread_mutex_lock(&sq->fault_mu);
    fault f = sq->fault;
    pthread_mutex_unlock(&sq->fault_mu);
    return f;
}

/* Failures that say something about the file or the disk, not about one
 * statement (busy, constraint, misuse). */
static bool rc_is_fault(int rc)
{
    switch (rc & 0xff) {
    case SQLITE_FULL:
    case SQLITE_READONLY:
    case SQLITE_IOERR:
    case SQLITE_CANTOPEN:
    case SQLITE_CORRUPT:
    case SQLITE_NOTADB:
        return true;
    default:
        return false;
    }
}

/* The fault a failure rc (with the errno SQLite saw) shows. */
static void fault_from_rc(sqlite_store *sq, int rc, int err)
{
    char why[512];
    const char *path = store_path(sq);
    int primary = rc & 0xff;
    fault f;
    if (primary == SQLITE_CORRUPT || primary == SQLITE_NOTADB) {
        f = FAULT_CORRUPT;
        snprintf(why, sizeof why,
                 "the store file %s is corrupt (%s): writes are refused; restore it from a "
                 "backup and restart",
                 path, sqlite3_errstr(rc));
    } else if (rc == SQLITE_READONLY_DBMOVED) {
        f = FAULT_MOVED;
        snprintf(why, sizeof why, "the store file %s was moved while open", path);
    } else if (primary == SQLITE_FULL || err == ENOSPC || err == EDQUOT) {
        f = FAULT_FULL;
        snprintf(why, sizeof why, "the filesystem holding the store %s is full: writes fail (%s)",
                 path, sqlite3_errstr(rc));
    } else if (primary == SQLITE_READONLY || err == EROFS) {
        f = FAULT_READONLY;
        snprintf(why, sizeof why, "the store %s is read-only: writes fail (%s%s%s)", path,
                 sqlite3_errstr(rc), err ? ": " : "", err ? strerror(err) : "");
    } else {
        f = FAULT_IO;
        snprintf(why, sizeof why, "I/O error on the store %s (%s%s%s)", path, sqlite3_errstr(rc),
                 err ? ": " : "", err ? strerror(err) : "");
    }
    fault_raise(sq, f, why);
}

/* The errno behind db's last I/O failure: the write-ahead log's or the
 * store file's own record of it (sqlite3_system_errno reads errno after
 * SQLite has made other calls, and often finds 0). */
static int failure_errno(sqlite3 *db)
{
    int err = 0;
    sqlite3_file *log = NULL;
    if (sqlite3_file_control(db, "main", SQLITE_FCNTL_JOURNAL_POINTER, &log) == SQLITE_OK && log &&
        log->pMethods && log->pMethods->xFileControl &&
        log->pMethods->xFileControl(log, SQLITE_FCNTL_LAST_ERRNO, &err) == SQLITE_OK && err)
        return err;
    if (sqlite3_file_control(db, "main", SQLITE_FCNTL_LAST_ERRNO, &err) == SQLITE_OK && err)
        return err;
    return sqlite3_system_errno(db);
}

/* Remembers c's first fault-class failure; pool_give reports it. */
static void conn_note(conn *c, int rc)
{
    if (c->fault_rc == 0 && rc_is_fault(rc)) {
        c->fault_rc = rc;
        c->fault_errno = failure_errno(c->db);
    }
}

/* ---- statements ---- */

/* A list's query up to its WHERE conditions (a filter's clause, when there
 * is one, is ANDed after them), and its tail. */
#define LIST_TAIL " ORDER BY name LIMIT ?6"

static void list_sql_where(unsigned mask, char *buf, size_t size)
{
    snprintf(buf, size,
             "SELECT " RECORD_COLUMNS " FROM resources WHERE collection = ?1%s%s%s"
             " AND name > ?5",
             mask & LIST_ORG ? " AND org = ?2" : "", mask & LIST_PARENT ? " AND parent = ?3" : "",
             mask & LIST_STATE ? " AND state = ?4" : "");
}

static void list_sql(unsigned mask, char *buf, size_t size)
{
    list_sql_where(mask, buf, size);
    size_t n = strlen(buf);
    snprintf(buf + n, size - n, "%s", LIST_TAIL);
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
        if (rc != SQLITE_OK) {
            conn_note(c, sqlite3_extended_errcode(c->db));
            return failure_of(c->db);
        }
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

/* Steps s (a statement of c) once after its binders returned bind_rc; the
 * SQLite result code. */
static int stmt_step(conn *c, sqlite3_stmt *s, int bind_rc)
{
    if (bind_rc != SQLITE_OK)
        return bind_rc;
    int rc = sqlite3_step(s);
    if (rc == SQLITE_ROW || rc == SQLITE_DONE)
        return rc;
    rc = sqlite3_extended_errcode(c->db);
    conn_note(c, rc);
    return rc;
}

/* Runs a statement without parameters and results. */
static store_status exec_stmt(conn *c, int id)
{
    sqlite3_stmt *s;
    store_status st = stmt_get(c, id, &s);
    if (st != STORE_OK)
        return st;
    st = status_of(stmt_step(c, s, SQLITE_OK));
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
    e->position = sqlite3_column_int64(s, 11);
    e->hashed = sqlite3_column_bytes(s, 12) == (int)sizeof e->hash;
    if (e->hashed)
        memcpy(e->hash, sqlite3_column_blob(s, 12), sizeof e->hash);
    return ok ? STORE_OK : STORE_INTERNAL;
}

/* ---- the pool ---- */

/* The calling thread's read scope ("read snapshots", below). */
static _Thread_local struct {
    sqlite_store *sq; /* the store the scope is open for; NULL: none */
    conn *c;          /* its connection, read transaction open; NULL: none yet */
} scope;

static void scope_release(sqlite_store *sq);

/* An idle connection, waiting for one; NULL once the pool is broken. A
 * thread waits for one holding none: its scope's goes back first. */
static conn *pool_take(sqlite_store *sq)
{
    scope_release(sq);
    pthread_mutex_lock(&sq->pool_mu);
    while (!sq->broken && (sq->nidle == 0 || sq->draining))
        pthread_cond_wait(&sq->pool_cv, &sq->pool_mu);
    conn *c = sq->broken ? NULL : sq->idle[--sq->nidle];
    pthread_mutex_unlock(&sq->pool_mu);
    if (c)
        c->busy_until_us = clock_monotonic_us() + BUSY_TIMEOUT_MS * 1000LL;
    return c;
}

/* Gives c back, reporting the fault its use ran into. */
static void pool_give(sqlite_store *sq, conn *c)
{
    if (c->fault_rc) {
        fault_from_rc(sq, c->fault_rc, c->fault_errno);
        c->fault_rc = c->fault_errno = 0;
    }
    pthread_mutex_lock(&sq->pool_mu);
    sq->idle[sq->nidle++] = c;
    if (sq->draining) /* the drainer waits on the same condition as takers */
        pthread_cond_broadcast(&sq->pool_cv);
    else
        pthread_cond_signal(&sq->pool_cv);
    pthread_mutex_unlock(&sq->pool_mu);
}

/* Waits until every connection but the caller's is idle, and keeps them so
 * until pool_undrain. Only a holder of write_mu drains, and nobody waits for
 * write_mu while holding a connection, so this ends once readers are done. */
static void pool_drain(sqlite_store *sq)
{
    pthread_mutex_lock(&sq->pool_mu);
    sq->draining = true;
    while (sq->nidle + 1 < sq->nconns)
        pthread_cond_wait(&sq->pool_cv, &sq->pool_mu);
    pthread_mutex_unlock(&sq->pool_mu);
}

static void pool_undrain(sqlite_store *sq, bool broken)
{
    pthread_mutex_lock(&sq->pool_mu);
    sq->draining = false;
    sq->broken = sq->broken || broken;
    pthread_cond_broadcast(&sq->pool_cv);
    pthread_mutex_unlock(&sq->pool_mu);
}

/* ---- read snapshots (store_read_begin) ----
 *
 * A thread's scope (`scope`, above) names the store it is open for and,
 * once the scope has read, the connection it holds with a read transaction
 * open (BEGIN: the snapshot is taken by the first read). The reads of the
 * hot path take their connection through read_take, which gives the
 * scope's. Anything else releases it before it waits: pool_take (ping,
 * the probes, the admin reads), write_lock and a write's wait for its
 * group. So the pool's rules hold: nobody waits for a connection or for
 * write_mu holding a connection. A failed read's fault is reported when
 * the connection goes back, at the end of the scope. */

/* Ends the scope's read transaction and gives its connection back. The
 * connection goes back out of any transaction: a statement still running
 * would keep ROLLBACK from ending it, so they are reset first if need be. */
static void scope_release(sqlite_store *sq)
{
    if (scope.sq != sq || !scope.c)
        return;
    conn *c = scope.c;
    scope.c = NULL;
    if (!sqlite3_get_autocommit(c->db))
        (void)exec_stmt(c, ST_ROLLBACK); /* a read transaction: nothing to undo */
    if (!sqlite3_get_autocommit(c->db)) {
        for (sqlite3_stmt *s = sqlite3_next_stmt(c->db, NULL); s; s = sqlite3_next_stmt(c->db, s))
            sqlite3_reset(s);
        (void)exec_stmt(c, ST_ROLLBACK);
    }
    pool_give(sq, c);
}

static void store_sqlite_read_begin(void *impl)
{
    if (scope.sq) /* not nested: the scope still open ends here */
        scope_release(scope.sq);
    scope.sq = impl;
    scope.c = NULL;
}

static void store_sqlite_read_end(void *impl)
{
    if (scope.sq != impl)
        return;
    scope_release(impl);
    scope.sq = NULL;
}

static void store_sqlite_read_pause(void *impl)
{
    scope_release(impl);
}

/* A connection for a read: the scope's (its transaction begun), or one of
 * the pool's; NULL once the pool is broken. */
static conn *read_take(sqlite_store *sq)
{
    if (scope.sq != sq)
        return pool_take(sq);
    if (!scope.c) {
        conn *c = pool_take(sq);
        if (!c)
            return NULL;
        if (exec_stmt(c, ST_BEGIN_READ) != STORE_OK) { /* then each read on its own */
            pool_give(sq, c);
            return pool_take(sq);
        }
        scope.c = c;
    }
    return scope.c;
}

static void read_give(sqlite_store *sq, conn *c)
{
    if (scope.sq != sq || c != scope.c)
        pool_give(sq, c);
}

/* write_mu, waiting until until_us (CLOCK_MONOTONIC) at most. */
static bool write_lock(sqlite_store *sq, int64_t until_us)
{
    scope_release(sq);
    struct timespec until;
    int64_t wait_us = until_us - clock_monotonic_us();
    clock_gettime(CLOCK_REALTIME, &until);
    wait_us = wait_us > 0 ? wait_us : 0;
    until.tv_sec += (time_t)(wait_us / 1000000);
    until.tv_nsec += (long)(wait_us % 1000000) * 1000;
    if (until.tv_nsec >= 1000000000L) {
        until.tv_sec++;
        until.tv_nsec -= 1000000000L;
    }
    return pthread_mutex_timedlock(&sq->write_mu, &until) == 0;
}

/* ---- opening ---- */

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

/* Gives the events of a store written before the chain their positions and
 * hashes, per organization in the order they were committed (seq): what
 * was there is chained as it stands. Inside schema_ensure's transaction. */
static int audit_chain_backfill(sqlite3 *db)
{
    sqlite3_stmt *rd = NULL, *wr = NULL;
    char org[512] = "\x01"; /* no organization's id: the first event starts a chain */
    int64_t position = 0;
    uint8_t prev[AUDIT_HASH_LEN];
    int rc = sqlite3_prepare_v2(db,
                                "SELECT seq, principal, org, role, method, resource, request_id,"
                                " version_before, version_after, time_us, principal_org,"
                                " position, hash FROM audit_events ORDER BY org, seq",
                                -1, &rd, NULL);
    if (rc == SQLITE_OK)
        rc = sqlite3_prepare_v2(
            db, "UPDATE audit_events SET position = ?1, hash = ?2 WHERE seq = ?3", -1, &wr, NULL);
    while (rc == SQLITE_OK && (rc = sqlite3_step(rd)) == SQLITE_ROW) {
        store_audit_event *e = calloc(1, sizeof *e);
        if (!e || audit_read(rd, e) != STORE_OK) {
            rc = SQLITE_NOMEM;
        } else {
            if (strcmp(org, e->org) != 0) {
                snprintf(org, sizeof org, "%s", e->org);
                position = 0;
            }
            e->position = ++position;
            audit_chain_hash_event(e, position > 1 ? prev : NULL, prev);
            rc = sqlite3_bind_int64(wr, 1, position);
            if (rc == SQLITE_OK)
                rc = sqlite3_bind_blob(wr, 2, prev, AUDIT_HASH_LEN, SQLITE_TRANSIENT);
            if (rc == SQLITE_OK)
                rc = sqlite3_bind_int64(wr, 3, e->seq);
            if (rc == SQLITE_OK && (rc = sqlite3_step(wr)) == SQLITE_DONE)
                rc = sqlite3_reset(wr);
        }
        store_audit_events_free(e, e ? 1 : 0);
    }
    sqlite3_finalize(rd);
    sqlite3_finalize(wr);
    return rc == SQLITE_DONE ? SQLITE_OK : rc;
}

/* The schema at SCHEMA_VERSION; a newer release's store is refused. (A file
 * store's schema was made with the file, see sqlite_location_prepare.) */
static store_status schema_ensure(sqlite3 *db, char **err)
{
    int64_t version = -1;
    if (sqlite_query_int(db, "PRAGMA user_version", &version) != SQLITE_OK) {
        store_set_err(err, "cannot read the store schema version: %s", sqlite3_errmsg(db));
        return failure_of(db);
    }
    if (version == SCHEMA_VERSION)
        return STORE_OK;
    if (version < 1 || version > SCHEMA_VERSION) {
        store_set_err(err, "store schema version %lld is not %d: written by another release",
                      (long long)version, SCHEMA_VERSION);
        return STORE_INTERNAL;
    }
    /* One transaction from the release it was written by to this one. */
    int rc = sqlite3_exec(db, "BEGIN IMMEDIATE", NULL, NULL, NULL);
    if (rc == SQLITE_OK && version < 2) /* the release before facets: add their table */
        rc = sqlite3_exec(db, FACETS_SQL, NULL, NULL, NULL);
    if (rc == SQLITE_OK && version < 3) /* before the chain: chain the events there are */
        rc = sqlite3_exec(db,
                          "ALTER TABLE audit_events ADD COLUMN position INTEGER NOT NULL"
                          " DEFAULT 0; ALTER TABLE audit_events ADD COLUMN hash BLOB;",
                          NULL, NULL, NULL);
    if (rc == SQLITE_OK && version < 3)
        rc = audit_chain_backfill(db);
    if (rc == SQLITE_OK)
        rc = sqlite3_exec(
            db, AUDIT_CHAIN_INDEX "PRAGMA user_version = " STRINGIFY(SCHEMA_VERSION) "; COMMIT;",
            NULL, NULL, NULL);
    if (rc == SQLITE_OK)
        return STORE_OK;
    store_set_err(err, "cannot upgrade the store schema from version %lld: %s", (long long)version,
                  sqlite3_errmsg(db));
    sqlite3_exec(db, "ROLLBACK", NULL, NULL, NULL);
    return failure_of(db);
}

/* A memory store's schema: its database is new with its connection. */
static store_status schema_create_memory(sqlite3 *db, char **err)
{
    int rc = sqlite3_exec(db, "BEGIN IMMEDIATE", NULL, NULL, NULL);
    if (rc == SQLITE_OK)
        rc = sqlite3_exec(db, schema_sql, NULL, NULL, NULL);
    if (rc == SQLITE_OK) /* a file's is made with its identity (sqlite_file.c) */
        rc = sqlite3_exec(db, SQLITE_STORE_META_SQL, NULL, NULL, NULL);
    if (rc == SQLITE_OK)
        rc = sqlite3_exec(db, "COMMIT", NULL, NULL, NULL);
    if (rc == SQLITE_OK)
        return STORE_OK;
    store_set_err(err, "cannot create the store schema: %s", sqlite3_errmsg(db));
    return failure_of(db);
}

/* SQLite's busy handler: waits for another process's lock until the
 * connection's busy_until_us (BUSY_TIMEOUT_MS, or a write's deadline when
 * that comes first). */
static int busy_wait(void *arg, int count)
{
    conn *c = arg;
    if (clock_monotonic_us() >= c->busy_until_us || gate_is_closed(c->gate))
        return 0;
    struct timespec ts = {0, count < 10 ? 1000000L : 5000000L};
    nanosleep(&ts, NULL);
    return 1;
}

/* Opens one pooled connection; the first one also checks what the file is
 * (sqlite_store_identify: *msg gets what it did, or NULL) and sets it up. A
 * file store is never created here (no SQLITE_OPEN_CREATE): if the file went
 * away since sqlite_location_prepare, opening fails. */
static store_status conn_open(sqlite_store *sq, conn *c, bool first, bool init, char **msg)
{
    const char *path = store_path(sq);
    c->gate = &sq->gate;
    int flags = SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX | (sq->memory ? SQLITE_OPEN_CREATE : 0);
    int rc = sqlite3_open_v2(path, &c->db, flags, NULL);
    if (rc == SQLITE_OK) {
        sqlite3_extended_result_codes(c->db, 1);
        rc = sqlite3_busy_handler(c->db, busy_wait, c);
    }
    if (rc == SQLITE_OK)
        rc = sqlite3_exec(c->db, "PRAGMA synchronous=FULL", NULL, NULL, NULL);
    if (rc != SQLITE_OK) {
        store_set_err(msg, "cannot open the store %s: %s", path,
                      c->db ? sqlite3_errmsg(c->db) : sqlite3_errstr(rc));
        return c->db ? failure_of(c->db) : STORE_INTERNAL;
    }
    if (!first)
        return STORE_OK;
    store_status st =
        sq->memory ? STORE_OK : sqlite_store_identify(c->db, &sq->paths, init, SCHEMA_VERSION, msg);
    if (st == STORE_OK)
        st = journal_wal(c->db, sq->memory, msg);
    if (st == STORE_OK)
        st = sq->memory ? schema_create_memory(c->db, msg) : schema_ensure(c->db, msg);
    return st;
}

static void conn_close(conn *c)
{
    for (int i = 0; i < ST_COUNT; i++)
        sqlite3_finalize(c->stmts[i]);
    sqlite3_close(c->db);
    memset(c, 0, sizeof *c);
}

/* The identity of the -wal and -shm files the connections opened, to tell
 * them from others at the same paths later. */
static void files_record(sqlite_store *sq)
{
    if (sq->memory)
        return;
    sqlite_file_id_read(sq->paths.wal, &sq->wal_id);
    sqlite_file_id_read(sq->paths.shm, &sq->shm_id);
}

static void files_settle_at_close(sqlite_store *sq);
static void monitor_stop(sqlite_store *sq);

static void store_sqlite_close(void *impl)
{
    sqlite_store *sq = impl;
    if (!sq)
        return;
    monitor_stop(sq);
    if (sq->open)
        files_settle_at_close(sq);
    /* Closed in reverse: the first connection, last, checkpoints the WAL. */
    for (size_t i = sq->nconns; i-- > 0;)
        conn_close(&sq->conns[i]);
    pthread_cond_destroy(&sq->pool_cv);
    pthread_mutex_destroy(&sq->pool_mu);
    pthread_cond_destroy(&sq->group_cv);
    pthread_mutex_destroy(&sq->group_mu);
    gate_destroy(&sq->gate);
    pthread_mutex_destroy(&sq->write_mu);
    pthread_mutex_destroy(&sq->fault_mu);
    pthread_cond_destroy(&sq->monitor_cv);
    pthread_mutex_destroy(&sq->monitor_mu);
    sqlite_paths_free(&sq->paths);
    free(sq->conns);
    free(sq->idle);
    free(sq);
}

static store_status pool_open(sqlite_store *sq, size_t size, bool init, char **msg)
{
    sq->conns = calloc(size, sizeof *sq->conns);
    sq->idle = calloc(size, sizeof *sq->idle);
    if (!sq->conns || !sq->idle) {
        store_set_err(msg, "out of memory");
        return STORE_INTERNAL;
    }
    for (size_t i = 0; i < size; i++) {
        sq->nconns = i + 1;
        store_status st = conn_open(sq, &sq->conns[i], i == 0, init, msg);
        if (st != STORE_OK)
            return st;
        sq->idle[sq->nidle++] = &sq->conns[i];
    }
    files_record(sq);
    return STORE_OK;
}

/* Opens the store at uri with size connections (init: as store_init). On
 * success *msg is what start-up did to the location (created, adopted,
 * accepted), or NULL; on failure it is the error. */
static store_status sqlite_open(const char *uri, size_t size, bool init, sqlite_store **out,
                                char **msg)
{
    const char *path = uri + strlen("sqlite:");
    *out = NULL;
    if (!sqlite3_threadsafe()) {
        store_set_err(msg, "this SQLite library was built without thread support");
        return STORE_INTERNAL;
    }
    sqlite_store *sq = calloc(1, sizeof *sq);
    if (!sq) {
        store_set_err(msg, "out of memory");
        return STORE_INTERNAL;
    }
    pthread_mutex_init(&sq->pool_mu, NULL);
    pthread_cond_init(&sq->pool_cv, NULL);
    pthread_mutex_init(&sq->group_mu, NULL);
    pthread_condattr_t monotonic;
    pthread_condattr_init(&monotonic);
    pthread_condattr_setclock(&monotonic, CLOCK_MONOTONIC); /* deadlines are monotonic */
    pthread_cond_init(&sq->group_cv, &monotonic);
    pthread_condattr_destroy(&monotonic);
    gate_init(&sq->gate);
    sq->group_tail = &sq->group_queue;
    pthread_mutex_init(&sq->write_mu, NULL);
    pthread_mutex_init(&sq->fault_mu, NULL);
    pthread_mutex_init(&sq->monitor_mu, NULL);
    pthread_cond_init(&sq->monitor_cv, NULL);
    sq->memory = strcmp(path, ":memory:") == 0;
    store_status st = STORE_OK;
    bool created = false;
    char *prepared = NULL, *opened = NULL; /* what each step did, or its error */
    if (sq->memory) {
        size = 1; /* every connection to ":memory:" has a database of its own */
    } else if (!sqlite_paths_init(&sq->paths, path)) {
        store_set_err(&prepared, "the store path \"%s\" names no file", path);
        st = STORE_INVALID;
    } else {
        st = sqlite_location_prepare(&sq->paths, init, schema_sql, &created, &prepared);
    }
    /* A store just created needs no init: its marker already names it. */
    if (st == STORE_OK)
        st = pool_open(sq, size, init && !created, &opened);
    bool first_says = st != STORE_OK ? opened == NULL : created;
    *msg = first_says ? prepared : opened;
    free(first_says ? opened : prepared);
    if (st != STORE_OK) {
        store_sqlite_close(sq);
        return st;
    }
    sq->open = true;
    *out = sq;
    return STORE_OK;
}

static void probe(sqlite_store *sq);

static void *monitor_main(void *arg)
{
    sqlite_store *sq = arg;
    pthread_mutex_lock(&sq->monitor_mu);
    while (!sq->monitor_stop) {
        struct timespec until;
        clock_gettime(CLOCK_REALTIME, &until);
        until.tv_sec += RETRY_INTERVAL_US / 1000000;
        pthread_cond_timedwait(&sq->monitor_cv, &sq->monitor_mu, &until);
        if (sq->monitor_stop)
            break;
        pthread_mutex_unlock(&sq->monitor_mu);
        probe(sq);
        pthread_mutex_lock(&sq->monitor_mu);
    }
    pthread_mutex_unlock(&sq->monitor_mu);
    return NULL;
}

/* A failure to start it is logged: the store works, only slower to notice. */
static void monitor_start(sqlite_store *sq)
{
    int rc = pthread_create(&sq->monitor, NULL, monitor_main, sq);
    sq->monitor_running = rc == 0;
    if (rc != 0)
        store_log(true, "store", "cannot start the store file monitor thread");
}

static void monitor_stop(sqlite_store *sq)
{
    if (!sq->monitor_running)
        return;
    pthread_mutex_lock(&sq->monitor_mu);
    sq->monitor_stop = true;
    pthread_cond_signal(&sq->monitor_cv);
    pthread_mutex_unlock(&sq->monitor_mu);
    pthread_join(sq->monitor, NULL);
    sq->monitor_running = false;
}

static store_status store_sqlite_open(const char *uri, int workers, void **impl, char **err)
{
    sqlite_store *sq = NULL;
    char *said = NULL;
    size_t size = (size_t)workers + 1 < POOL_MIN ? POOL_MIN : (size_t)workers + 1;
    store_status st = sqlite_open(uri, size, false, &sq, &said);
    *impl = sq;
    if (st != STORE_OK) {
        if (err) {
            free(*err);
            *err = said;
        } else {
            free(said);
        }
        return st;
    }
    if (said) /* a fresh or adopted store: never silently */
        store_log(false, "store", said);
    free(said);
    if (!sq->memory)
        monitor_start(sq);
    return STORE_OK;
}

static store_status store_sqlite_init(const char *uri, char **msg)
{
    sqlite_store *sq = NULL;
    char *said = NULL;
    store_status st = sqlite_open(uri, 1, true, &sq, &said);
    if (st == STORE_OK && !said)
        store_set_err(&said, "%s", sq->memory ? "a memory store needs no init" : "nothing to do");
    store_sqlite_close(sq);
    if (msg)
        *msg = said;
    else
        free(said);
    return st;
}

static store_status store_sqlite_ping(void *impl)
{
    sqlite_store *sq = impl;
    conn *c = pool_take(sq);
    if (!c)
        return STORE_UNAVAILABLE;
    store_status st = exec_stmt(c, ST_PING);
    pool_give(sq, c);
    return st;
}

/* ---- the files while open ---- */

/* False, with the fault raised, when the files c has open are no longer the
 * ones at their paths; *state says how. */
static bool files_in_place(sqlite_store *sq, conn *c, sqlite_files_state *state)
{
    char why[512], line[768];
    *state = SQLITE_FILES_OK;
    if (sq->memory)
        return true;
    *state = sqlite_files_check(c->db, &sq->paths, &sq->wal_id, why, sizeof why);
    if (*state == SQLITE_FILES_OK)
        return true;
    if (fault_now(sq) >= FAULT_MOVED) /* already said, maybe with more (see files_restore) */
        return false;
    bool deleted = *state == SQLITE_FILES_DB_DELETED || *state == SQLITE_FILES_WAL_DELETED;
    snprintf(line, sizeof line, "%s; %s", why,
             deleted ? "putting it back from the open database (writes wait meanwhile)"
                     : "writes are refused until supplysecd is restarted, which checks the new "
                       "file against the marker");
    fault_raise(sq, FAULT_MOVED, line);
    return false;
}

/* Closes every connection and opens them again on the files now at the
 * path. The old connections keep their log and shared memory at close
 * (SQLITE_FCNTL_PERSIST_WAL): closing them deletes nothing at the paths,
 * which belong to the files put back. The caller drained the pool. */
static store_status pool_reopen(sqlite_store *sq, char *why, size_t size)
{
    int one = 1;
    char *err = NULL;
    store_status st = STORE_OK;
    for (size_t i = sq->nconns; i-- > 0;) {
        if (sq->conns[i].db)
            sqlite3_file_control(sq->conns[i].db, "main", SQLITE_FCNTL_PERSIST_WAL, &one);
        conn_close(&sq->conns[i]);
    }
    for (size_t i = 0; i < sq->nconns && st == STORE_OK; i++)
        st = conn_open(sq, &sq->conns[i], i == 0, false, &err);
    if (st == STORE_OK) {
        files_record(sq);
    } else {
        snprintf(why, size, "cannot reopen it: %s", err ? err : "?");
        for (size_t i = 0; i < sq->nconns; i++)
            conn_close(&sq->conns[i]);
    }
    free(err);
    return st;
}

/* Folds a deleted log back into the store file (which is still at its path)
 * by a full checkpoint through c: the open log still holds the frames. */
static store_status wal_fold(conn *c, char *why, size_t size)
{
    int log = -1, done = -1;
    int rc = sqlite3_wal_checkpoint_v2(c->db, "main", SQLITE_CHECKPOINT_TRUNCATE, &log, &done);
    if (rc == SQLITE_OK && log == done)
        return STORE_OK;
    snprintf(why, size, "cannot fold the log into the store file: %s",
             rc == SQLITE_OK ? "the checkpoint stopped short" : sqlite3_errmsg(c->db));
    return STORE_UNAVAILABLE;
}

/* Puts the files back when they were deleted (write_mu held, c taken): the
 * store file copied from the open database, or the log folded into the file;
 * then every connection reopened on the files at the path. Readers wait
 * meanwhile (the copy takes as long as reading the store once). True when
 * the files are in place, also when someone else put them back. */
static bool files_restore(sqlite_store *sq, conn *c)
{
    char why[512] = "", what[512], line[1280];
    sqlite_files_state fs = sqlite_files_check(c->db, &sq->paths, &sq->wal_id, what, sizeof what);
    if (fs == SQLITE_FILES_OK)
        return true;
    if (fs == SQLITE_FILES_DB_REPLACED || fs == SQLITE_FILES_WAL_REPLACED)
        return false;
    int64_t now = clock_monotonic_us();
    if (sq->restore_tried_us && now - sq->restore_tried_us < RETRY_INTERVAL_US)
        return false;
    sq->restore_tried_us = now;
    pool_drain(sq);
    store_status st =
        fs == SQLITE_FILES_DB_DELETED
            ? sqlite_file_restore(c->db, &sq->paths, &sq->wal_id, &sq->shm_id, why, sizeof why)
            : wal_fold(c, why, sizeof why);
    bool reopened = st == STORE_OK && pool_reopen(sq, why, sizeof why) == STORE_OK;
    pool_undrain(sq, st == STORE_OK && !reopened);
    if (reopened) {
        sq->restore_tried_us = 0;
        snprintf(line, sizeof line,
                 "%s, and was put back from the open database: every acknowledged write is "
                 "in it%s%s",
                 what, why[0] ? "; but: " : "", why);
        fault_clear(sq, FAULT_MOVED, FAULT_MOVED, line);
        return true;
    }
    if (st == STORE_OK) /* the data is at the path again, but this process cannot use it */
        snprintf(line, sizeof line,
                 "%s; it was put back from the open database, but %s: restart supplysecd", what,
                 why);
    else
        snprintf(line, sizeof line,
                 "%s; it cannot be put back (%s): writes are refused. Keep supplysecd running, "
                 "its open files hold the data (see /proc/%ld/fd); it tries again every second",
                 what, why, (long)getpid());
    fault_raise(sq, FAULT_MOVED, line);
    return false;
}

/* At close, the last chance to keep the data of a deleted store file: put
 * it back before the open database goes. And whenever the files at the
 * paths are not (or no longer) the ones open, the connections are told to
 * keep their log and shared memory (SQLITE_FCNTL_PERSIST_WAL), because
 * closing the last one otherwise deletes "<path>-wal" and "<path>-shm" by
 * name: files that now belong to someone else. (A deleted log alone needs
 * nothing: the last connection folds it into the file still at the path.) */
static void files_settle_at_close(sqlite_store *sq)
{
    char why[512], what[512], line[1280];
    conn *c = sq->memory || sq->broken ? NULL : &sq->conns[0];
    if (!c || !c->db)
        return;
    sqlite_files_state fs = sqlite_files_check(c->db, &sq->paths, &sq->wal_id, what, sizeof what);
    if (fs == SQLITE_FILES_OK || fs == SQLITE_FILES_WAL_DELETED)
        return;
    int one = 1;
    for (size_t i = 0; i < sq->nconns; i++)
        if (sq->conns[i].db)
            sqlite3_file_control(sq->conns[i].db, "main", SQLITE_FCNTL_PERSIST_WAL, &one);
    if (fs != SQLITE_FILES_DB_DELETED)
        return;
    store_status st =
        sqlite_file_restore(c->db, &sq->paths, &sq->wal_id, &sq->shm_id, why, sizeof why);
    if (st == STORE_OK)
        snprintf(line, sizeof line, "%s, and was put back from the open database at close", what);
    else
        snprintf(line, sizeof line, "%s; it cannot be put back at close (%s): its data is lost",
                 what, why);
    store_log(st != STORE_OK, "store", line);
}

/* ---- writes ---- */

/* Binds what one event of ev shares with every event of its write: ?1 org,
 * ?2 principal, ?3 role, ?4 method, ?6 request id, ?9 time, ?10 principal
 * org (the numbers of ST_AUDIT_INSERT's columns; ST_DELETE_ALL_AUDIT uses
 * the same). */
static int bind_event(sqlite3_stmt *s, const store_audit *ev, int rc)
{
    rc = bind_text(s, 1, ev->org ? ev->org : "", rc);
    rc = bind_text(s, 2, ev->principal ? ev->principal : "", rc);
    rc = bind_text(s, 3, ev->role ? ev->role : "", rc);
    rc = bind_text(s, 4, ev->method ? ev->method : "", rc);
    rc = bind_text(s, 6, ev->request_id ? ev->request_id : "", rc);
    rc = bind_int(s, 9, ev->time_us, rc);
    return bind_text(s, 10, ev->principal_org ? ev->principal_org : "", rc);
}

/* The head of org's chain: its latest event's position and hash (0 and
 * *hashed false for an empty log). The write lock the transaction holds
 * keeps it the head until COMMIT. */
static store_status audit_head(conn *c, const char *org, int64_t *position,
                               uint8_t hash[AUDIT_HASH_LEN], bool *hashed)
{
    sqlite3_stmt *s;
    store_status st = stmt_get(c, ST_AUDIT_HEAD, &s);
    *position = 0;
    *hashed = false;
    if (st != STORE_OK)
        return st;
    int rc = stmt_step(c, s, bind_text(s, 1, org, SQLITE_OK));
    if (rc == SQLITE_ROW) {
        *position = sqlite3_column_int64(s, 0);
        if ((*hashed = sqlite3_column_bytes(s, 1) == AUDIT_HASH_LEN))
            memcpy(hash, sqlite3_column_blob(s, 1), AUDIT_HASH_LEN);
        rc = SQLITE_DONE;
    }
    st = status_of(rc);
    stmt_release(s);
    return st;
}

/* Appends the event of ev for resource to its organization's chain. */
static store_status audit_insert_as(conn *c, const store_audit *ev, const char *resource,
                                    int64_t version_before, int64_t version_after)
{
    sqlite3_stmt *s;
    int64_t position;
    uint8_t prev[AUDIT_HASH_LEN], hash[AUDIT_HASH_LEN];
    bool hashed;
    const char *org = ev->org ? ev->org : "";
    resource = resource ? resource : "";
    store_status st = audit_head(c, org, &position, prev, &hashed);
    if (st != STORE_OK || (st = stmt_get(c, ST_AUDIT_INSERT, &s)) != STORE_OK)
        return st;
    audit_chain_hash(ev, resource, version_before, version_after, position + 1,
                     hashed ? prev : NULL, hash);
    int rc = bind_event(s, ev, SQLITE_OK);
    rc = bind_text(s, 5, resource, rc);
    rc = bind_int(s, 7, version_before, rc);
    rc = bind_int(s, 8, version_after, rc);
    rc = bind_int(s, 11, position + 1, rc);
    if (rc == SQLITE_OK)
        rc = sqlite3_bind_blob(s, 12, hash, AUDIT_HASH_LEN, SQLITE_TRANSIENT);
    st = status_of(stmt_step(c, s, rc));
    stmt_release(s);
    return st;
}

static store_status audit_insert(conn *c, const store_audit *ev, int64_t version_before)
{
    return audit_insert_as(c, ev, ev->resource, version_before, ev->version_after);
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

/* The stored version of (collection, org, name); NOT_FOUND when there is
 * no such record in that org. */
static store_status stored_version(conn *c, const char *collection, const char *org,
                                   const char *name, int64_t *version)
{
    sqlite3_stmt *s;
    store_status st = stmt_get(c, ST_VERSION, &s);
    if (st != STORE_OK)
        return st;
    int rc = bind_text(s, 1, collection, SQLITE_OK);
    rc = bind_text(s, 2, org, rc);
    rc = bind_text(s, 3, name, rc);
    rc = stmt_step(c, s, rc);
    if (rc == SQLITE_ROW)
        *version = sqlite3_column_int64(s, 0);
    st = rc == SQLITE_ROW ? STORE_OK : rc == SQLITE_DONE ? STORE_NOT_FOUND : status_of(rc);
    stmt_release(s);
    return st;
}

/* After a conditional write matched nothing: CONFLICT when the record
 * exists in that org (at another version), else NOT_FOUND. */
static store_status conflict_or_missing(conn *c, const char *collection, const char *org,
                                        const char *name)
{
    int64_t version;
    store_status st = stored_version(c, collection, org, name, &version);
    return st == STORE_OK ? STORE_CONFLICT : st;
}

/* Replaces the facets of (collection, name) with rec's (none: removes them). */
static store_status facets_put(conn *c, const char *collection, const char *name,
                               const store_facet *facets, size_t n)
{
    sqlite3_stmt *s;
    store_status st = stmt_get(c, ST_FACETS_DELETE, &s);
    if (st != STORE_OK)
        return st;
    int rc = bind_text(s, 1, collection, SQLITE_OK);
    st = status_of(stmt_step(c, s, bind_text(s, 2, name, rc)));
    stmt_release(s);
    for (size_t i = 0; i < n && st == STORE_OK; i++) {
        if ((st = stmt_get(c, ST_FACET_INSERT, &s)) != STORE_OK)
            break;
        rc = bind_text(s, 1, collection, SQLITE_OK);
        rc = bind_text(s, 2, name, rc);
        rc = bind_text(s, 3, facets[i].key, rc);
        rc = facets[i].value.type == FACET_STRING ? bind_text(s, 4, facets[i].value.s, rc)
                                                  : bind_int(s, 4, facets[i].value.i, rc);
        st = status_of(stmt_step(c, s, rc));
        stmt_release(s);
    }
    return st;
}

static store_status insert_record(conn *c, const store_record *rec)
{
    sqlite3_stmt *s;
    store_status st = stmt_get(c, ST_INSERT, &s);
    if (st != STORE_OK)
        return st;
    st = status_of(stmt_step(c, s, bind_record(s, rec)));
    stmt_release(s);
    return st == STORE_OK ? facets_put(c, rec->collection, rec->name, rec->facets, rec->n_facets)
                          : st;
}

static store_status create_one(conn *c, const store_write *w)
{
    store_status st = insert_record(c, w->rec);
    return st == STORE_OK ? audit_insert(c, w->ev, w->ev->version_before) : st;
}

static store_status update_one(conn *c, const store_write *w)
{
    sqlite3_stmt *s;
    store_status st = stmt_get(c, ST_UPDATE, &s);
    if (st != STORE_OK)
        return st;
    int rc = bind_int(s, 9, w->expected_version, bind_record(s, w->rec));
    st = status_of(stmt_step(c, s, rc));
    int changed = sqlite3_changes(c->db);
    stmt_release(s);
    if (st == STORE_OK && changed == 0)
        st = conflict_or_missing(c, w->rec->collection, w->rec->org, w->rec->name);
    if (st == STORE_OK)
        st = facets_put(c, w->rec->collection, w->rec->name, w->rec->facets, w->rec->n_facets);
    return st == STORE_OK ? audit_insert(c, w->ev, w->ev->version_before) : st;
}

/* The event records the version actually deleted, also when any was. */
static store_status delete_one(conn *c, const store_write *w)
{
    sqlite3_stmt *s;
    int64_t deleted = 0;
    store_status st = stmt_get(c, ST_DELETE, &s);
    if (st != STORE_OK)
        return st;
    int rc = bind_text(s, 1, w->collection, SQLITE_OK);
    rc = bind_text(s, 2, w->org, rc);
    rc = bind_text(s, 3, w->name, rc);
    rc = stmt_step(c, s, bind_int(s, 4, w->expected_version, rc));
    if (rc == SQLITE_ROW) {
        deleted = sqlite3_column_int64(s, 0);
        rc = stmt_step(c, s, SQLITE_OK);
    }
    st = status_of(rc);
    stmt_release(s);
    if (st == STORE_OK && deleted == 0)
        st = conflict_or_missing(c, w->collection, w->org, w->name);
    if (st == STORE_OK)
        st = facets_put(c, w->collection, w->name, NULL, 0);
    return st == STORE_OK ? audit_insert(c, w->ev, deleted) : st;
}

/* Writes nothing: the transaction holds the write lock from BEGIN
 * IMMEDIATE to COMMIT, so what is read here stays so until the batch
 * commits. */
static store_status guard_one(conn *c, const store_write *w)
{
    int64_t version = 0;
    store_status st = stored_version(c, w->collection, w->org, w->name, &version);
    if (st == STORE_OK && w->expected_version != 0 && version != w->expected_version)
        st = STORE_CONFLICT;
    return st;
}

/* One event per record, in name order, from the records themselves (their
 * name and version), then the records: both statements match the same
 * rows, as nobody else writes inside the transaction. */
static store_status delete_all_one(conn *c, const store_write *w)
{
    sqlite3_stmt *s;
    store_status st = stmt_get(c, ST_DELETE_ALL_MATCH, &s);
    if (st != STORE_OK)
        return st;
    int rc = bind_text(s, 1, w->collection, SQLITE_OK);
    rc = bind_text(s, 2, w->org, rc);
    rc = stmt_step(c, s, bind_text(s, 3, w->parent, rc));
    for (; rc == SQLITE_ROW && st == STORE_OK; rc = stmt_step(c, s, SQLITE_OK))
        st = audit_insert_as(c, w->ev, (const char *)sqlite3_column_text(s, 0),
                             sqlite3_column_int64(s, 1), 0);
    if (st == STORE_OK)
        st = status_of(rc);
    stmt_release(s);
    if (st != STORE_OK || (st = stmt_get(c, ST_FACETS_DELETE_ALL, &s)) != STORE_OK)
        return st;
    rc = bind_text(s, 1, w->collection, SQLITE_OK);
    rc = bind_text(s, 2, w->org, rc);
    st = status_of(stmt_step(c, s, bind_text(s, 3, w->parent, rc)));
    stmt_release(s);
    if (st != STORE_OK || (st = stmt_get(c, ST_DELETE_ALL, &s)) != STORE_OK)
        return st;
    rc = bind_text(s, 1, w->collection, SQLITE_OK);
    rc = bind_text(s, 2, w->org, rc);
    st = status_of(stmt_step(c, s, bind_text(s, 3, w->parent, rc)));
    stmt_release(s);
    return st;
}

static store_status write_one(conn *c, const store_write *w)
{
    switch (w->kind) {
    case STORE_WRITE_CREATE:
        return create_one(c, w);
    case STORE_WRITE_UPDATE:
        return update_one(c, w);
    case STORE_WRITE_DELETE:
        return delete_one(c, w);
    case STORE_WRITE_GUARD:
        return guard_one(c, w);
    case STORE_WRITE_DELETE_ALL:
        return delete_all_one(c, w);
    }
    return STORE_INVALID;
}

static bool deadline_passed(int64_t deadline_us)
{
    return deadline_us > 0 && clock_monotonic_us() >= deadline_us;
}

/* The writes in order, up to the first failure. The deadline is checked
 * before each, so that a long batch stops once it has passed. A failure
 * that is not about one write's record (the deadline, the disk, the lock)
 * is the batch's: failed stays n. */
static store_status apply_body(conn *c, write_args *a)
{
    a->failed = a->n; /* the body may run twice (see write_locked) */
    for (size_t i = 0; i < a->n; i++) {
        if (deadline_passed(a->deadline_us))
            return STORE_DEADLINE_EXCEEDED;
        store_status st = write_one(c, &a->writes[i]);
        if (st != STORE_OK) {
            if (st != STORE_DEADLINE_EXCEEDED && st != STORE_UNAVAILABLE)
                a->failed = i;
            return st;
        }
    }
    return STORE_OK;
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

/* Runs body in one transaction on c (write_mu held). Corruption refuses it.
 * The deadline is checked once the transaction holds the lock and again
 * before COMMIT, so nothing commits after it. Before COMMIT the files are
 * checked: when they moved the transaction is rolled back, and when they
 * were deleted they are put back and the body runs again on them, once. */
static store_status write_locked(sqlite_store *sq, conn *c,
                                 store_status (*body)(conn *, write_args *), write_args *a)
{
    int64_t deadline = a->deadline_us;
    if (fault_now(sq) == FAULT_CORRUPT)
        return STORE_INTERNAL;
    for (int attempt = 0;; attempt++) {
        store_status st = exec_stmt(c, ST_BEGIN);
        if (st != STORE_OK)
            return deadline_passed(deadline) ? STORE_DEADLINE_EXCEEDED : st;
        st = deadline_passed(deadline) ? STORE_DEADLINE_EXCEEDED : body(c, a);
        if (st == STORE_OK && deadline_passed(deadline))
            st = STORE_DEADLINE_EXCEEDED; /* it passed while the body ran */
        sqlite_files_state fs;
        bool moved = st == STORE_OK && !files_in_place(sq, c, &fs);
        bool entered = st == STORE_OK && !moved && gate_enter(&sq->gate);
        if (st == STORE_OK && !moved && !entered)
            st = STORE_UNAVAILABLE; /* the server is stopping: nothing commits now */
        st = tx_end(c, moved ? STORE_UNAVAILABLE : st);
        if (entered)
            gate_leave(&sq->gate);
        if (!moved || attempt > 0 || !files_restore(sq, c))
            return st;
        /* c was reopened: its busy wait is bounded afresh, as pool_take does */
        c->busy_until_us = clock_monotonic_us() + BUSY_TIMEOUT_MS * 1000LL;
        if (deadline > 0 && deadline < c->busy_until_us)
            c->busy_until_us = deadline;
    }
}

/* Runs body in one write transaction on a pooled connection. The deadline
 * bounds the wait for the lock and is checked again once it is held. The
 * lock is taken before the connection, so that nobody waits for it holding
 * a connection (see pool_drain). */
static store_status write_tx(sqlite_store *sq, store_status (*body)(conn *, write_args *),
                             write_args *a)
{
    int64_t deadline = a->deadline_us;
    /* Queueing behind other writers is bounded the same way as the busy wait. */
    int64_t until = clock_monotonic_us() + BUSY_TIMEOUT_MS * 1000LL;
    if (deadline > 0 && deadline < until)
        until = deadline;
    if (!write_lock(sq, until))
        return deadline_passed(deadline) ? STORE_DEADLINE_EXCEEDED : STORE_UNAVAILABLE;
    conn *c = pool_take(sq);
    store_status st = STORE_UNAVAILABLE;
    if (c) {
        c->busy_until_us = until;
        st = write_locked(sq, c, body, a);
        pool_give(sq, c);
    }
    pthread_mutex_unlock(&sq->write_mu);
    if (st == STORE_OK)
        fault_clear(sq, FAULT_IO, FAULT_READONLY, "a write succeeded");
    return st;
}

/* The batch's deadline: its events' earliest (0: none). */
static int64_t batch_deadline(const store_write *writes, size_t n)
{
    int64_t deadline = 0;
    for (size_t i = 0; i < n; i++) {
        int64_t d = writes[i].ev ? writes[i].ev->deadline_us : 0;
        if (d > 0 && (deadline == 0 || d < deadline))
            deadline = d;
    }
    return deadline;
}

/* ---- group commit ----
 *
 * Batches that arrive while a transaction commits wait, and the next
 * writer (the leader) writes all of them in one transaction: each batch
 * inside a savepoint, so a batch that fails is rolled back alone and the
 * others commit; one COMMIT, so one WAL append and one fsync for the group
 * (docs/performance.md: CreateOrganization at 32 streams). Every batch is
 * answered only after the COMMIT that holds it returned, so nothing is
 * acknowledged before it is durable, and a failed COMMIT fails every batch
 * of the group. A batch whose deadline passes before COMMIT is not
 * committed: the group is rolled back and written again without it. A lone
 * writer never waits for company. */

#define GROUP_MAX_BATCHES 64

typedef struct commit_member {
    write_args a;
    store_status st;
    bool taken; /* a leader is writing it (under group_mu) */
    bool done;  /* under group_mu */
    struct commit_member *next;
} commit_member;

typedef struct commit_group {
    commit_member *first; /* linked by next, count members */
    size_t count;
    bool expired; /* a member's deadline passed while the group ran */
} commit_group;

static bool is_record_failure(const commit_member *m)
{
    return m->a.failed < m->a.n; /* else the failure was the batch's (apply_body) */
}

/* Writes each member not yet answered inside its own savepoint. A member
 * whose own writes fail is rolled back to its savepoint and answered with
 * that; a failure of the transaction itself (the disk, the lock) ends the
 * group. Runs again from the start when write_locked repeats it. */
static store_status group_body(conn *c, write_args *ga)
{
    commit_group *g = ga->group;
    bool alone = g->count == 1;
    for (commit_member *m = g->first; m; m = m->next) {
        if (m->st == STORE_DEADLINE_EXCEEDED)
            continue; /* expired in an earlier round */
        if (deadline_passed(m->a.deadline_us)) {
            m->st = STORE_DEADLINE_EXCEEDED;
            m->a.failed = m->a.n;
            continue;
        }
        store_status st = alone ? STORE_OK : exec_stmt(c, ST_SAVEPOINT);
        if (st == STORE_OK)
            st = apply_body(c, &m->a);
        m->st = st;
        if (alone || st == STORE_OK) {
            if (st == STORE_OK && !alone)
                st = exec_stmt(c, ST_RELEASE);
            if (st != STORE_OK)
                return st;
            continue;
        }
        if (!is_record_failure(m) && st != STORE_DEADLINE_EXCEEDED)
            return st; /* the transaction's own failure */
        st = exec_stmt(c, ST_ROLLBACK_TO);
        if (st == STORE_OK)
            st = exec_stmt(c, ST_RELEASE);
        if (st != STORE_OK)
            return st;
    }
    for (commit_member *m = g->first; m; m = m->next)
        if (m->st == STORE_OK && deadline_passed(m->a.deadline_us)) {
            m->st = STORE_DEADLINE_EXCEEDED;
            m->a.failed = m->a.n;
            g->expired = true;
        }
    return g->expired ? STORE_DEADLINE_EXCEEDED : STORE_OK;
}

/* Members whose deadline has passed leave the group (DEADLINE_EXCEEDED);
 * true when one did. */
static bool group_drop_expired(commit_group *g)
{
    bool dropped = false;
    for (commit_member *m = g->first; m; m = m->next)
        if (m->st != STORE_DEADLINE_EXCEEDED && deadline_passed(m->a.deadline_us)) {
            m->st = STORE_DEADLINE_EXCEEDED;
            m->a.failed = m->a.n;
            dropped = true;
        }
    return dropped;
}

/* Writes a group in one transaction and sets every member's outcome. The
 * transaction's deadline (the wait for the lock included) is the earliest
 * of its members': when it passes, those members leave and the rest are
 * written again. */
static void group_write(sqlite_store *sq, commit_group *g)
{
    for (;;) {
        int64_t deadline = 0;
        bool any = false;
        for (commit_member *m = g->first; m; m = m->next) {
            if (m->st == STORE_DEADLINE_EXCEEDED)
                continue;
            m->st = STORE_OK;
            m->a.failed = m->a.n;
            any = true;
            if (m->a.deadline_us > 0 && (deadline == 0 || m->a.deadline_us < deadline))
                deadline = m->a.deadline_us;
        }
        if (!any)
            return;
        g->expired = false;
        write_args ga = {.group = g, .deadline_us = deadline};
        store_status st = write_tx(sq, group_body, &ga);
        if (st == STORE_DEADLINE_EXCEEDED && (group_drop_expired(g) || g->expired))
            continue; /* rolled back: again, without the members that expired */
        for (commit_member *m = g->first; m; m = m->next)
            if (st != STORE_OK && m->st == STORE_OK)
                m->st = st; /* nothing of the group committed */
        return;
    }
}

/* A member still waiting in the queue at its deadline takes itself out:
 * no leader will write it. group_mu held. */
static void group_leave_queue(sqlite_store *sq, commit_member *me)
{
    commit_member **p = &sq->group_queue;
    while (*p && *p != me)
        p = &(*p)->next;
    if (!*p)
        return;
    *p = me->next;
    if (sq->group_tail == &me->next)
        sq->group_tail = p;
    me->st = STORE_DEADLINE_EXCEEDED;
    me->a.failed = me->a.n;
    me->done = true;
}

/* Waits on group_cv, until me's deadline at most (CLOCK_MONOTONIC, as
 * the condition variable's clock). group_mu held. */
static void group_wait(sqlite_store *sq, const commit_member *me)
{
    if (me->taken || me->a.deadline_us <= 0) {
        pthread_cond_wait(&sq->group_cv, &sq->group_mu);
        return;
    }
    struct timespec until = {(time_t)(me->a.deadline_us / 1000000),
                             (long)(me->a.deadline_us % 1000000) * 1000};
    pthread_cond_timedwait(&sq->group_cv, &sq->group_mu, &until);
}

/* Every write of the contract, one or many: one transaction, shared with
 * the batches waiting beside it (group commit, above). */
static store_status store_sqlite_apply(void *impl, const store_write *writes, size_t n,
                                       size_t *failed)
{
    sqlite_store *sq = impl;
    scope_release(sq); /* before waiting for the group: see "read snapshots" */
    commit_member me = {
        .a = {.writes = writes, .n = n, .failed = n, .deadline_us = batch_deadline(writes, n)},
        .st = STORE_OK};
    pthread_mutex_lock(&sq->group_mu);
    *sq->group_tail = &me;
    sq->group_tail = &me.next;
    while (!me.done) {
        if (sq->group_leader) {
            group_wait(sq, &me);
            if (!me.done && !me.taken && deadline_passed(me.a.deadline_us))
                group_leave_queue(sq, &me);
            continue;
        }
        /* Lead: take the waiting batches (this one among them), up to the caps. */
        sq->group_leader = true;
        commit_group g = {.first = sq->group_queue};
        size_t writes_taken = 0;
        commit_member *last = NULL;
        for (commit_member *m = sq->group_queue; m; m = m->next) {
            if (g.count > 0 &&
                (g.count == GROUP_MAX_BATCHES || writes_taken + m->a.n > STORE_WRITES_MAX))
                break;
            writes_taken += m->a.n;
            g.count++;
            m->taken = true;
            last = m;
        }
        sq->group_queue = last->next;
        if (!sq->group_queue)
            sq->group_tail = &sq->group_queue;
        last->next = NULL;
        pthread_mutex_unlock(&sq->group_mu);
        group_write(sq, &g);
        pthread_mutex_lock(&sq->group_mu);
        for (commit_member *m = g.first; m; m = m->next)
            m->done = true;
        sq->group_leader = false;
        pthread_cond_broadcast(&sq->group_cv);
    }
    pthread_mutex_unlock(&sq->group_mu);
    if (failed)
        *failed = me.st == STORE_OK ? n : me.a.failed;
    return me.st;
}

/* ---- reads ---- */

/* Steps s (bound, or bind_rc) for at most one record. */
static store_status one_record(conn *c, sqlite3_stmt *s, int bind_rc, store_record **out)
{
    int rc = stmt_step(c, s, bind_rc);
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
    conn *c = read_take(sq);
    if (!c)
        return STORE_UNAVAILABLE;
    store_status st = stmt_get(c, ST_GET, &s);
    if (st == STORE_OK) {
        int rc = bind_text(s, 1, collection, SQLITE_OK);
        rc = bind_text(s, 2, org, rc);
        st = one_record(c, s, bind_text(s, 3, name, rc), out);
        stmt_release(s);
    }
    read_give(sq, c);
    return st;
}

static store_status store_sqlite_get_by_lookup(void *impl, const char *collection,
                                               const char *lookup, store_record **out)
{
    sqlite_store *sq = impl;
    sqlite3_stmt *s;
    conn *c = read_take(sq);
    if (!c)
        return STORE_UNAVAILABLE;
    store_status st = stmt_get(c, ST_GET_BY_LOOKUP, &s);
    if (st == STORE_OK) {
        st = one_record(c, s, bind_text(s, 2, lookup, bind_text(s, 1, collection, SQLITE_OK)), out);
        stmt_release(s);
    }
    read_give(sq, c);
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
static store_status page_fill(conn *c, sqlite3_stmt *s, int bind_rc, int limit, store_page *p)
{
    size_t cap = 0;
    int rc = stmt_step(c, s, bind_rc);
    for (; rc == SQLITE_ROW; rc = stmt_step(c, s, SQLITE_OK)) {
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

/* ---- filtered lists ----
 *
 * A filter (filter.h) becomes a WHERE clause over the facets table: each
 * comparison an EXISTS probe on the record's facets by the primary key
 * (collection, name, key, value), `!=` the negation of `=`'s probe, so that
 * a missing facet makes a comparison false and `!=` true, as filter_match
 * has it. EXISTS is never NULL, so AND, OR and NOT keep two-valued logic.
 * Parameters ?9 on are the comparisons' keys and values, in the order the
 * text names them. The statement is prepared per list (filters vary).
 *
 * Walking the parent's records in name order costs the records passed
 * over, which for a filter few records pass is the whole list. So when the
 * query names a prefix (its records' names start with it) and the filter's
 * top-level AND chain has an equality (`=` or `:`), the list is driven from
 * the facets' value index instead: the names with that key and value in
 * the prefix's range (?7 .. ?8), already in name order, each joined to its
 * record, which the rest of the filter then tests. Every row visited then
 * passes at least that comparison, so a page costs about the records of
 * the parent with that value that it passes over, never more than the
 * walk. */

typedef struct sql_buf {
    char *text;
    size_t len, cap;
    bool oom;
} sql_buf;

static void sql_add(sql_buf *b, const char *s)
{
    size_t n = strlen(s);
    if (b->oom)
        return;
    if (b->len + n + 1 > b->cap) {
        size_t cap = b->cap ? b->cap : 1024;
        while (b->len + n + 1 > cap)
            cap *= 2;
        char *t = realloc(b->text, cap);
        if (!t) {
            b->oom = true;
            return;
        }
        b->text = t;
        b->cap = cap;
    }
    memcpy(b->text + b->len, s, n + 1);
    b->len += n;
}

/* Appends node's clause; *param is the next parameter number. */
static void filter_sql(sql_buf *b, const filter_node *node, int *param)
{
    static const char *const cmp[] = {
        [FILTER_EQ] = "=", [FILTER_NE] = "=",  [FILTER_LT] = "<", [FILTER_LE] = "<=",
        [FILTER_GT] = ">", [FILTER_GE] = ">=", [FILTER_HAS] = "="};
    char probe[256];
    switch (node->op) {
    case FILTER_AND:
    case FILTER_OR:
        sql_add(b, "(");
        filter_sql(b, node->left, param);
        sql_add(b, node->op == FILTER_AND ? " AND " : " OR ");
        filter_sql(b, node->right, param);
        sql_add(b, ")");
        return;
    case FILTER_NOT:
        sql_add(b, "(NOT ");
        filter_sql(b, node->left, param);
        sql_add(b, ")");
        return;
    default:
        snprintf(probe, sizeof probe,
                 "%sEXISTS (SELECT 1 FROM facets f WHERE f.collection = ?1"
                 " AND f.name = resources.name AND f.key = ?%d AND f.value %s ?%d)",
                 node->op == FILTER_NE ? "NOT " : "", *param, cmp[node->op], *param + 1);
        *param += 2;
        sql_add(b, probe);
        return;
    }
}

/* Binds the comparisons' keys and values in the order filter_sql numbered them. */
static int filter_bind(sqlite3_stmt *s, const filter_node *node, const facet_def *facets,
                       int *param, int rc)
{
    switch (node->op) {
    case FILTER_AND:
    case FILTER_OR:
        rc = filter_bind(s, node->left, facets, param, rc);
        return filter_bind(s, node->right, facets, param, rc);
    case FILTER_NOT:
        return filter_bind(s, node->left, facets, param, rc);
    default:
        rc = bind_text(s, *param, facets[node->facet].name, rc);
        rc = node->value.type == FACET_STRING ? bind_text(s, *param + 1, node->value.s, rc)
                                              : bind_int(s, *param + 1, node->value.i, rc);
        *param += 2;
        return rc;
    }
}

#define FILTER_PARAM_FIRST 9

/* The parameter number of the key of an equality in node's top-level AND
 * chain (its value's is the next), numbered as filter_sql numbers them;
 * 0 when there is none. */
static int driving_param(const filter_node *node, int *param, bool top)
{
    switch (node->op) {
    case FILTER_AND:
    case FILTER_OR: {
        bool chain = top && node->op == FILTER_AND;
        int left = driving_param(node->left, param, chain);
        int right = driving_param(node->right, param, chain);
        return left ? left : right;
    }
    case FILTER_NOT:
        return driving_param(node->left, param, false);
    default: {
        int at = *param;
        *param += 2;
        return top && (node->op == FILTER_EQ || node->op == FILTER_HAS) ? at : 0;
    }
    }
}

/* The start of a list driven by the facet whose key and value are ?key and
 * ?key + 1 (see above), up to its filter's clause. */
static void driven_sql_where(unsigned mask, int key, char *buf, size_t size)
{
    snprintf(buf, size,
             "SELECT resources.collection, resources.org, resources.parent, resources.name,"
             " resources.state, resources.lookup, resources.version, resources.doc"
             " FROM facets d CROSS JOIN resources"
             " WHERE d.collection = ?1 AND d.key = ?%d AND d.value = ?%d AND d.name > ?5"
             " AND d.name >= ?7 AND (?8 IS NULL OR d.name < ?8)"
             " AND resources.collection = ?1 AND resources.name = d.name%s%s%s",
             key, key + 1, mask & LIST_ORG ? " AND resources.org = ?2" : "",
             mask & LIST_PARENT ? " AND resources.parent = ?3" : "",
             mask & LIST_STATE ? " AND resources.state = ?4" : "");
}

/* ?7 and ?8: the prefix, and the least string above every name with it
 * (NULL: none, for a prefix of 0xff bytes). */
static int bind_prefix(sqlite3_stmt *s, const char *prefix, int rc)
{
    size_t n = strlen(prefix);
    char *end = malloc(n + 1);
    if (!end)
        return SQLITE_NOMEM;
    memcpy(end, prefix, n + 1);
    while (n > 0 && (unsigned char)end[n - 1] == 0xff)
        end[--n] = '\0';
    if (n > 0)
        end[n - 1] = (char)((unsigned char)end[n - 1] + 1);
    rc = bind_text(s, 7, prefix, rc);
    rc = rc == SQLITE_OK
             ? (n ? sqlite3_bind_text(s, 8, end, -1, SQLITE_TRANSIENT) : sqlite3_bind_null(s, 8))
             : rc;
    free(end);
    return rc;
}

/* The list of q with its filter: prepared, bound, read, finalized. */
static store_status filtered_list(conn *c, const store_query *q, unsigned mask, store_page *p)
{
    const filter_node *root = filter_root(q->filter);
    sql_buf b = {0};
    char where[1024];
    int param = FILTER_PARAM_FIRST;
    int key = q->prefix && q->prefix[0] ? driving_param(root, &param, true) : 0;
    if (key) {
        driven_sql_where(mask, key, where, sizeof where);
    } else {
        list_sql_where(mask, where, sizeof where);
    }
    sql_add(&b, where);
    sql_add(&b, " AND ");
    param = FILTER_PARAM_FIRST;
    filter_sql(&b, root, &param);
    sql_add(&b, key ? " ORDER BY d.name LIMIT ?6" : LIST_TAIL);
    if (b.oom) {
        free(b.text);
        return STORE_INTERNAL;
    }
    sqlite3_stmt *s = NULL;
    int rc = sqlite3_prepare_v3(c->db, b.text, (int)b.len, 0, &s, NULL);
    free(b.text);
    if (rc != SQLITE_OK) {
        conn_note(c, sqlite3_extended_errcode(c->db));
        return failure_of(c->db);
    }
    param = FILTER_PARAM_FIRST;
    int rc_bind = filter_bind(s, root, q->facets, &param, bind_query(s, q));
    if (key)
        rc_bind = bind_prefix(s, q->prefix, rc_bind);
    store_status st = page_fill(c, s, rc_bind, q->limit, p);
    sqlite3_finalize(s);
    return st;
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
    conn *c = read_take(sq);
    if (!c) {
        free(p);
        return STORE_UNAVAILABLE;
    }
    store_status st;
    if (q->filter) {
        st = filtered_list(c, q, mask, p);
    } else if ((st = stmt_get(c, ST_LIST_FIRST + (int)mask, &s)) == STORE_OK) {
        st = page_fill(c, s, bind_query(s, q), q->limit, p);
        stmt_release(s);
    }
    read_give(sq, c);
    if (st != STORE_OK) {
        store_page_free(p);
        return st;
    }
    *out = p;
    return STORE_OK;
}

static store_status audit_fill(conn *c, sqlite3_stmt *s, int bind_rc, int limit,
                               store_audit_event **out, size_t *count)
{
    store_audit_event *evs = NULL;
    size_t cap = 0;
    int rc = stmt_step(c, s, bind_rc);
    for (; rc == SQLITE_ROW && *count < (size_t)limit; rc = stmt_step(c, s, SQLITE_OK)) {
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

static store_status store_sqlite_audit_list(void *impl, const char *org, int64_t from, bool newest,
                                            int limit, store_audit_event **out, size_t *count)
{
    sqlite_store *sq = impl;
    sqlite3_stmt *s;
    conn *c = read_take(sq);
    if (!c)
        return STORE_UNAVAILABLE;
    store_status st = stmt_get(c, newest ? ST_AUDIT_LIST_NEWEST : ST_AUDIT_LIST, &s);
    if (st == STORE_OK) {
        int64_t bound = newest && from == 0 ? INT64_MAX : from;
        int rc = bind_int(s, 2, bound, bind_text(s, 1, org, SQLITE_OK));
        st = audit_fill(c, s, bind_int(s, 3, limit, rc), limit, out, count);
        stmt_release(s);
    }
    read_give(sq, c);
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
    if (!c)
        return STORE_UNAVAILABLE;
    store_status st = stmt_get(c, id, &s);
    if (st == STORE_OK) {
        int rc;
        while (st == STORE_OK && (rc = stmt_step(c, s, SQLITE_OK)) == SQLITE_ROW) {
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

static store_status import_record_body(conn *c, write_args *a)
{
    return insert_record(c, a->rec);
}

static store_status store_sqlite_import_record(void *impl, const store_record *rec)
{
    write_args a = {.rec = rec};
    return write_tx(impl, import_record_body, &a);
}

static store_status append_audit_body(conn *c, write_args *a)
{
    return audit_insert(c, a->ev, a->ev->version_before);
}

static store_status store_sqlite_append_audit(void *impl, const store_audit *ev)
{
    write_args a = {.ev = ev, .deadline_us = ev->deadline_us};
    return write_tx(impl, append_audit_body, &a);
}

/* ---- facets given anew ---- */

static store_status store_sqlite_facet_mark(void *impl, const char *collection, char **mark)
{
    sqlite_store *sq = impl;
    sqlite3_stmt *s;
    conn *c = pool_take(sq);
    if (!c)
        return STORE_UNAVAILABLE;
    store_status st = stmt_get(c, ST_META_GET, &s);
    if (st == STORE_OK) {
        int rc = stmt_step(c, s, bind_text(s, 1, collection, SQLITE_OK));
        const unsigned char *v = rc == SQLITE_ROW ? sqlite3_column_text(s, 0) : NULL;
        st = rc == SQLITE_ROW || rc == SQLITE_DONE ? STORE_OK : status_of(rc);
        if (st == STORE_OK && !(*mark = strdup(v ? (const char *)v : "")))
            st = STORE_INTERNAL;
        stmt_release(s);
    }
    pool_give(sq, c);
    return st;
}

static store_status set_mark_body(conn *c, write_args *a)
{
    sqlite3_stmt *s;
    store_status st = stmt_get(c, ST_META_PUT, &s);
    if (st != STORE_OK)
        return st;
    st = status_of(
        stmt_step(c, s, bind_text(s, 2, a->mark, bind_text(s, 1, a->collection, SQLITE_OK))));
    stmt_release(s);
    return st;
}

static store_status store_sqlite_set_facet_mark(void *impl, const char *collection,
                                                const char *mark)
{
    write_args a = {.collection = collection, .mark = mark};
    return write_tx(impl, set_mark_body, &a);
}

/* The records' facets replaced, each where its version still is the one
 * given, in one transaction (one commit for a page of records). */
static store_status refacet_body(conn *c, write_args *a)
{
    a->failed = 0; /* the count replaced; the body may run again */
    for (size_t i = 0; i < a->n; i++) {
        const store_record *rec = &a->rec[i];
        int64_t version;
        store_status st = stored_version(c, rec->collection, rec->org, rec->name, &version);
        if (st == STORE_NOT_FOUND || (st == STORE_OK && version != rec->version))
            continue; /* gone, or moved on with facets of its own */
        if (st == STORE_OK)
            st = facets_put(c, rec->collection, rec->name, rec->facets, rec->n_facets);
        if (st != STORE_OK)
            return st;
        a->failed++;
    }
    return STORE_OK;
}

static store_status store_sqlite_refacet(void *impl, const store_record *recs, size_t n,
                                         size_t *done)
{
    write_args a = {.rec = recs, .n = n};
    store_status st = write_tx(impl, refacet_body, &a);
    *done = st == STORE_OK ? a.failed : 0;
    return st;
}

/* ---- health ---- */

/* The health probe's test write: one row of store_meta. */
static store_status probe_body(conn *c, write_args *a)
{
    (void)a;
    char now[32];
    sqlite3_stmt *s;
    store_status st = stmt_get(c, ST_PROBE, &s);
    if (st != STORE_OK)
        return st;
    snprintf(now, sizeof now, "%lld", (long long)clock_realtime_ms());
    st = status_of(stmt_step(c, s, bind_text(s, 1, now, SQLITE_OK)));
    stmt_release(s);
    return st;
}

/* The files check, and putting deleted files back, as a write would. */
static void probe_files(sqlite_store *sq)
{
    sqlite_files_state fs;
    conn *c = pool_take(sq);
    if (!c)
        return;
    bool in_place = files_in_place(sq, c, &fs);
    pool_give(sq, c);
    if (in_place) {
        fault_clear(sq, FAULT_MOVED, FAULT_MOVED, "the store's files are at their paths again");
        return;
    }
    if (fs != SQLITE_FILES_DB_DELETED && fs != SQLITE_FILES_WAL_DELETED)
        return;
    /* A writer holding the lock puts them back itself. */
    if (!write_lock(sq, clock_monotonic_us() + PROBE_LOCK_WAIT_US))
        return;
    c = pool_take(sq);
    if (c) {
        files_restore(sq, c);
        pool_give(sq, c);
    }
    pthread_mutex_unlock(&sq->write_mu);
}

/* What statvfs says of the store's filesystem; changes are logged. */
static void probe_filesystem(sqlite_store *sq)
{
    struct statvfs vfs;
    char line[512];
    if (statvfs(sq->paths.dir, &vfs) != 0)
        return; /* the directory is gone: the files check says so */
    bool readonly = (vfs.f_flag & ST_RDONLY) != 0;
    /* root may use the blocks reserved for it, others may not */
    bool full = (geteuid() == 0 ? vfs.f_bfree : vfs.f_bavail) == 0;
    pthread_mutex_lock(&sq->fault_mu);
    /* A change the standing fault already said is not logged again. */
    bool readonly_changed = readonly != sq->fs_readonly && sq->fault != FAULT_READONLY;
    bool full_changed = full != sq->fs_full && sq->fault != FAULT_FULL;
    sq->fs_readonly = readonly;
    sq->fs_full = full;
    pthread_mutex_unlock(&sq->fault_mu);
    if (readonly_changed) {
        snprintf(line, sizeof line, "the filesystem holding the store %s is %s", sq->paths.db,
                 readonly ? "mounted read-only" : "writable again");
        store_log(readonly, "store", line);
    }
    if (full_changed) {
        snprintf(line, sizeof line, "the filesystem holding the store %s %s", sq->paths.db,
                 full ? "has no space left" : "has space again");
        store_log(full, "store", line);
    }
}

/* While a full, read-only or I/O fault stands, a one-row test write (at
 * most once a second) finds out whether it still does, so that health
 * recovers without waiting for traffic. */
static void probe_write(sqlite_store *sq)
{
    fault f = fault_now(sq);
    if (f == FAULT_NONE || f > FAULT_READONLY)
        return;
    int64_t now = clock_monotonic_us();
    if (!write_lock(sq, now + PROBE_LOCK_WAIT_US))
        return;
    store_status st = STORE_UNAVAILABLE;
    if (now - sq->probe_us >= RETRY_INTERVAL_US) {
        sq->probe_us = now;
        conn *c = pool_take(sq);
        if (c) {
            write_args a = {0};
            c->busy_until_us = now + PROBE_LOCK_WAIT_US;
            st = write_locked(sq, c, probe_body, &a);
            pool_give(sq, c);
        }
    }
    pthread_mutex_unlock(&sq->write_mu);
    if (st == STORE_OK)
        fault_clear(sq, FAULT_IO, FAULT_READONLY, "a test write succeeded");
}

/* What the health probe looks at, also every second from the monitor. */
static void probe(sqlite_store *sq)
{
    probe_files(sq);
    probe_filesystem(sq);
    probe_write(sq);
}

static store_status store_sqlite_health(void *impl, char *why, size_t size)
{
    sqlite_store *sq = impl;
    if (sq->memory)
        return STORE_OK;
    probe(sq);
    store_status st = STORE_OK;
    pthread_mutex_lock(&sq->fault_mu);
    if (sq->fault != FAULT_NONE) {
        st = sq->fault == FAULT_CORRUPT ? STORE_INTERNAL : STORE_UNAVAILABLE;
        snprintf(why, size, "%s", sq->fault_why);
    } else if (sq->fs_readonly || sq->fs_full) {
        st = STORE_UNAVAILABLE;
        snprintf(why, size, "the filesystem holding the store %s %s", sq->paths.db,
                 sq->fs_readonly ? "is mounted read-only" : "has no space left");
    }
    pthread_mutex_unlock(&sq->fault_mu);
    return st;
}

static const char *store_sqlite_describe(void *impl)
{
    (void)impl;
    return "sqlite (WAL, synchronous=FULL; each batch of writes and their audit events in one "
           "transaction)";
}

static void store_sqlite_refuse_writes(void *impl)
{
    gate_close(&((sqlite_store *)impl)->gate);
}

const store_backend store_sqlite_backend = {
    .scheme = "sqlite",
    .open = store_sqlite_open,
    .close = store_sqlite_close,
    .describe = store_sqlite_describe,
    .ping = store_sqlite_ping,
    .health = store_sqlite_health,
    .init = store_sqlite_init,
    .apply = store_sqlite_apply,
    .read_begin = store_sqlite_read_begin,
    .read_end = store_sqlite_read_end,
    .read_pause = store_sqlite_read_pause,
    .get = store_sqlite_get,
    .get_by_lookup = store_sqlite_get_by_lookup,
    .list = store_sqlite_list,
    .audit_list = store_sqlite_audit_list,
    .collections = store_sqlite_collections,
    .audit_orgs = store_sqlite_audit_orgs,
    .import_record = store_sqlite_import_record,
    .append_audit = store_sqlite_append_audit,
    .refuse_writes = store_sqlite_refuse_writes,
    .facet_mark = store_sqlite_facet_mark,
    .set_facet_mark = store_sqlite_set_facet_mark,
    .refacet = store_sqlite_refacet,
};
