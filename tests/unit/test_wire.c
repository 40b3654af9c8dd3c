/* test_wire.c — the generic wire check of request strings (wire.h) and the
 * UTF-8 helpers under it (utf8.h): NULs and bytes that are not UTF-8 are
 * refused naming the field (and a repeated field's element), at any depth;
 * a timestamp outside years 1 to 9999 likewise; malformed bytes are refused;
 * well-formed text in any script passes; status messages are cut between
 * characters. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "resource.h"
#include "status.h"
#include "supplysec/v1/organizations.pb-c.h"
#include "utf8.h"
#include "wire.h"

/* An UpdateOrganizationRequest packed, with the first occurrence of `mark`
 * in the bytes replaced by `with` (same length). */
static uint8_t *packed_update(const char *legal_name, const char *eori, const char *mark,
                              const char *with, size_t *len)
{
    Supplysec__V1__UpdateOrganizationRequest req = SUPPLYSEC__V1__UPDATE_ORGANIZATION_REQUEST__INIT;
    Supplysec__V1__Organization org = SUPPLYSEC__V1__ORGANIZATION__INIT;
    Supplysec__V1__Identifiers ids = SUPPLYSEC__V1__IDENTIFIERS__INIT;
    Google__Protobuf__FieldMask mask = GOOGLE__PROTOBUF__FIELD_MASK__INIT;
    char *paths[] = {"legal_name"};
    org.name = "organizations/acme";
    org.legal_name = (char *)legal_name;
    org.etag = "etag-1";
    ids.eori = (char *)eori;
    org.identifiers = &ids;
    mask.n_paths = 1;
    mask.paths = paths;
    req.organization = &org;
    req.update_mask = &mask;
    *len = protobuf_c_message_get_packed_size(&req.base);
    uint8_t *buf = malloc(*len);
    protobuf_c_message_pack(&req.base, buf);
    if (mark) {
        uint8_t *at = memmem(buf, *len, mark, strlen(mark));
        assert_non_null(at);
        memcpy(at, with, strlen(mark)); /* with may hold NULs */
    }
    return buf;
}

static void expect_refused(const uint8_t *buf, size_t len, const char *field, const char *why)
{
    status st = {0};
    assert_false(
        wire_check(&supplysec__v1__update_organization_request__descriptor, buf, len, &st));
    assert_int_equal(st.code, STATUS_INVALID_ARGUMENT);
    char prefix[128];
    snprintf(prefix, sizeof prefix, "%s: ", field);
    if (field[0] && strncmp(st.msg, prefix, strlen(prefix)) != 0)
        fail_msg("expected a message naming %s, got \"%s\"", field, st.msg);
    if (!strstr(st.msg, why))
        fail_msg("expected \"%s\" in \"%s\"", why, st.msg);
}

static void test_wellformed_passes(void **state)
{
    (void)state;
    size_t len;
    uint8_t *buf = packed_update("Ärger & Söhne 株式会社 🚢", "DE123", NULL, NULL, &len);
    status st = {0};
    assert_true(wire_check(&supplysec__v1__update_organization_request__descriptor, buf, len, &st));
    free(buf);
    assert_true(wire_check(&supplysec__v1__update_organization_request__descriptor, NULL, 0, &st));
}

static void test_nul_named_at_each_depth(void **state)
{
    (void)state;
    size_t len;
    uint8_t *buf = packed_update("AcmeXEvil Corp", "DE1", "X", "\0", &len);
    expect_refused(buf, len, "organization.legal_name", "NUL");
    free(buf);
    buf = packed_update("Acme", "DE1YZ", "Y", "\0", &len);
    expect_refused(buf, len, "organization.identifiers.eori", "NUL");
    free(buf);
    /* the etag case of the issue: "\0" + a stale etag reads as "" once unpacked */
    buf = packed_update("Acme", "DE1", "etag-1", "\0tag-1", &len);
    expect_refused(buf, len, "organization.etag", "NUL");
    free(buf);
    buf = packed_update("Acme", "DE1", "legal_name", "legal\0name", &len);
    expect_refused(buf, len, "update_mask.paths[0]", "NUL");
    free(buf);
}

/* An UpdateOrganizationRequest whose organization has n certificates, the
 * last valid until (seconds, nanos). */
static uint8_t *packed_certificates(size_t n, int64_t seconds, int32_t nanos, size_t *len)
{
    Supplysec__V1__UpdateOrganizationRequest req = SUPPLYSEC__V1__UPDATE_ORGANIZATION_REQUEST__INIT;
    Supplysec__V1__Organization org = SUPPLYSEC__V1__ORGANIZATION__INIT;
    Supplysec__V1__Certificate certs[4], *v[4];
    Google__Protobuf__Timestamp until = GOOGLE__PROTOBUF__TIMESTAMP__INIT;
    assert_true(n >= 1 && n <= 4);
    for (size_t i = 0; i < n; i++) {
        supplysec__v1__certificate__init(&certs[i]);
        certs[i].number = "DEAEOF1";
        v[i] = &certs[i];
    }
    until.seconds = seconds;
    until.nanos = nanos;
    certs[n - 1].valid_until = &until;
    org.certificates = v;
    org.n_certificates = n;
    req.organization = &org;
    *len = protobuf_c_message_get_packed_size(&req.base);
    uint8_t *buf = malloc(*len);
    protobuf_c_message_pack(&req.base, buf);
    return buf;
}

/* A time no handler or store can keep is refused on the wire, naming the
 * field with its element's index, whatever the update's mask says. */
static void test_timestamps_in_range(void **state)
{
    (void)state;
    size_t len;
    status st = {0};
    uint8_t *buf = packed_certificates(3, INT64_C(253402300800), 0, &len); /* year 10000 */
    expect_refused(buf, len, "organization.certificates[2].valid_until", "not a valid time");
    free(buf);
    buf = packed_certificates(1, INT64_C(-62135596801), 0, &len); /* before year 1 */
    expect_refused(buf, len, "organization.certificates[0].valid_until", "not a valid time");
    free(buf);
    buf = packed_certificates(1, 0, -1, &len);
    expect_refused(buf, len, "organization.certificates[0].valid_until", "not a valid time");
    free(buf);
    buf = packed_certificates(2, INT64_C(253402300799), 999999999, &len); /* the last one */
    assert_true(wire_check(&supplysec__v1__update_organization_request__descriptor, buf, len, &st));
    free(buf);
}

static void test_invalid_utf8_named(void **state)
{
    (void)state;
    /* a stray continuation byte, an overlong '/', a surrogate, a code
     * point past U+10FFFF, a sequence cut short at the end of the field */
    static const char *const bad[] = {"\x80", "\xC0\xAF", "\xED\xA0\x80", "\xF4\x90\x80\x80",
                                      "\xE2\x82"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        char legal[64], mark[8];
        memset(mark, 'Q', strlen(bad[i]));
        mark[strlen(bad[i])] = '\0';
        snprintf(legal, sizeof legal, "Acme %s", mark);
        size_t len;
        uint8_t *buf = packed_update(legal, "DE1", mark, bad[i], &len);
        expect_refused(buf, len, "organization.legal_name", "not valid UTF-8");
        free(buf);
    }
}

static void test_malformed_refused(void **state)
{
    (void)state;
    static const struct {
        const char *bytes;
        size_t len;
    } cases[] = {
        {"\x0a\x05\x0a\x01", 4},                                  /* length past end */
        {"\x08\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\x01", 12}, /* 11-byte varint */
        {"\x0b", 1},                                              /* group start */
        {"\x07\x00", 2},                                          /* wire type 7 */
        {"\x00\x00", 2},                                          /* field 0 */
        {"\x11\x01\x02", 3},                                      /* short fixed64 */
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++)
        expect_refused((const uint8_t *)cases[i].bytes, cases[i].len, "", "not a valid");
}

static void test_unknown_fields_skipped(void **state)
{
    (void)state;
    /* field 99 (unknown) as a string holding a NUL: not ours to judge */
    static const uint8_t buf[] = {0x9a, 0x06, 0x02, 'a', 0x00};
    status st = {0};
    assert_true(
        wire_check(&supplysec__v1__update_organization_request__descriptor, buf, sizeof buf, &st));
}

static void test_utf8_clip_on_boundary(void **state)
{
    (void)state;
    const char *s = "ab\xC3\xA4\xE2\x82\xAC"; /* "abä€" */
    assert_int_equal(utf8_clip(s, 2), 2);
    assert_int_equal(utf8_clip(s, 3), 2); /* not inside ä */
    assert_int_equal(utf8_clip(s, 4), 4);
    assert_int_equal(utf8_clip(s, 6), 4); /* not inside € */
    assert_int_equal(utf8_clip(s, 7), 7);
    assert_int_equal(utf8_clip(s, 100), 7);
    assert_int_equal(utf8_clip("\xff\xfe", 1), 1); /* junk counts byte by byte */
}

/* A status message longer than it can hold (511 bytes) is cut before a
 * character the end would split (found by fuzz_utf8): `lead` ASCII bytes
 * then euro signs (3 bytes each) keep as many whole ones as fit. */
static void test_status_message_cut_on_boundary(void **state)
{
    (void)state;
    char text[700];
    status st;
    for (size_t lead = 500; lead <= 511; lead++) {
        memset(text, 'a', lead);
        text[lead] = '\0';
        for (int i = 0; i < 20; i++)
            strcat(text, "\xE2\x82\xAC");
        status_fail(&st, STATUS_INVALID_ARGUMENT, "%s", text);
        size_t kept = strlen(st.msg);
        assert_true(utf8_valid(st.msg, kept, NULL));
        assert_int_equal(kept, lead + (511 - lead) / 3 * 3);
        assert_memory_equal(st.msg, text, kept);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_wellformed_passes),
        cmocka_unit_test(test_nul_named_at_each_depth),
        cmocka_unit_test(test_timestamps_in_range),
        cmocka_unit_test(test_invalid_utf8_named),
        cmocka_unit_test(test_malformed_refused),
        cmocka_unit_test(test_unknown_fields_skipped),
        cmocka_unit_test(test_utf8_clip_on_boundary),
        cmocka_unit_test(test_status_message_cut_on_boundary),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
