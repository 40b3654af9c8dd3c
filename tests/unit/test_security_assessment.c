/* test_security_assessment.c — security assessments and their threat
 * scenarios (security_assessment.h, threat_scenario.h), without gRPC, on an
 * in-memory SQLite store: the scheme copied at creation (a later change to
 * the organization's scheme changes no score); scores from the levels, never
 * from a client; the target checked; a scenario changes only while its
 * assessment is a DRAFT; a government-required scenario is neither deleted
 * nor made a team one; a risk acceptance is an ADMIN's; every approval
 * precondition; the ranking and the risk matrix; countermeasures, whose
 * acceptance, decline and deletion score their scenario again. */
#include "world.h"

#include <stdio.h>
#include <stdlib.h>
#include <math.h>
#include <string.h>

#include "business_partner.h"
#include "countermeasure.h"
#include "lifecycle.h"
#include "loss_simulation.h"
#include "organization.h"
#include "scoring_scheme.h"
#include "security_assessment.h"
#include "statement_of_application.h"
#include "threat_scenario.h"

#define ROLE(x) SUPPLYSEC__V1__ROLE__ROLE_##x
#define ORG WORLD_ORG
#define ASSESSMENT WORLD_ASSESSMENT
#define SCHEME WORLD_SCHEME
#define PARTNER WORLD_PARTNER
#define STATEMENT WORLD_STATEMENT

typedef world fx;

/* A scenario JSON at levels c, l with extra fields (",\"x\":..." or ""). */
static ThreatScenario *scenario(fx *f, const principal *who, const char *id, int c, int l,
                                const char *extra, status *st)
{
    char json[1024];
    snprintf(json, sizeof json,
             "{\"title\":\"Scenario %s\",\"category\":\"THREAT_CATEGORY_THEFT\","
             "\"source\":\"SCENARIO_SOURCE_ASSESSMENT_TEAM\",\"target\":\"" PARTNER "\","
             "\"consequenceLevel\":%d,\"likelihoodLevel\":%d%s}",
             id, c, l, extra);
    return (ThreatScenario *)fixture_try_create(&f->base, who, &threat_scenario_kind, ASSESSMENT,
                                                id, json, st);
}

static void scenario_ok(fx *f, const char *id, int c, int l, const char *extra)
{
    status st = {0};
    ThreatScenario *s = scenario(f, &f->admin, id, c, l, extra, &st);
    if (!s)
        fail_msg("scenario %s: %s", id, st.msg);
    protobuf_c_message_free_unpacked(&s->base, NULL);
}

static ProtobufCMessage *move(fx *f, const principal *who, doc_move m, status *st)
{
    return lifecycle_move(fixture_as(&f->base, who), &security_assessment_kind, m, ASSESSMENT, "",
                          "reason", st);
}

static void approve_statement(fx *f)
{
    world_approve(f, &statement_of_application_kind, STATEMENT);
}

static void test_scheme_copied_at_creation(void **state)
{
    fx *f = *state;
    /* the organization's scheme changes: the assessment keeps its copy */
    char err[128];
    const char *patch_json = "{\"name\":\"" SCHEME "\",\"acceptableLevel\":20}";
    ProtobufCMessage *patch = doc_message_from_json(scoring_scheme_kind.desc, patch_json,
                                                    strlen(patch_json), err, sizeof err);
    assert_non_null(patch);
    char *paths[] = {"acceptable_level"};
    status st = {0};
    ProtobufCMessage *u = std_update(fixture_as(&f->base, &f->editor), &scoring_scheme_kind, patch,
                                     paths, 1, true, &st);
    if (!u)
        fail_msg("update: %s", st.msg);
    protobuf_c_message_free_unpacked(u, NULL);
    protobuf_c_message_free_unpacked(patch, NULL);
    ThreatScenario *s = scenario(f, &f->editor, "theft", 4, 3, "", &st);
    assert_non_null(s);
    assert_true(s->incident_score == 12);
    assert_false(s->acceptable); /* the copy's acceptable level: 6, not 20 */
    protobuf_c_message_free_unpacked(&s->base, NULL);
    /* the scheme named must be the organization's own and exist */
    ProtobufCMessage *a = fixture_try_create(
        &f->base, &f->editor, &security_assessment_kind, ORG, "",
        "{\"title\":\"A\",\"scoringScheme\":\"organizations/oth/scoringSchemes/five\"}", &st);
    assert_null(a);
    assert_int_equal(st.code, STATUS_INVALID_ARGUMENT);
    assert_non_null(strstr(st.msg, "security_assessment.scoring_scheme"));
    a = fixture_try_create(&f->base, &f->editor, &security_assessment_kind, ORG, "",
                           "{\"title\":\"A\",\"scoringScheme\":\"" ORG "/scoringSchemes/none\"}",
                           &st);
    assert_null(a);
    assert_int_equal(st.code, STATUS_INVALID_ARGUMENT);
    a = fixture_try_create(&f->base, &f->editor, &security_assessment_kind, ORG, "",
                           "{\"title\":\"A\"}", &st);
    assert_null(a);
    assert_non_null(strstr(st.msg, "scoring_scheme: required"));
}

static void test_scores_are_the_servers(void **state)
{
    fx *f = *state;
    status st = {0};
    /* a client's scores are cleared, then computed */
    ThreatScenario *s =
        scenario(f, &f->editor, "theft", 5, 5,
                 ",\"incidentScore\":1,\"residualScore\":1,\"acceptable\":true", &st);
    assert_non_null(s);
    assert_true(s->incident_score == 25);
    assert_true(s->residual_score == 25);
    assert_int_equal(s->residual_consequence_level, 5);
    assert_false(s->acceptable);
    protobuf_c_message_free_unpacked(&s->base, NULL);
    s = scenario(f, &f->editor, "minor", 2, 3, "", &st);
    assert_true(s->incident_score == 6 && s->acceptable); /* 6 is within 6 */
    protobuf_c_message_free_unpacked(&s->base, NULL);
    /* levels off the scale, named with its ends */
    assert_null(scenario(f, &f->editor, "off", 6, 1, "", &st));
    assert_int_equal(st.code, STATUS_INVALID_ARGUMENT);
    assert_non_null(strstr(st.msg, "threat_scenario.consequence_level"));
    assert_non_null(strstr(st.msg, "Severe"));
    assert_null(scenario(f, &f->editor, "zero", 1, 0, "", &st));
    assert_non_null(strstr(st.msg, "threat_scenario.likelihood_level"));
}

static void test_target_checked(void **state)
{
    fx *f = *state;
    status st = {0};
    char json[512];
    const char *targets[][2] = {
        {"organizations/oth/businessPartners/carrier", "must name one of this organization's"},
        {ORG "/businessPartners/nobody", "not found"},
        {STATEMENT "/facilities/rotterdam", "has no facility rotterdam"},
        {"organizations/fwd/apiKeys/a", "threat_scenario.target"},
    };
    for (size_t i = 0; i < sizeof targets / sizeof targets[0]; i++) {
        snprintf(json, sizeof json,
                 "{\"title\":\"T\",\"category\":\"THREAT_CATEGORY_CYBER\","
                 "\"source\":\"SCENARIO_SOURCE_ASSESSMENT_TEAM\",\"target\":\"%s\","
                 "\"consequenceLevel\":1,\"likelihoodLevel\":1}",
                 targets[i][0]);
        ProtobufCMessage *m = fixture_try_create(&f->base, &f->editor, &threat_scenario_kind,
                                                 ASSESSMENT, "", json, &st);
        assert_null(m);
        assert_int_equal(st.code, STATUS_INVALID_ARGUMENT);
        if (!strstr(st.msg, targets[i][1]) || !strstr(st.msg, "threat_scenario.target"))
            fail_msg("%s: '%s'", targets[i][0], st.msg);
    }
    fixture_make(&f->base, &f->editor, &threat_scenario_kind, ASSESSMENT, "yard",
                 "{\"title\":\"Yard intrusion\",\"category\":\"THREAT_CATEGORY_THEFT\","
                 "\"source\":\"SCENARIO_SOURCE_ASSESSMENT_TEAM\",\"target\":\"" STATEMENT
                 "/facilities/hamburg\",\"consequenceLevel\":3,\"likelihoodLevel\":2}");
    /* government-required: the authority named, and only then */
    assert_null(scenario(f, &f->editor, "gov", 1, 1,
                         ",\"source\":\"SCENARIO_SOURCE_GOVERNMENT_REQUIRED\"", &st));
    assert_non_null(strstr(st.msg, "threat_scenario.authority"));
    assert_null(scenario(f, &f->editor, "team", 1, 1, ",\"authority\":\"Customs\"", &st));
    assert_non_null(strstr(st.msg, "threat_scenario.authority"));
}

static void test_government_required_stays(void **state)
{
    fx *f = *state;
    scenario_ok(f, "gov", 3, 3,
                ",\"source\":\"SCENARIO_SOURCE_GOVERNMENT_REQUIRED\",\"authority\":\"DE customs\"");
    status st = {0};
    const char *name = ASSESSMENT "/threatScenarios/gov";
    assert_false(std_delete(fixture_as(&f->base, &f->admin), &threat_scenario_kind, name, "", &st));
    assert_int_equal(st.code, STATUS_FAILED_PRECONDITION);
    assert_non_null(strstr(st.msg, "DE customs"));
    char err[128];
    const char *pj = "{\"name\":\"" ASSESSMENT "/threatScenarios/gov\","
                     "\"source\":\"SCENARIO_SOURCE_ASSESSMENT_TEAM\",\"authority\":\"\"}";
    ProtobufCMessage *patch =
        doc_message_from_json(threat_scenario_kind.desc, pj, strlen(pj), err, sizeof err);
    char *paths[] = {"source", "authority"};
    assert_null(std_update(fixture_as(&f->base, &f->admin), &threat_scenario_kind, patch, paths, 2,
                           true, &st));
    assert_int_equal(st.code, STATUS_FAILED_PRECONDITION);
    protobuf_c_message_free_unpacked(patch, NULL);
    /* a team scenario is deleted */
    scenario_ok(f, "team", 1, 1, "");
    assert_true(std_delete(fixture_as(&f->base, &f->admin), &threat_scenario_kind,
                           ASSESSMENT "/threatScenarios/team", "", &st));
}

static void test_risk_acceptance_is_an_admins(void **state)
{
    fx *f = *state;
    status st = {0};
    const char *accept = ",\"riskAcceptance\":{\"reason\":\"Insured; cost of measures too high\","
                         "\"accepter\":\"someone\"}";
    assert_null(scenario(f, &f->editor, "big", 5, 4, accept, &st));
    assert_int_equal(st.code, STATUS_PERMISSION_DENIED);
    ThreatScenario *s = scenario(f, &f->admin, "big", 5, 4, accept, &st);
    assert_non_null(s);
    assert_string_equal(s->risk_acceptance->accepter, ORG "/apiKeys/a");
    assert_non_null(s->risk_acceptance->accept_time);
    protobuf_c_message_free_unpacked(&s->base, NULL);
    /* an editor changes the title; the acceptance stays the admin's */
    char err[128];
    const char *pj = "{\"name\":\"" ASSESSMENT "/threatScenarios/big\",\"title\":\"Renamed\"}";
    ProtobufCMessage *patch =
        doc_message_from_json(threat_scenario_kind.desc, pj, strlen(pj), err, sizeof err);
    char *title[] = {"title"};
    s = (ThreatScenario *)std_update(fixture_as(&f->base, &f->editor), &threat_scenario_kind, patch,
                                     title, 1, true, &st);
    if (!s)
        fail_msg("update: %s", st.msg);
    assert_string_equal(s->risk_acceptance->accepter, ORG "/apiKeys/a");
    protobuf_c_message_free_unpacked(&s->base, NULL);
    /* nor raises the levels it was accepted at */
    char *levels[] = {"consequence_level", "likelihood_level"};
    assert_null(fixture_try_update(&f->base, &f->editor, &threat_scenario_kind,
                                   "{\"name\":\"" ASSESSMENT "/threatScenarios/big\","
                                   "\"consequenceLevel\":5,\"likelihoodLevel\":5}",
                                   levels, 2, &st));
    assert_int_equal(st.code, STATUS_PERMISSION_DENIED);
    /* but does not clear it */
    char *ra[] = {"risk_acceptance"};
    assert_null(std_update(fixture_as(&f->base, &f->editor), &threat_scenario_kind, patch, ra, 1,
                           true, &st));
    assert_int_equal(st.code, STATUS_PERMISSION_DENIED);
    protobuf_c_message_free_unpacked(patch, NULL);
}

static void test_scenarios_change_only_in_a_draft(void **state)
{
    fx *f = *state;
    scenario_ok(f, "theft", 2, 2, "");
    status st = {0};
    ProtobufCMessage *m = move(f, &f->editor, DOC_SUBMIT, &st);
    assert_non_null(m);
    protobuf_c_message_free_unpacked(m, NULL);
    assert_null(scenario(f, &f->editor, "late", 1, 1, "", &st));
    assert_int_equal(st.code, STATUS_FAILED_PRECONDITION);
    assert_non_null(strstr(st.msg, "DOCUMENT_STATE_IN_REVIEW"));
    assert_false(std_delete(fixture_as(&f->base, &f->admin), &threat_scenario_kind,
                            ASSESSMENT "/threatScenarios/theft", "", &st));
    assert_int_equal(st.code, STATUS_FAILED_PRECONDITION);
    m = move(f, &f->admin, DOC_REJECT, &st); /* back to a draft */
    assert_non_null(m);
    protobuf_c_message_free_unpacked(m, NULL);
    scenario_ok(f, "late", 1, 1, "");
}

/* Submits and tries to approve the assessment: the refusal, or NULL. */
static void approve_refused(fx *f, const char *why)
{
    status st = {0};
    ProtobufCMessage *m = move(f, &f->editor, DOC_SUBMIT, &st);
    if (m)
        protobuf_c_message_free_unpacked(m, NULL);
    m = move(f, &f->admin, DOC_APPROVE, &st);
    if (m)
        fail_msg("approved, expected refused for %s", why);
    assert_int_equal(st.code, STATUS_FAILED_PRECONDITION);
    if (!strstr(st.msg, why))
        fail_msg("'%s' does not say %s", st.msg, why);
    m = move(f, &f->admin, DOC_REJECT, &st);
    assert_non_null(m);
    protobuf_c_message_free_unpacked(m, NULL);
}

static void test_approval_preconditions(void **state)
{
    fx *f = *state;
    approve_refused(f, "without threat scenarios");
    scenario_ok(f, "minor", 1, 2, "");
    approve_refused(f, "no approved revision"); /* the statement is a draft */
    approve_statement(f);
    scenario_ok(f, "big", 5, 4, "");
    scenario_ok(f, "bigger", 5, 5, "");
    approve_refused(f, "2 scenarios over the acceptable level");
    approve_refused(f, ASSESSMENT "/threatScenarios/big, " ASSESSMENT "/threatScenarios/bigger");
    /* an ADMIN accepts one risk; the other scenario goes */
    char err[128];
    const char *pj = "{\"name\":\"" ASSESSMENT "/threatScenarios/big\","
                     "\"riskAcceptance\":{\"reason\":\"Accepted by the board\"}}";
    ProtobufCMessage *patch =
        doc_message_from_json(threat_scenario_kind.desc, pj, strlen(pj), err, sizeof err);
    char *ra[] = {"risk_acceptance"};
    status st = {0};
    ProtobufCMessage *u =
        std_update(fixture_as(&f->base, &f->admin), &threat_scenario_kind, patch, ra, 1, true, &st);
    assert_non_null(u);
    protobuf_c_message_free_unpacked(u, NULL);
    protobuf_c_message_free_unpacked(patch, NULL);
    assert_true(std_delete(fixture_as(&f->base, &f->admin), &threat_scenario_kind,
                           ASSESSMENT "/threatScenarios/bigger", "", &st));
    ProtobufCMessage *m = move(f, &f->editor, DOC_SUBMIT, &st);
    assert_non_null(m);
    protobuf_c_message_free_unpacked(m, NULL);
    SecurityAssessment *a = (SecurityAssessment *)move(f, &f->admin, DOC_APPROVE, &st);
    if (!a)
        fail_msg("approve: %s", st.msg);
    assert_string_equal(a->scope->statement_revision_id, "1");
    protobuf_c_message_free_unpacked(&a->base, NULL);
}

static void test_approval_needs_method_and_team(void **state)
{
    fx *f = *state;
    fixture_make(&f->base, &f->editor, &security_assessment_kind, ORG, "bare",
                 "{\"title\":\"Bare\",\"scoringScheme\":\"" SCHEME "\","
                 "\"scope\":{\"statementOfApplication\":\"" STATEMENT "\"},"
                 "\"team\":[{\"name\":\"B\"}]}");
    status st = {0};
    const char *name = ORG "/securityAssessments/bare";
    ProtobufCMessage *m = lifecycle_move(fixture_as(&f->base, &f->editor),
                                         &security_assessment_kind, DOC_SUBMIT, name, "", "", &st);
    assert_non_null(m);
    protobuf_c_message_free_unpacked(m, NULL);
    assert_null(lifecycle_move(fixture_as(&f->base, &f->admin), &security_assessment_kind,
                               DOC_APPROVE, name, "", "", &st));
    assert_non_null(strstr(st.msg, "without method"));
}

static void test_ranking_and_matrix(void **state)
{
    fx *f = *state;
    scenario_ok(f, "a-low", 1, 2, "");
    scenario_ok(f, "b-top", 5, 5, "");
    scenario_ok(f, "c-mid", 3, 3, "");
    scenario_ok(f, "d-mid", 3, 3, ",\"riskAcceptance\":{\"reason\":\"Accepted\"}");
    status st = {0};
    Supplysec__V1__RankThreatScenariosResponse *r =
        security_assessment_rank(fixture_as(&f->base, &f->viewer), ASSESSMENT, &st);
    assert_non_null(r);
    assert_int_equal(r->n_scenarios, 4);
    assert_true(r->acceptable_level == 6);
    const char *order[] = {"b-top", "c-mid", "d-mid", "a-low"}; /* ties by name */
    const bool untreated[] = {true, true, false, false};
    for (size_t i = 0; i < 4; i++) {
        assert_non_null(strstr(r->scenarios[i]->threat_scenario, order[i]));
        assert_int_equal(r->scenarios[i]->untreated, untreated[i]);
    }
    assert_true(r->scenarios[2]->over_acceptable_level);
    assert_false(r->scenarios[3]->over_acceptable_level);
    protobuf_c_message_free_unpacked(&r->base, NULL);

    Supplysec__V1__RiskMatrix *m =
        security_assessment_matrix(fixture_as(&f->base, &f->viewer), ASSESSMENT, &st);
    assert_non_null(m);
    assert_int_equal(m->n_before, 25);
    assert_int_equal(m->n_after, 25);
    assert_int_equal(m->consequence->n_levels, 5);
    const Supplysec__V1__RiskMatrixCell *c33 = m->before[(3 - 1) * 5 + (3 - 1)];
    assert_int_equal(c33->consequence_level, 3);
    assert_int_equal(c33->likelihood_level, 3);
    assert_true(c33->score == 9 && !c33->acceptable);
    assert_int_equal(c33->count, 2);
    assert_int_equal(c33->n_threat_scenarios, 2);
    assert_non_null(strstr(c33->threat_scenarios[0], "c-mid"));
    assert_non_null(strstr(c33->threat_scenarios[1], "d-mid"));
    const Supplysec__V1__RiskMatrixCell *c12 = m->before[0 * 5 + 1];
    assert_int_equal(c12->count, 1);
    assert_true(c12->acceptable);
    int total = 0;
    for (size_t i = 0; i < m->n_after; i++)
        total += m->after[i]->count;
    assert_int_equal(total, 4); /* no countermeasures yet: after = before */
    protobuf_c_message_free_unpacked(&m->base, NULL);
    /* another organization: NOT_FOUND, as for a name that does not exist */
    assert_null(security_assessment_rank(fixture_as(&f->base, &f->other), ASSESSMENT, &st));
    assert_int_equal(st.code, STATUS_NOT_FOUND);
    assert_null(security_assessment_matrix(fixture_as(&f->base, &f->other), ASSESSMENT, &st));
    assert_int_equal(st.code, STATUS_NOT_FOUND);
}

static void test_delete_takes_the_scenarios(void **state)
{
    fx *f = *state;
    scenario_ok(f, "theft", 2, 2, "");
    status st = {0};
    assert_true(std_delete(fixture_as(&f->base, &f->admin), &security_assessment_kind, ASSESSMENT,
                           "", &st));
    assert_null(std_get(fixture_as(&f->base, &f->admin), &threat_scenario_kind,
                        ASSESSMENT "/threatScenarios/theft", &st));
    assert_int_equal(st.code, STATUS_NOT_FOUND);
}

#define BIG ASSESSMENT "/threatScenarios/big"

static Countermeasure *measure(fx *f, const principal *who, const char *id, int c, int l,
                               status *st)
{
    char json[512];
    snprintf(json, sizeof json,
             "{\"description\":\"Measure %s\",\"aeoCriterion\":\"AEO_CRITERION_E_PREMISES\","
             "\"priority\":1,\"residualConsequenceLevel\":%d,\"residualLikelihoodLevel\":%d,"
             "\"state\":\"COUNTERMEASURE_STATE_ACCEPTED\",\"residualScore\":1}",
             id, c, l);
    return (Countermeasure *)fixture_try_create(&f->base, who, &countermeasure_kind, BIG, id, json,
                                                st);
}

/* The scenario's residual score as stored now. */
static double residual(fx *f)
{
    status st = {0};
    ThreatScenario *s = (ThreatScenario *)std_get(fixture_as(&f->base, &f->viewer),
                                                  &threat_scenario_kind, BIG, &st);
    if (!s)
        fail_msg("get: %s", st.msg);
    double v = s->residual_score;
    protobuf_c_message_free_unpacked(&s->base, NULL);
    return v;
}

static void decide(fx *f, const char *id, bool accept, const char *reason)
{
    char name[256];
    snprintf(name, sizeof name, BIG "/countermeasures/%s", id);
    status st = {0};
    Countermeasure *c =
        countermeasure_decide(fixture_as(&f->base, &f->admin), name, "", accept, reason, &st);
    if (!c)
        fail_msg("decide %s: %s", id, st.msg);
    protobuf_c_message_free_unpacked(&c->base, NULL);
}

static void test_countermeasures_move_the_residual(void **state)
{
    fx *f = *state;
    scenario_ok(f, "big", 5, 4, "");
    status st = {0};
    /* proposed, whatever the client says; it counts only once accepted */
    Countermeasure *c = measure(f, &f->editor, "fence", 3, 2, &st);
    if (!c)
        fail_msg("measure: %s", st.msg);
    assert_int_equal(c->state, SUPPLYSEC__V1__COUNTERMEASURE_STATE__COUNTERMEASURE_STATE_PROPOSED);
    assert_true(c->residual_score == 6);
    protobuf_c_message_free_unpacked(&c->base, NULL);
    assert_true(residual(f) == 20);
    /* not above the scenario's own levels */
    assert_null(measure(f, &f->editor, "worse", 5, 5, &st));
    assert_int_equal(st.code, STATUS_INVALID_ARGUMENT);
    assert_non_null(strstr(st.msg, "countermeasure.residual_likelihood_level"));
    /* an ADMIN decides */
    assert_null(countermeasure_decide(fixture_as(&f->base, &f->editor),
                                      BIG "/countermeasures/fence", "", true, "", &st));
    assert_int_equal(st.code, STATUS_PERMISSION_DENIED);
    decide(f, "fence", true, "");
    assert_true(residual(f) == 6);
    c = measure(f, &f->editor, "guards", 2, 2, &st);
    protobuf_c_message_free_unpacked(&c->base, NULL);
    decide(f, "guards", true, "");
    assert_true(residual(f) == 4); /* the lowest accepted */
    assert_null(countermeasure_decide(fixture_as(&f->base, &f->admin),
                                      BIG "/countermeasures/guards", "", false, "", &st));
    assert_int_equal(st.code, STATUS_INVALID_ARGUMENT);
    decide(f, "guards", false, "Too costly");
    assert_true(residual(f) == 6);
    assert_null(countermeasure_decide(fixture_as(&f->base, &f->admin),
                                      BIG "/countermeasures/guards", "", false, "Again", &st));
    assert_int_equal(st.code, STATUS_FAILED_PRECONDITION);
    /* an accepted one is not edited; deleting it scores the scenario again */
    char err[128];
    const char *pj = "{\"name\":\"" BIG "/countermeasures/fence\",\"owner\":\"Facility manager\"}";
    ProtobufCMessage *patch =
        doc_message_from_json(countermeasure_kind.desc, pj, strlen(pj), err, sizeof err);
    char *owner[] = {"owner"};
    assert_null(std_update(fixture_as(&f->base, &f->editor), &countermeasure_kind, patch, owner, 1,
                           true, &st));
    assert_int_equal(st.code, STATUS_FAILED_PRECONDITION);
    protobuf_c_message_free_unpacked(patch, NULL);
    assert_true(std_delete(fixture_as(&f->base, &f->admin), &countermeasure_kind,
                           BIG "/countermeasures/fence", "", &st));
    assert_true(residual(f) == 20);
    /* a measure above the scenario's levels, lowered since it was proposed, is
     * not accepted */
    c = measure(f, &f->editor, "wall", 4, 4, &st);
    protobuf_c_message_free_unpacked(&c->base, NULL);
    char *lower[] = {"consequence_level", "likelihood_level"};
    ThreatScenario *low = (ThreatScenario *)fixture_try_update(
        &f->base, &f->editor, &threat_scenario_kind,
        "{\"name\":\"" BIG "\",\"consequenceLevel\":3,\"likelihoodLevel\":3}", lower, 2, &st);
    if (!low)
        fail_msg("lower: %s", st.msg);
    protobuf_c_message_free_unpacked(&low->base, NULL);
    assert_null(countermeasure_decide(fixture_as(&f->base, &f->admin), BIG "/countermeasures/wall",
                                      "", true, "", &st));
    fixture_refused(&st, STATUS_FAILED_PRECONDITION, "above its own (3 and 3)");
    /* a scenario's own levels changing keeps the accepted measures' effect */
    decide(f, "guards", true, "");
    assert_true(residual(f) == 4);
    pj = "{\"name\":\"" BIG "\",\"consequenceLevel\":5,\"likelihoodLevel\":5}";
    patch = doc_message_from_json(threat_scenario_kind.desc, pj, strlen(pj), err, sizeof err);
    char *levels[] = {"consequence_level", "likelihood_level"};
    ThreatScenario *s = (ThreatScenario *)std_update(
        fixture_as(&f->base, &f->editor), &threat_scenario_kind, patch, levels, 2, true, &st);
    if (!s)
        fail_msg("update: %s", st.msg);
    assert_true(s->incident_score == 25 && s->residual_score == 4);
    protobuf_c_message_free_unpacked(&s->base, NULL);
    protobuf_c_message_free_unpacked(patch, NULL);
}

static void test_countermeasures_treat_and_go_with_the_assessment(void **state)
{
    fx *f = *state;
    approve_statement(f);
    scenario_ok(f, "big", 5, 4, "");
    status st = {0};
    Countermeasure *c = measure(f, &f->editor, "fence", 3, 2, &st);
    protobuf_c_message_free_unpacked(&c->base, NULL);
    approve_refused(f, "1 scenario over the acceptable level");
    decide(f, "fence", true, "");
    /* the matrix moves the scenario from (5,4) to (3,2) */
    Supplysec__V1__RiskMatrix *m =
        security_assessment_matrix(fixture_as(&f->base, &f->viewer), ASSESSMENT, &st);
    assert_int_equal(m->before[(5 - 1) * 5 + (4 - 1)]->count, 1);
    assert_int_equal(m->after[(5 - 1) * 5 + (4 - 1)]->count, 0);
    assert_int_equal(m->after[(3 - 1) * 5 + (2 - 1)]->count, 1);
    protobuf_c_message_free_unpacked(&m->base, NULL);
    ProtobufCMessage *a = move(f, &f->editor, DOC_SUBMIT, &st);
    protobuf_c_message_free_unpacked(a, NULL);
    /* decided while in review: refused */
    assert_null(countermeasure_decide(fixture_as(&f->base, &f->admin), BIG "/countermeasures/fence",
                                      "", false, "No", &st));
    assert_int_equal(st.code, STATUS_FAILED_PRECONDITION);
    a = move(f, &f->admin, DOC_APPROVE, &st);
    if (!a)
        fail_msg("approve: %s", st.msg);
    protobuf_c_message_free_unpacked(a, NULL);
    /* a never-approved assessment is deleted with its scenarios' measures */
    fixture_make(&f->base, &f->editor, &security_assessment_kind, ORG, "other",
                 "{\"title\":\"Other\",\"scoringScheme\":\"" SCHEME "\"}");
    fixture_make(&f->base, &f->editor, &threat_scenario_kind, ORG "/securityAssessments/other",
                 "theft",
                 "{\"title\":\"T\",\"category\":\"THREAT_CATEGORY_THEFT\","
                 "\"source\":\"SCENARIO_SOURCE_ASSESSMENT_TEAM\",\"target\":\"" PARTNER "\","
                 "\"consequenceLevel\":3,\"likelihoodLevel\":3}");
    fixture_make(
        &f->base, &f->editor, &countermeasure_kind,
        ORG "/securityAssessments/other/threatScenarios/theft", "lock",
        "{\"description\":\"Locks\",\"aeoCriterion\":\"AEO_CRITERION_C_CARGO\",\"priority\":2,"
        "\"residualConsequenceLevel\":2,\"residualLikelihoodLevel\":2}");
    assert_true(std_delete(fixture_as(&f->base, &f->admin), &security_assessment_kind,
                           ORG "/securityAssessments/other", "", &st));
    assert_null(std_get(fixture_as(&f->base, &f->admin), &countermeasure_kind,
                        ORG "/securityAssessments/other/threatScenarios/theft/countermeasures/lock",
                        &st));
    assert_int_equal(st.code, STATUS_NOT_FOUND);
}

/* An approved revision keeps its scenarios and countermeasures as they
 * were: readable under `{assessment}@{revision}/...` while the next
 * revision's draft changes the live ones. */
static void test_approved_revision_keeps_its_parts(void **state)
{
    fx *f = *state;
    status st = {0};
    approve_statement(f);
    scenario_ok(f, "big", 5, 4, "");
    Countermeasure *c = measure(f, &f->editor, "fence", 3, 2, &st);
    protobuf_c_message_free_unpacked(&c->base, NULL);
    decide(f, "fence", true, "");
    world_approve(f, &security_assessment_kind, ASSESSMENT);
    ProtobufCMessage *a = move(f, &f->editor, DOC_REVISE, &st);
    protobuf_c_message_free_unpacked(a, NULL);
    char *paths[] = {"title"};
    ProtobufCMessage *u = fixture_try_update(
        &f->base, &f->editor, &threat_scenario_kind,
        "{\"name\":\"" BIG "\",\"title\":\"Renamed in revision 2\"}", paths, 1, &st);
    assert_non_null(u);
    protobuf_c_message_free_unpacked(u, NULL);

    const op_ctx *op = fixture_as(&f->base, &f->viewer);
    const char *kept = ASSESSMENT "@1/threatScenarios/big";
    ThreatScenario *s = (ThreatScenario *)std_get(op, &threat_scenario_kind, kept, &st);
    if (!s)
        fail_msg("get %s: %s", kept, st.msg);
    assert_string_equal(s->name, kept);
    assert_string_equal(s->title, "Scenario big");
    assert_true(s->residual_score == 6);
    protobuf_c_message_free_unpacked(&s->base, NULL);
    c = (Countermeasure *)std_get(op, &countermeasure_kind,
                                  ASSESSMENT "@1/threatScenarios/big/"
                                             "countermeasures/fence",
                                  &st);
    assert_non_null(c);
    assert_int_equal(c->state, SUPPLYSEC__V1__COUNTERMEASURE_STATE__COUNTERMEASURE_STATE_ACCEPTED);
    protobuf_c_message_free_unpacked(&c->base, NULL);
    resource_page page = {0};
    std_list_req req = {.parent = ASSESSMENT "@1"};
    assert_true(std_list(op, &threat_scenario_kind, &req, &page, &st));
    assert_int_equal(page.count, 1);
    assert_string_equal(((ThreatScenario *)page.items[0])->name, kept);
    resource_page_free(&page);
    req.parent = ASSESSMENT "@1/threatScenarios/big";
    assert_true(std_list(op, &countermeasure_kind, &req, &page, &st));
    assert_int_equal(page.count, 1);
    resource_page_free(&page);
    /* the live one is the draft's */
    s = (ThreatScenario *)std_get(op, &threat_scenario_kind, BIG, &st);
    assert_string_equal(s->title, "Renamed in revision 2");
    protobuf_c_message_free_unpacked(&s->base, NULL);
    /* revision 2 is not approved: nothing is kept for it; a kept part is read only */
    assert_null(std_get(op, &threat_scenario_kind, ASSESSMENT "@2/threatScenarios/big", &st));
    assert_int_equal(st.code, STATUS_NOT_FOUND);
    assert_null(fixture_try_update(&f->base, &f->editor, &threat_scenario_kind,
                                   "{\"name\":\"" ASSESSMENT "@1/threatScenarios/big\","
                                   "\"title\":\"x\"}",
                                   paths, 1, &st));
    assert_int_equal(st.code, STATUS_INVALID_ARGUMENT);
    assert_null(std_get(op, &threat_scenario_kind, ASSESSMENT "@01/threatScenarios/big", &st));
    fixture_refused(&st, STATUS_INVALID_ARGUMENT, "{document}@{revision_id}/...");
    /* another organization: NOT_FOUND */
    assert_null(std_get(fixture_as(&f->base, &f->other), &threat_scenario_kind, kept, &st));
    assert_int_equal(st.code, STATUS_NOT_FOUND);
}

static void test_annual_loss_simulation(void **state)
{
    fx *f = *state;
    status st = {0};
    /* a 5 x 5 assessment has no costs to simulate */
    assert_null(
        security_assessment_simulate(fixture_as(&f->base, &f->viewer), ASSESSMENT, 1000, 1, &st));
    assert_int_equal(st.code, STATUS_FAILED_PRECONDITION);
    assert_non_null(strstr(st.msg, "expected-annual-loss"));
    fixture_make(&f->base, &f->editor, &scoring_scheme_kind, ORG, "costs",
                 "{\"title\":\"Costs\",\"preset\":\"SCORING_PRESET_SEMI_QUANTITATIVE\"}");
    fixture_make(&f->base, &f->editor, &security_assessment_kind, ORG, "eal",
                 "{\"title\":\"EAL\",\"scoringScheme\":\"" ORG "/scoringSchemes/costs\"}");
    const char *eal = ORG "/securityAssessments/eal";
    /* theft once a year at 10,000 to 100,000 (55,000 a year expected), a
     * countermeasure bringing it to once a decade at 1,000 to 10,000 (550) */
    fixture_make(&f->base, &f->editor, &threat_scenario_kind, eal, "theft",
                 "{\"title\":\"Theft\",\"category\":\"THREAT_CATEGORY_THEFT\","
                 "\"source\":\"SCENARIO_SOURCE_ASSESSMENT_TEAM\",\"target\":\"" PARTNER "\","
                 "\"consequenceLevel\":3,\"likelihoodLevel\":3}");
    fixture_make(&f->base, &f->editor, &threat_scenario_kind, eal, "fraud",
                 "{\"title\":\"Fraud\",\"category\":\"THREAT_CATEGORY_DOCUMENT_FRAUD\","
                 "\"source\":\"SCENARIO_SOURCE_ASSESSMENT_TEAM\",\"target\":\"" PARTNER "\","
                 "\"consequenceLevel\":2,\"likelihoodLevel\":2}");
    fixture_make(
        &f->base, &f->editor, &countermeasure_kind,
        ORG "/securityAssessments/eal/threatScenarios/theft", "seal",
        "{\"description\":\"Seals\",\"aeoCriterion\":\"AEO_CRITERION_C_CARGO\",\"priority\":1,"
        "\"residualConsequenceLevel\":2,\"residualLikelihoodLevel\":2}");
    Countermeasure *c = countermeasure_decide(
        fixture_as(&f->base, &f->admin),
        ORG "/securityAssessments/eal/threatScenarios/theft/countermeasures/seal", "", true, "",
        &st);
    assert_non_null(c);
    protobuf_c_message_free_unpacked(&c->base, NULL);

    Supplysec__V1__AnnualLossSimulation *a =
        security_assessment_simulate(fixture_as(&f->base, &f->viewer), eal, 50000, 99, &st);
    if (!a)
        fail_msg("simulate: %s", st.msg);
    assert_true(a->seed == 99);
    assert_int_equal(a->trials, 50000);
    assert_string_equal(a->currency, "EUR");
    assert_int_equal(a->n_scenarios, 2);
    assert_non_null(strstr(a->scenarios[1]->threat_scenario, "theft")); /* by name */
    const Supplysec__V1__LossDistribution *tb = a->scenarios[1]->before;
    if (fabs(tb->mean - 55000) > 0.02 * 55000)
        fail_msg("theft before: mean %g, not within 2%% of 55,000", tb->mean);
    assert_true(a->scenarios[1]->after->mean < 1000);
    /* no countermeasure: the same draws, the same figures after as before */
    assert_true(a->scenarios[0]->after->mean == a->scenarios[0]->before->mean);
    assert_true(a->scenarios[0]->after->p99 == a->scenarios[0]->before->p99);
    /* the whole: fraud (550 a year) and theft, the same years added */
    if (fabs(a->total_before->mean - 55550) > 0.02 * 55550)
        fail_msg("total before: mean %g", a->total_before->mean);
    assert_true(a->total_after->mean < a->total_before->mean);
    assert_true(a->total_before->p99 >= a->total_before->p90);
    /* the same seed, the same figures; a drawn seed is told */
    Supplysec__V1__AnnualLossSimulation *b =
        security_assessment_simulate(fixture_as(&f->base, &f->viewer), eal, 50000, 99, &st);
    assert_true(b->total_before->p90 == a->total_before->p90);
    assert_true(b->scenarios[0]->after->mean == a->scenarios[0]->after->mean);
    protobuf_c_message_free_unpacked(&b->base, NULL);
    b = security_assessment_simulate(fixture_as(&f->base, &f->viewer), eal, 0, 0, &st);
    assert_true(b->seed != 0);
    assert_int_equal(b->trials, LOSS_TRIALS_DEFAULT);
    protobuf_c_message_free_unpacked(&b->base, NULL);
    protobuf_c_message_free_unpacked(&a->base, NULL);
    assert_null(security_assessment_simulate(fixture_as(&f->base, &f->viewer), eal,
                                             LOSS_TRIALS_MAX + 1, 1, &st));
    assert_int_equal(st.code, STATUS_INVALID_ARGUMENT);
    assert_null(security_assessment_simulate(fixture_as(&f->base, &f->other), eal, 10, 1, &st));
    assert_int_equal(st.code, STATUS_NOT_FOUND);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_scheme_copied_at_creation, world_setup,
                                        world_teardown),
        cmocka_unit_test_setup_teardown(test_scores_are_the_servers, world_setup, world_teardown),
        cmocka_unit_test_setup_teardown(test_target_checked, world_setup, world_teardown),
        cmocka_unit_test_setup_teardown(test_government_required_stays, world_setup,
                                        world_teardown),
        cmocka_unit_test_setup_teardown(test_risk_acceptance_is_an_admins, world_setup,
                                        world_teardown),
        cmocka_unit_test_setup_teardown(test_scenarios_change_only_in_a_draft, world_setup,
                                        world_teardown),
        cmocka_unit_test_setup_teardown(test_approval_preconditions, world_setup, world_teardown),
        cmocka_unit_test_setup_teardown(test_approval_needs_method_and_team, world_setup,
                                        world_teardown),
        cmocka_unit_test_setup_teardown(test_ranking_and_matrix, world_setup, world_teardown),
        cmocka_unit_test_setup_teardown(test_delete_takes_the_scenarios, world_setup,
                                        world_teardown),
        cmocka_unit_test_setup_teardown(test_countermeasures_move_the_residual, world_setup,
                                        world_teardown),
        cmocka_unit_test_setup_teardown(test_countermeasures_treat_and_go_with_the_assessment,
                                        world_setup, world_teardown),
        cmocka_unit_test_setup_teardown(test_approved_revision_keeps_its_parts, world_setup,
                                        world_teardown),
        cmocka_unit_test_setup_teardown(test_annual_loss_simulation, world_setup, world_teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
