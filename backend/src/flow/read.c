#include "flow/read.h"
#include "xalloc.h"

#include "app.h"
#include "log.h"

#include "cache/entry.h"
#include "flow/catalogue.h"
#include "model/links.h"
#include "server/respond.h"
#include "model/product.h"
#include "server/problem.h"
#include "store/products_store.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* What the cache said about a read: the X-Cache header's value, and
 * whether the MongoDB result is filled into Redis (only after a MISS:
 * Redis answered, and the value is stamped with the generation it saw). */
typedef enum { OUTCOME_HIT, OUTCOME_MISS, OUTCOME_BYPASS } outcome_t;
static const char *const outcome_names[] = {[OUTCOME_HIT] = "HIT", [OUTCOME_MISS] = "MISS", [OUTCOME_BYPASS] = "BYPASS"};

/* One descriptor per read kind: its Redis key prefix, its store job, its
 * class in the in-process cache. */
static const struct {
    const char *prefix;
    products_job_kind_t job;
    int floor; /* product entries also obey the floor */
    local_class_t local;
} kinds[] = {
    [FLOW_READ_PRODUCT] = {CACHE_PRODUCT_PREFIX, STORE_GET_PRODUCT, 1, LOCAL_PRODUCT},
    [FLOW_READ_LIST] = {CACHE_LIST_PREFIX, STORE_LIST_PRODUCTS, 0, LOCAL_LIST},
    [FLOW_READ_CATEGORIES] = {CACHE_CATEGORIES_KEY, STORE_CATEGORIES, 0, LOCAL_CATEGORIES},
};

/* One request's read; on the heap because Redis replies and flight results
 * may arrive after the request is gone (then op.r is NULL). */
typedef struct {
    flight_waiter_t waiter; /* first: messages are mapped back to the read */
    respond_op_t op;        /* the request's reference, plus one while a lookup or a flight holds the read */
    app_thread_t *thread;
    flow_read_kind_t kind;
    int answered;
    outcome_t outcome;
    const char *subject; /* the tail of key: the product id, or the canonical query */
    query_t *query;      /* a list's parsed query (owned), what its store job runs: never the key parsed back */
    uint64_t gen;        /* the generation the lookup saw (0: unknown, Redis bypassed) */
    uint64_t ticket;     /* taken from the in-process cache before the lookup was sent (0: no fill) */
    const char *layer;   /* which layer answered a HIT: "local" or "redis" */
    h2o_timeout_entry_t timeout;
    char key[]; /* the Redis key; allocated with the read */
} rt_t;

/* The store job of a flight, with its encoded result. */
typedef struct {
    products_job_t pj;    /* first: a store_job_t* maps back to the job */
    app_thread_t *leader; /* the loop the result comes back to */
    flight_t *flight;
    char *fill_key;            /* Redis key to fill, NULL when the leader bypassed Redis */
    uint64_t fill_gen;         /* the generation the value is stamped with and filled under */
    h2o_timeout_entry_t delay; /* DEBUG_FILL_DELAY_MS */
    int status;                /* 200, 404, or 503 */
    int rejected;              /* 503 because the store queue was full */
    char *blob;                /* entry bytes (200/404) */
    size_t blob_len;
    entry_view_t view;
    char request_id[RESPOND_ID_MAX + 1]; /* the leading read's, for the log */
} rt_job_t;

static void rt_destroy(respond_op_t *op)
{
    rt_t *rt = H2O_STRUCT_FROM_MEMBER(rt_t, op, op);
    if (h2o_timeout_is_linked(&rt->timeout))
        h2o_timeout_unlink(&rt->timeout);
    free(rt->query);
    free(rt);
}

/* ---- answering ---- */

static void answer_not_found(rt_t *rt)
{
    char detail[96];
    snprintf(detail, sizeof(detail), "no product has the id %s", rt->subject);
    respond_problem(rt->op.r, 404, PROBLEM_TYPE_NOT_FOUND, detail, NULL);
}

static void answer_entry(rt_t *rt, const entry_view_t *v)
{
    request_t *r = rt->op.r;
    rt->answered = 1;
    respond_header(r, "x-cache", outcome_names[rt->outcome], strlen(outcome_names[rt->outcome]));
    if (rt->outcome == OUTCOME_HIT)
        respond_header(r, "x-cache-layer", rt->layer, strlen(rt->layer));
    if (v->status == 404) {
        answer_not_found(rt);
        return;
    }
    if (v->status == 400) { /* a list whose category does not exist: known without another lookup */
        char detail[160];
        snprintf(detail, sizeof(detail), "no category has the slug '%.*s' (see /api/categories)", (int)v->body_len, v->body);
        respond_problem(r, 400, PROBLEM_TYPE_INVALID_PARAMETER, detail, "category");
        return;
    }
    if (v->link_len != 0)
        respond_header(r, "link", v->link, v->link_len);
    /* clients may keep it, but must revalidate (cheap: If-None-Match → 304) */
    h2o_add_header(&r->req->pool, &r->req->res.headers, H2O_TOKEN_CACHE_CONTROL, NULL, H2O_STRLIT("no-cache"));
    if (respond_etag_matches(r->req, v->etag, v->etag_len))
        respond_not_modified(r, v->etag, v->etag_len);
    else
        respond_body(r, 200, NULL, v->etag, v->etag_len, v->body, v->body_len);
}

static void answer_unavailable(rt_t *rt, const char *detail)
{
    rt->answered = 1;
    respond_header(rt->op.r, "x-cache", outcome_names[rt->outcome], strlen(outcome_names[rt->outcome]));
    respond_unavailable(rt->op.r, detail, 1);
}

/* ---- the store job (encoding runs on the worker thread) ---- */

static void answer_job(rt_t *rt, rt_job_t *job);

static void rt_job_free(void *p)
{
    rt_job_t *job = p;
    products_job_clear(&job->pj);
    free(job->fill_key);
    free(job->blob);
    free(job);
}

static void rt_job_finish(store_job_t *base)
{
    rt_job_t *job = (rt_job_t *)base;
    products_job_t *pj = &job->pj;
    job->status = 503;
    if (base->state == STORE_JOB_EXPIRED || pj->result == STORE_ERROR)
        return;
    char etag[32];
    size_t etag_len = 0, link_len = 0;
    char *link = NULL;
    if (pj->gen > job->fill_gen) /* from the mirror, exact for a later generation than the lookup saw */
        job->fill_gen = pj->gen;
    if (pj->result == STORE_NOT_FOUND) {
        job->status = pj->kind == STORE_LIST_PRODUCTS ? 400 : 404;
    } else {
        job->status = 200;
        if (pj->kind == STORE_GET_PRODUCT)
            etag_len = (size_t)product_etag(pj->version, etag);
        else
            etag_len = (size_t)entry_hash_etag(pj->json, pj->json_len, etag);
        if (pj->kind == STORE_LIST_PRODUCTS)
            link = links_page_header(&pj->query, pj->count, &link_len);
    }
    job->blob = entry_encode(job->status, job->fill_gen, etag, etag_len, link, link_len, pj->json, pj->json_len, &job->blob_len);
    free(link);
    products_job_clear(pj); /* the blob holds the body now */
    if (job->blob == NULL || entry_decode(job->blob, job->blob_len, &job->view) != 0)
        job->status = 503;
}

/* Answers a waiter from a finished job. */
static void answer_job(rt_t *rt, rt_job_t *job)
{
    if (job->status != 503)
        answer_entry(rt, &job->view);
    else if (job->pj.base.state == STORE_JOB_EXPIRED)
        answer_unavailable(rt, "the product database did not answer in time");
    else if (job->rejected)
        answer_unavailable(rt, "too many requests are waiting for the product database");
    else
        answer_unavailable(rt, "the product database is unavailable");
}

static void finish_flight(void *data)
{
    rt_job_t *job = data;
    job->leader->read.leading--;
    flight_finish(job->leader->app->flights, job->flight, job, rt_job_free);
}

/* Fills Redis, guarded by the generation the lookup saw: a write that
 * bumped it since (its reader fetched the old document) makes this a no-op. */
static void fill(rt_job_t *job)
{
    app_thread_t *t = job->leader;
    unsigned ttl = job->status != 200 ? t->app->cfg.cache_negative_ttl_s : t->app->cfg.cache_ttl_s;
    cache_store_gen(t->cache, job->fill_key, job->fill_gen, job->blob, job->blob_len, ttl, finish_flight, job);
}

static void on_fill_delay(h2o_timeout_entry_t *entry)
{
    fill(H2O_STRUCT_FROM_MEMBER(rt_job_t, delay, entry));
}

/* On the leader's loop: fill Redis first, and post the result to every
 * waiter once Redis has applied the fill (or failed), so that a client
 * coming straight back — to any process — finds it. */
static void on_store_done(store_job_t *base)
{
    rt_job_t *job = (rt_job_t *)base;
    app_thread_t *t = job->leader;
    APP_STAT_ADD(t, store_passes, job->pj.passes);
    flow_catalogue_count(t, &job->pj, job->status != 503);
    if (job->status == 503) {
        APP_STAT_ADD(t, store_errors, 1);
        LOG(LOG_ERROR, "store_failed", job->pj.error[0] != '\0' ? job->pj.error : "no answer within MONGO_TIMEOUT_MS",
            LOG_S("request_id", job->request_id));
    } else if (job->fill_key != NULL) {
        flight_publish(job->flight, job);
        if (t->app->cfg.debug_fill_delay_ms != 0) { /* tests: a fill that loses the race with a write */
            job->delay.cb = on_fill_delay;
            h2o_timeout_link(t->ctx.loop, &t->read.fill_delay_timeout, &job->delay);
        } else {
            fill(job);
        }
        return;
    }
    finish_flight(job);
}

/* On each waiter's loop. */
static void on_flight_result(h2o_multithread_receiver_t *receiver, h2o_linklist_t *messages)
{
    h2o_multithread_message_t *msg;
    while ((msg = app_next_message(messages)) != NULL) {
        rt_t *rt = (rt_t *)H2O_STRUCT_FROM_MEMBER(flight_waiter_t, msg, msg);
        flight_t *f = rt->waiter.flight;
        if (h2o_timeout_is_linked(&rt->timeout))
            h2o_timeout_unlink(&rt->timeout);
        if (rt->op.r != NULL && !rt->answered)
            answer_job(rt, flight_result(f));
        flight_release(f);
        respond_op_unref(&rt->op); /* the flight's reference */
    }
}

static void on_wait_timeout(h2o_timeout_entry_t *entry)
{
    rt_t *rt = H2O_STRUCT_FROM_MEMBER(rt_t, timeout, entry);
    /* the flight still holds rt (its reference goes when the result
     * arrives). The store may have answered while the fill into Redis is
     * still pending: a slow Redis must not turn that into a 503 */
    if (rt->op.r != NULL && !rt->answered) {
        rt_job_t *job = flight_result(rt->waiter.flight);
        if (job != NULL) /* published: the fill is still pending */
            answer_job(rt, job);
        else
            answer_unavailable(rt, "the product database did not answer in time");
    }
}

/* Hands a flight's job to the store (a full queue answers 503). */
static void submit_job(void *data)
{
    rt_job_t *job = data;
    app_thread_t *t = job->leader;
    APP_STAT_ADD(t, store_jobs, 1);
    if (mongo_pool_submit(t->app->store, &job->pj.base) != 0) {
        APP_STAT_ADD(t, store_rejected, 1);
        job->status = 503;
        job->rejected = 1;
        finish_flight(job);
    }
}

static void join_flight(rt_t *rt)
{
    app_thread_t *t = rt->thread;
    app_t *app = t->app;
    /* reads of different generations are different flights: a reader that
     * saw a newer generation must not get a result read before it; the
     * same for a write of this process not yet seen in Redis (epoch) */
    size_t kl = strlen(rt->key) + 48;
    char *key = xmalloc(kl);
    snprintf(key, kl, "%llu:%llu:%s", (unsigned long long)rt->gen,
             (unsigned long long)atomic_load_explicit(&app->cache_shared.write_epoch, memory_order_acquire), rt->key);

    respond_op_ref(&rt->op); /* the flight's */
    rt->waiter.receiver = &t->read.flight_receiver;
    flight_role_t role = flight_join(app->flights, key, &rt->waiter);
    free(key);
    h2o_timeout_link(t->ctx.loop, &t->read.wait_timeout, &rt->timeout);
    if (role == FLIGHT_JOINED) {
        APP_STAT_ADD(t, flight_joiners, 1);
        return;
    }
    APP_STAT_ADD(t, flight_leaders, 1);

    rt_job_t *job = xcalloc(1, sizeof(*job));
    products_job_init(&job->pj, kinds[rt->kind].job, app->cfg.mongo_timeout_ms);
    job->pj.currency = app->cfg.currency;
    job->pj.base.reply_to = &t->jobs_receiver;
    job->pj.base.done = on_store_done;
    job->pj.base.finish = rt_job_finish;
    if (rt->kind == FLOW_READ_PRODUCT)
        bson_oid_init_from_string(&job->pj.id, rt->subject);
    else if (rt->kind == FLOW_READ_LIST)
        job->pj.query = *rt->query;
    job->leader = t;
    respond_copy_id(rt->op.r, job->request_id);
    t->read.leading++;
    job->flight = rt->waiter.flight;
    if (rt->outcome == OUTCOME_MISS) { /* Redis answered: fill it */
        job->fill_key = xstrdup(rt->key);
        job->fill_gen = rt->gen;
    }
    if (rt->outcome == OUTCOME_MISS && rt->kind != FLOW_READ_PRODUCT)
        flow_catalogue_prepare(t, &job->pj, rt->gen, submit_job, job);
    else
        submit_job(job);
}

/* The Redis lookup's outcome: a hit is answered with the stored bytes;
 * a miss or a bypass joins (or leads) the key's flight. */
static void decide(rt_t *rt, cache_status_t status, uint64_t gen, const entry_view_t *view)
{
    app_thread_t *t = rt->thread;
    if (status == CACHE_HIT) {
        APP_STAT_ADD(t, cache_hits, 1);
        rt->outcome = OUTCOME_HIT;
        rt->layer = "redis";
        if (t->app->local != NULL) /* filled from Redis hits: a fill's own SET invalidates its entry */
            local_fill(t->app->local, rt->key, strlen(rt->key), kinds[rt->kind].local, rt->ticket, view);
        answer_entry(rt, view);
        return;
    }
    if (status == CACHE_MISS) {
        APP_STAT_ADD(t, cache_misses, 1);
        rt->outcome = OUTCOME_MISS;
        rt->gen = gen;
    } else {
        APP_STAT_ADD(t, cache_bypass, 1);
        rt->outcome = OUTCOME_BYPASS;
    }
    join_flight(rt);
}

/* A Redis hit held by DEBUG_LOOKUP_DELAY_MS (tests: a reply that races an
 * invalidation), with a copy of its bytes; it keeps the lookup's reference. */
typedef struct {
    h2o_timeout_entry_t entry; /* first */
    rt_t *rt;
    size_t len;
    char bytes[];
} held_t;

static void on_held(h2o_timeout_entry_t *entry)
{
    held_t *h = (held_t *)entry;
    rt_t *rt = h->rt;
    entry_view_t v;
    if (rt->op.r != NULL && entry_decode(h->bytes, h->len, &v) == 0)
        decide(rt, CACHE_HIT, v.gen, &v);
    free(h);
    respond_op_unref(&rt->op);
}

static void on_lookup(void *data, cache_status_t status, uint64_t gen, const entry_view_t *view)
{
    rt_t *rt = data;
    if (rt->op.r != NULL && status == CACHE_HIT && rt->thread->app->cfg.debug_lookup_delay_ms != 0) {
        held_t *h = xcalloc(1, sizeof(*h) + view->raw_len);
        h->entry.cb = on_held;
        h->rt = rt;
        h->len = view->raw_len;
        memcpy(h->bytes, view->raw, view->raw_len);
        h2o_timeout_link(rt->thread->ctx.loop, &rt->thread->read.lookup_delay_timeout, &h->entry);
        return;
    }
    if (rt->op.r != NULL)
        decide(rt, status, gen, view);
    respond_op_unref(&rt->op); /* the lookup's reference */
}

/* Answers from the in-process cache when it holds the key; otherwise takes
 * the ticket that lets the Redis lookup about to be sent fill it. */
static int answer_local(rt_t *rt)
{
    app_thread_t *t = rt->thread;
    if (t->app->local == NULL)
        return 0;
    local_entry_t *e = local_lookup(t->app->local, rt->key, strlen(rt->key), &rt->ticket);
    if (e == NULL)
        return 0;
    APP_STAT_ADD(t, cache_hits_local, 1); /* cache_hits counts Redis's */
    rt->outcome = OUTCOME_HIT;
    rt->layer = "local";
    answer_entry(rt, &e->view);
    local_entry_release(e);
    return 1;
}

void flow_read_start(request_t *r, flow_read_kind_t kind, const char *id, const query_t *q)
{
    app_thread_t *t = r->thread;
    /* the key is built on the stack, then the read is one allocation */
    char key[4096];
    size_t pl = strlen(kinds[kind].prefix), kl = pl;
    memcpy(key, kinds[kind].prefix, pl + 1);
    if (kind == FLOW_READ_PRODUCT) {
        memcpy(key + pl, id, 24);
        kl += 24;
    } else if (kind == FLOW_READ_LIST) {
        int n = query_canonical(q, q->offset, key + pl, sizeof(key) - pl);
        kl += n > 0 ? (size_t)n : 0;
    }
    key[kl] = '\0';
    rt_t *rt = xcalloc(1, sizeof(*rt) + kl + 1);
    memcpy(rt->key, key, kl + 1);
    respond_op_attach(&rt->op, r, rt_destroy);
    rt->thread = t;
    rt->kind = kind;
    rt->timeout.cb = on_wait_timeout;
    rt->subject = rt->key + pl;
    if (kind == FLOW_READ_LIST) {
        rt->query = xmalloc(sizeof(*rt->query));
        *rt->query = *q;
    }

    /* while a write of this process is not yet invalidated, Redis may hold
     * what it replaced */
    if (!t->app->cfg.bench_bypass_cache && !cache_is_dirty(t->cache)) {
        if (answer_local(rt))
            return;
        respond_op_ref(&rt->op); /* the lookup's */
        if (cache_lookup_gen(t->cache, rt->key, kinds[kind].floor, on_lookup, rt) == 0)
            return;
        respond_op_unref(&rt->op);
    }
    APP_STAT_ADD(t, cache_bypass, 1);
    rt->outcome = OUTCOME_BYPASS;
    join_flight(rt);
}

void flow_read_init_thread(app_thread_t *t)
{
    h2o_multithread_register_receiver(t->ctx.queue, &t->read.flight_receiver, on_flight_result);
    h2o_timeout_init(t->ctx.loop, &t->read.wait_timeout, t->app->cfg.mongo_timeout_ms);
    h2o_timeout_init(t->ctx.loop, &t->read.fill_delay_timeout, t->app->cfg.debug_fill_delay_ms);
    h2o_timeout_init(t->ctx.loop, &t->read.lookup_delay_timeout, t->app->cfg.debug_lookup_delay_ms);
}
