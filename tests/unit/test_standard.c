/* test_standard.c — kinds (kind.h) and the standard methods on them
 * (standard.h), without gRPC, against an in-memory SQLite store.
 *
 * Two test kinds use the Organization message: `orgs`, top level, and
 * `widgets` under it (organizations/{organization}/widgets/{widget}),
 * with a validate hook, an immutable field, a before-delete hook and a
 * parent that must exist. Declarations that break a rule are refused by
 * kind_check with a sentence that says which.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kind.h"
#include "standard.h"
#include "supplysec/v1/organizations.pb-c.h"

typedef Supplysec__V1__Organization Org;

/* ---- the test kinds ---- */

static bool widget_validate(const ProtobufCMessage *res, const char *prefix, status *st)
{
    const Org *o = (const Org *)res;
    if (!o->legal_name[0])
        return status_fail(st, STATUS_INVALID_ARGUMENT, "%s.legal_name: required", prefix);
    return true;
}

static int deletes_refused; /* before_delete refuses while set */

static bool widget_before_delete(const op_ctx *op, const resource_key *key,
                                 const ProtobufCMessage *cur, int64_t version, resource_batch *b,
                                 status *st)
{
    (void)op, (void)cur, (void)version, (void)b;
    if (deletes_refused)
        return status_fail(st, STATUS_FAILED_PRECONDITION, "%s is in use", key->name);
    return true;
}

static const char *const widget_immutable[] = {"country_code", NULL};

#define ROLES(g, l, c, u, d)                                                                       \
    {                                                                                              \
        SUPPLYSEC__V1__ROLE__ROLE_##g, SUPPLYSEC__V1__ROLE__ROLE_##l,                              \
            SUPPLYSEC__V1__ROLE__ROLE_##c, SUPPLYSEC__V1__ROLE__ROLE_##u,                          \
            SUPPLYSEC__V1__ROLE__ROLE_##d                                                          \
    }

static const kind orgs_kind = {
    .type = "Organization",
    .field = "organization",
    .plural = "organizations",
    .collection = "organizations",
    .desc = &supplysec__v1__organization__descriptor,
    .min_role = ROLES(VIEWER, VIEWER, PLATFORM_ADMIN, ADMIN, PLATFORM_ADMIN),
};

static const kind widgets_kind = {
    .type = "Widget",
    .field = "widget",
    .plural = "widgets",
    .collection = "widgets",
    .parent = &orgs_kind,
    .desc = &supplysec__v1__organization__descriptor,
    .min_role = ROLES(VIEWER, VIEWER, EDITOR, EDITOR, ADMIN),
    .immutable = widget_immutable,
    .hooks = {.validate = widget_validate, .before_delete = widget_before_delete},
};

static const kind keys_like_kind = {
    /* under an organization or `platform` */
    .type = "Gadget",
    .field = "gadget",
    .plural = "gadgets",
    .collection = "gadgets",
    .parent = &orgs_kind,
    .platform_parent = true,
    .desc = &supplysec__v1__organization__descriptor,
    .min_role = ROLES(VIEWER, VIEWER, ADMIN, ADMIN, ADMIN),
};

/* ---- fixture ---- */

typedef struct fx {
    store *s;
    principal platform, acme_admin, acme_editor, acme_viewer, globex_admin;
    op_ctx op; /* op.who set per call */
} fx;

static void set_principal(principal *p, const char *name, const char *org, Supplysec__V1__Role r)
{
    memset(p, 0, sizeof *p);
    snprintf(p->name, sizeof p->name, "%s", name);
    snprintf(p->org, sizeof p->org, "%s", org);
    p->role = r;
}

static const op_ctx *as(fx *f, const principal *who, const char *method)
{
    f->op = (op_ctx){.store = f->s,
                     .who = who,
                     .method = method ? method : "/test.Widgets/Method",
                     .request_id = "test",
                     .deadline_us = INT64_MAX};
    return &f->op;
}

static ProtobufCMessage *new_org(const char *legal_name, const char *country)
{
    Org *o = malloc(sizeof *o);
    supplysec__v1__organization__init(o);
    o->legal_name = strdup(legal_name);
    o->country_code = strdup(country);
    return &o->base;
}

static int setup(void **state)
{
    fx *f = calloc(1, sizeof *f);
    char *err = NULL;
    if (store_open("sqlite::memory:", 1, &f->s, &err) != STORE_OK)
        fail_msg("store_open: %s", err ? err : "");
    set_principal(&f->platform, "platform/apiKeys/root", "",
                  SUPPLYSEC__V1__ROLE__ROLE_PLATFORM_ADMIN);
    set_principal(&f->acme_admin, "organizations/acme/apiKeys/a", "acme",
                  SUPPLYSEC__V1__ROLE__ROLE_ADMIN);
    set_principal(&f->acme_editor, "organizations/acme/apiKeys/e", "acme",
                  SUPPLYSEC__V1__ROLE__ROLE_EDITOR);
    set_principal(&f->acme_viewer, "organizations/acme/apiKeys/v", "acme",
                  SUPPLYSEC__V1__ROLE__ROLE_VIEWER);
    set_principal(&f->globex_admin, "organizations/globex/apiKeys/a", "globex",
                  SUPPLYSEC__V1__ROLE__ROLE_ADMIN);
    status st = {0};
    for (int i = 0; i < 2; i++) {
        ProtobufCMessage *o = new_org(i ? "Globex" : "Acme", "DE");
        ProtobufCMessage *got =
            std_create(as(f, &f->platform, NULL), &orgs_kind, "", i ? "globex" : "acme", &o, &st);
        if (!got)
            fail_msg("create org: %s", st.msg);
        protobuf_c_message_free_unpacked(got, NULL);
    }
    deletes_refused = 0;
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    fx *f = *state;
    store_close(f->s);
    free(f);
    return 0;
}

static Org *create_widget(fx *f, const principal *who, const char *parent, const char *id,
                          const char *legal_name, status *st)
{
    ProtobufCMessage *w = new_org(legal_name, "DE");
    memset(st, 0, sizeof *st);
    return (Org *)std_create(as(f, who, NULL), &widgets_kind, parent, id, &w, st);
}

static void free_org(Org *o)
{
    if (o)
        protobuf_c_message_free_unpacked(&o->base, NULL);
}

/* ---- declarations ---- */

static void test_kind_check_accepts_and_refuses(void **state)
{
    (void)state;
    char err[256];
    const kind *all[] = {&orgs_kind, &widgets_kind, &keys_like_kind};
    assert_true(kind_check_all(all, 3, err, sizeof err));

    kind bad = widgets_kind;
    bad.desc = &supplysec__v1__identifiers__descriptor; /* no name, etag, times */
    assert_false(kind_check(&bad, err, sizeof err));
    assert_non_null(strstr(err, "AIP fields"));

    bad = widgets_kind;
    bad.immutable = (const char *const[]){"colour", NULL};
    assert_false(kind_check(&bad, err, sizeof err));
    assert_non_null(strstr(err, "\"colour\" is not a field"));

    bad = widgets_kind;
    bad.plural = "wid/gets";
    assert_false(kind_check(&bad, err, sizeof err));

    bad = orgs_kind;
    bad.platform_parent = true;
    assert_false(kind_check(&bad, err, sizeof err));
    assert_non_null(strstr(err, "child kind"));

    kind twin = widgets_kind;
    twin.type = "Twin";
    twin.collection = "twins";
    const kind *dup[] = {&orgs_kind, &widgets_kind, &twin};
    assert_false(kind_check_all(dup, 3, err, sizeof err));
    assert_non_null(strstr(err, "same name pattern"));
    twin.plural = "twins";
    twin.collection = "widgets";
    assert_false(kind_check_all(dup, 3, err, sizeof err));
    assert_non_null(strstr(err, "share the collection"));

    /* a chain longer than KIND_DEPTH_MAX */
    kind chain[KIND_DEPTH_MAX + 1];
    for (int i = 0; i <= KIND_DEPTH_MAX; i++) {
        chain[i] = widgets_kind;
        chain[i].parent = i ? &chain[i - 1] : NULL;
    }
    assert_false(kind_check(&chain[KIND_DEPTH_MAX], err, sizeof err));
    assert_true(kind_check(&chain[KIND_DEPTH_MAX - 1], err, sizeof err));
}

static void test_names_follow_the_chain(void **state)
{
    (void)state;
    char pat[256];
    kind_pattern(&widgets_kind, pat, sizeof pat);
    assert_string_equal(pat, "organizations/{organization}/widgets/{widget}");

    resource_key key;
    status st = {0};
    assert_true(
        kind_parse_name(&widgets_kind, "name", "organizations/acme/widgets/w-1", &key, &st));
    assert_string_equal(key.org, "acme");
    assert_string_equal(key.parent, "organizations/acme");
    assert_string_equal(key.id, "w-1");
    assert_int_equal(key.depth, 2);

    assert_true(kind_parse_name(&orgs_kind, "name", "organizations/acme", &key, &st));
    assert_string_equal(key.org, "acme");
    assert_string_equal(key.parent, "");

    const char *bad[] = {"",
                         "organizations/acme",
                         "organizations/acme/widgets",
                         "organizations/acme/widgets/",
                         "organizations/acme/widgets/w1/x",
                         "organizations/acme/gadgets/w1",
                         "organisations/acme/widgets/w1",
                         "organizations/Acme/widgets/w1",
                         "organizations//widgets/w1",
                         "platform/widgets/w1"};
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        memset(&st, 0, sizeof st);
        assert_false(kind_parse_name(&widgets_kind, "widget.name", bad[i], &key, &st));
        assert_int_equal(st.code, STATUS_INVALID_ARGUMENT);
        assert_memory_equal(st.msg, "widget.name: ", 13);
    }
    memset(&st, 0, sizeof st);
    kind_parse_name(&widgets_kind, "name", "organizations/acme/widgets/x", &key, &st);
    assert_non_null(strstr(st.msg, "expected organizations/{organization}/widgets/{widget}")
                        ? st.msg
                        : strstr(st.msg, "3 to 63"));

    /* `platform` where the kind allows it */
    assert_true(kind_parse_name(&keys_like_kind, "name", "platform/gadgets/g-1", &key, &st));
    assert_string_equal(key.org, "");
    assert_string_equal(key.parent, "platform");
    assert_true(kind_parse_parent(&keys_like_kind, "parent", "platform", &key, &st));
    assert_true(kind_parse_parent(&keys_like_kind, "parent", "organizations/acme", &key, &st));
    assert_string_equal(key.org, "acme");
    assert_false(kind_parse_parent(&keys_like_kind, "parent", "platform/x", &key, &st));
    /* `platform` alone is a parent, not a name: refused with a status (found by fuzz_handlers:
     * RevokeApiKey answered nothing with OK) */
    st = (status){0};
    assert_false(kind_parse_name(&keys_like_kind, "name", "platform", &key, &st));
    assert_int_equal(st.code, STATUS_INVALID_ARGUMENT);
    st = (status){0};
    assert_false(kind_parse_name(&keys_like_kind, "name", "platform/", &key, &st));
    assert_int_equal(st.code, STATUS_INVALID_ARGUMENT);
    assert_false(kind_parse_parent(&widgets_kind, "parent", "platform", &key, &st));
    assert_true(kind_parse_parent(&orgs_kind, "parent", "", &key, &st));
    assert_false(kind_parse_parent(&orgs_kind, "parent", "organizations/acme", &key, &st));
}

/* ---- the standard methods ---- */

static void test_create_get(void **state)
{
    fx *f = *state;
    status st;
    Org *w = create_widget(f, &f->acme_editor, "organizations/acme", "w-one", "One", &st);
    assert_non_null(w);
    assert_string_equal(w->name, "organizations/acme/widgets/w-one");
    assert_non_null(w->create_time);
    assert_true(w->etag[0]);
    free_org(w);

    /* generated id */
    w = create_widget(f, &f->acme_editor, "organizations/acme", "", "Two", &st);
    assert_non_null(w);
    assert_memory_equal(w->name, "organizations/acme/widgets/", 27);
    free_org(w);

    /* taken */
    assert_null(create_widget(f, &f->acme_editor, "organizations/acme", "w-one", "Again", &st));
    assert_int_equal(st.code, STATUS_ALREADY_EXISTS);

    /* output-only fields a client sent are not kept */
    ProtobufCMessage *m = new_org("Three", "DE");
    ((Org *)m)->etag = strdup("forged");
    ((Org *)m)->name = strdup("organizations/globex/widgets/stolen");
    w = (Org *)std_create(as(f, &f->acme_editor, NULL), &widgets_kind, "organizations/acme",
                          "w-three", &m, &st);
    assert_null(m); /* taken */
    assert_non_null(w);
    assert_string_equal(w->name, "organizations/acme/widgets/w-three");
    assert_string_not_equal(w->etag, "forged");
    free_org(w);

    w = (Org *)std_get(as(f, &f->acme_viewer, NULL), &widgets_kind,
                       "organizations/acme/widgets/w-one", &st);
    assert_non_null(w);
    assert_string_equal(w->legal_name, "One");
    free_org(w);
}

static void test_create_refusals(void **state)
{
    fx *f = *state;
    status st;
    assert_null(create_widget(f, &f->acme_viewer, "organizations/acme", "w-x", "X", &st));
    assert_int_equal(st.code, STATUS_PERMISSION_DENIED);
    assert_null(create_widget(f, &f->acme_editor, "organizations/acme", "W!", "X", &st));
    assert_int_equal(st.code, STATUS_INVALID_ARGUMENT);
    assert_memory_equal(st.msg, "widget_id: ", 11);
    assert_null(create_widget(f, &f->acme_editor, "organizations/acme", "w-x", "", &st));
    assert_int_equal(st.code, STATUS_INVALID_ARGUMENT);
    assert_string_equal(st.msg, "widget.legal_name: required");
    assert_null(create_widget(f, &f->acme_editor, "acme", "w-x", "X", &st));
    assert_int_equal(st.code, STATUS_INVALID_ARGUMENT);
    assert_memory_equal(st.msg, "parent: expected organizations/{organization}", 45);
    ProtobufCMessage *none = NULL;
    assert_null(std_create(as(f, &f->acme_editor, NULL), &widgets_kind, "organizations/acme", "w-x",
                           &none, &st));
    assert_string_equal(st.msg, "widget: required");

    /* another tenant's parent: NOT_FOUND, as for a parent that does not exist */
    status other, missing;
    assert_null(create_widget(f, &f->globex_admin, "organizations/acme", "w-x", "X", &other));
    assert_int_equal(other.code, STATUS_NOT_FOUND);
    set_principal(&f->globex_admin, "organizations/ghost/apiKeys/a", "ghost",
                  SUPPLYSEC__V1__ROLE__ROLE_ADMIN);
    /* a member of an organization that is gone: its parent is not found
     * when the write commits (the guard) */
    assert_null(create_widget(f, &f->globex_admin, "organizations/ghost", "w-x", "X", &missing));
    assert_int_equal(missing.code, STATUS_NOT_FOUND);
    assert_non_null(strstr(missing.msg, "organizations/ghost"));
}

static void test_other_tenant_sees_nothing(void **state)
{
    fx *f = *state;
    status st;
    free_org(create_widget(f, &f->acme_editor, "organizations/acme", "w-one", "One", &st));
    status exists = {0}, absent = {0};
    assert_null(std_get(as(f, &f->globex_admin, NULL), &widgets_kind,
                        "organizations/acme/widgets/w-one", &exists));
    assert_null(std_get(as(f, &f->globex_admin, NULL), &widgets_kind,
                        "organizations/acme/widgets/w-none", &absent));
    assert_int_equal(exists.code, STATUS_NOT_FOUND);
    assert_int_equal(absent.code, STATUS_NOT_FOUND);
    /* the same words but for the name asked about */
    assert_string_equal(exists.msg, "organizations/acme/widgets/w-one not found");
    assert_string_equal(absent.msg, "organizations/acme/widgets/w-none not found");

    Org patch;
    supplysec__v1__organization__init(&patch);
    patch.name = "organizations/acme/widgets/w-one";
    patch.legal_name = "Stolen";
    assert_null(
        std_update(as(f, &f->globex_admin, NULL), &widgets_kind, &patch.base, NULL, 0, false, &st));
    assert_int_equal(st.code, STATUS_NOT_FOUND);
    assert_false(std_delete(as(f, &f->globex_admin, NULL), &widgets_kind,
                            "organizations/acme/widgets/w-one", "", &st));
    assert_int_equal(st.code, STATUS_NOT_FOUND);
    resource_page page;
    std_list_req lr = {.parent = "organizations/acme"};
    assert_false(std_list(as(f, &f->globex_admin, NULL), &widgets_kind, &lr, &page, &st));
    assert_int_equal(st.code, STATUS_NOT_FOUND);
}

static void test_update(void **state)
{
    fx *f = *state;
    status st;
    Org *w = create_widget(f, &f->acme_editor, "organizations/acme", "w-one", "One", &st);
    char etag[64];
    snprintf(etag, sizeof etag, "%s", w->etag);
    free_org(w);

    Org patch;
    supplysec__v1__organization__init(&patch);
    patch.name = "organizations/acme/widgets/w-one";
    patch.legal_name = "One, renamed";
    patch.country_code = "FR"; /* outside the mask: ignored */
    char *mask[] = {"legal_name"};
    patch.etag = etag;
    w = (Org *)std_update(as(f, &f->acme_editor, NULL), &widgets_kind, &patch.base, mask, 1, true,
                          &st);
    assert_non_null(w);
    assert_string_equal(w->legal_name, "One, renamed");
    assert_string_equal(w->country_code, "DE");
    assert_string_not_equal(w->etag, etag);
    free_org(w);

    /* the etag is stale now: ABORTED, nothing changed */
    patch.legal_name = "Lost";
    assert_null(
        std_update(as(f, &f->acme_editor, NULL), &widgets_kind, &patch.base, mask, 1, true, &st));
    assert_int_equal(st.code, STATUS_ABORTED);
    w = (Org *)std_get(as(f, &f->acme_viewer, NULL), &widgets_kind, patch.name, &st);
    assert_string_equal(w->legal_name, "One, renamed");
    free_org(w);

    /* an immutable field may keep its value, never change it */
    patch.etag = "";
    char *mask_cc[] = {"country_code"};
    patch.country_code = "DE";
    w = (Org *)std_update(as(f, &f->acme_editor, NULL), &widgets_kind, &patch.base, mask_cc, 1,
                          true, &st);
    assert_non_null(w);
    free_org(w);
    patch.country_code = "FR";
    assert_null(std_update(as(f, &f->acme_editor, NULL), &widgets_kind, &patch.base, mask_cc, 1,
                           true, &st));
    assert_int_equal(st.code, STATUS_INVALID_ARGUMENT);
    assert_memory_equal(st.msg, "widget.country_code: ", 21);
    char *star[] = {"*"};
    patch.legal_name = "Star";
    assert_null(
        std_update(as(f, &f->acme_editor, NULL), &widgets_kind, &patch.base, star, 1, true, &st));
    assert_int_equal(st.code, STATUS_INVALID_ARGUMENT);

    /* the kind's rules hold after the mask is applied */
    patch.legal_name = "";
    assert_null(
        std_update(as(f, &f->acme_editor, NULL), &widgets_kind, &patch.base, mask, 1, true, &st));
    assert_string_equal(st.msg, "widget.legal_name: required");

    /* no mask: the populated fields (country_code is populated: refused) */
    patch.legal_name = "Implied";
    patch.country_code = "";
    w = (Org *)std_update(as(f, &f->acme_editor, NULL), &widgets_kind, &patch.base, NULL, 0, false,
                          &st);
    assert_non_null(w);
    assert_string_equal(w->legal_name, "Implied");
    assert_string_equal(w->country_code, "DE");
    free_org(w);

    /* a viewer may not; a bad mask names update_mask */
    assert_null(
        std_update(as(f, &f->acme_viewer, NULL), &widgets_kind, &patch.base, mask, 1, true, &st));
    assert_int_equal(st.code, STATUS_PERMISSION_DENIED);
    char *bad_mask[] = {"colour"};
    assert_null(std_update(as(f, &f->acme_editor, NULL), &widgets_kind, &patch.base, bad_mask, 1,
                           true, &st));
    assert_int_equal(st.code, STATUS_INVALID_ARGUMENT);
    assert_non_null(strstr(st.msg, "update_mask"));
}

static void test_delete(void **state)
{
    fx *f = *state;
    status st;
    Org *w = create_widget(f, &f->acme_editor, "organizations/acme", "w-one", "One", &st);
    char etag[64];
    snprintf(etag, sizeof etag, "%s", w->etag);
    free_org(w);
    const char *name = "organizations/acme/widgets/w-one";

    assert_false(std_delete(as(f, &f->acme_editor, NULL), &widgets_kind, name, "", &st));
    assert_int_equal(st.code, STATUS_PERMISSION_DENIED);
    assert_false(std_delete(as(f, &f->acme_admin, NULL), &widgets_kind, name, "0123", &st));
    assert_int_equal(st.code, STATUS_ABORTED);
    deletes_refused = 1;
    assert_false(std_delete(as(f, &f->acme_admin, NULL), &widgets_kind, name, etag, &st));
    assert_int_equal(st.code, STATUS_FAILED_PRECONDITION);
    deletes_refused = 0;
    w = (Org *)std_get(as(f, &f->acme_viewer, NULL), &widgets_kind, name, &st);
    assert_non_null(w); /* still there */
    free_org(w);
    assert_true(std_delete(as(f, &f->acme_admin, NULL), &widgets_kind, name, etag, &st));
    assert_null(std_get(as(f, &f->acme_viewer, NULL), &widgets_kind, name, &st));
    assert_int_equal(st.code, STATUS_NOT_FOUND);
    assert_false(std_delete(as(f, &f->acme_admin, NULL), &widgets_kind, name, "", &st));
    assert_int_equal(st.code, STATUS_NOT_FOUND);
}

static void test_list_pages_and_tokens(void **state)
{
    fx *f = *state;
    status st;
    for (int i = 0; i < 5; i++) {
        char id[16];
        snprintf(id, sizeof id, "w-%d", i);
        free_org(create_widget(f, &f->acme_editor, "organizations/acme", id, "W", &st));
    }
    free_org(create_widget(f, &f->globex_admin, "organizations/globex", "w-g", "G", &st));

    char token[512] = "", seen[8][64];
    size_t n_seen = 0;
    for (int pageno = 0; pageno < 3; pageno++) {
        resource_page page;
        std_list_req lr = {.parent = "organizations/acme", .page_size = 2, .page_token = token};
        assert_true(
            std_list(as(f, &f->acme_viewer, "/t/ListWidgets"), &widgets_kind, &lr, &page, &st));
        for (size_t i = 0; i < page.count; i++)
            snprintf(seen[n_seen++], sizeof seen[0], "%s", ((Org *)page.items[i])->name);
        snprintf(token, sizeof token, "%s", page.next_page_token);
        resource_page_free(&page);
        if (pageno < 2)
            assert_true(token[0]);
    }
    assert_false(token[0]); /* the last page says so */
    assert_int_equal(n_seen, 5);
    for (size_t i = 0; i < 5; i++) {
        char want[64];
        snprintf(want, sizeof want, "organizations/acme/widgets/w-%zu", i);
        assert_string_equal(seen[i], want); /* ordered, none lost or repeated */
    }

    /* a token works only on the list it came from */
    resource_page page;
    std_list_req lr = {.parent = "organizations/acme", .page_size = 2};
    assert_true(std_list(as(f, &f->acme_viewer, "/t/ListWidgets"), &widgets_kind, &lr, &page, &st));
    snprintf(token, sizeof token, "%s", page.next_page_token);
    resource_page_free(&page);
    std_list_req other_method = {
        .parent = "organizations/acme", .page_size = 2, .page_token = token};
    assert_false(
        std_list(as(f, &f->acme_viewer, "/t/ListOther"), &widgets_kind, &other_method, &page, &st));
    assert_int_equal(st.code, STATUS_INVALID_ARGUMENT);
    std_list_req other_parent = {
        .parent = "organizations/globex", .page_size = 2, .page_token = token};
    assert_false(
        std_list(as(f, &f->platform, "/t/ListWidgets"), &widgets_kind, &other_parent, &page, &st));
    assert_int_equal(st.code, STATUS_INVALID_ARGUMENT);
    /* the same list asked by another caller's organization */
    std_list_req same = {.parent = "organizations/acme", .page_size = 2, .page_token = token};
    assert_false(std_list(as(f, &f->platform, "/t/ListWidgets"), &widgets_kind, &same, &page, &st));
    assert_int_equal(st.code, STATUS_INVALID_ARGUMENT);

    /* no filterable fields yet: a filter is refused, naming it */
    std_list_req filtered = {.parent = "organizations/acme", .filter = "legal_name = \"W\""};
    assert_false(std_list(as(f, &f->acme_viewer, NULL), &widgets_kind, &filtered, &page, &st));
    assert_int_equal(st.code, STATUS_INVALID_ARGUMENT);
    assert_memory_equal(st.msg, "filter: ", 8);
}

static void test_top_level_list_is_the_callers_own(void **state)
{
    fx *f = *state;
    status st;
    resource_page page;
    std_list_req lr = {.parent = ""};
    assert_true(std_list(as(f, &f->acme_viewer, NULL), &orgs_kind, &lr, &page, &st));
    assert_int_equal(page.count, 1);
    assert_string_equal(((Org *)page.items[0])->name, "organizations/acme");
    resource_page_free(&page);
    assert_true(std_list(as(f, &f->platform, NULL), &orgs_kind, &lr, &page, &st));
    assert_int_equal(page.count, 2);
    resource_page_free(&page);

    /* creating an organization is for platform administrators */
    ProtobufCMessage *o = new_org("Initech", "US");
    assert_null(std_create(as(f, &f->acme_admin, NULL), &orgs_kind, "", "initech", &o, &st));
    assert_int_equal(st.code, STATUS_PERMISSION_DENIED);
    assert_string_equal(st.msg, "only platform administrators create organizations");
    o = new_org("Acme again", "US");
    assert_null(std_create(as(f, &f->acme_admin, NULL), &orgs_kind, "", "acme", &o, &st));
    assert_int_equal(st.code, STATUS_PERMISSION_DENIED);
}

static void test_platform_parent_is_for_platform_admins(void **state)
{
    fx *f = *state;
    status st;
    ProtobufCMessage *g = new_org("G", "DE");
    Org *got =
        (Org *)std_create(as(f, &f->platform, NULL), &keys_like_kind, "platform", "g-one", &g, &st);
    assert_non_null(got);
    assert_string_equal(got->name, "platform/gadgets/g-one");
    free_org(got);
    assert_null(
        std_get(as(f, &f->acme_admin, NULL), &keys_like_kind, "platform/gadgets/g-one", &st));
    assert_int_equal(st.code, STATUS_NOT_FOUND);
    got = (Org *)std_get(as(f, &f->platform, NULL), &keys_like_kind, "platform/gadgets/g-one", &st);
    assert_non_null(got);
    free_org(got);
    /* `platform` is documented: creating and listing under it is refused by role */
    g = new_org("G", "DE");
    assert_null(
        std_create(as(f, &f->acme_admin, NULL), &keys_like_kind, "platform", "g-two", &g, &st));
    assert_int_equal(st.code, STATUS_PERMISSION_DENIED);
    assert_string_equal(st.msg,
                        "parent: only platform administrators create gadgets under platform");
    resource_page page;
    std_list_req lr = {.parent = "platform"};
    assert_false(std_list(as(f, &f->acme_admin, "ListGadgets"), &keys_like_kind, &lr, &page, &st));
    assert_int_equal(st.code, STATUS_PERMISSION_DENIED);
    assert_string_equal(st.msg, "parent: only platform administrators list gadgets under platform");
    assert_true(std_list(as(f, &f->platform, "ListGadgets"), &keys_like_kind, &lr, &page, &st));
    assert_int_equal(page.count, 1);
    resource_page_free(&page);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_kind_check_accepts_and_refuses),
        cmocka_unit_test(test_names_follow_the_chain),
        cmocka_unit_test_setup_teardown(test_create_get, setup, teardown),
        cmocka_unit_test_setup_teardown(test_create_refusals, setup, teardown),
        cmocka_unit_test_setup_teardown(test_other_tenant_sees_nothing, setup, teardown),
        cmocka_unit_test_setup_teardown(test_update, setup, teardown),
        cmocka_unit_test_setup_teardown(test_delete, setup, teardown),
        cmocka_unit_test_setup_teardown(test_list_pages_and_tokens, setup, teardown),
        cmocka_unit_test_setup_teardown(test_top_level_list_is_the_callers_own, setup, teardown),
        cmocka_unit_test_setup_teardown(test_platform_parent_is_for_platform_admins, setup,
                                        teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
