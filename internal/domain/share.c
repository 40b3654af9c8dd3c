/* share.c — the rules of a share: what may be shared (an approved
 * revision of one of the owner's assessments, plans or statements of
 * application, as kept; or one of its readiness reports), with whom
 * (another organization on the platform), for how long (at most a year
 * ahead), its state as of each read, revocation for good, and the list of
 * what others share with an organization. */
#include "share.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "access.h"
#include "clock.h"
#include "lifecycle.h"
#include "organization.h"
#include "readiness.h"
#include "security_assessment.h"
#include "security_plan.h"
#include "statement_of_application.h"
#include "standard.h"
#include "validate.h"

#define STATE(x) SUPPLYSEC__V1__SHARE_STATE__SHARE_STATE_##x
#define ORG_PREFIX "organizations/"
#define DAY_S 86400

/* The documents a share may name a revision of. */
static const kind *const shareable[] = {&security_assessment_kind, &security_plan_kind,
                                        &statement_of_application_kind};

static int64_t now_s(void)
{
    return clock_realtime_ms() / 1000;
}

Supplysec__V1__ShareState share_state(const Share *s, int64_t now)
{
    if (s->revoke_time)
        return STATE(REVOKED);
    if (!s->expire_time || now >= s->expire_time->seconds)
        return STATE(EXPIRED);
    return STATE(ACTIVE);
}

/* The kind of document `resource` is a revision of, parsed into *key; NULL
 * for a readiness report (*key its organization). false with st for
 * anything else. */
static bool resource_parse(const char *field, const char *resource, const kind **doc,
                           resource_key *key, status *st)
{
    char known[256];
    const readiness_framework *fw;
    *doc = NULL;
    for (size_t i = 0; i < sizeof shareable / sizeof shareable[0]; i++) {
        char seg[64];
        snprintf(seg, sizeof seg, "/%s/", shareable[i]->plural);
        if (!strstr(resource, seg))
            continue;
        if (!kind_parse_revision_name(shareable[i], field, resource, key, st))
            return false;
        if (!key->revision[0] || key->kind != shareable[i])
            return status_fail(st, STATUS_INVALID_ARGUMENT,
                               "%s: one approved revision is shared: %s@{revision_id}", field,
                               key->name);
        *doc = shareable[i];
        return true;
    }
    if (strstr(resource, "/readinessReports/")) {
        if (!readiness_parse_name(field, resource, key, &fw, st))
            return false;
        if (fw)
            return true;
        readiness_frameworks_known(known, sizeof known);
        return status_fail(st, STATUS_INVALID_ARGUMENT, "%s: the frameworks are %s", field, known);
    }
    return status_fail(st, STATUS_INVALID_ARGUMENT,
                       "%s: an approved revision of a security assessment, security plan or "
                       "statement of application (organizations/{organization}/"
                       "securityAssessments/{id}@{revision_id}), or a readiness report "
                       "(organizations/{organization}/readinessReports/{framework})",
                       field);
}

static bool validate(const ProtobufCMessage *res, const char *p, status *st)
{
    const Share *s = (const Share *)res;
    char f[128];
    resource_key k;
    const kind *doc;
    snprintf(f, sizeof f, "%s.resource", p);
    if (!s->resource[0])
        return status_fail(st, STATUS_INVALID_ARGUMENT, "%s: required", f);
    if (!resource_parse(f, s->resource, &doc, &k, st))
        return false;
    snprintf(f, sizeof f, "%s.grantee", p);
    if (!s->grantee[0])
        return status_fail(st, STATUS_INVALID_ARGUMENT,
                           "%s: required: organizations/{organization}", f);
    if (!kind_parse_name(&organization_kind, f, s->grantee, &k, st))
        return false;
    snprintf(f, sizeof f, "%s.expire_time", p);
    if (!validate_time(f, s->expire_time, true, false, st))
        return false;
    snprintf(f, sizeof f, "%s.purpose", p);
    return validate_text(f, s->purpose, 500, true, st);
}

/* What is shared is the owner's own and there (a kept revision: it was
 * approved); the grantee another organization on the platform; the expiry
 * ahead, within a year. */
static bool derive(const op_ctx *op, const resource_key *key, ProtobufCMessage *res,
                   const ProtobufCMessage *prev, status *st)
{
    Share *s = (Share *)res;
    resource_key rk, gk;
    const kind *doc;
    status ignored = {0};
    (void)prev; /* no Update: shares are revoked and made anew */
    int64_t now = now_s();
    if (s->expire_time->seconds <= now ||
        s->expire_time->seconds - now > (int64_t)SHARE_MAX_DAYS * DAY_S)
        return status_fail(st, STATUS_INVALID_ARGUMENT,
                           "share.expire_time: in the future, at most %d days ahead",
                           SHARE_MAX_DAYS);
    resource_parse("share.resource", s->resource, &doc, &rk, &ignored);
    if (strcmp(rk.org, key->org) != 0)
        return status_fail(st, STATUS_INVALID_ARGUMENT, "share.resource: must be one of %s's own",
                           key->parent);
    if (doc) { /* named as every read names it: no leading zeros */
        char canonical[KIND_NAME_MAX + 32];
        status missing = {0};
        ProtobufCMessage *kept = lifecycle_load_revision(op, doc, &rk, &missing);
        if (!kept)
            return missing.code == STATUS_NOT_FOUND
                       ? status_fail(st, STATUS_FAILED_PRECONDITION,
                                     "share.resource: %s@%s is not an approved revision (a draft "
                                     "or one under review is never shared)",
                                     rk.name, rk.revision)
                       : status_fail(st, missing.code, "%s", missing.msg);
        protobuf_c_message_free_unpacked(kept, NULL);
        snprintf(canonical, sizeof canonical, "%s@%s", rk.name, rk.revision);
        if (!message_set_string(res, "resource", canonical))
            return status_fail(st, STATUS_RESOURCE_EXHAUSTED, "out of memory");
    }
    kind_parse_name(&organization_kind, "grantee", s->grantee, &gk, &ignored);
    ProtobufCMessage *g =
        strcmp(gk.org, key->org) != 0
            ? resource_load(op, organization_kind.desc, organization_kind.collection, gk.org,
                            gk.name, gk.name, NULL, &ignored)
            : NULL;
    if (g)
        protobuf_c_message_free_unpacked(g, NULL);
    else if (ignored.code == STATUS_UNAVAILABLE)
        return status_fail(st, STATUS_UNAVAILABLE, "%s", ignored.msg);
    else
        return status_fail(st, STATUS_INVALID_ARGUMENT,
                           "share.grantee: %s is not another organization on the platform",
                           s->grantee);
    s->state = STATE(ACTIVE);
    return true;
}

static bool present(const op_ctx *op, const resource_key *key, ProtobufCMessage *res, status *st)
{
    (void)op;
    (void)key;
    (void)st;
    Share *s = (Share *)res;
    s->state = share_state(s, now_s());
    return true;
}

/* A resource_page_keep test: the share is active at *(int64_t *)now. */
static bool active(const ProtobufCMessage *item, void *now)
{
    return share_state((const Share *)item, *(int64_t *)now) == STATE(ACTIVE);
}

bool share_in_force(const op_ctx *op, const char *org, const char *resource, const char *grantee,
                    Share **out, status *st)
{
    char where[3 * KIND_NAME_MAX];
    resource_page page;
    *out = NULL;
    snprintf(where, sizeof where, "resource = \"%s\" AND grantee = \"" ORG_PREFIX "%s\"", resource,
             grantee);
    /* an owner's shares of one revision with one grantee: a handful */
    if (!kind_list_where(op, &share_kind, org, where, "in-force", PAGE_SIZE_MAX, "", &page, st))
        return false;
    int64_t now = now_s();
    resource_page_keep(&page, active, &now);
    if (page.count) {
        *out = (Share *)page.items[0];
        page.items[0] = NULL;
    }
    resource_page_free(&page);
    return true;
}

Share *share_revoke(const op_ctx *op, const char *name, const char *etag, status *st)
{
    return (Share *)std_revoke(op, &share_kind, name, etag, STATE(REVOKED), st);
}

bool share_list_with_me(const op_ctx *op, const char *parent, int page_size, const char *page_token,
                        resource_page *page, status *st)
{
    resource_key pk;
    int size;
    char where[KIND_NAME_MAX + 64], query_key[KIND_QUERY_KEY_MAX];
    memset(page, 0, sizeof *page);
    if (!kind_parse_name(&organization_kind, "parent", parent, &pk, st) ||
        !validate_page_size("page_size", page_size, &size, st) ||
        !kind_authorize_member(op, &pk, SUPPLYSEC__V1__ROLE__ROLE_VIEWER, pk.name, st))
        return false;
    snprintf(where, sizeof where, "grantee = \"%s\"", pk.name);
    kind_query_key(op, pk.name, "", query_key, sizeof query_key);
    if (!kind_list_where(op, &share_kind, NULL, where, query_key, size,
                         page_token ? page_token : "", page, st))
        return false;
    /* in force now only: a page may come out shorter, its token goes on */
    int64_t now = now_s();
    resource_page_keep(page, active, &now);
    for (size_t i = 0; i < page->count; i++)
        ((Share *)page->items[i])->state = STATE(ACTIVE);
    return true;
}

static const facet_def facets[] = {
    {.name = "resource", .type = FACET_STRING},
    {.name = "grantee", .type = FACET_STRING},
    {.name = "expire_time", .type = FACET_TIMESTAMP},
    {.name = "revoke_time", .type = FACET_TIMESTAMP},
    {.name = "create_time", .type = FACET_TIMESTAMP},
    {.name = "update_time", .type = FACET_TIMESTAMP},
};

static const char *const output_only[] = {"state", "revoke_time", "revoker", NULL};
static const char *const immutable[] = {"resource", "grantee", "include_sensitive", NULL};

const kind share_kind = {
    .type = "Share",
    .field = "share",
    .plural = "shares",
    .collection = "shares",
    .parent = &organization_kind,
    .desc = &supplysec__v1__share__descriptor,
    .min_role =
        {
            [KIND_GET] = SUPPLYSEC__V1__ROLE__ROLE_VIEWER,
            [KIND_LIST] = SUPPLYSEC__V1__ROLE__ROLE_VIEWER,
            [KIND_CREATE] = SUPPLYSEC__V1__ROLE__ROLE_ADMIN,
            [KIND_DELETE] = SUPPLYSEC__V1__ROLE__ROLE_ADMIN,
        },
    .output_only = output_only,
    .immutable = immutable,
    .facets = facets,
    .n_facets = sizeof facets / sizeof facets[0],
    .hooks = {.validate = validate,
              .derive = derive,
              .present = present,
              .authorize = access_validators},
};
