/* http_watch.h — a server stream (Health.Watch) over gRPC-Web or Connect's
 * streaming protocol: the handler asked again every second on the
 * connection's own thread, each answer that differs from the last sent as a
 * message frame, and at the end a trailer frame (Connect: an end-stream
 * message): the call's deadline, the client gone, or the server stopping
 * (UNAVAILABLE, so the client reconnects elsewhere). A watch holds its
 * connection (HTTP/1.1 has one call per connection at a time), so the HTTP
 * connection limits bound the watches too.
 *
 * Ownership: the watch owns its request message and copies what it needs
 * of the call, so it never touches the runtime once the server refuses
 * calls (http.h), except through the same gate as a call (http_rpc.h) to ask
 * its handler and to count its end. A stream ends after HTTP_WATCH_MAX_S
 * (UNAVAILABLE: the client reconnects), and TCP keepalive finds a client that
 * vanished without closing. */
#ifndef SUPPLYSEC_HTTP_WATCH_H
#define SUPPLYSEC_HTTP_WATCH_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "http_rpc.h"

#define HTTP_MAX_WATCHES 64       /* HTTP streams open at once (each holds a connection) */
#define HTTP_WATCH_MAX_S 600      /* a stream's longest life: then UNAVAILABLE, reconnect */
#define HTTP_WATCH_KEEPALIVE_S 30 /* TCP keepalive, so a vanished client is noticed */

typedef struct http_watch http_watch;

/* A watch of method m for the authenticated call api (copied), asking with
 * req (taken), framed as protocol says (http_frame.h). gate is the
 * listener's. NULL when out of memory or HTTP_MAX_WATCHES are open (req is
 * freed; st says which). */
http_watch *http_watch_new(api_server *srv, const method_entry *m, const api_call *api,
                           ProtobufCMessage *req, http_protocol protocol, int64_t start_us,
                           http_gate *gate, status *st);

/* The connection's socket, watched for the client hanging up. */
void http_watch_set_fd(http_watch *w, int fd);

/* libmicrohttpd's content reader: up to max bytes of frames into buf,
 * waiting for the next change; -1 at the end of the stream. */
ssize_t http_watch_read(void *cls, uint64_t pos, char *buf, size_t max);

/* libmicrohttpd's free callback: logs the call and frees the watch. */
void http_watch_free(void *cls);

#endif
