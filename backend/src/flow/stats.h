/* The counters of this process, summed over its loop threads for /metrics
 * and /api/stats, and the deployment's: every second loop thread 0 writes
 * this process's into one Redis hash (field "<host>:<port>", value "<Redis
 * time in ms> <JSON>", no TTL, so never evicted), and a reader sums the
 * fields written in the last 3 s and deletes those older than 60 s (a
 * process that stopped; a drained one deletes its own). No KEYS or SCAN. */
#ifndef CATALOG_FLOW_STATS_H
#define CATALOG_FLOW_STATS_H

#include <h2o.h>
#include <stdint.h>

#include "server/respond.h"

typedef struct app app_t; /* app.h */

#define FLOW_STATS_KEY "{stats}:backends"
#define FLOW_STATS_FRESH_MS 3000
#define FLOW_STATS_PRUNE_MS 60000

/* This process's counters, summed over its loop threads. */
typedef struct {
    uint64_t responses[5]; /* by status class, 1xx..5xx */
    uint64_t requests;     /* answered */
    uint64_t latency_us_total;
    uint64_t cache_hits, cache_misses, cache_bypass; /* hits of either layer */
    uint64_t cache_hits_local;                       /* of which the in-process cache answered */
    uint64_t flight_leaders, flight_joiners;
    uint64_t store_jobs, store_errors, store_rejected, store_passes, login_jobs;
    uint64_t memory_hits, memory_misses;
    uint64_t redis_late, redis_drops, redis_reconnects, floor_raises, invalidations_deferred;
    int64_t redis_ready; /* loop threads whose Redis connection is ready */
    int64_t inflight, open_conns;
} flow_stats_t;

/* Sums the counters of every loop thread (any thread may call it). */
void flow_stats_sum(app_t *app, flow_stats_t *out);

/* The deployment's figures: the processes that wrote in the last
 * FLOW_STATS_FRESH_MS (fresh) of those in the hash (known), their summed
 * counters, and the longest uptime. */
typedef struct {
    unsigned fresh, known;
    uint64_t requests, responses_4xx, responses_5xx, latency_us_total;
    uint64_t cache_hits, cache_hits_local, cache_misses, cache_bypass, not_modified;
    int64_t uptime_s;
} flow_stats_deployment_t;

/* Called once on the loop while the request exists; d is NULL when Redis
 * could not answer. */
typedef void (*flow_stats_deployment_cb)(request_t *r, const flow_stats_deployment_t *d);

/* Reads the deployment's figures for r (pruning the hash); cb follows. */
void flow_stats_deployment(request_t *r, flow_stats_deployment_cb cb);

/* The publisher's per-thread state (used on loop thread 0 only). */
typedef struct {
    h2o_timeout_t every;
    h2o_timeout_entry_t tick;
} flow_stats_thread_t;

/* Starts publishing on t when it is loop thread 0. */
void flow_stats_init_thread(app_thread_t *t);

/* On a drain: stops publishing and deletes this process's field (the
 * drain waits for Redis's answer). */
void flow_stats_drain(app_thread_t *t);

#endif
