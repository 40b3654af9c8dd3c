/* test_group_commit.c — the SQLite store's group commit keeps each write's
 * deadline: a write waiting for the lock (held by another connection), or
 * waiting in the queue behind a group that waits for it, gives up at its
 * own deadline with STORE_DEADLINE_EXCEEDED and writes nothing. The checks
 * are about order (it returned before the lock was let go), not about
 * speed. (The contract suite checks the group's
 * outcomes: test_concurrent_batches_mixed_outcomes.) */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <pthread.h>
#include <sqlite3.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <bson/bson.h>

#include "clock.h"
#include "store.h"

typedef struct fx {
    char dir[64], path[128];
    store *s;
    uint8_t doc[64];
    size_t doc_len;
} fx;

static int setup(void **state)
{
    fx *f = calloc(1, sizeof *f);
    assert_non_null(f);
    snprintf(f->dir, sizeof f->dir, "/tmp/supplysec-group-XXXXXX");
    assert_non_null(mkdtemp(f->dir));
    snprintf(f->path, sizeof f->path, "%s/store.db", f->dir);
    char uri[160], *err = NULL;
    snprintf(uri, sizeof uri, "sqlite:%s", f->path);
    assert_int_equal(store_init(uri, &err), STORE_OK);
    free(err);
    err = NULL;
    if (store_open(uri, 4, &f->s, &err) != STORE_OK)
        fail_msg("store_open: %s", err ? err : "");
    bson_t b = BSON_INITIALIZER;
    BSON_APPEND_UTF8(&b, "v", "x");
    memcpy(f->doc, bson_get_data(&b), b.len);
    f->doc_len = b.len;
    bson_destroy(&b);
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    fx *f = *state;
    store_close(f->s);
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf %s", f->dir);
    assert_int_equal(system(cmd), 0);
    free(f);
    return 0;
}

static store_record rec_of(fx *f, const char *name, const char *parent)
{
    return (store_record){.collection = "things",
                          .org = "acme",
                          .parent = (char *)parent,
                          .name = (char *)name,
                          .version = 1,
                          .doc = f->doc,
                          .doc_len = f->doc_len};
}

static store_audit ev_of(const char *name, int64_t deadline_us)
{
    return (store_audit){.principal = "p",
                         .principal_org = "",
                         .org = "acme",
                         .role = "ROLE_ADMIN",
                         .method = "/test/Create",
                         .resource = name,
                         .request_id = "group",
                         .version_after = 1,
                         .deadline_us = deadline_us};
}

static void assert_absent(fx *f, const char *name)
{
    store_record *r = NULL;
    assert_int_equal(store_get(f->s, "things", "acme", name, &r), STORE_NOT_FOUND);
}

/* Another connection holds the write lock for hold_ms, then lets it go. */
typedef struct holder {
    sqlite3 *db;
    int hold_ms;
    atomic_bool released;
} holder;

static void *hold_then_release(void *arg)
{
    holder *h = arg;
    usleep((useconds_t)h->hold_ms * 1000);
    atomic_store(&h->released, true);
    sqlite3_exec(h->db, "ROLLBACK", NULL, NULL, NULL);
    return NULL;
}

static void test_lock_wait_ends_at_the_deadline(void **state)
{
    fx *f = *state;
    store_record r0 = rec_of(f, "first", "");
    store_audit e0 = ev_of("first", 0);
    assert_int_equal(store_create(f->s, &r0, &e0), STORE_OK);
    /* held longer than the store's own 5 s busy wait too: the answer is
     * still the deadline's */
    int holds[] = {1500, 6500};
    for (int k = 0; k < 2; k++) {
        holder h = {.hold_ms = holds[k]};
        assert_int_equal(sqlite3_open(f->path, &h.db), SQLITE_OK);
        assert_int_equal(sqlite3_exec(h.db, "BEGIN IMMEDIATE", NULL, NULL, NULL), SQLITE_OK);
        pthread_t t;
        assert_int_equal(pthread_create(&t, NULL, hold_then_release, &h), 0);
        char name[32];
        snprintf(name, sizeof name, "blocked-%d", k);
        store_record r = rec_of(f, name, "");
        store_audit e = ev_of(name, clock_monotonic_us() + 200000);
        store_status st = store_create(f->s, &r, &e);
        bool released = atomic_load(&h.released);
        pthread_join(t, NULL);
        sqlite3_close(h.db);
        if (st != STORE_DEADLINE_EXCEEDED || released)
            fail_msg("lock held %d ms, deadline 200 ms: %s, %s the lock was let go", holds[k],
                     store_status_name(st), released ? "after" : "before");
        assert_absent(f, name);
    }
}

typedef struct leader {
    fx *f;
    atomic_bool started;
    store_status st;
} leader;

/* A write with no deadline: it leads the next group, and waits for the
 * lock as long as the store's busy wait allows. */
static void *write_without_deadline(void *arg)
{
    leader *l = arg;
    store_record r = rec_of(l->f, "leader", "");
    store_audit e = ev_of("leader", 0);
    atomic_store(&l->started, true);
    l->st = store_create(l->f->s, &r, &e);
    return NULL;
}

/* A write queued behind a group that waits for the lock is not held past
 * its deadline by that group. */
static void test_queue_wait_ends_at_the_deadline(void **state)
{
    fx *f = *state;
    holder h = {.hold_ms = 1500};
    assert_int_equal(sqlite3_open(f->path, &h.db), SQLITE_OK);
    assert_int_equal(sqlite3_exec(h.db, "BEGIN IMMEDIATE", NULL, NULL, NULL), SQLITE_OK);
    pthread_t holder_thread, leader_thread;
    leader l = {.f = f};
    assert_int_equal(pthread_create(&holder_thread, NULL, hold_then_release, &h), 0);
    assert_int_equal(pthread_create(&leader_thread, NULL, write_without_deadline, &l), 0);
    while (!atomic_load(&l.started))
        usleep(100);
    usleep(100000); /* the leader waits for the lock by now */
    store_record r = rec_of(f, "behind", "");
    store_audit e = ev_of("behind", clock_monotonic_us() + 200000);
    store_status st = store_create(f->s, &r, &e);
    bool released = atomic_load(&h.released);
    pthread_join(holder_thread, NULL);
    pthread_join(leader_thread, NULL);
    sqlite3_close(h.db);
    if (st != STORE_DEADLINE_EXCEEDED || released)
        fail_msg("behind a group waiting 1500 ms for the lock, deadline 200 ms: %s, %s the lock "
                 "was let go",
                 store_status_name(st), released ? "after" : "before");
    assert_absent(f, "behind");
    assert_int_equal(l.st, STORE_OK); /* the leader waited, then wrote */
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_lock_wait_ends_at_the_deadline, setup, teardown),
        cmocka_unit_test_setup_teardown(test_queue_wait_ends_at_the_deadline, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
