/* evidence.c — an organization's security management system read once
 * (evidence.h): each collection in one resource_each pass, each record as a
 * Get answers it where that is evidence (as_read); what needs attention kept per
 * topic and what the system holds as facts, each list sorted by resource
 * name. */
#include "evidence.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "business_partner.h"
#include "management_review.h"
#include "monitoring_record.h"
#include "declaration_request.h"
#include "lifecycle.h"
#include "organization.h"
#include "plan_item.h"
#include "security_assessment.h"
#include "security_incident.h"
#include "security_objective.h"
#include "security_plan.h"
#include "security_policy.h"
#include "statement_of_application.h"
#include "threat_scenario.h"
#include "training_record.h"

#define REQUEST(x) SUPPLYSEC__V1__DECLARATION_REQUEST_STATE__DECLARATION_REQUEST_STATE_##x
#define INCIDENT_OPEN SUPPLYSEC__V1__INCIDENT_STATE__INCIDENT_STATE_OPEN
#define OFF_TARGET SUPPLYSEC__V1__OBJECTIVE_STATUS__OBJECTIVE_STATUS_OFF_TARGET
#define SUMMARY_MAX 600

bool evidence_add(evidence_list *list, const char *resource, const int64_t *time_s, const char *fmt,
                  ...)
{
    char summary[SUMMARY_MAX];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(summary, sizeof summary, fmt, ap);
    va_end(ap);
    list->count++;
    if (time_s && *time_s > list->latest_s)
        list->latest_s = *time_s;
    if (list->n == list->cap) {
        size_t cap = list->cap ? list->cap * 2 : 8;
        evidence_item *items = realloc(list->items, cap * sizeof *items);
        if (!items)
            return false;
        list->items = items;
        list->cap = cap;
    }
    evidence_item *it = &list->items[list->n];
    it->resource = strdup(resource);
    it->summary = strdup(summary);
    it->has_time = time_s != NULL;
    it->time_s = time_s ? *time_s : 0;
    if (!it->resource || !it->summary) {
        free(it->resource);
        free(it->summary);
        return false;
    }
    list->n++;
    return true;
}

void evidence_list_free(evidence_list *l)
{
    for (size_t i = 0; i < l->n; i++) {
        free(l->items[i].resource);
        free(l->items[i].summary);
    }
    free(l->items);
    *l = (evidence_list){0};
}

/* ---- one pass per collection ---- */

#define OOM(st) status_fail(st, STATUS_RESOURCE_EXHAUSTED, "out of memory")

typedef struct pass pass;
struct pass {
    const op_ctx *op;
    const kind *k;
    evidence *e;
    bool (*fn)(pass *p, ProtobufCMessage *res, const char *name, status *st);
    void *ctx;
    bool taken; /* fn kept the record it was given */
};

/* Whether a record of k is judged as a Get answers it (its present hook):
 * what the hook sets as of now is evidence (an item overdue, a declaration
 * EXPIRED, a partner's exemption, a plan's monitoring), except an
 * incident's covering partners (a query per partner, never used here). */
static bool as_read(const kind *k)
{
    return k->hooks.present && k != &security_incident_kind;
}

/* resource_each's call: the record, presented, to the pass's fn. */
static bool presented(ProtobufCMessage **msg, const store_record *rec, void *ctx, status *st)
{
    pass *p = ctx;
    resource_key key;
    if (as_read(p->k) && (!kind_parse_name(p->k, "name", rec->name, &key, st) ||
                          !p->k->hooks.present(p->op, &key, *msg, st)))
        return false;
    bool ok = p->fn(p, *msg, rec->name, st);
    if (p->taken)
        *msg = NULL;
    p->taken = false;
    return ok;
}

/* Every record of k in org (under parent, NULL: any), presented, to fn. */
static bool each(pass *p, const kind *k, const char *org, const char *parent,
                 bool (*fn)(pass *p, ProtobufCMessage *res, const char *name, status *st),
                 void *ctx, const char *what, status *st)
{
    p->k = k;
    p->fn = fn;
    p->ctx = ctx;
    store_query q = {.collection = k->collection, .org = org, .parent = parent};
    return resource_each(p->op, k->desc, &q, what, presented, p, st);
}

static const int64_t *time_of(const Google__Protobuf__Timestamp *t)
{
    return t ? &t->seconds : NULL;
}

static bool recent(const evidence *e, const Google__Protobuf__Timestamp *t)
{
    return t && t->seconds >= e->now_s - EVIDENCE_RECENT_S;
}

/* ---- controlled documents ---- */

/* A document into facts: in force (`{name}@{revision}`, its approval
 * time) or drafted. *in_force: the revision in force, doc itself or the
 * kept one (then the caller's to free: *kept), NULL when none is. */
static bool document(pass *p, const ProtobufCMessage *doc, const char *name, evidence_list *yes,
                     evidence_list *drafted, const ProtobufCMessage **in_force,
                     ProtobufCMessage **kept, status *st)
{
    char rev_name[KIND_NAME_MAX + 16];
    int64_t approved;
    int rev;
    *in_force = NULL;
    if (!lifecycle_in_force(p->op, p->k, doc, name, &rev, &approved, kept, st))
        return false;
    const char *title = message_get_string(doc, "title");
    if (!rev)
        return evidence_add(drafted, name, NULL, "%s, %s", title, lifecycle_state_name(doc)) ||
               OOM(st);
    *in_force = *kept ? *kept : doc;
    snprintf(rev_name, sizeof rev_name, "%s@%d", name, rev);
    if (evidence_add(yes, rev_name, approved ? &approved : NULL, "%s, approved",
                     message_get_string(*in_force, "title")))
        return true;
    if (*kept)
        protobuf_c_message_free_unpacked(*kept, NULL);
    *kept = NULL;
    *in_force = NULL;
    return OOM(st);
}

/* document() for a kind whose revision in force is not looked into. */
static bool document_in_force(pass *p, const ProtobufCMessage *doc, const char *name,
                              evidence_list *yes, evidence_list *drafted, bool *is_in_force,
                              status *st)
{
    const ProtobufCMessage *in_force;
    ProtobufCMessage *kept;
    bool ok = document(p, doc, name, yes, drafted, &in_force, &kept, st);
    *is_in_force = in_force != NULL;
    if (kept)
        protobuf_c_message_free_unpacked(kept, NULL);
    return ok;
}

static bool policy(pass *p, ProtobufCMessage *res, const char *name, status *st)
{
    bool yes;
    return document_in_force(p, res, name, &p->e->facts[FACT_POLICIES],
                             &p->e->facts[FACT_POLICIES_DRAFTED], &yes, st);
}

static bool statement(pass *p, ProtobufCMessage *res, const char *name, status *st)
{
    const ProtobufCMessage *in;
    ProtobufCMessage *kept;
    if (!document(p, res, name, &p->e->facts[FACT_STATEMENTS],
                  &p->e->facts[FACT_STATEMENTS_DRAFTED], &in, &kept, st))
        return false;
    const Supplysec__V1__StatementOfApplication *s =
        (const Supplysec__V1__StatementOfApplication *)in;
    for (size_t i = 0; s && i < s->n_functions; i++)
        p->e->manufacturer |=
            s->functions[i] == SUPPLYSEC__V1__SUPPLY_CHAIN_ROLE__SUPPLY_CHAIN_ROLE_MANUFACTURER;
    if (kept)
        protobuf_c_message_free_unpacked(kept, NULL);
    return true;
}

/* A review in force, held recently or before (by its revision in force);
 * the latest held is kept (e->last_review). */
static bool review(pass *p, ProtobufCMessage *res, const char *name, status *st)
{
    char rev_name[KIND_NAME_MAX + 16];
    int64_t approved;
    int rev;
    ProtobufCMessage *kept;
    if (!lifecycle_in_force(p->op, p->k, res, name, &rev, &approved, &kept, st))
        return false;
    if (!rev)
        return true;
    ProtobufCMessage *in = kept ? kept : res;
    const Supplysec__V1__ManagementReview *r = (const Supplysec__V1__ManagementReview *)in;
    snprintf(rev_name, sizeof rev_name, "%s@%d", name, rev);
    evidence_list *l =
        recent(p->e, r->review_time) ? &p->e->facts[FACT_REVIEWS] : &p->e->facts[FACT_REVIEWS_OLD];
    bool ok = evidence_add(l, rev_name, time_of(r->review_time), "%s, held", r->title);
    const Supplysec__V1__ManagementReview *best =
        (const Supplysec__V1__ManagementReview *)p->e->last_review;
    bool later = r->review_time && (!best || r->review_time->seconds > best->review_time->seconds ||
                                    (r->review_time->seconds == best->review_time->seconds &&
                                     approved > p->e->last_review_approved_s));
    if (ok && later) {
        if (p->e->last_review)
            protobuf_c_message_free_unpacked(p->e->last_review, NULL);
        p->e->last_review = in;
        p->e->last_review_approved_s = approved;
        snprintf(p->e->last_review_name, sizeof p->e->last_review_name, "%s", name);
        p->taken = !kept; /* the record itself is kept */
        kept = NULL;
    }
    if (kept)
        protobuf_c_message_free_unpacked(kept, NULL);
    return ok || OOM(st);
}
/* ---- records ---- */

static bool incident(pass *p, ProtobufCMessage *res, const char *name, status *st)
{
    const SecurityIncident *in = (const SecurityIncident *)res;
    const char *severity =
        reflect_enum_label(&supplysec__v1__incident_severity__descriptor, in->severity);
    if (in->state != INCIDENT_OPEN)
        return in->notifications_missing ||
               evidence_add(&p->e->facts[FACT_INCIDENTS_CLOSED], name, time_of(in->close_time),
                            "%s (%s), closed with %zu notification%s made", in->title, severity,
                            in->n_notifications, in->n_notifications == 1 ? "" : "s") ||
               OOM(st);
    if (in->notifications_missing &&
        !evidence_add(&p->e->facts[FACT_INCIDENTS_UNNOTIFIED], name, time_of(in->occur_time),
                      "%s: %zu required notification%s not made", in->title,
                      in->n_missing_notifications, in->n_missing_notifications == 1 ? "" : "s"))
        return OOM(st);
    return evidence_add(&p->e->topics[EVIDENCE_OPEN_INCIDENT], name, time_of(in->occur_time),
                        "%s (%s)", in->title, severity) ||
           OOM(st);
}

/* The plans in force, by plain name, for their items. */
typedef struct plans_seen {
    evidence_list in_force; /* resource: the plan's name */
} plans_seen;

static bool plan(pass *p, ProtobufCMessage *res, const char *name, status *st)
{
    const SecurityPlan *pl = (const SecurityPlan *)res;
    plans_seen *seen = p->ctx;
    bool yes;
    if (!document_in_force(p, res, name, &p->e->facts[FACT_PLANS], &p->e->facts[FACT_PLANS_DRAFTED],
                           &yes, st))
        return false;
    if (yes && !evidence_add(&seen->in_force, name, NULL, "%s", pl->title))
        return OOM(st);
    for (size_t i = 0; i < pl->n_monitoring_schedule; i++) {
        const Supplysec__V1__MonitoringActivity *a = pl->monitoring_schedule[i];
        if (a->overdue && !evidence_add(&p->e->topics[EVIDENCE_OVERDUE_MONITORING], name,
                                        time_of(a->last_perform_time), "%s: %s (every %d days)",
                                        a->id, a->description, a->interval_days))
            return OOM(st);
    }
    return true;
}

bool evidence_has(const evidence_list *l, const char *resource)
{
    for (size_t i = 0; i < l->n; i++)
        if (strcmp(l->items[i].resource, resource) == 0)
            return true;
    return false;
}

static bool plan_item(pass *p, ProtobufCMessage *res, const char *name, status *st)
{
    const PlanItem *it = (const PlanItem *)res;
    const plans_seen *seen = p->ctx;
    const char *status_label =
        reflect_enum_label(&supplysec__v1__plan_item_status__descriptor, it->status);
    const char *items = strstr(name, "/items/");
    char plan[KIND_NAME_MAX];
    int c = it->aeo_criterion;
    if (items && (size_t)(items - name) < sizeof plan && c > 0 && c < EVIDENCE_CRITERIA) {
        snprintf(plan, sizeof plan, "%.*s", (int)(items - name), name);
        bool done = it->status == SUPPLYSEC__V1__PLAN_ITEM_STATUS__PLAN_ITEM_STATUS_IMPLEMENTED ||
                    it->status == SUPPLYSEC__V1__PLAN_ITEM_STATUS__PLAN_ITEM_STATUS_VERIFIED;
        evidence_list *side = done ? &p->e->items_done[c] : &p->e->items_open[c];
        if (evidence_has(&seen->in_force, plan) &&
            (!evidence_add(&p->e->items[c], name, time_of(it->due_time), "%s (%s)", it->description,
                           status_label) ||
             !evidence_add(side, name, time_of(done ? it->status_time : it->due_time), "%s (%s)",
                           it->description, status_label)))
            return OOM(st);
    }
    if (!it->overdue)
        return true;
    return evidence_add(&p->e->topics[EVIDENCE_OVERDUE_PLAN_ITEM], name, time_of(it->due_time),
                        "%s (%s, owner %s)", it->description, status_label,
                        it->owner[0] ? it->owner : "none") ||
           OOM(st);
}

static bool training(pass *p, ProtobufCMessage *res, const char *name, status *st)
{
    const TrainingRecord *t = (const TrainingRecord *)res;
    bool fresh = recent(p->e, t->hold_time);
    const char *kind = reflect_enum_label(&supplysec__v1__training_kind__descriptor, t->kind);
    if (!evidence_add(fresh ? &p->e->facts[FACT_TRAININGS] : &p->e->facts[FACT_TRAININGS_OLD], name,
                      time_of(t->hold_time), "%s: %s, %zu attended", kind, t->topic,
                      t->n_attendees))
        return OOM(st);
    bool drill = t->kind != SUPPLYSEC__V1__TRAINING_KIND__TRAINING_KIND_TRAINING;
    return !fresh || !drill ||
           evidence_add(&p->e->facts[FACT_DRILLS], name, time_of(t->hold_time), "%s: %s", kind,
                        t->topic) ||
           OOM(st);
}

static bool monitoring(pass *p, ProtobufCMessage *res, const char *name, status *st)
{
    const MonitoringRecord *r = (const MonitoringRecord *)res;
    return !recent(p->e, r->perform_time) ||
           evidence_add(
               &p->e->facts[FACT_MONITORING], name, time_of(r->perform_time), "%s: %s", r->activity,
               reflect_enum_label(&supplysec__v1__monitoring_result__descriptor, r->result)) ||
           OOM(st);
}

/* The assessments in force, gathered before their scenarios are read. */
typedef struct assessments_in_force {
    char **names;
    double *levels;
    size_t n, cap;
} assessments_in_force;

/* The team of the revision in force, when a member has a competence. */
static bool qualified_team(pass *p, const SecurityAssessment *a, const char *name, status *st)
{
    char rev_name[KIND_NAME_MAX + 16];
    snprintf(rev_name, sizeof rev_name, "%s@%s", name, a->revision_id);
    for (size_t i = 0; i < a->n_team; i++)
        if (a->team[i]->n_competences)
            return evidence_add(&p->e->facts[FACT_QUALIFIED_TEAMS], rev_name, NULL,
                                "%s (%s): %s, among %zu members", a->team[i]->name,
                                a->team[i]->role[0] ? a->team[i]->role : "team member",
                                a->team[i]->competences[0], a->n_team) ||
                   OOM(st);
    return true;
}

static bool assessment(pass *p, ProtobufCMessage *res, const char *name, status *st)
{
    const SecurityAssessment *a = (const SecurityAssessment *)res;
    assessments_in_force *af = p->ctx;
    const ProtobufCMessage *in;
    ProtobufCMessage *kept;
    if (!document(p, res, name, &p->e->facts[FACT_ASSESSMENTS],
                  &p->e->facts[FACT_ASSESSMENTS_DRAFTED], &in, &kept, st))
        return false;
    bool ok = !in || qualified_team(p, (const SecurityAssessment *)in, name, st);
    if (kept)
        protobuf_c_message_free_unpacked(kept, NULL);
    if (!ok || !in || !a->scheme)
        return ok;
    if (af->n == af->cap) {
        size_t cap = af->cap ? af->cap * 2 : 8;
        char **names = realloc(af->names, cap * sizeof *names);
        if (names)
            af->names = names;
        double *levels = names ? realloc(af->levels, cap * sizeof *levels) : NULL;
        if (!levels)
            return OOM(st);
        af->levels = levels;
        af->cap = cap;
    }
    if (!(af->names[af->n] = strdup(name)))
        return OOM(st);
    af->levels[af->n++] = a->scheme->acceptable_level;
    return true;
}

static bool scenario(pass *p, ProtobufCMessage *res, const char *name, status *st)
{
    const ThreatScenario *s = (const ThreatScenario *)res;
    double level = *(const double *)p->ctx;
    if (s->category == SUPPLYSEC__V1__THREAT_CATEGORY__THREAT_CATEGORY_AGRICULTURAL) {
        bool untreated = threat_scenario_untreated(s, level);
        if (!evidence_add(&p->e->facts[FACT_AGRICULTURAL], name, NULL, "%s", s->title) ||
            (untreated &&
             !evidence_add(&p->e->facts[FACT_AGRICULTURAL_UNTREATED], name, NULL,
                           "%s: score %g over %g, untreated", s->title, s->incident_score, level)))
            return OOM(st);
    }
    if (s->residual_score <= level)
        return true;
    return evidence_add(&p->e->topics[EVIDENCE_SCENARIO_OVER_LEVEL], name, NULL,
                        "%s: residual score %g over %g%s", s->title, s->residual_score, level,
                        s->risk_acceptance ? ", risk accepted" : "") ||
           OOM(st);
}

static bool assessments_and_scenarios(pass *p, const char *org, status *st)
{
    assessments_in_force af = {0};
    bool ok = each(p, &security_assessment_kind, org, NULL, assessment, &af, "assessments", st);
    for (size_t i = 0; ok && i < af.n; i++)
        ok = each(p, &threat_scenario_kind, org, af.names[i], scenario, &af.levels[i],
                  "threat scenarios", st);
    for (size_t i = 0; i < af.n; i++)
        free(af.names[i]);
    free(af.names);
    free(af.levels);
    return ok;
}

/* Declarations: an ACCEPTED request's expiring within the window; an
 * EXPIRED one's unless its partner has an ACCEPTED request (answered
 * again since): the EXPIRED ones are kept aside, and compared once every
 * ACCEPTED one (facts[FACT_PARTNERS_DECLARED]) is known. */
static bool request(pass *p, ProtobufCMessage *res, const char *name, status *st)
{
    const DeclarationRequest *r = (const DeclarationRequest *)res;
    evidence_list *expired = p->ctx;
    const int64_t *until = time_of(r->declaration_valid_until);
    if (r->state == REQUEST(EXPIRED))
        return evidence_add(expired, name, until, "%s", r->business_partner) || OOM(st);
    if (r->state != REQUEST(ACCEPTED))
        return true;
    if (!evidence_add(&p->e->facts[FACT_PARTNERS_DECLARED], name, until, "%s", r->business_partner))
        return OOM(st);
    if (!until || *until > p->e->now_s + EVIDENCE_EXPIRY_WINDOW_S)
        return true;
    return evidence_add(&p->e->topics[EVIDENCE_EXPIRING_DECLARATION], name, until,
                        "the declaration of %s expires", r->business_partner) ||
           OOM(st);
}

/* Whether the partner named has an ACCEPTED request. */
static bool declared(const evidence *e, const char *partner)
{
    const evidence_list *l = &e->facts[FACT_PARTNERS_DECLARED];
    for (size_t i = 0; i < l->n; i++)
        if (strcmp(l->items[i].summary, partner) == 0)
            return true;
    return false;
}

static bool expiring_declarations(pass *p, const char *org, status *st)
{
    evidence_list expired = {0};
    bool ok = each(p, &declaration_request_kind, org, NULL, request, &expired,
                   "declaration requests", st);
    for (size_t i = 0; ok && i < expired.n; i++) {
        const evidence_item *x = &expired.items[i];
        if (!declared(p->e, x->summary) &&
            !evidence_add(&p->e->topics[EVIDENCE_EXPIRING_DECLARATION], x->resource,
                          x->has_time ? &x->time_s : NULL, "the declaration of %s has expired",
                          x->summary))
            ok = OOM(st);
    }
    evidence_list_free(&expired);
    return ok;
}

static bool expiring(const evidence *e, const Google__Protobuf__Timestamp *until)
{
    return until && until->seconds <= e->now_s + EVIDENCE_EXPIRY_WINDOW_S;
}

static bool partner(pass *p, ProtobufCMessage *res, const char *name, status *st)
{
    const Supplysec__V1__BusinessPartner *bp = (const Supplysec__V1__BusinessPartner *)res;
    evidence_list *f = p->e->facts;
    for (size_t i = 0; i < bp->n_certificates; i++) {
        const Supplysec__V1__PartnerCertificate *c = bp->certificates[i];
        if (expiring(p->e, c->valid_until) &&
            !evidence_add(
                &p->e->topics[EVIDENCE_EXPIRING_CERTIFICATE], name, time_of(c->valid_until),
                "%s's %s %s", bp->legal_name,
                reflect_enum_label(&supplysec__v1__partner_certificate_type__descriptor, c->type),
                c->number))
            return OOM(st);
    }
    const Google__Protobuf__Timestamp *next = bp->next_credibility_review_time;
    bool overdue = next && next->seconds < p->e->now_s;
    if (overdue &&
        !evidence_add(&p->e->topics[EVIDENCE_OVERDUE_CREDIBILITY_REVIEW], name, &next->seconds,
                      "%s (risk tier %s)", bp->legal_name,
                      reflect_enum_label(&supplysec__v1__risk_tier__descriptor, bp->risk_tier)))
        return OOM(st);
    bool ok;
    char basis[PARTNER_BASIS_MAX] = "";
    bool exempt = p->e->recognized
                      ? partner_exemption_by(bp, p->e->now_s, p->e->recognized, basis, sizeof basis)
                      : !bp->declaration_required;
    if (exempt)
        ok = evidence_add(&f[FACT_PARTNERS_EXEMPT], name, NULL, "%s, exempt: %s", bp->legal_name,
                          p->e->recognized ? basis : bp->exemption_basis);
    else if (declared(p->e, name) && !overdue)
        ok = evidence_add(&f[FACT_PARTNERS_COVERED], name, time_of(next),
                          "%s, declaration accepted", bp->legal_name);
    else
        ok =
            evidence_add(&f[FACT_PARTNERS_UNCOVERED], name, time_of(next), "%s: %s", bp->legal_name,
                         !declared(p->e, name) ? "no accepted declaration of security"
                                               : "its credibility review is overdue");
    return ok || OOM(st);
}

static bool own_certificates(pass *p, const char *org, status *st)
{
    char name[KIND_NAME_MAX];
    snprintf(name, sizeof name, "organizations/%s", org);
    Supplysec__V1__Organization *o = (Supplysec__V1__Organization *)resource_load(
        p->op, organization_kind.desc, organization_kind.collection, org, name, name, NULL, st);
    if (!o)
        return false;
    bool ok = true;
    for (size_t i = 0; i < o->n_supply_chain_roles; i++)
        p->e->manufacturer |= o->supply_chain_roles[i] ==
                              SUPPLYSEC__V1__SUPPLY_CHAIN_ROLE__SUPPLY_CHAIN_ROLE_MANUFACTURER;
    for (size_t i = 0; ok && i < o->n_certificates; i++) {
        const Supplysec__V1__Certificate *c = o->certificates[i];
        if (expiring(p->e, c->valid_until) &&
            !evidence_add(&p->e->topics[EVIDENCE_EXPIRING_CERTIFICATE], name,
                          time_of(c->valid_until), "the organization's %s %s",
                          reflect_enum_label(&supplysec__v1__certificate_type__descriptor, c->type),
                          c->number))
            ok = OOM(st);
    }
    protobuf_c_message_free_unpacked(&o->base, NULL);
    return ok;
}

static bool objective(pass *p, ProtobufCMessage *res, const char *name, status *st)
{
    const SecurityObjective *o = (const SecurityObjective *)res;
    evidence_list *l = o->status == OFF_TARGET ? &p->e->topics[EVIDENCE_OBJECTIVE_OFF_TARGET]
                       : o->status == SUPPLYSEC__V1__OBJECTIVE_STATUS__OBJECTIVE_STATUS_ON_TARGET
                           ? &p->e->facts[FACT_OBJECTIVES_ON_TARGET]
                           : &p->e->facts[FACT_OBJECTIVES_UNMEASURED];
    return evidence_add(l, name, time_of(o->latest_measure_time), "%s (owner %s)", o->title,
                        o->owner[0] ? o->owner : "none") ||
           OOM(st);
}

static int by_resource(const void *x, const void *y)
{
    const evidence_item *a = x, *b = y;
    int c = strcmp(a->resource, b->resource);
    return c ? c : strcmp(a->summary, b->summary);
}

/* Sorted by resource, the first EVIDENCE_LISTED kept. */
void evidence_list_settle(evidence_list *l)
{
    if (l->n)
        qsort(l->items, l->n, sizeof *l->items, by_resource);
    while (l->n > EVIDENCE_LISTED) {
        l->n--;
        free(l->items[l->n].resource);
        free(l->items[l->n].summary);
    }
}

/* Calls fn on every list of e. */
static void lists_each(evidence *e, void (*fn)(evidence_list *l))
{
    for (int t = 0; t < EVIDENCE_TOPICS; t++)
        fn(&e->topics[t]);
    for (int f = 0; f < EVIDENCE_FACTS; f++)
        fn(&e->facts[f]);
    for (int c = 0; c < EVIDENCE_CRITERIA; c++) {
        fn(&e->items[c]);
        fn(&e->items_done[c]);
        fn(&e->items_open[c]);
    }
}

void evidence_free(evidence *e)
{
    lists_each(e, evidence_list_free);
    if (e->last_review)
        protobuf_c_message_free_unpacked(e->last_review, NULL);
    e->last_review = NULL;
}

bool evidence_gather(const op_ctx *op, const char *org, int64_t now_s,
                     const recognition_set *recognized, evidence *e, status *st)
{
    *e = (evidence){.now_s = now_s, .recognized = recognized};
    pass p = {.op = op, .e = e};
    plans_seen plans = {0};
    /* plans before their items, requests before their partners */
    bool ok =
        each(&p, &security_policy_kind, org, NULL, policy, NULL, "security policies", st) &&
        each(&p, &statement_of_application_kind, org, NULL, statement, NULL,
             "statements of application", st) &&
        each(&p, &security_incident_kind, org, NULL, incident, NULL, "security incidents", st) &&
        each(&p, &security_plan_kind, org, NULL, plan, &plans, "security plans", st) &&
        each(&p, &plan_item_kind, org, NULL, plan_item, &plans, "plan items", st) &&
        each(&p, &training_record_kind, org, NULL, training, NULL, "training records", st) &&
        each(&p, &monitoring_record_kind, org, NULL, monitoring, NULL, "monitoring records", st) &&
        assessments_and_scenarios(&p, org, st) && expiring_declarations(&p, org, st) &&
        own_certificates(&p, org, st) &&
        each(&p, &business_partner_kind, org, NULL, partner, NULL, "business partners", st) &&
        each(&p, &security_objective_kind, org, NULL, objective, NULL, "security objectives", st) &&
        each(&p, &management_review_kind, org, NULL, review, NULL, "management reviews", st);
    evidence_list_free(&plans.in_force);
    if (ok)
        lists_each(e, evidence_list_settle);
    return ok;
}
