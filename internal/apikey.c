/* apikey.c — API key secrets (see apikey.h). */
#include "apikey.h"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/rand.h>
#include <openssl/sha.h>
#include <string.h>
#include <strings.h>

bool apikey_generate(char secret[APIKEY_SECRET_LEN + 1], char prefix[APIKEY_PREFIX_LEN + 1])
{
    unsigned char id[8], key[32];
    char b64[48];
    if (RAND_bytes(id, sizeof id) != 1 || RAND_bytes(key, sizeof key) != 1)
        return false;
    memcpy(prefix, "ssk_", 4);
    for (int i = 0; i < 8; i++) {
        prefix[4 + 2 * i] = "0123456789abcdef"[id[i] >> 4];
        prefix[5 + 2 * i] = "0123456789abcdef"[id[i] & 15];
    }
    prefix[APIKEY_PREFIX_LEN] = '\0';
    int n = EVP_EncodeBlock((unsigned char *)b64, key, sizeof key); /* 44 chars, one '=' */
    if (n != 44)
        return false;
    for (int i = 0; i < 43; i++)
        b64[i] = b64[i] == '+' ? '-' : b64[i] == '/' ? '_' : b64[i];
    memcpy(secret, prefix, APIKEY_PREFIX_LEN);
    secret[APIKEY_PREFIX_LEN] = '_';
    memcpy(secret + APIKEY_PREFIX_LEN + 1, b64, 43);
    secret[APIKEY_SECRET_LEN] = '\0';
    OPENSSL_cleanse(key, sizeof key);
    OPENSSL_cleanse(b64, sizeof b64);
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
