/* access.c — reads by callers outside an organization (access.h): the
 * shares and validation grants that let them in, a grant's scope, and the
 * audit event each validator's read leaves in the operator's log. */
#include "access.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "attestation.h"
#include "auth.h"
#include "lifecycle.h"
#include "organization.h"
#include "security_assessment.h"
#include "security_plan.h"
#include "security_policy.h"
#include "share.h"
#include "statement_of_application.h"
#include "validation_grant.h"

#define ORG_PREFIX "organizations/"

/* The kind below the organization in key's chain (key's own kind for a
 * kind of the organization; NULL for the organization itself) and, when
 * key reaches that deep (not a list of the organization's own), the name
 * of key's ancestor of that kind. */
static const kind *top_of(const resource_key *key, char *name, size_t size)
{
    const kind *top = key->kind;
    name[0] = '\0';
    if (top == &organization_kind)
        return NULL;
    while (top->parent && top->parent != &organization_kind)
        top = top->parent;
    if (key->depth >= 2)
        snprintf(name, size, ORG_PREFIX "%s/%s/%s", key->ids[0], top->plural, key->ids[1]);
    return top;
}

/* What a read names, as the caller wrote it: a resource (a revision with
 * its @, a part as its document's revision keeps it), or a list's parent. */
static void read_name(const resource_key *key, char *buf, size_t size)
{
    char stored[LIFECYCLE_PART_NAME_MAX], display[LIFECYCLE_PART_NAME_MAX];
    const char *name = key->name[0] ? key->name : key->parent;
    if (!key->revision[0])
        snprintf(buf, size, "%s", name);
    else if (key->kind->lifecycle == KIND_CONTROLLED && key->name[0])
        snprintf(buf, size, "%s@%s", name, key->revision);
    else if (lifecycle_part_names(key, name, stored, display))
        snprintf(buf, size, "%s", display);
    else
        snprintf(buf, size, "%s", name);
}

/* An outsider's read is answered only where the answer can be cleared of
 * the sensitive fields (op->reads: a request's, kept by the runtime). */
static bool can_redact(const op_ctx *op)
{
    return op->reads != NULL;
}

/* Let in by share s (taken; NULL: none): sensitive fields left out unless
 * it includes them. */
static bool admitted(const op_ctx *op, Share *s)
{
    if (!s)
        return false;
    if (!s->include_sensitive)
        op->reads->redact = true;
    protobuf_c_message_free_unpacked(&s->base, NULL);
    return true;
}

/* ---- shares ---- */

/* The grantee of a share in force of the revision key names, or is kept
 * with (an assessment's scenario as its revision 3 keeps it), reads it:
 * by name, or the list of such parts under it. */
static bool shared(const op_ctx *op, kind_verb verb, const resource_key *key, status *st)
{
    char doc[KIND_NAME_MAX], resource[KIND_NAME_MAX + 32];
    Share *s = NULL;
    if ((verb != KIND_GET && verb != KIND_LIST) || !key->revision[0] || !op->who->org[0] ||
        !can_redact(op))
        return false;
    if (verb == KIND_LIST && !key->kind->part_of_document)
        return false; /* a document's revisions are not listed to a grantee */
    if (!top_of(key, doc, sizeof doc) || !doc[0])
        return false;
    snprintf(resource, sizeof resource, "%s@%s", doc, key->revision);
    if (!share_in_force(op, key->org, resource, op->who->org, &s, st))
        return false;
    return admitted(op, s);
}

/* ---- validation grants ---- */

/* The document `name` of kind top as it is now, or as its kept revision
 * `revision` ("" the latest) has it; NULL with st unset when there is none
 * (out of scope, said by the caller). */
static ProtobufCMessage *document_load(const op_ctx *op, const kind *top, const char *org,
                                       const char *name, const char *revision, status *st)
{
    resource_key k;
    status missing = {0};
    ProtobufCMessage *m = NULL;
    if (!revision[0]) {
        m = resource_load(op, top->desc, top->collection, org, name, name, NULL, &missing);
    } else if (kind_parse_name(top, "name", name, &k, &missing)) {
        snprintf(k.revision, sizeof k.revision, "%s", revision);
        m = lifecycle_load_revision(op, top, &k, &missing);
    }
    if (!m && missing.code != STATUS_NOT_FOUND && missing.code != STATUS_INVALID_ARGUMENT)
        *st = missing;
    return m;
}

/* Whether the resource `name` of kind top (a kind of the organization),
 * as its revision `revision` has it ("": as it is now), hangs from the
 * statement of application `soa`: the statement itself, a policy or an
 * assessment that names it, a plan of such an assessment (as the
 * assessment's revision the plan implements has it). */
static bool hangs_from(const op_ctx *op, const kind *top, const char *org, const char *name,
                       const char *revision, const char *soa, status *st)
{
    if (top == &statement_of_application_kind)
        return strcmp(name, soa) == 0;
    if (top != &security_policy_kind && top != &security_assessment_kind &&
        top != &security_plan_kind)
        return false;
    ProtobufCMessage *m = document_load(op, top, org, name, revision, st);
    if (!m)
        return false;
    bool in = false;
    if (top == &security_policy_kind) {
        const Supplysec__V1__PolicyCommitments *c =
            ((Supplysec__V1__SecurityPolicy *)m)->commitments;
        in = c && strcmp(c->statement_of_application, soa) == 0;
    } else if (top == &security_assessment_kind) {
        const Supplysec__V1__AssessmentScope *sc = ((Supplysec__V1__SecurityAssessment *)m)->scope;
        in = sc && strcmp(sc->statement_of_application, soa) == 0;
    } else {
        const Supplysec__V1__SecurityPlan *pl = (Supplysec__V1__SecurityPlan *)m;
        in = hangs_from(op, &security_assessment_kind, org, pl->security_assessment,
                        pl->assessment_revision_id, soa, st);
    }
    protobuf_c_message_free_unpacked(m, NULL);
    return in;
}

/* Whether grant g covers key: all of the organization without a scope;
 * with one, the organization's record and what hangs from the statement,
 * read by name or as the children of something in scope (a list of the
 * organization's documents is not in a scope). */
static bool in_scope(const op_ctx *op, const ValidationGrant *g, const resource_key *key,
                     status *st)
{
    char top_name[KIND_NAME_MAX];
    if (!g->statement_of_application[0])
        return true;
    const kind *top = top_of(key, top_name, sizeof top_name);
    if (!top)
        return true; /* the organization itself */
    /* a revision read is judged as that revision has it */
    const char *revision =
        key->revision[0] && (key->kind == top || kind_document_of(key->kind) == top) ? key->revision
                                                                                     : "";
    return top_name[0] &&
           hangs_from(op, top, key->org, top_name, revision, g->statement_of_application, st);
}

/* Whether a grant in force to the caller's authority covers key (with
 * whole: one of the whole system); several in force cover what any does. */
static bool granted(const op_ctx *op, const resource_key *key, bool whole, status *st)
{
    resource_page grants;
    bool ok = false;
    if (!auth_is_validator(op->who) || !can_redact(op) ||
        !validation_grants_in_force(op, key->org, op->who->org, &grants, st))
        return false;
    for (size_t i = 0; i < grants.count && !ok && st->code == STATUS_OK; i++) {
        const ValidationGrant *g = (const ValidationGrant *)grants.items[i];
        ok = !g->statement_of_application[0] || (!whole && in_scope(op, g, key, st));
    }
    resource_page_free(&grants);
    if (ok) /* validators read without the sensitive fields */
        op->reads->redact = true;
    return ok;
}

bool access_validators(const op_ctx *op, kind_verb verb, const resource_key *key, status *st)
{
    char name[LIFECYCLE_PART_NAME_MAX];
    if (!granted(op, key, false, st))
        return false;
    if ((verb != KIND_GET && verb != KIND_LIST) || op->reads->itemwise)
        return true; /* seen: a write is PERMISSION_DENIED; an item of a recorded read */
    read_name(key, name, sizeof name);
    return resource_record_read(op, key->org, name, st);
}

bool access_shared_or_validators(const op_ctx *op, kind_verb verb, const resource_key *key,
                                 status *st)
{
    if (shared(op, verb, key, st))
        return true;
    return st->code == STATUS_OK && access_validators(op, verb, key, st);
}

bool access_read(const op_ctx *op, const char *org, const char *resource, bool shareable,
                 status *st)
{
    resource_key key;
    Share *s = NULL;
    if (shareable && op->who->org[0] && can_redact(op)) {
        if (!share_in_force(op, org, resource, op->who->org, &s, st))
            return false;
        if (s)
            return admitted(op, s);
    }
    memset(&key, 0, sizeof key);
    key.kind = &organization_kind;
    snprintf(key.org, sizeof key.org, "%s", org);
    return granted(op, &key, true, st) && resource_record_read(op, org, resource, st);
}

/* ---- published and attested ---- */

bool access_published(const op_ctx *op, kind_verb verb, const resource_key *key, status *st)
{
    (void)verb;
    (void)key;
    (void)st;
    return op->who != NULL;
}

bool access_attested(const op_ctx *op, kind_verb verb, const resource_key *key, status *st)
{
    char mine[RESOURCE_ID_MAX + 32];
    status missing = {0};
    if (verb == KIND_LIST || verb == KIND_CREATE || !op->who->org[0])
        return false;
    Supplysec__V1__Attestation *a = (Supplysec__V1__Attestation *)resource_load(
        op, attestation_kind.desc, attestation_kind.collection, key->org, key->name, key->name,
        NULL, &missing);
    snprintf(mine, sizeof mine, ORG_PREFIX "%s", op->who->org);
    bool theirs = a && strcmp(a->operator_, mine) == 0;
    if (a)
        protobuf_c_message_free_unpacked(&a->base, NULL);
    if (!a && missing.code != STATUS_NOT_FOUND)
        *st = missing;
    return theirs;
}
