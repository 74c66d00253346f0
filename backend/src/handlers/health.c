#include "handlers/handlers.h"
#include "model/product.h"
#include "store/products_store.h"

#include <cjson/cJSON.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>

/* Liveness: answers without touching Redis or MongoDB, so an outage of a
 * dependency never makes a monitor restart every instance. */
static void health_live(request_t *r, h2o_iovec_t param)
{
    static const char body[] = "{\"status\":\"OK\",\"service\":\"Backend API\"}";
    h2o_add_header(&r->req->pool, &r->req->res.headers, H2O_TOKEN_CACHE_CONTROL, NULL, H2O_STRLIT("no-store"));
    respond_body(r, 200, NULL, NULL, 0, body, sizeof(body) - 1);
}

#define HEALTH_PING_REUSE_US 1000000 /* a MongoDB ping that passed answers the probes of the next second */

/* Readiness: one PING to Redis and MongoDB's last ping, each time-boxed.
 * Probes share the thread's one ping job in flight, and a ping that passed
 * answers for a second, so a flood of probes cannot fill the store queue.
 * Shared by the request and both checks; freed when all three let go. */
typedef struct {
    request_t *r;             /* NULL once the request is gone */
    h2o_linklist_t ping_link; /* in the thread's health_ping.waiters while waiting (holds a reference) */
    int refs;
    int pending; /* checks not yet settled */
    struct check {
        int done, ok;
        uint64_t started_us, took_us;
        char detail[160];
    } redis, mongo;
    h2o_timeout_entry_t redis_timeout, mongo_timeout;
} ready_t;

typedef struct {
    ready_t *rd;
} ready_handle_t;

typedef struct {
    products_job_t pj;
    app_thread_t *thread;
    uint64_t started_us;
} ready_job_t;

static void ready_unref(ready_t *rd)
{
    if (--rd->refs == 0)
        free(rd);
}

static void add_check(cJSON *checks, const char *name, const struct check *c, const char *fail_status, const char *time)
{
    cJSON *arr = cJSON_AddArrayToObject(checks, name);
    cJSON *o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "componentType", "datastore");
    cJSON_AddNumberToObject(o, "observedValue", (double)(c->took_us / 100) / 10.0);
    cJSON_AddStringToObject(o, "observedUnit", "ms");
    cJSON_AddStringToObject(o, "status", c->ok ? "pass" : fail_status);
    cJSON_AddStringToObject(o, "time", time);
    if (!c->ok)
        cJSON_AddStringToObject(o, "output", c->detail);
    cJSON_AddItemToArray(arr, o);
}

static void ready_answer(ready_t *rd)
{
    request_t *r = rd->r;
    if (r == NULL)
        return;
    struct timeval tv;
    gettimeofday(&tv, NULL);
    char now[32];
    product_format_time((int64_t)tv.tv_sec * 1000, now);
    const char *status = !rd->mongo.ok ? "fail" : (!rd->redis.ok ? "warn" : "pass");
    cJSON *root = cJSON_CreateObject();
    cJSON_AddStringToObject(root, "status", status);
    cJSON_AddStringToObject(root, "serviceId", "catalog-backend");
    cJSON_AddStringToObject(root, "description", "Backend API");
    cJSON *checks = cJSON_AddObjectToObject(root, "checks");
    /* Redis is a cache: without it reads still work (from MongoDB) */
    add_check(checks, "redis:responseTime", &rd->redis, "warn", now);
    add_check(checks, "mongodb:responseTime", &rd->mongo, "fail", now);
    char *body = cJSON_PrintUnformatted(root);
    cJSON_Delete(root);
    h2o_add_header(&r->req->pool, &r->req->res.headers, H2O_TOKEN_CACHE_CONTROL, NULL, H2O_STRLIT("no-store"));
    respond_body(r, rd->mongo.ok ? 200 : 503, "application/health+json", NULL, 0, body, strlen(body));
    free(body);
}

/* took_us: 0 to measure from the check's start */
static void settle_took(ready_t *rd, struct check *c, int ok, const char *detail, uint64_t took_us)
{
    if (c->done)
        return;
    c->done = 1;
    c->ok = ok;
    c->took_us = took_us != 0 ? took_us : respond_now_us() - c->started_us;
    if (detail != NULL)
        snprintf(c->detail, sizeof(c->detail), "%.150s", detail);
    if (--rd->pending == 0)
        ready_answer(rd);
}

static void settle(ready_t *rd, struct check *c, int ok, const char *detail)
{
    settle_took(rd, c, ok, detail, 0);
}

/* Takes rd off the ping's waiters and drops that reference; only called
 * while the request's own reference is held, so rd stays alive. */
static void leave_ping(ready_t *rd)
{
    if (!h2o_linklist_is_linked(&rd->ping_link))
        return;
    h2o_linklist_unlink(&rd->ping_link);
    rd->refs--;
}

/* Settles the MongoDB check of rd from the thread's last ping. */
static void settle_from_ping(ready_t *rd, const struct app_health_ping *hp)
{
    settle_took(rd, &rd->mongo, hp->ok, hp->ok ? NULL : hp->detail, hp->took_us ? hp->took_us : 1);
}

static void on_redis_pong(redisReply *reply, void *data)
{
    ready_t *rd = data;
    if (h2o_timeout_is_linked(&rd->redis_timeout))
        h2o_timeout_unlink(&rd->redis_timeout);
    int ok = reply != NULL && reply->type == REDIS_REPLY_STATUS;
    settle(rd, &rd->redis, ok, ok ? NULL : (reply && reply->type == REDIS_REPLY_ERROR ? reply->str : "not connected"));
    ready_unref(rd);
}

static void on_redis_timeout(h2o_timeout_entry_t *e)
{
    ready_t *rd = H2O_STRUCT_FROM_MEMBER(ready_t, redis_timeout, e);
    settle(rd, &rd->redis, 0, "no answer within the time box");
}

static void on_mongo_timeout(h2o_timeout_entry_t *e)
{
    ready_t *rd = H2O_STRUCT_FROM_MEMBER(ready_t, mongo_timeout, e);
    leave_ping(rd);
    settle(rd, &rd->mongo, 0, "no answer within the time box");
}

static void on_request_gone(void *p)
{
    ready_t *rd = ((ready_handle_t *)p)->rd;
    rd->r = NULL;
    if (h2o_timeout_is_linked(&rd->redis_timeout))
        h2o_timeout_unlink(&rd->redis_timeout);
    if (h2o_timeout_is_linked(&rd->mongo_timeout))
        h2o_timeout_unlink(&rd->mongo_timeout);
    leave_ping(rd);
    ready_unref(rd);
}

/* Records a ping's outcome and settles every probe waiting for it. */
static void ping_finished(app_thread_t *t, int ok, const char *detail, uint64_t took_us)
{
    struct app_health_ping *hp = &t->health_ping;
    hp->inflight = 0;
    hp->ok = ok;
    hp->took_us = took_us;
    hp->at_us = respond_now_us();
    snprintf(hp->detail, sizeof(hp->detail), "%.150s", detail ? detail : "");
    while (!h2o_linklist_is_empty(&hp->waiters)) {
        ready_t *rd = H2O_STRUCT_FROM_MEMBER(ready_t, ping_link, hp->waiters.next);
        if (h2o_timeout_is_linked(&rd->mongo_timeout))
            h2o_timeout_unlink(&rd->mongo_timeout);
        h2o_linklist_unlink(&rd->ping_link);
        settle_from_ping(rd, hp);
        ready_unref(rd); /* the waiters' reference */
    }
}

/* A readiness ping's completion, on the submitting loop. */
static void on_ping_done(store_job_t *base)
{
    ready_job_t *job = (ready_job_t *)base;
    int ok = job->pj.base.state == STORE_JOB_DONE && job->pj.result == STORE_OK;
    ping_finished(job->thread, ok, ok ? NULL : (job->pj.error[0] ? job->pj.error : "no answer within the time box"),
                  respond_now_us() - job->started_us);
    products_job_clear(&job->pj);
    free(job);
}

void health_init_thread(app_thread_t *t)
{
    h2o_timeout_init(t->ctx.loop, &t->health_timeout, t->app->cfg.health_timeout_ms);
    h2o_linklist_init_anchor(&t->health_ping.waiters);
}

/* Settles rd's MongoDB check from a ping of the last second, or makes it
 * wait for the thread's ping (started when none is in flight). */
static void check_mongo(app_thread_t *t, ready_t *rd)
{
    struct app_health_ping *hp = &t->health_ping;
    /* only a success is reused: a recovery shows at the next probe */
    if (hp->ok && hp->at_us != 0 && respond_now_us() - hp->at_us < HEALTH_PING_REUSE_US) {
        settle_from_ping(rd, hp);
        return;
    }
    rd->refs++;
    h2o_linklist_insert(&hp->waiters, &rd->ping_link);
    h2o_timeout_link(t->ctx.loop, &t->health_timeout, &rd->mongo_timeout);
    if (hp->inflight)
        return;
    ready_job_t *job = calloc(1, sizeof(*job));
    job->thread = t;
    job->started_us = respond_now_us();
    products_job_init(&job->pj, STORE_PING, t->app->cfg.health_timeout_ms);
    job->pj.base.reply_to = &t->jobs_receiver;
    job->pj.base.done = on_ping_done;
    APP_STAT_ADD(t, store_jobs, 1);
    if (mongo_pool_submit(t->app->store, &job->pj.base) != 0) {
        free(job);
        APP_STAT_ADD(t, store_rejected, 1);
        ping_finished(t, 0, "too many requests are waiting for the database", 1);
        return;
    }
    hp->inflight = 1;
}

static void health_ready(request_t *r, h2o_iovec_t param)
{
    app_thread_t *t = r->thread;
    ready_t *rd = calloc(1, sizeof(*rd));
    rd->r = r;
    rd->refs = 1; /* the request */
    rd->pending = 2;
    rd->redis_timeout.cb = on_redis_timeout;
    rd->mongo_timeout.cb = on_mongo_timeout;
    ready_handle_t *h = h2o_mem_alloc_shared(&r->req->pool, sizeof(*h), on_request_gone);
    h->rd = rd;

    rd->mongo.started_us = rd->redis.started_us = respond_now_us();
    check_mongo(t, rd);

    rd->refs++;
    h2o_timeout_link(t->ctx.loop, &t->health_timeout, &rd->redis_timeout);
    cache_ping(t->cache, on_redis_pong, rd); /* calls back at once when not connected */
}

const server_route_t health_routes[] = {
    {"GET", "/health", health_live},
    {"GET", "/health/ready", health_ready},
    {NULL, NULL, NULL},
};
