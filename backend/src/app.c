#include "app.h"
#include "clock.h"

#include "flow/catalogue.h"
#include "flow/feed.h"
#include "flow/ready.h"
#include "flow/read.h"
#include "flow/stats.h"
#include "log.h"
#include "rand.h"
#include "server/server.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static void on_control(h2o_multithread_receiver_t *receiver, h2o_linklist_t *messages)
{
    app_thread_t *t = H2O_STRUCT_FROM_MEMBER(app_thread_t, control_receiver, receiver);
    h2o_multithread_message_t *msg;
    while ((msg = app_next_message(messages)) != NULL) {
        if (msg == &t->drain_msg && !t->draining) {
            t->draining = 1;
            server_stop_accepting(t);
            flow_stats_drain(t);
            flow_feed_drain(t);
        }
    }
}

static void *thread_main(void *arg)
{
    app_thread_t *t = arg;
    h2o_evloop_t *loop = h2o_evloop_create();
    h2o_context_init(&t->ctx, loop, &t->app->h2o);
    rand_seed(&t->rand_state, t->index);
    h2o_multithread_register_receiver(t->ctx.queue, &t->control_receiver, on_control);
    h2o_multithread_register_receiver(t->ctx.queue, &t->jobs_receiver, mongo_pool_on_done);
    flow_read_init_thread(t);
    flow_ready_init_thread(t);
    t->cache = cache_create(&t->ctx, &t->app->cfg, &t->app->cache_shared);
    if (t->app->local != NULL) { /* a connection that sees MOVED/READONLY turns the L1 off (a write's bump sees it first) */
        redis_loop_on_error(cache_redis(t->cache), local_on_redis_error, t->app->local);
        redis_loop_on_error(cache_writes_redis(t->cache), local_on_redis_error, t->app->local);
        if (t->index == 0)
            local_start(t->app->local, &t->ctx);
    }
    flow_catalogue_init_thread(t);
    flow_stats_init_thread(t);
    flow_feed_init_thread(t);
    server_start_accepting(t);
    pthread_barrier_wait(&t->app->ready);

    /* one iteration per call: after each, check whether the drain is over.
     * A thread that leads a flight stays until its result came back: the
     * waiters of other threads are answered from here */
    while (!(t->draining && metrics_gauge_get(&t->inflight) == 0 && t->read.leading == 0 && t->write.pending == 0))
        h2o_evloop_run(loop, t->draining ? 10 : INT32_MAX);
    atomic_store(&t->drained, 1);
    return NULL;
}

int app_start(app_t *app)
{
    app->started_at = clock_wall_s();
    pthread_barrier_init(&app->ready, NULL, app->cfg.threads + 1);
    for (unsigned i = 0; i < app->cfg.threads; i++) {
        app_thread_t *t = &app->threads[i];
        t->app = app;
        t->index = i;
        pthread_t tid;
        if (pthread_create(&tid, NULL, thread_main, t) != 0) {
            LOG(LOG_ERROR, "start_failed", "cannot start a loop thread", LOG_I("thread", i));
            return -1;
        }
        pthread_detach(tid);
    }
    /* a signal may be waiting already: app_drain must find every receiver registered */
    pthread_barrier_wait(&app->ready);
    return 0;
}

int app_drain(app_t *app, unsigned timeout_ms)
{
    for (unsigned i = 0; i < app->cfg.threads; i++)
        h2o_multithread_send_message(&app->threads[i].control_receiver, &app->threads[i].drain_msg);
    for (unsigned waited = 0;; waited += 5) {
        unsigned done = 0;
        for (unsigned i = 0; i < app->cfg.threads; i++)
            done += (unsigned)atomic_load(&app->threads[i].drained);
        if (done == app->cfg.threads)
            return 1;
        if (waited >= timeout_ms)
            return 0;
        struct timespec d = {0, 5 * 1000000};
        nanosleep(&d, NULL);
    }
}
