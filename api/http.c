/* http.c — the HTTP listener (see http.h): libmicrohttpd with a thread per
 * connection (a call may wait for its store, as a gRPC call does on its
 * worker), the request body gathered up to the message limit, CORS for the
 * allowed origins, /healthz and /readyz, and each POST to a method's path
 * handed to http_rpc.c. Ownership: the http_server owns the daemon, its
 * copies of the PEM files and the origin list; a request's state (its
 * body) lives from its first callback to MHD's completion callback. */
#include "http.h"

#include <gnutls/gnutls.h>
#include <gnutls/x509.h>
#include <microhttpd.h>
#include <netdb.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <unistd.h>

#include "console.h"
#include "http_rpc.h"
#include "http_watch.h"
#include "log.h"
#include "metrics.h"
#include "pem.h"

#define MAX_ORIGINS 32

struct http_server {
    struct MHD_Daemon *daemon;
    api_server *srv;
    store *store;         /* srv's, kept: it outlives srv (closed after http_server_stop) */
    MHD_socket listen_fd; /* after the quiesce: closed once the daemon is stopped */
    http_gate gate;       /* closed by http_server_refuse: srv is not touched after */
    int port;
    int max_message_bytes;
    char *cert_pem, *key_pem;
    char *client_ca_pem; /* --tls-client-ca: a client's certificate must be signed by it */
    char *origins_text;  /* the allow-list, split in place */
    char *console_dir;   /* --console-dir: the console's files read from here */
    const char *origins[MAX_ORIGINS];
    size_t n_origins;
};

/* One request, from its first callback to its completion. */
typedef struct request {
    uint8_t *body;
    size_t len, cap;
    size_t limit; /* bytes of body kept at most (http_rpc_body_limit) */
    bool too_large;
} request;

/* ---- CORS ---- */

static bool origin_allowed(const http_server *h, const char *origin)
{
    for (size_t i = 0; origin && i < h->n_origins; i++)
        if (strcmp(h->origins[i], "*") == 0 || strcasecmp(h->origins[i], origin) == 0)
            return true;
    return false;
}

/* The headers a browser needs to let a page of an allowed origin read the
 * answer: the origin itself (never "*", since requests carry a key), and
 * the headers it may read. */
static void cors_headers(const http_server *h, struct MHD_Connection *conn,
                         struct MHD_Response *resp)
{
    const char *origin = MHD_lookup_connection_value(conn, MHD_HEADER_KIND, "Origin");
    MHD_add_response_header(resp, "Vary", "Origin");
    if (!origin_allowed(h, origin))
        return;
    MHD_add_response_header(resp, "Access-Control-Allow-Origin", origin);
    MHD_add_response_header(resp, "Access-Control-Expose-Headers",
                            "grpc-status, grpc-message, x-request-id, content-type");
}

/* A preflight: which methods and headers a page of an allowed origin may
 * send. Another origin gets 403 and no CORS headers, so the browser stops. */
static enum MHD_Result preflight(const http_server *h, struct MHD_Connection *conn)
{
    const char *origin = MHD_lookup_connection_value(conn, MHD_HEADER_KIND, "Origin");
    bool ok = origin_allowed(h, origin);
    struct MHD_Response *resp = MHD_create_response_from_buffer(0, "", MHD_RESPMEM_PERSISTENT);
    if (!resp)
        return MHD_NO;
    MHD_add_response_header(resp, "Vary", "Origin");
    if (ok) {
        MHD_add_response_header(resp, "Access-Control-Allow-Origin", origin);
        MHD_add_response_header(resp, "Access-Control-Allow-Methods", "POST, GET, OPTIONS");
        MHD_add_response_header(resp, "Access-Control-Allow-Headers",
                                "content-type, authorization, connect-protocol-version, "
                                "connect-timeout-ms, connect-content-encoding, "
                                "connect-accept-encoding, grpc-timeout, grpc-accept-encoding, "
                                "x-grpc-web, x-user-agent, x-request-id");
        MHD_add_response_header(resp, "Access-Control-Max-Age", "7200");
    }
    enum MHD_Result r =
        MHD_queue_response(conn, ok ? MHD_HTTP_NO_CONTENT : MHD_HTTP_FORBIDDEN, resp);
    MHD_destroy_response(resp);
    return r;
}

/* ---- answers ---- */

static enum MHD_Result send_text(const http_server *h, struct MHD_Connection *conn, unsigned status,
                                 const char *text)
{
    struct MHD_Response *resp =
        MHD_create_response_from_buffer(strlen(text), (void *)text, MHD_RESPMEM_MUST_COPY);
    if (!resp)
        return MHD_NO;
    MHD_add_response_header(resp, "Content-Type", "text/plain; charset=utf-8");
    cors_headers(h, conn, resp);
    enum MHD_Result r = MHD_queue_response(conn, status, resp);
    MHD_destroy_response(resp);
    return r;
}

/* An answer to a method's path that never reached the method (415, 405):
 * it carries a request id like every call's answer. */
static enum MHD_Result send_refusal(const http_server *h, struct MHD_Connection *conn,
                                    unsigned status, const char *text)
{
    api_call id;
    const char *v = MHD_lookup_connection_value(conn, MHD_HEADER_KIND, "x-request-id");
    rt_request_id_take(&id, v, v ? strlen(v) : 0);
    struct MHD_Response *resp =
        MHD_create_response_from_buffer(strlen(text), (void *)text, MHD_RESPMEM_MUST_COPY);
    if (!resp)
        return MHD_NO;
    MHD_add_response_header(resp, "Content-Type", "text/plain; charset=utf-8");
    MHD_add_response_header(resp, "x-request-id", id.request_id);
    cors_headers(h, conn, resp);
    enum MHD_Result r = MHD_queue_response(conn, status, resp);
    MHD_destroy_response(resp);
    return r;
}

static enum MHD_Result send_answer(const http_server *h, struct MHD_Connection *conn,
                                   http_answer *a)
{
    /* a trailers-only answer has no body: nothing for the response to free */
    struct MHD_Response *resp =
        a->body ? MHD_create_response_from_buffer(a->len, a->body, MHD_RESPMEM_MUST_FREE)
                : MHD_create_response_from_buffer(0, "", MHD_RESPMEM_PERSISTENT);
    if (!resp) {
        http_answer_free(a);
        return MHD_NO;
    }
    a->body = NULL; /* the response owns it now */
    MHD_add_response_header(resp, "Content-Type", a->content_type);
    MHD_add_response_header(resp, "x-request-id", a->request_id);
    if (a->grpc_status >= 0) {
        char code[16];
        snprintf(code, sizeof code, "%d", a->grpc_status);
        MHD_add_response_header(resp, "grpc-status", code);
        if (a->grpc_message)
            MHD_add_response_header(resp, "grpc-message", a->grpc_message);
    }
    cors_headers(h, conn, resp);
    enum MHD_Result r = MHD_queue_response(conn, a->status, resp);
    MHD_destroy_response(resp);
    http_answer_free(a);
    return r;
}

/* A server stream's answer: frames as the watch makes them (chunked). */
static enum MHD_Result send_watch(const http_server *h, struct MHD_Connection *conn, http_answer *a)
{
    const union MHD_ConnectionInfo *info =
        MHD_get_connection_info(conn, MHD_CONNECTION_INFO_CONNECTION_FD);
    if (info)
        http_watch_set_fd(a->watch, info->connect_fd);
    struct MHD_Response *resp = MHD_create_response_from_callback(
        MHD_SIZE_UNKNOWN, 4096, http_watch_read, a->watch, http_watch_free);
    if (!resp) {
        http_watch_free(a->watch);
        http_answer_free(a);
        return MHD_NO;
    }
    MHD_add_response_header(resp, "Content-Type", a->content_type);
    MHD_add_response_header(resp, "x-request-id", a->request_id);
    cors_headers(h, conn, resp);
    enum MHD_Result r = MHD_queue_response(conn, MHD_HTTP_OK, resp);
    MHD_destroy_response(resp);
    http_answer_free(a);
    return r;
}

/* ---- routes ---- */

static const char *header(struct MHD_Connection *conn, const char *name)
{
    return MHD_lookup_connection_value(conn, MHD_HEADER_KIND, name);
}

static const char *query(struct MHD_Connection *conn, const char *name)
{
    return MHD_lookup_connection_value(conn, MHD_GET_ARGUMENT_KIND, name);
}

static enum MHD_Result count_header(void *cls, enum MHD_ValueKind kind, const char *key,
                                    const char *value)
{
    (void)kind;
    *(size_t *)cls += strlen(key) + (value ? strlen(value) : 0);
    return MHD_YES;
}

/* A POST to "/pkg.Service/Method", or a Connect GET of one (get). */
static enum MHD_Result rpc(http_server *h, struct MHD_Connection *conn, const char *url,
                           request *rq, bool get)
{
    http_rpc_in in = {
        .path = url,
        .content_type = header(conn, "Content-Type"),
        .authorization = header(conn, "Authorization"),
        .request_id = header(conn, "x-request-id"),
        .connect_timeout_ms = header(conn, "Connect-Timeout-Ms"),
        .connect_version = header(conn, "Connect-Protocol-Version"),
        .grpc_timeout = header(conn, "grpc-timeout"),
        .body = rq->body ? rq->body : (const uint8_t *)"",
        .len = rq->len,
        .body_too_large = rq->too_large,
        .max_message_bytes = h->max_message_bytes,
    };
    MHD_get_connection_values(conn, MHD_HEADER_KIND, count_header, &in.metadata_bytes);
    in.content_encoding = header(conn, "Content-Encoding");
    if (!in.content_encoding)
        in.content_encoding = header(conn, "grpc-encoding");
    if (!in.content_encoding)
        in.content_encoding = header(conn, "Connect-Content-Encoding");
    if (get) {
        in.get = true;
        in.content_type = "application/json"; /* for an answer before the query is read */
        in.q_encoding = query(conn, "encoding");
        in.q_base64 = query(conn, "base64");
        in.q_compression = query(conn, "compression");
        in.q_connect = query(conn, "connect");
        if (MHD_lookup_connection_value_n(conn, MHD_GET_ARGUMENT_KIND, "message", 7, &in.q_message,
                                          &in.q_message_len) != MHD_YES)
            in.q_message = NULL;
    } else if (!http_rpc_content_type_known(in.content_type))
        return send_refusal(h, conn, MHD_HTTP_UNSUPPORTED_MEDIA_TYPE,
                            "unsupported Content-Type: send application/json or application/proto "
                            "(Connect unary), application/connect+json or +proto (Connect "
                            "streaming), or application/grpc-web(+proto|+json) or "
                            "application/grpc-web-text(+proto) (gRPC-Web)\n");
    http_answer a;
    memset(&a, 0, sizeof a);
    if (!http_gate_enter(&h->gate, h->srv)) {
        http_rpc_refuse(&in, STATUS_UNAVAILABLE, "the server is stopping; retry", &a);
        return send_answer(h, conn, &a);
    }
    in.gate = &h->gate;
    http_rpc_serve(h->srv, &in, &a);
    http_gate_leave(h->srv);
    if (a.watch)
        return send_watch(h, conn, &a);
    return send_answer(h, conn, &a);
}

/* GET /metrics: counted in flight like a call, since it reads the runtime
 * (see rpc). */
static enum MHD_Result metrics(http_server *h, struct MHD_Connection *conn)
{
    if (!http_gate_enter(&h->gate, h->srv))
        return send_text(h, conn, MHD_HTTP_SERVICE_UNAVAILABLE, "stopping\n");
    size_t len = 0;
    char *text = metrics_render(h->srv, &len);
    http_gate_leave(h->srv);
    if (!text)
        return send_text(h, conn, MHD_HTTP_INTERNAL_SERVER_ERROR, "out of memory\n");
    struct MHD_Response *resp = MHD_create_response_from_buffer(len, text, MHD_RESPMEM_MUST_FREE);
    if (!resp) {
        free(text);
        return MHD_NO;
    }
    MHD_add_response_header(resp, "Content-Type", "text/plain; version=0.0.4; charset=utf-8");
    enum MHD_Result r = MHD_queue_response(conn, MHD_HTTP_OK, resp);
    MHD_destroy_response(resp);
    return r;
}

/* GET of the console: "/" and "/console" lead to "/console/", which is
 * index.html; "/console/NAME" one of its files (console.h). The headers
 * keep its pages to this origin's scripts, styles and API, out of frames,
 * and its URLs out of other sites' logs. */
static enum MHD_Result console(const http_server *h, struct MHD_Connection *conn, const char *url)
{
    if (strcmp(url, "/") == 0 || strcmp(url, "/console") == 0) {
        struct MHD_Response *resp = MHD_create_response_from_buffer(0, "", MHD_RESPMEM_PERSISTENT);
        if (!resp)
            return MHD_NO;
        MHD_add_response_header(resp, "Location", "/console/");
        enum MHD_Result r = MHD_queue_response(conn, MHD_HTTP_FOUND, resp);
        MHD_destroy_response(resp);
        return r;
    }
    const char *name = url + strlen("/console/");
    const console_file *f = console_find(name[0] ? name : "index.html");
    if (!f)
        return send_text(h, conn, MHD_HTTP_NOT_FOUND, "not found\n");
    struct MHD_Response *resp = NULL;
    if (h->console_dir) { /* working on the console: the file as it is now */
        char path[4096];
        snprintf(path, sizeof path, "%s/%s", h->console_dir, f->name);
        FILE *in = fopen(path, "rb");
        char *data = NULL;
        long n = -1;
        if (in && fseek(in, 0, SEEK_END) == 0 && (n = ftell(in)) >= 0 && n < (1L << 24) &&
            fseek(in, 0, SEEK_SET) == 0 && (data = malloc((size_t)n + 1)) &&
            fread(data, 1, (size_t)n, in) == (size_t)n)
            resp = MHD_create_response_from_buffer((size_t)n, data, MHD_RESPMEM_MUST_FREE);
        if (in)
            fclose(in);
        if (!resp) {
            free(data);
            return send_text(h, conn, MHD_HTTP_NOT_FOUND, "not found in --console-dir\n");
        }
    } else {
        resp = MHD_create_response_from_buffer(f->len, (void *)f->data, MHD_RESPMEM_PERSISTENT);
        if (!resp)
            return MHD_NO;
    }
    MHD_add_response_header(resp, "Content-Type", f->type);
    MHD_add_response_header(resp, "Content-Security-Policy",
                            "default-src 'none'; script-src 'self'; style-src 'self'; "
                            "img-src 'self' data:; connect-src 'self'; base-uri 'none'; "
                            "form-action 'none'; frame-ancestors 'none'");
    MHD_add_response_header(resp, "X-Content-Type-Options", "nosniff");
    MHD_add_response_header(resp, "Referrer-Policy", "no-referrer");
    MHD_add_response_header(resp, "Cache-Control", "no-cache");
    enum MHD_Result r = MHD_queue_response(conn, MHD_HTTP_OK, resp);
    MHD_destroy_response(resp);
    return r;
}

static enum MHD_Result route(http_server *h, struct MHD_Connection *conn, const char *url,
                             const char *method, request *rq)
{
    if (strcmp(method, "OPTIONS") == 0)
        return preflight(h, conn);
    bool get = strcmp(method, "GET") == 0 || strcmp(method, "HEAD") == 0;
    if (get && strcmp(url, "/healthz") == 0)
        return send_text(h, conn, MHD_HTTP_OK, "ok\n");
    if (get && strcmp(url, "/readyz") == 0) {
        if (atomic_load(&h->gate.closed))
            return send_text(h, conn, MHD_HTTP_SERVICE_UNAVAILABLE, "stopping\n");
        char why[256] = "";
        bool ready = store_health(h->store, why, sizeof why) == STORE_OK;
        char text[300];
        snprintf(text, sizeof text, "%s\n", ready ? "ready" : why[0] ? why : "store unavailable");
        return send_text(h, conn, ready ? MHD_HTTP_OK : MHD_HTTP_SERVICE_UNAVAILABLE, text);
    }
    if (strcmp(method, "GET") == 0 && strcmp(url, "/metrics") == 0)
        return metrics(h, conn);
    if (strcmp(method, "GET") == 0 && (strcmp(url, "/") == 0 || strcmp(url, "/console") == 0 ||
                                       strncmp(url, "/console/", strlen("/console/")) == 0))
        return console(h, conn, url);
    const char *slash = url[0] == '/' ? strchr(url + 1, '/') : NULL;
    bool method_path = slash && slash[1] && !strchr(slash + 1, '/');
    if (method_path && (strcmp(method, "POST") == 0 || strcmp(method, "GET") == 0))
        return rpc(h, conn, url, rq, strcmp(method, "GET") == 0);
    if (method_path)
        return send_refusal(h, conn, MHD_HTTP_METHOD_NOT_ALLOWED,
                            "a method is called with POST (or, where it changes nothing, GET)\n");
    return send_text(h, conn, MHD_HTTP_NOT_FOUND, "not found\n");
}

/* libmicrohttpd's callback: first with no body (set up), then with each
 * piece of the body, then once more with none (answer). */
static enum MHD_Result on_request(void *cls, struct MHD_Connection *conn, const char *url,
                                  const char *method, const char *version, const char *upload_data,
                                  size_t *upload_data_size, void **req_cls)
{
    (void)version;
    http_server *h = cls;
    request *rq = *req_cls;
    if (!rq) {
        rq = calloc(1, sizeof *rq);
        if (!rq)
            return MHD_NO;
        *req_cls = rq;
        /* the headers are in: how much body this caller may make us keep */
        if (strcmp(method, "POST") == 0)
            rq->limit = http_rpc_body_limit(&h->gate, h->srv, url, header(conn, "Authorization"),
                                            h->max_message_bytes);
        return MHD_YES;
    }
    if (*upload_data_size) {
        size_t n = *upload_data_size;
        *upload_data_size = 0;
        if (rq->too_large || rq->len + n > rq->limit) {
            /* dropped, and answered RESOURCE_EXHAUSTED once the body is in */
            rq->too_large = true;
            free(rq->body);
            rq->body = NULL;
            rq->len = rq->cap = 0;
            return MHD_YES;
        }
        if (rq->len + n > rq->cap) {
            size_t cap = rq->cap ? rq->cap : 4096;
            while (cap < rq->len + n)
                cap *= 2;
            uint8_t *grown = realloc(rq->body, cap);
            if (!grown)
                return MHD_NO;
            rq->body = grown;
            rq->cap = cap;
        }
        memcpy(rq->body + rq->len, upload_data, n);
        rq->len += n;
        return MHD_YES;
    }
    return route(h, conn, url, method, rq);
}

static void on_completed(void *cls, struct MHD_Connection *conn, void **req_cls,
                         enum MHD_RequestTerminationCode why)
{
    (void)cls;
    (void)conn;
    (void)why;
    request *rq = *req_cls;
    if (rq) {
        free(rq->body);
        free(rq);
    }
    *req_cls = NULL;
}

/* With --tls-client-ca, a connection's TLS handshake fails unless the client
 * presents a certificate that the CA signed, as on the gRPC port: nothing
 * (not even /healthz) is served to a client without one. MHD itself only
 * asks for a certificate and leaves it unchecked, so each connection's
 * session is told here, after MHD set it up and before its handshake runs
 * on the connection's thread, to require one and verify it against the
 * trust list (MHD_OPTION_HTTPS_MEM_TRUST). */
static void on_connection(void *cls, struct MHD_Connection *conn, void **socket_ctx,
                          enum MHD_ConnectionNotificationCode what)
{
    (void)socket_ctx;
    const http_server *h = cls;
    if (what != MHD_CONNECTION_NOTIFY_STARTED || !h->client_ca_pem)
        return;
    const union MHD_ConnectionInfo *info =
        MHD_get_connection_info(conn, MHD_CONNECTION_INFO_GNUTLS_SESSION);
    gnutls_session_t session = info ? (gnutls_session_t)info->tls_session : NULL;
    /* cannot happen with MHD_USE_TLS; the handshake would then go unverified,
     * so the connection is cut instead (a read of it fails at once) */
    if (!session) {
        const union MHD_ConnectionInfo *fd =
            MHD_get_connection_info(conn, MHD_CONNECTION_INFO_CONNECTION_FD);
        if (fd)
            shutdown(fd->connect_fd, SHUT_RDWR);
        return;
    }
    /* the chain, and the certificate's purpose: TLS client authentication,
     * as OpenSSL checks it on the gRPC port (a server-only certificate of
     * the same CA is refused) */
    static gnutls_typed_vdata_st client_purpose = {
        .type = GNUTLS_DT_KEY_PURPOSE_OID,
        .data = (unsigned char *)GNUTLS_KP_TLS_WWW_CLIENT,
    };
    gnutls_certificate_server_set_request(session, GNUTLS_CERT_REQUIRE);
    gnutls_session_set_verify_cert2(session, &client_purpose, 1, 0);
}

static void mhd_log(void *cls, const char *fmt, va_list ap)
{
    (void)cls;
    char text[512];
    vsnprintf(text, sizeof text, fmt, ap);
    size_t n = strlen(text);
    while (n && (text[n - 1] == '\n' || text[n - 1] == '\r'))
        text[--n] = '\0';
    log_line l;
    log_begin(&l, LOG_WARN, "http");
    log_str(&l, "error", text);
    log_emit(&l);
}

/* ---- start and stop ---- */

static bool parse_listen(const char *listen, struct sockaddr_storage *addr, socklen_t *len,
                         char **err)
{
    char host[256];
    const char *port;
    if (listen[0] == '[') {
        const char *close = strchr(listen, ']');
        if (!close || close[1] != ':' || (size_t)(close - listen - 1) >= sizeof host)
            goto bad;
        memcpy(host, listen + 1, (size_t)(close - listen - 1));
        host[close - listen - 1] = '\0';
        port = close + 2;
    } else {
        const char *colon = strrchr(listen, ':');
        if (!colon || (size_t)(colon - listen) >= sizeof host)
            goto bad;
        memcpy(host, listen, (size_t)(colon - listen));
        host[colon - listen] = '\0';
        port = colon + 1;
    }
    struct addrinfo hints = {.ai_family = AF_UNSPEC,
                             .ai_socktype = SOCK_STREAM,
                             .ai_flags = AI_PASSIVE | AI_NUMERICSERV};
    struct addrinfo *res = NULL;
    if (getaddrinfo(host[0] ? host : NULL, port, &hints, &res) != 0 || !res)
        goto bad;
    memcpy(addr, res->ai_addr, res->ai_addrlen);
    *len = res->ai_addrlen;
    freeaddrinfo(res);
    return true;
bad:
    asprintf(err, "--http-listen %s: expected HOST:PORT with a numeric port", listen);
    return false;
}

static void split_origins(http_server *h, const char *list)
{
    if (!list || !(h->origins_text = strdup(list)))
        return;
    char *save = NULL;
    for (char *tok = strtok_r(h->origins_text, ", ", &save); tok && h->n_origins < MAX_ORIGINS;
         tok = strtok_r(NULL, ", ", &save))
        h->origins[h->n_origins++] = tok;
}

static void http_free(http_server *h)
{
    free(h->cert_pem);
    free(h->key_pem);
    free(h->client_ca_pem);
    free(h->origins_text);
    free(h->console_dir);
    free(h);
}

http_server *http_server_start(const http_config *cfg, api_server *srv, char **err)
{
    *err = NULL;
    struct sockaddr_storage addr;
    socklen_t addr_len = 0;
    if (!parse_listen(cfg->listen, &addr, &addr_len, err))
        return NULL;
    bool tls = cfg->tls_cert || cfg->tls_key;
    if (!tls && !rt_is_loopback(cfg->listen) && !cfg->allow_insecure_remote) {
        asprintf(err,
                 "refusing plaintext HTTP on non-loopback address %s: give --tls-cert and "
                 "--tls-key, or --allow-insecure-remote",
                 cfg->listen);
        return NULL;
    }
    http_server *h = calloc(1, sizeof *h);
    if (!h)
        return NULL;
    h->srv = srv;
    h->store = srv->store;
    h->listen_fd = MHD_INVALID_SOCKET;
    h->max_message_bytes = cfg->max_message_bytes;
    split_origins(h, cfg->cors_origins);
    if (cfg->console_dir && !(h->console_dir = strdup(cfg->console_dir))) {
        http_free(h);
        return NULL;
    }
    /* poll(), not select(): select cannot watch a descriptor past 1024, and
     * the gRPC side may hold that many connections (MHD closes such sockets) */
    unsigned flags = MHD_USE_THREAD_PER_CONNECTION | MHD_USE_INTERNAL_POLLING_THREAD |
                     MHD_USE_POLL | MHD_USE_ITC | MHD_USE_ERROR_LOG;
    if (addr.ss_family == AF_INET6)
        flags |= MHD_USE_IPv6;
    if (tls) {
        if (!cfg->tls_cert || !cfg->tls_key || !(h->cert_pem = pem_read(cfg->tls_cert)) ||
            !(h->key_pem = pem_read(cfg->tls_key))) {
            asprintf(err, "--http-listen with TLS: cannot read --tls-cert and --tls-key");
            http_free(h);
            return NULL;
        }
        if (cfg->tls_client_ca && !(h->client_ca_pem = pem_read(cfg->tls_client_ca))) {
            asprintf(err, "--http-listen with TLS: cannot read --tls-client-ca %s",
                     cfg->tls_client_ca);
            http_free(h);
            return NULL;
        }
        flags |= MHD_USE_TLS;
    } else if (cfg->tls_client_ca) {
        asprintf(err, "--tls-client-ca needs TLS: give --tls-cert and --tls-key");
        http_free(h);
        return NULL;
    }
    int max_conns = cfg->max_connections > 0 ? cfg->max_connections : HTTP_DEFAULT_MAX_CONNECTIONS;
    /* the first MHD_OPTION_END ends the list: without TLS nothing of it
     * applies, without a client CA neither the trust list nor its check */
    struct MHD_OptionItem tls_opts[] = {
        {tls ? MHD_OPTION_HTTPS_MEM_KEY : MHD_OPTION_END, 0, h->key_pem},
        {MHD_OPTION_HTTPS_MEM_CERT, 0, h->cert_pem},
        {h->client_ca_pem ? MHD_OPTION_HTTPS_MEM_TRUST : MHD_OPTION_END, 0, h->client_ca_pem},
        {MHD_OPTION_NOTIFY_CONNECTION, (intptr_t)on_connection, h},
        {MHD_OPTION_END, 0, NULL},
    };
    h->daemon = MHD_start_daemon(
        flags, 0, NULL, NULL, on_request, h, MHD_OPTION_EXTERNAL_LOGGER, mhd_log, NULL,
        MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&addr, MHD_OPTION_NOTIFY_COMPLETED, on_completed,
        NULL, MHD_OPTION_CONNECTION_LIMIT, (unsigned)max_conns, MHD_OPTION_PER_IP_CONNECTION_LIMIT,
        (unsigned)HTTP_MAX_CONNECTIONS_PER_IP, MHD_OPTION_CONNECTION_TIMEOUT,
        (unsigned)HTTP_IDLE_TIMEOUT_S, MHD_OPTION_CONNECTION_MEMORY_LIMIT,
        (size_t)HTTP_HEADER_MEMORY, MHD_OPTION_ARRAY, tls_opts, MHD_OPTION_END);
    if (!h->daemon) {
        asprintf(err, "cannot listen for HTTP on %s (in use, or not an address of this machine?)",
                 cfg->listen);
        http_free(h);
        return NULL;
    }
    const union MHD_DaemonInfo *info = MHD_get_daemon_info(h->daemon, MHD_DAEMON_INFO_BIND_PORT);
    h->port = info ? info->port : 0;
    log_line l;
    log_begin(&l, LOG_INFO, "http listening");
    log_str(&l, "listen", cfg->listen);
    log_int(&l, "port", h->port);
    log_bool(&l, "tls", tls);
    log_bool(&l, "client_certificates", h->client_ca_pem != NULL);
    log_int(&l, "max_connections", max_conns);
    log_int(&l, "cors_origins", (long long)h->n_origins);
    log_emit(&l);
    return h;
}

int http_server_port(const http_server *h)
{
    return h->port;
}

void http_server_refuse(http_server *h)
{
    http_gate_close(&h->gate);
    h->listen_fd = MHD_quiesce_daemon(h->daemon); /* ours to close, after the stop */
}

void http_server_stop(http_server *h)
{
    MHD_stop_daemon(h->daemon);
    if (h->listen_fd != MHD_INVALID_SOCKET)
        close(h->listen_fd);
    http_free(h);
}
