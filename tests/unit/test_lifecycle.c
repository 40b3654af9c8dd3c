/* test_lifecycle.c — the controlled-document lifecycle (lifecycle.h) on the
 * SecurityPolicy kind, without gRPC, against an in-memory SQLite store:
 * every move from every state (legal ones land in the state the machine
 * says, illegal ones are FAILED_PRECONDITION naming the state and what it
 * allows, and change nothing), the roles per move, approval keeping
 * revisions and superseding the previous one in one write, the checks the
 * standard methods make (only a DRAFT changes, an approved document is not
 * deleted), and revision names. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lifecycle.h"
#include "organization.h"
#include "security_policy.h"
#include "standard.h"

typedef Supplysec__V1__SecurityPolicy Policy;

#define DRAFT SUPPLYSEC__V1__DOCUMENT_STATE__DOCUMENT_STATE_DRAFT
#define IN_REVIEW SUPPLYSEC__V1__DOCUMENT_STATE__DOCUMENT_STATE_IN_REVIEW
#define APPROVED SUPPLYSEC__V1__DOCUMENT_STATE__DOCUMENT_STATE_APPROVED
#define SUPERSEDED SUPPLYSEC__V1__DOCUMENT_STATE__DOCUMENT_STATE_SUPERSEDED

#define DOC "organizations/acme/securityPolicies/main"

typedef struct fx {
    store *s;
    principal platform, admin, editor, viewer;
    op_ctx op;
} fx;

static void set_principal(principal *p, const char *name, const char *org, Supplysec__V1__Role r)
{
    memset(p, 0, sizeof *p);
    snprintf(p->name, sizeof p->name, "%s", name);
    snprintf(p->org, sizeof p->org, "%s", org);
    p->role = r;
}

static const op_ctx *as(fx *f, const principal *who)
{
    f->op = (op_ctx){.store = f->s,
                     .who = who,
                     .method = "/test.Policies/Method",
                     .request_id = "test",
                     .deadline_us = INT64_MAX};
    return &f->op;
}

static Policy *new_policy(bool signed_off)
{
    Policy *p = malloc(sizeof *p);
    supplysec__v1__security_policy__init(p);
    p->title = strdup("Policy");
    p->text = strdup("We protect the cargo.");
    if (signed_off) {
        p->sign_off = malloc(sizeof *p->sign_off);
        supplysec__v1__sign_off__init(p->sign_off);
        p->sign_off->signatory_name = strdup("A. Chief");
        p->sign_off->signatory_role = strdup("Managing Director");
        p->sign_off->sign_time = malloc(sizeof *p->sign_off->sign_time);
        google__protobuf__timestamp__init(p->sign_off->sign_time);
        p->sign_off->sign_time->seconds = 1790000000;
    }
    return p;
}

static void free_policy(Policy *p)
{
    if (p)
        protobuf_c_message_free_unpacked(&p->base, NULL);
}

static Policy *get(fx *f, const char *name)
{
    status st = {0};
    Policy *p = (Policy *)std_get(as(f, &f->viewer), &security_policy_kind, name, &st);
    if (!p)
        fail_msg("get %s: %s", name, st.msg);
    return p;
}

static Supplysec__V1__DocumentState state_now(fx *f)
{
    Policy *p = get(f, DOC);
    Supplysec__V1__DocumentState s = p->state;
    free_policy(p);
    return s;
}

/* The role each move needs (lifecycle.h). */
static const principal *mover(fx *f, doc_move m)
{
    return m == DOC_APPROVE || m == DOC_REJECT ? &f->admin : &f->editor;
}

static Policy *move(fx *f, doc_move m, status *st)
{
    memset(st, 0, sizeof *st);
    return (Policy *)lifecycle_move(as(f, mover(f, m)), &security_policy_kind, m, DOC, "",
                                    m == DOC_REJECT ? "not yet" : "", st);
}

static void move_ok(fx *f, doc_move m)
{
    status st;
    Policy *p = move(f, m, &st);
    if (!p)
        fail_msg("move %d: %s", (int)m, st.msg);
    free_policy(p);
}

static int setup(void **state)
{
    fx *f = calloc(1, sizeof *f);
    char *err = NULL;
    if (store_open("sqlite::memory:", 1, &f->s, &err) != STORE_OK)
        fail_msg("store_open: %s", err ? err : "");
    set_principal(&f->platform, "platform/apiKeys/root", "",
                  SUPPLYSEC__V1__ROLE__ROLE_PLATFORM_ADMIN);
    set_principal(&f->admin, "organizations/acme/apiKeys/a", "acme",
                  SUPPLYSEC__V1__ROLE__ROLE_ADMIN);
    set_principal(&f->editor, "organizations/acme/apiKeys/e", "acme",
                  SUPPLYSEC__V1__ROLE__ROLE_EDITOR);
    set_principal(&f->viewer, "organizations/acme/apiKeys/v", "acme",
                  SUPPLYSEC__V1__ROLE__ROLE_VIEWER);
    status st = {0};
    Supplysec__V1__Organization *o = malloc(sizeof *o);
    supplysec__v1__organization__init(o);
    o->legal_name = strdup("Acme");
    o->country_code = strdup("DE");
    o->kind = SUPPLYSEC__V1__ORGANIZATION_KIND__ORGANIZATION_KIND_OPERATOR;
    ProtobufCMessage *om = &o->base;
    ProtobufCMessage *got =
        std_create(as(f, &f->platform), &organization_kind, "", "acme", &om, &st);
    if (!got)
        fail_msg("create org: %s", st.msg);
    protobuf_c_message_free_unpacked(got, NULL);
    ProtobufCMessage *pm = &new_policy(true)->base;
    got = std_create(as(f, &f->editor), &security_policy_kind, "organizations/acme", "main", &pm,
                     &st);
    if (!got)
        fail_msg("create policy: %s", st.msg);
    protobuf_c_message_free_unpacked(got, NULL);
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

static const char *const move_names[] = {"SubmitForReview", "Approve", "Reject", "CreateRevision"};

/* From each state, each move: the legal ones land where the machine says;
 * the others are refused naming the state and change nothing. */
static void test_every_move_from_every_state(void **state)
{
    fx *f = *state;
    /* the way to each state from a fresh DRAFT, and where each move leads */
    static const struct {
        Supplysec__V1__DocumentState s;
        int to[DOC_MOVES]; /* -1: refused */
    } table[] = {
        {DRAFT, {IN_REVIEW, -1, -1, -1}},
        {IN_REVIEW, {-1, APPROVED, DRAFT, -1}},
        {APPROVED, {-1, -1, -1, DRAFT}},
    };
    for (size_t i = 0; i < sizeof table / sizeof *table; i++) {
        for (int m = 0; m < DOC_MOVES; m++) {
            teardown(state);
            setup(state);
            f = *state;
            if (table[i].s != DRAFT)
                move_ok(f, DOC_SUBMIT);
            if (table[i].s == APPROVED)
                move_ok(f, DOC_APPROVE);
            assert_int_equal(state_now(f), table[i].s);
            Policy *before = get(f, DOC);
            status st;
            Policy *p = move(f, (doc_move)m, &st);
            if (table[i].to[m] < 0) {
                assert_null(p);
                assert_int_equal(st.code, STATUS_FAILED_PRECONDITION);
                char want[64];
                snprintf(want, sizeof want, "is %s",
                         table[i].s == DRAFT       ? "DRAFT"
                         : table[i].s == IN_REVIEW ? "IN_REVIEW"
                                                   : "APPROVED");
                if (!strstr(st.msg, want) || !strstr(st.msg, move_names[m]))
                    fail_msg("%s from state %d: %s", move_names[m], table[i].s, st.msg);
                Policy *after = get(f, DOC);
                assert_string_equal(after->etag, before->etag); /* nothing changed */
                free_policy(after);
            } else {
                if (!p)
                    fail_msg("%s from state %d: %s", move_names[m], table[i].s, st.msg);
                assert_int_equal(p->state, table[i].to[m]);
                assert_int_equal(state_now(f), table[i].to[m]);
                assert_string_not_equal(p->etag, before->etag);
            }
            free_policy(p);
            free_policy(before);
        }
    }
}

static void test_roles_per_move(void **state)
{
    fx *f = *state;
    status st = {0};
    assert_null(
        lifecycle_move(as(f, &f->viewer), &security_policy_kind, DOC_SUBMIT, DOC, "", "", &st));
    assert_int_equal(st.code, STATUS_PERMISSION_DENIED);
    move_ok(f, DOC_SUBMIT);
    memset(&st, 0, sizeof st);
    assert_null(
        lifecycle_move(as(f, &f->editor), &security_policy_kind, DOC_APPROVE, DOC, "", "", &st));
    assert_int_equal(st.code, STATUS_PERMISSION_DENIED);
    assert_null(
        lifecycle_move(as(f, &f->editor), &security_policy_kind, DOC_REJECT, DOC, "", "no", &st));
    assert_int_equal(st.code, STATUS_PERMISSION_DENIED);
    /* another tenant's document: NOT_FOUND, as one that does not exist */
    principal other;
    set_principal(&other, "organizations/globex/apiKeys/a", "globex",
                  SUPPLYSEC__V1__ROLE__ROLE_ADMIN);
    assert_null(
        lifecycle_move(as(f, &other), &security_policy_kind, DOC_APPROVE, DOC, "", "", &st));
    assert_int_equal(st.code, STATUS_NOT_FOUND);
    assert_string_equal(st.msg, DOC " not found");
    /* a reason is required to reject */
    assert_null(
        lifecycle_move(as(f, &f->admin), &security_policy_kind, DOC_REJECT, DOC, "", "", &st));
    assert_int_equal(st.code, STATUS_INVALID_ARGUMENT);
    assert_memory_equal(st.msg, "reason: ", 8);
}

static void test_approval_keeps_revisions_and_supersedes(void **state)
{
    fx *f = *state;
    move_ok(f, DOC_SUBMIT);
    move_ok(f, DOC_APPROVE);
    Policy *r1 = get(f, DOC "@1");
    assert_string_equal(r1->name, DOC "@1");
    assert_int_equal(r1->state, APPROVED);
    assert_string_equal(r1->control->approver, "organizations/acme/apiKeys/a");
    free_policy(r1);
    move_ok(f, DOC_REVISE);
    Policy *d = get(f, DOC);
    assert_string_equal(d->revision_id, "2");
    assert_int_equal(d->state, DRAFT);
    assert_null(d->control); /* a new revision starts with a clean record */
    free_policy(d);
    status st = {0};
    assert_null(std_get(as(f, &f->viewer), &security_policy_kind, DOC "@2", &st));
    assert_int_equal(st.code, STATUS_NOT_FOUND); /* not approved yet */
    assert_string_equal(st.msg, DOC "@2 not found");
    move_ok(f, DOC_SUBMIT);
    move_ok(f, DOC_APPROVE);
    r1 = get(f, DOC "@1");
    assert_int_equal(r1->state, SUPERSEDED);
    assert_non_null(r1->control->supersede_time);
    Policy *r2 = get(f, DOC "@2");
    assert_int_equal(r2->state, APPROVED);
    assert_int_equal(r2->create_time->seconds, r1->create_time->seconds); /* the document's */
    assert_int_equal(r2->create_time->nanos, r1->create_time->nanos);
    free_policy(r1);
    free_policy(r2);

    resource_page page;
    assert_true(
        lifecycle_list_revisions(as(f, &f->viewer), &security_policy_kind, DOC, 1, "", &page, &st));
    assert_int_equal(page.count, 1);
    assert_string_equal(((Policy *)page.items[0])->name, DOC "@1");
    char token[512];
    snprintf(token, sizeof token, "%s", page.next_page_token);
    resource_page_free(&page);
    assert_true(lifecycle_list_revisions(as(f, &f->viewer), &security_policy_kind, DOC, 1, token,
                                         &page, &st));
    assert_int_equal(page.count, 1);
    assert_string_equal(((Policy *)page.items[0])->name, DOC "@2");
    resource_page_free(&page);
}

static void test_approval_needs_sign_off_and_writes_nothing_else(void **state)
{
    fx *f = *state;
    status st = {0};
    ProtobufCMessage *pm = &new_policy(false)->base;
    Policy *p = (Policy *)std_create(as(f, &f->editor), &security_policy_kind, "organizations/acme",
                                     "unsigned", &pm, &st);
    assert_non_null(p);
    free_policy(p);
    const char *name = "organizations/acme/securityPolicies/unsigned";
    free_policy((Policy *)lifecycle_move(as(f, &f->editor), &security_policy_kind, DOC_SUBMIT, name,
                                         "", "", &st));
    assert_null(
        lifecycle_move(as(f, &f->admin), &security_policy_kind, DOC_APPROVE, name, "", "", &st));
    assert_int_equal(st.code, STATUS_FAILED_PRECONDITION);
    assert_non_null(strstr(st.msg, "sign-off"));
    p = get(f, name);
    assert_int_equal(p->state, IN_REVIEW);
    free_policy(p);
    assert_null(std_get(as(f, &f->viewer), &security_policy_kind,
                        "organizations/acme/securityPolicies/unsigned@1", &st));
    assert_int_equal(st.code, STATUS_NOT_FOUND);
}

static void test_standard_methods_keep_the_rules(void **state)
{
    fx *f = *state;
    status st = {0};
    Policy patch;
    supplysec__v1__security_policy__init(&patch);
    patch.name = DOC;
    patch.title = "Edited";
    char *mask[] = {"title"};
    move_ok(f, DOC_SUBMIT);
    assert_null(
        std_update(as(f, &f->editor), &security_policy_kind, &patch.base, mask, 1, true, &st));
    assert_int_equal(st.code, STATUS_FAILED_PRECONDITION);
    assert_non_null(strstr(st.msg, "only a DRAFT changes"));
    move_ok(f, DOC_APPROVE);
    assert_false(std_delete(as(f, &f->admin), &security_policy_kind, DOC, "", &st));
    assert_int_equal(st.code, STATUS_FAILED_PRECONDITION);
    /* revisions are read only, and their names are checked */
    patch.name = DOC "@1";
    assert_null(
        std_update(as(f, &f->editor), &security_policy_kind, &patch.base, mask, 1, true, &st));
    assert_int_equal(st.code, STATUS_INVALID_ARGUMENT);
    assert_non_null(strstr(st.msg, "read only"));
    const char *bad[] = {DOC "@0", DOC "@01", DOC "@", DOC "@x", DOC "@1234567890", DOC "@1@1"};
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        memset(&st, 0, sizeof st);
        assert_null(std_get(as(f, &f->viewer), &security_policy_kind, bad[i], &st));
        if (st.code != STATUS_INVALID_ARGUMENT)
            fail_msg("%s: %d %s", bad[i], st.code, st.msg);
    }
    /* a plain kind has no revisions: '@' is just not a name */
    assert_null(std_get(as(f, &f->viewer), &organization_kind, "organizations/acme@1", &st));
    assert_int_equal(st.code, STATUS_INVALID_ARGUMENT);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_every_move_from_every_state, setup, teardown),
        cmocka_unit_test_setup_teardown(test_roles_per_move, setup, teardown),
        cmocka_unit_test_setup_teardown(test_approval_keeps_revisions_and_supersedes, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_approval_needs_sign_off_and_writes_nothing_else, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_standard_methods_keep_the_rules, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
