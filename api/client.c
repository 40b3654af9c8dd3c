/* client.c — unary gRPC calls over gRPC core (see client.h). One batch per
 * call on a pluck queue: send metadata, message and close; receive metadata,
 * message and status. */
#include "client.h"

#include "pem.h"
#include "zombie.h"

#include <grpc/byte_buffer_reader.h>
#include <grpc/grpc.h>
#include <grpc/grpc_security.h>
#include <grpc/support/time.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct api_client {
    grpc_channel *channel;
    grpc_completion_queue *cq;
};

api_client *api_client_open(const char *addr, bool tls, const char *ca_file, char **err)
{
    *err = NULL;
    grpc_init();
    api_client *c = calloc(1, sizeof *c);
    if (!c)
        return NULL;
    grpc_channel_credentials *creds;
    if (tls || ca_file) {
        char *ca = ca_file ? pem_read(ca_file) : NULL;
        if (ca_file && !ca) {
            asprintf(err, "cannot read %s", ca_file);
            free(c);
            return NULL;
        }
        creds = grpc_ssl_credentials_create(ca, NULL, NULL, NULL);
        free(ca);
    } else {
        creds = grpc_insecure_credentials_create();
    }
    c->channel = grpc_channel_create(addr, creds, NULL);
    grpc_channel_credentials_release(creds);
    c->cq = grpc_completion_queue_create_for_pluck(NULL);
    return c;
}

void api_client_close(api_client *c)
{
    if (!c)
        return;
    grpc_channel_destroy(c->channel);
    grpc_completion_queue_shutdown(c->cq);
    while (
        grpc_completion_queue_pluck(c->cq, NULL, gpr_inf_future(GPR_CLOCK_REALTIME), NULL).type !=
        GRPC_QUEUE_SHUTDOWN)
        ;
    grpc_completion_queue_destroy(c->cq);
    free(c);
    grpc_shutdown();
}

int api_client_call(api_client *c, const char *path, const ProtobufCMessage *req,
                    const ProtobufCMessageDescriptor *out, const char *api_key, int timeout_ms,
                    ProtobufCMessage **resp, char **details)
{
    *resp = NULL;
    *details = NULL;
    gpr_timespec deadline =
        gpr_time_add(gpr_now(GPR_CLOCK_REALTIME), gpr_time_from_millis(timeout_ms, GPR_TIMESPAN));
    grpc_slice method = grpc_slice_from_copied_string(path);
    grpc_call *call = grpc_channel_create_call(c->channel, NULL, GRPC_PROPAGATE_DEFAULTS, c->cq,
                                               method, NULL, deadline, NULL);
    grpc_slice_unref(method);

    size_t n = protobuf_c_message_get_packed_size(req);
    grpc_slice payload = grpc_slice_malloc(n);
    protobuf_c_message_pack(req, GRPC_SLICE_START_PTR(payload));
    grpc_byte_buffer *send = grpc_raw_byte_buffer_create(&payload, 1);
    grpc_slice_unref(payload);

    char *bearer = NULL;
    grpc_metadata md[1];
    size_t n_md = 0;
    if (api_key && api_key[0] && asprintf(&bearer, "Bearer %s", api_key) > 0) {
        md[0].key = grpc_slice_from_static_string("authorization");
        md[0].value = grpc_slice_from_copied_string(bearer);
        n_md = 1;
    }
    grpc_metadata_array initial, trailing;
    grpc_metadata_array_init(&initial);
    grpc_metadata_array_init(&trailing);
    grpc_byte_buffer *recv = NULL;
    grpc_status_code code = GRPC_STATUS_UNKNOWN;
    grpc_slice status_details;
    grpc_op ops[6];
    memset(ops, 0, sizeof ops);
    ops[0].op = GRPC_OP_SEND_INITIAL_METADATA;
    ops[0].data.send_initial_metadata.count = n_md;
    ops[0].data.send_initial_metadata.metadata = md;
    ops[1].op = GRPC_OP_SEND_MESSAGE;
    ops[1].data.send_message.send_message = send;
    ops[2].op = GRPC_OP_SEND_CLOSE_FROM_CLIENT;
    ops[3].op = GRPC_OP_RECV_INITIAL_METADATA;
    ops[3].data.recv_initial_metadata.recv_initial_metadata = &initial;
    ops[4].op = GRPC_OP_RECV_MESSAGE;
    ops[4].data.recv_message.recv_message = &recv;
    ops[5].op = GRPC_OP_RECV_STATUS_ON_CLIENT;
    ops[5].data.recv_status_on_client.trailing_metadata = &trailing;
    ops[5].data.recv_status_on_client.status = &code;
    ops[5].data.recv_status_on_client.status_details = &status_details;
    if (grpc_call_start_batch(call, ops, 6, call, NULL) == GRPC_CALL_OK)
        grpc_completion_queue_pluck(c->cq, call, gpr_inf_future(GPR_CLOCK_REALTIME), NULL);
    else
        status_details = grpc_slice_from_static_string("cannot start the call");

    if (code == GRPC_STATUS_OK && recv) {
        grpc_byte_buffer_reader reader;
        if (grpc_byte_buffer_reader_init(&reader, recv)) {
            grpc_slice s = grpc_byte_buffer_reader_readall(&reader);
            *resp =
                protobuf_c_message_unpack(out, NULL, GRPC_SLICE_LENGTH(s), GRPC_SLICE_START_PTR(s));
            grpc_slice_unref(s);
            grpc_byte_buffer_reader_destroy(&reader);
        }
        if (!*resp) {
            code = GRPC_STATUS_INTERNAL;
            *details = strdup("the response is not a valid protobuf message");
        }
    } else if (code != GRPC_STATUS_OK) {
        *details = strndup((const char *)GRPC_SLICE_START_PTR(status_details),
                           GRPC_SLICE_LENGTH(status_details));
    }
    grpc_slice_unref(status_details);
    if (n_md)
        grpc_slice_unref(md[0].value);
    free(bearer);
    if (recv)
        grpc_byte_buffer_destroy(recv);
    grpc_byte_buffer_destroy(send);
    grpc_metadata_array_destroy(&initial);
    grpc_metadata_array_destroy(&trailing);
    zombie_unref_own(call);
    return (int)code;
}
