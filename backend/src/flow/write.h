/* The invalidating write, and how any store job is submitted from a
 * request. A write job runs on the MongoDB workers; once MongoDB answered
 * (or failed after the command was sent, so it may have been applied),
 * the product's key is deleted and the generation bumped before the
 * caller's answer runs, so the next read anywhere sees the change. Knows
 * nothing of HTTP: the caller turns the job's result into a response. */
#ifndef CATALOG_FLOW_WRITE_H
#define CATALOG_FLOW_WRITE_H

#include "metrics/metrics.h"
#include "server/respond.h"
#include "store/products_write.h"

/* The write flow's per-thread state; its counters are written by the thread only. */
typedef struct {
    size_t pending; /* write, login and user-lookup jobs and invalidations in progress: a drain waits for them */
    metrics_counter_t outcomes[WRITE_KINDS][WRITE_RESULTS]; /* settled writes by kind and result */
    metrics_counter_t deferred;                             /* invalidations Redis could not take (retried) */
} flow_write_thread_t;

/* Labels of the counters: "create", "replace", ...; "ok", "not_found", ... */
extern const char *const flow_write_kind_names[WRITE_KINDS];
extern const char *const flow_write_result_names[WRITE_RESULTS];

typedef struct flow_write flow_write_t;

/* Called on the loop once the write is settled, only while the request
 * exists (op.r != NULL). deferred: Redis could not take the invalidation
 * (it is retried; the process reads around Redis meanwhile). */
typedef void (*flow_write_answer_cb)(flow_write_t *w, int deferred);

struct flow_write {
    respond_op_t op; /* first: the one lifetime of async work */
    write_job_t job; /* filled by the caller (write_job_init) before flow_write_submit */
    app_thread_t *thread;
    flow_write_answer_cb answer;
    char request_id[RESPOND_ID_MAX + 1]; /* for the log, when the request is gone */
};

/* Submits w->job from w->op.r's loop; answer runs when it is settled.
 * Returns 0, or -1 when the queue is full (nothing was sent: the caller
 * answers 503). */
int flow_write_submit(flow_write_t *w, flow_write_answer_cb answer);

/* Submits job to pool from op's loop, completed through the loop's one
 * job receiver (job->done): op holds a reference meanwhile and the loop's
 * drain waits for it (t->write.pending, which done must decrease). Returns 0, or
 * -1 after undoing both (the caller answers 503). */
int flow_submit_job(respond_op_t *op, mongo_pool_t *pool, store_job_t *job, void (*done)(store_job_t *));

#endif
