/* Product queries against MongoDB, run on a worker thread, producing the
 * API's JSON. Filters are built as typed BSON from validated parameters,
 * never from user JSON. Knows nothing about HTTP or Redis. */
#ifndef CATALOG_PRODUCTS_STORE_H
#define CATALOG_PRODUCTS_STORE_H

#include "model/change.h"
#include "model/query.h"
#include "store/mirror.h"
#include "store/mongo_pool.h"

typedef enum {
    STORE_GET_PRODUCT,
    STORE_LIST_PRODUCTS,
    STORE_CATEGORIES,
    STORE_PING,
    STORE_MIRROR_SYNC, /* only bring the mirror to sync.gen (ahead of readers) */
} products_job_kind_t;

typedef enum {
    STORE_OK = 1,
    STORE_NOT_FOUND = 0,
    STORE_ERROR = -1,
} products_result_t;

/* A products job: fill the inputs, set base.reply_to (and base.finish if
 * wanted), call products_job_init, submit base to the pool. */
typedef struct {
    store_job_t base;
    products_job_kind_t kind;
    const char *currency;
    bson_oid_t id; /* STORE_GET_PRODUCT */
    query_t query; /* STORE_LIST_PRODUCTS */
    /* lists and categories from the in-memory catalogue, when mirror is set:
     * brought to sync.gen first when that is set (sync owned by the job),
     * then it must be at min_gen at least, else the store answers */
    mirror_t *mirror;
    change_batch_t sync;
    int force_scan;
    uint64_t min_gen;
    /* outputs, valid once the job's message arrived */
    products_result_t result;
    char *json; /* malloc'd body (item, list or categories), owned by the job; a list's
                 * STORE_NOT_FOUND: the first category slug that does not exist */
    size_t json_len;
    int64_t count;   /* STORE_LIST_PRODUCTS: total matching */
    int64_t version; /* STORE_GET_PRODUCT */
    uint64_t gen;    /* a result from the mirror: the generation it is exact for (0: from the store) */
    unsigned passes; /* queries that read the whole collection (count, sorted find, $group); mirror scans are counted there */
    char error[512]; /* STORE_ERROR: the driver's message, for the log */
} products_job_t;

/* Sets base.run and the deadline (now + timeout_ms); clears outputs. */
void products_job_init(products_job_t *job, products_job_kind_t kind, unsigned timeout_ms);

/* Frees the job's outputs (not the job). */
void products_job_clear(products_job_t *job);

/* Calls cb once per document of the categories collection with its slug
 * and name (the slug when it has none; documents without a slug are
 * skipped). Returns 0, or -1 with *err set. */
int products_store_each_category(mongoc_collection_t *categories, void (*cb)(void *data, const char *slug, const char *name),
                                 void *data, bson_error_t *err);

/* Builds the list filter for a query into *filter (initialised by caller).
 * Exposed for tests and the bare-client benchmark. */
void products_store_list_filter(const query_t *q, bson_t *filter);

/* Builds the find options (sort with _id tie-breaker, skip, limit,
 * projection) into *opts (initialised by caller). */
void products_store_list_opts(const query_t *q, bson_t *opts);

#endif
