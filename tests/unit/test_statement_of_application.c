/* test_statement_of_application.c — the StatementOfApplication kind's rules
 * (statement_of_application.c), called through its declaration's hooks
 * without a store: UN/LOCODEs, every field's limit or format (each refusal
 * INVALID_ARGUMENT naming the field), partners of the organization's own
 * only, and what approval requires. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "statement_of_application.h"

typedef Supplysec__V1__StatementOfApplication Statement;

#define K statement_of_application_kind
#define FORWARDER SUPPLYSEC__V1__SUPPLY_CHAIN_ROLE__SUPPLY_CHAIN_ROLE_FORWARDER
#define CARRIER SUPPLYSEC__V1__SUPPLY_CHAIN_ROLE__SUPPLY_CHAIN_ROLE_CARRIER
#define SEA SUPPLYSEC__V1__TRANSPORT_MODE__TRANSPORT_MODE_SEA

/* A statement that approval accepts, in static storage, rebuilt per test. */
typedef struct fx {
    Statement s;
    Supplysec__V1__SupplyChainRole functions[2];
    Supplysec__V1__Facility fac, *facs[1];
    Supplysec__V1__SupplyChainRole fac_functions[1];
    Supplysec__V1__SupplyChainPortion portion;
    Supplysec__V1__TransportMode modes[1];
    Supplysec__V1__CoveredPartner partner, partner2, *partners[2];
    resource_key key;
} fx;

static int setup(void **state)
{
    fx *f = calloc(1, sizeof *f);
    supplysec__v1__statement_of_application__init(&f->s);
    f->s.title = "Scope of service";
    f->functions[0] = FORWARDER;
    f->s.functions = f->functions;
    f->s.n_functions = 1;
    supplysec__v1__facility__init(&f->fac);
    f->fac.name = "Hamburg warehouse";
    f->fac.country_code = "DE";
    f->fac.un_locode = "DEHAM";
    f->fac_functions[0] = FORWARDER;
    f->fac.functions = f->fac_functions;
    f->fac.n_functions = 1;
    f->facs[0] = &f->fac;
    f->s.facilities = f->facs;
    f->s.n_facilities = 1;
    supplysec__v1__supply_chain_portion__init(&f->portion);
    f->portion.from = "Supplier's dock, Shenzhen";
    f->portion.to = "Consignee, Rotterdam";
    f->modes[0] = SEA;
    f->portion.transport_modes = f->modes;
    f->portion.n_transport_modes = 1;
    f->portion.crosses_border = true;
    f->s.covered_portion = &f->portion;
    supplysec__v1__covered_partner__init(&f->partner);
    f->partner.business_partner = "organizations/acme/businessPartners/port";
    f->partner.exemption_basis = "AEO-S DEAEOS1234";
    supplysec__v1__covered_partner__init(&f->partner2);
    f->partner2.business_partner = "organizations/acme/businessPartners/carrier";
    f->partners[0] = &f->partner;
    f->partners[1] = &f->partner2;
    f->s.business_partners = f->partners;
    f->s.n_business_partners = 2;
    status st = {0};
    if (!kind_parse_name(&K, "name", "organizations/acme/statementsOfApplication/main", &f->key,
                         &st))
        fail_msg("%s", st.msg);
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    free(*state);
    return 0;
}

/* validate and derive, as a create runs them; st's code (0 when both pass). */
static status_code check(fx *f, status *st)
{
    memset(st, 0, sizeof *st);
    if (!K.hooks.validate(&f->s.base, K.field, st) ||
        !K.hooks.derive(NULL, &f->key, &f->s.base, NULL, st))
        return st->code;
    return 0;
}

#define assert_refused(f, field)                                                                   \
    do {                                                                                           \
        status st_;                                                                                \
        assert_int_equal(check(f, &st_), STATUS_INVALID_ARGUMENT);                                 \
        if (strncmp(st_.msg, field, strlen(field)) != 0)                                           \
            fail_msg("expected a message naming %s, got: %s", field, st_.msg);                     \
    } while (0)

static void test_un_locode(void **state)
{
    (void)state;
    const char *good[] = {"DEHAM", "USNYC", "NLRTM", "CNSZX", "GB2AB", "FR9ZZ"};
    const char *bad[] = {"",      "DEHA",  "DEHAMB", "deham", "DE0AB",
                         "DE1AB", "D3HAM", "DE-HA",  "DEHA ", "12345"};
    for (size_t i = 0; i < sizeof good / sizeof *good; i++)
        if (!un_locode_valid(good[i]))
            fail_msg("%s refused", good[i]);
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++)
        if (un_locode_valid(bad[i]))
            fail_msg("\"%s\" accepted", bad[i]);
}

static void test_a_complete_statement_passes(void **state)
{
    fx *f = *state;
    status st;
    assert_int_equal(check(f, &st), 0);
    f->s.n_business_partners = 0; /* their checks read the store: e2e test_partners */
    assert_true(K.hooks.before_approve(NULL, &f->key, &f->s.base, &st));
}

static void test_every_field_checked(void **state)
{
    fx *f = *state;
    f->s.title = "";
    assert_refused(f, "statement_of_application.title");
    f->s.title = "Scope";

    f->functions[1] = FORWARDER;
    f->s.n_functions = 2;
    assert_refused(f, "statement_of_application.functions[1]"); /* twice */
    f->functions[1] = 99;
    assert_refused(f, "statement_of_application.functions[1]"); /* unknown */
    f->functions[1] = 0;
    assert_refused(f, "statement_of_application.functions[1]"); /* unspecified */
    f->s.n_functions = 1;

    f->fac.name = "";
    assert_refused(f, "statement_of_application.facilities[0].name");
    f->fac.name = "Warehouse";
    f->fac.country_code = "XX";
    assert_refused(f, "statement_of_application.facilities[0].country_code");
    f->fac.country_code = "DE";
    f->fac.un_locode = "DEH1M";
    assert_refused(f, "statement_of_application.facilities[0].un_locode");
    f->fac.un_locode = "NLRTM"; /* in another country than the facility's */
    assert_refused(f, "statement_of_application.facilities[0].un_locode");
    f->fac.un_locode = "";
    f->fac_functions[0] = CARRIER; /* not among the statement's functions */
    assert_refused(f, "statement_of_application.facilities[0].functions[0]");
    f->fac_functions[0] = FORWARDER;
    char address[600];
    memset(address, 'a', sizeof address - 1);
    address[sizeof address - 1] = '\0';
    f->fac.address = address;
    assert_refused(f, "statement_of_application.facilities[0].address");
    f->fac.address = "";

    f->modes[0] = 0;
    assert_refused(f, "statement_of_application.covered_portion.transport_modes[0]");
    f->modes[0] = SEA;
    f->portion.to = address;
    assert_refused(f, "statement_of_application.covered_portion.to");
    f->portion.to = "Rotterdam";

    f->partner2.business_partner = f->partner.business_partner;
    assert_refused(f, "statement_of_application.business_partners[1].business_partner");
    f->partner2.business_partner = "";
    assert_refused(f, "statement_of_application.business_partners[1].business_partner");
    f->partner2.exemption_basis = address;
    f->partner2.business_partner = "organizations/acme/businessPartners/carrier";
    assert_refused(f, "statement_of_application.business_partners[1].exemption_basis");
    f->partner2.exemption_basis = "";
    status st;
    assert_int_equal(check(f, &st), 0);
}

static void test_partners_of_the_organization_only(void **state)
{
    fx *f = *state;
    char *bad[] = {"organizations/other/businessPartners/carrier",
                   "organizations/acme/securityPolicies/carrier",
                   "organizations/acme/businessPartners/",
                   "organizations/acme/businessPartners/Bad_Id",
                   "organizations/acme/businessPartners/carrier/x",
                   "carrier"};
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        f->partner2.business_partner = bad[i];
        assert_refused(f, "statement_of_application.business_partners[1].business_partner");
    }
}

static void no_functions(fx *f)
{
    f->s.n_functions = 0;
}
static void no_facilities(fx *f)
{
    f->s.n_facilities = 0;
}
static void no_portion(fx *f)
{
    f->s.covered_portion = NULL;
}
static void no_from(fx *f)
{
    f->portion.from = "";
}
static void no_modes(fx *f)
{
    f->portion.n_transport_modes = 0;
}

static void test_approval_needs_the_scope(void **state)
{
    struct {
        void (*clear)(fx *);
        const char *missing;
    } cases[] = {
        {no_functions, "functions"},
        {no_facilities, "facilities"},
        {no_portion, "covered_portion"},
        {no_from, "covered_portion.from"},
        {no_modes, "covered_portion.transport_modes"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        teardown(state);
        setup(state);
        fx *f = *state;
        cases[i].clear(f);
        f->s.n_business_partners = 0;
        status st = {0};
        assert_false(K.hooks.before_approve(NULL, &f->key, &f->s.base, &st));
        assert_int_equal(st.code, STATUS_FAILED_PRECONDITION);
        char want[64];
        snprintf(want, sizeof want, "without %s:", cases[i].missing);
        if (!strstr(st.msg, want))
            fail_msg("expected \"%s\" in: %s", want, st.msg);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_un_locode),
        cmocka_unit_test_setup_teardown(test_a_complete_statement_passes, setup, teardown),
        cmocka_unit_test_setup_teardown(test_every_field_checked, setup, teardown),
        cmocka_unit_test_setup_teardown(test_partners_of_the_organization_only, setup, teardown),
        cmocka_unit_test_setup_teardown(test_approval_needs_the_scope, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
