/* security_plan.c — the rules of a security plan (ISO 28001 5.4-5.6), a
 * controlled document: what a draft may hold (the annex guidance
 * considered, the training programme, the monitoring schedule, the
 * incident procedure; every field's limits); that it is made from the
 * revision in force of an assessment of its organization (whose number it
 * records, and whose accepted countermeasures, as kept with that revision,
 * become its items in the same write); what an approved revision must have; when it came into
 * force; that its items and records go with it when it is deleted; and
 * each monitoring activity's latest record and whether it is overdue, as
 * of each read. */
#include "security_plan.h"

#include "access.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "clock.h"
#include "lifecycle.h"
#include "monitoring_record.h"
#include "organization.h"
#include "plan_item.h"
#include "security_assessment.h"
#include "training_record.h"
#include "validate.h"

#define MAX_GUIDANCE 200
#define MAX_ACTIVITIES 100
#define INTERVAL_DAYS_MAX 3660
#define DAY_S 86400

typedef Supplysec__V1__MonitoringActivity Activity;

static bool guidance_valid(const SecurityPlan *pl, const char *p, status *st)
{
    char f[128];
    if (pl->n_considered_guidance > MAX_GUIDANCE)
        return status_fail(st, STATUS_INVALID_ARGUMENT, "%s.considered_guidance: at most %d", p,
                           MAX_GUIDANCE);
    for (size_t i = 0; i < pl->n_considered_guidance; i++) {
        const Supplysec__V1__GuidanceItem *g = pl->considered_guidance[i];
        snprintf(f, sizeof f, "%s.considered_guidance[%zu].annex", p, i);
        if (!validate_enum(f, &supplysec__v1__guidance_annex__descriptor, g->annex, true, st))
            return false;
        snprintf(f, sizeof f, "%s.considered_guidance[%zu].reference", p, i);
        if (!validate_text(f, g->reference, 100, true, st))
            return false;
        for (size_t j = 0; j < i; j++)
            if (pl->considered_guidance[j]->annex == g->annex &&
                strcmp(pl->considered_guidance[j]->reference, g->reference) == 0)
                return status_fail(st, STATUS_INVALID_ARGUMENT, "%s: listed twice", f);
        snprintf(f, sizeof f, "%s.considered_guidance[%zu].note", p, i);
        if (!validate_text(f, g->note, 2000, false, st))
            return false;
    }
    return true;
}

static bool schedule_valid(const SecurityPlan *pl, const char *p, status *st)
{
    char f[128];
    if (pl->n_monitoring_schedule > MAX_ACTIVITIES)
        return status_fail(st, STATUS_INVALID_ARGUMENT, "%s.monitoring_schedule: at most %d", p,
                           MAX_ACTIVITIES);
    for (size_t i = 0; i < pl->n_monitoring_schedule; i++) {
        const Activity *a = pl->monitoring_schedule[i];
        snprintf(f, sizeof f, "%s.monitoring_schedule[%zu].id", p, i);
        if (!validate_resource_id(f, a->id, st))
            return false;
        for (size_t j = 0; j < i; j++)
            if (strcmp(pl->monitoring_schedule[j]->id, a->id) == 0)
                return status_fail(st, STATUS_INVALID_ARGUMENT, "%s: \"%s\" is used twice", f,
                                   a->id);
        snprintf(f, sizeof f, "%s.monitoring_schedule[%zu].description", p, i);
        if (!validate_text(f, a->description, 1000, true, st))
            return false;
        if (a->interval_days < 1 || a->interval_days > INTERVAL_DAYS_MAX)
            return status_fail(st, STATUS_INVALID_ARGUMENT,
                               "%s.monitoring_schedule[%zu].interval_days: from 1 to %d", p, i,
                               INTERVAL_DAYS_MAX);
        snprintf(f, sizeof f, "%s.monitoring_schedule[%zu].owner", p, i);
        if (!validate_text(f, a->owner, 200, false, st))
            return false;
    }
    return true;
}

static bool validate(const ProtobufCMessage *res, const char *p, status *st)
{
    const SecurityPlan *pl = (const SecurityPlan *)res;
    char f[128];
    snprintf(f, sizeof f, "%s.title", p);
    if (!validate_text(f, pl->title, 200, true, st))
        return false;
    snprintf(f, sizeof f, "%s.security_assessment", p);
    if (!validate_text(f, pl->security_assessment, KIND_NAME_MAX, false, st))
        return false;
    snprintf(f, sizeof f, "%s.training_programme", p);
    if (!validate_text(f, pl->training_programme, 10000, false, st))
        return false;
    snprintf(f, sizeof f, "%s.guarding_arrangements", p);
    if (!validate_text(f, pl->guarding_arrangements, 10000, false, st))
        return false;
    snprintf(f, sizeof f, "%s.incident_procedure", p);
    if (!validate_text(f, pl->incident_procedure, 20000, false, st))
        return false;
    return guidance_valid(pl, p, st) && schedule_valid(pl, p, st);
}

static Activity *activity_named(const SecurityPlan *plan, const char *id)
{
    for (size_t i = 0; i < plan->n_monitoring_schedule; i++)
        if (strcmp(plan->monitoring_schedule[i]->id, id) == 0)
            return plan->monitoring_schedule[i];
    return NULL;
}

const Activity *security_plan_activity(const SecurityPlan *plan, const char *id)
{
    return activity_named(plan, id);
}

/* The activities' read-time fields, which present sets. */
static bool activities_clear(SecurityPlan *pl)
{
    for (size_t i = 0; i < pl->n_monitoring_schedule; i++) {
        pl->monitoring_schedule[i]->overdue = false;
        if (!resource_set_time(&pl->monitoring_schedule[i]->base, "last_perform_time", NULL))
            return false;
    }
    return true;
}

/* On create: the assessment is one of the organization's, with a revision
 * in force, which the plan records (its number in *revision). */
static bool assessment_in_force(const op_ctx *op, const resource_key *key, SecurityPlan *pl,
                                int *revision, status *st)
{
    char f[96], rev[LIFECYCLE_REVISION_MAX];
    resource_key ak;
    status lst = {0};
    snprintf(f, sizeof f, "%s.security_assessment", key->kind->field);
    if (!pl->security_assessment[0])
        return status_fail(st, STATUS_INVALID_ARGUMENT,
                           "%s: required: the approved assessment the plan implements, "
                           "organizations/%s/securityAssessments/{id}",
                           f, key->org);
    if (!kind_parse_name(&security_assessment_kind, f, pl->security_assessment, &ak, st))
        return false;
    if (strcmp(ak.org, key->org) != 0)
        return status_fail(st, STATUS_INVALID_ARGUMENT,
                           "%s: must name one of this organization's own assessments, "
                           "organizations/%s/securityAssessments/{id}",
                           f, key->org);
    if (!lifecycle_revision_in_force(op, &security_assessment_kind, key->org,
                                     pl->security_assessment, rev, &lst))
        return lst.code == STATUS_NOT_FOUND
                   ? status_fail(st, STATUS_INVALID_ARGUMENT, "%s: %s", f, lst.msg)
                   : (*st = lst, false);
    if (!rev[0])
        return status_fail(st, STATUS_FAILED_PRECONDITION,
                           "%s: %s has no approved revision: a plan implements an approved "
                           "assessment",
                           f, pl->security_assessment);
    *revision = (int)strtol(rev, NULL, 10);
    return message_set_string(&pl->base, "assessment_revision_id", rev) ||
           status_fail(st, STATUS_RESOURCE_EXHAUSTED, "out of memory");
}

static bool derive(const op_ctx *op, const resource_key *key, ProtobufCMessage *res,
                   const ProtobufCMessage *prev, status *st)
{
    (void)op;
    (void)key;
    (void)prev;
    return activities_clear((SecurityPlan *)res) ||
           status_fail(st, STATUS_RESOURCE_EXHAUSTED, "out of memory");
}

/* The assessment it implements, and its items, in the same write. */
static bool with_create(const op_ctx *op, const resource_key *key, ProtobufCMessage *res,
                        resource_batch *b, status *st)
{
    SecurityPlan *pl = (SecurityPlan *)res;
    int revision;
    return assessment_in_force(op, key, pl, &revision, st) &&
           plan_items_make(op, key, pl->security_assessment, revision, b, st);
}

/* What an approved plan must have (ISO 28001 5.4-5.6, ISO 28000 4.4.7). */
static bool before_approve(const op_ctx *op, const resource_key *key, const ProtobufCMessage *res,
                           status *st)
{
    (void)op;
    const SecurityPlan *pl = (const SecurityPlan *)res;
    const char *missing = !pl->n_considered_guidance
                              ? "considered_guidance (the ISO 28001 annex A and B items considered)"
                          : !pl->training_programme[0] ? "training_programme"
                          : !pl->n_monitoring_schedule
                              ? "monitoring_schedule (at least one activity)"
                          : !pl->incident_procedure[0] ? "incident_procedure"
                                                       : NULL;
    if (missing)
        return status_fail(st, STATUS_FAILED_PRECONDITION,
                           "%s cannot be approved without %s: set it in a draft", key->name,
                           missing);
    return true;
}

/* The first approval puts the plan in force. */
static bool with_approval(const op_ctx *op, const resource_key *key, ProtobufCMessage *doc,
                          resource_batch *b, status *st)
{
    (void)op;
    (void)key;
    (void)b;
    SecurityPlan *pl = (SecurityPlan *)doc;
    return pl->in_force_time || resource_stamp_now(doc, "in_force_time") ||
           status_fail(st, STATUS_RESOURCE_EXHAUSTED, "out of memory");
}

/* Its items and records go with it. */
static bool before_delete(const op_ctx *op, const resource_key *key, const ProtobufCMessage *cur,
                          int64_t version, resource_batch *b, status *st)
{
    (void)op;
    (void)cur;
    (void)version;
    (void)st;
    resource_batch_delete_all(b, PLAN_ITEMS_COLLECTION, key->org, key->name, "plan items");
    resource_batch_delete_all(b, TRAINING_RECORDS_COLLECTION, key->org, key->name,
                              "training records");
    resource_batch_delete_all(b, MONITORING_RECORDS_COLLECTION, key->org, key->name,
                              "monitoring records");
    return true;
}

/* resource_each's call: the latest record of each activity. */
static bool latest_record(ProtobufCMessage **msg, const store_record *rec, void *ctx, status *st)
{
    (void)rec;
    SecurityPlan *pl = ctx;
    const MonitoringRecord *r = (const MonitoringRecord *)*msg;
    Activity *a = activity_named(pl, r->activity);
    if (!a || !r->perform_time ||
        (a->last_perform_time && a->last_perform_time->seconds >= r->perform_time->seconds))
        return true;
    return resource_set_time(&a->base, "last_perform_time", r->perform_time) ||
           status_fail(st, STATUS_RESOURCE_EXHAUSTED, "out of memory");
}

/* Each activity's latest record, and overdue once the plan is in force. */
static bool present(const op_ctx *op, const resource_key *key, ProtobufCMessage *res, status *st)
{
    SecurityPlan *pl = (SecurityPlan *)res;
    if (!activities_clear(pl))
        return status_fail(st, STATUS_RESOURCE_EXHAUSTED, "out of memory");
    if (!pl->n_monitoring_schedule)
        return true;
    store_query q = {
        .collection = MONITORING_RECORDS_COLLECTION, .org = key->org, .parent = key->name};
    if (!resource_each(op, monitoring_record_kind.desc, &q, "monitoring records", latest_record, pl,
                       st))
        return false;
    int64_t now = clock_realtime_ms() / 1000;
    for (size_t i = 0; pl->in_force_time && i < pl->n_monitoring_schedule; i++) {
        Activity *a = pl->monitoring_schedule[i];
        int64_t since = pl->in_force_time->seconds;
        if (a->last_perform_time && a->last_perform_time->seconds > since)
            since = a->last_perform_time->seconds;
        a->overdue = now - since > (int64_t)a->interval_days * DAY_S;
    }
    return true;
}

/* What ListSecurityPlans filters on (docs/api.md). */
static const facet_def facets[] = {
    {.name = "state", .type = FACET_ENUM, .enum_type = &supplysec__v1__document_state__descriptor},
    {.name = "title", .type = FACET_STRING},
    {.name = "security_assessment", .type = FACET_STRING},
    {.name = "create_time", .type = FACET_TIMESTAMP},
    {.name = "update_time", .type = FACET_TIMESTAMP},
};

/* (and the monitoring activities' last_perform_time and overdue: derive
 * clears them, present sets them) */
static const char *const output_only[] = {"assessment_revision_id", "in_force_time", NULL};
static const char *const immutable[] = {"security_assessment", NULL};

const kind security_plan_kind = {
    .type = "SecurityPlan",
    .field = "security_plan",
    .plural = "securityPlans",
    .collection = "securityPlans",
    .parent = &organization_kind,
    .desc = &supplysec__v1__security_plan__descriptor,
    .min_role = KIND_ROLES_DOCUMENT,
    .output_only = output_only,
    .immutable = immutable,
    .facets = facets,
    .n_facets = sizeof facets / sizeof facets[0],
    .lifecycle = KIND_CONTROLLED,
    .revisions_collection = "securityPlanRevisions",
    .hooks = {.authorize = access_shared_or_validators,
              .validate = validate,
              .derive = derive,
              .present = present,
              .with_create = with_create,
              .before_approve = before_approve,
              .with_approval = with_approval,
              .before_delete = before_delete},
};
