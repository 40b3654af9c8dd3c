/* evidence.c — an organization's security management system read once
 * (evidence.h): each collection in one resource_each pass, each record as a
 * Get answers it (the kind's present hook), what needs attention kept per
 * topic, sorted by resource name. */
#include "evidence.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "business_partner.h"
#include "declaration_request.h"
#include "lifecycle.h"
#include "organization.h"
#include "plan_item.h"
#include "security_assessment.h"
#include "security_incident.h"
#include "security_objective.h"
#include "security_plan.h"
#include "threat_scenario.h"

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

static void list_free(evidence_list *l)
{
    for (size_t i = 0; i < l->n; i++) {
        free(l->items[i].resource);
        free(l->items[i].summary);
    }
    free(l->items);
    *l = (evidence_list){0};
}

void evidence_free(evidence *e)
{
    for (int t = 0; t < EVIDENCE_TOPICS; t++)
        list_free(&e->topics[t]);
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
};

/* resource_each's call: the record as a Get answers it, to the pass's fn. */
static bool presented(ProtobufCMessage **msg, const store_record *rec, void *ctx, status *st)
{
    pass *p = ctx;
    resource_key key;
    if (p->k->hooks.present && (!kind_parse_name(p->k, "name", rec->name, &key, st) ||
                                !p->k->hooks.present(p->op, &key, *msg, st)))
        return false;
    return p->fn(p, *msg, rec->name, st);
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

static bool incident(pass *p, ProtobufCMessage *res, const char *name, status *st)
{
    const SecurityIncident *in = (const SecurityIncident *)res;
    if (in->state != INCIDENT_OPEN)
        return true;
    return evidence_add(
               &p->e->topics[EVIDENCE_OPEN_INCIDENT], name, time_of(in->occur_time), "%s (%s)",
               in->title,
               reflect_enum_label(&supplysec__v1__incident_severity__descriptor, in->severity)) ||
           OOM(st);
}

static bool plan_item(pass *p, ProtobufCMessage *res, const char *name, status *st)
{
    const PlanItem *it = (const PlanItem *)res;
    if (!it->overdue)
        return true;
    return evidence_add(
               &p->e->topics[EVIDENCE_OVERDUE_PLAN_ITEM], name, time_of(it->due_time),
               "%s (%s, owner %s)", it->description,
               reflect_enum_label(&supplysec__v1__plan_item_status__descriptor, it->status),
               it->owner[0] ? it->owner : "none") ||
           OOM(st);
}

static bool plan(pass *p, ProtobufCMessage *res, const char *name, status *st)
{
    const SecurityPlan *pl = (const SecurityPlan *)res;
    for (size_t i = 0; i < pl->n_monitoring_schedule; i++) {
        const Supplysec__V1__MonitoringActivity *a = pl->monitoring_schedule[i];
        if (a->overdue && !evidence_add(&p->e->topics[EVIDENCE_OVERDUE_MONITORING], name,
                                        time_of(a->last_perform_time), "%s: %s (every %d days)",
                                        a->id, a->description, a->interval_days))
            return OOM(st);
    }
    return true;
}

/* The assessments in force, gathered before their scenarios are read. */
typedef struct assessments_in_force {
    char **names;
    double *levels;
    size_t n, cap;
} assessments_in_force;

static bool assessment(pass *p, ProtobufCMessage *res, const char *name, status *st)
{
    const SecurityAssessment *a = (const SecurityAssessment *)res;
    assessments_in_force *af = p->ctx;
    bool in_force = a->state == SUPPLYSEC__V1__DOCUMENT_STATE__DOCUMENT_STATE_APPROVED ||
                    strtol(a->revision_id, NULL, 10) > 1;
    if (!in_force || !a->scheme)
        return true;
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
    if (s->residual_score <= level)
        return true;
    return evidence_add(&p->e->topics[EVIDENCE_SCENARIO_OVER_LEVEL], name, NULL,
                        "%s: residual score %g over %g%s", s->title, s->residual_score, level,
                        s->risk_acceptance ? ", risk accepted" : "") ||
           OOM(st);
}

static bool scenarios_over_level(pass *p, const char *org, status *st)
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
 * again since). Two lists first, the partners compared after. */
typedef struct requests_seen {
    evidence_list expired;  /* resource: the request; summary: its partner */
    evidence_list accepted; /* the same, every ACCEPTED one */
} requests_seen;

static bool request(pass *p, ProtobufCMessage *res, const char *name, status *st)
{
    const DeclarationRequest *r = (const DeclarationRequest *)res;
    requests_seen *seen = p->ctx;
    const int64_t *until = time_of(r->declaration_valid_until);
    if (r->state == REQUEST(EXPIRED))
        return evidence_add(&seen->expired, name, until, "%s", r->business_partner) || OOM(st);
    if (r->state != REQUEST(ACCEPTED))
        return true;
    if (!evidence_add(&seen->accepted, name, until, "%s", r->business_partner))
        return OOM(st);
    if (!until || *until > p->e->now_s + EVIDENCE_EXPIRY_WINDOW_S)
        return true;
    return evidence_add(&p->e->topics[EVIDENCE_EXPIRING_DECLARATION], name, until,
                        "the declaration of %s expires", r->business_partner) ||
           OOM(st);
}

static bool expiring_declarations(pass *p, const char *org, status *st)
{
    requests_seen seen = {0};
    bool ok =
        each(p, &declaration_request_kind, org, NULL, request, &seen, "declaration requests", st);
    for (size_t i = 0; ok && i < seen.expired.n; i++) {
        const evidence_item *x = &seen.expired.items[i];
        bool answered_again = false;
        for (size_t j = 0; j < seen.accepted.n && !answered_again; j++)
            answered_again = strcmp(seen.accepted.items[j].summary, x->summary) == 0;
        if (!answered_again && !evidence_add(&p->e->topics[EVIDENCE_EXPIRING_DECLARATION],
                                             x->resource, x->has_time ? &x->time_s : NULL,
                                             "the declaration of %s has expired", x->summary))
            ok = OOM(st);
    }
    list_free(&seen.expired);
    list_free(&seen.accepted);
    return ok;
}

static bool expiring(const evidence *e, const Google__Protobuf__Timestamp *until)
{
    return until && until->seconds <= e->now_s + EVIDENCE_EXPIRY_WINDOW_S;
}

static bool partner(pass *p, ProtobufCMessage *res, const char *name, status *st)
{
    const Supplysec__V1__BusinessPartner *bp = (const Supplysec__V1__BusinessPartner *)res;
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
    if (next && next->seconds < p->e->now_s &&
        !evidence_add(&p->e->topics[EVIDENCE_OVERDUE_CREDIBILITY_REVIEW], name, &next->seconds,
                      "%s (risk tier %s)", bp->legal_name,
                      reflect_enum_label(&supplysec__v1__risk_tier__descriptor, bp->risk_tier)))
        return OOM(st);
    return true;
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
    if (o->status != OFF_TARGET)
        return true;
    return evidence_add(&p->e->topics[EVIDENCE_OBJECTIVE_OFF_TARGET], name,
                        time_of(o->latest_measure_time), "%s (owner %s)", o->title,
                        o->owner[0] ? o->owner : "none") ||
           OOM(st);
}

static int by_resource(const void *x, const void *y)
{
    const evidence_item *a = x, *b = y;
    int c = strcmp(a->resource, b->resource);
    return c ? c : strcmp(a->summary, b->summary);
}

bool evidence_gather(const op_ctx *op, const char *org, int64_t now_s, evidence *e, status *st)
{
    *e = (evidence){.now_s = now_s};
    pass p = {.op = op, .e = e};
    bool ok =
        each(&p, &security_incident_kind, org, NULL, incident, NULL, "security incidents", st) &&
        each(&p, &plan_item_kind, org, NULL, plan_item, NULL, "plan items", st) &&
        each(&p, &security_plan_kind, org, NULL, plan, NULL, "security plans", st) &&
        scenarios_over_level(&p, org, st) && expiring_declarations(&p, org, st) &&
        own_certificates(&p, org, st) &&
        each(&p, &business_partner_kind, org, NULL, partner, NULL, "business partners", st) &&
        each(&p, &security_objective_kind, org, NULL, objective, NULL, "security objectives", st);
    for (int t = 0; ok && t < EVIDENCE_TOPICS; t++) {
        evidence_list *l = &e->topics[t];
        if (l->n)
            qsort(l->items, l->n, sizeof *l->items, by_resource);
        while (l->n > EVIDENCE_LISTED) { /* the first ones kept */
            l->n--;
            free(l->items[l->n].resource);
            free(l->items[l->n].summary);
        }
    }
    return ok;
}
