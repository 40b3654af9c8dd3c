/* audit_log.c — reading and verifying an organization's audit log
 * (audit_log.h). The log is the store's (store.h): this file decides who
 * reads it, turns its events into messages, filters them with the facet
 * table below and pages through them by their store order. */
#include "audit_log.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "access.h"
#include "audit_chain.h"
#include "auth.h"
#include "clock.h"
#include "filter.h"
#include "organization.h"
#include "page_token.h"
#include "reflect.h"
#include "resource.h"
#include "validate.h"

#define READ_CHUNK 500 /* events read from the store at a time */
#define EVENTS_SEGMENT "/auditEvents/"

/* The fields a filter may use, in the order event_facets fills them. */
enum { F_TIME, F_PRINCIPAL, F_PRINCIPAL_ORG, F_ROLE, F_METHOD, F_RESOURCE, F_COUNT };
static const facet_def audit_facets[F_COUNT] = {
    [F_TIME] = {"event_time", FACET_TIMESTAMP, false, NULL},
    [F_PRINCIPAL] = {"principal", FACET_STRING, false, NULL},
    [F_PRINCIPAL_ORG] = {"principal_organization", FACET_STRING, false, NULL},
    [F_ROLE] = {"role", FACET_ENUM, false, &supplysec__v1__role__descriptor},
    [F_METHOD] = {"method", FACET_STRING, false, NULL},
    [F_RESOURCE] = {"resource", FACET_STRING, false, NULL},
};

/* The organization whose log `parent` names, into org ("" for `platform`),
 * once the caller may read it: its ADMINs, platform administrators, the
 * validators of an authority with a whole-system grant in force (the read
 * recorded in the log it reads). */
static bool log_authorize(const op_ctx *op, const char *parent, char org[RESOURCE_ID_MAX + 1],
                          status *st)
{
    resource_key key;
    if (!parent || !*parent)
        return status_fail(st, STATUS_INVALID_ARGUMENT,
                           "parent: required: organizations/{organization} or platform");
    if (strcmp(parent, KIND_PLATFORM) == 0) {
        if (!auth_is_platform_admin(op->who))
            return status_fail(st, STATUS_PERMISSION_DENIED,
                               "only platform administrators read the platform's audit log");
        org[0] = '\0';
        return true;
    }
    if (!kind_parse_name(&organization_kind, "parent", parent, &key, st))
        return false;
    bool member = op->who->org[0] && strcmp(op->who->org, key.org) == 0;
    if (member || auth_is_platform_admin(op->who)) {
        if (!kind_authorize_role(op, &key, SUPPLYSEC__V1__ROLE__ROLE_ADMIN, parent, st))
            return false;
    } else if (!access_read(op, key.org, parent, false, st)) { /* a validator's grant */
        if (st->code == STATUS_OK)
            status_fail(st, STATUS_NOT_FOUND, "%s not found", parent);
        return false;
    }
    snprintf(org, RESOURCE_ID_MAX + 1, "%s", key.org);
    return true;
}

static int role_of(const char *name)
{
    const ProtobufCEnumValue *v =
        protobuf_c_enum_descriptor_get_value_by_name(&supplysec__v1__role__descriptor, name);
    return v ? v->value : 0;
}

/* The facet values of e for filter_match. */
typedef struct event_facets {
    facet_value v[F_COUNT];
    const facet_value *ptr[F_COUNT];
    size_t n[F_COUNT];
    char principal_org[RESOURCE_ID_MAX + 32];
    facet_values values;
} event_facets;

static void facets_of(const store_audit_event *e, event_facets *f)
{
    snprintf(f->principal_org, sizeof f->principal_org, "%s%s",
             e->principal_org[0] ? "organizations/" : "", e->principal_org);
    f->v[F_TIME] = (facet_value){FACET_TIMESTAMP, NULL, e->time_us};
    f->v[F_PRINCIPAL] = (facet_value){FACET_STRING, e->principal, 0};
    f->v[F_PRINCIPAL_ORG] = (facet_value){FACET_STRING, f->principal_org, 0};
    f->v[F_ROLE] = (facet_value){FACET_ENUM, e->role, role_of(e->role)};
    f->v[F_METHOD] = (facet_value){FACET_STRING, e->method, 0};
    f->v[F_RESOURCE] = (facet_value){FACET_STRING, e->resource, 0};
    for (size_t i = 0; i < F_COUNT; i++) {
        f->ptr[i] = &f->v[i];
        f->n[i] = 1;
    }
    f->n[F_PRINCIPAL_ORG] = f->principal_org[0] ? 1 : 0; /* unset for a platform key */
    f->values = (facet_values){f->ptr, f->n};
}

/* Whether the caller sees event e of org's log: everyone who reads the log
 * sees all of it, but a validator (from outside) not the reads of other
 * authorities' validators, whose grants are none of its business. */
static bool shown_to(const op_ctx *op, const char *org, const store_audit_event *e)
{
    if (!auth_is_validator(op->who) || strcmp(op->who->org, org) == 0)
        return true;
    return strcmp(e->principal_org, org) == 0 || strcmp(e->principal_org, op->who->org) == 0 ||
           strcmp(e->role, "ROLE_VALIDATOR") != 0;
}

static Supplysec__V1__AuditEvent *event_message(const store_audit_event *e, const char *parent)
{
    char name[KIND_NAME_MAX + 32], hex[AUDIT_HASH_HEX] = "";
    event_facets f;
    Supplysec__V1__AuditEvent *m = malloc(sizeof *m);
    Google__Protobuf__Timestamp t = GOOGLE__PROTOBUF__TIMESTAMP__INIT;
    if (!m)
        return NULL;
    supplysec__v1__audit_event__init(m);
    facets_of(e, &f);
    snprintf(name, sizeof name, "%s" EVENTS_SEGMENT "%" PRId64, parent, e->position);
    if (e->hashed)
        audit_chain_hex(e->hash, hex);
    t.seconds = e->time_us / 1000000;
    t.nanos = (int32_t)(e->time_us % 1000000) * 1000;
    if (t.nanos < 0) {
        t.seconds--;
        t.nanos += 1000000000;
    }
    m->position = e->position;
    m->role = role_of(e->role);
    m->version_before = e->version_before;
    m->version_after = e->version_after;
    if (!message_set_string(&m->base, "name", name) ||
        !message_set_string(&m->base, "principal", e->principal) ||
        !message_set_string(&m->base, "principal_organization", f.principal_org) ||
        !message_set_string(&m->base, "method", e->method) ||
        !message_set_string(&m->base, "resource", e->resource) ||
        !message_set_string(&m->base, "request_id", e->request_id) ||
        !message_set_string(&m->base, "hash", hex) ||
        !resource_set_time(&m->base, "event_time", &t)) {
        protobuf_c_message_free_unpacked(&m->base, NULL);
        return NULL;
    }
    return m;
}

static bool events_push(Supplysec__V1__ListAuditEventsResponse *r, Supplysec__V1__AuditEvent *m)
{
    Supplysec__V1__AuditEvent **grown =
        realloc(r->audit_events, (r->n_audit_events + 1) * sizeof *grown);
    if (!grown)
        return false;
    r->audit_events = grown;
    r->audit_events[r->n_audit_events++] = m;
    return true;
}

/* order_by: "position" (or nothing) is oldest first, "position desc"
 * newest first (AIP-132's syntax; spaces around the words are free). */
static bool order_of(const char *order_by, bool *newest, status *st)
{
    const char *p = order_by ? order_by : "";
    while (*p == ' ')
        p++;
    *newest = false;
    if (!*p)
        return true;
    if (strncmp(p, "position", 8) != 0 || (p[8] != ' ' && p[8] != '\0'))
        goto bad;
    p += 8;
    while (*p == ' ')
        p++;
    if (strncmp(p, "desc", 4) == 0) {
        *newest = true;
        p += 4;
    } else if (strncmp(p, "asc", 3) == 0) {
        p += 3;
    }
    while (*p == ' ')
        p++;
    if (!*p)
        return true;
bad:
    return status_fail(st, STATUS_INVALID_ARGUMENT,
                       "order_by: \"position\" (oldest first) or \"position desc\" (newest "
                       "first), got \"%s\"",
                       order_by);
}

/* The seq a page token continues after (0 for the first page). */
static bool cursor_of(const op_ctx *op, const char *token, const char *query, int64_t *after,
                      status *st)
{
    char *text = NULL, *end = NULL;
    if (!page_token_decode(op->store, token, query, &text, st))
        return false;
    *after = text[0] ? strtoll(text, &end, 10) : 0;
    bool ok = !text[0] || (end && *end == '\0' && *after > 0);
    free(text);
    return ok || status_fail(st, STATUS_INVALID_ARGUMENT, "page_token: not one this list issued");
}

Supplysec__V1__ListAuditEventsResponse *
audit_log_list(const op_ctx *op, const Supplysec__V1__ListAuditEventsRequest *req, status *st)
{
    char org[RESOURCE_ID_MAX + 1], query[KIND_QUERY_KEY_MAX], *canon = NULL;
    int page_size = 0;
    int64_t after = 0, scanned = 0;
    filter *flt = NULL;
    bool more = true;
    Supplysec__V1__ListAuditEventsResponse *r = NULL;
    bool newest = false;
    /* validate, authorize */
    if (!validate_page_size("page_size", req->page_size, &page_size, st) ||
        !filter_parse("filter", req->filter, audit_facets, F_COUNT, &flt, st) ||
        !order_of(req->order_by, &newest, st) || !log_authorize(op, req->parent, org, st))
        goto done;
    if (!(canon = filter_canonical(flt, audit_facets)) || !(r = malloc(sizeof *r))) {
        status_fail(st, STATUS_RESOURCE_EXHAUSTED, "out of memory");
        goto done;
    }
    supplysec__v1__list_audit_events_response__init(r);
    /* the order is part of what a page token is bound to */
    if (newest) {
        char *ordered = NULL;
        /* first: the query key keeps its beginning when a long filter is cut */
        if (asprintf(&ordered, "order_by=position desc\x1f%s", canon) < 0) {
            status_fail(st, STATUS_RESOURCE_EXHAUSTED, "out of memory");
            goto fail;
        }
        free(canon);
        canon = ordered;
    }
    kind_query_key(op, req->parent, canon, query, sizeof query);
    if (!cursor_of(op, req->page_token, query, &after, st))
        goto fail;
    /* load, decide: the events after the cursor, those the filter keeps */
    while (more && r->n_audit_events < (size_t)page_size && scanned < AUDIT_LOG_SCAN_MAX) {
        store_audit_event *evs = NULL;
        size_t n = 0, i = 0;
        int want = (int)(AUDIT_LOG_SCAN_MAX - scanned < READ_CHUNK ? AUDIT_LOG_SCAN_MAX - scanned
                                                                   : READ_CHUNK);
        if (!op_check_deadline(op, st) ||
            !status_from_store(st,
                               newest
                                   ? store_audit_list_newest(op->store, org, after, want, &evs, &n)
                                   : store_audit_list(op->store, org, after, want, &evs, &n),
                               req->parent))
            goto fail;
        more = n == (size_t)want;
        for (; i < n && r->n_audit_events < (size_t)page_size; i++) {
            event_facets f;
            facets_of(&evs[i], &f);
            after = evs[i].seq;
            scanned++;
            if (!filter_match(flt, &f.values) || !shown_to(op, org, &evs[i]))
                continue;
            Supplysec__V1__AuditEvent *m = event_message(&evs[i], req->parent);
            if (!m || !events_push(r, m)) {
                if (m)
                    protobuf_c_message_free_unpacked(&m->base, NULL);
                store_audit_events_free(evs, n);
                status_fail(st, STATUS_RESOURCE_EXHAUSTED, "out of memory");
                goto fail;
            }
        }
        more = more || i < n; /* a full page left some of this read unseen */
        store_audit_events_free(evs, n);
    }
    /* answer */
    if (more) {
        char cursor[24];
        snprintf(cursor, sizeof cursor, "%" PRId64, after);
        char *token = page_token_encode(op->store, query, cursor, st);
        if (!token || !message_set_string(&r->base, "next_page_token", token)) {
            free(token);
            if (st->code == STATUS_OK)
                status_fail(st, STATUS_RESOURCE_EXHAUSTED, "out of memory");
            goto fail;
        }
        free(token);
    }
    goto done;
fail:
    protobuf_c_message_free_unpacked(&r->base, NULL);
    r = NULL;
done:
    free(canon);
    filter_free(flt);
    return r;
}

/* A pinned head is both its position and its hash, or nothing. */
static bool pin_validate(const Supplysec__V1__VerifyAuditLogRequest *req,
                         uint8_t pinned[AUDIT_HASH_LEN], status *st)
{
    bool pin_hash = req->pinned_hash && req->pinned_hash[0];
    if (req->pinned_position < 0)
        return status_fail(st, STATUS_INVALID_ARGUMENT,
                           "pinned_position: a position in the log, 1 or more");
    if ((req->pinned_position > 0) != pin_hash)
        return status_fail(st, STATUS_INVALID_ARGUMENT,
                           "%s: a pinned head needs both pinned_position and pinned_hash",
                           pin_hash ? "pinned_position" : "pinned_hash");
    if (pin_hash && !audit_chain_unhex(req->pinned_hash, pinned))
        return status_fail(st, STATUS_INVALID_ARGUMENT,
                           "pinned_hash: 64 hexadecimal digits (a head_hash this method gave)");
    return true;
}

Supplysec__V1__VerifyAuditLogResponse *
audit_log_verify(const op_ctx *op, const Supplysec__V1__VerifyAuditLogRequest *req, status *st)
{
    char org[RESOURCE_ID_MAX + 1], head[AUDIT_HASH_HEX];
    uint8_t pinned[AUDIT_HASH_LEN];
    audit_chain_check c;
    store_status ss;
    /* validate */
    if (!pin_validate(req, pinned, st))
        return NULL;
    /* authorize, load, decide */
    if (!log_authorize(op, req->parent, org, st))
        return NULL;
    if (!audit_chain_verify(op->store, org, req->pinned_position,
                            req->pinned_position ? pinned : NULL,
                            op->deadline_us == INT64_MAX ? 0 : op->deadline_us, &c, &ss)) {
        status_from_store(st, ss, req->parent);
        return NULL;
    }
    /* answer */
    Supplysec__V1__VerifyAuditLogResponse *r = malloc(sizeof *r);
    if (!r) {
        status_fail(st, STATUS_RESOURCE_EXHAUSTED, "out of memory");
        return NULL;
    }
    supplysec__v1__verify_audit_log_response__init(r);
    r->intact = c.intact;
    r->checked_count = c.checked;
    r->head_position = c.head_position;
    r->broken_position = c.intact ? 0 : c.broken_position;
    audit_chain_hex(c.head_hash, head);
    if (!message_set_string(&r->base, "head_hash", c.head_position ? head : "") ||
        !message_set_string(&r->base, "problem", c.intact ? "" : c.problem) ||
        !resource_stamp_now(&r->base, "verify_time")) {
        protobuf_c_message_free_unpacked(&r->base, NULL);
        status_fail(st, STATUS_RESOURCE_EXHAUSTED, "out of memory");
        return NULL;
    }
    return r;
}
