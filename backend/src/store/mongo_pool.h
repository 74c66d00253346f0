/* MongoDB off the event loop: a fixed set of worker threads taking jobs from
 * a bounded queue, each job run with a client from a mongoc_client_pool_t,
 * its completion posted back to the submitting loop through h2o's
 * multithread queue. Knows nothing about HTTP. */
#ifndef CATALOG_MONGO_POOL_H
#define CATALOG_MONGO_POOL_H

#include <h2o/multithread.h>
#include "clock.h"
#include <mongoc/mongoc.h>
#include <stddef.h>
#include <stdint.h>

#include "config.h"
#include "metrics/metrics.h"

typedef struct mongo_pool mongo_pool_t;
typedef struct store_job store_job_t;

typedef enum {
    STORE_JOB_DONE = 0, /* run() was called; its own fields tell success */
    STORE_JOB_EXPIRED,  /* the deadline passed while queued (or no client came in time); run() was not called */
} store_job_state_t;

struct store_job {
    h2o_multithread_message_t msg;                                          /* zeroed; posted to reply_to when finished */
    h2o_multithread_receiver_t *reply_to;                                   /* the submitting loop's receiver */
    void (*run)(store_job_t *job, mongoc_client_t *client, const char *db); /* on a worker */
    void (*finish)(store_job_t *job);                                       /* optional, on the worker after run (or expiry) */
    void (*done)(store_job_t *job); /* on the submitting loop, once: the job's own completion */
    uint64_t deadline_ms;           /* monotonic, see clock_mono_ms() */
    store_job_state_t state;
    store_job_t *_next;
};

/* The one receiver callback of store-job completions on a loop thread:
 * calls each finished job's done (which must be set) on that loop. Every
 * job a loop submits names that loop's receiver as reply_to. */
void mongo_pool_on_done(h2o_multithread_receiver_t *receiver, h2o_linklist_t *messages);

/* Sends libmongoc's own messages through the JSON log (event "mongoc");
 * its endSessions warnings (a pooled client destroyed while the server is
 * away) go to debug. Call once, after mongoc_init. */
void mongo_pool_capture_logs(void);

/* Creates the client pool (timeouts from cfg added to the URI unless it sets
 * them; write concern majority when the URI names a replica set and sets no w) and starts cfg->mongo_workers threads. Does not
 * connect: the first job does. Returns NULL with a message in err on a bad URI. */
mongo_pool_t *mongo_pool_create(const config_t *cfg, char *err, size_t errlen);

/* The same with workers threads (and pooled clients), a queue of
 * queue_max jobs, and the threads at CPU priority nice (0: unchanged; 19:
 * they get the CPU only when nothing else of ordinary priority wants it):
 * a pool for CPU-heavy jobs that must not slow the others down. */
mongo_pool_t *mongo_pool_create_sized(const config_t *cfg, unsigned workers, unsigned queue_max, int nice, char *err,
                                      size_t errlen);

/* Queues a job. The job stays owned by the caller but must stay alive until
 * its message arrives on reply_to (exactly once). Returns 0, or -1 when the
 * queue is full (the caller answers 503 + Retry-After). Thread-safe. */
int mongo_pool_submit(mongo_pool_t *pool, store_job_t *job);

/* A client of its own (the pool's URI and timeouts) for blocking work off
 * the loops, such as the start-up setup: the pool's clients are exactly
 * one per worker. Caller destroys it; NULL when out of memory. */
mongoc_client_t *mongo_pool_new_client(mongo_pool_t *pool);

/* Jobs queued and not yet started (for stats). */
size_t mongo_pool_queue_depth(mongo_pool_t *pool);

/* What a pool did, summed over its workers (for /metrics). */
typedef struct {
    size_t depth;           /* queued, not started */
    size_t capacity;        /* the queue's bound */
    unsigned workers;       /* threads */
    metrics_hist_sum_t run; /* duration of each job run (a client taken from the pool, the job's own work) */
    uint64_t expired;       /* jobs not run: their deadline passed in the queue, or no client came in time */
    uint64_t rejected;      /* submissions refused: the queue was full */
} mongo_pool_stats_t;

/* Fills *out (zeroed here) from any thread. */
void mongo_pool_stats(mongo_pool_t *pool, mongo_pool_stats_t *out);

#endif
