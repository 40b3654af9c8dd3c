/* test_management_review.c — management reviews (management_review.h) and
 * the evidence they compile (evidence.h), without gRPC, on an in-memory
 * SQLite store: every kind of input counted from the organization's data
 * as it is when the review is created, and nothing else (a closed incident,
 * an item done, a treated scenario are not inputs); the inputs kept as
 * compiled whatever changes later; the previous review's open action items
 * listed and carried in, carried_from the server's; what approval needs. */
#include "world.h"

#include <unistd.h>

#include "calendar.h"
#include "countermeasure.h"
#include "declaration.h"
#include "declaration_request.h"
#include "management_review.h"
#include "plan_item.h"
#include "security_incident.h"
#include "security_objective.h"
#include "security_plan.h"
#include "threat_scenario.h"

#define INPUT(x) SUPPLYSEC__V1__REVIEW_INPUT_KIND__REVIEW_INPUT_KIND_##x
#define ORG WORLD_ORG
#define REVIEWS ORG "/managementReviews/"
#define BIG WORLD_ASSESSMENT "/threatScenarios/big"
#define PLAN ORG "/securityPlans/plan"

/* now + days, as RFC 3339. */
/* An approved assessment: `big` treated by an accepted measure, `risky`
 * over the acceptable level with a risk accepted; a plan of it whose item
 * is overdue. */
static void assessment_and_plan(world *w)
{
    status st = {0};
    world_approve(w, &statement_of_application_kind, WORLD_STATEMENT);
    const char *scenario =
        "{\"title\":\"%s\",\"category\":\"THREAT_CATEGORY_THEFT\","
        "\"source\":\"SCENARIO_SOURCE_ASSESSMENT_TEAM\",\"target\":\"" WORLD_PARTNER
        "\",\"consequenceLevel\":%d,\"likelihoodLevel\":4%s}";
    char json[768];
    snprintf(json, sizeof json, scenario, "Theft", 5, "");
    fixture_make(&w->base, &w->editor, &threat_scenario_kind, WORLD_ASSESSMENT, "big", json);
    snprintf(json, sizeof json, scenario, "Cyber", 4,
             ",\"riskAcceptance\":{\"reason\":\"Insured\"}");
    fixture_make(&w->base, &w->admin, &threat_scenario_kind, WORLD_ASSESSMENT, "risky", json);
    fixture_make(&w->base, &w->editor, &countermeasure_kind, BIG, "fence",
                 "{\"description\":\"Fence\",\"aeoCriterion\":\"AEO_CRITERION_E_PREMISES\","
                 "\"priority\":1,\"residualConsequenceLevel\":2,\"residualLikelihoodLevel\":2,"
                 "\"owner\":\"Site\",\"dueTime\":\"2020-01-01T00:00:00Z\"}");
    Countermeasure *c = countermeasure_decide(fixture_as(&w->base, &w->admin),
                                              BIG "/countermeasures/fence", "", true, "", &st);
    if (!c)
        fail_msg("accept: %s", st.msg);
    protobuf_c_message_free_unpacked(&c->base, NULL);
    world_approve(w, &security_assessment_kind, WORLD_ASSESSMENT);
    fixture_make(&w->base, &w->editor, &security_plan_kind, ORG, "plan",
                 "{\"title\":\"Plan\",\"securityAssessment\":\"" WORLD_ASSESSMENT "\"}");
}

/* The rest of the data: an open and a closed incident, an objective off
 * target and one on it, the organization's certificate and a partner's
 * expiring in 30 days, one of each valid for a year. */
static void the_rest(world *w)
{
    char json[1024], soon[CALENDAR_RFC3339_MAX], later[CALENDAR_RFC3339_MAX];
    status st = {0};
    const char *incident = "{\"title\":\"%s\",\"occurTime\":\"2026-01-01T00:00:00Z\","
                           "\"severity\":\"INCIDENT_SEVERITY_HIGH\"}";
    snprintf(json, sizeof json, incident, "Break-in");
    fixture_make(&w->base, &w->editor, &security_incident_kind, ORG, "open", json);
    snprintf(json, sizeof json, incident, "Lost seal");
    fixture_make(&w->base, &w->editor, &security_incident_kind, ORG, "closed", json);
    SecurityIncident *in = security_incident_move(
        fixture_as(&w->base, &w->admin), ORG "/securityIncidents/closed", "", true, "", &st);
    if (!in)
        fail_msg("close: %s", st.msg);
    protobuf_c_message_free_unpacked(&in->base, NULL);
    const char *objective = "{\"title\":\"%s\",\"indicator\":\"i\","
                            "\"direction\":\"TARGET_DIRECTION_AT_MOST\",\"target\":2,"
                            "\"measurements\":[{\"measureTime\":\"2026-01-01T00:00:00Z\","
                            "\"value\":%d}]}";
    snprintf(json, sizeof json, objective, "Seals", 5);
    fixture_make(&w->base, &w->editor, &security_objective_kind, ORG, "seals", json);
    snprintf(json, sizeof json, objective, "Gates", 1);
    fixture_make(&w->base, &w->editor, &security_objective_kind, ORG, "gates", json);
    snprintf(json, sizeof json,
             "{\"name\":\"" ORG "\",\"certificates\":["
             "{\"type\":\"CERTIFICATE_TYPE_AEO\",\"number\":\"DEAEOF1\",\"validUntil\":\"%s\"},"
             "{\"type\":\"CERTIFICATE_TYPE_TAPA\",\"number\":\"T1\",\"validUntil\":\"%s\"}]}",
             world_in_days(soon, 30), world_in_days(later, 365));
    char *paths[] = {"certificates"};
    ProtobufCMessage *o =
        fixture_try_update(&w->base, &w->admin, &organization_kind, json, paths, 1, &st);
    if (!o)
        fail_msg("certificates: %s", st.msg);
    protobuf_c_message_free_unpacked(o, NULL);
    snprintf(json, sizeof json,
             "{\"legalName\":\"Port\",\"countryCode\":\"NL\",\"riskTier\":\"RISK_TIER_LOW\","
             "\"certificates\":[{\"type\":\"PARTNER_CERTIFICATE_TYPE_AEO_S\",\"number\":\"NL1\","
             "\"validUntil\":\"%s\"}]}",
             soon);
    fixture_make(&w->base, &w->editor, &business_partner_kind, ORG, "port", json);
}

/* A review created with extra fields (",\"x\":..." or ""). */
static ManagementReview *review(world *w, const char *id, const char *extra, status *st)
{
    size_t size = strlen(extra) + 256;
    char *json = malloc(size);
    snprintf(json, size,
             "{\"title\":\"Review %s\",\"reviewTime\":\"2026-06-01T09:00:00Z\",\"inputs\":"
             "{\"previousReview\":\"x\"}%s}",
             id, extra);
    ManagementReview *r = (ManagementReview *)fixture_try_create(
        &w->base, &w->editor, &management_review_kind, ORG, id, json, st);
    free(json);
    return r;
}

static int count(const ManagementReview *r, Supplysec__V1__ReviewInputKind kind)
{
    assert_non_null(r->inputs);
    for (size_t i = 0; i < r->inputs->n_counts; i++)
        if (r->inputs->counts[i]->kind == kind)
            return r->inputs->counts[i]->count;
    fail_msg("no count for kind %d", kind);
    return -1;
}

/* The resources of the inputs of kind, comma-separated, into buf. */
static const char *listed(const ManagementReview *r, Supplysec__V1__ReviewInputKind kind, char *buf,
                          size_t size)
{
    buf[0] = '\0';
    for (size_t i = 0; i < r->inputs->n_items; i++)
        if (r->inputs->items[i]->kind == kind) {
            size_t n = strlen(buf);
            snprintf(buf + n, size - n, "%s%s", n ? "," : "", r->inputs->items[i]->resource);
        }
    return buf;
}

static void test_inputs_compiled_from_the_data(void **state)
{
    world *w = *state;
    status st = {0};
    char buf[1024];
    /* nothing yet: every kind counted, none listed */
    ManagementReview *r = review(w, "empty", "", &st);
    if (!r)
        fail_msg("review: %s", st.msg);
    assert_int_equal(r->inputs->n_counts, 9);
    assert_int_equal(r->inputs->n_items, 0);
    assert_string_equal(r->inputs->previous_review, ""); /* not the client's */
    assert_non_null(r->inputs->compile_time);
    protobuf_c_message_free_unpacked(&r->base, NULL);

    assessment_and_plan(w);
    world_carrier_declared(w, 30, false);
    the_rest(w);
    sleep(1); /* the partners' first credibility reviews fall due at their creation */
    r = review(w, "full", "", &st);
    if (!r)
        fail_msg("review: %s", st.msg);
    assert_string_equal(listed(r, INPUT(OPEN_INCIDENT), buf, sizeof buf),
                        ORG "/securityIncidents/open");
    assert_string_equal(listed(r, INPUT(OVERDUE_PLAN_ITEM), buf, sizeof buf),
                        PLAN "/items/item-0001");
    assert_int_equal(count(r, INPUT(OVERDUE_MONITORING)), 0); /* the plan is not in force */
    assert_string_equal(listed(r, INPUT(SCENARIO_OVER_ACCEPTABLE_LEVEL), buf, sizeof buf),
                        WORLD_ASSESSMENT "/threatScenarios/risky");
    assert_string_equal(listed(r, INPUT(EXPIRING_DECLARATION), buf, sizeof buf),
                        ORG "/declarationRequests/asked");
    assert_string_equal(listed(r, INPUT(EXPIRING_CERTIFICATE), buf, sizeof buf),
                        ORG "," ORG "/businessPartners/port");
    assert_string_equal(listed(r, INPUT(OVERDUE_CREDIBILITY_REVIEW), buf, sizeof buf),
                        WORLD_PARTNER "," ORG "/businessPartners/port");
    assert_string_equal(listed(r, INPUT(OBJECTIVE_OFF_TARGET), buf, sizeof buf),
                        ORG "/securityObjectives/seals");
    assert_int_equal(count(r, INPUT(OPEN_ACTION_ITEM)), 0);
    for (size_t i = 0; i < r->inputs->n_items; i++)
        assert_int_equal(count(r, r->inputs->items[i]->kind) > 0, 1);
    protobuf_c_message_free_unpacked(&r->base, NULL);

    /* later changes never alter the inputs */
    SecurityIncident *in = security_incident_move(fixture_as(&w->base, &w->admin),
                                                  ORG "/securityIncidents/open", "", true, "", &st);
    protobuf_c_message_free_unpacked(&in->base, NULL);
    r = (ManagementReview *)std_get(fixture_as(&w->base, &w->viewer), &management_review_kind,
                                    REVIEWS "full", &st);
    assert_int_equal(count(r, INPUT(OPEN_INCIDENT)), 1);
    protobuf_c_message_free_unpacked(&r->base, NULL);
    r = review(w, "after", "", &st);
    assert_int_equal(count(r, INPUT(OPEN_INCIDENT)), 0);
    protobuf_c_message_free_unpacked(&r->base, NULL);
}

static ManagementReview *move(world *w, const principal *who, const char *id, doc_move m,
                              status *st)
{
    char name[128];
    snprintf(name, sizeof name, REVIEWS "%s", id);
    return (ManagementReview *)lifecycle_move(fixture_as(&w->base, who), &management_review_kind, m,
                                              name, "", "Not yet", st);
}

static void approve_refused(world *w, const char *id, const char *why)
{
    status st = {0};
    protobuf_c_message_free_unpacked(&move(w, &w->editor, id, DOC_SUBMIT, &st)->base, NULL);
    assert_null(move(w, &w->admin, id, DOC_APPROVE, &st));
    fixture_refused(&st, STATUS_FAILED_PRECONDITION, why);
    protobuf_c_message_free_unpacked(&move(w, &w->admin, id, DOC_REJECT, &st)->base, NULL);
}

static void set(world *w, const char *id, const char *fields, const char *path, status *st, bool ok)
{
    char json[1024];
    snprintf(json, sizeof json, "{\"name\":\"" REVIEWS "%s\",%s}", id, fields);
    char *paths[] = {(char *)path};
    ProtobufCMessage *m =
        fixture_try_update(&w->base, &w->editor, &management_review_kind, json, paths, 1, st);
    if (ok && !m)
        fail_msg("update %s: %s", path, st->msg);
    if (!ok && m)
        fail_msg("update %s: not refused", path);
    if (m)
        protobuf_c_message_free_unpacked(m, NULL);
}

static void test_actions_carried_and_approval(void **state)
{
    world *w = *state;
    status st = {0};
    char future[CALENDAR_RFC3339_MAX], fields[512];
    ManagementReview *r = review(
        w, "rev-1",
        ",\"actionItems\":[{\"description\":\"Fix the fence\",\"owner\":\"Site\","
        "\"status\":\"ACTION_STATUS_OPEN\",\"carriedFrom\":\"organizations/fwd/x\"},"
        "{\"description\":\"Buy seals\",\"owner\":\"Ops\",\"status\":\"ACTION_STATUS_DONE\"}]",
        &st);
    if (!r)
        fail_msg("review: %s", st.msg);
    assert_string_equal(r->action_items[0]->carried_from, ""); /* the server's */
    protobuf_c_message_free_unpacked(&r->base, NULL);

    snprintf(fields, sizeof fields, "\"reviewTime\":\"%s\"", world_in_days(future, 10));
    set(w, "rev-1", fields, "review_time", &st, true);
    approve_refused(w, "rev-1", "before it is held");
    set(w, "rev-1", "\"reviewTime\":\"2026-06-01T09:00:00Z\"", "review_time", &st, true);
    approve_refused(w, "rev-1", "without attendees");
    set(w, "rev-1", "\"attendees\":[\"CEO\",\"Security manager\"]", "attendees", &st, true);
    approve_refused(w, "rev-1", "without decisions");
    set(w, "rev-1", "\"decisions\":[\"Raise the budget for fencing\"]", "decisions", &st, true);
    set(w, "rev-1",
        "\"actionItems\":[{\"description\":\"Fix\",\"owner\":\"S\","
        "\"status\":\"ACTION_STATUS_OPEN\",\"carriedFrom\":\"" REVIEWS "rev-0\"}]",
        "action_items", &st, false);
    fixture_refused(&st, STATUS_INVALID_ARGUMENT,
                    "action_items[0].carried_from: set by the server");
    protobuf_c_message_free_unpacked(&move(w, &w->editor, "rev-1", DOC_SUBMIT, &st)->base, NULL);
    r = move(w, &w->admin, "rev-1", DOC_APPROVE, &st);
    if (!r)
        fail_msg("approve: %s", st.msg);
    protobuf_c_message_free_unpacked(&r->base, NULL);

    /* the next review lists q1's open item and carries it in */
    r = review(w, "rev-2",
               ",\"actionItems\":[{\"description\":\"New\",\"owner\":\"O\","
               "\"status\":\"ACTION_STATUS_OPEN\"}]",
               &st);
    if (!r)
        fail_msg("review: %s", st.msg);
    assert_string_equal(r->inputs->previous_review, REVIEWS "rev-1");
    assert_int_equal(count(r, INPUT(OPEN_ACTION_ITEM)), 1);
    assert_int_equal(r->n_action_items, 2);
    assert_string_equal(r->action_items[0]->carried_from, "");
    assert_string_equal(r->action_items[1]->description, "Fix the fence");
    assert_string_equal(r->action_items[1]->carried_from, REVIEWS "rev-1");
    protobuf_c_message_free_unpacked(&r->base, NULL);
    /* rev-2 approved with both items open; its next revision, a draft,
     * marks them done: the next review goes by the revision in force */
    set(w, "rev-2", "\"reviewTime\":\"2026-09-01T09:00:00Z\"", "review_time", &st, true);
    set(w, "rev-2", "\"attendees\":[\"CEO\"]", "attendees", &st, true);
    set(w, "rev-2", "\"decisions\":[\"Go on\"]", "decisions", &st, true);
    world_approve(w, &management_review_kind, REVIEWS "rev-2");
    protobuf_c_message_free_unpacked(&move(w, &w->editor, "rev-2", DOC_REVISE, &st)->base, NULL);
    set(w, "rev-2",
        "\"actionItems\":[{\"description\":\"New\",\"owner\":\"O\","
        "\"status\":\"ACTION_STATUS_DONE\"},{\"description\":\"Fix the fence\",\"owner\":"
        "\"Site\",\"status\":\"ACTION_STATUS_DONE\",\"carriedFrom\":\"" REVIEWS "rev-1\"}]",
        "action_items", &st, true);
    r = review(w, "rev-3", "", &st);
    if (!r)
        fail_msg("review: %s", st.msg);
    assert_string_equal(r->inputs->previous_review, REVIEWS "rev-2");
    assert_int_equal(count(r, INPUT(OPEN_ACTION_ITEM)), 2);
    assert_int_equal(r->n_action_items, 2);
    for (size_t i = 0; i < 2; i++) /* carried from the review before, whatever came before it */
        assert_string_equal(r->action_items[i]->carried_from, REVIEWS "rev-2");
    protobuf_c_message_free_unpacked(&r->base, NULL);
    set(w, "rev-3", "\"title\":\"Renamed\"", "title", &st, true);
    /* what is entered and what is carried together stay within 200 */
    char *many = malloc(200 * 80 + 64);
    size_t n = (size_t)sprintf(many, ",\"actionItems\":[");
    for (int i = 0; i < 199; i++)
        n += (size_t)sprintf(many + n,
                             "%s{\"description\":\"A%d\",\"owner\":\"O\","
                             "\"status\":\"ACTION_STATUS_OPEN\"}",
                             i ? "," : "", i);
    strcpy(many + n, "]");
    assert_null(review(w, "rev-4", many, &st));
    fixture_refused(&st, STATUS_FAILED_PRECONDITION, "with the 2 open ones of " REVIEWS "rev-2");
    free(many);
    /* another organization sees none of it */
    assert_null(
        std_get(fixture_as(&w->base, &w->other), &management_review_kind, REVIEWS "rev-1", &st));
    assert_int_equal(st.code, STATUS_NOT_FOUND);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_inputs_compiled_from_the_data, world_setup,
                                        world_teardown),
        cmocka_unit_test_setup_teardown(test_actions_carried_and_approval, world_setup,
                                        world_teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
