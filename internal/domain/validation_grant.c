/* validation_grant.c — the rules of a validation grant: what it holds (an
 * authority that is a customs authority on the platform, an application
 * reference, a window of at most two years, an optional scope of one of
 * the operator's statements of application), its state as of each read,
 * revocation for good, and the list of operators that have granted an
 * authority access. */
#include "validation_grant.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "auth.h"
#include "clock.h"
#include "organization.h"
#include "statement_of_application.h"
#include "standard.h"
#include "validate.h"

#define STATE(x) SUPPLYSEC__V1__GRANT_STATE__GRANT_STATE_##x
#define ORG_PREFIX "organizations/"
#define DAY_S 86400

static int64_t now_s(void)
{
    return clock_realtime_ms() / 1000;
}

Supplysec__V1__GrantState validation_grant_state(const ValidationGrant *g, int64_t now)
{
    if (g->revoke_time)
        return STATE(REVOKED);
    if (g->start_time && now < g->start_time->seconds)
        return STATE(PENDING);
    if (!g->end_time || now >= g->end_time->seconds)
        return STATE(EXPIRED);
    return STATE(ACTIVE);
}

static bool validate(const ProtobufCMessage *res, const char *p, status *st)
{
    const ValidationGrant *g = (const ValidationGrant *)res;
    char f[128];
    resource_key k;
    snprintf(f, sizeof f, "%s.authority", p);
    if (!g->authority[0])
        return status_fail(st, STATUS_INVALID_ARGUMENT,
                           "%s: required: the customs authority, organizations/{organization}", f);
    if (!kind_parse_name(&organization_kind, f, g->authority, &k, st))
        return false;
    snprintf(f, sizeof f, "%s.application_reference", p);
    if (!validate_text(f, g->application_reference, 100, true, st))
        return false;
    snprintf(f, sizeof f, "%s.start_time", p);
    if (!validate_time(f, g->start_time, true, false, st))
        return false;
    snprintf(f, sizeof f, "%s.end_time", p);
    if (!validate_time(f, g->end_time, true, false, st))
        return false;
    if (g->end_time->seconds <= g->start_time->seconds)
        return status_fail(st, STATUS_INVALID_ARGUMENT, "%s: must be after start_time", f);
    if (g->end_time->seconds - g->start_time->seconds > (int64_t)VALIDATION_GRANT_MAX_DAYS * DAY_S)
        return status_fail(st, STATUS_INVALID_ARGUMENT,
                           "%s: at most %d days after start_time; grant again for longer", f,
                           VALIDATION_GRANT_MAX_DAYS);
    snprintf(f, sizeof f, "%s.statement_of_application", p);
    return !g->statement_of_application[0] ||
           kind_parse_name(&statement_of_application_kind, f, g->statement_of_application, &k, st);
}

/* The authority is a customs authority on the platform other than the
 * grantor (one message whether it is missing or an operator: the
 * grantor learns nothing of others but what authorities there are); the
 * scope, when set, a statement of the grantor's own. */
static bool derive(const op_ctx *op, const resource_key *key, ProtobufCMessage *res,
                   const ProtobufCMessage *prev, status *st)
{
    ValidationGrant *g = (ValidationGrant *)res;
    const ValidationGrant *was = (const ValidationGrant *)prev;
    resource_key ak, sk;
    if (was) { /* revocation is the Revoke method's */
        g->state = was->state;
        return resource_set_time(res, "revoke_time", was->revoke_time) &&
                       message_set_string(res, "revoker", was->revoker)
                   ? true
                   : status_fail(st, STATUS_RESOURCE_EXHAUSTED, "out of memory");
    }
    status ignored = {0};
    kind_parse_name(&organization_kind, "authority", g->authority, &ak, &ignored);
    Supplysec__V1__Organization *a = (Supplysec__V1__Organization *)resource_load(
        op, organization_kind.desc, organization_kind.collection, ak.org, ak.name, ak.name, NULL,
        &ignored);
    bool authority =
        a && a->kind == SUPPLYSEC__V1__ORGANIZATION_KIND__ORGANIZATION_KIND_CUSTOMS_AUTHORITY &&
        strcmp(ak.org, key->org) != 0;
    if (a)
        protobuf_c_message_free_unpacked(&a->base, NULL);
    if (!authority)
        return ignored.code == STATUS_UNAVAILABLE
                   ? status_fail(st, STATUS_UNAVAILABLE, "%s", ignored.msg)
                   : status_fail(st, STATUS_INVALID_ARGUMENT,
                                 "validation_grant.authority: %s is not a customs authority on "
                                 "the platform",
                                 g->authority);
    if (g->statement_of_application[0]) {
        kind_parse_name(&statement_of_application_kind, "statement_of_application",
                        g->statement_of_application, &sk, &ignored);
        if (strcmp(sk.org, key->org) != 0)
            return status_fail(st, STATUS_INVALID_ARGUMENT,
                               "validation_grant.statement_of_application: must be one of %s's "
                               "own, organizations/%s/statementsOfApplication/{id}",
                               key->parent, key->org);
        ProtobufCMessage *soa = resource_load(op, statement_of_application_kind.desc,
                                              statement_of_application_kind.collection, sk.org,
                                              sk.name, sk.name, NULL, st);
        if (!soa)
            return false;
        protobuf_c_message_free_unpacked(soa, NULL);
    }
    return true;
}

/* A revoked grant stays as it was revoked. */
static bool check_update(const op_ctx *op, const resource_key *key, const ProtobufCMessage *prev,
                         const ProtobufCMessage *next, status *st)
{
    (void)op;
    (void)next;
    if (((const ValidationGrant *)prev)->revoke_time)
        return status_fail(st, STATUS_FAILED_PRECONDITION,
                           "%s is revoked, for good; grant again instead", key->name);
    return true;
}

static bool present(const op_ctx *op, const resource_key *key, ProtobufCMessage *res, status *st)
{
    (void)op;
    (void)key;
    (void)st;
    ValidationGrant *g = (ValidationGrant *)res;
    g->state = validation_grant_state(g, now_s());
    return true;
}

/* A validator reads a grant to its own authority while it is in force:
 * the operator's grants to others are none of its business. */
static bool authorize(const op_ctx *op, kind_verb verb, const resource_key *key, status *st)
{
    if (verb == KIND_LIST || verb == KIND_CREATE || !auth_is_validator(op->who))
        return false;
    ValidationGrant *g = (ValidationGrant *)resource_load(op, validation_grant_kind.desc,
                                                          validation_grant_kind.collection,
                                                          key->org, key->name, key->name, NULL, st);
    if (!g) {
        if (st->code == STATUS_NOT_FOUND)
            st->code = STATUS_OK; /* NOT_FOUND, said by the caller */
        return false;
    }
    char mine[RESOURCE_ID_MAX + 32];
    snprintf(mine, sizeof mine, ORG_PREFIX "%s", op->who->org);
    bool ok =
        strcmp(g->authority, mine) == 0 && validation_grant_state(g, now_s()) == STATE(ACTIVE);
    protobuf_c_message_free_unpacked(&g->base, NULL);
    return ok && (verb != KIND_GET || resource_record_read(op, key->org, key->name, st));
}

/* A resource_page_keep test: the grant is in force at *(int64_t *)now. */
static bool active(const ProtobufCMessage *item, void *now)
{
    return validation_grant_state((const ValidationGrant *)item, *(int64_t *)now) == STATE(ACTIVE);
}

bool validation_grants_in_force(const op_ctx *op, const char *org, const char *authority,
                                resource_page *page, status *st)
{
    char where[KIND_NAME_MAX + 64];
    snprintf(where, sizeof where, "authority = \"" ORG_PREFIX "%s\"", authority);
    /* an operator's grants to one authority: a handful */
    if (!kind_list_where(op, &validation_grant_kind, org, where, "in-force", PAGE_SIZE_MAX, "",
                         page, st))
        return false;
    int64_t now = now_s();
    resource_page_keep(page, active, &now);
    return true;
}

ValidationGrant *validation_grant_revoke(const op_ctx *op, const char *name, const char *etag,
                                         status *st)
{
    return (ValidationGrant *)std_revoke(op, &validation_grant_kind, name, etag, STATE(REVOKED),
                                         st);
}

/* The operator's entry of a list of validated organizations: its legal
 * name and the grant (taken). */
static Supplysec__V1__ValidatedOrganization *validated_of(const op_ctx *op, ValidationGrant *g,
                                                          status *st)
{
    Supplysec__V1__ValidatedOrganization *v = malloc(sizeof *v);
    resource_key gk;
    status ignored = {0};
    if (!v) {
        protobuf_c_message_free_unpacked(&g->base, NULL);
        status_fail(st, STATUS_RESOURCE_EXHAUSTED, "out of memory");
        return NULL;
    }
    supplysec__v1__validated_organization__init(v);
    v->grant = g;
    kind_parse_name(&validation_grant_kind, "name", g->name, &gk, &ignored);
    Supplysec__V1__Organization *o = (Supplysec__V1__Organization *)resource_load(
        op, organization_kind.desc, organization_kind.collection, gk.org, gk.parent, gk.parent,
        NULL, &ignored);
    bool ok = message_set_string(&v->base, "organization", gk.parent) &&
              message_set_string(&v->base, "legal_name", o ? o->legal_name : "");
    if (o)
        protobuf_c_message_free_unpacked(&o->base, NULL);
    if (!ok) {
        protobuf_c_message_free_unpacked(&v->base, NULL);
        status_fail(st, STATUS_RESOURCE_EXHAUSTED, "out of memory");
        return NULL;
    }
    return v;
}

Supplysec__V1__ListValidatedOrganizationsResponse *validation_grant_list_validated(
    const op_ctx *op, const Supplysec__V1__ListValidatedOrganizationsRequest *req, status *st)
{
    resource_key ak;
    int size;
    char where[KIND_NAME_MAX + 64], query_key[KIND_QUERY_KEY_MAX];
    resource_page page;
    /* validate, authorize: the authority's own members (validators read like viewers) */
    if (!kind_parse_name(&organization_kind, "authority", req->authority, &ak, st) ||
        !validate_page_size("page_size", req->page_size, &size, st) ||
        !kind_authorize_member(op, &ak, SUPPLYSEC__V1__ROLE__ROLE_VIEWER, ak.name, st))
        return NULL;
    if (op->who->org[0] && op->who->role != SUPPLYSEC__V1__ROLE__ROLE_VALIDATOR &&
        op->who->role != SUPPLYSEC__V1__ROLE__ROLE_ADMIN) {
        status_fail(st, STATUS_PERMISSION_DENIED,
                    "the organizations %s validates are listed to its VALIDATORs and ADMINs",
                    ak.name);
        return NULL;
    }
    /* load: the grants to it, across operators; decide: those in force */
    snprintf(where, sizeof where, "authority = \"%s\"", ak.name);
    kind_query_key(op, ak.name, "", query_key, sizeof query_key);
    if (!kind_list_where(op, &validation_grant_kind, NULL, where, query_key, size, req->page_token,
                         &page, st))
        return NULL;
    Supplysec__V1__ListValidatedOrganizationsResponse *r = malloc(sizeof *r);
    if (r)
        supplysec__v1__list_validated_organizations_response__init(r);
    if (!r || !(r->validated_organizations =
                    calloc(page.count + 1, sizeof *r->validated_organizations))) {
        free(r);
        resource_page_free(&page);
        status_fail(st, STATUS_RESOURCE_EXHAUSTED, "out of memory");
        return NULL;
    }
    int64_t now = now_s();
    bool ok = message_set_string(&r->base, "next_page_token", page.next_page_token);
    for (size_t i = 0; ok && i < page.count; i++) {
        ValidationGrant *g = (ValidationGrant *)page.items[i];
        if ((g->state = validation_grant_state(g, now)) != STATE(ACTIVE))
            continue;
        page.items[i] = NULL;
        Supplysec__V1__ValidatedOrganization *v = validated_of(op, g, st);
        if (!(ok = v != NULL))
            break;
        r->validated_organizations[r->n_validated_organizations++] = v;
    }
    resource_page_free(&page);
    if (!ok) {
        if (st->code == STATUS_OK)
            status_fail(st, STATUS_RESOURCE_EXHAUSTED, "out of memory");
        protobuf_c_message_free_unpacked(&r->base, NULL);
        return NULL;
    }
    return r;
}

static const facet_def facets[] = {
    {.name = "authority", .type = FACET_STRING},
    {.name = "application_reference", .type = FACET_STRING},
    {.name = "start_time", .type = FACET_TIMESTAMP},
    {.name = "end_time", .type = FACET_TIMESTAMP},
    {.name = "revoke_time", .type = FACET_TIMESTAMP},
    {.name = "create_time", .type = FACET_TIMESTAMP},
    {.name = "update_time", .type = FACET_TIMESTAMP},
};

static const char *const output_only[] = {"state", "revoke_time", "revoker", NULL};
static const char *const immutable[] = {"authority", "start_time", "statement_of_application",
                                        NULL};

const kind validation_grant_kind = {
    .type = "ValidationGrant",
    .field = "validation_grant",
    .plural = "validationGrants",
    .collection = "validationGrants",
    .parent = &organization_kind,
    .desc = &supplysec__v1__validation_grant__descriptor,
    .min_role = KIND_ROLES_ADMIN_KEPT,
    .output_only = output_only,
    .immutable = immutable,
    .facets = facets,
    .n_facets = sizeof facets / sizeof facets[0],
    .hooks = {.validate = validate,
              .derive = derive,
              .check_update = check_update,
              .present = present,
              .authorize = authorize},
};
