/* auth_cache.h — recently verified API keys, so an authenticated call does
 * not read the key and its organization from the store every time.
 *
 * An entry holds what a successful authentication learned: the key's id
 * (its prefix), the SHA-256 of its secret, the principal, and the store's
 * change count for keys and organizations when the store was read. A hit
 * needs the presented secret to hash to the same value (constant-time
 * compare), the entry to be younger than the time to live, and no key or
 * organization to have been deleted through this process's store since
 * (store_change_count, store_delete_count): so a key revoked or deleted, or
 * an organization deleted, on this server stops working at once. Another
 * server sharing the store (MongoDB) sees such a change when its entry
 * expires: within the time to live of its read of the store, which may
 * itself be as old as that read took (docs/operations.md, "Limits").
 *
 * Only successes are kept; a failure is always decided by the store. The
 * table is fixed: capacity entries in 4-way sets, the oldest of a set
 * replaced. Thread-safe (a mutex per set group). */
#ifndef SUPPLYSEC_AUTH_CACHE_H
#define SUPPLYSEC_AUTH_CACHE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "auth.h"
#include "store.h"

#define AUTH_CACHE_DEFAULT_ENTRIES 4096
#define AUTH_CACHE_DEFAULT_TTL_MS 1000

typedef struct auth_cache auth_cache;

/* NULL when capacity or ttl_ms is 0 (no cache) or out of memory. */
auth_cache *auth_cache_new(size_t capacity, int ttl_ms);
void auth_cache_free(auth_cache *c);
/* Entries it holds at most (the capacity asked, rounded up to whole sets). */
size_t auth_cache_capacity(const auth_cache *c);

/* The change count a lookup that may fill the cache must read before it
 * reads the store (so a change committed meanwhile makes the entry stale). */
uint64_t auth_cache_epoch(store *s);

/* True with *who set when secret (prefix its id) was verified for store s
 * within the time to live and nothing it depends on changed since. */
bool auth_cache_get(auth_cache *c, store *s, const char *prefix, const char *secret,
                    principal *who);

/* Remembers a verified key; epoch is auth_cache_epoch(s) from before the
 * store was read. */
void auth_cache_put(auth_cache *c, store *s, uint64_t epoch, const char *prefix, const char *secret,
                    const principal *who);

#endif
