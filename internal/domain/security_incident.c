/* security_incident.c — the rules of a security incident (ISO 28001 5.7,
 * ISO 28000 4.5.3): what it records (every field's limits; the facility
 * where it happened and the scenarios to reassess, which must exist), the
 * required notifications not made yet (derived at each write), the
 * business partners whose accepted declarations cover the facility (as of
 * each read), and its moves: closed by an ADMIN only once every required
 * notification is made and every action done, reopened with a reason; only
 * an OPEN incident changes. */
#include "security_incident.h"

#include "access.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "declaration_request.h"
#include "organization.h"
#include "statement_of_application.h"
#include "threat_scenario.h"
#include "validate.h"

#define STATE(x) SUPPLYSEC__V1__INCIDENT_STATE__INCIDENT_STATE_##x
#define ACTION_OPEN SUPPLYSEC__V1__ACTION_STATUS__ACTION_STATUS_OPEN
#define MAX_ASSETS 50
#define MAX_REQUIRED 20
#define MAX_MADE 50
#define MAX_ACTIONS 100
#define MAX_SCENARIOS 100
#define MISSING_NAMED 3 /* what a refused close names */

typedef Supplysec__V1__RequiredNotification Required;
typedef Supplysec__V1__NotificationMade Made;
typedef Supplysec__V1__IncidentAction Action;

static bool count_ok(const char *p, const char *what, size_t n, size_t most, status *st)
{
    return n <= most ||
           status_fail(st, STATUS_INVALID_ARGUMENT, "%s.%s: at most %zu", p, what, most);
}

static bool notifications_valid(const SecurityIncident *in, const char *p, status *st)
{
    char f[160];
    for (size_t i = 0; i < in->n_required_notifications; i++) {
        const Required *r = in->required_notifications[i];
        snprintf(f, sizeof f, "%s.required_notifications[%zu].kind", p, i);
        if (!validate_enum(f, &supplysec__v1__authority_kind__descriptor, r->kind, true, st))
            return false;
        snprintf(f, sizeof f, "%s.required_notifications[%zu].authority", p, i);
        if (!validate_text(f, r->authority, 200, true, st))
            return false;
        snprintf(f, sizeof f, "%s.required_notifications[%zu].due_time", p, i);
        if (!validate_time(f, r->due_time, false, false, st))
            return false;
    }
    for (size_t i = 0; i < in->n_notifications; i++) {
        const Made *m = in->notifications[i];
        snprintf(f, sizeof f, "%s.notifications[%zu].kind", p, i);
        if (!validate_enum(f, &supplysec__v1__authority_kind__descriptor, m->kind, true, st))
            return false;
        snprintf(f, sizeof f, "%s.notifications[%zu].authority", p, i);
        if (!validate_text(f, m->authority, 200, true, st))
            return false;
        snprintf(f, sizeof f, "%s.notifications[%zu].reference", p, i);
        if (!validate_text(f, m->reference, 200, true, st))
            return false;
        snprintf(f, sizeof f, "%s.notifications[%zu].notify_time", p, i);
        if (!validate_time(f, m->notify_time, true, true, st))
            return false;
    }
    return true;
}

static bool actions_valid(const SecurityIncident *in, const char *p, status *st)
{
    char f[160];
    for (size_t i = 0; i < in->n_actions; i++) {
        const Action *a = in->actions[i];
        snprintf(f, sizeof f, "%s.actions[%zu].description", p, i);
        if (!validate_text(f, a->description, 2000, true, st))
            return false;
        snprintf(f, sizeof f, "%s.actions[%zu].kind", p, i);
        if (!validate_enum(f, &supplysec__v1__action_kind__descriptor, a->kind, true, st))
            return false;
        snprintf(f, sizeof f, "%s.actions[%zu].owner", p, i);
        if (!validate_text(f, a->owner, 200, true, st))
            return false;
        snprintf(f, sizeof f, "%s.actions[%zu].due_time", p, i);
        if (!validate_time(f, a->due_time, false, false, st))
            return false;
        snprintf(f, sizeof f, "%s.actions[%zu].status", p, i);
        if (!validate_enum(f, &supplysec__v1__action_status__descriptor, a->status, true, st))
            return false;
    }
    return true;
}

static bool validate(const ProtobufCMessage *res, const char *p, status *st)
{
    const SecurityIncident *in = (const SecurityIncident *)res;
    char f[160];
    snprintf(f, sizeof f, "%s.title", p);
    if (!validate_text(f, in->title, 200, true, st))
        return false;
    snprintf(f, sizeof f, "%s.occur_time", p);
    if (!validate_time(f, in->occur_time, true, true, st))
        return false;
    snprintf(f, sizeof f, "%s.location", p);
    if (!validate_text(f, in->location, 500, false, st))
        return false;
    snprintf(f, sizeof f, "%s.facility", p);
    if (!validate_text(f, in->facility, KIND_NAME_MAX, false, st))
        return false;
    snprintf(f, sizeof f, "%s.description", p);
    if (!validate_text(f, in->description, 10000, false, st))
        return false;
    snprintf(f, sizeof f, "%s.severity", p);
    if (!validate_enum(f, &supplysec__v1__incident_severity__descriptor, in->severity, true, st))
        return false;
    if (!count_ok(p, "assets_hit", in->n_assets_hit, MAX_ASSETS, st) ||
        !count_ok(p, "required_notifications", in->n_required_notifications, MAX_REQUIRED, st) ||
        !count_ok(p, "notifications", in->n_notifications, MAX_MADE, st) ||
        !count_ok(p, "actions", in->n_actions, MAX_ACTIONS, st) ||
        !count_ok(p, "reassess_scenarios", in->n_reassess_scenarios, MAX_SCENARIOS, st))
        return false;
    for (size_t i = 0; i < in->n_assets_hit; i++) {
        snprintf(f, sizeof f, "%s.assets_hit[%zu]", p, i);
        if (!validate_text(f, in->assets_hit[i], 200, true, st))
            return false;
    }
    for (size_t i = 0; i < in->n_reassess_scenarios; i++) {
        snprintf(f, sizeof f, "%s.reassess_scenarios[%zu]", p, i);
        if (!validate_text(f, in->reassess_scenarios[i], KIND_NAME_MAX, true, st))
            return false;
        for (size_t j = 0; j < i; j++)
            if (strcmp(in->reassess_scenarios[j], in->reassess_scenarios[i]) == 0)
                return status_fail(st, STATUS_INVALID_ARGUMENT, "%s: listed twice", f);
    }
    return notifications_valid(in, p, st) && actions_valid(in, p, st);
}

static void strings_clear(char ***v, size_t *n)
{
    for (size_t i = 0; i < *n; i++)
        free((*v)[i]);
    free(*v);
    *v = NULL;
    *n = 0;
}

static void required_clear(Required ***v, size_t *n)
{
    for (size_t i = 0; i < *n; i++)
        protobuf_c_message_free_unpacked(&(*v)[i]->base, NULL);
    free(*v);
    *v = NULL;
    *n = 0;
}

static bool made_for(const SecurityIncident *in, const Required *r)
{
    for (size_t i = 0; i < in->n_notifications; i++)
        if (in->notifications[i]->kind == r->kind &&
            strcmp(in->notifications[i]->authority, r->authority) == 0)
            return true;
    return false;
}

/* missing_notifications: copies of the required ones not made. */
static bool missing_derive(SecurityIncident *in)
{
    required_clear(&in->missing_notifications, &in->n_missing_notifications);
    in->notifications_missing = false;
    for (size_t i = 0; i < in->n_required_notifications; i++) {
        const Required *r = in->required_notifications[i];
        if (made_for(in, r))
            continue;
        if (!in->missing_notifications &&
            !(in->missing_notifications = calloc(in->n_required_notifications, sizeof(Required *))))
            return false;
        Required *c = malloc(sizeof *c);
        if (!c)
            return false;
        supplysec__v1__required_notification__init(c);
        in->missing_notifications[in->n_missing_notifications++] = c;
        c->kind = r->kind;
        if (!(c->authority = strdup(r->authority)) ||
            !resource_set_time(&c->base, "due_time", r->due_time))
            return false;
    }
    in->notifications_missing = in->n_missing_notifications > 0;
    return true;
}

/* What the incident names exists in its organization: the facility, the
 * scenarios to reassess. */
static bool names_exist(const op_ctx *op, const resource_key *key, const SecurityIncident *in,
                        status *st)
{
    char f[160];
    status lst = {0};
    if (in->facility[0]) {
        char statement[KIND_NAME_MAX];
        const char *facility;
        snprintf(f, sizeof f, "%s.facility", key->kind->field);
        if (!statement_facility_name(f, key->org, in->facility, statement, &facility, st))
            return false;
        if (!statement_facility_exists(op, key->org, statement, facility, &lst))
            return lst.code == STATUS_NOT_FOUND
                       ? status_fail(st, STATUS_INVALID_ARGUMENT, "%s: %s", f, lst.msg)
                       : (*st = lst, false);
    }
    for (size_t i = 0; i < in->n_reassess_scenarios; i++) {
        const char *name = in->reassess_scenarios[i];
        resource_key sk;
        snprintf(f, sizeof f, "%s.reassess_scenarios[%zu]", key->kind->field, i);
        if (!kind_parse_name(&threat_scenario_kind, f, name, &sk, st))
            return false;
        if (strcmp(sk.org, key->org) != 0)
            return status_fail(st, STATUS_INVALID_ARGUMENT,
                               "%s: must name one of this organization's threat scenarios", f);
        ProtobufCMessage *s =
            resource_load(op, threat_scenario_kind.desc, threat_scenario_kind.collection, key->org,
                          name, name, NULL, &lst);
        if (!s)
            return lst.code == STATUS_NOT_FOUND
                       ? status_fail(st, STATUS_INVALID_ARGUMENT, "%s: %s", f, lst.msg)
                       : (*st = lst, false);
        protobuf_c_message_free_unpacked(s, NULL);
    }
    return true;
}

static bool derive(const op_ctx *op, const resource_key *key, ProtobufCMessage *res,
                   const ProtobufCMessage *prev, status *st)
{
    SecurityIncident *in = (SecurityIncident *)res;
    strings_clear(&in->covering_partners, &in->n_covering_partners); /* present's, each read */
    if (!prev)
        in->state = STATE(OPEN);
    if (!names_exist(op, key, in, st))
        return false;
    return missing_derive(in) || status_fail(st, STATUS_RESOURCE_EXHAUSTED, "out of memory");
}

/* covering_partners as of now: the facility's statement's partners whose
 * declaration request is ACCEPTED. */
static bool present(const op_ctx *op, const resource_key *key, ProtobufCMessage *res, status *st)
{
    SecurityIncident *in = (SecurityIncident *)res;
    strings_clear(&in->covering_partners, &in->n_covering_partners);
    if (!in->facility[0])
        return true;
    const char *org = key->org, *facility;
    char statement[KIND_NAME_MAX];
    status lst = {0};
    if (!statement_facility_name("facility", org, in->facility, statement, &facility, &lst))
        return true; /* stored before it was checked: nothing covers it */
    Supplysec__V1__StatementOfApplication *s =
        (Supplysec__V1__StatementOfApplication *)resource_load(
            op, statement_of_application_kind.desc, statement_of_application_kind.collection, org,
            statement, statement, NULL, &lst);
    if (!s)
        return lst.code == STATUS_NOT_FOUND || (*st = lst, false);
    bool ok = true;
    if (s->n_business_partners &&
        !(in->covering_partners = calloc(s->n_business_partners, sizeof(char *))))
        ok = status_fail(st, STATUS_RESOURCE_EXHAUSTED, "out of memory");
    for (size_t i = 0; ok && i < s->n_business_partners; i++) {
        const char *bp = s->business_partners[i]->business_partner;
        bool accepted;
        ok = declaration_request_partner_accepted(op, org, bp, &accepted, st);
        if (ok && accepted && !(in->covering_partners[in->n_covering_partners++] = strdup(bp)))
            ok = status_fail(st, STATUS_RESOURCE_EXHAUSTED, "out of memory");
    }
    protobuf_c_message_free_unpacked(&s->base, NULL);
    return ok;
}

/* Only an OPEN incident changes. */
static bool check_update(const op_ctx *op, const resource_key *key, const ProtobufCMessage *prev,
                         const ProtobufCMessage *next, status *st)
{
    (void)op;
    (void)next;
    if (((const SecurityIncident *)prev)->state != STATE(OPEN))
        return status_fail(st, STATUS_FAILED_PRECONDITION,
                           "%s is CLOSED; ReopenSecurityIncident (with a reason) before changing "
                           "it",
                           key->name);
    return true;
}

/* A closed incident is a record kept. */
static bool before_delete(const op_ctx *op, const resource_key *key, const ProtobufCMessage *cur,
                          int64_t version, resource_batch *b, status *st)
{
    (void)op;
    (void)version;
    (void)b;
    if (((const SecurityIncident *)cur)->state != STATE(OPEN))
        return status_fail(st, STATUS_FAILED_PRECONDITION,
                           "%s is CLOSED, a record kept (ISO 28000 4.5.4); it is not deleted",
                           key->name);
    return true;
}

/* FAILED_PRECONDITION naming what keeps in from being closed. */
static bool closable(const SecurityIncident *in, const char *name, status *st)
{
    char what[512] = "";
    size_t open = 0, n = 0;
    for (size_t i = 0; i < in->n_missing_notifications && n < MISSING_NAMED; i++, n++) {
        size_t len = strlen(what);
        snprintf(what + len, sizeof what - len, "%sthe notification to %s %s", len ? "; " : "",
                 reflect_enum_label(&supplysec__v1__authority_kind__descriptor,
                                    in->missing_notifications[i]->kind),
                 in->missing_notifications[i]->authority);
    }
    for (size_t i = 0; i < in->n_actions; i++)
        open += in->actions[i]->status == ACTION_OPEN;
    if (open) {
        size_t len = strlen(what);
        snprintf(what + len, sizeof what - len, "%s%zu action%s still open", len ? "; " : "", open,
                 open == 1 ? "" : "s");
    }
    if (!what[0])
        return true;
    return status_fail(st, STATUS_FAILED_PRECONDITION, "%s cannot be closed: %s%s", name, what,
                       in->n_missing_notifications > MISSING_NAMED ? "; ..." : "");
}

SecurityIncident *security_incident_move(const op_ctx *op, const char *name, const char *etag,
                                         bool close, const char *reason, status *st)
{
    resource_key key;
    int64_t version;
    SecurityIncident *in = NULL;
    if (!kind_parse_name(&security_incident_kind, "name", name, &key, st) ||
        !kind_authorize_role(op, &key, SUPPLYSEC__V1__ROLE__ROLE_ADMIN, key.name, st) ||
        (!close && !validate_text("reason", reason, 2000, true, st)))
        return NULL;
    in = (SecurityIncident *)resource_load(op, security_incident_kind.desc,
                                           security_incident_kind.collection, key.org, key.name,
                                           key.name, &version, st);
    if (!in || !resource_check_etag(&in->base, etag, st))
        goto fail;
    int from = close ? STATE(OPEN) : STATE(CLOSED);
    if ((int)in->state != from) {
        status_fail(st, STATUS_FAILED_PRECONDITION, "%s is %s already", key.name,
                    close ? "CLOSED" : "OPEN");
        goto fail;
    }
    if (close && !closable(in, key.name, st))
        goto fail;
    in->state = close ? STATE(CLOSED) : STATE(OPEN);
    bool ok = close ? message_set_string(&in->base, "closer", op->who->name) &&
                          resource_stamp_now(&in->base, "close_time")
                    : message_set_string(&in->base, "closer", "") &&
                          resource_set_time(&in->base, "close_time", NULL) &&
                          message_set_string(&in->base, "reopen_reason", reason);
    if (!ok) {
        status_fail(st, STATUS_RESOURCE_EXHAUSTED, "out of memory");
        goto fail;
    }
    resource_ref ref = kind_ref(&security_incident_kind, &key, &in->base);
    if (!resource_update(op, &ref, &in->base, &in->base, version, st))
        goto fail;
    if (!present(op, &key, &in->base, st)) /* the move is made: answer it as stored */
        strings_clear(&in->covering_partners, &in->n_covering_partners);
    return in;
fail:
    if (in)
        protobuf_c_message_free_unpacked(&in->base, NULL);
    return NULL;
}

/* What ListSecurityIncidents filters on (docs/api.md). */
static const facet_def facets[] = {
    {.name = "state", .type = FACET_ENUM, .enum_type = &supplysec__v1__incident_state__descriptor},
    {.name = "severity",
     .type = FACET_ENUM,
     .enum_type = &supplysec__v1__incident_severity__descriptor},
    {.name = "occur_time", .type = FACET_TIMESTAMP},
    {.name = "notifications_missing", .type = FACET_BOOL},
    {.name = "create_time", .type = FACET_TIMESTAMP},
    {.name = "update_time", .type = FACET_TIMESTAMP},
};

/* (covering_partners and missing_notifications too, repeated: derive and
 * present set them whatever a client sent) */
static const char *const output_only[] = {
    "state", "close_time", "closer", "reopen_reason", "notifications_missing", NULL};

const kind security_incident_kind = {
    .type = "SecurityIncident",
    .field = "security_incident",
    .plural = "securityIncidents",
    .collection = "securityIncidents",
    .parent = &organization_kind,
    .desc = &supplysec__v1__security_incident__descriptor,
    .min_role = KIND_ROLES_DOCUMENT,
    .output_only = output_only,
    .facets = facets,
    .n_facets = sizeof facets / sizeof facets[0],
    .hooks = {.authorize = access_validators,
              .validate = validate,
              .derive = derive,
              .present = present,
              .check_update = check_update,
              .before_delete = before_delete},
};
