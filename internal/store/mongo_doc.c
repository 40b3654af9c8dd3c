/* mongo_doc.c — the document shape of the MongoDB backend (see
 * store_mongo.c, "Documents"): a record as a document with the store's
 * columns in front, its facets as the subdocument _facets, and back. */
#include "mongo_internal.h"

#include <stdlib.h>
#include <string.h>

#include "store.h"

/* ---- documents ---- */

/* Whether a facet's name can be a field of _facets that a query reaches by
 * its path: a dot would split the path, a leading '$' makes an operator. */
bool mongo_facet_key_ok(const char *key)
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
bool mongo_facet_value_append(bson_t *doc, const char *key, const facet_value *v)
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
bool mongo_facets_storable(const store_record *rec)
{
    for (size_t i = 0; i < rec->n_facets; i++)
        if (!mongo_facet_key_ok(rec->facets[i].key))
            return false;
    return true;
}

/* The facets as the subdocument _facets: one field per facet name, in the
 * order of their first entries; a name with one distinct value holds it, one
 * with several an array of them (equality in a query matches a scalar or any
 * element of an array alike, so the store need not know which facets are
 * repeated). Nothing when there are none. Call mongo_facets_storable first. */
bool mongo_facets_append(bson_t *out, const store_facet *facets, size_t n)
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
            ok = mongo_facet_value_append(&sub, facets[i].key, &facets[i].value);
            continue;
        }
        if (!(ok = BSON_APPEND_ARRAY_BEGIN(&sub, facets[i].key, &arr)))
            break;
        for (size_t k = 0; ok && k < count; k++) {
            char idx[16];
            const char *key;
            bson_uint32_to_string((uint32_t)k, &key, idx, sizeof idx);
            ok = mongo_facet_value_append(&arr, key, &facets[at[k]].value);
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
bool mongo_doc_wrap(const store_record *rec, bson_t *out)
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
           mongo_facets_append(out, rec->facets, rec->n_facets) && bson_concat(out, &body);
}

static char *iter_strdup(const bson_iter_t *it)
{
    return BSON_ITER_HOLDS_UTF8(it) ? strdup(bson_iter_utf8(it, NULL)) : NULL;
}

/* Splits a stored document back into a record (owned by the caller). */
store_status mongo_record_unwrap(const bson_t *d, const char *collection, store_record **out)
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
