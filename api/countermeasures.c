/* countermeasures.c — the supplysec.v1.Countermeasures service: the
 * standard methods of the Countermeasure kind, and its decision (Accept,
 * Decline), a call into internal/domain/countermeasure.c. */
#include "countermeasure.h"
#include "runtime.h"

static ProtobufCMessage *accept(api_call *call, ProtobufCMessage *msg)
{
    Supplysec__V1__AcceptCountermeasureRequest *req = (void *)msg;
    Countermeasure *c = countermeasure_decide(&call->op, req->name, req->etag, true, "", &call->st);
    return c ? &c->base : NULL;
}

static ProtobufCMessage *decline(api_call *call, ProtobufCMessage *msg)
{
    Supplysec__V1__DeclineCountermeasureRequest *req = (void *)msg;
    Countermeasure *c =
        countermeasure_decide(&call->op, req->name, req->etag, false, req->reason, &call->st);
    return c ? &c->base : NULL;
}

static const api_method countermeasures_methods[] = {
    API_STANDARD(CREATE, "CreateCountermeasure", &countermeasure_kind),
    API_STANDARD(GET, "GetCountermeasure", &countermeasure_kind),
    API_STANDARD(LIST, "ListCountermeasures", &countermeasure_kind),
    API_STANDARD(UPDATE, "UpdateCountermeasure", &countermeasure_kind),
    API_STANDARD(DELETE, "DeleteCountermeasure", &countermeasure_kind),
    {.name = "AcceptCountermeasure", .handler = accept, .writes = true},
    {.name = "DeclineCountermeasure", .handler = decline, .writes = true},
};

const api_service api_countermeasures_service = {
    &supplysec__v1__countermeasures__descriptor, countermeasures_methods,
    sizeof countermeasures_methods / sizeof countermeasures_methods[0]};
