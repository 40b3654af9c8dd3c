/* migrate.h — export a store's contents as JSON Lines, import them into an
 * empty store of any backend (supplysecd export / import). */
#ifndef SUPPLYSEC_MIGRATE_H
#define SUPPLYSEC_MIGRATE_H

#include <stdbool.h>
#include <stdio.h>

#include "store.h"

typedef struct migrate_counts {
    size_t records;
    size_t events;
} migrate_counts;

/* The facets of a record of collection with document doc (store.h): an
 * export carries none, so an import computes them again (kinds.h's
 * kinds_record_facets). *out malloc'd or NULL; false: the record is
 * refused. */
typedef bool (*migrate_facets_fn)(const char *collection, const uint8_t *doc, size_t len,
                                  store_facet **out, size_t *n);

/* On failure *err (malloc'd, initially NULL) says why. facets: NULL for
 * records without facets. */
bool migrate_export(store *s, FILE *out, migrate_counts *n, char **err);
bool migrate_import(store *s, FILE *in, migrate_facets_fn facets, migrate_counts *n, char **err);

#endif
