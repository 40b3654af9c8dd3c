/* store.h — the storage contract every backend implements.
 *
 * Resources are documents (BSON from doc.c) stored under a collection
 * ("organizations", "apiKeys", ...) and a resource name that is unique within
 * the collection. Each record also carries the columns the store indexes:
 * the tenant (org), the parent resource name, an optional state for list
 * filters and an optional unique lookup key (an API key's visible prefix).
 *
 * Semantics every backend keeps (tests/unit/test_store_contract.c checks them):
 * - create fails STORE_ALREADY_EXISTS when the name, or a non-empty lookup,
 *   is already taken in the collection;
 * - get, update and delete match the org as well as the name, so a record of
 *   another tenant is STORE_NOT_FOUND;
 * - update and delete write only while the stored version equals the
 *   expected one (delete: expected 0 = any); a stale version is
 *   STORE_CONFLICT and nothing is written;
 * - every write appends its audit event in the same transaction: both or
 *   neither are stored;
 * - a write whose deadline (in its audit event's deadline_us) has passed
 *   before it could commit is STORE_DEADLINE_EXCEEDED and writes nothing;
 *   waiting for a lock never outlasts the deadline;
 * - list returns records ordered by name, after a keyset cursor (the last
 *   name of the previous page), so a deep page costs what the first does;
 * - a record's facets (below) are written with it, replaced by an update and
 *   removed with it; a list with a filter returns exactly the records whose
 *   facets satisfy it (filter_match's semantics), still in name order after
 *   the cursor.
 *
 * A store is safe to share between threads. Records handed in are borrowed;
 * records handed out are owned by the caller and freed with
 * store_record_free / store_page_free.
 */
#ifndef SUPPLYSEC_STORE_H
#define SUPPLYSEC_STORE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "filter.h"
#include "latency.h"
#include "status.h"

typedef enum store_status {
    STORE_OK = 0,
    STORE_NOT_FOUND,
    STORE_ALREADY_EXISTS,
    STORE_CONFLICT,          /* expected version does not match */
    STORE_DEADLINE_EXCEEDED, /* the write's deadline passed; nothing written */
    STORE_UNAVAILABLE,       /* backend unreachable or busy past its timeout */
    STORE_INVALID,           /* bad argument from the caller (a bug upstream) */
    STORE_INTERNAL,
    STORE_REFUSED, /* store_open/store_init: what is at the location is not the store
                    * expected there (the message says what and what to do) */
} store_status;

const char *store_status_name(store_status st);

/* Maps a store outcome onto a status; `what` names the resource for the
 * message. Returns st->code == STATUS_OK. */
bool status_from_store(status *st, store_status ss, const char *what);

typedef struct store store;

/* A facet of a record: a value derived from its document by the resource
 * layer (the kind's facet table, filter.h) that list filters test, kept by
 * the store beside the record and indexed. A repeated facet is one entry
 * per element (duplicates are one); a facet with no entry is unset. Facets
 * are written with the record and never read back. Borrowed. */
typedef struct store_facet {
    const char *key;   /* the facet's name, e.g. "state": a facet_def's name */
    facet_value value; /* its type is the facet's; ENUM, BOOL, INT and TIMESTAMP
                        * values are kept as the integer i, STRING as the text s */
} store_facet;

#define STORE_FACETS_MAX 256 /* facet entries of one record */

/* One stored resource. In create/update the pointers are borrowed from the
 * caller; from get/list they point into memory owned by the record. */
typedef struct store_record {
    char *collection; /* e.g. "organizations" */
    char *org;        /* tenant organization id; "" for platform scope */
    char *parent;     /* parent resource name; "" for top-level resources */
    char *name;       /* full resource name, unique within the collection */
    char *state;      /* filterable state, or NULL */
    char *lookup;     /* unique secondary key within the collection, or NULL */
    int64_t version;  /* 1 after create, +1 on every update */
    uint8_t *doc;     /* a BSON document; its top-level keys never start with
                       * '_' (reserved for the store's own fields) */
    size_t doc_len;
    const store_facet *facets; /* create, update: the record's facets (borrowed);
                                * NULL from get and list */
    size_t n_facets;
} store_record;

/* An audit event, written with the write it describes, and that write's
 * deadline. Borrowed. */
typedef struct store_audit {
    const char *principal;     /* e.g. "organizations/acme/apiKeys/ops" */
    const char *principal_org; /* the principal's organization ("" platform) */
    const char *org;           /* the tenant whose resource was written: the log it joins */
    const char *role;          /* e.g. "ROLE_ADMIN" */
    const char *method;        /* e.g. "/supplysec.v1.Organizations/CreateOrganization" */
    const char *resource;      /* resource name written */
    const char *request_id;
    int64_t version_before; /* 0 when the resource did not exist */
    int64_t version_after;  /* 0 when the resource was deleted */
    int64_t time_us;        /* microseconds since the Unix epoch */
    int64_t deadline_us;    /* clock_monotonic_us() time; 0: none */
} store_audit;

/* An audit event as read back (strings owned by the event). */
typedef struct store_audit_event {
    int64_t seq; /* the store's order of events, ascending; a list's cursor */
    char *principal, *principal_org, *org, *role, *method, *resource, *request_id;
    int64_t version_before, version_after, time_us;
    /* Its place in its organization's hash chain (audit_chain.h): 1, 2, 3...
     * in commit order, and its hash; hashed false when the store holds
     * none (an event damaged by hand). */
    int64_t position;
    bool hashed;
    uint8_t hash[32];
} store_audit_event;

typedef struct store_query {
    const char *collection;
    const char *org;    /* NULL: every tenant (platform administrators) */
    const char *parent; /* NULL: any parent */
    const char *state;  /* NULL: any state */
    const char *after;  /* keyset cursor: names strictly greater; NULL or "" from the start */
    /* NULL, or a start every name the query may return has (children's
     * names are their parent's name, '/', their plural, '/'): a store may
     * narrow its scan to the names with it. */
    const char *prefix;
    int limit; /* > 0 */
    /* Only records whose facets satisfy filter (NULL: every record);
     * facets is the table it was parsed against (its comparisons' facet
     * indexes name the keys). */
    const filter *filter;
    const facet_def *facets;
    size_t n_facets;
} store_query;

typedef struct store_page {
    store_record *records; /* owned */
    size_t count;
    bool more; /* true when records exist past the last one returned */
} store_page;

/* Opens the store named by uri ("sqlite:PATH", "sqlite::memory:", or a
 * MongoDB URI "mongodb://..." / "mongodb+srv://...").
 * On failure returns an error and, when err is not NULL, sets *err to a
 * malloc'd message the caller frees. workers: the number of threads that
 * will use the store at once (a sizing hint).
 * STORE_REFUSED: the location holds something that is not the store expected
 * there, and opening it (or starting an empty store in its place) could lose
 * data silently: for SQLite an empty or foreign file, or a missing file where
 * a store was (see sqlite_file.h). A fresh store is created only where none
 * ever was, or by store_init. */
store_status store_open(const char *uri, int workers, store **out, char **err);
void store_close(store *s);

/* `supplysecd init`: makes the location hold a store: a fresh, empty one when
 * there is no store file (also where one was), or the store file there when
 * it is one (accepting it in place of another). Never overwrites a file. On
 * success *msg (when msg is not NULL) says what was done; on failure, why. */
store_status store_init(const char *uri, char **msg);

/* Where backends report what their client libraries log (warnings and
 * errors only); by default nowhere. Set once, before store_open. */
typedef void (*store_log_fn)(bool error, const char *domain, const char *message);
void store_set_logger(store_log_fn fn);
void store_log(bool error, const char *domain, const char *message);

/* What the store is and how it keeps its guarantees, for the start-up log. */
const char *store_describe(store *s);

/* A cheap round trip to the backend: STORE_OK while it is reachable. */
store_status store_ping(store *s);

/* Whether the store can do its work, for health checks: STORE_OK, else the
 * status its writes would get and, in why (when size > 0), a sentence. Cheap:
 * the answer is the last probe's, probed at most about once a second by the
 * first caller after that (the others never wait for it), and again at once
 * after an operation whose outcome disagrees with it (a failure while
 * healthy, a success while not). A backend's probe may do more than a ping
 * (SQLite: the open file still at its path, the filesystem writable and not
 * full, no corruption seen); see store_backend.health. */
store_status store_health(store *s, char *why, size_t size);

/* How long the backend took: reads (gets, lists, audit pages) and batches
 * of writes, since the store opened (for /metrics). */
void store_latencies(store *s, const latency_histogram **reads, const latency_histogram **writes);

store_status store_create(store *s, const store_record *rec, const store_audit *ev);
/* Replaces the record named rec->name in rec->org with rec (whose version
 * must be expected_version + 1). */
store_status store_update(store *s, const store_record *rec, int64_t expected_version,
                          const store_audit *ev);
/* expected_version 0 deletes whatever version is stored. */
store_status store_delete(store *s, const char *collection, const char *org, const char *name,
                          int64_t expected_version, const store_audit *ev);

/* ---- several writes, all or nothing ----
 *
 * The domain's multi-step writes (deleting an organization with its keys,
 * approving a revision that supersedes the previous one, a management
 * review with its snapshot) are one store_apply: every write and every
 * audit event of the batch is stored, or none is. store_create,
 * store_update and store_delete are its one-write case. */
typedef enum store_write_kind {
    STORE_WRITE_CREATE, /* rec, version 1 */
    STORE_WRITE_UPDATE, /* rec, whose version is expected_version + 1 */
    STORE_WRITE_DELETE, /* collection, org, name; expected_version 0: any */
    /* collection, org, name exists at expected_version (0: any) and no
     * other writer changes it before the batch commits. Writes nothing and
     * records no event: a child created under a parent guards the parent,
     * so it cannot outlive a concurrent delete of the parent. */
    STORE_WRITE_GUARD,
    /* every record of collection in org (and under parent when parent is
     * not NULL), each deleted with its own audit event made from ev (its
     * resource and versions filled in per record); none is no error. The
     * records are the ones stored when the batch commits, so one created
     * concurrently is either deleted too or fails its own guard. */
    STORE_WRITE_DELETE_ALL,
} store_write_kind;

typedef struct store_write {
    store_write_kind kind;
    const store_record *rec;                      /* create, update */
    const char *collection, *org, *name, *parent; /* delete, guard, delete all */
    int64_t expected_version;                     /* update, delete, guard */
    const store_audit *ev;                        /* NULL only for a guard */
} store_write;

#define STORE_WRITES_MAX 10000 /* writes in one batch (a delete-all counts one) */

/* Applies writes[0..n) in order, in one transaction. STORE_OK when all
 * were stored with their audit events; otherwise nothing is stored and the
 * status is the first failing write's (STORE_NOT_FOUND, STORE_ALREADY_EXISTS,
 * STORE_CONFLICT, ...; its index in *failed when failed is not NULL; n for a
 * failure of the batch itself, such as STORE_DEADLINE_EXCEEDED or
 * STORE_UNAVAILABLE). The batch's deadline is the earliest deadline_us of
 * its events. */
store_status store_apply(store *s, const store_write *writes, size_t n, size_t *failed);

/* How many batches through s have updated or deleted records of
 * collection (or of another collection sharing its slot), and how many
 * deleted some: a reader that remembers what it read (auth_cache.h)
 * compares the count before its read with the count now. Counted when
 * store_apply returns, unless its outcome says nothing was written
 * (NOT_FOUND, ALREADY_EXISTS, CONFLICT, INVALID); writes by other processes
 * sharing the store are not seen. */
#define STORE_CHANGE_SLOTS 16
uint64_t store_change_count(store *s, const char *collection);
uint64_t store_delete_count(store *s, const char *collection);

/* For a server whose grace period is over: from now on no batch commits
 * (store_apply fails with STORE_UNAVAILABLE, and one waiting for a lock
 * stops waiting); returns once no commit is under way, so that every batch
 * has either committed already or never will. */
void store_refuse_writes(store *s);

/* Unique to this store among those opened in the process. */
uint64_t store_id(const store *s);

/* A read snapshot for the calling thread. Between store_read_begin and
 * store_read_end the thread's reads of s see the store as one moment: on
 * SQLite one read transaction on one connection, taken at the first read
 * and given back at the end (so a call's several reads cost one
 * transaction's locking, not one each); on MongoDB each read is its own. A
 * write by the thread inside the scope ends the snapshot first (its
 * connection goes back before the write waits for anything), and reads
 * after it see the write; so does any store call that may wait (ping, the
 * health probe). Scopes do not nest: a begin ends the scope still open.
 * The thread must not wait for another thread's store work in between. */
void store_read_begin(store *s);
void store_read_end(store *s);
/* Ends the scope's snapshot (on SQLite its connection goes back to the
 * pool); the scope's next read starts a new one. For a call that reads
 * without bound, between its pages: a long snapshot holds a connection and
 * keeps SQLite's checkpoints from passing it. */
void store_read_pause(store *s);

/* org NULL matches any tenant (platform administrators only). */
store_status store_get(store *s, const char *collection, const char *org, const char *name,
                       store_record **out);
store_status store_get_by_lookup(store *s, const char *collection, const char *lookup,
                                 store_record **out);
store_status store_list(store *s, const store_query *q, store_page **out);

/* Audit events of one organization ("" platform) with seq > after_seq, oldest first. */
store_status store_audit_list(store *s, const char *org, int64_t after_seq, int limit,
                              store_audit_event **out, size_t *count);
/* The same newest first: seq < before_seq (0: from the newest). */
store_status store_audit_list_newest(store *s, const char *org, int64_t before_seq, int limit,
                                     store_audit_event **out, size_t *count);

/* ---- migration (supplysecd export / import) ---- */

/* The collections that hold records, and the organizations ("" for the
 * platform) that have audit events, each sorted: malloc'd arrays of malloc'd
 * strings, freed with store_names_free. */
store_status store_collections(store *s, char ***names, size_t *count);
store_status store_audit_orgs(store *s, char ***orgs, size_t *count);
void store_names_free(char **names, size_t count);

/* Writes rec as it is, version included, without an audit event:
 * STORE_ALREADY_EXISTS when its name or lookup is taken. */
store_status store_import_record(store *s, const store_record *rec);
/* Appends ev to its organization's audit log after the events there, alone
 * (an event that records no write: a read a validator made, an event
 * imported). The store assigns the seq and the chain's position and hash;
 * every other field is kept. */
store_status store_append_audit(store *s, const store_audit *ev);

/* ---- facets given anew ----
 *
 * A kind that declares a facet its stored records were written without
 * (or changes one) needs the facets of those records derived again: at
 * start-up the resource layer compares a mark of each kind's facet table
 * with the mark stored for its collection and, where they differ, gives
 * every record its facets anew and then stores the new mark. */

/* The mark stored for collection, in *mark (malloc'd; "" when none). */
store_status store_facet_mark(store *s, const char *collection, char **mark);
store_status store_set_facet_mark(store *s, const char *collection, const char *mark);
/* Replaces the facets of each record recs[0..n) names (collection, org,
 * name) by its own while it is still at its version; one that a write has
 * moved on since (that write gave it facets of its own) or that is gone is
 * left as it is. *done: how many were replaced. Changes neither documents
 * nor versions and records no audit event; doc is not read. SQLite does
 * all n in one transaction. */
#define STORE_REFACET_MAX 1000 /* records in one store_refacet */
store_status store_refacet(store *s, const store_record *recs, size_t n, size_t *done);

/* Makes the store index the facets names[0..n) of collection (its kind's
 * whole facet table, every start-up) for filtered lists; with drop_stale,
 * also drops the indexes it made for facets no longer among them (only
 * `supplysecd refacet` asks: during a rolling upgrade a server of the older
 * release, starting, would drop the newer one's). Idempotent, and safe for
 * servers starting at once. SQLite: nothing to do (one index of every
 * facet's values serves them all); MongoDB: one index per facet. */
store_status store_index_facets(store *s, const char *collection, const char *const *names,
                                size_t n, bool drop_stale);

void store_record_free(store_record *r);
void store_page_free(store_page *p);
void store_audit_events_free(store_audit_event *evs, size_t count);
/* Frees the strings of one event and zeroes it. */
void store_audit_event_clear(store_audit_event *e);

/* ---- backend interface (store.c dispatches to one of these) ---- */
typedef struct store_backend {
    const char *scheme; /* "sqlite", "mongodb", "mongodb+srv" */
    /* uri: the whole URI, scheme included */
    store_status (*open)(const char *uri, int workers, void **impl, char **err);
    void (*close)(void *impl);
    const char *(*describe)(void *impl); /* may be NULL */
    store_status (*ping)(void *impl);
    /* The probe behind store_health (why: a sentence when not OK); NULL: ping.
     * A backend with a probe logs its own faults (store_log); for the others
     * store.c logs health changes. */
    store_status (*health)(void *impl, char *why, size_t size);
    /* store_init; NULL: opening creates what is missing (open and close). */
    store_status (*init)(const char *uri, char **msg);
    /* Every write (store_apply; store_create, _update and _delete are its
     * one-write case), checked by store.c first (records normalised). */
    store_status (*apply)(void *impl, const store_write *writes, size_t n, size_t *failed);
    /* store_read_begin / _end / _pause; NULL: reads need no scope */
    void (*read_begin)(void *impl);
    void (*read_end)(void *impl);
    void (*read_pause)(void *impl);
    store_status (*get)(void *impl, const char *collection, const char *org, const char *name,
                        store_record **out);
    store_status (*get_by_lookup)(void *impl, const char *collection, const char *lookup,
                                  store_record **out);
    store_status (*list)(void *impl, const store_query *q, store_page **out);
    /* newest: seq < from (0: from the newest), newest first; else seq > from, oldest first */
    store_status (*audit_list)(void *impl, const char *org, int64_t from, bool newest, int limit,
                               store_audit_event **out, size_t *count);
    store_status (*collections)(void *impl, char ***names, size_t *count);
    store_status (*audit_orgs)(void *impl, char ***orgs, size_t *count);
    store_status (*import_record)(void *impl, const store_record *rec);
    store_status (*append_audit)(void *impl, const store_audit *ev);
    void (*refuse_writes)(void *impl); /* store_refuse_writes; NULL: nothing to do */
    store_status (*facet_mark)(void *impl, const char *collection, char **mark);
    store_status (*set_facet_mark)(void *impl, const char *collection, const char *mark);
    /* store_refacet, checked by store.c */
    store_status (*refacet)(void *impl, const store_record *recs, size_t n, size_t *done);
    /* store_index_facets, checked by store.c; NULL: nothing to do */
    store_status (*index_facets)(void *impl, const char *collection, const char *const *names,
                                 size_t n, bool drop_stale);
} store_backend;

extern const store_backend store_sqlite_backend;
extern const store_backend store_mongo_backend;
extern const store_backend store_mongo_srv_backend;

/* For backends: sets *err (when err is not NULL; an earlier message is
 * freed) to a malloc'd message. */
void store_set_err(char **err, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

#endif
