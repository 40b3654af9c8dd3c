/* descset.c — see descset.h. The method marks are found once: file (1) →
 * package (2), service (6) → name (1), method (2) → name (1), options (4) →
 * idempotency_level (34), NO_SIDE_EFFECTS being 1. */
#include "descset.h"

#include <pthread.h>
#include <stdio.h>
#include <string.h>

extern const unsigned char supplysec_descriptor_set[];
extern const size_t supplysec_descriptor_set_len;

#define NAME_MAX_LEN 192
#define MARKED_MAX 512 /* methods marked, at most */
#define IDEMPOTENCY_LEVEL 34
#define NO_SIDE_EFFECTS 1

descset_span descset_all(void)
{
    return (descset_span){supplysec_descriptor_set,
                          supplysec_descriptor_set + supplysec_descriptor_set_len};
}

/* ---- the wire ---- */

static bool varint(descset_span *s, uint64_t *v)
{
    *v = 0;
    for (int shift = 0; shift < 64 && s->p < s->end; shift += 7) {
        uint8_t b = *s->p++;
        *v |= (uint64_t)(b & 0x7f) << shift;
        if (!(b & 0x80))
            return true;
    }
    return false;
}

bool descset_next(descset_span *s, uint32_t *number, descset_span *body, uint64_t *value)
{
    uint64_t key, len;
    if (s->p >= s->end || !varint(s, &key))
        return false;
    *number = (uint32_t)(key >> 3);
    body->p = body->end = NULL; /* a field of another wire type has no body */
    switch (key & 7) {
    case 0:
        return varint(s, value);
    case 1:
    case 5: {
        size_t n = (key & 7) == 1 ? 8 : 4;
        if ((size_t)(s->end - s->p) < n)
            return false;
        s->p += n;
        *value = 0;
        return true;
    }
    case 2:
        if (!varint(s, &len) || len > (uint64_t)(s->end - s->p))
            return false;
        body->p = s->p;
        body->end = s->p + len;
        s->p += len;
        *value = len;
        return true;
    default:
        return false;
    }
}

void descset_text(const descset_span *b, char *out, size_t size)
{
    if (!b->p) { /* not length-delimited: malformed, taken as empty */
        out[0] = '\0';
        return;
    }
    size_t n = (size_t)(b->end - b->p);
    snprintf(out, size, "%.*s", (int)(n < size ? n : size - 1), (const char *)b->p);
}

/* ---- walks ---- */

void descset_field_text(descset_span s, uint32_t number, char *out, size_t size)
{
    uint32_t n;
    descset_span b;
    uint64_t v;
    out[0] = '\0';
    while (descset_next(&s, &n, &b, &v))
        if (n == number)
            descset_text(&b, out, size);
}

void descset_each_in_files(uint32_t number,
                           void (*visit)(descset_span body, const char *package, void *arg),
                           void *arg)
{
    descset_span set = descset_all(), file;
    uint32_t n;
    uint64_t v;
    while (descset_next(&set, &n, &file, &v)) {
        if (n != 1)
            continue;
        char package[NAME_MAX_LEN];
        descset_field_text(file, 2, package, sizeof package);
        descset_span fields = file, b;
        while (descset_next(&fields, &n, &b, &v))
            if (n == number)
                visit(b, package, arg);
    }
}

/* ---- methods without side effects ---- */

static char marked[MARKED_MAX][3 * NAME_MAX_LEN]; /* "pkg.Service/Method" */
static size_t n_marked;
static pthread_once_t once = PTHREAD_ONCE_INIT;
static bool incomplete; /* a mark could not be kept: descset_marks_complete */

static bool no_side_effects(descset_span options)
{
    uint32_t number;
    descset_span b;
    uint64_t v;
    bool set = false;
    while (descset_next(&options, &number, &b, &v))
        if (number == IDEMPOTENCY_LEVEL)
            set = v == NO_SIDE_EFFECTS;
    return set;
}

static void method_walk(descset_span method, const char *service)
{
    uint32_t number;
    descset_span b;
    uint64_t v;
    char name[NAME_MAX_LEN] = "";
    bool set = false;
    while (descset_next(&method, &number, &b, &v)) {
        if (number == 1)
            descset_text(&b, name, sizeof name);
        else if (number == 4)
            set = no_side_effects(b);
    }
    if (set && (!name[0] || n_marked == MARKED_MAX ||
                snprintf(marked[n_marked], sizeof marked[0], "%s/%s", service, name) >=
                    (int)sizeof marked[0]))
        incomplete = true;
    else if (set)
        n_marked++;
}

static void service_walk(descset_span svc, const char *package, void *arg)
{
    (void)arg;
    uint32_t number;
    descset_span b;
    uint64_t v;
    char name[NAME_MAX_LEN], full[2 * NAME_MAX_LEN];
    descset_field_text(svc, 1, name, sizeof name);
    snprintf(full, sizeof full, "%s%s%s", package, package[0] ? "." : "", name);
    while (descset_next(&svc, &number, &b, &v))
        if (number == 2)
            method_walk(b, full);
}

static void load(void)
{
    descset_each_in_files(6, service_walk, NULL);
}

bool descset_marks_complete(void)
{
    pthread_once(&once, load);
    return !incomplete;
}

bool descset_no_side_effects(const char *service, const char *method)
{
    pthread_once(&once, load);
    char full[3 * NAME_MAX_LEN];
    snprintf(full, sizeof full, "%s/%s", service, method);
    for (size_t i = 0; i < n_marked; i++)
        if (strcmp(marked[i], full) == 0)
            return true;
    return false;
}
