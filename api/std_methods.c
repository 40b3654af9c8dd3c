/* std_methods.c — standard methods bound to their requests by descriptor.
 *
 * A standard method's table line names its verb and kind (API_STANDARD);
 * this file finds the AIP fields in the method's request and response
 * messages by name and type, checks at start-up that each is there, and
 * at each call reads them, calls the standard method (standard.h) and
 * builds the response. What the method needs, by verb:
 *
 *   Get     request: string name, [string authority]  response: the resource
 *   List    request: string parent (top-level kinds: none), int32 page_size,
 *           string page_token, [string filter], [string authority]
 *           response: repeated <resource> (one such field), string next_page_token
 *   Create  request: [string parent (top-level kinds: none)], <resource> <field>,
 *           string <field>_id                         response: the resource
 *   Update  request: <resource> <field>, google.protobuf.FieldMask update_mask
 *           response: the resource
 *   Delete  request: string name, [string etag]       response: google.protobuf.Empty
 *
 * `authority`, where a Get or List request has it, names a customs
 * authority the kind's hooks judge by (op_ctx.authority: a business
 * partner's exemption by its recognitions).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "google/protobuf/empty.pb-c.h"
#include "google/protobuf/field_mask.pb-c.h"
#include "runtime.h"
#include "lifecycle.h"
#include "standard.h"

/* Where a method's AIP fields are (NULL: the request has none). */
typedef struct std_binding {
    const ProtobufCFieldDescriptor *name, *parent, *page_size, *page_token, *filter, *resource, *id,
        *mask, *etag, *items, *next_page_token, *reason, *authority;
} std_binding;

static const char *const verb_names[] = {"",        "Get",    "List",          "ListRevisions",
                                         "Create",  "Update", "Delete",        "Submit",
                                         "Approve", "Reject", "CreateRevision"};

typedef struct binder {
    const api_method *m;
    const ProtobufCMethodDescriptor *md;
    char *err;
    size_t errlen;
} binder;

static bool refuse(binder *b, const char *fmt, const char *what)
{
    char detail[192];
    snprintf(detail, sizeof detail, fmt, what);
    snprintf(b->err, b->errlen, "%s (standard %s of %s): %s", b->m->name,
             verb_names[b->m->standard],
             b->m->resource_kind ? b->m->resource_kind->type : "no kind", detail);
    return false;
}

static bool need(binder *b, const ProtobufCFieldDescriptor **slot,
                 const ProtobufCMessageDescriptor *desc, const char *name, ProtobufCType type,
                 const ProtobufCMessageDescriptor *msg, const char *what)
{
    *slot = reflect_singular(desc, name, type, msg);
    return *slot ? true : refuse(b, "%s", what);
}

/* The optional field `name`: absent is fine, present with another type is not. */
static bool may(binder *b, const ProtobufCFieldDescriptor **slot,
                const ProtobufCMessageDescriptor *desc, const char *name, ProtobufCType type,
                const ProtobufCMessageDescriptor *msg, const char *what)
{
    if (!protobuf_c_message_descriptor_get_field_by_name(desc, name)) {
        *slot = NULL;
        return true;
    }
    return need(b, slot, desc, name, type, msg, what);
}

/* The response's one repeated field of the resource, and its next_page_token. */
static bool bind_items(binder *b, const ProtobufCMethodDescriptor *md,
                       const ProtobufCMessageDescriptor *res, std_binding *out)
{
    if (!need(b, &out->next_page_token, md->output, "next_page_token", PROTOBUF_C_TYPE_STRING, NULL,
              "the response has no string next_page_token"))
        return false;
    for (unsigned i = 0; i < md->output->n_fields; i++) {
        const ProtobufCFieldDescriptor *f = &md->output->fields[i];
        if (f->label == PROTOBUF_C_LABEL_REPEATED && f->type == PROTOBUF_C_TYPE_MESSAGE &&
            f->descriptor == res) {
            if (out->items)
                return refuse(b, "%s", "the response has two repeated resource fields");
            out->items = f;
        }
    }
    return out->items ? true
                      : refuse(b, "%s", "the response has no repeated field of the resource");
}

/* Finds m's fields in md into out; with check, also checks m's kind. */
static bool bind(const api_method *m, const ProtobufCMethodDescriptor *md, bool check,
                 std_binding *out, char *err, size_t errlen)
{
    binder b = {m, md, err, errlen};
    const kind *k = m->resource_kind;
    memset(out, 0, sizeof *out);
    if (!k)
        return refuse(&b, "%s", "no kind declared");
    if (check && !kind_check(k, err, errlen))
        return false;
    const ProtobufCMessageDescriptor *in = md->input, *res = k->desc;
    char id_field[96]; /* <field>_id, Create's: made only there (this runs at each call) */
    bool top = k->parent == NULL;
    switch (m->standard) {
    case API_STD_GET:
        return need(&b, &out->name, in, "name", PROTOBUF_C_TYPE_STRING, NULL,
                    "the request has no string name") &&
               may(&b, &out->authority, in, "authority", PROTOBUF_C_TYPE_STRING, NULL,
                   "the request's authority is not a string") &&
               (md->output == res || refuse(&b, "%s", "the response is not the resource"));
    case API_STD_LIST:
        if (!(top ? may(&b, &out->parent, in, "parent", PROTOBUF_C_TYPE_STRING, NULL,
                        "the request's parent is not a string")
                  : need(&b, &out->parent, in, "parent", PROTOBUF_C_TYPE_STRING, NULL,
                         "the request has no string parent")) ||
            !need(&b, &out->page_size, in, "page_size", PROTOBUF_C_TYPE_INT32, NULL,
                  "the request has no int32 page_size") ||
            !need(&b, &out->page_token, in, "page_token", PROTOBUF_C_TYPE_STRING, NULL,
                  "the request has no string page_token") ||
            !may(&b, &out->filter, in, "filter", PROTOBUF_C_TYPE_STRING, NULL,
                 "the request's filter is not a string") ||
            !may(&b, &out->authority, in, "authority", PROTOBUF_C_TYPE_STRING, NULL,
                 "the request's authority is not a string"))
            return false;
        if (out->filter && k->n_facets == 0) /* a filter no value could pass */
            return refuse(&b, "%s", "the request takes a filter but the kind declares no facets");
        return bind_items(&b, md, res, out);
    case API_STD_CREATE:
        snprintf(id_field, sizeof id_field, "%s_id", k->field);
        return (top ? (!protobuf_c_message_descriptor_get_field_by_name(in, "parent") ||
                       refuse(&b, "%s", "a top-level kind's request has no parent"))
                    : need(&b, &out->parent, in, "parent", PROTOBUF_C_TYPE_STRING, NULL,
                           "the request has no string parent")) &&
               need(&b, &out->resource, in, k->field, PROTOBUF_C_TYPE_MESSAGE, res,
                    "the request has no field of the resource named as the kind's field") &&
               need(&b, &out->id, in, id_field, PROTOBUF_C_TYPE_STRING, NULL,
                    "the request has no string <field>_id") &&
               (md->output == res || refuse(&b, "%s", "the response is not the resource"));
    case API_STD_UPDATE:
        return need(&b, &out->resource, in, k->field, PROTOBUF_C_TYPE_MESSAGE, res,
                    "the request has no field of the resource named as the kind's field") &&
               need(&b, &out->mask, in, "update_mask", PROTOBUF_C_TYPE_MESSAGE,
                    &google__protobuf__field_mask__descriptor,
                    "the request has no google.protobuf.FieldMask update_mask") &&
               (md->output == res || refuse(&b, "%s", "the response is not the resource"));
    case API_STD_DELETE:
        return need(&b, &out->name, in, "name", PROTOBUF_C_TYPE_STRING, NULL,
                    "the request has no string name") &&
               may(&b, &out->etag, in, "etag", PROTOBUF_C_TYPE_STRING, NULL,
                   "the request's etag is not a string") &&
               (md->output == &google__protobuf__empty__descriptor ||
                refuse(&b, "%s", "the response is not google.protobuf.Empty"));
    case API_STD_LIST_REVISIONS:
        return (k->lifecycle == KIND_CONTROLLED ||
                refuse(&b, "%s", "the kind is not a controlled document")) &&
               need(&b, &out->name, in, "name", PROTOBUF_C_TYPE_STRING, NULL,
                    "the request has no string name") &&
               need(&b, &out->page_size, in, "page_size", PROTOBUF_C_TYPE_INT32, NULL,
                    "the request has no int32 page_size") &&
               need(&b, &out->page_token, in, "page_token", PROTOBUF_C_TYPE_STRING, NULL,
                    "the request has no string page_token") &&
               bind_items(&b, md, res, out);
    case API_STD_SUBMIT:
    case API_STD_APPROVE:
    case API_STD_REJECT:
    case API_STD_REVISE:
        return (k->lifecycle == KIND_CONTROLLED ||
                refuse(&b, "%s", "the kind is not a controlled document")) &&
               need(&b, &out->name, in, "name", PROTOBUF_C_TYPE_STRING, NULL,
                    "the request has no string name") &&
               may(&b, &out->etag, in, "etag", PROTOBUF_C_TYPE_STRING, NULL,
                   "the request's etag is not a string") &&
               (m->standard != API_STD_REJECT ||
                need(&b, &out->reason, in, "reason", PROTOBUF_C_TYPE_STRING, NULL,
                     "the request has no string reason")) &&
               (md->output == res || refuse(&b, "%s", "the response is not the resource"));
    default:
        return refuse(&b, "%s", "not a standard verb");
    }
}

bool api_std_check(const ProtobufCServiceDescriptor *svc, const api_method *methods, size_t n,
                   char *err, size_t errlen)
{
    std_binding bnd;
    for (size_t i = 0; i < n; i++) {
        const api_method *m = &methods[i];
        if (m->standard == API_STD_NONE)
            continue;
        const ProtobufCMethodDescriptor *md =
            protobuf_c_service_descriptor_get_method_by_name(svc, m->name);
        if (!md) {
            snprintf(err, errlen, "%s has no method %s", svc->name, m->name);
            return false;
        }
        if (m->handler != api_std_handler || m->resource_kind == NULL) {
            snprintf(err, errlen,
                     "%s: a standard method is served by api_std_handler (use "
                     "API_STANDARD)",
                     m->name);
            return false;
        }
        if (!bind(m, md, true, &bnd, err, errlen))
            return false;
        if (m->resource_kind->envelope &&
            (m->standard == API_STD_CREATE || m->standard == API_STD_UPDATE)) {
            snprintf(err, errlen,
                     "%s: %s is stored in an envelope; its Create and Update are custom methods",
                     m->name, m->resource_kind->type);
            return false;
        }
    }
    return true;
}

/* ---- at each call ---- */

static ProtobufCMessage *new_message(api_call *call, const ProtobufCMessageDescriptor *desc)
{
    ProtobufCMessage *m = malloc(desc->sizeof_message);
    if (!m)
        return api_fail(call, STATUS_RESOURCE_EXHAUSTED, "out of memory");
    desc->message_init(m);
    return m;
}

static ProtobufCMessage *list(api_call *call, const kind *k, const std_binding *b,
                              const ProtobufCMessage *req, const ProtobufCMessageDescriptor *out,
                              bool revisions)
{
    int32_t page_size = *(const int32_t *)reflect_at(req, b->page_size);
    resource_page page;
    if (revisions) {
        if (!lifecycle_list_revisions(&call->op, k, reflect_string(req, b->name), page_size,
                                      reflect_string(req, b->page_token), &page, &call->st))
            return NULL;
    } else {
        std_list_req lr = {.parent = reflect_string(req, b->parent),
                           .page_size = page_size,
                           .page_token = reflect_string(req, b->page_token),
                           .filter = reflect_string(req, b->filter)};
        if (!std_list(&call->op, k, &lr, &page, &call->st))
            return NULL;
    }
    ProtobufCMessage *resp = new_message(call, out);
    if (!resp) {
        resource_page_free(&page);
        return NULL;
    }
    /* the page's items and token move into the response */
    *(size_t *)reflect_quantifier(resp, b->items) = page.count;
    *(ProtobufCMessage ***)reflect_at(resp, b->items) = page.items;
    *(char **)reflect_at(resp, b->next_page_token) = page.next_page_token;
    return resp;
}

ProtobufCMessage *api_std_handler(api_call *call, ProtobufCMessage *req)
{
    const api_method *m = call->entry;
    const ProtobufCMethodDescriptor *method = call->method_desc;
    std_binding b;
    char err[256];
    /* checked at start-up (api_std_check): this finds the same fields again */
    if (!m || !method || !bind(m, method, false, &b, err, sizeof err))
        return api_fail(call, STATUS_INTERNAL, "%s is not bound: %s", call->method,
                        m && method ? err : "no table line");
    const kind *k = m->resource_kind;
    call->op.authority = b.authority ? reflect_string(req, b.authority) : NULL;
    switch (m->standard) {
    case API_STD_GET:
        return std_get(&call->op, k, reflect_string(req, b.name), &call->st);
    case API_STD_LIST:
        return list(call, k, &b, req, method->output, false);
    case API_STD_LIST_REVISIONS:
        return list(call, k, &b, req, method->output, true);
    case API_STD_CREATE: {
        ProtobufCMessage **slot = reflect_at(req, b.resource);
        ProtobufCMessage *res = *slot;
        *slot = NULL; /* taken from the request */
        return std_create(&call->op, k, reflect_string(req, b.parent), reflect_string(req, b.id),
                          &res, &call->st);
    }
    case API_STD_UPDATE: {
        const ProtobufCMessage *patch = *(ProtobufCMessage *const *)reflect_at(req, b.resource);
        const Google__Protobuf__FieldMask *mask =
            *(Google__Protobuf__FieldMask *const *)reflect_at(req, b.mask);
        return std_update(&call->op, k, patch, mask ? mask->paths : NULL, mask ? mask->n_paths : 0,
                          mask != NULL, &call->st);
    }
    case API_STD_DELETE:
        if (!std_delete(&call->op, k, reflect_string(req, b.name), reflect_string(req, b.etag),
                        &call->st))
            return NULL;
        return new_message(call, method->output);
    case API_STD_SUBMIT:
    case API_STD_APPROVE:
    case API_STD_REJECT:
    case API_STD_REVISE: {
        static const doc_move moves[] = {[API_STD_SUBMIT] = DOC_SUBMIT,
                                         [API_STD_APPROVE] = DOC_APPROVE,
                                         [API_STD_REJECT] = DOC_REJECT,
                                         [API_STD_REVISE] = DOC_REVISE};
        return lifecycle_move(&call->op, k, moves[m->standard], reflect_string(req, b.name),
                              reflect_string(req, b.etag), reflect_string(req, b.reason),
                              &call->st);
    }
    default:
        return api_fail(call, STATUS_INTERNAL, "%s: not a standard verb", call->method);
    }
}
