/* test_fieldmask.c — AIP-134 update masks on documents: what is replaced,
 * what is kept, which masks are refused. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdlib.h>
#include <string.h>

#include "fieldmask.h"
#include "resource.h"
#include "supplysec/v1/organizations.pb-c.h"

typedef Supplysec__V1__Organization Organization;

static Organization *org_new(const char *legal, const char *country, const char *eori,
                             const char *ctpat)
{
    Organization *o = malloc(sizeof *o);
    supplysec__v1__organization__init(o);
    message_set_string(&o->base, "legal_name", legal);
    message_set_string(&o->base, "country_code", country);
    message_set_string(&o->base, "name", "organizations/acme");
    message_set_string(&o->base, "etag", "current-etag");
    o->kind = SUPPLYSEC__V1__ORGANIZATION_KIND__ORGANIZATION_KIND_OPERATOR;
    o->identifiers = malloc(sizeof *o->identifiers);
    supplysec__v1__identifiers__init(o->identifiers);
    message_set_string(&o->identifiers->base, "eori", eori);
    message_set_string(&o->identifiers->base, "ctpat_account", ctpat);
    o->n_supply_chain_roles = 1;
    o->supply_chain_roles = malloc(sizeof *o->supply_chain_roles);
    o->supply_chain_roles[0] = SUPPLYSEC__V1__SUPPLY_CHAIN_ROLE__SUPPLY_CHAIN_ROLE_CARRIER;
    return o;
}

static Organization *apply(const Organization *cur, const Organization *patch, char **paths,
                           size_t n, status *st)
{
    return (Organization *)fieldmask_apply(&cur->base, &patch->base, paths, n,
                                           resource_output_only_fields, st);
}

static void test_top_level_field_only(void **state)
{
    (void)state;
    status st = {0};
    Organization *cur = org_new("Acme", "DE", "DE1", "C1"), *patch = org_new("New", "NL", "", "");
    char *paths[] = {"legal_name"};
    Organization *out = apply(cur, patch, paths, 1, &st);
    assert_non_null(out);
    assert_string_equal(out->legal_name, "New");
    assert_string_equal(out->country_code, "DE"); /* outside the mask: kept */
    assert_string_equal(out->identifiers->eori, "DE1");
    assert_int_equal(out->n_supply_chain_roles, 1);
    protobuf_c_message_free_unpacked(&out->base, NULL);
    protobuf_c_message_free_unpacked(&cur->base, NULL);
    protobuf_c_message_free_unpacked(&patch->base, NULL);
}

static void test_nested_path_and_json_names(void **state)
{
    (void)state;
    status st = {0};
    Organization *cur = org_new("Acme", "DE", "DE1", "C1"), *patch = org_new("x", "NL", "DE2", "");
    char *paths[] = {"identifiers.eori"};
    Organization *out = apply(cur, patch, paths, 1, &st);
    assert_non_null(out);
    assert_string_equal(out->identifiers->eori, "DE2");
    assert_string_equal(out->identifiers->ctpat_account, "C1"); /* sibling kept */
    assert_string_equal(out->legal_name, "Acme");
    protobuf_c_message_free_unpacked(&out->base, NULL);
    /* lowerCamelCase paths name the same fields; a masked field absent in
     * the patch is cleared */
    char *camel[] = {"countryCode", "supplyChainRoles"};
    patch->n_supply_chain_roles = 0;
    out = apply(cur, patch, camel, 2, &st);
    assert_non_null(out);
    assert_string_equal(out->country_code, "NL");
    assert_int_equal(out->n_supply_chain_roles, 0);
    protobuf_c_message_free_unpacked(&out->base, NULL);
    protobuf_c_message_free_unpacked(&cur->base, NULL);
    protobuf_c_message_free_unpacked(&patch->base, NULL);
}

static void test_star_keeps_output_only(void **state)
{
    (void)state;
    status st = {0};
    Organization *cur = org_new("Acme", "DE", "DE1", "C1"), *patch = org_new("New", "NL", "", "");
    message_set_string(&patch->base, "name", "organizations/other");
    message_set_string(&patch->base, "etag", "client-etag");
    char *paths[] = {"*"};
    Organization *out = apply(cur, patch, paths, 1, &st);
    assert_non_null(out);
    assert_string_equal(out->legal_name, "New");
    assert_string_equal(out->country_code, "NL");
    assert_string_equal(out->identifiers->eori, "");
    assert_string_equal(out->name, "organizations/acme"); /* output only */
    assert_string_equal(out->etag, "current-etag");
    protobuf_c_message_free_unpacked(&out->base, NULL);
    protobuf_c_message_free_unpacked(&cur->base, NULL);
    protobuf_c_message_free_unpacked(&patch->base, NULL);
}

static void test_refused_masks(void **state)
{
    (void)state;
    status st;
    const ProtobufCMessageDescriptor *d = &supplysec__v1__organization__descriptor;
    char *unknown[] = {"legal_name", "nope"};
    assert_false(fieldmask_validate(d, unknown, 2, &st));
    assert_int_equal(st.code, STATUS_INVALID_ARGUMENT);
    assert_non_null(strstr(st.msg, "update_mask"));
    char *through_repeated[] = {"certificates.number"};
    assert_false(fieldmask_validate(d, through_repeated, 1, &st));
    char *through_scalar[] = {"legal_name.x"};
    assert_false(fieldmask_validate(d, through_scalar, 1, &st));
    char *star_and_more[] = {"*", "legal_name"};
    assert_false(fieldmask_validate(d, star_and_more, 2, &st));
    assert_false(fieldmask_validate(d, NULL, 0, &st));
    char *many[FIELDMASK_MAX_PATHS + 1];
    for (int i = 0; i <= FIELDMASK_MAX_PATHS; i++)
        many[i] = "legal_name";
    assert_true(fieldmask_validate(d, many, FIELDMASK_MAX_PATHS, &st));
    assert_false(fieldmask_validate(d, many, FIELDMASK_MAX_PATHS + 1, &st));
}

static void test_implied_mask(void **state)
{
    (void)state;
    status st;
    Organization *patch = malloc(sizeof *patch);
    supplysec__v1__organization__init(patch);
    message_set_string(&patch->base, "name", "organizations/acme");
    message_set_string(&patch->base, "legal_name", "New");
    patch->kind = SUPPLYSEC__V1__ORGANIZATION_KIND__ORGANIZATION_KIND_CUSTOMS_AUTHORITY;
    char **paths = NULL;
    size_t n = 0;
    assert_true(fieldmask_populated(&patch->base, resource_output_only_fields, &paths, &n, &st));
    assert_int_equal(n, 2); /* name is output only */
    assert_string_equal(paths[0], "legal_name");
    assert_string_equal(paths[1], "kind");
    fieldmask_paths_free(paths, n);
    protobuf_c_message_free_unpacked(&patch->base, NULL);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_top_level_field_only),
        cmocka_unit_test(test_nested_path_and_json_names),
        cmocka_unit_test(test_star_keeps_output_only),
        cmocka_unit_test(test_refused_masks),
        cmocka_unit_test(test_implied_mask),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
