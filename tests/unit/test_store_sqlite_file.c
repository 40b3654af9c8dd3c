/* test_store_sqlite_file.c — the SQLite store and its file (issue 7).
 *
 * Through store.h and the file system only: what store_open refuses (an
 * empty file, a file that is not SQLite, a foreign SQLite database, a missing
 * file where the marker says a store was, another store in its place), what
 * store_init does, the adoption of a store written before stores had an id;
 * and, while open, a deleted store file or log put back with nothing lost, a
 * replaced file refusing writes, corruption, and a full disk (a small tmpfs,
 * when root may mount one), each seen by store_health, whose answer is cached
 * (probed at most about once a second unless an operation disagreed).
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include <bson/bson.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <pthread.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "audit_chain.h"
#include "store.h"

typedef struct fx {
    char dir[64];
    char path[128]; /* dir/data/store.db */
    char uri[160];
    char marker[128];
    char mnt[128]; /* a tmpfs mounted by the test, or "" */
} fx;

/* ---- what the store logs ---- */

static pthread_mutex_t log_mu = PTHREAD_MUTEX_INITIALIZER;
static char log_text[16384];
static int log_errors;

static void capture(bool error, const char *domain, const char *message)
{
    (void)domain;
    pthread_mutex_lock(&log_mu);
    size_t used = strlen(log_text);
    snprintf(log_text + used, sizeof log_text - used, "%s %s\n", error ? "ERROR" : "WARN", message);
    log_errors += error;
    pthread_mutex_unlock(&log_mu);
}

static void log_reset(void)
{
    pthread_mutex_lock(&log_mu);
    log_text[0] = '\0';
    log_errors = 0;
    pthread_mutex_unlock(&log_mu);
}

static bool logged(const char *what)
{
    pthread_mutex_lock(&log_mu);
    bool found = strstr(log_text, what) != NULL;
    pthread_mutex_unlock(&log_mu);
    return found;
}

/* ---- fixture ---- */

static int remove_entry(const char *path, const struct stat *sb, int flag, struct FTW *ftw)
{
    (void)sb;
    (void)flag;
    (void)ftw;
    return remove(path);
}

static int setup(void **state)
{
    fx *f = calloc(1, sizeof *f);
    assert_non_null(f);
    snprintf(f->dir, sizeof f->dir, "/tmp/supplysec-file-XXXXXX");
    assert_non_null(mkdtemp(f->dir));
    snprintf(f->path, sizeof f->path, "%s/data/store.db", f->dir);
    snprintf(f->uri, sizeof f->uri, "sqlite:%s", f->path);
    snprintf(f->marker, sizeof f->marker, "%s/data/.store.db.store-id", f->dir);
    store_set_logger(capture);
    log_reset();
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    fx *f = *state;
    if (f->mnt[0])
        umount2(f->mnt, MNT_DETACH);
    nftw(f->dir, remove_entry, 16, FTW_DEPTH | FTW_PHYS);
    free(f);
    return 0;
}

/* ---- helpers ---- */

static store *open_ok(fx *f)
{
    store *s = NULL;
    char *err = NULL;
    store_status st = store_open(f->uri, 4, &s, &err);
    if (st != STORE_OK)
        fail_msg("store_open: %s: %s", store_status_name(st), err ? err : "");
    free(err);
    return s;
}

/* store_open refuses, saying `says`. */
static void assert_refused(fx *f, const char *says)
{
    store *s = NULL;
    char *err = NULL;
    store_status st = store_open(f->uri, 2, &s, &err);
    if (st != STORE_REFUSED || !err || !strstr(err, says))
        fail_msg("store_open: %s: %s (expected STORE_REFUSED saying \"%s\")", store_status_name(st),
                 err ? err : "", says);
    assert_null(s);
    free(err);
}

static void init_says(fx *f, store_status want, const char *says)
{
    char *msg = NULL;
    store_status st = store_init(f->uri, &msg);
    if (st != want || !msg || !strstr(msg, says))
        fail_msg("store_init: %s: %s (expected %s saying \"%s\")", store_status_name(st),
                 msg ? msg : "", store_status_name(want), says);
    free(msg);
}

static store_status create(store *s, const char *name)
{
    bson_t b = BSON_INITIALIZER;
    BSON_APPEND_UTF8(&b, "v", name);
    store_record r = {.collection = "things",
                      .org = "acme",
                      .parent = "",
                      .name = (char *)name,
                      .version = 1,
                      .doc = (uint8_t *)bson_get_data(&b),
                      .doc_len = b.len};
    store_audit ev = {.principal = "p",
                      .principal_org = "acme",
                      .org = "acme",
                      .role = "ROLE_ADMIN",
                      .method = "/m",
                      .resource = name,
                      .request_id = "r",
                      .version_after = 1};
    store_status st = store_create(s, &r, &ev);
    bson_destroy(&b);
    return st;
}

static void create_n(store *s, const char *prefix, int n)
{
    char name[64];
    for (int i = 0; i < n; i++) {
        snprintf(name, sizeof name, "%s-%03d", prefix, i);
        assert_int_equal(create(s, name), STORE_OK);
    }
}

static size_t count(store *s)
{
    store_query q = {.collection = "things", .org = "acme", .limit = 1000};
    store_page *p = NULL;
    assert_int_equal(store_list(s, &q, &p), STORE_OK);
    size_t n = p->count;
    store_page_free(p);
    return n;
}

/* A closed store at f->path holding n records. */
static void stored(fx *f, int n)
{
    store *s = open_ok(f);
    create_n(s, "rec", n);
    store_close(s);
}

static void write_file(const char *path, const void *data, size_t len)
{
    FILE *fp = fopen(path, "wb");
    assert_non_null(fp);
    assert_int_equal(fwrite(data, 1, len, fp), len);
    assert_int_equal(fclose(fp), 0);
}

static size_t file_size(const char *path)
{
    struct stat sb;
    return stat(path, &sb) == 0 ? (size_t)sb.st_size : (size_t)-1;
}

static bool exists(const char *path)
{
    struct stat sb;
    return stat(path, &sb) == 0;
}

static void remove_store_files(fx *f)
{
    char p[160];
    unlink(f->path);
    snprintf(p, sizeof p, "%s-wal", f->path);
    unlink(p);
    snprintf(p, sizeof p, "%s-shm", f->path);
    unlink(p);
}

static void sql(const char *path, const char *text)
{
    sqlite3 *db = NULL;
    assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
    char *err = NULL;
    if (sqlite3_exec(db, text, NULL, NULL, &err) != SQLITE_OK)
        fail_msg("%s: %s", text, err);
    sqlite3_close(db);
}

static void mkdir_data(fx *f)
{
    char d[128];
    snprintf(d, sizeof d, "%s/data", f->dir);
    assert_int_equal(mkdir(d, 0700), 0);
}

static store_status health(store *s, char *why, size_t size)
{
    return store_health(s, why, size);
}

/* store_health until it is `want` (at most `ms` milliseconds). */
static store_status health_within(store *s, store_status want, int ms, char *why, size_t size)
{
    store_status st;
    struct timespec ts = {0, 50 * 1000000L};
    for (int waited = 0;; waited += 50) {
        st = health(s, why, size);
        if (st == want || waited >= ms)
            return st;
        nanosleep(&ts, NULL);
    }
}

/* ---- start-up ---- */

static void test_first_open_creates_a_store_and_its_marker(void **state)
{
    fx *f = *state;
    stored(f, 3);
    assert_true(exists(f->marker));
    assert_true(logged("created a new, empty store"));
    log_reset();
    store *s = open_ok(f);
    assert_int_equal(count(s), 3);
    assert_false(logged("created")); /* the second open finds it */
    store_close(s);
}

static void test_missing_store_refused_until_init(void **state)
{
    fx *f = *state;
    stored(f, 3);
    remove_store_files(f);
    assert_refused(f, "is missing");
    assert_refused(f, "supplysecd init");
    assert_false(exists(f->path)); /* refusing created nothing */
    init_says(f, STORE_OK, "created a new, empty store");
    store *s = open_ok(f);
    assert_int_equal(count(s), 0);
    store_close(s);
}

static void test_zero_length_file_refused(void **state)
{
    fx *f = *state;
    mkdir_data(f);
    write_file(f->path, "", 0);
    assert_refused(f, "is empty (0 bytes)");
    init_says(f, STORE_REFUSED, "is empty");
    assert_int_equal(file_size(f->path), 0);
    assert_false(exists(f->marker));
}

static void test_file_that_is_not_sqlite_refused(void **state)
{
    fx *f = *state;
    mkdir_data(f);
    char junk[8192];
    memset(junk, 'j', sizeof junk);
    write_file(f->path, junk, sizeof junk);
    assert_refused(f, "is not a SQLite database");
    assert_int_equal(file_size(f->path), sizeof junk);
}

static void test_foreign_sqlite_database_refused(void **state)
{
    fx *f = *state;
    mkdir_data(f);
    sql(f->path, "CREATE TABLE inventory (sku TEXT); INSERT INTO inventory VALUES ('a');");
    size_t before = file_size(f->path);
    assert_refused(f, "not a supplysec store");
    init_says(f, STORE_REFUSED, "not a supplysec store");
    assert_int_equal(file_size(f->path), before);
    char wal[160];
    snprintf(wal, sizeof wal, "%s-wal", f->path);
    assert_false(exists(wal)); /* not even switched to WAL */
}

static void test_another_store_in_place_refused_until_init(void **state)
{
    fx *f = *state;
    stored(f, 2);
    /* another store, moved over this one's file */
    char other_uri[200], other_path[160];
    snprintf(other_path, sizeof other_path, "%s/other/o.db", f->dir);
    snprintf(other_uri, sizeof other_uri, "sqlite:%s", other_path);
    store *o = NULL;
    assert_int_equal(store_open(other_uri, 1, &o, NULL), STORE_OK);
    create_n(o, "other", 5);
    store_close(o);
    assert_int_equal(rename(other_path, f->path), 0);
    assert_refused(f, "replaced by another store");
    init_says(f, STORE_OK, "accepted the store");
    store *s = open_ok(f);
    assert_int_equal(count(s), 5);
    store_close(s);
}

/* A store of schema version 1 (before facets) is upgraded in place when
 * opened: its records kept, the facets table added, filters working. */
/* A store as the release before facets (1) and before the chain (2) left
 * it is upgraded in place: the events there are chained as they stand. */
static void schema_upgraded_from(fx *f, int version)
{
    stored(f, 4);
    sql(f->path, "DROP INDEX audit_by_position; ALTER TABLE audit_events DROP COLUMN hash;"
                 " ALTER TABLE audit_events DROP COLUMN position;");
    sql(f->path,
        version == 1 ? "DROP TABLE facets; PRAGMA user_version = 1;" : "PRAGMA user_version = 2;");
    store *s = open_ok(f);
    assert_int_equal(count(s), 4);
    audit_chain_check check;
    store_status ss;
    assert_true(audit_chain_verify(s, "acme", 0, NULL, 0, &check, &ss));
    assert_true(check.intact);
    assert_int_equal(check.checked, 4);
    assert_int_equal(create(s, "after"), STORE_OK); /* and the chain goes on */
    assert_true(audit_chain_verify(s, "acme", 4, check.head_hash, 0, &check, &ss));
    assert_true(check.intact);
    assert_int_equal(check.checked, 5);
    store_close(s);
    sqlite3 *db = NULL;
    assert_int_equal(sqlite3_open(f->path, &db), SQLITE_OK);
    sqlite3_stmt *st = NULL;
    assert_int_equal(sqlite3_prepare_v2(db, "PRAGMA user_version", -1, &st, NULL), SQLITE_OK);
    assert_int_equal(sqlite3_step(st), SQLITE_ROW);
    assert_int_equal(sqlite3_column_int(st, 0), 3);
    sqlite3_finalize(st);
    assert_int_equal(sqlite3_prepare_v2(db, "SELECT count(*) FROM facets", -1, &st, NULL),
                     SQLITE_OK);
    assert_int_equal(sqlite3_step(st), SQLITE_ROW);
    sqlite3_finalize(st);
    sqlite3_close(db);
    /* a newer release's store is still refused */
    sql(f->path, "PRAGMA user_version = 4;");
    store *refused = NULL;
    char *err = NULL;
    assert_int_not_equal(store_open(f->uri, 1, &refused, &err), STORE_OK);
    assert_non_null(strstr(err, "another release"));
    free(err);
}

static void test_schema_1_upgraded(void **state)
{
    schema_upgraded_from(*state, 1);
}

static void test_schema_2_upgraded(void **state)
{
    schema_upgraded_from(*state, 2);
}

static void test_store_of_an_earlier_release_adopted(void **state)
{
    fx *f = *state;
    stored(f, 4);
    /* as the previous release left its stores: no identity, no marker */
    sql(f->path, "DROP TABLE store_meta; PRAGMA application_id = 0;");
    assert_int_equal(unlink(f->marker), 0);
    log_reset();
    store *s = open_ok(f);
    assert_true(logged("adopted the store"));
    assert_int_equal(count(s), 4);
    store_close(s);
    assert_true(exists(f->marker));
    log_reset();
    store_close(open_ok(f)); /* adopted once */
    assert_false(logged("adopted"));
}

static void test_unmarked_store_where_another_was_refused(void **state)
{
    fx *f = *state;
    stored(f, 1);
    sql(f->path, "DROP TABLE store_meta; PRAGMA application_id = 0;");
    assert_refused(f, "before stores had an id");
    init_says(f, STORE_OK, "adopted");
    store_close(open_ok(f));
}

/* ---- while open ---- */

static void test_deleted_store_file_put_back(void **state)
{
    fx *f = *state;
    store *s = open_ok(f);
    create_n(s, "before", 20);
    remove_store_files(f);
    log_reset();
    create_n(s, "after", 20); /* the first one puts the file back */
    assert_true(exists(f->path));
    assert_int_equal(log_errors, 1);
    assert_true(logged("was deleted while open"));
    assert_true(logged("put back from the open database"));
    char why[256];
    assert_int_equal(health_within(s, STORE_OK, 0, why, sizeof why), STORE_OK);
    assert_int_equal(count(s), 40);
    store_close(s);
    s = open_ok(f);
    assert_int_equal(count(s), 40);
    store_close(s);
}

static void test_deleted_directory_put_back(void **state)
{
    fx *f = *state;
    char data[128];
    store *s = open_ok(f);
    create_n(s, "rec", 10);
    snprintf(data, sizeof data, "%s/data", f->dir);
    nftw(data, remove_entry, 16, FTW_DEPTH | FTW_PHYS); /* rm -rf data */
    assert_false(exists(data));
    create_n(s, "more", 2);
    assert_true(exists(f->path));
    assert_true(exists(f->marker));
    store_close(s);
    s = open_ok(f);
    assert_int_equal(count(s), 12);
    store_close(s);
}

static void test_deleted_store_file_put_back_at_close(void **state)
{
    fx *f = *state;
    store *s = open_ok(f);
    create_n(s, "rec", 10);
    remove_store_files(f);
    store_close(s); /* sooner than the monitor looks */
    s = open_ok(f);
    assert_int_equal(count(s), 10);
    store_close(s);
}

static void test_deleted_log_folded_back(void **state)
{
    fx *f = *state;
    char wal[160];
    snprintf(wal, sizeof wal, "%s-wal", f->path);
    store *s = open_ok(f);
    create_n(s, "rec", 10); /* in the log only: no checkpoint yet */
    assert_int_equal(unlink(wal), 0);
    create_n(s, "more", 5);
    assert_true(exists(wal));
    store_close(s);
    s = open_ok(f);
    assert_int_equal(count(s), 15);
    store_close(s);
}

static void test_replaced_store_file_refuses_writes(void **state)
{
    fx *f = *state;
    char copy[200], why[512];
    store *s = open_ok(f);
    create_n(s, "rec", 3);
    snprintf(copy, sizeof copy, "%s.copy", f->path);
    FILE *in = fopen(f->path, "rb");
    assert_non_null(in);
    char buf[65536];
    size_t n = fread(buf, 1, sizeof buf, in);
    fclose(in);
    write_file(copy, buf, n);
    log_reset();
    assert_int_equal(rename(copy, f->path), 0);
    /* cached: no probe per call, and none was due yet */
    assert_int_equal(health(s, why, sizeof why), STORE_OK);
    assert_int_equal(create(s, "refused"), STORE_UNAVAILABLE);
    /* the failed write has the next check probe at once */
    assert_int_equal(health(s, why, sizeof why), STORE_UNAVAILABLE);
    assert_non_null(strstr(why, "was replaced by another file"));
    assert_int_equal(create(s, "refused-too"), STORE_UNAVAILABLE);
    assert_int_equal(log_errors, 1);
    store_record *r = NULL; /* reads go on, from the open file */
    assert_int_equal(store_get(s, "things", "acme", "rec-000", &r), STORE_OK);
    store_record_free(r);
    store_close(s);
}

static void test_health_probed_once_a_second(void **state)
{
    fx *f = *state;
    char copy[200], why[512];
    store *s = open_ok(f);
    create_n(s, "rec", 1);
    snprintf(copy, sizeof copy, "%s.copy", f->path);
    write_file(copy, "SQLite format 3", 16);
    assert_int_equal(rename(copy, f->path), 0);
    assert_int_equal(health(s, why, sizeof why), STORE_OK); /* the answer of the open's probe */
    struct timespec ts = {1, 100 * 1000000L};
    nanosleep(&ts, NULL);
    assert_int_equal(health(s, why, sizeof why), STORE_UNAVAILABLE);
    assert_non_null(strstr(why, "replaced"));
    store_close(s);
}

static void test_corrupt_store(void **state)
{
    fx *f = *state;
    stored(f, 200);
    /* overwrite the root pages of the data (not the schema or the id) */
    sqlite3 *db = NULL;
    sqlite3_stmt *q = NULL;
    assert_int_equal(sqlite3_open_v2(f->path, &db, SQLITE_OPEN_READONLY, NULL), SQLITE_OK);
    assert_int_equal(sqlite3_prepare_v2(db,
                                        "SELECT rootpage FROM sqlite_master WHERE rootpage > 0"
                                        " AND tbl_name IN ('resources', 'audit_events')",
                                        -1, &q, NULL),
                     SQLITE_OK);
    int roots[16], nroots = 0;
    while (sqlite3_step(q) == SQLITE_ROW && nroots < 16)
        roots[nroots++] = sqlite3_column_int(q, 0);
    sqlite3_finalize(q);
    sqlite3_close(db);
    assert_true(nroots >= 2);
    int fd = open(f->path, O_WRONLY);
    assert_true(fd >= 0);
    char junk[4096];
    memset(junk, 0xa5, sizeof junk);
    for (int i = 0; i < nroots; i++)
        assert_int_equal(pwrite(fd, junk, sizeof junk, (off_t)(roots[i] - 1) * 4096),
                         (ssize_t)sizeof junk);
    close(fd);

    store *s = open_ok(f);
    char why[512];
    store_record *r = NULL;
    assert_int_equal(store_get(s, "things", "acme", "rec-000", &r), STORE_INTERNAL);
    assert_int_equal(health(s, why, sizeof why), STORE_INTERNAL);
    assert_non_null(strstr(why, "is corrupt"));
    assert_int_equal(create(s, "more"), STORE_INTERNAL); /* refused, not tried */
    assert_true(logged("is corrupt"));
    store_close(s);
}

/* A 1 MiB tmpfs under the store, filled by another file: a full disk. */
static void test_disk_full(void **state)
{
    fx *f = *state;
    snprintf(f->mnt, sizeof f->mnt, "%s/data", f->dir);
    mkdir_data(f);
    if (mount("tmpfs", f->mnt, "tmpfs", 0, "size=1m") != 0) {
        f->mnt[0] = '\0';
        print_message("skipped: cannot mount a tmpfs: %s\n", strerror(errno));
        skip();
    }
    store *s = open_ok(f);
    create_n(s, "rec", 5);
    char filler[200], why[512], buf[4096] = {0};
    snprintf(filler, sizeof filler, "%s/filler", f->mnt);
    int fd = open(filler, O_WRONLY | O_CREAT, 0600);
    assert_true(fd >= 0);
    while (write(fd, buf, sizeof buf) > 0)
        ;
    close(fd);
    store_status st = STORE_OK;
    char name[32];
    for (int i = 0; i < 50 && st == STORE_OK; i++) { /* one may fit in the log's last page */
        snprintf(name, sizeof name, "full-%d", i);
        st = create(s, name);
    }
    assert_int_equal(st, STORE_UNAVAILABLE);
    assert_int_equal(health(s, why, sizeof why), STORE_UNAVAILABLE);
    assert_non_null(strstr(why, "full"));
    assert_int_equal(unlink(filler), 0);
    /* the probe's test write finds room again, without any other write */
    assert_int_equal(health_within(s, STORE_OK, 3000, why, sizeof why), STORE_OK);
    assert_int_equal(create(s, "again"), STORE_OK);
    store_close(s);
}

static void test_memory_store_healthy(void **state)
{
    (void)state;
    store *s = NULL;
    char why[64];
    assert_int_equal(store_open("sqlite::memory:", 1, &s, NULL), STORE_OK);
    assert_int_equal(health(s, why, sizeof why), STORE_OK);
    assert_string_equal(why, "");
    store_close(s);
    char *msg = NULL;
    assert_int_equal(store_init("sqlite::memory:", &msg), STORE_OK);
    free(msg);
    assert_int_equal(store_health(NULL, why, sizeof why), STORE_INVALID);
    assert_string_equal(store_status_name(STORE_REFUSED), "STORE_REFUSED");
}

#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)

int main(void)
{
    const struct CMUnitTest tests[] = {
        T(test_first_open_creates_a_store_and_its_marker),
        T(test_missing_store_refused_until_init),
        T(test_zero_length_file_refused),
        T(test_file_that_is_not_sqlite_refused),
        T(test_foreign_sqlite_database_refused),
        T(test_another_store_in_place_refused_until_init),
        T(test_store_of_an_earlier_release_adopted),
        T(test_schema_1_upgraded),
        T(test_schema_2_upgraded),
        T(test_unmarked_store_where_another_was_refused),
        T(test_deleted_store_file_put_back),
        T(test_deleted_directory_put_back),
        T(test_deleted_store_file_put_back_at_close),
        T(test_deleted_log_folded_back),
        T(test_replaced_store_file_refuses_writes),
        T(test_health_probed_once_a_second),
        T(test_corrupt_store),
        T(test_disk_full),
        T(test_memory_store_healthy),
    };
    return cmocka_run_group_tests_name("store_sqlite_file", tests, NULL, NULL);
}
