/* test_security_plan.c — security plans and what hangs from them
 * (security_plan.h, plan_item.h, training_record.h, monitoring_record.h),
 * without gRPC, on an in-memory SQLite store: a plan is made only from an
 * approved assessment of its own organization, with one item per ACCEPTED
 * countermeasure, copied, in the same write; an item's status, VERIFIED
 * only with evidence and who verified it recorded; overdue items and
 * overdue monitoring as of each read; what approval needs and when the plan
 * came into force; training and monitoring records' rules; a never-approved
 * plan deleted with everything under it. */
#include "world.h"

#include "countermeasure.h"
#include "monitoring_record.h"
#include "plan_item.h"
#include "security_plan.h"
#include "threat_scenario.h"
#include "training_record.h"

#define PLAN WORLD_ORG "/securityPlans/plan"
#define BIG WORLD_ASSESSMENT "/threatScenarios/big"
#define KEPT WORLD_ASSESSMENT "@1/threatScenarios/big" /* as revision 1 keeps it */
#define ITEM PLAN "/items/item-0001"

/* A countermeasure of scenario `big`, decided (accept / decline) or left
 * PROPOSED (neither). */
static void measure(world *w, const char *id, const char *extra, int decide)
{
    char json[512], name[256];
    snprintf(json, sizeof json,
             "{\"description\":\"Measure %s\",\"aeoCriterion\":\"AEO_CRITERION_E_PREMISES\","
             "\"priority\":2,\"residualConsequenceLevel\":2,\"residualLikelihoodLevel\":2%s}",
             id, extra);
    fixture_make(&w->base, &w->editor, &countermeasure_kind, BIG, id, json);
    if (!decide)
        return;
    snprintf(name, sizeof name, BIG "/countermeasures/%s", id);
    status st = {0};
    Countermeasure *c = countermeasure_decide(fixture_as(&w->base, &w->admin), name, "", decide > 0,
                                              "Too dear", &st);
    if (!c)
        fail_msg("decide %s: %s", id, st.msg);
    protobuf_c_message_free_unpacked(&c->base, NULL);
}

/* The assessment approved with scenario `big` (5, 4) treated by `fence`
 * (accepted, owner and due time), `lights` declined, `cameras` proposed,
 * and `gates` (accepted). */
static void assessment_approved(world *w)
{
    world_approve(w, &statement_of_application_kind, WORLD_STATEMENT);
    fixture_make(&w->base, &w->editor, &threat_scenario_kind, WORLD_ASSESSMENT, "big",
                 "{\"title\":\"Theft from the yard\",\"category\":\"THREAT_CATEGORY_THEFT\","
                 "\"source\":\"SCENARIO_SOURCE_ASSESSMENT_TEAM\",\"target\":\"" WORLD_PARTNER
                 "\",\"consequenceLevel\":5,\"likelihoodLevel\":4}");
    measure(w, "fence", ",\"owner\":\"Site manager\",\"dueTime\":\"2030-01-31T00:00:00Z\"", 1);
    measure(w, "lights", "", -1);
    measure(w, "cameras", "", 0);
    measure(w, "gates", "", 1);
    world_approve(w, &security_assessment_kind, WORLD_ASSESSMENT);
}

static SecurityPlan *plan_try(world *w, const char *id, const char *assessment, status *st)
{
    char json[512];
    snprintf(json, sizeof json,
             "{\"title\":\"Plan\",\"securityAssessment\":\"%s\",\"assessmentRevisionId\":\"7\","
             "\"inForceTime\":\"2020-01-01T00:00:00Z\","
             "\"monitoringSchedule\":[{\"id\":\"seals\",\"description\":\"Seal log\","
             "\"intervalDays\":7,\"overdue\":true}]}",
             assessment);
    return (SecurityPlan *)fixture_try_create(&w->base, &w->editor, &security_plan_kind, WORLD_ORG,
                                              id, json, st);
}

static ProtobufCMessage *get(world *w, const principal *who, const kind *k, const char *name,
                             status *st)
{
    return std_get(fixture_as(&w->base, who), k, name, st);
}

static void test_made_from_an_approved_assessment(void **state)
{
    world *w = *state;
    status st = {0};
    assert_null(plan_try(w, "plan", "", &st));
    fixture_refused(&st, STATUS_INVALID_ARGUMENT, "security_plan.security_assessment: required");
    assert_null(plan_try(w, "plan", WORLD_ASSESSMENT, &st)); /* a draft */
    fixture_refused(&st, STATUS_FAILED_PRECONDITION, "has no approved revision");
    assert_null(plan_try(w, "plan", "organizations/oth/securityAssessments/main", &st));
    fixture_refused(&st, STATUS_INVALID_ARGUMENT, "this organization's own assessments");
    assert_null(plan_try(w, "plan", WORLD_ORG "/securityAssessments/none", &st));
    fixture_refused(&st, STATUS_INVALID_ARGUMENT, "security_plan.security_assessment: ");

    assessment_approved(w);
    SecurityPlan *p = plan_try(w, "plan", WORLD_ASSESSMENT, &st);
    if (!p)
        fail_msg("plan: %s", st.msg);
    assert_string_equal(p->assessment_revision_id, "1"); /* not the client's 7 */
    assert_null(p->in_force_time);                       /* nor its time */
    assert_int_equal(p->state, SUPPLYSEC__V1__DOCUMENT_STATE__DOCUMENT_STATE_DRAFT);
    assert_false(p->monitoring_schedule[0]->overdue);
    protobuf_c_message_free_unpacked(&p->base, NULL);

    /* one item per ACCEPTED countermeasure, by the countermeasure's name */
    resource_page page = {0};
    std_list_req req = {.parent = PLAN};
    assert_true(std_list(fixture_as(&w->base, &w->viewer), &plan_item_kind, &req, &page, &st));
    assert_int_equal(page.count, 2);
    const PlanItem *fence = (const PlanItem *)page.items[0];
    const PlanItem *gates = (const PlanItem *)page.items[1];
    assert_string_equal(fence->name, PLAN "/items/item-0001");
    assert_string_equal(fence->countermeasure, KEPT "/countermeasures/fence");
    assert_string_equal(fence->description, "Measure fence");
    assert_int_equal(fence->aeo_criterion, SUPPLYSEC__V1__AEO_CRITERION__AEO_CRITERION_E_PREMISES);
    assert_int_equal(fence->priority, 2);
    assert_string_equal(fence->owner, "Site manager");
    assert_non_null(fence->due_time);
    assert_int_equal(fence->status, SUPPLYSEC__V1__PLAN_ITEM_STATUS__PLAN_ITEM_STATUS_PLANNED);
    assert_non_null(fence->status_time);
    assert_string_equal(gates->countermeasure, KEPT "/countermeasures/gates");
    resource_page_free(&page);

    /* a revision of the assessment in the making, which declines the fence
     * and accepts the cameras: a plan made now still implements revision 1,
     * as it was approved */
    ProtobufCMessage *a =
        lifecycle_move(fixture_as(&w->base, &w->editor), &security_assessment_kind, DOC_REVISE,
                       WORLD_ASSESSMENT, "", "", &st);
    protobuf_c_message_free_unpacked(a, NULL);
    Countermeasure *c = countermeasure_decide(fixture_as(&w->base, &w->admin),
                                              BIG "/countermeasures/fence", "", false, "No", &st);
    protobuf_c_message_free_unpacked(&c->base, NULL);
    c = countermeasure_decide(fixture_as(&w->base, &w->admin), BIG "/countermeasures/cameras", "",
                              true, "", &st);
    protobuf_c_message_free_unpacked(&c->base, NULL);
    p = plan_try(w, "second", WORLD_ASSESSMENT, &st);
    if (!p)
        fail_msg("plan: %s", st.msg);
    assert_string_equal(p->assessment_revision_id, "1");
    protobuf_c_message_free_unpacked(&p->base, NULL);
    req.parent = WORLD_ORG "/securityPlans/second";
    assert_true(std_list(fixture_as(&w->base, &w->viewer), &plan_item_kind, &req, &page, &st));
    assert_int_equal(page.count, 2);
    assert_string_equal(((PlanItem *)page.items[0])->countermeasure, KEPT "/countermeasures/fence");
    assert_string_equal(((PlanItem *)page.items[1])->countermeasure, KEPT "/countermeasures/gates");
    resource_page_free(&page);

    /* another organization sees none of it */
    assert_null(get(w, &w->other, &security_plan_kind, PLAN, &st));
    assert_int_equal(st.code, STATUS_NOT_FOUND);
    assert_null(get(w, &w->other, &plan_item_kind, ITEM, &st));
    assert_int_equal(st.code, STATUS_NOT_FOUND);
}

static PlanItem *item_update(world *w, const principal *who, const char *json, const char *path,
                             status *st)
{
    char *paths[] = {(char *)path};
    return (PlanItem *)fixture_try_update(&w->base, who, &plan_item_kind, json, paths, 1, st);
}

static void test_item_status_and_evidence(void **state)
{
    world *w = *state;
    status st = {0};
    assessment_approved(w);
    protobuf_c_message_free_unpacked(&plan_try(w, "plan", WORLD_ASSESSMENT, &st)->base, NULL);
    const char *verified = "{\"name\":\"" ITEM "\",\"status\":\"PLAN_ITEM_STATUS_VERIFIED\"}";
    assert_null(item_update(w, &w->editor, verified, "status", &st));
    fixture_refused(&st, STATUS_INVALID_ARGUMENT, "plan_item.evidence: VERIFIED needs");
    assert_null(item_update(w, &w->viewer, verified, "status", &st));
    assert_int_equal(st.code, STATUS_PERMISSION_DENIED);

    PlanItem *it = item_update(w, &w->editor,
                               "{\"name\":\"" ITEM "\",\"status\":\"PLAN_ITEM_STATUS_VERIFIED\","
                               "\"evidence\":[\"Audit report 2026-11\"],\"verifier\":\"me\","
                               "\"countermeasure\":\"x\",\"description\":\"x\"}",
                               "*", &st);
    if (!it)
        fail_msg("verify: %s", st.msg);
    assert_string_equal(it->verifier, WORLD_ORG "/apiKeys/e"); /* the caller, not "me" */
    assert_non_null(it->verify_time);
    assert_string_equal(it->countermeasure, KEPT "/countermeasures/fence"); /* output only */
    assert_string_equal(it->description, "Measure fence");
    protobuf_c_message_free_unpacked(&it->base, NULL);

    /* a verification that failed: back to IN_PROGRESS clears it */
    it = item_update(w, &w->editor,
                     "{\"name\":\"" ITEM "\",\"status\":\"PLAN_ITEM_STATUS_IN_PROGRESS\"}",
                     "status", &st);
    assert_non_null(it);
    assert_string_equal(it->verifier, "");
    assert_null(it->verify_time);
    protobuf_c_message_free_unpacked(&it->base, NULL);
}

static void test_overdue_items(void **state)
{
    world *w = *state;
    status st = {0};
    assessment_approved(w);
    protobuf_c_message_free_unpacked(&plan_try(w, "plan", WORLD_ASSESSMENT, &st)->base, NULL);
    PlanItem *it =
        item_update(w, &w->editor, "{\"name\":\"" ITEM "\",\"dueTime\":\"2020-01-01T00:00:00Z\"}",
                    "due_time", &st);
    assert_true(it->overdue);
    protobuf_c_message_free_unpacked(&it->base, NULL);
    it = (PlanItem *)get(w, &w->viewer, &plan_item_kind, ITEM, &st);
    assert_true(it->overdue);
    protobuf_c_message_free_unpacked(&it->base, NULL);
    it = item_update(w, &w->editor,
                     "{\"name\":\"" ITEM "\",\"status\":\"PLAN_ITEM_STATUS_IMPLEMENTED\"}",
                     "status", &st);
    assert_false(it->overdue);
    protobuf_c_message_free_unpacked(&it->base, NULL);
    /* the second item has no due time: never overdue */
    it = (PlanItem *)get(w, &w->viewer, &plan_item_kind, PLAN "/items/item-0002", &st);
    assert_false(it->overdue);
    protobuf_c_message_free_unpacked(&it->base, NULL);
}

static SecurityPlan *plan_move(world *w, const principal *who, doc_move m, status *st)
{
    return (SecurityPlan *)lifecycle_move(fixture_as(&w->base, who), &security_plan_kind, m, PLAN,
                                          "", "Not yet", st);
}

static void plan_set(world *w, const char *json, const char *path)
{
    status st = {0};
    char *paths[] = {(char *)path};
    ProtobufCMessage *m =
        fixture_try_update(&w->base, &w->editor, &security_plan_kind, json, paths, 1, &st);
    if (!m)
        fail_msg("update %s: %s", path, st.msg);
    protobuf_c_message_free_unpacked(m, NULL);
}

/* Submits and tries to approve; the refusal must name what. */
static void approve_refused(world *w, const char *what)
{
    status st = {0};
    protobuf_c_message_free_unpacked(&plan_move(w, &w->editor, DOC_SUBMIT, &st)->base, NULL);
    assert_null(plan_move(w, &w->admin, DOC_APPROVE, &st));
    fixture_refused(&st, STATUS_FAILED_PRECONDITION, what);
    protobuf_c_message_free_unpacked(&plan_move(w, &w->admin, DOC_REJECT, &st)->base, NULL);
}

static void test_approval_needs_the_whole_plan(void **state)
{
    world *w = *state;
    status st = {0};
    assessment_approved(w);
    protobuf_c_message_free_unpacked(
        fixture_create(&w->base, &w->editor, &security_plan_kind, WORLD_ORG, "plan",
                       "{\"title\":\"Plan\",\"securityAssessment\":\"" WORLD_ASSESSMENT "\"}"),
        NULL);
    /* the field limits name the field */
    char *paths[] = {"monitoring_schedule"};
    assert_null(fixture_try_update(&w->base, &w->editor, &security_plan_kind,
                                   "{\"name\":\"" PLAN "\",\"monitoringSchedule\":[{\"id\":\"s\","
                                   "\"description\":\"d\",\"intervalDays\":7}]}",
                                   paths, 1, &st));
    fixture_refused(&st, STATUS_INVALID_ARGUMENT, "monitoring_schedule[0].id");
    approve_refused(w, "without considered_guidance");
    plan_set(w,
             "{\"name\":\"" PLAN "\",\"consideredGuidance\":[{\"annex\":\"GUIDANCE_ANNEX_A\","
             "\"reference\":\"A.3\",\"applied\":true}]}",
             "considered_guidance");
    approve_refused(w, "without training_programme");
    plan_set(w, "{\"name\":\"" PLAN "\",\"trainingProgramme\":\"Yearly awareness; drills\"}",
             "training_programme");
    approve_refused(w, "without monitoring_schedule");
    plan_set(w,
             "{\"name\":\"" PLAN "\",\"monitoringSchedule\":[{\"id\":\"seals\","
             "\"description\":\"Seal log\",\"intervalDays\":7}]}",
             "monitoring_schedule");
    approve_refused(w, "without incident_procedure");
    plan_set(w, "{\"name\":\"" PLAN "\",\"incidentProcedure\":\"Call customs, then...\"}",
             "incident_procedure");
    protobuf_c_message_free_unpacked(&plan_move(w, &w->editor, DOC_SUBMIT, &st)->base, NULL);
    SecurityPlan *p = plan_move(w, &w->admin, DOC_APPROVE, &st);
    if (!p)
        fail_msg("approve: %s", st.msg);
    assert_non_null(p->in_force_time);
    int64_t in_force = p->in_force_time->seconds;
    protobuf_c_message_free_unpacked(&p->base, NULL);
    /* a later revision keeps the time the plan came into force */
    protobuf_c_message_free_unpacked(&plan_move(w, &w->editor, DOC_REVISE, &st)->base, NULL);
    world_approve(w, &security_plan_kind, PLAN);
    p = (SecurityPlan *)get(w, &w->viewer, &security_plan_kind, PLAN, &st);
    assert_string_equal(p->revision_id, "2");
    assert_int_equal(p->in_force_time->seconds, in_force);
    protobuf_c_message_free_unpacked(&p->base, NULL);
}

static MonitoringRecord *record(world *w, const char *id, const char *activity, int64_t ago_s,
                                const char *result, status *st)
{
    char json[512], when[32];
    time_t t = (time_t)(time(NULL) - ago_s);
    strftime(when, sizeof when, "%Y-%m-%dT%H:%M:%SZ", gmtime(&t));
    snprintf(json, sizeof json,
             "{\"activity\":\"%s\",\"performTime\":\"%s\",\"performer\":\"Guard\","
             "\"result\":\"MONITORING_RESULT_%s\"}",
             activity, when, result);
    return (MonitoringRecord *)fixture_try_create(&w->base, &w->editor, &monitoring_record_kind,
                                                  PLAN, id, json, st);
}

static bool seals_overdue(world *w, int64_t *last)
{
    status st = {0};
    SecurityPlan *p = (SecurityPlan *)get(w, &w->viewer, &security_plan_kind, PLAN, &st);
    assert_non_null(p);
    bool overdue = p->monitoring_schedule[0]->overdue;
    *last = p->monitoring_schedule[0]->last_perform_time
                ? p->monitoring_schedule[0]->last_perform_time->seconds
                : 0;
    protobuf_c_message_free_unpacked(&p->base, NULL);
    return overdue;
}

static void test_monitoring_records(void **state)
{
    world *w = *state;
    status st = {0};
    int64_t last;
    assessment_approved(w);
    protobuf_c_message_free_unpacked(&plan_try(w, "plan", WORLD_ASSESSMENT, &st)->base, NULL);
    assert_null(record(w, "rec-0", "gates", 60, "CONFORMING", &st));
    fixture_refused(&st, STATUS_INVALID_ARGUMENT,
                    "monitoring_record.activity: \"gates\" is not an activity of " PLAN);
    assert_null(record(w, "rec-0", "seals", 60, "NONCONFORMING", &st));
    fixture_refused(&st, STATUS_INVALID_ARGUMENT, "monitoring_record.findings: required");
    assert_null(record(w, "rec-0", "seals", -3600, "CONFORMING", &st));
    fixture_refused(&st, STATUS_INVALID_ARGUMENT, "monitoring_record.perform_time: in the future");
    /* not in force: never overdue */
    assert_false(seals_overdue(w, &last));
    assert_int_equal(last, 0);
    world_plan_in_force_since(w, PLAN, 10 * WORLD_DAY_S);
    assert_true(seals_overdue(w, &last)); /* 7 days, no record */
    MonitoringRecord *r = record(w, "rec-1", "seals", 8 * WORLD_DAY_S, "CONFORMING", &st);
    if (!r)
        fail_msg("record: %s", st.msg);
    protobuf_c_message_free_unpacked(&r->base, NULL);
    assert_true(seals_overdue(w, &last)); /* 8 days ago */
    assert_int_equal(last, time(NULL) - 8 * WORLD_DAY_S);
    protobuf_c_message_free_unpacked(
        &record(w, "rec-2", "seals", WORLD_DAY_S, "CONFORMING", &st)->base, NULL);
    assert_false(seals_overdue(w, &last));
    assert_int_equal(last, time(NULL) - WORLD_DAY_S);
    /* a record is kept */
    assert_false(std_delete(fixture_as(&w->base, &w->admin), &monitoring_record_kind,
                            PLAN "/monitoringRecords/rec-1", "", &st));
    assert_int_equal(st.code, STATUS_UNIMPLEMENTED);
}

static void test_training_records(void **state)
{
    world *w = *state;
    status st = {0};
    assessment_approved(w);
    protobuf_c_message_free_unpacked(&plan_try(w, "plan", WORLD_ASSESSMENT, &st)->base, NULL);
    assert_null(fixture_try_create(&w->base, &w->editor, &training_record_kind, PLAN, "drill-1",
                                   "{\"kind\":\"TRAINING_KIND_DRILL\",\"topic\":\"Intrusion\","
                                   "\"holdTime\":\"2026-01-01T10:00:00Z\"}",
                                   &st));
    fixture_refused(&st, STATUS_INVALID_ARGUMENT, "training_record.attendees: from 1");
    assert_null(fixture_try_create(&w->base, &w->editor, &training_record_kind, PLAN, "drill-1",
                                   "{\"kind\":\"TRAINING_KIND_DRILL\",\"topic\":\"Intrusion\","
                                   "\"holdTime\":\"2999-01-01T10:00:00Z\",\"attendees\":[\"A\"]}",
                                   &st));
    fixture_refused(&st, STATUS_INVALID_ARGUMENT, "training_record.hold_time: in the future");
    fixture_make(&w->base, &w->editor, &training_record_kind, PLAN, "drill-1",
                 "{\"kind\":\"TRAINING_KIND_DRILL\",\"topic\":\"Intrusion\","
                 "\"holdTime\":\"2026-01-01T10:00:00Z\",\"attendees\":[\"A\",\"B\"]}");
    assert_null(fixture_try_create(&w->base, &w->viewer, &training_record_kind, PLAN, "drill-2",
                                   "{\"kind\":\"TRAINING_KIND_TRAINING\",\"topic\":\"T\","
                                   "\"holdTime\":\"2026-01-01T10:00:00Z\",\"attendees\":[\"A\"]}",
                                   &st));
    assert_int_equal(st.code, STATUS_PERMISSION_DENIED);
}

static void test_delete_takes_what_hangs_from_it(void **state)
{
    world *w = *state;
    status st = {0};
    assessment_approved(w);
    protobuf_c_message_free_unpacked(&plan_try(w, "plan", WORLD_ASSESSMENT, &st)->base, NULL);
    fixture_make(&w->base, &w->editor, &training_record_kind, PLAN, "drill-1",
                 "{\"kind\":\"TRAINING_KIND_DRILL\",\"topic\":\"Intrusion\","
                 "\"holdTime\":\"2026-01-01T10:00:00Z\",\"attendees\":[\"A\"]}");
    protobuf_c_message_free_unpacked(&record(w, "rec-1", "seals", 60, "CONFORMING", &st)->base,
                                     NULL);
    assert_true(std_delete(fixture_as(&w->base, &w->admin), &security_plan_kind, PLAN, "", &st));
    const char *gone[] = {ITEM, PLAN "/trainingRecords/drill-1", PLAN "/monitoringRecords/rec-1"};
    const kind *kinds[] = {&plan_item_kind, &training_record_kind, &monitoring_record_kind};
    for (size_t i = 0; i < 3; i++) {
        assert_null(get(w, &w->admin, kinds[i], gone[i], &st));
        assert_int_equal(st.code, STATUS_NOT_FOUND);
    }
    /* an approved plan stays */
    fixture_make(&w->base, &w->editor, &security_plan_kind, WORLD_ORG, "kept",
                 "{\"title\":\"Kept\",\"securityAssessment\":\"" WORLD_ASSESSMENT "\","
                 "\"consideredGuidance\":[{\"annex\":\"GUIDANCE_ANNEX_B\",\"reference\":\"B.1\"}],"
                 "\"trainingProgramme\":\"T\",\"incidentProcedure\":\"P\","
                 "\"monitoringSchedule\":[{\"id\":\"seals\",\"description\":\"S\","
                 "\"intervalDays\":7}]}");
    world_approve(w, &security_plan_kind, WORLD_ORG "/securityPlans/kept");
    assert_false(std_delete(fixture_as(&w->base, &w->admin), &security_plan_kind,
                            WORLD_ORG "/securityPlans/kept", "", &st));
    assert_int_equal(st.code, STATUS_FAILED_PRECONDITION);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_made_from_an_approved_assessment, world_setup,
                                        world_teardown),
        cmocka_unit_test_setup_teardown(test_item_status_and_evidence, world_setup, world_teardown),
        cmocka_unit_test_setup_teardown(test_overdue_items, world_setup, world_teardown),
        cmocka_unit_test_setup_teardown(test_approval_needs_the_whole_plan, world_setup,
                                        world_teardown),
        cmocka_unit_test_setup_teardown(test_monitoring_records, world_setup, world_teardown),
        cmocka_unit_test_setup_teardown(test_training_records, world_setup, world_teardown),
        cmocka_unit_test_setup_teardown(test_delete_takes_what_hangs_from_it, world_setup,
                                        world_teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
