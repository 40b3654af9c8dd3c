/* standard.c — Get, List, Create, Update and Delete of any kind (see
 * standard.h). What a kind does differently is in its declaration and its
 * hooks; nothing here names a kind. */
#include "standard.h"

#include <assert.h>
#include <bson/bson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "doc.h"
#include "fieldmask.h"
#include "lifecycle.h"
#include "utf8.h"

static void free_msg(ProtobufCMessage *m)
{
    if (m)
        protobuf_c_message_free_unpacked(m, NULL);
}

/* The kind's present hook on res (kind.h), when it has one. */
static bool present(const op_ctx *op, const kind *k, const resource_key *key, ProtobufCMessage *res,
                    status *st)
{
    return !res || !k->hooks.present || k->hooks.present(op, key, res, st);
}

/* The same on the answer to a write that is made: a failure now must not
 * tell the client that the write failed, so the answer is then the
 * resource as stored. */
static void present_written(const op_ctx *op, const kind *k, const resource_key *key,
                            ProtobufCMessage *res)
{
    status ignored = {0};
    (void)present(op, k, key, res, &ignored);
}

/* ---- Get ---- */

ProtobufCMessage *std_get(const op_ctx *op, const kind *k, const char *name, status *st)
{
    resource_key key;
    if (!kind_parse_revision_name(k, "name", name, &key, st) ||
        !kind_authorize(op, KIND_GET, &key, key.name, st))
        return NULL;
    if (key.revision[0] && k->lifecycle == KIND_CONTROLLED)
        return lifecycle_load_revision(op, k, &key, st);
    if (key.revision[0]) { /* a part, as kept with its document's revision */
        char stored[LIFECYCLE_PART_NAME_MAX], display[LIFECYCLE_PART_NAME_MAX];
        if (!lifecycle_part_names(&key, key.name, stored, display)) {
            status_fail(st, STATUS_INVALID_ARGUMENT, "name: at most %d bytes", KIND_NAME_MAX - 1);
            return NULL;
        }
        return resource_load(op, k->desc, k->revisions_collection, key.org, stored, display, NULL,
                             st);
    }
    ProtobufCMessage *stored = resource_load(op, kind_stored_desc(k), k->collection, key.org,
                                             key.name, key.name, NULL, st);
    ProtobufCMessage *res = kind_resource_take(k, stored, key.name, st);
    if (!present(op, k, &key, res, st)) {
        free_msg(res);
        return NULL;
    }
    return res;
}

/* ---- List ---- */

bool std_list(const op_ctx *op, const kind *k, const std_list_req *req, resource_page *page,
              status *st)
{
    resource_key parent;
    int page_size;
    const char *filter_text = req->filter ? req->filter : "";
    memset(page, 0, sizeof *page);
    if (!kind_parse_revision_parent(k, "parent", req->parent ? req->parent : "", &parent, st) ||
        !validate_page_size("page_size", req->page_size, &page_size, st))
        return false;
    /* a part kind's records as kept with a document's revision: the kept
     * copies, under the kept parent */
    char kept_parent[LIFECYCLE_PART_NAME_MAX], kept_display[LIFECYCLE_PART_NAME_MAX];
    if (parent.revision[0] &&
        !lifecycle_part_names(&parent, parent.parent, kept_parent, kept_display))
        return status_fail(st, STATUS_INVALID_ARGUMENT, "parent: at most %d bytes",
                           KIND_NAME_MAX - 1);
    const char *list_parent = parent.revision[0] ? kept_parent : parent.parent;
    if (filter_text[0] && k->n_facets == 0)
        return status_fail(st, STATUS_INVALID_ARGUMENT,
                           "filter: %s have no fields a filter can use, got \"%.*s\"", k->plural,
                           UTF8_CLIP(filter_text, 80));
    store_query q = {.collection = parent.revision[0] ? k->revisions_collection : k->collection,
                     .parent = list_parent};
    if (k->parent) {
        if (!kind_authorize(op, KIND_LIST, &parent, parent.parent, st))
            return false;
        q.org = parent.org;
    } else {
        /* A top-level kind: members see their own organization's part. */
        Supplysec__V1__Role min = k->min_role[KIND_LIST];
        bool all = auth_is_platform_admin(op->who);
        if (min == SUPPLYSEC__V1__ROLE__ROLE_UNSPECIFIED)
            return status_fail(st, STATUS_UNIMPLEMENTED, "%s are not listed", k->plural);
        if (!all && !auth_require(op->who, op->who->org, min, k->plural, st))
            return false;
        q.org = all ? NULL : op->who->org;
    }
    /* The filter, and its canonical text for the page token: the same
     * filter however it is spelled continues the same list. */
    filter *flt = NULL;
    char *canonical = NULL;
    if (filter_text[0] && !filter_parse("filter", filter_text, k->facets, k->n_facets, &flt, st))
        return false;
    if (flt && !(canonical = filter_canonical(flt, k->facets))) {
        filter_free(flt);
        return status_fail(st, STATUS_RESOURCE_EXHAUSTED, "out of memory");
    }
    q.filter = flt;
    q.facets = k->facets;
    q.n_facets = k->n_facets;
    char prefix[KIND_NAME_MAX + 64] = "";
    if (list_parent[0]) { /* its children are named parent/plural/id */
        snprintf(prefix, sizeof prefix, "%s/%s/", list_parent, k->plural);
        q.prefix = prefix;
    }
    char query_key[KIND_QUERY_KEY_MAX];
    kind_query_key(op, list_parent, canonical ? canonical : "", query_key, sizeof query_key);
    bool ok =
        resource_list(op, kind_stored_desc(k), &q, query_key, req->page_token, page_size, page, st);
    filter_free(flt);
    free(canonical);
    for (size_t i = 0; ok && k->envelope && i < page->count; i++) {
        page->items[i] = kind_resource_take(k, page->items[i], k->plural, st);
        if (!page->items[i]) { /* those after it are still envelopes */
            for (size_t j = i + 1; j < page->count; j++)
                protobuf_c_message_free_unpacked(page->items[j], NULL);
            page->count = i;
            resource_page_free(page);
            return false;
        }
    }
    for (size_t i = 0; ok && k->hooks.present && i < page->count; i++) {
        resource_key item;
        const char *name = message_get_string(page->items[i], "name");
        status bad = {0};
        if (!kind_parse_revision_name(k, "name", name, &item, &bad))
            ok = status_fail(st, STATUS_DATA_LOSS, "a stored %s has a name that does not parse: %s",
                             k->type, bad.msg);
        else
            ok = present(op, k, &item, page->items[i], st);
    }
    if (!ok) /* (after resource_list's own failure, the page is already empty) */
        resource_page_free(page);
    return ok;
}

/* ---- records that are part of a document (kind.part_of_document) ---- */

bool std_document_draft_guard(const op_ctx *op, const kind *k, const resource_key *key,
                              resource_batch *b, status *st)
{
    if (!k->part_of_document)
        return true;
    const kind *dk = kind_document_of(k);
    char *name = malloc(KIND_NAME_MAX); /* the guard borrows it: the batch keeps it */
    if (!name || !resource_batch_keep_mem(b, name))
        return status_fail(st, STATUS_RESOURCE_EXHAUSTED, "out of memory");
    if (!dk || !kind_ancestor_name(key, dk, name, KIND_NAME_MAX))
        return status_fail(st, STATUS_INTERNAL, "%s: no document above it", key->name);
    int64_t version;
    ProtobufCMessage *d =
        resource_load(op, dk->desc, dk->collection, key->org, name, name, &version, st);
    if (!d)
        return false;
    bool ok = lifecycle_is_draft(d);
    if (!ok)
        status_fail(st, STATUS_FAILED_PRECONDITION,
                    "%s is %s: its %s records change only while it is a DRAFT (CreateRevision "
                    "starts the next one)",
                    name, lifecycle_state_name(d), k->type);
    else
        resource_batch_guard(b, dk->collection, key->org, name, version);
    free_msg(d);
    return ok;
}

/* ---- Create ---- */

ProtobufCMessage *std_create(const op_ctx *op, const kind *k, const char *parent, const char *id,
                             ProtobufCMessage **res, status *st)
{
    ProtobufCMessage *msg = *res;
    *res = NULL; /* taken */
    resource_key key;
    char id_field[96], new_id[RESOURCE_ID_MAX + 1];
    const char *out_buf[KIND_OUTPUT_ONLY_MAX];
    snprintf(id_field, sizeof id_field, "%s_id", k->field);

    assert(!k->envelope); /* its Create is its own (kind.h) */
    if (!msg) {
        status_fail(st, STATUS_INVALID_ARGUMENT, "%s: required", k->field);
        return NULL;
    }
    if (!resource_id_take(id_field, id ? id : "", new_id, st) ||
        !kind_parse_parent(k, "parent", parent ? parent : "", &key, st))
        goto fail;
    if (!kind_key_set_id(&key, new_id)) {
        status_fail(st, STATUS_INVALID_ARGUMENT, "parent: too long for a name under it");
        goto fail;
    }
    if (!message_clear_fields(msg, kind_output_only(k, out_buf, KIND_OUTPUT_ONLY_MAX))) {
        status_fail(st, STATUS_INTERNAL, "cannot clear the output-only fields of %s", k->type);
        goto fail;
    }
    if ((k->hooks.validate && !k->hooks.validate(msg, k->field, st)) ||
        !kind_authorize(op, KIND_CREATE, &key, key.parent[0] ? key.parent : key.name, st) ||
        (k->lifecycle == KIND_CONTROLLED && !lifecycle_start(msg, st)) ||
        (k->hooks.derive && !k->hooks.derive(op, &key, msg, NULL, st)))
        goto fail;

    resource_batch b;
    resource_batch_init(&b, op);
    bool ok = true;
    if (k->parent && strcmp(key.parent, KIND_PLATFORM) != 0) /* it must outlive nothing */
        resource_batch_guard(&b, k->parent->collection, key.org, key.parent, 0);
    ok = std_document_draft_guard(op, k, &key, &b, st);
    ok = ok && (!k->hooks.with_create || k->hooks.with_create(op, &key, msg, &b, st));
    resource_ref ref = kind_ref(k, &key, msg);
    ok = ok && resource_batch_create(&b, &ref, msg, msg, st) && resource_batch_apply(&b, st);
    resource_batch_free(&b);
    if (ok) {
        present_written(op, k, &key, msg);
        return msg;
    }
fail:
    free_msg(msg);
    return NULL;
}

/* ---- Update ---- */

/* The raw BSON value of field in doc, for comparing two versions of it. */
static bool field_bytes(const bson_t *doc, const char *field, const uint8_t **data, uint32_t *len,
                        bson_type_t *type)
{
    char json[128];
    bson_iter_t it;
    reflect_json_name(field, json, sizeof json);
    if (!bson_iter_init_find(&it, doc, json))
        return false;
    *type = bson_iter_type(&it);
    *data = it.raw + it.d1;
    *len = it.next_off - it.d1;
    return true;
}

/* Whether the mask touches field (the field itself, a path inside it, or *). */
static bool mask_touches(char *const *paths, size_t n, const char *field)
{
    char json[128];
    reflect_json_name(field, json, sizeof json);
    for (size_t i = 0; i < n; i++) {
        const char *p = paths[i];
        if (strcmp(p, "*") == 0)
            return true;
        for (const char *f = field; f; f = f == field ? json : NULL) {
            size_t fl = strlen(f);
            if (strncmp(p, f, fl) == 0 && (p[fl] == '\0' || p[fl] == '.'))
                return true;
        }
    }
    return false;
}

/* INVALID_ARGUMENT when the update changes an immutable field. */
static bool immutable_kept(const kind *k, const ProtobufCMessage *cur, const ProtobufCMessage *next,
                           char *const *paths, size_t n, status *st)
{
    bool ok = true;
    bson_t a = BSON_INITIALIZER, b = BSON_INITIALIZER;
    bool encoded = false;
    for (const char *const *f = k->immutable; ok && f && *f; f++) {
        if (!mask_touches(paths, n, *f))
            continue;
        if (!encoded) {
            if (!doc_from_message(cur, DOC_BSON, &a) || !doc_from_message(next, DOC_BSON, &b)) {
                ok = status_fail(st, STATUS_INTERNAL, "cannot encode %s", k->type);
                break;
            }
            encoded = true;
        }
        const uint8_t *da = NULL, *db = NULL;
        uint32_t la = 0, lb = 0;
        bson_type_t ta = BSON_TYPE_EOD, tb = BSON_TYPE_EOD;
        bool ha = field_bytes(&a, *f, &da, &la, &ta), hb = field_bytes(&b, *f, &db, &lb, &tb);
        if (ha != hb || (ha && (ta != tb || la != lb || memcmp(da, db, la) != 0)))
            ok = status_fail(st, STATUS_INVALID_ARGUMENT,
                             "%s.%s: set when the %s is created and never changed; leave it out "
                             "of update_mask",
                             k->field, *f, k->type);
    }
    bson_destroy(&a);
    bson_destroy(&b);
    return ok;
}

ProtobufCMessage *std_update(const op_ctx *op, const kind *k, const ProtobufCMessage *patch,
                             char *const *paths, size_t n_paths, bool mask_given, status *st)
{
    resource_key key;
    ProtobufCMessage *cur = NULL, *next = NULL;
    char **implied = NULL;
    size_t n_implied = 0;
    int64_t version;
    char name_field[96];
    const char *out_buf[KIND_OUTPUT_ONLY_MAX];
    const char *const *output_only = kind_output_only(k, out_buf, KIND_OUTPUT_ONLY_MAX);
    snprintf(name_field, sizeof name_field, "%s.name", k->field);

    assert(!k->envelope); /* its Update is its own (kind.h) */
    if (!patch) {
        status_fail(st, STATUS_INVALID_ARGUMENT, "%s: required", k->field);
        return NULL;
    }
    if (!kind_parse_name(k, name_field, message_get_string(patch, "name"), &key, st))
        return NULL;
    if (!mask_given) { /* AIP-134: no mask means the populated fields */
        if (!fieldmask_populated(patch, output_only, &implied, &n_implied, st))
            return NULL;
        paths = implied;
        n_paths = n_implied;
    }
    if (!fieldmask_validate(k->desc, paths, n_paths, st) ||
        !kind_authorize(op, KIND_UPDATE, &key, key.name, st))
        goto fail;
    cur = resource_load(op, k->desc, k->collection, key.org, key.name, key.name, &version, st);
    if (!cur || !resource_check_etag(cur, message_get_string(patch, "etag"), st) ||
        (k->lifecycle == KIND_CONTROLLED && !lifecycle_check_editable(cur, key.name, st)))
        goto fail;
    next = fieldmask_apply(cur, patch, paths, n_paths, output_only, st);
    if (!next || !immutable_kept(k, cur, next, paths, n_paths, st) ||
        (k->hooks.validate && !k->hooks.validate(next, k->field, st)) ||
        (k->hooks.check_update && !k->hooks.check_update(op, &key, cur, next, st)) ||
        (k->hooks.derive && !k->hooks.derive(op, &key, next, cur, st)))
        goto fail;

    resource_batch b;
    resource_batch_init(&b, op);
    resource_ref ref = kind_ref(k, &key, next);
    bool ok = std_document_draft_guard(op, k, &key, &b, st) &&
              resource_batch_update(&b, &ref, next, next, version, st) &&
              resource_batch_apply(&b, st);
    resource_batch_free(&b);
    if (!ok)
        goto fail;
    present_written(op, k, &key, next);
    free_msg(cur);
    fieldmask_paths_free(implied, n_implied);
    return next;
fail:
    free_msg(cur);
    free_msg(next);
    fieldmask_paths_free(implied, n_implied);
    return NULL;
}

/* ---- Revoke ---- */

ProtobufCMessage *std_revoke(const op_ctx *op, const kind *k, const char *name, const char *etag,
                             int revoked_state, status *st)
{
    resource_key key;
    int64_t version;
    const ProtobufCFieldDescriptor *state =
        reflect_singular(k->desc, "state", PROTOBUF_C_TYPE_ENUM, NULL);
    const ProtobufCFieldDescriptor *when = reflect_singular(
        k->desc, "revoke_time", PROTOBUF_C_TYPE_MESSAGE, &google__protobuf__timestamp__descriptor);
    assert(state && when && !k->envelope);
    if (!kind_parse_name(k, "name", name, &key, st) ||
        !kind_authorize_role(op, &key, SUPPLYSEC__V1__ROLE__ROLE_ADMIN, key.name, st))
        return NULL;
    ProtobufCMessage *res =
        resource_load(op, k->desc, k->collection, key.org, key.name, key.name, &version, st);
    if (!res || !resource_check_etag(res, etag, st))
        goto fail;
    if (*(ProtobufCMessage **)((char *)res + when->offset)) {
        status_fail(st, STATUS_FAILED_PRECONDITION, "%s is already revoked", key.name);
        goto fail;
    }
    if (!resource_stamp_now(res, "revoke_time") ||
        !message_set_string(res, "revoker", op->who->name)) {
        status_fail(st, STATUS_RESOURCE_EXHAUSTED, "out of memory");
        goto fail;
    }
    *(int *)((char *)res + state->offset) = revoked_state;
    resource_ref ref = kind_ref(k, &key, res);
    if (resource_update(op, &ref, res, res, version, st))
        return res;
fail:
    free_msg(res);
    return NULL;
}

/* ---- Delete ---- */

bool std_delete(const op_ctx *op, const kind *k, const char *name, const char *etag, status *st)
{
    resource_key key;
    int64_t version;
    if (!kind_parse_name(k, "name", name, &key, st) ||
        !kind_authorize(op, KIND_DELETE, &key, key.name, st))
        return false;
    ProtobufCMessage *cur = resource_load(op, kind_stored_desc(k), k->collection, key.org, key.name,
                                          key.name, &version, st);
    if (!cur)
        return false;
    resource_batch b;
    resource_batch_init(&b, op);
    const ProtobufCMessage *res = kind_resource_in(k, cur, key.name, st);
    bool ok = res && resource_check_etag(res, etag, st) &&
              (k->lifecycle != KIND_CONTROLLED || lifecycle_check_deletable(res, key.name, st)) &&
              std_document_draft_guard(op, k, &key, &b, st) &&
              (!k->hooks.before_delete || k->hooks.before_delete(op, &key, res, version, &b, st));
    if (ok) {
        resource_batch_delete(&b, k->collection, key.org, key.name, version);
        ok = resource_batch_apply(&b, st);
    }
    resource_batch_free(&b);
    free_msg(cur);
    return ok;
}
