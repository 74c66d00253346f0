/* The process and its loop threads: the shared, read-mostly app_t and one
 * app_thread_t per event loop (no globals on the request path: handlers
 * reach both through the request's h2o context). */
#ifndef CATALOG_APP_H
#define CATALOG_APP_H

#include <h2o.h>
#include <stdatomic.h>
#include <stdint.h>
#include <time.h>

#include "cache/cache.h"
#include "cache/flight.h"
#include "cache/local.h"
#include "config.h"
#include "store/mongo_pool.h"

typedef struct app_thread app_thread_t;

#include "flow/authorize.h"
#include "flow/catalogue.h"
#include "flow/feed.h"
#include "flow/login.h"
#include "flow/read.h"
#include "flow/ready.h"
#include "flow/stats.h"
#include "flow/write.h"
#include "metrics/metrics.h"

/* Counters of one loop thread's reads and jobs: written by their thread
 * only (metrics_add: no lock), summed by /metrics and /api/stats. The
 * responses themselves are counted by server/respond (t->http). */
typedef struct {
    metrics_counter_t cache_hits;       /* the Redis layer's outcomes (hits answered by Redis) */
    metrics_counter_t cache_hits_local; /* hits the in-process cache answered (Redis not asked) */
    metrics_counter_t cache_misses;
    metrics_counter_t cache_bypass;
    metrics_counter_t memory_hits;    /* list and categories misses answered by the in-memory catalogue */
    metrics_counter_t memory_misses;  /* those the store answered (the catalogue could not) */
    metrics_counter_t flight_leaders; /* reads that started a store job for their key */
    metrics_counter_t flight_joiners; /* reads that waited for another read's job */
    metrics_counter_t store_jobs;     /* jobs submitted by this thread (one per flight) */
    metrics_counter_t store_errors;   /* jobs that failed or expired */
    metrics_counter_t store_rejected; /* queue full: 503 */
    metrics_counter_t store_passes;   /* whole-collection queries of list and categories jobs (not the mirror's scans) */
    metrics_counter_t login_jobs;     /* password checks submitted to the login pool */
} app_stats_t;

typedef struct app app_t;

/* Aligned to a cache line (allocated with xcalloc_aligned): no two loop
 * threads write the same line. */
typedef struct app_thread {
    _Alignas(64) app_t *app;
    unsigned index;
    h2o_context_t ctx;
    h2o_accept_ctx_t accept_ctx;
    int listen_fd;
    h2o_socket_t *listener;
    h2o_multithread_receiver_t jobs_receiver;    /* completions of every store job this thread submitted (job->done) */
    h2o_multithread_receiver_t control_receiver; /* drain */
    h2o_multithread_message_t drain_msg;
    cache_t *cache;
    metrics_gauge_t inflight; /* requests received and not yet disposed (read by main at exit, and /metrics) */
    h2o_linklist_t conns;     /* server_conn_t of the open client connections */
    int draining;
    _Atomic int drained;
    uint64_t rand_state;
    app_stats_t stats;
    respond_stats_t http; /* responses by route, method and status class; durations; connections */
    /* each flow's own per-thread state */
    flow_read_thread_t read;
    flow_ready_thread_t ready;
    flow_write_thread_t write;
    flow_authorize_thread_t authorize;
    flow_login_thread_t login;
    flow_stats_thread_t publish; /* thread 0: this process's counters into Redis every second */
    flow_catalogue_thread_t catalogue;
    flow_feed_thread_t feed;
} app_thread_t;

struct app {
    config_t cfg;
    h2o_globalconf_t h2o;
    app_thread_t *threads;
    mongo_pool_t *store;
    mirror_t *mirror;           /* lists and categories in memory; NULL when MIRROR_MAX_PRODUCTS is 0 */
    mongo_pool_t *mirror_store; /* one thread for its keeper's scans and catch-ups */
    mongo_pool_t *login_store;  /* sign-ins: user lookup + Argon2id, on threads of their own at low CPU priority */
    flight_table_t *flights;
    local_t *local; /* the in-process cache; NULL when L1_BYTES is 0 */
    cache_shared_t cache_shared;
    flow_feed_shared_t feed;
    _Atomic unsigned logins_running; /* sign-ins past parsing, not yet answered (bounded by LOGIN_QUEUE_MAX + LOGIN_WORKERS) */
    char *openapi_json;              /* the spec, converted once at start-up */
    size_t openapi_json_len;
    time_t started_at;
    char instance[96];       /* "<host name>:<port>": this process's field in the deployment's stats hash */
    pthread_barrier_t ready; /* app_start returns once every loop can take messages */
};

/* Adds n to a counter of thread; only on thread's own loop. */
#define APP_STAT_ADD(thread, field, n) metrics_add(&(thread)->stats.field, (n))

/* Takes the next message off a receiver's list, or returns NULL when it is
 * empty (a receiver must handle every message it is given). */
static inline h2o_multithread_message_t *app_next_message(h2o_linklist_t *messages)
{
    if (h2o_linklist_is_empty(messages))
        return NULL;
    h2o_multithread_message_t *msg = H2O_STRUCT_FROM_MEMBER(h2o_multithread_message_t, link, messages->next);
    h2o_linklist_unlink(&msg->link);
    return msg;
}

/* The loop thread that serves req. */
static inline app_thread_t *app_thread_of(h2o_req_t *req)
{
    return H2O_STRUCT_FROM_MEMBER(app_thread_t, ctx, req->conn->ctx);
}

/* Starts the loop threads on their listeners and returns; app->threads
 * must have listen_fd set. Returns 0 or -1 (message on stderr). */
int app_start(app_t *app);

/* Asks every loop to stop accepting and finish in-flight requests, then
 * waits up to timeout_ms for them. Returns 1 when all drained in time. */
int app_drain(app_t *app, unsigned timeout_ms);

#endif
