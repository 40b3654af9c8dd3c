/* auth_cache.c — recently verified API keys (see auth_cache.h). */
#include "auth_cache.h"

#include <openssl/crypto.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "apikey.h"
#include "clock.h"

#define WAYS 4
#define LOCKS 64 /* sets share these mutexes, set i under locks[i % LOCKS] */

typedef struct entry {
    bool used;
    uint64_t store_id; /* store_id() of the store it was read from */
    uint64_t epoch;    /* auth_cache_epoch() before that read */
    int64_t expires_us;
    char prefix[APIKEY_PREFIX_LEN + 1];
    uint8_t hash[APIKEY_HASH_LEN];
    principal who;
} entry;

struct auth_cache {
    size_t n_sets;
    int64_t ttl_us;
    entry *entries; /* n_sets * WAYS */
    pthread_mutex_t locks[LOCKS];
};

auth_cache *auth_cache_new(size_t capacity, int ttl_ms)
{
    if (capacity == 0 || ttl_ms <= 0)
        return NULL;
    auth_cache *c = calloc(1, sizeof *c);
    if (!c)
        return NULL;
    c->n_sets = (capacity + WAYS - 1) / WAYS;
    c->ttl_us = (int64_t)ttl_ms * 1000;
    c->entries = calloc(c->n_sets * WAYS, sizeof *c->entries);
    if (!c->entries) {
        free(c);
        return NULL;
    }
    for (int i = 0; i < LOCKS; i++)
        pthread_mutex_init(&c->locks[i], NULL);
    return c;
}

size_t auth_cache_capacity(const auth_cache *c)
{
    return c ? c->n_sets * WAYS : 0;
}

void auth_cache_free(auth_cache *c)
{
    if (!c)
        return;
    for (int i = 0; i < LOCKS; i++)
        pthread_mutex_destroy(&c->locks[i]);
    OPENSSL_cleanse(c->entries, c->n_sets * WAYS * sizeof *c->entries);
    free(c->entries);
    free(c);
}

uint64_t auth_cache_epoch(store *s)
{
    /* A key's own update (a revoke) or delete, or its organization's delete
     * (an organization's update changes nothing a key relies on). Both
     * counts only grow, so their sum changes whenever either does. */
    return store_change_count(s, APIKEYS_COLLECTION) +
           store_delete_count(s, ORGANIZATIONS_COLLECTION);
}

/* FNV-1a of the prefix: which set it lives in. */
static size_t set_of(const auth_cache *c, const char *prefix)
{
    uint64_t h = 1469598103934665603ull;
    for (const char *p = prefix; *p; p++)
        h = (h ^ (uint8_t)*p) * 1099511628211ull;
    return (size_t)(h % c->n_sets);
}

bool auth_cache_get(auth_cache *c, store *s, const char *prefix, const char *secret, principal *who)
{
    if (!c)
        return false;
    uint8_t hash[APIKEY_HASH_LEN];
    apikey_hash(secret, hash);
    uint64_t epoch = auth_cache_epoch(s), id = store_id(s);
    int64_t now = clock_monotonic_us();
    size_t set = set_of(c, prefix);
    bool hit = false;
    pthread_mutex_t *mu = &c->locks[set % LOCKS];
    pthread_mutex_lock(mu);
    for (entry *e = &c->entries[set * WAYS]; e < &c->entries[(set + 1) * WAYS]; e++) {
        if (!e->used || strcmp(e->prefix, prefix) != 0)
            continue;
        if (e->store_id == id && e->epoch == epoch && now < e->expires_us &&
            CRYPTO_memcmp(e->hash, hash, sizeof hash) == 0) {
            *who = e->who;
            hit = true;
        }
        break;
    }
    pthread_mutex_unlock(mu);
    return hit;
}

void auth_cache_put(auth_cache *c, store *s, uint64_t epoch, const char *prefix, const char *secret,
                    const principal *who)
{
    if (!c)
        return;
    entry fresh = {.used = true,
                   .store_id = store_id(s),
                   .epoch = epoch,
                   .expires_us = clock_monotonic_us() + c->ttl_us,
                   .who = *who};
    snprintf(fresh.prefix, sizeof fresh.prefix, "%s", prefix);
    apikey_hash(secret, fresh.hash);
    size_t set = set_of(c, prefix);
    pthread_mutex_t *mu = &c->locks[set % LOCKS];
    pthread_mutex_lock(mu);
    entry *ways = &c->entries[set * WAYS], *slot = NULL;
    for (int i = 0; i < WAYS && !slot; i++) /* the key's own entry */
        if (ways[i].used && strcmp(ways[i].prefix, prefix) == 0)
            slot = &ways[i];
    for (int i = 0; i < WAYS && !slot; i++) /* else a free one */
        if (!ways[i].used)
            slot = &ways[i];
    if (!slot) { /* else the one that expires first */
        slot = &ways[0];
        for (int i = 1; i < WAYS; i++)
            if (ways[i].expires_us < slot->expires_us)
                slot = &ways[i];
    }
    *slot = fresh;
    pthread_mutex_unlock(mu);
    OPENSSL_cleanse(&fresh, sizeof fresh);
}
