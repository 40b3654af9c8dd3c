/* countermeasure.c — the rules of a countermeasure (ISO 28001 5.3.2): what
 * it holds (every field's limits; the levels it brings its scenario to, on
 * the assessment's scales and no higher than the scenario's own), its
 * decision (an ADMIN accepts or declines it), and the scenario scored again
 * in the same write whenever an accepted one comes, changes or goes. Only a
 * PROPOSED countermeasure is edited. */
#include "countermeasure.h"

#include "access.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "clock.h"
#include "doc.h"
#include "security_assessment.h"
#include "standard.h"
#include "validate.h"

#define STATE(x) SUPPLYSEC__V1__COUNTERMEASURE_STATE__COUNTERMEASURE_STATE_##x
#define PRIORITY_MIN 1
#define PRIORITY_MAX 5

static bool validate(const ProtobufCMessage *res, const char *p, status *st)
{
    const Countermeasure *c = (const Countermeasure *)res;
    char f[128];
    snprintf(f, sizeof f, "%s.description", p);
    if (!validate_text(f, c->description, 5000, true, st))
        return false;
    snprintf(f, sizeof f, "%s.aeo_criterion", p);
    if (!validate_enum(f, &supplysec__v1__aeo_criterion__descriptor, c->aeo_criterion, true, st))
        return false;
    if (c->priority < PRIORITY_MIN || c->priority > PRIORITY_MAX)
        return status_fail(st, STATUS_INVALID_ARGUMENT, "%s.priority: %d to %d (%d first), got %d",
                           p, PRIORITY_MIN, PRIORITY_MAX, PRIORITY_MIN, c->priority);
    snprintf(f, sizeof f, "%s.owner", p);
    if (!validate_text(f, c->owner, 200, false, st))
        return false;
    snprintf(f, sizeof f, "%s.due_time", p);
    return !c->due_time || validate_timestamp(f, c->due_time->seconds, c->due_time->nanos, st);
}

/* The scenario `name` and its assessment's scheme (*a holds it). */
static ThreatScenario *scenario_load(const op_ctx *op, const resource_key *key, const char *name,
                                     int64_t *version, SecurityAssessment **a, status *st)
{
    char an[KIND_NAME_MAX];
    *a = NULL;
    if (!kind_ancestor_name(key, &security_assessment_kind, an, sizeof an)) {
        status_fail(st, STATUS_INTERNAL, "%s: no assessment above it", key->name);
        return NULL;
    }
    ThreatScenario *s = (ThreatScenario *)resource_load(op, threat_scenario_kind.desc,
                                                        threat_scenario_kind.collection, key->org,
                                                        name, name, version, st);
    if (!s)
        return NULL;
    *a = (SecurityAssessment *)resource_load(op, security_assessment_kind.desc,
                                             security_assessment_kind.collection, key->org, an, an,
                                             NULL, st);
    if (*a && (!(*a)->scheme || !(*a)->scheme->consequence || !(*a)->scheme->likelihood)) {
        status_fail(st, STATUS_DATA_LOSS, "%s has no scoring scheme", an);
        protobuf_c_message_free_unpacked(&(*a)->base, NULL);
        *a = NULL;
    }
    if (!*a) {
        protobuf_c_message_free_unpacked(&s->base, NULL);
        return NULL;
    }
    return s;
}

/* The residual levels: on the scheme's scales, none above the scenario's. */
static bool derive(const op_ctx *op, const resource_key *key, ProtobufCMessage *res,
                   const ProtobufCMessage *prev, status *st)
{
    Countermeasure *c = (Countermeasure *)res;
    SecurityAssessment *a;
    ThreatScenario *s = scenario_load(op, key, key->parent, NULL, &a, st);
    if (!s)
        return false;
    const ScoringScheme *sch = a->scheme;
    const char *p = key->kind->field;
    bool ok = true;
    struct {
        const char *field;
        int level, most;
        const Supplysec__V1__Scale *scale;
    } levels[] = {
        {"residual_consequence_level", c->residual_consequence_level, s->consequence_level,
         sch->consequence},
        {"residual_likelihood_level", c->residual_likelihood_level, s->likelihood_level,
         sch->likelihood},
    };
    for (size_t i = 0; ok && i < 2; i++)
        if (levels[i].level < 1 || levels[i].level > levels[i].most)
            ok = status_fail(st, STATUS_INVALID_ARGUMENT,
                             "%s.%s: %d; a level of the scale \"%s\" from 1 (%s) to the "
                             "scenario's own, %d (%s)",
                             p, levels[i].field, levels[i].level, levels[i].scale->name,
                             levels[i].scale->levels[0]->label, levels[i].most,
                             levels[i].scale->levels[levels[i].most - 1]->label);
    if (ok)
        scoring_score(sch, c->residual_consequence_level, c->residual_likelihood_level,
                      &c->residual_score);
    if (!prev)
        c->state = STATE(PROPOSED);
    protobuf_c_message_free_unpacked(&s->base, NULL);
    protobuf_c_message_free_unpacked(&a->base, NULL);
    return ok;
}

/* Only a PROPOSED countermeasure changes: an accepted one's levels count in
 * its scenario's score. */
static bool check_update(const op_ctx *op, const resource_key *key, const ProtobufCMessage *prev,
                         const ProtobufCMessage *next, status *st)
{
    (void)op;
    (void)next;
    Supplysec__V1__CountermeasureState state = ((const Countermeasure *)prev)->state;
    if (state != STATE(PROPOSED))
        return status_fail(st, STATUS_FAILED_PRECONDITION,
                           "%s is %s; only a PROPOSED countermeasure changes (decline it, or "
                           "propose another)",
                           key->name, state == STATE(ACCEPTED) ? "ACCEPTED" : "DECLINED");
    return true;
}

/* The residual one accepted countermeasure offers, for scenario_residual. */
typedef struct residual_pick {
    const ScoringScheme *sch;
    const char *changed_name;
    const Countermeasure *changed;
    bool changed_seen;
    int c, l;
    double score;
} residual_pick;

static void pick(residual_pick *r, const Countermeasure *c)
{
    double v;
    if (!c || c->state != STATE(ACCEPTED) ||
        !scoring_score(r->sch, c->residual_consequence_level, c->residual_likelihood_level, &v) ||
        v >= r->score)
        return;
    r->score = v;
    r->c = c->residual_consequence_level;
    r->l = c->residual_likelihood_level;
}

/* resource_each's call: a stored countermeasure, or the one changing in
 * its place. */
static bool pick_stored(ProtobufCMessage **msg, const store_record *rec, void *ctx, status *st)
{
    (void)st;
    residual_pick *r = ctx;
    if (r->changed_name && strcmp(rec->name, r->changed_name) == 0) {
        r->changed_seen = true;
        pick(r, r->changed);
    } else {
        pick(r, (const Countermeasure *)*msg);
    }
    return true;
}

bool scenario_residual(const op_ctx *op, const char *org, const char *scenario,
                       const ScoringScheme *sch, ThreatScenario *s, const char *changed_name,
                       const Countermeasure *changed, status *st)
{
    residual_pick r = {.sch = sch,
                       .changed_name = changed_name,
                       .changed = changed,
                       .c = s->consequence_level,
                       .l = s->likelihood_level,
                       .score = s->incident_score};
    store_query q = {.collection = COUNTERMEASURES_COLLECTION, .org = org, .parent = scenario};
    bool ok =
        resource_each(op, countermeasure_kind.desc, &q, "countermeasures", pick_stored, &r, st);
    if (changed_name && !r.changed_seen) /* being created */
        pick(&r, changed);
    s->residual_consequence_level = r.c;
    s->residual_likelihood_level = r.l;
    s->residual_score = r.score;
    return ok;
}

/* Adds to b the scenario of the countermeasure `key` scored again, with it
 * taken as c (NULL: deleted). */
static bool rescore(const op_ctx *op, const resource_key *key, const Countermeasure *c,
                    resource_batch *b, status *st)
{
    SecurityAssessment *a;
    int64_t version;
    ThreatScenario *s = scenario_load(op, key, key->parent, &version, &a, st);
    if (!s)
        return false;
    bool ok = true;
    if (c && c->state == STATE(ACCEPTED) &&
        (c->residual_consequence_level > s->consequence_level ||
         c->residual_likelihood_level > s->likelihood_level))
        ok = status_fail(st, STATUS_FAILED_PRECONDITION,
                         "%s brings %s to levels %d and %d, above its own (%d and %d) since it "
                         "was proposed; update its levels first",
                         key->name, key->parent, c->residual_consequence_level,
                         c->residual_likelihood_level, s->consequence_level, s->likelihood_level);
    ok = ok && scenario_residual(op, key->org, key->parent, a->scheme, s, key->name, c, st);
    protobuf_c_message_free_unpacked(&a->base, NULL);
    resource_key *sk = malloc(sizeof *sk);
    if (!sk) {
        protobuf_c_message_free_unpacked(&s->base, NULL);
        return status_fail(st, STATUS_RESOURCE_EXHAUSTED, "out of memory");
    }
    if (!resource_batch_keep(b, &s->base)) { /* s is the batch's from here */
        free(sk);
        return status_fail(st, STATUS_RESOURCE_EXHAUSTED, "out of memory");
    }
    if (!resource_batch_keep_mem(b, sk))
        return status_fail(st, STATUS_RESOURCE_EXHAUSTED, "out of memory");
    resource_ref ref;
    ok = ok && kind_parse_name(&threat_scenario_kind, "name", key->parent, sk, st);
    if (ok) {
        ref = kind_ref(&threat_scenario_kind, sk, &s->base);
        ok = resource_batch_update(b, &ref, &s->base, &s->base, version, st);
    }
    return ok;
}

/* Deleting an accepted countermeasure scores its scenario again. */
static bool before_delete(const op_ctx *op, const resource_key *key, const ProtobufCMessage *cur,
                          int64_t version, resource_batch *b, status *st)
{
    (void)version;
    return ((const Countermeasure *)cur)->state != STATE(ACCEPTED) || rescore(op, key, NULL, b, st);
}

Countermeasure *countermeasure_decide(const op_ctx *op, const char *name, const char *etag,
                                      bool accept, const char *reason, status *st)
{
    resource_key key;
    int64_t version;
    resource_batch b;
    resource_batch_init(&b, op);
    Countermeasure *c = NULL;
    if (!kind_parse_name(&countermeasure_kind, "name", name, &key, st) ||
        !kind_authorize_role(op, &key, SUPPLYSEC__V1__ROLE__ROLE_ADMIN, key.name, st))
        goto fail;
    if (!accept && !validate_text("reason", reason, 2000, true, st))
        goto fail;
    c = (Countermeasure *)resource_load(op, countermeasure_kind.desc,
                                        countermeasure_kind.collection, key.org, key.name, key.name,
                                        &version, st);
    if (!c || !resource_check_etag(&c->base, etag, st))
        goto fail;
    Supplysec__V1__CountermeasureState to = accept ? STATE(ACCEPTED) : STATE(DECLINED);
    if (c->state == to) {
        status_fail(st, STATUS_FAILED_PRECONDITION, "%s is %s already", key.name,
                    accept ? "ACCEPTED" : "DECLINED");
        goto fail;
    }
    c->state = to;
    if (!message_set_string(&c->base, "decider", op->who->name) ||
        !message_set_string(&c->base, "decline_reason", accept ? "" : reason) ||
        !resource_stamp_now(&c->base, "decide_time")) {
        status_fail(st, STATUS_RESOURCE_EXHAUSTED, "out of memory");
        goto fail;
    }
    resource_ref ref = kind_ref(&countermeasure_kind, &key, &c->base);
    if (!std_document_draft_guard(op, &countermeasure_kind, &key, &b, st) ||
        !rescore(op, &key, c, &b, st) ||
        !resource_batch_update(&b, &ref, &c->base, &c->base, version, st) ||
        !resource_batch_apply(&b, st))
        goto fail;
    resource_batch_free(&b);
    return c;
fail:
    resource_batch_free(&b);
    if (c)
        protobuf_c_message_free_unpacked(&c->base, NULL);
    return NULL;
}

/* What ListCountermeasures filters on (docs/api.md). */
static const facet_def facets[] = {
    {.name = "state",
     .type = FACET_ENUM,
     .enum_type = &supplysec__v1__countermeasure_state__descriptor},
    {.name = "aeo_criterion",
     .type = FACET_ENUM,
     .enum_type = &supplysec__v1__aeo_criterion__descriptor},
    {.name = "priority", .type = FACET_INT},
    {.name = "create_time", .type = FACET_TIMESTAMP},
    {.name = "update_time", .type = FACET_TIMESTAMP},
};

static const char *const output_only[] = {"residual_score", "state",          "decider",
                                          "decide_time",    "decline_reason", NULL};

const kind countermeasure_kind = {
    .type = "Countermeasure",
    .field = "countermeasure",
    .plural = "countermeasures",
    .collection = COUNTERMEASURES_COLLECTION,
    .parent = &threat_scenario_kind,
    .part_of_document = true,
    .revisions_collection = "countermeasureRevisions",
    .desc = &supplysec__v1__countermeasure__descriptor,
    .min_role = KIND_ROLES_DOCUMENT,
    .output_only = output_only,
    .facets = facets,
    .n_facets = sizeof facets / sizeof facets[0],
    .hooks = {.authorize = access_shared_or_validators,
              .validate = validate,
              .derive = derive,
              .check_update = check_update,
              .before_delete = before_delete},
};
