/* test_sensitive.c — the fields the proto marks sensitive, found in the
 * embedded descriptors, and cleared at any depth of a message. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include <string.h>

#include "sensitive.h"
#include "supplysec/v1/security_plans.pb-c.h"
#include "supplysec/v1/statements_of_application.pb-c.h"

static void test_marked_fields_found(void **state)
{
    (void)state;
    const char *names[SENSITIVE_MAX];
    size_t n = sensitive_fields(names, SENSITIVE_MAX);
    assert_int_equal(n, 2);
    bool facility = false, plan = false;
    for (size_t i = 0; i < n; i++) {
        facility |= strcmp(names[i], "supplysec.v1.Facility.security_arrangements") == 0;
        plan |= strcmp(names[i], "supplysec.v1.SecurityPlan.guarding_arrangements") == 0;
    }
    assert_true(facility && plan);
    const ProtobufCFieldDescriptor *f = protobuf_c_message_descriptor_get_field_by_name(
        &supplysec__v1__facility__descriptor, "security_arrangements");
    assert_true(sensitive_field(&supplysec__v1__facility__descriptor, f));
    f = protobuf_c_message_descriptor_get_field_by_name(&supplysec__v1__facility__descriptor,
                                                        "address");
    assert_false(sensitive_field(&supplysec__v1__facility__descriptor, f));
}

static void test_redact_clears_at_any_depth(void **state)
{
    (void)state;
    Supplysec__V1__Facility a = SUPPLYSEC__V1__FACILITY__INIT, b = SUPPLYSEC__V1__FACILITY__INIT;
    a.name = "Hamburg";
    a.security_arrangements = "Alarm 4711";
    b.name = "Bremen";
    b.security_arrangements = "Keys with the gate";
    Supplysec__V1__Facility *facilities[] = {&a, &b};
    Supplysec__V1__StatementOfApplication soa = SUPPLYSEC__V1__STATEMENT_OF_APPLICATION__INIT;
    soa.title = "Scope";
    soa.n_facilities = 2;
    soa.facilities = facilities;
    /* packed and unpacked, so the strings are the allocator's to free */
    uint8_t buf[512];
    size_t len = protobuf_c_message_pack(&soa.base, buf);
    Supplysec__V1__StatementOfApplication *got =
        supplysec__v1__statement_of_application__unpack(NULL, len, buf);
    assert_non_null(got);
    sensitive_redact(&got->base);
    assert_string_equal(got->title, "Scope");
    assert_string_equal(got->facilities[0]->name, "Hamburg");
    assert_string_equal(got->facilities[0]->security_arrangements, "");
    assert_string_equal(got->facilities[1]->security_arrangements, "");
    supplysec__v1__statement_of_application__free_unpacked(got, NULL);

    Supplysec__V1__SecurityPlan plan = SUPPLYSEC__V1__SECURITY_PLAN__INIT;
    plan.title = "Plan";
    plan.guarding_arrangements = "Rota: A nights";
    len = protobuf_c_message_pack(&plan.base, buf);
    Supplysec__V1__SecurityPlan *p = supplysec__v1__security_plan__unpack(NULL, len, buf);
    sensitive_redact(&p->base);
    assert_string_equal(p->title, "Plan");
    assert_string_equal(p->guarding_arrangements, "");
    supplysec__v1__security_plan__free_unpacked(p, NULL);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_marked_fields_found),
        cmocka_unit_test(test_redact_clears_at_any_depth),
    };
    return cmocka_run_group_tests_name("sensitive", tests, NULL, NULL);
}
