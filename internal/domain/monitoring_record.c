/* monitoring_record.c — the rules of a monitoring record (ISO 28001 5.6):
 * every field's limits; performed in the past; findings when it found
 * something wrong; and the activity it names is one of its plan's
 * monitoring schedule (the latest revision), checked when the record is
 * made or its activity changed: a record of an activity dropped from the
 * schedule since is kept, and can still be corrected. */
#include "monitoring_record.h"

#include "access.h"

#include <stdio.h>
#include <string.h>

#include "security_plan.h"
#include "validate.h"

#define NONCONFORMING SUPPLYSEC__V1__MONITORING_RESULT__MONITORING_RESULT_NONCONFORMING

static bool validate(const ProtobufCMessage *res, const char *p, status *st)
{
    const MonitoringRecord *r = (const MonitoringRecord *)res;
    char f[128];
    snprintf(f, sizeof f, "%s.activity", p);
    if (!validate_resource_id(f, r->activity, st))
        return false;
    snprintf(f, sizeof f, "%s.perform_time", p);
    if (!validate_time(f, r->perform_time, true, true, st))
        return false;
    snprintf(f, sizeof f, "%s.performer", p);
    if (!validate_text(f, r->performer, 200, true, st))
        return false;
    snprintf(f, sizeof f, "%s.result", p);
    if (!validate_enum(f, &supplysec__v1__monitoring_result__descriptor, r->result, true, st))
        return false;
    snprintf(f, sizeof f, "%s.findings", p);
    return validate_text(f, r->findings, 5000, r->result == NONCONFORMING, st);
}

/* The activity is in the plan's schedule. */
static bool derive(const op_ctx *op, const resource_key *key, ProtobufCMessage *res,
                   const ProtobufCMessage *prev, status *st)
{
    const MonitoringRecord *r = (const MonitoringRecord *)res;
    if (prev && strcmp(((const MonitoringRecord *)prev)->activity, r->activity) == 0)
        return true;
    SecurityPlan *plan =
        (SecurityPlan *)resource_load(op, security_plan_kind.desc, security_plan_kind.collection,
                                      key->org, key->parent, key->parent, NULL, st);
    if (!plan)
        return false;
    bool known = security_plan_activity(plan, r->activity) != NULL;
    protobuf_c_message_free_unpacked(&plan->base, NULL);
    return known || status_fail(st, STATUS_INVALID_ARGUMENT,
                                "%s.activity: \"%s\" is not an activity of %s's monitoring "
                                "schedule",
                                key->kind->field, r->activity, key->parent);
}

/* What ListMonitoringRecords filters on (docs/api.md). */
static const facet_def facets[] = {
    {.name = "activity", .type = FACET_STRING},
    {.name = "result",
     .type = FACET_ENUM,
     .enum_type = &supplysec__v1__monitoring_result__descriptor},
    {.name = "perform_time", .type = FACET_TIMESTAMP},
    {.name = "create_time", .type = FACET_TIMESTAMP},
    {.name = "update_time", .type = FACET_TIMESTAMP},
};

const kind monitoring_record_kind = {
    .type = "MonitoringRecord",
    .field = "monitoring_record",
    .plural = "monitoringRecords",
    .collection = MONITORING_RECORDS_COLLECTION,
    .parent = &security_plan_kind,
    .desc = &supplysec__v1__monitoring_record__descriptor,
    .min_role =
        {
            [KIND_GET] = SUPPLYSEC__V1__ROLE__ROLE_VIEWER,
            [KIND_LIST] = SUPPLYSEC__V1__ROLE__ROLE_VIEWER,
            [KIND_CREATE] = SUPPLYSEC__V1__ROLE__ROLE_EDITOR,
            [KIND_UPDATE] = SUPPLYSEC__V1__ROLE__ROLE_EDITOR,
            /* a record kept (ISO 28000 4.5.4): never deleted on its own */
        },
    .facets = facets,
    .n_facets = sizeof facets / sizeof facets[0],
    .hooks = {.authorize = access_validators, .validate = validate, .derive = derive},
};
