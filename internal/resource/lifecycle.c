/* lifecycle.c — the controlled-document state machine and its revisions
 * (see lifecycle.h). The fields it moves (state, revision_id,
 * revision_create_time, control) are found by name: kind_check has made
 * sure every controlled kind has them with these types. */
#include "lifecycle.h"

#include <assert.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "google/protobuf/timestamp.pb-c.h"
#include "utf8.h"

typedef Supplysec__V1__DocumentControl DocumentControl;

#define DRAFT SUPPLYSEC__V1__DOCUMENT_STATE__DOCUMENT_STATE_DRAFT
#define IN_REVIEW SUPPLYSEC__V1__DOCUMENT_STATE__DOCUMENT_STATE_IN_REVIEW
#define APPROVED SUPPLYSEC__V1__DOCUMENT_STATE__DOCUMENT_STATE_APPROVED
#define SUPERSEDED SUPPLYSEC__V1__DOCUMENT_STATE__DOCUMENT_STATE_SUPERSEDED

#define REASON_MAX_CHARS 2000
#define REV_NAME_MAX (KIND_NAME_MAX + 24) /* a document's name, '@' and a revision */
#define REVISION_MAX 999999999            /* nine digits, as kind.c parses them */

/* The moves, as ISO 28000's document control allows them. */
static const struct move_rule {
    const char *name; /* as people and the docs call it */
    Supplysec__V1__DocumentState from, to;
    Supplysec__V1__Role role;
} moves[DOC_MOVES] = {
    [DOC_SUBMIT] = {"SubmitForReview", DRAFT, IN_REVIEW, SUPPLYSEC__V1__ROLE__ROLE_EDITOR},
    [DOC_APPROVE] = {"Approve", IN_REVIEW, APPROVED, SUPPLYSEC__V1__ROLE__ROLE_ADMIN},
    [DOC_REJECT] = {"Reject", IN_REVIEW, DRAFT, SUPPLYSEC__V1__ROLE__ROLE_ADMIN},
    [DOC_REVISE] = {"CreateRevision", APPROVED, DRAFT, SUPPLYSEC__V1__ROLE__ROLE_EDITOR},
};

/* ---- the fields it moves ---- */

static void *field_at(const ProtobufCMessage *m, const char *name)
{
    const ProtobufCFieldDescriptor *f = reflect_field(m->descriptor, name);
    assert(f); /* kind_check */
    return reflect_at(m, f);
}

static Supplysec__V1__DocumentState state_of(const ProtobufCMessage *m)
{
    return *(const Supplysec__V1__DocumentState *)field_at(m, "state");
}

static void set_state(ProtobufCMessage *m, Supplysec__V1__DocumentState s)
{
    *(Supplysec__V1__DocumentState *)field_at(m, "state") = s;
}

/* The document's control record, made when it has none; NULL: out of memory. */
static DocumentControl *control_of(ProtobufCMessage *m)
{
    DocumentControl **c = field_at(m, "control");
    if (!*c && (*c = malloc(sizeof **c)) != NULL)
        supplysec__v1__document_control__init(*c);
    return *c;
}

static const char *state_label(Supplysec__V1__DocumentState s)
{
    return reflect_enum_label(&supplysec__v1__document_state__descriptor, (int)s);
}

bool lifecycle_is_draft(const ProtobufCMessage *res)
{
    return state_of(res) == SUPPLYSEC__V1__DOCUMENT_STATE__DOCUMENT_STATE_DRAFT;
}

const char *lifecycle_state_name(const ProtobufCMessage *res)
{
    const ProtobufCEnumValue *v = protobuf_c_enum_descriptor_get_value(
        &supplysec__v1__document_state__descriptor, (int)state_of(res));
    return v ? v->name : NULL;
}

/* The revision number of m (1 for a revision_id that is not one: never
 * stored so, as lifecycle_start and CreateRevision write it). */
static int revision_of(const ProtobufCMessage *m)
{
    const char *r = message_get_string(m, "revision_id");
    char *end;
    long n = strtol(r, &end, 10);
    return *r && !*end && n > 0 && n <= REVISION_MAX ? (int)n : 1;
}

/* A revision's key in the store (`doc@0000000003`: keys sort as numbers)
 * and its name for people (`doc@3`). */
static void revision_names(const char *doc, int rev, char *key, size_t keylen, char *display,
                           size_t displaylen)
{
    int a = snprintf(key, keylen, "%s@%010d", doc, rev);
    int b = snprintf(display, displaylen, "%s@%d", doc, rev);
    assert(a > 0 && (size_t)a < keylen && b > 0 && (size_t)b < displaylen); /* sized for it */
    (void)a, (void)b;
}

/* ---- the standard methods' checks ---- */

bool lifecycle_start(ProtobufCMessage *res, status *st)
{
    set_state(res, DRAFT);
    if (!message_set_string(res, "revision_id", "1") ||
        !resource_stamp_now(res, "revision_create_time"))
        return status_fail(st, STATUS_RESOURCE_EXHAUSTED, "out of memory");
    return true;
}

/* "DRAFT: SubmitForReview, edits" and the like: what the state allows. */
static void allowed_from(Supplysec__V1__DocumentState s, char *buf, size_t size)
{
    size_t used = (size_t)snprintf(buf, size, "allowed from %s:", state_label(s));
    bool any = false;
    for (int i = 0; i < DOC_MOVES && used < size; i++)
        if (moves[i].from == s) {
            used +=
                (size_t)snprintf(buf + used, size - used, "%s %s", any ? "," : "", moves[i].name);
            any = true;
        }
    if (s == DRAFT && used < size)
        snprintf(buf + used, size - used, ", updates");
    else if (!any && used < size)
        snprintf(buf + used, size - used, " nothing (it is kept as it is)");
}

bool lifecycle_check_editable(const ProtobufCMessage *cur, const char *name, status *st)
{
    Supplysec__V1__DocumentState s = state_of(cur);
    if (s == DRAFT)
        return true;
    char allowed[160];
    allowed_from(s, allowed, sizeof allowed);
    return status_fail(st, STATUS_FAILED_PRECONDITION, "%s is %s: only a DRAFT changes (%s)", name,
                       state_label(s), allowed);
}

bool lifecycle_check_deletable(const ProtobufCMessage *cur, const char *name, status *st)
{
    if (revision_of(cur) == 1 && state_of(cur) != APPROVED)
        return true;
    return status_fail(st, STATUS_FAILED_PRECONDITION,
                       "%s has an approved revision, and approved revisions are kept: start a "
                       "new revision instead",
                       name);
}

ProtobufCMessage *lifecycle_load_revision(const op_ctx *op, const kind *k, const resource_key *key,
                                          status *st)
{
    char skey[REV_NAME_MAX], display[REV_NAME_MAX];
    revision_names(key->name, (int)strtol(key->revision, NULL, 10), skey, sizeof skey, display,
                   sizeof display);
    return resource_load(op, k->desc, k->revisions_collection, key->org, skey, display, NULL, st);
}

bool lifecycle_revision_in_force(const op_ctx *op, const kind *k, const char *org, const char *name,
                                 char rev[LIFECYCLE_REVISION_MAX], status *st)
{
    rev[0] = '\0';
    ProtobufCMessage *doc = resource_load(op, k->desc, k->collection, org, name, name, NULL, st);
    if (!doc)
        return false;
    int n;
    bool ok = lifecycle_in_force(op, k, doc, name, &n, NULL, NULL, st);
    if (ok && n)
        snprintf(rev, LIFECYCLE_REVISION_MAX, "%d", n);
    protobuf_c_message_free_unpacked(doc, NULL);
    return ok;
}

bool lifecycle_in_force(const op_ctx *op, const kind *k, const ProtobufCMessage *doc,
                        const char *name, int *rev, int64_t *approve_s, ProtobufCMessage **kept,
                        status *st)
{
    assert(k->lifecycle == KIND_CONTROLLED);
    int n = revision_of(doc);
    bool approved = state_of(doc) == APPROVED;
    ProtobufCMessage *loaded = NULL;
    *rev = approved ? n : n - 1;
    if (approve_s)
        *approve_s = 0;
    if (kept)
        *kept = NULL;
    if (*rev == 0 || (!approve_s && !kept)) /* the number is all that is asked */
        return true;
    if (!approved) {
        char skey[REV_NAME_MAX], display[REV_NAME_MAX];
        revision_names(name, *rev, skey, sizeof skey, display, sizeof display);
        resource_key key;
        status lst = {0};
        if (!kind_parse_name(k, "name", name, &key, st))
            return false;
        if (!(loaded = resource_load(op, k->desc, k->revisions_collection, key.org, skey, display,
                                     NULL, &lst)))
            return lst.code == STATUS_NOT_FOUND /* the latest says it was approved */
                       ? status_fail(st, STATUS_DATA_LOSS, "%s: its approved revision is missing",
                                     display)
                       : (*st = lst, false);
    }
    const DocumentControl *const *c = field_at(loaded ? loaded : doc, "control");
    if (approve_s && *c && (*c)->approve_time)
        *approve_s = (*c)->approve_time->seconds;
    if (kept)
        *kept = loaded;
    else if (loaded)
        protobuf_c_message_free_unpacked(loaded, NULL);
    return true;
}

/* ---- moves ---- */

/* A deep copy of m; NULL when out of memory. */
static ProtobufCMessage *message_copy(const ProtobufCMessage *m)
{
    size_t n = protobuf_c_message_get_packed_size(m);
    uint8_t *buf = malloc(n ? n : 1);
    if (!buf)
        return NULL;
    protobuf_c_message_pack(m, buf);
    ProtobufCMessage *copy = protobuf_c_message_unpack(m->descriptor, NULL, n, buf);
    free(buf);
    return copy;
}

/* Sets the control record's who and when for the move. */
static bool record_move(const op_ctx *op, ProtobufCMessage *doc, doc_move move, const char *reason)
{
    if (move == DOC_REVISE) { /* a new revision starts with a clean record */
        DocumentControl **c = field_at(doc, "control");
        if (*c)
            protobuf_c_message_free_unpacked(&(*c)->base, NULL);
        *c = NULL;
        int next = revision_of(doc) + 1;
        char rev[24];
        if (next > REVISION_MAX)
            return false;
        snprintf(rev, sizeof rev, "%d", next);
        return message_set_string(doc, "revision_id", rev) &&
               resource_stamp_now(doc, "revision_create_time");
    }
    DocumentControl *c = control_of(doc);
    if (!c)
        return false;
    const char *who = op->who->name;
    switch (move) {
    case DOC_SUBMIT:
        return message_set_string(&c->base, "submitter", who) &&
               resource_stamp_now(&c->base, "submit_time");
    case DOC_APPROVE:
        return message_set_string(&c->base, "approver", who) &&
               resource_stamp_now(&c->base, "approve_time");
    case DOC_REJECT:
        return message_set_string(&c->base, "rejecter", who) &&
               resource_stamp_now(&c->base, "reject_time") &&
               message_set_string(&c->base, "rejection_reason", reason);
    default:
        return false;
    }
}

/* Adds to b: the approved revision's copy, and the previous approved
 * revision superseded. Messages and names added are kept in *keep (freed
 * by the caller after the batch is applied). */
typedef struct approve_parts {
    char key[REV_NAME_MAX], display[REV_NAME_MAX];
    char prev_key[REV_NAME_MAX], prev_display[REV_NAME_MAX];
    ProtobufCMessage *copy, *prev;
} approve_parts;

bool lifecycle_kept_names(const char *doc, int rev, const char *name, char *stored, char *display)
{
    size_t dl = strlen(doc);
    if (strncmp(name, doc, dl) != 0 || (name[dl] != '/' && name[dl] != '\0'))
        return false;
    int a = snprintf(stored, LIFECYCLE_PART_NAME_MAX, "%s@%010d%s", doc, rev, name + dl);
    int b = snprintf(display, LIFECYCLE_PART_NAME_MAX, "%s@%d%s", doc, rev, name + dl);
    return a > 0 && a < LIFECYCLE_PART_NAME_MAX && b > 0 && b < LIFECYCLE_PART_NAME_MAX;
}

bool lifecycle_part_names(const resource_key *key, const char *name, char *stored, char *display)
{
    char doc[KIND_NAME_MAX];
    const kind *d = kind_document_of(key->kind);
    return d && key->revision[0] && kind_ancestor_name(key, d, doc, sizeof doc) &&
           lifecycle_kept_names(doc, (int)strtol(key->revision, NULL, 10), name, stored, display);
}

/* resource_each's call: one part of the document being approved, kept
 * with the revision in the batch. */
typedef struct keeping {
    const kind *part;
    const char *doc, *org;
    int rev;
    resource_batch *b;
} keeping;

static bool keep_part(ProtobufCMessage **msg, const store_record *rec, void *ctx, status *st)
{
    keeping *kp = ctx;
    size_t dl = strlen(kp->doc);
    if (strncmp(rec->name, kp->doc, dl) != 0 || rec->name[dl] != '/')
        return true; /* another document's, sharing the prefix's scan */
    char *names = malloc(3 * LIFECYCLE_PART_NAME_MAX); /* the batch's write borrows them */
    if (!names || !resource_batch_keep_mem(kp->b, names))
        return status_fail(st, STATUS_RESOURCE_EXHAUSTED, "out of memory");
    char *stored = names, *display = names + LIFECYCLE_PART_NAME_MAX,
         *parent = names + 2 * LIFECYCLE_PART_NAME_MAX, parent_display[LIFECYCLE_PART_NAME_MAX];
    if (!lifecycle_kept_names(kp->doc, kp->rev, rec->name, stored, display) ||
        !lifecycle_kept_names(kp->doc, kp->rev, rec->parent, parent, parent_display))
        return status_fail(st, STATUS_INTERNAL, "%s: its name is too long to keep", rec->name);
    ProtobufCMessage *copy = *msg;
    *msg = NULL; /* taken: the batch keeps it */
    if (!resource_batch_keep(kp->b, copy))
        return status_fail(st, STATUS_RESOURCE_EXHAUSTED, "out of memory");
    resource_ref ref = {.collection = kp->part->revisions_collection,
                        .org = kp->org,
                        .parent = parent,
                        .name = stored,
                        .stamp_name = display,
                        .keep_create_time = true,
                        .facets = kp->part->facets,
                        .n_facets = kp->part->n_facets};
    return resource_batch_create(kp->b, &ref, copy, copy, st);
}

/* Adds to b the parts of the document key as kept with revision rev. */
static bool add_parts(const op_ctx *op, const kind *k, const resource_key *key, int rev,
                      resource_batch *b, status *st)
{
    char prefix[KIND_NAME_MAX + 1];
    snprintf(prefix, sizeof prefix, "%s/", key->name);
    for (const kind *const *pk = k->parts; pk && *pk; pk++) {
        keeping kp = {.part = *pk, .doc = key->name, .org = key->org, .rev = rev, .b = b};
        store_query q = {.collection = (*pk)->collection, .org = key->org, .prefix = prefix};
        if (!resource_each(op, (*pk)->desc, &q, (*pk)->plural, keep_part, &kp, st))
            return false;
    }
    return true;
}

static bool add_revisions(const op_ctx *op, const kind *k, const resource_key *key,
                          const ProtobufCMessage *doc, resource_batch *b, approve_parts *p,
                          status *st)
{
    int rev = revision_of(doc);
    revision_names(key->name, rev, p->key, sizeof p->key, p->display, sizeof p->display);
    if (!(p->copy = message_copy(doc)))
        return status_fail(st, STATUS_RESOURCE_EXHAUSTED, "out of memory");
    resource_ref ref = {.collection = k->revisions_collection,
                        .org = key->org,
                        .parent = key->name,
                        .name = p->key,
                        .state = lifecycle_state_name(doc),
                        .stamp_name = p->display,
                        .keep_create_time = true,
                        .facets = k->facets,
                        .n_facets = k->n_facets};
    if (!resource_batch_create(b, &ref, p->copy, p->copy, st))
        return false;
    if (rev == 1)
        return true;
    int64_t version;
    revision_names(key->name, rev - 1, p->prev_key, sizeof p->prev_key, p->prev_display,
                   sizeof p->prev_display);
    p->prev = resource_load(op, k->desc, k->revisions_collection, key->org, p->prev_key,
                            p->prev_display, &version, st);
    if (!p->prev)
        return st->code == STATUS_NOT_FOUND
                   ? status_fail(st, STATUS_DATA_LOSS,
                                 "%s is missing: every revision before an approved one was "
                                 "approved and is kept",
                                 p->prev_display)
                   : false;
    set_state(p->prev, SUPERSEDED);
    DocumentControl *c = control_of(p->prev);
    if (!c || !resource_stamp_now(&c->base, "supersede_time"))
        return status_fail(st, STATUS_RESOURCE_EXHAUSTED, "out of memory");
    resource_ref prev_ref = {.collection = k->revisions_collection,
                             .org = key->org,
                             .parent = key->name,
                             .name = p->prev_key,
                             .state = lifecycle_state_name(p->prev),
                             .stamp_name = p->prev_display,
                             .facets = k->facets,
                             .n_facets = k->n_facets};
    return resource_batch_update(b, &prev_ref, p->prev, p->prev, version, st);
}

ProtobufCMessage *lifecycle_move(const op_ctx *op, const kind *k, doc_move move, const char *name,
                                 const char *etag, const char *reason, status *st)
{
    assert(k->lifecycle == KIND_CONTROLLED && move < DOC_MOVES);
    const struct move_rule *rule = &moves[move];
    resource_key key;
    int64_t version;
    ProtobufCMessage *doc = NULL;
    approve_parts parts = {0};
    resource_batch b;
    resource_batch_init(&b, op);

    /* validate */
    if (!kind_parse_name(k, "name", name, &key, st) ||
        (move == DOC_REJECT &&
         !validate_text("reason", reason ? reason : "", REASON_MAX_CHARS, true, st)))
        goto fail;
    /* authorize */
    if (!kind_authorize_role(op, &key, rule->role, key.name, st))
        goto fail;
    /* load */
    doc = resource_load(op, k->desc, k->collection, key.org, key.name, key.name, &version, st);
    if (!doc || !resource_check_etag(doc, etag, st))
        goto fail;
    /* decide */
    Supplysec__V1__DocumentState s = state_of(doc);
    if (s != rule->from) {
        char allowed[160];
        allowed_from(s, allowed, sizeof allowed);
        status_fail(st, STATUS_FAILED_PRECONDITION, "%s is %s; %s needs %s (%s)", key.name,
                    state_label(s), rule->name, state_label(rule->from), allowed);
        goto fail;
    }
    if (move == DOC_APPROVE && k->hooks.before_approve &&
        !k->hooks.before_approve(op, &key, doc, st))
        goto fail;
    set_state(doc, rule->to);
    if (!record_move(op, doc, move, reason)) {
        status_fail(st, STATUS_RESOURCE_EXHAUSTED, "out of memory");
        goto fail;
    }
    /* store: the document, and on approval its revisions, in one write */
    const char *state = lifecycle_state_name(doc);
    resource_ref ref = {.collection = k->collection,
                        .org = key.org,
                        .parent = key.parent,
                        .name = key.name,
                        .state = state,
                        .facets = k->facets,
                        .n_facets = k->n_facets};
    if ((move == DOC_APPROVE && k->hooks.with_approval &&
         !k->hooks.with_approval(op, &key, doc, &b, st)) ||
        !resource_batch_update(&b, &ref, doc, doc, version, st) ||
        (move == DOC_APPROVE && !add_revisions(op, k, &key, doc, &b, &parts, st)) ||
        (move == DOC_APPROVE && !add_parts(op, k, &key, revision_of(doc), &b, st)) ||
        !resource_batch_apply(&b, st))
        goto fail;
    resource_batch_free(&b);
    if (parts.copy)
        protobuf_c_message_free_unpacked(parts.copy, NULL);
    if (parts.prev)
        protobuf_c_message_free_unpacked(parts.prev, NULL);
    /* answer: the latest revision as a read gives it; the move is made, so
     * a failure there leaves it as stored */
    status ignored = {0};
    if (k->hooks.present)
        (void)k->hooks.present(op, &key, doc, &ignored);
    return doc;
fail:
    resource_batch_free(&b);
    if (parts.copy)
        protobuf_c_message_free_unpacked(parts.copy, NULL);
    if (parts.prev)
        protobuf_c_message_free_unpacked(parts.prev, NULL);
    if (doc)
        protobuf_c_message_free_unpacked(doc, NULL);
    return NULL;
}

bool lifecycle_list_revisions(const op_ctx *op, const kind *k, const char *name, int page_size,
                              const char *page_token, resource_page *page, status *st)
{
    resource_key key;
    int size;
    memset(page, 0, sizeof *page);
    if (!kind_parse_name(k, "name", name, &key, st) ||
        !validate_page_size("page_size", page_size, &size, st) ||
        !kind_authorize(op, KIND_GET, &key, key.name, st))
        return false;
    store_query q = {.collection = k->revisions_collection, .org = key.org, .parent = key.name};
    char query_key[KIND_QUERY_KEY_MAX];
    kind_query_key(op, key.name, "", query_key, sizeof query_key);
    if (!resource_list(op, k->desc, &q, query_key, page_token, size, page, st))
        return false;
    /* A caller from outside (a validator whose grant has a scope) sees the
     * revisions it would read one by one, each judged as it was (the list's
     * read is the one recorded): a page may come out shorter, its token
     * goes on. */
    bool member = key.org[0] && strcmp(op->who->org, key.org) == 0;
    if (member || auth_is_platform_admin(op->who))
        return true;
    size_t kept = 0;
    if (op->reads)
        op->reads->itemwise = true;
    for (size_t i = 0; i < page->count; i++) {
        resource_key rev = key;
        status hook = {0};
        const char *id = message_get_string(page->items[i], "revision_id");
        snprintf(rev.revision, sizeof rev.revision, "%s", id ? id : "");
        if (rev.revision[0] && k->hooks.authorize && k->hooks.authorize(op, KIND_GET, &rev, &hook))
            page->items[kept++] = page->items[i];
        else
            protobuf_c_message_free_unpacked(page->items[i], NULL);
        if (hook.code != STATUS_OK) {
            for (size_t j = i + 1; j < page->count; j++)
                protobuf_c_message_free_unpacked(page->items[j], NULL);
            page->count = kept;
            resource_page_free(page);
            *st = hook;
            kept = SIZE_MAX;
            break;
        }
    }
    if (op->reads)
        op->reads->itemwise = false;
    if (kept == SIZE_MAX)
        return false;
    page->count = kept;
    return true;
}
