#include "handlers/handlers.h"
#include "clock.h"
#include "app.h"
#include "flow/stats.h"
#include "store/mongo_pool.h"

#include <cjson/cJSON.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The in-memory catalogue (store/mirror): what it holds and what it cost
 * the store; null when it is off. */
static void add_catalogue(cJSON *root, mirror_t *m)
{
    if (m == NULL) {
        cJSON_AddNullToObject(root, "catalogue");
        return;
    }
    mirror_stats_t ms;
    mirror_stats(m, &ms);
    cJSON *c = cJSON_AddObjectToObject(root, "catalogue");
    char gen[24];
    snprintf(gen, sizeof(gen), "%llu", (unsigned long long)ms.gen);
    cJSON_AddStringToObject(c, "generation", gen); /* a string: above 2^53 */
    cJSON_AddNumberToObject(c, "products", (double)ms.items);
    cJSON_AddNumberToObject(c, "bytes", (double)ms.bytes);
    cJSON_AddNumberToObject(c, "scans", (double)ms.scans);
    cJSON_AddNumberToObject(c, "last_scan_ms", (double)ms.scan_ms_last);
    cJSON_AddNumberToObject(c, "catch_ups", (double)ms.patches);
    cJSON_AddNumberToObject(c, "point_reads", (double)ms.point_reads);
    cJSON_AddNumberToObject(c, "age_s", (double)(ms.age_ms / 1000));
    cJSON_AddBoolToObject(c, "too_large", ms.too_large);
}

/* The change feed: its streams and the process's stream reader. */
static void add_feed(cJSON *root, app_t *app)
{
    flow_feed_stats_t fs;
    flow_feed_stats(app, &fs);
    cJSON *f = cJSON_AddObjectToObject(root, "feed");
    cJSON_AddNumberToObject(f, "clients", (double)fs.clients);
    cJSON_AddNumberToObject(f, "live", (double)fs.live);
    cJSON_AddNumberToObject(f, "events_sent", (double)fs.sent);
    cJSON_AddNumberToObject(f, "closed_slow", (double)fs.cut_slow);
    cJSON *r = cJSON_AddObjectToObject(f, "reader");
    cJSON_AddBoolToObject(r, "connected", fs.reader_connected);
    cJSON_AddNumberToObject(r, "events", (double)fs.read);
    cJSON_AddNumberToObject(r, "restarts", (double)fs.restarts);
    cJSON_AddNumberToObject(r, "epoch", (double)fs.epoch);
}

/* The in-process cache: whether it serves, and what it holds; null when
 * L1_BYTES is 0. */
static void add_local(cJSON *c, local_t *l)
{
    if (l == NULL) {
        cJSON_AddNullToObject(c, "local");
        return;
    }
    local_stats_t ls;
    local_stats(l, &ls);
    cJSON *o = cJSON_AddObjectToObject(c, "local");
    cJSON_AddBoolToObject(o, "tracking", ls.on);
    cJSON_AddNumberToObject(o, "entries", (double)ls.table.entries);
    cJSON_AddNumberToObject(o, "bytes", (double)ls.table.bytes);
    cJSON_AddNumberToObject(o, "max_bytes", (double)ls.table.max_bytes);
    cJSON_AddNumberToObject(o, "index_bytes", (double)ls.table.bucket_bytes);
    cJSON_AddNumberToObject(o, "evictions", (double)ls.table.evictions);
    cJSON_AddNumberToObject(o, "expired", (double)ls.table.expired);
    cJSON_AddNumberToObject(o, "fills_refused", (double)ls.table.refused);
    cJSON_AddNumberToObject(o, "flushes", (double)ls.flushes);
    cJSON_AddNumberToObject(o, "tracking_losses", (double)ls.losses);
    cJSON_AddNumberToObject(o, "lock_waits", (double)ls.lock_waits);
}

/* The deployment's figures (flow/stats.h) as the "deployment" member, or null. */
static void add_deployment(cJSON *root, const flow_stats_deployment_t *d)
{
    if (d == NULL) {
        cJSON_AddNullToObject(root, "deployment");
        return;
    }
    cJSON *o = cJSON_AddObjectToObject(root, "deployment");
    cJSON_AddNumberToObject(o, "backends", d->fresh);
    cJSON_AddNumberToObject(o, "backends_known", d->known > d->fresh ? d->known : d->fresh);
    cJSON_AddNumberToObject(o, "uptime_s", (double)d->uptime_s);
    cJSON_AddNumberToObject(o, "requests", (double)d->requests);
    cJSON_AddNumberToObject(o, "responses_4xx", (double)d->responses_4xx);
    cJSON_AddNumberToObject(o, "responses_5xx", (double)d->responses_5xx);
    cJSON_AddNumberToObject(o, "latency_us_total", (double)d->latency_us_total);
    cJSON *c = cJSON_AddObjectToObject(o, "cache");
    cJSON_AddNumberToObject(c, "hits", (double)d->cache_hits);
    cJSON_AddNumberToObject(c, "hits_local", (double)d->cache_hits_local);
    cJSON_AddNumberToObject(c, "hits_redis", (double)(d->cache_hits - d->cache_hits_local));
    cJSON_AddNumberToObject(c, "misses", (double)d->cache_misses);
    cJSON_AddNumberToObject(c, "bypass", (double)d->cache_bypass);
    cJSON_AddNumberToObject(c, "not_modified", (double)d->not_modified);
    uint64_t lookups = d->cache_hits + d->cache_misses + d->cache_bypass;
    cJSON_AddNumberToObject(c, "hit_ratio", lookups ? (double)d->cache_hits / (double)lookups : 0.0);
}

/* This process's counters (flow_stats_sum) as the top-level members. */
static void add_process(cJSON *root, request_t *r)
{
    app_t *app = r->thread->app;
    flow_stats_t s;
    flow_stats_sum(app, &s);
    cJSON_AddNumberToObject(root, "uptime_s", (double)(clock_wall_s() - app->started_at));
    cJSON_AddNumberToObject(root, "threads", app->cfg.threads);
    cJSON_AddNumberToObject(root, "requests", (double)s.requests);
    cJSON_AddNumberToObject(root, "responses_4xx", (double)s.responses[3]);
    cJSON_AddNumberToObject(root, "responses_5xx", (double)s.responses[4]);
    cJSON_AddNumberToObject(root, "latency_us_total", (double)s.latency_us_total);
    cJSON *c = cJSON_AddObjectToObject(root, "cache");
    cJSON_AddNumberToObject(c, "hits", (double)s.cache_hits);
    cJSON_AddNumberToObject(c, "hits_local", (double)s.cache_hits_local);
    cJSON_AddNumberToObject(c, "hits_redis", (double)(s.cache_hits - s.cache_hits_local));
    cJSON_AddNumberToObject(c, "misses", (double)s.cache_misses);
    cJSON_AddNumberToObject(c, "bypass", (double)s.cache_bypass);
    cJSON_AddNumberToObject(c, "not_modified", (double)s.responses[2]);
    uint64_t lookups = s.cache_hits + s.cache_misses + s.cache_bypass;
    cJSON_AddNumberToObject(c, "hit_ratio", lookups ? (double)s.cache_hits / (double)lookups : 0.0);
    cJSON_AddBoolToObject(c, "redis_connected", cache_is_connected(r->thread->cache));
    cJSON_AddNumberToObject(c, "redis_late_replies", (double)s.redis_late);
    cJSON_AddNumberToObject(c, "redis_reconnects_for_silence", (double)s.redis_drops);
    add_local(c, app->local);
    cJSON *st = cJSON_AddObjectToObject(root, "store");
    cJSON_AddNumberToObject(st, "jobs", (double)s.store_jobs);
    cJSON_AddNumberToObject(st, "errors", (double)s.store_errors);
    cJSON_AddNumberToObject(st, "rejected", (double)s.store_rejected);
    cJSON_AddNumberToObject(st, "queue_depth", (double)mongo_pool_queue_depth(app->store));
    cJSON_AddNumberToObject(st, "flights", (double)flight_count(app->flights));
    cJSON_AddNumberToObject(st, "passes", (double)s.store_passes);
    add_catalogue(root, app->mirror);
    add_feed(root, app);
    cJSON *l = cJSON_AddObjectToObject(root, "login");
    cJSON_AddNumberToObject(l, "jobs", (double)s.login_jobs);
    cJSON_AddNumberToObject(l, "queue_depth", (double)mongo_pool_queue_depth(app->login_store));
}

static void answer_stats(request_t *r, const flow_stats_deployment_t *d)
{
    cJSON *root = cJSON_CreateObject();
    add_process(root, r);
    add_deployment(root, d);
    char *body = cJSON_PrintUnformatted(root);
    cJSON_Delete(root);
    h2o_add_header(&r->req->pool, &r->req->res.headers, H2O_TOKEN_CACHE_CONTROL, NULL, H2O_STRLIT("no-store"));
    respond_body(r, 200, NULL, NULL, 0, body, strlen(body));
    free(body);
}

/* GET /api/stats: this process's counters summed over its loop threads,
 * and the deployment's (every backend process that wrote its figures to
 * Redis in the last 3 s; null while Redis cannot answer). */
static void stats_get(request_t *r, h2o_iovec_t param)
{
    if (handlers_reject_query(r))
        return;
    flow_stats_deployment(r, answer_stats);
}

const server_route_t stats_routes[] = {
    {"GET", "/api/stats", stats_get},
    {NULL, NULL, NULL},
};
