/* validate.c — input rules shared by every service (see validate.h). */
#include "validate.h"

#include "clock.h"
#include "utf8.h"

#include <bson/bson.h>
#include <openssl/rand.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

bool validate_resource_id(const char *field, const char *id, status *st)
{
    size_t n = strlen(id);
    if (n < 3 || n > RESOURCE_ID_MAX)
        return status_fail(st, STATUS_INVALID_ARGUMENT, "%s: must be 3 to 63 characters, got %zu",
                           field, n);
    if (id[0] < 'a' || id[0] > 'z')
        return status_fail(st, STATUS_INVALID_ARGUMENT,
                           "%s: must start with a lower-case letter (pattern "
                           "[a-z][a-z0-9-]{2,62})",
                           field);
    for (size_t i = 1; i < n; i++) {
        char c = id[i];
        if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-'))
            return status_fail(st, STATUS_INVALID_ARGUMENT,
                               "%s: only lower-case letters, digits and '-' are allowed "
                               "(pattern [a-z][a-z0-9-]{2,62})",
                               field);
    }
    if (id[n - 1] == '-')
        return status_fail(st, STATUS_INVALID_ARGUMENT, "%s: must not end with '-'", field);
    return true;
}

void resource_id_generate(char out[RESOURCE_ID_MAX + 1])
{
    static const char alphabet[] = "abcdefghijklmnopqrstuvwxyz234567";
    unsigned char rnd[16];
    if (RAND_bytes(rnd, sizeof rnd) != 1)
        abort(); /* no randomness: nothing safe to do */
    out[0] = alphabet[rnd[0] % 26];
    for (int i = 1; i < 16; i++)
        out[i] = alphabet[rnd[i] & 31];
    out[16] = '\0';
}

bool resource_id_take(const char *field, const char *requested, char out[RESOURCE_ID_MAX + 1],
                      status *st)
{
    if (!requested[0]) {
        resource_id_generate(out);
        return true;
    }
    if (!validate_resource_id(field, requested, st))
        return false;
    strcpy(out, requested); /* validated: at most RESOURCE_ID_MAX chars */
    return true;
}

/* Copies the segment [s, s+len) into out as an id, checking it. */
static bool take_id(const char *field, const char *s, size_t len, char *out, size_t outlen,
                    status *st)
{
    if (len == 0 || len >= outlen)
        return status_fail(st, STATUS_INVALID_ARGUMENT, "%s: malformed resource name", field);
    memcpy(out, s, len);
    out[len] = '\0';
    return validate_resource_id(field, out, st);
}

bool parse_name1(const char *field, const char *name, const char *collection, char *id,
                 size_t idlen, status *st)
{
    size_t cl = strlen(collection);
    if (name[0] == '\0')
        return status_fail(st, STATUS_INVALID_ARGUMENT, "%s: required", field);
    if (strncmp(name, collection, cl) != 0 || name[cl] != '/')
        return status_fail(st, STATUS_INVALID_ARGUMENT, "%s: expected %s/{id}, got \"%.*s\"", field,
                           collection, UTF8_CLIP(name, 80));
    const char *rest = name + cl + 1;
    if (strchr(rest, '/'))
        return status_fail(st, STATUS_INVALID_ARGUMENT, "%s: expected %s/{id}, got \"%.*s\"", field,
                           collection, UTF8_CLIP(name, 80));
    return take_id(field, rest, strlen(rest), id, idlen, st);
}

bool parse_name2(const char *field, const char *name, const char *c1, char *id1, size_t id1len,
                 const char *c2, char *id2, size_t id2len, status *st)
{
    size_t l1 = strlen(c1), l2 = strlen(c2);
    if (name[0] == '\0')
        return status_fail(st, STATUS_INVALID_ARGUMENT, "%s: required", field);
    const char *slash;
    if (strncmp(name, c1, l1) != 0 || name[l1] != '/' || !(slash = strchr(name + l1 + 1, '/')) ||
        strncmp(slash + 1, c2, l2) != 0 || slash[1 + l2] != '/' || strchr(slash + 2 + l2, '/'))
        return status_fail(st, STATUS_INVALID_ARGUMENT,
                           "%s: expected %s/{id}/%s/{id}, got \"%.*s\"", field, c1, c2,
                           UTF8_CLIP(name, 80));
    const char *first = name + l1 + 1;
    if (!take_id(field, first, (size_t)(slash - first), id1, id1len, st))
        return false;
    return take_id(field, slash + 2 + l2, strlen(slash + 2 + l2), id2, id2len, st);
}

/* Officially assigned ISO 3166-1 alpha-2 codes (249). */
static const char iso3166_alpha2[] =
    "ADAEAFAGAIALAMAOAQARASATAUAWAXAZBABBBDBEBFBGBHBIBJBLBMBNBOBQBRBSBTBVBWBYBZ"
    "CACCCDCFCGCHCICKCLCMCNCOCRCUCVCWCXCYCZDEDJDKDMDODZECEEEGEHERESETFIFJFKFMFO"
    "FRGAGBGDGEGFGGGHGIGLGMGNGPGQGRGSGTGUGWGYHKHMHNHRHTHUIDIEILIMINIOIQIRISITJE"
    "JMJOJPKEKGKHKIKMKNKPKRKWKYKZLALBLCLILKLRLSLTLULVLYMAMCMDMEMFMGMHMKMLMMMNMO"
    "MPMQMRMSMTMUMVMWMXMYMZNANCNENFNGNINLNONPNRNUNZOMPAPEPFPGPHPKPLPMPNPRPSPTPW"
    "PYQARERORSRURWSASBSCSDSESGSHSISJSKSLSMSNSOSRSSSTSVSXSYSZTCTDTFTGTHTJTKTLTM"
    "TNTOTRTTTVTWTZUAUGUMUSUYUZVAVCVEVGVIVNVUWFWSYEYTZAZMZW";

bool validate_country_code(const char *field, const char *code, status *st)
{
    if (code[0] == '\0')
        return status_fail(st, STATUS_INVALID_ARGUMENT,
                           "%s: required (ISO 3166-1 alpha-2, e.g. \"DE\")", field);
    if (strlen(code) == 2) {
        for (size_t i = 0; i + 1 < sizeof iso3166_alpha2; i += 2)
            if (iso3166_alpha2[i] == code[0] && iso3166_alpha2[i + 1] == code[1])
                return true;
    }
    return status_fail(st, STATUS_INVALID_ARGUMENT,
                       "%s: \"%.*s\" is not an ISO 3166-1 alpha-2 country code (two upper-case "
                       "letters, e.g. \"DE\", \"NL\", \"US\")",
                       field, UTF8_CLIP(code, 16));
}

bool validate_text(const char *field, const char *text, size_t max_chars, bool required, status *st)
{
    size_t n = strlen(text);
    if (n == 0)
        return required ? status_fail(st, STATUS_INVALID_ARGUMENT, "%s: required", field) : true;
    if (!bson_utf8_validate(text, n, false))
        return status_fail(st, STATUS_INVALID_ARGUMENT, "%s: not valid UTF-8", field);
    size_t chars = 0;
    for (size_t i = 0; i < n; i++)
        chars += ((unsigned char)text[i] & 0xC0) != 0x80;
    if (chars > max_chars)
        return status_fail(st, STATUS_INVALID_ARGUMENT, "%s: at most %zu characters, got %zu",
                           field, max_chars, chars);
    return true;
}

bool validate_timestamp(const char *field, int64_t seconds, int32_t nanos, status *st)
{
    const int64_t min = INT64_C(-62135596800), max = INT64_C(253402300799);
    if (seconds < min || seconds > max || nanos < 0 || nanos > 999999999)
        return status_fail(st, STATUS_INVALID_ARGUMENT,
                           "%s: not a valid time (years 1 to 9999, nanos 0 to 999999999)", field);
    return true;
}

bool validate_time(const char *field, const Google__Protobuf__Timestamp *t, bool required,
                   bool past, status *st)
{
    if (!t)
        return !required || status_fail(st, STATUS_INVALID_ARGUMENT, "%s: required", field);
    if (!validate_timestamp(field, t->seconds, t->nanos, st))
        return false;
    if (past && t->seconds > clock_realtime_ms() / 1000 + VALIDATE_FUTURE_SKEW_S)
        return status_fail(st, STATUS_INVALID_ARGUMENT, "%s: in the future", field);
    return true;
}

bool validate_page_size(const char *field, int page_size, int *out, status *st)
{
    if (page_size < 0)
        return status_fail(st, STATUS_INVALID_ARGUMENT, "%s: must not be negative", field);
    *out = page_size == 0              ? PAGE_SIZE_DEFAULT
           : page_size > PAGE_SIZE_MAX ? PAGE_SIZE_MAX
                                       : page_size;
    return true;
}

bool validate_enum(const char *field, const ProtobufCEnumDescriptor *desc, int value, bool required,
                   status *st)
{
    if (value == 0 && !required)
        return true;
    if (value == 0)
        return status_fail(st, STATUS_INVALID_ARGUMENT, "%s: required, one of %s's values", field,
                           desc->short_name);
    if (!protobuf_c_enum_descriptor_get_value(desc, value))
        return status_fail(st, STATUS_INVALID_ARGUMENT, "%s: %d is not a value of %s", field, value,
                           desc->short_name);
    return true;
}
