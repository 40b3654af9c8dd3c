/* declaration.c — the rules of a declaration of security (ISO 28001 4.2):
 * what a draft may hold, what an approved revision must (the signatory,
 * the dates, the measures for AEO criteria C, E, F and G, and for a paper
 * declaration recorded on a partner's behalf, its reference), who besides
 * the declaring organization reads it (an organization whose declaration
 * request the revision answers, that revision only), and what approving a
 * new revision or revoking it does to the requests it answered. */
#include "declaration.h"

#include "access.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "business_partner.h"
#include "clock.h"
#include "declaration_request.h"
#include "lifecycle.h"
#include "organization.h"
#include "validate.h"

typedef Supplysec__V1__Declaration Declaration;

#define MEASURE_MAX 5000

static bool times_valid(const ProtobufCMessage *res, const char *p, status *st)
{
    const Declaration *d = (const Declaration *)res;
    char f[128];
    snprintf(f, sizeof f, "%s.sign_time", p);
    if (!validate_time(f, d->sign_time, false, false, st))
        return false;
    snprintf(f, sizeof f, "%s.valid_until", p);
    return validate_time(f, d->valid_until, false, false, st);
}

/* The measures by AEO criterion (B to G), in the order of SecurityMeasures. */
static const char *measure_paths[] = {
    "measures.information_protection", "measures.cargo_security",
    "measures.conveyance_security",    "measures.premises_security",
    "measures.personnel_security",     "measures.trading_partner_security"};

/* Which of them an approved declaration must state: the four statements of
 * the security declaration template in the EU AEO guidelines (secure
 * premises, goods protected against unauthorised interference, reliable
 * staff, business partners informed), so that a declaration signed on that
 * template is entered field for field; B and D are the partner's to add. */
static const bool measure_required[] = {false, true, false, true, true, true};

static void measures_of(const Supplysec__V1__SecurityMeasures *m, const char *out[6])
{
    const char *none = "";
    out[0] = m ? m->information_protection : none;
    out[1] = m ? m->cargo_security : none;
    out[2] = m ? m->conveyance_security : none;
    out[3] = m ? m->premises_security : none;
    out[4] = m ? m->personnel_security : none;
    out[5] = m ? m->trading_partner_security : none;
}

static bool validate(const ProtobufCMessage *res, const char *p, status *st)
{
    const Declaration *d = (const Declaration *)res;
    char f[128];
    if (!times_valid(res, p, st))
        return false;
    snprintf(f, sizeof f, "%s.title", p);
    if (!validate_text(f, d->title, 200, true, st))
        return false;
    const char *m[6];
    measures_of(d->measures, m);
    for (size_t i = 0; i < 6; i++) {
        snprintf(f, sizeof f, "%s.%s", p, measure_paths[i]);
        if (!validate_text(f, m[i], MEASURE_MAX, false, st))
            return false;
    }
    if (d->signatory) {
        snprintf(f, sizeof f, "%s.signatory.name", p);
        if (!validate_text(f, d->signatory->name, 200, false, st))
            return false;
        snprintf(f, sizeof f, "%s.signatory.position", p);
        if (!validate_text(f, d->signatory->position, 200, false, st))
            return false;
    }
    if (d->sign_time && d->valid_until && d->valid_until->seconds <= d->sign_time->seconds)
        return status_fail(st, STATUS_INVALID_ARGUMENT, "%s.valid_until: not after sign_time", p);
    snprintf(f, sizeof f, "%s.paper_reference", p);
    if (!validate_text(f, d->paper_reference, 200, false, st))
        return false;
    snprintf(f, sizeof f, "%s.recorded_for", p);
    return validate_text(f, d->recorded_for, KIND_NAME_MAX, false, st);
}

/* recorded_for names one of the organization's own business partners. */
static bool derive(const op_ctx *op, const resource_key *key, ProtobufCMessage *res,
                   const ProtobufCMessage *prev, status *st)
{
    (void)op;
    (void)prev;
    const Declaration *d = (const Declaration *)res;
    if (!d->recorded_for[0])
        return true;
    resource_key partner;
    char f[96];
    snprintf(f, sizeof f, "%s.recorded_for", key->kind->field);
    if (!kind_parse_name(&business_partner_kind, f, d->recorded_for, &partner, st))
        return false;
    if (strcmp(partner.org, key->org) != 0)
        return status_fail(st, STATUS_INVALID_ARGUMENT,
                           "%s: must name one of this organization's business partners, "
                           "organizations/%s/businessPartners/{id}",
                           f, key->org);
    return true;
}

/* What an approved declaration must hold. */
static bool before_approve(const op_ctx *op, const resource_key *key, const ProtobufCMessage *res,
                           status *st)
{
    const Declaration *d = (const Declaration *)res;
    const char *m[6];
    measures_of(d->measures, m);
    const char *missing = NULL;
    for (size_t i = 0; i < 6 && !missing; i++)
        if (measure_required[i] && !m[i][0])
            missing = measure_paths[i];
    if (!missing)
        missing = !d->signatory || !d->signatory->name[0]        ? "signatory.name"
                  : !d->signatory->position[0]                   ? "signatory.position"
                  : !d->sign_time                                ? "sign_time"
                  : !d->valid_until                              ? "valid_until"
                  : d->recorded_for[0] && !d->paper_reference[0] ? "paper_reference"
                                                                 : NULL;
    if (missing)
        return status_fail(st, STATUS_FAILED_PRECONDITION,
                           "%s cannot be approved without %s: set it in a draft", key->name,
                           missing);
    if (d->valid_until->seconds <= clock_realtime_ms() / 1000)
        return status_fail(st, STATUS_FAILED_PRECONDITION,
                           "%s cannot be approved: its valid_until has passed", key->name);
    if (d->recorded_for[0]) { /* the partner it was recorded for still exists */
        status lst = {0};
        ProtobufCMessage *bp =
            resource_load(op, business_partner_kind.desc, business_partner_kind.collection,
                          key->org, d->recorded_for, d->recorded_for, NULL, &lst);
        if (!bp)
            return lst.code == STATUS_NOT_FOUND
                       ? status_fail(st, STATUS_FAILED_PRECONDITION,
                                     "%s cannot be approved: recorded_for names %s, which does "
                                     "not exist",
                                     key->name, d->recorded_for)
                       : (*st = lst, false);
        protobuf_c_message_free_unpacked(bp, NULL);
    }
    return true;
}

/* Another organization reads a revision attached to one of its own
 * declaration requests, and nothing else: not the latest revision by the
 * plain name (a draft, perhaps), not the list; validators read as their
 * grant says. */
static bool authorize(const op_ctx *op, kind_verb verb, const resource_key *key, status *st)
{
    if (verb == KIND_GET && key->revision[0] && op->who->org[0] &&
        declaration_request_attaches(op, op->who->org, key->name, key->revision))
        return true;
    return access_validators(op, verb, key, st);
}

/* A new approved revision issues the declaration again (a revocation ends)
 * and answers again every request an earlier revision answered. */
static bool with_approval(const op_ctx *op, const resource_key *key, ProtobufCMessage *doc,
                          resource_batch *b, status *st)
{
    Declaration *d = (Declaration *)doc;
    if (!resource_set_time(doc, "revoke_time", NULL) || !message_set_string(doc, "revoker", ""))
        return status_fail(st, STATUS_RESOURCE_EXHAUSTED, "out of memory");
    return declaration_request_reanswer_all(op, key->name, d, b, st);
}

Declaration *declaration_revoke(const op_ctx *op, const char *name, const char *etag, status *st)
{
    resource_key key;
    int64_t version;
    resource_batch b;
    resource_batch_init(&b, op);
    Declaration *d = NULL;
    if (!kind_parse_name(&declaration_kind, "name", name, &key, st) ||
        !kind_authorize_role(op, &key, SUPPLYSEC__V1__ROLE__ROLE_ADMIN, key.name, st))
        goto fail;
    d = (Declaration *)resource_load(op, declaration_kind.desc, declaration_kind.collection,
                                     key.org, key.name, key.name, &version, st);
    if (!d || !resource_check_etag(&d->base, etag, st))
        goto fail;
    /* in force: the latest revision APPROVED, or an earlier one while the
     * next is drafted (CreateRevision starts only from an APPROVED one) */
    bool in_force = d->state == SUPPLYSEC__V1__DOCUMENT_STATE__DOCUMENT_STATE_APPROVED ||
                    strtol(d->revision_id, NULL, 10) > 1;
    if (!in_force || d->revoke_time) {
        status_fail(st, STATUS_FAILED_PRECONDITION,
                    "%s is %s; only a declaration with a revision in force is revoked", key.name,
                    d->revoke_time ? "revoked already" : lifecycle_state_name(&d->base));
        goto fail;
    }
    if (!resource_stamp_now(&d->base, "revoke_time") ||
        !message_set_string(&d->base, "revoker", op->who->name)) {
        status_fail(st, STATUS_RESOURCE_EXHAUSTED, "out of memory");
        goto fail;
    }
    resource_ref ref = kind_ref(&declaration_kind, &key, &d->base);
    if (!declaration_request_revoke_all(op, key.name, &b, st) ||
        !resource_batch_update(&b, &ref, &d->base, &d->base, version, st) ||
        !resource_batch_apply(&b, st))
        goto fail;
    resource_batch_free(&b);
    return d;
fail:
    resource_batch_free(&b);
    if (d)
        protobuf_c_message_free_unpacked(&d->base, NULL);
    return NULL;
}

/* What ListDeclarations filters on (docs/api.md). */
static const facet_def facets[] = {
    {.name = "state", .type = FACET_ENUM, .enum_type = &supplysec__v1__document_state__descriptor},
    {.name = "title", .type = FACET_STRING},
    {.name = "recorded_for", .type = FACET_STRING},
    {.name = "valid_until", .type = FACET_TIMESTAMP},
    {.name = "create_time", .type = FACET_TIMESTAMP},
    {.name = "update_time", .type = FACET_TIMESTAMP},
};

static const char *const immutable[] = {"recorded_for", NULL};
static const char *const output_only[] = {"revoke_time", "revoker", NULL};

const kind declaration_kind = {
    .type = "Declaration",
    .field = "declaration",
    .plural = "declarations",
    .collection = "declarations",
    .parent = &organization_kind,
    .desc = &supplysec__v1__declaration__descriptor,
    .min_role = KIND_ROLES_DOCUMENT,
    .output_only = output_only,
    .immutable = immutable,
    .facets = facets,
    .n_facets = sizeof facets / sizeof facets[0],
    .lifecycle = KIND_CONTROLLED,
    .revisions_collection = "declarationRevisions",
    .hooks = {.validate = validate,
              .derive = derive,
              .before_approve = before_approve,
              .authorize = authorize,
              .with_approval = with_approval},
};
