/* fuzz_import.c — `supplysecd import`: the JSON Lines reader of an export
 * (migrate.h), into a fresh in-memory SQLite store per input.
 *
 * Input: the export text. Oracles: a refused import says why; an accepted
 * one exports again, that export imports into another fresh store, and
 * exporting that gives the same text (so nothing an import accepts is lost
 * or changed by a second migration), with as many records and audit events
 * as were imported.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "input.h"
#include "kinds.h"
#include "migrate.h"
#include "store.h"

static store *fresh(void)
{
    store *s = NULL;
    char *err = NULL;
    if (store_open("sqlite::memory:", 1, &s, &err) != STORE_OK) {
        fprintf(stderr, "fuzz_import: %s\n", err ? err : "no store");
        abort();
    }
    return s;
}

/* Imports text[0..len) into a fresh store; NULL (err set) when refused. */
static store *import(const char *text, size_t len, migrate_counts *n, char **err)
{
    store *s = fresh();
    FILE *in = fmemopen((void *)text, len, "r");
    if (!in)
        abort();
    bool ok = migrate_import(s, in, kinds_record_facets, n, err);
    fclose(in);
    if (!ok) {
        store_close(s);
        return NULL;
    }
    return s;
}

static char *export(store *s, size_t *len, migrate_counts *n)
{
    char *text = NULL, *err = NULL;
    FILE *out = open_memstream(&text, len);
    if (!out)
        abort();
    bool ok = migrate_export(s, out, n, &err);
    fclose(out);
    FUZZ_REQUIRE(ok, "an imported store does not export: %s", err ? err : "");
    return text;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    fuzz_input in = {data, size};
    size_t len;
    uint8_t *text = fuzz_bytes(&in, SIZE_MAX, &len);
    migrate_counts n0, n1, n2, n3;
    char *err = NULL;

    store *s1 = import((const char *)text, len, &n0, &err);
    free(text);
    if (!s1) {
        FUZZ_REQUIRE(err != NULL, "refused without a reason");
        free(err);
        return 0;
    }
    size_t len1, len2;
    char *e1 = export(s1, &len1, &n1);
    FUZZ_REQUIRE(n1.records == n0.records && n1.events == n0.events,
                 "imported %zu records, %zu events; exported %zu, %zu", n0.records, n0.events,
                 n1.records, n1.events);
    store *s2 = import(e1, len1, &n2, &err);
    FUZZ_REQUIRE(s2 != NULL, "an export does not import: %s\n%s", err ? err : "", e1);
    char *e2 = export(s2, &len2, &n3);
    FUZZ_REQUIRE(len1 == len2 && memcmp(e1, e2, len1) == 0, "a second migration differs:\n%s\n%s",
                 e1, e2);
    free(e1);
    free(e2);
    store_close(s1);
    store_close(s2);
    return 0;
}
