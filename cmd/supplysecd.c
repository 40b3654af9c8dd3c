/* supplysecd — the supplysec server.
 *
 *   supplysecd [flags]             serve the gRPC API
 *   supplysecd bootstrap [--store] create the first platform-administrator key
 *   supplysecd export [--store]    write the store's contents to stdout (JSON Lines)
 *   supplysecd import [--store]    read an export from stdin into an empty store
 *   supplysecd init [--store]      make the location hold a store (a fresh one
 *                                  where the store file is missing)
 *
 * Every flag has an environment fallback (SUPPLYSEC_<FLAG>, upper case,
 * '-' as '_'). SIGTERM or SIGINT: stop accepting, let in-flight calls
 * finish within the grace period, close the store, exit 0. Exit 2: bad
 * usage; 3: the store was refused (what is at its location is not the store
 * expected there; the message says why and what to do); 1: other failures.
 */
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "http.h"
#include "keyring.h"
#include "kinds.h"
#include "log.h"
#include "migrate.h"
#include "refacet.h"
#include "runtime.h"

#define EXIT_STORE_REFUSED 3

typedef struct config {
    api_server_config server;
    http_config http;      /* http.listen NULL: no HTTP listener */
    const char *store_uri; /* as given, or store_uri_buf with the MongoDB flags added */
    char store_uri_buf[2048];
    const char *mongo_write_concern, *mongo_selection_timeout_ms, *mongo_socket_timeout_ms;
    const char *log_level;
    int grace_seconds;
} config;

static const char usage[] =
    "usage: supplysecd [flags]              serve the supplysec gRPC API\n"
    "       supplysecd bootstrap [--store URI]  print a first platform-admin key\n"
    "       supplysecd export [--store URI] > FILE  the store's contents as JSON Lines\n"
    "       supplysecd import [--store URI] < FILE  an export into an empty store\n"
    "       supplysecd init [--store URI]   a fresh store where the store file is missing,\n"
    "                                       or accept the store file that is there\n"
    "       supplysecd refacet [--store URI]  derive every record's filter values again\n"
    "flags (environment fallback in brackets):\n"
    "  --listen HOST:PORT        [SUPPLYSEC_LISTEN]   default 127.0.0.1:50051\n"
    "  --store URI               [SUPPLYSEC_STORE]    default sqlite:./data/supplysec.db\n"
    "  --workers N               [SUPPLYSEC_WORKERS]  default: half the cores on SQLite,\n"
    "                                                 the number of cores on MongoDB\n"
    "  --log-level LEVEL         [SUPPLYSEC_LOG_LEVEL] debug|info|warn|error, default info\n"
    "  --tls-cert FILE           [SUPPLYSEC_TLS_CERT] PEM certificate chain\n"
    "  --tls-key FILE            [SUPPLYSEC_TLS_KEY]  PEM private key\n"
    "  --tls-client-ca FILE      [SUPPLYSEC_TLS_CLIENT_CA] require client certificates\n"
    "  --allow-insecure-remote   [SUPPLYSEC_ALLOW_INSECURE_REMOTE=1] plaintext off loopback\n"
    "  --max-message-bytes N     [SUPPLYSEC_MAX_MESSAGE_BYTES] default 4194304\n"
    "  --grace-seconds N         [SUPPLYSEC_GRACE_SECONDS] default 10\n"
    "HTTP (Connect and gRPC-Web for browsers; docs/api.md, \"HTTP\"), off unless given:\n"
    "  --http-listen HOST:PORT   [SUPPLYSEC_HTTP_LISTEN] TLS and loopback rules as for --listen\n"
    "  --cors-origins LIST       [SUPPLYSEC_CORS_ORIGINS] origins whose pages may call, "
    "comma-separated\n"
    "  --http-max-connections N  [SUPPLYSEC_HTTP_MAX_CONNECTIONS] default 256, a thread each\n"
    "  --console-dir DIR         the web console's files from DIR, not the binary (working on it)\n"
    "limits (docs/operations.md, \"Limits\"):\n"
    "  --max-connections N       [SUPPLYSEC_MAX_CONNECTIONS] default: the open-file limit less a "
    "reserve\n"
    "  --max-calls N             [SUPPLYSEC_MAX_CALLS] calls at once, default 4096\n"
    "  --max-streams N           [SUPPLYSEC_MAX_STREAMS] open streams, default 1024\n"
    "  --max-streams-per-connection N [SUPPLYSEC_MAX_STREAMS_PER_CONNECTION] default 16\n"
    "  --memory-quota-mb N       [SUPPLYSEC_MEMORY_QUOTA_MB] gRPC core's memory, default 256\n"
    "  --write-threads N         [SUPPLYSEC_WRITE_THREADS] writes at once, default 32\n"
    "  --auth-cache-entries N    [SUPPLYSEC_AUTH_CACHE_ENTRIES] verified keys kept, default 4096\n"
    "  --auth-cache-ms N         [SUPPLYSEC_AUTH_CACHE_MS] how long one is trusted, default 1000;\n"
    "                            0: every call reads its key from the store\n"
    "MongoDB stores (each the URI option of that name, unless the URI sets it):\n"
    "  --mongo-write-concern W   [SUPPLYSEC_MONGO_WRITE_CONCERN] w: majority (default) or a count\n"
    "  --mongo-selection-timeout-ms N [SUPPLYSEC_MONGO_SELECTION_TIMEOUT_MS] default 2000\n"
    "  --mongo-socket-timeout-ms N    [SUPPLYSEC_MONGO_SOCKET_TIMEOUT_MS] default 5000\n"
    "  --version\n";

static const char *env_or(const char *name, const char *fallback)
{
    const char *v = getenv(name);
    return v && v[0] ? v : fallback;
}

static bool parse_int(const char *flag, const char *text, int min, int *out)
{
    char *end;
    errno = 0;
    long v = strtol(text, &end, 10);
    if (errno || *end || end == text || v < min || v > 1 << 30) {
        fprintf(stderr, "supplysecd: %s: expected an integer >= %d, got \"%s\"\n", flag, min, text);
        return false;
    }
    *out = (int)v;
    return true;
}

/* The --mongo-* flags as options of a MongoDB store URI; an option the URI
 * sets itself wins. */
static bool mongo_options_apply(config *c)
{
    const char *keys[] = {"w", "serverSelectionTimeoutMS", "socketTimeoutMS"};
    const char *values[] = {c->mongo_write_concern, c->mongo_selection_timeout_ms,
                            c->mongo_socket_timeout_ms};
    const char *uri = c->store_uri, *query = strchr(uri, '?'), *hosts = strstr(uri, "://");
    if (strncmp(uri, "mongodb", 7) != 0 || !hosts)
        return true;
    bool has_path = strchr(hosts + 3, '/') != NULL, has_query = query != NULL;
    size_t size = sizeof c->store_uri_buf;
    size_t n = (size_t)snprintf(c->store_uri_buf, size, "%s", uri);
    for (size_t i = 0; i < sizeof keys / sizeof keys[0] && n < size; i++) {
        char probe[64];
        snprintf(probe, sizeof probe, "%s=", keys[i]);
        if (!values[i] || (query && strcasestr(query, probe)))
            continue;
        n += (size_t)snprintf(c->store_uri_buf + n, size - n, "%s%s=%s",
                              has_query  ? "&"
                              : has_path ? "?"
                                         : "/?",
                              keys[i], values[i]);
        has_query = has_path = true;
    }
    if (n >= size) {
        fprintf(stderr, "supplysecd: the store URI is too long\n");
        return false;
    }
    c->store_uri = c->store_uri_buf;
    return true;
}

#define GRACE_SECONDS_MAX 3600

static bool grace_in_range(int seconds)
{
    if (seconds <= GRACE_SECONDS_MAX)
        return true;
    fprintf(stderr, "supplysecd: the grace period is at most %d seconds\n", GRACE_SECONDS_MAX);
    return false;
}

/* The limit flags, in the order of their option codes 0x100.. */
static const struct {
    const char *flag, *env;
} limit_flags[] = {
    {"--max-connections", "SUPPLYSEC_MAX_CONNECTIONS"},
    {"--max-calls", "SUPPLYSEC_MAX_CALLS"},
    {"--max-streams", "SUPPLYSEC_MAX_STREAMS"},
    {"--max-streams-per-connection", "SUPPLYSEC_MAX_STREAMS_PER_CONNECTION"},
    {"--memory-quota-mb", "SUPPLYSEC_MEMORY_QUOTA_MB"},
    {"--auth-cache-entries", "SUPPLYSEC_AUTH_CACHE_ENTRIES"},
    {"--write-threads", "SUPPLYSEC_WRITE_THREADS"},
};

static int *limit_field(config *c, size_t i)
{
    int *fields[] = {&c->server.max_connections, &c->server.max_calls,
                     &c->server.max_streams,     &c->server.max_streams_per_connection,
                     &c->server.memory_quota_mb, &c->server.auth_cache_entries,
                     &c->server.write_threads};
    return fields[i];
}

/* Worker threads when --workers is not given. A worker polls connections
 * and answers reads itself, and gRPC core 1.51's epoll1 poller lets one
 * thread poll at a time, so with more workers a call is often read by one
 * and answered by another, which costs more than the call: on 2 cores one
 * worker spent a third less CPU a call than two and answered as many calls
 * a second or more (docs/performance.md, "One worker per two cores"). So on
 * SQLite, whose reads are local and take microseconds, a worker per two
 * cores, leaving the others to the kernel's network work, the writer
 * threads and the HTTP listener. A MongoDB read waits on the network on
 * its worker: one a core, as before. */
static int default_workers(const char *store_uri, long cores)
{
    if (cores < 1)
        cores = 2;
    if (strncmp(store_uri, "sqlite:", 7) != 0)
        return (int)cores;
    return cores < 2 ? 1 : (int)(cores / 2);
}

static bool config_load(config *c, int argc, char **argv)
{
    long cores = sysconf(_SC_NPROCESSORS_ONLN);
    c->server.listen = env_or("SUPPLYSEC_LISTEN", "127.0.0.1:50051");
    c->store_uri = env_or("SUPPLYSEC_STORE", "sqlite:./data/supplysec.db");
    c->log_level = env_or("SUPPLYSEC_LOG_LEVEL", "info");
    c->mongo_write_concern = env_or("SUPPLYSEC_MONGO_WRITE_CONCERN", NULL);
    c->mongo_selection_timeout_ms = env_or("SUPPLYSEC_MONGO_SELECTION_TIMEOUT_MS", NULL);
    c->mongo_socket_timeout_ms = env_or("SUPPLYSEC_MONGO_SOCKET_TIMEOUT_MS", NULL);
    c->server.tls_cert = env_or("SUPPLYSEC_TLS_CERT", NULL);
    c->server.tls_key = env_or("SUPPLYSEC_TLS_KEY", NULL);
    c->server.tls_client_ca = env_or("SUPPLYSEC_TLS_CLIENT_CA", NULL);
    c->server.allow_insecure_remote =
        strcmp(env_or("SUPPLYSEC_ALLOW_INSECURE_REMOTE", "0"), "1") == 0;
    c->http.listen = env_or("SUPPLYSEC_HTTP_LISTEN", NULL);
    c->http.cors_origins = env_or("SUPPLYSEC_CORS_ORIGINS", NULL);
    if (env_or("SUPPLYSEC_HTTP_MAX_CONNECTIONS", NULL) &&
        !parse_int("SUPPLYSEC_HTTP_MAX_CONNECTIONS", env_or("SUPPLYSEC_HTTP_MAX_CONNECTIONS", NULL),
                   1, &c->http.max_connections))
        return false;
    if (!parse_int("SUPPLYSEC_WORKERS", env_or("SUPPLYSEC_WORKERS", "0"), 0, &c->server.workers) ||
        !parse_int("SUPPLYSEC_MAX_MESSAGE_BYTES", env_or("SUPPLYSEC_MAX_MESSAGE_BYTES", "4194304"),
                   1024, &c->server.max_message_bytes) ||
        !parse_int("SUPPLYSEC_GRACE_SECONDS", env_or("SUPPLYSEC_GRACE_SECONDS", "10"), 0,
                   &c->grace_seconds) ||
        !grace_in_range(c->grace_seconds) ||
        !parse_int("SUPPLYSEC_AUTH_CACHE_MS",
                   env_or("SUPPLYSEC_AUTH_CACHE_MS", API_DEFAULT_AUTH_CACHE_MS_TEXT), 0,
                   &c->server.auth_cache_ms))
        return false;
    for (size_t i = 0; i < sizeof limit_flags / sizeof limit_flags[0]; i++) {
        const char *v = env_or(limit_flags[i].env, NULL);
        if (v && !parse_int(limit_flags[i].env, v, 1, limit_field(c, i)))
            return false;
    }

    static const struct option opts[] = {
        {"listen", required_argument, NULL, 'l'},
        {"store", required_argument, NULL, 's'},
        {"workers", required_argument, NULL, 'w'},
        {"log-level", required_argument, NULL, 'L'},
        {"tls-cert", required_argument, NULL, 'c'},
        {"tls-key", required_argument, NULL, 'k'},
        {"tls-client-ca", required_argument, NULL, 'a'},
        {"allow-insecure-remote", no_argument, NULL, 'I'},
        {"max-message-bytes", required_argument, NULL, 'm'},
        {"grace-seconds", required_argument, NULL, 'g'},
        {"max-connections", required_argument, NULL, 0x100},
        {"max-calls", required_argument, NULL, 0x101},
        {"max-streams", required_argument, NULL, 0x102},
        {"max-streams-per-connection", required_argument, NULL, 0x103},
        {"memory-quota-mb", required_argument, NULL, 0x104},
        {"auth-cache-entries", required_argument, NULL, 0x105},
        {"write-threads", required_argument, NULL, 0x106},
        {"auth-cache-ms", required_argument, NULL, 'A'},
        {"mongo-write-concern", required_argument, NULL, 'W'},
        {"mongo-selection-timeout-ms", required_argument, NULL, 'S'},
        {"mongo-socket-timeout-ms", required_argument, NULL, 'T'},
        {"http-listen", required_argument, NULL, 0x180},
        {"cors-origins", required_argument, NULL, 0x181},
        {"http-max-connections", required_argument, NULL, 0x182},
        {"console-dir", required_argument, NULL, 0x183},
        {"version", no_argument, NULL, 'V'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    int o;
    while ((o = getopt_long(argc, argv, "", opts, NULL)) != -1) {
        switch (o) {
        case 'l':
            c->server.listen = optarg;
            break;
        case 's':
            c->store_uri = optarg;
            break;
        case 'w':
            if (!parse_int("--workers", optarg, 1, &c->server.workers))
                return false;
            break;
        case 'L':
            c->log_level = optarg;
            break;
        case 'c':
            c->server.tls_cert = optarg;
            break;
        case 'k':
            c->server.tls_key = optarg;
            break;
        case 'a':
            c->server.tls_client_ca = optarg;
            break;
        case 'I':
            c->server.allow_insecure_remote = true;
            break;
        case 'm':
            if (!parse_int("--max-message-bytes", optarg, 1024, &c->server.max_message_bytes))
                return false;
            break;
        case 'g':
            if (!parse_int("--grace-seconds", optarg, 0, &c->grace_seconds) ||
                !grace_in_range(c->grace_seconds))
                return false;
            break;
        case 0x100:
        case 0x101:
        case 0x102:
        case 0x103:
        case 0x104:
        case 0x105:
        case 0x106:
            if (!parse_int(limit_flags[o - 0x100].flag, optarg, 1, limit_field(c, o - 0x100)))
                return false;
            break;
        case 'A':
            if (!parse_int("--auth-cache-ms", optarg, 0, &c->server.auth_cache_ms))
                return false;
            break;
        case 0x180:
            c->http.listen = optarg;
            break;
        case 0x181:
            c->http.cors_origins = optarg;
            break;
        case 0x183:
            c->http.console_dir = optarg;
            break;
        case 0x182:
            if (!parse_int("--http-max-connections", optarg, 1, &c->http.max_connections))
                return false;
            break;
        case 'W':
            c->mongo_write_concern = optarg;
            break;
        case 'S':
            c->mongo_selection_timeout_ms = optarg;
            break;
        case 'T':
            c->mongo_socket_timeout_ms = optarg;
            break;
        case 'V':
            printf("supplysecd %s\n", SUPPLYSEC_VERSION);
            exit(0);
        case 'h':
            fputs(usage, stdout);
            exit(0);
        default:
            fputs(usage, stderr);
            return false;
        }
    }
    if (c->server.workers <= 0)
        c->server.workers = default_workers(c->store_uri, cores);
    c->http.tls_cert = c->server.tls_cert;
    c->http.tls_key = c->server.tls_key;
    c->http.max_message_bytes = c->server.max_message_bytes;
    c->http.tls_client_ca = c->server.tls_client_ca;
    c->http.allow_insecure_remote = c->server.allow_insecure_remote;
    if (!mongo_options_apply(c))
        return false;
    log_level level;
    if (!log_parse_level(c->log_level, &level)) {
        fprintf(stderr, "supplysecd: --log-level: expected debug, info, warn or error\n");
        return false;
    }
    log_set_level(level);
    return true;
}

/* The store URI as it may be logged: a MongoDB URI without its userinfo
 * (user:password@) and without its options, which can hold secrets too
 * (tlsCertificateKeyFilePassword, authMechanismProperties, ...). */
static const char *store_uri_redacted(const char *uri, char *buf, size_t size)
{
    const char *hosts = strstr(uri, "://");
    if (strncmp(uri, "mongodb", 7) != 0 || !hosts)
        return uri;
    hosts += 3;
    size_t host_len = strcspn(hosts, "/?");
    const char *at = NULL;
    for (size_t i = 0; i < host_len; i++) /* the last '@' of the authority */
        if (hosts[i] == '@')
            at = hosts + i;
    const char *start = at ? at + 1 : hosts;
    size_t path_len = strcspn(start, "?");
    snprintf(buf, size, "%.*s%s%.*s%s", (int)(hosts - uri), uri, at ? "***@" : "", (int)path_len,
             start, start[path_len] ? "?..." : "");
    return buf;
}

static void store_logger(bool error, const char *domain, const char *message)
{
    log_line l;
    log_begin(&l, error ? LOG_ERROR : LOG_WARN, message);
    log_str(&l, "component", domain);
    log_emit(&l);
}

/* The store, or NULL with *exit_code set. */
static store *open_store(const config *c, int *exit_code)
{
    store_set_logger(store_logger);
    store *s = NULL;
    char *err = NULL;
    store_status st = store_open(c->store_uri, c->server.workers, &s, &err);
    if (st != STORE_OK) {
        *exit_code = st == STORE_REFUSED ? EXIT_STORE_REFUSED : 1;
        log_line l;
        log_begin(&l, LOG_ERROR,
                  st == STORE_REFUSED ? "the store was refused" : "cannot open the store");
        char shown[256];
        log_str(&l, "store", store_uri_redacted(c->store_uri, shown, sizeof shown));
        log_str(&l, "error", err ? err : "");
        log_emit(&l);
        free(err);
        return NULL;
    }
    return s;
}

static int run_bootstrap(const config *c)
{
    int code = 0;
    store *s = open_store(c, &code);
    if (!s)
        return code;
    char secret[APIKEY_SECRET_LEN + 1];
    status st = {0};
    bool ok = keyring_bootstrap(s, secret, &st);
    store_close(s);
    if (!ok) {
        fprintf(stderr, "supplysecd bootstrap: %s: %s\n", status_code_name(st.code), st.msg);
        return 1;
    }
    fprintf(stderr,
            "Created the platform-administrator key platform/apiKeys/" BOOTSTRAP_KEY_ID ".\n"
            "Its secret is printed below once and never again; keep it safe:\n");
    printf("%s\n", secret);
    explicit_bzero(secret, sizeof secret);
    return 0;
}

/* export and import: the server need not run, but nothing may write meanwhile. */
static int run_migration(const config *c, bool import)
{
    int code = 0;
    store *s = open_store(c, &code);
    if (!s)
        return code;
    migrate_counts n;
    char *err = NULL;
    bool ok = import ? migrate_import(s, stdin, kinds_record_facets, &n, &err)
                     : migrate_export(s, stdout, &n, &err);
    store_close(s);
    if (!ok) {
        fprintf(stderr, "supplysecd %s: %s\n", import ? "import" : "export", err ? err : "failed");
        free(err);
        return 1;
    }
    fprintf(stderr, "supplysecd %s: %zu records, %zu audit events\n",
            import ? "imported" : "exported", n.records, n.events);
    return 0;
}

/* init: what the location holds is made the store (see store_init). */
static int run_init(const config *c)
{
    store_set_logger(store_logger);
    char *msg = NULL;
    store_status st = store_init(c->store_uri, &msg);
    fprintf(stderr, "supplysecd init: %s\n", msg ? msg : store_status_name(st));
    free(msg);
    return st == STORE_OK ? 0 : st == STORE_REFUSED ? EXIT_STORE_REFUSED : 1;
}

/* Before serving (and `refacet`, with all): the kinds' declarations hold,
 * and every record has the facets its kind declares now (refacet.h). */
static bool prepare_records(store *s, bool all)
{
    char err[512];
    size_t records = 0;
    log_line l;
    if (!kind_check_all(kinds_all, kinds_n, err, sizeof err) ||
        !refacet_kinds(s, kinds_all, kinds_n, all, &records, err, sizeof err)) {
        log_begin(&l, LOG_ERROR, "cannot prepare the stored records");
        log_str(&l, "error", err);
        log_emit(&l);
        return false;
    }
    if (records || all) {
        log_begin(&l, LOG_INFO, "stored records given the facets their kinds declare now");
        log_int(&l, "records", (long long)records);
        log_emit(&l);
    }
    return true;
}

/* refacet: every record's facets derived again, whatever the marks say. */
static int run_refacet(const config *c)
{
    int code = 0;
    store *s = open_store(c, &code);
    if (!s)
        return code;
    bool ok = prepare_records(s, true);
    store_close(s);
    return ok ? 0 : 1;
}

static int run_server(const config *c)
{
    sigset_t sigs;
    sigemptyset(&sigs);
    sigaddset(&sigs, SIGTERM);
    sigaddset(&sigs, SIGINT);
    /* Blocked before any thread starts, so only sigwait below receives them. */
    pthread_sigmask(SIG_BLOCK, &sigs, NULL);
    signal(SIGPIPE, SIG_IGN);

    int code = 0;
    store *s = open_store(c, &code);
    if (!s)
        return code;
    if (!prepare_records(s, false)) {
        store_close(s);
        return 1;
    }
    char *err = NULL;
    api_server *srv = api_server_start(&c->server, s, api_all_services, api_n_all_services, &err);
    log_line l;
    if (!srv) {
        log_begin(&l, LOG_ERROR, "cannot start the server");
        log_str(&l, "error", err);
        log_emit(&l);
        free(err);
        store_close(s);
        return 1;
    }
    http_server *http = NULL;
    if (c->http.listen && !(http = http_server_start(&c->http, srv, &err))) {
        log_begin(&l, LOG_ERROR, "cannot start the HTTP listener");
        log_str(&l, "error", err ? err : "out of memory");
        log_emit(&l);
        free(err);
        api_server_stop(srv, 0);
        store_close(s);
        return 1;
    }
    log_begin(&l, LOG_INFO, "supplysecd listening");
    log_str(&l, "listen", c->server.listen);
    log_int(&l, "port", api_server_port(srv));
    if (http)
        log_int(&l, "http_port", http_server_port(http));
    char shown[256];
    log_str(&l, "store", store_uri_redacted(c->store_uri, shown, sizeof shown));
    log_str(&l, "store_mode", store_describe(s));
    log_bool(&l, "tls", c->server.tls_cert != NULL);
    log_bool(&l, "client_certificates", c->server.tls_client_ca != NULL);
    log_int(&l, "workers", c->server.workers);
    log_int(&l, "max_message_bytes", c->server.max_message_bytes);
    log_str(&l, "version", SUPPLYSEC_VERSION);
    log_emit(&l);

    int sig = 0;
    sigwait(&sigs, &sig);
    log_begin(&l, LOG_INFO, "shutting down");
    log_str(&l, "signal", sig == SIGTERM ? "SIGTERM" : "SIGINT");
    log_int(&l, "grace_seconds", c->grace_seconds);
    log_emit(&l);
    if (http)
        http_server_refuse(http); /* before: the stop waits for its calls in flight */
    api_server_stop(srv, c->grace_seconds * 1000);
    if (http)
        http_server_stop(http);
    store_close(s);
    log_begin(&l, LOG_INFO, "stopped");
    log_emit(&l);
    return 0;
}

int main(int argc, char **argv)
{
    config c = {0};
    const char *sub = argc > 1 && argv[1][0] != '-' ? argv[1] : NULL;
    if (sub && strcmp(sub, "bootstrap") != 0 && strcmp(sub, "export") != 0 &&
        strcmp(sub, "import") != 0 && strcmp(sub, "init") != 0 && strcmp(sub, "refacet") != 0) {
        fprintf(stderr, "supplysecd: unknown command \"%s\"\n%s", sub, usage);
        return 2;
    }
    if (sub) {
        argv[1] = argv[0];
        argc--;
        argv++;
    }
    if (!config_load(&c, argc, argv))
        return 2;
    if (optind < argc) {
        fprintf(stderr, "supplysecd: unexpected argument \"%s\"\n%s", argv[optind], usage);
        return 2;
    }
    if (!sub)
        return run_server(&c);
    if (strcmp(sub, "bootstrap") == 0)
        return run_bootstrap(&c);
    if (strcmp(sub, "init") == 0)
        return run_init(&c);
    if (strcmp(sub, "refacet") == 0)
        return run_refacet(&c);
    return run_migration(&c, strcmp(sub, "import") == 0);
}
