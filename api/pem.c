/* pem.c — reading PEM files (see pem.h). */
#include "pem.h"

#include <stdio.h>
#include <stdlib.h>

#define PEM_MAX_BYTES (1 << 20)

char *pem_read(const char *path)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    char *buf = malloc(PEM_MAX_BYTES + 1);
    size_t n = buf ? fread(buf, 1, PEM_MAX_BYTES + 1, f) : 0;
    if (buf && (ferror(f) || n > PEM_MAX_BYTES)) {
        free(buf);
        buf = NULL;
    }
    fclose(f);
    if (!buf)
        return NULL;
    buf[n] = '\0';
    return buf;
}
