#include "flow/authorize.h"
#include "xalloc.h"
#include "clock.h"

#include "app.h"
#include "log.h"
#include "auth/guard.h"
#include "flow/write.h"
#include "store/users_store.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct {
    respond_op_t *op;
    token_claims_t claims;
    app_thread_t *thread;
    flow_authorize_cb cb;
    void *data;
    user_lookup_job_t job;               /* when the user must be looked up */
    char request_id[RESPOND_ID_MAX + 1]; /* for the log, when the request is gone */
} authorize_t;

/* Calls back (also when the request is gone: cb frees what data holds) and frees q. */
static void finish(authorize_t *q, flow_authorize_result_t result)
{
    q->cb(q->op, &q->claims, result, q->data);
    free(q);
}

/* name's entry on t when looked up less than AUTH_USER_TTL ago, or NULL. */
static const struct flow_user_seen *user_seen(app_thread_t *t, const char *name, uint64_t now)
{
    flow_authorize_thread_t *a = &t->authorize;
    for (size_t i = 0; i < sizeof(a->seen) / sizeof(a->seen[0]); i++)
        if (a->seen[i].until_ms > now && strcmp(a->seen[i].name, name) == 0)
            return &a->seen[i];
    return NULL;
}

/* Keeps what a lookup found for AUTH_USER_TTL, in name's entry or the one
 * that expires first. */
static void user_remember(app_thread_t *t, const char *name, int found, const char *role, uint64_t now)
{
    flow_authorize_thread_t *a = &t->authorize;
    const size_t n = sizeof(a->seen) / sizeof(a->seen[0]);
    struct flow_user_seen *e = &a->seen[0];
    for (size_t i = 0; i < n; i++) {
        if (strcmp(a->seen[i].name, name) == 0) {
            e = &a->seen[i];
            break;
        }
        if (a->seen[i].until_ms < e->until_ms)
            e = &a->seen[i];
    }
    snprintf(e->name, sizeof(e->name), "%s", name);
    snprintf(e->role, sizeof(e->role), "%s", role);
    e->found = found;
    e->until_ms = now + (uint64_t)t->app->cfg.auth_user_ttl_s * 1000;
}

/* The token's user as it is now decides. */
static flow_authorize_result_t decide_user(int found, const char *role)
{
    if (!found)
        return FLOW_AUTHORIZE_USER_GONE;
    return strcmp(role, "admin") != 0 ? FLOW_AUTHORIZE_DEMOTED : FLOW_AUTHORIZE_OK;
}

static void on_user_looked_up(store_job_t *base)
{
    authorize_t *q = H2O_STRUCT_FROM_MEMBER(authorize_t, job, (user_lookup_job_t *)base);
    respond_op_t *op = q->op;
    app_thread_t *t = q->thread;
    t->write.pending--;
    if (base->state == STORE_JOB_DONE && q->job.ok) {
        user_remember(t, q->claims.sub, q->job.found, q->job.role, clock_mono_ms());
        finish(q, decide_user(q->job.found, q->job.role));
    } else {
        APP_STAT_ADD(t, store_errors, 1);
        if (q->job.error[0])
            LOG(LOG_ERROR, "user_lookup_failed", q->job.error, LOG_S("request_id", q->request_id));
        finish(q, FLOW_AUTHORIZE_UNAVAILABLE);
    }
    respond_op_unref(op); /* the job's reference */
}

/* The token is valid, not revoked and an admin's: checks that its user
 * still exists and is still an admin (a removed or demoted user's tokens
 * lose their rights within AUTH_USER_TTL). Takes q. */
static void check_user(authorize_t *q)
{
    app_thread_t *t = q->thread;
    const struct flow_user_seen *seen = user_seen(t, q->claims.sub, clock_mono_ms());
    if (seen != NULL) {
        finish(q, decide_user(seen->found, seen->role));
        return;
    }
    snprintf(q->job.username, sizeof(q->job.username), "%s", q->claims.sub);
    user_lookup_job_init(&q->job, t->app->cfg.mongo_timeout_ms);
    if (flow_submit_job(q->op, t->app->store, &q->job.base, on_user_looked_up) != 0)
        finish(q, FLOW_AUTHORIZE_BUSY);
}

static void on_revocation_checked(void *data, int revoked)
{
    authorize_t *q = data;
    respond_op_t *op = q->op;
    if (op->r == NULL)
        finish(q, FLOW_AUTHORIZE_UNAVAILABLE); /* nobody to answer */
    else if (revoked == 1)
        finish(q, FLOW_AUTHORIZE_REVOKED);
    else if (strcmp(q->claims.role, "admin") != 0)
        finish(q, FLOW_AUTHORIZE_VIEWER);
    else
        check_user(q); /* revoked == -1: Redis unreachable, revocations cannot be seen (README) */
    respond_op_unref(op);
}

void flow_authorize_admin(respond_op_t *op, const token_claims_t *claims, flow_authorize_cb cb, void *data)
{
    authorize_t *q = xcalloc(1, sizeof(*q));
    q->op = op;
    q->claims = *claims;
    q->thread = op->r->thread;
    respond_copy_id(op->r, q->request_id);
    q->cb = cb;
    q->data = data;
    respond_op_ref(op);
    guard_is_revoked(cache_redis(q->thread->cache), q->claims.jti, on_revocation_checked, q);
}
