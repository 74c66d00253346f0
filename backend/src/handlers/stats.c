#include "handlers/handlers.h"
#include "clock.h"
#include "app.h"
#include "store/mongo_pool.h"

#include <cjson/cJSON.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define LOAD(t, f) atomic_load_explicit(&(t)->stats.f, memory_order_relaxed)

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

/* GET /api/stats: process-wide counters summed over the loop threads. */
static void stats_get(request_t *r, h2o_iovec_t param)
{
    if (handlers_reject_query(r))
        return;
    app_t *app = r->thread->app;
    uint64_t hits_local = 0;
    uint64_t req = 0, hits = 0, misses = 0, bypass = 0, nm = 0, jobs = 0, errs = 0, rej = 0, e4 = 0, e5 = 0, lat = 0, logins = 0;
    unsigned redis_up = 0;
    uint64_t late = 0, drops = 0, passes = 0;
    for (unsigned i = 0; i < app->cfg.threads; i++) {
        app_thread_t *t = &app->threads[i];
        req += LOAD(t, requests);
        hits += LOAD(t, cache_hits);
        hits_local += LOAD(t, cache_hits_local);
        misses += LOAD(t, cache_misses);
        bypass += LOAD(t, cache_bypass);
        nm += LOAD(t, not_modified);
        jobs += LOAD(t, store_jobs);
        errs += LOAD(t, store_errors);
        rej += LOAD(t, store_rejected);
        passes += LOAD(t, store_passes);
        logins += LOAD(t, login_jobs);
        e4 += LOAD(t, responses_4xx);
        e5 += LOAD(t, responses_5xx);
        lat += LOAD(t, latency_us_total);
        const redis_loop_counters_t *rc = redis_loop_counters(cache_redis(t->cache));
        late += atomic_load_explicit(&rc->late, memory_order_relaxed);
        drops += atomic_load_explicit(&rc->drops, memory_order_relaxed);
    }
    redis_up = cache_is_connected(r->thread->cache);
    cJSON *root = cJSON_CreateObject();
    cJSON_AddNumberToObject(root, "uptime_s", (double)(clock_wall_s() - app->started_at));
    cJSON_AddNumberToObject(root, "threads", app->cfg.threads);
    cJSON_AddNumberToObject(root, "requests", (double)req);
    cJSON_AddNumberToObject(root, "responses_4xx", (double)e4);
    cJSON_AddNumberToObject(root, "responses_5xx", (double)e5);
    cJSON_AddNumberToObject(root, "latency_us_total", (double)lat);
    cJSON *c = cJSON_AddObjectToObject(root, "cache");
    cJSON_AddNumberToObject(c, "hits", (double)hits);
    cJSON_AddNumberToObject(c, "hits_local", (double)hits_local);
    cJSON_AddNumberToObject(c, "hits_redis", (double)(hits - hits_local));
    cJSON_AddNumberToObject(c, "misses", (double)misses);
    cJSON_AddNumberToObject(c, "bypass", (double)bypass);
    cJSON_AddNumberToObject(c, "not_modified", (double)nm);
    uint64_t lookups = hits + misses + bypass;
    cJSON_AddNumberToObject(c, "hit_ratio", lookups ? (double)hits / (double)lookups : 0.0);
    cJSON_AddBoolToObject(c, "redis_connected", redis_up);
    cJSON_AddNumberToObject(c, "redis_late_replies", (double)late);
    cJSON_AddNumberToObject(c, "redis_reconnects_for_silence", (double)drops);
    add_local(c, app->local);
    cJSON *s = cJSON_AddObjectToObject(root, "store");
    cJSON_AddNumberToObject(s, "jobs", (double)jobs);
    cJSON_AddNumberToObject(s, "errors", (double)errs);
    cJSON_AddNumberToObject(s, "rejected", (double)rej);
    cJSON_AddNumberToObject(s, "queue_depth", (double)mongo_pool_queue_depth(app->store));
    cJSON_AddNumberToObject(s, "flights", (double)flight_count(app->flights));
    cJSON_AddNumberToObject(s, "passes", (double)passes);
    add_catalogue(root, app->mirror);
    cJSON *l = cJSON_AddObjectToObject(root, "login");
    cJSON_AddNumberToObject(l, "jobs", (double)logins);
    cJSON_AddNumberToObject(l, "queue_depth", (double)mongo_pool_queue_depth(app->login_store));
    char *body = cJSON_PrintUnformatted(root);
    cJSON_Delete(root);
    h2o_add_header(&r->req->pool, &r->req->res.headers, H2O_TOKEN_CACHE_CONTROL, NULL, H2O_STRLIT("no-store"));
    respond_body(r, 200, NULL, NULL, 0, body, strlen(body));
    free(body);
}

const server_route_t stats_routes[] = {
    {"GET", "/api/stats", stats_get},
    {NULL, NULL, NULL},
};
