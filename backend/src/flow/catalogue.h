/* The in-memory catalogue (store/mirror) in the read flow: a list or
 * categories miss is answered from it when it is exact for the generation
 * the lookup saw — after one atomic read of Redis's change stream tells a
 * store job which products to re-read first — and one loop thread keeps
 * it built ahead of readers (at start-up, and before its scan grows older
 * than MIRROR_MAX_AGE). */
#ifndef CATALOG_FLOW_CATALOGUE_H
#define CATALOG_FLOW_CATALOGUE_H

#include <h2o.h>

#include "store/products_store.h"

typedef struct app_thread app_thread_t;

/* The catalogue flow's per-thread state (the keeper runs on thread 0). */
typedef struct {
    h2o_timeout_t tick_timeout;
    h2o_timeout_entry_t tick;
    int busy; /* a keeper read or job is in flight */
    unsigned ticks;
} flow_catalogue_thread_t;

typedef void (*flow_catalogue_then)(void *data);

/* Readies a list or categories store job led by a Redis miss at gen: sets
 * the job to read the mirror when it can answer for gen, first reading the
 * change stream when the mirror is behind. Calls then(data) once, possibly
 * at once; the job then reads the store directly when the mirror cannot
 * answer (off, too large, Redis failed). */
void flow_catalogue_prepare(app_thread_t *t, products_job_t *pj, uint64_t gen, flow_catalogue_then then, void *data);

/* Counts what the in-memory layer did for a finished job that asked it
 * (answered: the job did not fail): a hit when it answered, a miss when
 * the store had to. */
void flow_catalogue_count(app_thread_t *t, const products_job_t *pj, int answered);

/* Sets up this module's per-thread state; starts the keeper on thread 0. */
void flow_catalogue_init_thread(app_thread_t *t);

#endif
