/* kinds.h — every resource kind the product declares, in one table: what
 * start-up checks (kind_check_all) and what needs the kind of a stored
 * record by its collection (an import recomputing facets). */
#ifndef SUPPLYSEC_KINDS_H
#define SUPPLYSEC_KINDS_H

#include "kind.h"

extern const kind *const kinds_all[];
extern const size_t kinds_n;

/* The kind whose records (or, for a controlled kind, whose revisions) live
 * in collection; NULL for a collection no kind owns (the server's
 * secrets). */
const kind *kinds_by_collection(const char *collection);

/* The facets of a stored record of collection with document doc, as the
 * resource layer writes them (resource_facets): *out malloc'd (free()),
 * NULL and *n 0 for a collection without facets. false when the document
 * cannot be read or memory runs out. */
bool kinds_record_facets(const char *collection, const uint8_t *doc, size_t len, store_facet **out,
                         size_t *n);

#endif
