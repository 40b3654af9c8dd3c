/* filter.h — the List methods' `filter` (AIP-160, the subset in docs/filters.md): one parser,
 * one evaluator and one canonical text, driven by a per-resource table of facets.
 *
 * A resource kind declares which of its fields a filter may use and their types (a facet
 * table); filter_parse checks a filter's text against it and gives a tree that stays public
 * and walkable, so each store can translate it into its own query (SQL, MongoDB) and
 * filter_match can evaluate it on one record's values. The canonical text identifies a
 * filter independently of how it was spelled, to bind page tokens to it.
 */
#ifndef SUPPLYSEC_FILTER_H
#define SUPPLYSEC_FILTER_H

#include <protobuf-c/protobuf-c.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "status.h"

/* Limits, each refused INVALID_ARGUMENT naming it. They bound what one request can make the
 * parser and every store's translated query do. */
#define FILTER_MAX_BYTES 2048     /* filter text */
#define FILTER_MAX_COMPARISONS 64 /* comparisons and has-tests */
#define FILTER_MAX_DEPTH 32       /* nesting: open parentheses plus NOT / '-' around a point */

typedef enum facet_type {
    FACET_STRING,
    FACET_ENUM,
    FACET_INT,
    FACET_BOOL,
    FACET_TIMESTAMP
} facet_type;

/* One field a filter may use. */
typedef struct facet_def {
    const char *name; /* snake_case field name as in the proto, e.g. "state", "create_time" */
    facet_type type;
    bool repeated; /* a list: only `name:value` ("has") applies; comparisons refused */
    const ProtobufCEnumDescriptor *enum_type; /* FACET_ENUM only */
} facet_def;

/* A value of a facet, in a filter or in a record. */
typedef struct facet_value {
    facet_type type;
    /* STRING: the text (NUL-terminated, UTF-8); ENUM: the value's full name, e.g.
     * "STATE_ACTIVE" (informative: ENUM values are compared by number) */
    const char *s;
    /* INT: the number; TIMESTAMP: microseconds since the Unix epoch; BOOL: 0/1; ENUM: the
     * value's number */
    int64_t i;
} facet_value;

typedef enum filter_op {
    FILTER_AND,
    FILTER_OR,
    FILTER_NOT,
    FILTER_EQ,
    FILTER_NE,
    FILTER_LT,
    FILTER_LE,
    FILTER_GT,
    FILTER_GE,
    FILTER_HAS
} filter_op;

/* A node of the parsed tree. AND and OR chains are left-nested: `a AND b AND c` is
 * AND(AND(a, b), c). */
typedef struct filter_node {
    filter_op op;
    struct filter_node *left, *right; /* AND, OR: both; NOT: left */
    size_t facet;                     /* comparisons and HAS: index into the facet table */
    facet_value value;                /* comparisons and HAS (strings owned by the filter) */
} filter_node;

/* Owns its nodes and strings; the root is reachable via filter_root(). Keeps no pointer to the
 * text; it points into the facet table's enum descriptors (static). */
typedef struct filter filter;

/* Parses text against facets[0..n). Empty or all-whitespace text: returns true with
 * *out = NULL (matches everything). Otherwise true with *out (free with filter_free), or false
 * with st INVALID_ARGUMENT whose message starts with `field` ("filter: ...") and names the
 * offending facet and/or the 1-based character position (RESOURCE_EXHAUSTED when out of
 * memory). */
bool filter_parse(const char *field, const char *text, const facet_def *facets, size_t n,
                  filter **out, status *st);
const filter_node *filter_root(const filter *f);
void filter_free(filter *f);

/* The values of one record, per facet index: values[k] points to n_values[k] values of facet
 * k (a singular facet: 0 = unset, or 1; a list: its elements, 0 = empty). Each value's type
 * is its facet's. */
typedef struct facet_values {
    const facet_value *const *values;
    const size_t *n_values;
} facet_values;

/* Whether the record satisfies f (NULL matches). A comparison on an unset singular facet is
 * false, except != (true: `a != v` is `NOT a = v`); a has-test on an empty list is false.
 * Strings compare by bytes (code point order), enums by number. */
bool filter_match(const filter *f, const facet_values *rec);

/* A canonical text of the filter: field names in snake_case, enum values by full name,
 * timestamps as RFC 3339 UTC with six fractional digits, strings double-quoted (escaping
 * `"` and `\`), single spaces around operators, chains of one operator flattened and every
 * AND/OR group inside another operator parenthesised. Equal filters modulo spelling give
 * equal text, and the text parses back to the same canonical text (whenever it is itself
 * within FILTER_MAX_BYTES and FILTER_MAX_DEPTH; see docs/filters.md). facets: the table f
 * was parsed against. malloc'd (NULL when out of memory); "" for a NULL filter. */
char *filter_canonical(const filter *f, const facet_def *facets);

#endif
