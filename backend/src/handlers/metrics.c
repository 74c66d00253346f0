/* GET /metrics: the Prometheus text format 0.0.4 of this process's
 * counters, summed over its loop threads (each thread writes its own; the
 * scrape only reads), after the readiness checks (flow/ready), whose
 * outcome is reported too. One collector per concern, in a table. */
#include "handlers/handlers.h"
#include "app.h"
#include "flow/ready.h"
#include "flow/stats.h"
#include "handlers/metrics.h"
#include "metrics/expo.h"

#include <stdlib.h>
#include <string.h>

#define L(...) (metrics_label_t[]){__VA_ARGS__}, sizeof((metrics_label_t[]){__VA_ARGS__}) / sizeof(metrics_label_t)

static const char *const status_classes[5] = {"1xx", "2xx", "3xx", "4xx", "5xx"};

/* The label of route slot i. */
static const char *route_name(size_t i)
{
    return i < server_route_count() ? server_route_path(i) : "unmatched";
}

/* Responses of one route, method and status class, summed over threads. */
static uint64_t responses(app_t *app, size_t route, size_t m, size_t c)
{
    uint64_t n = 0;
    for (unsigned i = 0; i < app->cfg.threads; i++)
        n += metrics_get(&app->threads[i].http.responses[route][m][c]);
    return n;
}

/* Requests by route template, method and status class: every pair a route
 * serves is written (0 included, so rates start at its first request), any
 * other only once it happened (405s, unmatched paths). */
static void collect_requests(metrics_out_t *o, app_t *app, const flow_stats_t *s)
{
    metrics_family(o, "catalog_http_requests_total", "counter",
                   "Answered requests by route template, method and status class (the backend's own answers; h2o's plain-text "
                   "400/413 for a malformed request are not counted).");
    for (size_t route = 0; route < RESPOND_ROUTE_SLOTS; route++) {
        if (route < RESPOND_ROUTE_UNMATCHED && route >= server_route_count())
            continue;
        for (size_t m = 0; m < RESPOND_METHOD_SLOTS; m++) {
            int served = route < server_route_count() && m != 1 && server_route_serves(route, respond_method_names[m]);
            for (size_t c = 0; c < 5; c++) {
                uint64_t n = responses(app, route, m, c);
                if (n == 0 && !(served && c != 0 && c != 2))
                    continue;
                metrics_sample_u64(
                    o, "catalog_http_requests_total",
                    L({"route", route_name(route)}, {"method", respond_method_names[m]}, {"status_class", status_classes[c]}), n);
            }
        }
    }
}

/* Durations by route template, and what is open now. */
static void collect_durations(metrics_out_t *o, app_t *app, const flow_stats_t *s)
{
    metrics_family(o, "catalog_http_request_duration_seconds", "histogram",
                   "Time from the request's arrival at the backend to its answer, by route template.");
    for (size_t route = 0; route < RESPOND_ROUTE_SLOTS; route++) {
        metrics_hist_sum_t h;
        memset(&h, 0, sizeof(h));
        for (unsigned i = 0; i < app->cfg.threads; i++)
            metrics_hist_sum(&h, &app->threads[i].http.duration[route]);
        if (route >= server_route_count() && metrics_hist_count(&h) == 0)
            continue;
        metrics_histogram(o, "catalog_http_request_duration_seconds", L({"route", route_name(route)}), &h);
    }
    metrics_family(o, "catalog_http_requests_in_flight", "gauge", "Requests received and not yet finished.");
    metrics_sample(o, "catalog_http_requests_in_flight", NULL, 0, (double)s->inflight);
    metrics_family(o, "catalog_http_open_connections", "gauge", "Client connections open (nginx keeps idle ones).");
    metrics_sample(o, "catalog_http_open_connections", NULL, 0, (double)s->open_conns);
}

/* One row per cache layer and outcome: where its per-thread counter is. */
static const struct {
    const char *layer, *outcome;
    size_t offset; /* in app_stats_t */
} cache_rows[] = {
    {"local", "hit", offsetof(app_stats_t, cache_hits_local)}, {"redis", "hit", offsetof(app_stats_t, cache_hits)},
    {"redis", "miss", offsetof(app_stats_t, cache_misses)},    {"redis", "bypass", offsetof(app_stats_t, cache_bypass)},
    {"memory", "hit", offsetof(app_stats_t, memory_hits)},     {"memory", "miss", offsetof(app_stats_t, memory_misses)},
};

/* A counter of app_stats_t (at offset) summed over threads. */
static uint64_t stat_sum(app_t *app, size_t offset)
{
    uint64_t n = 0;
    for (unsigned i = 0; i < app->cfg.threads; i++)
        n += metrics_get((const metrics_counter_t *)((const char *)&app->threads[i].stats + offset));
    return n;
}

/* Cache outcomes by layer, single-flight roles, invalidation trouble. */
static void collect_cache(metrics_out_t *o, app_t *app, const flow_stats_t *s)
{
    metrics_family(o, "catalog_cache_lookups_total", "counter",
                   "Reads by cache layer and outcome: redis (hit, miss, bypass: served around Redis), then for a list or "
                   "categories miss the in-memory catalogue (hit, or miss: MongoDB answered).");
    for (size_t i = 0; i < sizeof(cache_rows) / sizeof(cache_rows[0]); i++)
        metrics_sample_u64(o, "catalog_cache_lookups_total", L({"layer", cache_rows[i].layer}, {"outcome", cache_rows[i].outcome}),
                           stat_sum(app, cache_rows[i].offset));
    metrics_family(o, "catalog_flight_leaders_total", "counter", "Reads that started the one MongoDB job for their key.");
    metrics_sample_u64(o, "catalog_flight_leaders_total", NULL, 0, s->flight_leaders);
    metrics_family(o, "catalog_flight_joiners_total", "counter", "Reads that waited for another read's MongoDB job.");
    metrics_sample_u64(o, "catalog_flight_joiners_total", NULL, 0, s->flight_joiners);
    metrics_family(o, "catalog_flights_in_progress", "gauge", "MongoDB jobs of reads in the air, one per key.");
    metrics_sample(o, "catalog_flights_in_progress", NULL, 0, (double)flight_count(app->flights));
    metrics_family(
        o, "catalog_cache_floor_raises_total", "counter",
        "Floors Redis confirmed (after a reconnection, or settling a deferred invalidation): every cached product retired.");
    metrics_sample_u64(o, "catalog_cache_floor_raises_total", NULL, 0, s->floor_raises);
    metrics_family(o, "catalog_cache_invalidations_deferred_total", "counter",
                   "Writes whose invalidation Redis could not take at once (retried; reads bypass Redis meanwhile).");
    metrics_sample_u64(o, "catalog_cache_invalidations_deferred_total", NULL, 0, s->invalidations_deferred);
}

/* The Redis connections of the loop threads. */
static void collect_redis(metrics_out_t *o, app_t *app, const flow_stats_t *s)
{
    metrics_family(o, "catalog_loop_threads", "gauge", "Event-loop threads, each with its own Redis connection.");
    metrics_sample(o, "catalog_loop_threads", NULL, 0, app->cfg.threads);
    metrics_family(o, "catalog_redis_connections_ready", "gauge", "Loop threads whose Redis connection is up and ready.");
    metrics_sample(o, "catalog_redis_connections_ready", NULL, 0, (double)s->redis_ready);
    metrics_family(o, "catalog_redis_reconnects_total", "counter", "Redis connections made ready again after one was lost.");
    metrics_sample_u64(o, "catalog_redis_reconnects_total", NULL, 0, s->redis_reconnects);
    metrics_family(o, "catalog_redis_command_timeouts_total", "counter",
                   "Redis commands not answered within REDIS_TIMEOUT_MS (served from MongoDB; the connection stays).");
    metrics_sample_u64(o, "catalog_redis_command_timeouts_total", NULL, 0, s->redis_late);
    metrics_family(o, "catalog_redis_connections_dropped_total", "counter",
                   "Redis connections given up because a reply was missing for REDIS_DEAD_MS.");
    metrics_sample_u64(o, "catalog_redis_connections_dropped_total", NULL, 0, s->redis_drops);
}

/* Sign-ins by outcome, writes by kind and result. */
static void collect_auth_writes(metrics_out_t *o, app_t *app, const flow_stats_t *s)
{
    metrics_family(o, "catalog_login_attempts_total", "counter",
                   "Sign-ins by outcome: ok, wrong (user or password), locked (too many failures), crowded, busy, unavailable.");
    for (size_t r = 0; r < FLOW_LOGIN_RESULTS; r++) {
        uint64_t n = 0;
        for (unsigned i = 0; i < app->cfg.threads; i++)
            n += metrics_get(&app->threads[i].login.results[r]);
        metrics_sample_u64(o, "catalog_login_attempts_total", L({"result", flow_login_result_names[r]}), n);
    }
    metrics_family(o, "catalog_writes_total", "counter", "Settled product writes by kind and result.");
    for (size_t k = 0; k < WRITE_KINDS; k++)
        for (size_t r = 0; r < WRITE_RESULTS; r++) {
            uint64_t n = 0;
            for (unsigned i = 0; i < app->cfg.threads; i++)
                n += metrics_get(&app->threads[i].write.outcomes[k][r]);
            metrics_sample_u64(o, "catalog_writes_total",
                               L({"kind", flow_write_kind_names[k]}, {"result", flow_write_result_names[r]}), n);
        }
}

/* The MongoDB worker pools: reads and writes ("store"), sign-ins ("login"). */
static void collect_store(metrics_out_t *o, app_t *app, const flow_stats_t *s)
{
    mongo_pool_stats_t p[2];
    mongo_pool_stats(app->store, &p[0]);
    mongo_pool_stats(app->login_store, &p[1]);
    static const char *const names[2] = {"store", "login"};
    static const struct {
        const char *name, *type, *help;
    } fam[] = {
        {"catalog_store_queue_depth", "gauge", "Jobs queued for a worker and not started."},
        {"catalog_store_queue_capacity", "gauge", "Jobs the queue holds before submissions are refused (503)."},
        {"catalog_store_workers", "gauge", "Worker threads of the pool."},
        {"catalog_store_jobs_rejected_total", "counter", "Jobs refused because the queue was full (answered 503)."},
        {"catalog_store_jobs_expired_total", "counter",
         "Jobs not run: their deadline passed in the queue, or no connection came in time."},
    };
    for (size_t f = 0; f < sizeof(fam) / sizeof(fam[0]); f++) {
        metrics_family(o, fam[f].name, fam[f].type, fam[f].help);
        for (size_t i = 0; i < 2; i++) {
            uint64_t v[] = {p[i].depth, p[i].capacity, p[i].workers, p[i].rejected, p[i].expired};
            metrics_sample_u64(o, fam[f].name, L({"pool", names[i]}), v[f]);
        }
    }
    metrics_family(o, "catalog_store_job_duration_seconds", "histogram",
                   "Time a worker spent on one job (its connection taken, its work).");
    for (size_t i = 0; i < 2; i++)
        metrics_histogram(o, "catalog_store_job_duration_seconds", L({"pool", names[i]}), &p[i].run);
}

/* The in-memory catalogue (store/mirror), when it is on, and the store's
 * whole-collection queries it saves. */
static void collect_catalogue(metrics_out_t *o, app_t *app, const flow_stats_t *s)
{
    metrics_family(o, "catalog_store_collection_passes_total", "counter",
                   "Queries of list and categories jobs that read the whole collection (count, sorted find, $group).");
    metrics_sample_u64(o, "catalog_store_collection_passes_total", NULL, 0, s->store_passes);
    if (app->mirror == NULL)
        return;
    mirror_stats_t ms;
    mirror_stats(app->mirror, &ms);
    static const struct {
        const char *name, *type, *help;
    } fam[] = {
        {"catalog_catalogue_products", "gauge", "Products in the in-memory catalogue."},
        {"catalog_catalogue_bytes", "gauge", "Bytes the in-memory catalogue holds."},
        {"catalog_catalogue_age_seconds", "gauge", "Time since the in-memory catalogue's last full scan."},
        {"catalog_catalogue_too_large", "gauge", "1 when the catalogue has more products than the in-memory one may hold."},
        {"catalog_catalogue_scans_total", "counter", "Full scans of the products collection into memory."},
        {"catalog_catalogue_catch_ups_total", "counter", "Catch-ups from Redis's change stream."},
        {"catalog_catalogue_point_reads_total", "counter", "Products read again one by one after a change."},
    };
    double v[] = {(double)ms.items, (double)ms.bytes,   (double)ms.age_ms / 1000, ms.too_large,
                  (double)ms.scans, (double)ms.patches, (double)ms.point_reads};
    for (size_t f = 0; f < sizeof(fam) / sizeof(fam[0]); f++) {
        metrics_family(o, fam[f].name, fam[f].type, fam[f].help);
        metrics_sample(o, fam[f].name, NULL, 0, v[f]);
    }
}

/* The change feed (flow/feed): its streams and the process's reader of
 * the change stream. */
static void collect_feed(metrics_out_t *o, app_t *app, const flow_stats_t *s)
{
    flow_feed_stats_t fs;
    flow_feed_stats(app, &fs);
    static const struct {
        const char *name, *type, *help;
    } fam[] = {
        {"catalog_feed_streams", "gauge", "Change feed streams open (GET /api/changes), at most SSE_MAX_CLIENTS."},
        {"catalog_feed_streams_live", "gauge", "Change feed streams past their replay, following the live events."},
        {"catalog_feed_events_sent_total", "counter", "Events queued to change feed streams (replays included)."},
        {"catalog_feed_streams_closed_slow_total", "counter", "Streams closed because their unsent output passed SSE_BUFFER_MAX."},
        {"catalog_feed_reader_up", "gauge", "1 while this process's reader of the change stream is reading."},
        {"catalog_feed_reader_entries_total", "counter", "Change stream entries this process's reader read."},
        {"catalog_feed_reader_restarts_total", "counter",
         "Times the reader found its place gone on a reconnection (a reset sent)."},
    };
    double v[] = {(double)fs.clients,  (double)fs.live, (double)fs.sent,    (double)fs.cut_slow,
                  fs.reader_connected, (double)fs.read, (double)fs.restarts};
    for (size_t f = 0; f < sizeof(fam) / sizeof(fam[0]); f++) {
        metrics_family(o, fam[f].name, fam[f].type, fam[f].help);
        metrics_sample(o, fam[f].name, NULL, 0, v[f]);
    }
}

/* Process figures (RSS, fds, CPU, start time). */
static void collect_process(metrics_out_t *o, app_t *app, const flow_stats_t *s)
{
    metrics_collect_process(o, app);
}

/* The collectors, in the order of the output; s: the threads' counters,
 * summed once per scrape (every family reads the same instant). */
static void (*const collectors[])(metrics_out_t *, app_t *, const flow_stats_t *) = {
    collect_requests, collect_durations,   collect_cache, collect_catalogue, collect_feed,
    collect_redis,    collect_auth_writes, collect_store, collect_process,
};

/* The readiness checks settled: every family, then the answer. */
static void answer_metrics(request_t *r, const flow_ready_check_t *redis, const flow_ready_check_t *mongo)
{
    app_t *app = r->thread->app;
    metrics_out_t o = {NULL, 0, 0};
    flow_stats_t s;
    flow_stats_sum(app, &s);
    for (size_t i = 0; i < sizeof(collectors) / sizeof(collectors[0]); i++)
        collectors[i](&o, app, &s);
    metrics_collect_ready(&o, redis, mongo);
    h2o_add_header(&r->req->pool, &r->req->res.headers, H2O_TOKEN_CACHE_CONTROL, NULL, H2O_STRLIT("no-store"));
    respond_body(r, 200, METRICS_CONTENT_TYPE, NULL, 0, o.buf, o.len);
    free(o.buf);
}

/* GET /metrics: readiness first (time-boxed by HEALTH_TIMEOUT_MS), then the text. */
static void metrics_get_route(request_t *r, h2o_iovec_t param)
{
    if (handlers_reject_query(r))
        return;
    flow_ready_start(r, answer_metrics);
}

const server_route_t metrics_routes[] = {
    {"GET", "/metrics", metrics_get_route},
    {NULL, NULL, NULL},
};
