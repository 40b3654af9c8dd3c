/* management_review.c — the rules of a management review (ISO 28000 4.6),
 * a controlled document: what people enter (attendees, decisions, action
 * items; every field's limits), the inputs the server compiles when it is
 * created (evidence.h, and the previous review's open action items, which
 * are also carried into its own), and what an approved review must have
 * (held, attended, decided). */
#include "management_review.h"

#include "access.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "clock.h"
#include "evidence.h"
#include "organization.h"
#include "validate.h"

#define INPUT(x) SUPPLYSEC__V1__REVIEW_INPUT_KIND__REVIEW_INPUT_KIND_##x
#define ACTION_OPEN SUPPLYSEC__V1__ACTION_STATUS__ACTION_STATUS_OPEN
#define MAX_ATTENDEES 100
#define MAX_DECISIONS 100
#define MAX_ACTIONS 200

typedef Supplysec__V1__ReviewActionItem Action;

/* The input kind of each evidence topic. */
static const Supplysec__V1__ReviewInputKind topic_kinds[EVIDENCE_TOPICS] = {
    [EVIDENCE_OPEN_INCIDENT] = INPUT(OPEN_INCIDENT),
    [EVIDENCE_OVERDUE_PLAN_ITEM] = INPUT(OVERDUE_PLAN_ITEM),
    [EVIDENCE_OVERDUE_MONITORING] = INPUT(OVERDUE_MONITORING),
    [EVIDENCE_SCENARIO_OVER_LEVEL] = INPUT(SCENARIO_OVER_ACCEPTABLE_LEVEL),
    [EVIDENCE_EXPIRING_DECLARATION] = INPUT(EXPIRING_DECLARATION),
    [EVIDENCE_EXPIRING_CERTIFICATE] = INPUT(EXPIRING_CERTIFICATE),
    [EVIDENCE_OVERDUE_CREDIBILITY_REVIEW] = INPUT(OVERDUE_CREDIBILITY_REVIEW),
    [EVIDENCE_OBJECTIVE_OFF_TARGET] = INPUT(OBJECTIVE_OFF_TARGET),
};

static bool strings_valid(const char *p, const char *field, char *const *v, size_t n, size_t most,
                          size_t chars, status *st)
{
    char f[128];
    if (n > most)
        return status_fail(st, STATUS_INVALID_ARGUMENT, "%s.%s: at most %zu", p, field, most);
    for (size_t i = 0; i < n; i++) {
        snprintf(f, sizeof f, "%s.%s[%zu]", p, field, i);
        if (!validate_text(f, v[i], chars, true, st))
            return false;
    }
    return true;
}

static bool validate(const ProtobufCMessage *res, const char *p, status *st)
{
    const ManagementReview *r = (const ManagementReview *)res;
    char f[128];
    snprintf(f, sizeof f, "%s.title", p);
    if (!validate_text(f, r->title, 200, true, st))
        return false;
    snprintf(f, sizeof f, "%s.review_time", p);
    if (!validate_time(f, r->review_time, true, false, st) ||
        !strings_valid(p, "attendees", r->attendees, r->n_attendees, MAX_ATTENDEES, 200, st) ||
        !strings_valid(p, "decisions", r->decisions, r->n_decisions, MAX_DECISIONS, 5000, st))
        return false;
    if (r->n_action_items > MAX_ACTIONS)
        return status_fail(st, STATUS_INVALID_ARGUMENT, "%s.action_items: at most %d", p,
                           MAX_ACTIONS);
    for (size_t i = 0; i < r->n_action_items; i++) {
        const Action *a = r->action_items[i];
        snprintf(f, sizeof f, "%s.action_items[%zu].description", p, i);
        if (!validate_text(f, a->description, 2000, true, st))
            return false;
        snprintf(f, sizeof f, "%s.action_items[%zu].owner", p, i);
        if (!validate_text(f, a->owner, 200, true, st))
            return false;
        snprintf(f, sizeof f, "%s.action_items[%zu].due_time", p, i);
        if (!validate_time(f, a->due_time, false, false, st))
            return false;
        snprintf(f, sizeof f, "%s.action_items[%zu].status", p, i);
        if (!validate_enum(f, &supplysec__v1__action_status__descriptor, a->status, true, st))
            return false;
        snprintf(f, sizeof f, "%s.action_items[%zu].carried_from", p, i);
        if (!validate_text(f, a->carried_from, KIND_NAME_MAX, false, st))
            return false;
    }
    return true;
}

/* ---- the inputs, compiled at creation ---- */

static Supplysec__V1__ReviewInput *input_new(Supplysec__V1__ReviewInputKind kind,
                                             const evidence_item *it)
{
    Supplysec__V1__ReviewInput *in = malloc(sizeof *in);
    if (!in)
        return NULL;
    supplysec__v1__review_input__init(in);
    in->kind = kind;
    Google__Protobuf__Timestamp t = GOOGLE__PROTOBUF__TIMESTAMP__INIT;
    t.seconds = it->time_s;
    if (!message_set_string(&in->base, "resource", it->resource) ||
        !message_set_string(&in->base, "summary", it->summary) ||
        !resource_set_time(&in->base, "time", it->has_time ? &t : NULL)) {
        protobuf_c_message_free_unpacked(&in->base, NULL);
        return NULL;
    }
    return in;
}

/* inputs->counts and ->items from the lists, kind by kind. */
static bool inputs_fill(Supplysec__V1__ReviewInputs *inputs, const evidence *e,
                        const evidence_list *actions)
{
    size_t kinds = EVIDENCE_TOPICS + 1, items = actions->n;
    for (int t = 0; t < EVIDENCE_TOPICS; t++)
        items += e->topics[t].n;
    if (!(inputs->counts = calloc(kinds, sizeof *inputs->counts)) ||
        (items && !(inputs->items = calloc(items, sizeof *inputs->items))))
        return false;
    for (size_t k = 0; k < kinds; k++) {
        const evidence_list *l = k < EVIDENCE_TOPICS ? &e->topics[k] : actions;
        Supplysec__V1__ReviewInputKind kind =
            k < EVIDENCE_TOPICS ? topic_kinds[k] : INPUT(OPEN_ACTION_ITEM);
        Supplysec__V1__ReviewInputCount *c = malloc(sizeof *c);
        if (!c)
            return false;
        supplysec__v1__review_input_count__init(c);
        c->kind = kind;
        c->count = (int32_t)l->count;
        inputs->counts[inputs->n_counts++] = c;
        for (size_t i = 0; i < l->n; i++)
            if (!(inputs->items[inputs->n_items++] = input_new(kind, &l->items[i])))
                return false;
    }
    return true;
}

/* The previous review's open action items carried into r (after its own),
 * each carried from it. */
static bool actions_carry(ManagementReview *r, const ManagementReview *prev, const char *from)
{
    size_t open = 0;
    for (size_t i = 0; i < prev->n_action_items; i++)
        open += prev->action_items[i]->status == ACTION_OPEN;
    if (!open)
        return true;
    Action **v = realloc(r->action_items, (r->n_action_items + open) * sizeof *v);
    if (!v)
        return false;
    r->action_items = v;
    for (size_t i = 0; i < prev->n_action_items; i++) {
        const Action *a = prev->action_items[i];
        if (a->status != ACTION_OPEN)
            continue;
        Action *c = malloc(sizeof *c);
        if (!c)
            return false;
        supplysec__v1__review_action_item__init(c);
        r->action_items[r->n_action_items++] = c;
        c->status = ACTION_OPEN;
        if (!message_set_string(&c->base, "description", a->description) ||
            !message_set_string(&c->base, "owner", a->owner) ||
            !resource_set_time(&c->base, "due_time", a->due_time) ||
            !message_set_string(&c->base, "carried_from", from))
            return false;
    }
    return true;
}

/* The inputs, and the previous review's open action items carried in. */
static bool compile(const op_ctx *op, const resource_key *key, ManagementReview *r, status *st)
{
    evidence e;
    evidence_list actions = {0};
    bool ok = evidence_gather(op, key->org, clock_realtime_ms() / 1000, NULL, &e, st);
    const ManagementReview *prev = (const ManagementReview *)e.last_review; /* e's */
    const char *prev_name = e.last_review_name;
    for (size_t i = 0; ok && prev && i < prev->n_action_items; i++) {
        const Action *a = prev->action_items[i];
        if (a->status == ACTION_OPEN &&
            !evidence_add(&actions, prev_name, a->due_time ? &a->due_time->seconds : NULL,
                          "%s (owner %s)", a->description, a->owner))
            ok = status_fail(st, STATUS_RESOURCE_EXHAUSTED, "out of memory");
    }
    if (ok && r->n_action_items + actions.count > MAX_ACTIONS)
        ok =
            status_fail(st, STATUS_FAILED_PRECONDITION,
                        "%s.action_items: %zu, with the %zu open ones of %s carried in, are more "
                        "than %d: enter fewer, or close some in that review first",
                        key->kind->field, r->n_action_items, actions.count, prev_name, MAX_ACTIONS);
    if (ok) {
        evidence_list_settle(&actions);
        Supplysec__V1__ReviewInputs *in = r->inputs = malloc(sizeof *in);
        if (in)
            supplysec__v1__review_inputs__init(in);
        if (!in || !resource_stamp_now(&in->base, "compile_time") ||
            !inputs_fill(in, &e, &actions) ||
            !message_set_string(&in->base, "previous_review", prev ? prev_name : "") ||
            (prev && !actions_carry(r, prev, prev_name)))
            ok = status_fail(st, STATUS_RESOURCE_EXHAUSTED, "out of memory");
    }
    evidence_free(&e);
    evidence_list_free(&actions);
    return ok;
}

/* On create the inputs; at every write, an action item's carried_from is
 * the server's: empty, or the previous review. */
static bool derive(const op_ctx *op, const resource_key *key, ProtobufCMessage *res,
                   const ProtobufCMessage *prev, status *st)
{
    ManagementReview *r = (ManagementReview *)res;
    const char *from = r->inputs ? r->inputs->previous_review : "";
    for (size_t i = 0; prev && i < r->n_action_items; i++) {
        const char *c = r->action_items[i]->carried_from;
        if (c[0] && strcmp(c, from) != 0)
            return status_fail(st, STATUS_INVALID_ARGUMENT,
                               "%s.action_items[%zu].carried_from: set by the server (%s%s); "
                               "leave it as it is",
                               key->kind->field, i, from[0] ? "" : "empty: ",
                               from[0] ? from : "there was no previous review");
    }
    if (prev)
        return true;
    for (size_t i = 0; i < r->n_action_items; i++) /* new ones: none carried yet */
        if (!message_set_string(&r->action_items[i]->base, "carried_from", ""))
            return status_fail(st, STATUS_RESOURCE_EXHAUSTED, "out of memory");
    return compile(op, key, r, st);
}

/* What an approved review must have: held, attended, decided. */
static bool before_approve(const op_ctx *op, const resource_key *key, const ProtobufCMessage *res,
                           status *st)
{
    (void)op;
    const ManagementReview *r = (const ManagementReview *)res;
    status lst = {0};
    if (!validate_time("review_time", r->review_time, true, true, &lst))
        return status_fail(st, STATUS_FAILED_PRECONDITION,
                           "%s cannot be approved before it is held (review_time)", key->name);
    const char *missing = !r->n_attendees ? "attendees" : !r->n_decisions ? "decisions" : NULL;
    if (missing)
        return status_fail(st, STATUS_FAILED_PRECONDITION,
                           "%s cannot be approved without %s: set them in a draft", key->name,
                           missing);
    return true;
}

/* What ListManagementReviews filters on (docs/api.md). */
static const facet_def facets[] = {
    {.name = "state", .type = FACET_ENUM, .enum_type = &supplysec__v1__document_state__descriptor},
    {.name = "title", .type = FACET_STRING},
    {.name = "review_time", .type = FACET_TIMESTAMP},
    {.name = "create_time", .type = FACET_TIMESTAMP},
    {.name = "update_time", .type = FACET_TIMESTAMP},
};

static const char *const output_only[] = {"inputs", NULL};

const kind management_review_kind = {
    .type = "ManagementReview",
    .field = "management_review",
    .plural = "managementReviews",
    .collection = "managementReviews",
    .parent = &organization_kind,
    .desc = &supplysec__v1__management_review__descriptor,
    .min_role = KIND_ROLES_DOCUMENT,
    .output_only = output_only,
    .facets = facets,
    .n_facets = sizeof facets / sizeof facets[0],
    .lifecycle = KIND_CONTROLLED,
    .revisions_collection = "managementReviewRevisions",
    .hooks = {.authorize = access_validators,
              .validate = validate,
              .derive = derive,
              .before_approve = before_approve},
};
