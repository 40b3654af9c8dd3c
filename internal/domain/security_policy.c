/* security_policy.c — the rules of a security policy (ISO 28000 4.2): what
 * a draft may hold, and what an approved revision must: the text, top
 * management's sign-off (who, in what role, when), and when it applies the
 * ISO 28001 best practices through the statement of application, a revision
 * of that statement in force, which the approval records (ISO 28004-4
 * clause 6). */
#include "security_policy.h"

#include "access.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lifecycle.h"
#include "organization.h"
#include "statement_of_application.h"
#include "validate.h"

typedef Supplysec__V1__SecurityPolicy SecurityPolicy;

static bool validate(const ProtobufCMessage *res, const char *p, status *st)
{
    const SecurityPolicy *sp = (const SecurityPolicy *)res;
    char f[96];
    snprintf(f, sizeof f, "%s.title", p);
    if (!validate_text(f, sp->title, 200, true, st))
        return false;
    snprintf(f, sizeof f, "%s.text", p);
    if (!validate_text(f, sp->text, 50000, false, st))
        return false;
    if (sp->commitments) {
        const Supplysec__V1__PolicyCommitments *c = sp->commitments;
        snprintf(f, sizeof f, "%s.commitments.statement_of_application", p);
        if (!validate_text(f, c->statement_of_application, KIND_NAME_MAX, false, st))
            return false;
        snprintf(f, sizeof f, "%s.commitments.best_practices_scope", p);
        if (!validate_text(f, c->best_practices_scope, 2000, false, st))
            return false;
        if (c->iso_28001_best_practices && !c->best_practices_scope[0] &&
            !c->statement_of_application[0])
            return status_fail(st, STATUS_INVALID_ARGUMENT,
                               "%s: required with iso_28001_best_practices (or "
                               "statement_of_application): say where the ISO 28001 best "
                               "practices apply",
                               f);
    }
    if (sp->sign_off) {
        snprintf(f, sizeof f, "%s.sign_off.signatory_name", p);
        if (!validate_text(f, sp->sign_off->signatory_name, 200, false, st))
            return false;
        snprintf(f, sizeof f, "%s.sign_off.signatory_role", p);
        if (!validate_text(f, sp->sign_off->signatory_role, 200, false, st))
            return false;
        snprintf(f, sizeof f, "%s.sign_off.sign_time", p);
        if (!validate_time(f, sp->sign_off->sign_time, false, false, st))
            return false;
    }
    snprintf(f, sizeof f, "%s.next_review_time", p);
    return validate_time(f, sp->next_review_time, false, false, st);
}

/* The statement a policy names is one of its organization's own; the
 * revision it drew from is the server's to record, at approval. */
static bool derive(const op_ctx *op, const resource_key *key, ProtobufCMessage *res,
                   const ProtobufCMessage *prev, status *st)
{
    (void)op;
    (void)prev;
    Supplysec__V1__PolicyCommitments *c = ((SecurityPolicy *)res)->commitments;
    if (!c)
        return true;
    if (!message_set_string(&c->base, "statement_revision_id", ""))
        return status_fail(st, STATUS_RESOURCE_EXHAUSTED, "out of memory");
    if (!c->statement_of_application[0])
        return true;
    resource_key sk;
    char f[96];
    snprintf(f, sizeof f, "%s.commitments.statement_of_application", key->kind->field);
    if (!kind_parse_name(&statement_of_application_kind, f, c->statement_of_application, &sk, st))
        return false;
    if (strcmp(sk.org, key->org) != 0)
        return status_fail(st, STATUS_INVALID_ARGUMENT,
                           "%s: must name this organization's statement of application, "
                           "organizations/%s/statementsOfApplication/{id}",
                           f, key->org);
    return true;
}

/* An approved policy that applies the best practices through a statement
 * records the statement's revision in force. */
static bool with_approval(const op_ctx *op, const resource_key *key, ProtobufCMessage *doc,
                          resource_batch *b, status *st)
{
    (void)b;
    Supplysec__V1__PolicyCommitments *c = ((SecurityPolicy *)doc)->commitments;
    if (!c || !c->statement_of_application[0])
        return true;
    char rev[LIFECYCLE_REVISION_MAX];
    status lst = {0};
    if (!lifecycle_revision_in_force(op, &statement_of_application_kind, key->org,
                                     c->statement_of_application, rev, &lst) &&
        lst.code != STATUS_NOT_FOUND) {
        *st = lst;
        return false;
    }
    if (!rev[0])
        return status_fail(st, STATUS_FAILED_PRECONDITION,
                           "%s cannot be approved: commitments.statement_of_application names "
                           "%s, which has no approved revision",
                           key->name, c->statement_of_application);
    return message_set_string(&c->base, "statement_revision_id", rev) ||
           status_fail(st, STATUS_RESOURCE_EXHAUSTED, "out of memory");
}

/* What an approved policy must have: its text, and top management's
 * sign-off in full. */
static bool before_approve(const op_ctx *op, const resource_key *key, const ProtobufCMessage *res,
                           status *st)
{
    (void)op;
    const SecurityPolicy *sp = (const SecurityPolicy *)res;
    const Supplysec__V1__SignOff *so = sp->sign_off;
    if (!so || !so->signatory_name[0] || !so->signatory_role[0] || !so->sign_time)
        return status_fail(st, STATUS_FAILED_PRECONDITION,
                           "%s cannot be approved without top management's sign-off: set "
                           "sign_off.signatory_name, signatory_role and sign_time in a draft",
                           key->name);
    if (!sp->text[0])
        return status_fail(st, STATUS_FAILED_PRECONDITION, "%s cannot be approved without its text",
                           key->name);
    return true;
}

/* What ListSecurityPolicies filters on (docs/api.md). */
static const facet_def facets[] = {
    {.name = "state", .type = FACET_ENUM, .enum_type = &supplysec__v1__document_state__descriptor},
    {.name = "title", .type = FACET_STRING},
    {.name = "create_time", .type = FACET_TIMESTAMP},
    {.name = "update_time", .type = FACET_TIMESTAMP},
    {.name = "next_review_time", .type = FACET_TIMESTAMP},
};

const kind security_policy_kind = {
    .type = "SecurityPolicy",
    .field = "security_policy",
    .plural = "securityPolicies",
    .collection = "securityPolicies",
    .parent = &organization_kind,
    .desc = &supplysec__v1__security_policy__descriptor,
    .min_role = KIND_ROLES_DOCUMENT,
    .facets = facets,
    .n_facets = sizeof facets / sizeof facets[0],
    .lifecycle = KIND_CONTROLLED,
    .revisions_collection = "securityPolicyRevisions",
    .hooks = {.authorize = access_validators,
              .validate = validate,
              .derive = derive,
              .before_approve = before_approve,
              .with_approval = with_approval},
};
