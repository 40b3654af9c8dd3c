/* descriptors.c — methods and message types from the served services (see
 * descriptors.h). Built once, on first use; the order is the table's, so a
 * seed's selector byte keeps its meaning until the table changes (then
 * tests/fuzz/make_corpus.py writes the seeds again). */
#include "descriptors.h"

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "runtime.h"
#include "supplysec/internal/v1/stored.pb-c.h"

#define MAX_METHODS 256
#define MAX_TYPES 1024

/* Stored documents that no method takes or returns (proto/supplysec/internal/). */
static const ProtobufCMessageDescriptor *const stored_only[] = {
    &supplysec__internal__v1__stored_api_key__descriptor,
};

static fuzz_method methods[MAX_METHODS];
static size_t n_methods;
static const ProtobufCMessageDescriptor *types[MAX_TYPES];
static size_t n_types;
static bool built;

static void add_type(const ProtobufCMessageDescriptor *d)
{
    for (size_t i = 0; i < n_types; i++)
        if (types[i] == d)
            return;
    if (n_types == MAX_TYPES) {
        fprintf(stderr, "descriptors.c: more than %d message types; raise MAX_TYPES\n", MAX_TYPES);
        abort();
    }
    types[n_types++] = d;
    for (unsigned i = 0; i < d->n_fields; i++)
        if (d->fields[i].type == PROTOBUF_C_TYPE_MESSAGE)
            add_type(d->fields[i].descriptor);
}

static void build(void)
{
    if (built)
        return;
    for (size_t s = 0; s < api_n_all_services; s++) {
        const ProtobufCServiceDescriptor *sd = api_all_services[s]->desc;
        for (unsigned m = 0; m < sd->n_methods; m++) {
            if (n_methods == MAX_METHODS) {
                fprintf(stderr, "descriptors.c: more than %d methods; raise MAX_METHODS\n",
                        MAX_METHODS);
                abort();
            }
            fuzz_method *fm = &methods[n_methods++];
            fm->service = sd;
            fm->method = &sd->methods[m];
            snprintf(fm->path, sizeof fm->path, "/%s/%s", sd->name, sd->methods[m].name);
            add_type(sd->methods[m].input);
            add_type(sd->methods[m].output);
        }
    }
    for (size_t i = 0; i < sizeof stored_only / sizeof *stored_only; i++)
        add_type(stored_only[i]);
    built = true;
}

size_t fuzz_method_count(void)
{
    build();
    return n_methods;
}

const fuzz_method *fuzz_method_at(size_t i)
{
    build();
    return &methods[i % n_methods];
}

const fuzz_method *fuzz_method_named(const char *path)
{
    build();
    for (size_t i = 0; i < n_methods; i++)
        if (strcmp(methods[i].path, path) == 0)
            return &methods[i];
    fprintf(stderr, "descriptors.c: no method %s is served\n", path);
    abort();
}

size_t fuzz_type_count(void)
{
    build();
    return n_types;
}

const ProtobufCMessageDescriptor *fuzz_type_at(size_t i)
{
    build();
    return types[i % n_types];
}

void fuzz_list_if_asked(void)
{
    const char *v = getenv("FUZZ_LIST");
    if (!v || strcmp(v, "1") != 0)
        return;
    build();
    for (size_t i = 0; i < n_methods; i++)
        printf("method %zu %s %s\n", i, methods[i].path, methods[i].method->input->name);
    for (size_t i = 0; i < n_types; i++)
        printf("type %zu %s\n", i, types[i]->name);
    exit(0);
}

bool fuzz_submessages_all(const ProtobufCMessage *msg,
                          bool (*pred)(const ProtobufCMessage *sub, void *ctx), void *ctx)
{
    const ProtobufCMessageDescriptor *d = msg->descriptor;
    for (unsigned i = 0; i < d->n_fields; i++) {
        const ProtobufCFieldDescriptor *f = &d->fields[i];
        if (f->type != PROTOBUF_C_TYPE_MESSAGE)
            continue;
        if ((f->flags & PROTOBUF_C_FIELD_FLAG_ONEOF) &&
            *(const uint32_t *)((const char *)msg + f->quantifier_offset) != f->id)
            continue;
        const char *slot = (const char *)msg + f->offset;
        size_t n = 1;
        if (f->label == PROTOBUF_C_LABEL_REPEATED) {
            n = *(const size_t *)((const char *)msg + f->quantifier_offset);
            slot = *(const char *const *)slot;
        }
        for (size_t k = 0; k < n; k++) {
            const ProtobufCMessage *sub = ((const ProtobufCMessage *const *)slot)[k];
            if (sub && !pred(sub, ctx))
                return false;
        }
    }
    return true;
}
