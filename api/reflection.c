/* reflection.c — gRPC server reflection, v1 and v1alpha (wire-identical).
 *
 * Serves the descriptor set protoc wrote at build time (embedded as
 * supplysec_descriptor_set, dependencies first), so grpcurl, buf curl and
 * evans list and call every method with no .proto files at hand. Every file
 * request is answered with the whole set: clients cache all of it. Needs no
 * key: the schema is public. */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "grpc/reflection/v1/reflection.pb-c.h"
#include "grpc/reflection/v1alpha/reflection.pb-c.h"
#include "runtime.h"

extern const unsigned char supplysec_descriptor_set[];
extern const size_t supplysec_descriptor_set_len;

typedef Grpc__Reflection__V1__ServerReflectionRequest ReflectionRequest;
typedef Grpc__Reflection__V1__ServerReflectionResponse ReflectionResponse;

/* The FileDescriptorProto byte ranges inside the embedded set, found once. */
typedef struct file_span {
    const uint8_t *data;
    size_t len;
} file_span;

static file_span *spans;
static size_t n_spans;
static pthread_once_t spans_once = PTHREAD_ONCE_INIT;

/* Walks the FileDescriptorSet wire format: repeated field 1, length-delimited. */
static void spans_find(void)
{
    const uint8_t *p = supplysec_descriptor_set, *end = p + supplysec_descriptor_set_len;
    spans = calloc(64, sizeof *spans);
    while (spans && p < end && n_spans < 64 && *p == 0x0a) {
        uint64_t len = 0;
        int shift = 0;
        p++;
        while (p < end && shift < 64) {
            len |= (uint64_t)(*p & 0x7f) << shift;
            shift += 7;
            if (!(*p++ & 0x80))
                break;
        }
        if (len > (uint64_t)(end - p))
            break;
        spans[n_spans++] = (file_span){p, (size_t)len};
        p += len;
    }
}

static bool copy_request(const ReflectionRequest *req, ReflectionResponse *resp)
{
    /* Echo the request by packing and unpacking it: a deep copy. */
    size_t n = protobuf_c_message_get_packed_size(&req->base);
    uint8_t *buf = malloc(n ? n : 1);
    if (!buf)
        return false;
    protobuf_c_message_pack(&req->base, buf);
    resp->original_request = grpc__reflection__v1__server_reflection_request__unpack(NULL, n, buf);
    free(buf);
    return resp->original_request != NULL;
}

static bool answer_files(ReflectionResponse *resp)
{
    Grpc__Reflection__V1__FileDescriptorResponse *fdr = malloc(sizeof *fdr);
    if (!fdr)
        return false;
    grpc__reflection__v1__file_descriptor_response__init(fdr);
    resp->message_response_case =
        GRPC__REFLECTION__V1__SERVER_REFLECTION_RESPONSE__MESSAGE_RESPONSE_FILE_DESCRIPTOR_RESPONSE;
    resp->file_descriptor_response = fdr;
    fdr->file_descriptor_proto = calloc(n_spans ? n_spans : 1, sizeof(ProtobufCBinaryData));
    if (!fdr->file_descriptor_proto)
        return false;
    for (size_t i = 0; i < n_spans; i++) {
        ProtobufCBinaryData *b = &fdr->file_descriptor_proto[fdr->n_file_descriptor_proto];
        if (!(b->data = malloc(spans[i].len ? spans[i].len : 1)))
            return false;
        memcpy(b->data, spans[i].data, spans[i].len);
        b->len = spans[i].len;
        fdr->n_file_descriptor_proto++;
    }
    return true;
}

static bool answer_services(ReflectionResponse *resp)
{
    Grpc__Reflection__V1__ListServiceResponse *ls = malloc(sizeof *ls);
    if (!ls)
        return false;
    grpc__reflection__v1__list_service_response__init(ls);
    resp->message_response_case =
        GRPC__REFLECTION__V1__SERVER_REFLECTION_RESPONSE__MESSAGE_RESPONSE_LIST_SERVICES_RESPONSE;
    resp->list_services_response = ls;
    ls->service = calloc(api_n_all_services, sizeof *ls->service);
    if (!ls->service)
        return false;
    for (size_t i = 0; i < api_n_all_services; i++) {
        Grpc__Reflection__V1__ServiceResponse *s = malloc(sizeof *s);
        if (!s)
            return false;
        grpc__reflection__v1__service_response__init(s);
        ls->service[ls->n_service++] = s;
        if (!(s->name = strdup(api_all_services[i]->desc->name)))
            return false;
    }
    return true;
}

static bool answer_error(ReflectionResponse *resp, int code, const char *what)
{
    Grpc__Reflection__V1__ErrorResponse *er = malloc(sizeof *er);
    if (!er)
        return false;
    grpc__reflection__v1__error_response__init(er);
    resp->message_response_case =
        GRPC__REFLECTION__V1__SERVER_REFLECTION_RESPONSE__MESSAGE_RESPONSE_ERROR_RESPONSE;
    resp->error_response = er;
    er->error_code = code;
    return (er->error_message = strdup(what)) != NULL;
}

/* v1 and v1alpha are generated from identical definitions: the same struct
 * layouts, the same wire form. The runtime decodes a v1alpha request with
 * its own descriptor and it is read here through the v1 type; the v1 answer
 * packs to exactly the bytes a v1alpha answer would. */
static ProtobufCMessage *reflection_info(api_call *call, ProtobufCMessage *msg)
{
    ReflectionRequest *req = (void *)msg;
    pthread_once(&spans_once, spans_find);
    ReflectionResponse *resp = malloc(sizeof *resp);
    if (!resp)
        return api_fail(call, STATUS_RESOURCE_EXHAUSTED, "out of memory");
    grpc__reflection__v1__server_reflection_response__init(resp);
    bool ok = (resp->valid_host = strdup(req->host)) != NULL && copy_request(req, resp);
    switch (req->message_request_case) {
    case GRPC__REFLECTION__V1__SERVER_REFLECTION_REQUEST__MESSAGE_REQUEST_LIST_SERVICES:
        ok = ok && answer_services(resp);
        break;
    case GRPC__REFLECTION__V1__SERVER_REFLECTION_REQUEST__MESSAGE_REQUEST_FILE_BY_FILENAME:
    case GRPC__REFLECTION__V1__SERVER_REFLECTION_REQUEST__MESSAGE_REQUEST_FILE_CONTAINING_SYMBOL:
        ok = ok && answer_files(resp);
        break;
    default:
        ok = ok && answer_error(resp, STATUS_UNIMPLEMENTED, "not supported by this server");
        break;
    }
    if (!ok) {
        protobuf_c_message_free_unpacked(&resp->base, NULL);
        return api_fail(call, STATUS_RESOURCE_EXHAUSTED, "out of memory");
    }
    return &resp->base;
}

static const api_method reflection_methods[] = {
    {.name = "ServerReflectionInfo",
     .handler = reflection_info,
     .auth = API_AUTH_NONE,
     .kind = API_BIDI_STREAM,
     .unimplemented_why = NULL},
};

const api_service api_reflection_v1_service = {&grpc__reflection__v1__server_reflection__descriptor,
                                               reflection_methods, 1};
const api_service api_reflection_v1alpha_service = {
    &grpc__reflection__v1alpha__server_reflection__descriptor, reflection_methods, 1};
