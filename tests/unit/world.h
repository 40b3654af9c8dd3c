/* world.h — the organizations and documents the domain's unit tests about
 * assessments and what follows them start from: a forwarder (fwd) with its
 * ADMIN, EDITOR and VIEWER, another organization's ADMIN (oth), a 5 x 5
 * scoring scheme, a business partner, a statement of application (a
 * draft) and an assessment of it (a draft, with a method and a qualified
 * team), on fixture.h's in-memory store. Header only. */
#ifndef SUPPLYSEC_TEST_WORLD_H
#define SUPPLYSEC_TEST_WORLD_H

#include "fixture.h"

#include <stdlib.h>
#include <time.h>

#include "business_partner.h"
#include "calendar.h"
#include "credibility_review.h"
#include "declaration.h"
#include "declaration_request.h"
#include "lifecycle.h"
#include "organization.h"
#include "scoring_scheme.h"
#include "security_assessment.h"
#include "security_plan.h"
#include "statement_of_application.h"

#define WORLD_ORG "organizations/fwd"
#define WORLD_ASSESSMENT WORLD_ORG "/securityAssessments/main"
#define WORLD_SCHEME WORLD_ORG "/scoringSchemes/five"
#define WORLD_PARTNER WORLD_ORG "/businessPartners/carrier"
#define WORLD_STATEMENT WORLD_ORG "/statementsOfApplication/scope"

typedef struct world {
    fixture base;
    principal platform, admin, editor, viewer, other;
} world;

static inline world *world_open(void)
{
#define W_ROLE(x) SUPPLYSEC__V1__ROLE__ROLE_##x
    world *w = calloc(1, sizeof *w);
    assert_non_null(w);
    fixture_open(&w->base);
    w->platform = (principal){.name = "platform/apiKeys/root", .role = W_ROLE(PLATFORM_ADMIN)};
    w->admin = (principal){.name = WORLD_ORG "/apiKeys/a", .org = "fwd", .role = W_ROLE(ADMIN)};
    w->editor = (principal){.name = WORLD_ORG "/apiKeys/e", .org = "fwd", .role = W_ROLE(EDITOR)};
    w->viewer = (principal){.name = WORLD_ORG "/apiKeys/v", .org = "fwd", .role = W_ROLE(VIEWER)};
    w->other =
        (principal){.name = "organizations/oth/apiKeys/a", .org = "oth", .role = W_ROLE(ADMIN)};
#undef W_ROLE
    const char *org = "{\"legalName\":\"Org\",\"countryCode\":\"DE\","
                      "\"kind\":\"ORGANIZATION_KIND_OPERATOR\"}";
    fixture_make(&w->base, &w->platform, &organization_kind, "", "fwd", org);
    fixture_make(&w->base, &w->platform, &organization_kind, "", "oth", org);
    fixture_make(&w->base, &w->editor, &scoring_scheme_kind, WORLD_ORG, "five",
                 "{\"title\":\"5x5\",\"preset\":\"SCORING_PRESET_FIVE_BY_FIVE\"}");
    fixture_make(
        &w->base, &w->editor, &business_partner_kind, WORLD_ORG, "carrier",
        "{\"legalName\":\"Carrier\",\"countryCode\":\"PL\",\"riskTier\":\"RISK_TIER_HIGH\"}");
    fixture_make(
        &w->base, &w->editor, &statement_of_application_kind, WORLD_ORG, "scope",
        "{\"title\":\"Scope\",\"functions\":[\"SUPPLY_CHAIN_ROLE_FORWARDER\"],"
        "\"facilities\":[{\"id\":\"hamburg\",\"name\":\"Hamburg\",\"countryCode\":\"DE\"}],"
        "\"coveredPortion\":{\"from\":\"A\",\"to\":\"B\","
        "\"transportModes\":[\"TRANSPORT_MODE_SEA\"]}}");
    fixture_make(&w->base, &w->editor, &security_assessment_kind, WORLD_ORG, "main",
                 "{\"title\":\"Assessment\",\"scoringScheme\":\"" WORLD_SCHEME "\","
                 "\"scope\":{\"statementOfApplication\":\"" WORLD_STATEMENT "\"},"
                 "\"method\":\"Workshops\","
                 "\"team\":[{\"name\":\"A\",\"competences\":[\"ISO 28000\"]}]}");
    return w;
}

static inline void world_close(world *w)
{
    store_close(w->base.s);
    free(w);
}

/* cmocka's setup and teardown of a test in a fresh world. */
static inline int world_setup(void **state)
{
    *state = world_open();
    return 0;
}

static inline int world_teardown(void **state)
{
    world_close(*state);
    return 0;
}

#define WORLD_DAY_S 86400

/* now + days (negative: ago), as RFC 3339 in buf. */
static inline const char *world_in_days(char buf[CALENDAR_RFC3339_MAX], int days)
{
    calendar_format_rfc3339((calendar_time){time(NULL) + (int64_t)days * WORLD_DAY_S, 0}, buf,
                            CALENDAR_RFC3339_MAX);
    return buf;
}

/* Updates k's resource from json with the one mask path, as who; fails the
 * test when refused. */
static inline void world_update(world *w, const principal *who, const kind *k, const char *json,
                                const char *path)
{
    status st = {0};
    char *paths[] = {(char *)path};
    ProtobufCMessage *m = fixture_try_update(&w->base, who, k, json, paths, 1, &st);
    if (!m)
        fail_msg("update %s: %s", path, st.msg);
    protobuf_c_message_free_unpacked(m, NULL);
}

/* The security plan `name` (of fwd) as if in force since ago_s seconds:
 * written past the hooks, as no client can. */
static inline void world_plan_in_force_since(world *w, const char *name, int64_t ago_s)
{
    status st = {0};
    resource_key key;
    int64_t version;
    assert_true(kind_parse_name(&security_plan_kind, "name", name, &key, &st));
    const op_ctx *op = fixture_as(&w->base, &w->admin);
    SecurityPlan *p =
        (SecurityPlan *)resource_load(op, security_plan_kind.desc, security_plan_kind.collection,
                                      "fwd", name, name, &version, &st);
    assert_non_null(p);
    Google__Protobuf__Timestamp t = GOOGLE__PROTOBUF__TIMESTAMP__INIT;
    t.seconds = time(NULL) - ago_s;
    assert_true(resource_set_time(&p->base, "in_force_time", &t));
    resource_ref ref = kind_ref(&security_plan_kind, &key, &p->base);
    assert_true(resource_update(op, &ref, &p->base, &p->base, version, &st));
    protobuf_c_message_free_unpacked(&p->base, NULL);
}

/* Submits (as the EDITOR) and approves (as the ADMIN) the document `name`
 * of k; fails the test when refused. */
static inline void world_approve(world *w, const kind *k, const char *name)
{
    status st = {0};
    ProtobufCMessage *m =
        lifecycle_move(fixture_as(&w->base, &w->editor), k, DOC_SUBMIT, name, "", "", &st);
    if (!m)
        fail_msg("submit %s: %s", name, st.msg);
    protobuf_c_message_free_unpacked(m, NULL);
    m = lifecycle_move(fixture_as(&w->base, &w->admin), k, DOC_APPROVE, name, "", "", &st);
    if (!m)
        fail_msg("approve %s: %s", name, st.msg);
    protobuf_c_message_free_unpacked(m, NULL);
}

/* The carrier's paper declaration, valid for days more, recorded, approved,
 * answering the forwarder's request, ACCEPTED; and, when reviewed, its
 * credibility reviewed. */
static inline void world_carrier_declared(world *w, int days, bool reviewed)
{
    char json[768], until[CALENDAR_RFC3339_MAX];
    status st = {0};
    snprintf(json, sizeof json,
             "{\"title\":\"Paper\",\"recordedFor\":\"" WORLD_PARTNER "\",\"paperReference\":"
             "\"P\",\"measures\":{\"cargoSecurity\":\"c\",\"premisesSecurity\":\"e\","
             "\"personnelSecurity\":\"f\",\"tradingPartnerSecurity\":\"g\"},"
             "\"signatory\":{\"name\":\"J\",\"position\":\"MD\"},"
             "\"signTime\":\"2026-01-01T00:00:00Z\",\"validUntil\":\"%s\"}",
             world_in_days(until, days));
    fixture_make(&w->base, &w->editor, &declaration_kind, WORLD_ORG, "paper", json);
    world_approve(w, &declaration_kind, WORLD_ORG "/declarations/paper");
    fixture_make(&w->base, &w->editor, &declaration_request_kind, WORLD_ORG, "asked",
                 "{\"businessPartner\":\"" WORLD_PARTNER "\"}");
    const char *req = WORLD_ORG "/declarationRequests/asked";
    DeclarationRequest *r = declaration_request_answer(fixture_as(&w->base, &w->admin), req, "",
                                                       WORLD_ORG "/declarations/paper", &st);
    if (!r)
        fail_msg("answer: %s", st.msg);
    protobuf_c_message_free_unpacked(&r->base, NULL);
    r = declaration_request_decide(fixture_as(&w->base, &w->admin), req, "", true, "", &st);
    if (!r)
        fail_msg("accept: %s", st.msg);
    protobuf_c_message_free_unpacked(&r->base, NULL);
    if (reviewed)
        fixture_make(&w->base, &w->editor, &credibility_review_kind, WORLD_PARTNER, "first",
                     "{\"declarationRequest\":\"" WORLD_ORG "/declarationRequests/asked\","
                     "\"method\":\"REVIEW_METHOD_DOCUMENT_REVIEW\",\"reviewer\":\"R\","
                     "\"result\":\"REVIEW_RESULT_CREDIBLE\","
                     "\"reviewTime\":\"2026-01-10T00:00:00Z\"}");
}

#endif
