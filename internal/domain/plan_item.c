/* plan_item.c — the rules of a security plan's items (ISO 28001 5.4): the
 * items a plan is made with (the countermeasures accepted in its
 * assessment's revision in force, as kept with it, copied), what people change on them (owner, due
 * time, status, evidence: every field's limits; VERIFIED only with evidence, who verified it and
 * when recorded), when the status last changed, and overdue as of each
 * read. */
#include "plan_item.h"

#include "access.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "clock.h"
#include "lifecycle.h"
#include "countermeasure.h"
#include "security_plan.h"
#include "threat_scenario.h"
#include "validate.h"

#define STATUS(x) SUPPLYSEC__V1__PLAN_ITEM_STATUS__PLAN_ITEM_STATUS_##x
#define ACCEPTED SUPPLYSEC__V1__COUNTERMEASURE_STATE__COUNTERMEASURE_STATE_ACCEPTED
#define MAX_EVIDENCE 20
#define ITEM_ID_FORMAT "item-%04zu" /* ids that sort as the countermeasures they came from */

static bool validate(const ProtobufCMessage *res, const char *p, status *st)
{
    const PlanItem *it = (const PlanItem *)res;
    char f[128];
    snprintf(f, sizeof f, "%s.owner", p);
    if (!validate_text(f, it->owner, 200, false, st))
        return false;
    snprintf(f, sizeof f, "%s.due_time", p);
    if (!validate_time(f, it->due_time, false, false, st))
        return false;
    snprintf(f, sizeof f, "%s.status", p);
    if (!validate_enum(f, &supplysec__v1__plan_item_status__descriptor, it->status, true, st))
        return false;
    if (it->n_evidence > MAX_EVIDENCE)
        return status_fail(st, STATUS_INVALID_ARGUMENT, "%s.evidence: at most %d", p, MAX_EVIDENCE);
    for (size_t i = 0; i < it->n_evidence; i++) {
        snprintf(f, sizeof f, "%s.evidence[%zu]", p, i);
        if (!validate_text(f, it->evidence[i], 1000, true, st))
            return false;
    }
    if (it->status == STATUS(VERIFIED) && it->n_evidence == 0)
        return status_fail(st, STATUS_INVALID_ARGUMENT,
                           "%s.evidence: VERIFIED needs at least one reference to what shows the "
                           "item done",
                           p);
    return true;
}

bool plan_item_overdue(const PlanItem *it, int64_t now_s)
{
    return it->due_time && it->due_time->seconds < now_s &&
           (it->status == STATUS(PLANNED) || it->status == STATUS(IN_PROGRESS));
}

/* A status change is stamped; VERIFIED records who and when, and leaving
 * it clears them. */
static bool derive(const op_ctx *op, const resource_key *key, ProtobufCMessage *res,
                   const ProtobufCMessage *prev, status *st)
{
    (void)key;
    PlanItem *it = (PlanItem *)res;
    const PlanItem *was = (const PlanItem *)prev;
    bool ok = true;
    it->overdue = plan_item_overdue(it, clock_realtime_ms() / 1000);
    if (was && was->status != it->status) {
        ok = resource_stamp_now(res, "status_time");
        if (it->status == STATUS(VERIFIED))
            ok = ok && message_set_string(res, "verifier", op->who->name) &&
                 resource_stamp_now(res, "verify_time");
        else
            ok = ok && message_set_string(res, "verifier", "") &&
                 resource_set_time(res, "verify_time", NULL);
    }
    return ok || status_fail(st, STATUS_RESOURCE_EXHAUSTED, "out of memory");
}

static bool present(const op_ctx *op, const resource_key *key, ProtobufCMessage *res, status *st)
{
    (void)op;
    (void)key;
    (void)st;
    PlanItem *it = (PlanItem *)res;
    it->overdue = plan_item_overdue(it, clock_realtime_ms() / 1000);
    return true;
}

/* ---- the items a plan is made with ---- */

typedef struct making {
    const resource_key *plan;
    const char *prefix; /* the assessment's scenarios' names start so */
    resource_batch *b;
    size_t n;
} making;

static bool make_item(ProtobufCMessage **msg, const store_record *rec, void *ctx, status *st)
{
    making *m = ctx;
    const Countermeasure *c = (const Countermeasure *)*msg;
    if (strncmp(rec->name, m->prefix, strlen(m->prefix)) != 0 || c->state != ACCEPTED)
        return true;
    if (m->n == PLAN_ITEMS_MAX)
        return status_fail(st, STATUS_FAILED_PRECONDITION,
                           "%s: its assessment has more than %d accepted countermeasures, the "
                           "items a plan holds",
                           m->plan->name, PLAN_ITEMS_MAX);
    resource_key *ik = malloc(sizeof *ik);         /* the batch's write borrows its names */
    if (!ik || !resource_batch_keep_mem(m->b, ik)) /* (ik freed either way) */
        return status_fail(st, STATUS_RESOURCE_EXHAUSTED, "out of memory");
    PlanItem *it = malloc(sizeof *it);
    if (!it)
        return status_fail(st, STATUS_RESOURCE_EXHAUSTED, "out of memory");
    supplysec__v1__plan_item__init(it);
    if (!resource_batch_keep(m->b, &it->base))
        return status_fail(st, STATUS_RESOURCE_EXHAUSTED, "out of memory");
    char id[RESOURCE_ID_MAX + 1];
    snprintf(id, sizeof id, ITEM_ID_FORMAT, ++m->n);
    if (!kind_parse_parent(&plan_item_kind, "parent", m->plan->name, ik, st))
        return false;
    if (!kind_key_set_id(ik, id))
        return status_fail(st, STATUS_INVALID_ARGUMENT, "%s: too long a name for its items",
                           m->plan->name);
    it->aeo_criterion = c->aeo_criterion;
    it->priority = c->priority;
    it->status = STATUS(PLANNED);
    if (!message_set_string(&it->base, "countermeasure", c->name) ||
        !message_set_string(&it->base, "description", c->description) ||
        !message_set_string(&it->base, "owner", c->owner) ||
        !resource_set_time(&it->base, "due_time", c->due_time) ||
        !resource_stamp_now(&it->base, "status_time"))
        return status_fail(st, STATUS_RESOURCE_EXHAUSTED, "out of memory");
    it->overdue = plan_item_overdue(it, clock_realtime_ms() / 1000);
    resource_ref ref = kind_ref(&plan_item_kind, ik, &it->base);
    return resource_batch_create(m->b, &ref, &it->base, &it->base, st);
}

bool plan_items_make(const op_ctx *op, const resource_key *plan, const char *assessment,
                     int revision, resource_batch *b, status *st)
{
    char scenarios[KIND_NAME_MAX + 32], prefix[LIFECYCLE_PART_NAME_MAX],
        display[LIFECYCLE_PART_NAME_MAX];
    snprintf(scenarios, sizeof scenarios, "%s/%s/", assessment, threat_scenario_kind.plural);
    if (!lifecycle_kept_names(assessment, revision, scenarios, prefix, display))
        return status_fail(st, STATUS_INVALID_ARGUMENT, "%s: too long a name", assessment);
    making m = {.plan = plan, .prefix = prefix, .b = b};
    store_query q = {
        .collection = countermeasure_kind.revisions_collection, .org = plan->org, .prefix = prefix};
    return resource_each(op, countermeasure_kind.desc, &q, "countermeasures", make_item, &m, st);
}

/* What ListPlanItems filters on (docs/api.md). */
static const facet_def facets[] = {
    {.name = "status",
     .type = FACET_ENUM,
     .enum_type = &supplysec__v1__plan_item_status__descriptor},
    {.name = "aeo_criterion",
     .type = FACET_ENUM,
     .enum_type = &supplysec__v1__aeo_criterion__descriptor},
    {.name = "priority", .type = FACET_INT},
    {.name = "owner", .type = FACET_STRING},
    {.name = "due_time", .type = FACET_TIMESTAMP},
    {.name = "create_time", .type = FACET_TIMESTAMP},
    {.name = "update_time", .type = FACET_TIMESTAMP},
};

static const char *const output_only[] = {"countermeasure", "description", "aeo_criterion",
                                          "priority",       "status_time", "verifier",
                                          "verify_time",    "overdue",     NULL};

const kind plan_item_kind = {
    .type = "PlanItem",
    .field = "plan_item",
    .plural = "items",
    .collection = PLAN_ITEMS_COLLECTION,
    .parent = &security_plan_kind,
    .desc = &supplysec__v1__plan_item__descriptor,
    .min_role =
        {
            [KIND_GET] = SUPPLYSEC__V1__ROLE__ROLE_VIEWER,
            [KIND_LIST] = SUPPLYSEC__V1__ROLE__ROLE_VIEWER,
            [KIND_UPDATE] = SUPPLYSEC__V1__ROLE__ROLE_EDITOR,
            /* made with the plan, deleted with it */
        },
    .output_only = output_only,
    .facets = facets,
    .n_facets = sizeof facets / sizeof facets[0],
    .hooks = {.authorize = access_validators,
              .validate = validate,
              .derive = derive,
              .present = present},
};
