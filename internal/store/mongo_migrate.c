/* mongo_migrate.c — the MongoDB backend's side of migration (the
 * collections and audit logs to export, records imported as they were) and
 * of facets given anew (a collection's mark, a record's facets replaced at
 * its version). */
#include "mongo_internal.h"

#include <mongoc/mongoc.h>
#include <stdlib.h>
#include <string.h>

#include "store.h"

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

store_status mongo_collections(void *impl, char ***names, size_t *count)
{
    mongo_store *ms = impl;
    bson_error_t e;
    store_status st = STORE_OK;
    mongoc_client_t *client = mongoc_client_pool_pop(ms->pool);
    mongoc_database_t *db = mongoc_client_get_database(client, ms->db);
    char **all = mongoc_database_get_collection_names_with_opts(db, NULL, &e);
    if (!all)
        st = mongo_status_of_error(&e);
    for (size_t i = 0; all && all[i] && st == STORE_OK; i++) {
        if (strcmp(all[i], AUDIT_COLLECTION) == 0 || strcmp(all[i], COUNTERS_COLLECTION) == 0 ||
            strncmp(all[i], "system.", 7) == 0)
            continue;
        /* indexes are made at open: only a collection with a record counts */
        bson_t filter = BSON_INITIALIZER, opts = BSON_INITIALIZER;
        BSON_APPEND_INT32(&opts, "limit", 1);
        one_ctx o = {.collection = all[i], .st = STORE_NOT_FOUND};
        st = mongo_find_each(ms, client, all[i], &filter, &opts, mongo_take_one, &o);
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

store_status mongo_audit_orgs(void *impl, char ***orgs, size_t *count)
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
        st = mongo_status_of_error(&e);
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
store_status mongo_import_record(void *impl, const store_record *rec)
{
    mongo_store *ms = impl;
    bson_t doc, reply = BSON_INITIALIZER;
    bson_error_t e;
    store_status st = STORE_INTERNAL;
    if (!mongo_facets_storable(rec))
        return STORE_INVALID;
    mongoc_client_t *client = mongoc_client_pool_pop(ms->pool);
    mongoc_collection_t *coll = mongoc_client_get_collection(client, ms->db, rec->collection);
    bool wrapped = mongo_doc_wrap(rec, &doc);
    if (wrapped && (st = mongo_indexes_ensure(ms, client, rec->collection, 0)) == STORE_OK)
        st = mongoc_collection_insert_one(coll, &doc, NULL, &reply, &e) ? STORE_OK
                                                                        : mongo_status_of_error(&e);
    mongoc_collection_destroy(coll);
    mongoc_client_pool_push(ms->pool, client);
    bson_destroy(&reply);
    bson_destroy(&doc);
    return st;
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

store_status mongo_facet_mark(void *impl, const char *collection, char **mark)
{
    mongo_store *ms = impl;
    char *id = bson_strdup_printf("facets/%s", collection);
    bson_t filter = BSON_INITIALIZER;
    BSON_APPEND_UTF8(&filter, "_id", id);
    mongoc_client_t *client = mongoc_client_pool_pop(ms->pool);
    store_status st =
        mongo_find_each(ms, client, COUNTERS_COLLECTION, &filter, NULL, mark_of, mark);
    mongoc_client_pool_push(ms->pool, client);
    bson_destroy(&filter);
    bson_free(id);
    if (st != STORE_OK) { /* a cursor may fail after mark_of took the mark */
        free(*mark);
        *mark = NULL;
    } else if (!*mark && !(*mark = strdup(""))) {
        st = STORE_INTERNAL;
    }
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
                          : mongo_status_of_error(&e);
    if (matched)
        *matched = bson_iter_init_find(&it, &reply, "matchedCount") &&
                   BSON_ITER_HOLDS_NUMBER(&it) && bson_iter_as_int64(&it) > 0;
    mongoc_collection_destroy(coll);
    mongoc_client_pool_push(ms->pool, client);
    bson_destroy(&reply);
    bson_destroy(&opts);
    return st;
}

store_status mongo_set_facet_mark(void *impl, const char *collection, const char *mark)
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

/* One record's facets at its version: *matched when it still was there. */
static store_status refacet_one(mongo_store *ms, const store_record *rec, bool *matched)
{
    bson_t selector = BSON_INITIALIZER, update = BSON_INITIALIZER, op;
    store_status st = STORE_INTERNAL;
    BSON_APPEND_UTF8(&selector, "_id", rec->name);
    BSON_APPEND_UTF8(&selector, "_org", rec->org);
    BSON_APPEND_INT64(&selector, "_version", rec->version);
    bool built = BSON_APPEND_DOCUMENT_BEGIN(&update, rec->n_facets ? "$set" : "$unset", &op) &&
                 (rec->n_facets ? mongo_facets_append(&op, rec->facets, rec->n_facets)
                                : BSON_APPEND_UTF8(&op, "_facets", "")) &&
                 bson_append_document_end(&update, &op);
    if (built)
        st = update_one(ms, rec->collection, &selector, &update, false, matched);
    bson_destroy(&update);
    bson_destroy(&selector);
    return st;
}

/* One update per record: each is atomic by itself, and one that matched
 * nothing (moved on, or gone) is left as it is. */
store_status mongo_refacet(void *impl, const store_record *recs, size_t n, size_t *done)
{
    *done = 0;
    for (size_t i = 0; i < n; i++)
        if (!mongo_facets_storable(&recs[i]))
            return STORE_INVALID;
    for (size_t i = 0; i < n; i++) {
        bool matched = false;
        store_status st = refacet_one(impl, &recs[i], &matched);
        if (st != STORE_OK)
            return st;
        *done += matched;
    }
    return STORE_OK;
}
