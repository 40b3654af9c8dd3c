/* audit_chain.h — the hash chain of an organization's audit log.
 *
 * Each organization's audit events form one chain: the event at position p
 * (1, 2, 3, ... in the order they were committed) carries
 *
 *   hash_p = SHA-256(canonical(event_p) || hash_{p-1})    (hash_0: 32 zero bytes)
 *
 * written by the store in the same transaction as the change the event
 * records, so the log and the data never disagree. Editing an event breaks
 * its own hash; removing or reordering events breaks the next event's link;
 * removing the latest events leaves a shorter chain that still holds, which
 * only a head pinned beforehand (its position and hash, handed to someone
 * the organization trusts) shows. docs/security.md has the canonical form.
 */
#ifndef SUPPLYSEC_AUDIT_CHAIN_H
#define SUPPLYSEC_AUDIT_CHAIN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "store.h"

#define AUDIT_HASH_LEN 32
#define AUDIT_HASH_HEX (2 * AUDIT_HASH_LEN + 1)

/* The hash of the event ev describes, at position in its organization's
 * chain, after the event whose hash is prev (NULL: the first). resource and
 * the versions are given apart: a delete-all's events share ev. */
void audit_chain_hash(const store_audit *ev, const char *resource, int64_t version_before,
                      int64_t version_after, int64_t position, const uint8_t *prev,
                      uint8_t out[AUDIT_HASH_LEN]);

/* The same for an event as read back. */
void audit_chain_hash_event(const store_audit_event *e, const uint8_t *prev,
                            uint8_t out[AUDIT_HASH_LEN]);

/* Lowercase hex of a hash, NUL-terminated. */
void audit_chain_hex(const uint8_t hash[AUDIT_HASH_LEN], char out[AUDIT_HASH_HEX]);
/* Parses 64 hex digits (either case); false for anything else. */
bool audit_chain_unhex(const char *hex, uint8_t out[AUDIT_HASH_LEN]);

/* What a walk along a chain found. */
typedef struct audit_chain_check {
    bool intact;
    int64_t checked;                   /* events checked */
    int64_t head_position;             /* the last intact event; 0 for an empty log */
    uint8_t head_hash[AUDIT_HASH_LEN]; /* its hash; zeros for an empty log */
    int64_t broken_position;           /* !intact: where the chain breaks */
    char problem[256];                 /* !intact: a sentence saying how */
} audit_chain_check;

/* A walk in progress: feed it the events of one organization in order. */
typedef struct audit_chain_walk {
    audit_chain_check result;
    uint8_t prev[AUDIT_HASH_LEN];
    int64_t pinned_position; /* 0: nothing pinned */
    uint8_t pinned_hash[AUDIT_HASH_LEN];
    bool pinned_seen;
} audit_chain_walk;

/* Starts a walk; pinned_position 0 pins nothing, else the event at that
 * position must have pinned_hash. */
void audit_chain_walk_start(audit_chain_walk *w, int64_t pinned_position,
                            const uint8_t *pinned_hash);
/* Checks the next event; false once the chain is broken (w->result says
 * where and how). */
bool audit_chain_walk_next(audit_chain_walk *w, const store_audit_event *e);
/* Ends the walk (a pinned head the log no longer reaches breaks it). */
void audit_chain_walk_end(audit_chain_walk *w);

/* Walks org's whole log in s ("" the platform's), page by page, until
 * deadline_us (clock_monotonic_us(); 0: none). false when the store fails
 * or the deadline passes (*ss says which: STORE_DEADLINE_EXCEEDED); the
 * chain's state is in *out. */
bool audit_chain_verify(store *s, const char *org, int64_t pinned_position,
                        const uint8_t *pinned_hash, int64_t deadline_us, audit_chain_check *out,
                        store_status *ss);

#endif
