#include "flow/write.h"

#include "app.h"
#include "clock.h"
#include "model/product.h"
#include "log.h"

#include <stdio.h>
#include <stdlib.h>

const char *const flow_write_kind_names[WRITE_KINDS] = {
    [WRITE_CREATE] = "create", [WRITE_REPLACE] = "replace", [WRITE_PATCH] = "patch", [WRITE_DELETE] = "delete"};
const char *const flow_write_result_names[WRITE_RESULTS] = {
    [WRITE_OK] = "ok",
    [WRITE_NOT_FOUND] = "not_found",
    [WRITE_PRECONDITION_FAILED] = "precondition_failed",
    [WRITE_INVALID] = "invalid",
    [WRITE_IDEMPOTENCY_MISMATCH] = "idempotency_mismatch",
    [WRITE_BUSY] = "busy",
    [WRITE_ERROR] = "error",
};

static void on_invalidated(void *data, int ok)
{
    flow_write_t *w = data;
    if (!ok) {
        metrics_add(&w->thread->write.deferred, 1);
        LOG(LOG_WARN, "invalidation_deferred",
            "invalidation after a write deferred (Redis unreachable); this process bypasses the cache until it is applied",
            LOG_S("request_id", w->request_id), LOG_S("product_id", w->job.id_hex));
    }
    w->thread->write.pending--;
    if (w->op.r != NULL)
        w->answer(w, !ok);
    respond_op_unref(&w->op);
}

/* The change feed's event of a settled write: what it did, "unknown" for
 * one that failed after it was sent (it may have been applied), or
 * "replayed" for an Idempotency-Key retry answered with the first
 * attempt's product (no event: that attempt had its own). */
static void describe_change(const write_job_t *job, change_write_t *w)
{
    static const char *const types[] = {
        [WRITE_CREATE] = "created", [WRITE_REPLACE] = "updated", [WRITE_PATCH] = "updated", [WRITE_DELETE] = "deleted"};
    int ok = job->result == WRITE_OK;
    const char *type = !ok ? "unknown" : job->replayed ? "replayed" : types[job->kind];
    *w = (change_write_t){.type = type, .version = ok ? job->version : 0, .at_ms = clock_wall_ms()};
    if (ok && (job->kind == WRITE_REPLACE || job->kind == WRITE_PATCH))
        product_field_names(job->changed, w->fields);
}

static void on_write_done(store_job_t *base)
{
    flow_write_t *w = H2O_STRUCT_FROM_MEMBER(flow_write_t, job, (write_job_t *)base);
    write_job_t *job = &w->job;
    app_thread_t *t = w->thread;
    if (base->state == STORE_JOB_EXPIRED) /* never sent: answered as "not applied" */
        job->result = WRITE_ERROR;
    metrics_add(&t->write.outcomes[job->kind][job->result], 1);
    if (job->result == WRITE_ERROR) {
        APP_STAT_ADD(t, store_errors, 1);
        if (job->error[0] != '\0')
            LOG(LOG_ERROR, "write_failed", job->error, LOG_S("request_id", w->request_id), LOG_S("product_id", job->id_hex),
                LOG_I("may_be_applied", job->sent != 0));
    }
    if (job->result == WRITE_OK || (job->result == WRITE_ERROR && job->sent)) {
        /* acknowledged by MongoDB — or failed after the command was sent,
         * so it may have been applied: invalidate before answering, even
         * when the client is gone (the drain waits: write.pending stays up) */
        uint64_t epoch = atomic_fetch_add(&t->app->cache_shared.write_epoch, 1) + 1;
        char key[64];
        snprintf(key, sizeof(key), CACHE_PRODUCT_PREFIX "%s", job->id_hex);
        change_write_t change;
        describe_change(job, &change);
        respond_op_ref(&w->op);
        cache_invalidate(t->cache, key, epoch, &change, on_invalidated, w);
    } else {
        t->write.pending--;
        if (w->op.r != NULL)
            w->answer(w, 0);
    }
    respond_op_unref(&w->op); /* the job's reference */
}

int flow_submit_job(respond_op_t *op, mongo_pool_t *pool, store_job_t *job, void (*done)(store_job_t *))
{
    app_thread_t *t = op->r->thread;
    int login = pool != t->app->store;
    job->reply_to = &t->jobs_receiver;
    job->done = done;
    respond_op_ref(op);
    t->write.pending++;
    if (login)
        APP_STAT_ADD(t, login_jobs, 1);
    else
        APP_STAT_ADD(t, store_jobs, 1);
    if (mongo_pool_submit(pool, job) == 0)
        return 0;
    t->write.pending--;
    if (!login)
        APP_STAT_ADD(t, store_rejected, 1);
    respond_op_unref(op);
    return -1;
}

int flow_write_submit(flow_write_t *w, flow_write_answer_cb answer)
{
    w->answer = answer;
    respond_copy_id(w->op.r, w->request_id);
    return flow_submit_job(&w->op, w->thread->app->store, &w->job.base, on_write_done);
}
