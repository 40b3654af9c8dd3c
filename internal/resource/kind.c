/* kind.c — a kind's declaration checked, its names parsed and built, its
 * access decided (see kind.h). Nothing here knows a particular kind. */
#include "kind.h"

#include <assert.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include <bson/bson.h>

#include "doc.h"
#include "lifecycle.h"
#include "google/protobuf/timestamp.pb-c.h"
#include "utf8.h"

/* The chain of kinds from the root down to k; returns its length, 0 when
 * it is longer than KIND_DEPTH_MAX (or loops). */
static size_t chain_of(const kind *k, const kind *chain[KIND_DEPTH_MAX])
{
    size_t n = 0;
    for (const kind *p = k; p; p = p->parent)
        if (n++ >= KIND_DEPTH_MAX)
            return 0;
    size_t i = n;
    for (const kind *p = k; p; p = p->parent)
        chain[--i] = p;
    return n;
}

const kind *kind_document_of(const kind *k)
{
    const kind *a = k->parent;
    while (a && a->lifecycle != KIND_CONTROLLED)
        a = a->parent;
    return a;
}

bool kind_ancestor_name(const resource_key *key, const kind *ancestor, char *buf, size_t size)
{
    const kind *chain[KIND_DEPTH_MAX];
    size_t n = chain_of(key->kind, chain), len = 0;
    for (size_t i = 0; i < n && i < key->depth; i++) {
        int w =
            snprintf(buf + len, size - len, "%s%s/%s", i ? "/" : "", chain[i]->plural, key->ids[i]);
        if (w < 0 || (size_t)w >= size - len)
            return false;
        len += (size_t)w;
        if (chain[i] == ancestor)
            return true;
    }
    return false;
}

/* ---- declaration checks ---- */

static bool fail(char *err, size_t errlen, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static bool fail(char *err, size_t errlen, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err, errlen, fmt, ap);
    va_end(ap);
    return false;
}

static const ProtobufCFieldDescriptor *field_of(const kind *k, const char *name)
{
    /* proto names only: what the declaration names is what message_clear_fields and the
     * update mask compare by */
    return protobuf_c_message_descriptor_get_field_by_name(k->desc, name);
}

/* A singular field of the given type (and message type, for messages). */
static bool has_field(const kind *k, const char *name, ProtobufCType type,
                      const ProtobufCMessageDescriptor *msg)
{
    const ProtobufCFieldDescriptor *f = field_of(k, name);
    return f && f->label != PROTOBUF_C_LABEL_REPEATED && f->type == type &&
           (type != PROTOBUF_C_TYPE_MESSAGE || f->descriptor == msg);
}

/* A name segment: what kind_parse_name can match. */
static bool segment_ok(const char *s)
{
    if (!s || !s[0])
        return false;
    for (; *s; s++)
        if (*s == '/' || *s == '@' || (unsigned char)*s < 0x21 || (unsigned char)*s > 0x7e)
            return false;
    return true;
}

static bool field_list_ok(const kind *k, const char *const *list, const char *what, size_t *count,
                          char *err, size_t errlen)
{
    for (; list && *list; list++) {
        const ProtobufCFieldDescriptor *f = field_of(k, *list);
        if (!f)
            return fail(err, errlen, "kind %s: %s field \"%s\" is not a field of %s", k->type, what,
                        *list, k->desc->name);
        if (f->label == PROTOBUF_C_LABEL_REPEATED && strcmp(what, "output-only") == 0)
            return fail(err, errlen, "kind %s: output-only field \"%s\" is repeated", k->type,
                        *list);
        (*count)++;
    }
    return true;
}

bool kind_check(const kind *k, char *err, size_t errlen)
{
    const kind *chain[KIND_DEPTH_MAX];
    if (!k->type || !k->field || !segment_ok(k->plural) || !segment_ok(k->collection) || !k->desc)
        return fail(err, errlen,
                    "kind %s: type, field, plural, collection and descriptor are "
                    "required, and names have no '/', '@' or spaces",
                    k->type ? k->type : "(unnamed)");
    if (strcmp(k->plural, KIND_PLATFORM) == 0)
        return fail(err, errlen, "kind %s: \"%s\" is reserved", k->type, KIND_PLATFORM);
    if (!chain_of(k, chain))
        return fail(err, errlen, "kind %s: more than %d kinds in its name, or its parents loop",
                    k->type, KIND_DEPTH_MAX);
    for (const kind *const *pk = k->parts; pk && *pk; pk++)
        if (k->lifecycle != KIND_CONTROLLED || !(*pk)->part_of_document ||
            kind_document_of(*pk) != k || !segment_ok((*pk)->revisions_collection))
            return fail(err, errlen,
                        "kind %s: part %s must be part_of_document with %s its document, and "
                        "have a revisions_collection",
                        k->type, (*pk)->type, k->type);
    if (k->part_of_document && !kind_document_of(k))
        return fail(err, errlen, "kind %s: part_of_document needs a controlled ancestor kind",
                    k->type);
    if (k->part_of_document) {
        const kind *const *pk = kind_document_of(k)->parts;
        while (pk && *pk && *pk != k)
            pk++;
        if (!pk || !*pk)
            return fail(err, errlen, "kind %s: not among the parts of its document %s", k->type,
                        kind_document_of(k)->type);
    }
    if (k->platform_parent && !k->parent)
        return fail(err, errlen, "kind %s: only a child kind may also live under `platform`",
                    k->type);
    if (!has_field(k, "name", PROTOBUF_C_TYPE_STRING, NULL) ||
        !has_field(k, "etag", PROTOBUF_C_TYPE_STRING, NULL) ||
        !has_field(k, "create_time", PROTOBUF_C_TYPE_MESSAGE,
                   &google__protobuf__timestamp__descriptor) ||
        !has_field(k, "update_time", PROTOBUF_C_TYPE_MESSAGE,
                   &google__protobuf__timestamp__descriptor))
        return fail(err, errlen,
                    "kind %s: %s needs the AIP fields string name, string etag, "
                    "google.protobuf.Timestamp create_time and update_time",
                    k->type, k->desc->name);
    if (k->lifecycle == KIND_CONTROLLED &&
        (!segment_ok(k->revisions_collection) ||
         !has_field(k, "state", PROTOBUF_C_TYPE_ENUM, NULL) ||
         field_of(k, "state")->descriptor != &supplysec__v1__document_state__descriptor ||
         !has_field(k, "revision_id", PROTOBUF_C_TYPE_STRING, NULL) ||
         !has_field(k, "revision_create_time", PROTOBUF_C_TYPE_MESSAGE,
                    &google__protobuf__timestamp__descriptor) ||
         !has_field(k, "control", PROTOBUF_C_TYPE_MESSAGE,
                    &supplysec__v1__document_control__descriptor)))
        return fail(err, errlen,
                    "kind %s: a controlled document needs a revisions collection and the fields "
                    "DocumentState state, string revision_id, Timestamp revision_create_time and "
                    "DocumentControl control",
                    k->type);
    size_t n_out = 4 + (k->lifecycle == KIND_CONTROLLED ? 4 : 0), n_imm = 0;
    if (!field_list_ok(k, k->output_only, "output-only", &n_out, err, errlen) ||
        !field_list_ok(k, k->immutable, "immutable", &n_imm, err, errlen))
        return false;
    if (n_out >= KIND_OUTPUT_ONLY_MAX)
        return fail(err, errlen, "kind %s: more than %d output-only fields", k->type,
                    KIND_OUTPUT_ONLY_MAX - 1);
    for (size_t i = 0; i < k->n_facets; i++) {
        const facet_def *d = &k->facets[i];
        const ProtobufCFieldDescriptor *f = field_of(k, d->name);
        ProtobufCType t = f ? f->type : PROTOBUF_C_TYPE_BYTES;
        bool typed =
            f && (f->label == PROTOBUF_C_LABEL_REPEATED) == d->repeated &&
            ((d->type == FACET_STRING && t == PROTOBUF_C_TYPE_STRING) ||
             (d->type == FACET_ENUM && t == PROTOBUF_C_TYPE_ENUM &&
              f->descriptor == d->enum_type) ||
             (d->type == FACET_BOOL && t == PROTOBUF_C_TYPE_BOOL) ||
             (d->type == FACET_INT && (t == PROTOBUF_C_TYPE_INT32 || t == PROTOBUF_C_TYPE_INT64 ||
                                       t == PROTOBUF_C_TYPE_SINT32 || t == PROTOBUF_C_TYPE_SINT64 ||
                                       t == PROTOBUF_C_TYPE_UINT32)) ||
             (d->type == FACET_TIMESTAMP && t == PROTOBUF_C_TYPE_MESSAGE &&
              f->descriptor == &google__protobuf__timestamp__descriptor));
        if (!typed)
            return fail(err, errlen, "kind %s: facet \"%s\" is not a%s field of %s of its type",
                        k->type, d->name, d->repeated ? " repeated" : " singular", k->desc->name);
    }
    if (k->envelope) {
        if (!k->envelope_field ||
            !reflect_singular(k->envelope, k->envelope_field, PROTOBUF_C_TYPE_MESSAGE, k->desc))
            return fail(err, errlen, "kind %s: its envelope %s has no singular field %s of %s",
                        k->type, k->envelope->name,
                        k->envelope_field ? k->envelope_field : "(unnamed)", k->desc->name);
        if (k->lifecycle == KIND_CONTROLLED)
            return fail(err, errlen, "kind %s: a controlled document is stored as itself", k->type);
    }
    for (int v = 0; v < KIND_VERBS; v++)
        if (k->min_role[v] != SUPPLYSEC__V1__ROLE__ROLE_UNSPECIFIED &&
            !protobuf_c_enum_descriptor_get_value(&supplysec__v1__role__descriptor,
                                                  (int)k->min_role[v]))
            return fail(err, errlen, "kind %s: verb %d has an unknown role %d", k->type, v,
                        (int)k->min_role[v]);
    return true;
}

bool kind_check_all(const kind *const *kinds, size_t n, char *err, size_t errlen)
{
    for (size_t i = 0; i < n; i++) {
        if (!kind_check(kinds[i], err, errlen))
            return false;
        for (size_t j = 0; j < i; j++) {
            const char *ci[2] = {kinds[i]->collection, kinds[i]->revisions_collection};
            const char *cj[2] = {kinds[j]->collection, kinds[j]->revisions_collection};
            for (int a = 0; a < 2; a++)
                for (int b = 0; b < 2; b++)
                    if (ci[a] && cj[b] && strcmp(ci[a], cj[b]) == 0)
                        return fail(err, errlen, "kinds %s and %s share the collection \"%s\"",
                                    kinds[j]->type, kinds[i]->type, ci[a]);
            if (kinds[i]->parent == kinds[j]->parent &&
                strcmp(kinds[i]->plural, kinds[j]->plural) == 0)
                return fail(err, errlen, "kinds %s and %s have the same name pattern",
                            kinds[j]->type, kinds[i]->type);
        }
    }
    return true;
}

/* ---- names ---- */

void kind_pattern(const kind *k, char *buf, size_t size)
{
    const kind *chain[KIND_DEPTH_MAX];
    size_t n = chain_of(k, chain), used = 0;
    buf[0] = '\0';
    for (size_t i = 0; i < n && used < size; i++) {
        int w = snprintf(buf + used, size - used, "%s%s/{%s}", i ? "/" : "", chain[i]->plural,
                         chain[i]->field);
        if (w < 0)
            break;
        used += (size_t)w;
    }
}

/* The pattern of k's names, and the `platform` one where it has it, for
 * a refusal's message. */
static void patterns_for_message(const kind *k, bool parent_only, char *buf, size_t size)
{
    char own[256];
    if (parent_only && !k->parent) {
        snprintf(buf, size, "\"\" (a top-level kind has no parent)");
        return;
    }
    kind_pattern(parent_only ? k->parent : k, own, sizeof own);
    if (k->platform_parent)
        snprintf(buf, size, "%s or %s%s%s%s", own, KIND_PLATFORM, parent_only ? "" : "/",
                 parent_only ? "" : k->plural, parent_only ? "" : "/{id}");
    else
        snprintf(buf, size, "%s", own);
}

static bool name_refused(const kind *k, bool parent_only, const char *field, const char *name,
                         status *st)
{
    char pat[512];
    if (!name[0])
        return status_fail(st, STATUS_INVALID_ARGUMENT, "%s: required", field);
    patterns_for_message(k, parent_only, pat, sizeof pat);
    return status_fail(st, STATUS_INVALID_ARGUMENT, "%s: expected %s, got \"%.*s\"", field, pat,
                       UTF8_CLIP(name, 120));
}

/* Matches `plural/{id}` pairs of chain[0..n) at the start of *s, filling
 * key's ids; advances *s past them. */
static bool match_chain(const kind *const *chain, size_t n, const char *field, const char **s,
                        resource_key *key, bool *shape_ok, status *st)
{
    const char *p = *s;
    for (size_t i = 0; i < n; i++) {
        size_t pl = strlen(chain[i]->plural);
        if (strncmp(p, chain[i]->plural, pl) != 0 || p[pl] != '/')
            return *shape_ok = false;
        p += pl + 1;
        const char *end = strchr(p, '/');
        size_t len = end ? (size_t)(end - p) : strlen(p);
        if (len == 0 || len > RESOURCE_ID_MAX || (i + 1 < n && !end) || (i + 1 == n && end))
            return *shape_ok = false;
        memcpy(key->ids[key->depth], p, len);
        key->ids[key->depth][len] = '\0';
        if (!validate_resource_id(field, key->ids[key->depth], st))
            return false;
        key->depth++;
        p += len + (end ? 1 : 0);
    }
    *s = p;
    return true;
}

/* Parses text as the name of a resource of k (parent_only: of k's parent). */
static bool parse(const kind *k, bool parent_only, const char *field, const char *text,
                  resource_key *key, status *st)
{
    memset(key, 0, sizeof *key);
    key->kind = k;
    const kind *chain[KIND_DEPTH_MAX];
    size_t n = chain_of(k, chain);
    assert(n > 0); /* kind_check refuses a kind whose chain is too long */
    if (parent_only)
        n--;
    size_t len = strlen(text);
    if (len >= KIND_NAME_MAX)
        return status_fail(st, STATUS_INVALID_ARGUMENT, "%s: at most %d bytes, got %zu", field,
                           KIND_NAME_MAX - 1, len);
    bool shape_ok = true;
    const char *p = text;
    size_t plat = strlen(KIND_PLATFORM);
    if (k->platform_parent && strncmp(text, KIND_PLATFORM, plat) == 0 &&
        (text[plat] == '\0' || text[plat] == '/')) {
        /* platform, or platform/{plural}/{id} */
        p = text + plat;
        if (parent_only) {
            if (*p)
                return name_refused(k, true, field, text, st);
        } else {
            if (*p++ != '/') /* `platform` alone: a parent, not a name */
                return name_refused(k, false, field, text, st);
            if (!match_chain(&chain[n - 1], 1, field, &p, key, &shape_ok, st))
                return shape_ok ? false : name_refused(k, false, field, text, st);
        }
        snprintf(key->parent, sizeof key->parent, "%s", KIND_PLATFORM);
    } else {
        if (n == 0) { /* the parent of a top-level kind */
            if (text[0])
                return name_refused(k, true, field, text, st);
        } else if (!match_chain(chain, n, field, &p, key, &shape_ok, st)) {
            return shape_ok ? false : name_refused(k, parent_only, field, text, st);
        }
        if (*p) /* a valid prefix followed by more */
            return name_refused(k, parent_only, field, text, st);
        snprintf(key->org, sizeof key->org, "%s", key->depth ? key->ids[0] : "");
        if (!parent_only && key->depth > 1) {
            const char *last = strrchr(text, '/');
            size_t pl = (size_t)(last - text) - strlen(k->plural) - 1;
            memcpy(key->parent, text, pl);
            key->parent[pl] = '\0';
        } else if (parent_only) {
            snprintf(key->parent, sizeof key->parent, "%s", text);
        }
    }
    if (!parent_only) {
        snprintf(key->name, sizeof key->name, "%s", text);
        snprintf(key->id, sizeof key->id, "%s", key->ids[key->depth - 1]);
        if (!k->parent) /* organizations/{org} is its own tenant */
            snprintf(key->org, sizeof key->org, "%s", key->id);
    }
    return true;
}

/* A revision number: 1 to 9 digits, no leading zero. */
static bool revision_ok(const char *r)
{
    size_t n = strlen(r);
    if (n == 0 || n > 9 || r[0] == '0')
        return false;
    for (size_t i = 0; i < n; i++)
        if (r[i] < '0' || r[i] > '9')
            return false;
    return true;
}

/* text with its `@{revision}` taken out into rev (what follows the '@' up
 * to the next '/'), into plain; *at: where the '@' was. false when it does
 * not fit. */
static bool revision_cut(const char *text, const char *at_sign, char *plain, size_t size, char *rev,
                         size_t rev_size, size_t *at)
{
    const char *end = strchr(at_sign, '/');
    size_t rl = end ? (size_t)(end - at_sign - 1) : strlen(at_sign + 1);
    size_t before = (size_t)(at_sign - text);
    if (rl >= rev_size || strlen(text) - rl - 1 >= size)
        return false;
    memcpy(rev, at_sign + 1, rl);
    rev[rl] = '\0';
    snprintf(plain, size, "%.*s%s", (int)before, text, end ? end : "");
    *at = before;
    return true;
}

/* Parses a part kind's `{document}@{revision}/...` (parent_only: as a
 * parent of k) into key, key->revision set: the part as kept with that
 * revision of its document. For reads only. */
static bool parse_kept_part(const kind *k, bool parent_only, const char *field, const char *text,
                            const char *at_sign, resource_key *key, status *st)
{
    char plain[KIND_NAME_MAX], rev[16], doc[KIND_NAME_MAX];
    size_t at;
    const kind *d = kind_document_of(k);
    if (!revision_cut(text, at_sign, plain, sizeof plain, rev, sizeof rev, &at))
        return status_fail(st, STATUS_INVALID_ARGUMENT, "%s: at most %d bytes", field,
                           KIND_NAME_MAX - 1);
    if (!parse(k, parent_only, field, plain, key, st))
        return false;
    /* the '@' ends the document's own segment */
    if (!kind_ancestor_name(key, d, doc, sizeof doc) || strlen(doc) != at || !revision_ok(rev))
        return status_fail(st, STATUS_INVALID_ARGUMENT,
                           "%s: a part of a document's revision is named "
                           "{document}@{revision_id}/..., the revision a number from 1, got "
                           "\"%.*s\"",
                           field, UTF8_CLIP(text, 120));
    snprintf(key->revision, sizeof key->revision, "%s", rev);
    return true;
}

/* Parses `document@revision` of a controlled kind, and a part kind's
 * `{document}@{revision}/...` (allowed: for reads). */
static bool parse_named(const kind *k, bool allow_revision, const char *field, const char *name,
                        resource_key *key, status *st)
{
    const char *at = strchr(name, '@');
    if (at && allow_revision && k->part_of_document)
        return parse_kept_part(k, false, field, name, at, key, st);
    if (!at || k->lifecycle != KIND_CONTROLLED)
        return parse(k, false, field, name, key, st);
    char doc[KIND_NAME_MAX];
    size_t dl = (size_t)(at - name);
    if (dl >= sizeof doc)
        return status_fail(st, STATUS_INVALID_ARGUMENT, "%s: at most %d bytes", field,
                           KIND_NAME_MAX - 1);
    memcpy(doc, name, dl);
    doc[dl] = '\0';
    if (!parse(k, false, field, doc, key, st))
        return false;
    if (!revision_ok(at + 1))
        return status_fail(st, STATUS_INVALID_ARGUMENT,
                           "%s: a revision is named {name}@{revision_id}, the revision a number "
                           "from 1, got \"%.*s\"",
                           field, UTF8_CLIP(name, 120));
    if (!allow_revision)
        return status_fail(st, STATUS_INVALID_ARGUMENT,
                           "%s: %.*s is a revision, which is read only; use the document's name %s",
                           field, UTF8_CLIP(name, 120), key->name);
    snprintf(key->revision, sizeof key->revision, "%s", at + 1);
    return true;
}

bool kind_parse_name(const kind *k, const char *field, const char *name, resource_key *key,
                     status *st)
{
    return parse_named(k, false, field, name, key, st);
}

bool kind_parse_revision_name(const kind *k, const char *field, const char *name, resource_key *key,
                              status *st)
{
    return parse_named(k, true, field, name, key, st);
}

bool kind_parse_parent(const kind *k, const char *field, const char *parent, resource_key *key,
                       status *st)
{
    return parse(k, true, field, parent, key, st);
}

bool kind_parse_revision_parent(const kind *k, const char *field, const char *parent,
                                resource_key *key, status *st)
{
    const char *at = strchr(parent, '@');
    if (at && k->part_of_document)
        return parse_kept_part(k, true, field, parent, at, key, st);
    return parse(k, true, field, parent, key, st);
}

bool kind_key_set_id(resource_key *key, const char *id)
{
    assert(key->depth < KIND_DEPTH_MAX && strlen(id) <= RESOURCE_ID_MAX);
    int w = key->parent[0] ? snprintf(key->name, sizeof key->name, "%s/%s/%s", key->parent,
                                      key->kind->plural, id)
                           : snprintf(key->name, sizeof key->name, "%s/%s", key->kind->plural, id);
    if (w < 0 || (size_t)w >= sizeof key->name) {
        key->name[0] = '\0';
        return false;
    }
    snprintf(key->id, sizeof key->id, "%s", id);
    snprintf(key->ids[key->depth++], sizeof key->ids[0], "%s", id);
    if (!key->kind->parent)
        snprintf(key->org, sizeof key->org, "%s", id);
    return true;
}

/* ---- access ---- */

/* Whether a caller outside key->org is let in by the kind's authorize hook
 * (to read; for a write verb: to see what it would write); otherwise
 * NOT_FOUND naming `what`, or the hook's failure. */
static bool outsider(const op_ctx *op, kind_verb verb, const resource_key *key, const char *what,
                     status *st)
{
    status hook = {0};
    const kind *k = key->kind;
    if (k->hooks.authorize && k->hooks.authorize(op, verb, key, &hook))
        return true;
    if (hook.code != STATUS_OK) {
        *st = hook;
        return false;
    }
    return status_fail(st, STATUS_NOT_FOUND, "%s not found", what);
}

bool kind_authorize_role(const op_ctx *op, const resource_key *key, Supplysec__V1__Role min_role,
                         const char *what, status *st)
{
    assert(op->who && min_role != SUPPLYSEC__V1__ROLE__ROLE_UNSPECIFIED);
    if (auth_is_platform_admin(op->who))
        return true;
    if (!key->org[0] || strcmp(op->who->org, key->org) != 0)
        return outsider(op, KIND_UPDATE, key, what, st) &&
               status_fail(st, STATUS_PERMISSION_DENIED, "%s is read only to %s", what,
                           op->who->name);
    return auth_require(op->who, key->org, min_role, what, st);
}

bool kind_authorize_member(const op_ctx *op, const resource_key *key, Supplysec__V1__Role min_role,
                           const char *what, status *st)
{
    assert(op->who && min_role != SUPPLYSEC__V1__ROLE__ROLE_UNSPECIFIED);
    if (auth_is_platform_admin(op->who))
        return true;
    if (!key->org[0] || strcmp(op->who->org, key->org) != 0)
        return status_fail(st, STATUS_NOT_FOUND, "%s not found", what);
    return auth_require(op->who, key->org, min_role, what, st);
}

bool kind_authorize(const op_ctx *op, kind_verb verb, const resource_key *key, const char *what,
                    status *st)
{
    const kind *k = key->kind;
    Supplysec__V1__Role min = k->min_role[verb];
    assert(op->who); /* the standard methods are never called without a caller */
    static const char *const done[KIND_VERBS] = {"read", "listed", "created", "updated", "deleted"};
    static const char *const verbs[KIND_VERBS] = {"read", "list", "create", "update", "delete"};
    if (min == SUPPLYSEC__V1__ROLE__ROLE_UNSPECIFIED)
        return status_fail(st, STATUS_UNIMPLEMENTED, "%s are not %s through this method", k->plural,
                           done[verb]);
    if (auth_is_platform_admin(op->who))
        return true;
    if (verb == KIND_CREATE && !k->parent) /* a new tenant: no one's to hide */
        return status_fail(st, STATUS_PERMISSION_DENIED, "only platform administrators %s %s",
                           verbs[verb], k->plural);
    if (!key->org[0] && (verb == KIND_CREATE || verb == KIND_LIST)) /* `platform` itself */
        return status_fail(st, STATUS_PERMISSION_DENIED,
                           "parent: only platform administrators %s %s under " KIND_PLATFORM,
                           verbs[verb], k->plural);
    bool member = key->org[0] && strcmp(op->who->org, key->org) == 0;
    if (!member) {
        if (!outsider(op, verb, key, what, st))
            return false;
        if (verb == KIND_GET || verb == KIND_LIST)
            return true;
        return status_fail(st, STATUS_PERMISSION_DENIED, "%s is read only to %s", what,
                           op->who->name);
    }
    if (min == SUPPLYSEC__V1__ROLE__ROLE_PLATFORM_ADMIN)
        return status_fail(st, STATUS_PERMISSION_DENIED, "only platform administrators %s %s",
                           verbs[verb], k->plural);
    return auth_require(op->who, key->org, min, what, st);
}

const char *const *kind_output_only(const kind *k, const char **buf, size_t size)
{
    size_t n = 0;
    for (const char *const *f = resource_output_only_fields; *f && n + 1 < size; f++)
        buf[n++] = *f;
    static const char *const controlled[] = {"state", "revision_id", "revision_create_time",
                                             "control", NULL};
    for (const char *const *f = controlled; k->lifecycle == KIND_CONTROLLED && *f && n + 1 < size;
         f++)
        buf[n++] = *f;
    for (const char *const *f = k->output_only; f && *f && n + 1 < size; f++)
        buf[n++] = *f;
    buf[n] = NULL;
    return buf;
}

void kind_query_key(const op_ctx *op, const char *parent, const char *filter, char *buf,
                    size_t size)
{
    snprintf(buf, size, "%s|%s|%s|%s", op->method ? op->method : "", op->who ? op->who->org : "",
             parent, filter ? filter : "");
}

bool kind_list_where(const op_ctx *op, const kind *k, const char *org, const char *where,
                     const char *query_key, int page_size, const char *page_token,
                     resource_page *page, status *st)
{
    filter *flt = NULL;
    memset(page, 0, sizeof *page);
    if (!filter_parse("filter", where, k->facets, k->n_facets, &flt, st))
        return false;
    store_query q = {.collection = k->collection,
                     .org = org,
                     .prefix = "organizations/", /* every such name: the facet's index serves */
                     .filter = flt,
                     .facets = k->facets,
                     .n_facets = k->n_facets};
    bool ok =
        resource_list(op, kind_stored_desc(k), &q, query_key, page_token, page_size, page, st);
    filter_free(flt);
    return ok;
}

/* ---- stored records ---- */

static const ProtobufCFieldDescriptor *envelope_slot(const kind *k)
{
    return reflect_field(k->envelope, k->envelope_field);
}

const ProtobufCMessageDescriptor *kind_stored_desc(const kind *k)
{
    return k->envelope ? k->envelope : k->desc;
}

/* Where an envelope keeps its resource (kind_check: the field is there). */
static ProtobufCMessage **envelope_at(const kind *k, const ProtobufCMessage *stored)
{
    assert(stored->descriptor == k->envelope);
    return reflect_at(stored, envelope_slot(k));
}

/* DATA_LOSS for an envelope without its resource. */
static void no_resource(const kind *k, const char *what, status *st)
{
    if (st)
        status_fail(st, STATUS_DATA_LOSS, "the stored document of %s has no %s", what, k->type);
}

const ProtobufCMessage *kind_resource_in(const kind *k, const ProtobufCMessage *stored,
                                         const char *what, status *st)
{
    if (!k->envelope || !stored)
        return stored;
    const ProtobufCMessage *res = *envelope_at(k, stored);
    if (!res)
        no_resource(k, what, st);
    return res;
}

ProtobufCMessage *kind_resource_take(const kind *k, ProtobufCMessage *stored, const char *what,
                                     status *st)
{
    if (!k->envelope || !stored)
        return stored;
    ProtobufCMessage **slot = envelope_at(k, stored);
    ProtobufCMessage *res = *slot;
    *slot = NULL;
    protobuf_c_message_free_unpacked(stored, NULL);
    if (!res)
        no_resource(k, what, st);
    return res;
}

resource_ref kind_ref(const kind *k, const resource_key *key, const ProtobufCMessage *res)
{
    resource_ref ref = {.collection = k->collection,
                        .org = key->org,
                        .parent = key->parent,
                        .name = key->name,
                        .facets = k->facets,
                        .n_facets = k->n_facets};
    if (k->hooks.columns)
        k->hooks.columns(res, &ref.state, &ref.lookup);
    else if (k->lifecycle == KIND_CONTROLLED)
        ref.state = lifecycle_state_name(res);
    return ref;
}

bool kind_record_facets(const kind *k, const uint8_t *doc, size_t len, store_facet **out, size_t *n)
{
    *out = NULL;
    *n = 0;
    if (k->n_facets == 0)
        return true;
    bson_t b;
    char err[256];
    if (!bson_init_static(&b, doc, len))
        return false;
    ProtobufCMessage *msg = doc_to_message(kind_stored_desc(k), &b, err, sizeof err);
    if (!msg)
        return false;
    const ProtobufCMessage *res = kind_resource_in(k, msg, "", NULL);
    bool ok = res && resource_facets(res, k->facets, k->n_facets, out, n);
    protobuf_c_message_free_unpacked(msg, NULL);
    return ok;
}
