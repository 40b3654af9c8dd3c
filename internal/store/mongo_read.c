/* mongo_read.c — the MongoDB backend's reads: a record by name or lookup,
 * lists (keyset pages, their filters as queries on _facets) and the audit
 * log at majority read concern. */
#include "mongo_internal.h"

#include <mongoc/mongoc.h>
#include <stdlib.h>
#include <string.h>

#include "filter.h"
#include "store.h"

/* ---- reads ---- */

/* Runs a find on coll and hands each document to fn until it returns
 * false. */
store_status mongo_find_each(mongo_store *ms, mongoc_client_t *client, const char *coll_name,
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
        st = mongo_status_of_error(&e);
    mongoc_cursor_destroy(cur);
    mongoc_collection_destroy(coll);
    return st;
}

/* A doc_fn: the first document as a record in o->rec (o->st its status). */
bool mongo_take_one(const bson_t *doc, void *ctx)
{
    one_ctx *o = ctx;
    o->st = mongo_record_unwrap(doc, o->collection, &o->rec);
    return false;
}

static store_status find_one(mongo_store *ms, const char *collection, const bson_t *filter,
                             store_record **out)
{
    bson_t opts = BSON_INITIALIZER;
    one_ctx o = {.collection = collection, .st = STORE_NOT_FOUND};
    BSON_APPEND_INT32(&opts, "limit", 1);
    mongoc_client_t *client = mongoc_client_pool_pop(ms->pool);
    store_status st = mongo_find_each(ms, client, collection, filter, &opts, mongo_take_one, &o);
    mongoc_client_pool_push(ms->pool, client);
    bson_destroy(&opts);
    if (st != STORE_OK) {
        store_record_free(o.rec);
        return st;
    }
    *out = o.rec;
    return o.st;
}

store_status mongo_get(void *impl, const char *collection, const char *org, const char *name,
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

store_status mongo_get_by_lookup(void *impl, const char *collection, const char *lookup,
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
    p->st = mongo_record_unwrap(doc, p->collection, &r);
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
 * which is filter_match's meaning, given how mongo_facets_append stores them:
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
    if (nd->facet >= q->n_facets || !mongo_facet_key_ok(q->facets[nd->facet].name))
        return false;
    char *path = bson_strdup_printf("_facets.%s", q->facets[nd->facet].name);
    if (nd->op == FILTER_EQ || nd->op == FILTER_HAS) {
        ok = mongo_facet_value_append(doc, path, &nd->value);
    } else {
        ok = BSON_APPEND_DOCUMENT_BEGIN(doc, path, &cond);
        if (ok) {
            ok = mongo_facet_value_append(&cond, cmp_ops[nd->op], &nd->value);
            ok = bson_append_document_end(doc, &cond) && ok;
        }
    }
    bson_free(path);
    return ok;
}

store_status mongo_list(void *impl, const store_query *q, store_page **out)
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
        st = mongo_find_each(ms, client, q->collection, &filter, &opts, page_take, &p);
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

bool mongo_audit_event_read(const bson_t *doc, store_audit_event *e)
{
    bson_iter_t it;
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
    e->position = field_int(doc, "position");
    if (bson_iter_init_find(&it, doc, "hash") && BSON_ITER_HOLDS_BINARY(&it)) {
        bson_subtype_t sub;
        uint32_t len = 0;
        const uint8_t *bin = NULL;
        bson_iter_binary(&it, &sub, &len, &bin);
        if ((e->hashed = len == sizeof e->hash))
            memcpy(e->hash, bin, sizeof e->hash);
    }
    if (!e->principal || !e->principal_org || !e->org || !e->role || !e->method || !e->resource ||
        !e->request_id) {
        store_audit_event_clear(e);
        return false;
    }
    return true;
}

void mongo_audit_filter_confirmed(bson_t *filter)
{
    bson_t nin, states;
    /* An earlier release wrote events on standalone servers before their
     * writes and marked them after; one it left pending, aborted or
     * orphaned is not in the log. Events written now have no state. */
    BSON_APPEND_DOCUMENT_BEGIN(filter, "state", &nin);
    BSON_APPEND_ARRAY_BEGIN(&nin, "$nin", &states);
    BSON_APPEND_UTF8(&states, "0", "pending");
    BSON_APPEND_UTF8(&states, "1", "aborted");
    BSON_APPEND_UTF8(&states, "2", "orphaned");
    bson_append_array_end(&nin, &states);
    bson_append_document_end(filter, &nin);
}

static bool audit_take(const bson_t *doc, void *ctx)
{
    audit_ctx *a = ctx;
    if (!mongo_audit_event_read(doc, &a->evs[a->count])) {
        a->st = STORE_INTERNAL;
        return false;
    }
    return ++a->count < (size_t)a->limit;
}

store_status mongo_audit_list(void *impl, const char *org, int64_t from, bool newest, int limit,
                              store_audit_event **out, size_t *count)
{
    mongo_store *ms = impl;
    bson_t filter = BSON_INITIALIZER, opts = BSON_INITIALIZER, range, sort;
    BSON_APPEND_UTF8(&filter, "org", org);
    if (!newest || from > 0) {
        BSON_APPEND_DOCUMENT_BEGIN(&filter, "seq", &range);
        BSON_APPEND_INT64(&range, newest ? "$lt" : "$gt", from);
        bson_append_document_end(&filter, &range);
    }
    mongo_audit_filter_confirmed(&filter);
    BSON_APPEND_DOCUMENT_BEGIN(&opts, "sort", &sort);
    BSON_APPEND_INT32(&sort, "seq", newest ? -1 : 1);
    bson_append_document_end(&opts, &sort);
    BSON_APPEND_INT64(&opts, "limit", limit);
    /* majority: an event a failover could roll back is not handed out */
    mongoc_read_concern_append(ms->majority, &opts);
    audit_ctx a = {.limit = limit, .evs = calloc((size_t)limit, sizeof *a.evs), .st = STORE_OK};
    store_status st = a.evs ? STORE_OK : STORE_INTERNAL;
    if (st == STORE_OK) {
        mongoc_client_t *client = mongoc_client_pool_pop(ms->pool);
        st = mongo_find_each(ms, client, AUDIT_COLLECTION, &filter, &opts, audit_take, &a);
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
