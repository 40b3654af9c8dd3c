/* test_security_objective.c — security objectives (security_objective.h),
 * without gRPC, on an in-memory store: on or off target by the latest
 * measurement, for each direction; measurements kept in time order however
 * they come; one added on its own (and the limits on it); every field's
 * limits; status never a client's. */
#include "fixture.h"

#include <stdlib.h>

#include "organization.h"
#include "security_objective.h"

#define ROLE(x) SUPPLYSEC__V1__ROLE__ROLE_##x
#define STATUS(x) SUPPLYSEC__V1__OBJECTIVE_STATUS__OBJECTIVE_STATUS_##x
#define ORG "organizations/fwd"
#define SEALS ORG "/securityObjectives/seals"

typedef struct fx {
    fixture f;
    principal platform, editor, viewer, other;
} fx;

static int setup(void **state)
{
    fx *x = calloc(1, sizeof *x);
    fixture_open(&x->f);
    x->platform = fixture_principal("platform/apiKeys/root", "", ROLE(PLATFORM_ADMIN));
    x->editor = fixture_principal(ORG "/apiKeys/e", "fwd", ROLE(EDITOR));
    x->viewer = fixture_principal(ORG "/apiKeys/v", "fwd", ROLE(VIEWER));
    x->other = fixture_principal("organizations/oth/apiKeys/a", "oth", ROLE(ADMIN));
    fixture_make(&x->f, &x->platform, &organization_kind, "", "fwd",
                 "{\"legalName\":\"Fwd\",\"countryCode\":\"DE\","
                 "\"kind\":\"ORGANIZATION_KIND_OPERATOR\"}");
    /* at most 2 seal discrepancies per 1,000 containers */
    fixture_make(&x->f, &x->editor, &security_objective_kind, ORG, "seals",
                 "{\"title\":\"No undetected seal tampering\",\"indicator\":\"seal "
                 "discrepancies at unloading\",\"unit\":\"per 1,000 containers\","
                 "\"direction\":\"TARGET_DIRECTION_AT_MOST\",\"target\":2,"
                 "\"status\":\"OBJECTIVE_STATUS_ON_TARGET\",\"latestValue\":1}");
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

static SecurityObjective *add(fx *x, const principal *who, const char *json, status *st)
{
    Supplysec__V1__ObjectiveMeasurement *m = (Supplysec__V1__ObjectiveMeasurement *)fixture_message(
        &supplysec__v1__objective_measurement__descriptor, json);
    return security_objective_add(fixture_as(&x->f, who), SEALS, m, "", st);
}

static SecurityObjective *add_ok(fx *x, const char *json)
{
    status st = {0};
    SecurityObjective *o = add(x, &x->editor, json, &st);
    if (!o)
        fail_msg("add %s: %s", json, st.msg);
    return o;
}

static void test_status_from_the_latest_measurement(void **state)
{
    fx *x = *state;
    status st = {0};
    SecurityObjective *o = (SecurityObjective *)std_get(fixture_as(&x->f, &x->viewer),
                                                        &security_objective_kind, SEALS, &st);
    assert_int_equal(o->status, STATUS(NOT_MEASURED)); /* not the client's ON_TARGET */
    assert_true(o->latest_value == 0);
    protobuf_c_message_free_unpacked(&o->base, NULL);
    o = add_ok(x, "{\"measureTime\":\"2026-03-31T00:00:00Z\",\"value\":4}");
    assert_int_equal(o->status, STATUS(OFF_TARGET));
    protobuf_c_message_free_unpacked(&o->base, NULL);
    o = add_ok(x, "{\"measureTime\":\"2026-06-30T00:00:00Z\",\"value\":2,\"note\":\"Q2\"}");
    assert_int_equal(o->status, STATUS(ON_TARGET)); /* at most 2: 2 meets it */
    assert_true(o->latest_value == 2);
    protobuf_c_message_free_unpacked(&o->base, NULL);
    /* an older measurement arriving late goes in its place; the latest stays */
    o = add_ok(x, "{\"measureTime\":\"2026-01-31T00:00:00Z\",\"value\":9}");
    assert_int_equal(o->n_measurements, 3);
    assert_true(o->measurements[0]->value == 9 && o->measurements[2]->value == 2);
    assert_int_equal(o->status, STATUS(ON_TARGET));
    assert_int_equal(o->latest_measure_time->seconds, 1782777600); /* 2026-06-30 */
    protobuf_c_message_free_unpacked(&o->base, NULL);
    /* a second measurement at the same time: the one added last is the latest */
    o = add_ok(x, "{\"measureTime\":\"2026-06-30T00:00:00Z\",\"value\":5}");
    assert_true(o->latest_value == 5);
    assert_int_equal(o->status, STATUS(OFF_TARGET));
    protobuf_c_message_free_unpacked(&o->base, NULL);
    /* at least: the other side */
    char *paths[] = {"direction", "target"};
    o = (SecurityObjective *)fixture_try_update(
        &x->f, &x->editor, &security_objective_kind,
        "{\"name\":\"" SEALS "\",\"direction\":\"TARGET_DIRECTION_AT_LEAST\",\"target\":6}", paths,
        2, &st);
    if (!o)
        fail_msg("update: %s", st.msg);
    assert_int_equal(o->status, STATUS(OFF_TARGET));
    protobuf_c_message_free_unpacked(&o->base, NULL);
}

static void test_measurement_checked(void **state)
{
    fx *x = *state;
    status st = {0};
    assert_null(add(x, &x->editor, "{\"value\":1}", &st));
    fixture_refused(&st, STATUS_INVALID_ARGUMENT, "measurement.measure_time: required");
    assert_null(add(x, &x->editor, "{\"measureTime\":\"2099-01-01T00:00:00Z\",\"value\":1}", &st));
    fixture_refused(&st, STATUS_INVALID_ARGUMENT, "measurement.measure_time: in the future");
    assert_null(
        add(x, &x->editor, "{\"measureTime\":\"2026-01-01T00:00:00Z\",\"value\":\"NaN\"}", &st));
    fixture_refused(&st, STATUS_INVALID_ARGUMENT, "measurement.value");
    assert_null(add(x, &x->viewer, "{\"measureTime\":\"2026-01-01T00:00:00Z\",\"value\":1}", &st));
    assert_int_equal(st.code, STATUS_PERMISSION_DENIED);
    assert_null(add(x, &x->other, "{\"measureTime\":\"2026-01-01T00:00:00Z\",\"value\":1}", &st));
    assert_int_equal(st.code, STATUS_NOT_FOUND);
    assert_null(security_objective_add(fixture_as(&x->f, &x->editor), SEALS, NULL, "", &st));
    fixture_refused(&st, STATUS_INVALID_ARGUMENT, "measurement: required");
    /* a stale etag: nothing added */
    Supplysec__V1__ObjectiveMeasurement *m = (Supplysec__V1__ObjectiveMeasurement *)fixture_message(
        &supplysec__v1__objective_measurement__descriptor,
        "{\"measureTime\":\"2026-01-01T00:00:00Z\",\"value\":1}");
    assert_null(security_objective_add(fixture_as(&x->f, &x->editor), SEALS, m, "\"stale\"", &st));
    assert_int_equal(st.code, STATUS_ABORTED);
}

static void test_every_field_checked(void **state)
{
    fx *x = *state;
    const char *cases[][2] = {
        {"{\"indicator\":\"i\",\"direction\":\"TARGET_DIRECTION_AT_MOST\"}",
         "security_objective.title"},
        {"{\"title\":\"t\",\"direction\":\"TARGET_DIRECTION_AT_MOST\"}",
         "security_objective.indicator"},
        {"{\"title\":\"t\",\"indicator\":\"i\"}", "security_objective.direction"},
        {"{\"title\":\"t\",\"indicator\":\"i\",\"direction\":\"TARGET_DIRECTION_AT_MOST\","
         "\"target\":\"Infinity\"}",
         "security_objective.target"},
        {"{\"title\":\"t\",\"indicator\":\"i\",\"direction\":\"TARGET_DIRECTION_AT_MOST\","
         "\"measurements\":[{\"value\":1}]}",
         "security_objective.measurements[0].measure_time"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        status st = {0};
        assert_null(fixture_try_create(&x->f, &x->editor, &security_objective_kind, ORG, "",
                                       cases[i][0], &st));
        fixture_refused(&st, STATUS_INVALID_ARGUMENT, cases[i][1]);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_status_from_the_latest_measurement, setup, teardown),
        cmocka_unit_test_setup_teardown(test_measurement_checked, setup, teardown),
        cmocka_unit_test_setup_teardown(test_every_field_checked, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
