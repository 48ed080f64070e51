/*
 * Prometheus counters: requests by route and status, one latency histogram, and whatever
 * gauges the caller adds when rendering. Counting is lock-free (atomics), so it never slows a
 * request; rendering reads the counters without stopping writers.
 */
#ifndef LX_SERVER_METRICS_H
#define LX_SERVER_METRICS_H

#include <stddef.h>
#include <stdint.h>

struct srv_metrics;
struct srv_router;

/* Creates counters for every route of r plus "static" and "unmatched". Returns NULL on OOM.
 * Free with srv_metrics_free. r is borrowed and must outlive the metrics. */
struct srv_metrics *srv_metrics_new(const struct srv_router *r);
void srv_metrics_free(struct srv_metrics *m);

#define SRV_METRICS_STATIC    (-2) /* route index for static files */
#define SRV_METRICS_UNMATCHED (-1) /* route index for paths no route matched */

/* Counts one request of route (index in the router, or one of the two above). */
void srv_metrics_observe(struct srv_metrics *m, int route, unsigned status, uint64_t micros);

/* Appends the exposition text to a new string (*out, free with free()). Returns 0 or -1. */
int srv_metrics_render(struct srv_metrics *m, char **out, size_t *len);

#endif
