/* test_store_mongo.c — what only the MongoDB backend does: its document
 * shape and indexes, refusing a standalone server, its transactions' retry
 * path, and maxTimeMS on the wire (see store_mongo.c).
 *
 * Runs against $SUPPLYSEC_TEST_STORE_URI when it is a mongodb:// URI (the
 * test runner points it at the wire-protocol double, or a real replica set);
 * otherwise every test is skipped, saying why. Faults are injected with
 * mongod's test failpoints (configureFailPoint: the double has them; a real
 * mongod needs --setParameter enableTestCommands=1, else those tests skip)
 * and with transactions opened here with libmongoc directly.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include <mongoc/mongoc.h>
#include <pthread.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "clock.h"
#include "audit_chain.h"
#include "store.h"

extern char **environ;

typedef struct fx {
    store *s;
    mongoc_client_t *client;
    char db[64];
    char org[64];
    char things[80]; /* this test's collection: names never clash with another run's */
} fx;

static const char *mongo_uri(void)
{
    const char *uri = getenv("SUPPLYSEC_TEST_STORE_URI");
    return uri && strncmp(uri, "mongodb", 7) == 0 ? uri : NULL;
}

static store *open_or_fail(const char *uri)
{
    store *s = NULL;
    char *err = NULL;
    if (store_open(uri, 2, &s, &err) != STORE_OK)
        fail_msg("store_open: %s", err ? err : "");
    return s;
}

static int setup(void **state)
{
    static int counter;
    const char *uri = mongo_uri();
    if (!uri)
        return 0;
    fx *f = calloc(1, sizeof *f);
    f->s = open_or_fail(uri);
    mongoc_uri_t *u = mongoc_uri_new(uri);
    const char *db = mongoc_uri_get_database(u);
    snprintf(f->db, sizeof f->db, "%s", db && db[0] ? db : "supplysec");
    f->client = mongoc_client_new_from_uri(u);
    mongoc_uri_destroy(u);
    snprintf(f->org, sizeof f->org, "mongo-%ld-%d-%d", (long)clock_realtime_ms(), (int)getpid(),
             counter++);
    snprintf(f->things, sizeof f->things, "things_%s", f->org);
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

/* ---- helpers ---- */

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

static bool has_field(const bson_t *doc, const char *key)
{
    bson_iter_t it;
    return bson_iter_init_find(&it, doc, key);
}

static int64_t int_field(const bson_t *doc, const char *key)
{
    bson_iter_t it;
    return bson_iter_init_find(&it, doc, key) && BSON_ITER_HOLDS_NUMBER(&it)
               ? bson_iter_as_int64(&it)
               : -1;
}

static store_audit event_of(fx *f, const char *name, int64_t before, int64_t after)
{
    return (store_audit){.principal = "platform/apiKeys/p",
                         .principal_org = "",
                         .org = f->org,
                         .role = "ROLE_PLATFORM_ADMIN",
                         .method = "/m/Write",
                         .resource = name,
                         .request_id = "r",
                         .version_before = before,
                         .version_after = after,
                         .time_us = clock_realtime_ms() * 1000};
}

/* Creates `name` in collection at version 1; deadline_us 0: none. */
static store_status create_in(fx *f, store *s, const char *collection, const char *name,
                              int64_t deadline_us)
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
    store_audit ev = event_of(f, name, 0, 1);
    ev.deadline_us = deadline_us;
    store_status st = store_create(s, &r, &ev);
    bson_destroy(&doc);
    return st;
}

/* Updates `name` in f->things from version 1 to 2. */
static store_status update_to_v2(fx *f, const char *name, int64_t deadline_us)
{
    bson_t doc = BSON_INITIALIZER;
    BSON_APPEND_UTF8(&doc, "legalName", "v2");
    store_record r = {.collection = f->things,
                      .org = f->org,
                      .parent = "",
                      .name = (char *)name,
                      .version = 2,
                      .doc = (uint8_t *)bson_get_data(&doc),
                      .doc_len = doc.len};
    store_audit ev = event_of(f, name, 1, 2);
    ev.deadline_us = deadline_us;
    store_status st = store_update(f->s, &r, 1, &ev);
    bson_destroy(&doc);
    return st;
}

static size_t events_of(fx *f)
{
    store_audit_event *evs = NULL;
    size_t n = 0;
    assert_int_equal(store_audit_list(f->s, f->org, 0, 1000, &evs, &n), STORE_OK);
    store_audit_events_free(evs, n);
    return n;
}

/* mongod's configureFailPoint; false when the server has no test commands
 * (a real mongod without enableTestCommands). *count: how often it fired
 * since it was last configured. */
static bool fail_point(fx *f, const char *name, const bson_t *mode, const bson_t *data,
                       int64_t *count)
{
    bson_t cmd = BSON_INITIALIZER, reply;
    bson_error_t e;
    BSON_APPEND_UTF8(&cmd, "configureFailPoint", name);
    if (mode)
        BSON_APPEND_DOCUMENT(&cmd, "mode", mode);
    else
        BSON_APPEND_UTF8(&cmd, "mode", "off");
    if (data)
        BSON_APPEND_DOCUMENT(&cmd, "data", data);
    bool ok = mongoc_client_command_simple(f->client, "admin", &cmd, NULL, &reply, &e);
    if (ok && count)
        *count = int_field(&reply, "count");
    bson_destroy(&reply);
    bson_destroy(&cmd);
    return ok;
}

#define SKIP_UNLESS_FAILPOINTS(f, ok)                                                              \
    do {                                                                                           \
        if (!(ok)) {                                                                               \
            print_message("skipped: the server has no configureFailPoint (a real mongod needs "    \
                          "--setParameter enableTestCommands=1)\n");                               \
            skip();                                                                                \
        }                                                                                          \
    } while (0)

/* mongo_uri() with its own appname, so that a failCommand failpoint hits
 * only the store opened with it. */
static void uri_with_app(const char *app, char *out, size_t size)
{
    const char *uri = mongo_uri();
    snprintf(out, size, "%s%sappname=%s", uri, strchr(uri, '?') ? "&" : "?", app);
}

/* ---- the document ---- */

/* A document a person or a BI tool reads: the resource's own fields, the
 * store's in front, a real date; no field of a write protocol. */
static void test_document_shape(void **state)
{
    fx *f = *state;
    SKIP_UNLESS_MONGO(f);
    char name[128];
    snprintf(name, sizeof name, "organizations/%s", f->org);
    assert_int_equal(create_in(f, f->s, "organizations", name, 0), STORE_OK);
    bson_t *doc = find_one(f, "organizations", name);
    assert_non_null(doc);
    bson_iter_t it;
    assert_true(bson_iter_init(&it, doc) && bson_iter_next(&it));
    assert_string_equal(bson_iter_key(&it), "_id");
    assert_string_equal(str_field(doc, "_org"), f->org);
    assert_string_equal(str_field(doc, "legalName"), "Acme");
    assert_true(bson_iter_init_find(&it, doc, "createTime") && BSON_ITER_HOLDS_DATE_TIME(&it));
    assert_true(bson_iter_init_find(&it, doc, "_version") && BSON_ITER_HOLDS_INT64(&it));
    assert_false(has_field(doc, "_audit"));
    assert_false(has_field(doc, "_created"));
    assert_false(has_field(doc, "_guard"));
    bson_destroy(doc);

    /* its event: numbered in the organization's log, no state */
    char id[128];
    snprintf(id, sizeof id, "%s/1", f->org);
    bson_t *ev = find_one(f, "auditEvents", id);
    assert_non_null(ev);
    assert_string_equal(str_field(ev, "resource"), name);
    assert_string_equal(str_field(ev, "collection"), "organizations");
    assert_int_equal(int_field(ev, "seq"), 1);
    assert_false(has_field(ev, "state"));
    assert_false(has_field(ev, "incarnation"));
    bson_destroy(ev);
    snprintf(id, sizeof id, "auditEvents/%s", f->org);
    bson_t *counter = find_one(f, "counters", id);
    assert_non_null(counter);
    assert_int_equal(int_field(counter, "seq"), 1);
    bson_destroy(counter);
}

/* A guard writes the store-private _guard (so that a concurrent writer of
 * the document conflicts) and nothing a reader sees. */
static void test_guard_writes_only_a_private_field(void **state)
{
    fx *f = *state;
    SKIP_UNLESS_MONGO(f);
    assert_int_equal(create_in(f, f->s, f->things, "guarded", 0), STORE_OK);
    store_record *before = NULL, *after = NULL;
    assert_int_equal(store_get(f->s, f->things, f->org, "guarded", &before), STORE_OK);
    store_write g = {.kind = STORE_WRITE_GUARD,
                     .collection = f->things,
                     .org = f->org,
                     .name = "guarded",
                     .expected_version = 1};
    assert_int_equal(store_apply(f->s, &g, 1, NULL), STORE_OK);
    assert_int_equal(store_apply(f->s, &g, 1, NULL), STORE_OK);
    assert_int_equal(store_get(f->s, f->things, f->org, "guarded", &after), STORE_OK);
    assert_int_equal(after->version, 1);
    assert_int_equal(after->doc_len, before->doc_len);
    assert_memory_equal(after->doc, before->doc, before->doc_len);
    store_record_free(before);
    store_record_free(after);
    bson_t *doc = find_one(f, f->things, "guarded");
    assert_int_equal(int_field(doc, "_guard"), 2); /* it changed each time: a real write */
    bson_destroy(doc);
    assert_int_equal(events_of(f), 1); /* the create's only */
}

static void test_indexes_idempotent(void **state)
{
    fx *f = *state;
    SKIP_UNLESS_MONGO(f);
    /* opening again creates the same indexes: nothing changes, nothing fails */
    store *again = open_or_fail(mongo_uri());
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

/* The key of f->things' index `name` as "field,field,...", or NULL when
 * there is no such index (malloc'd). */
static char *index_key(fx *f, const char *name)
{
    mongoc_collection_t *c = mongoc_client_get_collection(f->client, f->db, f->things);
    mongoc_cursor_t *cur = mongoc_collection_find_indexes_with_opts(c, NULL);
    const bson_t *idx;
    char *out = NULL;
    while (!out && mongoc_cursor_next(cur, &idx)) {
        bson_iter_t it, key;
        if (strcmp(str_field(idx, "name"), name) != 0 || !bson_iter_init_find(&it, idx, "key") ||
            !bson_iter_recurse(&it, &key))
            continue;
        char buf[256] = "";
        while (bson_iter_next(&key))
            snprintf(buf + strlen(buf), sizeof buf - strlen(buf), "%s%s", buf[0] ? "," : "",
                     bson_iter_key(&key));
        out = strdup(buf);
    }
    mongoc_cursor_destroy(cur);
    mongoc_collection_destroy(c);
    return out;
}

static int count_indexes(fx *f)
{
    mongoc_collection_t *c = mongoc_client_get_collection(f->client, f->db, f->things);
    mongoc_cursor_t *cur = mongoc_collection_find_indexes_with_opts(c, NULL);
    const bson_t *idx;
    int n = 0;
    while (mongoc_cursor_next(cur, &idx))
        n++;
    mongoc_cursor_destroy(cur);
    mongoc_collection_destroy(c);
    return n;
}

#define assert_index_key(f, name, want)                                                            \
    do {                                                                                           \
        char *got_ = index_key(f, name);                                                           \
        if (want)                                                                                  \
            assert_string_equal(got_ ? got_ : "(none)", (const char *)(want));                     \
        else                                                                                       \
            assert_null(got_);                                                                     \
        free(got_);                                                                                \
    } while (0)

/* One index per declared facet, {_parent, _facets.<name>, _id}; those of
 * facets no longer declared, or with another key, dropped only when asked
 * (`supplysecd refacet`), and a drop another server made first is no
 * failure; the others, and an operator's own, left alone. */
static void test_facet_indexes(void **state)
{
    fx *f = *state;
    SKIP_UNLESS_MONGO(f);
    const char *names[] = {"state", "roles"};
    assert_int_equal(store_index_facets(f->s, f->things, names, 2, false), STORE_OK);
    assert_index_key(f, "facet_state", "_parent,_facets.state,_id");
    assert_index_key(f, "facet_roles", "_parent,_facets.roles,_id");
    int n = count_indexes(f);
    assert_int_equal(store_index_facets(f->s, f->things, names, 2, false), STORE_OK);
    assert_int_equal(count_indexes(f), n);

    /* roles no longer declared; an index of a facet made by hand with
     * another key, and one not ours, left by an operator */
    mongoc_collection_t *c = mongoc_client_get_collection(f->client, f->db, f->things);
    bson_t *cmd = BCON_NEW("createIndexes", BCON_UTF8(f->things), "indexes", "[", "{", "key", "{",
                           "_facets.kind", BCON_INT32(1), "}", "name", BCON_UTF8("facet_kind"), "}",
                           "{", "key", "{", "mine", BCON_INT32(1), "}", "name",
                           BCON_UTF8("operators_own"), "}", "]");
    bson_error_t e;
    assert_true(mongoc_collection_write_command_with_opts(c, cmd, NULL, NULL, &e));
    bson_destroy(cmd);
    mongoc_collection_destroy(c);
    const char *now[] = {"state"};
    /* a start-up (a server of an older release, say) drops nothing */
    assert_int_equal(store_index_facets(f->s, f->things, now, 1, false), STORE_OK);
    assert_index_key(f, "facet_roles", "_parent,_facets.roles,_id");
    assert_index_key(f, "facet_kind", "_facets.kind");
    const char *with_kind[] = {"state", "kind"};
    assert_int_equal(store_index_facets(f->s, f->things, with_kind, 2, true), STORE_OK);
    assert_index_key(f, "facet_state", "_parent,_facets.state,_id");
    assert_index_key(f, "facet_kind", "_parent,_facets.kind,_id");
    assert_index_key(f, "facet_roles", NULL);
    assert_index_key(f, "operators_own", "mine");
    assert_int_equal(store_index_facets(f->s, f->things, NULL, 0, true), STORE_OK);
    assert_index_key(f, "facet_state", NULL);
    assert_index_key(f, "facet_kind", NULL);
    assert_index_key(f, "operators_own", "mine");

    /* a name no query path reaches */
    const char *dotted[] = {"a.b"};
    assert_int_equal(store_index_facets(f->s, f->things, dotted, 1, false), STORE_INVALID);
}

/* An earlier release on a standalone server could leave events pending,
 * aborted or orphaned: they are not part of the log. */
static void test_unconfirmed_events_of_an_earlier_release_left_out(void **state)
{
    fx *f = *state;
    SKIP_UNLESS_MONGO(f);
    const char *states[] = {"committed", "pending", "aborted", "orphaned"};
    mongoc_collection_t *c = mongoc_client_get_collection(f->client, f->db, "auditEvents");
    for (int i = 0; i < 4; i++) {
        char id[128];
        snprintf(id, sizeof id, "%s/%d", f->org, i + 1);
        bson_t *ev = BCON_NEW(
            "_id", BCON_UTF8(id), "org", BCON_UTF8(f->org), "seq", BCON_INT64(i + 1), "collection",
            BCON_UTF8("things"), "resource", BCON_UTF8(states[i]), "principal", BCON_UTF8("p"),
            "principalOrg", BCON_UTF8(""), "role", BCON_UTF8("r"), "method", BCON_UTF8("/m"),
            "requestId", BCON_UTF8("q"), "versionBefore", BCON_INT64(0), "versionAfter",
            BCON_INT64(1), "timeUs", BCON_INT64(1), "state", BCON_UTF8(states[i]));
        bson_error_t e;
        assert_true(mongoc_collection_insert_one(c, ev, NULL, NULL, &e));
        bson_destroy(ev);
    }
    mongoc_collection_destroy(c);
    store_audit_event *evs = NULL;
    size_t n = 0;
    assert_int_equal(store_audit_list(f->s, f->org, 0, 100, &evs, &n), STORE_OK);
    assert_int_equal(n, 1);
    assert_string_equal(evs[0].resource, "committed");
    assert_false(evs[0].hashed);
    store_audit_events_free(evs, n);

    /* Written before the chain, with the counter that release kept: the next
     * write chains the confirmed one first, then itself after it. */
    c = mongoc_client_get_collection(f->client, f->db, "counters");
    char id[128];
    snprintf(id, sizeof id, "auditEvents/%s", f->org);
    bson_t *counter = BCON_NEW("_id", BCON_UTF8(id), "seq", BCON_INT64(4), "claims", BCON_INT64(4));
    bson_error_t e;
    assert_true(mongoc_collection_insert_one(c, counter, NULL, NULL, &e));
    bson_destroy(counter);
    mongoc_collection_destroy(c);
    store_audit ev = {.principal = "p",
                      .principal_org = "",
                      .org = f->org,
                      .role = "r",
                      .method = "/m",
                      .resource = "after",
                      .request_id = "q",
                      .time_us = 2};
    assert_int_equal(store_append_audit(f->s, &ev), STORE_OK);
    audit_chain_check check;
    store_status ss;
    assert_true(audit_chain_verify(f->s, f->org, 0, NULL, 0, &check, &ss));
    if (!check.intact)
        fail_msg("%s", check.problem);
    assert_int_equal(check.checked, 2);
    assert_int_equal(store_audit_list(f->s, f->org, 0, 100, &evs, &n), STORE_OK);
    assert_int_equal(n, 2);
    assert_int_equal(evs[1].seq, 5);
    assert_int_equal(evs[1].position, 2);
    store_audit_events_free(evs, n);
    assert_int_equal(store_append_audit(f->s, &ev), STORE_OK); /* no second backfill needed */
    assert_true(audit_chain_verify(f->s, f->org, 0, NULL, 0, &check, &ss));
    assert_true(check.intact);
    assert_int_equal(check.checked, 3);
}

/* ---- deployments ---- */

/* tests/mongo_double/mongo_double.py, next to this file's directory. */
static void double_path(char *out, size_t size)
{
    snprintf(out, size, "%s", __FILE__);
    char *slash = strrchr(out, '/');
    if (slash)
        *slash = '\0';
    slash = strrchr(out, '/');
    if (slash)
        *slash = '\0';
    size_t used = strlen(out);
    snprintf(out + used, size - used, "/mongo_double/mongo_double.py");
}

/* A double posing as a standalone mongod; its port, or 0 (with *pid 0). */
static int standalone_start(pid_t *pid)
{
    char path[1024];
    int fds[2];
    double_path(path, sizeof path);
    *pid = 0;
    if (access(path, R_OK) != 0 || pipe(fds) != 0)
        return 0;
    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_adddup2(&fa, fds[1], STDOUT_FILENO);
    posix_spawn_file_actions_addclose(&fa, fds[0]);
    char *argv[] = {"/usr/bin/python3", path, "--port", "0", "--standalone", NULL};
    int rc = posix_spawn(pid, argv[0], &fa, NULL, argv, environ);
    posix_spawn_file_actions_destroy(&fa);
    close(fds[1]);
    char line[64] = "";
    size_t len = 0;
    while (rc == 0 && len < sizeof line - 1 && read(fds[0], line + len, 1) == 1 &&
           line[len] != '\n')
        len++;
    line[len] = '\0';
    close(fds[0]);
    if (rc != 0)
        *pid = 0;
    return strncmp(line, "ready ", 6) == 0 ? atoi(line + 6) : 0;
}

static void standalone_stop(pid_t pid)
{
    if (pid > 0) {
        kill(pid, SIGTERM);
        waitpid(pid, NULL, 0);
    }
}

/* Transactions keep each write with its audit event: on a standalone server
 * store_open refuses, saying how to make it a one-node replica set. */
static void test_standalone_refused(void **state)
{
    fx *f = *state;
    SKIP_UNLESS_MONGO(f);
    pid_t pid;
    int port = standalone_start(&pid);
    if (!port) {
        standalone_stop(pid);
        print_message("skipped: cannot start tests/mongo_double/mongo_double.py --standalone\n");
        skip();
    }
    char uri[128], host[64];
    snprintf(uri, sizeof uri, "mongodb://127.0.0.1:%d/refused", port);
    snprintf(host, sizeof host, "127.0.0.1:%d", port);
    store *s = NULL;
    char *err = NULL;
    store_status st = store_open(uri, 1, &s, &err);
    standalone_stop(pid);
    assert_int_equal(st, STORE_REFUSED);
    assert_null(s);
    assert_non_null(err);
    assert_non_null(strstr(err, "is a standalone server"));
    assert_non_null(strstr(err, host));
    assert_non_null(strstr(err, "--replSet rs0"));
    char initiate[256];
    snprintf(initiate, sizeof initiate,
             "rs.initiate({_id: \"rs0\", members: [{_id: 0, host: \"%s\"}]})", host);
    assert_non_null(strstr(err, initiate));
    assert_non_null(strstr(err, "replicaSet=rs0"));
    free(err);
}

/* ---- transactions: the retry path ---- */

/* A transient failure (the server's WriteConflict, labelled
 * TransientTransactionError) runs the transaction again: the write is stored
 * once, with one event. */
static void test_transient_failure_runs_the_transaction_again(void **state)
{
    fx *f = *state;
    SKIP_UNLESS_MONGO(f);
    char app[96], uri[1024];
    snprintf(app, sizeof app, "retry-%s", f->org);
    uri_with_app(app, uri, sizeof uri);
    store *s = open_or_fail(uri);
    bson_t *times = BCON_NEW("times", BCON_INT32(2));
    bson_t *data = BCON_NEW("failCommands", "[", BCON_UTF8("insert"), BCON_UTF8("update"), "]",
                            "errorCode", BCON_INT32(112), "errorLabels", "[",
                            BCON_UTF8("TransientTransactionError"), "]", "appName", BCON_UTF8(app));
    bool ok = fail_point(f, "failCommand", times, data, NULL);
    bson_destroy(times);
    bson_destroy(data);
    if (!ok)
        store_close(s);
    SKIP_UNLESS_FAILPOINTS(f, ok);
    int64_t fired = 0;
    store_status st = create_in(f, s, f->things, "retried", clock_monotonic_us() + 10000000);
    assert_true(fail_point(f, "failCommand", NULL, NULL, &fired));
    assert_int_equal(st, STORE_OK);
    assert_int_equal(fired, 2); /* two attempts failed, the third was stored */
    assert_int_equal(events_of(f), 1);
    bson_t *doc = find_one(f, f->things, "retried");
    assert_non_null(doc);
    bson_destroy(doc);

    /* no deadline: the same */
    times = BCON_NEW("times", BCON_INT32(3));
    data = BCON_NEW("failCommands", "[", BCON_UTF8("update"), "]", "errorCode", BCON_INT32(112),
                    "errorLabels", "[", BCON_UTF8("TransientTransactionError"), "]", "appName",
                    BCON_UTF8(app));
    assert_true(fail_point(f, "failCommand", times, data, NULL));
    bson_destroy(times);
    bson_destroy(data);
    store_close(f->s);
    f->s = s; /* update_to_v2 writes through f->s */
    assert_int_equal(update_to_v2(f, "retried", 0), STORE_OK);
    assert_true(fail_point(f, "failCommand", NULL, NULL, &fired));
    assert_int_equal(fired, 3);
    assert_int_equal(events_of(f), 2);
}

/* A failure that is not transient is not retried: a write error (a taken
 * name) is the batch's answer at once, and nothing of the batch stays. */
static void test_other_failures_not_retried(void **state)
{
    fx *f = *state;
    SKIP_UNLESS_MONGO(f);
    char app[96], uri[1024];
    snprintf(app, sizeof app, "noretry-%s", f->org);
    uri_with_app(app, uri, sizeof uri);
    store *s = open_or_fail(uri);
    bson_t *on = BCON_NEW("times", BCON_INT32(5));
    bson_t *data = BCON_NEW("failCommands", "[", BCON_UTF8("findAndModify"), "]", "errorCode",
                            BCON_INT32(8), "appName", BCON_UTF8(app));
    bool ok = fail_point(f, "failCommand", on, data, NULL);
    bson_destroy(on);
    bson_destroy(data);
    if (!ok)
        store_close(s);
    SKIP_UNLESS_FAILPOINTS(f, ok);
    int64_t fired = 0;
    /* findAndModify numbers the event, after the record's insert */
    store_status st = create_in(f, s, f->things, "unlucky", 0);
    assert_true(fail_point(f, "failCommand", NULL, NULL, &fired));
    store_close(s);
    assert_int_equal(st, STORE_INTERNAL);
    assert_int_equal(fired, 1);
    assert_null(find_one(f, f->things, "unlucky"));
    assert_int_equal(events_of(f), 0);
}

/* A transaction of another client, holding a record until it ends. */
typedef struct holder {
    mongoc_client_session_t *session;
    mongoc_collection_t *coll;
} holder;

static void hold(fx *f, const char *name, holder *h)
{
    bson_error_t e;
    h->session = mongoc_client_start_session(f->client, NULL, &e);
    assert_non_null(h->session);
    assert_true(mongoc_client_session_start_transaction(h->session, NULL, &e));
    h->coll = mongoc_client_get_collection(f->client, f->db, f->things);
    bson_t opts = BSON_INITIALIZER;
    assert_true(mongoc_client_session_append(h->session, &opts, &e));
    bson_t *q = BCON_NEW("_id", BCON_UTF8(name));
    bson_t *u = BCON_NEW("$set", "{", "heldBy", BCON_UTF8("the test"), "}");
    assert_true(mongoc_collection_update_one(h->coll, q, u, &opts, NULL, &e));
    bson_destroy(q);
    bson_destroy(u);
    bson_destroy(&opts);
}

static void release(holder *h, bool commit)
{
    bson_error_t e;
    if (commit)
        assert_true(mongoc_client_session_commit_transaction(h->session, NULL, &e));
    else
        assert_true(mongoc_client_session_abort_transaction(h->session, &e));
    mongoc_client_session_destroy(h->session);
    mongoc_collection_destroy(h->coll);
}

/* While another transaction holds the record, every attempt gets a
 * WriteConflict: the write is retried until its deadline and no longer,
 * and then it is DEADLINE_EXCEEDED with nothing written. */
static void test_conflict_retried_until_the_deadline(void **state)
{
    fx *f = *state;
    SKIP_UNLESS_MONGO(f);
    assert_int_equal(create_in(f, f->s, f->things, "held", 0), STORE_OK);
    holder h;
    hold(f, "held", &h);
    int64_t start = clock_monotonic_us();
    store_status st = update_to_v2(f, "held", start + 300000);
    int64_t took = clock_monotonic_us() - start;
    release(&h, false);
    assert_int_equal(st, STORE_DEADLINE_EXCEEDED);
    assert_true(took >= 300000);
    assert_true(took < 1500000); /* a backoff or a command past the deadline: not much */
    assert_int_equal(events_of(f), 1);
    store_record *r = NULL;
    assert_int_equal(store_get(f->s, f->things, f->org, "held", &r), STORE_OK);
    assert_int_equal(r->version, 1);
    store_record_free(r);
    assert_int_equal(update_to_v2(f, "held", 0), STORE_OK); /* released: it goes through */
}

typedef struct writer {
    fx *f;
    store_status st;
} writer;

static void *update_worker(void *arg)
{
    writer *w = arg;
    w->st = update_to_v2(w->f, "contended", clock_monotonic_us() + 10000000);
    return NULL;
}

/* The other transaction commits (without changing the version) while the
 * write is retrying: the write then goes through, once. */
static void test_conflict_retried_until_the_other_commits(void **state)
{
    fx *f = *state;
    SKIP_UNLESS_MONGO(f);
    assert_int_equal(create_in(f, f->s, f->things, "contended", 0), STORE_OK);
    holder h;
    hold(f, "contended", &h);
    writer w = {f, STORE_INTERNAL};
    pthread_t t;
    assert_int_equal(pthread_create(&t, NULL, update_worker, &w), 0);
    usleep(300000);
    release(&h, true);
    pthread_join(t, NULL);
    assert_int_equal(w.st, STORE_OK);
    bson_t *doc = find_one(f, f->things, "contended");
    assert_string_equal(str_field(doc, "legalName"), "v2");
    assert_false(has_field(doc, "heldBy")); /* replaced by the update, after the commit */
    assert_int_equal(int_field(doc, "_version"), 2);
    bson_destroy(doc);
    assert_int_equal(events_of(f), 2);
}

/* ---- deadlines on the wire ---- */

/* Every command of a write with a deadline carries maxTimeMS. With the
 * maxTimeAlwaysTimeOut failpoint skipping the first k commands that carry
 * it, the write fails at the one after them and stores nothing, until k is
 * the number of commands a create sends (the audit counter taken, the
 * insert, the event's insert, the chain's new head stored in the counter,
 * the commit): then it is stored, the failpoint never having fired. A write
 * without a deadline sends none. */
static void test_max_time_ms_sent(void **state)
{
    fx *f = *state;
    SKIP_UNLESS_MONGO(f);
    enum { COMMANDS = 5 };
    assert_int_equal(create_in(f, f->s, f->things, "before", 0), STORE_OK); /* indexes made */
    int k = 0;
    for (;; k++) {
        char name[32];
        snprintf(name, sizeof name, "timed-%d", k);
        bson_t *skip = BCON_NEW("skip", BCON_INT32(k));
        bool ok = fail_point(f, "maxTimeAlwaysTimeOut", skip, NULL, NULL);
        bson_destroy(skip);
        SKIP_UNLESS_FAILPOINTS(f, ok);
        int64_t fired = 0;
        store_status st = create_in(f, f->s, f->things, name, clock_monotonic_us() + 1000000);
        assert_true(fail_point(f, "maxTimeAlwaysTimeOut", NULL, NULL, &fired));
        if (st == STORE_OK) {
            assert_int_equal(fired, 0);
            break;
        }
        /* a commit that failed may have been stored: UNAVAILABLE, not
         * DEADLINE_EXCEEDED (here it was not) */
        assert_true(st == STORE_DEADLINE_EXCEEDED ||
                    (k == COMMANDS - 1 && st == STORE_UNAVAILABLE));
        assert_true(fired >= 1);
        assert_null(find_one(f, f->things, name));
        assert_int_equal(events_of(f), 1);
        assert_true(k < COMMANDS);
    }
    assert_int_equal(k, COMMANDS);

    bson_t *on = BCON_NEW("times", BCON_INT32(1000));
    assert_true(fail_point(f, "maxTimeAlwaysTimeOut", on, NULL, NULL));
    bson_destroy(on);
    int64_t fired = 0;
    store_status updated = update_to_v2(f, "before", clock_monotonic_us() + 10000000);
    store_status without = create_in(f, f->s, f->things, "untimed", 0);
    assert_true(fail_point(f, "maxTimeAlwaysTimeOut", NULL, NULL, &fired));
    assert_int_equal(updated, STORE_DEADLINE_EXCEEDED);
    assert_int_equal(without, STORE_OK);
    assert_int_equal(fired, 1); /* the update's first command; the untimed write sent none */
    bson_t *doc = find_one(f, f->things, "before");
    assert_int_equal(int_field(doc, "_version"), 1);
    bson_destroy(doc);
    assert_int_equal(events_of(f), 3);
}

int main(void)
{
    mongoc_init();
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_document_shape, setup, teardown),
        cmocka_unit_test_setup_teardown(test_guard_writes_only_a_private_field, setup, teardown),
        cmocka_unit_test_setup_teardown(test_indexes_idempotent, setup, teardown),
        cmocka_unit_test_setup_teardown(test_facet_indexes, setup, teardown),
        cmocka_unit_test_setup_teardown(test_unconfirmed_events_of_an_earlier_release_left_out,
                                        setup, teardown),
        cmocka_unit_test_setup_teardown(test_standalone_refused, setup, teardown),
        cmocka_unit_test_setup_teardown(test_transient_failure_runs_the_transaction_again, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_other_failures_not_retried, setup, teardown),
        cmocka_unit_test_setup_teardown(test_conflict_retried_until_the_deadline, setup, teardown),
        cmocka_unit_test_setup_teardown(test_conflict_retried_until_the_other_commits, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_max_time_ms_sent, setup, teardown),
    };
    int rc = cmocka_run_group_tests(tests, NULL, NULL);
    mongoc_cleanup();
    return rc;
}
