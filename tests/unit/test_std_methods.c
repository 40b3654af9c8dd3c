/* test_std_methods.c — start-up binding of standard methods (runtime.h,
 * api_std_check): every served service passes, and a table line whose
 * request or response does not have its verb's AIP fields is refused with
 * a sentence naming the method and what is missing, so the server never
 * starts with it. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <string.h>

#include "kinds.h"
#include "organization.h"
#include "security_policy.h"
#include "runtime.h"

static const ProtobufCServiceDescriptor *orgs = &supplysec__v1__organizations__descriptor;

static void refused(const api_method *m, const char *want)
{
    char err[512] = "";
    assert_false(api_std_check(orgs, m, 1, err, sizeof err));
    if (!strstr(err, want))
        fail_msg("expected \"%s\" in \"%s\"", want, err);
}

static void test_served_services_pass(void **state)
{
    (void)state;
    char err[512] = "";
    for (size_t i = 0; i < api_n_all_services; i++) {
        const api_service *svc = api_all_services[i];
        if (!api_std_check(svc->desc, svc->methods, svc->n_methods, err, sizeof err))
            fail_msg("%s: %s", svc->desc->name, err);
    }
}

static void test_kinds_table_passes(void **state)
{
    (void)state;
    char err[512] = "";
    if (!kind_check_all(kinds_all, kinds_n, err, sizeof err))
        fail_msg("%s", err);
    for (size_t i = 0; i < kinds_n; i++) {
        assert_ptr_equal(kinds_by_collection(kinds_all[i]->collection), kinds_all[i]);
        if (kinds_all[i]->revisions_collection)
            assert_ptr_equal(kinds_by_collection(kinds_all[i]->revisions_collection), kinds_all[i]);
    }
    assert_null(kinds_by_collection("noSuchCollection"));
}

static void test_mismatched_shapes_refused(void **state)
{
    (void)state;
    const api_method get_on_create = API_STANDARD(GET, "CreateOrganization", &organization_kind);
    refused(&get_on_create, "CreateOrganization (standard Get of Organization): the request has "
                            "no string name");
    const api_method list_on_get = API_STANDARD(LIST, "GetOrganization", &organization_kind);
    refused(&list_on_get, "no int32 page_size");
    const api_method delete_on_update =
        API_STANDARD(DELETE, "UpdateOrganization", &organization_kind);
    refused(&delete_on_update, "no string name");
    const api_method delete_on_get = API_STANDARD(DELETE, "GetOrganization", &organization_kind);
    refused(&delete_on_get, "google.protobuf.Empty");
    const api_method update_on_create =
        API_STANDARD(UPDATE, "CreateOrganization", &organization_kind);
    refused(&update_on_create, "update_mask");
    const api_method create_on_list = API_STANDARD(CREATE, "ListOrganizations", &organization_kind);
    refused(&create_on_list, "named as the kind's field");

    kind other = organization_kind; /* a kind whose field the requests do not have */
    other.field = "widget";
    const api_method wrong_field = API_STANDARD(CREATE, "CreateOrganization", &other);
    refused(&wrong_field, "named as the kind's field");
    kind child = organization_kind; /* a child kind needs a parent in Create */
    child.parent = &organization_kind;
    child.plural = "suborganizations";
    const api_method no_parent = API_STANDARD(CREATE, "CreateOrganization", &child);
    refused(&no_parent, "no string parent");
    kind broken = organization_kind; /* a kind that fails its own check */
    broken.immutable = (const char *const[]){"colour", NULL};
    const api_method bad_kind = API_STANDARD(GET, "GetOrganization", &broken);
    refused(&bad_kind, "\"colour\" is not a field");

    kind no_facets = security_policy_kind; /* ListSecurityPolicies takes a filter */
    no_facets.n_facets = 0;
    const api_method filter_without_facets = API_STANDARD(LIST, "ListSecurityPolicies", &no_facets);
    char err[512] = "";
    assert_false(api_std_check(&supplysec__v1__security_policies__descriptor,
                               &filter_without_facets, 1, err, sizeof err));
    assert_non_null(strstr(err, "declares no facets"));

    /* A kind stored in an envelope (any message holding the resource in a
     * singular field will do here) writes it in its own custom methods. */
    kind enveloped = organization_kind;
    enveloped.envelope = &supplysec__v1__create_organization_request__descriptor;
    enveloped.envelope_field = "organization";
    const api_method enveloped_get = API_STANDARD(GET, "GetOrganization", &enveloped);
    assert_true(api_std_check(orgs, &enveloped_get, 1, err, sizeof err));
    const api_method enveloped_create = API_STANDARD(CREATE, "CreateOrganization", &enveloped);
    refused(&enveloped_create, "stored in an envelope");
    const api_method enveloped_update = API_STANDARD(UPDATE, "UpdateOrganization", &enveloped);
    refused(&enveloped_update, "stored in an envelope");
    enveloped.envelope_field = "organization_id";
    refused(&enveloped_get, "has no singular field organization_id");

    const api_method no_such = API_STANDARD(GET, "GetWidget", &organization_kind);
    refused(&no_such, "has no method GetWidget");
    api_method by_hand = API_STANDARD(GET, "GetOrganization", &organization_kind);
    by_hand.handler = NULL;
    refused(&by_hand, "API_STANDARD");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_served_services_pass),
        cmocka_unit_test(test_kinds_table_passes),
        cmocka_unit_test(test_mismatched_shapes_refused),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
