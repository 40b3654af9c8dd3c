/* page_token.c — authenticated page tokens (see page_token.h).
 *
 * Owns the HMAC key's life: read from the store on first use (created
 * there, without an audit event, when the store has none; a concurrent
 * creator's key wins), then cached for that store. */
#include "page_token.h"

#include <bson/bson.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/rand.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "encoding.h"

#define KEY_LEN 32
#define MAC_LEN 16
#define TOKEN_MAX 4096

static pthread_mutex_t key_mu = PTHREAD_MUTEX_INITIALIZER;
static const store *key_store; /* the store the cached key came from */
static uint8_t key_cached[KEY_LEN];

/* The key in rec's document; false when it has none of the right size. */
static bool key_from_record(const store_record *rec, uint8_t out[KEY_LEN])
{
    bson_t doc;
    bson_iter_t it;
    const uint8_t *data;
    uint32_t len;
    bson_subtype_t sub;
    if (!bson_init_static(&doc, rec->doc, rec->doc_len) || !bson_iter_init_find(&it, &doc, "key") ||
        !BSON_ITER_HOLDS_BINARY(&it))
        return false;
    bson_iter_binary(&it, &sub, &len, &data);
    if (len != KEY_LEN)
        return false;
    memcpy(out, data, KEY_LEN);
    return true;
}

static store_status key_create(store *s)
{
    uint8_t key[KEY_LEN];
    if (RAND_bytes(key, sizeof key) != 1)
        return STORE_INTERNAL;
    bson_t doc = BSON_INITIALIZER;
    BSON_APPEND_BINARY(&doc, "key", BSON_SUBTYPE_BINARY, key, sizeof key);
    store_record rec = {.collection = PAGE_TOKEN_SECRETS_COLLECTION,
                        .org = "",
                        .parent = "",
                        .name = PAGE_TOKEN_KEY_NAME,
                        .version = 1,
                        .doc = (uint8_t *)bson_get_data(&doc),
                        .doc_len = doc.len};
    store_status ss = store_import_record(s, &rec);
    bson_destroy(&doc);
    OPENSSL_cleanse(key, sizeof key);
    return ss == STORE_ALREADY_EXISTS ? STORE_OK : ss; /* another server made it first */
}

/* Copies the store's key into out, reading (or creating) it when s is not
 * the store the cache holds. */
static bool key_get(store *s, uint8_t out[KEY_LEN], status *st)
{
    bool ok = false;
    pthread_mutex_lock(&key_mu);
    if (key_store == s) {
        memcpy(out, key_cached, KEY_LEN);
        ok = true;
    }
    for (int attempt = 0; !ok && attempt < 2; attempt++) {
        store_record *rec = NULL;
        store_status ss =
            store_get(s, PAGE_TOKEN_SECRETS_COLLECTION, "", PAGE_TOKEN_KEY_NAME, &rec);
        if (ss == STORE_OK) {
            ok = key_from_record(rec, key_cached);
            store_record_free(rec);
            if (!ok) {
                status_fail(st, STATUS_DATA_LOSS, "the stored page-token key is damaged");
                break;
            }
            key_store = s;
            memcpy(out, key_cached, KEY_LEN);
        } else if (ss != STORE_NOT_FOUND || (ss = key_create(s)) != STORE_OK) {
            status_from_store(st, ss, "the page-token key");
            break;
        }
    }
    pthread_mutex_unlock(&key_mu);
    return ok;
}

static bool mac_of(const uint8_t key[KEY_LEN], const char *query, const char *after,
                   size_t after_len, uint8_t out[MAC_LEN])
{
    uint8_t md[EVP_MAX_MD_SIZE];
    unsigned int md_len = 0;
    /* query, a NUL (no query holds one), then the cursor: unambiguous */
    size_t qn = strlen(query) + 1, n = qn + after_len;
    uint8_t *msg = malloc(n ? n : 1);
    if (!msg)
        return false;
    memcpy(msg, query, qn);
    memcpy(msg + qn, after, after_len);
    bool ok = HMAC(EVP_sha256(), key, KEY_LEN, msg, n, md, &md_len) != NULL && md_len >= MAC_LEN;
    free(msg);
    if (ok)
        memcpy(out, md, MAC_LEN);
    return ok;
}

char *page_token_encode(store *s, const char *query, const char *after, status *st)
{
    uint8_t key[KEY_LEN];
    if (!key_get(s, key, st))
        return NULL;
    size_t an = strlen(after);
    uint8_t *raw = malloc(MAC_LEN + an);
    char *tok = NULL;
    if (raw && mac_of(key, query, after, an, raw)) {
        memcpy(raw + MAC_LEN, after, an);
        tok = base64_encode(raw, MAC_LEN + an, true);
    }
    free(raw);
    OPENSSL_cleanse(key, sizeof key);
    if (!tok)
        status_fail(st, STATUS_RESOURCE_EXHAUSTED, "out of memory");
    return tok;
}

bool page_token_decode(store *s, const char *token, const char *query, char **after, status *st)
{
    size_t n = strlen(token), len = 0;
    uint8_t *raw = NULL, key[KEY_LEN], mac[MAC_LEN];
    *after = NULL;
    if (n == 0) {
        *after = strdup("");
        return *after ? true : status_fail(st, STATUS_RESOURCE_EXHAUSTED, "out of memory");
    }
    bool ok = n <= TOKEN_MAX && base64_decode(token, n, &raw, &len) && len >= MAC_LEN &&
              !memchr(raw + MAC_LEN, '\0', len - MAC_LEN);
    if (ok && !key_get(s, key, st)) {
        free(raw);
        return false;
    }
    ok = ok && mac_of(key, query, (const char *)raw + MAC_LEN, len - MAC_LEN, mac) &&
         CRYPTO_memcmp(mac, raw, MAC_LEN) == 0 &&
         (*after = strndup((const char *)raw + MAC_LEN, len - MAC_LEN)) != NULL;
    free(raw);
    OPENSSL_cleanse(key, sizeof key);
    return ok ? true
              : status_fail(st, STATUS_INVALID_ARGUMENT,
                            "page_token: not a token from this list; pass next_page_token from "
                            "the previous response unchanged, with the same parent and filter");
}
