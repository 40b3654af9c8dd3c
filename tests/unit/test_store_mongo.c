/* test_store_mongo.c — what only the MongoDB backend does: its document
 * shape and indexes, and how readers treat the audit events a standalone
 * server can leave pending (see store_mongo.c).
 *
 * Runs against $SUPPLYSEC_TEST_STORE_URI when it is a mongodb:// URI (the
 * test runner points it at the wire-protocol double, or a real server);
 * otherwise every test is skipped, saying why. Events are planted with
 * libmongoc directly, as a crash would have left them.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include <mongoc/mongoc.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "clock.h"
#include "store.h"

typedef struct fx {
    store *s;
    mongoc_client_t *client;
    char db[64];
    char org[64];
} fx;

static const char *mongo_uri(void)
{
    const char *uri = getenv("SUPPLYSEC_TEST_STORE_URI");
    return uri && strncmp(uri, "mongodb", 7) == 0 ? uri : NULL;
}

static int setup(void **state)
{
    static int counter;
    const char *uri = mongo_uri();
    if (!uri)
        return 0;
    fx *f = calloc(1, sizeof *f);
    char *err = NULL;
    if (store_open(uri, 2, &f->s, &err) != STORE_OK)
        fail_msg("store_open: %s", err ? err : "");
    mongoc_uri_t *u = mongoc_uri_new(uri);
    const char *db = mongoc_uri_get_database(u);
    snprintf(f->db, sizeof f->db, "%s", db && db[0] ? db : "supplysec");
    f->client = mongoc_client_new_from_uri(u);
    mongoc_uri_destroy(u);
    snprintf(f->org, sizeof f->org, "mongo-%ld-%d", (long)clock_realtime_ms(), counter++);
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    fx *f = *state;
    if (!f)
        return 0;
    mongoc_client_destroy(f->client);
    store_close(f->s);
    free(f);
    return 0;
}

#define SKIP_UNLESS_MONGO(f)                                                                       \
    do {                                                                                           \
        if (!(f)) {                                                                                \
            print_message("skipped: SUPPLYSEC_TEST_STORE_URI is not a mongodb:// URI\n");          \
            skip();                                                                                \
        }                                                                                          \
    } while (0)

/* Pending events exist only without transactions. */
#define SKIP_UNLESS_STANDALONE(f)                                                                  \
    do {                                                                                           \
        SKIP_UNLESS_MONGO(f);                                                                      \
        if (!strstr(store_describe((f)->s), "standalone")) {                                       \
            print_message("skipped: a replica set writes no pending audit events\n");              \
            skip();                                                                                \
        }                                                                                          \
    } while (0)

static bson_t *find_one(fx *f, const char *coll, const char *id)
{
    mongoc_collection_t *c = mongoc_client_get_collection(f->client, f->db, coll);
    bson_t *filter = BCON_NEW("_id", BCON_UTF8(id));
    mongoc_cursor_t *cur = mongoc_collection_find_with_opts(c, filter, NULL, NULL);
    const bson_t *doc;
    bson_t *out = mongoc_cursor_next(cur, &doc) ? bson_copy(doc) : NULL;
    mongoc_cursor_destroy(cur);
    bson_destroy(filter);
    mongoc_collection_destroy(c);
    return out;
}

static const char *str_field(const bson_t *doc, const char *key)
{
    bson_iter_t it;
    return bson_iter_init_find(&it, doc, key) && BSON_ITER_HOLDS_UTF8(&it)
               ? bson_iter_utf8(&it, NULL)
               : "";
}

static void write_one(fx *f, const char *name, const char *collection)
{
    bson_t doc = BSON_INITIALIZER;
    BSON_APPEND_UTF8(&doc, "legalName", "Acme");
    BSON_APPEND_DATE_TIME(&doc, "createTime", 1795452603791);
    store_record r = {.collection = (char *)collection,
                      .org = f->org,
                      .parent = "",
                      .name = (char *)name,
                      .version = 1,
                      .doc = (uint8_t *)bson_get_data(&doc),
                      .doc_len = doc.len};
    store_audit ev = {.principal = "platform/apiKeys/p",
                      .principal_org = "",
                      .org = f->org,
                      .role = "ROLE_PLATFORM_ADMIN",
                      .method = "/m/Create",
                      .resource = name,
                      .request_id = "r",
                      .version_after = 1,
                      .time_us = clock_realtime_ms() * 1000};
    assert_int_equal(store_create(f->s, &r, &ev), STORE_OK);
    bson_destroy(&doc);
}

/* Updates `name` in "things" from version 1 to 2. */
static store_status update_to_v2(fx *f, const char *name, int64_t time_us)
{
    bson_t doc = BSON_INITIALIZER;
    BSON_APPEND_UTF8(&doc, "legalName", "v2");
    store_record r = {.collection = "things",
                      .org = f->org,
                      .parent = "",
                      .name = (char *)name,
                      .version = 2,
                      .doc = (uint8_t *)bson_get_data(&doc),
                      .doc_len = doc.len};
    store_audit ev = {.principal = "p",
                      .principal_org = "",
                      .org = f->org,
                      .role = "r",
                      .method = "/m/Update",
                      .resource = name,
                      .request_id = "q",
                      .version_before = 1,
                      .version_after = 2,
                      .time_us = time_us};
    store_status st = store_update(f->s, &r, 1, &ev);
    bson_destroy(&doc);
    return st;
}

/* A document a person or a BI tool reads: the resource's own fields, the
 * store's in front, a real date. */
static void test_document_shape(void **state)
{
    fx *f = *state;
    SKIP_UNLESS_MONGO(f);
    char name[128];
    snprintf(name, sizeof name, "organizations/%s", f->org);
    write_one(f, name, "organizations");
    bson_t *doc = find_one(f, "organizations", name);
    assert_non_null(doc);
    bson_iter_t it;
    assert_true(bson_iter_init(&it, doc) && bson_iter_next(&it));
    assert_string_equal(bson_iter_key(&it), "_id");
    assert_string_equal(str_field(doc, "_org"), f->org);
    assert_string_equal(str_field(doc, "legalName"), "Acme");
    assert_true(bson_iter_init_find(&it, doc, "createTime") && BSON_ITER_HOLDS_DATE_TIME(&it));
    assert_true(bson_iter_init_find(&it, doc, "_version") && BSON_ITER_HOLDS_INT64(&it));
    bson_destroy(doc);
}

/* Plants an audit event for resource `resource` as a crash would leave it. */
static void plant_event_as(fx *f, int64_t seq, const char *resource, const char *state,
                           int64_t time_us, int64_t version_after, const char *incarnation)
{
    char id[128];
    snprintf(id, sizeof id, "%s/%lld", f->org, (long long)seq);
    bson_t *ev = BCON_NEW("_id", BCON_UTF8(id), "org", BCON_UTF8(f->org), "seq", BCON_INT64(seq),
                          "collection", BCON_UTF8("things"), "resource", BCON_UTF8(resource),
                          "principal", BCON_UTF8("platform/apiKeys/p"), "principalOrg",
                          BCON_UTF8(""), "role", BCON_UTF8("ROLE_PLATFORM_ADMIN"), "method",
                          BCON_UTF8("/m/Planted"), "requestId", BCON_UTF8("planted"), "incarnation",
                          BCON_UTF8(incarnation), "versionBefore", BCON_INT64(1), "versionAfter",
                          BCON_INT64(version_after), "time", BCON_DATE_TIME(time_us / 1000),
                          "timeUs", BCON_INT64(time_us), "state", BCON_UTF8(state));
    mongoc_collection_t *c = mongoc_client_get_collection(f->client, f->db, "auditEvents");
    bson_error_t e;
    assert_true(mongoc_collection_insert_one(c, ev, NULL, NULL, &e));
    mongoc_collection_destroy(c);
    bson_destroy(ev);
    /* keep the sequence counter past the planted event */
    char cid[128];
    snprintf(cid, sizeof cid, "auditEvents/%s", f->org);
    c = mongoc_client_get_collection(f->client, f->db, "counters");
    bson_t *q = BCON_NEW("_id", BCON_UTF8(cid));
    bson_t *u = BCON_NEW("$set", "{", "seq", BCON_INT64(seq), "}");
    bson_t *opts = BCON_NEW("upsert", BCON_BOOL(true));
    assert_true(mongoc_collection_update_one(c, q, u, opts, NULL, &e));
    bson_destroy(q);
    bson_destroy(u);
    bson_destroy(opts);
    mongoc_collection_destroy(c);
}

/* An update's or create's event. */
static void plant_event(fx *f, int64_t seq, const char *resource, const char *state,
                        int64_t time_us)
{
    plant_event_as(f, seq, resource, state, time_us, 1, "");
}

/* Makes resource `name` say event seq wrote it and event created made it,
 * as a write that happened just before a crash leaves it. */
static void plant_resource_as(fx *f, const char *name, int64_t seq, int64_t created)
{
    char audit[128], made[128];
    snprintf(audit, sizeof audit, "%s/%lld", f->org, (long long)seq);
    snprintf(made, sizeof made, "%s/%lld", f->org, (long long)created);
    bson_t *doc = BCON_NEW("_id", BCON_UTF8(name), "_org", BCON_UTF8(f->org), "_parent",
                           BCON_UTF8(""), "_version", BCON_INT64(1), "_audit", BCON_UTF8(audit),
                           "_created", BCON_UTF8(made), "legalName", BCON_UTF8("planted"));
    mongoc_collection_t *c = mongoc_client_get_collection(f->client, f->db, "things");
    bson_error_t e;
    assert_true(mongoc_collection_insert_one(c, doc, NULL, NULL, &e));
    mongoc_collection_destroy(c);
    bson_destroy(doc);
}

static void plant_resource(fx *f, const char *name, int64_t seq)
{
    plant_resource_as(f, name, seq, seq);
}

static void test_pending_events_resolved_by_readers(void **state)
{
    fx *f = *state;
    SKIP_UNLESS_STANDALONE(f);
    int64_t now = clock_realtime_ms() * 1000, old = now - 120 * 1000000LL;
    plant_event(f, 1, "written", "committed", old);
    plant_event(f, 2, "never-written", "pending", old); /* its write never happened */
    plant_event(f, 3, "written-not-marked", "pending", old);
    plant_resource(f, "written-not-marked", 3);         /* the write happened, the mark did not */
    plant_event(f, 5, "after-a-gap", "committed", old); /* 4 was never inserted */
    plant_event(f, 6, "in-flight", "pending", now);     /* its write may still be under way */
    plant_event(f, 7, "behind-in-flight", "committed", now);

    store_audit_event *evs = NULL;
    size_t n = 0;
    assert_int_equal(store_audit_list(f->s, f->org, 0, 100, &evs, &n), STORE_OK);
    /* 1 and 3 happened; 2 is an orphan; the old gap at 4 is passed; 6 may
     * still land, so the list stops before it rather than skip it */
    assert_int_equal(n, 3);
    assert_int_equal(evs[0].seq, 1);
    assert_int_equal(evs[1].seq, 3);
    assert_int_equal(evs[2].seq, 5);
    store_audit_events_free(evs, n);

    char id[128];
    snprintf(id, sizeof id, "%s/2", f->org);
    bson_t *e2 = find_one(f, "auditEvents", id);
    assert_string_equal(str_field(e2, "state"), "orphaned");
    bson_destroy(e2);
    snprintf(id, sizeof id, "%s/3", f->org);
    bson_t *e3 = find_one(f, "auditEvents", id);
    assert_string_equal(str_field(e3, "state"), "committed");
    bson_destroy(e3);

    /* the reader goes on from the last event it was given */
    assert_int_equal(store_audit_list(f->s, f->org, 5, 100, &evs, &n), STORE_OK);
    assert_int_equal(n, 0);
    store_audit_events_free(evs, n);
}

/* A write marks the event of the version it replaces: a crash after a
 * write and before its mark is mended by the next write. */
static void test_next_write_confirms_previous_event(void **state)
{
    fx *f = *state;
    SKIP_UNLESS_STANDALONE(f);
    int64_t old = clock_realtime_ms() * 1000 - 120 * 1000000LL;
    plant_event(f, 1, "resource", "pending", old);
    plant_resource(f, "resource", 1);
    assert_int_equal(update_to_v2(f, "resource", old + 1), STORE_OK);
    char id[128];
    snprintf(id, sizeof id, "%s/1", f->org);
    bson_t *e1 = find_one(f, "auditEvents", id);
    assert_string_equal(str_field(e1, "state"), "committed");
    bson_destroy(e1);
    store_audit_event *evs = NULL;
    size_t n = 0;
    assert_int_equal(store_audit_list(f->s, f->org, 0, 100, &evs, &n), STORE_OK);
    assert_int_equal(n, 2);
    store_audit_events_free(evs, n);
}

static const char *event_state(fx *f, int64_t seq, char *buf, size_t size)
{
    char id[128];
    snprintf(id, sizeof id, "%s/%lld", f->org, (long long)seq);
    bson_t *e = find_one(f, "auditEvents", id);
    snprintf(buf, size, "%s", e ? str_field(e, "state") : "(none)");
    if (e)
        bson_destroy(e);
    return buf;
}

/* A pending delete happened when the incarnation it deleted is gone: the
 * resource is missing, or was made again later. */
static void test_pending_deletes_resolved_by_readers(void **state)
{
    fx *f = *state;
    SKIP_UNLESS_STANDALONE(f);
    int64_t old = clock_realtime_ms() * 1000 - 120 * 1000000LL;
    char inc1[128], inc3[128], inc5[128], buf[32];
    snprintf(inc1, sizeof inc1, "%s/1", f->org);
    snprintf(inc3, sizeof inc3, "%s/3", f->org);
    snprintf(inc5, sizeof inc5, "%s/5", f->org);
    plant_event(f, 1, "kept", "committed", old);
    plant_resource_as(f, "kept", 1, 1);
    plant_event_as(f, 2, "kept", "pending", old, 0, inc1); /* the delete never ran */
    plant_event(f, 3, "gone", "committed", old);
    plant_event_as(f, 4, "gone", "pending", old, 0, inc3); /* it ran: "gone" is missing */
    plant_event(f, 5, "again", "committed", old);
    plant_event_as(f, 6, "again", "pending", old, 0, inc5); /* it ran, and then */
    plant_event(f, 7, "again", "committed", old);           /* "again" was made anew */
    plant_resource_as(f, "again", 7, 7);

    store_audit_event *evs = NULL;
    size_t n = 0;
    assert_int_equal(store_audit_list(f->s, f->org, 0, 100, &evs, &n), STORE_OK);
    int64_t want[] = {1, 3, 4, 5, 6, 7};
    assert_int_equal(n, sizeof want / sizeof want[0]);
    for (size_t i = 0; i < n; i++)
        assert_int_equal(evs[i].seq, want[i]);
    store_audit_events_free(evs, n);
    assert_string_equal(event_state(f, 2, buf, sizeof buf), "orphaned");
    assert_string_equal(event_state(f, 4, buf, sizeof buf), "committed");
    assert_string_equal(event_state(f, 6, buf, sizeof buf), "committed");
}

/* Standalone writes leave their events resolved: committed when the write
 * happened; none at all for a write refused before it began. */
static void test_writes_mark_their_events(void **state)
{
    fx *f = *state;
    SKIP_UNLESS_STANDALONE(f);
    char buf[32];
    write_one(f, "w", "things");                               /* event 1 */
    assert_int_equal(update_to_v2(f, "w", 1), STORE_OK);       /* event 2 */
    assert_int_equal(update_to_v2(f, "w", 1), STORE_CONFLICT); /* refused: no event */
    store_audit del = {.principal = "p",
                       .principal_org = "",
                       .org = f->org,
                       .role = "r",
                       .method = "/m/Delete",
                       .resource = "w",
                       .request_id = "q",
                       .version_before = 2,
                       .time_us = 2};
    assert_int_equal(store_delete(f->s, "things", f->org, "w", 0, &del), STORE_OK); /* event 3 */
    assert_string_equal(event_state(f, 1, buf, sizeof buf), "committed");
    assert_string_equal(event_state(f, 2, buf, sizeof buf), "committed");
    assert_string_equal(event_state(f, 3, buf, sizeof buf), "committed");
    assert_string_equal(event_state(f, 4, buf, sizeof buf), "(none)");
    store_audit_event *evs = NULL;
    size_t n = 0;
    assert_int_equal(store_audit_list(f->s, f->org, 0, 100, &evs, &n), STORE_OK);
    assert_int_equal(n, 3);
    assert_int_equal(evs[2].version_before, 2); /* the version the delete removed */
    store_audit_events_free(evs, n);
}

static void test_indexes_idempotent(void **state)
{
    fx *f = *state;
    SKIP_UNLESS_MONGO(f);
    /* opening again creates the same indexes: nothing changes, nothing fails */
    store *again = NULL;
    char *err = NULL;
    assert_int_equal(store_open(mongo_uri(), 1, &again, &err), STORE_OK);
    store_close(again);
    mongoc_collection_t *c = mongoc_client_get_collection(f->client, f->db, "apiKeys");
    mongoc_cursor_t *cur = mongoc_collection_find_indexes_with_opts(c, NULL);
    const bson_t *idx;
    int n = 0, lookup_unique = 0;
    while (mongoc_cursor_next(cur, &idx)) {
        n++;
        bson_iter_t it;
        if (strcmp(str_field(idx, "name"), "lookup") == 0 &&
            bson_iter_init_find(&it, idx, "unique") && bson_iter_as_bool(&it))
            lookup_unique = 1;
    }
    mongoc_cursor_destroy(cur);
    mongoc_collection_destroy(c);
    assert_int_equal(n, 5); /* _id and the four of store_mongo.c */
    assert_true(lookup_unique);
}

int main(void)
{
    mongoc_init();
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_document_shape, setup, teardown),
        cmocka_unit_test_setup_teardown(test_pending_events_resolved_by_readers, setup, teardown),
        cmocka_unit_test_setup_teardown(test_next_write_confirms_previous_event, setup, teardown),
        cmocka_unit_test_setup_teardown(test_pending_deletes_resolved_by_readers, setup, teardown),
        cmocka_unit_test_setup_teardown(test_writes_mark_their_events, setup, teardown),
        cmocka_unit_test_setup_teardown(test_indexes_idempotent, setup, teardown),
    };
    int rc = cmocka_run_group_tests(tests, NULL, NULL);
    mongoc_cleanup();
    return rc;
}
