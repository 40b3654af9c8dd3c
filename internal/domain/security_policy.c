/* security_policy.c — the rules of a security policy (ISO 28000 4.2): what
 * a draft may hold, and what an approved revision must: the text, and top
 * management's sign-off (who, in what role, when). */
#include "security_policy.h"

#include <stdio.h>

#include "organization.h"
#include "validate.h"

typedef Supplysec__V1__SecurityPolicy SecurityPolicy;

static bool valid_time(const Google__Protobuf__Timestamp *t, const char *field, status *st)
{
    return !t || validate_timestamp(field, t->seconds, t->nanos, st);
}

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
        snprintf(f, sizeof f, "%s.commitments.best_practices_scope", p);
        if (!validate_text(f, sp->commitments->best_practices_scope, 2000, false, st))
            return false;
        if (sp->commitments->iso_28001_best_practices && !sp->commitments->best_practices_scope[0])
            return status_fail(st, STATUS_INVALID_ARGUMENT,
                               "%s: required with iso_28001_best_practices: say where the ISO "
                               "28001 best practices apply",
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
        if (!valid_time(sp->sign_off->sign_time, f, st))
            return false;
    }
    snprintf(f, sizeof f, "%s.next_review_time", p);
    return valid_time(sp->next_review_time, f, st);
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
    .hooks = {.validate = validate, .before_approve = before_approve},
};
