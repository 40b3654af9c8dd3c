/* apikey.c — API key secrets (see apikey.h). */
#include "apikey.h"

#include "encoding.h"

#include <openssl/crypto.h>
#include <openssl/rand.h>
#include <openssl/sha.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

bool apikey_generate(char secret[APIKEY_SECRET_LEN + 1], char prefix[APIKEY_PREFIX_LEN + 1])
{
    unsigned char id[8], key[32];
    if (RAND_bytes(id, sizeof id) != 1 || RAND_bytes(key, sizeof key) != 1)
        return false;
    memcpy(prefix, "ssk_", 4);
    hex_encode(id, sizeof id, prefix + 4);
    char *tail = base64_encode(key, sizeof key, true); /* 43 chars */
    OPENSSL_cleanse(key, sizeof key);
    if (!tail || strlen(tail) != APIKEY_SECRET_LEN - APIKEY_PREFIX_LEN - 1) {
        free(tail);
        return false;
    }
    snprintf(secret, APIKEY_SECRET_LEN + 1, "%s_%s", prefix, tail);
    OPENSSL_cleanse(tail, strlen(tail));
    free(tail);
    return true;
}

void apikey_hash(const char *secret, uint8_t out[APIKEY_HASH_LEN])
{
    SHA256((const unsigned char *)secret, strlen(secret), out);
}

bool apikey_matches(const char *secret, const uint8_t *stored_hash, size_t stored_len)
{
    uint8_t h[APIKEY_HASH_LEN];
    if (stored_len != APIKEY_HASH_LEN)
        return false;
    apikey_hash(secret, h);
    return CRYPTO_memcmp(h, stored_hash, APIKEY_HASH_LEN) == 0;
}

static bool is_b64url(char c)
{
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' ||
           c == '_';
}

bool apikey_parse_bearer(const char *value, size_t len, char secret[APIKEY_SECRET_LEN + 1],
                         char prefix[APIKEY_PREFIX_LEN + 1])
{
    if (len < 7 || strncasecmp(value, "Bearer ", 7) != 0)
        return false;
    value += 7;
    len -= 7;
    while (len > 0 && value[0] == ' ') {
        value++;
        len--;
    }
    if (len != APIKEY_SECRET_LEN || memcmp(value, "ssk_", 4) != 0 ||
        value[APIKEY_PREFIX_LEN] != '_')
        return false;
    for (size_t i = 4; i < APIKEY_PREFIX_LEN; i++)
        if (!strchr("0123456789abcdef", value[i]) || value[i] == '\0')
            return false;
    for (size_t i = APIKEY_PREFIX_LEN + 1; i < len; i++)
        if (!is_b64url(value[i]))
            return false;
    memcpy(secret, value, len);
    secret[len] = '\0';
    memcpy(prefix, value, APIKEY_PREFIX_LEN);
    prefix[APIKEY_PREFIX_LEN] = '\0';
    return true;
}
