/* fixture.h — what the domain's unit tests share: an in-memory SQLite
 * store, callers with a role, and resources made from their proto3 JSON
 * through the standard Create (as a client's request would be). Header
 * only: each test is its own program. */
#ifndef SUPPLYSEC_TEST_FIXTURE_H
#define SUPPLYSEC_TEST_FIXTURE_H

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <string.h>

#include "doc.h"
#include "standard.h"

typedef struct fixture {
    store *s;
    op_ctx op; /* the last fixture_as */
} fixture;

static inline void fixture_open(fixture *f)
{
    char *err = NULL;
    if (store_open("sqlite::memory:", 1, &f->s, &err) != STORE_OK)
        fail_msg("store_open: %s", err ? err : "");
}

static inline principal fixture_principal(const char *name, const char *org,
                                          Supplysec__V1__Role role)
{
    principal p;
    memset(&p, 0, sizeof p);
    snprintf(p.name, sizeof p.name, "%s", name);
    snprintf(p.org, sizeof p.org, "%s", org);
    p.role = role;
    return p;
}

/* The context of a call made by who (valid until the next fixture_as). */
static inline const op_ctx *fixture_as(fixture *f, const principal *who)
{
    f->op = (op_ctx){.store = f->s,
                     .who = who,
                     .method = "/test.Fixture/Method",
                     .request_id = "test",
                     .deadline_us = INT64_MAX};
    return &f->op;
}

/* A message of desc from json; fails the test when it does not parse. */
static inline ProtobufCMessage *fixture_message(const ProtobufCMessageDescriptor *desc,
                                                const char *json)
{
    char err[256];
    ProtobufCMessage *m = doc_message_from_json(desc, json, strlen(json), err, sizeof err);
    if (!m)
        fail_msg("%s: %s", json, err);
    return m;
}

/* Creates a k from json as who under parent (id "": one generated); NULL
 * with *st set when refused. */
static inline ProtobufCMessage *fixture_try_create(fixture *f, const principal *who, const kind *k,
                                                   const char *parent, const char *id,
                                                   const char *json, status *st)
{
    ProtobufCMessage *m = fixture_message(k->desc, json);
    return std_create(fixture_as(f, who), k, parent, id, &m, st);
}

/* The same, failing the test when refused; the caller frees it. */
static inline ProtobufCMessage *fixture_create(fixture *f, const principal *who, const kind *k,
                                               const char *parent, const char *id, const char *json)
{
    status st = {0};
    ProtobufCMessage *m = fixture_try_create(f, who, k, parent, id, json, &st);
    if (!m)
        fail_msg("create %s under %s: %s", k->type, parent, st.msg);
    return m;
}

/* The same, the resource not wanted. */
static inline void fixture_make(fixture *f, const principal *who, const kind *k, const char *parent,
                                const char *id, const char *json)
{
    protobuf_c_message_free_unpacked(fixture_create(f, who, k, parent, id, json), NULL);
}

/* Updates with a patch from json and the mask's paths; NULL with *st set
 * when refused. */
static inline ProtobufCMessage *fixture_try_update(fixture *f, const principal *who, const kind *k,
                                                   const char *json, char *const *paths,
                                                   size_t n_paths, status *st)
{
    ProtobufCMessage *patch = fixture_message(k->desc, json);
    ProtobufCMessage *m = std_update(fixture_as(f, who), k, patch, paths, n_paths, true, st);
    protobuf_c_message_free_unpacked(patch, NULL);
    return m;
}

/* Fails the test unless st is code with a message containing text. */
static inline void fixture_refused(const status *st, status_code code, const char *text)
{
    if (st->code != code || !strstr(st->msg, text))
        fail_msg("expected code %d with \"%s\", got %d: %s", code, text, st->code, st->msg);
}

#endif
