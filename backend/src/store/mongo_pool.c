#include "store/mongo_pool.h"
#include "clock.h"
#include "log.h"
#include "xalloc.h"

#include <pthread.h>
#include <sys/resource.h>
#include <unistd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* One worker's counters: written by that worker only, on a line of its own. */
typedef struct {
    _Alignas(64) mongo_pool_t *pool;
    metrics_hist_t run;
    metrics_counter_t expired;
} worker_slot_t;

struct mongo_pool {
    mongoc_client_pool_t *clients;
    mongoc_uri_t *uri; /* with the timeouts, for mongo_pool_new_client */
    char db[64];
    unsigned delay_ms; /* DEBUG_STORE_DELAY_MS */
    pthread_mutex_t mutex;
    pthread_cond_t cond;
    store_job_t *head, *tail;
    size_t depth, max_depth;
    int nice; /* CPU priority of the worker threads (0: unchanged) */
    unsigned workers;
    worker_slot_t *slots;      /* one per worker */
    _Atomic uint64_t rejected; /* submissions refused (any thread; rare) */
};

static void *worker_main(void *arg)
{
    worker_slot_t *slot = arg;
    mongo_pool_t *pool = slot->pool;
    /* Linux: nice applies per thread (the tid); best effort */
    if (pool->nice != 0 && setpriority(PRIO_PROCESS, (id_t)gettid(), pool->nice) != 0)
        LOG0(LOG_WARN, "setpriority_failed", "the CPU priority of a worker thread could not be lowered");
    for (;;) {
        pthread_mutex_lock(&pool->mutex);
        while (pool->head == NULL)
            pthread_cond_wait(&pool->cond, &pool->mutex);
        store_job_t *job = pool->head;
        pool->head = job->_next;
        if (pool->head == NULL)
            pool->tail = NULL;
        pool->depth--;
        pthread_mutex_unlock(&pool->mutex); /* never hold the lock across I/O */

        uint64_t t0 = clock_mono_us();
        if (t0 / 1000 >= job->deadline_ms) {
            job->state = STORE_JOB_EXPIRED;
        } else {
            if (pool->delay_ms != 0) {
                struct timespec d = {pool->delay_ms / 1000, (long)(pool->delay_ms % 1000) * 1000000};
                nanosleep(&d, NULL);
            }
            mongoc_client_t *client = mongoc_client_pool_pop(pool->clients);
            if (client == NULL) { /* waitQueueTimeoutMS passed: not run, like an expired job */
                job->state = STORE_JOB_EXPIRED;
            } else {
                job->run(job, client, pool->db);
                mongoc_client_pool_push(pool->clients, client);
                job->state = STORE_JOB_DONE;
            }
            metrics_observe(&slot->run, clock_mono_us() - t0);
        }
        if (job->state == STORE_JOB_EXPIRED)
            metrics_add(&slot->expired, 1);
        if (job->finish != NULL)
            job->finish(job);
        h2o_multithread_send_message(job->reply_to, &job->msg);
    }
    return NULL;
}

static void set_default_timeout(mongoc_uri_t *uri, const char *option, int32_t ms)
{
    if (!mongoc_uri_has_option(uri, option))
        mongoc_uri_set_option_as_int32(uri, option, ms);
}

/* libmongoc's view of a server changed: a log line when it became
 * reachable or stopped being so ("Unknown" is its word for unreachable). */
static void on_server_changed(const mongoc_apm_server_changed_t *event)
{
    const char *was = mongoc_server_description_type(mongoc_apm_server_changed_get_previous_description(event));
    const char *now = mongoc_server_description_type(mongoc_apm_server_changed_get_new_description(event));
    int up_before = strcmp(was, "Unknown") != 0, up_now = strcmp(now, "Unknown") != 0;
    if (up_before == up_now)
        return;
    const mongoc_host_list_t *host = mongoc_apm_server_changed_get_host(event);
    if (up_now)
        LOG(LOG_INFO, "mongodb_up", "MongoDB reachable", LOG_S("server", host->host_and_port), LOG_S("type", now));
    else
        LOG(LOG_WARN, "mongodb_down", "MongoDB unreachable; reads of cached keys go on, others answer 503",
            LOG_S("server", host->host_and_port));
}

mongo_pool_t *mongo_pool_create(const config_t *cfg, char *err, size_t errlen)
{
    mongo_pool_t *pool = mongo_pool_create_sized(cfg, cfg->mongo_workers, cfg->mongo_queue_max, 0, err, errlen);
    if (pool != NULL) { /* this pool's clients report the connection state for the process */
        mongoc_apm_callbacks_t *cb = mongoc_apm_callbacks_new();
        mongoc_apm_set_server_changed_cb(cb, on_server_changed);
        mongoc_client_pool_set_apm_callbacks(pool->clients, cb, NULL);
        mongoc_apm_callbacks_destroy(cb);
    }
    return pool;
}

mongo_pool_t *mongo_pool_create_sized(const config_t *cfg, unsigned workers, unsigned queue_max, int nice, char *err, size_t errlen)
{
    bson_error_t error;
    mongoc_uri_t *uri = mongoc_uri_new_with_error(cfg->mongo_uri, &error);
    if (uri == NULL) {
        snprintf(err, errlen, "MONGO_URI: %s", error.message);
        return NULL;
    }
    /* nothing may wait longer than a job's own bound */
    int32_t t = (int32_t)cfg->mongo_timeout_ms;
    set_default_timeout(uri, MONGOC_URI_SERVERSELECTIONTIMEOUTMS, t);
    set_default_timeout(uri, MONGOC_URI_SOCKETTIMEOUTMS, t);
    set_default_timeout(uri, MONGOC_URI_CONNECTTIMEOUTMS, t < 1000 ? t : 1000);
    set_default_timeout(uri, MONGOC_URI_WAITQUEUETIMEOUTMS, t);
    mongoc_uri_set_appname(uri, "catalog-backend");
    /* every write is acknowledged (libmongoc's default w:1); on a replica
     * set, by a majority, unless the URI says otherwise */
    if (mongoc_uri_get_replica_set(uri) != NULL &&
        mongoc_write_concern_get_w(mongoc_uri_get_write_concern(uri)) == MONGOC_WRITE_CONCERN_W_DEFAULT) {
        mongoc_write_concern_t *wc = mongoc_write_concern_new();
        mongoc_write_concern_set_wmajority(wc, 0);
        mongoc_uri_set_write_concern(uri, wc);
        mongoc_write_concern_destroy(wc);
    }

    mongo_pool_t *pool = xcalloc(1, sizeof(*pool));
    pool->clients = mongoc_client_pool_new_with_error(uri, &error);
    if (pool->clients == NULL) {
        snprintf(err, errlen, "MONGO_URI: %s", error.message);
        mongoc_uri_destroy(uri);
        free(pool);
        return NULL;
    }
    pool->uri = uri;
    mongoc_client_pool_set_error_api(pool->clients, MONGOC_ERROR_API_VERSION_2);
    mongoc_client_pool_max_size(pool->clients, workers);
    snprintf(pool->db, sizeof(pool->db), "%s", cfg->mongo_db);
    pool->delay_ms = cfg->debug_store_delay_ms;
    pool->max_depth = queue_max;
    pool->nice = nice;
    pool->workers = workers;
    pool->slots = xcalloc_aligned(workers, sizeof(worker_slot_t), 64);
    pthread_mutex_init(&pool->mutex, NULL);
    pthread_cond_init(&pool->cond, NULL);
    for (unsigned i = 0; i < workers; i++) {
        pthread_t tid;
        pool->slots[i].pool = pool;
        if (pthread_create(&tid, NULL, worker_main, &pool->slots[i]) != 0) {
            snprintf(err, errlen, "cannot start MongoDB worker threads");
            return NULL;
        }
        pthread_detach(tid);
    }
    return pool;
}

int mongo_pool_submit(mongo_pool_t *pool, store_job_t *job)
{
    job->_next = NULL;
    pthread_mutex_lock(&pool->mutex);
    if (pool->depth >= pool->max_depth) {
        pthread_mutex_unlock(&pool->mutex);
        atomic_fetch_add_explicit(&pool->rejected, 1, memory_order_relaxed);
        return -1;
    }
    if (pool->tail != NULL)
        pool->tail->_next = job;
    else
        pool->head = job;
    pool->tail = job;
    pool->depth++;
    pthread_cond_signal(&pool->cond);
    pthread_mutex_unlock(&pool->mutex);
    return 0;
}

size_t mongo_pool_queue_depth(mongo_pool_t *pool)
{
    pthread_mutex_lock(&pool->mutex);
    size_t d = pool->depth;
    pthread_mutex_unlock(&pool->mutex);
    return d;
}

void mongo_pool_stats(mongo_pool_t *pool, mongo_pool_stats_t *out)
{
    memset(out, 0, sizeof(*out));
    out->depth = mongo_pool_queue_depth(pool);
    out->capacity = pool->max_depth;
    out->workers = pool->workers;
    out->rejected = atomic_load_explicit(&pool->rejected, memory_order_relaxed);
    for (unsigned i = 0; i < pool->workers; i++) {
        metrics_hist_sum(&out->run, &pool->slots[i].run);
        out->expired += metrics_get(&pool->slots[i].expired);
    }
}

mongoc_client_t *mongo_pool_new_client(mongo_pool_t *pool)
{
    mongoc_client_t *c = mongoc_client_new_from_uri(pool->uri);
    if (c != NULL)
        mongoc_client_set_error_api(c, MONGOC_ERROR_API_VERSION_2);
    return c;
}

void mongo_pool_on_done(h2o_multithread_receiver_t *receiver, h2o_linklist_t *messages)
{
    (void)receiver;
    while (!h2o_linklist_is_empty(messages)) {
        h2o_multithread_message_t *msg = H2O_STRUCT_FROM_MEMBER(h2o_multithread_message_t, link, messages->next);
        h2o_linklist_unlink(&msg->link);
        store_job_t *job = H2O_STRUCT_FROM_MEMBER(store_job_t, msg, msg);
        job->done(job);
    }
}

/* libmongoc's messages: levels mapped to ours; the endSessions warning it
 * prints when a pooled client is destroyed mid-outage, and its debug and
 * trace chatter, are debug. */
static void on_mongoc_log(mongoc_log_level_t level, const char *domain, const char *message, void *data)
{
    log_level_t ours = level <= MONGOC_LOG_LEVEL_CRITICAL  ? LOG_ERROR
                       : level == MONGOC_LOG_LEVEL_WARNING ? LOG_WARN
                       : level <= MONGOC_LOG_LEVEL_INFO    ? LOG_INFO
                                                           : LOG_DEBUG;
    if (strstr(message, "endSessions") != NULL)
        ours = LOG_DEBUG;
    LOG(ours, "mongoc", message, LOG_S("domain", domain));
}

void mongo_pool_capture_logs(void)
{
    mongoc_log_set_handler(on_mongoc_log, NULL);
    mongoc_log_trace_disable();
}
