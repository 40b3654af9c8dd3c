/* test_scoring_scheme.c — scoring schemes (scoring_scheme.h), without gRPC,
 * on an in-memory SQLite store: each preset as created and the scores it
 * gives; a preset with the organization's own acceptable level; a custom
 * scheme combined by sum; every limit and format of a scheme refused
 * INVALID_ARGUMENT naming the field. */
#include "fixture.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "organization.h"
#include "scoring_scheme.h"

#define ROLE(x) SUPPLYSEC__V1__ROLE__ROLE_##x
#define PARENT "organizations/fwd"

typedef struct fx {
    fixture base;
    principal platform, editor;
} fx;

static ScoringScheme *scheme(fx *f, const char *json)
{
    status st = {0};
    ProtobufCMessage *m =
        fixture_try_create(&f->base, &f->editor, &scoring_scheme_kind, PARENT, "", json, &st);
    if (!m)
        fail_msg("%s: %s", json, st.msg);
    return (ScoringScheme *)m;
}

static void refused(fx *f, const char *json, const char *field)
{
    status st = {0};
    ProtobufCMessage *m =
        fixture_try_create(&f->base, &f->editor, &scoring_scheme_kind, PARENT, "", json, &st);
    if (m)
        fail_msg("accepted, expected %s refused: %s", field, json);
    assert_int_equal(st.code, STATUS_INVALID_ARGUMENT);
    if (!strstr(st.msg, field))
        fail_msg("'%s' does not name %s", st.msg, field);
}

static double score(const ScoringScheme *s, int c, int l)
{
    double v = -1;
    assert_true(scoring_score(s, c, l, &v));
    return v;
}

static int setup(void **state)
{
    fx *f = calloc(1, sizeof *f);
    fixture_open(&f->base);
    f->platform = (principal){.name = "platform/apiKeys/root", .role = ROLE(PLATFORM_ADMIN)};
    f->editor =
        (principal){.name = "organizations/fwd/apiKeys/e", .org = "fwd", .role = ROLE(EDITOR)};
    status st = {0};
    ProtobufCMessage *o = fixture_try_create(&f->base, &f->platform, &organization_kind, "", "fwd",
                                             "{\"legalName\":\"Forwarder\",\"countryCode\":\"DE\","
                                             "\"kind\":\"ORGANIZATION_KIND_OPERATOR\"}",
                                             &st);
    if (!o)
        fail_msg("organization: %s", st.msg);
    protobuf_c_message_free_unpacked(o, NULL);
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

static void test_five_by_five(void **state)
{
    fx *f = *state;
    ScoringScheme *s =
        scheme(f, "{\"title\":\"Default\",\"preset\":\"SCORING_PRESET_FIVE_BY_FIVE\"}");
    assert_int_equal(s->consequence->n_levels, 5);
    assert_int_equal(s->likelihood->n_levels, 5);
    assert_string_equal(s->consequence->levels[3]->label, "Major");
    assert_int_equal(s->consequence->levels[3]->level, 4);
    assert_string_equal(s->likelihood->levels[4]->label, "Almost certain");
    assert_true(s->acceptable_level == 6);
    assert_string_equal(s->currency, "");
    assert_true(score(s, 4, 3) == 12);
    assert_true(score(s, 1, 1) == 1);
    assert_true(score(s, 5, 5) == 25);
    double v;
    assert_false(scoring_score(s, 0, 1, &v));
    assert_false(scoring_score(s, 1, 6, &v));
    protobuf_c_message_free_unpacked(&s->base, NULL);
}

static void test_ctpat_threat_vulnerability(void **state)
{
    fx *f = *state;
    ScoringScheme *s = scheme(f, "{\"title\":\"C-TPAT\","
                                 "\"preset\":\"SCORING_PRESET_CTPAT_THREAT_VULNERABILITY\"}");
    assert_string_equal(s->consequence->name, "Threat");
    assert_string_equal(s->likelihood->name, "Vulnerability");
    assert_int_equal(s->consequence->n_levels, 3);
    assert_string_equal(s->consequence->levels[2]->label, "High");
    assert_true(score(s, 3, 3) == 9);
    assert_true(score(s, 1, 2) <= s->acceptable_level);  /* low threat, medium vulnerability */
    assert_false(score(s, 2, 2) <= s->acceptable_level); /* medium and medium */
    protobuf_c_message_free_unpacked(&s->base, NULL);
}

static void test_semi_quantitative(void **state)
{
    fx *f = *state;
    ScoringScheme *s = scheme(f, "{\"title\":\"Costs\","
                                 "\"preset\":\"SCORING_PRESET_SEMI_QUANTITATIVE\"}");
    assert_string_equal(s->currency, "EUR");
    /* the cost of one event: the midpoint of its range */
    assert_true(s->consequence->levels[2]->value == 55000);
    assert_true(s->consequence->levels[2]->min_cost == 10000);
    /* once a year at 10,000 to 100,000: 55,000 a year */
    assert_true(score(s, 3, 3) == 55000);
    assert_true(score(s, 2, 2) == 550); /* once a decade at 1,000 to 10,000 */
    assert_true(s->acceptable_level == 10000);
    protobuf_c_message_free_unpacked(&s->base, NULL);
}

static void test_preset_with_own_parts_and_custom_sum(void **state)
{
    fx *f = *state;
    ScoringScheme *s = scheme(f, "{\"title\":\"Strict\",\"preset\":\"SCORING_PRESET_FIVE_BY_FIVE\","
                                 "\"acceptableLevel\":4}");
    assert_true(s->acceptable_level == 4);
    assert_int_equal(s->consequence->n_levels, 5);
    protobuf_c_message_free_unpacked(&s->base, NULL);
    s = scheme(f, "{\"title\":\"Sum\",\"combination\":\"SCORE_COMBINATION_SUM\","
                  "\"acceptableLevel\":5,"
                  "\"consequence\":{\"name\":\"C\",\"levels\":[{\"label\":\"low\",\"value\":1},"
                  "{\"label\":\"high\",\"value\":4,\"level\":9}]},"
                  "\"likelihood\":{\"name\":\"L\",\"levels\":[{\"label\":\"low\",\"value\":0.5},"
                  "{\"label\":\"mid\",\"value\":2},{\"label\":\"high\",\"value\":3}]}}");
    assert_int_equal(s->preset, 0);
    assert_int_equal(s->consequence->levels[1]->level, 2); /* the server's, not the client's 9 */
    assert_true(score(s, 2, 3) == 7);
    assert_true(score(s, 1, 1) == 1.5);
    protobuf_c_message_free_unpacked(&s->base, NULL);
}

static void test_every_field_checked(void **state)
{
    fx *f = *state;
    const char *two = "{\"name\":\"L\",\"levels\":[{\"label\":\"a\",\"value\":1},"
                      "{\"label\":\"b\",\"value\":2}]}";
    char json[2048];
    refused(f, "{\"preset\":\"SCORING_PRESET_FIVE_BY_FIVE\"}", "scoring_scheme.title");
    refused(f, "{\"title\":\"T\"}", "scoring_scheme.consequence: required");
    refused(f, "{\"title\":\"T\",\"preset\":7}", "scoring_scheme.preset");
    snprintf(json, sizeof json, "{\"title\":\"T\",\"consequence\":%s,\"likelihood\":%s}", two, two);
    refused(f, json, "scoring_scheme.combination: required");
    snprintf(json, sizeof json,
             "{\"title\":\"T\",\"combination\":\"SCORE_COMBINATION_PRODUCT\",\"consequence\":"
             "{\"name\":\"C\",\"levels\":[{\"label\":\"only\",\"value\":1}]},\"likelihood\":%s}",
             two);
    refused(f, json, "scoring_scheme.consequence.levels: 2 to 10 levels");
    snprintf(json, sizeof json,
             "{\"title\":\"T\",\"combination\":\"SCORE_COMBINATION_PRODUCT\",\"consequence\":"
             "{\"name\":\"C\",\"levels\":[{\"label\":\"a\",\"value\":1},{\"label\":\"a\","
             "\"value\":2}]},\"likelihood\":%s}",
             two);
    refused(f, json, "scoring_scheme.consequence.levels[1].label");
    snprintf(json, sizeof json,
             "{\"title\":\"T\",\"combination\":\"SCORE_COMBINATION_PRODUCT\",\"consequence\":"
             "{\"name\":\"C\",\"levels\":[{\"label\":\"a\",\"value\":2},{\"label\":\"b\","
             "\"value\":2}]},\"likelihood\":%s}",
             two);
    refused(f, json, "scoring_scheme.consequence.levels[1]: its value must be above");
    snprintf(json, sizeof json,
             "{\"title\":\"T\",\"combination\":\"SCORE_COMBINATION_PRODUCT\",\"consequence\":"
             "{\"name\":\"C\",\"levels\":[{\"label\":\"a\",\"value\":-1},{\"label\":\"b\","
             "\"value\":2}]},\"likelihood\":%s}",
             two);
    refused(f, json, "scoring_scheme.consequence.levels[0].value");
    snprintf(json, sizeof json,
             "{\"title\":\"T\",\"combination\":\"SCORE_COMBINATION_PRODUCT\",\"consequence\":"
             "{\"name\":\"C\",\"levels\":[{\"label\":\"a\",\"value\":\"NaN\"},{\"label\":\"b\","
             "\"value\":2}]},\"likelihood\":%s}",
             two);
    refused(f, json, "scoring_scheme.consequence.levels[0].value");
    snprintf(json, sizeof json,
             "{\"title\":\"T\",\"combination\":\"SCORE_COMBINATION_PRODUCT\",\"consequence\":"
             "{\"name\":\"C\",\"levels\":[{\"label\":\"a\",\"minCost\":1,\"maxCost\":2},"
             "{\"label\":\"b\",\"value\":2}]},\"likelihood\":%s}",
             two);
    refused(f, json, "scoring_scheme.consequence.levels[0]: cost ranges belong only");
    snprintf(json, sizeof json,
             "{\"title\":\"T\",\"combination\":\"SCORE_COMBINATION_EXPECTED_ANNUAL_LOSS\","
             "\"currency\":\"EUR\",\"consequence\":{\"name\":\"C\",\"levels\":[{\"label\":\"a\","
             "\"minCost\":5,\"maxCost\":1},{\"label\":\"b\",\"minCost\":5,\"maxCost\":9}]},"
             "\"likelihood\":%s}",
             two);
    refused(f, json, "scoring_scheme.consequence.levels[0].max_cost");
    refused(f,
            "{\"title\":\"T\",\"preset\":\"SCORING_PRESET_SEMI_QUANTITATIVE\","
            "\"currency\":\"eur\"}",
            "scoring_scheme.currency");
    refused(f, "{\"title\":\"T\",\"preset\":\"SCORING_PRESET_FIVE_BY_FIVE\",\"currency\":\"EUR\"}",
            "scoring_scheme.currency: only an expected-annual-loss scheme");
    refused(f,
            "{\"title\":\"T\",\"preset\":\"SCORING_PRESET_FIVE_BY_FIVE\","
            "\"acceptableLevel\":-1}",
            "scoring_scheme.acceptable_level");
    /* eleven levels */
    int n = snprintf(json, sizeof json,
                     "{\"title\":\"T\",\"preset\":\"SCORING_PRESET_FIVE_BY_FIVE\","
                     "\"likelihood\":{\"name\":\"L\",\"levels\":[");
    for (int i = 0; i < 11; i++)
        n += snprintf(json + n, sizeof json - (size_t)n, "%s{\"label\":\"l%d\",\"value\":%d}",
                      i ? "," : "", i, i + 1);
    snprintf(json + n, sizeof json - (size_t)n, "]}}");
    refused(f, json, "scoring_scheme.likelihood.levels: 2 to 10 levels, got 11");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_five_by_five, setup, teardown),
        cmocka_unit_test_setup_teardown(test_ctpat_threat_vulnerability, setup, teardown),
        cmocka_unit_test_setup_teardown(test_semi_quantitative, setup, teardown),
        cmocka_unit_test_setup_teardown(test_preset_with_own_parts_and_custom_sum, setup, teardown),
        cmocka_unit_test_setup_teardown(test_every_field_checked, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
