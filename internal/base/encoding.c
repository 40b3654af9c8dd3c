/* encoding.c — hex and base64 (see encoding.h). */
#include "encoding.h"

#include <stdlib.h>

void hex_encode(const uint8_t *in, size_t n, char *out)
{
    static const char digits[] = "0123456789abcdef";
    for (size_t i = 0; i < n; i++) {
        out[2 * i] = digits[in[i] >> 4];
        out[2 * i + 1] = digits[in[i] & 15];
    }
    out[2 * n] = '\0';
}

char *base64_encode(const uint8_t *data, size_t len, bool url)
{
    const char *alphabet = url ? "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
                               : "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    char *out = malloc((len + 2) / 3 * 4 + 1);
    size_t n = 0;
    if (!out)
        return NULL;
    for (size_t i = 0; i < len; i += 3) {
        uint32_t v = (uint32_t)data[i] << 16;
        if (i + 1 < len)
            v |= (uint32_t)data[i + 1] << 8;
        if (i + 2 < len)
            v |= data[i + 2];
        out[n++] = alphabet[v >> 18 & 63];
        out[n++] = alphabet[v >> 12 & 63];
        if (i + 1 < len)
            out[n++] = alphabet[v >> 6 & 63];
        else if (!url)
            out[n++] = '=';
        if (i + 2 < len)
            out[n++] = alphabet[v & 63];
        else if (!url)
            out[n++] = '=';
    }
    out[n] = '\0';
    return out;
}

static int base64_value(char c)
{
    if (c >= 'A' && c <= 'Z')
        return c - 'A';
    if (c >= 'a' && c <= 'z')
        return c - 'a' + 26;
    if (c >= '0' && c <= '9')
        return c - '0' + 52;
    if (c == '+' || c == '-')
        return 62;
    if (c == '/' || c == '_')
        return 63;
    return -1;
}

bool base64_decode(const char *s, size_t len, uint8_t **out, size_t *out_len)
{
    size_t n = len, size, o = 0;
    uint32_t acc = 0;
    int bits = 0;
    uint8_t *buf;

    while (n > 0 && len - n < 2 && s[n - 1] == '=')
        n--;
    if ((n != len && len % 4 != 0) || n % 4 == 1)
        return false;
    size = n / 4 * 3 + (n % 4 ? n % 4 - 1 : 0);
    buf = size ? malloc(size) : NULL;
    if (size && !buf)
        return false;
    for (size_t i = 0; i < n; i++) {
        int v = base64_value(s[i]);
        if (v < 0) {
            free(buf);
            return false;
        }
        acc = acc << 6 | (uint32_t)v;
        bits += 6;
        if (bits >= 8) {
            bits -= 8;
            buf[o++] = (uint8_t)(acc >> bits);
        }
    }
    *out = buf;
    *out_len = size;
    return true;
}
