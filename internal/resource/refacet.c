/* refacet.c — facets given anew when a kind's facet declaration changes
 * (see refacet.h). */
#include "refacet.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* How facet values are derived from a field (resource_facets): a change
 * to that derivation changes every mark, so the facets are derived again. */
#define REFACET_DERIVATION 1

#define REFACET_PAGE 500 /* records read per list, and given facets per commit */

static const char *const type_names[] = {[FACET_STRING] = "string",
                                         [FACET_ENUM] = "enum",
                                         [FACET_INT] = "int",
                                         [FACET_BOOL] = "bool",
                                         [FACET_TIMESTAMP] = "timestamp"};

void refacet_mark(const kind *k, char *buf, size_t size)
{
    size_t used = 0;
    buf[0] = '\0';
    for (size_t i = 0; i < k->n_facets && used < size; i++) {
        const facet_def *d = &k->facets[i];
        int n = snprintf(buf + used, size - used, "%s%s:%s%s%s%s", i ? "," : "", d->name,
                         type_names[d->type], d->enum_type ? ":" : "",
                         d->enum_type ? d->enum_type->name : "", d->repeated ? "[]" : "");
        used += n > 0 ? (size_t)n : 0;
    }
    if (k->n_facets && used < size)
        snprintf(buf + used, size - used, ";v%d", REFACET_DERIVATION);
}

static bool failed(char *err, size_t errlen, const char *what, const char *collection,
                   store_status ss)
{
    snprintf(err, errlen, "giving the records of %s their facets anew: %s: %s", collection, what,
             store_status_name(ss));
    return false;
}

/* Every record of collection, its facets from k's table. */
static bool refacet_collection(store *s, const kind *k, const char *collection, size_t *records,
                               char *err, size_t errlen)
{
    char *after = NULL;
    bool ok = true, more = true;
    while (ok && more) {
        store_query q = {.collection = collection, .after = after, .limit = REFACET_PAGE};
        store_page *page = NULL;
        store_status ss = store_list(s, &q, &page);
        if (ss != STORE_OK) {
            ok = failed(err, errlen, "list", collection, ss);
            break;
        }
        /* the page's records with their facets, given in one store_refacet */
        store_facet **facets = calloc(page->count ? page->count : 1, sizeof *facets);
        if (!facets)
            ok = failed(err, errlen, "out of memory", collection, STORE_INTERNAL);
        for (size_t i = 0; ok && i < page->count; i++) {
            store_record *rec = &page->records[i];
            if (!kind_record_facets(k, rec->doc, rec->doc_len, &facets[i], &rec->n_facets)) {
                snprintf(err, errlen,
                         "giving %s its facets anew: its stored document cannot be "
                         "read as %s, or memory ran out",
                         rec->name, k->type);
                ok = false;
            }
            rec->facets = facets[i];
        }
        size_t done = 0;
        if (ok && (ss = store_refacet(s, page->records, page->count, &done)) != STORE_OK)
            ok = failed(err, errlen, "store", collection, ss);
        *records += done;
        for (size_t i = 0; facets && i < page->count; i++)
            free(facets[i]);
        free(facets);
        more = page->more && page->count > 0;
        if (ok && more) {
            free(after);
            if (!(after = strdup(page->records[page->count - 1].name)))
                ok = failed(err, errlen, "out of memory", collection, STORE_INTERNAL);
        }
        store_page_free(page);
    }
    free(after);
    return ok;
}

/* Has the store index collection's facets, k's whole table (drop_stale:
 * and drop those of facets k no longer declares). */
static bool index_facets(store *s, const kind *k, const char *collection, bool drop_stale,
                         char *err, size_t errlen)
{
    const char **names = calloc(k->n_facets ? k->n_facets : 1, sizeof *names);
    if (!names)
        return failed(err, errlen, "out of memory", collection, STORE_INTERNAL);
    for (size_t f = 0; f < k->n_facets; f++)
        names[f] = k->facets[f].name;
    store_status ss = store_index_facets(s, collection, names, k->n_facets, drop_stale);
    free(names);
    return ss == STORE_OK || failed(err, errlen, "indexing its facets", collection, ss);
}

bool refacet_kinds(store *s, const kind *const *kinds, size_t n, bool all, size_t *records,
                   char *err, size_t errlen)
{
    *records = 0;
    for (size_t i = 0; i < n; i++) {
        const kind *k = kinds[i];
        const char *collections[] = {k->collection, k->revisions_collection};
        char want[1024];
        refacet_mark(k, want, sizeof want);
        if (strlen(want) + 1 >= sizeof want) /* cut short, it could equal another's */
            return snprintf(err, errlen, "kind %s: its facet table is too long to mark", k->type),
                   false;
        for (size_t c = 0; c < 2 && collections[c]; c++) {
            if (!index_facets(s, k, collections[c], all, err, errlen))
                return false;
            char *have = NULL;
            store_status ss = store_facet_mark(s, collections[c], &have);
            if (ss != STORE_OK)
                return failed(err, errlen, "reading its mark", collections[c], ss);
            bool same = strcmp(have, want) == 0;
            free(have);
            if (same && !all)
                continue;
            if (!refacet_collection(s, k, collections[c], records, err, errlen))
                return false;
            if ((ss = store_set_facet_mark(s, collections[c], want)) != STORE_OK)
                return failed(err, errlen, "storing its mark", collections[c], ss);
        }
    }
    return true;
}
