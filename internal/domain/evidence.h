/* evidence.h — an organization's security management system read in one
 * pass, as of one moment: each collection once (and for each plan its
 * monitoring records, for the activities overdue), what needs attention
 * (what a management review takes as its inputs, ISO 28000 4.6) and what
 * it holds (the facts readiness rules judge), each item the resource it is
 * about, in words, with its time. Records are read as a Get would answer
 * them where that is evidence: a declaration past its valid_until reads
 * EXPIRED. */
#ifndef SUPPLYSEC_EVIDENCE_H
#define SUPPLYSEC_EVIDENCE_H

#include <stdint.h>

#include "kind.h"
#include "recognition.h"

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
    size_t count;     /* every one found */
    int64_t latest_s; /* the latest time of every one found; 0: none had one */
} evidence_list;

/* What the organization's system holds, for the readiness rules
 * (readiness.h). A document "in force" has an approved revision: its
 * resource is `{name}@{revision}` and its time that revision's approval;
 * "drafted" ones have none yet. "Recent" is within EVIDENCE_RECENT_S. */
#define EVIDENCE_RECENT_S (365 * 86400)
#define EVIDENCE_CRITERIA 10 /* indexed by AeoCriterion, A (1) to I (9) */
typedef enum evidence_fact {
    FACT_POLICIES,              /* security policies in force */
    FACT_POLICIES_DRAFTED,      /* security policies never approved */
    FACT_STATEMENTS,            /* statements of application in force */
    FACT_STATEMENTS_DRAFTED,    /* never approved */
    FACT_ASSESSMENTS,           /* security assessments in force */
    FACT_ASSESSMENTS_DRAFTED,   /* never approved */
    FACT_QUALIFIED_TEAMS,       /* assessments in force with a team member with a competence */
    FACT_PLANS,                 /* security plans in force (time: in force since) */
    FACT_PLANS_DRAFTED,         /* never approved */
    FACT_TRAININGS,             /* training records held recently */
    FACT_TRAININGS_OLD,         /* held before */
    FACT_DRILLS,                /* DRILL or EXERCISE records held recently */
    FACT_MONITORING,            /* monitoring records, recent */
    FACT_INCIDENTS_CLOSED,      /* closed incidents, every required notification made */
    FACT_INCIDENTS_UNNOTIFIED,  /* OPEN incidents with a required notification not made */
    FACT_REVIEWS,               /* management reviews in force, held recently */
    FACT_REVIEWS_OLD,           /* held before */
    FACT_OBJECTIVES_ON_TARGET,  /* objectives on target */
    FACT_OBJECTIVES_UNMEASURED, /* not measured yet */
    FACT_PARTNERS_EXEMPT,       /* partners needing no declaration: the certificate named */
    FACT_PARTNERS_COVERED,   /* an ACCEPTED declaration request, credibility review not overdue */
    FACT_PARTNERS_DECLARED,  /* ACCEPTED declaration requests (summary: the partner) */
    FACT_PARTNERS_UNCOVERED, /* partners needing a declaration that is missing or overdue */
    FACT_AGRICULTURAL,       /* agricultural scenarios of assessments in force */
    FACT_AGRICULTURAL_UNTREATED, /* of those, over the acceptable level untreated */
    EVIDENCE_FACTS
} evidence_fact;

typedef struct evidence {
    int64_t now_s;
    evidence_list topics[EVIDENCE_TOPICS];
    evidence_list facts[EVIDENCE_FACTS];
    evidence_list items[EVIDENCE_CRITERIA];      /* plan items of plans in force, by criterion */
    evidence_list items_done[EVIDENCE_CRITERIA]; /* of those, IMPLEMENTED or VERIFIED */
    evidence_list items_open[EVIDENCE_CRITERIA]; /* the others */
    bool manufacturer; /* the organization's roles or a statement in force name it */
    /* The recognitions partners' exemptions are judged by (borrowed; NULL:
     * the internationally accepted certificates, as partners show them). */
    const recognition_set *recognized;
    /* The management review in force with the latest review_time (of equal
     * ones, the one approved last), as its revision in force has it (owned;
     * NULL: none), and its name: a new review's previous one. */
    ProtobufCMessage *last_review;
    int64_t last_review_approved_s;
    char last_review_name[KIND_NAME_MAX];
} evidence;

/* Reads org's records as of now_s into e (zeroed here); free with
 * evidence_free whatever it returns. false with st when a read fails. */
bool evidence_gather(const op_ctx *op, const char *org, int64_t now_s,
                     const recognition_set *recognized, evidence *e, status *st);

/* Adds an item to list (summary printf-style); false when out of memory. */
bool evidence_add(evidence_list *list, const char *resource, const int64_t *time_s, const char *fmt,
                  ...) __attribute__((format(printf, 4, 5)));

/* Sorts list by resource (then summary) and keeps the first
 * EVIDENCE_LISTED; count and latest_s still tell of every one. */
void evidence_list_settle(evidence_list *list);
void evidence_list_free(evidence_list *list);

/* Whether list holds an item about resource. */
bool evidence_has(const evidence_list *list, const char *resource);

void evidence_free(evidence *e);

#endif
