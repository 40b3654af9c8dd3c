/* store.c — the backend-neutral half of the storage contract (see store.h).
 *
 * Owns: parsing the store URI ("<scheme>:<rest>") and dispatching to the
 * backend registered for the scheme in `backends` below; the argument checks
 * every backend would otherwise repeat (so a backend may assume them); the
 * normalisation of an empty lookup to "no lookup"; freeing what backends
 * hand out; and the cache behind store_health, so that health checks, however
 * many, cost the backend one probe a second. Adding a backend is one more
 * entry in `backends`.
 */
#include "store.h"

#include <bson/bson.h>

#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "clock.h"

/* store_health probes at most this often unless an operation disagreed. */
#define HEALTH_PROBE_INTERVAL_US 1000000

struct store {
    const store_backend *be;
    void *impl;
    /* store_health's cache: the last probe's outcome, under health_mu. */
    pthread_mutex_t health_mu;
    store_status health;
    char health_why[512];
    int64_t health_probed_us; /* clock_monotonic_us() when the cached probe started */
    int health_probing;       /* probes in flight: the other callers answer from the cache */
    /* Read by every operation without the mutex: */
    atomic_bool health_ok; /* health == STORE_OK */
    /* health and health_probed_us again, for store_health's path without
     * the mutex (written with them, under it) */
    atomic_int health_code;
    atomic_llong health_probed_at;
    atomic_bool health_stale; /* an operation's outcome disagreed: probe at the next call */
    uint64_t id;              /* process-unique, from next_store_id */
    /* store_change_count and store_delete_count: batches that updated or
     * deleted (deleted) records of the collections hashed to each slot (a
     * shared slot only counts more). */
    atomic_uint_least64_t changes[STORE_CHANGE_SLOTS];
    atomic_uint_least64_t deletes[STORE_CHANGE_SLOTS];
    /* how long the backend took (store_latencies): batches of writes, and
     * reads (gets, lists, audit pages) */
    latency_histogram write_latency, read_latency;
};

static atomic_uint_least64_t next_store_id = 1;

static const store_backend *const backends[] = {
    &store_sqlite_backend,
    &store_mongo_backend,
    &store_mongo_srv_backend,
};
#define BACKEND_COUNT (sizeof backends / sizeof backends[0])

const char *store_status_name(store_status st)
{
    switch (st) {
    case STORE_OK:
        return "STORE_OK";
    case STORE_NOT_FOUND:
        return "STORE_NOT_FOUND";
    case STORE_ALREADY_EXISTS:
        return "STORE_ALREADY_EXISTS";
    case STORE_CONFLICT:
        return "STORE_CONFLICT";
    case STORE_DEADLINE_EXCEEDED:
        return "STORE_DEADLINE_EXCEEDED";
    case STORE_UNAVAILABLE:
        return "STORE_UNAVAILABLE";
    case STORE_INVALID:
        return "STORE_INVALID";
    case STORE_INTERNAL:
        return "STORE_INTERNAL";
    case STORE_REFUSED:
        return "STORE_REFUSED";
    }
    return "STORE_UNKNOWN_STATUS";
}

void store_set_err(char **err, const char *fmt, ...)
{
    char buf[2048]; /* refusals name several paths and say what to do */
    va_list ap;
    if (!err)
        return;
    va_start(ap, fmt);
    vsnprintf(buf, sizeof buf, fmt, ap);
    va_end(ap);
    free(*err);
    *err = strdup(buf);
}

/* "sqlite:PATH, ..." for error messages. */
static void supported_schemes(char *buf, size_t size)
{
    size_t used = 0;
    buf[0] = '\0';
    for (size_t i = 0; i < BACKEND_COUNT && used < size; i++) {
        int n = snprintf(buf + used, size - used, "%s%s:...", i ? ", " : "", backends[i]->scheme);
        if (n < 0)
            break;
        used += (size_t)n;
    }
}

static const store_backend *backend_for(const char *scheme, size_t len)
{
    for (size_t i = 0; i < BACKEND_COUNT; i++)
        if (strlen(backends[i]->scheme) == len && memcmp(backends[i]->scheme, scheme, len) == 0)
            return backends[i];
    return NULL;
}

/* The backend for uri's scheme, or NULL with *err set. */
static const store_backend *backend_of_uri(const char *uri, char **err)
{
    char schemes[128];
    supported_schemes(schemes, sizeof schemes);
    const char *colon = uri ? strchr(uri, ':') : NULL;
    const store_backend *be = colon ? backend_for(uri, (size_t)(colon - uri)) : NULL;
    if (!be) {
        /* Only the scheme is echoed: the rest of a URI may hold credentials. */
        store_set_err(err, "unsupported store URI scheme \"%.*s\"; supported: %s",
                      colon ? (int)(colon - uri) : 0, colon ? uri : "", schemes);
        return NULL;
    }
    if (colon[1] == '\0') {
        store_set_err(err, "store URI \"%s:\" names no store", be->scheme);
        return NULL;
    }
    return be;
}

static void health_probe(store *s, int64_t started_us);

store_status store_open(const char *uri, int workers, store **out, char **err)
{
    if (err)
        *err = NULL;
    if (!out) {
        store_set_err(err, "store_open: out is NULL");
        return STORE_INVALID;
    }
    *out = NULL;
    const store_backend *be = backend_of_uri(uri, err);
    if (!be)
        return STORE_INVALID;
    store *s = calloc(1, sizeof *s);
    if (!s) {
        store_set_err(err, "out of memory");
        return STORE_INTERNAL;
    }
    s->be = be;
    s->id = atomic_fetch_add(&next_store_id, 1);
    store_status st = be->open(uri, workers < 1 ? 1 : workers, &s->impl, err);
    if (st != STORE_OK) {
        free(s);
        return st;
    }
    pthread_mutex_init(&s->health_mu, NULL);
    atomic_init(&s->health_ok, true);
    atomic_init(&s->health_stale, false);
    s->health_probing = 1;
    health_probe(s, clock_monotonic_us()); /* so that the first health check has an answer */
    *out = s;
    return STORE_OK;
}

store_status store_init(const char *uri, char **msg)
{
    if (msg)
        *msg = NULL;
    const store_backend *be = backend_of_uri(uri, msg);
    if (!be)
        return STORE_INVALID;
    if (be->init)
        return be->init(uri, msg);
    store *s = NULL;
    store_status st = store_open(uri, 1, &s, msg);
    store_close(s);
    if (st == STORE_OK)
        store_set_err(msg, "the %s store is ready; it needs no init", be->scheme);
    return st;
}

void store_close(store *s)
{
    if (!s)
        return;
    s->be->close(s->impl);
    pthread_mutex_destroy(&s->health_mu);
    free(s);
}

static store_log_fn logger;

void store_set_logger(store_log_fn fn)
{
    logger = fn;
}

void store_log(bool error, const char *domain, const char *message)
{
    if (logger)
        logger(error, domain, message);
}

const char *store_describe(store *s)
{
    return s->be->describe ? s->be->describe(s->impl) : s->be->scheme;
}

/* ---- health ---- */

/* Probes the backend and caches the outcome, unless a probe started later
 * has cached its own already; the caller counted it in health_probing. */
static void health_probe(store *s, int64_t started_us)
{
    char why[sizeof s->health_why] = "";
    store_status st;
    if (s->be->health) {
        st = s->be->health(s->impl, why, sizeof why);
    } else {
        st = s->be->ping(s->impl);
        if (st != STORE_OK)
            snprintf(why, sizeof why, "the store does not answer (%s)", store_status_name(st));
    }
    if (st != STORE_OK && !why[0])
        snprintf(why, sizeof why, "the store cannot work (%s)", store_status_name(st));
    pthread_mutex_lock(&s->health_mu);
    s->health_probing--;
    bool newest = started_us >= s->health_probed_us;
    bool changed = newest && (st == STORE_OK) != atomic_load(&s->health_ok);
    if (newest) {
        s->health = st;
        snprintf(s->health_why, sizeof s->health_why, "%s", why);
        s->health_probed_us = started_us;
        atomic_store(&s->health_ok, st == STORE_OK);
        atomic_store(&s->health_code, (int)st);
        atomic_store(&s->health_probed_at, started_us);
    }
    pthread_mutex_unlock(&s->health_mu);
    /* A backend with a probe of its own logs its faults as it finds them. */
    if (changed && !s->be->health) {
        char line[sizeof why + 64];
        snprintf(line, sizeof line, "store health: %s%s",
                 st == STORE_OK ? "serving again" : "not serving: ", st == STORE_OK ? "" : why);
        store_log(st != STORE_OK, "store", line);
    }
}

store_status store_health(store *s, char *why, size_t size)
{
    if (size > 0)
        why[0] = '\0';
    if (!s)
        return STORE_INVALID;
    int64_t now = clock_monotonic_us();
    /* The common case, taking no lock (every Health.Check comes here): the
     * cached state is fresh and no operation disagreed with it. */
    if (size == 0 && !atomic_load(&s->health_stale) &&
        now - atomic_load(&s->health_probed_at) < HEALTH_PROBE_INTERVAL_US)
        return (store_status)atomic_load(&s->health_code);
    pthread_mutex_lock(&s->health_mu);
    /* One periodic probe at a time. An operation that disagreed with the
     * cache has a probe of its own started even while one is in flight (a
     * MongoDB ping can wait out a server selection timeout), at most one
     * more, so that a failure or a recovery shows at the next check. */
    bool periodic = s->health_probing == 0 && now - s->health_probed_us >= HEALTH_PROBE_INTERVAL_US;
    bool disagreed = s->health_probing < 2 && atomic_exchange(&s->health_stale, false);
    if (periodic || disagreed) {
        s->health_probing++;
        pthread_mutex_unlock(&s->health_mu);
        health_probe(s, now);
        pthread_mutex_lock(&s->health_mu);
    }
    store_status st = s->health;
    if (size > 0 && st != STORE_OK)
        snprintf(why, size, "%s", s->health_why);
    pthread_mutex_unlock(&s->health_mu);
    return st;
}

/* Every operation's outcome passes here: one that disagrees with the cached
 * health (a failure while healthy, an answer while not) has the next
 * store_health probe again at once, so a failure shows at the next check. */
static store_status noted(store *s, store_status st)
{
    bool failed = st == STORE_UNAVAILABLE || st == STORE_INTERNAL;
    bool answered = st == STORE_OK || st == STORE_NOT_FOUND || st == STORE_ALREADY_EXISTS ||
                    st == STORE_CONFLICT;
    bool ok = atomic_load_explicit(&s->health_ok, memory_order_relaxed);
    if ((failed && ok) || (answered && !ok))
        atomic_store(&s->health_stale, true);
    return st;
}

store_status store_ping(store *s)
{
    if (!s)
        return STORE_INVALID;
    return noted(s, s->be->ping(s->impl));
}

/* ---- argument checks shared by every backend ---- */

static bool nonempty(const char *v)
{
    return v && v[0];
}

/* A BSON document none of whose top-level keys starts with '_'. */
static bool doc_valid(const uint8_t *doc, size_t len)
{
    bson_t b;
    bson_iter_t it;
    if (!doc || !bson_init_static(&b, doc, len) || !bson_iter_init(&it, &b))
        return false;
    while (bson_iter_next(&it))
        if (bson_iter_key(&it)[0] == '_')
            return false;
    return true;
}

/* A facet's name: `[a-z][a-z0-9_]*`, as proto field names are, so every
 * backend can use it as a column value or a field path. */
static bool facet_key_valid(const char *key)
{
    if (!key || key[0] < 'a' || key[0] > 'z')
        return false;
    for (const char *p = key; *p; p++)
        if (!((*p >= 'a' && *p <= 'z') || (*p >= '0' && *p <= '9') || *p == '_'))
            return false;
    return true;
}

/* Facets with names, text where they are strings, at most STORE_FACETS_MAX. */
static bool facets_valid(const store_facet *facets, size_t n)
{
    if (n > STORE_FACETS_MAX || (n && !facets))
        return false;
    for (size_t i = 0; i < n; i++)
        if (!facet_key_valid(facets[i].key) ||
            (facets[i].value.type == FACET_STRING && !facets[i].value.s) ||
            (unsigned)facets[i].value.type > FACET_TIMESTAMP)
            return false;
    return true;
}

static bool record_valid(const store_record *rec)
{
    return rec && nonempty(rec->collection) && nonempty(rec->name) && rec->org && rec->parent &&
           doc_valid(rec->doc, rec->doc_len) && facets_valid(rec->facets, rec->n_facets);
}

/* A copy of rec whose lookup is NULL when empty: only a non-empty lookup is
 * a unique key. */
static store_record record_normalized(const store_record *rec)
{
    store_record r = *rec;
    if (r.lookup && !r.lookup[0])
        r.lookup = NULL;
    return r;
}

static bool write_valid(const store_write *w)
{
    switch (w->kind) {
    case STORE_WRITE_CREATE:
        return w->ev && record_valid(w->rec) && w->rec->version == 1;
    case STORE_WRITE_UPDATE:
        return w->ev && record_valid(w->rec) && w->expected_version >= 1 &&
               w->expected_version < INT64_MAX && w->rec->version == w->expected_version + 1;
    case STORE_WRITE_DELETE:
        return w->ev && nonempty(w->collection) && w->org && nonempty(w->name) &&
               w->expected_version >= 0;
    case STORE_WRITE_GUARD:
        return nonempty(w->collection) && w->org && nonempty(w->name) && w->expected_version >= 0;
    case STORE_WRITE_DELETE_ALL:
        return w->ev && nonempty(w->collection) && w->org;
    }
    return false;
}

static size_t change_slot(const char *collection)
{
    uint64_t h = 1469598103934665603ull; /* FNV-1a */
    for (const char *p = collection; *p; p++)
        h = (h ^ (uint8_t)*p) * 1099511628211ull;
    return (size_t)(h % STORE_CHANGE_SLOTS);
}

/* Counts a batch's updates and deletes for store_change_count and
 * store_delete_count, once per collection slot, unless the batch certainly
 * changed nothing (st: refused before any commit). Creates and guards
 * change nothing a reader relied on. */
static void changes_count(store *s, const store_write *writes, size_t n, store_status st)
{
    if (st == STORE_NOT_FOUND || st == STORE_ALREADY_EXISTS || st == STORE_CONFLICT ||
        st == STORE_INVALID)
        return;
    bool changed[STORE_CHANGE_SLOTS] = {false}, deleted[STORE_CHANGE_SLOTS] = {false};
    for (size_t i = 0; i < n; i++) {
        const store_write *w = &writes[i];
        if (w->kind == STORE_WRITE_CREATE || w->kind == STORE_WRITE_GUARD)
            continue;
        size_t slot = change_slot(w->rec ? w->rec->collection : w->collection);
        changed[slot] = true;
        deleted[slot] = deleted[slot] || w->kind != STORE_WRITE_UPDATE;
    }
    for (size_t i = 0; i < STORE_CHANGE_SLOTS; i++) {
        if (changed[i])
            atomic_fetch_add(&s->changes[i], 1);
        if (deleted[i])
            atomic_fetch_add(&s->deletes[i], 1);
    }
}

uint64_t store_change_count(store *s, const char *collection)
{
    return atomic_load(&s->changes[change_slot(collection)]);
}

uint64_t store_delete_count(store *s, const char *collection)
{
    return atomic_load(&s->deletes[change_slot(collection)]);
}

void store_refuse_writes(store *s)
{
    if (s->be->refuse_writes)
        s->be->refuse_writes(s->impl);
}

uint64_t store_id(const store *s)
{
    return s->id;
}

/* A read's outcome, noted, and its duration since t0 recorded. */
static store_status timed_read(store *s, int64_t t0, store_status st)
{
    latency_record(&s->read_latency, clock_monotonic_us() - t0);
    return noted(s, st);
}

void store_latencies(store *s, const latency_histogram **reads, const latency_histogram **writes)
{
    *reads = &s->read_latency;
    *writes = &s->write_latency;
}

store_status store_apply(store *s, const store_write *writes, size_t n, size_t *failed)
{
    enum { SMALL = 8 };
    store_record small_recs[SMALL], *recs = small_recs;
    store_write small_writes[SMALL], *ws = small_writes;
    store_status st = STORE_INTERNAL; /* out of memory for the copies */
    if (failed)
        *failed = n;
    if (!s || !writes || n == 0 || n > STORE_WRITES_MAX)
        return STORE_INVALID;
    for (size_t i = 0; i < n; i++)
        if (!write_valid(&writes[i])) {
            if (failed)
                *failed = i;
            return STORE_INVALID;
        }
    if (n > SMALL) {
        recs = malloc(n * sizeof *recs);
        ws = malloc(n * sizeof *ws);
        if (!recs || !ws)
            goto out;
    }
    for (size_t i = 0; i < n; i++) { /* the copies backends get: lookups normalised */
        ws[i] = writes[i];
        if (writes[i].rec) {
            recs[i] = record_normalized(writes[i].rec);
            ws[i].rec = &recs[i];
        }
    }
    int64_t t0 = clock_monotonic_us();
    st = noted(s, s->be->apply(s->impl, ws, n, failed));
    latency_record(&s->write_latency, clock_monotonic_us() - t0);
    changes_count(s, writes, n, st); /* after: the batch may have committed */
out:
    if (recs != small_recs)
        free(recs);
    if (ws != small_writes)
        free(ws);
    return st;
}

store_status store_create(store *s, const store_record *rec, const store_audit *ev)
{
    store_write w = {.kind = STORE_WRITE_CREATE, .rec = rec, .ev = ev};
    return store_apply(s, &w, 1, NULL);
}

store_status store_update(store *s, const store_record *rec, int64_t expected_version,
                          const store_audit *ev)
{
    store_write w = {
        .kind = STORE_WRITE_UPDATE, .rec = rec, .expected_version = expected_version, .ev = ev};
    return store_apply(s, &w, 1, NULL);
}

store_status store_delete(store *s, const char *collection, const char *org, const char *name,
                          int64_t expected_version, const store_audit *ev)
{
    store_write w = {.kind = STORE_WRITE_DELETE,
                     .collection = collection,
                     .org = org,
                     .name = name,
                     .expected_version = expected_version,
                     .ev = ev};
    return store_apply(s, &w, 1, NULL);
}

void store_read_begin(store *s)
{
    if (s && s->be->read_begin)
        s->be->read_begin(s->impl);
}

void store_read_end(store *s)
{
    if (s && s->be->read_end)
        s->be->read_end(s->impl);
}

void store_read_pause(store *s)
{
    if (s && s->be->read_pause)
        s->be->read_pause(s->impl);
}

store_status store_get(store *s, const char *collection, const char *org, const char *name,
                       store_record **out)
{
    if (out)
        *out = NULL;
    if (!s || !out || !nonempty(collection) || !nonempty(name))
        return STORE_INVALID;
    int64_t t0 = clock_monotonic_us(); /* before the read: argument order is unspecified */
    return timed_read(s, t0, s->be->get(s->impl, collection, org, name, out));
}

store_status store_get_by_lookup(store *s, const char *collection, const char *lookup,
                                 store_record **out)
{
    if (out)
        *out = NULL;
    if (!s || !out || !nonempty(collection) || !nonempty(lookup))
        return STORE_INVALID;
    int64_t t0 = clock_monotonic_us(); /* before the read: argument order is unspecified */
    return timed_read(s, t0, s->be->get_by_lookup(s->impl, collection, lookup, out));
}

store_status store_list(store *s, const store_query *q, store_page **out)
{
    if (out)
        *out = NULL;
    if (!s || !out || !q || !nonempty(q->collection) || q->limit <= 0 ||
        (q->filter && (!q->facets || q->n_facets == 0)))
        return STORE_INVALID;
    for (size_t i = 0; q->filter && i < q->n_facets; i++)
        if (!facet_key_valid(q->facets[i].name))
            return STORE_INVALID;
    store_query nq = *q;
    if (nq.after && !nq.after[0])
        nq.after = NULL;
    int64_t t0 = clock_monotonic_us(); /* before the read: argument order is unspecified */
    return timed_read(s, t0, s->be->list(s->impl, &nq, out));
}

static store_status audit_list(store *s, const char *org, int64_t from, bool newest, int limit,
                               store_audit_event **out, size_t *count)
{
    if (out)
        *out = NULL;
    if (count)
        *count = 0;
    if (!s || !org || from < 0 || limit <= 0 || !out || !count)
        return STORE_INVALID;
    int64_t t0 = clock_monotonic_us(); /* before the read: argument order is unspecified */
    return timed_read(s, t0, s->be->audit_list(s->impl, org, from, newest, limit, out, count));
}

store_status store_audit_list(store *s, const char *org, int64_t after_seq, int limit,
                              store_audit_event **out, size_t *count)
{
    return audit_list(s, org, after_seq, false, limit, out, count);
}

store_status store_audit_list_newest(store *s, const char *org, int64_t before_seq, int limit,
                                     store_audit_event **out, size_t *count)
{
    return audit_list(s, org, before_seq, true, limit, out, count);
}

store_status store_collections(store *s, char ***names, size_t *count)
{
    if (!s || !names || !count)
        return STORE_INVALID;
    *names = NULL;
    *count = 0;
    return noted(s, s->be->collections(s->impl, names, count));
}

store_status store_audit_orgs(store *s, char ***orgs, size_t *count)
{
    if (!s || !orgs || !count)
        return STORE_INVALID;
    *orgs = NULL;
    *count = 0;
    return noted(s, s->be->audit_orgs(s->impl, orgs, count));
}

store_status store_import_record(store *s, const store_record *rec)
{
    if (!s || !record_valid(rec) || rec->version < 1)
        return STORE_INVALID;
    store_record r = record_normalized(rec);
    return noted(s, s->be->import_record(s->impl, &r));
}

store_status store_facet_mark(store *s, const char *collection, char **mark)
{
    if (!s || !nonempty(collection) || !mark)
        return STORE_INVALID;
    *mark = NULL;
    return noted(s, s->be->facet_mark(s->impl, collection, mark));
}

store_status store_set_facet_mark(store *s, const char *collection, const char *mark)
{
    if (!s || !nonempty(collection) || !mark)
        return STORE_INVALID;
    return noted(s, s->be->set_facet_mark(s->impl, collection, mark));
}

store_status store_index_facets(store *s, const char *collection, const char *const *names,
                                size_t n, bool drop_stale)
{
    if (!s || !nonempty(collection) || (n && !names))
        return STORE_INVALID;
    for (size_t i = 0; i < n; i++)
        if (!nonempty(names[i]))
            return STORE_INVALID;
    if (!s->be->index_facets)
        return STORE_OK;
    return noted(s, s->be->index_facets(s->impl, collection, names, n, drop_stale));
}

store_status store_refacet(store *s, const store_record *recs, size_t n, size_t *done)
{
    if (!s || !done || (n && !recs) || n > STORE_REFACET_MAX)
        return STORE_INVALID;
    *done = 0;
    for (size_t i = 0; i < n; i++) {
        const store_record *rec = &recs[i];
        if (!nonempty(rec->collection) || !nonempty(rec->name) || !rec->org || rec->version < 1 ||
            !facets_valid(rec->facets, rec->n_facets))
            return STORE_INVALID;
    }
    return n ? noted(s, s->be->refacet(s->impl, recs, n, done)) : STORE_OK;
}

store_status store_append_audit(store *s, const store_audit *ev)
{
    if (!s || !ev || !ev->org || !ev->principal || !ev->principal_org || !ev->role || !ev->method ||
        !ev->resource || !ev->request_id)
        return STORE_INVALID;
    return noted(s, s->be->append_audit(s->impl, ev));
}

/* ---- freeing what backends hand out ---- */

void store_names_free(char **names, size_t count)
{
    for (size_t i = 0; names && i < count; i++)
        free(names[i]);
    free(names);
}

static void record_fields_free(store_record *r)
{
    free(r->collection);
    free(r->org);
    free(r->parent);
    free(r->name);
    free(r->state);
    free(r->lookup);
    free(r->doc);
}

void store_record_free(store_record *r)
{
    if (!r)
        return;
    record_fields_free(r);
    free(r);
}

void store_page_free(store_page *p)
{
    if (!p)
        return;
    for (size_t i = 0; i < p->count; i++)
        record_fields_free(&p->records[i]);
    free(p->records);
    free(p);
}

void store_audit_event_clear(store_audit_event *e)
{
    free(e->principal);
    free(e->principal_org);
    free(e->org);
    free(e->role);
    free(e->method);
    free(e->resource);
    free(e->request_id);
    memset(e, 0, sizeof *e);
}

void store_audit_events_free(store_audit_event *evs, size_t count)
{
    if (!evs)
        return;
    for (size_t i = 0; i < count; i++)
        store_audit_event_clear(&evs[i]);
    free(evs);
}

/* ---- outcomes as statuses ---- */

bool status_from_store(status *st, store_status ss, const char *what)
{
    switch (ss) {
    case STORE_OK:
        st->code = STATUS_OK;
        st->msg[0] = '\0';
        return true;
    case STORE_NOT_FOUND:
        return status_fail(st, STATUS_NOT_FOUND, "%s not found", what);
    case STORE_ALREADY_EXISTS:
        return status_fail(st, STATUS_ALREADY_EXISTS, "%s already exists", what);
    case STORE_CONFLICT:
        return status_fail(st, STATUS_ABORTED,
                           "%s was changed by another write; read it again and retry with "
                           "the new etag",
                           what);
    case STORE_DEADLINE_EXCEEDED:
        return status_fail(st, STATUS_DEADLINE_EXCEEDED,
                           "the call's deadline passed before %s could be written; nothing was "
                           "written",
                           what);
    case STORE_UNAVAILABLE:
        return status_fail(st, STATUS_UNAVAILABLE, "the store is unavailable; retry later");
    case STORE_INVALID:
    case STORE_INTERNAL:
    default:
        return status_fail(st, STATUS_INTERNAL, "internal storage error (%s)",
                           store_status_name(ss));
    }
}
