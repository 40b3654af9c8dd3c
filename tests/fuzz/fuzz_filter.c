/* fuzz_filter.c — AIP-160 list filters (filter.h): parser, evaluator, canonical text.
 *
 * Input: the filter text up to a 0x00 byte (or the end); the bytes after it seed the records
 * the filter is evaluated on. The facet table has every type, singular and repeated. Each
 * record gives every facet 0 or 1 values (a list 0 to 3), drawn from pools built from the
 * filter's own literals and their neighbours (v - 1, v + 1, a longer string, ...), so
 * equalities and boundaries are hit.
 *
 * Oracles:
 *   - filter_parse succeeds, or fails INVALID_ARGUMENT with a message that starts with
 *     "filter: ", is UTF-8 (whatever the input) and whose positions are within the text;
 *     text over FILTER_MAX_BYTES is refused for its length;
 *   - an accepted tree is well-formed: facet indices in range, value types the facet's,
 *     has-tests exactly on lists, only = / != / has on enums and bools, at most
 *     FILTER_MAX_COMPARISONS comparisons;
 *   - filter_match agrees with a separate reference evaluator that pushes NOT down to the
 *     comparisons (De Morgan, negated operators, unset facets), and the reference's negation
 *     of the whole filter is !filter_match (match(NOT f) == !match(f));
 *   - the canonical text parses again to the same canonical text and the same matches, or is
 *     refused only because it is itself over FILTER_MAX_BYTES or FILTER_MAX_DEPTH.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "filter.h"
#include "input.h"
#include "supplysec/v1/api_keys.pb-c.h"
#include "supplysec/v1/common.pb-c.h"
#include "supplysec/v1/organizations.pb-c.h"
#include "utf8.h"

enum { N_FACETS = 10, N_RECORDS = 4, MAX_VALUES = 3, POOL_MAX = 48 };

static const facet_def FACETS[N_FACETS] = {
    {"state", FACET_ENUM, false, &supplysec__v1__api_key__state__descriptor},
    {"role", FACET_ENUM, false, &supplysec__v1__role__descriptor},
    {"display_name", FACET_STRING, false, NULL},
    {"tags", FACET_STRING, true, NULL},
    {"count", FACET_INT, false, NULL},
    {"sizes", FACET_INT, true, NULL},
    {"enabled", FACET_BOOL, false, NULL},
    {"create_time", FACET_TIMESTAMP, false, NULL},
    {"expire_time", FACET_TIMESTAMP, false, NULL},
    {"supply_chain_roles", FACET_ENUM, true, &supplysec__v1__supply_chain_role__descriptor},
};

/* ---- the refusal ---- */

static void check_refusal(const char *text, const status *st)
{
    FUZZ_REQUIRE(st->code == STATUS_INVALID_ARGUMENT, "code %d: %s", st->code, st->msg);
    FUZZ_REQUIRE(strncmp(st->msg, "filter: ", 8) == 0, "message \"%s\"", st->msg);
    FUZZ_REQUIRE(utf8_valid(st->msg, strlen(st->msg), NULL), "message not UTF-8");
    size_t chars = 0, len = strlen(text);
    for (size_t i = 0; i < len; i++)
        chars += ((unsigned char)text[i] & 0xC0) != 0x80;
    /* (unless the input itself holds "at position ", which a message may quote) */
    const char *first = strstr(text, "at position ") ? NULL : strstr(st->msg, "at position ");
    for (const char *at = first; at; at = strstr(at + 1, "at position ")) {
        size_t pos = strtoull(at + 12, NULL, 10);
        FUZZ_REQUIRE(pos >= 1 && pos <= chars + 1, "position %zu of %zu characters: %s", pos, chars,
                     st->msg);
    }
    if (len > FILTER_MAX_BYTES)
        FUZZ_REQUIRE(strstr(st->msg, "at most 2048 bytes"), "long text: %s", st->msg);
}

/* ---- the tree ---- */

static size_t check_tree(const filter_node *nd, int level)
{
    FUZZ_REQUIRE(level < 200, "tree deeper than 200");
    switch (nd->op) {
    case FILTER_AND:
    case FILTER_OR:
        FUZZ_REQUIRE(nd->left && nd->right, "binary node without operands");
        return check_tree(nd->left, level + 1) + check_tree(nd->right, level + 1);
    case FILTER_NOT:
        FUZZ_REQUIRE(nd->left && !nd->right, "NOT with %s", nd->left ? "two operands" : "none");
        return check_tree(nd->left, level + 1);
    default:
        break;
    }
    FUZZ_REQUIRE(nd->facet < N_FACETS, "facet %zu", nd->facet);
    const facet_def *fd = &FACETS[nd->facet];
    FUZZ_REQUIRE(nd->value.type == fd->type, "%s: value type %d", fd->name, nd->value.type);
    FUZZ_REQUIRE((nd->op == FILTER_HAS) == fd->repeated, "%s: op %d", fd->name, nd->op);
    if (fd->type == FACET_ENUM || fd->type == FACET_BOOL)
        FUZZ_REQUIRE(nd->op == FILTER_EQ || nd->op == FILTER_NE || nd->op == FILTER_HAS,
                     "%s: ordered", fd->name);
    if (fd->type == FACET_STRING)
        FUZZ_REQUIRE(nd->value.s && utf8_valid(nd->value.s, strlen(nd->value.s), NULL),
                     "%s: string not UTF-8", fd->name);
    if (fd->type == FACET_ENUM) {
        const ProtobufCEnumValue *v =
            protobuf_c_enum_descriptor_get_value_by_name(fd->enum_type, nd->value.s);
        FUZZ_REQUIRE(v && v->value == nd->value.i, "%s: enum value %s", fd->name, nd->value.s);
    }
    if (fd->type == FACET_BOOL)
        FUZZ_REQUIRE(nd->value.i == 0 || nd->value.i == 1, "bool %" PRId64, nd->value.i);
    if (fd->type == FACET_TIMESTAMP)
        FUZZ_REQUIRE(nd->value.i >= INT64_C(-62135596800000000) &&
                         nd->value.i <= INT64_C(253402300799999999),
                     "time %" PRId64, nd->value.i);
    return 1;
}

/* ---- records ---- */

typedef struct pools {
    facet_value v[N_FACETS][POOL_MAX];
    size_t n[N_FACETS];
    char *owned[N_FACETS * POOL_MAX]; /* strings made for the pools */
    size_t n_owned;
} pools;

static void pool_add(pools *pl, int k, const char *s, int64_t i)
{
    if (pl->n[k] < POOL_MAX)
        pl->v[k][pl->n[k]++] = (facet_value){FACETS[k].type, s, i};
}

static int64_t sat_add(int64_t a, int64_t b)
{
    if (b > 0 && a > INT64_MAX - b)
        return INT64_MAX;
    if (b < 0 && a < INT64_MIN - b)
        return INT64_MIN;
    return a + b;
}

/* Each literal of the filter and its neighbours, into its facet's pool. */
static void pool_literals(pools *pl, const filter_node *nd)
{
    if (nd->op == FILTER_AND || nd->op == FILTER_OR || nd->op == FILTER_NOT) {
        pool_literals(pl, nd->left);
        if (nd->right)
            pool_literals(pl, nd->right);
        return;
    }
    int k = (int)nd->facet;
    const facet_value *v = &nd->value;
    switch (v->type) {
    case FACET_STRING: {
        pool_add(pl, k, v->s, 0);
        size_t len = strlen(v->s);
        char *longer = malloc(len + 2), *shorter = malloc(len + 1);
        if (!longer || !shorter)
            abort();
        memcpy(longer, v->s, len);
        memcpy(longer + len, "~", 2);
        /* one character shorter, so it stays UTF-8 */
        size_t cut = len;
        while (cut > 0 && ((unsigned char)v->s[cut - 1] & 0xC0) == 0x80)
            cut--;
        cut = cut ? cut - 1 : 0;
        memcpy(shorter, v->s, cut);
        shorter[cut] = '\0';
        pl->owned[pl->n_owned++] = longer;
        pl->owned[pl->n_owned++] = shorter;
        pool_add(pl, k, longer, 0);
        pool_add(pl, k, shorter, 0);
        return;
    }
    case FACET_INT:
    case FACET_TIMESTAMP:
        pool_add(pl, k, NULL, v->i);
        pool_add(pl, k, NULL, sat_add(v->i, -1));
        pool_add(pl, k, NULL, sat_add(v->i, 1));
        return;
    default:
        return; /* enums and bools: every value is in the pool already */
    }
}

static void pools_init(pools *pl, const filter_node *root)
{
    memset(pl, 0, sizeof *pl);
    for (int k = 0; k < N_FACETS; k++) {
        const facet_def *fd = &FACETS[k];
        switch (fd->type) {
        case FACET_STRING:
            pool_add(pl, k, "", 0);
            pool_add(pl, k, "ops", 0);
            break;
        case FACET_INT:
        case FACET_TIMESTAMP:
            pool_add(pl, k, NULL, 0);
            pool_add(pl, k, NULL, fd->type == FACET_INT ? INT64_MIN : INT64_C(-62135596800000000));
            break;
        case FACET_BOOL:
            pool_add(pl, k, NULL, 0);
            pool_add(pl, k, NULL, 1);
            break;
        case FACET_ENUM:
            for (unsigned i = 0; i < fd->enum_type->n_values; i++)
                pool_add(pl, k, fd->enum_type->values[i].name, fd->enum_type->values[i].value);
            pool_add(pl, k, "", 99); /* a number from a newer schema */
            break;
        }
    }
    if (root) /* at most FILTER_MAX_COMPARISONS literals: owned has room for two each */
        pool_literals(pl, root);
}

static void pools_free(pools *pl)
{
    for (size_t i = 0; i < pl->n_owned; i++)
        free(pl->owned[i]);
}

typedef struct record {
    facet_value v[N_FACETS][MAX_VALUES];
    size_t n[N_FACETS];
    const facet_value *ptrs[N_FACETS];
    facet_values fv;
} record;

static uint64_t next(uint64_t *s)
{
    /* xorshift64*: the records follow from the input bytes, so a crash reproduces */
    *s ^= *s >> 12;
    *s ^= *s << 25;
    *s ^= *s >> 27;
    return *s * UINT64_C(2685821657736338717);
}

static void record_fill(record *r, const pools *pl, uint64_t *seed)
{
    memset(r, 0, sizeof *r);
    for (int k = 0; k < N_FACETS; k++) {
        r->ptrs[k] = r->v[k];
        r->n[k] = next(seed) % (FACETS[k].repeated ? MAX_VALUES + 1 : 2);
        for (size_t i = 0; i < r->n[k]; i++)
            r->v[k][i] = pl->v[k][next(seed) % pl->n[k]];
    }
    r->fv.values = r->ptrs;
    r->fv.n_values = r->n;
}

/* ---- the reference evaluator ---- */

/* Byte order of two strings, by hand rather than strcmp. */
static int ref_strcmp(const char *a, const char *b)
{
    const unsigned char *x = (const unsigned char *)a, *y = (const unsigned char *)b;
    for (;; x++, y++) {
        if (*x != *y)
            return *x < *y ? -1 : 1;
        if (!*x)
            return 0;
    }
}

static bool ref_holds(filter_op op, const facet_value *rec, const facet_value *lit)
{
    int c;
    if (lit->type == FACET_STRING)
        c = ref_strcmp(rec->s, lit->s);
    else
        c = rec->i < lit->i ? -1 : rec->i > lit->i ? 1 : 0;
    switch (op) {
    case FILTER_EQ:
    case FILTER_HAS:
        return c == 0;
    case FILTER_NE:
        return c != 0;
    case FILTER_LT:
        return c < 0;
    case FILTER_LE:
        return c <= 0;
    case FILTER_GT:
        return c > 0;
    case FILTER_GE:
        return c >= 0;
    default:
        abort();
    }
}

static filter_op negated(filter_op op)
{
    switch (op) {
    case FILTER_EQ:
        return FILTER_NE;
    case FILTER_NE:
        return FILTER_EQ;
    case FILTER_LT:
        return FILTER_GE;
    case FILTER_LE:
        return FILTER_GT;
    case FILTER_GT:
        return FILTER_LE;
    case FILTER_GE:
        return FILTER_LT;
    default:
        abort();
    }
}

/* Whether the record satisfies nd (neg: its negation), NOT pushed down to the comparisons. */
static bool ref_eval(const filter_node *nd, const record *r, bool neg)
{
    switch (nd->op) {
    case FILTER_AND:
        return neg ? ref_eval(nd->left, r, true) || ref_eval(nd->right, r, true)
                   : ref_eval(nd->left, r, false) && ref_eval(nd->right, r, false);
    case FILTER_OR:
        return neg ? ref_eval(nd->left, r, true) && ref_eval(nd->right, r, true)
                   : ref_eval(nd->left, r, false) || ref_eval(nd->right, r, false);
    case FILTER_NOT:
        return ref_eval(nd->left, r, !neg);
    case FILTER_HAS: {
        bool any = false;
        for (size_t i = 0; i < r->n[nd->facet]; i++)
            any = any || ref_holds(FILTER_HAS, &r->v[nd->facet][i], &nd->value);
        return any != neg;
    }
    default:
        break;
    }
    if (r->n[nd->facet] == 0) /* unset: only != holds, and the negation of the others */
        return (nd->op == FILTER_NE) != neg;
    return ref_holds(neg ? negated(nd->op) : nd->op, &r->v[nd->facet][0], &nd->value);
}

/* ---- filters given as text ---- */

static void check_text(const char *text, uint64_t seed)
{
    filter *f = (filter *)1;
    status st = {0};
    if (!filter_parse("filter", text, FACETS, N_FACETS, &f, &st)) {
        FUZZ_REQUIRE(f == NULL, "refused with a filter");
        check_refusal(text, &st);
        return;
    }
    FUZZ_REQUIRE(strlen(text) <= FILTER_MAX_BYTES, "accepted %zu bytes", strlen(text));
    const filter_node *root = filter_root(f);
    if (root)
        FUZZ_REQUIRE(check_tree(root, 0) <= FILTER_MAX_COMPARISONS, "too many comparisons");
    else
        FUZZ_REQUIRE(strspn(text, " \t\n\r\v\f") == strlen(text), "no tree for \"%s\"", text);

    pools pl;
    pools_init(&pl, root);
    record recs[N_RECORDS];
    bool match[N_RECORDS];
    for (int i = 0; i < N_RECORDS; i++) {
        record_fill(&recs[i], &pl, &seed);
        match[i] = filter_match(f, &recs[i].fv);
        if (root) {
            FUZZ_REQUIRE(match[i] == ref_eval(root, &recs[i], false),
                         "record %d: filter_match %d, reference %d", i, match[i], !match[i]);
            FUZZ_REQUIRE(ref_eval(root, &recs[i], true) == !match[i],
                         "record %d: NOT f does not give the opposite", i);
        } else {
            FUZZ_REQUIRE(match[i], "an empty filter did not match");
        }
    }

    char *canon = filter_canonical(f, FACETS);
    FUZZ_REQUIRE(canon, "no canonical text");
    FUZZ_REQUIRE(utf8_valid(canon, strlen(canon), NULL), "canonical text not UTF-8");
    filter *g = NULL;
    status gst = {0};
    if (filter_parse("filter", canon, FACETS, N_FACETS, &g, &gst)) {
        char *again = filter_canonical(g, FACETS);
        FUZZ_REQUIRE(again && strcmp(again, canon) == 0, "canonical \"%s\" reparses as \"%s\"",
                     canon, again ? again : "(null)");
        for (int i = 0; i < N_RECORDS; i++)
            FUZZ_REQUIRE(filter_match(g, &recs[i].fv) == match[i],
                         "record %d: canonical \"%s\" matches differently", i, canon);
        free(again);
        filter_free(g);
    } else {
        FUZZ_REQUIRE(strlen(canon) > FILTER_MAX_BYTES || strstr(gst.msg, "nested deeper than"),
                     "canonical \"%s\" refused: %s", canon, gst.msg);
    }

    free(canon);
    pools_free(&pl);
    filter_free(f);
}

/* ---- filters generated as trees ----
 *
 * A random tree, written out in a random one of its spellings (quotes, escapes, JSON names,
 * enum prefixes, NOT or '-', spaces, redundant parentheses, time zone offsets, fractions) by
 * code that shares nothing with the parser, must parse to the canonical text this file prints
 * for the tree, and match what the tree says. */

/* Groups are made while fewer than GEN_NODES nodes exist and at most GEN_DEPTH deep, so the
 * leaves still owed after the last group fit in the GEN_NODES_MAX - GEN_NODES spare slots. */
enum { GEN_NODES = 64, GEN_NODES_MAX = 96, GEN_COMPARISONS = 12, GEN_DEPTH = 6, GEN_TEXT = 8192 };

/* The prefix of each enum facet's value names, written out rather than derived. */
static const char *const ENUM_PREFIX[N_FACETS] = {
    [0] = "STATE_", [1] = "ROLE_", [9] = "SUPPLY_CHAIN_ROLE_"};

typedef struct gnode {
    filter_op op;
    int left, right, facet;
    facet_value v;
    char s[32]; /* a string value */
} gnode;

typedef struct gen {
    gnode nodes[GEN_NODES_MAX];
    int n, comparisons;
    uint64_t seed;
    char out[GEN_TEXT];
    size_t len;
    bool overflow;
} gen;

static unsigned pick(gen *g, unsigned n)
{
    return (unsigned)(next(&g->seed) % n);
}

static int gen_node(gen *g, int depth)
{
    int i = g->n++;
    gnode *nd = &g->nodes[i];
    unsigned k = pick(g, 8);
    if (depth < GEN_DEPTH && g->comparisons < GEN_COMPARISONS && g->n + 2 < GEN_NODES && k < 4) {
        nd->op = k == 0 ? FILTER_NOT : k < 3 ? FILTER_AND : FILTER_OR;
        nd->left = gen_node(g, depth + 1);
        nd->right = nd->op == FILTER_NOT ? -1 : gen_node(g, depth + 1);
        return i;
    }
    g->comparisons++;
    nd->facet = (int)pick(g, N_FACETS);
    const facet_def *fd = &FACETS[nd->facet];
    nd->v.type = fd->type;
    if (fd->repeated)
        nd->op = FILTER_HAS;
    else if (fd->type == FACET_ENUM || fd->type == FACET_BOOL)
        nd->op = pick(g, 2) ? FILTER_EQ : FILTER_NE;
    else
        nd->op = (filter_op)(FILTER_EQ + pick(g, 6));
    switch (fd->type) {
    case FACET_STRING: {
        static const char *const bits[] = {"a", "Z", " ", "\"", "'", "\\", "é", "日", "~", "0"};
        for (unsigned n = pick(g, 7), j = 0; j < n; j++)
            strcat(nd->s, bits[pick(g, 10)]);
        nd->v.s = nd->s;
        break;
    }
    case FACET_ENUM: {
        const ProtobufCEnumValue *ev = &fd->enum_type->values[pick(g, fd->enum_type->n_values)];
        nd->v.s = ev->name;
        nd->v.i = ev->value;
        break;
    }
    case FACET_INT: {
        static const int64_t ints[] = {0, 1, -1, 42, INT64_MIN, INT64_MAX};
        nd->v.i = pick(g, 2) ? ints[pick(g, 6)] : (int64_t)next(&g->seed);
        break;
    }
    case FACET_BOOL:
        nd->v.i = pick(g, 2);
        break;
    case FACET_TIMESTAMP: {
        const int64_t lo = INT64_C(-62135596800000000), hi = INT64_C(253402300799999999);
        static const int64_t times[] = {0, INT64_C(-62135596800000000), INT64_C(253402300799999999),
                                        INT64_C(1767323045000000),
                                        INT64_C(951782400000000)}; /* 2000-02-29 */
        nd->v.i = pick(g, 2) ? times[pick(g, 5)]
                             : lo + (int64_t)(next(&g->seed) % (uint64_t)(hi - lo + 1));
        if (pick(g, 2)) { /* whole seconds or milliseconds are common; lo is a whole second */
            int64_t unit = pick(g, 2) ? 1000000 : 1000, r = nd->v.i % unit;
            nd->v.i -= r < 0 ? r + unit : r;
        }
        break;
    }
    }
    return i;
}

static void out(gen *g, const char *s, size_t n)
{
    if (g->len + n >= GEN_TEXT) {
        g->overflow = true;
        return;
    }
    memcpy(g->out + g->len, s, n);
    g->len += n;
    g->out[g->len] = '\0';
}

static void outs(gen *g, const char *s)
{
    out(g, s, strlen(s));
}

static void spaces(gen *g, unsigned min)
{
    for (unsigned n = min + pick(g, 3); n > 0; n--)
        out(g, pick(g, 4) ? " " : "\t", 1);
}

/* A UTC time in microseconds as civil fields, through the C library rather than calendar.c. */
static void civil(int64_t micros, int64_t offset_minutes, struct tm *tm)
{
    int64_t secs = micros / 1000000 - (micros % 1000000 < 0);
    time_t t = (time_t)(secs + offset_minutes * 60);
    gmtime_r(&t, tm);
}

static int64_t micros_of_second(int64_t micros)
{
    int64_t r = micros % 1000000;
    return r < 0 ? r + 1000000 : r;
}

static void write_time(gen *g, int64_t micros)
{
    static const int offsets[] = {0, 60, -300, 330, -59, 840, -720};
    int off = offsets[pick(g, 7)];
    struct tm tm;
    civil(micros, off, &tm);
    if (tm.tm_year + 1900 < 0 || tm.tm_year + 1900 > 9999) { /* the offset left 4 digits */
        off = 0;
        civil(micros, 0, &tm);
    }
    char buf[80], frac[24] = "";
    int64_t us = micros_of_second(micros);
    switch (pick(g, 3)) {
    case 0:
        if (us % 1000 == 0 && us)
            snprintf(frac, sizeof frac, ".%03d", (int)(us / 1000));
        else if (us)
            snprintf(frac, sizeof frac, ".%06d", (int)us);
        break;
    case 1:
        snprintf(frac, sizeof frac, ".%06d", (int)us);
        break;
    default: /* nanoseconds: the three extra digits are dropped */
        snprintf(frac, sizeof frac, ".%06d%03u", (int)us, pick(g, 1000));
        break;
    }
    char zone[16];
    if (off == 0 && pick(g, 2))
        snprintf(zone, sizeof zone, "%s", pick(g, 2) ? "Z" : "z");
    else
        snprintf(zone, sizeof zone, "%c%02d:%02d", off < 0 ? '-' : '+', abs(off) / 60,
                 abs(off) % 60);
    snprintf(buf, sizeof buf, "%04d-%02d-%02d%c%02d:%02d:%02d%s%s", tm.tm_year + 1900,
             tm.tm_mon + 1, tm.tm_mday, pick(g, 4) ? 'T' : 't', tm.tm_hour, tm.tm_min, tm.tm_sec,
             frac, zone);
    char q = pick(g, 2) ? '"' : '\'';
    out(g, &q, 1);
    outs(g, buf);
    out(g, &q, 1);
}

static void write_value(gen *g, const gnode *nd)
{
    char buf[64];
    const facet_def *fd = &FACETS[nd->facet];
    switch (fd->type) {
    case FACET_STRING: {
        char q = pick(g, 2) ? '"' : '\'';
        out(g, &q, 1);
        for (const char *c = nd->v.s; *c; c++) {
            if (*c == q || *c == '\\' || ((*c == '"' || *c == '\'') && pick(g, 2)))
                out(g, "\\", 1);
            out(g, c, 1);
        }
        out(g, &q, 1);
        return;
    }
    case FACET_ENUM: {
        const char *name = nd->v.s, *prefix = ENUM_PREFIX[nd->facet];
        if (pick(g, 2) && strncmp(name, prefix, strlen(prefix)) == 0)
            name += strlen(prefix);
        bool quoted = pick(g, 4) == 0;
        if (quoted)
            out(g, "\"", 1);
        outs(g, name);
        if (quoted)
            out(g, "\"", 1);
        return;
    }
    case FACET_INT:
        if (nd->v.i < 0)
            out(g, "-", 1);
        if (pick(g, 4) == 0)
            out(g, "00", 2);
        snprintf(buf, sizeof buf, "%" PRIu64,
                 nd->v.i < 0 ? (uint64_t)0 - (uint64_t)nd->v.i : (uint64_t)nd->v.i);
        outs(g, buf);
        return;
    case FACET_BOOL:
        outs(g, nd->v.i ? "true" : "false");
        return;
    case FACET_TIMESTAMP:
        write_time(g, nd->v.i);
        return;
    }
}

static bool compound(const gnode *nd)
{
    return nd->op == FILTER_AND || nd->op == FILTER_OR;
}

/* Writes node i, an operand of parent (FILTER_EQ: the top), in a random spelling. */
static void write_node(gen *g, int i, filter_op parent)
{
    const gnode *nd = &g->nodes[i];
    /* parentheses that the meaning needs: AND under OR (OR binds tighter), any group under NOT */
    bool need =
        compound(nd) && (parent == FILTER_NOT || (parent == FILTER_OR && nd->op == FILTER_AND));
    bool parens = need || pick(g, 8) == 0;
    if (parens) {
        out(g, "(", 1);
        spaces(g, 0);
    }
    if (compound(nd)) {
        write_node(g, nd->left, nd->op);
        spaces(g, 1);
        outs(g, nd->op == FILTER_AND ? "AND" : "OR");
        spaces(g, 1);
        write_node(g, nd->right, nd->op);
    } else if (nd->op == FILTER_NOT) {
        if (pick(g, 2)) {
            outs(g, "NOT");
            spaces(g, 1);
        } else {
            out(g, "-", 1);
            spaces(g, 0);
        }
        write_node(g, nd->left, FILTER_NOT);
    } else {
        const char *name = FACETS[nd->facet].name;
        if (pick(g, 2)) {
            outs(g, name);
        } else { /* lowerCamelCase */
            for (const char *c = name; *c; c++)
                if (*c != '_')
                    out(g, (const char[]){c > name && c[-1] == '_' ? (char)(*c - 'a' + 'A') : *c},
                        1);
        }
        spaces(g, 0);
        static const char *const ops[] = {
            [FILTER_EQ] = "=", [FILTER_NE] = "!=", [FILTER_LT] = "<", [FILTER_LE] = "<=",
            [FILTER_GT] = ">", [FILTER_GE] = ">=", [FILTER_HAS] = ":"};
        outs(g, ops[nd->op]);
        spaces(g, 0);
        write_value(g, nd);
    }
    if (parens) {
        spaces(g, 0);
        out(g, ")", 1);
    }
}

/* The canonical text of node i as docs/filters.md defines it. */
static void write_canonical(gen *g, int i, filter_op parent)
{
    const gnode *nd = &g->nodes[i];
    char buf[96];
    if (compound(nd)) {
        bool group = parent != FILTER_EQ && parent != nd->op;
        if (group)
            out(g, "(", 1);
        write_canonical(g, nd->left, nd->op);
        outs(g, nd->op == FILTER_AND ? " AND " : " OR ");
        write_canonical(g, nd->right, nd->op);
        if (group)
            out(g, ")", 1);
        return;
    }
    if (nd->op == FILTER_NOT) {
        outs(g, "NOT ");
        write_canonical(g, nd->left, FILTER_NOT);
        return;
    }
    static const char *const ops[] = {
        [FILTER_EQ] = " = ", [FILTER_NE] = " != ", [FILTER_LT] = " < ", [FILTER_LE] = " <= ",
        [FILTER_GT] = " > ", [FILTER_GE] = " >= ", [FILTER_HAS] = ":"};
    outs(g, FACETS[nd->facet].name);
    outs(g, ops[nd->op]);
    switch (nd->v.type) {
    case FACET_STRING:
        out(g, "\"", 1);
        for (const char *c = nd->v.s; *c; c++) {
            if (*c == '"' || *c == '\\')
                out(g, "\\", 1);
            out(g, c, 1);
        }
        out(g, "\"", 1);
        return;
    case FACET_ENUM:
        outs(g, nd->v.s);
        return;
    case FACET_INT:
        snprintf(buf, sizeof buf, "%" PRId64, nd->v.i);
        break;
    case FACET_BOOL:
        snprintf(buf, sizeof buf, "%s", nd->v.i ? "true" : "false");
        break;
    case FACET_TIMESTAMP: {
        struct tm tm;
        civil(nd->v.i, 0, &tm);
        snprintf(buf, sizeof buf, "\"%04d-%02d-%02dT%02d:%02d:%02d.%06dZ\"", tm.tm_year + 1900,
                 tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec,
                 (int)micros_of_second(nd->v.i));
        break;
    }
    }
    outs(g, buf);
}

static bool gen_eval(const gen *g, int i, const record *r)
{
    const gnode *nd = &g->nodes[i];
    switch (nd->op) {
    case FILTER_AND:
        return gen_eval(g, nd->left, r) && gen_eval(g, nd->right, r);
    case FILTER_OR:
        return gen_eval(g, nd->left, r) || gen_eval(g, nd->right, r);
    case FILTER_NOT:
        return !gen_eval(g, nd->left, r);
    default:
        return ref_eval(&(filter_node){nd->op, NULL, NULL, (size_t)nd->facet, nd->v}, r, false);
    }
}

static void check_generated(uint64_t seed)
{
    static gen g; /* 4 KiB of text and the nodes: off the stack */
    memset(&g, 0, sizeof g);
    g.seed = seed | 1;
    int root = gen_node(&g, 0);
    write_node(&g, root, FILTER_EQ);
    if (g.overflow || g.len > FILTER_MAX_BYTES)
        return;
    char text[GEN_TEXT];
    memcpy(text, g.out, g.len + 1);
    g.len = 0;
    write_canonical(&g, root, FILTER_EQ);
    FUZZ_REQUIRE(!g.overflow, "canonical text over %d bytes", GEN_TEXT);

    filter *f = NULL;
    status st = {0};
    FUZZ_REQUIRE(filter_parse("filter", text, FACETS, N_FACETS, &f, &st),
                 "generated \"%s\" refused: %s", text, st.msg);
    char *canon = filter_canonical(f, FACETS);
    FUZZ_REQUIRE(canon && strcmp(canon, g.out) == 0, "\"%s\": canonical \"%s\", expected \"%s\"",
                 text, canon ? canon : "(null)", g.out);
    pools pl;
    pools_init(&pl, filter_root(f));
    for (int i = 0; i < N_RECORDS; i++) {
        record r;
        record_fill(&r, &pl, &g.seed);
        FUZZ_REQUIRE(filter_match(f, &r.fv) == gen_eval(&g, root, &r),
                     "\"%s\": record %d matches differently from the generated tree", text, i);
    }
    pools_free(&pl);
    free(canon);
    filter_free(f);
}

/* ---- the target ---- */

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    fuzz_input in = {data, size};
    char *text = fuzz_text(&in);
    uint64_t seed = UINT64_C(0x9E3779B97F4A7C15) ^ size;
    while (in.n)
        seed = seed * 131 + fuzz_byte(&in) + 1;
    check_text(text, seed);
    /* the generated filter follows from the whole input */
    uint64_t gseed = UINT64_C(0xD1B54A32D192ED03);
    for (size_t i = 0; i < size; i++)
        gseed = (gseed ^ data[i]) * UINT64_C(0x100000001B3);
    check_generated(gseed);
    free(text);
    return 0;
}
