/* threat_scenario.c — the rules of a threat scenario (ISO 28001 5.3.2):
 * what it holds (every field's limits; an authority for a scenario
 * government officials require, and only for one; a target that exists:
 * one of the organization's business partners or a facility of one of its
 * statements of application), the scores the server computes from the
 * levels on the assessment's scheme (never a client's), the risk
 * acceptance only an ADMIN records, and that a government-required
 * scenario is never deleted nor made a team one. */
#include "threat_scenario.h"

#include "access.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "auth.h"
#include "business_partner.h"
#include "clock.h"
#include "countermeasure.h"
#include "doc.h"
#include "lifecycle.h"
#include "scoring_scheme.h"
#include "security_assessment.h"
#include "statement_of_application.h"
#include "validate.h"

#define SOURCE(x) SUPPLYSEC__V1__SCENARIO_SOURCE__SCENARIO_SOURCE_##x

static bool validate(const ProtobufCMessage *res, const char *p, status *st)
{
    const ThreatScenario *s = (const ThreatScenario *)res;
    char f[128];
    snprintf(f, sizeof f, "%s.title", p);
    if (!validate_text(f, s->title, 200, true, st))
        return false;
    snprintf(f, sizeof f, "%s.category", p);
    if (!validate_enum(f, &supplysec__v1__threat_category__descriptor, s->category, true, st))
        return false;
    snprintf(f, sizeof f, "%s.source", p);
    if (!validate_enum(f, &supplysec__v1__scenario_source__descriptor, s->source, true, st))
        return false;
    snprintf(f, sizeof f, "%s.authority", p);
    bool government = s->source == SOURCE(GOVERNMENT_REQUIRED);
    if (!validate_text(f, s->authority, 200, government, st))
        return false;
    if (!government && s->authority[0])
        return status_fail(st, STATUS_INVALID_ARGUMENT,
                           "%s: only a GOVERNMENT_REQUIRED scenario names the authority that "
                           "requires it",
                           f);
    snprintf(f, sizeof f, "%s.target", p);
    if (!validate_text(f, s->target, KIND_NAME_MAX, true, st))
        return false;
    snprintf(f, sizeof f, "%s.narrative", p);
    if (!validate_text(f, s->narrative, 10000, false, st))
        return false;
    snprintf(f, sizeof f, "%s.existing_measures", p);
    if (!validate_text(f, s->existing_measures, 10000, false, st))
        return false;
    if (s->risk_acceptance) {
        snprintf(f, sizeof f, "%s.risk_acceptance.reason", p);
        if (!validate_text(f, s->risk_acceptance->reason, 2000, true, st))
            return false;
    }
    return true;
}

/* The target names something of the scenario's organization that exists:
 * a business partner, or a facility (by its id) of a statement of
 * application. NOT_FOUND of the target is the request's error. */
static bool target_exists(const op_ctx *op, const resource_key *key, const char *target, status *st)
{
    char f[96];
    snprintf(f, sizeof f, "%s.target", key->kind->field);
    status lst = {0};
    bool found;
    if (strstr(target, STATEMENT_FACILITIES_SEGMENT)) {
        char statement[KIND_NAME_MAX];
        const char *facility;
        if (!statement_facility_name(f, key->org, target, statement, &facility, st))
            return false;
        found = statement_facility_exists(op, key->org, statement, facility, &lst);
    } else {
        resource_key tk;
        if (!kind_parse_name(&business_partner_kind, f, target, &tk, st))
            return false;
        if (strcmp(tk.org, key->org) != 0)
            return status_fail(st, STATUS_INVALID_ARGUMENT,
                               "%s: must name one of this organization's business partners, "
                               "organizations/%s/businessPartners/{id}, or a facility of one of "
                               "its statements of application, "
                               "organizations/%s/statementsOfApplication/{id}/facilities/"
                               "{facility_id}",
                               f, key->org, key->org);
        ProtobufCMessage *bp =
            resource_load(op, business_partner_kind.desc, business_partner_kind.collection,
                          key->org, target, target, NULL, &lst);
        found = bp != NULL;
        if (bp)
            protobuf_c_message_free_unpacked(bp, NULL);
    }
    if (found)
        return true;
    if (lst.code != STATUS_NOT_FOUND) {
        *st = lst;
        return false;
    }
    return status_fail(st, STATUS_INVALID_ARGUMENT, "%s: %s", f, lst.msg);
}

/* A level on one of the scheme's scales, 1 for the lowest. */
static bool level_valid(const char *field, int level, const Supplysec__V1__Scale *sc, status *st)
{
    if (level >= 1 && (size_t)level <= sc->n_levels)
        return true;
    return status_fail(st, STATUS_INVALID_ARGUMENT,
                       "%s: %d is not a level of the assessment's scale \"%s\": 1 (%s) to %zu "
                       "(%s)",
                       field, level, sc->name, sc->levels[0]->label, sc->n_levels,
                       sc->levels[sc->n_levels - 1]->label);
}

/* An ADMIN records, changes or clears a risk acceptance; the server says
 * who and when. One carried over unchanged keeps its author, unless the
 * scenario's levels change: the risk accepted was the one at those levels,
 * so only an ADMIN changes the levels of an accepted scenario (and the
 * acceptance is theirs again). */
static bool acceptance_derive(const op_ctx *op, const resource_key *key, ThreatScenario *s,
                              const ThreatScenario *prev, status *st)
{
    const Supplysec__V1__RiskAcceptance *was = prev ? prev->risk_acceptance : NULL;
    Supplysec__V1__RiskAcceptance *now = s->risk_acceptance;
    if (!now && !was)
        return true;
    bool levels_kept = prev && prev->consequence_level == s->consequence_level &&
                       prev->likelihood_level == s->likelihood_level;
    if (now && was && strcmp(now->reason, was->reason) == 0 && levels_kept) {
        if (!message_set_string(&now->base, "accepter", was->accepter) ||
            !resource_set_time(&now->base, "accept_time", was->accept_time))
            return status_fail(st, STATUS_RESOURCE_EXHAUSTED, "out of memory");
        return true;
    }
    if (!auth_require(op->who, key->org, SUPPLYSEC__V1__ROLE__ROLE_ADMIN, key->name, st))
        return false;
    if (now && (!message_set_string(&now->base, "accepter", op->who->name) ||
                !resource_stamp_now(&now->base, "accept_time")))
        return status_fail(st, STATUS_RESOURCE_EXHAUSTED, "out of memory");
    return true;
}

/* The scores, from the levels on the assessment's scheme; the residual
 * ones from the accepted countermeasures (the incident ones while there are
 * none). */
static bool derive(const op_ctx *op, const resource_key *key, ProtobufCMessage *res,
                   const ProtobufCMessage *prev, status *st)
{
    ThreatScenario *s = (ThreatScenario *)res;
    const char *p = key->kind->field;
    if (!target_exists(op, key, s->target, st) ||
        !acceptance_derive(op, key, s, (const ThreatScenario *)prev, st))
        return false;
    SecurityAssessment *a = (SecurityAssessment *)resource_load(
        op, security_assessment_kind.desc, security_assessment_kind.collection, key->org,
        key->parent, key->parent, NULL, st);
    if (!a)
        return false;
    const ScoringScheme *sch = a->scheme;
    char f[96];
    bool ok = sch && sch->consequence && sch->likelihood;
    if (!ok)
        status_fail(st, STATUS_DATA_LOSS, "%s has no scoring scheme", key->parent);
    snprintf(f, sizeof f, "%s.consequence_level", p);
    ok = ok && level_valid(f, s->consequence_level, sch->consequence, st);
    snprintf(f, sizeof f, "%s.likelihood_level", p);
    ok = ok && level_valid(f, s->likelihood_level, sch->likelihood, st);
    if (ok) {
        scoring_score(sch, s->consequence_level, s->likelihood_level, &s->incident_score);
        s->acceptable = s->incident_score <= sch->acceptable_level;
        ok = scenario_residual(op, key->org, key->name, sch, s, NULL, NULL, st);
    }
    protobuf_c_message_free_unpacked(&a->base, NULL);
    return ok;
}

/* A government-required scenario stays one. */
static bool check_update(const op_ctx *op, const resource_key *key, const ProtobufCMessage *prev,
                         const ProtobufCMessage *next, status *st)
{
    (void)op;
    if (((const ThreatScenario *)prev)->source == SOURCE(GOVERNMENT_REQUIRED) &&
        ((const ThreatScenario *)next)->source != SOURCE(GOVERNMENT_REQUIRED))
        return status_fail(st, STATUS_FAILED_PRECONDITION,
                           "%s is required by government officials (ISO 28001 5.3.2); it stays "
                           "GOVERNMENT_REQUIRED",
                           key->name);
    return true;
}

/* A scenario government officials require is never deleted; another goes
 * with its countermeasures. */
static bool before_delete(const op_ctx *op, const resource_key *key, const ProtobufCMessage *cur,
                          int64_t version, resource_batch *b, status *st)
{
    (void)op;
    (void)version;
    const ThreatScenario *s = (const ThreatScenario *)cur;
    if (s->source == SOURCE(GOVERNMENT_REQUIRED))
        return status_fail(st, STATUS_FAILED_PRECONDITION,
                           "%s is required by %s (ISO 28001 5.3.2); it is never deleted", key->name,
                           s->authority);
    resource_batch_delete_all(b, COUNTERMEASURES_COLLECTION, key->org, key->name,
                              "countermeasures");
    return true;
}

bool threat_scenario_untreated(const ThreatScenario *s, double acceptable_level)
{
    return s->incident_score > acceptable_level && s->residual_score > acceptable_level &&
           !s->risk_acceptance;
}

/* resource_each's call of a threat_scenarios_each caller's fn, the name set. */
typedef struct each_scenario {
    bool (*fn)(const ThreatScenario *s, void *ctx, status *st);
    void *ctx;
    const char *stored, *display; /* kept copies: the stored parent prefix, and its display */
} each_scenario;

static bool scenario_named(ProtobufCMessage **msg, const store_record *rec, void *ctx, status *st)
{
    each_scenario *e = ctx;
    char display[LIFECYCLE_PART_NAME_MAX];
    const char *name = rec->name;
    size_t sl = e->stored ? strlen(e->stored) : 0;
    if (e->stored) {
        if (strncmp(rec->name, e->stored, sl) != 0 || rec->name[sl] != '/')
            return true; /* another revision's, sharing the prefix's scan */
        if (snprintf(display, sizeof display, "%s%s", e->display, rec->name + sl) >=
            (int)sizeof display)
            return status_fail(st, STATUS_INTERNAL, "a kept scenario's name is too long");
        name = display;
    }
    if (!message_set_string(*msg, "name", name))
        return status_fail(st, STATUS_RESOURCE_EXHAUSTED, "out of memory");
    return e->fn((const ThreatScenario *)*msg, e->ctx, st);
}

bool threat_scenarios_each(const op_ctx *op, const char *org, const char *assessment,
                           bool (*fn)(const ThreatScenario *s, void *ctx, status *st), void *ctx,
                           status *st)
{
    store_query q = {.collection = THREAT_SCENARIOS_COLLECTION, .org = org, .parent = assessment};
    each_scenario e = {fn, ctx, NULL, NULL};
    return resource_each(op, threat_scenario_kind.desc, &q, "threat scenarios", scenario_named, &e,
                         st);
}

bool threat_scenarios_each_kept(const op_ctx *op, const char *org, const char *stored_parent,
                                const char *display_parent,
                                bool (*fn)(const ThreatScenario *s, void *ctx, status *st),
                                void *ctx, status *st)
{
    store_query q = {.collection = threat_scenario_kind.revisions_collection,
                     .org = org,
                     .parent = stored_parent};
    each_scenario e = {fn, ctx, stored_parent, display_parent};
    return resource_each(op, threat_scenario_kind.desc, &q, "threat scenarios", scenario_named, &e,
                         st);
}

/* What ListThreatScenarios filters on (docs/api.md). */
static const facet_def facets[] = {
    {.name = "category",
     .type = FACET_ENUM,
     .enum_type = &supplysec__v1__threat_category__descriptor},
    {.name = "source",
     .type = FACET_ENUM,
     .enum_type = &supplysec__v1__scenario_source__descriptor},
    {.name = "acceptable", .type = FACET_BOOL},
    {.name = "consequence_level", .type = FACET_INT},
    {.name = "likelihood_level", .type = FACET_INT},
    {.name = "create_time", .type = FACET_TIMESTAMP},
    {.name = "update_time", .type = FACET_TIMESTAMP},
};

/* (risk_acceptance's accepter and accept_time too: acceptance_derive
 * sets them) */
static const char *const output_only[] = {"incident_score",
                                          "residual_consequence_level",
                                          "residual_likelihood_level",
                                          "residual_score",
                                          "acceptable",
                                          NULL};

const kind threat_scenario_kind = {
    .type = "ThreatScenario",
    .field = "threat_scenario",
    .plural = "threatScenarios",
    .collection = THREAT_SCENARIOS_COLLECTION,
    .parent = &security_assessment_kind,
    .part_of_document = true,
    .revisions_collection = "threatScenarioRevisions",
    .desc = &supplysec__v1__threat_scenario__descriptor,
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
