/* fuzz_fieldmask.c — AIP-134 update masks (fieldmask.h) on every message
 * type (support/descriptors.c).
 *
 * Input: a byte picking the type; the mask as text up to a 0x00 byte, its
 * paths separated by ','; two bytes giving the length of the current
 * message's protobuf bytes, those bytes, and the patch's bytes after them.
 * The messages pass call.c's wire check or are taken empty (so are
 * messages holding a FieldMask path with no JSON form, support/masks.h: a
 * resource holds no mask); a current
 * message that could not have been stored (a Timestamp outside 0001..9999)
 * is taken empty too, as the store only ever holds storable ones.
 *
 * Oracles:
 *   - fieldmask_apply succeeds exactly when fieldmask_validate passes and the
 *     patch is storable; it never fails INTERNAL, and refusals are UTF-8;
 *   - output-only fields always keep the current value; a top-level field
 *     no path starts with keeps the current value; a field a path names
 *     whole takes the patch's value (compared as documents, doc.h);
 *   - the implied mask of the patch (fieldmask_populated) is a valid mask.
 */
#include <bson/bson.h>
#include <stdlib.h>
#include <string.h>

#include "descriptors.h"
#include "doc.h"
#include "fieldmask.h"
#include "input.h"
#include "masks.h"
#include "resource.h"
#include "utf8.h"
#include "wire.h"

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    fuzz_list_if_asked();
    return 0;
}

static ProtobufCMessage *message(const ProtobufCMessageDescriptor *desc, const uint8_t *b, size_t n)
{
    status st;
    ProtobufCMessage *m =
        wire_check(desc, b, n, &st) ? protobuf_c_message_unpack(desc, NULL, n, b) : NULL;
    if (m && !fuzz_masks_round_trip(m)) { /* resources hold no masks (support/masks.h) */
        protobuf_c_message_free_unpacked(m, NULL);
        m = NULL;
    }
    return m ? m : protobuf_c_message_unpack(desc, NULL, 0, (const uint8_t *)"");
}

/* The paths of text split at ',' (empty paths included: they must be refused). */
static char **split(const char *text, size_t *n)
{
    size_t cap = 1;
    for (const char *p = text; *p; p++)
        cap += *p == ',';
    char **paths = calloc(cap, sizeof *paths);
    if (!paths)
        abort();
    *n = 0;
    if (!*text)
        return paths;
    for (const char *p = text;; p++) {
        size_t len = strcspn(p, ",");
        paths[*n] = strndup(p, len);
        if (!paths[(*n)++])
            abort();
        p += len;
        if (!*p)
            break;
    }
    return paths;
}

/* The element `key` of doc as a one-field document, for comparing values. */
static void element(const bson_t *doc, const char *key, bson_t *out)
{
    bson_iter_t it;
    bson_init(out);
    if (bson_iter_init_find(&it, doc, key))
        bson_append_iter(out, key, -1, &it);
}

static bool same_element(const bson_t *a, const bson_t *b, const char *key)
{
    bson_t ea, eb;
    element(a, key, &ea);
    element(b, key, &eb);
    bool same = ea.len == eb.len && memcmp(bson_get_data(&ea), bson_get_data(&eb), ea.len) == 0;
    bson_destroy(&ea);
    bson_destroy(&eb);
    return same;
}

/* Whether path starts with (whole: is) the field named name / json. */
static bool path_starts_with(const char *path, const char *name, const char *json, bool whole)
{
    const char *names[2] = {name, json};
    for (int i = 0; i < 2; i++) {
        size_t l = strlen(names[i]);
        if (strncmp(path, names[i], l) == 0 && (path[l] == '\0' || (!whole && path[l] == '.')))
            return true;
    }
    return false;
}

static bool is_output_only(const char *name)
{
    for (const char *const *o = resource_output_only_fields; *o; o++)
        if (strcmp(*o, name) == 0)
            return true;
    return false;
}

static void check_fields(const ProtobufCMessageDescriptor *desc, char *const *paths, size_t n,
                         const bson_t *cur, const bson_t *pat, const bson_t *res)
{
    bool all = n == 1 && strcmp(paths[0], "*") == 0;
    for (unsigned i = 0; i < desc->n_fields; i++) {
        const char *name = desc->fields[i].name;
        char json[256];
        reflect_json_name(name, json, sizeof json);
        bool whole = all, touched = all;
        for (size_t k = 0; k < n; k++) {
            whole = whole || path_starts_with(paths[k], name, json, true);
            touched = touched || path_starts_with(paths[k], name, json, false);
        }
        if (is_output_only(name) || !touched)
            FUZZ_REQUIRE(same_element(cur, res, json), "%s.%s: not kept from current", desc->name,
                         name);
        else if (whole)
            FUZZ_REQUIRE(same_element(pat, res, json), "%s.%s: not taken from the patch",
                         desc->name, name);
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    fuzz_input in = {data, size};
    const ProtobufCMessageDescriptor *desc = fuzz_type_at(fuzz_u16(&in));
    char *mask = fuzz_text(&in);
    size_t cur_len, pat_len, n;
    uint8_t *cur_b = fuzz_bytes(&in, fuzz_u16(&in), &cur_len);
    uint8_t *pat_b = fuzz_bytes(&in, SIZE_MAX, &pat_len);
    ProtobufCMessage *cur = message(desc, cur_b, cur_len), *pat = message(desc, pat_b, pat_len);
    char **paths = split(mask, &n);
    bson_t cur_doc = BSON_INITIALIZER, pat_doc = BSON_INITIALIZER, res_doc = BSON_INITIALIZER;

    if (!doc_from_message(cur, DOC_BSON, &cur_doc)) {
        protobuf_c_message_free_unpacked(cur, NULL);
        cur = protobuf_c_message_unpack(desc, NULL, 0, (const uint8_t *)"");
        bson_reinit(&cur_doc);
        FUZZ_REQUIRE(doc_from_message(cur, DOC_BSON, &cur_doc), "%s: empty", desc->name);
    }
    bool storable = doc_from_message(pat, DOC_BSON, &pat_doc);
    status vst = {0}, ast = {0};
    bool valid = fieldmask_validate(desc, paths, n, &vst);
    ProtobufCMessage *res = fieldmask_apply(cur, pat, paths, n, resource_output_only_fields, &ast);
    FUZZ_REQUIRE((res != NULL) == (valid && storable),
                 "%s: mask \"%s\": valid %d, storable %d, applied %d: %s", desc->name, mask, valid,
                 storable, res != NULL, ast.msg);
    if (!res) {
        FUZZ_REQUIRE(ast.code == STATUS_INVALID_ARGUMENT, "%s: mask \"%s\": code %d: %s",
                     desc->name, mask, ast.code, ast.msg);
        FUZZ_REQUIRE(utf8_valid(ast.msg, strlen(ast.msg), NULL) ||
                         !utf8_valid(mask, strlen(mask), NULL),
                     "%s: refusal not UTF-8", desc->name);
    } else {
        FUZZ_REQUIRE(res->descriptor == desc, "%s: result of another type", desc->name);
        FUZZ_REQUIRE(doc_from_message(res, DOC_BSON, &res_doc), "%s: result not storable",
                     desc->name);
        check_fields(desc, paths, n, &cur_doc, &pat_doc, &res_doc);
        protobuf_c_message_free_unpacked(res, NULL);
    }

    char **implied;
    size_t n_implied;
    status pst = {0};
    if (fieldmask_populated(pat, resource_output_only_fields, &implied, &n_implied, &pst)) {
        status ist = {0};
        FUZZ_REQUIRE(n_implied == 0 || fieldmask_validate(desc, implied, n_implied, &ist),
                     "%s: implied mask refused: %s", desc->name, ist.msg);
        fieldmask_paths_free(implied, n_implied);
    } else {
        FUZZ_REQUIRE(!storable, "%s: no implied mask for a storable patch: %s", desc->name,
                     pst.msg);
    }

    bson_destroy(&cur_doc);
    bson_destroy(&pat_doc);
    bson_destroy(&res_doc);
    fieldmask_paths_free(paths, n);
    protobuf_c_message_free_unpacked(cur, NULL);
    protobuf_c_message_free_unpacked(pat, NULL);
    free(cur_b);
    free(pat_b);
    free(mask);
    return 0;
}
