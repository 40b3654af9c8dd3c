/* runtime.c — the generic gRPC server over gRPC core (see runtime.h).
 *
 * Life of a call. At start every method of every service is registered
 * (host NULL) and, on each worker's own completion queue, a few requests
 * are armed for each (more for a method whose calls come in bursts: call.c,
 * "Arming"), plus some unregistered-call requests so an unknown method is
 * answered UNIMPLEMENTED at once. Each worker drains its queue; each event
 * is a tag inside a call context:
 *   TAG_NEW      a call arrived: re-arm on the same queue, admit and
 *                authenticate it, then read its request or its stream;
 *   TAG_PAYLOAD  a unary (or server-stream) request arrived: decode,
 *                handle, encode and send all in one batch (a method that
 *                writes is handled on a writer thread, pool.h);
 *   TAG_READ     a stream message arrived (or the client half-closed);
 *   TAG_FINISH   the final batch completed: log the call and free it.
 * Each context has at most one batch in flight, so no two threads touch a
 * call at once. A worker's answers and call lines are gathered and sent
 * when it next waits (cork.h, log.h). Shutdown follows docs/grpc-core.md:
 * park the workers, stop re-arming, shutdown and notify, wait (at the end
 * of the grace period: refuse commits, let writes answer, cancel the
 * rest), wait for in-flight calls, destroy the server, drain and destroy
 * the queues.
 *
 * This file starts and stops the server, registers the methods, applies
 * the limits and runs the workers' loop; the runtime's other files, and
 * what they share, are in runtime_internal.h.
 */
#include "runtime_internal.h"

#include <grpc/grpc.h>
#include <grpc/grpc_security.h>
#include <grpc/support/log.h>
#include <grpc/support/time.h>
#include <pthread.h>
#include <fcntl.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "accept.h"
#include "auth_cache.h"
#include "core_tuning.h"
#include "cork.h"
#include "descset.h"
#include "sensitive.h"
#include "kinds.h"
#include "log.h"
#include "pool.h"
#include "stream_slots.h"
#include "zombie.h"

/* ---- the workers' loop ---- */

/* A worker waits at most this long for an event before it looks whether
 * it should park. */
#define PARK_POLL_MS 50

/* Events a worker handles before it flushes its gathered answers and log
 * lines even though more events are waiting (cork.h). */
#define FLUSH_EVERY 32

static void park_if_wanted(api_server *srv)
{
    if (!atomic_load(&srv->park_wanted))
        return; /* the common case: no lock taken */
    pthread_mutex_lock(&srv->park_mu);
    if (srv->park_wanted) {
        cork_flush(); /* nothing of this worker's waits while it is parked */
        srv->parked++;
        pthread_cond_broadcast(&srv->park_cv);
        while (srv->park_wanted)
            pthread_cond_wait(&srv->park_cv, &srv->park_mu);
        srv->parked--;
    }
    pthread_mutex_unlock(&srv->park_mu);
}

static void *worker_main(void *arg)
{
    worker *w = arg;
    api_server *srv = w->srv;
    log_buffered();
    cork_thread();
    int busy = 0; /* events handled since the last flush */
    for (;;) {
        /* Answers and call lines gathered while busy go out before the
         * worker waits, and after FLUSH_EVERY events at the latest. */
        grpc_event ev = {.type = GRPC_QUEUE_TIMEOUT};
        if ((log_pending() || cork_pending()) && busy < FLUSH_EVERY) {
            cork_begin();
            ev = grpc_completion_queue_next(w->cq, gpr_time_0(GPR_CLOCK_REALTIME), NULL);
            cork_end();
        }
        if (ev.type == GRPC_QUEUE_TIMEOUT || busy >= FLUSH_EVERY) {
            cork_flush();
            log_flush();
            busy = 0;
        }
        if (ev.type == GRPC_QUEUE_TIMEOUT) {
            ev = grpc_completion_queue_next(w->cq, gpr_time_from_millis(PARK_POLL_MS, GPR_TIMESPAN),
                                            NULL);
        }
        park_if_wanted(srv);
        if (ev.type == GRPC_QUEUE_SHUTDOWN)
            break;
        if (ev.type != GRPC_OP_COMPLETE)
            continue;
        busy++;
        tag *t = ev.tag;
        if (t->kind == TAG_SHUTDOWN) {
            atomic_store(&srv->shutdown_done, true); /* api_server_stop polls it */
            continue;
        }
        call_ctx *c = t->ctx;
        switch (t->kind) {
        case TAG_NEW:
            if (!ev.success) { /* shutdown: the request was never matched */
                c->call = NULL;
                rt_call_ctx_free(c);
                atomic_fetch_sub(&srv->armed, 1);
            } else {
                rt_on_new_call(c);
            }
            break;
        case TAG_PAYLOAD:
            rt_on_payload(c, ev.success);
            break;
        case TAG_READ:
            rt_on_read(c, ev.success);
            break;
        case TAG_FINISH:
            rt_on_finish(c);
            break;
        case TAG_WATCH_SENT:
        case TAG_WATCH_CLOSED:
        case TAG_WATCH_STATUS:
            rt_watch_on_event(c, t->kind);
            break;
        default:
            break;
        }
    }
    cork_flush();
    log_thread_end();
    return NULL;
}

/* ---- start and stop ---- */

/* The lowest free descriptor: how many are open before any connection. */
static int descriptors_open(void)
{
    int fd = fcntl(0, F_DUPFD_CLOEXEC, 0);
    if (fd >= 0)
        close(fd);
    return fd >= 0 ? fd : 0;
}

static int or_default(int v, int fallback)
{
    return v > 0 ? v : fallback;
}

/* Sets the bounds of docs/operations.md "Limits": the descriptor ceiling
 * (accept.h) below the open-file limit, raised first to its hard limit,
 * with room kept for the store's files and connections (a MongoDB pool
 * grows to 100); the calls and streams held at once; gRPC core's memory. */
static void limits_apply(api_server *srv, const api_server_config *cfg)
{
    long soft = accept_raise_fd_limit();
    long reserve = 128 + soft / 16;
    if (reserve > soft / 2)
        reserve = soft / 2;
    long ceiling = soft - reserve;
    if (cfg->max_connections > 0 && descriptors_open() + (long)cfg->max_connections < ceiling)
        ceiling = descriptors_open() + cfg->max_connections;
    accept_limit_set((int)ceiling);
    srv->max_calls = or_default(cfg->max_calls, API_DEFAULT_MAX_CALLS);
    int streams = or_default(cfg->max_streams, API_DEFAULT_MAX_STREAMS);
    int per_conn = or_default(cfg->max_streams_per_connection, API_DEFAULT_MAX_STREAMS_PER_CONN);
    srv->streams = stream_slots_new(streams, per_conn);
    if (!srv->streams)
        abort(); /* at start-up, with nothing served yet */
    int quota_mb = or_default(cfg->memory_quota_mb, API_DEFAULT_MEMORY_QUOTA_MB);
    srv->quota = grpc_resource_quota_create("supplysecd");
    grpc_resource_quota_resize(srv->quota, (size_t)quota_mb << 20);
    int writers = or_default(cfg->write_threads, API_DEFAULT_WRITE_THREADS);
    srv->writers = pool_new(writers, rt_writer_run);
    if (!srv->writers)
        abort(); /* at start-up, with nothing served yet */
    int cache_entries = or_default(cfg->auth_cache_entries, API_DEFAULT_AUTH_CACHE_ENTRIES);
    srv->auth_cache = auth_cache_new((size_t)cache_entries, cfg->auth_cache_ms);
    log_line l;
    log_begin(&l, LOG_INFO, "limits");
    log_int(&l, "open_file_limit", soft);
    log_int(&l, "descriptor_ceiling", ceiling);
    log_int(&l, "max_calls", srv->max_calls);
    log_int(&l, "max_streams", streams);
    log_int(&l, "max_streams_per_connection", per_conn);
    log_int(&l, "memory_quota_mb", quota_mb);
    log_int(&l, "write_threads", writers);
    log_int(&l, "auth_cache_entries", (long long)auth_cache_capacity(srv->auth_cache));
    log_int(&l, "auth_cache_ms", srv->auth_cache ? cfg->auth_cache_ms : 0);
    log_int(&l, "keyless_request_max_bytes", API_KEYLESS_REQUEST_MAX);
    log_emit(&l);
}

static bool register_methods(api_server *srv, const api_service *const *services, size_t n,
                             char **err)
{
    char why[512];
    if (!sensitive_complete() || !descset_marks_complete()) {
        asprintf(err, "the proto's options could not all be read (sensitive fields, or methods "
                      "marked NO_SIDE_EFFECTS: too many, or a name too long)");
        return false;
    }
    if (!kind_check_all(kinds_all, kinds_n, why, sizeof why)) {
        asprintf(err, "resource kinds: %s", why);
        return false;
    }
    size_t total = 0;
    for (size_t i = 0; i < n; i++)
        total += services[i]->desc->n_methods;
    srv->methods = calloc(total ? total : 1, sizeof *srv->methods);
    if (!srv->methods)
        return false;
    for (size_t i = 0; i < n; i++) {
        const api_service *svc = services[i];
        for (unsigned j = 0; j < svc->desc->n_methods; j++) {
            method_entry *m = &srv->methods[srv->n_methods++];
            m->md = &svc->desc->methods[j];
            snprintf(m->path, sizeof m->path, "/%s/%s", svc->desc->name, m->md->name);
            for (size_t k = 0; k < svc->n_methods; k++)
                if (strcmp(svc->methods[k].name, m->md->name) == 0)
                    m->api = &svc->methods[k];
            m->client_streaming = m->api && m->api->kind == API_BIDI_STREAM;
            m->no_side_effects = descset_no_side_effects(svc->desc->name, m->md->name);
            if (m->no_side_effects && m->api && m->api->writes) {
                asprintf(err, "%s is marked NO_SIDE_EFFECTS in its proto but writes", m->path);
                return false;
            }
            /* PAYLOAD_NONE: the call is ours from its headers on, so a
             * request whose message never comes counts against max_calls;
             * with READ_INITIAL_BYTE_BUFFER gRPC core would hold it unseen
             * and unbounded (about 17 KiB each) until the message came. */
            m->handle =
                grpc_server_register_method(srv->server, m->path, NULL, GRPC_SRM_PAYLOAD_NONE, 0);
            if (!m->handle) {
                asprintf(err, "cannot register %s", m->path);
                return false;
            }
        }
        for (size_t k = 0; k < svc->n_methods; k++)
            if (!protobuf_c_service_descriptor_get_method_by_name(svc->desc,
                                                                  svc->methods[k].name)) {
                asprintf(err, "%s has no method %s", svc->desc->name, svc->methods[k].name);
                return false;
            }
        if (!api_std_check(svc->desc, svc->methods, svc->n_methods, why, sizeof why)) {
            asprintf(err, "%s: %s", svc->desc->name, why);
            return false;
        }
    }
    return true;
}

/* gRPC core's own log lines (gpr_log) as JSON lines like every other, so
 * stderr stays one JSON object per line. */
static void grpc_log_json(gpr_log_func_args *args)
{
    log_line l;
    log_begin(&l,
              args->severity == GPR_LOG_SEVERITY_ERROR  ? LOG_ERROR
              : args->severity == GPR_LOG_SEVERITY_INFO ? LOG_INFO
                                                        : LOG_DEBUG,
              args->message ? args->message : "");
    log_str(&l, "component", "grpc");
    log_str(&l, "file", args->file);
    log_int(&l, "line", args->line);
    log_emit(&l);
}

/* One completion queue per worker, each drained by its thread alone: a
 * connection's calls complete on the queue of the worker that polls it
 * (gRPC core matches a call to a request armed on the connection's own queue
 * first), so a call is read, handled and answered on one thread with no
 * hand-off. See docs/performance.md. */
static bool workers_create(api_server *srv, int n)
{
    srv->workers = calloc((size_t)n, sizeof *srv->workers);
    if (!srv->workers)
        return false;
    for (int i = 0; i < n; i++) {
        srv->workers[i].srv = srv;
        pthread_mutex_init(&srv->workers[i].live_mu, NULL);
        srv->workers[i].cq = grpc_completion_queue_create_for_next(NULL);
        grpc_server_register_completion_queue(srv->server, srv->workers[i].cq, NULL);
        srv->n_workers++;
    }
    return true;
}

/* Shuts the queues down (the server is destroyed), lets each drain (its
 * worker's thread, when running, else here) and frees them. */
static void queues_destroy(api_server *srv, bool threads_running)
{
    for (int i = 0; i < srv->n_workers; i++)
        grpc_completion_queue_shutdown(srv->workers[i].cq);
    for (int i = 0; i < srv->n_workers; i++) {
        worker *w = &srv->workers[i];
        if (threads_running)
            pthread_join(w->thread, NULL);
        else
            while (
                grpc_completion_queue_next(w->cq, gpr_inf_future(GPR_CLOCK_REALTIME), NULL).type !=
                GRPC_QUEUE_SHUTDOWN)
                ;
        grpc_completion_queue_destroy(w->cq);
        pthread_mutex_destroy(&w->live_mu);
        free(w->arms);
    }
    free(srv->workers);
    srv->workers = NULL;
    srv->n_workers = 0;
}

api_server *api_server_start(const api_server_config *cfg, store *st,
                             const api_service *const *services, size_t n_services, char **err)
{
    *err = NULL;
    api_server *srv = calloc(1, sizeof *srv);
    if (!srv)
        return NULL;
    gpr_set_log_function(grpc_log_json);
    if (!core_tuning_apply()) {
        log_line l;
        log_begin(&l, LOG_WARN, "Abseil's deadlock detection stays on: its switch was not found");
        log_emit(&l);
    }
    grpc_init();
    srv->store = st;
    srv->shutdown_tag.kind = TAG_SHUTDOWN;
    pthread_mutex_init(&srv->park_mu, NULL);
    pthread_cond_init(&srv->park_cv, NULL);
    pthread_mutex_init(&srv->watch_mu, NULL);
    limits_apply(srv, cfg);
    /* channelz off: nothing here serves its admin service, and it reads the
     * clock and bumps shared counters for every stream and message. */
    grpc_arg args[6] = {
        {.type = GRPC_ARG_INTEGER,
         .key = GRPC_ARG_MAX_RECEIVE_MESSAGE_LENGTH,
         .value.integer = cfg->max_message_bytes},
        {.type = GRPC_ARG_INTEGER, .key = GRPC_ARG_ALLOW_REUSEPORT, .value.integer = 0},
        {.type = GRPC_ARG_INTEGER,
         .key = GRPC_ARG_MAX_CONCURRENT_STREAMS,
         .value.integer = API_HTTP2_MAX_CONCURRENT_STREAMS},
        {.type = GRPC_ARG_POINTER,
         .key = GRPC_ARG_RESOURCE_QUOTA,
         .value.pointer = {srv->quota, grpc_resource_quota_arg_vtable()}},
        {.type = GRPC_ARG_INTEGER,
         .key = GRPC_ARG_MAX_METADATA_SIZE,
         .value.integer = API_CORE_MAX_METADATA_BYTES},
        {.type = GRPC_ARG_INTEGER, .key = GRPC_ARG_ENABLE_CHANNELZ, .value.integer = 0},
    };
    grpc_channel_args chargs = {6, args};
    srv->server = grpc_server_create(&chargs, NULL);
    if (!workers_create(srv, cfg->workers > 0 ? cfg->workers : 1) ||
        !register_methods(srv, services, n_services, err) ||
        !(srv->metrics = metrics_new(srv->n_methods, (size_t)srv->n_workers + 1)))
        goto fail;
    grpc_server_credentials *creds = rt_make_credentials(cfg, err);
    if (!creds)
        goto fail;
    srv->port = grpc_server_add_http2_port(srv->server, cfg->listen, creds);
    grpc_server_credentials_release(creds);
    if (srv->port == 0) {
        asprintf(err, "cannot listen on %s (address in use or invalid)", cfg->listen);
        goto fail;
    }
    grpc_server_start(srv->server);
    if (!rt_arms_start(srv))
        abort(); /* at start-up, with nothing served yet */
    for (int i = 0; i < srv->n_workers; i++)
        pthread_create(&srv->workers[i].thread, NULL, worker_main, &srv->workers[i]);
    pthread_create(&srv->watcher, NULL, rt_watcher_main, srv);
    return srv;
fail:
    if (!*err)
        asprintf(err, "out of memory");
    grpc_server_destroy(srv->server);
    queues_destroy(srv, false);
    pthread_mutex_destroy(&srv->watch_mu);
    pthread_mutex_destroy(&srv->park_mu);
    pthread_cond_destroy(&srv->park_cv);
    stream_slots_free(srv->streams);
    grpc_resource_quota_unref(srv->quota);
    auth_cache_free(srv->auth_cache);
    pool_free(srv->writers); /* idle: every call has finished */
    metrics_free(srv->metrics);
    free(srv->methods);
    free(srv);
    grpc_shutdown();
    return NULL;
}

int api_server_port(const api_server *srv)
{
    return srv->port;
}

static void sleep_ms(int ms)
{
    struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000};
    nanosleep(&ts, NULL);
}

/* At the end of the grace period, before calls are cancelled: no write
 * commits from now on, and the writes still running answer for themselves
 * (OK when they committed before, UNAVAILABLE when they never will), so a
 * client is never told of a failure that was in fact written. A write
 * stuck in an unreachable store is waited for at most WRITES_END_MS; the
 * store will not commit it either. */
#define WRITES_END_MS 2000

static void writes_end(api_server *srv)
{
    store_refuse_writes(srv->store);
    int64_t until = clock_monotonic_us() + WRITES_END_MS * 1000LL;
    while (atomic_load(&srv->writing) > 0 && clock_monotonic_us() < until)
        sleep_ms(5);
}

/* Parks every worker (each at its next event, or within PARK_POLL_MS),
 * waiting at most PARK_WAIT_MS for one busy with a slow read. */
#define PARK_WAIT_MS 1000

static void park_workers(api_server *srv)
{
    int64_t start = clock_monotonic_us(), until = start + PARK_WAIT_MS * 1000LL;
    pthread_mutex_lock(&srv->park_mu);
    srv->park_wanted = true;
    while (srv->parked < srv->n_workers && clock_monotonic_us() < until) {
        pthread_mutex_unlock(&srv->park_mu);
        sleep_ms(1);
        pthread_mutex_lock(&srv->park_mu);
    }
    int parked = srv->parked;
    pthread_mutex_unlock(&srv->park_mu);
    log_line l;
    log_begin(&l, LOG_INFO, "workers parked for the shutdown");
    log_int(&l, "parked", parked);
    log_int(&l, "workers", srv->n_workers);
    log_int(&l, "waited_us", clock_monotonic_us() - start);
    log_emit(&l);
}

static void unpark_workers(api_server *srv)
{
    pthread_mutex_lock(&srv->park_mu);
    srv->park_wanted = false;
    pthread_cond_broadcast(&srv->park_cv);
    pthread_mutex_unlock(&srv->park_mu);
}

/* How long connections get to close by themselves once every call has
 * ended, before they are closed. gRPC core completes a call's status once
 * it is queued for the connection, not written: closing the connection
 * before its write drops it. A client that reads closes its connection
 * within milliseconds of its last call after the GOAWAY (gRPC core's own
 * server closes it too, once the client acknowledged the GOAWAY's ping). */
#define CONNECTIONS_CLOSE_MS 1000

void api_server_stop(api_server *srv, int grace_ms)
{
    /* gRPC core 1.51 cancels (CANCELLED, not retryable) a call whose
     * headers it reads after the shutdown began, though its GOAWAY has not
     * reached the client yet. With the workers parked nobody reads: the
     * shutdown and its GOAWAY come between two reads, every call read
     * before is served, and the client learns from the GOAWAY that the
     * calls after it were not taken (UNAVAILABLE, retried elsewhere).
     * Stop accepting first: the watcher may be inside a slow store probe
     * (an unreachable MongoDB), and joining it must not keep the listener
     * open for that long. */
    park_workers(srv);
    atomic_store(&srv->shutting_down, true);
    zombie_refuse_begin();
    grpc_server_shutdown_and_notify(srv->server, srv->workers[0].cq, &srv->shutdown_tag);
    unpark_workers(srv);
    rt_watches_end(srv);
    pthread_join(srv->watcher, NULL);
    rt_watches_end(srv); /* a watch its last round held may still be open */
    int64_t limit = clock_monotonic_us() + (int64_t)grace_ms * 1000;
    int64_t calls_done_at = 0; /* when no call of ours was left; 0: not yet */
    bool cancelled = false;
    while (!atomic_load(&srv->shutdown_done) || atomic_load(&srv->in_flight) > 0) {
        rt_idle_calls_end(srv); /* again each round: a stream may turn idle later */
        bool calls_done = atomic_load(&srv->in_flight) == 0 && atomic_load(&srv->armed) == 0;
        if (!calls_done)
            calls_done_at = 0;
        else if (!calls_done_at)
            calls_done_at = clock_monotonic_us();
        int64_t now = clock_monotonic_us();
        if (!cancelled && calls_done &&
            (now - calls_done_at > CONNECTIONS_CLOSE_MS * 1000LL || now > limit)) {
            /* No call of ours is left: every request armed has come back
             * (the unmatched ones fail at the shutdown; a matched one is in
             * flight from the moment it is taken off its queue), yet gRPC
             * core waits for every connection to close after its GOAWAY:
             * a client that never reads keeps one open for ever. Close them
             * now. Cancelling while a matched call still waited in a queue
             * ended it CANCELLED; cancelling as soon as the last call's
             * status was handed to core dropped that status unwritten (the
             * client saw UNAVAILABLE "Socket closed" for a write that was
             * made), hence the wait of CONNECTIONS_CLOSE_MS. */
            grpc_server_cancel_all_calls(srv->server);
            cancelled = true;
        }
        if (!cancelled && now > limit) {
            log_line l;
            log_begin(&l, LOG_WARN, "grace period over; cancelling the calls still running");
            log_int(&l, "in_flight", atomic_load(&srv->in_flight));
            log_emit(&l);
            writes_end(srv);
            grpc_server_cancel_all_calls(srv->server);
            cancelled = true;
        }
        sleep_ms(5);
    }
    grpc_server_destroy(srv->server);
    zombie_refuse_end();
    queues_destroy(srv, true);
    pthread_mutex_destroy(&srv->watch_mu);
    pthread_mutex_destroy(&srv->park_mu);
    pthread_cond_destroy(&srv->park_cv);
    stream_slots_free(srv->streams);
    grpc_resource_quota_unref(srv->quota);
    auth_cache_free(srv->auth_cache);
    pool_free(srv->writers); /* idle: every call has finished */
    metrics_free(srv->metrics);
    free(srv->methods);
    free(srv);
    grpc_shutdown();
}
