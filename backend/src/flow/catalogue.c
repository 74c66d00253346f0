#include "flow/catalogue.h"
#include "xalloc.h"
#include "log.h"

#include "app.h"

#define KEEPER_TICK_MS 100          /* until the first build; then every tenth tick */
#define KEEPER_JOB_TIMEOUT_MS 60000 /* no client waits on it: a scan may take its time */

typedef struct {
    products_job_t *pj;
    flow_catalogue_then then;
    void *data;
} prepare_t;

/* The stream read came back: the job carries it to the mirror, or reads
 * the store when Redis failed. */
static void on_changes(void *data, change_batch_t *b)
{
    prepare_t *p = data;
    if (b == NULL) {
        p->pj->mirror = NULL;
    } else {
        p->pj->sync = *b;
        free(b);
    }
    p->then(p->data);
    free(p);
}

void flow_catalogue_prepare(app_thread_t *t, products_job_t *pj, uint64_t gen, flow_catalogue_then then, void *data)
{
    mirror_t *m = t->app->mirror;
    if (m == NULL || gen == 0 || !mirror_usable(m)) {
        then(data);
        return;
    }
    pj->mirror = m;
    pj->min_gen = gen;
    if (mirror_gen(m) >= gen) {
        then(data);
        return;
    }
    char base[CHANGE_STREAM_ID_MAX];
    mirror_base_id(m, base);
    prepare_t *p = xmalloc(sizeof(*p));
    *p = (prepare_t){pj, then, data};
    cache_changes(t->cache, base, MIRROR_PATCH_MAX + 1, on_changes, p);
}

void flow_catalogue_count(app_thread_t *t, const products_job_t *pj, int answered)
{
    if (pj->mirror == NULL || !answered)
        return;
    if (pj->gen != 0)
        APP_STAT_ADD(t, memory_hits, 1);
    else
        APP_STAT_ADD(t, memory_misses, 1);
}

/* ---- the keeper: builds the mirror ahead of readers ---- */

typedef struct {
    products_job_t pj; /* first: the store_job_t maps back */
    app_thread_t *thread;
} keeper_job_t;

static void on_keeper_done(store_job_t *base)
{
    keeper_job_t *job = (keeper_job_t *)base;
    if (job->pj.result != STORE_OK && job->pj.error[0] != '\0')
        LOG(LOG_WARN, "catalogue_sync_failed",
            "the in-memory catalogue could not be brought up to date; the store answers meanwhile", LOG_S("error", job->pj.error));
    job->thread->catalogue.busy = 0;
    products_job_clear(&job->pj);
    free(job);
}

static void on_keeper_changes(void *data, change_batch_t *b)
{
    app_thread_t *t = data;
    mirror_t *m = t->app->mirror;
    if (b == NULL || b->gen == 0 || (!mirror_wants_scan(m) && b->gen <= mirror_gen(m))) {
        if (b != NULL)
            free(b->changes);
        free(b);
        t->catalogue.busy = 0;
        return;
    }
    keeper_job_t *job = xcalloc(1, sizeof(*job));
    job->thread = t;
    products_job_init(&job->pj, STORE_MIRROR_SYNC, KEEPER_JOB_TIMEOUT_MS);
    job->pj.mirror = m;
    job->pj.sync = *b;
    free(b);
    job->pj.force_scan = mirror_gen(m) != 0 && mirror_wants_scan(m); /* built, and here because of its age */
    job->pj.base.reply_to = &t->jobs_receiver;
    job->pj.base.done = on_keeper_done;
    if (mongo_pool_submit(t->app->mirror_store, &job->pj.base) != 0)
        on_keeper_done(&job->pj.base);
}

/* Every tick until the first build, then every tenth: catches the mirror
 * up with the stream (after writes, or a restarted Redis, so that the next
 * reader does not pay for it) and scans it again before it is too old. */
static void on_tick(h2o_timeout_entry_t *entry)
{
    app_thread_t *t = H2O_STRUCT_FROM_MEMBER(app_thread_t, catalogue.tick, entry);
    mirror_t *m = t->app->mirror;
    if (t->draining)
        return;
    h2o_timeout_link(t->ctx.loop, &t->catalogue.tick_timeout, &t->catalogue.tick);
    if (mirror_gen(m) != 0 && ++t->catalogue.ticks % 10 != 0)
        return;
    if (t->catalogue.busy || !mirror_usable(m) || !cache_is_connected(t->cache) || cache_is_dirty(t->cache))
        return;
    t->catalogue.busy = 1;
    char base[CHANGE_STREAM_ID_MAX];
    mirror_base_id(m, base);
    cache_changes(t->cache, base, MIRROR_PATCH_MAX + 1, on_keeper_changes, t);
}

void flow_catalogue_init_thread(app_thread_t *t)
{
    if (t->index != 0 || t->app->mirror == NULL)
        return;
    h2o_timeout_init(t->ctx.loop, &t->catalogue.tick_timeout, KEEPER_TICK_MS);
    t->catalogue.tick.cb = on_tick;
    h2o_timeout_link(t->ctx.loop, &t->catalogue.tick_timeout, &t->catalogue.tick);
}
