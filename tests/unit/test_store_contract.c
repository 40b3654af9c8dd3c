/* test_store_contract.c — the storage contract of store.h, backend-neutral.
 *
 * Written only against store.h so that every backend runs this very file:
 * the store comes from $SUPPLYSEC_TEST_STORE_URI, or by default from a fresh
 * SQLite file in a mkdtemp directory per test. Each test works in its own
 * collections and organizations (named after a per-test tag), so the suite
 * also holds against a shared, non-empty store.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include <ftw.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <bson/bson.h>

#include "audit_chain.h"
#include "clock.h"
#include "filter.h"
#include "store.h"
#include "supplysec/v1/api_keys.pb-c.h"
#include "supplysec/v1/common.pb-c.h"

#define THREADS 8
#define UPDATES_PER_THREAD 50

typedef struct fx {
    char dir[64]; /* the temporary directory; "" with an external URI */
    char uri[512];
    store *s;
    char tag[48];
    char coll[80], coll2[80]; /* this test's collections */
    char org[80], org2[80];   /* this test's tenants */
} fx;

/* ---- fixture ---- */

static int remove_entry(const char *path, const struct stat *sb, int flag, struct FTW *ftw)
{
    (void)sb;
    (void)flag;
    (void)ftw;
    return remove(path);
}

static store *open_or_fail(const char *uri, int workers)
{
    store *s = NULL;
    char *err = NULL;
    store_status st = store_open(uri, workers, &s, &err);
    if (st != STORE_OK)
        fail_msg("store_open(%s): %s: %s", uri, store_status_name(st), err ? err : "");
    free(err);
    return s;
}

static int setup(void **state)
{
    static atomic_uint counter;
    fx *f = calloc(1, sizeof *f);
    assert_non_null(f);
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    snprintf(f->tag, sizeof f->tag, "%ld_%u_%ld", (long)getpid(), atomic_fetch_add(&counter, 1),
             (long)(ts.tv_nsec % 1000000));
    snprintf(f->coll, sizeof f->coll, "things_%s", f->tag);
    snprintf(f->coll2, sizeof f->coll2, "others_%s", f->tag);
    snprintf(f->org, sizeof f->org, "acme_%s", f->tag);
    snprintf(f->org2, sizeof f->org2, "globex_%s", f->tag);
    const char *uri = getenv("SUPPLYSEC_TEST_STORE_URI");
    if (uri && uri[0]) {
        snprintf(f->uri, sizeof f->uri, "%s", uri);
    } else {
        snprintf(f->dir, sizeof f->dir, "/tmp/supplysec-store-XXXXXX");
        assert_non_null(mkdtemp(f->dir));
        /* A missing parent directory is created by store_open. */
        snprintf(f->uri, sizeof f->uri, "sqlite:%s/data/store.db", f->dir);
    }
    f->s = open_or_fail(f->uri, THREADS);
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    fx *f = *state;
    store_close(f->s);
    if (f->dir[0])
        nftw(f->dir, remove_entry, 16, FTW_DEPTH | FTW_PHYS);
    free(f);
    return 0;
}

/* ---- helpers ---- */

/* The BSON document {v: text}, in one of a few thread-local buffers (valid
 * for the next 16 calls on this thread). Stored documents are BSON. */
static uint8_t *bdoc(const char *text, size_t *len)
{
    static _Thread_local uint8_t ring[16][1024];
    static _Thread_local unsigned next;
    bson_t b = BSON_INITIALIZER;
    BSON_APPEND_UTF8(&b, "v", text);
    uint8_t *buf = ring[next++ % 16];
    assert_true(b.len <= sizeof ring[0]);
    memcpy(buf, bson_get_data(&b), b.len);
    *len = b.len;
    bson_destroy(&b);
    return buf;
}

/* The int64 counter document {n: value}, into buf. */
static size_t counter_doc(int64_t value, uint8_t buf[64])
{
    bson_t b = BSON_INITIALIZER;
    BSON_APPEND_INT64(&b, "n", value);
    size_t len = b.len;
    memcpy(buf, bson_get_data(&b), len);
    bson_destroy(&b);
    return len;
}

static int64_t counter_of(const store_record *r)
{
    bson_t b;
    bson_iter_t it;
    assert_true(bson_init_static(&b, r->doc, r->doc_len));
    assert_true(bson_iter_init_find(&it, &b, "n") && BSON_ITER_HOLDS_INT64(&it));
    return bson_iter_int64(&it);
}

static store_record rec_of(const char *coll, const char *org, const char *parent, const char *name,
                           const char *state, const char *lookup, const char *doc)
{
    size_t len;
    uint8_t *bytes = bdoc(doc, &len);
    return (store_record){
        .collection = (char *)coll,
        .org = (char *)org,
        .parent = (char *)parent,
        .name = (char *)name,
        .state = (char *)state,
        .lookup = (char *)lookup,
        .version = 1,
        .doc = bytes,
        .doc_len = len,
    };
}

static store_audit ev_of(const char *org, const char *resource, int64_t before, int64_t after)
{
    return (store_audit){
        .principal = "organizations/acme/apiKeys/ops",
        .principal_org = "acme",
        .org = org,
        .role = "ROLE_ADMIN",
        .method = "/supplysec.v1.Things/Write",
        .resource = resource,
        .request_id = "req-1",
        .version_before = before,
        .version_after = after,
        .time_us = 1700000000000000 + after,
    };
}

static void create_ok(fx *f, const char *coll, const char *org, const char *parent,
                      const char *name, const char *state, const char *lookup, const char *doc)
{
    store_record r = rec_of(coll, org, parent, name, state, lookup, doc);
    store_audit ev = ev_of(org, name, 0, 1);
    assert_int_equal(store_create(f->s, &r, &ev), STORE_OK);
}

static store_status update_doc(fx *f, const char *org, const char *name, int64_t expected,
                               const char *doc)
{
    store_record r = rec_of(f->coll, org, "", name, NULL, NULL, doc);
    r.version = expected + 1;
    store_audit ev = ev_of(org, name, expected, expected + 1);
    return store_update(f->s, &r, expected, &ev);
}

static void assert_doc(const store_record *r, const char *doc)
{
    size_t len;
    const uint8_t *want = bdoc(doc, &len);
    assert_int_equal(r->doc_len, len);
    assert_memory_equal(r->doc, want, len);
}

/* The stored record's version and doc; fails when it is missing. */
static void assert_stored(fx *f, const char *org, const char *name, int64_t version,
                          const char *doc)
{
    store_record *r = NULL;
    assert_int_equal(store_get(f->s, f->coll, org, name, &r), STORE_OK);
    assert_int_equal(r->version, version);
    assert_doc(r, doc);
    store_record_free(r);
}

static void assert_missing(fx *f, const char *org, const char *name)
{
    store_record *r = (store_record *)1;
    assert_int_equal(store_get(f->s, f->coll, org, name, &r), STORE_NOT_FOUND);
    assert_null(r);
}

/* Every audit event of org, paging by `limit`. Caller frees. */
static store_audit_event *audit_all(fx *f, const char *org, int limit, size_t *count)
{
    store_audit_event *all = NULL;
    int64_t after = 0;
    *count = 0;
    for (;;) {
        store_audit_event *evs = NULL;
        size_t n = 0;
        assert_int_equal(store_audit_list(f->s, org, after, limit, &evs, &n), STORE_OK);
        assert_true(n <= (size_t)limit);
        if (n == 0) {
            store_audit_events_free(evs, n);
            return all;
        }
        all = realloc(all, (*count + n) * sizeof *all);
        assert_non_null(all);
        memcpy(all + *count, evs, n * sizeof *evs);
        free(evs); /* the strings now belong to `all` */
        *count += n;
        after = all[*count - 1].seq;
    }
}

/* Pages of 2,000: a batch of STORE_WRITES_MAX events counts in a few
 * reads (the MongoDB double scans and sorts the whole log at each). */
static size_t audit_count(fx *f, const char *org)
{
    size_t n;
    store_audit_event *evs = audit_all(f, org, 2000, &n);
    store_audit_events_free(evs, n);
    return n;
}

/* The names q lists, paging by q->limit, joined by ','; checks order and
 * the `more` flags on the way. Caller frees. */
static char *list_names(fx *f, store_query q)
{
    size_t cap = 4096, len = 0;
    char *out = calloc(1, cap);
    char last[256] = "";
    assert_non_null(out);
    for (;;) {
        store_page *p = NULL;
        q.after = last;
        assert_int_equal(store_list(f->s, &q, &p), STORE_OK);
        assert_true(p->count <= (size_t)q.limit);
        assert_true(!p->more || p->count == (size_t)q.limit);
        for (size_t i = 0; i < p->count; i++) {
            const char *name = p->records[i].name;
            assert_true(strcmp(name, last) > 0); /* ordered, nothing repeated */
            size_t n = strlen(name);
            while (len + n + 2 > cap)
                assert_non_null(out = realloc(out, cap *= 2));
            if (len)
                out[len++] = ',';
            memcpy(out + len, name, n + 1);
            len += n;
            snprintf(last, sizeof last, "%s", name);
        }
        bool more = p->more;
        store_page_free(p);
        if (!more)
            return out;
    }
}

static store_query query_of(fx *f, const char *org, const char *parent, const char *state,
                            int limit)
{
    return (store_query){
        .collection = f->coll, .org = org, .parent = parent, .state = state, .limit = limit};
}

static void assert_listed(fx *f, store_query q, const char *want)
{
    char *got = list_names(f, q);
    assert_string_equal(got, want);
    free(got);
}

/* ---- create and get ---- */

static void test_create_get_round_trip(void **state)
{
    fx *f = *state;
    /* A document of many BSON types, field order and all, must come back
     * byte for byte. */
    bson_t rich = BSON_INITIALIZER, nested, arr;
    const uint8_t bin[] = {0x00, 0xff, 0x00, 0x7f};
    BSON_APPEND_UTF8(&rich, "legalName", "Müller & Söhne");
    BSON_APPEND_INT64(&rich, "big", INT64_C(9007199254740993));
    BSON_APPEND_INT32(&rich, "small", -7);
    BSON_APPEND_DOUBLE(&rich, "ratio", 0.1);
    BSON_APPEND_BOOL(&rich, "flag", true);
    BSON_APPEND_DATE_TIME(&rich, "createTime", INT64_C(1795452603791));
    BSON_APPEND_BINARY(&rich, "hash", BSON_SUBTYPE_BINARY, bin, sizeof bin);
    BSON_APPEND_DOCUMENT_BEGIN(&rich, "identifiers", &nested);
    BSON_APPEND_UTF8(&nested, "eori", "DE1234567890123");
    bson_append_document_end(&rich, &nested);
    BSON_APPEND_ARRAY_BEGIN(&rich, "roles", &arr);
    BSON_APPEND_UTF8(&arr, "0", "SUPPLY_CHAIN_ROLE_CARRIER");
    BSON_APPEND_UTF8(&arr, "1", "SUPPLY_CHAIN_ROLE_IMPORTER");
    bson_append_array_end(&rich, &arr);
    uint8_t doc[512], want_doc[512];
    assert_true(rich.len <= sizeof doc);
    const size_t doc_len = rich.len;
    memcpy(doc, bson_get_data(&rich), doc_len);
    memcpy(want_doc, doc, doc_len);
    bson_destroy(&rich);
    char org[80], parent[160], name[160], st[16], lookup[80];
    char want_parent[160], want_name[160], want_lookup[80];
    snprintf(org, sizeof org, "%s", f->org);
    snprintf(parent, sizeof parent, "organizations/%s", f->org);
    snprintf(name, sizeof name, "organizations/%s/things/a", f->org);
    snprintf(st, sizeof st, "ACTIVE");
    snprintf(lookup, sizeof lookup, "lk_%s", f->tag);
    memcpy(want_parent, parent, sizeof parent);
    memcpy(want_name, name, sizeof name);
    memcpy(want_lookup, lookup, sizeof lookup);
    store_record in = {.collection = f->coll,
                       .org = org,
                       .parent = parent,
                       .name = name,
                       .state = st,
                       .lookup = lookup,
                       .version = 1,
                       .doc = doc,
                       .doc_len = doc_len};
    store_audit ev = ev_of(f->org, name, 0, 1);
    assert_int_equal(store_create(f->s, &in, &ev), STORE_OK);
    /* What was handed in was borrowed: the store kept copies. */
    memset(org, 'x', 3);
    memset(parent, 'x', 3);
    memset(name, 'x', 3);
    memset(st, 'x', 3);
    memset(lookup, 'x', 3);
    memset(doc, 'x', doc_len);

    store_record *r = NULL;
    assert_int_equal(store_get(f->s, f->coll, f->org, want_name, &r), STORE_OK);
    assert_string_equal(r->collection, f->coll);
    assert_string_equal(r->org, f->org);
    assert_string_equal(r->parent, want_parent);
    assert_string_equal(r->name, want_name);
    assert_string_equal(r->state, "ACTIVE");
    assert_string_equal(r->lookup, want_lookup);
    assert_int_equal(r->version, 1);
    assert_int_equal(r->doc_len, doc_len);
    assert_memory_equal(r->doc, want_doc, doc_len);
    store_record_free(r);

    /* org NULL matches any tenant. */
    r = NULL;
    assert_int_equal(store_get(f->s, f->coll, NULL, want_name, &r), STORE_OK);
    assert_string_equal(r->org, f->org);
    store_record_free(r);

    /* Another collection is another namespace. */
    r = (store_record *)1;
    assert_int_equal(store_get(f->s, f->coll2, NULL, want_name, &r), STORE_NOT_FOUND);
    assert_null(r);
}

static void test_create_get_minimal_record(void **state)
{
    fx *f = *state;
    store_record in = rec_of(f->coll, "", "", "platform-thing", NULL, NULL, "");
    bson_t empty = BSON_INITIALIZER;
    in.doc = (uint8_t *)bson_get_data(&empty);
    in.doc_len = empty.len;
    store_audit ev = ev_of(f->org, "platform-thing", 0, 1);
    assert_int_equal(store_create(f->s, &in, &ev), STORE_OK);
    store_record *r = NULL;
    assert_int_equal(store_get(f->s, f->coll, "", "platform-thing", &r), STORE_OK);
    assert_string_equal(r->org, "");
    assert_string_equal(r->parent, "");
    assert_null(r->state);
    assert_null(r->lookup);
    assert_int_equal(r->version, 1);
    assert_int_equal(r->doc_len, empty.len); /* the empty document */
    assert_memory_equal(r->doc, bson_get_data(&empty), empty.len);
    store_record_free(r);
}

static void test_create_name_taken(void **state)
{
    fx *f = *state;
    create_ok(f, f->coll, f->org, "", "a", NULL, NULL, "first");
    /* The name is unique in the collection, whatever the tenant. */
    store_record dup = rec_of(f->coll, f->org2, "", "a", NULL, NULL, "second");
    store_audit ev = ev_of(f->org2, "a", 0, 1);
    assert_int_equal(store_create(f->s, &dup, &ev), STORE_ALREADY_EXISTS);
    dup.org = f->org;
    ev.org = f->org;
    assert_int_equal(store_create(f->s, &dup, &ev), STORE_ALREADY_EXISTS);
    assert_stored(f, NULL, "a", 1, "first");
    store_record *r = NULL;
    assert_int_equal(store_get(f->s, f->coll, NULL, "a", &r), STORE_OK);
    assert_string_equal(r->org, f->org);
    store_record_free(r);
    assert_int_equal(audit_count(f, f->org), 1);
    assert_int_equal(audit_count(f, f->org2), 0);
    /* The same name in another collection is free. */
    create_ok(f, f->coll2, f->org, "", "a", NULL, NULL, "elsewhere");
}

static void test_create_lookup_taken(void **state)
{
    fx *f = *state;
    create_ok(f, f->coll, f->org, "", "a", NULL, "key1", "a");
    store_record dup = rec_of(f->coll, f->org2, "", "b", NULL, "key1", "b");
    store_audit ev = ev_of(f->org2, "b", 0, 1);
    assert_int_equal(store_create(f->s, &dup, &ev), STORE_ALREADY_EXISTS);
    assert_missing(f, NULL, "b");
    assert_int_equal(audit_count(f, f->org2), 0);
    /* Only a non-empty lookup is a key: many records have none. */
    create_ok(f, f->coll, f->org, "", "c", NULL, "", "c");
    create_ok(f, f->coll, f->org, "", "d", NULL, "", "d");
    create_ok(f, f->coll, f->org, "", "e", NULL, NULL, "e");
    create_ok(f, f->coll, f->org, "", "f", NULL, NULL, "f");
    /* Lookups are unique within a collection only. */
    create_ok(f, f->coll2, f->org, "", "a", NULL, "key1", "a");
    /* An update may not take a lookup either. */
    store_record up = rec_of(f->coll, f->org, "", "c", NULL, "key1", "c2");
    up.version = 2;
    ev = ev_of(f->org, "c", 1, 2);
    assert_int_equal(store_update(f->s, &up, 1, &ev), STORE_ALREADY_EXISTS);
    assert_stored(f, f->org, "c", 1, "c");
    assert_int_equal(audit_count(f, f->org), 6);
}

static void test_get_by_lookup(void **state)
{
    fx *f = *state;
    create_ok(f, f->coll, f->org, "p", "a", "ACTIVE", "key-a", "doc a");
    create_ok(f, f->coll, f->org2, "p", "b", NULL, "key-b", "doc b");
    create_ok(f, f->coll2, f->org2, "p", "other", NULL, "key-a", "doc other");

    store_record *r = NULL;
    assert_int_equal(store_get_by_lookup(f->s, f->coll, "key-a", &r), STORE_OK);
    assert_string_equal(r->name, "a");
    assert_string_equal(r->org, f->org);
    assert_string_equal(r->parent, "p");
    assert_string_equal(r->state, "ACTIVE");
    assert_string_equal(r->lookup, "key-a");
    assert_int_equal(r->version, 1);
    assert_doc(r, "doc a");
    store_record_free(r);

    r = (store_record *)1;
    assert_int_equal(store_get_by_lookup(f->s, f->coll, "key-zzz", &r), STORE_NOT_FOUND);
    assert_null(r);

    /* An update moves the lookup; a delete frees it. */
    store_record up = rec_of(f->coll, f->org, "p", "a", "ACTIVE", "key-a2", "doc a2");
    up.version = 2;
    store_audit ev = ev_of(f->org, "a", 1, 2);
    assert_int_equal(store_update(f->s, &up, 1, &ev), STORE_OK);
    assert_int_equal(store_get_by_lookup(f->s, f->coll, "key-a", &r), STORE_NOT_FOUND);
    assert_int_equal(store_get_by_lookup(f->s, f->coll, "key-a2", &r), STORE_OK);
    assert_string_equal(r->name, "a");
    assert_int_equal(r->version, 2);
    store_record_free(r);
    ev = ev_of(f->org2, "b", 1, 0);
    assert_int_equal(store_delete(f->s, f->coll, f->org2, "b", 1, &ev), STORE_OK);
    assert_int_equal(store_get_by_lookup(f->s, f->coll, "key-b", &r), STORE_NOT_FOUND);
    create_ok(f, f->coll, f->org, "p", "b2", NULL, "key-b", "doc b2");
}

/* ---- tenants, versions ---- */

static void test_tenant_isolation(void **state)
{
    fx *f = *state;
    create_ok(f, f->coll, f->org, "", "a", NULL, NULL, "mine");
    assert_missing(f, f->org2, "a");
    assert_int_equal(update_doc(f, f->org2, "a", 1, "theirs"), STORE_NOT_FOUND);
    store_audit ev = ev_of(f->org2, "a", 1, 0);
    assert_int_equal(store_delete(f->s, f->coll, f->org2, "a", 1, &ev), STORE_NOT_FOUND);
    assert_int_equal(store_delete(f->s, f->coll, f->org2, "a", 0, &ev), STORE_NOT_FOUND);
    assert_int_equal(store_delete(f->s, f->coll, "", "a", 0, &ev), STORE_NOT_FOUND);
    assert_stored(f, f->org, "a", 1, "mine");
    assert_int_equal(audit_count(f, f->org), 1);
    assert_int_equal(audit_count(f, f->org2), 0);
}

static void test_update_bumps_version(void **state)
{
    fx *f = *state;
    create_ok(f, f->coll, f->org, "p1", "a", "ACTIVE", "k1", "v1");
    store_record up = rec_of(f->coll, f->org, "p2", "a", "REVOKED", "k2", "version two");
    up.version = 2;
    store_audit ev = ev_of(f->org, "a", 1, 2);
    assert_int_equal(store_update(f->s, &up, 1, &ev), STORE_OK);
    store_record *r = NULL;
    assert_int_equal(store_get(f->s, f->coll, f->org, "a", &r), STORE_OK);
    assert_string_equal(r->org, f->org);
    assert_string_equal(r->parent, "p2");
    assert_string_equal(r->state, "REVOKED");
    assert_string_equal(r->lookup, "k2");
    assert_int_equal(r->version, 2);
    assert_doc(r, "version two");
    store_record_free(r);

    assert_int_equal(update_doc(f, f->org, "a", 2, "three"), STORE_OK);
    assert_stored(f, f->org, "a", 3, "three");
    /* update_doc wrote no state and no lookup: they are cleared. */
    assert_int_equal(store_get(f->s, f->coll, f->org, "a", &r), STORE_OK);
    assert_null(r->state);
    assert_null(r->lookup);
    store_record_free(r);
}

static void test_update_stale_version_conflicts(void **state)
{
    fx *f = *state;
    create_ok(f, f->coll, f->org, "", "a", NULL, NULL, "v1");
    assert_int_equal(update_doc(f, f->org, "a", 1, "v2"), STORE_OK);
    assert_int_equal(update_doc(f, f->org, "a", 1, "stale"), STORE_CONFLICT);
    assert_int_equal(update_doc(f, f->org, "a", 7, "future"), STORE_CONFLICT);
    assert_stored(f, f->org, "a", 2, "v2");
    assert_int_equal(audit_count(f, f->org), 2);
}

static void test_update_delete_missing(void **state)
{
    fx *f = *state;
    assert_int_equal(update_doc(f, f->org, "ghost", 1, "x"), STORE_NOT_FOUND);
    store_audit ev = ev_of(f->org, "ghost", 1, 0);
    assert_int_equal(store_delete(f->s, f->coll, f->org, "ghost", 1, &ev), STORE_NOT_FOUND);
    assert_int_equal(store_delete(f->s, f->coll, f->org, "ghost", 0, &ev), STORE_NOT_FOUND);
    assert_missing(f, f->org, "ghost");
    assert_int_equal(audit_count(f, f->org), 0);
}

static void test_delete(void **state)
{
    fx *f = *state;
    create_ok(f, f->coll, f->org, "", "a", NULL, NULL, "v1");
    assert_int_equal(update_doc(f, f->org, "a", 1, "v2"), STORE_OK);
    store_audit ev = ev_of(f->org, "a", 1, 0);
    assert_int_equal(store_delete(f->s, f->coll, f->org, "a", 1, &ev), STORE_CONFLICT);
    assert_stored(f, f->org, "a", 2, "v2");
    ev = ev_of(f->org, "a", 2, 0);
    assert_int_equal(store_delete(f->s, f->coll, f->org, "a", 2, &ev), STORE_OK);
    assert_missing(f, NULL, "a");
    assert_int_equal(store_delete(f->s, f->coll, f->org, "a", 2, &ev), STORE_NOT_FOUND);

    /* A deleted name can be created again, from version 1. */
    create_ok(f, f->coll, f->org, "", "a", NULL, NULL, "again");
    assert_stored(f, f->org, "a", 1, "again");
    assert_int_equal(update_doc(f, f->org, "a", 1, "again v2"), STORE_OK);
    /* expected 0 deletes whatever version is stored. */
    ev = ev_of(f->org, "a", 0, 0);
    assert_int_equal(store_delete(f->s, f->coll, f->org, "a", 0, &ev), STORE_OK);
    assert_missing(f, NULL, "a");
    assert_int_equal(audit_count(f, f->org), 6);
}

/* ---- lists ---- */

static void test_list_keyset_paging(void **state)
{
    fx *f = *state;
    enum { N = 250 };
    char name[16];
    /* Created out of order: 97 is coprime with 250. */
    for (int i = 0; i < N; i++) {
        snprintf(name, sizeof name, "r%03d", i * 97 % N);
        create_ok(f, f->coll, f->org, "p", name, NULL, NULL, name);
    }
    char *want = calloc(N, 5);
    assert_non_null(want);
    for (int i = 0; i < N; i++)
        snprintf(want + strlen(want), 6, "%sr%03d", i ? "," : "", i);
    const int sizes[] = {1, 7, 100, N - 1, N, N + 1, 1000};
    for (size_t k = 0; k < sizeof sizes / sizeof sizes[0]; k++) {
        assert_listed(f, query_of(f, f->org, "p", NULL, sizes[k]), want);
        assert_listed(f, query_of(f, NULL, NULL, NULL, sizes[k]), want);
    }

    /* The first page, and a cursor that is not a stored name. */
    store_query q = query_of(f, f->org, "p", NULL, 7);
    store_page *p = NULL;
    assert_int_equal(store_list(f->s, &q, &p), STORE_OK);
    assert_int_equal(p->count, 7);
    assert_true(p->more);
    assert_string_equal(p->records[0].name, "r000");
    assert_string_equal(p->records[6].name, "r006");
    assert_int_equal(p->records[6].version, 1);
    assert_doc(&p->records[6], "r006");
    store_page_free(p);
    q.after = "r123x";
    assert_int_equal(store_list(f->s, &q, &p), STORE_OK);
    assert_string_equal(p->records[0].name, "r124");
    store_page_free(p);
    q.after = "r249";
    assert_int_equal(store_list(f->s, &q, &p), STORE_OK);
    assert_int_equal(p->count, 0);
    assert_false(p->more);
    store_page_free(p);
    /* An empty collection is an empty page. */
    q.collection = f->coll2;
    q.after = "";
    assert_int_equal(store_list(f->s, &q, &p), STORE_OK);
    assert_int_equal(p->count, 0);
    assert_false(p->more);
    store_page_free(p);
    free(want);
}

static void test_list_filters(void **state)
{
    fx *f = *state;
    create_ok(f, f->coll, f->org, "", "a1", "ACTIVE", NULL, "");
    create_ok(f, f->coll, f->org, "P", "a2", "REVOKED", NULL, "");
    create_ok(f, f->coll, f->org, "P", "a3", "ACTIVE", NULL, "");
    create_ok(f, f->coll, f->org, "Q", "a4", NULL, NULL, "");
    create_ok(f, f->coll, f->org2, "", "b1", "ACTIVE", NULL, "");
    create_ok(f, f->coll, f->org2, "P", "b2", "ACTIVE", NULL, "");
    create_ok(f, f->coll, f->org2, "P", "b3", NULL, NULL, "");
    create_ok(f, f->coll2, f->org, "P", "c1", "ACTIVE", NULL, "");

    for (int limit = 1; limit <= 3; limit += 2) {
        assert_listed(f, query_of(f, f->org, NULL, NULL, limit), "a1,a2,a3,a4");
        assert_listed(f, query_of(f, f->org, "P", NULL, limit), "a2,a3");
        assert_listed(f, query_of(f, f->org, "", NULL, limit), "a1");
        assert_listed(f, query_of(f, f->org, "P", "ACTIVE", limit), "a3");
        assert_listed(f, query_of(f, f->org, NULL, "ACTIVE", limit), "a1,a3");
        assert_listed(f, query_of(f, f->org2, NULL, NULL, limit), "b1,b2,b3");
        assert_listed(f, query_of(f, "", NULL, NULL, limit), "");
        /* org NULL: every tenant. */
        assert_listed(f, query_of(f, NULL, NULL, NULL, limit), "a1,a2,a3,a4,b1,b2,b3");
        assert_listed(f, query_of(f, NULL, "", NULL, limit), "a1,b1");
        assert_listed(f, query_of(f, NULL, "P", NULL, limit), "a2,a3,b2,b3");
        assert_listed(f, query_of(f, NULL, NULL, "ACTIVE", limit), "a1,a3,b1,b2");
        assert_listed(f, query_of(f, NULL, "P", "ACTIVE", limit), "a3,b2");
        assert_listed(f, query_of(f, NULL, "Z", NULL, limit), "");
    }
    /* Records carry their columns in lists too. */
    store_query q = query_of(f, f->org2, "P", NULL, 10);
    store_page *p = NULL;
    assert_int_equal(store_list(f->s, &q, &p), STORE_OK);
    assert_int_equal(p->count, 2);
    assert_false(p->more);
    assert_string_equal(p->records[0].org, f->org2);
    assert_string_equal(p->records[0].parent, "P");
    assert_string_equal(p->records[0].state, "ACTIVE");
    assert_null(p->records[1].state);
    assert_null(p->records[1].lookup);
    store_page_free(p);
}

/* ---- facets and filtered lists ---- */

/* The facet table of the filter tests: every type, a repeated one. */
static const facet_def test_facets[] = {
    {.name = "state", .type = FACET_ENUM, .enum_type = &supplysec__v1__api_key__state__descriptor},
    {.name = "role", .type = FACET_ENUM, .enum_type = &supplysec__v1__role__descriptor},
    {.name = "tags", .type = FACET_STRING, .repeated = true},
    {.name = "n", .type = FACET_INT},
    {.name = "on", .type = FACET_BOOL},
    {.name = "at", .type = FACET_TIMESTAMP},
    {.name = "label", .type = FACET_STRING},
};
enum { N_FACETS = sizeof test_facets / sizeof test_facets[0], F_RECORDS = 48, F_VALUES = 12 };

/* One record's facets as the test keeps them: per facet index, its values. */
typedef struct facet_rec {
    char name[16];
    facet_value values[N_FACETS][4];
    size_t n_values[N_FACETS];
    bool deleted;
} facet_rec;

static const char *const tag_words[] = {"red", "green", "blue", "\xc3\xa9t\xc3\xa9"};
static const char *const labels[] = {"alpha", "Beta", "beta", "gamma\"q", ""};

/* Deterministic facets for record i (variant v: after an update). */
static void facets_for(facet_rec *r, int i, int v)
{
    unsigned x = (unsigned)(i * 2654435761u + v * 40503u + 7u);
#define NEXT() (x = x * 1103515245u + 12345u, (x >> 16) & 0x7fff)
    memset(r->n_values, 0, sizeof r->n_values);
    snprintf(r->name, sizeof r->name, "f%03d", i);
    r->values[0][0] = (facet_value){FACET_ENUM, NULL, 1 + (int64_t)(NEXT() % 2)};
    r->n_values[0] = 1;
    r->values[1][0] = (facet_value){FACET_ENUM, NULL, 1 + (int64_t)(NEXT() % 3)};
    r->n_values[1] = NEXT() % 5 ? 1 : 0; /* sometimes unset */
    for (int t = 0; t < 4; t++)
        if (NEXT() % 3 == 0)
            r->values[2][r->n_values[2]++] = (facet_value){FACET_STRING, tag_words[t], 0};
    r->values[3][0] = (facet_value){FACET_INT, NULL, (int64_t)(NEXT() % 11) - 5};
    r->n_values[3] = 1;
    r->values[4][0] = (facet_value){FACET_BOOL, NULL, (int64_t)(NEXT() % 2)};
    r->n_values[4] = 1;
    /* 2025-12-31T23:59:59.999999Z .. in days, or unset */
    r->values[5][0] = (facet_value){FACET_TIMESTAMP, NULL,
                                    1767225599999999LL + (int64_t)(NEXT() % 5) * 86400000000LL};
    r->n_values[5] = NEXT() % 4 ? 1 : 0;
    r->values[6][0] = (facet_value){FACET_STRING, labels[NEXT() % 5], 0};
    r->n_values[6] = 1;
#undef NEXT
}

/* r's facets as the store takes them, into out (at most N_FACETS * 4). */
static size_t store_facets_of(const facet_rec *r, store_facet *out)
{
    size_t n = 0;
    for (size_t k = 0; k < N_FACETS; k++)
        for (size_t j = 0; j < r->n_values[k]; j++)
            out[n++] = (store_facet){test_facets[k].name, r->values[k][j]};
    return n;
}

static store_status write_faceted(fx *f, const facet_rec *r, int64_t version)
{
    store_facet facets[N_FACETS * 4];
    store_record rec = rec_of(f->coll, f->org, "P", r->name, NULL, NULL, r->name);
    rec.facets = facets;
    rec.n_facets = store_facets_of(r, facets);
    rec.version = version + 1;
    store_audit ev = ev_of(f->org, r->name, version, version + 1);
    return version ? store_update(f->s, &rec, version, &ev) : store_create(f->s, &rec, &ev);
}

/* The names of the records in recs that match filter, in name order,
 * comma-joined: what the store must list. */
static char *expected_names(const facet_rec *recs, size_t n, const filter *flt)
{
    char *out = calloc(1, n * 8 + 1);
    assert_non_null(out);
    for (size_t i = 0; i < n; i++) {
        if (recs[i].deleted)
            continue;
        const facet_value *vals[N_FACETS];
        for (size_t k = 0; k < N_FACETS; k++)
            vals[k] = recs[i].values[k];
        facet_values fv = {vals, recs[i].n_values};
        if (filter_match(flt, &fv)) {
            if (out[0])
                strcat(out, ",");
            strcat(out, recs[i].name);
        }
    }
    return out;
}

static const char *const filter_texts[] = {
    "",
    "state = ACTIVE",
    "state != ACTIVE",
    "role = ROLE_ADMIN OR role = EDITOR",
    "role != VIEWER",
    "tags:\"red\"",
    "NOT tags:\"red\"",
    "tags:\"\xc3\xa9t\xc3\xa9\" OR tags:\"green\"",
    "n > 0",
    "n >= 0 AND n <= 2",
    "-n = 0",
    "n < -2 AND on = true",
    "on != false",
    "at >= \"2026-01-02T00:00:00Z\"",
    "at < \"2026-01-02T00:00:00Z\"",
    "at != \"2026-01-01T23:59:59.999999Z\"",
    "at = \"2026-01-01T23:59:59.999999Z\"",
    "label = \"beta\"",
    "label > \"Beta\" AND label < \"gamma\"",
    "label = \"gamma\\\"q\" OR label = \"\"",
    "(state = ACTIVE OR n = 3) AND NOT on = false",
    "state = ACTIVE AND (tags:\"blue\" OR NOT (n > 1 OR role = ADMIN))",
    "NOT (state = ACTIVE AND NOT (tags:\"red\" AND tags:\"green\"))",
    "NOT (state = ACTIVE OR n > 2)",
    "NOT NOT on = true",
    "-(-tags:\"blue\" OR (role = VIEWER AND -(n < 0 OR at >= \"2026-01-03T00:00:00Z\")))",
    /* 64 comparisons, the most a filter may hold */
    "n = -5 OR n = -4 OR n = -3 OR n = 5 OR n = 4 OR n = 3 OR n = 2 OR n = 1 OR n = 0 OR "
    "n = 9 OR n = 10 OR n = 11 OR n = 12 OR n = 13 OR n = 14 OR n = 15 OR n = 16 OR n = 17 OR "
    "n = 18 OR n = 19 OR n = 20 OR n = 21 OR n = 22 OR n = 23 OR n = 24 OR n = 25 OR n = 26 OR "
    "n = 27 OR n = 28 OR n = 29 OR n = 30 OR n = 31 OR n = 32 OR n = 33 OR n = 34 OR n = 35 OR "
    "n = 36 OR n = 37 OR n = 38 OR n = 39 OR n = 40 OR n = 41 OR n = 42 OR n = 43 OR n = 44 OR "
    "n = 45 OR n = 46 OR n = 47 OR n = 48 OR n = 49 OR n = 50 OR n = 51 OR n = 52 OR n = 53 OR "
    "n = 54 OR n = 55 OR n = 56 OR n = 57 OR n = 58 OR n = 59 OR n = 60 OR n = 61 OR "
    "tags:\"red\"",
    /* nested as deep as a filter may be */
    "(((((((((((((((((((((((((((((NOT (n = 1 OR (n = 2 AND on = true))"
    ")))))))))))))))))))))))))))))",
};

/* Every filter of filter_texts, at several page sizes, lists what
 * filter_match says of the records in recs (and nothing of coll2's). */
static void assert_filters(fx *f, const facet_rec *recs, size_t n)
{
    for (size_t t = 0; t < sizeof filter_texts / sizeof *filter_texts; t++) {
        filter *flt = NULL;
        status st = {0};
        if (!filter_parse("filter", filter_texts[t], test_facets, N_FACETS, &flt, &st))
            fail_msg("%s: %s", filter_texts[t], st.msg);
        char *want = expected_names(recs, n, flt);
        const int limits[] = {1, 5, 1000};
        /* every record's name starts with "f": the same with that prefix
         * (a store may then drive the list from a facet's values) */
        const char *prefixes[] = {NULL, "f"};
        for (size_t l = 0; l < 6; l++) {
            store_query q = query_of(f, f->org, "P", NULL, limits[l % 3]);
            q.filter = flt;
            q.facets = test_facets;
            q.n_facets = N_FACETS;
            q.prefix = prefixes[l / 3];
            char *got = list_names(f, q);
            if (strcmp(got, want) != 0)
                fail_msg("filter `%s`, limit %d, prefix %s:\n  got  %s\n  want %s", filter_texts[t],
                         limits[l % 3], q.prefix ? q.prefix : "none", got, want);
            free(got);
        }
        free(want);
        filter_free(flt);
    }
}

static void test_filtered_lists(void **state)
{
    fx *f = *state;
    facet_rec *recs = calloc(F_RECORDS, sizeof *recs);
    assert_non_null(recs);
    for (int i = 0; i < F_RECORDS; i++) {
        facets_for(&recs[i], i, 0);
        assert_int_equal(write_faceted(f, &recs[i], 0), STORE_OK);
    }
    /* the same names elsewhere, with facets that match everything: never listed */
    store_facet everything[N_FACETS * 4];
    size_t n_every = store_facets_of(&recs[0], everything);
    store_record other = rec_of(f->coll2, f->org, "P", recs[0].name, NULL, NULL, "x");
    other.facets = everything;
    other.n_facets = n_every;
    store_audit oev = ev_of(f->org, recs[0].name, 0, 1);
    assert_int_equal(store_create(f->s, &other, &oev), STORE_OK);
    /* and in this collection, names with the lists' prefix in another
     * tenant and under another parent: never listed either */
    store_record tenant = rec_of(f->coll, f->org2, "P", "f900", NULL, NULL, "x");
    store_record cousin = rec_of(f->coll, f->org, "Q", "f901", NULL, NULL, "x");
    tenant.facets = cousin.facets = everything;
    tenant.n_facets = cousin.n_facets = n_every;
    store_audit tev = ev_of(f->org2, "f900", 0, 1), cev = ev_of(f->org, "f901", 0, 1);
    assert_int_equal(store_create(f->s, &tenant, &tev), STORE_OK);
    assert_int_equal(store_create(f->s, &cousin, &cev), STORE_OK);
    assert_filters(f, recs, F_RECORDS);

    /* an update replaces the facets; a delete and a delete-all remove them */
    for (int i = 0; i < F_RECORDS; i += 3) {
        facets_for(&recs[i], i, 1);
        assert_int_equal(write_faceted(f, &recs[i], 1), STORE_OK);
    }
    for (int i = 1; i < F_RECORDS; i += 7) {
        store_audit ev = ev_of(f->org, recs[i].name, 0, 0);
        assert_int_equal(store_delete(f->s, f->coll, f->org, recs[i].name, 0, &ev), STORE_OK);
        recs[i].deleted = true;
    }
    assert_filters(f, recs, F_RECORDS);
    /* a record created again under a deleted one's name has only its new facets */
    facets_for(&recs[1], 1, 2);
    recs[1].deleted = false;
    assert_int_equal(write_faceted(f, &recs[1], 0), STORE_OK);
    assert_filters(f, recs, F_RECORDS);
    store_audit ev = ev_of(f->org, "all", 0, 0);
    store_write all = {.kind = STORE_WRITE_DELETE_ALL,
                       .collection = f->coll,
                       .org = f->org,
                       .parent = "P",
                       .ev = &ev};
    assert_int_equal(store_apply(f->s, &all, 1, NULL), STORE_OK);
    for (int i = 0; i < F_RECORDS; i++)
        recs[i].deleted = true;
    recs[2].deleted = false;
    facets_for(&recs[2], 2, 3);
    assert_int_equal(write_faceted(f, &recs[2], 0), STORE_OK);
    assert_filters(f, recs, F_RECORDS);
    free(recs);
}

/* Facets a store must refuse, and a filter without its facet table. */
static void test_facet_arguments(void **state)
{
    fx *f = *state;
    store_facet dotted[] = {{"a.b", {FACET_INT, NULL, 1}}};
    store_record rd = rec_of(f->coll, f->org, "P", "x0", NULL, NULL, "x");
    rd.facets = dotted;
    rd.n_facets = 1;
    store_audit evd = ev_of(f->org, "x0", 0, 1);
    assert_int_equal(store_create(f->s, &rd, &evd), STORE_INVALID);
    store_facet bad[] = {{"", {FACET_INT, NULL, 1}}};
    store_record r = rec_of(f->coll, f->org, "P", "x1", NULL, NULL, "x");
    r.facets = bad;
    r.n_facets = 1;
    store_audit ev = ev_of(f->org, "x1", 0, 1);
    assert_int_equal(store_create(f->s, &r, &ev), STORE_INVALID);
    store_facet nul_text[] = {{"label", {FACET_STRING, NULL, 0}}};
    r.facets = nul_text;
    assert_int_equal(store_create(f->s, &r, &ev), STORE_INVALID);
    static store_facet many[STORE_FACETS_MAX + 1];
    for (size_t i = 0; i <= STORE_FACETS_MAX; i++)
        many[i] = (store_facet){"n", {FACET_INT, NULL, (int64_t)i}};
    r.facets = many;
    r.n_facets = STORE_FACETS_MAX + 1;
    assert_int_equal(store_create(f->s, &r, &ev), STORE_INVALID);
    r.n_facets = STORE_FACETS_MAX;
    assert_int_equal(store_create(f->s, &r, &ev), STORE_OK);
    filter *flt = NULL;
    status st = {0};
    assert_true(filter_parse("filter", "n = 3", test_facets, N_FACETS, &flt, &st));
    store_query q = query_of(f, f->org, "P", NULL, 10);
    q.filter = flt;
    store_page *p = NULL;
    assert_int_equal(store_list(f->s, &q, &p), STORE_INVALID); /* no facet table */
    q.facets = test_facets;
    q.n_facets = N_FACETS;
    assert_int_equal(store_list(f->s, &q, &p), STORE_OK);
    assert_int_equal(p->count, 1);
    store_page_free(p);
    filter_free(flt);
}

/* The names in f->org under "P" whose facets pass `text`, comma-joined. */
static char *filtered(fx *f, const char *text)
{
    filter *flt = NULL;
    status st = {0};
    if (!filter_parse("filter", text, test_facets, N_FACETS, &flt, &st))
        fail_msg("%s: %s", text, st.msg);
    store_query q = query_of(f, f->org, "P", NULL, 10);
    q.filter = flt;
    q.facets = test_facets;
    q.n_facets = N_FACETS;
    char *got = list_names(f, q);
    filter_free(flt);
    return got;
}

/* store_index_facets: any facet table, again and again, before and after
 * the collection has records, and narrower; filtered lists answer the same
 * (test_store_mongo checks the indexes themselves). */
static void test_index_facets(void **state)
{
    fx *f = *state;
    const char *names[] = {"n", "tags", "on"};
    assert_int_equal(store_index_facets(f->s, f->coll, names, 3, false),
                     STORE_OK); /* no records yet */
    store_facet three[] = {{"n", {FACET_INT, NULL, 3}}, {"tags", {FACET_STRING, "x", 0}}};
    store_record r = rec_of(f->coll, f->org, "P", "r1", NULL, NULL, "one");
    r.facets = three;
    r.n_facets = 2;
    store_audit ev = ev_of(f->org, "r1", 0, 1);
    assert_int_equal(store_create(f->s, &r, &ev), STORE_OK);
    assert_int_equal(store_index_facets(f->s, f->coll, names, 3, false), STORE_OK);
    char *got = filtered(f, "n = 3 AND tags:\"x\"");
    assert_string_equal(got, "r1");
    free(got);
    assert_int_equal(store_index_facets(f->s, f->coll, names + 1, 1, true), STORE_OK);
    assert_int_equal(store_index_facets(f->s, f->coll, NULL, 0, true), STORE_OK);
    got = filtered(f, "n = 3");
    assert_string_equal(got, "r1");
    free(got);
    const char *empty[] = {""};
    assert_int_equal(store_index_facets(f->s, f->coll, empty, 1, false), STORE_INVALID);
    assert_int_equal(store_index_facets(f->s, "", names, 1, false), STORE_INVALID);
    assert_int_equal(store_index_facets(f->s, f->coll, NULL, 1, false), STORE_INVALID);
}

/* Facets given anew (store_refacet) replace records' facets at their
 * versions and nothing else, leaving records moved on or gone; a mark per
 * collection is kept. */
static void test_refacet(void **state)
{
    fx *f = *state;
    char *mark = NULL;
    assert_int_equal(store_facet_mark(f->s, f->coll, &mark), STORE_OK);
    assert_string_equal(mark, "");
    free(mark);
    assert_int_equal(store_set_facet_mark(f->s, f->coll, "n:int;v1"), STORE_OK);
    assert_int_equal(store_set_facet_mark(f->s, f->coll2, "other"), STORE_OK);
    assert_int_equal(store_set_facet_mark(f->s, f->coll, "n:int,on:bool;v1"), STORE_OK);
    assert_int_equal(store_facet_mark(f->s, f->coll, &mark), STORE_OK);
    assert_string_equal(mark, "n:int,on:bool;v1");
    free(mark);
    assert_int_equal(store_facet_mark(f->s, f->coll2, &mark), STORE_OK);
    assert_string_equal(mark, "other");
    free(mark);

    /* written without facets, as before a kind declared them */
    create_ok(f, f->coll, f->org, "P", "r1", NULL, NULL, "one");
    create_ok(f, f->coll, f->org, "P", "r2", NULL, NULL, "two");
    size_t events = audit_count(f, f->org);
    char *got = filtered(f, "n = 3");
    assert_string_equal(got, "");
    free(got);
    store_facet three[] = {{"n", {FACET_INT, NULL, 3}},
                           {"tags", {FACET_STRING, "x", 0}},
                           {"tags", {FACET_STRING, "y", 0}}};
    store_record r = rec_of(f->coll, f->org, "P", "r1", NULL, NULL, "ignored");
    r.facets = three;
    r.n_facets = 3;
    size_t done = 9;
    assert_int_equal(store_refacet(f->s, &r, 1, &done), STORE_OK);
    assert_int_equal(done, 1);
    got = filtered(f, "n = 3 AND tags:\"y\"");
    assert_string_equal(got, "r1");
    free(got);
    /* the document, the version and the audit log are as they were */
    store_record *now = NULL;
    assert_int_equal(store_get(f->s, f->coll, f->org, "r1", &now), STORE_OK);
    assert_int_equal(now->version, 1);
    size_t len;
    const uint8_t *one = bdoc("one", &len);
    assert_int_equal(now->doc_len, len);
    assert_memory_equal(now->doc, one, len);
    store_record_free(now);
    assert_int_equal(audit_count(f, f->org), events);

    /* a record moved on since, or gone, or in another tenant: untouched */
    store_record up = rec_of(f->coll, f->org, "P", "r2", NULL, NULL, "two'");
    up.version = 2;
    store_audit ev = ev_of(f->org, "r2", 1, 2);
    assert_int_equal(store_update(f->s, &up, 1, &ev), STORE_OK);
    store_record batch[3] = {r, r, r};
    batch[0].name = "r2"; /* at version 2 now */
    batch[1].name = "r3"; /* never was */
    batch[2].name = "r2";
    batch[2].version = 2;
    batch[2].org = f->org2;
    assert_int_equal(store_refacet(f->s, batch, 3, &done), STORE_OK);
    assert_int_equal(done, 0);
    got = filtered(f, "n = 3");
    assert_string_equal(got, "r1");
    free(got);
    /* several at once, each at its version; none: the facets are removed */
    store_record r1 = rec_of(f->coll, f->org, "P", "r1", NULL, NULL, "ignored");
    batch[0] = r1;
    batch[1] = r1;
    batch[1].name = "r2";
    batch[1].version = 2;
    batch[1].facets = three;
    batch[1].n_facets = 1;
    assert_int_equal(store_refacet(f->s, batch, 2, &done), STORE_OK);
    assert_int_equal(done, 2);
    got = filtered(f, "n = 3 OR tags:\"x\"");
    assert_string_equal(got, "r2");
    free(got);
    assert_int_equal(store_refacet(f->s, batch, 0, &done), STORE_OK);
    assert_int_equal(done, 0);
    batch[0].version = 0;
    assert_int_equal(store_refacet(f->s, batch, 1, &done), STORE_INVALID);
    assert_int_equal(store_facet_mark(f->s, "", &mark), STORE_INVALID);
}

/* ---- audit ---- */

static void assert_event(const store_audit_event *e, const store_audit *want)
{
    assert_string_equal(e->principal, want->principal);
    assert_string_equal(e->principal_org, want->principal_org ? want->principal_org : "");
    assert_string_equal(e->org, want->org);
    assert_string_equal(e->role, want->role);
    assert_string_equal(e->method, want->method);
    assert_string_equal(e->resource, want->resource);
    assert_string_equal(e->request_id, want->request_id);
    assert_int_equal(e->version_before, want->version_before);
    assert_int_equal(e->version_after, want->version_after);
    assert_int_equal(e->time_us, want->time_us);
}

static void test_audit_one_event_per_write(void **state)
{
    fx *f = *state;
    store_audit want[4];
    store_record r = rec_of(f->coll, f->org, "", "a", NULL, NULL, "v1");
    want[0] = (store_audit){.principal = "platform/apiKeys/k1",
                            .principal_org = "",
                            .org = f->org,
                            .role = "ROLE_ADMIN",
                            .method = "/supplysec.v1.Things/CreateThing",
                            .resource = "a",
                            .request_id = "req-create",
                            .version_before = 0,
                            .version_after = 1,
                            .time_us = 1111};
    assert_int_equal(store_create(f->s, &r, &want[0]), STORE_OK);
    want[1] = want[0];
    want[1].method = "/supplysec.v1.Things/UpdateThing";
    want[1].request_id = "req-update";
    want[1].version_before = 1;
    want[1].version_after = 2;
    want[1].time_us = 2222;
    r.version = 2;
    assert_int_equal(store_update(f->s, &r, 1, &want[1]), STORE_OK);

    /* Failed writes leave no event. */
    store_audit bad = want[1];
    assert_int_equal(store_create(f->s, &r, &bad), STORE_INVALID); /* version 2 */
    r.version = 1;
    assert_int_equal(store_create(f->s, &r, &bad), STORE_ALREADY_EXISTS);
    r.version = 2;
    assert_int_equal(store_update(f->s, &r, 1, &bad), STORE_CONFLICT);
    assert_int_equal(store_delete(f->s, f->coll, f->org, "a", 1, &bad), STORE_CONFLICT);
    assert_int_equal(store_delete(f->s, f->coll, f->org, "zz", 0, &bad), STORE_NOT_FOUND);

    /* An event is filed under the principal's organization. */
    want[2] = want[1];
    want[2].org = f->org2;
    want[2].resource = "a";
    want[2].version_before = 2;
    want[2].version_after = 3;
    want[2].time_us = 3333;
    r.version = 3;
    assert_int_equal(store_update(f->s, &r, 2, &want[2]), STORE_OK);
    /* A delete of any version records the version it deleted. */
    want[3] = want[0];
    want[3].method = "/supplysec.v1.Things/DeleteThing";
    want[3].version_before = 0;
    want[3].version_after = 0;
    assert_int_equal(store_delete(f->s, f->coll, f->org, "a", 0, &want[3]), STORE_OK);
    want[3].version_before = 3;

    size_t n;
    store_audit_event *evs = audit_all(f, f->org, 100, &n);
    assert_int_equal(n, 3);
    assert_event(&evs[0], &want[0]);
    assert_event(&evs[1], &want[1]);
    assert_event(&evs[2], &want[3]);
    assert_true(evs[0].seq < evs[1].seq && evs[1].seq < evs[2].seq);
    store_audit_events_free(evs, n);
    evs = audit_all(f, f->org2, 100, &n);
    assert_int_equal(n, 1);
    assert_event(&evs[0], &want[2]);
    store_audit_events_free(evs, n);
}

/* n records r00.. in each of the two organizations, one audit event each. */
static void create_in_both(fx *f, int n)
{
    char name[16];
    for (int i = 0; i < n; i++) {
        snprintf(name, sizeof name, "r%02d", i);
        create_ok(f, f->coll, f->org, "", name, NULL, NULL, name);
        create_ok(f, f->coll2, f->org2, "", name, NULL, NULL, name);
    }
}

static void test_audit_list_paging(void **state)
{
    fx *f = *state;
    enum { N = 23 };
    char name[16];
    create_in_both(f, N);
    const int limits[] = {1, 4, 23, 100};
    for (size_t k = 0; k < sizeof limits / sizeof limits[0]; k++) {
        size_t n;
        store_audit_event *evs = audit_all(f, f->org, limits[k], &n);
        assert_int_equal(n, N);
        for (int i = 0; i < N; i++) {
            snprintf(name, sizeof name, "r%02d", i);
            assert_string_equal(evs[i].resource, name);
            assert_string_equal(evs[i].org, f->org);
            assert_true(i == 0 || evs[i].seq > evs[i - 1].seq);
        }
        store_audit_events_free(evs, n);
    }
    /* Past the last event: nothing. */
    size_t n;
    store_audit_event *evs = audit_all(f, f->org, 100, &n);
    int64_t last = evs[n - 1].seq;
    store_audit_events_free(evs, n);
    evs = NULL;
    assert_int_equal(store_audit_list(f->s, f->org, last, 10, &evs, &n), STORE_OK);
    assert_int_equal(n, 0);
    store_audit_events_free(evs, n);
}

static void test_audit_list_newest_first(void **state)
{
    fx *f = *state;
    enum { N = 23 };
    create_in_both(f, N);
    size_t total;
    store_audit_event *oldest = audit_all(f, f->org, 100, &total);
    assert_int_equal(total, N);
    const int limits[] = {1, 4, 23, 100};
    for (size_t k = 0; k < sizeof limits / sizeof limits[0]; k++) {
        /* page back from the newest: the same events, in reverse, this organization's only */
        int64_t before = 0;
        size_t seen = 0;
        for (;;) {
            store_audit_event *evs = NULL;
            size_t n = 0;
            assert_int_equal(store_audit_list_newest(f->s, f->org, before, limits[k], &evs, &n),
                             STORE_OK);
            assert_true(n <= (size_t)limits[k]);
            for (size_t i = 0; i < n; i++, seen++) {
                assert_true(seen < total);
                assert_int_equal(evs[i].seq, oldest[total - 1 - seen].seq);
                assert_string_equal(evs[i].resource, oldest[total - 1 - seen].resource);
                assert_string_equal(evs[i].org, f->org);
            }
            if (n)
                before = evs[n - 1].seq;
            store_audit_events_free(evs, n);
            if (n == 0)
                break;
        }
        assert_int_equal(seen, total);
    }
    /* before the first event: nothing */
    store_audit_event *evs = NULL;
    size_t n = 0;
    assert_int_equal(store_audit_list_newest(f->s, f->org, oldest[0].seq, 10, &evs, &n), STORE_OK);
    assert_int_equal(n, 0);
    store_audit_events_free(evs, n);
    store_audit_events_free(oldest, total);
}

/* ---- persistence ---- */

static void test_persistence_across_reopen(void **state)
{
    fx *f = *state;
    create_ok(f, f->coll, f->org, "p", "a", "ACTIVE", "key-a", "v1");
    assert_int_equal(update_doc(f, f->org, "a", 1, "v2"), STORE_OK);
    create_ok(f, f->coll, f->org, "p", "b", NULL, NULL, "b");
    store_audit ev = ev_of(f->org, "b", 1, 0);
    assert_int_equal(store_delete(f->s, f->coll, f->org, "b", 1, &ev), STORE_OK);
    store_close(f->s);
    f->s = open_or_fail(f->uri, 2);

    assert_stored(f, f->org, "a", 2, "v2");
    assert_missing(f, NULL, "b");
    assert_listed(f, query_of(f, f->org, NULL, NULL, 10), "a");
    assert_int_equal(audit_count(f, f->org), 4);
    /* The reopened store keeps working, and reopening is idempotent. */
    assert_int_equal(update_doc(f, f->org, "a", 2, "v3"), STORE_OK);
    store_close(f->s);
    f->s = open_or_fail(f->uri, 1);
    assert_stored(f, f->org, "a", 3, "v3");
    assert_int_equal(store_ping(f->s), STORE_OK);
}

/* ---- concurrency ---- */

typedef struct worker {
    fx *f;
    atomic_int *errors;
    bool scoped; /* each read-update-read inside a read scope (store_read_begin) */
    int conflicts;
} worker;

/* Read-modify-write of the counter in record "counter", retrying on CONFLICT. */
static void *increment_worker(void *arg)
{
    worker *w = arg;
    for (int done = 0; done < UPDATES_PER_THREAD;) {
        store_record *r = NULL;
        if (w->scoped)
            store_read_begin(w->f->s);
        if (store_get(w->f->s, w->f->coll, w->f->org, "counter", &r) != STORE_OK) {
            atomic_fetch_add(w->errors, 1);
            store_record_free(r);
            if (w->scoped)
                store_read_end(w->f->s);
            return NULL;
        }
        uint8_t buf[64];
        store_record up = *r;
        up.doc_len = counter_doc(counter_of(r) + 1, buf);
        up.doc = buf;
        up.version = r->version + 1;
        store_audit ev = ev_of(w->f->org, "counter", r->version, r->version + 1);
        store_status st = store_update(w->f->s, &up, r->version, &ev);
        store_record_free(r);
        if (w->scoped) { /* the write ended the snapshot: this thread's write is seen */
            store_record *again = NULL;
            if (st == STORE_OK &&
                (store_get(w->f->s, w->f->coll, w->f->org, "counter", &again) != STORE_OK ||
                 again->version < up.version))
                atomic_fetch_add(w->errors, 1);
            store_record_free(again);
            store_read_end(w->f->s);
        }
        if (st == STORE_OK)
            done++;
        else if (st == STORE_CONFLICT)
            w->conflicts++;
        else {
            atomic_fetch_add(w->errors, 1);
            return NULL;
        }
    }
    return NULL;
}

static void concurrent_updates(fx *f, int threads, bool scoped)
{
    uint8_t zero[64];
    store_record r = rec_of(f->coll, f->org, "", "counter", NULL, NULL, "");
    r.doc_len = counter_doc(0, zero);
    r.doc = zero;
    store_audit ev = ev_of(f->org, "counter", 0, 1);
    assert_int_equal(store_create(f->s, &r, &ev), STORE_OK);

    atomic_int errors = 0;
    pthread_t tids[2 * THREADS];
    worker workers[2 * THREADS];
    assert_true(threads <= 2 * THREADS);
    for (int i = 0; i < threads; i++) {
        workers[i] = (worker){.f = f, .errors = &errors, .scoped = scoped};
        assert_int_equal(pthread_create(&tids[i], NULL, increment_worker, &workers[i]), 0);
    }
    for (int i = 0; i < threads; i++)
        pthread_join(tids[i], NULL);
    assert_int_equal(atomic_load(&errors), 0);

    store_record *got = NULL;
    assert_int_equal(store_get(f->s, f->coll, f->org, "counter", &got), STORE_OK);
    assert_int_equal(got->version, 1 + threads * UPDATES_PER_THREAD);
    assert_int_equal(counter_of(got), threads * UPDATES_PER_THREAD);
    store_record_free(got);
    assert_int_equal(audit_count(f, f->org), 1 + threads * UPDATES_PER_THREAD);
}

/* Twice as many threads as the store was opened for (so more than its
 * SQLite connections), each reading in a read scope and then writing: a
 * write must give the scope's connection back before it waits, or the
 * writers' leader waits for a connection that the members waiting for it
 * hold. */
static void test_concurrent_updates_in_read_scopes(void **state)
{
    concurrent_updates(*state, 2 * THREADS, true);
}

/* Reads in a scope: the records, a list, a lookup and the audit log as
 * outside it; a write in it is seen by the reads after it; a scope with no
 * read costs nothing. On SQLite the reads of a scope are one snapshot: a
 * write committed by another thread meanwhile is seen after a pause or the
 * scope's end; on MongoDB each read is its own (store.h). */
static void *update_to_v2(void *arg)
{
    fx *f = arg;
    store_record r = rec_of(f->coll, f->org, "p", "a", "ACTIVE", "key-a", "v2");
    r.version = 2;
    store_audit ev = ev_of(f->org, "a", 1, 2);
    return (void *)(intptr_t)store_update(f->s, &r, 1, &ev);
}

static void test_read_scope(void **state)
{
    fx *f = *state;
    bool sqlite = strncmp(f->uri, "sqlite:", 7) == 0;
    create_ok(f, f->coll, f->org, "p", "a", "ACTIVE", "key-a", "v1");
    create_ok(f, f->coll, f->org, "p", "b", NULL, NULL, "b1");

    store_read_begin(f->s);
    store_read_end(f->s);

    store_read_begin(f->s);
    assert_stored(f, f->org, "a", 1, "v1");
    pthread_t t;
    void *rc = NULL;
    assert_int_equal(pthread_create(&t, NULL, update_to_v2, f), 0);
    pthread_join(t, &rc);
    assert_int_equal((intptr_t)rc, STORE_OK);
    if (sqlite)
        assert_stored(f, f->org, "a", 1, "v1"); /* the scope's snapshot */
    else
        assert_stored(f, f->org, "a", 2, "v2");
    store_read_pause(f->s); /* a new snapshot from the next read */
    assert_stored(f, f->org, "a", 2, "v2");
    assert_listed(f, query_of(f, f->org, "p", NULL, 10), "a,b");
    store_record *r = NULL;
    assert_int_equal(store_get_by_lookup(f->s, f->coll, "key-a", &r), STORE_OK);
    assert_string_equal(r->name, "a");
    store_record_free(r);
    assert_int_equal(update_doc(f, f->org, "b", 1, "b2"), STORE_OK);
    assert_stored(f, f->org, "b", 2, "b2"); /* its own write, in the scope */
    assert_stored(f, f->org, "a", 2, "v2"); /* and a fresh snapshot after it */
    assert_int_equal(audit_count(f, f->org), 4);
    store_read_end(f->s);
    assert_stored(f, f->org, "a", 2, "v2");
}

static void test_concurrent_updates_lose_nothing(void **state)
{
    concurrent_updates(*state, THREADS, false);
}

typedef struct creator {
    fx *f;
    atomic_int *created; /* per name */
    atomic_int *errors;
} creator;

static void *create_worker(void *arg)
{
    creator *c = arg;
    char name[16];
    for (int i = 0; i < UPDATES_PER_THREAD; i++) {
        snprintf(name, sizeof name, "n%02d", i);
        store_record r = rec_of(c->f->coll, c->f->org, "", name, NULL, name, name);
        store_audit ev = ev_of(c->f->org, name, 0, 1);
        store_status st = store_create(c->f->s, &r, &ev);
        if (st == STORE_OK)
            atomic_fetch_add(&c->created[i], 1);
        else if (st != STORE_ALREADY_EXISTS)
            atomic_fetch_add(c->errors, 1);
    }
    return NULL;
}

static void test_concurrent_creates_one_winner(void **state)
{
    fx *f = *state;
    atomic_int created[UPDATES_PER_THREAD] = {0};
    atomic_int errors = 0;
    pthread_t threads[THREADS];
    creator c = {.f = f, .created = created, .errors = &errors};
    for (int i = 0; i < THREADS; i++)
        assert_int_equal(pthread_create(&threads[i], NULL, create_worker, &c), 0);
    for (int i = 0; i < THREADS; i++)
        pthread_join(threads[i], NULL);
    assert_int_equal(atomic_load(&errors), 0);
    for (int i = 0; i < UPDATES_PER_THREAD; i++)
        assert_int_equal(atomic_load(&created[i]), 1);
    assert_int_equal(audit_count(f, f->org), UPDATES_PER_THREAD);
    store_page *p = NULL;
    store_query q = query_of(f, f->org, "", NULL, 1000);
    assert_int_equal(store_list(f->s, &q, &p), STORE_OK);
    assert_int_equal(p->count, UPDATES_PER_THREAD);
    store_page_free(p);
}

/* ---- several writes, all or nothing (store_apply) ---- */

static store_write w_create(const store_record *r, const store_audit *ev)
{
    return (store_write){.kind = STORE_WRITE_CREATE, .rec = r, .ev = ev};
}

static store_write w_update(const store_record *r, int64_t expected, const store_audit *ev)
{
    return (store_write){
        .kind = STORE_WRITE_UPDATE, .rec = r, .expected_version = expected, .ev = ev};
}

static store_write w_delete(const char *coll, const char *org, const char *name, int64_t expected,
                            const store_audit *ev)
{
    return (store_write){.kind = STORE_WRITE_DELETE,
                         .collection = coll,
                         .org = org,
                         .name = name,
                         .expected_version = expected,
                         .ev = ev};
}

static store_write w_guard(const char *coll, const char *org, const char *name, int64_t expected)
{
    return (store_write){.kind = STORE_WRITE_GUARD,
                         .collection = coll,
                         .org = org,
                         .name = name,
                         .expected_version = expected};
}

static store_write w_delete_all(const char *coll, const char *org, const char *parent,
                                const store_audit *ev)
{
    return (store_write){
        .kind = STORE_WRITE_DELETE_ALL, .collection = coll, .org = org, .parent = parent, .ev = ev};
}

/* store_apply, checking the failed index it reports. */
static void apply_expect(fx *f, const store_write *w, size_t n, store_status want,
                         size_t want_failed)
{
    size_t failed = 12345;
    assert_int_equal(store_apply(f->s, w, n, &failed), want);
    if (want != STORE_OK)
        assert_int_equal(failed, want_failed);
}

/* The failing write may be any of them and the last: whatever came before
 * it in the batch is not stored either, nor any of their events. */
static void test_apply_all_or_nothing(void **state)
{
    fx *f = *state;
    create_ok(f, f->coll, f->org, "", "a", NULL, NULL, "a1");
    create_ok(f, f->coll, f->org, "", "b", NULL, "lk-b", "b1");
    create_ok(f, f->coll, f->org, "", "d", NULL, NULL, "d1");
    store_record c = rec_of(f->coll, f->org, "", "c", NULL, "lk-c", "c1");
    store_record a2 = rec_of(f->coll, f->org, "", "a", NULL, NULL, "a2");
    a2.version = 2;
    store_audit ev_c = ev_of(f->org, "c", 0, 1), ev_a = ev_of(f->org, "a", 1, 2),
                ev_d = ev_of(f->org, "d", 1, 0), ev_last = ev_of(f->org, "b", 1, 2);
    ev_d.request_id = "req-delete";

    /* the last write: a stale version */
    store_record b_stale = rec_of(f->coll, f->org, "", "b", NULL, NULL, "stale");
    b_stale.version = 8;
    store_write w[5] = {w_create(&c, &ev_c), w_update(&a2, 1, &ev_a),
                        w_delete(f->coll, f->org, "d", 1, &ev_d), w_guard(f->coll, f->org, "b", 1),
                        w_update(&b_stale, 7, &ev_last)};
    apply_expect(f, w, 5, STORE_CONFLICT, 4);
    /* a taken name, a taken lookup, a missing record, a record of another tenant */
    store_record taken = rec_of(f->coll, f->org2, "", "a", NULL, NULL, "taken");
    w[4] = w_create(&taken, &ev_last);
    apply_expect(f, w, 5, STORE_ALREADY_EXISTS, 4);
    store_record lookup = rec_of(f->coll, f->org, "", "e", NULL, "lk-b", "e");
    w[4] = w_create(&lookup, &ev_last);
    apply_expect(f, w, 5, STORE_ALREADY_EXISTS, 4);
    w[4] = w_delete(f->coll, f->org, "ghost", 0, &ev_last);
    apply_expect(f, w, 5, STORE_NOT_FOUND, 4);
    w[4] = w_delete(f->coll, f->org2, "b", 0, &ev_last);
    apply_expect(f, w, 5, STORE_NOT_FOUND, 4);
    /* a failure in the middle stops there */
    w[4] = w_update(&b_stale, 7, &ev_last);
    store_record a3 = rec_of(f->coll, f->org, "", "a", NULL, NULL, "a3");
    a3.version = 3;
    w[1] = w_update(&a3, 2, &ev_a);
    apply_expect(f, w, 5, STORE_CONFLICT, 1);
    assert_int_equal(store_apply(f->s, w, 5, NULL), STORE_CONFLICT); /* failed may be NULL */

    assert_missing(f, f->org, "c");
    assert_stored(f, f->org, "a", 1, "a1");
    assert_stored(f, f->org, "b", 1, "b1");
    assert_stored(f, f->org, "d", 1, "d1");
    assert_int_equal(audit_count(f, f->org), 3);
    store_record *r = NULL;
    assert_int_equal(store_get_by_lookup(f->s, f->coll, "lk-c", &r), STORE_NOT_FOUND);

    /* The same batch with a good last write: everything, each with its event, in order. */
    w[1] = w_update(&a2, 1, &ev_a);
    store_record b2 = rec_of(f->coll, f->org, "", "b", NULL, "lk-b", "b2");
    b2.version = 2;
    w[4] = w_update(&b2, 1, &ev_last);
    apply_expect(f, w, 5, STORE_OK, 0);
    assert_stored(f, f->org, "c", 1, "c1");
    assert_stored(f, f->org, "a", 2, "a2");
    assert_stored(f, f->org, "b", 2, "b2");
    assert_missing(f, f->org, "d");
    size_t n;
    store_audit_event *evs = audit_all(f, f->org, 100, &n);
    assert_int_equal(n, 3 + 4); /* the guard records none */
    assert_event(&evs[3], &ev_c);
    assert_event(&evs[4], &ev_a);
    assert_event(&evs[5], &ev_d);
    assert_event(&evs[6], &ev_last);
    for (size_t i = 1; i < n; i++)
        assert_true(evs[i].seq > evs[i - 1].seq);
    store_audit_events_free(evs, n);

    /* In order: a later write sees what an earlier one of the batch wrote. */
    store_record x1 = rec_of(f->coll, f->org, "", "x", NULL, NULL, "x1");
    store_record x2 = rec_of(f->coll, f->org, "", "x", NULL, NULL, "x2");
    x2.version = 2;
    store_audit ev_x1 = ev_of(f->org, "x", 0, 1), ev_x2 = ev_of(f->org, "x", 1, 2);
    store_write wx[3] = {w_create(&x1, &ev_x1), w_guard(f->coll, f->org, "x", 1),
                         w_update(&x2, 1, &ev_x2)};
    apply_expect(f, wx, 3, STORE_OK, 0);
    assert_stored(f, f->org, "x", 2, "x2");
    assert_int_equal(audit_count(f, f->org), 9);
}

static void test_apply_guard(void **state)
{
    fx *f = *state;
    create_ok(f, f->coll2, f->org, "", "p", NULL, NULL, "p1");
    store_record p2 = rec_of(f->coll2, f->org, "", "p", NULL, NULL, "p2");
    p2.version = 2;
    store_audit ev_p = ev_of(f->org, "p", 1, 2);
    assert_int_equal(store_update(f->s, &p2, 1, &ev_p), STORE_OK);
    store_record child = rec_of(f->coll, f->org, "p", "k", NULL, NULL, "k");
    store_audit ev_k = ev_of(f->org, "k", 0, 1);

    /* missing, stale, another tenant's, another collection's: the child is not created */
    store_write w[2] = {w_create(&child, &ev_k), w_guard(f->coll2, f->org, "ghost", 0)};
    apply_expect(f, w, 2, STORE_NOT_FOUND, 1);
    w[1] = w_guard(f->coll2, f->org, "p", 1);
    apply_expect(f, w, 2, STORE_CONFLICT, 1);
    w[1] = w_guard(f->coll2, f->org, "p", 3);
    apply_expect(f, w, 2, STORE_CONFLICT, 1);
    w[1] = w_guard(f->coll2, f->org2, "p", 0);
    apply_expect(f, w, 2, STORE_NOT_FOUND, 1);
    w[1] = w_guard(f->coll, f->org, "p", 0);
    apply_expect(f, w, 2, STORE_NOT_FOUND, 1);
    assert_missing(f, f->org, "k");
    assert_int_equal(audit_count(f, f->org), 2);

    /* at its version, or at any: the child is created, the parent untouched */
    w[1] = w_guard(f->coll2, f->org, "p", 2);
    apply_expect(f, w, 2, STORE_OK, 0);
    store_record k2 = rec_of(f->coll, f->org, "p", "k2", NULL, NULL, "k2");
    store_audit ev_k2 = ev_of(f->org, "k2", 0, 1);
    store_write w2[2] = {w_guard(f->coll2, f->org, "p", 0), w_create(&k2, &ev_k2)};
    apply_expect(f, w2, 2, STORE_OK, 0);
    assert_stored(f, f->org, "k", 1, "k");
    assert_stored(f, f->org, "k2", 1, "k2");
    store_record *r = NULL;
    assert_int_equal(store_get(f->s, f->coll2, f->org, "p", &r), STORE_OK);
    assert_int_equal(r->version, 2);
    assert_doc(r, "p2");
    store_record_free(r);
    /* a guard alone writes nothing and records nothing */
    store_write alone = w_guard(f->coll2, f->org, "p", 2);
    apply_expect(f, &alone, 1, STORE_OK, 0);
    alone = w_guard(f->coll2, f->org, "p", 1);
    apply_expect(f, &alone, 1, STORE_CONFLICT, 0);
    assert_int_equal(audit_count(f, f->org), 4);
}

/* The event of a delete-all's record: ev with that record's name and
 * version. */
static void assert_delete_all_event(const store_audit_event *e, const store_audit *ev,
                                    const char *name, int64_t version)
{
    store_audit want = *ev;
    want.resource = name;
    want.version_before = version;
    want.version_after = 0;
    assert_event(e, &want);
}

static int event_by_resource(const void *a, const void *b)
{
    return strcmp(((const store_audit_event *)a)->resource,
                  ((const store_audit_event *)b)->resource);
}

/* The events of org after the first `after`, sorted by resource (the
 * contract says one event per record, not in which order). */
static store_audit_event *audit_since(fx *f, const char *org, size_t after, size_t *n)
{
    size_t total;
    store_audit_event *all = audit_all(f, org, 100, &total);
    assert_true(total >= after);
    *n = total - after;
    store_audit_event *tail = calloc(*n ? *n : 1, sizeof *tail);
    assert_non_null(tail);
    memcpy(tail, all + after, *n * sizeof *tail); /* the strings move to tail */
    store_audit_events_free(all, after);
    qsort(tail, *n, sizeof *tail, event_by_resource);
    return tail;
}

static void test_apply_delete_all(void **state)
{
    fx *f = *state;
    create_ok(f, f->coll, f->org, "P", "a1", "ACTIVE", "lk-a1", "a1");
    create_ok(f, f->coll, f->org, "P", "a2", "REVOKED", NULL, "a2");
    store_record a2 = rec_of(f->coll, f->org, "P", "a2", "REVOKED", NULL, "a2 v2");
    a2.version = 2;
    store_audit ev_a2 = ev_of(f->org, "a2", 1, 2);
    assert_int_equal(store_update(f->s, &a2, 1, &ev_a2), STORE_OK);
    create_ok(f, f->coll, f->org, "Q", "a3", NULL, NULL, "a3");
    create_ok(f, f->coll, f->org, "", "a4", NULL, NULL, "a4");
    create_ok(f, f->coll, f->org2, "P", "b1", NULL, NULL, "b1");
    create_ok(f, f->coll, "", "P", "z1", NULL, NULL, "z1");
    create_ok(f, f->coll2, f->org, "P", "c1", NULL, NULL, "c1");
    size_t before = audit_count(f, f->org);
    assert_int_equal(before, 6);

    store_audit ev = ev_of(f->org, "organizations/x", 0, 0);
    ev.method = "/supplysec.v1.Things/DeleteAll";
    ev.request_id = "req-delete-all";
    ev.time_us = 4242;
    store_write w = w_delete_all(f->coll, f->org, "P", &ev);
    apply_expect(f, &w, 1, STORE_OK, 0);
    assert_listed(f, query_of(f, f->org, NULL, NULL, 10), "a3,a4");
    assert_listed(f, query_of(f, NULL, NULL, NULL, 10), "a3,a4,b1,z1");
    store_record *r = NULL;
    assert_int_equal(store_get(f->s, f->coll2, f->org, "c1", &r), STORE_OK);
    store_record_free(r);
    assert_int_equal(store_get_by_lookup(f->s, f->coll, "lk-a1", &r), STORE_NOT_FOUND);
    size_t n;
    store_audit_event *evs = audit_since(f, f->org, before, &n);
    assert_int_equal(n, 2);
    assert_delete_all_event(&evs[0], &ev, "a1", 1);
    assert_delete_all_event(&evs[1], &ev, "a2", 2);
    store_audit_events_free(evs, n);

    /* parent NULL: every record of the tenant in the collection */
    w = w_delete_all(f->coll, f->org, NULL, &ev);
    apply_expect(f, &w, 1, STORE_OK, 0);
    assert_listed(f, query_of(f, f->org, NULL, NULL, 10), "");
    assert_listed(f, query_of(f, NULL, NULL, NULL, 10), "b1,z1");
    evs = audit_since(f, f->org, before + 2, &n);
    assert_int_equal(n, 2);
    assert_delete_all_event(&evs[0], &ev, "a3", 1);
    assert_delete_all_event(&evs[1], &ev, "a4", 1);
    store_audit_events_free(evs, n);

    /* none left: no error, no event */
    apply_expect(f, &w, 1, STORE_OK, 0);
    assert_int_equal(audit_count(f, f->org), before + 4);

    /* all or nothing with the rest of its batch */
    store_audit ev2 = ev_of(f->org2, "x", 0, 0);
    store_write ws[2] = {w_delete_all(f->coll, f->org2, NULL, &ev2),
                         w_delete(f->coll, f->org2, "ghost", 0, &ev2)};
    apply_expect(f, ws, 2, STORE_NOT_FOUND, 1);
    assert_listed(f, query_of(f, NULL, NULL, NULL, 10), "b1,z1");
    assert_int_equal(audit_count(f, f->org2), 1);
    /* the platform ("") is a tenant like the others */
    store_audit ev3 = ev_of("", "x", 0, 0);
    w = w_delete_all(f->coll, "", NULL, &ev3);
    apply_expect(f, &w, 1, STORE_OK, 0);
    assert_listed(f, query_of(f, NULL, NULL, NULL, 10), "b1");
    assert_listed(f, query_of(f, NULL, NULL, NULL, 10), "b1");
    r = NULL;
    assert_int_equal(store_get(f->s, f->coll2, f->org, "c1", &r), STORE_OK);
    store_record_free(r);
}

/* Deletes the parent with its children while other threads create children
 * that guard it: no child outlives the parent. */
typedef struct guarded_creator {
    fx *f;
    int id;
    atomic_int *created, *errors;
} guarded_creator;

static void *guarded_create_worker(void *arg)
{
    guarded_creator *g = arg;
    fx *f = g->f;
    char name[32];
    for (int i = 0;; i++) {
        snprintf(name, sizeof name, "k-%d-%04d", g->id, i);
        store_record r = rec_of(f->coll, f->org, "p", name, NULL, NULL, name);
        store_audit ev = ev_of(f->org, name, 0, 1);
        store_write w[2] = {w_guard(f->coll2, f->org, "p", 0), w_create(&r, &ev)};
        size_t failed = 99;
        store_status st = store_apply(f->s, w, 2, &failed);
        if (st == STORE_NOT_FOUND && failed == 0)
            return NULL; /* the parent is gone */
        if (st == STORE_OK)
            atomic_fetch_add(g->created, 1);
        else
            atomic_fetch_add(g->errors, 1);
        if (st != STORE_OK || i > 5000)
            return NULL;
    }
}

static void test_apply_guard_against_delete_all(void **state)
{
    fx *f = *state;
    enum { CREATORS = 4 };
    create_ok(f, f->coll2, f->org, "", "p", NULL, NULL, "parent");
    atomic_int created = 0, errors = 0;
    pthread_t threads[CREATORS];
    guarded_creator g[CREATORS];
    for (int i = 0; i < CREATORS; i++) {
        g[i] = (guarded_creator){.f = f, .id = i, .created = &created, .errors = &errors};
        assert_int_equal(pthread_create(&threads[i], NULL, guarded_create_worker, &g[i]), 0);
    }
    while (atomic_load(&created) < 40 && atomic_load(&errors) == 0)
        usleep(1000);
    store_audit ev_p = ev_of(f->org, "p", 1, 0), ev_k = ev_of(f->org, "p", 0, 0);
    store_write w[2] = {w_delete(f->coll2, f->org, "p", 1, &ev_p),
                        w_delete_all(f->coll, f->org, "p", &ev_k)};
    store_status st = store_apply(f->s, w, 2, NULL);
    for (int i = 0; i < CREATORS; i++) /* before any assert: they use the fixture */
        pthread_join(threads[i], NULL);
    assert_int_equal(st, STORE_OK);
    assert_int_equal(atomic_load(&errors), 0);
    /* every child created was deleted with the parent, none after it */
    assert_listed(f, query_of(f, f->org, NULL, NULL, 1000), "");
    assert_int_equal(audit_count(f, f->org), 1 + 2 * (size_t)atomic_load(&created) + 1);
}

/* Read-modify-write of two counters in one batch at the versions read,
 * retrying on CONFLICT: no increment is lost, and the two never differ. */
static void *pair_increment_worker(void *arg)
{
    worker *w = arg;
    fx *f = w->f;
    for (int done = 0; done < UPDATES_PER_THREAD;) {
        store_record *r1 = NULL, *r2 = NULL;
        if (store_get(f->s, f->coll, f->org, "c1", &r1) != STORE_OK ||
            store_get(f->s, f->coll, f->org, "c2", &r2) != STORE_OK) {
            atomic_fetch_add(w->errors, 1);
            store_record_free(r1);
            store_record_free(r2);
            return NULL;
        }
        uint8_t buf1[64], buf2[64];
        store_record u1 = *r1, u2 = *r2;
        u1.doc_len = counter_doc(counter_of(r1) + 1, buf1);
        u1.doc = buf1;
        u1.version = r1->version + 1;
        u2.doc_len = counter_doc(counter_of(r2) + 1, buf2);
        u2.doc = buf2;
        u2.version = r2->version + 1;
        store_audit e1 = ev_of(f->org, "c1", r1->version, u1.version),
                    e2 = ev_of(f->org, "c2", r2->version, u2.version);
        store_write ws[3] = {w_update(&u1, r1->version, &e1), w_guard(f->coll2, f->org, "g", 1),
                             w_update(&u2, r2->version, &e2)};
        store_status st = store_apply(f->s, ws, 3, NULL);
        store_record_free(r1);
        store_record_free(r2);
        if (st == STORE_OK) {
            done++;
        } else if (st == STORE_CONFLICT) {
            w->conflicts++;
        } else {
            atomic_fetch_add(w->errors, 1);
            return NULL;
        }
    }
    return NULL;
}

static void test_apply_conflicting_writers_lose_nothing(void **state)
{
    fx *f = *state;
    uint8_t zero[64];
    size_t zero_len = counter_doc(0, zero);
    for (int i = 0; i < 2; i++) {
        store_record r = rec_of(f->coll, f->org, "", i ? "c2" : "c1", NULL, NULL, "");
        r.doc = zero;
        r.doc_len = zero_len;
        store_audit ev = ev_of(f->org, r.name, 0, 1);
        assert_int_equal(store_create(f->s, &r, &ev), STORE_OK);
    }
    create_ok(f, f->coll2, f->org, "", "g", NULL, NULL, "guarded");

    atomic_int errors = 0;
    pthread_t threads[THREADS];
    worker workers[THREADS];
    for (int i = 0; i < THREADS; i++) {
        workers[i] = (worker){.f = f, .errors = &errors};
        assert_int_equal(pthread_create(&threads[i], NULL, pair_increment_worker, &workers[i]), 0);
    }
    for (int i = 0; i < THREADS; i++)
        pthread_join(threads[i], NULL);
    assert_int_equal(atomic_load(&errors), 0);
    for (int i = 0; i < 2; i++) {
        store_record *got = NULL;
        assert_int_equal(store_get(f->s, f->coll, f->org, i ? "c2" : "c1", &got), STORE_OK);
        assert_int_equal(got->version, 1 + THREADS * UPDATES_PER_THREAD);
        assert_int_equal(counter_of(got), THREADS * UPDATES_PER_THREAD);
        store_record_free(got);
    }
    assert_int_equal(audit_count(f, f->org), 3 + 2 * THREADS * UPDATES_PER_THREAD);
}

static void test_apply_after_deadline_writes_nothing(void **state)
{
    fx *f = *state;
    create_ok(f, f->coll, f->org, "", "a", NULL, NULL, "a1");
    int64_t past = clock_monotonic_us() - 1000;
    store_record b = rec_of(f->coll, f->org, "", "b", NULL, NULL, "b1");
    store_record a2 = rec_of(f->coll, f->org, "", "a", NULL, NULL, "a2");
    a2.version = 2;
    store_audit ev_b = ev_of(f->org, "b", 0, 1), ev_a = ev_of(f->org, "a", 1, 2);
    /* The batch's deadline is its events' earliest: the last one's here. */
    ev_a.deadline_us = past;
    store_write w[3] = {w_create(&b, &ev_b), w_guard(f->coll, f->org, "a", 1),
                        w_update(&a2, 1, &ev_a)};
    apply_expect(f, w, 3, STORE_DEADLINE_EXCEEDED, 3);
    ev_b.deadline_us = clock_monotonic_us() + 10 * 1000000LL;
    apply_expect(f, w, 3, STORE_DEADLINE_EXCEEDED, 3);
    assert_missing(f, f->org, "b");
    assert_stored(f, f->org, "a", 1, "a1");
    assert_int_equal(audit_count(f, f->org), 1);
    ev_a.deadline_us = 0; /* none for this one: the other's, ahead, holds */
    apply_expect(f, w, 3, STORE_OK, 0);
    assert_stored(f, f->org, "a", 2, "a2");
    assert_stored(f, f->org, "b", 1, "b1");

    /* A deadline that passes while a long batch is written: all or nothing,
     * and nothing unless the batch committed before the deadline. */
    enum { N = 2000 };
    store_record *recs = calloc(N, sizeof *recs);
    store_audit *evs = calloc(N, sizeof *evs);
    store_write *ws = calloc(N, sizeof *ws);
    char(*names)[24] = calloc(N, sizeof *names);
    assert_true(recs && evs && ws && names);
    size_t len;
    uint8_t doc[64]; /* out of bdoc's ring, which rec_of goes round */
    const uint8_t *text = bdoc("long", &len);
    assert_true(len <= sizeof doc);
    memcpy(doc, text, len);
    int64_t deadline = clock_monotonic_us() + 2000;
    for (int i = 0; i < N; i++) {
        snprintf(names[i], sizeof names[i], "long-%04d", i);
        recs[i] = rec_of(f->coll, f->org, "long", names[i], NULL, NULL, "");
        recs[i].doc = doc;
        recs[i].doc_len = len;
        evs[i] = ev_of(f->org, names[i], 0, 1);
        evs[i].deadline_us = deadline;
        ws[i] = w_create(&recs[i], &evs[i]);
    }
    size_t failed = 0;
    store_status st = store_apply(f->s, ws, N, &failed);
    store_page *p = NULL;
    store_query q = query_of(f, f->org, "long", NULL, N + 1);
    assert_int_equal(store_list(f->s, &q, &p), STORE_OK);
    if (st == STORE_OK) {
        assert_int_equal(p->count, N);
    } else {
        assert_int_equal(st, STORE_DEADLINE_EXCEEDED);
        assert_int_equal(failed, N);
        assert_int_equal(p->count, 0);
        assert_int_equal(audit_count(f, f->org), 3);
    }
    store_page_free(p);
    free(recs);
    free(evs);
    free(ws);
    free(names);
}

static void test_apply_bounds_and_arguments(void **state)
{
    fx *f = *state;
    enum { N = STORE_WRITES_MAX };
    store_record *recs = calloc(N + 1, sizeof *recs);
    store_write *ws = calloc(N + 1, sizeof *ws);
    char(*names)[16] = calloc(N + 1, sizeof *names);
    assert_true(recs && ws && names);
    size_t len;
    uint8_t doc[64]; /* out of bdoc's ring, which rec_of goes round */
    const uint8_t *text = bdoc("many", &len);
    assert_true(len <= sizeof doc);
    memcpy(doc, text, len);
    store_audit ev = ev_of(f->org, "many", 0, 1); /* resource: the batch */
    for (int i = 0; i <= N; i++) {
        snprintf(names[i], sizeof names[i], "m%05d", i);
        recs[i] = rec_of(f->coll, f->org, "", names[i], NULL, NULL, "");
        recs[i].doc = doc;
        recs[i].doc_len = len;
        ws[i] = w_create(&recs[i], &ev);
    }
    size_t failed = 0;
    assert_int_equal(store_apply(f->s, ws, N + 1, &failed), STORE_INVALID);
    assert_int_equal(failed, N + 1);
    assert_int_equal(store_apply(f->s, ws, 0, &failed), STORE_INVALID);
    assert_int_equal(store_apply(f->s, NULL, 1, &failed), STORE_INVALID);
    assert_int_equal(store_apply(NULL, ws, 1, &failed), STORE_INVALID);
    /* An invalid write anywhere: its index, and nothing written. */
    store_write bad = ws[2];
    ws[2] = w_delete_all(f->coll, f->org, NULL, NULL); /* a delete-all needs its event */
    apply_expect(f, ws, 3, STORE_INVALID, 2);
    ws[2] = w_guard(f->coll, NULL, "a", 0);
    apply_expect(f, ws, 3, STORE_INVALID, 2);
    ws[2] = w_guard(f->coll, f->org, "a", -1);
    apply_expect(f, ws, 3, STORE_INVALID, 2);
    ws[2] = w_update(&recs[2], 1, &ev); /* version 1 is not 1 + 1 */
    apply_expect(f, ws, 3, STORE_INVALID, 2);
    ws[2] = (store_write){.kind = (store_write_kind)99};
    apply_expect(f, ws, 3, STORE_INVALID, 2);
    ws[2] = bad;
    assert_listed(f, query_of(f, f->org, NULL, NULL, 10), "");
    assert_int_equal(audit_count(f, f->org), 0);

    /* STORE_WRITES_MAX writes are one batch: all of them, each with its event. */
    apply_expect(f, ws, N, STORE_OK, 0);
    store_page *p = NULL;
    store_query q = query_of(f, f->org, "", NULL, N + 1);
    assert_int_equal(store_list(f->s, &q, &p), STORE_OK);
    assert_int_equal(p->count, N);
    store_page_free(p);
    assert_int_equal(audit_count(f, f->org), N);
    free(recs);
    free(ws);
    free(names);
}

/* ---- concurrent batches, each with its own outcome ----
 *
 * Many writers at once, each batch's outcome known in advance. A backend
 * may write concurrent batches together (SQLite's group commit: one
 * transaction, a savepoint per batch); each batch must still get its own
 * outcome and be stored all or nothing, and what it acknowledged must stay. */

#define MIX_THREADS 32
#define MIX_BATCHES 40
#define MIX_TAKEN 4 /* names created before the writers start */

typedef enum mix_kind {
    MIX_CREATE,     /* a fresh record: OK */
    MIX_TAKEN_NAME, /* a name created beforehand: ALREADY_EXISTS at 0 */
    MIX_PARTIAL,    /* a fresh record, then a failing write: fails at 1, nothing stored */
    MIX_STALE,      /* an update at a stale version: CONFLICT at 0 */
    MIX_LATE,       /* two fresh records, the deadline passed: DEADLINE_EXCEEDED at n */
    MIX_KINDS
} mix_kind;

static mix_kind mix_kind_of(int t, int i)
{
    return (mix_kind)((t + i) % MIX_KINDS);
}

/* The name of write w of writer t's batch i. */
static void mix_name(char *buf, size_t size, int t, int i, int w)
{
    snprintf(buf, size, "mix-%02d-%02d-%d", t, i, w);
}

/* The outcome writer t's batch i must get, and its failed index. */
static store_status mix_want(int t, int i, size_t *failed)
{
    switch (mix_kind_of(t, i)) {
    case MIX_CREATE:
        *failed = 1;
        return STORE_OK;
    case MIX_TAKEN_NAME:
        *failed = 0;
        return STORE_ALREADY_EXISTS;
    case MIX_PARTIAL:
        *failed = 1;
        return i % 2 ? STORE_CONFLICT : STORE_ALREADY_EXISTS;
    case MIX_STALE:
        *failed = 0;
        return STORE_CONFLICT;
    default:
        *failed = 2;
        return STORE_DEADLINE_EXCEEDED;
    }
}

typedef struct mix_writer {
    fx *f;
    int t;
    pthread_barrier_t *start;
    store_status got[MIX_BATCHES];
    size_t failed[MIX_BATCHES];
} mix_writer;

/* Writer t's batches, back to back, each outcome kept for the test to check. */
static void *mix_worker(void *arg)
{
    mix_writer *m = arg;
    fx *f = m->f;
    pthread_barrier_wait(m->start);
    for (int i = 0; i < MIX_BATCHES; i++) {
        char name0[32], name1[32], taken[32];
        mix_name(name0, sizeof name0, m->t, i, 0);
        mix_name(name1, sizeof name1, m->t, i, 1);
        snprintf(taken, sizeof taken, "taken-%d", (m->t + i) % MIX_TAKEN);
        store_record fresh0 = rec_of(f->coll, f->org, "", name0, NULL, NULL, name0);
        store_record fresh1 = rec_of(f->coll, f->org, "", name1, NULL, NULL, name1);
        store_record dup = rec_of(f->coll, f->org, "", taken, NULL, NULL, "dup");
        store_record stale = rec_of(f->coll, f->org, "", "stale", NULL, NULL, "changed");
        stale.version = 8;
        store_audit ev0 = ev_of(f->org, name0, 0, 1), ev1 = ev_of(f->org, name1, 0, 1),
                    ev_dup = ev_of(f->org, taken, 0, 1), ev_stale = ev_of(f->org, "stale", 7, 8);
        store_write w[2];
        size_t n = 1;
        switch (mix_kind_of(m->t, i)) {
        case MIX_CREATE:
            w[0] = w_create(&fresh0, &ev0);
            break;
        case MIX_TAKEN_NAME:
            w[0] = w_create(&dup, &ev_dup);
            break;
        case MIX_PARTIAL:
            w[0] = w_create(&fresh0, &ev0);
            w[1] = i % 2 ? w_update(&stale, 7, &ev_stale) : w_create(&dup, &ev_dup);
            n = 2;
            break;
        case MIX_STALE:
            w[0] = w_update(&stale, 7, &ev_stale);
            break;
        default:
            /* the batch's deadline is its events' earliest: the second's */
            ev1.deadline_us = clock_monotonic_us() - 1000;
            w[0] = w_create(&fresh0, &ev0);
            w[1] = w_create(&fresh1, &ev1);
            n = 2;
            break;
        }
        m->failed[i] = 12345;
        m->got[i] = store_apply(f->s, w, n, &m->failed[i]);
    }
    return NULL;
}

static void test_concurrent_batches_mixed_outcomes(void **state)
{
    fx *f = *state;
    char name[32];
    for (int k = 0; k < MIX_TAKEN; k++) {
        snprintf(name, sizeof name, "taken-%d", k);
        create_ok(f, f->coll, f->org, "", name, NULL, NULL, "taken");
    }
    create_ok(f, f->coll, f->org, "", "stale", NULL, NULL, "stale");
    const size_t before = audit_count(f, f->org);
    assert_int_equal(before, MIX_TAKEN + 1);

    pthread_barrier_t start;
    assert_int_equal(pthread_barrier_init(&start, NULL, MIX_THREADS), 0);
    mix_writer *writers = calloc(MIX_THREADS, sizeof *writers);
    pthread_t threads[MIX_THREADS];
    assert_non_null(writers);
    for (int t = 0; t < MIX_THREADS; t++) {
        writers[t] = (mix_writer){.f = f, .t = t, .start = &start};
        assert_int_equal(pthread_create(&threads[t], NULL, mix_worker, &writers[t]), 0);
    }
    for (int t = 0; t < MIX_THREADS; t++)
        pthread_join(threads[t], NULL);
    pthread_barrier_destroy(&start);

    /* Each batch got its own outcome and failed index, and is stored all or
     * nothing: an OK batch's record at version 1, nothing of a failed one. */
    size_t written = 0;
    for (int t = 0; t < MIX_THREADS; t++)
        for (int i = 0; i < MIX_BATCHES; i++) {
            size_t want_failed;
            store_status want = mix_want(t, i, &want_failed);
            store_status got = writers[t].got[i];
            if (got != want || (want != STORE_OK && writers[t].failed[i] != want_failed))
                fail_msg("writer %d, batch %d (kind %d): %s failed at %zu; want %s at %zu", t, i,
                         (int)mix_kind_of(t, i), store_status_name(got), writers[t].failed[i],
                         store_status_name(want), want_failed);
            for (int w = 0; w < 2; w++) {
                mix_name(name, sizeof name, t, i, w);
                if (want == STORE_OK && w == 0) {
                    assert_stored(f, f->org, name, 1, name);
                    written++;
                    continue;
                }
                store_record *r = NULL;
                store_status st = store_get(f->s, f->coll, NULL, name, &r);
                store_record_free(r);
                if (st != STORE_NOT_FOUND)
                    fail_msg("writer %d, batch %d (kind %d) was answered %s, yet get %s: %s", t, i,
                             (int)mix_kind_of(t, i), store_status_name(got), name,
                             store_status_name(st));
            }
        }
    assert_int_equal(written, MIX_THREADS * MIX_BATCHES / MIX_KINDS);
    assert_stored(f, f->org, "stale", 1, "stale");
    for (int k = 0; k < MIX_TAKEN; k++) {
        snprintf(name, sizeof name, "taken-%d", k);
        assert_stored(f, f->org, name, 1, "taken");
    }

    /* One event per record written, none of a batch that failed. */
    size_t n;
    store_audit_event *evs = audit_all(f, f->org, 100, &n);
    assert_int_equal(n, before + written);
    static bool seen[MIX_THREADS][MIX_BATCHES];
    memset(seen, 0, sizeof seen);
    for (size_t e = before; e < n; e++) {
        int t, i, w;
        if (sscanf(evs[e].resource, "mix-%d-%d-%d", &t, &i, &w) != 3 || t < 0 || t >= MIX_THREADS ||
            i < 0 || i >= MIX_BATCHES || w != 0 || mix_kind_of(t, i) != MIX_CREATE || seen[t][i])
            fail_msg("an event of %s, which no OK batch wrote (or twice)", evs[e].resource);
        seen[t][i] = true;
        assert_int_equal(evs[e].version_before, 0);
        assert_int_equal(evs[e].version_after, 1);
    }
    store_audit_events_free(evs, n);
    free(writers);
}

#define ACK_THREADS 32
#define ACK_BATCHES 25

typedef struct ack_writer {
    fx *f;
    int t;
    pthread_barrier_t *start;
    store_status got[ACK_BATCHES];
} ack_writer;

/* Writer t's batch i: 1 to 3 fresh records under parent "ack". */
static size_t ack_size(int t, int i)
{
    return 1 + (size_t)((t + i) % 3);
}

static void ack_name(char *buf, size_t size, int t, int i, size_t w)
{
    snprintf(buf, size, "ack-%02d-%02d-%zu", t, i, w);
}

static void *ack_worker(void *arg)
{
    ack_writer *a = arg;
    fx *f = a->f;
    pthread_barrier_wait(a->start);
    for (int i = 0; i < ACK_BATCHES; i++) {
        char names[3][64];
        store_record recs[3];
        store_audit evs[3];
        store_write ws[3];
        size_t n = ack_size(a->t, i);
        for (size_t w = 0; w < n; w++) {
            ack_name(names[w], sizeof names[w], a->t, i, w);
            recs[w] = rec_of(f->coll, f->org, "ack", names[w], NULL, NULL, names[w]);
            evs[w] = ev_of(f->org, names[w], 0, 1);
            ws[w] = w_create(&recs[w], &evs[w]);
        }
        a->got[i] = store_apply(f->s, ws, n, NULL);
    }
    return NULL;
}

/* Whatever concurrent writers were told is stored is there after the store
 * is closed and opened again: an acknowledged write is never lost. */
static void test_group_commit_survives_reopen(void **state)
{
    fx *f = *state;
    pthread_barrier_t start;
    assert_int_equal(pthread_barrier_init(&start, NULL, ACK_THREADS), 0);
    ack_writer *writers = calloc(ACK_THREADS, sizeof *writers);
    pthread_t threads[ACK_THREADS];
    assert_non_null(writers);
    for (int t = 0; t < ACK_THREADS; t++) {
        writers[t] = (ack_writer){.f = f, .t = t, .start = &start};
        assert_int_equal(pthread_create(&threads[t], NULL, ack_worker, &writers[t]), 0);
    }
    for (int t = 0; t < ACK_THREADS; t++)
        pthread_join(threads[t], NULL);
    pthread_barrier_destroy(&start);
    size_t total = 0;
    for (int t = 0; t < ACK_THREADS; t++)
        for (int i = 0; i < ACK_BATCHES; i++) {
            if (writers[t].got[i] != STORE_OK)
                fail_msg("writer %d, batch %d: %s", t, i, store_status_name(writers[t].got[i]));
            total += ack_size(t, i);
        }

    store_close(f->s);
    f->s = open_or_fail(f->uri, THREADS);
    char name[64];
    for (int t = 0; t < ACK_THREADS; t++)
        for (int i = 0; i < ACK_BATCHES; i++)
            for (size_t w = 0; w < ack_size(t, i); w++) {
                ack_name(name, sizeof name, t, i, w);
                assert_stored(f, f->org, name, 1, name);
            }
    store_page *p = NULL;
    store_query q = query_of(f, f->org, "ack", NULL, (int)total + 1);
    assert_int_equal(store_list(f->s, &q, &p), STORE_OK);
    assert_int_equal(p->count, total);
    assert_false(p->more);
    store_page_free(p);
    assert_int_equal(audit_count(f, f->org), total);
    free(writers);
}

/* ---- arguments, URIs, status names ---- */

static void test_invalid_arguments(void **state)
{
    fx *f = *state;
    store *s = f->s;
    store_record ok = rec_of(f->coll, f->org, "", "a", NULL, NULL, "doc");
    store_audit ev = ev_of(f->org, "a", 0, 1);
    store_record r;

    assert_int_equal(store_create(NULL, &ok, &ev), STORE_INVALID);
    assert_int_equal(store_create(s, NULL, &ev), STORE_INVALID);
    assert_int_equal(store_create(s, &ok, NULL), STORE_INVALID);
    r = ok, r.collection = NULL;
    assert_int_equal(store_create(s, &r, &ev), STORE_INVALID);
    r = ok, r.collection = "";
    assert_int_equal(store_create(s, &r, &ev), STORE_INVALID);
    r = ok, r.name = NULL;
    assert_int_equal(store_create(s, &r, &ev), STORE_INVALID);
    r = ok, r.name = "";
    assert_int_equal(store_create(s, &r, &ev), STORE_INVALID);
    r = ok, r.org = NULL;
    assert_int_equal(store_create(s, &r, &ev), STORE_INVALID);
    r = ok, r.parent = NULL;
    assert_int_equal(store_create(s, &r, &ev), STORE_INVALID);
    r = ok, r.doc = NULL;
    assert_int_equal(store_create(s, &r, &ev), STORE_INVALID);
    r = ok, r.doc = (uint8_t *)"not bson", r.doc_len = 8;
    assert_int_equal(store_create(s, &r, &ev), STORE_INVALID);
    bson_t reserved = BSON_INITIALIZER; /* '_' keys belong to the store */
    BSON_APPEND_UTF8(&reserved, "_version", "9");
    r = ok, r.doc = (uint8_t *)bson_get_data(&reserved), r.doc_len = reserved.len;
    assert_int_equal(store_create(s, &r, &ev), STORE_INVALID);
    bson_destroy(&reserved);
    r = ok, r.version = 2;
    assert_int_equal(store_create(s, &r, &ev), STORE_INVALID);

    assert_int_equal(store_create(s, &ok, &ev), STORE_OK);
    r = ok, r.version = 3; /* not expected + 1 */
    assert_int_equal(store_update(s, &r, 1, &ev), STORE_INVALID);
    r = ok, r.version = 1;
    assert_int_equal(store_update(s, &r, 0, &ev), STORE_INVALID);
    r = ok, r.version = 2, r.name = "";
    assert_int_equal(store_update(s, &r, 1, &ev), STORE_INVALID);
    r = ok, r.version = 2, r.collection = NULL;
    assert_int_equal(store_update(s, &r, 1, &ev), STORE_INVALID);
    r = ok, r.version = 2;
    assert_int_equal(store_update(s, &r, 1, NULL), STORE_INVALID);
    assert_int_equal(store_update(NULL, &r, 1, &ev), STORE_INVALID);

    assert_int_equal(store_delete(s, NULL, f->org, "a", 0, &ev), STORE_INVALID);
    assert_int_equal(store_delete(s, "", f->org, "a", 0, &ev), STORE_INVALID);
    assert_int_equal(store_delete(s, f->coll, f->org, NULL, 0, &ev), STORE_INVALID);
    assert_int_equal(store_delete(s, f->coll, f->org, "", 0, &ev), STORE_INVALID);
    assert_int_equal(store_delete(s, f->coll, NULL, "a", 0, &ev), STORE_INVALID);
    assert_int_equal(store_delete(s, f->coll, f->org, "a", -1, &ev), STORE_INVALID);
    assert_int_equal(store_delete(s, f->coll, f->org, "a", 0, NULL), STORE_INVALID);

    store_record *out = (store_record *)1;
    assert_int_equal(store_get(s, NULL, f->org, "a", &out), STORE_INVALID);
    assert_null(out);
    assert_int_equal(store_get(s, f->coll, f->org, "", &out), STORE_INVALID);
    assert_int_equal(store_get(s, f->coll, f->org, "a", NULL), STORE_INVALID);
    assert_int_equal(store_get(NULL, f->coll, f->org, "a", &out), STORE_INVALID);
    assert_int_equal(store_get_by_lookup(s, f->coll, NULL, &out), STORE_INVALID);
    assert_int_equal(store_get_by_lookup(s, f->coll, "", &out), STORE_INVALID);
    assert_int_equal(store_get_by_lookup(s, "", "k", &out), STORE_INVALID);

    store_page *p = (store_page *)1;
    store_query q = query_of(f, NULL, NULL, NULL, 10);
    assert_int_equal(store_list(s, NULL, &p), STORE_INVALID);
    assert_null(p);
    assert_int_equal(store_list(s, &q, NULL), STORE_INVALID);
    q.limit = 0;
    assert_int_equal(store_list(s, &q, &p), STORE_INVALID);
    q.limit = -1;
    assert_int_equal(store_list(s, &q, &p), STORE_INVALID);
    q.limit = 10, q.collection = "";
    assert_int_equal(store_list(s, &q, &p), STORE_INVALID);

    store_audit_event *evs = (store_audit_event *)1;
    size_t n = 99;
    assert_int_equal(store_audit_list(s, NULL, 0, 10, &evs, &n), STORE_INVALID);
    assert_null(evs);
    assert_int_equal(n, 0);
    assert_int_equal(store_audit_list(s, f->org, 0, 0, &evs, &n), STORE_INVALID);
    assert_int_equal(store_audit_list(s, f->org, -1, 10, &evs, &n), STORE_INVALID);
    assert_int_equal(store_audit_list_newest(s, f->org, -1, 10, &evs, &n), STORE_INVALID);
    assert_int_equal(store_audit_list_newest(s, f->org, 0, 0, &evs, &n), STORE_INVALID);
    assert_int_equal(store_audit_list(s, f->org, 0, 10, NULL, &n), STORE_INVALID);
    assert_int_equal(store_audit_list(s, f->org, 0, 10, &evs, NULL), STORE_INVALID);
    assert_int_equal(store_ping(NULL), STORE_INVALID);

    /* Nothing was written but the one valid create. */
    assert_stored(f, f->org, "a", 1, "doc");
    assert_int_equal(audit_count(f, f->org), 1);
}

static void assert_open_invalid(const char *uri, const char *err_has, const char *err_lacks)
{
    store *s = (store *)1;
    char *err = NULL;
    assert_int_equal(store_open(uri, 1, &s, &err), STORE_INVALID);
    assert_null(s);
    assert_non_null(err);
    assert_non_null(strstr(err, err_has));
    if (err_lacks)
        assert_null(strstr(err, err_lacks));
    free(err);
    assert_int_equal(store_open(uri, 1, &s, NULL), STORE_INVALID);
}

/* ---- deadlines ---- */

static void test_write_after_deadline_writes_nothing(void **state)
{
    fx *f = *state;
    int64_t past = clock_monotonic_us() - 1000;
    store_record r = rec_of(f->coll, f->org, "", "late", NULL, NULL, "v1");
    store_audit ev = ev_of(f->org, "late", 0, 1);
    ev.deadline_us = past;
    assert_int_equal(store_create(f->s, &r, &ev), STORE_DEADLINE_EXCEEDED);
    assert_missing(f, f->org, "late");
    assert_int_equal(audit_count(f, f->org), 0);

    create_ok(f, f->coll, f->org, "", "late", NULL, NULL, "v1");
    r = rec_of(f->coll, f->org, "", "late", NULL, NULL, "v2");
    r.version = 2;
    ev = ev_of(f->org, "late", 1, 2);
    ev.deadline_us = past;
    assert_int_equal(store_update(f->s, &r, 1, &ev), STORE_DEADLINE_EXCEEDED);
    ev = ev_of(f->org, "late", 1, 0);
    ev.deadline_us = past;
    assert_int_equal(store_delete(f->s, f->coll, f->org, "late", 1, &ev), STORE_DEADLINE_EXCEEDED);
    assert_stored(f, f->org, "late", 1, "v1");
    assert_int_equal(audit_count(f, f->org), 1);

    /* a deadline still ahead does not stop the write */
    ev = ev_of(f->org, "late", 1, 2);
    ev.deadline_us = clock_monotonic_us() + 10 * 1000000LL;
    assert_int_equal(store_update(f->s, &r, 1, &ev), STORE_OK);
    assert_stored(f, f->org, "late", 2, "v2");
}

/* ---- migration ---- */

static bool names_contain(char **names, size_t n, const char *want)
{
    for (size_t i = 0; i < n; i++)
        if (strcmp(names[i], want) == 0)
            return true;
    return false;
}

static void test_collections_and_audit_orgs(void **state)
{
    fx *f = *state;
    create_ok(f, f->coll, f->org, "", "a", NULL, NULL, "a");
    create_ok(f, f->coll2, f->org2, "", "b", NULL, NULL, "b");
    char **names = NULL;
    size_t n = 0;
    assert_int_equal(store_collections(f->s, &names, &n), STORE_OK);
    assert_true(names_contain(names, n, f->coll));
    assert_true(names_contain(names, n, f->coll2));
    for (size_t i = 1; i < n; i++)
        assert_true(strcmp(names[i - 1], names[i]) < 0); /* sorted, no repeats */
    store_names_free(names, n);
    assert_int_equal(store_audit_orgs(f->s, &names, &n), STORE_OK);
    assert_true(names_contain(names, n, f->org));
    assert_true(names_contain(names, n, f->org2));
    store_names_free(names, n);
}

static void test_import_record_keeps_version(void **state)
{
    fx *f = *state;
    store_record r = rec_of(f->coll, f->org, "P", "imported", "ACTIVE", f->tag, "old doc");
    r.version = 7;
    assert_int_equal(store_import_record(f->s, &r), STORE_OK);
    assert_stored(f, f->org, "imported", 7, "old doc");
    assert_int_equal(audit_count(f, f->org), 0); /* its history came as events, if at all */
    assert_int_equal(store_import_record(f->s, &r), STORE_ALREADY_EXISTS);
    store_record *got = NULL;
    assert_int_equal(store_get_by_lookup(f->s, f->coll, f->tag, &got), STORE_OK);
    assert_string_equal(got->name, "imported");
    store_record_free(got);
    assert_int_equal(update_doc(f, f->org, "imported", 6, "stale"), STORE_CONFLICT);
    assert_int_equal(update_doc(f, f->org, "imported", 7, "new doc"), STORE_OK);
    assert_stored(f, f->org, "imported", 8, "new doc");
    r.version = 0;
    assert_int_equal(store_import_record(f->s, &r), STORE_INVALID);
}

static void test_append_audit_appends_in_order(void **state)
{
    fx *f = *state;
    create_ok(f, f->coll, f->org, "", "first", NULL, NULL, "x"); /* one event already */
    store_audit evs[2] = {
        {.principal = "platform/apiKeys/p",
         .principal_org = "",
         .org = f->org,
         .role = "ROLE_PLATFORM_ADMIN",
         .method = "/m/One",
         .resource = "r1",
         .request_id = "q1",
         .version_before = 0,
         .version_after = 1,
         .time_us = 10},
        {.principal = "organizations/o/apiKeys/k",
         .principal_org = "o",
         .org = f->org,
         .role = "ROLE_ADMIN",
         .method = "/m/Two",
         .resource = "r1",
         .request_id = "q2",
         .version_before = 1,
         .version_after = 2,
         .time_us = 20},
    };
    for (int i = 0; i < 2; i++)
        assert_int_equal(store_append_audit(f->s, &evs[i]), STORE_OK);
    size_t n;
    store_audit_event *got = audit_all(f, f->org, 100, &n);
    assert_int_equal(n, 3);
    for (int i = 0; i < 2; i++) {
        store_audit_event *e = &got[1 + i];
        assert_true(e->seq > got[i].seq);
        assert_string_equal(e->principal, evs[i].principal);
        assert_string_equal(e->principal_org, evs[i].principal_org);
        assert_string_equal(e->method, evs[i].method);
        assert_string_equal(e->request_id, evs[i].request_id);
        assert_int_equal(e->version_after, evs[i].version_after);
        assert_int_equal(e->time_us, evs[i].time_us);
    }
    store_audit_events_free(got, n);
}

/* Every way of writing extends its organization's hash chain: positions
 * 1, 2, 3... in commit order, each hash over the event and the one before,
 * each organization's chain its own (audit_chain.h). */
static void test_audit_chain_links_every_event(void **state)
{
    fx *f = *state;
    create_ok(f, f->coll, f->org, "P", "a", NULL, NULL, "x");
    create_ok(f, f->coll, f->org2, "P", "a2", NULL, NULL, "x");
    create_ok(f, f->coll, f->org, "P", "b", NULL, NULL, "x");
    assert_int_equal(update_doc(f, f->org, "a", 1, "y"), STORE_OK);
    store_record r1 = rec_of(f->coll, f->org, "P", "c", NULL, NULL, "x");
    store_record r2 = rec_of(f->coll, f->org, "P", "d", NULL, NULL, "x");
    store_audit e1 = ev_of(f->org, "c", 0, 1), e2 = ev_of(f->org, "d", 0, 1);
    store_write two[] = {{.kind = STORE_WRITE_CREATE, .rec = &r1, .ev = &e1},
                         {.kind = STORE_WRITE_CREATE, .rec = &r2, .ev = &e2}};
    assert_int_equal(store_apply(f->s, two, 2, NULL), STORE_OK);
    store_audit lone = ev_of(f->org, "a", 2, 2);
    lone.method = "/supplysec.v1.Things/Read";
    assert_int_equal(store_append_audit(f->s, &lone), STORE_OK);
    store_audit ev = ev_of(f->org, "all", 0, 0);
    store_write all = {.kind = STORE_WRITE_DELETE_ALL,
                       .collection = f->coll,
                       .org = f->org,
                       .parent = "P",
                       .ev = &ev};
    assert_int_equal(store_apply(f->s, &all, 1, NULL), STORE_OK);
    /* a failed write adds nothing */
    assert_int_equal(update_doc(f, f->org2, "a2", 7, "z"), STORE_CONFLICT);

    size_t n;
    store_audit_event *got = audit_all(f, f->org, 3, &n);
    /* 2 creates, 1 update (moving a out of P), 2 in a batch, 1 alone, 3 deleted */
    assert_int_equal(n, 9);
    uint8_t prev[AUDIT_HASH_LEN], h[AUDIT_HASH_LEN];
    for (size_t i = 0; i < n; i++) {
        assert_int_equal(got[i].position, (int64_t)i + 1);
        assert_true(got[i].hashed);
        audit_chain_hash_event(&got[i], i ? prev : NULL, h);
        assert_memory_equal(h, got[i].hash, AUDIT_HASH_LEN);
        memcpy(prev, h, AUDIT_HASH_LEN);
    }
    assert_string_equal(got[5].method, "/supplysec.v1.Things/Read");
    assert_string_equal(got[6].resource, "b"); /* a delete-all's, in name order */
    assert_int_equal(got[6].version_before, 1);
    assert_int_equal(got[6].version_after, 0);
    assert_string_equal(got[8].resource, "d");
    audit_chain_check check;
    store_status ss;
    assert_true(audit_chain_verify(f->s, f->org, 0, NULL, 0, &check, &ss));
    assert_true(check.intact);
    assert_int_equal(check.checked, 9);
    assert_int_equal(check.head_position, 9);
    assert_memory_equal(check.head_hash, got[8].hash, AUDIT_HASH_LEN);
    /* pinned at an event the log holds: intact; at a hash it does not: broken there */
    assert_true(audit_chain_verify(f->s, f->org, 4, got[3].hash, 0, &check, &ss));
    assert_true(check.intact);
    assert_true(audit_chain_verify(f->s, f->org, 4, got[4].hash, 0, &check, &ss));
    assert_false(check.intact);
    assert_int_equal(check.broken_position, 4);
    /* pinned beyond the log's end: events were removed */
    assert_true(audit_chain_verify(f->s, f->org, 10, got[8].hash, 0, &check, &ss));
    assert_false(check.intact);
    assert_int_equal(check.broken_position, 10);
    store_audit_events_free(got, n);

    got = audit_all(f, f->org2, 100, &n);
    assert_int_equal(n, 1);
    assert_int_equal(got[0].position, 1);
    audit_chain_hash_event(&got[0], NULL, h);
    assert_memory_equal(h, got[0].hash, AUDIT_HASH_LEN);
    store_audit_events_free(got, n);
}

static void test_open_unknown_scheme(void **state)
{
    (void)state;
    assert_open_invalid("postgres://admin:hunter2@db/supplysec", "sqlite", "hunter2");
    assert_open_invalid("no-scheme-at-all", "sqlite", NULL);
    assert_open_invalid("", "sqlite", NULL);
    assert_open_invalid(NULL, "sqlite", NULL);
    assert_open_invalid(":x", "sqlite", NULL);
    assert_open_invalid("sqlite:", "sqlite", NULL);
    char *err = NULL;
    assert_int_equal(store_open("sqlite:x.db", 1, NULL, &err), STORE_INVALID);
    free(err);
    store_close(NULL);
}

static void test_memory_store(void **state)
{
    (void)state;
    store *s = open_or_fail("sqlite::memory:", 4);
    store_record r = rec_of("things", "acme", "", "a", NULL, "k", "doc");
    store_audit ev = ev_of("acme", "a", 0, 1);
    assert_int_equal(store_create(s, &r, &ev), STORE_OK);
    store_record *got = NULL;
    assert_int_equal(store_get_by_lookup(s, "things", "k", &got), STORE_OK);
    assert_doc(got, "doc");
    store_record_free(got);
    assert_int_equal(store_ping(s), STORE_OK);
    store_close(s);
}

static void test_ping_and_status_names(void **state)
{
    fx *f = *state;
    assert_int_equal(store_ping(f->s), STORE_OK);
    const store_status all[] = {STORE_OK,       STORE_NOT_FOUND,        STORE_ALREADY_EXISTS,
                                STORE_CONFLICT, STORE_UNAVAILABLE,      STORE_INVALID,
                                STORE_INTERNAL, STORE_DEADLINE_EXCEEDED};
    for (size_t i = 0; i < sizeof all / sizeof all[0]; i++) {
        assert_non_null(store_status_name(all[i]));
        for (size_t j = 0; j < i; j++)
            assert_string_not_equal(store_status_name(all[i]), store_status_name(all[j]));
    }
    assert_string_equal(store_status_name(STORE_CONFLICT), "STORE_CONFLICT");
    assert_non_null(store_status_name((store_status)99));
}

#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)

int main(void)
{
    const struct CMUnitTest tests[] = {
        T(test_create_get_round_trip),
        T(test_create_get_minimal_record),
        T(test_create_name_taken),
        T(test_create_lookup_taken),
        T(test_get_by_lookup),
        T(test_tenant_isolation),
        T(test_update_bumps_version),
        T(test_update_stale_version_conflicts),
        T(test_update_delete_missing),
        T(test_delete),
        T(test_list_keyset_paging),
        T(test_list_filters),
        T(test_filtered_lists),
        T(test_facet_arguments),
        T(test_refacet),
        T(test_index_facets),
        T(test_audit_one_event_per_write),
        T(test_audit_list_paging),
        T(test_audit_list_newest_first),
        T(test_persistence_across_reopen),
        T(test_concurrent_updates_lose_nothing),
        T(test_concurrent_updates_in_read_scopes),
        T(test_read_scope),
        T(test_concurrent_creates_one_winner),
        T(test_apply_all_or_nothing),
        T(test_apply_guard),
        T(test_apply_delete_all),
        T(test_apply_guard_against_delete_all),
        T(test_apply_conflicting_writers_lose_nothing),
        T(test_apply_after_deadline_writes_nothing),
        T(test_apply_bounds_and_arguments),
        T(test_concurrent_batches_mixed_outcomes),
        T(test_group_commit_survives_reopen),
        T(test_invalid_arguments),
        T(test_write_after_deadline_writes_nothing),
        T(test_collections_and_audit_orgs),
        T(test_import_record_keeps_version),
        T(test_append_audit_appends_in_order),
        T(test_audit_chain_links_every_event),
        cmocka_unit_test(test_open_unknown_scheme),
        cmocka_unit_test(test_memory_store),
        T(test_ping_and_status_names),
    };
    return cmocka_run_group_tests_name("store_contract", tests, NULL, NULL);
}
