/* declaration_request.h — the DeclarationRequest kind (ISO 28001 4.2):
 * organizations/{organization}/declarationRequests/{declaration_request},
 * in the requesting organization, and its moves across organizations:
 *
 *   REQUESTED --answer (partner's EDITOR)--> ANSWERED
 *   ANSWERED --accept / reject (ADMIN)--> ACCEPTED / REJECTED
 *   any but ACCEPTED --answer--> ANSWERED
 *   the declaration's next approved revision: answered ones --> ANSWERED
 *   the declaration revoked: answered ones --> REVOKED
 *   its valid_until passed: ANSWERED, ACCEPTED read as EXPIRED
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
#include "supplysec/v1/declarations.pb-c.h"

extern const kind declaration_request_kind;

typedef Supplysec__V1__DeclarationRequest DeclarationRequest;

/* Whether org has a declaration request that revision revision_id of the
 * declaration `declaration` answers. A store failure answers false. */
bool declaration_request_attaches(const op_ctx *op, const char *org, const char *declaration,
                                  const char *revision_id);

/* For the declaration's approval of d (its new revision): every request on
 * the platform it answered with an earlier revision (decided, rejected or
 * revoked since) is answered again by d, in b: each requester decides
 * again. */
bool declaration_request_reanswer_all(const op_ctx *op, const char *declaration,
                                      const Supplysec__V1__Declaration *d, resource_batch *b,
                                      status *st);

/* For the declaration's revocation: every request it answered turns
 * REVOKED, in b. */
bool declaration_request_revoke_all(const op_ctx *op, const char *declaration, resource_batch *b,
                                    status *st);

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

/* *accepted: whether one of org's requests to its business partner
 * `partner` is ACCEPTED as of now (answered, accepted, not expired). */
bool declaration_request_partner_accepted(const op_ctx *op, const char *org, const char *partner,
                                          bool *accepted, status *st);

/* The requests addressed to the organization `parent`, by name; its
 * members (VIEWER) and platform administrators. */
bool declaration_request_list_incoming(const op_ctx *op, const char *parent, int page_size,
                                       const char *page_token, resource_page *page, status *st);

/* For a credibility review (named `review`) of the request `name` (the
 * review's field `field`): one of org's requests, for the business partner
 * `partner` (its name), ACCEPTED as of now; with not_credible it turns
 * REJECTED, decided by the caller and naming the review, in b. Returns the
 * request, kept by b; NULL with st. */
DeclarationRequest *declaration_request_reviewed(const op_ctx *op, const char *field,
                                                 const char *name, const char *org,
                                                 const char *partner, bool not_credible,
                                                 const char *review, resource_batch *b, status *st);

#endif
