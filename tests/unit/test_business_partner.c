/* test_business_partner.c — the BusinessPartner kind's rules
 * (business_partner.c) without a store: the derived exemption for each
 * certificate type, expired, unverified, at the second it expires; its
 * basis; the review schedule per risk tier and an organization's own
 * intervals; every field's limit or format, each refusal INVALID_ARGUMENT
 * naming the field; the answer as of now (present). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "business_partner.h"
#include "clock.h"

typedef Supplysec__V1__BusinessPartner Partner;
typedef Supplysec__V1__PartnerCertificate Cert;

#define T(x) SUPPLYSEC__V1__PARTNER_CERTIFICATE_TYPE__PARTNER_CERTIFICATE_TYPE_##x
#define V(x) SUPPLYSEC__V1__CERTIFICATE_VERIFICATION__CERTIFICATE_VERIFICATION_##x
#define TIER(x) SUPPLYSEC__V1__RISK_TIER__RISK_TIER_##x
#define NOW INT64_C(1800000000) /* 2027-01-15T08:00:00Z */

typedef struct fx {
    Partner p;
    Cert c, *cs[1];
    Google__Protobuf__Timestamp until, verified;
} fx;

static int setup(void **state)
{
    fx *f = calloc(1, sizeof *f);
    supplysec__v1__business_partner__init(&f->p);
    f->p.legal_name = "Port Operator BV";
    f->p.country_code = "NL";
    f->p.risk_tier = TIER(MEDIUM);
    supplysec__v1__partner_certificate__init(&f->c);
    f->c.type = T(AEO_S);
    f->c.number = "NLAEOS0001";
    f->c.issuing_country = "NL";
    f->c.verified_by = V(AUTHORITY_REGISTER);
    google__protobuf__timestamp__init(&f->until);
    f->until.seconds = NOW + 86400 * 100;
    google__protobuf__timestamp__init(&f->verified);
    f->verified.seconds = NOW - 86400;
    f->c.valid_until = &f->until;
    f->c.verify_time = &f->verified;
    f->cs[0] = &f->c;
    f->p.certificates = f->cs;
    f->p.n_certificates = 1;
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    free(*state);
    return 0;
}

static void test_each_certificate_type(void **state)
{
    fx *f = *state;
    const struct {
        int type;
        bool exempts;
    } types[] = {{T(AEO_S), true},      {T(AEO_F), true},     {T(CTPAT), true},
                 {T(ISO_28001), true},  {T(ISO_20858), true}, {T(AEO_C), false},
                 {T(ISO_28000), false}, {T(OTHER), false}};
    for (size_t i = 0; i < sizeof types / sizeof *types; i++) {
        f->c.type = types[i].type;
        if (partner_certificate_exempts(&f->c, NOW) != types[i].exempts)
            fail_msg("type %d: exempts should be %d", types[i].type, types[i].exempts);
    }
}

static void test_expired_unverified_and_the_second_it_expires(void **state)
{
    fx *f = *state;
    char basis[400];
    assert_true(partner_exemption(&f->p, NOW, basis, sizeof basis));
    assert_string_equal(basis, "AEO-S NLAEOS0001 (NL), valid until 2027-04-25, verified by "
                               "authority register");
    f->until.seconds = NOW + 1;
    assert_true(partner_exemption(&f->p, NOW, basis, sizeof basis));
    assert_false(partner_exemption(&f->p, NOW + 1, basis, sizeof basis)); /* the moment it ends */
    f->until.seconds = NOW - 86400;                                       /* expired */
    assert_false(partner_exemption(&f->p, NOW, basis, sizeof basis));
    f->until.seconds = NOW + 86400;
    f->c.verified_by = 0; /* not verified */
    assert_false(partner_exemption(&f->p, NOW, basis, sizeof basis));
    f->c.verified_by = V(DOCUMENT);
    f->c.verify_time = NULL;
    assert_false(partner_exemption(&f->p, NOW, basis, sizeof basis));
    f->c.verify_time = &f->verified;
    f->c.valid_until = NULL; /* no end date: nothing to rely on */
    assert_false(partner_exemption(&f->p, NOW, basis, sizeof basis));
    f->p.n_certificates = 0;
    assert_false(partner_exemption(&f->p, NOW, basis, sizeof basis));
}

static void test_the_longest_valid_certificate_is_the_basis(void **state)
{
    fx *f = *state;
    Cert later = f->c, other = f->c, *cs[3] = {&f->c, &later, &other};
    Google__Protobuf__Timestamp later_until = f->until;
    later_until.seconds += 86400 * 365;
    later.valid_until = &later_until;
    later.type = T(CTPAT);
    later.number = "CTPAT-77";
    later.issuing_country = "";
    later.verified_by = V(ISSUER_CONFIRMATION);
    other.type = T(ISO_28000); /* longer still, but exempts no one */
    Google__Protobuf__Timestamp other_until = later_until;
    other_until.seconds += 86400;
    other.valid_until = &other_until;
    f->p.certificates = cs;
    f->p.n_certificates = 3;
    char basis[400];
    assert_true(partner_exemption(&f->p, NOW, basis, sizeof basis));
    assert_string_equal(basis, "C-TPAT CTPAT-77, valid until 2028-04-24, verified by issuer "
                               "confirmation");
}

static void test_review_schedule_per_tier(void **state)
{
    (void)state;
    calendar_time last = {NOW, 0}; /* 2027-01-15 */
    const int none[4] = {0};
    assert_int_equal(partner_review_months(TIER(HIGH), none), 12);
    assert_int_equal(partner_review_months(TIER(MEDIUM), none), 24);
    assert_int_equal(partner_review_months(TIER(LOW), none), 36);
    assert_int_equal(partner_review_months(TIER(LOW), NULL), 36);
    assert_int_equal(partner_next_review(last, TIER(HIGH), none).seconds,
                     NOW + INT64_C(86400) * 365);
    assert_int_equal(partner_next_review(last, TIER(MEDIUM), none).seconds,
                     NOW + INT64_C(86400) * (365 + 366)); /* through 29 February 2028 */
    int own[4] = {0};
    own[TIER(HIGH)] = 6;
    own[TIER(LOW)] = 48;
    assert_int_equal(partner_review_months(TIER(HIGH), own), 6);
    assert_int_equal(partner_review_months(TIER(MEDIUM), own), 24); /* 0 keeps the default */
    assert_int_equal(partner_review_months(TIER(LOW), own), 48);
    int64_t six_months =
        calendar_days_from_civil(2027, 7, 15) - calendar_days_from_civil(2027, 1, 15);
    assert_int_equal(partner_next_review(last, TIER(HIGH), own).seconds,
                     NOW + six_months * INT64_C(86400));
}

/* validate as a create runs it; st's code (0 when it passes). */
static status_code check(fx *f, status *st)
{
    memset(st, 0, sizeof *st);
    return business_partner_kind.hooks.validate(&f->p.base, "business_partner", st) ? 0 : st->code;
}

#define assert_refused(f, field)                                                                   \
    do {                                                                                           \
        status st_;                                                                                \
        assert_int_equal(check(f, &st_), STATUS_INVALID_ARGUMENT);                                 \
        if (strncmp(st_.msg, field, strlen(field)) != 0)                                           \
            fail_msg("expected a message naming %s, got: %s", field, st_.msg);                     \
    } while (0)

static void test_every_field_checked(void **state)
{
    fx *f = *state;
    status st;
    assert_int_equal(check(f, &st), 0);
    f->p.legal_name = "";
    assert_refused(f, "business_partner.legal_name");
    f->p.legal_name = "Port BV";
    f->p.country_code = "ZZ";
    assert_refused(f, "business_partner.country_code");
    f->p.country_code = "NL";
    f->p.risk_tier = 0;
    assert_refused(f, "business_partner.risk_tier");
    f->p.risk_tier = 9;
    assert_refused(f, "business_partner.risk_tier");
    f->p.risk_tier = TIER(LOW);
    Supplysec__V1__SupplyChainRole roles[2] = {
        SUPPLYSEC__V1__SUPPLY_CHAIN_ROLE__SUPPLY_CHAIN_ROLE_CARRIER,
        SUPPLYSEC__V1__SUPPLY_CHAIN_ROLE__SUPPLY_CHAIN_ROLE_CARRIER};
    f->p.roles = roles;
    f->p.n_roles = 2;
    assert_refused(f, "business_partner.roles[1]");
    f->p.n_roles = 1;
    f->p.organization = "partners/x";
    assert_refused(f, "business_partner.organization");
    f->p.organization = "organizations/Bad";
    assert_refused(f, "business_partner.organization");
    f->p.organization = "";
    f->p.certificates_from_organization = true;
    assert_refused(f, "business_partner.organization");
    f->p.certificates_from_organization = false;

    f->c.type = 0;
    assert_refused(f, "business_partner.certificates[0].type");
    f->c.type = T(AEO_F);
    f->c.number = "";
    assert_refused(f, "business_partner.certificates[0].number");
    f->c.number = "N1";
    f->c.issuing_country = "nl";
    assert_refused(f, "business_partner.certificates[0].issuing_country");
    f->c.issuing_country = "";
    f->c.verified_by = V(PLATFORM_ORGANIZATION); /* the server's only */
    assert_refused(f, "business_partner.certificates[0].verified_by");
    f->c.verified_by = 0; /* verify_time without how */
    assert_refused(f, "business_partner.certificates[0].verify_time");
    f->c.verified_by = V(DOCUMENT);
    f->until.seconds = INT64_C(300000000000); /* past 9999-12-31 */
    assert_refused(f, "business_partner.certificates[0].valid_until");
    f->until.seconds = NOW;
    Cert *many[21];
    for (size_t i = 0; i < 21; i++)
        many[i] = &f->c;
    f->p.certificates = many;
    f->p.n_certificates = 21;
    assert_refused(f, "business_partner.certificates");
    f->p.n_certificates = 20;
    assert_int_equal(check(f, &st), 0);
}

/* The answer as of now: an expired certificate ends the exemption without
 * any write, and an exempt partner has no review due. */
static void test_the_answer_is_as_of_now(void **state)
{
    fx *f = *state;
    Partner *p = malloc(sizeof *p); /* present frees and sets fields: a message of its own */
    supplysec__v1__business_partner__init(p);
    p->certificates = malloc(sizeof *p->certificates);
    p->certificates[0] = malloc(sizeof(Cert));
    *p->certificates[0] = f->c;
    p->certificates[0]->number = strdup("NLAEOS0001");
    p->certificates[0]->issuing_country = strdup("NL");
    p->certificates[0]->issuing_authority = strdup("");
    p->certificates[0]->valid_until = malloc(sizeof f->until);
    *p->certificates[0]->valid_until = f->until;
    p->certificates[0]->verify_time = malloc(sizeof f->verified);
    *p->certificates[0]->verify_time = f->verified;
    p->n_certificates = 1;
    p->next_credibility_review_time = malloc(sizeof f->until);
    *p->next_credibility_review_time = f->until;
    int64_t now = clock_realtime_ms() / 1000;
    status st = {0};
    p->certificates[0]->valid_until->seconds = now + 3600;
    assert_true(business_partner_kind.hooks.present(NULL, NULL, &p->base, &st));
    assert_false(p->declaration_required);
    assert_non_null(strstr(p->exemption_basis, "AEO-S NLAEOS0001"));
    assert_null(p->next_credibility_review_time);
    p->certificates[0]->valid_until->seconds = now - 1; /* it expired since the last write */
    assert_true(business_partner_kind.hooks.present(NULL, NULL, &p->base, &st));
    assert_true(p->declaration_required);
    assert_string_equal(p->exemption_basis, "");
    protobuf_c_message_free_unpacked(&p->base, NULL);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_each_certificate_type, setup, teardown),
        cmocka_unit_test_setup_teardown(test_expired_unverified_and_the_second_it_expires, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_the_longest_valid_certificate_is_the_basis, setup,
                                        teardown),
        cmocka_unit_test(test_review_schedule_per_tier),
        cmocka_unit_test_setup_teardown(test_every_field_checked, setup, teardown),
        cmocka_unit_test_setup_teardown(test_the_answer_is_as_of_now, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
