/* metrics.h — the server's metrics in the Prometheus text format (GET
 * /metrics on the HTTP listener): calls by method, protocol and status
 * code, call latency per method, calls in flight, the store's read and
 * write latency and whether it is up. No label carries an organization,
 * a principal or anything a client chose (an unknown method counts as
 * "unknown"): the series stay as many as the methods, whatever the number
 * of tenants. docs/operations.md, "Metrics", lists them. */
#ifndef SUPPLYSEC_METRICS_H
#define SUPPLYSEC_METRICS_H

#include <stddef.h>
#include <stdint.h>

#include "status.h"

typedef enum metrics_protocol {
    METRICS_GRPC = 0,
    METRICS_CONNECT,
    METRICS_GRPC_WEB,
    METRICS_PROTOCOLS
} metrics_protocol;

typedef struct api_metrics api_metrics;
struct api_server;

/* For n_methods methods (index n_methods counts unknown ones), in n_shards
 * shards: a thread records into its own (a gRPC worker its index, the HTTP
 * threads the last), so that two cores never bump one cache line per call;
 * a scrape sums them. NULL when out of memory. */
api_metrics *metrics_new(size_t n_methods, size_t n_shards);
void metrics_free(api_metrics *m);

/* One call answered, into shard (clamped to the last): method index
 * (n_methods: unknown), its protocol, its status and how long it took.
 * Lock-free. */
void metrics_record(api_metrics *m, size_t shard, size_t method, metrics_protocol p,
                    status_code code, int64_t duration_us);

/* The exposition text for srv (malloc'd, *len bytes); NULL when out of
 * memory. */
char *metrics_render(struct api_server *srv, size_t *len);

#endif
