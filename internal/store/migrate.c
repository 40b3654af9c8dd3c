/* migrate.c — moving a store's contents into another store.
 *
 * `supplysecd export` writes every record of every collection and every
 * audit event as JSON Lines, one object a line in MongoDB's canonical
 * extended JSON (lossless: int64, dates and binary keep their types);
 * `supplysecd import` writes them into an empty store of any backend. The
 * first line is a header naming the format. Records keep their versions, so
 * etags stay valid; audit events keep their order within each organization
 * and all their fields but the sequence number, which the target assigns.
 * Each event carries its place in its organization's hash chain and its
 * hash (audit_chain.h): an import checks the chain as it reads it and
 * refuses an export whose chain is broken, and the target, appending the
 * same events in the same order, gives them the same hashes, so a head
 * pinned before the move still verifies after it. An export of format 1,
 * made before the chain, carries neither; its events are chained as they
 * come. In format 2 an organization's events carry both, or (a log a
 * MongoDB store of an earlier release has not chained yet: its next write
 * does that) none of them does; a mix is refused.
 * Facets (store.h) are not exported: an import computes each record's
 * again from its document, through the caller's migrate_facets_fn.
 *
 *   {"kind": "supplysec-export", "format": 1}
 *   {"kind": "record", "collection", "org", "parent", "name", "state"?,
 *    "lookup"?, "version", "doc": {...}}
 *   {"kind": "audit", "org", "principal", "principalOrg", "role", "method",
 *    "resource", "requestId", "versionBefore", "versionAfter", "timeUs", "position", "hash"}
 */
#include "migrate.h"

#include "audit_chain.h"

#include <bson/bson.h>
#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

/* 2: audit events carry their chain (position, hash); 1, before the chain,
 * is still imported, its events chained as they come. */
#define EXPORT_FORMAT 2
#define PAGE 500

static bool fail(char **err, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static bool fail(char **err, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    free(*err);
    if (vasprintf(err, fmt, ap) < 0)
        *err = NULL;
    va_end(ap);
    return false;
}

static bool line_write(FILE *out, const bson_t *line)
{
    size_t len;
    char *json = bson_as_canonical_extended_json(line, &len);
    bool ok = json && fwrite(json, 1, len, out) == len && fputc('\n', out) != EOF;
    bson_free(json);
    return ok;
}

/* ---- export ---- */

static bool export_record(FILE *out, const store_record *r)
{
    bson_t line = BSON_INITIALIZER, doc;
    bool ok = bson_init_static(&doc, r->doc, r->doc_len);
    BSON_APPEND_UTF8(&line, "kind", "record");
    BSON_APPEND_UTF8(&line, "collection", r->collection);
    BSON_APPEND_UTF8(&line, "org", r->org);
    BSON_APPEND_UTF8(&line, "parent", r->parent);
    BSON_APPEND_UTF8(&line, "name", r->name);
    if (r->state)
        BSON_APPEND_UTF8(&line, "state", r->state);
    if (r->lookup)
        BSON_APPEND_UTF8(&line, "lookup", r->lookup);
    BSON_APPEND_INT64(&line, "version", r->version);
    ok = ok && BSON_APPEND_DOCUMENT(&line, "doc", &doc) && line_write(out, &line);
    bson_destroy(&line);
    return ok;
}

static bool export_collection(store *s, const char *collection, FILE *out, migrate_counts *n,
                              char **err)
{
    char *after = NULL;
    bool ok = true, more = true;
    while (ok && more) {
        store_query q = {.collection = collection, .after = after, .limit = PAGE};
        store_page *page = NULL;
        store_status st = store_list(s, &q, &page);
        if (st != STORE_OK) {
            ok = fail(err, "listing %s: %s", collection, store_status_name(st));
            break;
        }
        for (size_t i = 0; ok && i < page->count; i++) {
            ok = export_record(out, &page->records[i]) ||
                 fail(err, "cannot write the export: %s", strerror(errno));
            n->records += ok;
        }
        more = page->more && page->count;
        free(after);
        after = more ? strdup(page->records[page->count - 1].name) : NULL;
        ok = ok && (!more || after || fail(err, "out of memory"));
        store_page_free(page);
    }
    free(after);
    return ok;
}

static bool export_event(FILE *out, const store_audit_event *e)
{
    bson_t line = BSON_INITIALIZER;
    BSON_APPEND_UTF8(&line, "kind", "audit");
    BSON_APPEND_UTF8(&line, "org", e->org);
    BSON_APPEND_UTF8(&line, "principal", e->principal);
    BSON_APPEND_UTF8(&line, "principalOrg", e->principal_org);
    BSON_APPEND_UTF8(&line, "role", e->role);
    BSON_APPEND_UTF8(&line, "method", e->method);
    BSON_APPEND_UTF8(&line, "resource", e->resource);
    BSON_APPEND_UTF8(&line, "requestId", e->request_id);
    BSON_APPEND_INT64(&line, "versionBefore", e->version_before);
    BSON_APPEND_INT64(&line, "versionAfter", e->version_after);
    BSON_APPEND_INT64(&line, "timeUs", e->time_us);
    BSON_APPEND_INT64(&line, "position", e->position);
    if (e->hashed) {
        char hex[AUDIT_HASH_HEX];
        audit_chain_hex(e->hash, hex);
        BSON_APPEND_UTF8(&line, "hash", hex);
    }
    bool ok = line_write(out, &line);
    bson_destroy(&line);
    return ok;
}

static bool export_audit(store *s, const char *org, FILE *out, migrate_counts *n, char **err)
{
    int64_t after = 0;
    for (;;) {
        store_audit_event *evs = NULL;
        size_t count = 0;
        store_status st = store_audit_list(s, org, after, PAGE, &evs, &count);
        if (st != STORE_OK)
            return fail(err, "listing the audit events of \"%s\": %s", org, store_status_name(st));
        bool ok = true;
        for (size_t i = 0; ok && i < count; i++) {
            ok = export_event(out, &evs[i]) ||
                 fail(err, "cannot write the export: %s", strerror(errno));
            n->events += ok;
        }
        after = count ? evs[count - 1].seq : after;
        store_audit_events_free(evs, count);
        if (!ok || count == 0)
            return ok;
    }
}

bool migrate_export(store *s, FILE *out, migrate_counts *n, char **err)
{
    char **names = NULL;
    size_t count = 0;
    bson_t header = BSON_INITIALIZER;
    memset(n, 0, sizeof *n);
    BSON_APPEND_UTF8(&header, "kind", "supplysec-export");
    BSON_APPEND_INT32(&header, "format", EXPORT_FORMAT);
    bool ok = line_write(out, &header) || fail(err, "cannot write the export");
    bson_destroy(&header);
    store_status st = ok ? store_collections(s, &names, &count) : STORE_OK;
    if (st != STORE_OK)
        ok = fail(err, "listing the collections: %s", store_status_name(st));
    for (size_t i = 0; ok && i < count; i++)
        ok = export_collection(s, names[i], out, n, err);
    store_names_free(names, count);
    names = NULL;
    count = 0;
    st = ok ? store_audit_orgs(s, &names, &count) : STORE_OK;
    if (st != STORE_OK)
        ok = fail(err, "listing the audit logs: %s", store_status_name(st));
    for (size_t i = 0; ok && i < count; i++)
        ok = export_audit(s, names[i], out, n, err);
    store_names_free(names, count);
    return ok && (fflush(out) == 0 || fail(err, "cannot write the export: %s", strerror(errno)));
}

/* ---- import ---- */

static const char *str_of(const bson_t *line, const char *key)
{
    bson_iter_t it;
    return bson_iter_init_find(&it, line, key) && BSON_ITER_HOLDS_UTF8(&it)
               ? bson_iter_utf8(&it, NULL)
               : NULL;
}

static bool int_of(const bson_t *line, const char *key, int64_t *out)
{
    bson_iter_t it;
    if (!bson_iter_init_find(&it, line, key) || !BSON_ITER_HOLDS_NUMBER(&it))
        return false;
    *out = bson_iter_as_int64(&it);
    return true;
}

static bool import_record(store *s, const bson_t *line, size_t lineno, migrate_facets_fn facets,
                          char **err)
{
    bson_iter_t it;
    const uint8_t *doc = NULL;
    uint32_t doc_len = 0;
    store_record r = {
        .collection = (char *)str_of(line, "collection"),
        .org = (char *)str_of(line, "org"),
        .parent = (char *)str_of(line, "parent"),
        .name = (char *)str_of(line, "name"),
        .state = (char *)str_of(line, "state"),
        .lookup = (char *)str_of(line, "lookup"),
    };
    if (bson_iter_init_find(&it, line, "doc") && BSON_ITER_HOLDS_DOCUMENT(&it))
        bson_iter_document(&it, &doc_len, &doc);
    r.doc = (uint8_t *)doc;
    r.doc_len = doc_len;
    if (!r.collection || !r.org || !r.parent || !r.name || !doc ||
        !int_of(line, "version", &r.version))
        return fail(err, "line %zu: a record needs collection, org, parent, name, version, doc",
                    lineno);
    store_facet *fv = NULL;
    if (facets && !facets(r.collection, r.doc, r.doc_len, &fv, &r.n_facets))
        return fail(err, "line %zu: %s: its document cannot be read for its facets", lineno,
                    r.name);
    r.facets = fv;
    store_status st = store_import_record(s, &r);
    free(fv);
    if (st != STORE_OK)
        return fail(err, "line %zu: %s: %s%s", lineno, r.name, store_status_name(st),
                    st == STORE_ALREADY_EXISTS ? " (import into an empty store)" : "");
    return true;
}

/* The chain of the organization whose events an import is reading. */
typedef struct import_chain {
    int64_t format; /* the export's, from its header */
    char org[256];
    bool started;
    bool unchained; /* the organization's first event came without its hash */
    audit_chain_walk walk;
} import_chain;

/* Checks e (with its exported position and hash, when it has them) against
 * the chain of its organization so far. */
static bool chain_follow(import_chain *c, store_audit_event *e, const bson_t *line, size_t lineno,
                         char **err)
{
    const char *hex = str_of(line, "hash");
    if (!c->started || strcmp(c->org, e->org) != 0) {
        snprintf(c->org, sizeof c->org, "%s", e->org);
        audit_chain_walk_start(&c->walk, 0, NULL);
        c->started = true;
        c->unchained = !hex;
    }
    if (c->format < 2)
        return true; /* an export made before the chain */
    if (c->unchained != !hex)
        return fail(err,
                    "line %zu: the audit log of \"%s\" has events with their hash and "
                    "events without (an event without its hash among chained ones)",
                    lineno, e->org);
    if (!hex) /* a log still to be chained (a MongoDB store of an earlier release) */
        return true;
    if (!int_of(line, "position", &e->position) || !audit_chain_unhex(hex, e->hash))
        return fail(err, "line %zu: an audit event's position or hash is malformed", lineno);
    e->hashed = true;
    return audit_chain_walk_next(&c->walk, e) ||
           fail(err, "line %zu: the audit log of \"%s\" is broken at event %lld: %s", lineno,
                e->org, (long long)c->walk.result.broken_position, c->walk.result.problem);
}

static bool import_event(store *s, const bson_t *line, size_t lineno, import_chain *chain,
                         char **err)
{
    store_audit_event e = {
        .org = (char *)str_of(line, "org"),
        .principal = (char *)str_of(line, "principal"),
        .principal_org = (char *)str_of(line, "principalOrg"),
        .role = (char *)str_of(line, "role"),
        .method = (char *)str_of(line, "method"),
        .resource = (char *)str_of(line, "resource"),
        .request_id = (char *)str_of(line, "requestId"),
    };
    if (!e.org || !e.principal || !e.principal_org || !e.role || !e.method || !e.resource ||
        !e.request_id || !int_of(line, "versionBefore", &e.version_before) ||
        !int_of(line, "versionAfter", &e.version_after) || !int_of(line, "timeUs", &e.time_us))
        return fail(err, "line %zu: an audit event lacks a field", lineno);
    if (!chain_follow(chain, &e, line, lineno, err))
        return false;
    store_audit a = {.principal = e.principal,
                     .principal_org = e.principal_org,
                     .org = e.org,
                     .role = e.role,
                     .method = e.method,
                     .resource = e.resource,
                     .request_id = e.request_id,
                     .version_before = e.version_before,
                     .version_after = e.version_after,
                     .time_us = e.time_us};
    store_status st = store_append_audit(s, &a);
    return st == STORE_OK ? true
                          : fail(err, "line %zu: audit event: %s", lineno, store_status_name(st));
}

static bool import_line(store *s, const char *text, size_t len, size_t lineno,
                        migrate_facets_fn facets, import_chain *chain, migrate_counts *n,
                        char **err)
{
    bson_error_t e;
    bson_t *line = bson_new_from_json((const uint8_t *)text, (ssize_t)len, &e);
    if (!line)
        return fail(err, "line %zu: not JSON: %s", lineno, e.message);
    const char *kind = str_of(line, "kind");
    bool ok;
    if (lineno == 1)
        ok = (kind && strcmp(kind, "supplysec-export") == 0 &&
              int_of(line, "format", &chain->format) && chain->format >= 1 &&
              chain->format <= EXPORT_FORMAT) ||
             fail(err, "line 1: not a supplysec export of format 1 to %d", EXPORT_FORMAT);
    else if (kind && strcmp(kind, "record") == 0)
        n->records += (ok = import_record(s, line, lineno, facets, err));
    else if (kind && strcmp(kind, "audit") == 0)
        n->events += (ok = import_event(s, line, lineno, chain, err));
    else
        ok = fail(err, "line %zu: unknown kind \"%s\"", lineno, kind ? kind : "");
    bson_destroy(line);
    return ok;
}

/* An import goes into an empty store only: no records, no audit events. */
static bool target_empty(store *s, char **err)
{
    char **names = NULL;
    size_t count = 0;
    store_status st = store_collections(s, &names, &count);
    store_names_free(names, count);
    if (st == STORE_OK && count == 0) {
        names = NULL;
        st = store_audit_orgs(s, &names, &count);
        store_names_free(names, count);
    }
    if (st != STORE_OK)
        return fail(err, "cannot read the target store: %s", store_status_name(st));
    return count == 0 ? true : fail(err, "the target store is not empty; import into a new one");
}

bool migrate_import(store *s, FILE *in, migrate_facets_fn facets, migrate_counts *n, char **err)
{
    char *text = NULL;
    size_t cap = 0, lineno = 0;
    ssize_t len;
    import_chain chain = {.started = false};
    memset(n, 0, sizeof *n);
    bool ok = target_empty(s, err);
    while (ok && (len = getline(&text, &cap, in)) > 0) {
        lineno++;
        while (len > 0 && (text[len - 1] == '\n' || text[len - 1] == '\r'))
            len--;
        if (len > 0)
            ok = import_line(s, text, (size_t)len, lineno, facets, &chain, n, err);
    }
    free(text);
    if (ok && lineno == 0)
        ok = fail(err, "the input is empty");
    if (ok && ferror(in))
        ok = fail(err, "cannot read the input: %s", strerror(errno));
    return ok;
}
