/* test_declaration_request.c — a declaration request's moves across
 * organizations (declaration_request.h), without gRPC, on an in-memory
 * SQLite store: every move from every state, legal ones landing where the
 * state machine says and illegal ones FAILED_PRECONDITION naming the state;
 * who may make each move (the partner answers, the requester decides, a
 * third organization gets NOT_FOUND); the answer re-made by the
 * declaration's next approved revision; revocation; expiry as of the read;
 * a NOT_CREDIBLE review rejecting the request; and the declaration's own
 * fields, each limit and format, and what its approval needs. */
#include "fixture.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "business_partner.h"
#include "calendar.h"
#include "clock.h"
#include "credibility_review.h"
#include "declaration.h"
#include "declaration_request.h"
#include "lifecycle.h"
#include "organization.h"

#define STATE(x) SUPPLYSEC__V1__DECLARATION_REQUEST_STATE__DECLARATION_REQUEST_STATE_##x
#define ROLE(x) SUPPLYSEC__V1__ROLE__ROLE_##x

#define REQ "organizations/fwd/declarationRequests/ask"
#define DECL "organizations/car/declarations/main"

typedef struct fx {
    fixture base;
    principal platform, fwd_admin, fwd_editor, car_admin, car_editor, car_viewer, third;
} fx;

static void approve(fx *f, const char *name, const principal *editor, const principal *admin)
{
    status st = {0};
    ProtobufCMessage *m = lifecycle_move(fixture_as(&f->base, editor), &declaration_kind,
                                         DOC_SUBMIT, name, "", "", &st);
    if (!m)
        fail_msg("submit %s: %s", name, st.msg);
    protobuf_c_message_free_unpacked(m, NULL);
    if (!(m = lifecycle_move(fixture_as(&f->base, admin), &declaration_kind, DOC_APPROVE, name, "",
                             "", &st)))
        fail_msg("approve %s: %s", name, st.msg);
    protobuf_c_message_free_unpacked(m, NULL);
}

/* A declaration JSON valid until until_s (seconds since the epoch). */
static void declaration_json(char *buf, size_t size, int64_t until_s)
{
    char until[CALENDAR_RFC3339_MAX];
    calendar_format_rfc3339((calendar_time){until_s, 0}, until, sizeof until);
    snprintf(buf, size,
             "{\"title\":\"Declaration\",\"measures\":{\"cargoSecurity\":\"c\","
             "\"premisesSecurity\":\"e\",\"personnelSecurity\":\"f\","
             "\"tradingPartnerSecurity\":\"g\"},\"signatory\":{\"name\":\"J\",\"position\":\"MD\"},"
             "\"signTime\":\"2026-01-01T00:00:00Z\",\"validUntil\":\"%s\"}",
             until);
}

static int setup(void **state)
{
    fx *f = calloc(1, sizeof *f);
    fixture_open(&f->base);
    f->platform = fixture_principal("platform/apiKeys/root", "", ROLE(PLATFORM_ADMIN));
    f->fwd_admin = fixture_principal("organizations/fwd/apiKeys/a", "fwd", ROLE(ADMIN));
    f->fwd_editor = fixture_principal("organizations/fwd/apiKeys/e", "fwd", ROLE(EDITOR));
    f->car_admin = fixture_principal("organizations/car/apiKeys/a", "car", ROLE(ADMIN));
    f->car_editor = fixture_principal("organizations/car/apiKeys/e", "car", ROLE(EDITOR));
    f->car_viewer = fixture_principal("organizations/car/apiKeys/v", "car", ROLE(VIEWER));
    f->third = fixture_principal("organizations/oth/apiKeys/a", "oth", ROLE(ADMIN));
    const char *orgs[] = {"fwd", "car", "oth"};
    for (size_t i = 0; i < 3; i++)
        fixture_make(&f->base, &f->platform, &organization_kind, "", orgs[i],
                     "{\"legalName\":\"Org\",\"countryCode\":\"DE\",\"kind\":\"ORGANIZATION_KIND_"
                     "OPERATOR\"}");
    fixture_make(
        &f->base, &f->fwd_editor, &business_partner_kind, "organizations/fwd", "carrier",
        "{\"legalName\":\"Carrier\",\"countryCode\":\"PL\",\"riskTier\":\"RISK_TIER_HIGH\","
        "\"organization\":\"organizations/car\"}");
    fixture_make(&f->base, &f->fwd_editor, &declaration_request_kind, "organizations/fwd", "ask",
                 "{\"businessPartner\":\"organizations/fwd/businessPartners/carrier\"}");
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    fx *f = *state;
    store_close(f->base.s);
    free(f);
    return 0;
}

/* The request as its requester reads it now. */
static DeclarationRequest *get(fx *f)
{
    status st = {0};
    DeclarationRequest *r = (DeclarationRequest *)std_get(fixture_as(&f->base, &f->fwd_admin),
                                                          &declaration_request_kind, REQ, &st);
    if (!r)
        fail_msg("get: %s", st.msg);
    return r;
}

static int state_now(fx *f)
{
    DeclarationRequest *r = get(f);
    int s = r->state;
    protobuf_c_message_free_unpacked(&r->base, NULL);
    return s;
}

typedef enum move { ANSWER, ACCEPT, REJECT, MOVES } move;

/* Makes m as its usual caller (the carrier's EDITOR answers, the
 * forwarder's ADMIN decides); the status code, 0 when it was made. */
static status_code do_move(fx *f, move m, status *st)
{
    memset(st, 0, sizeof *st);
    DeclarationRequest *r =
        m == ANSWER
            ? declaration_request_answer(fixture_as(&f->base, &f->car_editor), REQ, "", DECL, st)
            : declaration_request_decide(fixture_as(&f->base, &f->fwd_admin), REQ, "", m == ACCEPT,
                                         "not enough", st);
    if (r)
        protobuf_c_message_free_unpacked(&r->base, NULL);
    return r ? 0 : st->code;
}

static void move_ok(fx *f, move m)
{
    status st;
    if (do_move(f, m, &st))
        fail_msg("move %d: %s", (int)m, st.msg);
}

static void declare(fx *f, int64_t until_s)
{
    char json[512];
    declaration_json(json, sizeof json, until_s);
    fixture_make(&f->base, &f->car_editor, &declaration_kind, "organizations/car", "main", json);
    approve(f, DECL, &f->car_editor, &f->car_admin);
}

/* Brings the request to state s. */
static void reach(fx *f, int s)
{
    if (s == STATE(REQUESTED))
        return;
    move_ok(f, ANSWER);
    if (s == STATE(ACCEPTED))
        move_ok(f, ACCEPT);
    if (s == STATE(REJECTED))
        move_ok(f, REJECT);
}

static void test_every_move_from_every_state(void **state)
{
    /* what each move does from each stored state: the state reached, or 0
     * when the move is refused */
    static const int next[][MOVES] = {
        [STATE(REQUESTED)] = {STATE(ANSWERED), 0, 0},
        [STATE(ANSWERED)] = {STATE(ANSWERED), STATE(ACCEPTED), STATE(REJECTED)},
        [STATE(ACCEPTED)] = {0, 0, 0},
        [STATE(REJECTED)] = {STATE(ANSWERED), 0, 0},
    };
    const int states[] = {STATE(REQUESTED), STATE(ANSWERED), STATE(ACCEPTED), STATE(REJECTED)};
    for (size_t i = 0; i < 4; i++)
        for (move m = ANSWER; m < MOVES; m++) {
            teardown(state);
            setup(state);
            fx *f = *state;
            declare(f, clock_realtime_ms() / 1000 + 86400 * 365);
            reach(f, states[i]);
            status st;
            status_code code = do_move(f, m, &st);
            int want = next[states[i]][m];
            if (want) {
                if (code)
                    fail_msg("from %d, move %d refused: %s", states[i], (int)m, st.msg);
                assert_int_equal(state_now(f), want);
            } else {
                assert_int_equal(code, STATUS_FAILED_PRECONDITION);
                assert_int_equal(state_now(f), states[i]); /* nothing changed */
                if (!strstr(st.msg, "is "))
                    fail_msg("the refusal names no state: %s", st.msg);
            }
        }
}

static void test_who_makes_each_move(void **state)
{
    fx *f = *state;
    declare(f, clock_realtime_ms() / 1000 + 86400);
    status st = {0};
    /* a third organization: NOT_FOUND, as for a request that does not exist */
    assert_null(declaration_request_answer(fixture_as(&f->base, &f->third), REQ, "", DECL, &st));
    assert_int_equal(st.code, STATUS_NOT_FOUND);
    memset(&st, 0, sizeof st);
    assert_null(
        declaration_request_decide(fixture_as(&f->base, &f->third), REQ, "", true, "", &st));
    assert_int_equal(st.code, STATUS_NOT_FOUND);
    /* the partner's VIEWER does not answer; the requester does not answer
     * for a partner on the platform */
    memset(&st, 0, sizeof st);
    assert_null(
        declaration_request_answer(fixture_as(&f->base, &f->car_viewer), REQ, "", DECL, &st));
    assert_int_equal(st.code, STATUS_PERMISSION_DENIED);
    memset(&st, 0, sizeof st);
    assert_null(
        declaration_request_answer(fixture_as(&f->base, &f->fwd_editor), REQ, "", DECL, &st));
    assert_int_equal(st.code, STATUS_FAILED_PRECONDITION);
    move_ok(f, ANSWER);
    /* the partner does not decide, nor the requester's EDITOR */
    memset(&st, 0, sizeof st);
    assert_null(
        declaration_request_decide(fixture_as(&f->base, &f->car_admin), REQ, "", true, "", &st));
    assert_int_equal(st.code, STATUS_PERMISSION_DENIED);
    memset(&st, 0, sizeof st);
    assert_null(
        declaration_request_decide(fixture_as(&f->base, &f->fwd_editor), REQ, "", true, "", &st));
    assert_int_equal(st.code, STATUS_PERMISSION_DENIED);
    /* a rejection needs its reason */
    memset(&st, 0, sizeof st);
    assert_null(
        declaration_request_decide(fixture_as(&f->base, &f->fwd_admin), REQ, "", false, "", &st));
    assert_int_equal(st.code, STATUS_INVALID_ARGUMENT);
    assert_int_equal(state_now(f), STATE(ANSWERED));
}

static void test_next_revision_answers_again(void **state)
{
    fx *f = *state;
    declare(f, clock_realtime_ms() / 1000 + 86400);
    reach(f, STATE(REJECTED));
    status st = {0};
    ProtobufCMessage *m = lifecycle_move(fixture_as(&f->base, &f->car_editor), &declaration_kind,
                                         DOC_REVISE, DECL, "", "", &st);
    assert_non_null(m);
    protobuf_c_message_free_unpacked(m, NULL);
    assert_int_equal(state_now(f), STATE(REJECTED)); /* a draft changes nothing */
    approve(f, DECL, &f->car_editor, &f->car_admin);
    DeclarationRequest *r = get(f);
    assert_int_equal(r->state, STATE(ANSWERED));
    assert_string_equal(r->declaration, DECL);
    assert_string_equal(r->declaration_revision_id, "2");
    assert_string_equal(r->rejection_reason, "");
    protobuf_c_message_free_unpacked(&r->base, NULL);
    move_ok(f, ACCEPT);
}

static void test_revocation_and_expiry(void **state)
{
    fx *f = *state;
    declare(f, clock_realtime_ms() / 1000 + 86400);
    reach(f, STATE(ACCEPTED));
    status st = {0};
    Supplysec__V1__Declaration *d =
        declaration_revoke(fixture_as(&f->base, &f->car_editor), DECL, "", &st);
    assert_null(d); /* an ADMIN revokes */
    assert_int_equal(st.code, STATUS_PERMISSION_DENIED);
    assert_non_null(d = declaration_revoke(fixture_as(&f->base, &f->car_admin), DECL, "", &st));
    assert_non_null(d->revoke_time);
    protobuf_c_message_free_unpacked(&d->base, NULL);
    assert_int_equal(state_now(f), STATE(REVOKED));
    /* a revoked declaration answers nothing */
    assert_int_equal(do_move(f, ANSWER, &st), STATUS_FAILED_PRECONDITION);
    assert_non_null(strstr(st.msg, "revoked"));

    /* a declaration that has run out: the request reads EXPIRED */
    teardown(state);
    setup(state);
    f = *state;
    declare(f, clock_realtime_ms() / 1000 + 2);
    reach(f, STATE(ACCEPTED));
    struct timespec ts = {3, 100000000};
    nanosleep(&ts, NULL);
    assert_int_equal(state_now(f), STATE(EXPIRED));
    assert_int_equal(do_move(f, ACCEPT, &st), STATUS_FAILED_PRECONDITION);
}

/* Revision 1 stays in force while revision 2 is drafted: it is revoked
 * then, and the next approval issues the declaration again. */
static void test_revoke_while_the_next_revision_is_drafted(void **state)
{
    fx *f = *state;
    declare(f, clock_realtime_ms() / 1000 + 86400);
    reach(f, STATE(ACCEPTED));
    status st = {0};
    ProtobufCMessage *m = lifecycle_move(fixture_as(&f->base, &f->car_editor), &declaration_kind,
                                         DOC_REVISE, DECL, "", "", &st);
    assert_non_null(m);
    protobuf_c_message_free_unpacked(m, NULL);
    Supplysec__V1__Declaration *d =
        declaration_revoke(fixture_as(&f->base, &f->car_admin), DECL, "", &st);
    if (!d)
        fail_msg("revoke: %s", st.msg);
    protobuf_c_message_free_unpacked(&d->base, NULL);
    assert_int_equal(state_now(f), STATE(REVOKED));
    approve(f, DECL, &f->car_editor, &f->car_admin);
    DeclarationRequest *r = get(f);
    assert_int_equal(r->state, STATE(ANSWERED));
    assert_string_equal(r->declaration_revision_id, "2");
    protobuf_c_message_free_unpacked(&r->base, NULL);
}

static void test_not_credible_review_rejects(void **state)
{
    fx *f = *state;
    declare(f, clock_realtime_ms() / 1000 + 86400);
    reach(f, STATE(ACCEPTED));
    fixture_make(&f->base, &f->fwd_admin, &credibility_review_kind,
                 "organizations/fwd/businessPartners/carrier", "visit",
                 "{\"declarationRequest\":\"" REQ "\",\"method\":\"REVIEW_METHOD_SITE_VISIT\","
                 "\"reviewer\":\"A\",\"result\":\"REVIEW_RESULT_NOT_CREDIBLE\","
                 "\"reviewTime\":\"2026-01-02T00:00:00Z\"}");
    DeclarationRequest *r = get(f);
    assert_int_equal(r->state, STATE(REJECTED));
    assert_non_null(strstr(r->rejection_reason, "credibilityReviews/visit"));
    protobuf_c_message_free_unpacked(&r->base, NULL);
}

/* Tries to create the declaration m (taken) as who in parent; it must be
 * refused with code, the message naming field. */
static void refused_msg(fx *f, const principal *who, const char *parent, ProtobufCMessage *m,
                        status_code code, const char *field)
{
    status st = {0};
    ProtobufCMessage *got =
        std_create(fixture_as(&f->base, who), &declaration_kind, parent, "", &m, &st);
    if (got)
        fail_msg("accepted, expected %s refused", field);
    assert_int_equal(st.code, code);
    if (!strstr(st.msg, field))
        fail_msg("'%s' does not name %s", st.msg, field);
}

static void refused(fx *f, const principal *who, const char *parent, const char *json,
                    status_code code, const char *field)
{
    refused_msg(f, who, parent, fixture_message(declaration_kind.desc, json), code, field);
}

/* A string of n 'x' (n < 6000). */
static const char *xs(size_t n)
{
    static char buf[6000];
    assert_true(n < sizeof buf);
    memset(buf, 'x', n);
    buf[n] = '\0';
    return buf;
}

static void test_declaration_fields_checked(void **state)
{
    fx *f = *state;
    static const char *measures[][2] = {
        {"informationProtection", "declaration.measures.information_protection"},
        {"cargoSecurity", "declaration.measures.cargo_security"},
        {"conveyanceSecurity", "declaration.measures.conveyance_security"},
        {"premisesSecurity", "declaration.measures.premises_security"},
        {"personnelSecurity", "declaration.measures.personnel_security"},
        {"tradingPartnerSecurity", "declaration.measures.trading_partner_security"},
    };
    char json[8192];
    const char *car = "organizations/car";
    refused(f, &f->car_editor, car, "{\"title\":\"\"}", STATUS_INVALID_ARGUMENT,
            "declaration.title");
    snprintf(json, sizeof json, "{\"title\":\"%s\"}", xs(201));
    refused(f, &f->car_editor, car, json, STATUS_INVALID_ARGUMENT, "declaration.title");
    for (size_t i = 0; i < 6; i++) { /* at most 5,000 characters each */
        snprintf(json, sizeof json, "{\"title\":\"D\",\"measures\":{\"%s\":\"%s\"}}",
                 measures[i][0], xs(5001));
        refused(f, &f->car_editor, car, json, STATUS_INVALID_ARGUMENT, measures[i][1]);
    }
    snprintf(json, sizeof json, "{\"title\":\"D\",\"signatory\":{\"name\":\"%s\"}}", xs(201));
    refused(f, &f->car_editor, car, json, STATUS_INVALID_ARGUMENT, "declaration.signatory.name");
    snprintf(json, sizeof json, "{\"title\":\"D\",\"signatory\":{\"position\":\"%s\"}}", xs(201));
    refused(f, &f->car_editor, car, json, STATUS_INVALID_ARGUMENT,
            "declaration.signatory.position");
    refused(f, &f->car_editor, car,
            "{\"title\":\"D\",\"signTime\":\"2026-02-01T00:00:00Z\","
            "\"validUntil\":\"2026-02-01T00:00:00Z\"}",
            STATUS_INVALID_ARGUMENT, "declaration.valid_until");
    ProtobufCMessage *far = fixture_message(
        declaration_kind.desc, "{\"title\":\"D\",\"signTime\":\"2026-01-01T00:00:00Z\"}");
    ((Supplysec__V1__Declaration *)far)->sign_time->seconds = INT64_C(300000000000); /* > 9999 */
    refused_msg(f, &f->car_editor, car, far, STATUS_INVALID_ARGUMENT, "declaration.sign_time");
    snprintf(json, sizeof json, "{\"title\":\"D\",\"paperReference\":\"%s\"}", xs(201));
    refused(f, &f->car_editor, car, json, STATUS_INVALID_ARGUMENT, "declaration.paper_reference");
    /* recorded_for: one of the recording organization's own partners */
    refused(f, &f->fwd_editor, "organizations/fwd",
            "{\"title\":\"D\",\"recordedFor\":\"organizations/oth/businessPartners/carrier\"}",
            STATUS_INVALID_ARGUMENT, "declaration.recorded_for");
    refused(f, &f->fwd_editor, "organizations/fwd",
            "{\"title\":\"D\",\"recordedFor\":\"businessPartners/carrier\"}",
            STATUS_INVALID_ARGUMENT, "declaration.recorded_for");
}

/* Approval needs the four statements of the EU AEO template (C, E, F, G),
 * the signatory, both dates ahead of now, and for a paper declaration its
 * reference; each missing one is named. */
static void test_approval_needs_the_template(void **state)
{
    fx *f = *state;
    char full[1024], json[1200];
    declaration_json(full, sizeof full, clock_realtime_ms() / 1000 + 86400);
    static const char *drop[][2] = {
        {"\"cargoSecurity\":\"c\",", "measures.cargo_security"},
        {"\"premisesSecurity\":\"e\",", "measures.premises_security"},
        {"\"personnelSecurity\":\"f\",", "measures.personnel_security"},
        {"\"name\":\"J\",", "signatory.name"},
        {",\"position\":\"MD\"", "signatory.position"},
        {"\"signTime\":\"2026-01-01T00:00:00Z\",", "sign_time"},
    };
    for (size_t i = 0; i < sizeof drop / sizeof drop[0]; i++) {
        const char *at = strstr(full, drop[i][0]);
        assert_non_null(at);
        snprintf(json, sizeof json, "%.*s%s", (int)(at - full), full, at + strlen(drop[i][0]));
        char id[16];
        snprintf(id, sizeof id, "decl-%zu", i);
        fixture_make(&f->base, &f->car_editor, &declaration_kind, "organizations/car", id, json);
        char name[64];
        snprintf(name, sizeof name, "organizations/car/declarations/%s", id);
        status st = {0};
        ProtobufCMessage *m = lifecycle_move(fixture_as(&f->base, &f->car_editor),
                                             &declaration_kind, DOC_SUBMIT, name, "", "", &st);
        assert_non_null(m);
        protobuf_c_message_free_unpacked(m, NULL);
        m = lifecycle_move(fixture_as(&f->base, &f->car_admin), &declaration_kind, DOC_APPROVE,
                           name, "", "", &st);
        assert_null(m);
        assert_int_equal(st.code, STATUS_FAILED_PRECONDITION);
        if (!strstr(st.msg, drop[i][1]))
            fail_msg("'%s' does not name %s", st.msg, drop[i][1]);
    }
    /* valid until a time already past */
    declaration_json(json, sizeof json, clock_realtime_ms() / 1000 - 60);
    fixture_make(&f->base, &f->car_editor, &declaration_kind, "organizations/car", "stale", json);
    status st = {0};
    ProtobufCMessage *m =
        lifecycle_move(fixture_as(&f->base, &f->car_editor), &declaration_kind, DOC_SUBMIT,
                       "organizations/car/declarations/stale", "", "", &st);
    assert_non_null(m);
    protobuf_c_message_free_unpacked(m, NULL);
    m = lifecycle_move(fixture_as(&f->base, &f->car_admin), &declaration_kind, DOC_APPROVE,
                       "organizations/car/declarations/stale", "", "", &st);
    assert_null(m);
    assert_int_equal(st.code, STATUS_FAILED_PRECONDITION);
    assert_non_null(strstr(st.msg, "valid_until has passed"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_every_move_from_every_state, setup, teardown),
        cmocka_unit_test_setup_teardown(test_who_makes_each_move, setup, teardown),
        cmocka_unit_test_setup_teardown(test_next_revision_answers_again, setup, teardown),
        cmocka_unit_test_setup_teardown(test_revocation_and_expiry, setup, teardown),
        cmocka_unit_test_setup_teardown(test_revoke_while_the_next_revision_is_drafted, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_not_credible_review_rejects, setup, teardown),
        cmocka_unit_test_setup_teardown(test_declaration_fields_checked, setup, teardown),
        cmocka_unit_test_setup_teardown(test_approval_needs_the_template, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
