/* test_identity.c — input validation, page tokens, API key secrets and the
 * mapping of store outcomes onto statuses. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "apikey.h"
#include "auth.h"
#include "status.h"
#include "page_token.h"
#include "validate.h"

static void test_resource_ids(void **state)
{
    (void)state;
    status st;
    const char *good[] = {"abc", "acme-logistics", "a1b2c3", "z00"};
    const char *bad[] = {
        "",     "ab",
        "Abc",  "1abc",
        "-abc", "abc-",
        "ab_c", "abc.d",
        "äbc",  "a234567890123456789012345678901234567890123456789012345678901234"};
    for (size_t i = 0; i < sizeof good / sizeof *good; i++)
        assert_true(validate_resource_id("organization_id", good[i], &st));
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        st.code = STATUS_OK;
        assert_false(validate_resource_id("organization_id", bad[i], &st));
        assert_int_equal(st.code, STATUS_INVALID_ARGUMENT);
        assert_non_null(strstr(st.msg, "organization_id"));
    }
    for (int i = 0; i < 200; i++) {
        char id[RESOURCE_ID_MAX + 1];
        resource_id_generate(id);
        assert_true(validate_resource_id("generated", id, &st));
    }
}

static void test_resource_names(void **state)
{
    (void)state;
    status st;
    char a[64], b[64];
    assert_true(parse_name1("name", "organizations/acme", "organizations", a, sizeof a, &st));
    assert_string_equal(a, "acme");
    assert_false(parse_name1("name", "organizations/acme/x", "organizations", a, sizeof a, &st));
    assert_false(parse_name1("name", "orgs/acme", "organizations", a, sizeof a, &st));
    assert_false(parse_name1("name", "organizations/", "organizations", a, sizeof a, &st));
    assert_false(parse_name1("name", "", "organizations", a, sizeof a, &st));
    assert_non_null(strstr(st.msg, "required"));
    assert_true(parse_name2("name", "organizations/acme/apiKeys/ops", "organizations", a, sizeof a,
                            "apiKeys", b, sizeof b, &st));
    assert_string_equal(a, "acme");
    assert_string_equal(b, "ops");
    assert_false(parse_name2("name", "organizations/acme/apiKeys/", "organizations", a, sizeof a,
                             "apiKeys", b, sizeof b, &st));
    assert_false(parse_name2("name", "organizations/acme/keys/ops", "organizations", a, sizeof a,
                             "apiKeys", b, sizeof b, &st));
}

static void test_country_codes(void **state)
{
    (void)state;
    status st;
    const char *good[] = {"DE", "NL", "US", "CN", "ZW", "AD", "SS"};
    const char *bad[] = {"", "XX", "de", "DEU", "D", "ZZ", "UK"};
    for (size_t i = 0; i < sizeof good / sizeof *good; i++)
        assert_true(validate_country_code("country_code", good[i], &st));
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        assert_false(validate_country_code("country_code", bad[i], &st));
        assert_int_equal(st.code, STATUS_INVALID_ARGUMENT);
        assert_non_null(strstr(st.msg, "country_code"));
    }
}

static void test_text(void **state)
{
    (void)state;
    status st;
    assert_true(validate_text("legal_name", "Müller GmbH", 11, true, &st));
    assert_false(validate_text("legal_name", "Müller GmbH", 10, true, &st));
    assert_false(validate_text("legal_name", "", 10, true, &st));
    assert_true(validate_text("legal_name", "", 10, false, &st));
    assert_false(validate_text("legal_name", "bad \xff utf8", 100, true, &st));
    assert_non_null(strstr(st.msg, "UTF-8"));
}

static void test_page_size_and_tokens(void **state)
{
    (void)state;
    status st;
    int n;
    assert_true(validate_page_size("page_size", 0, &n, &st));
    assert_int_equal(n, PAGE_SIZE_DEFAULT);
    assert_true(validate_page_size("page_size", 5000, &n, &st));
    assert_int_equal(n, PAGE_SIZE_MAX);
    assert_false(validate_page_size("page_size", -1, &n, &st));

    store *db = NULL;
    assert_int_equal(store_open("sqlite::memory:", 1, &db, NULL), STORE_OK);
    char *tok = page_token_encode(db, "ListOrganizations", "organizations/acme", &st);
    char *after = NULL;
    assert_non_null(tok);
    assert_true(page_token_decode(db, tok, "ListOrganizations", &after, &st));
    assert_string_equal(after, "organizations/acme");
    free(after);
    /* bound to its query */
    assert_false(page_token_decode(db, tok, "ListApiKeys|platform|", &after, &st));
    assert_null(after);
    assert_int_equal(st.code, STATUS_INVALID_ARGUMENT);
    /* altered: any bit of the MAC or the cursor */
    for (size_t i = 0; i < strlen(tok); i += 5) {
        char *bad = strdup(tok);
        bad[i] = bad[i] == 'A' ? 'B' : 'A';
        assert_false(page_token_decode(db, bad, "ListOrganizations", &after, &st));
        free(bad);
    }
    /* forged: the old unauthenticated format, fingerprint and cursor computed by anyone */
    const char *forged = "MDAwMDAwMDAwMDAwMDAwMDpvcmdhbml6YXRpb25zL2FjbWU";
    assert_false(page_token_decode(db, forged, "ListOrganizations", &after, &st));
    assert_int_equal(st.code, STATUS_INVALID_ARGUMENT);
    free(tok);
    assert_false(page_token_decode(db, "not a token!", "ListOrganizations", &after, &st));
    assert_true(page_token_decode(db, "", "ListOrganizations", &after, &st));
    assert_string_equal(after, "");
    free(after);
    /* the key lives in the store: another store's tokens do not verify */
    store *other = NULL;
    assert_int_equal(store_open("sqlite::memory:", 1, &other, NULL), STORE_OK);
    tok = page_token_encode(other, "ListOrganizations", "organizations/acme", &st);
    assert_non_null(tok);
    assert_true(page_token_decode(other, tok, "ListOrganizations", &after, &st));
    free(after);
    assert_false(page_token_decode(db, tok, "ListOrganizations", &after, &st));
    free(tok);
    store_close(other);
    store_close(db);
}

static void test_api_key_secrets(void **state)
{
    (void)state;
    char secret[APIKEY_SECRET_LEN + 1], prefix[APIKEY_PREFIX_LEN + 1];
    char s2[APIKEY_SECRET_LEN + 1], p2[APIKEY_PREFIX_LEN + 1], header[128];
    uint8_t hash[APIKEY_HASH_LEN];
    assert_true(apikey_generate(secret, prefix));
    assert_int_equal(strlen(secret), APIKEY_SECRET_LEN);
    assert_int_equal(strncmp(secret, prefix, APIKEY_PREFIX_LEN), 0);
    apikey_hash(secret, hash);
    assert_true(apikey_matches(secret, hash, sizeof hash));
    assert_false(apikey_matches(secret, hash, sizeof hash - 1));

    snprintf(header, sizeof header, "Bearer %s", secret);
    assert_true(apikey_parse_bearer(header, strlen(header), s2, p2));
    assert_string_equal(s2, secret);
    assert_string_equal(p2, prefix);

    char other[APIKEY_SECRET_LEN + 1];
    strcpy(other, secret);
    other[APIKEY_SECRET_LEN - 1] = other[APIKEY_SECRET_LEN - 1] == 'A' ? 'B' : 'A';
    assert_false(apikey_matches(other, hash, sizeof hash));

    const char *bad[] = {"", "Bearer", "Bearer nonsense", "Basic abc", secret};
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++)
        assert_false(apikey_parse_bearer(bad[i], strlen(bad[i]), s2, p2));
    /* a value that is not NUL-terminated is read by its length only */
    assert_false(apikey_parse_bearer(header, strlen(header) - 1, s2, p2));

    char secret2[APIKEY_SECRET_LEN + 1], prefix2[APIKEY_PREFIX_LEN + 1];
    assert_true(apikey_generate(secret2, prefix2));
    assert_string_not_equal(secret, secret2);
}

static void test_authorization(void **state)
{
    (void)state;
    status st;
    principal viewer = {"organizations/a/apiKeys/v", "a", SUPPLYSEC__V1__ROLE__ROLE_VIEWER};
    principal admin = {"organizations/a/apiKeys/x", "a", SUPPLYSEC__V1__ROLE__ROLE_ADMIN};
    principal platform = {"platform/apiKeys/p", "", SUPPLYSEC__V1__ROLE__ROLE_PLATFORM_ADMIN};
    assert_true(auth_require(&viewer, "a", SUPPLYSEC__V1__ROLE__ROLE_VIEWER, "x", &st));
    assert_false(auth_require(&viewer, "a", SUPPLYSEC__V1__ROLE__ROLE_EDITOR, "x", &st));
    assert_int_equal(st.code, STATUS_PERMISSION_DENIED);
    assert_false(
        auth_require(&admin, "b", SUPPLYSEC__V1__ROLE__ROLE_VIEWER, "organizations/b", &st));
    assert_int_equal(st.code, STATUS_NOT_FOUND);
    assert_true(auth_require(&platform, "b", SUPPLYSEC__V1__ROLE__ROLE_ADMIN, "x", &st));
    assert_true(auth_is_platform_admin(&platform));
    assert_false(auth_is_platform_admin(&admin));
    /* a platform role on an organization key is not a platform administrator */
    principal forged = {"organizations/a/apiKeys/f", "a", SUPPLYSEC__V1__ROLE__ROLE_PLATFORM_ADMIN};
    assert_false(auth_is_platform_admin(&forged));
}

static void test_store_status_mapping(void **state)
{
    (void)state;
    status st;
    const struct {
        store_status in;
        status_code out;
    } cases[] = {
        {STORE_OK, STATUS_OK},
        {STORE_NOT_FOUND, STATUS_NOT_FOUND},
        {STORE_ALREADY_EXISTS, STATUS_ALREADY_EXISTS},
        {STORE_CONFLICT, STATUS_ABORTED},
        {STORE_UNAVAILABLE, STATUS_UNAVAILABLE},
        {STORE_INVALID, STATUS_INTERNAL},
        {STORE_INTERNAL, STATUS_INTERNAL},
    };
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        assert_int_equal(status_from_store(&st, cases[i].in, "organizations/x"),
                         cases[i].in == STORE_OK);
        assert_int_equal(st.code, cases[i].out);
    }
    assert_string_equal(status_code_name(STATUS_UNAUTHENTICATED), "UNAUTHENTICATED");
    assert_string_equal(status_code_name(STATUS_ABORTED), "ABORTED");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_resource_ids),         cmocka_unit_test(test_resource_names),
        cmocka_unit_test(test_country_codes),        cmocka_unit_test(test_text),
        cmocka_unit_test(test_page_size_and_tokens), cmocka_unit_test(test_api_key_secrets),
        cmocka_unit_test(test_authorization),        cmocka_unit_test(test_store_status_mapping),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
