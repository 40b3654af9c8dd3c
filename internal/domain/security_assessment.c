/* security_assessment.c — the rules of a security assessment (ISO 28001
 * 5.2-5.3), a controlled document: what a draft may hold (the scope and the
 * portions left to exempt partners, the team and its competences, the
 * method; every field's limits), the copy of the scoring scheme it takes
 * when created, what an approved revision must have (an approved statement
 * of application in scope, whose revision it records; a method; a team
 * member with a competence; scenarios, none over the acceptable level
 * untreated), that its scenarios go with it when it is deleted, and its two
 * reports: the scenarios ranked, and the risk matrix. */
#include "security_assessment.h"

#include "access.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "business_partner.h"
#include "countermeasure.h"
#include "lifecycle.h"
#include "organization.h"
#include "scoring_scheme.h"
#include "statement_of_application.h"
#include "threat_scenario.h"
#include "validate.h"

#define MAX_EXCLUDED 100
#define MAX_TEAM 50
#define MAX_COMPETENCES 20
#define UNTREATED_NAMED 3 /* scenarios an approval's refusal names */

static bool validate(const ProtobufCMessage *res, const char *p, status *st)
{
    const SecurityAssessment *a = (const SecurityAssessment *)res;
    char f[160];
    snprintf(f, sizeof f, "%s.title", p);
    if (!validate_text(f, a->title, 200, true, st))
        return false;
    if (a->scope) {
        const Supplysec__V1__AssessmentScope *sc = a->scope;
        snprintf(f, sizeof f, "%s.scope.statement_of_application", p);
        if (!validate_text(f, sc->statement_of_application, KIND_NAME_MAX, false, st))
            return false;
        if (sc->n_excluded_portions > MAX_EXCLUDED)
            return status_fail(st, STATUS_INVALID_ARGUMENT,
                               "%s.scope.excluded_portions: at most %d", p, MAX_EXCLUDED);
        for (size_t i = 0; i < sc->n_excluded_portions; i++) {
            const Supplysec__V1__ExcludedPortion *x = sc->excluded_portions[i];
            snprintf(f, sizeof f, "%s.scope.excluded_portions[%zu].description", p, i);
            if (!validate_text(f, x->description, 1000, true, st))
                return false;
            snprintf(f, sizeof f, "%s.scope.excluded_portions[%zu].business_partner", p, i);
            if (!validate_text(f, x->business_partner, KIND_NAME_MAX, true, st))
                return false;
            snprintf(f, sizeof f, "%s.scope.excluded_portions[%zu].exemption_basis", p, i);
            if (!validate_text(f, x->exemption_basis, 500, true, st))
                return false;
        }
    }
    if (a->n_team > MAX_TEAM)
        return status_fail(st, STATUS_INVALID_ARGUMENT, "%s.team: at most %d", p, MAX_TEAM);
    for (size_t i = 0; i < a->n_team; i++) {
        const Supplysec__V1__TeamMember *m = a->team[i];
        snprintf(f, sizeof f, "%s.team[%zu].name", p, i);
        if (!validate_text(f, m->name, 200, true, st))
            return false;
        snprintf(f, sizeof f, "%s.team[%zu].role", p, i);
        if (!validate_text(f, m->role, 200, false, st))
            return false;
        if (m->n_competences > MAX_COMPETENCES)
            return status_fail(st, STATUS_INVALID_ARGUMENT, "%s.team[%zu].competences: at most %d",
                               p, i, MAX_COMPETENCES);
        for (size_t j = 0; j < m->n_competences; j++) {
            snprintf(f, sizeof f, "%s.team[%zu].competences[%zu]", p, i, j);
            if (!validate_text(f, m->competences[j], 200, true, st))
                return false;
        }
    }
    snprintf(f, sizeof f, "%s.method", p);
    if (!validate_text(f, a->method, 10000, false, st))
        return false;
    snprintf(f, sizeof f, "%s.scoring_scheme", p);
    return validate_text(f, a->scoring_scheme, KIND_NAME_MAX, false, st);
}

/* A name the assessment holds is of kind k in its own organization. */
static bool own_name(const kind *k, const resource_key *key, const char *field, const char *name,
                     status *st)
{
    resource_key nk;
    if (!kind_parse_name(k, field, name, &nk, st))
        return false;
    if (strcmp(nk.org, key->org) != 0)
        return status_fail(st, STATUS_INVALID_ARGUMENT,
                           "%s: must name one of this organization's own, organizations/%s/%s/{id}",
                           field, key->org, k->plural);
    return true;
}

/* On create, the copy of the scoring scheme named. */
static bool scheme_copy(const op_ctx *op, const resource_key *key, SecurityAssessment *a,
                        status *st)
{
    char f[96];
    snprintf(f, sizeof f, "%s.scoring_scheme", key->kind->field);
    if (!a->scoring_scheme[0])
        return status_fail(st, STATUS_INVALID_ARGUMENT,
                           "%s: required: the scoring scheme whose copy scores the scenarios, "
                           "organizations/%s/scoringSchemes/{id}",
                           f, key->org);
    if (!own_name(&scoring_scheme_kind, key, f, a->scoring_scheme, st))
        return false;
    status lst = {0};
    ScoringScheme *s =
        (ScoringScheme *)resource_load(op, scoring_scheme_kind.desc, scoring_scheme_kind.collection,
                                       key->org, a->scoring_scheme, a->scoring_scheme, NULL, &lst);
    if (!s) {
        if (lst.code != STATUS_NOT_FOUND) {
            *st = lst;
            return false;
        }
        return status_fail(st, STATUS_INVALID_ARGUMENT, "%s: %s", f, lst.msg);
    }
    a->scheme = s;
    return true;
}

static bool derive(const op_ctx *op, const resource_key *key, ProtobufCMessage *res,
                   const ProtobufCMessage *prev, status *st)
{
    SecurityAssessment *a = (SecurityAssessment *)res;
    const char *p = key->kind->field;
    char f[160];
    if (a->scope) {
        if (!message_set_string(&a->scope->base, "statement_revision_id", ""))
            return status_fail(st, STATUS_RESOURCE_EXHAUSTED, "out of memory");
        snprintf(f, sizeof f, "%s.scope.statement_of_application", p);
        if (a->scope->statement_of_application[0] &&
            !own_name(&statement_of_application_kind, key, f, a->scope->statement_of_application,
                      st))
            return false;
        for (size_t i = 0; i < a->scope->n_excluded_portions; i++) {
            snprintf(f, sizeof f, "%s.scope.excluded_portions[%zu].business_partner", p, i);
            if (!own_name(&business_partner_kind, key, f,
                          a->scope->excluded_portions[i]->business_partner, st))
                return false;
        }
    }
    return prev || scheme_copy(op, key, a, st);
}

/* What approval looks for in the scenarios. */
typedef struct scenario_tally {
    double acceptable_level;
    size_t count, untreated;
    char named[512]; /* the first UNTREATED_NAMED untreated, comma-separated */
} scenario_tally;

static bool tally(const ThreatScenario *s, void *ctx, status *st)
{
    (void)st;
    scenario_tally *t = ctx;
    t->count++;
    if (!threat_scenario_untreated(s, t->acceptable_level))
        return true;
    if (t->untreated++ < UNTREATED_NAMED) {
        size_t n = strlen(t->named);
        snprintf(t->named + n, sizeof t->named - n, "%s%s", n ? ", " : "", s->name);
    }
    return true;
}

/* What an approved assessment must have: the approved statement in scope,
 * the method, a qualified team, and scenarios none of which is over the
 * acceptable level untreated. */
static bool before_approve(const op_ctx *op, const resource_key *key, const ProtobufCMessage *res,
                           status *st)
{
    const SecurityAssessment *a = (const SecurityAssessment *)res;
    bool qualified = false;
    for (size_t i = 0; i < a->n_team && !qualified; i++)
        qualified = a->team[i]->n_competences > 0;
    const char *missing = !a->scope || !a->scope->statement_of_application[0]
                              ? "scope.statement_of_application"
                          : !a->method[0] ? "method"
                          : !qualified    ? "team (a member with at least one competence)"
                                          : NULL;
    if (missing)
        return status_fail(st, STATUS_FAILED_PRECONDITION,
                           "%s cannot be approved without %s: set it in a draft", key->name,
                           missing);
    if (!a->scheme)
        return status_fail(st, STATUS_DATA_LOSS, "%s has no scoring scheme", key->name);
    scenario_tally t = {.acceptable_level = a->scheme->acceptable_level};
    if (!threat_scenarios_each(op, key->org, key->name, tally, &t, st))
        return false;
    if (t.count == 0)
        return status_fail(st, STATUS_FAILED_PRECONDITION,
                           "%s cannot be approved without threat scenarios", key->name);
    if (t.untreated > 0)
        return status_fail(st, STATUS_FAILED_PRECONDITION,
                           "%s cannot be approved: %zu scenario%s over the acceptable level "
                           "(%g) with neither an accepted countermeasure bringing it within nor "
                           "an ADMIN's risk acceptance: %s%s",
                           key->name, t.untreated, t.untreated == 1 ? "" : "s", t.acceptable_level,
                           t.named, t.untreated > UNTREATED_NAMED ? ", ..." : "");
    return true;
}

/* An approved assessment records the revision of its statement in force. */
static bool with_approval(const op_ctx *op, const resource_key *key, ProtobufCMessage *doc,
                          resource_batch *b, status *st)
{
    (void)b;
    SecurityAssessment *a = (SecurityAssessment *)doc;
    char rev[LIFECYCLE_REVISION_MAX];
    status lst = {0};
    if (!lifecycle_revision_in_force(op, &statement_of_application_kind, key->org,
                                     a->scope->statement_of_application, rev, &lst) &&
        lst.code != STATUS_NOT_FOUND) {
        *st = lst;
        return false;
    }
    if (!rev[0])
        return status_fail(st, STATUS_FAILED_PRECONDITION,
                           "%s cannot be approved: scope.statement_of_application names %s, which "
                           "has no approved revision",
                           key->name, a->scope->statement_of_application);
    return message_set_string(&a->scope->base, "statement_revision_id", rev) ||
           status_fail(st, STATUS_RESOURCE_EXHAUSTED, "out of memory");
}

/* The countermeasures of one scenario, deleted with the assessment. */
typedef struct deleting {
    resource_batch *b;
    const char *org; /* lives as long as the batch */
} deleting;

static bool delete_countermeasures(const ThreatScenario *s, void *ctx, status *st)
{
    deleting *d = ctx;
    char *name = strdup(s->name); /* the batch borrows it */
    if (!name || !resource_batch_keep_mem(d->b, name))
        return status_fail(st, STATUS_RESOURCE_EXHAUSTED, "out of memory");
    resource_batch_delete_all(d->b, COUNTERMEASURES_COLLECTION, d->org, name, "countermeasures");
    return true;
}

/* Its scenarios and their countermeasures go with it. */
static bool before_delete(const op_ctx *op, const resource_key *key, const ProtobufCMessage *cur,
                          int64_t version, resource_batch *b, status *st)
{
    (void)cur;
    (void)version;
    deleting d = {b, key->org};
    if (!threat_scenarios_each(op, key->org, key->name, delete_countermeasures, &d, st))
        return false;
    resource_batch_delete_all(b, THREAT_SCENARIOS_COLLECTION, key->org, key->name,
                              "threat scenarios");
    return true;
}

/* ---- the reports ---- */

SecurityAssessment *security_assessment_report_load(const op_ctx *op, const char *name,
                                                    assessment_report *r, status *st)
{
    const kind *k = &security_assessment_kind;
    memset(r, 0, sizeof *r);
    if (!kind_parse_revision_name(k, "name", name, &r->key, st) ||
        !kind_authorize(op, KIND_GET, &r->key, r->key.name, st))
        return NULL;
    SecurityAssessment *a = NULL;
    if (r->key.revision[0]) {
        /* an approved revision: its scenarios are the copies kept with it */
        if (!lifecycle_kept_names(r->key.name, (int)strtol(r->key.revision, NULL, 10), r->key.name,
                                  r->stored, r->display)) {
            status_fail(st, STATUS_INVALID_ARGUMENT, "name: at most %d bytes", KIND_NAME_MAX - 1);
            return NULL;
        }
        r->kept = true;
        a = (SecurityAssessment *)lifecycle_load_revision(op, k, &r->key, st);
    } else {
        a = (SecurityAssessment *)resource_load(op, k->desc, k->collection, r->key.org, r->key.name,
                                                r->key.name, NULL, st);
    }
    if (a && (!a->scheme || !a->scheme->consequence || !a->scheme->likelihood)) {
        status_fail(st, STATUS_DATA_LOSS, "%s has no scoring scheme", name);
        protobuf_c_message_free_unpacked(&a->base, NULL);
        return NULL;
    }
    return a;
}

bool security_assessment_report_scenarios(const op_ctx *op, const assessment_report *r,
                                          bool (*fn)(const ThreatScenario *s, void *ctx,
                                                     status *st),
                                          void *ctx, status *st)
{
    return r->kept ? threat_scenarios_each_kept(op, r->key.org, r->stored, r->display, fn, ctx, st)
                   : threat_scenarios_each(op, r->key.org, r->key.name, fn, ctx, st);
}

/* The scenarios, gathered for a report. */
typedef struct scenario_list {
    Supplysec__V1__RankedScenario **items;
    size_t n, cap;
    int *levels; /* per item: consequence, likelihood, residual ones (4 each) */
    double acceptable_level;
} scenario_list;

static bool gather(const ThreatScenario *s, void *ctx, status *st)
{
    scenario_list *l = ctx;
    if (l->n == l->cap) {
        size_t cap = l->cap ? l->cap * 2 : 64;
        void *items = realloc(l->items, cap * sizeof *l->items);
        if (items)
            l->items = items;
        void *levels = items ? realloc(l->levels, cap * 4 * sizeof *l->levels) : NULL;
        if (!levels)
            return status_fail(st, STATUS_RESOURCE_EXHAUSTED, "out of memory");
        l->levels = levels;
        l->cap = cap;
    }
    Supplysec__V1__RankedScenario *r = malloc(sizeof *r);
    if (!r)
        return status_fail(st, STATUS_RESOURCE_EXHAUSTED, "out of memory");
    supplysec__v1__ranked_scenario__init(r);
    r->threat_scenario = strdup(s->name);
    r->title = strdup(s->title);
    if (!r->threat_scenario || !r->title) {
        protobuf_c_message_free_unpacked(&r->base, NULL);
        return status_fail(st, STATUS_RESOURCE_EXHAUSTED, "out of memory");
    }
    r->incident_score = s->incident_score;
    r->residual_score = s->residual_score;
    r->over_acceptable_level = s->incident_score > l->acceptable_level;
    r->untreated = threat_scenario_untreated(s, l->acceptable_level);
    int *lv = &l->levels[l->n * 4];
    lv[0] = s->consequence_level;
    lv[1] = s->likelihood_level;
    lv[2] = s->residual_consequence_level;
    lv[3] = s->residual_likelihood_level;
    l->items[l->n++] = r;
    return true;
}

static void scenario_list_free(scenario_list *l)
{
    for (size_t i = 0; i < l->n; i++)
        if (l->items[i])
            protobuf_c_message_free_unpacked(&l->items[i]->base, NULL);
    free(l->items);
    free(l->levels);
}

static int by_score(const void *x, const void *y)
{
    const Supplysec__V1__RankedScenario *a = *(Supplysec__V1__RankedScenario *const *)x;
    const Supplysec__V1__RankedScenario *b = *(Supplysec__V1__RankedScenario *const *)y;
    if (a->incident_score != b->incident_score)
        return a->incident_score > b->incident_score ? -1 : 1;
    return strcmp(a->threat_scenario, b->threat_scenario);
}

Supplysec__V1__RankThreatScenariosResponse *security_assessment_rank(const op_ctx *op,
                                                                     const char *name, status *st)
{
    assessment_report rep;
    SecurityAssessment *a = security_assessment_report_load(op, name, &rep, st);
    if (!a)
        return NULL;
    scenario_list l = {.acceptable_level = a->scheme->acceptable_level};
    protobuf_c_message_free_unpacked(&a->base, NULL);
    Supplysec__V1__RankThreatScenariosResponse *resp = NULL;
    if (!security_assessment_report_scenarios(op, &rep, gather, &l, st))
        goto done;
    if (!(resp = malloc(sizeof *resp))) {
        status_fail(st, STATUS_RESOURCE_EXHAUSTED, "out of memory");
        goto done;
    }
    supplysec__v1__rank_threat_scenarios_response__init(resp);
    if (l.n)
        qsort(l.items, l.n, sizeof *l.items, by_score);
    resp->acceptable_level = l.acceptable_level;
    resp->scenarios = l.items; /* the items move into the response */
    resp->n_scenarios = l.n;
    l.items = NULL;
    l.n = 0;
done:
    scenario_list_free(&l);
    return resp;
}

/* The n_c x n_l cells of one side of the matrix, from the levels at
 * offset (0: incident, 2: residual) of each scenario in l. */
static Supplysec__V1__RiskMatrixCell **
matrix_cells(const ScoringScheme *sch, const scenario_list *l, int offset, size_t *n_cells)
{
    size_t nc = sch->consequence->n_levels, nl = sch->likelihood->n_levels;
    Supplysec__V1__RiskMatrixCell **cells = calloc(nc * nl, sizeof *cells);
    if (!cells)
        return NULL;
    *n_cells = nc * nl;
    bool ok = true;
    for (size_t c = 0; ok && c < nc; c++)
        for (size_t k = 0; ok && k < nl; k++) {
            Supplysec__V1__RiskMatrixCell *cell = cells[c * nl + k] = malloc(sizeof *cell);
            if (!(ok = cell != NULL))
                break;
            supplysec__v1__risk_matrix_cell__init(cell);
            cell->consequence_level = (int32_t)c + 1;
            cell->likelihood_level = (int32_t)k + 1;
            scoring_score(sch, (int)c + 1, (int)k + 1, &cell->score);
            cell->acceptable = cell->score <= sch->acceptable_level;
        }
    for (size_t i = 0; ok && i < l->n; i++) { /* count, then name (l is by name) */
        const int *lv = &l->levels[i * 4 + offset];
        if (lv[0] >= 1 && (size_t)lv[0] <= nc && lv[1] >= 1 && (size_t)lv[1] <= nl)
            cells[(size_t)(lv[0] - 1) * nl + (size_t)(lv[1] - 1)]->count++;
    }
    for (size_t j = 0; ok && j < nc * nl; j++)
        if (cells[j]->count &&
            !(cells[j]->threat_scenarios = calloc((size_t)cells[j]->count, sizeof(char *))))
            ok = false;
    for (size_t i = 0; ok && i < l->n; i++) {
        const int *lv = &l->levels[i * 4 + offset];
        if (lv[0] < 1 || (size_t)lv[0] > nc || lv[1] < 1 || (size_t)lv[1] > nl)
            continue;
        Supplysec__V1__RiskMatrixCell *cell = cells[(size_t)(lv[0] - 1) * nl + (size_t)(lv[1] - 1)];
        ok = (cell->threat_scenarios[cell->n_threat_scenarios++] =
                  strdup(l->items[i]->threat_scenario)) != NULL;
    }
    if (ok)
        return cells;
    for (size_t j = 0; j < nc * nl; j++) /* each holds what it got, and frees it */
        if (cells[j])
            protobuf_c_message_free_unpacked(&cells[j]->base, NULL);
    free(cells);
    return NULL;
}

Supplysec__V1__RiskMatrix *security_assessment_matrix(const op_ctx *op, const char *name,
                                                      status *st)
{
    assessment_report rep;
    SecurityAssessment *a = security_assessment_report_load(op, name, &rep, st);
    if (!a)
        return NULL;
    ScoringScheme *sch = a->scheme;
    scenario_list l = {.acceptable_level = sch->acceptable_level};
    Supplysec__V1__RiskMatrix *m = NULL;
    if (!security_assessment_report_scenarios(op, &rep, gather, &l, st))
        goto done;
    if (!(m = malloc(sizeof *m)))
        goto oom;
    supplysec__v1__risk_matrix__init(m);
    m->acceptable_level = sch->acceptable_level;
    if (!(m->before = matrix_cells(sch, &l, 0, &m->n_before)) ||
        !(m->after = matrix_cells(sch, &l, 2, &m->n_after)))
        goto oom;
    m->consequence = sch->consequence; /* the scales move into the matrix */
    m->likelihood = sch->likelihood;
    sch->consequence = sch->likelihood = NULL;
    goto done;
oom:
    status_fail(st, STATUS_RESOURCE_EXHAUSTED, "out of memory");
    if (m)
        protobuf_c_message_free_unpacked(&m->base, NULL);
    m = NULL;
done:
    scenario_list_free(&l);
    protobuf_c_message_free_unpacked(&a->base, NULL);
    return m;
}

/* What ListSecurityAssessments filters on (docs/api.md). */
static const facet_def facets[] = {
    {.name = "state", .type = FACET_ENUM, .enum_type = &supplysec__v1__document_state__descriptor},
    {.name = "title", .type = FACET_STRING},
    {.name = "create_time", .type = FACET_TIMESTAMP},
    {.name = "update_time", .type = FACET_TIMESTAMP},
};

/* (scope.statement_revision_id too: derive clears it, approval sets it) */
static const char *const output_only[] = {"scheme", NULL};
static const char *const immutable[] = {"scoring_scheme", NULL};

/* Its scenarios and their countermeasures, kept with each approved revision. */
static const kind *const parts[] = {&threat_scenario_kind, &countermeasure_kind, NULL};

const kind security_assessment_kind = {
    .type = "SecurityAssessment",
    .field = "security_assessment",
    .plural = "securityAssessments",
    .collection = "securityAssessments",
    .parent = &organization_kind,
    .desc = &supplysec__v1__security_assessment__descriptor,
    .min_role = KIND_ROLES_DOCUMENT,
    .output_only = output_only,
    .immutable = immutable,
    .facets = facets,
    .n_facets = sizeof facets / sizeof facets[0],
    .lifecycle = KIND_CONTROLLED,
    .revisions_collection = "securityAssessmentRevisions",
    .parts = parts,
    .hooks = {.authorize = access_shared_or_validators,
              .validate = validate,
              .derive = derive,
              .before_approve = before_approve,
              .with_approval = with_approval,
              .before_delete = before_delete},
};
