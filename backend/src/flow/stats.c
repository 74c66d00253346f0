#include "flow/stats.h"
#include "xalloc.h"

#include "app.h"
#include "clock.h"

#include <cjson/cJSON.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Writes this process's field, stamped with Redis's clock (so processes on
 * hosts with skewed clocks agree). */
static const char PUBLISH_LUA[] = "local t = redis.call('TIME')\n"
                                  "local now = t[1] * 1000 + math.floor(t[2] / 1000)\n"
                                  "redis.call('HSET', KEYS[1], ARGV[1], now .. ' ' .. ARGV[2])\n"
                                  "return now\n";

/* Returns {known, field, value, ...} of the fields written within
 * ARGV[1] ms, deleting those older than ARGV[2] ms (or unreadable). */
static const char READ_LUA[] = "local t = redis.call('TIME')\n"
                               "local now = t[1] * 1000 + math.floor(t[2] / 1000)\n"
                               "local all = redis.call('HGETALL', KEYS[1])\n"
                               "local out = {0}\n"
                               "for i = 1, #all, 2 do\n"
                               "  local at = tonumber(string.match(all[i + 1], '^(%d+) '))\n"
                               "  if at == nil or now - at > tonumber(ARGV[2]) then\n"
                               "    redis.call('HDEL', KEYS[1], all[i])\n"
                               "  else\n"
                               "    out[1] = out[1] + 1\n"
                               "    if now - at <= tonumber(ARGV[1]) then\n"
                               "      out[#out + 1] = all[i]\n"
                               "      out[#out + 1] = all[i + 1]\n"
                               "    end\n"
                               "  end\n"
                               "end\n"
                               "return out\n";

#define PUBLISH_EVERY_MS 1000

/* The counters of one loop thread, added into *out. */
static void sum_thread(const app_thread_t *t, flow_stats_t *out)
{
    for (size_t route = 0; route < RESPOND_ROUTE_SLOTS; route++) {
        for (size_t m = 0; m < RESPOND_METHOD_SLOTS; m++)
            for (size_t c = 0; c < 5; c++)
                out->responses[c] += metrics_get(&t->http.responses[route][m][c]);
        out->latency_us_total += metrics_get(&t->http.duration[route].sum_us);
    }
    out->cache_hits_local += metrics_get(&t->stats.cache_hits_local);
    out->cache_hits += metrics_get(&t->stats.cache_hits) + metrics_get(&t->stats.cache_hits_local);
    out->cache_misses += metrics_get(&t->stats.cache_misses);
    out->cache_bypass += metrics_get(&t->stats.cache_bypass);
    out->flight_leaders += metrics_get(&t->stats.flight_leaders);
    out->flight_joiners += metrics_get(&t->stats.flight_joiners);
    out->store_jobs += metrics_get(&t->stats.store_jobs);
    out->store_errors += metrics_get(&t->stats.store_errors);
    out->store_rejected += metrics_get(&t->stats.store_rejected);
    out->store_passes += metrics_get(&t->stats.store_passes);
    out->memory_hits += metrics_get(&t->stats.memory_hits);
    out->memory_misses += metrics_get(&t->stats.memory_misses);
    out->login_jobs += metrics_get(&t->stats.login_jobs);
    const redis_loop_counters_t *rc = redis_loop_counters(cache_redis(t->cache));
    const redis_loop_counters_t *wc = redis_loop_counters(cache_writes_redis(t->cache));
    out->redis_late += metrics_get(&rc->late) + metrics_get(&wc->late);
    out->redis_drops += metrics_get(&rc->drops) + metrics_get(&wc->drops);
    out->redis_reconnects += metrics_get(&rc->reconnects) + metrics_get(&wc->reconnects);
    out->redis_ready += metrics_gauge_get(&rc->ready);
    out->floor_raises += metrics_get(&cache_counters(t->cache)->floor_raises);
    out->invalidations_deferred += metrics_get(&t->write.deferred);
    out->inflight += metrics_gauge_get(&t->inflight);
    out->open_conns += metrics_gauge_get(&t->http.open_conns);
}

void flow_stats_sum(app_t *app, flow_stats_t *out)
{
    memset(out, 0, sizeof(*out));
    for (unsigned i = 0; i < app->cfg.threads; i++)
        sum_thread(&app->threads[i], out);
    for (size_t c = 0; c < 5; c++)
        out->requests += out->responses[c];
}

/* ---- publishing ---- */

/* This process's figures as the JSON of its field (malloc'd). */
static char *field_json(app_t *app)
{
    flow_stats_t s;
    flow_stats_sum(app, &s);
    char *buf = xmalloc(512);
    snprintf(buf, 512,
             "{\"uptime_s\":%lld,\"requests\":%llu,\"responses_4xx\":%llu,\"responses_5xx\":%llu,\"latency_us_total\":%llu,"
             "\"hits\":%llu,\"hits_local\":%llu,\"misses\":%llu,\"bypass\":%llu,\"not_modified\":%llu}",
             (long long)(clock_wall_s() - app->started_at), (unsigned long long)s.requests, (unsigned long long)s.responses[3],
             (unsigned long long)s.responses[4], (unsigned long long)s.latency_us_total, (unsigned long long)s.cache_hits,
             (unsigned long long)s.cache_hits_local, (unsigned long long)s.cache_misses, (unsigned long long)s.cache_bypass,
             (unsigned long long)s.responses[2]);
    return buf;
}

static void on_tick(h2o_timeout_entry_t *entry)
{
    app_thread_t *t = H2O_STRUCT_FROM_MEMBER(app_thread_t, publish.tick, entry);
    char *json = field_json(t->app);
    /* fire and forget: while Redis is away the field ages and readers count this process out */
    REDIS_CALL(cache_redis(t->cache), 0, NULL, NULL, redis_str("EVAL"), redis_str(PUBLISH_LUA), redis_str("1"),
               redis_str(FLOW_STATS_KEY), redis_str(t->app->instance), redis_str(json));
    free(json);
    h2o_timeout_link(t->ctx.loop, &t->publish.every, &t->publish.tick);
}

void flow_stats_init_thread(app_thread_t *t)
{
    if (t->index != 0)
        return;
    h2o_timeout_init(t->ctx.loop, &t->publish.every, PUBLISH_EVERY_MS);
    t->publish.tick.cb = on_tick;
    h2o_timeout_link(t->ctx.loop, &t->publish.every, &t->publish.tick);
}

static void on_field_deleted(redisReply *reply, void *data)
{
    app_thread_t *t = data;
    t->write.pending--;
}

void flow_stats_drain(app_thread_t *t)
{
    if (t->index != 0)
        return;
    if (h2o_timeout_is_linked(&t->publish.tick))
        h2o_timeout_unlink(&t->publish.tick);
    t->write.pending++;
    if (REDIS_CALL(cache_redis(t->cache), 1, on_field_deleted, t, redis_str("HDEL"), redis_str(FLOW_STATS_KEY),
                   redis_str(t->app->instance)) != 0)
        t->write.pending--;
}

/* ---- reading ---- */

typedef struct {
    respond_op_t op;
    flow_stats_deployment_cb cb;
} reading_t;

static void reading_destroy(respond_op_t *op)
{
    free(op);
}

/* A number member of o, 0 when absent. */
static double num(const cJSON *o, const char *name)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, name);
    return cJSON_IsNumber(v) && v->valuedouble > 0 ? v->valuedouble : 0;
}

/* Adds one field's value ("<ms> <JSON>") into *d; an unreadable one is not counted as fresh. */
static void add_field(flow_stats_deployment_t *d, const char *value, size_t len)
{
    const char *sp = memchr(value, ' ', len);
    cJSON *o = sp != NULL ? cJSON_ParseWithLength(sp + 1, len - (size_t)(sp + 1 - value)) : NULL;
    if (cJSON_IsObject(o)) {
        d->fresh++;
        d->requests += (uint64_t)num(o, "requests");
        d->responses_4xx += (uint64_t)num(o, "responses_4xx");
        d->responses_5xx += (uint64_t)num(o, "responses_5xx");
        d->latency_us_total += (uint64_t)num(o, "latency_us_total");
        d->cache_hits += (uint64_t)num(o, "hits");
        d->cache_hits_local += (uint64_t)num(o, "hits_local");
        d->cache_misses += (uint64_t)num(o, "misses");
        d->cache_bypass += (uint64_t)num(o, "bypass");
        d->not_modified += (uint64_t)num(o, "not_modified");
        if ((int64_t)num(o, "uptime_s") > d->uptime_s)
            d->uptime_s = (int64_t)num(o, "uptime_s");
    }
    cJSON_Delete(o);
}

static void on_read(redisReply *reply, void *data)
{
    reading_t *rd = data;
    if (rd->op.r != NULL) {
        flow_stats_deployment_t d;
        memset(&d, 0, sizeof(d));
        int ok = reply != NULL && reply->type == REDIS_REPLY_ARRAY && reply->elements >= 1 &&
                 reply->element[0]->type == REDIS_REPLY_INTEGER && reply->elements % 2 == 1;
        if (ok) {
            d.known = (unsigned)reply->element[0]->integer;
            for (size_t i = 1; i + 1 < reply->elements; i += 2)
                if (reply->element[i + 1]->type == REDIS_REPLY_STRING)
                    add_field(&d, reply->element[i + 1]->str, reply->element[i + 1]->len);
        }
        rd->cb(rd->op.r, ok ? &d : NULL);
    }
    respond_op_unref(&rd->op);
}

void flow_stats_deployment(request_t *r, flow_stats_deployment_cb cb)
{
    reading_t *rd = xcalloc(1, sizeof(*rd));
    respond_op_attach(&rd->op, r, reading_destroy);
    rd->cb = cb;
    respond_op_ref(&rd->op);
    char fresh[16], prune[16];
    snprintf(fresh, sizeof(fresh), "%d", FLOW_STATS_FRESH_MS);
    snprintf(prune, sizeof(prune), "%d", FLOW_STATS_PRUNE_MS);
    if (REDIS_CALL(cache_redis(r->thread->cache), 0, on_read, rd, redis_str("EVAL"), redis_str(READ_LUA), redis_str("1"),
                   redis_str(FLOW_STATS_KEY), redis_str(fresh), redis_str(prune)) != 0)
        on_read(NULL, rd);
}
