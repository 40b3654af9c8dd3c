/* declarations.c — the supplysec.v1.Declarations service: the standard and
 * lifecycle methods of the Declaration kind, and RevokeDeclaration
 * (internal/domain/declaration.c declares the kind and its rules). */
#include "declaration.h"
#include "runtime.h"

static ProtobufCMessage *revoke(api_call *call, ProtobufCMessage *msg)
{
    Supplysec__V1__RevokeDeclarationRequest *req = (void *)msg;
    Supplysec__V1__Declaration *d = declaration_revoke(&call->op, req->name, req->etag, &call->st);
    return d ? &d->base : NULL;
}

static const api_method declarations_methods[] = {
    API_STANDARD(CREATE, "CreateDeclaration", &declaration_kind),
    API_STANDARD(GET, "GetDeclaration", &declaration_kind),
    API_STANDARD(LIST, "ListDeclarations", &declaration_kind),
    API_STANDARD(UPDATE, "UpdateDeclaration", &declaration_kind),
    API_STANDARD(DELETE, "DeleteDeclaration", &declaration_kind),
    API_STANDARD(SUBMIT, "SubmitDeclaration", &declaration_kind),
    API_STANDARD(APPROVE, "ApproveDeclaration", &declaration_kind),
    API_STANDARD(REJECT, "RejectDeclaration", &declaration_kind),
    API_STANDARD(REVISE, "CreateDeclarationRevision", &declaration_kind),
    API_STANDARD(LIST_REVISIONS, "ListDeclarationRevisions", &declaration_kind),
    {.name = "RevokeDeclaration", .handler = revoke, .writes = true},
};

const api_service api_declarations_service = {
    &supplysec__v1__declarations__descriptor, declarations_methods,
    sizeof declarations_methods / sizeof declarations_methods[0]};
