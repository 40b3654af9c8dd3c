/* fieldmask.c — AIP-134 update masks applied to documents (see fieldmask.h). */
#include "fieldmask.h"

#include <bson/bson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "doc.h"
#include "utf8.h"

#define PATH_MAX_LEN 256

/* Rewrites a path into canonical snake_case segments in out; false when it
 * names no field. */
static bool path_canonical(const ProtobufCMessageDescriptor *desc, const char *path, char *out,
                           size_t outlen)
{
    char buf[PATH_MAX_LEN];
    size_t len = strlen(path);
    /* strtok_r skips empty segments, so ".a", "a." and "a..b" are refused here */
    if (len >= sizeof buf || len == 0 || path[0] == '.' || path[len - 1] == '.' ||
        strstr(path, ".."))
        return false;
    strcpy(buf, path);
    out[0] = '\0';
    char *save = NULL;
    for (char *seg = strtok_r(buf, ".", &save); seg; seg = strtok_r(NULL, ".", &save)) {
        const ProtobufCFieldDescriptor *f = desc ? reflect_field(desc, seg) : NULL;
        if (!f)
            return false;
        if (strlen(out) + strlen(f->name) + 2 > outlen)
            return false;
        if (out[0])
            strcat(out, ".");
        strcat(out, f->name);
        bool more = save && *save;
        if (more && (f->type != PROTOBUF_C_TYPE_MESSAGE || f->label == PROTOBUF_C_LABEL_REPEATED))
            return false;
        desc = more ? f->descriptor : NULL;
    }
    return true;
}

bool fieldmask_validate(const ProtobufCMessageDescriptor *desc, char *const *paths, size_t n,
                        status *st)
{
    if (n == 0)
        return status_fail(st, STATUS_INVALID_ARGUMENT,
                           "update_mask: required; name the fields to change, or \"*\" for all");
    if (n > FIELDMASK_MAX_PATHS)
        return status_fail(st, STATUS_INVALID_ARGUMENT, "update_mask: at most %d paths, got %zu",
                           FIELDMASK_MAX_PATHS, n);
    for (size_t i = 0; i < n; i++) {
        char canon[PATH_MAX_LEN];
        if (strcmp(paths[i], "*") == 0 && n == 1)
            continue;
        if (!path_canonical(desc, paths[i], canon, sizeof canon))
            return status_fail(st, STATUS_INVALID_ARGUMENT,
                               "update_mask: \"%.*s\" is not a field of %s%s",
                               UTF8_CLIP(paths[i], 80), desc->name,
                               strcmp(paths[i], "*") == 0 ? " (\"*\" stands alone)" : "");
    }
    return true;
}

typedef enum { MASK_NONE, MASK_FULL, MASK_NESTED } mask_mode;

static mask_mode path_mode(char canon[][PATH_MAX_LEN], size_t n, const char *prefix)
{
    size_t pl = strlen(prefix);
    mask_mode mode = MASK_NONE;
    for (size_t i = 0; i < n; i++) {
        if (strcmp(canon[i], prefix) == 0)
            return MASK_FULL;
        if (strncmp(canon[i], prefix, pl) == 0 && canon[i][pl] == '.')
            mode = MASK_NESTED;
    }
    return mode;
}

static bool is_output_only(const char *const *output_only, const char *name)
{
    for (; output_only && *output_only; output_only++)
        if (strcmp(*output_only, name) == 0)
            return true;
    return false;
}

static bool subdoc(const bson_t *doc, const char *key, bson_t *out)
{
    bson_iter_t it;
    const uint8_t *data;
    uint32_t len;
    if (bson_iter_init_find(&it, doc, key) && BSON_ITER_HOLDS_DOCUMENT(&it)) {
        bson_iter_document(&it, &len, &data);
        return bson_init_static(out, data, len);
    }
    bson_init(out);
    return true;
}

static bool merge_level(const ProtobufCMessageDescriptor *desc, const bson_t *cur,
                        const bson_t *patch, char canon[][PATH_MAX_LEN], size_t n, bool all,
                        const char *prefix, const char *const *output_only, bson_t *out)
{
    for (unsigned i = 0; i < desc->n_fields; i++) {
        const ProtobufCFieldDescriptor *f = &desc->fields[i];
        char path[PATH_MAX_LEN], jn[PATH_MAX_LEN];
        snprintf(path, sizeof path, "%s%s", prefix, f->name);
        reflect_json_name(f->name, jn, sizeof jn);
        mask_mode mode = all ? MASK_FULL : path_mode(canon, n, path);
        if (prefix[0] == '\0' && is_output_only(output_only, f->name))
            mode = MASK_NONE;
        if (mode == MASK_NESTED) {
            bson_t c, p, merged = BSON_INITIALIZER;
            char sub[PATH_MAX_LEN + 2];
            snprintf(sub, sizeof sub, "%s.", path);
            bool ok = subdoc(cur, jn, &c) && subdoc(patch, jn, &p) &&
                      merge_level(f->descriptor, &c, &p, canon, n, false, sub, NULL, &merged) &&
                      (bson_empty(&merged) || bson_append_document(out, jn, -1, &merged));
            bson_destroy(&c);
            bson_destroy(&p);
            bson_destroy(&merged);
            if (!ok)
                return false;
            continue;
        }
        bson_iter_t it;
        if (bson_iter_init_find(&it, mode == MASK_FULL ? patch : cur, jn) &&
            !bson_append_iter(out, jn, -1, &it))
            return false;
    }
    return true;
}

bool fieldmask_populated(const ProtobufCMessage *patch, const char *const *output_only,
                         char ***paths, size_t *n, status *st)
{
    bson_t doc = BSON_INITIALIZER;
    *paths = NULL;
    *n = 0;
    bool ok = doc_from_message(patch, DOC_BSON, &doc);
    for (unsigned i = 0; ok && i < patch->descriptor->n_fields; i++) {
        const char *name = patch->descriptor->fields[i].name;
        char jn[PATH_MAX_LEN];
        reflect_json_name(name, jn, sizeof jn);
        if (is_output_only(output_only, name) || !bson_has_field(&doc, jn))
            continue;
        char **grown = realloc(*paths, (*n + 1) * sizeof *grown);
        ok = grown && (grown[*n] = strdup(name));
        if (grown)
            *paths = grown;
        if (ok)
            (*n)++;
    }
    bson_destroy(&doc);
    if (!ok) {
        fieldmask_paths_free(*paths, *n);
        *paths = NULL;
        *n = 0;
        return status_fail(st, STATUS_INVALID_ARGUMENT,
                           "%s: a field holds a value that cannot be stored",
                           patch->descriptor->name);
    }
    return true;
}

void fieldmask_paths_free(char **paths, size_t n)
{
    for (size_t i = 0; i < n; i++)
        free(paths[i]);
    free(paths);
}

ProtobufCMessage *fieldmask_apply(const ProtobufCMessage *current, const ProtobufCMessage *patch,
                                  char *const *paths, size_t n, const char *const *output_only,
                                  status *st)
{
    const ProtobufCMessageDescriptor *desc = current->descriptor;
    if (!fieldmask_validate(desc, paths, n, st))
        return NULL;
    char(*canon)[PATH_MAX_LEN] = calloc(n ? n : 1, PATH_MAX_LEN);
    bson_t cur = BSON_INITIALIZER, pat = BSON_INITIALIZER, out = BSON_INITIALIZER;
    ProtobufCMessage *msg = NULL;
    bool all = n == 1 && strcmp(paths[0], "*") == 0;
    char err[256];

    if (!canon) {
        status_fail(st, STATUS_RESOURCE_EXHAUSTED, "out of memory");
        goto out;
    }
    for (size_t i = 0; !all && i < n; i++)
        path_canonical(desc, paths[i], canon[i], PATH_MAX_LEN); /* validated above */
    if (!doc_from_message(patch, DOC_BSON, &pat)) {
        status_fail(st, STATUS_INVALID_ARGUMENT,
                    "%s: a field holds a value that cannot be stored (a timestamp outside the "
                    "years 1 to 9999?)",
                    desc->name);
        goto out;
    }
    if (!doc_from_message(current, DOC_BSON, &cur) ||
        !merge_level(desc, &cur, &pat, canon, n, all, "", output_only, &out)) {
        status_fail(st, STATUS_INTERNAL, "cannot merge the update into %s", desc->name);
        goto out;
    }
    msg = doc_to_message(desc, &out, err, sizeof err);
    if (!msg)
        status_fail(st, STATUS_INTERNAL, "cannot merge the update: %s", err);
out:
    free(canon);
    bson_destroy(&cur);
    bson_destroy(&pat);
    bson_destroy(&out);
    return msg;
}
