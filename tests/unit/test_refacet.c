/* test_refacet.c — facets given anew at start-up (refacet.h): records
 * written before their kind declared facets (here: written with none)
 * become reachable by filters, a controlled kind's revisions too and an
 * enveloped kind's records through their resource; a second pass with the
 * same declarations rewrites nothing; a changed declaration runs again; a
 * document that cannot be read stops start-up with its name. In-memory
 * SQLite (the contract suite runs store_refacet on both stores). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <bson/bson.h>
#include <stdlib.h>
#include <string.h>

#include "doc.h"
#include "filter.h"
#include "keyring.h"
#include "refacet.h"
#include "security_policy.h"
#include "supplysec/internal/v1/stored.pb-c.h"

static store *s;

/* Document b stored under name as a record of collection, without facets. */
static void put_doc(const char *collection, const char *name, const char *parent, const bson_t *b)
{
    store_record rec = {.collection = (char *)collection,
                        .org = "acme",
                        .parent = (char *)parent,
                        .name = (char *)name,
                        .version = 1,
                        .doc = (uint8_t *)bson_get_data(b),
                        .doc_len = b->len};
    store_audit ev = {.principal = "test",
                      .principal_org = "",
                      .org = "acme",
                      .role = "ROLE_ADMIN",
                      .method = "test",
                      .resource = name,
                      .request_id = "",
                      .version_after = 1};
    assert_int_equal(store_create(s, &rec, &ev), STORE_OK);
}

/* msg stored under name as a record of collection, without facets. */
static void put(const char *collection, const char *name, const char *parent,
                const ProtobufCMessage *msg)
{
    bson_t b = BSON_INITIALIZER;
    assert_true(doc_from_message(msg, DOC_BSON, &b));
    put_doc(collection, name, parent, &b);
    bson_destroy(&b);
}

static void put_key(const char *id, Supplysec__V1__ApiKey__State state, Supplysec__V1__Role role)
{
    char name[128];
    snprintf(name, sizeof name, "organizations/acme/apiKeys/%s", id);
    Supplysec__V1__ApiKey key = SUPPLYSEC__V1__API_KEY__INIT;
    key.name = name;
    key.state = state;
    key.role = role;
    Supplysec__Internal__V1__StoredApiKey stored = SUPPLYSEC__INTERNAL__V1__STORED_API_KEY__INIT;
    stored.api_key = &key;
    put(api_key_kind.collection, name, "organizations/acme", &stored.base);
}

static void put_policy(const char *collection, const char *name, Supplysec__V1__DocumentState st)
{
    Supplysec__V1__SecurityPolicy p = SUPPLYSEC__V1__SECURITY_POLICY__INIT;
    p.name = (char *)name;
    p.title = "Policy";
    p.state = st;
    put(collection, name, "organizations/acme", &p.base);
}

/* How many records of collection pass text (a filter of k). */
static size_t count(const kind *k, const char *collection, const char *text)
{
    filter *flt = NULL;
    status st = {0};
    if (!filter_parse("filter", text, k->facets, k->n_facets, &flt, &st))
        fail_msg("%s: %s", text, st.msg);
    store_query q = {.collection = collection,
                     .limit = 100,
                     .filter = flt,
                     .facets = k->facets,
                     .n_facets = k->n_facets};
    store_page *p = NULL;
    assert_int_equal(store_list(s, &q, &p), STORE_OK);
    size_t n = p->count;
    store_page_free(p);
    filter_free(flt);
    return n;
}

static int setup(void **state)
{
    (void)state;
    char *err = NULL;
    if (store_open("sqlite::memory:", 1, &s, &err) != STORE_OK)
        fail_msg("store_open: %s", err ? err : "");
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    store_close(s);
    return 0;
}

static void test_mark(void **state)
{
    (void)state;
    char mark[1024];
    refacet_mark(&api_key_kind, mark, sizeof mark);
    assert_string_equal(mark,
                        "state:enum:supplysec.v1.ApiKey.State,role:enum:supplysec.v1.Role;v1");
    kind none = api_key_kind;
    none.n_facets = 0;
    refacet_mark(&none, mark, sizeof mark);
    assert_string_equal(mark, "");
    refacet_mark(&api_key_kind, mark, 10); /* cut short, still a string */
    assert_int_equal(strlen(mark), 9);
}

static void test_records_get_their_facets(void **state)
{
    (void)state;
    const Supplysec__V1__Role admin = SUPPLYSEC__V1__ROLE__ROLE_ADMIN;
    put_key("a", SUPPLYSEC__V1__API_KEY__STATE__STATE_ACTIVE, admin);
    put_key("b", SUPPLYSEC__V1__API_KEY__STATE__STATE_ACTIVE, SUPPLYSEC__V1__ROLE__ROLE_VIEWER);
    put_key("c", SUPPLYSEC__V1__API_KEY__STATE__STATE_REVOKED, admin);
    const kind *sp = &security_policy_kind;
    put_policy(sp->collection, "organizations/acme/securityPolicies/p",
               SUPPLYSEC__V1__DOCUMENT_STATE__DOCUMENT_STATE_DRAFT);
    put_policy(sp->revisions_collection, "organizations/acme/securityPolicies/p@0000000001",
               SUPPLYSEC__V1__DOCUMENT_STATE__DOCUMENT_STATE_APPROVED);
    const kind *k = &api_key_kind;
    assert_int_equal(count(k, k->collection, "state = ACTIVE"), 0);

    const kind *kinds[] = {&api_key_kind, &security_policy_kind};
    size_t n = 0;
    char err[256] = "";
    if (!refacet_kinds(s, kinds, 2, false, &n, err, sizeof err))
        fail_msg("%s", err);
    assert_int_equal(n, 5);
    assert_int_equal(count(k, k->collection, "state = ACTIVE"), 2);
    assert_int_equal(count(k, k->collection, "state = REVOKED AND role = ADMIN"), 1);
    assert_int_equal(count(k, k->collection, "role = VIEWER"), 1);
    assert_int_equal(count(sp, sp->collection, "state = DRAFT"), 1);
    assert_int_equal(count(sp, sp->revisions_collection, "state = APPROVED"), 1);

    /* the same declarations again: nothing to do */
    assert_true(refacet_kinds(s, kinds, 2, false, &n, err, sizeof err));
    assert_int_equal(n, 0);

    /* a declaration that changed: that kind's records again, without role */
    kind fewer = api_key_kind;
    fewer.n_facets = 1;
    const kind *changed[] = {&fewer, &security_policy_kind};
    assert_true(refacet_kinds(s, changed, 2, false, &n, err, sizeof err));
    assert_int_equal(n, 3);
    assert_int_equal(count(k, k->collection, "role = ADMIN"), 0);
    assert_int_equal(count(k, k->collection, "state = ACTIVE"), 2);

    /* all of them, marks or not (`supplysecd refacet`) */
    assert_true(refacet_kinds(s, kinds, 2, true, &n, err, sizeof err));
    assert_int_equal(n, 5);
    assert_int_equal(count(k, k->collection, "role = ADMIN"), 2);
}

static void test_unreadable_document_stops(void **state)
{
    (void)state;
    bson_t b = BSON_INITIALIZER;
    BSON_APPEND_UTF8(&b, "apiKey", "not a message");
    put_doc(APIKEYS_COLLECTION, "organizations/acme/apiKeys/broken", "organizations/acme", &b);
    bson_destroy(&b);
    const kind *kinds[] = {&api_key_kind};
    size_t n = 0;
    char err[256] = "";
    assert_false(refacet_kinds(s, kinds, 1, false, &n, err, sizeof err));
    assert_non_null(strstr(err, "organizations/acme/apiKeys/broken"));
    char *mark = NULL; /* not marked done: the next start-up tries again */
    assert_int_equal(store_facet_mark(s, APIKEYS_COLLECTION, &mark), STORE_OK);
    assert_string_equal(mark, "");
    free(mark);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_mark),
        cmocka_unit_test_setup_teardown(test_records_get_their_facets, setup, teardown),
        cmocka_unit_test_setup_teardown(test_unreadable_document_stops, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
