/* shares.c — the supplysec.v1.Shares service: the Share kind's standard
 * methods, RevokeShare and ListSharedWithMe, calls into
 * internal/domain/share.c. */
#include <stdlib.h>

#include "runtime.h"
#include "share.h"

static ProtobufCMessage *revoke(api_call *call, ProtobufCMessage *msg)
{
    Supplysec__V1__RevokeShareRequest *req = (void *)msg;
    Share *s = share_revoke(&call->op, req->name, req->etag, &call->st);
    return s ? &s->base : NULL;
}

static ProtobufCMessage *list_shared_with_me(api_call *call, ProtobufCMessage *msg)
{
    Supplysec__V1__ListSharedWithMeRequest *req = (void *)msg;
    resource_page page;
    if (!share_list_with_me(&call->op, req->parent, req->page_size, req->page_token, &page,
                            &call->st))
        return NULL;
    Supplysec__V1__ListSharedWithMeResponse *resp = malloc(sizeof *resp);
    if (!resp) {
        resource_page_free(&page);
        return api_fail(call, STATUS_RESOURCE_EXHAUSTED, "out of memory");
    }
    supplysec__v1__list_shared_with_me_response__init(resp);
    /* the page's items and token move into the response */
    resp->n_shares = page.count;
    resp->shares = (Share **)page.items;
    resp->next_page_token = page.next_page_token;
    return &resp->base;
}

static const api_method shares_methods[] = {
    API_STANDARD(CREATE, "CreateShare", &share_kind),
    API_STANDARD(GET, "GetShare", &share_kind),
    API_STANDARD(LIST, "ListShares", &share_kind),
    API_STANDARD(DELETE, "DeleteShare", &share_kind),
    {.name = "RevokeShare", .handler = revoke, .writes = true},
    {.name = "ListSharedWithMe", .handler = list_shared_with_me},
};

const api_service api_shares_service = {&supplysec__v1__shares__descriptor, shares_methods,
                                        sizeof shares_methods / sizeof shares_methods[0]};
