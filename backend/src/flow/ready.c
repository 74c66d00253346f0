#include "flow/ready.h"
#include "xalloc.h"
#include "clock.h"

#include "app.h"

#include "store/products_store.h"

#include <stdio.h>
#include <stdlib.h>

#define READY_PING_REUSE_US 1000000 /* a MongoDB ping that passed answers the probes of the next second */

/* One probe: the request's reference, plus one while Redis holds it and
 * one while it waits for the thread's ping. */
typedef struct {
    respond_op_t op;
    h2o_linklist_t ping_link; /* in the thread's health_ping.waiters while waiting */
    flow_ready_cb done;
    int pending; /* checks not yet settled */
    struct check {
        int settled;
        uint64_t started_us;
        flow_ready_check_t out;
    } redis, mongo;
    h2o_timeout_entry_t redis_timeout, mongo_timeout;
} ready_t;

typedef struct {
    products_job_t pj;
    app_thread_t *thread;
    uint64_t started_us;
} ping_job_t;

static void ready_destroy(respond_op_t *op)
{
    ready_t *rd = H2O_STRUCT_FROM_MEMBER(ready_t, op, op);
    if (h2o_timeout_is_linked(&rd->redis_timeout))
        h2o_timeout_unlink(&rd->redis_timeout);
    if (h2o_timeout_is_linked(&rd->mongo_timeout))
        h2o_timeout_unlink(&rd->mongo_timeout);
    free(rd);
}

/* Settles one check (once); the last one settled calls done.
 * took_us: 0 to measure from the check's start. */
static void settle(ready_t *rd, struct check *c, int ok, const char *detail, uint64_t took_us)
{
    if (c->settled)
        return;
    c->settled = 1;
    c->out.ok = ok;
    c->out.took_us = took_us != 0 ? took_us : clock_mono_us() - c->started_us;
    if (detail != NULL)
        snprintf(c->out.detail, sizeof(c->out.detail), "%.150s", detail);
    if (--rd->pending == 0 && rd->op.r != NULL)
        rd->done(rd->op.r, &rd->redis.out, &rd->mongo.out);
}

/* Settles the MongoDB check of rd from the thread's last ping. */
static void settle_from_ping(ready_t *rd, const struct flow_ready_ping *hp)
{
    settle(rd, &rd->mongo, hp->last.ok, hp->last.ok ? NULL : hp->last.detail, hp->last.took_us ? hp->last.took_us : 1);
}

/* Takes rd off the ping's waiters and drops that reference; only called
 * while another reference is held, so rd stays alive. */
static void leave_ping(ready_t *rd)
{
    if (!h2o_linklist_is_linked(&rd->ping_link))
        return;
    h2o_linklist_unlink(&rd->ping_link);
    respond_op_unref(&rd->op);
}

static void on_redis_pong(redisReply *reply, void *data)
{
    ready_t *rd = data;
    if (h2o_timeout_is_linked(&rd->redis_timeout))
        h2o_timeout_unlink(&rd->redis_timeout);
    int ok = reply != NULL && reply->type == REDIS_REPLY_STATUS;
    settle(rd, &rd->redis, ok, ok ? NULL : (reply && reply->type == REDIS_REPLY_ERROR ? reply->str : "not connected"), 0);
    respond_op_unref(&rd->op); /* Redis's reference */
}

static void on_redis_timeout(h2o_timeout_entry_t *e)
{
    ready_t *rd = H2O_STRUCT_FROM_MEMBER(ready_t, redis_timeout, e);
    settle(rd, &rd->redis, 0, "no answer within the time box", 0);
}

static void on_mongo_timeout(h2o_timeout_entry_t *e)
{
    ready_t *rd = H2O_STRUCT_FROM_MEMBER(ready_t, mongo_timeout, e);
    respond_op_ref(&rd->op); /* leaving the waiters may drop the last reference: settle first */
    leave_ping(rd);
    settle(rd, &rd->mongo, 0, "no answer within the time box", 0);
    respond_op_unref(&rd->op);
}

/* Records a ping's outcome and settles every probe waiting for it. */
static void ping_finished(app_thread_t *t, int ok, const char *detail, uint64_t took_us)
{
    struct flow_ready_ping *hp = &t->ready.ping;
    hp->inflight = 0;
    hp->last.ok = ok;
    hp->last.took_us = took_us;
    hp->at_us = clock_mono_us();
    snprintf(hp->last.detail, sizeof(hp->last.detail), "%.150s", detail ? detail : "");
    while (!h2o_linklist_is_empty(&hp->waiters)) {
        ready_t *rd = H2O_STRUCT_FROM_MEMBER(ready_t, ping_link, hp->waiters.next);
        if (h2o_timeout_is_linked(&rd->mongo_timeout))
            h2o_timeout_unlink(&rd->mongo_timeout);
        h2o_linklist_unlink(&rd->ping_link);
        settle_from_ping(rd, hp);
        respond_op_unref(&rd->op); /* the waiters' reference */
    }
}

/* A readiness ping's completion, on the submitting loop. */
static void on_ping_done(store_job_t *base)
{
    ping_job_t *job = (ping_job_t *)base;
    int ok = job->pj.base.state == STORE_JOB_DONE && job->pj.result == STORE_OK;
    ping_finished(job->thread, ok, ok ? NULL : (job->pj.error[0] ? job->pj.error : "no answer within the time box"),
                  clock_mono_us() - job->started_us);
    products_job_clear(&job->pj);
    free(job);
}

/* Settles rd's MongoDB check from a ping of the last second, or makes it
 * wait for the thread's ping (started when none is in flight). */
static void check_mongo(app_thread_t *t, ready_t *rd)
{
    struct flow_ready_ping *hp = &t->ready.ping;
    /* only a success is reused: a recovery shows at the next probe */
    if (hp->last.ok && hp->at_us != 0 && clock_mono_us() - hp->at_us < READY_PING_REUSE_US) {
        settle_from_ping(rd, hp);
        return;
    }
    respond_op_ref(&rd->op);
    h2o_linklist_insert(&hp->waiters, &rd->ping_link);
    h2o_timeout_link(t->ctx.loop, &t->ready.timeout, &rd->mongo_timeout);
    if (hp->inflight)
        return;
    ping_job_t *job = xcalloc(1, sizeof(*job));
    job->thread = t;
    job->started_us = clock_mono_us();
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

void flow_ready_start(request_t *r, flow_ready_cb done)
{
    app_thread_t *t = r->thread;
    ready_t *rd = xcalloc(1, sizeof(*rd));
    respond_op_attach(&rd->op, r, ready_destroy);
    rd->done = done;
    rd->pending = 2;
    rd->redis_timeout.cb = on_redis_timeout;
    rd->mongo_timeout.cb = on_mongo_timeout;
    rd->mongo.started_us = rd->redis.started_us = clock_mono_us();
    respond_op_ref(&rd->op); /* held over both starts: either may settle at once */
    check_mongo(t, rd);
    respond_op_ref(&rd->op); /* Redis's */
    h2o_timeout_link(t->ctx.loop, &t->ready.timeout, &rd->redis_timeout);
    cache_ping(t->cache, on_redis_pong, rd); /* calls back at once when not connected */
    respond_op_unref(&rd->op);
}

void flow_ready_init_thread(app_thread_t *t)
{
    h2o_timeout_init(t->ctx.loop, &t->ready.timeout, t->app->cfg.health_timeout_ms);
    h2o_linklist_init_anchor(&t->ready.ping.waiters);
}
