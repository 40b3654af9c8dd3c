/* fuzz_names.c — names, ids and the other field rules of validate.h.
 *
 * The first byte picks the rule, the rest is the text (up to a 0x00 byte,
 * as strings are NUL-free once call.c's wire check passed them) or, for
 * the numeric rules, the numbers. Oracles:
 *   - validate_resource_id, parse_name1 and parse_name2 agree exactly with
 *     independent definitions (support/reference.c): an id is
 *     [a-z][a-z0-9-]{2,62} not ending in '-', a name is collection/id or
 *     c1/id1/c2/id2 split at every '/';
 *   - resource_id_take gives a valid id, the requested one when given;
 *   - accepted country codes are two upper-case letters; validate_text
 *     accepts exactly UTF-8 of at most max code points (required: not
 *     empty); validate_timestamp and validate_page_size their ranges;
 *   - every refusal is INVALID_ARGUMENT with a message that names the field
 *     and is UTF-8 whenever the input was.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "input.h"
#include "reference.h"
#include "utf8.h"
#include "validate.h"

enum {
    RULE_ID,
    RULE_NAME1,
    RULE_NAME2,
    RULE_TAKE,
    RULE_COUNTRY,
    RULE_TEXT,
    RULE_TIME,
    RULE_PAGE,
    RULES
};

static const char FIELD[] = "the_field";

static void require_refusal(bool ok, const status *st, const char *text)
{
    if (ok)
        return;
    FUZZ_REQUIRE(st->code == STATUS_INVALID_ARGUMENT, "code %d for \"%s\"", st->code, text);
    FUZZ_REQUIRE(strstr(st->msg, FIELD) != NULL, "\"%s\" does not name the field", st->msg);
    FUZZ_REQUIRE(!utf8_valid(text, strlen(text), NULL) ||
                     utf8_valid(st->msg, strlen(st->msg), NULL),
                 "message for UTF-8 input \"%s\" is not UTF-8", text);
}

/* name split at '/' into exactly `parts` segments: collection, id, collection, id. */
static bool ref_name(const char *name, const char *const *collections, int parts)
{
    const char *p = name;
    for (int i = 0; i < parts; i++) {
        const char *slash = strchr(p, '/');
        size_t len = slash ? (size_t)(slash - p) : strlen(p);
        if ((i + 1 < parts) != (slash != NULL))
            return false;
        if (i % 2 == 0 ? strlen(collections[i / 2]) != len || strncmp(p, collections[i / 2], len)
                       : !ref_resource_id(p, len))
            return false;
        p += len + 1;
    }
    return true;
}

static void names(const char *text, int parts)
{
    static const char *const collections[] = {"organizations", "apiKeys"};
    char id1[RESOURCE_ID_MAX + 1], id2[RESOURCE_ID_MAX + 1], back[512];
    status st = {0};
    bool ok = parts == 2 ? parse_name1(FIELD, text, collections[0], id1, sizeof id1, &st)
                         : parse_name2(FIELD, text, collections[0], id1, sizeof id1, collections[1],
                                       id2, sizeof id2, &st);
    FUZZ_REQUIRE(ok == ref_name(text, collections, parts), "\"%s\": parse says %d", text, ok);
    require_refusal(ok, &st, text);
    if (!ok)
        return;
    if (parts == 2)
        snprintf(back, sizeof back, "%s/%s", collections[0], id1);
    else
        snprintf(back, sizeof back, "%s/%s/%s/%s", collections[0], id1, collections[1], id2);
    FUZZ_REQUIRE(strcmp(back, text) == 0, "\"%s\" parsed as \"%s\"", text, back);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    fuzz_input in = {data, size};
    int rule = fuzz_byte(&in) % RULES;
    status st = {0};
    bool ok;

    if (rule == RULE_TIME) {
        int64_t seconds = 0;
        int32_t nanos = 0;
        for (int i = 0; i < 8; i++)
            seconds = (int64_t)((uint64_t)seconds << 8 | fuzz_byte(&in));
        for (int i = 0; i < 4; i++)
            nanos = (int32_t)((uint32_t)nanos << 8 | fuzz_byte(&in));
        ok = validate_timestamp(FIELD, seconds, nanos, &st);
        FUZZ_REQUIRE(ok == (seconds >= -62135596800 && seconds <= 253402300799 && nanos >= 0 &&
                            nanos < 1000000000),
                     "timestamp %lld.%d: says %d", (long long)seconds, nanos, ok);
        require_refusal(ok, &st, "");
        return 0;
    }
    if (rule == RULE_PAGE) {
        int32_t page_size = 0;
        int out = -1;
        for (int i = 0; i < 4; i++)
            page_size = (int32_t)((uint32_t)page_size << 8 | fuzz_byte(&in));
        ok = validate_page_size(FIELD, page_size, &out, &st);
        FUZZ_REQUIRE(ok == (page_size >= 0), "page size %d: says %d", page_size, ok);
        FUZZ_REQUIRE(!ok || (out >= 1 && out <= PAGE_SIZE_MAX &&
                             (page_size == 0 ||
                              out == (page_size < PAGE_SIZE_MAX ? page_size : PAGE_SIZE_MAX))),
                     "page size %d gave %d", page_size, out);
        require_refusal(ok, &st, "");
        return 0;
    }

    uint8_t max_chars = rule == RULE_TEXT ? fuzz_byte(&in) : 0;
    char *text = fuzz_text(&in);
    size_t n = strlen(text);
    switch (rule) {
    case RULE_ID:
        ok = validate_resource_id(FIELD, text, &st);
        FUZZ_REQUIRE(ok == ref_resource_id(text, n), "id \"%s\": says %d", text, ok);
        require_refusal(ok, &st, text);
        break;
    case RULE_NAME1:
        names(text, 2);
        break;
    case RULE_NAME2:
        names(text, 4);
        break;
    case RULE_TAKE: {
        char out[RESOURCE_ID_MAX + 1];
        memset(out, 'x', sizeof out);
        ok = resource_id_take(FIELD, text, out, &st);
        FUZZ_REQUIRE(ok == (n == 0 || ref_resource_id(text, n)), "take \"%s\": says %d", text, ok);
        FUZZ_REQUIRE(!ok || (memchr(out, 0, sizeof out) && ref_resource_id(out, strlen(out)) &&
                             (n == 0 || strcmp(out, text) == 0)),
                     "take \"%s\" gave a bad id", text);
        require_refusal(ok, &st, text);
        break;
    }
    case RULE_COUNTRY:
        ok = validate_country_code(FIELD, text, &st);
        FUZZ_REQUIRE(
            !ok || (n == 2 && text[0] >= 'A' && text[0] <= 'Z' && text[1] >= 'A' && text[1] <= 'Z'),
            "country \"%s\" accepted", text);
        require_refusal(ok, &st, text);
        break;
    case RULE_TEXT: {
        bool required = max_chars & 1;
        size_t max = max_chars >> 1, chars = 0;
        bool utf8 = ref_utf8_valid((const uint8_t *)text, n);
        for (size_t i = 0; utf8 && i < n; i += ref_utf8_char_len((const uint8_t *)text + i, n - i))
            chars++;
        ok = validate_text(FIELD, text, max, required, &st);
        FUZZ_REQUIRE(ok == (n == 0 ? !required : utf8 && chars <= max),
                     "text of %zu bytes (max %zu, required %d): says %d", n, max, required, ok);
        require_refusal(ok, &st, text);
        break;
    }
    }
    free(text);
    return 0;
}
