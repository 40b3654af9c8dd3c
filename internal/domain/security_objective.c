/* security_objective.c — the rules of a security objective (ISO 28000 4.3):
 * what it holds (every field's limits; measurements not in the future, at
 * most 1,000, kept in time order), whether it is on target (the latest
 * measurement against the target, on the side the direction says), and a
 * measurement added on its own. */
#include "security_objective.h"

#include "access.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "organization.h"
#include "validate.h"

#define STATUS(x) SUPPLYSEC__V1__OBJECTIVE_STATUS__OBJECTIVE_STATUS_##x
#define DIRECTION(x) SUPPLYSEC__V1__TARGET_DIRECTION__TARGET_DIRECTION_##x
#define MAX_MEASUREMENTS 1000
#define NUMBER_MAX 1e15

typedef Supplysec__V1__ObjectiveMeasurement Measurement;

static bool number_valid(const char *field, double v, status *st)
{
    if (!isfinite(v) || fabs(v) > NUMBER_MAX)
        return status_fail(st, STATUS_INVALID_ARGUMENT, "%s: a number from -%.0e to %.0e", field,
                           NUMBER_MAX, NUMBER_MAX);
    return true;
}

/* One measurement, its fields named under p ("measurement" or
 * "security_objective.measurements[3]"). */
static bool measurement_valid(const Measurement *m, const char *p, status *st)
{
    char f[128];
    snprintf(f, sizeof f, "%s.measure_time", p);
    if (!validate_time(f, m->measure_time, true, true, st))
        return false;
    snprintf(f, sizeof f, "%s.value", p);
    if (!number_valid(f, m->value, st))
        return false;
    snprintf(f, sizeof f, "%s.note", p);
    return validate_text(f, m->note, 1000, false, st);
}

static bool validate(const ProtobufCMessage *res, const char *p, status *st)
{
    const SecurityObjective *o = (const SecurityObjective *)res;
    char f[128];
    snprintf(f, sizeof f, "%s.title", p);
    if (!validate_text(f, o->title, 500, true, st))
        return false;
    snprintf(f, sizeof f, "%s.indicator", p);
    if (!validate_text(f, o->indicator, 500, true, st))
        return false;
    snprintf(f, sizeof f, "%s.unit", p);
    if (!validate_text(f, o->unit, 50, false, st))
        return false;
    snprintf(f, sizeof f, "%s.direction", p);
    if (!validate_enum(f, &supplysec__v1__target_direction__descriptor, o->direction, true, st))
        return false;
    snprintf(f, sizeof f, "%s.target", p);
    if (!number_valid(f, o->target, st))
        return false;
    snprintf(f, sizeof f, "%s.owner", p);
    if (!validate_text(f, o->owner, 200, false, st))
        return false;
    snprintf(f, sizeof f, "%s.due_time", p);
    if (o->due_time && !validate_timestamp(f, o->due_time->seconds, o->due_time->nanos, st))
        return false;
    if (o->n_measurements > MAX_MEASUREMENTS)
        return status_fail(st, STATUS_INVALID_ARGUMENT, "%s.measurements: at most %d", p,
                           MAX_MEASUREMENTS);
    for (size_t i = 0; i < o->n_measurements; i++) {
        snprintf(f, sizeof f, "%s.measurements[%zu]", p, i);
        if (!measurement_valid(o->measurements[i], f, st))
            return false;
    }
    return true;
}

/* A measurement and its place in the list as it came, for a stable sort
 * (qsort is not one): among equal times, the one added last stays last. */
typedef struct placed {
    Measurement *m;
    size_t at;
} placed;

static int by_time(const void *x, const void *y)
{
    const placed *pa = x, *pb = y;
    const Google__Protobuf__Timestamp *a = pa->m->measure_time, *b = pb->m->measure_time;
    if (a->seconds != b->seconds)
        return a->seconds < b->seconds ? -1 : 1;
    if (a->nanos != b->nanos)
        return a->nanos < b->nanos ? -1 : 1;
    return (pa->at > pb->at) - (pa->at < pb->at);
}

static bool sort_by_time(SecurityObjective *o)
{
    placed *p = malloc(o->n_measurements * sizeof *p);
    if (!p)
        return false;
    for (size_t i = 0; i < o->n_measurements; i++)
        p[i] = (placed){o->measurements[i], i};
    qsort(p, o->n_measurements, sizeof *p, by_time);
    for (size_t i = 0; i < o->n_measurements; i++)
        o->measurements[i] = p[i].m;
    free(p);
    return true;
}

/* The measurements in time order, and where the latest leaves the target. */
static bool derive(const op_ctx *op, const resource_key *key, ProtobufCMessage *res,
                   const ProtobufCMessage *prev, status *st)
{
    (void)op;
    (void)key;
    (void)prev;
    SecurityObjective *o = (SecurityObjective *)res;
    if (o->n_measurements > 1 && !sort_by_time(o))
        return status_fail(st, STATUS_RESOURCE_EXHAUSTED, "out of memory");
    o->status = STATUS(NOT_MEASURED);
    o->latest_value = 0;
    if (!resource_set_time(res, "latest_measure_time", NULL))
        return status_fail(st, STATUS_RESOURCE_EXHAUSTED, "out of memory");
    if (!o->n_measurements)
        return true;
    const Measurement *last = o->measurements[o->n_measurements - 1];
    bool met =
        o->direction == DIRECTION(AT_MOST) ? last->value <= o->target : last->value >= o->target;
    o->status = met ? STATUS(ON_TARGET) : STATUS(OFF_TARGET);
    o->latest_value = last->value;
    return resource_set_time(res, "latest_measure_time", last->measure_time) ||
           status_fail(st, STATUS_RESOURCE_EXHAUSTED, "out of memory");
}

SecurityObjective *security_objective_add(const op_ctx *op, const char *name, Measurement *m,
                                          const char *etag, status *st)
{
    resource_key key;
    int64_t version;
    SecurityObjective *o = NULL;
    if (!m) {
        status_fail(st, STATUS_INVALID_ARGUMENT, "measurement: required");
        return NULL;
    }
    if (!kind_parse_name(&security_objective_kind, "name", name, &key, st) ||
        !kind_authorize_role(op, &key, SUPPLYSEC__V1__ROLE__ROLE_EDITOR, key.name, st) ||
        !measurement_valid(m, "measurement", st))
        goto fail;
    o = (SecurityObjective *)resource_load(op, security_objective_kind.desc,
                                           security_objective_kind.collection, key.org, key.name,
                                           key.name, &version, st);
    if (!o || !resource_check_etag(&o->base, etag, st))
        goto fail;
    if (o->n_measurements >= MAX_MEASUREMENTS) {
        status_fail(st, STATUS_FAILED_PRECONDITION,
                    "%s holds %d measurements, the most it keeps; remove old ones (Update "
                    "measurements) first",
                    key.name, MAX_MEASUREMENTS);
        goto fail;
    }
    Measurement **ms = realloc(o->measurements, (o->n_measurements + 1) * sizeof *ms);
    if (!ms) {
        status_fail(st, STATUS_RESOURCE_EXHAUSTED, "out of memory");
        goto fail;
    }
    o->measurements = ms;
    ms[o->n_measurements++] = m; /* o holds it from here */
    m = NULL;
    resource_ref ref = kind_ref(&security_objective_kind, &key, &o->base);
    if (!derive(op, &key, &o->base, NULL, st) ||
        !resource_update(op, &ref, &o->base, &o->base, version, st))
        goto fail;
    return o;
fail:
    if (m)
        protobuf_c_message_free_unpacked(&m->base, NULL);
    if (o)
        protobuf_c_message_free_unpacked(&o->base, NULL);
    return NULL;
}

/* What ListSecurityObjectives filters on (docs/api.md). */
static const facet_def facets[] = {
    {.name = "status",
     .type = FACET_ENUM,
     .enum_type = &supplysec__v1__objective_status__descriptor},
    {.name = "owner", .type = FACET_STRING},
    {.name = "due_time", .type = FACET_TIMESTAMP},
    {.name = "create_time", .type = FACET_TIMESTAMP},
    {.name = "update_time", .type = FACET_TIMESTAMP},
};

static const char *const output_only[] = {"status", "latest_value", "latest_measure_time", NULL};

const kind security_objective_kind = {
    .type = "SecurityObjective",
    .field = "security_objective",
    .plural = "securityObjectives",
    .collection = "securityObjectives",
    .parent = &organization_kind,
    .desc = &supplysec__v1__security_objective__descriptor,
    .min_role = KIND_ROLES_DOCUMENT,
    .output_only = output_only,
    .facets = facets,
    .n_facets = sizeof facets / sizeof facets[0],
    .hooks = {.authorize = access_validators, .validate = validate, .derive = derive},
};
