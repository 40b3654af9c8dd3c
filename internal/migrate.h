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

/* On failure *err (malloc'd, initially NULL) says why. */
bool migrate_export(store *s, FILE *out, migrate_counts *n, char **err);
bool migrate_import(store *s, FILE *in, migrate_counts *n, char **err);

#endif
