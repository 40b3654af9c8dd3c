/* declaration_requests.c — the supplysec.v1.DeclarationRequests service:
 * the DeclarationRequest kind's standard methods, and its custom ones
 * across organizations (ListIncoming, Answer, Accept, Reject), each a call
 * into internal/domain/declaration_request.c. */
#include <stdlib.h>

#include "declaration_request.h"
#include "runtime.h"

static ProtobufCMessage *list_incoming(api_call *call, ProtobufCMessage *msg)
{
    Supplysec__V1__ListIncomingDeclarationRequestsRequest *req = (void *)msg;
    resource_page page;
    if (!declaration_request_list_incoming(&call->op, req->parent, req->page_size, req->page_token,
                                           &page, &call->st))
        return NULL;
    Supplysec__V1__ListIncomingDeclarationRequestsResponse *resp = malloc(sizeof *resp);
    if (!resp) {
        resource_page_free(&page);
        return api_fail(call, STATUS_RESOURCE_EXHAUSTED, "out of memory");
    }
    supplysec__v1__list_incoming_declaration_requests_response__init(resp);
    /* the page's items and token move into the response */
    resp->n_declaration_requests = page.count;
    resp->declaration_requests = (DeclarationRequest **)page.items;
    resp->next_page_token = page.next_page_token;
    return &resp->base;
}

static ProtobufCMessage *answer(api_call *call, ProtobufCMessage *msg)
{
    Supplysec__V1__AnswerDeclarationRequestRequest *req = (void *)msg;
    DeclarationRequest *r =
        declaration_request_answer(&call->op, req->name, req->etag, req->declaration, &call->st);
    return r ? &r->base : NULL;
}

static ProtobufCMessage *accept(api_call *call, ProtobufCMessage *msg)
{
    Supplysec__V1__AcceptDeclarationRequestRequest *req = (void *)msg;
    DeclarationRequest *r =
        declaration_request_decide(&call->op, req->name, req->etag, true, "", &call->st);
    return r ? &r->base : NULL;
}

static ProtobufCMessage *reject(api_call *call, ProtobufCMessage *msg)
{
    Supplysec__V1__RejectDeclarationRequestRequest *req = (void *)msg;
    DeclarationRequest *r =
        declaration_request_decide(&call->op, req->name, req->etag, false, req->reason, &call->st);
    return r ? &r->base : NULL;
}

static const api_method declaration_requests_methods[] = {
    API_STANDARD(CREATE, "CreateDeclarationRequest", &declaration_request_kind),
    API_STANDARD(GET, "GetDeclarationRequest", &declaration_request_kind),
    API_STANDARD(LIST, "ListDeclarationRequests", &declaration_request_kind),
    API_STANDARD(UPDATE, "UpdateDeclarationRequest", &declaration_request_kind),
    API_STANDARD(DELETE, "DeleteDeclarationRequest", &declaration_request_kind),
    {.name = "ListIncomingDeclarationRequests", .handler = list_incoming},
    {.name = "AnswerDeclarationRequest", .handler = answer, .writes = true},
    {.name = "AcceptDeclarationRequest", .handler = accept, .writes = true},
    {.name = "RejectDeclarationRequest", .handler = reject, .writes = true},
};

const api_service api_declaration_requests_service = {
    &supplysec__v1__declaration_requests__descriptor, declaration_requests_methods,
    sizeof declaration_requests_methods / sizeof declaration_requests_methods[0]};
