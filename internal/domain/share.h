/* share.h — the Share kind: organizations/{organization}/shares/{share},
 * one approved revision of a security assessment, plan or statement of
 * application, or a readiness report, shared with one other organization
 * on the platform until an expiry (access.h says what its members read). */
#ifndef SUPPLYSEC_SHARE_H
#define SUPPLYSEC_SHARE_H

#include "kind.h"
#include "supplysec/v1/shares.pb-c.h"

typedef Supplysec__V1__Share Share;

extern const kind share_kind;

#define SHARE_MAX_DAYS 366 /* from now to expire_time */

/* Its state at now_s (seconds since the epoch). */
Supplysec__V1__ShareState share_state(const Share *s, int64_t now_s);

/* The share of org in force now of exactly `resource` with the grantee
 * organization (its id): *out (the caller's) or NULL when there is none.
 * false only when the store fails (st). */
bool share_in_force(const op_ctx *op, const char *org, const char *resource, const char *grantee,
                    Share **out, status *st);

/* RevokeShare: ends the share `name` at once (at etag when not ""),
 * answered as stored. ADMIN. */
Share *share_revoke(const op_ctx *op, const char *name, const char *etag, status *st);

/* ListSharedWithMe: the shares in force with the caller's organization
 * (parent), by name. */
bool share_list_with_me(const op_ctx *op, const char *parent, int page_size, const char *page_token,
                        resource_page *page, status *st);

#endif
