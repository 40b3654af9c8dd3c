/* declaration_request.c — a declaration request's rules and moves (see
 * declaration_request.h): validate, authorize, load, decide, store,
 * answer. */
#include "declaration_request.h"

#include "access.h"
#include "auth.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "business_partner.h"
#include "clock.h"
#include "doc.h"
#include "declaration.h"
#include "filter.h"
#include "lifecycle.h"
#include "organization.h"
#include "utf8.h"
#include "validate.h"

#define COLLECTION "declarationRequests"
#define ORG_PREFIX "organizations/"
#define STATE(x) SUPPLYSEC__V1__DECLARATION_REQUEST_STATE__DECLARATION_REQUEST_STATE_##x

static const char *state_name(int state)
{
    const ProtobufCEnumValue *v = protobuf_c_enum_descriptor_get_value(
        &supplysec__v1__declaration_request_state__descriptor, state);
    return v ? v->name + strlen("DECLARATION_REQUEST_STATE_") : "UNSPECIFIED";
}

/* The state as of now: an answer whose declaration's validity has passed
 * is EXPIRED, whatever was decided on it. */
static int effective_state(const DeclarationRequest *r, int64_t now_s)
{
    bool answered = r->state == STATE(ANSWERED) || r->state == STATE(ACCEPTED);
    if (answered && r->declaration_valid_until && r->declaration_valid_until->seconds <= now_s)
        return STATE(EXPIRED);
    return r->state;
}

static int64_t now_s(void)
{
    return clock_realtime_ms() / 1000;
}

/* ---- the kind ---- */

static bool validate(const ProtobufCMessage *res, const char *p, status *st)
{
    const DeclarationRequest *r = (const DeclarationRequest *)res;
    char f[96];
    snprintf(f, sizeof f, "%s.business_partner", p);
    if (!validate_text(f, r->business_partner, KIND_NAME_MAX, true, st))
        return false;
    snprintf(f, sizeof f, "%s.message", p);
    return validate_text(f, r->message, 2000, false, st);
}

/* A new request: its business partner is one of the organization's own,
 * which it asks through that partner's organization on the platform, when
 * it has one. */
static bool derive(const op_ctx *op, const resource_key *key, ProtobufCMessage *res,
                   const ProtobufCMessage *prev, status *st)
{
    DeclarationRequest *r = (DeclarationRequest *)res;
    if (prev)
        return true; /* the partner and its organization were fixed at creation */
    resource_key pk;
    char f[96];
    snprintf(f, sizeof f, "%s.business_partner", key->kind->field);
    if (!kind_parse_name(&business_partner_kind, f, r->business_partner, &pk, st))
        return false;
    if (strcmp(pk.org, key->org) != 0)
        return status_fail(st, STATUS_INVALID_ARGUMENT,
                           "%s: must name one of this organization's business partners, "
                           "organizations/%s/businessPartners/{id}",
                           f, key->org);
    status lst = {0};
    Supplysec__V1__BusinessPartner *bp = (Supplysec__V1__BusinessPartner *)resource_load(
        op, business_partner_kind.desc, business_partner_kind.collection, key->org, pk.name,
        pk.name, NULL, &lst);
    if (!bp) {
        if (lst.code != STATUS_NOT_FOUND) {
            *st = lst;
            return false;
        }
        return status_fail(st, STATUS_INVALID_ARGUMENT, "%s: %s does not exist", f, pk.name);
    }
    bool ok = message_set_string(&r->base, "partner_organization", bp->organization);
    protobuf_c_message_free_unpacked(&bp->base, NULL);
    r->state = STATE(REQUESTED);
    return ok || status_fail(st, STATUS_RESOURCE_EXHAUSTED, "out of memory");
}

static bool check_update(const op_ctx *op, const resource_key *key, const ProtobufCMessage *prev,
                         const ProtobufCMessage *next, status *st)
{
    (void)op;
    (void)next;
    const DeclarationRequest *r = (const DeclarationRequest *)prev;
    if (r->state != STATE(REQUESTED))
        return status_fail(st, STATUS_FAILED_PRECONDITION,
                           "%s is %s; its message changes only while it is REQUESTED", key->name,
                           state_name(r->state));
    return true;
}

/* "organizations/{org}" of the caller's organization into buf. */
static void caller_org_name(const op_ctx *op, char *buf, size_t size)
{
    snprintf(buf, size, ORG_PREFIX "%s", op->who->org);
}

/* The partner organization reads the requests addressed to it (and, as
 * it sees them, is PERMISSION_DENIED their standard writes: it moves them
 * by Answer only); validators read as their grant says. */
static bool authorize(const op_ctx *op, kind_verb verb, const resource_key *key, status *st)
{
    if (verb != KIND_LIST && verb != KIND_CREATE && op->who->org[0]) {
        status missing = {0};
        DeclarationRequest *r =
            (DeclarationRequest *)resource_load(op, declaration_request_kind.desc, COLLECTION,
                                                key->org, key->name, key->name, NULL, &missing);
        char mine[KIND_NAME_MAX];
        caller_org_name(op, mine, sizeof mine);
        bool addressed = r && strcmp(r->partner_organization, mine) == 0;
        if (r)
            protobuf_c_message_free_unpacked(&r->base, NULL);
        if (addressed)
            return true;
    }
    return access_validators(op, verb, key, st);
}

/* The state as of now (EXPIRED once the declaration's validity passed). */
static bool present(const op_ctx *op, const resource_key *key, ProtobufCMessage *res, status *st)
{
    (void)op;
    (void)key;
    (void)st;
    DeclarationRequest *r = (DeclarationRequest *)res;
    r->state = effective_state(r, now_s());
    return true;
}

/* What ListDeclarationRequests filters on (docs/api.md). */
static const facet_def facets[] = {
    {.name = "state",
     .type = FACET_ENUM,
     .enum_type = &supplysec__v1__declaration_request_state__descriptor},
    {.name = "business_partner", .type = FACET_STRING},
    {.name = "partner_organization", .type = FACET_STRING},
    {.name = "declaration", .type = FACET_STRING},
    {.name = "declaration_valid_until", .type = FACET_TIMESTAMP},
    {.name = "create_time", .type = FACET_TIMESTAMP},
    {.name = "update_time", .type = FACET_TIMESTAMP},
};
#define N_FACETS (sizeof facets / sizeof facets[0])

static const char *const output_only[] = {"partner_organization",
                                          "state",
                                          "declaration",
                                          "declaration_revision_id",
                                          "declaration_valid_until",
                                          "answerer",
                                          "answer_time",
                                          "decider",
                                          "decide_time",
                                          "rejection_reason",
                                          NULL};
static const char *const immutable[] = {"business_partner", NULL};

const kind declaration_request_kind = {
    .type = "DeclarationRequest",
    .field = "declaration_request",
    .plural = "declarationRequests",
    .collection = COLLECTION,
    .parent = &organization_kind,
    .desc = &supplysec__v1__declaration_request__descriptor,
    .min_role = KIND_ROLES_DOCUMENT,
    .output_only = output_only,
    .immutable = immutable,
    .facets = facets,
    .n_facets = N_FACETS,
    .hooks = {.validate = validate,
              .derive = derive,
              .check_update = check_update,
              .authorize = authorize,
              .present = present},
};

/* ---- queries ---- */

/* *flt: the filter `field = "value"` on the requests' facets, value a
 * resource name (names hold no '"' or '\\'). */
/* The requests of org (NULL: every organization's) whose facet `field`
 * equals value, from page_token on. */
static bool list_where(const op_ctx *op, const char *org, const char *field, const char *value,
                       const char *query_key, int page_size, const char *page_token,
                       resource_page *page, status *st)
{
    char where[KIND_NAME_MAX + 64];
    snprintf(where, sizeof where, "%s = \"%s\"", field, value);
    return kind_list_where(op, &declaration_request_kind, org, where, query_key, page_size,
                           page_token, page, st);
}

bool declaration_request_attaches(const op_ctx *op, const char *org, const char *declaration,
                                  const char *revision_id)
{
    resource_page page;
    status st = {0};
    /* an organization's requests to one partner's declaration: a handful */
    if (!list_where(op, org, "declaration", declaration, "attaches", PAGE_SIZE_MAX, "", &page, &st))
        return false;
    bool found = false;
    for (size_t i = 0; i < page.count && !found; i++) {
        const DeclarationRequest *r = (const DeclarationRequest *)page.items[i];
        found = strcmp(r->declaration_revision_id, revision_id) == 0;
    }
    resource_page_free(&page);
    return found;
}

bool declaration_request_partner_accepted(const op_ctx *op, const char *org, const char *partner,
                                          bool *accepted, status *st)
{
    resource_page page;
    *accepted = false;
    /* an organization's requests to one partner: a handful */
    if (!list_where(op, org, "business_partner", partner, "accepted", PAGE_SIZE_MAX, "", &page, st))
        return false;
    int64_t now = now_s();
    for (size_t i = 0; i < page.count && !*accepted; i++)
        *accepted =
            effective_state((const DeclarationRequest *)page.items[i], now) == STATE(ACCEPTED);
    resource_page_free(&page);
    return true;
}

bool declaration_request_list_incoming(const op_ctx *op, const char *parent, int page_size,
                                       const char *page_token, resource_page *page, status *st)
{
    resource_key pk;
    int size;
    memset(page, 0, sizeof *page);
    if (!kind_parse_name(&organization_kind, "parent", parent, &pk, st) ||
        !validate_page_size("page_size", page_size, &size, st) ||
        !kind_authorize_member(op, &pk, SUPPLYSEC__V1__ROLE__ROLE_VIEWER, pk.name, st))
        return false;
    char query_key[KIND_QUERY_KEY_MAX];
    kind_query_key(op, pk.name, "", query_key, sizeof query_key);
    if (!list_where(op, NULL, "partner_organization", pk.name, query_key, size,
                    page_token ? page_token : "", page, st))
        return false;
    for (size_t i = 0; i < page->count; i++) { /* as of now, as every answer shows them */
        DeclarationRequest *r = (DeclarationRequest *)page->items[i];
        r->state = effective_state(r, now_s());
    }
    return true;
}

/* ---- moves ---- */

/* Loads the request `name` for a move: *key, *version, and the caller's
 * side (addressee: a member of the requesting organization; else of the
 * partner organization); NOT_FOUND for anyone else. */
static DeclarationRequest *load_for_move(const op_ctx *op, const char *name, const char *etag,
                                         resource_key *key, int64_t *version, bool *addressee,
                                         status *st)
{
    if (!kind_parse_name(&declaration_request_kind, "name", name, key, st))
        return NULL;
    DeclarationRequest *r = (DeclarationRequest *)resource_load(
        op, declaration_request_kind.desc, COLLECTION, key->org, key->name, key->name, version, st);
    if (!r)
        return NULL;
    char mine[KIND_NAME_MAX];
    caller_org_name(op, mine, sizeof mine);
    *addressee =
        auth_is_platform_admin(op->who) || (op->who->org[0] && strcmp(op->who->org, key->org) == 0);
    bool partner = op->who->org[0] && strcmp(r->partner_organization, mine) == 0;
    status hook = {0};
    if (!*addressee && !partner) { /* who reads it (a validator) moves nothing */
        if (access_validators(op, KIND_UPDATE, key, &hook))
            status_fail(st, STATUS_PERMISSION_DENIED, "%s is read only to %s", key->name,
                        op->who->name);
        else if (hook.code != STATUS_OK)
            *st = hook;
        else
            status_fail(st, STATUS_NOT_FOUND, "%s not found", key->name);
    } else if (resource_check_etag(&r->base, etag, st)) {
        return r;
    }
    protobuf_c_message_free_unpacked(&r->base, NULL);
    return NULL;
}

static bool store_move(const op_ctx *op, const resource_key *key, DeclarationRequest *r,
                       int64_t version, status *st)
{
    resource_ref ref = kind_ref(&declaration_request_kind, key, &r->base);
    return resource_update(op, &ref, &r->base, &r->base, version, st);
}

/* The declaration an answer attaches: in the caller's organization, its
 * latest revision APPROVED, and of the right origin: the partner's own, or
 * (paper) recorded for the request's business partner. */
static Supplysec__V1__Declaration *attachable(const op_ctx *op, const DeclarationRequest *r,
                                              bool paper, const char *name, resource_key *dk,
                                              status *st)
{
    if (!kind_parse_name(&declaration_kind, "declaration", name, dk, st))
        return NULL;
    if (strcmp(dk->org, op->who->org) != 0) {
        status_fail(st, STATUS_NOT_FOUND, "%s not found", dk->name);
        return NULL;
    }
    Supplysec__V1__Declaration *d = (Supplysec__V1__Declaration *)resource_load(
        op, declaration_kind.desc, declaration_kind.collection, dk->org, dk->name, dk->name, NULL,
        st);
    if (!d)
        return NULL;
    if (d->state != SUPPLYSEC__V1__DOCUMENT_STATE__DOCUMENT_STATE_APPROVED)
        status_fail(st, STATUS_FAILED_PRECONDITION,
                    "declaration: the latest revision of %s is %s; answer with an APPROVED one",
                    dk->name, lifecycle_state_name(&d->base));
    else if (d->revoke_time)
        status_fail(st, STATUS_FAILED_PRECONDITION,
                    "declaration: %s was revoked; approve a new revision to answer with it",
                    dk->name);
    else if (!d->valid_until || d->valid_until->seconds <= now_s())
        status_fail(st, STATUS_FAILED_PRECONDITION,
                    "declaration: %s is no longer valid (valid_until has passed); approve a new "
                    "revision to answer with it",
                    dk->name);
    else if (paper && strcmp(d->recorded_for, r->business_partner) != 0)
        status_fail(st, STATUS_INVALID_ARGUMENT,
                    "declaration: %s is not a paper declaration recorded for %s (recorded_for)",
                    dk->name, r->business_partner);
    else if (!paper && d->recorded_for[0])
        status_fail(st, STATUS_INVALID_ARGUMENT,
                    "declaration: %s was recorded for one of your own partners; answer with your "
                    "organization's own declaration",
                    dk->name);
    else
        return d;
    protobuf_c_message_free_unpacked(&d->base, NULL);
    return NULL;
}

/* Sets r answered by revision d of the declaration `declaration`, now, by
 * the caller: the decision before it is cleared. */
static bool set_answer(const op_ctx *op, DeclarationRequest *r, const char *declaration,
                       const Supplysec__V1__Declaration *d)
{
    r->state = STATE(ANSWERED);
    return message_set_string(&r->base, "declaration", declaration) &&
           message_set_string(&r->base, "declaration_revision_id", d->revision_id) &&
           message_set_string(&r->base, "answerer", op->who->name) &&
           resource_stamp_now(&r->base, "answer_time") &&
           resource_set_time(&r->base, "declaration_valid_until", d->valid_until) &&
           message_set_string(&r->base, "decider", "") &&
           message_set_string(&r->base, "rejection_reason", "") &&
           resource_set_time(&r->base, "decide_time", NULL);
}

DeclarationRequest *declaration_request_answer(const op_ctx *op, const char *name, const char *etag,
                                               const char *declaration, status *st)
{
    resource_key key, dk;
    int64_t version;
    bool addressee;
    Supplysec__V1__Declaration *d = NULL;
    DeclarationRequest *r = load_for_move(op, name, etag, &key, &version, &addressee, st);
    if (!r)
        return NULL;
    /* the requesting organization answers only for a partner not on the
     * platform, with the paper declaration it recorded */
    bool paper = addressee && !r->partner_organization[0];
    if (addressee && !paper) {
        status_fail(st, STATUS_FAILED_PRECONDITION,
                    "%s is answered by %s itself; you answer only requests to partners not on the "
                    "platform",
                    key.name, r->partner_organization);
        goto fail;
    }
    if (!auth_require(op->who, op->who->org, SUPPLYSEC__V1__ROLE__ROLE_EDITOR, key.name, st))
        goto fail;
    if (effective_state(r, now_s()) == STATE(ACCEPTED)) {
        status_fail(st, STATUS_FAILED_PRECONDITION,
                    "%s is ACCEPTED; it is answered again once its declaration expires, is revoked "
                    "or has a new approved revision",
                    key.name);
        goto fail;
    }
    if (!(d = attachable(op, r, paper, declaration, &dk, st)))
        goto fail;
    if (!set_answer(op, r, dk.name, d)) {
        status_fail(st, STATUS_RESOURCE_EXHAUSTED, "out of memory");
        goto fail;
    }
    if (!store_move(op, &key, r, version, st))
        goto fail;
    protobuf_c_message_free_unpacked(&d->base, NULL);
    r->state = effective_state(r, now_s());
    return r;
fail:
    if (d)
        protobuf_c_message_free_unpacked(&d->base, NULL);
    protobuf_c_message_free_unpacked(&r->base, NULL);
    return NULL;
}

DeclarationRequest *declaration_request_decide(const op_ctx *op, const char *name, const char *etag,
                                               bool accept, const char *reason, status *st)
{
    resource_key key;
    int64_t version;
    bool addressee;
    if (!accept && (!validate_text("reason", reason ? reason : "", 2000, true, st)))
        return NULL;
    DeclarationRequest *r = load_for_move(op, name, etag, &key, &version, &addressee, st);
    if (!r)
        return NULL;
    int state = effective_state(r, now_s());
    if (!addressee)
        status_fail(st, STATUS_PERMISSION_DENIED, "%s is decided by the organization that made it",
                    key.name);
    else if (auth_require(op->who, key.org, SUPPLYSEC__V1__ROLE__ROLE_ADMIN, key.name, st) &&
             state != STATE(ANSWERED))
        status_fail(st, STATUS_FAILED_PRECONDITION,
                    "%s is %s; it is accepted or rejected once ANSWERED", key.name,
                    state_name(state));
    if (st->code)
        goto fail;
    r->state = accept ? STATE(ACCEPTED) : STATE(REJECTED);
    if (!message_set_string(&r->base, "decider", op->who->name) ||
        !resource_stamp_now(&r->base, "decide_time") ||
        !message_set_string(&r->base, "rejection_reason", accept ? "" : reason)) {
        status_fail(st, STATUS_RESOURCE_EXHAUSTED, "out of memory");
        goto fail;
    }
    if (store_move(op, &key, r, version, st))
        return r;
fail:
    protobuf_c_message_free_unpacked(&r->base, NULL);
    return NULL;
}

/* ---- what a declaration's approval or revocation does to its requests ---- */

/* A request to change in a batch: its key lives as long as the batch. */
typedef struct held_request {
    resource_key key;
} held_request;

/* Adds to b the update of every request on the platform the declaration
 * `declaration` answered (any revision), through change (false: leave that
 * one as it is). The requests and their keys are kept by b. */
/* resource_each's call of an each_attached: the request changed, kept by
 * the batch and its update added. */
typedef struct attached {
    const op_ctx *op;
    resource_batch *b;
    bool (*change)(const op_ctx *op, DeclarationRequest *r, void *ctx);
    void *ctx;
} attached;

static bool attached_change(ProtobufCMessage **msg, const store_record *rec, void *ctx, status *st)
{
    attached *at = ctx;
    DeclarationRequest *r = (DeclarationRequest *)*msg;
    if (!at->change(at->op, r, at->ctx))
        return true;
    *msg = NULL; /* r and h are the batch's from here (freed by it, or now on failure) */
    held_request *h = malloc(sizeof *h);
    if (!h)
        protobuf_c_message_free_unpacked(&r->base, NULL);
    else if (!resource_batch_keep(at->b, &r->base))
        free(h);
    if (!h || at->b->overflow || !resource_batch_keep_mem(at->b, h))
        return status_fail(st, STATUS_RESOURCE_EXHAUSTED, "out of memory");
    if (!kind_parse_name(&declaration_request_kind, "name", rec->name, &h->key, st))
        return false;
    resource_ref ref = kind_ref(&declaration_request_kind, &h->key, &r->base);
    return resource_batch_update(at->b, &ref, &r->base, &r->base, rec->version, st);
}

static bool each_attached(const op_ctx *op, const char *declaration, resource_batch *b,
                          bool (*change)(const op_ctx *op, DeclarationRequest *r, void *ctx),
                          void *ctx, status *st)
{
    filter *flt = NULL;
    char where[KIND_NAME_MAX + 64];
    snprintf(where, sizeof where, "declaration = \"%s\"", declaration);
    if (!filter_parse("filter", where, facets, N_FACETS, &flt, st))
        return false;
    store_query q = {.collection = COLLECTION,
                     .prefix = ORG_PREFIX,
                     .filter = flt,
                     .facets = facets,
                     .n_facets = N_FACETS};
    attached at = {op, b, change, ctx};
    bool ok = resource_each(op, declaration_request_kind.desc, &q, "declaration requests",
                            attached_change, &at, st);
    filter_free(flt);
    return ok;
}

typedef struct reanswer_ctx {
    const char *declaration;
    const Supplysec__V1__Declaration *d;
    bool failed;
} reanswer_ctx;

static bool reanswer(const op_ctx *op, DeclarationRequest *r, void *ctx)
{
    reanswer_ctx *c = ctx;
    if (r->state == STATE(REQUESTED) || strcmp(r->declaration_revision_id, c->d->revision_id) == 0)
        return false;
    if (!set_answer(op, r, c->declaration, c->d))
        c->failed = true;
    return !c->failed;
}

bool declaration_request_reanswer_all(const op_ctx *op, const char *declaration,
                                      const Supplysec__V1__Declaration *d, resource_batch *b,
                                      status *st)
{
    reanswer_ctx c = {declaration, d, false};
    if (!each_attached(op, declaration, b, reanswer, &c, st))
        return false;
    return !c.failed || status_fail(st, STATUS_RESOURCE_EXHAUSTED, "out of memory");
}

static bool mark_revoked(const op_ctx *op, DeclarationRequest *r, void *ctx)
{
    (void)op;
    (void)ctx;
    if (r->state == STATE(REQUESTED) || r->state == STATE(REVOKED))
        return false;
    r->state = STATE(REVOKED);
    return true;
}

bool declaration_request_revoke_all(const op_ctx *op, const char *declaration, resource_batch *b,
                                    status *st)
{
    return each_attached(op, declaration, b, mark_revoked, NULL, st);
}

/* ---- what a credibility review does to the request it reviews ---- */

DeclarationRequest *declaration_request_reviewed(const op_ctx *op, const char *field,
                                                 const char *name, const char *org,
                                                 const char *partner, bool not_credible,
                                                 const char *review, resource_batch *b, status *st)
{
    resource_key *key = malloc(sizeof *key);
    if (!key || !resource_batch_keep_mem(b, key)) {
        status_fail(st, STATUS_RESOURCE_EXHAUSTED, "out of memory");
        return NULL;
    }
    if (!kind_parse_name(&declaration_request_kind, field, name, key, st))
        return NULL;
    if (strcmp(key->org, org) != 0) {
        status_fail(st, STATUS_INVALID_ARGUMENT,
                    "%s: must name one of this organization's declaration requests", field);
        return NULL;
    }
    int64_t version;
    status lst = {0};
    DeclarationRequest *r =
        (DeclarationRequest *)resource_load(op, declaration_request_kind.desc, COLLECTION, key->org,
                                            key->name, key->name, &version, &lst);
    if (!r) {
        if (lst.code == STATUS_NOT_FOUND)
            status_fail(st, STATUS_INVALID_ARGUMENT, "%s: %s does not exist", field, key->name);
        else
            *st = lst;
        return NULL;
    }
    if (!resource_batch_keep(b, &r->base)) {
        status_fail(st, STATUS_RESOURCE_EXHAUSTED, "out of memory");
        return NULL;
    }
    int state = effective_state(r, now_s());
    if (strcmp(r->business_partner, partner) != 0) {
        status_fail(st, STATUS_INVALID_ARGUMENT, "%s: %s asks another partner, %s", field,
                    key->name, r->business_partner);
        return NULL;
    }
    if (state != STATE(ACCEPTED)) {
        status_fail(st, STATUS_FAILED_PRECONDITION,
                    "%s is %s; a credibility review is of an ACCEPTED declaration", key->name,
                    state_name(state));
        return NULL;
    }
    if (!not_credible)
        return r;
    char reason[KIND_NAME_MAX + 64];
    snprintf(reason, sizeof reason, "not credible: credibility review %s", review);
    r->state = STATE(REJECTED);
    if (!message_set_string(&r->base, "decider", op->who->name) ||
        !resource_stamp_now(&r->base, "decide_time") ||
        !message_set_string(&r->base, "rejection_reason", reason)) {
        status_fail(st, STATUS_RESOURCE_EXHAUSTED, "out of memory");
        return NULL;
    }
    resource_ref ref = kind_ref(&declaration_request_kind, key, &r->base);
    return resource_batch_update(b, &ref, &r->base, &r->base, version, st) ? r : NULL;
}
