/* filter.c — AIP-160 list filters: parser, evaluator and canonical text (see filter.h and
 * docs/filters.md for the language).
 *
 * The parser is recursive descent over a one-token lookahead lexer, one function per
 * precedence level: AND (loosest), OR, NOT / '-', then a parenthesised filter or a
 * comparison. Only '(' and NOT recurse, and both count against FILTER_MAX_DEPTH before they
 * do, so the C stack a filter can use is bounded whatever the text. The tree's own depth is
 * bounded too (at most FILTER_MAX_COMPARISONS - 1 AND/OR levels plus FILTER_MAX_DEPTH NOTs),
 * which is what lets the evaluator and the printer recurse.
 *
 * Every allocation of a parse is recorded in the filter, so an error anywhere frees all of it
 * with filter_free and nodes never need to free their children.
 */
#include "filter.h"

#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "calendar.h"
#include "doc.h"
#include "utf8.h"

/* QUOTE_MAX: bytes of input a message quotes; LIST_MAX: room for "filterable: ..." and
 * "allowed: ..." lists, so a message stays within status.msg whatever the tables hold. */
enum { QUOTE_MAX = 40, NAME_MAX_LEN = 128, LIST_MAX = 300, BODY_MAX = 1024 };

struct filter {
    filter_node *root;
    void **blocks; /* every node and string of this filter */
    size_t n_blocks, cap_blocks;
};

typedef enum tok_kind {
    T_END,
    T_LPAREN,
    T_RPAREN,
    T_AND,
    T_OR,
    T_NOT,
    T_MINUS,
    T_WORD, /* [A-Za-z0-9_.]+: field names, enum values, numbers, true/false */
    T_STRING,
    T_CMP
} tok_kind;

typedef struct token {
    tok_kind kind;
    size_t at, len; /* bytes of the text */
    filter_op op;   /* T_CMP */
} token;

typedef struct parser {
    const char *field; /* the request field, first in every message */
    const char *text;
    size_t len, pos;
    const facet_def *facets;
    size_t n;
    filter *f;
    int depth;  /* open parentheses plus NOTs around the current point */
    int parens; /* open parentheses alone, to tell a stray ')' */
    size_t comparisons;
    bool failed; /* st holds the first error; the loops stop on it */
    status *st;
} parser;

/* ---- messages ---- */

/* 1-based character position of byte offset at. Input before an error point is UTF-8 (a
 * string is checked before anything after it is read), so counting lead bytes counts
 * characters. */
static size_t position(const parser *p, size_t at)
{
    size_t n = 1;
    for (size_t i = 0; i < at && i < p->len; i++)
        n += ((unsigned char)p->text[i] & 0xC0) != 0x80;
    return n;
}

static bool fail(parser *p, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* INVALID_ARGUMENT "<field>: <message>"; returns false. Quoted input is cut at QUOTE_MAX bytes
 * and lists at LIST_MAX, so the message never exceeds BODY_MAX. */
static bool fail(parser *p, const char *fmt, ...)
{
    char body[BODY_MAX];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(body, sizeof body, fmt, ap);
    va_end(ap);
    p->failed = true;
    return status_fail(p->st, STATUS_INVALID_ARGUMENT, "%s: %s", p->field, body);
}

static bool out_of_memory(parser *p)
{
    p->failed = true;
    return status_fail(p->st, STATUS_RESOURCE_EXHAUSTED, "%s: out of memory", p->field);
}

/* How much of the len bytes at s a message may quote: at most QUOTE_MAX bytes, cut between
 * characters and before the first byte that is not UTF-8 (a quoted string's content is not
 * checked until it is taken as a value), so a message stays UTF-8 whatever it quotes. */
static int quotable(const char *s, size_t len)
{
    size_t bad;
    if (len > QUOTE_MAX + 4)
        len = QUOTE_MAX + 4;
    if (!utf8_valid(s, len, &bad))
        len = bad;
    return utf8_clip(s, len < QUOTE_MAX ? len : QUOTE_MAX);
}

/* printf arguments for a token's text: "%.*s". */
#define TOKEN_TEXT(p, t) quotable((p)->text + (t).at, (t).len), (p)->text + (t).at

static const char *op_text(filter_op op)
{
    switch (op) {
    case FILTER_EQ:
        return "=";
    case FILTER_NE:
        return "!=";
    case FILTER_LT:
        return "<";
    case FILTER_LE:
        return "<=";
    case FILTER_GT:
        return ">";
    case FILTER_GE:
        return ">=";
    case FILTER_HAS:
        return ":";
    case FILTER_AND:
        return "AND";
    case FILTER_OR:
        return "OR";
    case FILTER_NOT:
        return "NOT";
    }
    return "?";
}

/* Appends s to list (capacity LIST_MAX) after a ", ", or "..." once it is full. */
static void list_add(char *list, const char *s, size_t n)
{
    size_t used = strlen(list);
    if (used >= LIST_MAX - 4)
        return;
    if (used + n + 2 + 4 >= LIST_MAX) {
        strcpy(list + used, used ? ", ..." : "...");
        return;
    }
    if (used) {
        memcpy(list + used, ", ", 2);
        used += 2;
    }
    memcpy(list + used, s, n);
    list[used + n] = '\0';
}

/* ---- allocation ---- */

static void *filter_alloc(parser *p, size_t size)
{
    filter *f = p->f;
    if (f->n_blocks == f->cap_blocks) {
        size_t cap = f->cap_blocks ? 2 * f->cap_blocks : 16;
        void **b = realloc(f->blocks, cap * sizeof *b);
        if (!b)
            return NULL;
        f->blocks = b;
        f->cap_blocks = cap;
    }
    void *m = calloc(1, size);
    if (m)
        f->blocks[f->n_blocks++] = m;
    return m;
}

static filter_node *node_new(parser *p, filter_op op, filter_node *left, filter_node *right)
{
    filter_node *nd = filter_alloc(p, sizeof *nd);
    if (!nd) {
        out_of_memory(p);
        return NULL;
    }
    nd->op = op;
    nd->left = left;
    nd->right = right;
    return nd;
}

/* ---- lexer ---- */

static bool is_space(char c)
{
    return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' || c == '\f';
}

static bool is_digit(char c)
{
    return c >= '0' && c <= '9';
}

static bool is_word(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || is_digit(c) || c == '_' || c == '.';
}

static size_t skip_space(const parser *p, size_t at)
{
    while (at < p->len && is_space(p->text[at]))
        at++;
    return at;
}

static bool bad_character(parser *p, size_t at)
{
    const unsigned char *s = (const unsigned char *)p->text + at;
    size_t k = utf8_char_len(s, p->len - at), pos = position(p, at);
    const char *hint = s[0] == '!'   ? "; not-equal is != and negation NOT"
                       : s[0] == '&' ? "; write AND"
                       : s[0] == '|' ? "; write OR"
                       : s[0] == '*' ? "; wildcards are not supported"
                                     : "";
    if (k == 0)
        return fail(p, "byte 0x%02X at position %zu is not UTF-8", s[0], pos);
    if (k == 1 && (s[0] < 0x20 || s[0] == 0x7F))
        return fail(p, "unexpected control character 0x%02X at position %zu", s[0], pos);
    return fail(p, "unexpected character '%.*s' at position %zu%s", (int)k, (const char *)s, pos,
                hint);
}

/* The token at p->pos (after spaces), not consumed; false (status set) for a character that
 * starts none or a string that never ends. */
static bool peek(parser *p, token *t)
{
    size_t at = skip_space(p, p->pos);
    const char *s = p->text + at;
    *t = (token){T_END, at, 0, FILTER_EQ};
    if (at >= p->len)
        return true;
    t->len = 1;
    switch (s[0]) {
    case '(':
        t->kind = T_LPAREN;
        return true;
    case ')':
        t->kind = T_RPAREN;
        return true;
    case '-':
        t->kind = T_MINUS;
        return true;
    case '=':
        t->kind = T_CMP;
        t->op = FILTER_EQ;
        return true;
    case ':':
        t->kind = T_CMP;
        t->op = FILTER_HAS;
        return true;
    case '!':
        if (s[1] != '=')
            return bad_character(p, at);
        t->kind = T_CMP;
        t->op = FILTER_NE;
        t->len = 2;
        return true;
    case '<':
    case '>':
        t->kind = T_CMP;
        t->len = s[1] == '=' ? 2 : 1;
        t->op = s[0] == '<' ? (t->len == 2 ? FILTER_LE : FILTER_LT)
                            : (t->len == 2 ? FILTER_GE : FILTER_GT);
        return true;
    case '"':
    case '\'': {
        /* Only the extent here; escapes and UTF-8 are checked when the value is taken. */
        size_t i = at + 1;
        while (i < p->len && p->text[i] != s[0])
            i += p->text[i] == '\\' ? 2 : 1;
        if (i >= p->len)
            return fail(p, "unterminated string starting at position %zu", position(p, at));
        t->kind = T_STRING;
        t->len = i + 1 - at;
        return true;
    }
    default:
        break;
    }
    if (!is_word(s[0]))
        return bad_character(p, at);
    while (at + t->len < p->len && is_word(s[t->len]))
        t->len++;
    t->kind = T_WORD;
    if (t->len == 3 && memcmp(s, "AND", 3) == 0)
        t->kind = T_AND;
    else if (t->len == 2 && memcmp(s, "OR", 2) == 0)
        t->kind = T_OR;
    else if (t->len == 3 && memcmp(s, "NOT", 3) == 0)
        t->kind = T_NOT;
    return true;
}

static void consume(parser *p, const token *t)
{
    p->pos = t->at + t->len;
}

/* Whether the word t is and/or/not in a case other than the keyword's. */
static bool is_lower_keyword(const parser *p, const token *t)
{
    static const char *const kw[] = {"and", "or", "not"};
    if (t->kind != T_WORD)
        return false;
    for (int i = 0; i < 3; i++)
        if (t->len == strlen(kw[i]) && strncasecmp(p->text + t->at, kw[i], t->len) == 0)
            return true;
    return false;
}

static bool lower_keyword(parser *p, const token *t)
{
    return fail(p, "\"%.*s\" at position %zu: the operators AND, OR and NOT are upper case",
                TOKEN_TEXT(p, *t), position(p, t->at));
}

/* ---- values ---- */

/* The string token t decoded: escapes \" \' \\ only, UTF-8 required; NULL with status set. */
static char *string_value(parser *p, const token *t)
{
    size_t i = t->at + 1, end = t->at + t->len - 1, n = 0;
    char *out = filter_alloc(p, end - i + 1);
    if (!out) {
        out_of_memory(p);
        return NULL;
    }
    while (i < end) {
        const unsigned char *s = (const unsigned char *)p->text + i;
        size_t k = utf8_char_len(s, end - i);
        if (k == 0) {
            fail(p, "string at position %zu is not UTF-8 (byte 0x%02X at position %zu)",
                 position(p, t->at), s[0], position(p, i));
            return NULL;
        }
        if (s[0] != '\\') {
            memcpy(out + n, s, k);
            n += k;
            i += k;
            continue;
        }
        /* the lexer saw the closing quote after this backslash, so s[1] is in the string */
        size_t ek = utf8_char_len(s + 1, end - i - 1);
        if (s[1] != '"' && s[1] != '\'' && s[1] != '\\') {
            if (ek == 0 || s[1] < 0x20 || s[1] == 0x7F)
                fail(p, "unsupported escape at position %zu; only \\\", \\' and \\\\ are allowed",
                     position(p, i));
            else
                fail(p,
                     "unsupported escape \"\\%.*s\" at position %zu; only \\\", \\' and \\\\ are "
                     "allowed",
                     (int)ek, (const char *)s + 1, position(p, i));
            return NULL;
        }
        out[n++] = (char)s[1];
        i += 2;
    }
    out[n] = '\0';
    return out;
}

/* The value of e called name[0..len): its full name or the name without the enum's prefix. */
static const ProtobufCEnumValue *enum_value(const ProtobufCEnumDescriptor *e, const char *name,
                                            size_t len)
{
    char buf[2 * NAME_MAX_LEN];
    if (len == 0 || len >= NAME_MAX_LEN || memchr(name, '\0', len))
        return NULL;
    memcpy(buf, name, len);
    buf[len] = '\0';
    const ProtobufCEnumValue *v = protobuf_c_enum_descriptor_get_value_by_name(e, buf);
    if (v)
        return v;
    reflect_enum_prefix(e, buf, NAME_MAX_LEN);
    size_t pl = strlen(buf);
    memcpy(buf + pl, name, len);
    buf[pl + len] = '\0';
    return protobuf_c_enum_descriptor_get_value_by_name(e, buf);
}

static bool unknown_enum_value(parser *p, const facet_def *fd, const char *name, size_t len,
                               size_t at)
{
    char prefix[NAME_MAX_LEN], list[LIST_MAX] = "";
    reflect_enum_prefix(fd->enum_type, prefix, sizeof prefix);
    size_t pl = strlen(prefix);
    for (unsigned i = 0; i < fd->enum_type->n_values; i++) {
        const ProtobufCEnumValue *v = &fd->enum_type->values[i];
        size_t vl = strlen(v->name);
        /* the zero value is accepted but not offered: it means "not set" */
        if (v->value == 0 && vl >= 12 && strcmp(v->name + vl - 12, "_UNSPECIFIED") == 0)
            continue;
        bool prefixed = vl > pl && strncmp(v->name, prefix, pl) == 0;
        list_add(list, v->name + (prefixed ? pl : 0), vl - (prefixed ? pl : 0));
    }
    return fail(p, "\"%.*s\" is not a value of %s at position %zu; allowed: %s",
                quotable(name, len), name, fd->name, position(p, at), list);
}

/* The word t as an int64: digits, after a '-' that parse_value only takes before a digit. */
static bool int_value(parser *p, const facet_def *fd, const token *t, int64_t *out)
{
    const char *s = p->text + t->at;
    bool neg = s[0] == '-';
    uint64_t v = 0, max = neg ? (uint64_t)INT64_MAX + 1 : (uint64_t)INT64_MAX;
    for (size_t i = neg; i < t->len; i++) {
        if (!is_digit(s[i]))
            return fail(p,
                        "%s takes an integer (decimal digits, optionally after '-'), got \"%.*s\" "
                        "at position %zu",
                        fd->name, TOKEN_TEXT(p, *t), position(p, t->at));
        unsigned d = (unsigned)(s[i] - '0');
        if (v > (max - d) / 10)
            return fail(p,
                        "%.*s at position %zu is out of range for %s (-9223372036854775808 to "
                        "9223372036854775807)",
                        TOKEN_TEXT(p, *t), position(p, t->at), fd->name);
        v = v * 10 + d;
    }
    *out = neg ? (v == (uint64_t)INT64_MAX + 1 ? INT64_MIN : -(int64_t)v) : (int64_t)v;
    return true;
}

static bool time_value(parser *p, const facet_def *fd, const token *t, int64_t *micros)
{
    char *s = string_value(p, t);
    calendar_time ct;
    if (!s)
        return false;
    if (!calendar_parse_rfc3339(s, strlen(s), &ct))
        return fail(p,
                    "\"%.*s\" at position %zu is not an RFC 3339 time for %s; write e.g. "
                    "\"2026-01-02T03:04:05Z\" or \"2026-01-02T04:04:05.5+01:00\" (years 0001 to "
                    "9999)",
                    UTF8_CLIP(s, QUOTE_MAX), position(p, t->at), fd->name);
    /* sub-microsecond digits are dropped: stores keep at most microseconds */
    *micros = ct.seconds * 1000000 + ct.nanos / 1000;
    return true;
}

/* The value after the comparator cmp of a comparison on fd, into *v. */
static bool parse_value(parser *p, const facet_def *fd, const token *cmp, facet_value *v)
{
    token t;
    if (!peek(p, &t))
        return false;
    if (t.kind == T_MINUS && t.at + 1 < p->len && is_digit(p->text[t.at + 1])) {
        t.kind = T_WORD; /* a negative number */
        while (t.at + t.len < p->len && is_word(p->text[t.at + t.len]))
            t.len++;
    }
    if (t.kind != T_WORD && t.kind != T_STRING)
        return fail(p, "expected a value after \"%s\" at position %zu", op_text(cmp->op),
                    position(p, t.at));
    consume(p, &t);
    v->type = fd->type;
    switch (fd->type) {
    case FACET_STRING:
        if (t.kind == T_WORD)
            return fail(p, "%s takes a quoted string: write \"%.*s\" at position %zu", fd->name,
                        TOKEN_TEXT(p, t), position(p, t.at));
        v->s = string_value(p, &t);
        return v->s != NULL;
    case FACET_ENUM: {
        const char *name = p->text + t.at;
        size_t len = t.len;
        if (t.kind == T_STRING) {
            if (!(name = string_value(p, &t)))
                return false;
            len = strlen(name);
        }
        const ProtobufCEnumValue *ev = enum_value(fd->enum_type, name, len);
        if (!ev)
            return unknown_enum_value(p, fd, name, len, t.at);
        v->s = ev->name;
        v->i = ev->value;
        return true;
    }
    case FACET_INT:
        if (t.kind == T_STRING)
            return fail(p, "%s takes an integer, not a quoted string, at position %zu", fd->name,
                        position(p, t.at));
        return int_value(p, fd, &t, &v->i);
    case FACET_BOOL:
        if (t.kind == T_WORD && t.len == 4 && memcmp(p->text + t.at, "true", 4) == 0)
            v->i = 1;
        else if (t.kind == T_WORD && t.len == 5 && memcmp(p->text + t.at, "false", 5) == 0)
            v->i = 0;
        else
            return fail(p, "%s takes true or false, got %s%.*s%s at position %zu", fd->name,
                        t.kind == T_WORD ? "\"" : "", TOKEN_TEXT(p, t),
                        t.kind == T_WORD ? "\"" : "", position(p, t.at));
        return true;
    case FACET_TIMESTAMP:
        if (t.kind == T_WORD)
            return fail(p,
                        "%s takes a quoted RFC 3339 time such as \"2026-01-02T03:04:05Z\", got "
                        "%.*s at position %zu",
                        fd->name, TOKEN_TEXT(p, t), position(p, t.at));
        return time_value(p, fd, &t, &v->i);
    }
    return fail(p, "%s has an unknown facet type", fd->name);
}

/* ---- grammar ---- */

/* The facet called name[0..len) (snake_case or lowerCamelCase), or n. */
static size_t facet_named(const parser *p, const char *name, size_t len)
{
    for (size_t i = 0; i < p->n; i++) {
        char json[NAME_MAX_LEN];
        reflect_json_name(p->facets[i].name, json, sizeof json);
        if ((strlen(p->facets[i].name) == len && memcmp(p->facets[i].name, name, len) == 0) ||
            (strlen(json) == len && memcmp(json, name, len) == 0))
            return i;
    }
    return p->n;
}

static bool unknown_field(parser *p, const token *t)
{
    char list[LIST_MAX] = "";
    if (is_lower_keyword(p, t))
        return lower_keyword(p, t);
    for (size_t i = 0; i < p->n; i++)
        list_add(list, p->facets[i].name, strlen(p->facets[i].name));
    return fail(p, "unknown field \"%.*s\" at position %zu; filterable: %s", TOKEN_TEXT(p, *t),
                position(p, t->at), p->n ? list : "none");
}

/* field OP value, field the word t (peeked). */
static filter_node *parse_comparison(parser *p, const token *t)
{
    if (++p->comparisons > FILTER_MAX_COMPARISONS) {
        fail(p, "at most %d comparisons, and another starts at position %zu",
             FILTER_MAX_COMPARISONS, position(p, t->at));
        return NULL;
    }
    size_t k = facet_named(p, p->text + t->at, t->len);
    if (k == p->n) {
        unknown_field(p, t);
        return NULL;
    }
    const facet_def *fd = &p->facets[k];
    consume(p, t);
    token c;
    if (!peek(p, &c))
        return NULL;
    if (c.kind != T_CMP) {
        fail(p,
             "expected an operator after %s at position %zu (=, !=, <, <=, >, >=, or : on a list)",
             fd->name, position(p, c.at));
        return NULL;
    }
    consume(p, &c);
    if (fd->repeated && c.op != FILTER_HAS) {
        fail(p, "%s is a list: test it with %s:value (has), not \"%s\", at position %zu", fd->name,
             fd->name, op_text(c.op), position(p, c.at));
        return NULL;
    }
    if (!fd->repeated && c.op == FILTER_HAS) {
        fail(p, "\":\" (has) at position %zu applies to lists only, and %s is not one; use =",
             position(p, c.at), fd->name);
        return NULL;
    }
    if ((fd->type == FACET_ENUM || fd->type == FACET_BOOL) && c.op != FILTER_EQ &&
        c.op != FILTER_NE && c.op != FILTER_HAS) {
        fail(p, "%s is %s: only = and != apply, not \"%s\" at position %zu", fd->name,
             fd->type == FACET_ENUM ? "an enum" : "a bool", op_text(c.op), position(p, c.at));
        return NULL;
    }
    filter_node *nd = node_new(p, c.op, NULL, NULL);
    if (!nd)
        return NULL;
    nd->facet = k;
    return parse_value(p, fd, &c, &nd->value) ? nd : NULL;
}

static filter_node *parse_and(parser *p, const char *after);

/* Checks what follows a complete filter: the ')' closing the '(' at open_at, or (open_at
 * SIZE_MAX) the end of the text. */
static bool parse_end(parser *p, size_t open_at)
{
    token t;
    if (!peek(p, &t))
        return false;
    bool nested = open_at != SIZE_MAX;
    if (nested && t.kind == T_RPAREN) {
        consume(p, &t);
        return true;
    }
    if (!nested && t.kind == T_END)
        return true;
    if (is_lower_keyword(p, &t))
        return lower_keyword(p, &t);
    switch (t.kind) {
    case T_END:
        return fail(p, "unbalanced parenthesis at position %zu: it is never closed",
                    position(p, open_at));
    case T_RPAREN:
        return fail(p, "unbalanced parenthesis at position %zu: there is no '(' to close",
                    position(p, t.at));
    case T_WORD:
    case T_LPAREN:
    case T_STRING:
    case T_NOT:
    case T_MINUS:
        return fail(p,
                    "expected AND or OR before the condition at position %zu; join conditions "
                    "with AND",
                    position(p, t.at));
    default:
        return fail(p, "unexpected \"%.*s\" at position %zu; expected AND, OR, %s",
                    TOKEN_TEXT(p, t), position(p, t.at),
                    nested ? "or ')'" : "or the end of the filter");
    }
}

/* A parenthesised filter, a comparison, or an error saying what is missing. */
static filter_node *parse_primary(parser *p, const char *after)
{
    token t;
    if (!peek(p, &t))
        return NULL;
    switch (t.kind) {
    case T_LPAREN: {
        if (p->depth >= FILTER_MAX_DEPTH) {
            fail(p, "nested deeper than %d (parentheses and NOT) at position %zu", FILTER_MAX_DEPTH,
                 position(p, t.at));
            return NULL;
        }
        consume(p, &t);
        p->depth++;
        p->parens++;
        filter_node *nd = parse_and(p, "(");
        if (!nd || !parse_end(p, t.at))
            return NULL;
        p->depth--;
        p->parens--;
        return nd;
    }
    case T_WORD:
        return parse_comparison(p, &t);
    case T_STRING:
        fail(p,
             "expected a field name at position %zu, not a quoted string; a condition is "
             "field OP value",
             position(p, t.at));
        return NULL;
    case T_CMP:
        fail(p, "expected a field name before \"%s\" at position %zu", op_text(t.op),
             position(p, t.at));
        return NULL;
    default:
        break;
    }
    /* T_END, T_RPAREN, T_AND, T_OR: no condition where one must be */
    if (t.kind == T_RPAREN && p->parens == 0)
        fail(p, "unbalanced parenthesis at position %zu: there is no '(' to close",
             position(p, t.at));
    else if (after)
        fail(p, "expected a condition after \"%s\" at position %zu%s", after, position(p, t.at),
             t.kind == T_RPAREN && strcmp(after, "(") == 0 ? " (empty parentheses)" : "");
    else
        fail(p, "expected a condition at position %zu", position(p, t.at));
    return NULL;
}

/* NOT / '-' (tightest), then a primary. */
static filter_node *parse_unary(parser *p, const char *after)
{
    token t;
    if (!peek(p, &t))
        return NULL;
    if (t.kind != T_NOT && t.kind != T_MINUS)
        return parse_primary(p, after);
    if (p->depth >= FILTER_MAX_DEPTH) {
        fail(p, "nested deeper than %d (parentheses and NOT) at position %zu", FILTER_MAX_DEPTH,
             position(p, t.at));
        return NULL;
    }
    consume(p, &t);
    p->depth++;
    filter_node *child = parse_unary(p, t.kind == T_NOT ? "NOT" : "-");
    p->depth--;
    return child ? node_new(p, FILTER_NOT, child, NULL) : NULL;
}

/* OR binds tighter than AND (AIP-160): a AND b OR c is a AND (b OR c). */
static filter_node *parse_or(parser *p, const char *after)
{
    filter_node *left = parse_unary(p, after);
    token t;
    while (left && peek(p, &t) && t.kind == T_OR) {
        consume(p, &t);
        filter_node *right = parse_unary(p, "OR");
        left = right ? node_new(p, FILTER_OR, left, right) : NULL;
    }
    return p->failed ? NULL : left;
}

static filter_node *parse_and(parser *p, const char *after)
{
    filter_node *left = parse_or(p, after);
    token t;
    while (left && peek(p, &t) && t.kind == T_AND) {
        consume(p, &t);
        filter_node *right = parse_or(p, "AND");
        left = right ? node_new(p, FILTER_AND, left, right) : NULL;
    }
    return p->failed ? NULL : left;
}

bool filter_parse(const char *field, const char *text, const facet_def *facets, size_t n,
                  filter **out, status *st)
{
    *out = NULL;
    size_t len = strlen(text);
    if (len > FILTER_MAX_BYTES)
        return status_fail(st, STATUS_INVALID_ARGUMENT, "%s: at most %d bytes, got %zu", field,
                           FILTER_MAX_BYTES, len);
    parser p = {.field = field, .text = text, .len = len, .facets = facets, .n = n, .st = st};
    if (skip_space(&p, 0) == len)
        return true;
    if (!(p.f = calloc(1, sizeof *p.f)))
        return out_of_memory(&p);
    filter_node *root = parse_and(&p, NULL);
    if (!root || !parse_end(&p, SIZE_MAX)) {
        filter_free(p.f);
        return false;
    }
    p.f->root = root;
    *out = p.f;
    return true;
}

const filter_node *filter_root(const filter *f)
{
    return f ? f->root : NULL;
}

void filter_free(filter *f)
{
    if (!f)
        return;
    for (size_t i = 0; i < f->n_blocks; i++)
        free(f->blocks[i]);
    free(f->blocks);
    free(f);
}

/* ---- evaluation ---- */

/* <0, 0, >0 as a is before, equal to or after b (both of type). */
static int compare(facet_type type, const facet_value *a, const facet_value *b)
{
    if (type == FACET_STRING)
        return strcmp(a->s ? a->s : "", b->s ? b->s : "");
    return (a->i > b->i) - (a->i < b->i);
}

static bool eval(const filter_node *nd, const facet_values *rec)
{
    switch (nd->op) {
    case FILTER_AND:
        return eval(nd->left, rec) && eval(nd->right, rec);
    case FILTER_OR:
        return eval(nd->left, rec) || eval(nd->right, rec);
    case FILTER_NOT:
        return !eval(nd->left, rec);
    default:
        break;
    }
    const facet_value *vals = rec->values[nd->facet];
    size_t n = rec->n_values[nd->facet];
    if (nd->op == FILTER_HAS) {
        for (size_t i = 0; i < n; i++)
            if (compare(nd->value.type, &vals[i], &nd->value) == 0)
                return true;
        return false;
    }
    if (n == 0) /* unset: no comparison holds, so its negation (!=) does */
        return nd->op == FILTER_NE;
    int c = compare(nd->value.type, &vals[0], &nd->value);
    switch (nd->op) {
    case FILTER_EQ:
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
        return false;
    }
}

bool filter_match(const filter *f, const facet_values *rec)
{
    return !f || !f->root || eval(f->root, rec);
}

/* ---- canonical text ---- */

typedef struct text_buf {
    char *p;
    size_t n, cap;
    bool oom;
} text_buf;

static void put(text_buf *b, const char *s, size_t n)
{
    if (b->oom)
        return;
    if (b->n + n + 1 > b->cap) {
        size_t cap = b->cap ? b->cap : 64;
        while (cap < b->n + n + 1)
            cap *= 2;
        char *q = realloc(b->p, cap);
        if (!q) {
            b->oom = true;
            return;
        }
        b->p = q;
        b->cap = cap;
    }
    memcpy(b->p + b->n, s, n);
    b->n += n;
    b->p[b->n] = '\0';
}

static void put_str(text_buf *b, const char *s)
{
    put(b, s, strlen(s));
}

static void put_value(text_buf *b, const facet_value *v)
{
    char buf[64];
    switch (v->type) {
    case FACET_STRING:
        put(b, "\"", 1);
        for (const char *s = v->s; *s; s++) {
            if (*s == '"' || *s == '\\')
                put(b, "\\", 1);
            put(b, s, 1);
        }
        put(b, "\"", 1);
        return;
    case FACET_ENUM:
        put_str(b, v->s);
        return;
    case FACET_INT:
        snprintf(buf, sizeof buf, "%" PRId64, v->i);
        break;
    case FACET_BOOL:
        snprintf(buf, sizeof buf, "%s", v->i ? "true" : "false");
        break;
    case FACET_TIMESTAMP: {
        /* always six digits: one spelling per instant, at the precision a filter keeps */
        int64_t secs = calendar_floor_div(v->i, 1000000), days = calendar_floor_div(secs, 86400);
        int64_t sod = secs - days * 86400, y;
        unsigned m, d;
        calendar_civil_from_days(days, &y, &m, &d);
        snprintf(buf, sizeof buf, "\"%04" PRId64 "-%02u-%02uT%02u:%02u:%02u.%06" PRId64 "Z\"", y, m,
                 d, (unsigned)(sod / 3600), (unsigned)(sod / 60 % 60), (unsigned)(sod % 60),
                 v->i - secs * 1000000);
        break;
    }
    }
    put_str(b, buf);
}

static void put_node(text_buf *b, const filter_node *nd, const facet_def *facets);

/* An operand of AND / OR: a chain of the same operator is flattened (its grouping does not
 * change the meaning), any other AND / OR group is parenthesised. */
static void put_operand(text_buf *b, const filter_node *nd, filter_op parent,
                        const facet_def *facets)
{
    bool group = (nd->op == FILTER_AND || nd->op == FILTER_OR) && nd->op != parent;
    if (group)
        put(b, "(", 1);
    put_node(b, nd, facets);
    if (group)
        put(b, ")", 1);
}

static void put_node(text_buf *b, const filter_node *nd, const facet_def *facets)
{
    switch (nd->op) {
    case FILTER_AND:
    case FILTER_OR:
        put_operand(b, nd->left, nd->op, facets);
        put_str(b, nd->op == FILTER_AND ? " AND " : " OR ");
        put_operand(b, nd->right, nd->op, facets);
        return;
    case FILTER_NOT:
        put_str(b, "NOT ");
        put_operand(b, nd->left, FILTER_NOT, facets);
        return;
    case FILTER_HAS:
        put_str(b, facets[nd->facet].name);
        put(b, ":", 1);
        put_value(b, &nd->value);
        return;
    default:
        put_str(b, facets[nd->facet].name);
        put(b, " ", 1);
        put_str(b, op_text(nd->op));
        put(b, " ", 1);
        put_value(b, &nd->value);
        return;
    }
}

char *filter_canonical(const filter *f, const facet_def *facets)
{
    text_buf b = {0};
    put(&b, "", 0);
    if (f && f->root)
        put_node(&b, f->root, facets);
    if (b.oom) {
        free(b.p);
        return NULL;
    }
    return b.p;
}
