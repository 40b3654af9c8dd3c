/* metrics.c — see metrics.h. Counters are relaxed atomics bumped by the
 * threads that answer calls; the text is built on demand, so a scrape
 * costs the scraper's thread and nothing on the calls' path. */
#include "metrics.h"

#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "latency.h"
#include "runtime_internal.h"

#define CODES 17 /* gRPC status codes 0..16 */

static const char *const protocol_label[METRICS_PROTOCOLS] = {"grpc", "connect", "grpc-web"};

struct api_metrics {
    size_t n_methods, n_shards;
    /* [shard][method][protocol][code], methods n_methods + 1 */
    atomic_uint_least64_t *calls;
    latency_histogram *latency; /* [shard][method] */
};

api_metrics *metrics_new(size_t n_methods, size_t n_shards)
{
    api_metrics *m = calloc(1, sizeof *m);
    if (!m)
        return NULL;
    m->n_methods = n_methods;
    m->n_shards = n_shards ? n_shards : 1;
    m->calls = calloc(m->n_shards * (n_methods + 1) * METRICS_PROTOCOLS * CODES, sizeof *m->calls);
    m->latency = calloc(m->n_shards * (n_methods + 1), sizeof *m->latency);
    if (!m->calls || !m->latency) {
        metrics_free(m);
        return NULL;
    }
    return m;
}

void metrics_free(api_metrics *m)
{
    if (!m)
        return;
    free(m->calls);
    free(m->latency);
    free(m);
}

static atomic_uint_least64_t *calls_at(api_metrics *m, size_t shard, size_t method, int p, int code)
{
    size_t row = shard * (m->n_methods + 1) + method;
    return &m->calls[(row * METRICS_PROTOCOLS + (size_t)p) * CODES + (size_t)code];
}

static latency_histogram *latency_at(api_metrics *m, size_t shard, size_t method)
{
    return &m->latency[shard * (m->n_methods + 1) + method];
}

void metrics_record(api_metrics *m, size_t shard, size_t method, metrics_protocol p,
                    status_code code, int64_t duration_us)
{
    if (!m)
        return;
    if (method > m->n_methods)
        method = m->n_methods;
    if (shard >= m->n_shards)
        shard = m->n_shards - 1;
    int c = (int)code >= 0 && (int)code < CODES ? (int)code : 2 /* UNKNOWN */;
    atomic_fetch_add_explicit(calls_at(m, shard, method, (int)p, c), 1, memory_order_relaxed);
    latency_record(latency_at(m, shard, method), duration_us);
}

/* A method's histogram summed over the shards, into out. */
static void latency_sum(api_metrics *m, size_t method, latency_histogram *out)
{
    memset(out, 0, sizeof *out);
    for (size_t sh = 0; sh < m->n_shards; sh++) {
        const latency_histogram *h = latency_at(m, sh, method);
        for (int b = 0; b <= LATENCY_BOUNDS; b++)
            atomic_fetch_add_explicit(&out->bucket[b],
                                      atomic_load_explicit(&h->bucket[b], memory_order_relaxed),
                                      memory_order_relaxed);
        atomic_fetch_add_explicit(&out->sum_us,
                                  atomic_load_explicit(&h->sum_us, memory_order_relaxed),
                                  memory_order_relaxed);
    }
}

/* ---- the text ---- */

typedef struct text {
    char *buf;
    size_t len, cap;
    bool failed;
} text;

static void put(text *t, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void put(text *t, const char *fmt, ...)
{
    if (t->failed)
        return;
    for (;;) {
        va_list ap;
        va_start(ap, fmt);
        int n = vsnprintf(t->buf + t->len, t->cap - t->len, fmt, ap);
        va_end(ap);
        if (n < 0) {
            t->failed = true;
            return;
        }
        if ((size_t)n < t->cap - t->len) {
            t->len += (size_t)n;
            return;
        }
        size_t cap = t->cap * 2 + (size_t)n;
        char *grown = realloc(t->buf, cap);
        if (!grown) {
            t->failed = true;
            return;
        }
        t->buf = grown;
        t->cap = cap;
    }
}

static const char *method_label(const api_server *srv, size_t i)
{
    return i < srv->n_methods ? srv->methods[i].path : "unknown";
}

/* A histogram's series for one label set (labels: `name="value"` pairs,
 * comma-separated, without braces). */
static void put_histogram(text *t, const char *name, const char *labels, const latency_histogram *h)
{
    uint64_t cumulative = 0;
    for (int b = 0; b <= LATENCY_BOUNDS; b++) {
        cumulative += atomic_load_explicit(&h->bucket[b], memory_order_relaxed);
        if (b < LATENCY_BOUNDS)
            put(t, "%s_bucket{%s,le=\"%g\"} %llu\n", name, labels, latency_bound_us[b] / 1e6,
                (unsigned long long)cumulative);
        else
            put(t, "%s_bucket{%s,le=\"+Inf\"} %llu\n", name, labels,
                (unsigned long long)cumulative);
    }
    put(t, "%s_sum{%s} %.6f\n", name, labels,
        (double)atomic_load_explicit(&h->sum_us, memory_order_relaxed) / 1e6);
    put(t, "%s_count{%s} %llu\n", name, labels, (unsigned long long)cumulative);
}

static uint64_t histogram_count(const latency_histogram *h)
{
    uint64_t n = 0;
    for (int b = 0; b <= LATENCY_BOUNDS; b++)
        n += atomic_load_explicit(&h->bucket[b], memory_order_relaxed);
    return n;
}

char *metrics_render(api_server *srv, size_t *len)
{
    api_metrics *m = srv->metrics;
    text t = {.cap = 16384};
    t.buf = malloc(t.cap);
    if (!t.buf)
        return NULL;
    put(&t, "# HELP supplysec_calls_total Calls answered, by method, protocol and status code.\n"
            "# TYPE supplysec_calls_total counter\n");
    for (size_t i = 0; i <= m->n_methods; i++)
        for (int p = 0; p < METRICS_PROTOCOLS; p++)
            for (int c = 0; c < CODES; c++) {
                uint64_t n = 0;
                for (size_t sh = 0; sh < m->n_shards; sh++)
                    n += atomic_load_explicit(calls_at(m, sh, i, p, c), memory_order_relaxed);
                if (n)
                    put(&t,
                        "supplysec_calls_total{method=\"%s\",protocol=\"%s\",code=\"%s\"} %llu\n",
                        method_label(srv, i), protocol_label[p], status_code_name((status_code)c),
                        (unsigned long long)n);
            }
    put(&t, "# HELP supplysec_call_duration_seconds How long calls took, from their arrival to "
            "their answer, by method.\n"
            "# TYPE supplysec_call_duration_seconds histogram\n");
    for (size_t i = 0; i <= m->n_methods; i++) {
        latency_histogram sum;
        latency_sum(m, i, &sum);
        if (!histogram_count(&sum))
            continue;
        char labels[320];
        snprintf(labels, sizeof labels, "method=\"%s\"", method_label(srv, i));
        put_histogram(&t, "supplysec_call_duration_seconds", labels, &sum);
    }
    put(&t,
        "# HELP supplysec_calls_in_flight Calls accepted and not yet answered, both listeners.\n"
        "# TYPE supplysec_calls_in_flight gauge\n"
        "supplysec_calls_in_flight %d\n",
        atomic_load(&srv->in_flight));
    const latency_histogram *reads, *writes;
    store_latencies(srv->store, &reads, &writes);
    put(&t, "# HELP supplysec_store_duration_seconds How long the store took: reads (gets, "
            "lists, audit pages) and batches of writes (one transaction each).\n"
            "# TYPE supplysec_store_duration_seconds histogram\n");
    put_histogram(&t, "supplysec_store_duration_seconds", "operation=\"read\"", reads);
    put_histogram(&t, "supplysec_store_duration_seconds", "operation=\"write\"", writes);
    put(&t,
        "# HELP supplysec_store_up 1 while the store can do its work (as Health.Check says), "
        "else 0.\n"
        "# TYPE supplysec_store_up gauge\n"
        "supplysec_store_up %d\n",
        store_health(srv->store, NULL, 0) == STORE_OK);
    if (t.failed) {
        free(t.buf);
        return NULL;
    }
    *len = t.len;
    return t.buf;
}
