/* test_readiness.c — readiness reports (readiness.h) over the evidence
 * (evidence.h), without gRPC, on an in-memory SQLite store: starting from a
 * forwarder with a draft statement and assessment, the data arrives piece
 * by piece and each rule is seen in both directions, through the
 * requirements of all three frameworks that use it: MISSING with nothing,
 * PARTIAL with part, MET once complete, and back to PARTIAL when a piece
 * goes (a revision adding an untreated scenario, an incident not notified,
 * monitoring overdue, an objective not measured); the missing text names
 * what to do; production is NOT_APPLICABLE until the organization
 * manufactures; the government functions listed, never judged; another
 * organization and an unknown framework are NOT_FOUND. */
#include "world.h"

#include "calendar.h"
#include "countermeasure.h"
#include "credibility_review.h"
#include "declaration.h"
#include "declaration_request.h"
#include "management_review.h"
#include "monitoring_record.h"
#include "plan_item.h"
#include "readiness.h"
#include "security_incident.h"
#include "security_objective.h"
#include "security_plan.h"
#include "security_policy.h"
#include "threat_scenario.h"
#include "training_record.h"

#define S(x) SUPPLYSEC__V1__REQUIREMENT_STATUS__REQUIREMENT_STATUS_##x
#define ORG WORLD_ORG
#define PLAN ORG "/securityPlans/plan"
/* The plan, all it needs for approval, one monitoring activity (seals, weekly). */
#define PLAN_JSON                                                                                  \
    "{\"title\":\"Plan\",\"securityAssessment\":\"" WORLD_ASSESSMENT "\","                         \
    "\"consideredGuidance\":[{\"annex\":\"GUIDANCE_ANNEX_A\",\"reference\":\"A.1\"}],"             \
    "\"trainingProgramme\":\"T\",\"incidentProcedure\":\"Call customs\","                          \
    "\"monitoringSchedule\":[{\"id\":\"seals\",\"description\":\"Seal log\","                      \
    "\"intervalDays\":7}]}"

typedef Supplysec__V1__ReadinessReport Report;

static Report *report(world *w, const char *framework)
{
    char name[128];
    status st = {0};
    snprintf(name, sizeof name, ORG "/readinessReports/%s", framework);
    Report *r = readiness_report(fixture_as(&w->base, &w->viewer), name, "", &st);
    if (!r)
        fail_msg("report %s: %s", framework, st.msg);
    return r;
}

/* Fails unless requirement id of framework has status want and, when
 * text is not NULL, a missing sentence containing it (or, for MET, none). */
static void expect(world *w, const char *framework, const char *id, int want, const char *text)
{
    Report *r = report(w, framework);
    const Supplysec__V1__RequirementReadiness *q = NULL;
    for (size_t i = 0; i < r->n_requirements && !q; i++)
        if (strcmp(r->requirements[i]->id, id) == 0)
            q = r->requirements[i];
    if (!q)
        fail_msg("%s has no requirement %s", framework, id);
    bool found = !text;
    char all[2048] = "";
    for (size_t i = 0; i < q->n_missing; i++) {
        found |= text && strstr(q->missing[i], text) != NULL;
        size_t n = strlen(all);
        snprintf(all + n, sizeof all - n, " | %s", q->missing[i]);
    }
    if ((int)q->status != want || !found)
        fail_msg("%s %s: status %d (want %d), missing:%s (want \"%s\")", framework, id, q->status,
                 want, all, text ? text : "");
    if (want == S(MET) && q->n_missing)
        fail_msg("%s %s: MET but missing:%s", framework, id, all);
    protobuf_c_message_free_unpacked(&r->base, NULL);
}

static void policy_and_statement(world *w)
{
    expect(w, "wco-safe-aeo", "B", S(PARTIAL), "Write a security policy");
    expect(w, "ctpat-msc", "security-vision", S(MISSING), "Write a security policy");
    fixture_make(&w->base, &w->editor, &security_policy_kind, ORG, "policy",
                 "{\"title\":\"Security policy\",\"text\":\"We secure the chain.\","
                 "\"signOff\":{\"signatoryName\":\"A. Chef\",\"signatoryRole\":\"CEO\","
                 "\"signTime\":\"2026-01-05T00:00:00Z\"}}");
    expect(w, "wco-safe-aeo", "B", S(PARTIAL), "approve " ORG "/securityPolicies/policy");
    world_approve(w, &security_policy_kind, ORG "/securityPolicies/policy");
    expect(w, "wco-safe-aeo", "B", S(PARTIAL), "approve " WORLD_STATEMENT);
    world_approve(w, &statement_of_application_kind, WORLD_STATEMENT);
    expect(w, "wco-safe-aeo", "B", S(MET), NULL);
}

static void measure(world *w, const char *scenario, const char *id, const char *criterion)
{
    char json[512], name[256];
    status st = {0};
    snprintf(json, sizeof json,
             "{\"description\":\"Measure %s\",\"aeoCriterion\":\"AEO_CRITERION_%s\","
             "\"priority\":1,\"residualConsequenceLevel\":1,\"residualLikelihoodLevel\":1}",
             id, criterion);
    snprintf(name, sizeof name, WORLD_ASSESSMENT "/threatScenarios/%s", scenario);
    fixture_make(&w->base, &w->editor, &countermeasure_kind, name, id, json);
    snprintf(name + strlen(name), sizeof name - strlen(name), "/countermeasures/%s", id);
    Countermeasure *c =
        countermeasure_decide(fixture_as(&w->base, &w->admin), name, "", true, "", &st);
    if (!c)
        fail_msg("accept %s: %s", id, st.msg);
    protobuf_c_message_free_unpacked(&c->base, NULL);
}

static void scenario(world *w, const char *id, const char *category, int level)
{
    char json[512];
    snprintf(json, sizeof json,
             "{\"title\":\"Scenario %s\",\"category\":\"THREAT_CATEGORY_%s\","
             "\"source\":\"SCENARIO_SOURCE_ASSESSMENT_TEAM\",\"target\":\"" WORLD_PARTNER
             "\",\"consequenceLevel\":%d,\"likelihoodLevel\":%d}",
             id, category, level, level);
    fixture_make(&w->base, &w->editor, &threat_scenario_kind, WORLD_ASSESSMENT, id, json);
}

/* The assessment approved: theft treated for cargo (C) and premises (E),
 * an agricultural scenario within the acceptable level. */
static void assessment(world *w)
{
    expect(w, "wco-safe-aeo", "A", S(PARTIAL), "No approved assessment names a qualified team");
    expect(w, "ctpat-msc", "risk-assessment", S(PARTIAL), "approve " WORLD_ASSESSMENT);
    expect(w, "ctpat-msc", "agricultural-security", S(MISSING), "agricultural");
    scenario(w, "theft", "THEFT", 4);
    measure(w, "theft", "seals", "C_CARGO");
    measure(w, "theft", "fence", "E_PREMISES");
    scenario(w, "pests", "AGRICULTURAL", 1);
    world_approve(w, &security_assessment_kind, WORLD_ASSESSMENT);
    expect(w, "ctpat-msc", "risk-assessment", S(MET), NULL);
    expect(w, "ctpat-msc", "agricultural-security", S(MET), NULL);
    expect(w, "eu-aeo-security", "security-assessment", S(MET), NULL);
    /* a revision in the making adds an untreated pest scenario */
    status st = {0};
    ProtobufCMessage *m =
        lifecycle_move(fixture_as(&w->base, &w->editor), &security_assessment_kind, DOC_REVISE,
                       WORLD_ASSESSMENT, "", "", &st);
    protobuf_c_message_free_unpacked(m, NULL);
    scenario(w, "beetles", "AGRICULTURAL", 5);
    expect(w, "ctpat-msc", "agricultural-security", S(PARTIAL),
           "1 agricultural scenario is over the acceptable level untreated");
    char path[128] = WORLD_ASSESSMENT "/threatScenarios/beetles";
    assert_true(std_delete(fixture_as(&w->base, &w->admin), &threat_scenario_kind, path, "", &st));
    world_approve(w, &security_assessment_kind, WORLD_ASSESSMENT);
    expect(w, "ctpat-msc", "agricultural-security", S(MET), NULL);
}

static void plan(world *w)
{
    expect(w, "wco-safe-aeo", "C", S(MISSING), "criterion C_CARGO");
    expect(w, "wco-safe-aeo", "H", S(MISSING), "Write a security plan");
    fixture_make(&w->base, &w->editor, &security_plan_kind, ORG, "plan", PLAN_JSON);
    expect(w, "wco-safe-aeo", "H", S(PARTIAL), "approve " PLAN);
    expect(w, "wco-safe-aeo", "C", S(MISSING), "criterion C_CARGO"); /* not in force yet */
    world_approve(w, &security_plan_kind, PLAN);
    /* items are made in the order of their countermeasures' names: fence, seals */
    expect(w, "wco-safe-aeo", "C", S(PARTIAL),
           "1 of the 1 plan items for criterion C_CARGO are not implemented yet, e.g. " PLAN
           "/items/item-0002");
    expect(w, "eu-aeo-security", "cargo-units", S(PARTIAL), "C_CARGO");
    expect(w, "ctpat-msc", "seal-security", S(PARTIAL), "C_CARGO");
    world_update(w, &w->editor, &plan_item_kind,
                 "{\"name\":\"" PLAN
                 "/items/item-0002\",\"status\":\"PLAN_ITEM_STATUS_IMPLEMENTED\"}",
                 "status");
    expect(w, "wco-safe-aeo", "C", S(MET), NULL);
    expect(w, "eu-aeo-security", "storage", S(MET), NULL);
    expect(w, "wco-safe-aeo", "E", S(PARTIAL), "criterion E_PREMISES");
    world_update(w, &w->editor, &plan_item_kind,
                 "{\"name\":\"" PLAN "/items/item-0001\",\"status\":\"PLAN_ITEM_STATUS_VERIFIED\","
                 "\"evidence\":[\"Photo of the fence\"]}",
                 "*");
    expect(w, "ctpat-msc", "physical-access-controls", S(MET), NULL);
    expect(w, "wco-safe-aeo", "D", S(MISSING), "criterion D_CONVEYANCE");
    expect(w, "ctpat-msc", "cybersecurity", S(MISSING), "criterion B_INFORMATION");
}

static void training(world *w, const char *id, const char *kind, int days_ago)
{
    char json[512], when[CALENDAR_RFC3339_MAX];
    snprintf(json, sizeof json,
             "{\"kind\":\"TRAINING_KIND_%s\",\"topic\":\"Topic %s\",\"holdTime\":\"%s\","
             "\"attendees\":[\"Gate staff\"]}",
             kind, id, world_in_days(when, -days_ago));
    fixture_make(&w->base, &w->editor, &training_record_kind, PLAN, id, json);
}

static void training_and_incidents(world *w)
{
    expect(w, "wco-safe-aeo", "A", S(PARTIAL), "No training recorded");
    training(w, "awareness-2024", "TRAINING", 400);
    expect(w, "wco-safe-aeo", "A", S(PARTIAL), "No training in the last 12 months");
    training(w, "awareness", "TRAINING", 30);
    expect(w, "wco-safe-aeo", "A", S(MET), NULL);
    expect(w, "ctpat-msc", "education-training", S(PARTIAL), "No drill or exercise");
    expect(w, "wco-safe-aeo", "H", S(PARTIAL), "No drill or exercise");
    training(w, "intrusion", "DRILL", 10);
    expect(w, "ctpat-msc", "education-training", S(MET), NULL);
    expect(w, "wco-safe-aeo", "H", S(MET), NULL); /* no incident yet: not held against it */
    fixture_make(&w->base, &w->editor, &security_incident_kind, ORG, "break-in",
                 "{\"title\":\"Break-in\",\"occurTime\":\"2026-01-01T00:00:00Z\","
                 "\"severity\":\"INCIDENT_SEVERITY_HIGH\",\"requiredNotifications\":"
                 "[{\"kind\":\"AUTHORITY_KIND_CUSTOMS\",\"authority\":\"Zoll\"}]}");
    expect(w, "wco-safe-aeo", "H", S(PARTIAL),
           "1 open incident still waits for a required notification");
    expect(w, "ctpat-msc", "procedural-security", S(PARTIAL), "required notification");
    world_update(w, &w->editor, &security_incident_kind,
                 "{\"name\":\"" ORG "/securityIncidents/break-in\",\"notifications\":[{\"kind\":"
                 "\"AUTHORITY_KIND_CUSTOMS\",\"authority\":\"Zoll\",\"reference\":\"Z-1\","
                 "\"notifyTime\":\"2026-01-02T00:00:00Z\"}]}",
                 "notifications");
    expect(w, "wco-safe-aeo", "H", S(MET), NULL);
}

static void partners(world *w)
{
    char json[768], until[CALENDAR_RFC3339_MAX];
    expect(w, "ctpat-msc", "business-partners", S(MISSING), "1 of 1 business partners");
    snprintf(json, sizeof json,
             "{\"legalName\":\"Port BV\",\"countryCode\":\"NL\",\"riskTier\":\"RISK_TIER_LOW\","
             "\"certificates\":[{\"type\":\"PARTNER_CERTIFICATE_TYPE_AEO_S\",\"number\":\"NL1\","
             "\"issuingAuthority\":\"Douane\",\"validUntil\":\"%s\","
             "\"verifiedBy\":\"CERTIFICATE_VERIFICATION_AUTHORITY_REGISTER\","
             "\"verifyTime\":\"2026-01-01T00:00:00Z\"}]}",
             world_in_days(until, 365));
    fixture_make(&w->base, &w->editor, &business_partner_kind, ORG, "port", json);
    expect(w, "ctpat-msc", "business-partners", S(PARTIAL),
           "1 of 2 business partners are neither exempt nor covered");
    expect(w, "wco-safe-aeo", "G", S(PARTIAL), "Carrier: no accepted declaration of security");
    world_carrier_declared(w, 365, true);
    expect(w, "wco-safe-aeo", "G", S(MET), NULL);
    expect(w, "eu-aeo-security", "external-services", S(MET), NULL);
}

static void review(world *w, const char *id, int days_ago)
{
    char json[512], when[CALENDAR_RFC3339_MAX], name[128];
    snprintf(json, sizeof json,
             "{\"title\":\"Review %s\",\"reviewTime\":\"%s\",\"attendees\":[\"CEO\"],"
             "\"decisions\":[\"Carry on\"]}",
             id, world_in_days(when, -days_ago));
    fixture_make(&w->base, &w->editor, &management_review_kind, ORG, id, json);
    snprintf(name, sizeof name, ORG "/managementReviews/%s", id);
    world_approve(w, &management_review_kind, name);
}

static void measurement(world *w)
{
    expect(w, "wco-safe-aeo", "I", S(PARTIAL), "No management review has an approved record");
    expect(w, "ctpat-msc", "security-vision", S(PARTIAL), "No management review");
    review(w, "review-2024", 500);
    expect(w, "ctpat-msc", "security-vision", S(PARTIAL), "more than 12 months ago");
    review(w, "review-2026", 20);
    expect(w, "ctpat-msc", "security-vision", S(MET), NULL);
    expect(w, "wco-safe-aeo", "I", S(PARTIAL), "No security objective is set");
    fixture_make(&w->base, &w->editor, &security_objective_kind, ORG, "seals",
                 "{\"title\":\"Seals\",\"indicator\":\"i\",\"direction\":"
                 "\"TARGET_DIRECTION_AT_MOST\",\"target\":2,\"measurements\":"
                 "[{\"measureTime\":\"2026-01-01T00:00:00Z\",\"value\":1}]}");
    expect(w, "wco-safe-aeo", "I", S(PARTIAL), "No monitoring recorded");
    char json[512], when[CALENDAR_RFC3339_MAX];
    snprintf(json, sizeof json,
             "{\"activity\":\"seals\",\"performTime\":\"%s\",\"performer\":\"Guard\","
             "\"result\":\"MONITORING_RESULT_CONFORMING\"}",
             world_in_days(when, -10));
    fixture_make(&w->base, &w->editor, &monitoring_record_kind, PLAN, "check-1", json);
    expect(w, "wco-safe-aeo", "I", S(MET), NULL);
    /* the activity is every 7 days: overdue once the plan has been in force a while */
    world_plan_in_force_since(w, PLAN, 30 * WORLD_DAY_S);
    expect(w, "wco-safe-aeo", "I", S(PARTIAL), "1 monitoring activity is overdue");
    snprintf(json, sizeof json,
             "{\"activity\":\"seals\",\"performTime\":\"%s\",\"performer\":\"Guard\","
             "\"result\":\"MONITORING_RESULT_CONFORMING\"}",
             world_in_days(when, -1));
    fixture_make(&w->base, &w->editor, &monitoring_record_kind, PLAN, "check-2", json);
    expect(w, "wco-safe-aeo", "I", S(MET), NULL);
    fixture_make(&w->base, &w->editor, &security_objective_kind, ORG, "gates",
                 "{\"title\":\"Gates\",\"indicator\":\"i\",\"direction\":"
                 "\"TARGET_DIRECTION_AT_MOST\",\"target\":2}");
    expect(w, "wco-safe-aeo", "I", S(PARTIAL), "1 objective is not measured yet");
}

static void test_each_rule_both_ways(void **state)
{
    world *w = *state;
    /* a manufacturer only produces: production does not apply to a forwarder */
    expect(w, "eu-aeo-security", "production", S(NOT_APPLICABLE), NULL);
    policy_and_statement(w);
    assessment(w);
    plan(w);
    training_and_incidents(w);
    partners(w);
    measurement(w);
    world_update(w, &w->admin, &organization_kind,
                 "{\"name\":\"" ORG "\",\"supplyChainRoles\":[\"SUPPLY_CHAIN_ROLE_MANUFACTURER\"]}",
                 "supply_chain_roles");
    expect(w, "eu-aeo-security", "production", S(MET), NULL);
}

/* Every requirement of every framework, counted by status, for org's
 * report as who. */
static void statuses(world *w, const principal *who, const char *org, const char *framework,
                     int counts[5], char *first_not_met, size_t size)
{
    char name[128];
    status st = {0};
    snprintf(name, sizeof name, "organizations/%s/readinessReports/%s", org, framework);
    Report *r = readiness_report(fixture_as(&w->base, who), name, "", &st);
    if (!r)
        fail_msg("%s: %s", name, st.msg);
    memset(counts, 0, 5 * sizeof *counts);
    first_not_met[0] = '\0';
    for (size_t i = 0; i < r->n_requirements; i++) {
        const Supplysec__V1__RequirementReadiness *q = r->requirements[i];
        counts[q->status]++;
        if (q->status != S(MET) && !first_not_met[0])
            snprintf(first_not_met, size, "%s %s: %s", framework, q->id,
                     q->n_missing ? q->missing[0] : "");
    }
    protobuf_c_message_free_unpacked(&r->base, NULL);
}

/* The whole system, every piece in place. */
static void complete(world *w)
{
    fixture_make(&w->base, &w->editor, &security_policy_kind, ORG, "policy",
                 "{\"title\":\"Policy\",\"text\":\"T\",\"signOff\":{\"signatoryName\":\"A\","
                 "\"signatoryRole\":\"CEO\",\"signTime\":\"2026-01-05T00:00:00Z\"}}");
    world_approve(w, &security_policy_kind, ORG "/securityPolicies/policy");
    world_approve(w, &statement_of_application_kind, WORLD_STATEMENT);
    scenario(w, "theft", "THEFT", 4);
    const char *criteria[] = {"B_INFORMATION", "C_CARGO", "D_CONVEYANCE", "E_PREMISES",
                              "F_PERSONNEL"};
    for (size_t i = 0; i < 5; i++) {
        char id[32];
        snprintf(id, sizeof id, "measure-%zu", i + 1);
        measure(w, "theft", id, criteria[i]);
    }
    scenario(w, "pests", "AGRICULTURAL", 1);
    world_approve(w, &security_assessment_kind, WORLD_ASSESSMENT);
    fixture_make(&w->base, &w->editor, &security_plan_kind, ORG, "plan", PLAN_JSON);
    world_approve(w, &security_plan_kind, PLAN);
    for (int i = 1; i <= 5; i++) {
        char json[256];
        snprintf(json, sizeof json,
                 "{\"name\":\"" PLAN "/items/item-%04d\",\"status\":"
                 "\"PLAN_ITEM_STATUS_IMPLEMENTED\"}",
                 i);
        world_update(w, &w->editor, &plan_item_kind, json, "status");
    }
    training(w, "awareness", "TRAINING", 30);
    training(w, "intrusion", "DRILL", 10);
    world_carrier_declared(w, 365, true);
    fixture_make(&w->base, &w->editor, &security_objective_kind, ORG, "seals",
                 "{\"title\":\"Seals\",\"indicator\":\"i\",\"direction\":"
                 "\"TARGET_DIRECTION_AT_MOST\",\"target\":2,\"measurements\":"
                 "[{\"measureTime\":\"2026-01-01T00:00:00Z\",\"value\":1}]}");
    char json[512], when[CALENDAR_RFC3339_MAX];
    snprintf(json, sizeof json,
             "{\"activity\":\"seals\",\"performTime\":\"%s\",\"performer\":\"Guard\","
             "\"result\":\"MONITORING_RESULT_CONFORMING\"}",
             world_in_days(when, -1));
    fixture_make(&w->base, &w->editor, &monitoring_record_kind, PLAN, "check-1", json);
    review(w, "review-2026", 20);
    world_update(w, &w->admin, &organization_kind,
                 "{\"name\":\"" ORG "\",\"supplyChainRoles\":[\"SUPPLY_CHAIN_ROLE_MANUFACTURER\"]}",
                 "supply_chain_roles");
}

/* Both ends, for every requirement of every framework: an organization
 * with nothing misses all (production does not apply to it); one with the
 * whole system in place meets all. */
static void test_every_requirement_both_ways(void **state)
{
    world *w = *state;
    int counts[5];
    char not_met[1024];
    for (size_t f = 0; f < readiness_frameworks_n; f++) {
        const readiness_framework *fw = readiness_frameworks[f];
        statuses(w, &w->other, "oth", fw->id, counts, not_met, sizeof not_met);
        bool has_production = strcmp(fw->id, "eu-aeo-security") == 0;
        if (counts[S(MISSING)] != (int)fw->n_requirements - has_production ||
            counts[S(NOT_APPLICABLE)] != has_production)
            fail_msg("%s, nothing there: %d missing, %d not applicable, of %zu", fw->id,
                     counts[S(MISSING)], counts[S(NOT_APPLICABLE)], fw->n_requirements);
    }
    complete(w);
    for (size_t f = 0; f < readiness_frameworks_n; f++) {
        const readiness_framework *fw = readiness_frameworks[f];
        statuses(w, &w->viewer, "fwd", fw->id, counts, not_met, sizeof not_met);
        if (counts[S(MET)] != (int)fw->n_requirements)
            fail_msg("%s, all in place: %d of %zu met; %s", fw->id, counts[S(MET)],
                     fw->n_requirements, not_met);
    }
}

static void test_report_shape(void **state)
{
    world *w = *state;
    Report *r = report(w, "wco-safe-aeo");
    assert_string_equal(r->name, ORG "/readinessReports/wco-safe-aeo");
    assert_int_equal(r->n_requirements, 9);
    assert_string_equal(r->requirements[0]->id, "A");
    assert_string_equal(r->requirements[0]->clauses[0], "ISO 28000 4.4.2");
    assert_int_equal(r->n_outside_system, 4); /* the government functions, never judged */
    assert_int_equal(r->met_count + r->partial_count + r->missing_count + r->not_applicable_count,
                     9);
    assert_non_null(r->compute_time);
    protobuf_c_message_free_unpacked(&r->base, NULL);
    r = report(w, "ctpat-msc");
    assert_int_equal(r->n_requirements, 12);
    size_t groups[3] = {0};
    const char *names[3] = {"Corporate security", "Transportation security",
                            "People and physical security"};
    for (size_t i = 0; i < r->n_requirements; i++)
        for (size_t g = 0; g < 3; g++)
            groups[g] += strcmp(r->requirements[i]->group, names[g]) == 0;
    assert_int_equal(groups[0], 4);
    assert_int_equal(groups[1], 4);
    assert_int_equal(groups[2], 4);
    protobuf_c_message_free_unpacked(&r->base, NULL);
    status st = {0};
    assert_null(readiness_report(fixture_as(&w->base, &w->viewer), ORG "/readinessReports/iso-9001",
                                 "", &st));
    fixture_refused(&st, STATUS_NOT_FOUND, "the frameworks are wco-safe-aeo, eu-aeo-security");
    assert_null(readiness_report(fixture_as(&w->base, &w->other),
                                 ORG "/readinessReports/wco-safe-aeo", "", &st));
    assert_int_equal(st.code, STATUS_NOT_FOUND);
    assert_null(readiness_report(fixture_as(&w->base, &w->viewer), ORG "/reports/x", "", &st));
    fixture_refused(&st, STATUS_INVALID_ARGUMENT, "name: ");
    /* an incident, open, nothing to notify: the incidents rule holds, and
     * counts, so H is part met though no plan or drill is there yet */
    expect(w, "wco-safe-aeo", "H", S(MISSING), "Write a security plan");
    fixture_make(&w->base, &w->editor, &security_incident_kind, ORG, "minor",
                 "{\"title\":\"Minor\",\"occurTime\":\"2026-01-01T00:00:00Z\","
                 "\"severity\":\"INCIDENT_SEVERITY_LOW\"}");
    expect(w, "wco-safe-aeo", "H", S(PARTIAL), "Write a security plan");
    Supplysec__V1__ListReadinessFrameworksResponse *l = readiness_frameworks_list(&st);
    assert_int_equal(l->n_frameworks, 3);
    assert_int_equal(l->frameworks[1]->n_requirements, 12);
    assert_int_equal(l->frameworks[1]->requirements[0]->status, 0);
    protobuf_c_message_free_unpacked(&l->base, NULL);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_each_rule_both_ways, world_setup, world_teardown),
        cmocka_unit_test_setup_teardown(test_every_requirement_both_ways, world_setup,
                                        world_teardown),
        cmocka_unit_test_setup_teardown(test_report_shape, world_setup, world_teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
