/* Request counters and latency histogram in Prometheus text format 0.0.4. */
#include "metrics.h"
#include "router.h"

#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Statuses get fixed slots so counting is an index, not a search; the rest share "other". */
static const unsigned statuses[] = {200, 201, 204, 206, 304, 400, 401, 403, 404,
                                    405, 409, 413, 415, 422, 429, 500, 503};
#define N_STATUS (sizeof(statuses) / sizeof(statuses[0]) + 1)

/* Upper bounds in microseconds, from 0.25 ms to 10 s. */
static const uint64_t bounds_us[] = {250,   500,    1000,   2500,   5000,    10000,   25000,
                                     50000, 100000, 250000, 500000, 1000000, 2500000, 10000000};
#define N_BUCKET (sizeof(bounds_us) / sizeof(bounds_us[0]))

struct srv_metrics {
    const struct srv_router *router; /* borrowed, for route labels */
    size_t n_routes;                 /* router routes + static + unmatched */
    atomic_ullong *counts;           /* n_routes * N_STATUS */
    atomic_ullong buckets[N_BUCKET]; /* cumulative at render time, per bucket here */
    atomic_ullong over;              /* slower than the last bound */
    atomic_ullong sum_us;            /* total latency */
    atomic_ullong total;             /* requests observed */
};

struct srv_metrics *srv_metrics_new(const struct srv_router *r)
{
    struct srv_metrics *m = calloc(1, sizeof(*m));

    if (m == NULL)
        return NULL;
    m->router = r;
    m->n_routes = r->n + 2;
    m->counts = calloc(m->n_routes * N_STATUS, sizeof(*m->counts));
    if (m->counts == NULL) {
        free(m);
        return NULL;
    }
    return m;
}

void srv_metrics_free(struct srv_metrics *m)
{
    if (m == NULL)
        return;
    free(m->counts);
    free(m);
}

static size_t status_slot(unsigned status)
{
    for (size_t i = 0; i < N_STATUS - 1; i++)
        if (statuses[i] == status)
            return i;
    return N_STATUS - 1;
}

void srv_metrics_observe(struct srv_metrics *m, int route, unsigned status, uint64_t micros)
{
    size_t r = (size_t)(route + 2); /* -2 static -> 0, -1 unmatched -> 1, routes from 2 */
    size_t b;

    if (r >= m->n_routes)
        r = 1;
    atomic_fetch_add_explicit(&m->counts[r * N_STATUS + status_slot(status)], 1,
                              memory_order_relaxed);
    for (b = 0; b < N_BUCKET && micros > bounds_us[b]; b++)
        ;
    if (b < N_BUCKET)
        atomic_fetch_add_explicit(&m->buckets[b], 1, memory_order_relaxed);
    else
        atomic_fetch_add_explicit(&m->over, 1, memory_order_relaxed);
    atomic_fetch_add_explicit(&m->sum_us, micros, memory_order_relaxed);
    atomic_fetch_add_explicit(&m->total, 1, memory_order_relaxed);
}

struct buf {
    char *p;
    size_t len, cap;
    int failed;
};

static void bprintf(struct buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void bprintf(struct buf *b, const char *fmt, ...)
{
    va_list ap;
    int n;

    if (b->failed)
        return;
    for (;;) {
        va_start(ap, fmt);
        n = vsnprintf(b->p + b->len, b->cap - b->len, fmt, ap);
        va_end(ap);
        if (n < 0) {
            b->failed = 1;
            return;
        }
        if ((size_t)n < b->cap - b->len) {
            b->len += (size_t)n;
            return;
        }
        char *np = realloc(b->p, b->cap * 2 + (size_t)n);
        if (np == NULL) {
            b->failed = 1;
            return;
        }
        b->p = np;
        b->cap = b->cap * 2 + (size_t)n;
    }
}

static const char *route_label(const struct srv_metrics *m, size_t r, char *method)
{
    if (r == 0) {
        strcpy(method, "GET");
        return "static";
    }
    if (r == 1) {
        strcpy(method, "any");
        return "unmatched";
    }
    strcpy(method, m->router->routes[r - 2]->method);
    return m->router->routes[r - 2]->pattern;
}

static void render_requests(struct srv_metrics *m, struct buf *b)
{
    bprintf(b, "# HELP lianxin_http_requests_total HTTP requests by route and status.\n"
               "# TYPE lianxin_http_requests_total counter\n");
    for (size_t r = 0; r < m->n_routes; r++) {
        for (size_t s = 0; s < N_STATUS; s++) {
            unsigned long long v =
                atomic_load_explicit(&m->counts[r * N_STATUS + s], memory_order_relaxed);
            char method[8];
            const char *route;

            if (v == 0)
                continue;
            route = route_label(m, r, method);
            if (s < N_STATUS - 1)
                bprintf(
                    b,
                    "lianxin_http_requests_total{method=\"%s\",route=\"%s\",status=\"%u\"} %llu\n",
                    method, route, statuses[s], v);
            else
                bprintf(b,
                        "lianxin_http_requests_total{method=\"%s\",route=\"%s\",status=\"other\"} "
                        "%llu\n",
                        method, route, v);
        }
    }
}

static void render_latency(struct srv_metrics *m, struct buf *b)
{
    unsigned long long cum = 0;

    bprintf(b, "# HELP lianxin_http_request_duration_seconds Time from first byte to last.\n"
               "# TYPE lianxin_http_request_duration_seconds histogram\n");
    for (size_t i = 0; i < N_BUCKET; i++) {
        cum += atomic_load_explicit(&m->buckets[i], memory_order_relaxed);
        bprintf(b, "lianxin_http_request_duration_seconds_bucket{le=\"%g\"} %llu\n",
                (double)bounds_us[i] / 1e6, cum);
    }
    cum += atomic_load_explicit(&m->over, memory_order_relaxed);
    bprintf(b, "lianxin_http_request_duration_seconds_bucket{le=\"+Inf\"} %llu\n", cum);
    bprintf(b, "lianxin_http_request_duration_seconds_sum %.6f\n",
            (double)atomic_load_explicit(&m->sum_us, memory_order_relaxed) / 1e6);
    bprintf(b, "lianxin_http_request_duration_seconds_count %llu\n", cum);
}

int srv_metrics_render(struct srv_metrics *m, char **out, size_t *len)
{
    struct buf b = {malloc(4096), 0, 4096, 0};

    if (b.p == NULL)
        return -1;
    render_requests(m, &b);
    render_latency(m, &b);
    if (b.failed) {
        free(b.p);
        return -1;
    }
    *out = b.p;
    *len = b.len;
    return 0;
}
