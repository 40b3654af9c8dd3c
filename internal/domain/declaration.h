/* declaration.h — the Declaration kind (ISO 28001 4.2), a controlled
 * document in the declaring partner's organization:
 * organizations/{organization}/declarations/{declaration}. Its approved
 * revisions are read by the organizations whose declaration requests they
 * answer (declaration_request.h). */
#ifndef SUPPLYSEC_DECLARATION_H
#define SUPPLYSEC_DECLARATION_H

#include "kind.h"
#include "supplysec/v1/declarations.pb-c.h"

extern const kind declaration_kind;

/* RevokeDeclaration: an ADMIN withdraws an APPROVED declaration in force;
 * every request it answered turns REVOKED in the same write. Returns the
 * document stored. */
Supplysec__V1__Declaration *declaration_revoke(const op_ctx *op, const char *name, const char *etag,
                                               status *st);

#endif
