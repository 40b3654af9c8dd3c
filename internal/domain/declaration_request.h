/* declaration_request.h — the DeclarationRequest kind (ISO 28001 4.2):
 * organizations/{organization}/declarationRequests/{declaration_request},
 * in the requesting organization, and its moves across organizations:
 *
 *   REQUESTED --answer (partner's EDITOR)--> ANSWERED
 *   ANSWERED --accept / reject (ADMIN)--> ACCEPTED / REJECTED
 *   REJECTED --answer--> ANSWERED
 *
 * The partner organization (the business partner's link when the request
 * is made) reads and answers the requests addressed to it; the requesting
 * organization reads the declaration revision attached. Every refusal to a
 * third organization is NOT_FOUND. */
#ifndef SUPPLYSEC_DECLARATION_REQUEST_H
#define SUPPLYSEC_DECLARATION_REQUEST_H

#include <stdbool.h>

#include "kind.h"
#include "supplysec/v1/declaration_requests.pb-c.h"

extern const kind declaration_request_kind;

typedef Supplysec__V1__DeclarationRequest DeclarationRequest;

/* Whether org has a declaration request that `attached` (a declaration
 * revision, name@revision_id) answers. A store failure answers false. */
bool declaration_request_attaches(const op_ctx *op, const char *org, const char *attached);

/* Attaches the approved latest revision of `declaration` to the request
 * `name` (etag: when not empty, the current one). The caller is an EDITOR
 * of the partner organization with a declaration of its own, or of the
 * requesting organization with a paper declaration recorded for the
 * request's business partner. Returns the request stored. */
DeclarationRequest *declaration_request_answer(const op_ctx *op, const char *name, const char *etag,
                                               const char *declaration, status *st);

/* ANSWERED → ACCEPTED, or REJECTED with reason (required, at most 2,000
 * characters): an ADMIN of the requesting organization. */
DeclarationRequest *declaration_request_decide(const op_ctx *op, const char *name, const char *etag,
                                               bool accept, const char *reason, status *st);

/* The requests addressed to the organization `parent`, by name; its
 * members (VIEWER) and platform administrators. */
bool declaration_request_list_incoming(const op_ctx *op, const char *parent, int page_size,
                                       const char *page_token, resource_page *page, status *st);

#endif
