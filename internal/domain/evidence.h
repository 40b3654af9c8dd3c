/* evidence.h — an organization's security management system read in one
 * pass, each collection once, as of one moment: what needs attention
 * (what a management review takes as its inputs, ISO 28000 4.6) and what
 * it holds (the facts readiness rules judge), each item the resource it is
 * about, in words, with its time. Records are read as a
 * Get would answer them (each kind's present hook): a declaration past its
 * valid_until reads EXPIRED. */
#ifndef SUPPLYSEC_EVIDENCE_H
#define SUPPLYSEC_EVIDENCE_H

#include <stdint.h>

#include "kind.h"

typedef enum evidence_topic {
    EVIDENCE_OPEN_INCIDENT,
    EVIDENCE_OVERDUE_PLAN_ITEM,
    EVIDENCE_OVERDUE_MONITORING,
    EVIDENCE_SCENARIO_OVER_LEVEL,
    EVIDENCE_EXPIRING_DECLARATION,
    EVIDENCE_EXPIRING_CERTIFICATE,
    EVIDENCE_OVERDUE_CREDIBILITY_REVIEW,
    EVIDENCE_OBJECTIVE_OFF_TARGET,
    EVIDENCE_TOPICS
} evidence_topic;

#define EVIDENCE_EXPIRY_WINDOW_S (90 * 86400) /* "expiring": within 90 days, or past */
#define EVIDENCE_LISTED 100                   /* items kept per topic; count has them all */

typedef struct evidence_item {
    char *resource; /* owned */
    char *summary;  /* owned */
    int64_t time_s; /* when has_time */
    bool has_time;
} evidence_item;

typedef struct evidence_list {
    evidence_item *items; /* the first EVIDENCE_LISTED by resource name, then summary */
    size_t n, cap;
    size_t count; /* every one found */
} evidence_list;

/* What the organization's system holds, for the readiness rules
 * (readiness.h). A document "in force" has an approved revision: its
 * resource is `{name}@{revision}` and its time that revision's approval
 * (a plan's: when it came into force); "drafted" ones have none yet.
 * "Recent" is within the last EVIDENCE_RECENT_S. */
#define EVIDENCE_RECENT_S (365 * 86400)
#define EVIDENCE_CRITERIA 10 /* indexed by AeoCriterion, A (1) to I (9) */
typedef struct evidence_facts {
    evidence_list policies, policies_drafted;
    evidence_list statements, statements_drafted;
    evidence_list assessments, assessments_drafted;
    evidence_list qualified_teams; /* assessments in force with a member with a competence */
    evidence_list plans, plans_drafted;
    evidence_list items[EVIDENCE_CRITERIA];      /* plan items of plans in force, by criterion */
    evidence_list items_done[EVIDENCE_CRITERIA]; /* of those, IMPLEMENTED or VERIFIED */
    evidence_list trainings, trainings_old;      /* training records, recent and older */
    evidence_list drills;                        /* DRILL or EXERCISE records, recent */
    evidence_list monitoring;                    /* monitoring records, recent */
    evidence_list incidents_closed;              /* with every required notification made */
    evidence_list reviews, reviews_old;          /* reviews in force: held recently, before */
    evidence_list objectives_on_target, objectives_unmeasured;
    evidence_list partners_exempt;   /* needing no declaration: the certificate named */
    evidence_list partners_covered;  /* an ACCEPTED declaration request, review not overdue */
    evidence_list partners_declared; /* an ACCEPTED request (summary: the partner) */
    evidence_list partners_uncovered;
    evidence_list agricultural, agricultural_untreated; /* such scenarios in force */
    bool manufacturer; /* the organization's roles or a statement in force name it */
} evidence_facts;

typedef struct evidence {
    int64_t now_s;
    evidence_list topics[EVIDENCE_TOPICS];
    evidence_facts facts;
} evidence;

/* Reads org's records as of now_s into e (zeroed here); free with
 * evidence_free whatever it returns. false with st when a read fails. */
bool evidence_gather(const op_ctx *op, const char *org, int64_t now_s, evidence *e, status *st);

/* Adds an item to list (summary printf-style); false when out of memory. */
bool evidence_add(evidence_list *list, const char *resource, const int64_t *time_s, const char *fmt,
                  ...) __attribute__((format(printf, 4, 5)));

void evidence_free(evidence *e);

#endif
