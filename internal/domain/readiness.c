/* readiness.c — readiness reports (readiness.h): the rules, each judging
 * one thing over the organization's evidence (MET / PARTIAL / MISSING, or
 * NOT_APPLICABLE), the evidence it found and, in words, what is missing;
 * and the report, a framework's requirements each judged by its rules
 * (every rule MET: MET; every one MISSING: MISSING; else PARTIAL; a rule
 * NOT_APPLICABLE makes the requirement so; a rule met only for want of
 * anything to judge, no incident at all, is left out unless all are). docs/readiness.md states
 * every rule; a test holds each in both directions. */
#include "readiness.h"

#include "access.h"
#include "auth.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "calendar.h"
#include "clock.h"
#include "evidence.h"
#include "organization.h"

#define STATUS(x) SUPPLYSEC__V1__REQUIREMENT_STATUS__REQUIREMENT_STATUS_##x
#define EVIDENCE_PER_RULE 20
#define SHOWN_MAX 3
#define MISSING_PER_RULE 3
#define SENTENCE_MAX 600
#define REPORTS_SEGMENT "/readinessReports/"

typedef Supplysec__V1__RequirementStatus req_status;

/* One rule's judgement. */
typedef struct judged {
    req_status status;
    bool vacuous; /* MET for want of anything to judge (no incident at all) */
    const evidence_list *shown[SHOWN_MAX]; /* their items are the evidence */
    size_t n_shown;
    char missing[MISSING_PER_RULE][SENTENCE_MAX];
    size_t n_missing;
} judged;

static void show(judged *j, const evidence_list *l)
{
    if (l->n && j->n_shown < SHOWN_MAX)
        j->shown[j->n_shown++] = l;
}

static void missing(judged *j, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void missing(judged *j, const char *fmt, ...)
{
    if (j->n_missing == MISSING_PER_RULE)
        return;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(j->missing[j->n_missing++], SENTENCE_MAX, fmt, ap);
    va_end(ap);
}

/* "2026-05-01" */
static const char *day(int64_t s, char buf[CALENDAR_RFC3339_MAX])
{
    calendar_format_rfc3339((calendar_time){s, 0}, buf, CALENDAR_RFC3339_MAX);
    buf[10] = '\0';
    return buf;
}

static const char *first(const evidence_list *l)
{
    return l->n ? l->items[0].resource : "";
}

/* ---- the rules ---- */

/* A controlled document in force (MET), drafted only (PARTIAL), none. */
static void document(judged *j, const evidence *e, evidence_fact in_force, evidence_fact drafted,
                     const char *what, const char *clause)
{
    if (e->facts[in_force].count) {
        j->status = STATUS(MET);
        show(j, &e->facts[in_force]);
    } else if (e->facts[drafted].count) {
        j->status = STATUS(PARTIAL);
        show(j, &e->facts[drafted]);
        missing(j, "No %s is in force: approve %s (%s).", what, first(&e->facts[drafted]), clause);
    } else {
        j->status = STATUS(MISSING);
        missing(j, "Write a %s and have it approved (%s).", what, clause);
    }
}

static void rule_policy(const evidence *e, int arg, judged *j)
{
    (void)arg;
    document(j, e, FACT_POLICIES, FACT_POLICIES_DRAFTED, "security policy", "ISO 28000 4.2");
}

static void rule_statement(const evidence *e, int arg, judged *j)
{
    (void)arg;
    document(j, e, FACT_STATEMENTS, FACT_STATEMENTS_DRAFTED,
             "statement of application (the scope of service and its business partners)",
             "ISO 28001 4.1");
}

static void rule_assessment(const evidence *e, int arg, judged *j)
{
    (void)arg;
    document(j, e, FACT_ASSESSMENTS, FACT_ASSESSMENTS_DRAFTED, "security assessment",
             "ISO 28001 5.2, 5.3");
}

static void rule_plan(const evidence *e, int arg, judged *j)
{
    (void)arg;
    document(j, e, FACT_PLANS, FACT_PLANS_DRAFTED,
             "security plan (with its incident response and recovery procedure)",
             "ISO 28001 5.4 to 5.7");
}

static void rule_assessment_recent(const evidence *e, int arg, judged *j)
{
    (void)arg;
    const evidence_list *in = &e->facts[FACT_ASSESSMENTS];
    char d[CALENDAR_RFC3339_MAX];
    int64_t last = in->latest_s;
    if (!in->count) {
        rule_assessment(e, 0, j);
    } else if (last >= e->now_s - EVIDENCE_RECENT_S) {
        j->status = STATUS(MET);
        show(j, in);
    } else {
        j->status = STATUS(PARTIAL);
        show(j, in);
        missing(j,
                "The assessment in force was approved on %s, more than 12 months ago: review it "
                "(a new revision, approved) at least once a year.",
                last ? day(last, d) : "an unknown day");
    }
}

static void rule_team(const evidence *e, int arg, judged *j)
{
    (void)arg;
    if (e->facts[FACT_QUALIFIED_TEAMS].count) {
        j->status = STATUS(MET);
        show(j, &e->facts[FACT_QUALIFIED_TEAMS]);
        return;
    }
    j->status = e->facts[FACT_ASSESSMENTS_DRAFTED].count ? STATUS(PARTIAL) : STATUS(MISSING);
    show(j, &e->facts[FACT_ASSESSMENTS_DRAFTED]);
    missing(j, "No approved assessment names a qualified team: record the team's members and "
               "their competences in an assessment and have it approved (ISO 28001 5.3.1).");
}

static const char *criterion_label(int c)
{
    return reflect_enum_label(&supplysec__v1__aeo_criterion__descriptor, c);
}

static void rule_items(const evidence *e, int c, judged *j)
{
    const evidence_list *all = &e->items[c], *done = &e->items_done[c];
    if (!all->count) {
        j->status = STATUS(MISSING);
        missing(j,
                "No security plan in force has an item for AEO criterion %s: accept a "
                "countermeasure for it in the assessment, and make the plan from it "
                "(ISO 28001 5.3.2, 5.4).",
                criterion_label(c));
        return;
    }
    show(j, done);
    if (done->count == all->count) {
        j->status = STATUS(MET);
        return;
    }
    j->status = STATUS(PARTIAL);
    missing(j, "%zu of the %zu plan items for criterion %s are not implemented yet, e.g. %s.",
            all->count - done->count, all->count, criterion_label(c), first(&e->items_open[c]));
}

static void rule_training(const evidence *e, int arg, judged *j)
{
    (void)arg;
    char d[CALENDAR_RFC3339_MAX];
    if (e->facts[FACT_TRAININGS].count) {
        j->status = STATUS(MET);
        show(j, &e->facts[FACT_TRAININGS]);
    } else if (e->facts[FACT_TRAININGS_OLD].count) {
        j->status = STATUS(PARTIAL);
        show(j, &e->facts[FACT_TRAININGS_OLD]);
        missing(j,
                "No training in the last 12 months (the last on %s): hold and record it "
                "(ISO 28001 5.5).",
                day(e->facts[FACT_TRAININGS_OLD].latest_s, d));
    } else {
        j->status = STATUS(MISSING);
        missing(j, "No training recorded: record the training the security plan provides for "
                   "(ISO 28001 5.5).");
    }
}

static void rule_drill(const evidence *e, int arg, judged *j)
{
    (void)arg;
    if (e->facts[FACT_DRILLS].count) {
        j->status = STATUS(MET);
        show(j, &e->facts[FACT_DRILLS]);
        return;
    }
    j->status = STATUS(MISSING);
    missing(j, "No drill or exercise in the last 12 months: practise the incident procedure and "
               "record it (ISO 28000 4.4.7).");
}

static void rule_incidents(const evidence *e, int arg, judged *j)
{
    (void)arg;
    const evidence_list *open = &e->facts[FACT_INCIDENTS_UNNOTIFIED];
    show(j, &e->facts[FACT_INCIDENTS_CLOSED]);
    if (!open->count) {
        j->status = STATUS(MET);
        j->vacuous =
            !e->facts[FACT_INCIDENTS_CLOSED].count && !e->topics[EVIDENCE_OPEN_INCIDENT].count;
        return;
    }
    j->status = STATUS(PARTIAL);
    show(j, open);
    missing(j,
            "%zu open incident%s still wait%s for a required notification to customs or law "
            "enforcement, e.g. %s (ISO 28001 5.7).",
            open->count, open->count == 1 ? "" : "s", open->count == 1 ? "s" : "", first(open));
}

static void rule_partners(const evidence *e, int arg, judged *j)
{
    (void)arg;
    const evidence_list *exempt = &e->facts[FACT_PARTNERS_EXEMPT],
                        *covered = &e->facts[FACT_PARTNERS_COVERED],
                        *uncovered = &e->facts[FACT_PARTNERS_UNCOVERED];
    size_t total = exempt->count + covered->count + uncovered->count;
    show(j, covered);
    show(j, exempt);
    if (!total) {
        j->status = STATUS(MISSING);
        missing(j, "No business partner is listed: list the partners of the supply chain "
                   "(ISO 28001 4.2).");
        return;
    }
    if (!uncovered->count) {
        j->status = STATUS(MET);
        return;
    }
    j->status = uncovered->count == total ? STATUS(MISSING) : STATUS(PARTIAL);
    missing(j,
            "%zu of %zu business partners are neither exempt nor covered by an accepted, "
            "unexpired declaration of security with its credibility review on time, e.g. %s "
            "(ISO 28001 4.2 to 4.5).",
            uncovered->count, total, uncovered->n ? uncovered->items[0].summary : "");
}

static void rule_monitoring(const evidence *e, int arg, judged *j)
{
    (void)arg;
    const evidence_list *records = &e->facts[FACT_MONITORING],
                        *overdue = &e->topics[EVIDENCE_OVERDUE_MONITORING];
    show(j, records);
    if (!records->count) {
        j->status = STATUS(MISSING);
        missing(j, "No monitoring recorded in the last 12 months: carry out the security plan's "
                   "monitoring schedule and record it (ISO 28001 5.6).");
    } else {
        j->status = overdue->count ? STATUS(PARTIAL) : STATUS(MET);
    }
    if (overdue->count)
        missing(j, "%zu monitoring activit%s overdue, e.g. %s of %s.", overdue->count,
                overdue->count == 1 ? "y is" : "ies are", overdue->items[0].summary,
                overdue->items[0].resource);
}

static void rule_review(const evidence *e, int arg, judged *j)
{
    (void)arg;
    char d[CALENDAR_RFC3339_MAX];
    if (e->facts[FACT_REVIEWS].count) {
        j->status = STATUS(MET);
        show(j, &e->facts[FACT_REVIEWS]);
    } else if (e->facts[FACT_REVIEWS_OLD].count) {
        j->status = STATUS(PARTIAL);
        show(j, &e->facts[FACT_REVIEWS_OLD]);
        missing(j,
                "The last management review was held on %s, more than 12 months ago: hold "
                "one and have its record approved (ISO 28000 4.6).",
                day(e->facts[FACT_REVIEWS_OLD].latest_s, d));
    } else {
        j->status = STATUS(MISSING);
        missing(j, "No management review has an approved record: hold one (ISO 28000 4.6).");
    }
}

static void rule_objectives(const evidence *e, int arg, judged *j)
{
    (void)arg;
    const evidence_list *on = &e->facts[FACT_OBJECTIVES_ON_TARGET],
                        *unmeasured = &e->facts[FACT_OBJECTIVES_UNMEASURED],
                        *off = &e->topics[EVIDENCE_OBJECTIVE_OFF_TARGET];
    show(j, on);
    if (!on->count && !unmeasured->count && !off->count) {
        j->status = STATUS(MISSING);
        missing(j, "No security objective is set: set measurable objectives (ISO 28000 4.3).");
        return;
    }
    j->status = !unmeasured->count && !off->count ? STATUS(MET)
                : on->count                       ? STATUS(PARTIAL)
                                                  : STATUS(MISSING);
    if (off->count)
        missing(j, "%zu objective%s off target, e.g. %s.", off->count,
                off->count == 1 ? " is" : "s are", first(off));
    if (unmeasured->count)
        missing(j, "%zu objective%s not measured yet, e.g. %s.", unmeasured->count,
                unmeasured->count == 1 ? " is" : "s are", first(unmeasured));
}

static void rule_agricultural(const evidence *e, int arg, judged *j)
{
    (void)arg;
    const evidence_list *all = &e->facts[FACT_AGRICULTURAL],
                        *untreated = &e->facts[FACT_AGRICULTURAL_UNTREATED];
    show(j, all);
    if (!all->count) {
        j->status = STATUS(MISSING);
        missing(j, "No assessment in force has an agricultural contamination or pest scenario: "
                   "assess it.");
    } else if (untreated->count) {
        j->status = STATUS(PARTIAL);
        missing(j, "%zu agricultural scenario%s over the acceptable level untreated, e.g. %s.",
                untreated->count, untreated->count == 1 ? " is" : "s are", first(untreated));
    } else {
        j->status = STATUS(MET);
    }
}

static void rule_manufacturer(const evidence *e, int arg, judged *j)
{
    (void)arg;
    j->status = e->manufacturer ? STATUS(MET) : STATUS(NOT_APPLICABLE);
}

static void (*const rules[READINESS_RULES])(const evidence *e, int arg, judged *j) = {
    [RULE_POLICY] = rule_policy,
    [RULE_STATEMENT] = rule_statement,
    [RULE_ASSESSMENT] = rule_assessment,
    [RULE_ASSESSMENT_RECENT] = rule_assessment_recent,
    [RULE_TEAM] = rule_team,
    [RULE_PLAN] = rule_plan,
    [RULE_ITEMS] = rule_items,
    [RULE_TRAINING] = rule_training,
    [RULE_DRILL] = rule_drill,
    [RULE_INCIDENTS] = rule_incidents,
    [RULE_PARTNERS] = rule_partners,
    [RULE_MONITORING] = rule_monitoring,
    [RULE_REVIEW] = rule_review,
    [RULE_OBJECTIVES] = rule_objectives,
    [RULE_AGRICULTURAL] = rule_agricultural,
    [RULE_MANUFACTURER] = rule_manufacturer,
};

/* ---- the report ---- */

static bool strings_add(char ***v, size_t *n, const char *s)
{
    char **grown = realloc(*v, (*n + 1) * sizeof *grown);
    if (!grown)
        return false;
    *v = grown;
    char *copy = strdup(s);
    if (!copy)
        return false;
    (*v)[(*n)++] = copy;
    return true;
}

static bool evidence_item_add(Supplysec__V1__RequirementReadiness *r, const evidence_item *it)
{
    Supplysec__V1__ReadinessEvidence **grown =
        realloc(r->evidence, (r->n_evidence + 1) * sizeof *grown);
    if (!grown)
        return false;
    r->evidence = grown;
    Supplysec__V1__ReadinessEvidence *x = malloc(sizeof *x);
    if (!x)
        return false;
    supplysec__v1__readiness_evidence__init(x);
    r->evidence[r->n_evidence++] = x;
    return message_set_string(&x->base, "resource", it->resource) &&
           message_set_string(&x->base, "description", it->summary);
}

/* The requirement's description (id, title, group, clauses), status unset. */
static Supplysec__V1__RequirementReadiness *requirement_new(const readiness_requirement *q)
{
    Supplysec__V1__RequirementReadiness *r = malloc(sizeof *r);
    if (!r)
        return NULL;
    supplysec__v1__requirement_readiness__init(r);
    bool ok = message_set_string(&r->base, "id", q->id) &&
              message_set_string(&r->base, "title", q->title) &&
              message_set_string(&r->base, "group", q->group);
    for (size_t i = 0; ok && i < READINESS_CLAUSES_MAX && q->clauses[i]; i++)
        ok = strings_add(&r->clauses, &r->n_clauses, q->clauses[i]);
    if (!ok) {
        protobuf_c_message_free_unpacked(&r->base, NULL);
        return NULL;
    }
    return r;
}

/* q judged over e into r. */
static bool requirement_judge(const readiness_requirement *q, const evidence *e,
                              Supplysec__V1__RequirementReadiness *r)
{
    size_t met = 0, missed = 0, n = 0;
    bool not_applicable = false, ok = true;
    for (size_t i = 0; i < READINESS_RULES_MAX && q->rules[i].rule != RULE_NONE; i++) {
        judged j = {0};
        rules[q->rules[i].rule](e, q->rules[i].arg, &j);
        if (j.vacuous) /* counts only when every rule is */
            continue;
        n++;
        met += j.status == STATUS(MET);
        missed += j.status == STATUS(MISSING);
        not_applicable |= j.status == STATUS(NOT_APPLICABLE);
        for (size_t s = 0, shown = 0; ok && s < j.n_shown; s++)
            for (size_t k = 0; ok && k < j.shown[s]->n && shown < EVIDENCE_PER_RULE; k++, shown++)
                ok = evidence_item_add(r, &j.shown[s]->items[k]);
        for (size_t m = 0; ok && m < j.n_missing; m++)
            ok = strings_add(&r->missing, &r->n_missing, j.missing[m]);
    }
    r->status = not_applicable ? STATUS(NOT_APPLICABLE)
                : met == n     ? STATUS(MET)
                : missed == n  ? STATUS(MISSING)
                               : STATUS(PARTIAL);
    if (not_applicable) { /* nothing to show for it */
        Supplysec__V1__RequirementReadiness blank = SUPPLYSEC__V1__REQUIREMENT_READINESS__INIT;
        for (size_t i = 0; i < r->n_evidence; i++)
            protobuf_c_message_free_unpacked(&r->evidence[i]->base, NULL);
        for (size_t i = 0; i < r->n_missing; i++)
            free(r->missing[i]);
        free(r->evidence);
        free(r->missing);
        r->evidence = blank.evidence;
        r->n_evidence = 0;
        r->missing = blank.missing;
        r->n_missing = 0;
    }
    return ok;
}

static Supplysec__V1__OutsideRequirement *outside_new(const readiness_outside *o)
{
    Supplysec__V1__OutsideRequirement *x = malloc(sizeof *x);
    if (!x)
        return NULL;
    supplysec__v1__outside_requirement__init(x);
    if (!message_set_string(&x->base, "id", o->id) ||
        !message_set_string(&x->base, "title", o->title) ||
        !message_set_string(&x->base, "note", o->note)) {
        protobuf_c_message_free_unpacked(&x->base, NULL);
        return NULL;
    }
    return x;
}

/* The framework's requirements (judged over e when not NULL) and what it
 * leaves outside, into the repeated fields given. */
static bool framework_fill(const readiness_framework *fw, const evidence *e,
                           Supplysec__V1__RequirementReadiness ***reqs, size_t *n_reqs,
                           Supplysec__V1__OutsideRequirement ***outs, size_t *n_outs)
{
    if (!(*reqs = calloc(fw->n_requirements, sizeof **reqs)) ||
        (fw->n_outside && !(*outs = calloc(fw->n_outside, sizeof **outs))))
        return false;
    for (size_t i = 0; i < fw->n_requirements; i++) {
        Supplysec__V1__RequirementReadiness *r = requirement_new(&fw->requirements[i]);
        if (!r)
            return false;
        (*reqs)[(*n_reqs)++] = r;
        if (e && !requirement_judge(&fw->requirements[i], e, r))
            return false;
    }
    for (size_t i = 0; i < fw->n_outside; i++)
        if (!((*outs)[(*n_outs)++] = outside_new(&fw->outside[i])))
            return false;
    return true;
}

static const readiness_framework *framework_named(const char *id)
{
    for (size_t i = 0; i < readiness_frameworks_n; i++)
        if (strcmp(readiness_frameworks[i]->id, id) == 0)
            return readiness_frameworks[i];
    return NULL;
}

void readiness_frameworks_known(char *buf, size_t size)
{
    buf[0] = '\0';
    for (size_t i = 0; i < readiness_frameworks_n; i++) {
        size_t n = strlen(buf);
        snprintf(buf + n, size - n, "%s%s", i ? ", " : "", readiness_frameworks[i]->id);
    }
}

bool readiness_parse_name(const char *field, const char *name, resource_key *org,
                          const readiness_framework **fw, status *st)
{
    char org_name[KIND_NAME_MAX];
    const char *seg = strstr(name, REPORTS_SEGMENT);
    status lst = {0};
    *fw = NULL;
    if (!seg || (size_t)(seg - name) >= sizeof org_name)
        return status_fail(st, STATUS_INVALID_ARGUMENT,
                           "%s: a readiness report is named "
                           "organizations/{organization}/readinessReports/{framework}",
                           field);
    snprintf(org_name, sizeof org_name, "%.*s", (int)(seg - name), name);
    if (!kind_parse_name(&organization_kind, field, org_name, org, &lst))
        return status_fail(st, STATUS_INVALID_ARGUMENT,
                           "%s: a readiness report is named "
                           "organizations/{organization}/readinessReports/{framework}: %s",
                           field, lst.msg);
    *fw = framework_named(seg + strlen(REPORTS_SEGMENT));
    return true;
}

Supplysec__V1__ReadinessReport *readiness_report(const op_ctx *op, const char *name,
                                                 const char *authority, status *st)
{
    resource_key key, ak;
    const readiness_framework *fw = NULL;
    char known[256];
    recognition_set recognized = {0};
    /* validate */
    if (!readiness_parse_name("name", name, &key, &fw, st) ||
        (authority[0] && !kind_parse_name(&organization_kind, "authority", authority, &ak, st)))
        return NULL;
    /* authorize: its members; outside it, a share of this report or a
     * validator's grant */
    bool member = op->who->org[0] && strcmp(op->who->org, key.org) == 0;
    char canonical[KIND_NAME_MAX + sizeof REPORTS_SEGMENT + 64];
    snprintf(canonical, sizeof canonical, "%s" REPORTS_SEGMENT "%s", key.name, fw ? fw->id : "");
    if (member || auth_is_platform_admin(op->who)) {
        if (!kind_authorize_role(op, &key, SUPPLYSEC__V1__ROLE__ROLE_VIEWER, name, st))
            return NULL;
    } else if (!fw || !access_read(op, key.org, canonical, true, st)) {
        if (st->code == STATUS_OK)
            status_fail(st, STATUS_NOT_FOUND, "%s not found", name);
        return NULL;
    }
    /* load: the framework, the evidence */
    if (!fw) {
        readiness_frameworks_known(known, sizeof known);
        status_fail(st, STATUS_NOT_FOUND, "%s not found: the frameworks are %s", name, known);
        return NULL;
    }
    evidence e = {0};
    Supplysec__V1__ReadinessReport *rep = NULL;
    if ((authority[0] && !recognition_set_load(op, "authority", authority, &recognized, st)) ||
        !evidence_gather(op, key.org, clock_realtime_ms() / 1000, authority[0] ? &recognized : NULL,
                         &e, st))
        goto done;
    /* decide, answer */
    if (!(rep = malloc(sizeof *rep))) {
        status_fail(st, STATUS_RESOURCE_EXHAUSTED, "out of memory");
        goto done;
    }
    supplysec__v1__readiness_report__init(rep);
    if (!message_set_string(&rep->base, "name", name) ||
        !message_set_string(&rep->base, "framework_title", fw->title) ||
        !message_set_string(&rep->base, "source", fw->source) ||
        !message_set_string(&rep->base, "authority", recognized.authority) ||
        !resource_stamp_now(&rep->base, "compute_time") ||
        !framework_fill(fw, &e, &rep->requirements, &rep->n_requirements, &rep->outside_system,
                        &rep->n_outside_system)) {
        protobuf_c_message_free_unpacked(&rep->base, NULL);
        rep = NULL;
        status_fail(st, STATUS_RESOURCE_EXHAUSTED, "out of memory");
        goto done;
    }
    for (size_t i = 0; i < rep->n_requirements; i++) {
        req_status s = rep->requirements[i]->status;
        rep->met_count += s == STATUS(MET);
        rep->partial_count += s == STATUS(PARTIAL);
        rep->missing_count += s == STATUS(MISSING);
        rep->not_applicable_count += s == STATUS(NOT_APPLICABLE);
    }
done:
    evidence_free(&e);
    recognition_set_free(&recognized);
    return rep;
}

Supplysec__V1__ListReadinessFrameworksResponse *readiness_frameworks_list(status *st)
{
    Supplysec__V1__ListReadinessFrameworksResponse *resp = malloc(sizeof *resp);
    bool ok = resp != NULL;
    if (resp) {
        supplysec__v1__list_readiness_frameworks_response__init(resp);
        ok = (resp->frameworks = calloc(readiness_frameworks_n, sizeof *resp->frameworks)) != NULL;
    }
    for (size_t i = 0; ok && i < readiness_frameworks_n; i++) {
        const readiness_framework *fw = readiness_frameworks[i];
        Supplysec__V1__ReadinessFramework *f = malloc(sizeof *f);
        if (!(ok = f != NULL))
            break;
        supplysec__v1__readiness_framework__init(f);
        resp->frameworks[resp->n_frameworks++] = f;
        ok = message_set_string(&f->base, "id", fw->id) &&
             message_set_string(&f->base, "title", fw->title) &&
             message_set_string(&f->base, "source", fw->source) &&
             framework_fill(fw, NULL, &f->requirements, &f->n_requirements, &f->outside_system,
                            &f->n_outside_system);
    }
    if (ok)
        return resp;
    if (resp)
        protobuf_c_message_free_unpacked(&resp->base, NULL);
    status_fail(st, STATUS_RESOURCE_EXHAUSTED, "out of memory");
    return NULL;
}
