/* health.c — grpc.health.v1.Health: SERVING while the store can do its work.
 *
 * Check needs no key (load balancers and orchestrators call it). The empty
 * service name and each supplysec service report the store's health
 * (store_health: NOT_SERVING when the backend is unreachable, or for SQLite
 * when the store file was deleted or replaced, the disk is full, the
 * filesystem read-only or the database corrupt; the store logs why). That is
 * a cached state, probed at most about once a second and at once after a
 * failing operation, so a check costs no store round trip and many checks
 * cost the store nothing more. Any other name is NOT_FOUND from Check and
 * SERVICE_UNKNOWN from Watch, which sends the status at once and again
 * whenever it changes. */
#include <stdlib.h>
#include <string.h>

#include "grpc/health/v1/health.pb-c.h"
#include "runtime.h"

static bool service_known(const char *name)
{
    if (name[0] == '\0')
        return true;
    for (size_t i = 0; i < api_n_all_services; i++)
        if (strcmp(api_all_services[i]->desc->name, name) == 0)
            return true;
    return false;
}

/* The serving status of service (SERVICE_UNKNOWN for a name not served). */
static ProtobufCMessage *health_status(api_call *call, const char *service)
{
    Grpc__Health__V1__HealthCheckResponse *resp = malloc(sizeof *resp);
    if (!resp)
        return api_fail(call, STATUS_RESOURCE_EXHAUSTED, "out of memory");
    grpc__health__v1__health_check_response__init(resp);
    if (!service_known(service))
        resp->status = GRPC__HEALTH__V1__HEALTH_CHECK_RESPONSE__SERVING_STATUS__SERVICE_UNKNOWN;
    else if (store_health(call->op.store, NULL, 0) == STORE_OK)
        resp->status = GRPC__HEALTH__V1__HEALTH_CHECK_RESPONSE__SERVING_STATUS__SERVING;
    else
        resp->status = GRPC__HEALTH__V1__HEALTH_CHECK_RESPONSE__SERVING_STATUS__NOT_SERVING;
    return &resp->base;
}

static ProtobufCMessage *health_check(api_call *call, ProtobufCMessage *msg)
{
    Grpc__Health__V1__HealthCheckRequest *req = (void *)msg;
    if (!service_known(req->service))
        return api_fail(call, STATUS_NOT_FOUND, "unknown service \"%.100s\"", req->service);
    return health_status(call, req->service);
}

/* Asked again every second by the runtime; a change is sent to the client. */
static ProtobufCMessage *health_watch(api_call *call, ProtobufCMessage *msg)
{
    Grpc__Health__V1__HealthCheckRequest *req = (void *)msg;
    return health_status(call, req->service);
}

static const api_method health_methods[] = {
    {.name = "Check",
     .handler = health_check,
     .auth = API_AUTH_NONE,
     .kind = API_UNARY,
     .unimplemented_why = NULL},
    {.name = "Watch", .handler = health_watch, .auth = API_AUTH_NONE, .kind = API_SERVER_STREAM},
};

const api_service api_health_service = {&grpc__health__v1__health__descriptor, health_methods,
                                        sizeof health_methods / sizeof health_methods[0]};
