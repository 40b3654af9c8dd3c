/* training_record.c — the rules of a training record (ISO 28001 5.5): what
 * it holds and every field's limits; held in the past, attended by
 * someone. */
#include "training_record.h"

#include "access.h"

#include <stdio.h>

#include "security_plan.h"
#include "validate.h"

#define MAX_ATTENDEES 500

static bool validate(const ProtobufCMessage *res, const char *p, status *st)
{
    const TrainingRecord *t = (const TrainingRecord *)res;
    char f[128];
    snprintf(f, sizeof f, "%s.kind", p);
    if (!validate_enum(f, &supplysec__v1__training_kind__descriptor, t->kind, true, st))
        return false;
    snprintf(f, sizeof f, "%s.topic", p);
    if (!validate_text(f, t->topic, 500, true, st))
        return false;
    snprintf(f, sizeof f, "%s.hold_time", p);
    if (!validate_time(f, t->hold_time, true, true, st))
        return false;
    if (t->n_attendees == 0 || t->n_attendees > MAX_ATTENDEES)
        return status_fail(st, STATUS_INVALID_ARGUMENT, "%s.attendees: from 1 to %d names", p,
                           MAX_ATTENDEES);
    for (size_t i = 0; i < t->n_attendees; i++) {
        snprintf(f, sizeof f, "%s.attendees[%zu]", p, i);
        if (!validate_text(f, t->attendees[i], 200, true, st))
            return false;
    }
    snprintf(f, sizeof f, "%s.trainer", p);
    if (!validate_text(f, t->trainer, 200, false, st))
        return false;
    snprintf(f, sizeof f, "%s.outcome", p);
    return validate_text(f, t->outcome, 5000, false, st);
}

/* What ListTrainingRecords filters on (docs/api.md). */
static const facet_def facets[] = {
    {.name = "kind", .type = FACET_ENUM, .enum_type = &supplysec__v1__training_kind__descriptor},
    {.name = "hold_time", .type = FACET_TIMESTAMP},
    {.name = "create_time", .type = FACET_TIMESTAMP},
    {.name = "update_time", .type = FACET_TIMESTAMP},
};

const kind training_record_kind = {
    .type = "TrainingRecord",
    .field = "training_record",
    .plural = "trainingRecords",
    .collection = TRAINING_RECORDS_COLLECTION,
    .parent = &security_plan_kind,
    .desc = &supplysec__v1__training_record__descriptor,
    .min_role = KIND_ROLES_DOCUMENT,
    .facets = facets,
    .n_facets = sizeof facets / sizeof facets[0],
    .hooks = {.authorize = access_validators, .validate = validate},
};
