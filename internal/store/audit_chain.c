/* audit_chain.c — hashing and checking the audit log's chain (audit_chain.h).
 *
 * The canonical form of an event is a fixed sequence of its fields, each
 * length-prefixed, so no two different events (or field boundaries) encode
 * alike: the tag "supplysec.audit.v1", then org, position, time_us,
 * principal, principal_org, role, method, resource, request_id,
 * version_before, version_after, and the previous event's hash. Strings are
 * a 4-byte big-endian length and their bytes; numbers 8 bytes big-endian,
 * two's complement; the previous hash its 32 bytes (zeros for the first
 * event). Changing it changes every hash: the tag names its version.
 */
#include "audit_chain.h"

#include "clock.h"

#include <openssl/evp.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#define CANONICAL_TAG "supplysec.audit.v1"
#define VERIFY_PAGE 1000

static void put_bytes(EVP_MD_CTX *md, const void *p, size_t len)
{
    uint8_t n[4] = {(uint8_t)(len >> 24), (uint8_t)(len >> 16), (uint8_t)(len >> 8), (uint8_t)len};
    EVP_DigestUpdate(md, n, sizeof n);
    EVP_DigestUpdate(md, p, len);
}

static void put_str(EVP_MD_CTX *md, const char *s)
{
    s = s ? s : "";
    put_bytes(md, s, strlen(s));
}

static void put_int(EVP_MD_CTX *md, int64_t v)
{
    uint64_t u = (uint64_t)v;
    uint8_t b[8];
    for (int i = 7; i >= 0; i--, u >>= 8)
        b[i] = (uint8_t)u;
    EVP_DigestUpdate(md, b, sizeof b);
}

void audit_chain_hash(const store_audit *ev, const char *resource, int64_t version_before,
                      int64_t version_after, int64_t position, const uint8_t *prev,
                      uint8_t out[AUDIT_HASH_LEN])
{
    static const uint8_t zeros[AUDIT_HASH_LEN];
    unsigned int len = 0;
    EVP_MD_CTX *md = EVP_MD_CTX_new();
    /* Without a context there is no hash to give: an all-ones one can never
     * verify, so the event shows as broken rather than passing unchecked. */
    if (!md || !EVP_DigestInit_ex(md, EVP_sha256(), NULL)) {
        memset(out, 0xff, AUDIT_HASH_LEN);
        EVP_MD_CTX_free(md);
        return;
    }
    put_str(md, CANONICAL_TAG);
    put_str(md, ev->org);
    put_int(md, position);
    put_int(md, ev->time_us);
    put_str(md, ev->principal);
    put_str(md, ev->principal_org);
    put_str(md, ev->role);
    put_str(md, ev->method);
    put_str(md, resource);
    put_str(md, ev->request_id);
    put_int(md, version_before);
    put_int(md, version_after);
    EVP_DigestUpdate(md, prev ? prev : zeros, AUDIT_HASH_LEN);
    if (!EVP_DigestFinal_ex(md, out, &len) || len != AUDIT_HASH_LEN)
        memset(out, 0xff, AUDIT_HASH_LEN);
    EVP_MD_CTX_free(md);
}

void audit_chain_hash_event(const store_audit_event *e, const uint8_t *prev,
                            uint8_t out[AUDIT_HASH_LEN])
{
    store_audit ev = {.principal = e->principal,
                      .principal_org = e->principal_org,
                      .org = e->org,
                      .role = e->role,
                      .method = e->method,
                      .request_id = e->request_id,
                      .time_us = e->time_us};
    audit_chain_hash(&ev, e->resource, e->version_before, e->version_after, e->position, prev, out);
}

void audit_chain_hex(const uint8_t hash[AUDIT_HASH_LEN], char out[AUDIT_HASH_HEX])
{
    static const char digits[] = "0123456789abcdef";
    for (size_t i = 0; i < AUDIT_HASH_LEN; i++) {
        out[2 * i] = digits[hash[i] >> 4];
        out[2 * i + 1] = digits[hash[i] & 15];
    }
    out[2 * AUDIT_HASH_LEN] = '\0';
}

static int hex_digit(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

bool audit_chain_unhex(const char *hex, uint8_t out[AUDIT_HASH_LEN])
{
    if (!hex || strlen(hex) != 2 * AUDIT_HASH_LEN)
        return false;
    for (size_t i = 0; i < AUDIT_HASH_LEN; i++) {
        int hi = hex_digit(hex[2 * i]), lo = hex_digit(hex[2 * i + 1]);
        if (hi < 0 || lo < 0)
            return false;
        out[i] = (uint8_t)(hi << 4 | lo);
    }
    return true;
}

void audit_chain_walk_start(audit_chain_walk *w, int64_t pinned_position,
                            const uint8_t *pinned_hash)
{
    memset(w, 0, sizeof *w);
    w->result.intact = true;
    w->pinned_position = pinned_position > 0 ? pinned_position : 0;
    if (w->pinned_position && pinned_hash)
        memcpy(w->pinned_hash, pinned_hash, AUDIT_HASH_LEN);
}

static bool broken(audit_chain_walk *w, int64_t position, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static bool broken(audit_chain_walk *w, int64_t position, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    w->result.intact = false;
    w->result.broken_position = position;
    vsnprintf(w->result.problem, sizeof w->result.problem, fmt, ap);
    va_end(ap);
    return false;
}

bool audit_chain_walk_next(audit_chain_walk *w, const store_audit_event *e)
{
    audit_chain_check *r = &w->result;
    int64_t expected = r->head_position + 1;
    uint8_t h[AUDIT_HASH_LEN];
    if (!r->intact)
        return false;
    if (e->position != expected)
        return broken(w, expected,
                      "event %lld is not next in the log: position %lld is there instead (an "
                      "event was removed, or events reordered)",
                      (long long)expected, (long long)e->position);
    if (!e->hashed)
        return broken(w, expected, "event %lld has no hash (%lld events were checked before it)",
                      (long long)expected, (long long)r->checked);
    audit_chain_hash_event(e, r->head_position ? w->prev : NULL, h);
    if (memcmp(h, e->hash, AUDIT_HASH_LEN) != 0)
        return broken(w, expected,
                      "event %lld does not match its hash: it was changed, or an event before "
                      "it was removed or moved (%lld events before it hold)",
                      (long long)expected, (long long)r->checked);
    if (w->pinned_position == expected) {
        if (memcmp(h, w->pinned_hash, AUDIT_HASH_LEN) != 0)
            return broken(w, expected,
                          "event %lld is not the pinned one: the log up to it was rewritten",
                          (long long)expected);
        w->pinned_seen = true;
    }
    memcpy(w->prev, h, AUDIT_HASH_LEN);
    memcpy(r->head_hash, h, AUDIT_HASH_LEN);
    r->head_position = expected;
    r->checked++;
    return true;
}

void audit_chain_walk_end(audit_chain_walk *w)
{
    if (w->result.intact && w->pinned_position && !w->pinned_seen)
        broken(w, w->result.head_position + 1,
               "the log ends at event %lld before the pinned event %lld: events were removed",
               (long long)w->result.head_position, (long long)w->pinned_position);
}

bool audit_chain_verify(store *s, const char *org, int64_t pinned_position,
                        const uint8_t *pinned_hash, int64_t deadline_us, audit_chain_check *out,
                        store_status *ss)
{
    audit_chain_walk w;
    int64_t after = 0;
    audit_chain_walk_start(&w, pinned_position, pinned_hash);
    *ss = STORE_OK;
    for (;;) {
        store_audit_event *evs = NULL;
        size_t n = 0;
        if (deadline_us && clock_monotonic_us() >= deadline_us) {
            *ss = STORE_DEADLINE_EXCEEDED;
            break;
        }
        if (after > 0) /* a whole log: no snapshot held from its first page to its last */
            store_read_pause(s);
        if ((*ss = store_audit_list(s, org, after, VERIFY_PAGE, &evs, &n)) != STORE_OK)
            break;
        bool going = true;
        for (size_t i = 0; i < n && going; i++)
            going = audit_chain_walk_next(&w, &evs[i]);
        after = n ? evs[n - 1].seq : after;
        store_audit_events_free(evs, n);
        if (!going || n < VERIFY_PAGE)
            break;
    }
    audit_chain_walk_end(&w);
    *out = w.result;
    return *ss == STORE_OK;
}
