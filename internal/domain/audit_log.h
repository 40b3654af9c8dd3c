/* audit_log.h — the AuditLog service's rules: who reads an organization's
 * audit log, its events as AuditEvent messages with AIP-160 filters and
 * page tokens, and the walk along its hash chain (store/audit_chain.h). */
#ifndef SUPPLYSEC_AUDIT_LOG_H
#define SUPPLYSEC_AUDIT_LOG_H

#include "kind.h"
#include "supplysec/v1/audit_log.pb-c.h"

#define AUDIT_LOG_SCAN_MAX 5000 /* events one ListAuditEvents call reads */

Supplysec__V1__ListAuditEventsResponse *
audit_log_list(const op_ctx *op, const Supplysec__V1__ListAuditEventsRequest *req, status *st);

Supplysec__V1__VerifyAuditLogResponse *
audit_log_verify(const op_ctx *op, const Supplysec__V1__VerifyAuditLogRequest *req, status *st);

#endif
