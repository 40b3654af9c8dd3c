/* refacet.h — facets given anew at start-up when a kind's facet
 * declaration changes.
 *
 * A record's facets are written with the record (resource.h). A kind that
 * declares a facet its stored records were written without (an upgrade
 * that makes a field filterable), or changes one, would leave those
 * records outside every filter on it. So each collection carries a mark of
 * the facet table its records' facets follow (store_facet_mark); at
 * start-up, for each kind whose table's mark differs, every record of its
 * collections (a controlled kind's revisions too) gets its facets derived
 * again from its document, and then the new mark is stored. A record
 * written meanwhile by another server already has the new facets (its
 * write replaced them); an interrupted pass runs again at the next
 * start-up. Every start-up also has the store index each collection's
 * declared facets (store_index_facets); `supplysecd refacet` also drops the
 * indexes of facets no longer declared. */
#ifndef SUPPLYSEC_REFACET_H
#define SUPPLYSEC_REFACET_H

#include <stdbool.h>
#include <stddef.h>

#include "kind.h"
#include "store.h"

/* The mark of k's facet table into buf: "" for a kind without facets. */
void refacet_mark(const kind *k, char *buf, size_t size);

/* Gives the records of each of kinds[0..n) whose mark is out of date (all
 * of them with `all`: `supplysecd refacet`, after a rolling upgrade in
 * which servers of the older release kept writing) their facets anew;
 * *records: how many were rewritten. false with err (a sentence for the
 * start-up log) when the store fails or a stored document cannot be read. */
bool refacet_kinds(store *s, const kind *const *kinds, size_t n, bool all, size_t *records,
                   char *err, size_t errlen);

#endif
