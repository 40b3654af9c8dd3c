/* test_security_incident.c — security incidents (security_incident.h),
 * without gRPC, on an in-memory store: the required notifications not made
 * (derived, never a client's); closing refused, naming what is missing,
 * until every notification is made and every action done; reopening with a
 * reason; only an OPEN incident changes or is deleted; the facility and the
 * scenarios named must exist; the partners whose accepted declarations
 * cover the facility, as of each read. */
#include "fixture.h"

#include <stdlib.h>

#include "business_partner.h"
#include "declaration.h"
#include "declaration_request.h"
#include "lifecycle.h"
#include "organization.h"
#include "security_incident.h"
#include "statement_of_application.h"

#define ROLE(x) SUPPLYSEC__V1__ROLE__ROLE_##x
#define ORG "organizations/fwd"
#define STATEMENT ORG "/statementsOfApplication/scope"
#define YARD ORG "/securityIncidents/yard"

typedef struct fx {
    fixture f;
    principal platform, admin, editor, other;
} fx;

static int setup(void **state)
{
    fx *x = calloc(1, sizeof *x);
    fixture_open(&x->f);
    x->platform = fixture_principal("platform/apiKeys/root", "", ROLE(PLATFORM_ADMIN));
    x->admin = fixture_principal(ORG "/apiKeys/a", "fwd", ROLE(ADMIN));
    x->editor = fixture_principal(ORG "/apiKeys/e", "fwd", ROLE(EDITOR));
    x->other = fixture_principal("organizations/oth/apiKeys/a", "oth", ROLE(ADMIN));
    fixture_make(&x->f, &x->platform, &organization_kind, "", "fwd",
                 "{\"legalName\":\"Fwd\",\"countryCode\":\"DE\","
                 "\"kind\":\"ORGANIZATION_KIND_OPERATOR\"}");
    fixture_make(
        &x->f, &x->editor, &business_partner_kind, ORG, "carrier",
        "{\"legalName\":\"Carrier\",\"countryCode\":\"PL\",\"riskTier\":\"RISK_TIER_HIGH\"}");
    fixture_make(
        &x->f, &x->editor, &business_partner_kind, ORG, "haulier",
        "{\"legalName\":\"Haulier\",\"countryCode\":\"PL\",\"riskTier\":\"RISK_TIER_LOW\"}");
    fixture_make(&x->f, &x->editor, &statement_of_application_kind, ORG, "scope",
                 "{\"title\":\"Scope\",\"facilities\":[{\"id\":\"hamburg\",\"name\":\"Hamburg\","
                 "\"countryCode\":\"DE\"}],\"businessPartners\":["
                 "{\"businessPartner\":\"" ORG "/businessPartners/carrier\"},"
                 "{\"businessPartner\":\"" ORG "/businessPartners/haulier\"}]}");
    fixture_make(&x->f, &x->editor, &security_incident_kind, ORG, "yard",
                 "{\"title\":\"Break-in at the yard\",\"occurTime\":\"2026-10-01T02:00:00Z\","
                 "\"severity\":\"INCIDENT_SEVERITY_HIGH\",\"facility\":\"" STATEMENT
                 "/facilities/hamburg\",\"assetsHit\":[\"MSCU1234567\"],"
                 "\"requiredNotifications\":[{\"kind\":\"AUTHORITY_KIND_CUSTOMS\","
                 "\"authority\":\"Zoll Hamburg\"},{\"kind\":\"AUTHORITY_KIND_LAW_ENFORCEMENT\","
                 "\"authority\":\"Polizei Hamburg\"}],"
                 "\"actions\":[{\"description\":\"Repair the fence\",\"kind\":\"ACTION_KIND_"
                 "CORRECTIVE\",\"owner\":\"Site\",\"status\":\"ACTION_STATUS_OPEN\"}],"
                 "\"state\":\"INCIDENT_STATE_CLOSED\",\"notificationsMissing\":false,"
                 "\"coveringPartners\":[\"" ORG "/businessPartners/forged\"]}");
    *state = x;
    return 0;
}

static int teardown(void **state)
{
    fx *x = *state;
    store_close(x->f.s);
    free(x);
    return 0;
}

static SecurityIncident *get(fx *x)
{
    status st = {0};
    SecurityIncident *in = (SecurityIncident *)std_get(fixture_as(&x->f, &x->editor),
                                                       &security_incident_kind, YARD, &st);
    if (!in)
        fail_msg("get: %s", st.msg);
    return in;
}

static SecurityIncident *update(fx *x, const char *json, char *path, status *st)
{
    char *paths[] = {path};
    return (SecurityIncident *)fixture_try_update(&x->f, &x->editor, &security_incident_kind, json,
                                                  paths, 1, st);
}

static void test_missing_notifications_derived(void **state)
{
    fx *x = *state;
    SecurityIncident *in = get(x);
    assert_int_equal(in->state, SUPPLYSEC__V1__INCIDENT_STATE__INCIDENT_STATE_OPEN);
    assert_true(in->notifications_missing);
    assert_int_equal(in->n_missing_notifications, 2);
    assert_string_equal(in->missing_notifications[0]->authority, "Zoll Hamburg");
    assert_int_equal(in->n_covering_partners, 0); /* not the client's; none accepted yet */
    protobuf_c_message_free_unpacked(&in->base, NULL);
    status st = {0};
    in = update(x,
                "{\"name\":\"" YARD "\",\"notifications\":[{\"kind\":\"AUTHORITY_KIND_CUSTOMS\","
                "\"authority\":\"Zoll Hamburg\",\"reference\":\"ZH-2026-77\","
                "\"notifyTime\":\"2026-10-01T06:00:00Z\"}]}",
                "notifications", &st);
    if (!in)
        fail_msg("update: %s", st.msg);
    assert_int_equal(in->n_missing_notifications, 1);
    assert_string_equal(in->missing_notifications[0]->authority, "Polizei Hamburg");
    protobuf_c_message_free_unpacked(&in->base, NULL);
}

static void test_close_and_reopen(void **state)
{
    fx *x = *state;
    status st = {0};
    const op_ctx *admin = fixture_as(&x->f, &x->admin);
    assert_null(security_incident_move(admin, YARD, "", true, "", &st));
    fixture_refused(&st, STATUS_FAILED_PRECONDITION,
                    "cannot be closed: the notification to CUSTOMS Zoll Hamburg; the notification "
                    "to LAW_ENFORCEMENT Polizei Hamburg; 1 action still open");
    SecurityIncident *in =
        update(x,
               "{\"name\":\"" YARD "\",\"notifications\":[{\"kind\":\"AUTHORITY_KIND_CUSTOMS\","
               "\"authority\":\"Zoll "
               "Hamburg\",\"reference\":\"ZH-1\",\"notifyTime\":\"2026-10-01T06:00:00Z\"},"
               "{\"kind\":\"AUTHORITY_KIND_LAW_ENFORCEMENT\",\"authority\":\"Polizei Hamburg\","
               "\"reference\":\"P-9\",\"notifyTime\":\"2026-10-01T03:00:00Z\"}]}",
               "notifications", &st);
    protobuf_c_message_free_unpacked(&in->base, NULL);
    assert_null(security_incident_move(fixture_as(&x->f, &x->admin), YARD, "", true, "", &st));
    fixture_refused(&st, STATUS_FAILED_PRECONDITION, "cannot be closed: 1 action still open");
    in = update(x,
                "{\"name\":\"" YARD "\",\"actions\":[{\"description\":\"Repair the fence\","
                "\"kind\":\"ACTION_KIND_CORRECTIVE\",\"owner\":\"Site\","
                "\"status\":\"ACTION_STATUS_DONE\"}]}",
                "actions", &st);
    protobuf_c_message_free_unpacked(&in->base, NULL);
    assert_null(security_incident_move(fixture_as(&x->f, &x->editor), YARD, "", true, "", &st));
    assert_int_equal(st.code, STATUS_PERMISSION_DENIED);
    in = security_incident_move(fixture_as(&x->f, &x->admin), YARD, "", true, "", &st);
    if (!in)
        fail_msg("close: %s", st.msg);
    assert_int_equal(in->state, SUPPLYSEC__V1__INCIDENT_STATE__INCIDENT_STATE_CLOSED);
    assert_string_equal(in->closer, ORG "/apiKeys/a");
    protobuf_c_message_free_unpacked(&in->base, NULL);
    /* closed: a record, neither changed nor deleted */
    assert_null(update(x, "{\"name\":\"" YARD "\",\"title\":\"x\"}", "title", &st));
    fixture_refused(&st, STATUS_FAILED_PRECONDITION, "is CLOSED");
    assert_false(std_delete(fixture_as(&x->f, &x->admin), &security_incident_kind, YARD, "", &st));
    fixture_refused(&st, STATUS_FAILED_PRECONDITION, "a record kept");
    assert_null(security_incident_move(fixture_as(&x->f, &x->admin), YARD, "", false, "", &st));
    fixture_refused(&st, STATUS_INVALID_ARGUMENT, "reason");
    in = security_incident_move(fixture_as(&x->f, &x->admin), YARD, "", false,
                                "Second break-in found on the CCTV", &st);
    assert_non_null(in);
    assert_int_equal(in->state, SUPPLYSEC__V1__INCIDENT_STATE__INCIDENT_STATE_OPEN);
    assert_string_equal(in->closer, "");
    protobuf_c_message_free_unpacked(&in->base, NULL);
    assert_null(security_incident_move(fixture_as(&x->f, &x->other), YARD, "", true, "", &st));
    assert_int_equal(st.code, STATUS_NOT_FOUND);
}

static void test_names_checked(void **state)
{
    fx *x = *state;
    const char *cases[][2] = {
        {"{\"facility\":\"" STATEMENT "/facilities/rotterdam\"}", "security_incident.facility"},
        {"{\"facility\":\"organizations/oth/statementsOfApplication/s/facilities/f\"}",
         "security_incident.facility"},
        {"{\"reassessScenarios\":[\"" ORG "/securityAssessments/a/threatScenarios/none\"]}",
         "security_incident.reassess_scenarios[0]"},
        {"{\"occurTime\":\"2099-01-01T00:00:00Z\"}", "security_incident.occur_time: in the future"},
        {"{\"requiredNotifications\":[{\"kind\":\"AUTHORITY_KIND_CUSTOMS\"}]}",
         "security_incident.required_notifications[0].authority"},
        {"{\"actions\":[{\"description\":\"d\",\"kind\":\"ACTION_KIND_PREVENTIVE\","
         "\"status\":\"ACTION_STATUS_OPEN\"}]}",
         "security_incident.actions[0].owner"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char json[1024];
        /* the case's fields after the required ones (a later key wins) */
        snprintf(json, sizeof json,
                 "{\"title\":\"T\",\"occurTime\":\"2026-10-01T00:00:00Z\","
                 "\"severity\":\"INCIDENT_SEVERITY_LOW\",%s",
                 cases[i][0] + 1);
        status st = {0};
        assert_null(
            fixture_try_create(&x->f, &x->editor, &security_incident_kind, ORG, "", json, &st));
        fixture_refused(&st, STATUS_INVALID_ARGUMENT, cases[i][1]);
    }
}

/* The carrier's declaration accepted: it covers the facility from then on. */
static void test_covering_partners(void **state)
{
    fx *x = *state;
    fixture_make(&x->f, &x->editor, &declaration_request_kind, ORG, "ask",
                 "{\"businessPartner\":\"" ORG "/businessPartners/carrier\"}");
    fixture_make(&x->f, &x->editor, &declaration_kind, ORG, "paper",
                 "{\"title\":\"Paper\",\"recordedFor\":\"" ORG "/businessPartners/carrier\","
                 "\"paperReference\":\"P-1\",\"measures\":{\"cargoSecurity\":\"c\","
                 "\"premisesSecurity\":\"e\",\"personnelSecurity\":\"f\","
                 "\"tradingPartnerSecurity\":\"g\"},\"signatory\":{\"name\":\"J\","
                 "\"position\":\"MD\"},\"signTime\":\"2026-01-01T00:00:00Z\","
                 "\"validUntil\":\"2099-01-01T00:00:00Z\"}");
    status st = {0};
    const char *paper = ORG "/declarations/paper", *ask = ORG "/declarationRequests/ask";
    ProtobufCMessage *m = lifecycle_move(fixture_as(&x->f, &x->editor), &declaration_kind,
                                         DOC_SUBMIT, paper, "", "", &st);
    protobuf_c_message_free_unpacked(m, NULL);
    m = lifecycle_move(fixture_as(&x->f, &x->admin), &declaration_kind, DOC_APPROVE, paper, "", "",
                       &st);
    protobuf_c_message_free_unpacked(m, NULL);
    DeclarationRequest *r =
        declaration_request_answer(fixture_as(&x->f, &x->editor), ask, "", paper, &st);
    if (!r)
        fail_msg("answer: %s", st.msg);
    protobuf_c_message_free_unpacked(&r->base, NULL);
    SecurityIncident *in = get(x);
    assert_int_equal(in->n_covering_partners, 0); /* answered, not accepted */
    protobuf_c_message_free_unpacked(&in->base, NULL);
    r = declaration_request_decide(fixture_as(&x->f, &x->admin), ask, "", true, "", &st);
    protobuf_c_message_free_unpacked(&r->base, NULL);
    in = get(x);
    assert_int_equal(in->n_covering_partners, 1);
    assert_string_equal(in->covering_partners[0], ORG "/businessPartners/carrier");
    protobuf_c_message_free_unpacked(&in->base, NULL);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_missing_notifications_derived, setup, teardown),
        cmocka_unit_test_setup_teardown(test_close_and_reopen, setup, teardown),
        cmocka_unit_test_setup_teardown(test_names_checked, setup, teardown),
        cmocka_unit_test_setup_teardown(test_covering_partners, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
