/* access.h — who outside an organization reads its resources, and what:
 *
 * - the members of a grantee organization, through a Share in force: one
 *   approved revision of a document (an assessment's, with its scenarios
 *   and countermeasures as that revision keeps them), or a readiness
 *   report; by name only, never a list of the owner's documents;
 * - the VALIDATORs of a customs authority, through a ValidationGrant in
 *   force naming their authority: every resource in the grant's scope,
 *   every revision, read only; each read recorded in the operator's audit
 *   log before it is answered (a read that cannot be recorded is not
 *   made).
 *
 * Everyone else gets NOT_FOUND. Each kind names in its declaration which of
 * these apply to it (its authorize hook, kind.h); the reads that are not a
 * kind's (readiness reports, the audit log) call access_read. A validator
 * let in to read gets PERMISSION_DENIED for any write. */
#ifndef SUPPLYSEC_ACCESS_H
#define SUPPLYSEC_ACCESS_H

#include "kind.h"

/* Authorize hooks (kind.h): validators with a grant in force. */
bool access_validators(const op_ctx *op, kind_verb verb, const resource_key *key, status *st);
/* ... and the grantees of a share of the revision key names (or is part of). */
bool access_shared_or_validators(const op_ctx *op, kind_verb verb, const resource_key *key,
                                 status *st);

/* ... and anyone with a key: what an organization publishes (a customs
 * authority's recognitions). Writes are PERMISSION_DENIED to outsiders. */
bool access_published(const op_ctx *op, kind_verb verb, const resource_key *key, status *st);
/* ... and the members of the operator an attestation names (it shows on
 * their Organization), to read it by name. */
bool access_attested(const op_ctx *op, kind_verb verb, const resource_key *key, status *st);

/* A read of `resource` in org that is not a kind's standard method (a
 * readiness report, the audit log), by a caller outside org: true when a
 * share in force of exactly `resource` (shareable) or a whole-system grant
 * in force lets the caller in, the read recorded for a validator; false:
 * NOT_FOUND to the caller, or, with st set, that failure. */
bool access_read(const op_ctx *op, const char *org, const char *resource, bool shareable,
                 status *st);

#endif
