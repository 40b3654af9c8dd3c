/* test_audit_chain.c — the audit log's hash chain (audit_chain.h): a known
 * hash, and each kind of damage found where it is. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <string.h>

#include "audit_chain.h"

#define N 6

static store_audit_event evs[N];
static char names[N][32];

/* A chain of N events, hashed as a store would. */
static int chain_make(void **state)
{
    (void)state;
    uint8_t prev[AUDIT_HASH_LEN];
    for (int i = 0; i < N; i++) {
        snprintf(names[i], sizeof names[i], "organizations/acme/things/t%d", i);
        evs[i] = (store_audit_event){.seq = 10 + i,
                                     .principal = "organizations/acme/apiKeys/ops",
                                     .principal_org = "acme",
                                     .org = "acme",
                                     .role = "ROLE_ADMIN",
                                     .method = "/supplysec.v1.Things/CreateThing",
                                     .resource = names[i],
                                     .request_id = "r",
                                     .version_after = 1,
                                     .time_us = 1700000000000000 + i,
                                     .position = i + 1,
                                     .hashed = true};
        audit_chain_hash_event(&evs[i], i ? prev : NULL, evs[i].hash);
        memcpy(prev, evs[i].hash, AUDIT_HASH_LEN);
    }
    return 0;
}

static audit_chain_check walk(const store_audit_event *const *list, size_t n, int64_t pin,
                              const uint8_t *pin_hash)
{
    audit_chain_walk w;
    audit_chain_walk_start(&w, pin, pin_hash);
    for (size_t i = 0; i < n && audit_chain_walk_next(&w, list[i]); i++)
        ;
    audit_chain_walk_end(&w);
    return w.result;
}

static audit_chain_check walk_all(int64_t pin, const uint8_t *pin_hash)
{
    const store_audit_event *list[N];
    for (int i = 0; i < N; i++)
        list[i] = &evs[i];
    return walk(list, N, pin, pin_hash);
}

/* The canonical form is fixed (docs/security.md): this hash changes only
 * when it does, which breaks every stored chain. */
static void test_known_hash(void **state)
{
    (void)state;
    char hex[AUDIT_HASH_HEX];
    store_audit ev = {.principal = "p",
                      .principal_org = "",
                      .org = "o",
                      .role = "r",
                      .method = "/m",
                      .resource = "x",
                      .request_id = "q",
                      .time_us = 1};
    uint8_t h[AUDIT_HASH_LEN], again[AUDIT_HASH_LEN];
    audit_chain_hash(&ev, "x", 0, 1, 1, NULL, h);
    audit_chain_hex(h, hex);
    assert_true(audit_chain_unhex(hex, again));
    assert_memory_equal(h, again, AUDIT_HASH_LEN);
    /* computed apart, in Python, from the form docs/security.md states */
    assert_string_equal(hex, "66f3d5939699d657aa541a0de5889eb986a8785e30811a87e9c22401e734c84b");
    /* a field's boundary moved is another event */
    ev.principal = "p/";
    ev.role = "";
    audit_chain_hash(&ev, "x", 0, 1, 1, NULL, again);
    assert_memory_not_equal(h, again, AUDIT_HASH_LEN);
    assert_false(audit_chain_unhex("00", again));
    assert_false(audit_chain_unhex(
        "zz00000000000000000000000000000000000000000000000000000000000000", again));
}

static void test_intact(void **state)
{
    (void)state;
    audit_chain_check c = walk_all(0, NULL);
    assert_true(c.intact);
    assert_int_equal(c.checked, N);
    assert_int_equal(c.head_position, N);
    assert_memory_equal(c.head_hash, evs[N - 1].hash, AUDIT_HASH_LEN);
    c = walk_all(3, evs[2].hash);
    assert_true(c.intact);
    c = walk(NULL, 0, 0, NULL);
    assert_true(c.intact);
    assert_int_equal(c.checked, 0);
}

static void test_edited_event_found(void **state)
{
    (void)state;
    const char *fields[] = {"principal", "resource", "method", "time", "version"};
    for (size_t f = 0; f < sizeof fields / sizeof fields[0]; f++) {
        store_audit_event e = evs[3];
        switch (f) {
        case 0:
            e.principal = "organizations/evil/apiKeys/x";
            break;
        case 1:
            e.resource = "organizations/acme/things/other";
            break;
        case 2:
            e.method = "/supplysec.v1.Things/GetThing";
            break;
        case 3:
            e.time_us++;
            break;
        default:
            e.version_after = 2;
        }
        const store_audit_event *list[N] = {&evs[0], &evs[1], &evs[2], &e, &evs[4], &evs[5]};
        audit_chain_check c = walk(list, N, 0, NULL);
        assert_false(c.intact);
        assert_int_equal(c.broken_position, 4);
        assert_int_equal(c.checked, 3);
        assert_non_null(strstr(c.problem, "does not match its hash"));
    }
}

static void test_removed_event_found(void **state)
{
    (void)state;
    const store_audit_event *list[] = {&evs[0], &evs[1], &evs[3], &evs[4], &evs[5]};
    audit_chain_check c = walk(list, 5, 0, NULL);
    assert_false(c.intact);
    assert_int_equal(c.broken_position, 3);
    assert_non_null(strstr(c.problem, "not next in the log"));
    /* renumbered to hide it: the hash no longer holds */
    store_audit_event moved = evs[3];
    moved.position = 3;
    const store_audit_event *renumbered[] = {&evs[0], &evs[1], &moved};
    c = walk(renumbered, 3, 0, NULL);
    assert_false(c.intact);
    assert_int_equal(c.broken_position, 3);
    /* the latest removed: only a pinned head shows it */
    c = walk(list, 2, 0, NULL);
    assert_true(c.intact);
    c = walk(list, 2, N, evs[N - 1].hash);
    assert_false(c.intact);
    assert_int_equal(c.broken_position, 3);
    assert_non_null(strstr(c.problem, "pinned"));
}

static void test_reordered_events_found(void **state)
{
    (void)state;
    const store_audit_event *list[N] = {&evs[0], &evs[2], &evs[1], &evs[3], &evs[4], &evs[5]};
    audit_chain_check c = walk(list, N, 0, NULL);
    assert_false(c.intact);
    assert_int_equal(c.broken_position, 2);
    /* with their positions swapped too */
    store_audit_event a = evs[2], b = evs[1];
    a.position = 2;
    b.position = 3;
    const store_audit_event *swapped[N] = {&evs[0], &a, &b, &evs[3], &evs[4], &evs[5]};
    c = walk(swapped, N, 0, NULL);
    assert_false(c.intact);
    assert_int_equal(c.broken_position, 2);
    assert_non_null(strstr(c.problem, "does not match its hash"));
}

static void test_rewritten_log_fails_the_pin(void **state)
{
    (void)state;
    /* a log rewritten from event 2 on, hashes and all, still links: the pin
     * of the honest head does not */
    store_audit_event forged[N];
    uint8_t prev[AUDIT_HASH_LEN];
    memcpy(forged, evs, sizeof forged);
    memcpy(prev, evs[0].hash, AUDIT_HASH_LEN);
    for (int i = 1; i < N; i++) {
        forged[i].principal = "organizations/acme/apiKeys/someone-else";
        audit_chain_hash_event(&forged[i], prev, forged[i].hash);
        memcpy(prev, forged[i].hash, AUDIT_HASH_LEN);
    }
    const store_audit_event *list[N];
    for (int i = 0; i < N; i++)
        list[i] = &forged[i];
    assert_true(walk(list, N, 0, NULL).intact);
    audit_chain_check c = walk(list, N, 4, evs[3].hash);
    assert_false(c.intact);
    assert_int_equal(c.broken_position, 4);
    /* an event without its hash */
    store_audit_event bare = evs[0];
    bare.hashed = false;
    const store_audit_event *one[] = {&bare};
    c = walk(one, 1, 0, NULL);
    assert_false(c.intact);
    assert_int_equal(c.broken_position, 1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_known_hash),
        cmocka_unit_test(test_intact),
        cmocka_unit_test(test_edited_event_found),
        cmocka_unit_test(test_removed_event_found),
        cmocka_unit_test(test_reordered_events_found),
        cmocka_unit_test(test_rewritten_log_fails_the_pin),
    };
    return cmocka_run_group_tests_name("audit_chain", tests, chain_make, NULL);
}
