#include "flow/login.h"

#include "app.h"

#include "auth/guard.h"
#include "flow/write.h"
#include "log.h"

#include <stdio.h>
#include <stdlib.h>

const char *const flow_login_result_names[FLOW_LOGIN_RESULTS] = {
    [FLOW_LOGIN_OK] = "ok",           [FLOW_LOGIN_WRONG] = "wrong", [FLOW_LOGIN_LOCKED] = "locked",
    [FLOW_LOGIN_CROWDED] = "crowded", [FLOW_LOGIN_BUSY] = "busy",   [FLOW_LOGIN_UNAVAILABLE] = "unavailable",
};

/* Counts the outcome and calls done when the request is still there. */
static void finish(flow_login_t *l, flow_login_result_t result, long long retry_s)
{
    metrics_add(&l->thread->login.results[result], 1);
    if (l->op.r != NULL)
        l->done(l, result, retry_s);
}

/* The password check's completion, on the submitting loop. */
static void on_checked(store_job_t *base)
{
    flow_login_t *l = H2O_STRUCT_FROM_MEMBER(flow_login_t, job, (login_job_t *)base);
    app_thread_t *t = l->thread;
    atomic_fetch_sub(&t->app->logins_running, 1); /* the slot flow_login_start took */
    t->write.pending--;
    if (base->state == STORE_JOB_EXPIRED) { /* waited past MONGO_TIMEOUT_MS for a password-check thread */
        finish(l, FLOW_LOGIN_BUSY, 0);
    } else if (l->job.result == LOGIN_ERROR) {
        if (l->job.error[0])
            LOG(LOG_ERROR, "login_failed", l->job.error, LOG_S("request_id", l->request_id));
        finish(l, FLOW_LOGIN_UNAVAILABLE, 0);
    } else if (l->job.result == LOGIN_BAD_CREDENTIALS) {
        finish(l, FLOW_LOGIN_WRONG, 0); /* counted before the check */
    } else {
        guard_login_succeeded(cache_redis(t->cache), &t->app->cfg, l->pair);
        finish(l, FLOW_LOGIN_OK, 0);
    }
    respond_op_unref(&l->op); /* the job's reference */
}

/* Submits the password check; the caller took a slot of logins_running,
 * which on_checked gives back (or this, on failure). */
static void submit(flow_login_t *l)
{
    app_t *app = l->thread->app;
    login_job_init(&l->job, app->cfg.mongo_timeout_ms);
    if (flow_submit_job(&l->op, app->login_store, &l->job.base, on_checked) != 0) {
        atomic_fetch_sub(&app->logins_running, 1);
        finish(l, FLOW_LOGIN_BUSY, 0);
    }
}

static void on_attempt_counted(void *data, guard_attempt_t result, long long retry_s)
{
    flow_login_t *l = data;
    if (l->op.r == NULL || result == GUARD_LOCKED || result == GUARD_FULL)
        atomic_fetch_sub(&l->thread->app->logins_running, 1); /* no check: the slot goes back */
    if (l->op.r == NULL) {
        /* the client went away */
    } else if (result == GUARD_LOCKED) {
        finish(l, FLOW_LOGIN_LOCKED, retry_s);
    } else if (result == GUARD_FULL) {
        finish(l, FLOW_LOGIN_CROWDED, retry_s);
    } else {
        submit(l); /* GUARD_UNREACHABLE: not counted (README); nginx still rate-limits */
    }
    respond_op_unref(&l->op);
}

void flow_login_start(flow_login_t *l, flow_login_cb done)
{
    app_t *app = l->thread->app;
    l->done = done;
    respond_copy_id(l->op.r, l->request_id);
    /* a slot first, so only attempts that will be checked are counted */
    if (atomic_fetch_add(&app->logins_running, 1) >= app->cfg.login_queue_max + app->cfg.login_workers) {
        atomic_fetch_sub(&app->logins_running, 1);
        finish(l, FLOW_LOGIN_BUSY, 0);
        return;
    }
    /* counted before the password is checked, atomically with the lockout
     * check: concurrent attempts cannot all pass a count not yet raised */
    respond_op_ref(&l->op);
    guard_login_attempt(cache_redis(l->thread->cache), &app->cfg, l->pair, on_attempt_counted, l);
}
