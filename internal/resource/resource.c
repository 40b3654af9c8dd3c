/* resource.c — the generic repository of resources as messages (see
 * resource.h). Messages go to documents through doc.c, documents to the
 * store through store.h; nothing here knows a particular resource type. */
#include "resource.h"

#include <assert.h>
#include <bson/bson.h>
#include <openssl/sha.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "doc.h"
#include "encoding.h"
#include "page_token.h"
#include "utf8.h"
#include "validate.h"
#include "google/protobuf/timestamp.pb-c.h"

bool op_check_deadline(const op_ctx *op, status *st)
{
    if (op->deadline_us != INT64_MAX && clock_monotonic_us() >= op->deadline_us)
        return status_fail(st, STATUS_DEADLINE_EXCEEDED,
                           "the call's deadline passed before the write; nothing was written");
    return true;
}

static const Google__Protobuf__Timestamp *message_get_timestamp(const ProtobufCMessage *msg,
                                                                const char *field)
{
    const ProtobufCFieldDescriptor *fd = reflect_singular(
        msg->descriptor, field, PROTOBUF_C_TYPE_MESSAGE, &google__protobuf__timestamp__descriptor);
    return fd ? *(Google__Protobuf__Timestamp *const *)reflect_at(msg, fd) : NULL;
}

/* ---- facets ---- */

/* The j-th element of f in msg (j = 0 for a singular field) as a facet
 * value of type t; false when there is none (an unset Timestamp). Text is
 * borrowed from msg. */
static bool field_value(const ProtobufCMessage *msg, const ProtobufCFieldDescriptor *f, size_t j,
                        facet_type t, facet_value *v)
{
    const char *slot = reflect_at(msg, f);
    const void *p = f->label == PROTOBUF_C_LABEL_REPEATED ? *(const void *const *)slot : slot;
    *v = (facet_value){.type = t};
    switch (f->type) {
    case PROTOBUF_C_TYPE_STRING:
        v->s = ((const char *const *)p)[j];
        if (!v->s)
            v->s = "";
        return true;
    case PROTOBUF_C_TYPE_ENUM:
    case PROTOBUF_C_TYPE_INT32:
    case PROTOBUF_C_TYPE_SINT32:
    case PROTOBUF_C_TYPE_SFIXED32:
        v->i = ((const int32_t *)p)[j];
        return true;
    case PROTOBUF_C_TYPE_UINT32:
    case PROTOBUF_C_TYPE_FIXED32:
        v->i = ((const uint32_t *)p)[j];
        return true;
    case PROTOBUF_C_TYPE_INT64:
    case PROTOBUF_C_TYPE_SINT64:
    case PROTOBUF_C_TYPE_SFIXED64:
        v->i = ((const int64_t *)p)[j];
        return true;
    case PROTOBUF_C_TYPE_BOOL:
        v->i = ((const protobuf_c_boolean *)p)[j] != 0;
        return true;
    case PROTOBUF_C_TYPE_MESSAGE: { /* a Timestamp (kind_check) */
        const Google__Protobuf__Timestamp *ts = ((Google__Protobuf__Timestamp *const *)p)[j];
        if (!ts)
            return false;
        v->i = ts->seconds * 1000000 + ts->nanos / 1000;
        return true;
    }
    default:
        return false;
    }
}

/* Walks the facet values of msg: counts them and their text bytes, or,
 * with vals, fills vals and copies the text to *text. */
static size_t facets_walk(const ProtobufCMessage *msg, const facet_def *defs, size_t n,
                          store_facet *vals, char *text, size_t *text_len)
{
    size_t count = 0;
    *text_len = 0;
    for (size_t k = 0; k < n; k++) {
        const ProtobufCFieldDescriptor *f = reflect_field(msg->descriptor, defs[k].name);
        if (!f)
            continue; /* kind_check makes sure it is there */
        size_t elems = f->label == PROTOBUF_C_LABEL_REPEATED ? reflect_count(msg, f) : 1;
        for (size_t j = 0; j < elems; j++) {
            facet_value v;
            if (!field_value(msg, f, j, defs[k].type, &v))
                continue;
            if (v.type == FACET_STRING) {
                size_t len = strlen(v.s) + 1;
                if (vals) {
                    memcpy(text + *text_len, v.s, len);
                    v.s = text + *text_len;
                }
                *text_len += len;
            }
            if (vals)
                vals[count] = (store_facet){defs[k].name, v};
            count++;
        }
    }
    return count;
}

bool resource_facets(const ProtobufCMessage *msg, const facet_def *defs, size_t n,
                     store_facet **out, size_t *count)
{
    size_t text_len;
    *out = NULL;
    *count = facets_walk(msg, defs, n, NULL, NULL, &text_len);
    if (*count == 0)
        return true;
    if (*count > STORE_FACETS_MAX)
        return false;
    store_facet *vals = malloc(*count * sizeof *vals + text_len);
    if (!vals)
        return false;
    facets_walk(msg, defs, n, vals, (char *)(vals + *count), &text_len);
    *out = vals;
    return true;
}

/* ---- stamping ---- */

const char *const resource_output_only_fields[] = {"name", "create_time", "update_time", "etag",
                                                   NULL};

/* Sets the Timestamp field to a fresh message holding t (NULL: clears it):
 * whatever a client sent there (unknown fields included) is dropped. */
bool resource_set_time(ProtobufCMessage *msg, const char *field,
                       const Google__Protobuf__Timestamp *t)
{
    const ProtobufCFieldDescriptor *fd = reflect_singular(
        msg->descriptor, field, PROTOBUF_C_TYPE_MESSAGE, &google__protobuf__timestamp__descriptor);
    if (!fd)
        return false;
    ProtobufCMessage **p = reflect_at(msg, fd);
    Google__Protobuf__Timestamp *ts = NULL;
    if (t) {
        if (!(ts = malloc(sizeof *ts)))
            return false;
        google__protobuf__timestamp__init(ts);
        ts->seconds = t->seconds;
        ts->nanos = t->nanos;
    }
    if (*p)
        protobuf_c_message_free_unpacked(*p, NULL);
    *p = ts ? &ts->base : NULL;
    return true;
}

static bool stamp_at(ProtobufCMessage *msg, const char *field, int64_t at_ms)
{
    Google__Protobuf__Timestamp t = {.seconds = at_ms / 1000,
                                     .nanos = (int32_t)(at_ms % 1000) * 1000000};
    return resource_set_time(msg, field, &t);
}

bool resource_stamp_now(ProtobufCMessage *msg, const char *field)
{
    return stamp_at(msg, field, clock_realtime_ms());
}

static void etag_compute(const char *name, const Google__Protobuf__Timestamp *created,
                         int64_t version, char out[17])
{
    char buf[512];
    unsigned char md[SHA256_DIGEST_LENGTH];
    int n = snprintf(buf, sizeof buf, "%s|%lld.%d|%lld", name,
                     created ? (long long)created->seconds : 0LL, created ? created->nanos : 0,
                     (long long)version);
    SHA256((const unsigned char *)buf, (size_t)n < sizeof buf ? (size_t)n : sizeof buf - 1, md);
    hex_encode(md, 8, out);
}

static bool resource_stamp(ProtobufCMessage *meta, const char *name, int64_t version, bool created,
                           status *st)
{
    int64_t now = clock_realtime_ms(); /* a new resource has one time for both */
    if ((created && !stamp_at(meta, "create_time", now)) || !stamp_at(meta, "update_time", now) ||
        !message_set_string(meta, "name", name))
        return status_fail(st, STATUS_INTERNAL, "cannot stamp %s", meta->descriptor->name);
    const Google__Protobuf__Timestamp *ct = message_get_timestamp(meta, "create_time");
    char etag[17];
    etag_compute(name, ct, version, etag);
    if (!message_set_string(meta, "etag", etag))
        return status_fail(st, STATUS_INTERNAL, "out of memory");
    return true;
}

bool resource_check_etag(const ProtobufCMessage *meta, const char *etag, status *st)
{
    if (etag && etag[0] && strcmp(etag, message_get_string(meta, "etag")) != 0)
        return status_fail(st, STATUS_ABORTED,
                           "etag \"%.*s\" does not match the current version of %s; read it "
                           "again and retry with its etag",
                           UTF8_CLIP(etag, 40), message_get_string(meta, "name"));
    return true;
}

/* ---- load and store ---- */

ProtobufCMessage *resource_load(const op_ctx *op, const ProtobufCMessageDescriptor *desc,
                                const char *collection, const char *org, const char *name,
                                const char *what, int64_t *version, status *st)
{
    store_record *rec = NULL;
    store_status ss = store_get(op->store, collection, org, name, &rec);
    if (!status_from_store(st, ss, what))
        return NULL;
    bson_t doc;
    ProtobufCMessage *msg = NULL;
    char err[256];
    if (!bson_init_static(&doc, rec->doc, rec->doc_len)) {
        status_fail(st, STATUS_DATA_LOSS, "stored document of %s is corrupt", name);
        goto out;
    }
    msg = doc_to_message(desc, &doc, err, sizeof err);
    if (!msg) {
        status_fail(st, STATUS_DATA_LOSS, "stored document of %s cannot be read: %s", name, err);
        goto out;
    }
    if (version)
        *version = rec->version;
out:
    store_record_free(rec);
    return msg;
}

/* The event of a write to `name` in tenant `org`. */
static void audit_fill(const op_ctx *op, const char *org, const char *name, int64_t before,
                       int64_t after, store_audit *ev)
{
    ev->principal = op->who ? op->who->name : "bootstrap";
    ev->principal_org = op->who ? op->who->org : "";
    ev->org = org;
    ev->role = op->who ? auth_role_name(op->who->role) : "ROLE_PLATFORM_ADMIN";
    ev->method = op->method;
    ev->resource = name;
    ev->request_id = op->request_id ? op->request_id : "";
    ev->version_before = before;
    ev->version_after = after;
    ev->time_us = clock_realtime_ms() * 1000;
    ev->deadline_us = op->deadline_us == INT64_MAX ? 0 : op->deadline_us;
}

bool resource_record_read(const op_ctx *op, const char *org, const char *resource, status *st)
{
    store_audit ev;
    audit_fill(op, org, resource, 0, 0, &ev);
    return status_from_store(st, store_append_audit(op->store, &ev), resource);
}

/* ---- writes: batches of one or more ---- */

void resource_batch_init(resource_batch *b, const op_ctx *op)
{
    assert(op && op->store);
    memset(b, 0, sizeof *b);
    b->op = op;
}

/* Room for twice as many writes. The writes point into events and recs,
 * so those pointers are set again after the arrays move. */
static bool batch_grow(resource_batch *b)
{
    size_t cap = b->cap ? b->cap * 2 : 8;
    if (cap > STORE_WRITES_MAX)
        cap = STORE_WRITES_MAX;
    if (cap <= b->n)
        return false;
#define GROW(field)                                                                                \
    do {                                                                                           \
        void *p = realloc(b->field, cap * sizeof *b->field);                                       \
        if (!p)                                                                                    \
            return false;                                                                          \
        b->field = p;                                                                              \
        memset(b->field + b->cap, 0, (cap - b->cap) * sizeof *b->field);                           \
    } while (0)
    GROW(writes);
    GROW(events);
    GROW(recs);
    GROW(docs);
    GROW(facets);
    GROW(what);
#undef GROW
    for (size_t i = 0; i < b->n; i++) {
        if (b->writes[i].ev)
            b->writes[i].ev = &b->events[i];
        if (b->writes[i].rec)
            b->writes[i].rec = &b->recs[i];
    }
    b->cap = cap;
    return true;
}

/* The next write of b, named `what` in messages; NULL when it cannot be
 * added (then the batch is refused). */
static store_write *batch_next(resource_batch *b, store_write_kind kind, const char *what)
{
    if (b->n == b->cap && !batch_grow(b)) {
        b->overflow = true;
        return NULL;
    }
    store_write *w = &b->writes[b->n];
    b->what[b->n++] = what;
    w->kind = kind;
    return w;
}

/* w's audit event, of a write to `name` in tenant `org`. */
static const store_audit *batch_event(resource_batch *b, const store_write *w, const char *org,
                                      const char *name, int64_t before, int64_t after)
{
    store_audit *ev = &b->events[w - b->writes];
    audit_fill(b->op, org, name, before, after, ev);
    return ev;
}

/* Stamps meta, encodes msg and adds its write as version_before + 1
 * (a create when 0). */
static bool batch_put(resource_batch *b, const resource_ref *ref, ProtobufCMessage *msg,
                      ProtobufCMessage *meta, int64_t version_before, status *st)
{
    if (!resource_stamp(meta, ref->stamp_name ? ref->stamp_name : ref->name, version_before + 1,
                        version_before == 0 && !ref->keep_create_time, st))
        return false;
    message_strip_unknown(msg); /* stored and answered as the schema knows it */
    bson_t doc = BSON_INITIALIZER;
    if (!doc_from_message(msg, DOC_BSON, &doc)) {
        bson_destroy(&doc);
        return status_fail(st, STATUS_INTERNAL, "cannot encode %s", ref->name);
    }
    uint32_t len = 0;
    uint8_t *bytes = bson_destroy_with_steal(&doc, true, &len);
    if (!bytes)
        return status_fail(st, STATUS_RESOURCE_EXHAUSTED, "out of memory");
    store_write *w =
        batch_next(b, version_before == 0 ? STORE_WRITE_CREATE : STORE_WRITE_UPDATE, ref->name);
    if (!w) {
        bson_free(bytes);
        return status_fail(st, STATUS_RESOURCE_EXHAUSTED,
                           "more writes in one batch than memory or the store (%d) allows",
                           STORE_WRITES_MAX);
    }
    size_t i = (size_t)(w - b->writes);
    b->docs[i] = bytes;
    size_t n_facets = 0;
    if (!resource_facets(meta, ref->facets, ref->n_facets, &b->facets[i], &n_facets))
        return n_facets > STORE_FACETS_MAX
                   ? status_fail(st, STATUS_INVALID_ARGUMENT,
                                 "%s has more than %d values its lists are filtered by", ref->name,
                                 STORE_FACETS_MAX)
                   : status_fail(st, STATUS_RESOURCE_EXHAUSTED, "out of memory");
    b->recs[i] = (store_record){
        .collection = (char *)ref->collection,
        .org = (char *)ref->org,
        .parent = (char *)ref->parent,
        .name = (char *)ref->name,
        .state = (char *)ref->state,
        .lookup = (char *)ref->lookup,
        .version = version_before + 1,
        .doc = bytes,
        .doc_len = len,
        .facets = b->facets[i],
        .n_facets = n_facets,
    };
    w->rec = &b->recs[i];
    w->expected_version = version_before;
    w->ev = batch_event(b, w, ref->org, ref->name, version_before, version_before + 1);
    return true;
}

bool resource_batch_create(resource_batch *b, const resource_ref *ref, ProtobufCMessage *msg,
                           ProtobufCMessage *meta, status *st)
{
    return batch_put(b, ref, msg, meta, 0, st);
}

bool resource_batch_update(resource_batch *b, const resource_ref *ref, ProtobufCMessage *msg,
                           ProtobufCMessage *meta, int64_t version_before, status *st)
{
    assert(version_before > 0);
    return batch_put(b, ref, msg, meta, version_before, st);
}

void resource_batch_delete(resource_batch *b, const char *collection, const char *org,
                           const char *name, int64_t version_before)
{
    store_write *w = batch_next(b, STORE_WRITE_DELETE, name);
    if (!w)
        return;
    w->collection = collection;
    w->org = org;
    w->name = name;
    w->expected_version = version_before;
    w->ev = batch_event(b, w, org, name, version_before, 0);
}

void resource_batch_guard(resource_batch *b, const char *collection, const char *org,
                          const char *name, int64_t version)
{
    store_write *w = batch_next(b, STORE_WRITE_GUARD, name);
    if (!w)
        return;
    w->collection = collection;
    w->org = org;
    w->name = name;
    w->expected_version = version;
}

void resource_batch_delete_all(resource_batch *b, const char *collection, const char *org,
                               const char *parent, const char *what)
{
    store_write *w = batch_next(b, STORE_WRITE_DELETE_ALL, what);
    if (!w)
        return;
    w->collection = collection;
    w->org = org;
    w->parent = parent;
    /* the store names each record and its version in its own event */
    w->ev = batch_event(b, w, org, what, 0, 0);
}

bool resource_batch_apply(resource_batch *b, status *st)
{
    assert(b->n > 0 || b->overflow);
    if (b->overflow || b->n == 0)
        return status_fail(st, STATUS_RESOURCE_EXHAUSTED,
                           "a batch of more writes than memory or the store (%d) allows",
                           STORE_WRITES_MAX);
    if (!op_check_deadline(b->op, st))
        return false;
    size_t failed = b->n;
    store_status ss = store_apply(b->op->store, b->writes, b->n, &failed);
    if (failed >= b->n) /* the batch's failure: told of the first write that writes */
        for (failed = 0; failed + 1 < b->n && b->writes[failed].kind == STORE_WRITE_GUARD;)
            failed++;
    return status_from_store(st, ss, b->what[failed]);
}

struct resource_kept {
    void *p;
    bool message; /* a ProtobufCMessage, else a malloc'd block */
};

static bool keep(resource_batch *b, void *p, bool message)
{
    if (b->n_kept == b->cap_kept) {
        size_t cap = b->cap_kept ? b->cap_kept * 2 : 8;
        struct resource_kept *k = realloc(b->kept, cap * sizeof *k);
        if (!k) {
            if (message)
                protobuf_c_message_free_unpacked(p, NULL);
            else
                free(p);
            b->overflow = true;
            return false;
        }
        b->kept = k;
        b->cap_kept = cap;
    }
    b->kept[b->n_kept++] = (struct resource_kept){p, message};
    return true;
}

bool resource_batch_keep(resource_batch *b, ProtobufCMessage *msg)
{
    return keep(b, msg, true);
}

bool resource_batch_keep_mem(resource_batch *b, void *block)
{
    return keep(b, block, false);
}

void resource_batch_free(resource_batch *b)
{
    for (size_t i = 0; i < b->n_kept; i++) {
        if (b->kept[i].message)
            protobuf_c_message_free_unpacked(b->kept[i].p, NULL);
        else
            free(b->kept[i].p);
    }
    free(b->kept);
    for (size_t i = 0; i < b->n; i++) {
        bson_free(b->docs[i]);
        free(b->facets[i]);
    }
    free(b->writes);
    free(b->events);
    free(b->recs);
    free(b->docs);
    free(b->facets);
    free(b->what);
    memset(b, 0, sizeof *b);
}

bool resource_create(const op_ctx *op, const resource_ref *ref, ProtobufCMessage *msg,
                     ProtobufCMessage *meta, status *st)
{
    resource_batch b;
    resource_batch_init(&b, op);
    bool ok = resource_batch_create(&b, ref, msg, meta, st) && resource_batch_apply(&b, st);
    resource_batch_free(&b);
    return ok;
}

bool resource_update(const op_ctx *op, const resource_ref *ref, ProtobufCMessage *msg,
                     ProtobufCMessage *meta, int64_t version_before, status *st)
{
    resource_batch b;
    resource_batch_init(&b, op);
    bool ok = resource_batch_update(&b, ref, msg, meta, version_before, st) &&
              resource_batch_apply(&b, st);
    resource_batch_free(&b);
    return ok;
}

bool resource_delete(const op_ctx *op, const char *collection, const char *org, const char *name,
                     int64_t version_before, status *st)
{
    resource_batch b;
    resource_batch_init(&b, op);
    resource_batch_delete(&b, collection, org, name, version_before);
    bool ok = resource_batch_apply(&b, st);
    resource_batch_free(&b);
    return ok;
}

/* ---- lists ---- */

void resource_page_free(resource_page *page)
{
    for (size_t i = 0; i < page->count; i++)
        protobuf_c_message_free_unpacked(page->items[i], NULL);
    free(page->items);
    free(page->next_page_token);
    memset(page, 0, sizeof *page);
}

void resource_page_keep(resource_page *page, bool (*keep)(const ProtobufCMessage *item, void *ctx),
                        void *ctx)
{
    size_t kept = 0;
    for (size_t i = 0; i < page->count; i++) {
        if (keep(page->items[i], ctx))
            page->items[kept++] = page->items[i];
        else
            protobuf_c_message_free_unpacked(page->items[i], NULL);
    }
    page->count = kept;
}

bool resource_each(const op_ctx *op, const ProtobufCMessageDescriptor *desc, store_query *q,
                   const char *what,
                   bool (*fn)(ProtobufCMessage **msg, const store_record *rec, void *ctx,
                              status *st),
                   void *ctx, status *st)
{
    char *after = NULL;
    bool ok = true, more = true;
    q->limit = PAGE_SIZE_MAX;
    while (ok && more) {
        q->after = after;
        store_page *page = NULL;
        ok = status_from_store(st, store_list(op->store, q, &page), what);
        for (size_t i = 0; ok && i < page->count; i++) {
            const store_record *rec = &page->records[i];
            bson_t doc;
            char err[128];
            ProtobufCMessage *m = NULL;
            if (bson_init_static(&doc, rec->doc, rec->doc_len))
                m = doc_to_message(desc, &doc, err, sizeof err);
            if (!m) {
                ok = status_fail(st, STATUS_DATA_LOSS, "stored document of %s cannot be read",
                                 rec->name);
                break;
            }
            ok = fn(&m, rec, ctx, st);
            if (m)
                protobuf_c_message_free_unpacked(m, NULL);
        }
        more = ok && page->more && page->count > 0;
        if (more) {
            free(after);
            if (!(after = strdup(page->records[page->count - 1].name)))
                ok = status_fail(st, STATUS_RESOURCE_EXHAUSTED, "out of memory");
        }
        store_page_free(page);
    }
    q->after = NULL;
    free(after);
    return ok;
}

bool resource_list(const op_ctx *op, const ProtobufCMessageDescriptor *desc, store_query *q,
                   const char *query_key, const char *page_token, int page_size,
                   resource_page *page, status *st)
{
    char *after = NULL;
    store_page *sp = NULL;
    bool ok = false;
    memset(page, 0, sizeof *page);
    if (!page_token_decode(op->store, page_token ? page_token : "", query_key, &after, st))
        return false;
    q->after = after;
    q->limit = page_size;
    if (!status_from_store(st, store_list(op->store, q, &sp), "list"))
        goto out;
    page->items = calloc(sp->count ? sp->count : 1, sizeof *page->items);
    if (!page->items) {
        status_fail(st, STATUS_RESOURCE_EXHAUSTED, "out of memory");
        goto out;
    }
    for (size_t i = 0; i < sp->count; i++) {
        bson_t doc;
        char err[256];
        if (!bson_init_static(&doc, sp->records[i].doc, sp->records[i].doc_len) ||
            !(page->items[i] = doc_to_message(desc, &doc, err, sizeof err))) {
            status_fail(st, STATUS_DATA_LOSS, "stored document of %s cannot be read",
                        sp->records[i].name);
            goto out;
        }
        page->count++;
    }
    if (sp->more && sp->count)
        page->next_page_token =
            page_token_encode(op->store, query_key, sp->records[sp->count - 1].name, st);
    else if (!(page->next_page_token = strdup("")))
        status_fail(st, STATUS_RESOURCE_EXHAUSTED, "out of memory");
    if (!page->next_page_token)
        goto out;
    ok = true;
out:
    if (!ok)
        resource_page_free(page);
    store_page_free(sp);
    free(after);
    return ok;
}
