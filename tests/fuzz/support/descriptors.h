/* descriptors.h — what the fuzz targets enumerate instead of listing by hand.
 *
 * Methods come from the table supplysecd serves (api_all_services in
 * api/services.c), message types from the methods' inputs and outputs and
 * every message reachable through their fields, plus the stored-only types.
 * A target picks one with an input byte, so a new method or message is
 * fuzzed by the existing targets without a new one.
 */
#ifndef SUPPLYSEC_FUZZ_DESCRIPTORS_H
#define SUPPLYSEC_FUZZ_DESCRIPTORS_H

#include <protobuf-c/protobuf-c.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct fuzz_method {
    const ProtobufCServiceDescriptor *service;
    const ProtobufCMethodDescriptor *method;
    char path[256]; /* "/supplysec.v1.Organizations/GetOrganization" */
} fuzz_method;

size_t fuzz_method_count(void);
const fuzz_method *fuzz_method_at(size_t i);

/* The method at path ("/supplysec.v1.ApiKeys/CreateApiKey"); aborts when none is. */
const fuzz_method *fuzz_method_named(const char *path);

size_t fuzz_type_count(void);
const ProtobufCMessageDescriptor *fuzz_type_at(size_t i);

/* For LLVMFuzzerInitialize: with FUZZ_LIST=1 in the environment, prints the
 * index of every method and type (what tests/fuzz/make_corpus.py needs to
 * write the selector byte of a seed) and exits. */
void fuzz_list_if_asked(void);

/* True when pred holds for every message field of msg that is set (the set
 * member of a oneof, every element of a repeated field), one level down;
 * false at the first that it does not hold for. */
bool fuzz_submessages_all(const ProtobufCMessage *msg,
                          bool (*pred)(const ProtobufCMessage *sub, void *ctx), void *ctx);

#endif
