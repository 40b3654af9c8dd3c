/* readiness.h — readiness reports: how far the organization's security
 * management system meets a framework's requirements (the WCO SAFE AEO
 * criteria, the EU AEO questionnaire's security section, the C-TPAT
 * minimum security criteria). Frameworks are data (readiness_frameworks.c):
 * each requirement names the rules (readiness.c) that judge it over the
 * organization's evidence (evidence.h), read once per report. A fourth
 * framework is a table there, not a new handler. */
#ifndef SUPPLYSEC_READINESS_H
#define SUPPLYSEC_READINESS_H

#include "kind.h"
#include "supplysec/v1/readiness.pb-c.h"

/* The rules a requirement is judged by (docs/readiness.md says each). */
typedef enum readiness_rule {
    RULE_NONE = 0,          /* the end of a requirement's rules */
    RULE_POLICY,            /* a security policy in force */
    RULE_STATEMENT,         /* a statement of application in force */
    RULE_ASSESSMENT,        /* a security assessment in force */
    RULE_ASSESSMENT_RECENT, /* ... approved within the last 12 months */
    RULE_TEAM,              /* ... by a team with a qualified member */
    RULE_PLAN,              /* a security plan in force */
    RULE_ITEMS,             /* the plans' items of one AEO criterion (arg), all done */
    RULE_TRAINING,          /* training held within 12 months */
    RULE_DRILL,             /* a drill or exercise within 12 months */
    RULE_INCIDENTS,         /* every required incident notification made */
    RULE_PARTNERS,          /* every partner exempt or covered by a declaration */
    RULE_MONITORING,        /* monitoring recorded within 12 months, none overdue */
    RULE_REVIEW,            /* a management review held within 12 months */
    RULE_OBJECTIVES,        /* objectives measured and on target */
    RULE_AGRICULTURAL,      /* agricultural contamination assessed and treated */
    RULE_MANUFACTURER,      /* applies only to a manufacturer (else NOT_APPLICABLE) */
    READINESS_RULES
} readiness_rule;

#define READINESS_RULES_MAX 4 /* rules of one requirement */
#define READINESS_CLAUSES_MAX 10

typedef struct readiness_rule_ref {
    readiness_rule rule;
    int arg; /* RULE_ITEMS: the AeoCriterion */
} readiness_rule_ref;

typedef struct readiness_requirement {
    const char *id, *title, *group;
    const char *clauses[READINESS_CLAUSES_MAX]; /* NULL-terminated */
    readiness_rule_ref rules[READINESS_RULES_MAX];
} readiness_requirement;

typedef struct readiness_outside {
    const char *id, *title, *note;
} readiness_outside;

typedef struct readiness_framework {
    const char *id, *title, *source;
    const readiness_requirement *requirements;
    size_t n_requirements;
    const readiness_outside *outside;
    size_t n_outside;
} readiness_framework;

extern const readiness_framework *const readiness_frameworks[];
extern const size_t readiness_frameworks_n;

/* GetReadinessReport of `name`
 * (organizations/{organization}/readinessReports/{framework}): a report the
 * caller frees, or NULL with st set. VIEWER. */
/* GetReadinessReport of `name`, partners' exemptions judged by the
 * recognitions of `authority` (a customs authority's name; "" for the
 * internationally accepted certificates). */
Supplysec__V1__ReadinessReport *readiness_report(const op_ctx *op, const char *name,
                                                 const char *authority, status *st);

/* Parses a report's name, organizations/{organization}/readinessReports/
 * {framework}: *org the organization's key, *fw the framework (NULL for
 * one not judged here). false, with st INVALID_ARGUMENT naming field, for
 * a name of another form. */
bool readiness_parse_name(const char *field, const char *name, resource_key *org,
                          const readiness_framework **fw, status *st);
/* The frameworks' ids, ", "-separated, into buf. */
void readiness_frameworks_known(char *buf, size_t size);

/* ListReadinessFrameworks: every framework and its requirements. */
Supplysec__V1__ListReadinessFrameworksResponse *readiness_frameworks_list(status *st);

#endif
