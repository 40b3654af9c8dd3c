/* http.h — the HTTP listener (--http-listen): the runtime's methods for
 * browsers and other HTTP/1.1 clients, through the Connect protocol (unary,
 * JSON or binary) and gRPC-Web (unary, binary or base64 text), with CORS for
 * an allow-list of origins, /healthz and /readyz for load balancers,
 * /metrics, and the web console's files under /console/ (console.h).
 *
 * Every call goes through the same method table, authentication, generic
 * wire checks, handlers and call log line as a gRPC call (call.c); only the
 * framing differs (http_rpc.c). docs/api.md, "HTTP: Connect and gRPC-Web",
 * says what a client sends and gets; docs/operations.md its limits. */
#ifndef SUPPLYSEC_HTTP_H
#define SUPPLYSEC_HTTP_H

#include <stdbool.h>

#include "runtime.h"

#define HTTP_DEFAULT_MAX_CONNECTIONS 256 /* connections at once, a thread each */
#define HTTP_MAX_CONNECTIONS_PER_IP 64   /* ... from one client address */
#define HTTP_IDLE_TIMEOUT_S 30           /* a connection silent this long is closed */
#define HTTP_HEADER_MEMORY 65536         /* a request's line and headers, at most */

typedef struct http_config {
    const char *listen;   /* host:port */
    const char *tls_cert; /* PEM files, as for the gRPC port; both or neither */
    const char *tls_key;
    const char *tls_client_ca; /* optional: require a client certificate signed by it */
    const char *cors_origins;  /* comma-separated origins allowed to call; NULL: none */
    const char *console_dir;   /* the console's files from here, not the binary (development) */
    int max_connections;       /* 0: HTTP_DEFAULT_MAX_CONNECTIONS */
    int max_message_bytes;     /* a request's body, at most (as for gRPC) */
    bool allow_insecure_remote;
} http_config;

typedef struct http_server http_server;

/* Starts listening, serving srv's methods. NULL with *err (malloc'd) set. */
http_server *http_server_start(const http_config *cfg, api_server *srv, char **err);
int http_server_port(const http_server *h);
/* Before api_server_stop: from now on every call is answered UNAVAILABLE
 * without touching the runtime, and no new connection is accepted; the
 * calls already admitted are in srv's in-flight count, which the stop waits
 * for. */
void http_server_refuse(http_server *h);
/* After api_server_stop: closes the connections, joins the threads, frees. */
void http_server_stop(http_server *h);

#endif
