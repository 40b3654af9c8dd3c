/* handlers.c — calling a method's handler as api/call.c does (see handlers.h). */
#include "handlers.h"

#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "input.h"

static const api_method *handler_of(const fuzz_method *m)
{
    for (size_t s = 0; s < api_n_all_services; s++) {
        const api_service *svc = api_all_services[s];
        if (svc->desc != m->service)
            continue;
        for (size_t i = 0; i < svc->n_methods; i++)
            if (strcmp(svc->methods[i].name, m->method->name) == 0)
                return &svc->methods[i];
    }
    return NULL;
}

ProtobufCMessage *fuzz_call(store *db, const principal *who, const fuzz_method *m,
                            ProtobufCMessage *req, status *st)
{
    const api_method *am = handler_of(m);
    FUZZ_REQUIRE(am != NULL, "%s: in the service descriptor but not in its table", m->path);
    api_call c;
    memset(&c, 0, sizeof c);
    c.method = m->path;
    c.entry = am;
    c.method_desc = m->method;
    snprintf(c.request_id, sizeof c.request_id, "fuzz");
    c.who = *who;
    c.authenticated = am->auth != API_AUTH_NONE;
    c.op.store = db;
    c.op.who = c.authenticated ? &c.who : NULL;
    c.op.method = m->path;
    c.op.request_id = c.request_id;
    c.op.deadline_us = INT64_MAX;
    ProtobufCMessage *resp = NULL;
    if (am->handler)
        resp = am->handler(&c, req);
    else
        api_fail(&c, STATUS_UNIMPLEMENTED, "%s",
                 am->unimplemented_why ? am->unimplemented_why : "");
    *st = c.st;
    return resp;
}
