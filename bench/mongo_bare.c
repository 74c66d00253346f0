/* bench-mongo-bare: the miss path without the backend — WORKERS threads,
 * each with a client from one mongoc_client_pool_t, running the backend's
 * own list query (count + find with the same filter, sort, skip, limit and
 * projection, built by products_store) for SECONDS, offsets rotating like
 * bench/run.sh's wrk script. Prints ops/s and p50/p99 in ms.
 *
 *   bench-mongo-bare MONGO_URI DB WORKERS SECONDS */
#include "model/query.h"
#include "store/products_store.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static mongoc_client_pool_t *pool;
static const char *db;
static uint64_t deadline_us;
static atomic_uint next_offset;
static pthread_mutex_t lat_mutex = PTHREAD_MUTEX_INITIALIZER;
static double *lat;
static size_t nlat, caplat;

static uint64_t now_us(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000 + (uint64_t)ts.tv_nsec / 1000;
}

static void *worker(void *arg)
{
    mongoc_client_t *client = mongoc_client_pool_pop(pool);
    mongoc_collection_t *coll = mongoc_client_get_collection(client, db, "products");
    while (now_us() < deadline_us) {
        query_t q;
        query_error_t e;
        char qs[64];
        snprintf(qs, sizeof(qs), "offset=%u", atomic_fetch_add(&next_offset, 1) % 200);
        query_parse(qs, strlen(qs), &q, &e);
        bson_t filter = BSON_INITIALIZER, opts = BSON_INITIALIZER;
        products_store_list_filter(&q, &filter);
        products_store_list_opts(&q, &opts);
        uint64_t t0 = now_us();
        bson_error_t err;
        if (mongoc_collection_count_documents(coll, &filter, NULL, NULL, NULL, &err) < 0) {
            fprintf(stderr, "count: %s\n", err.message);
            exit(1);
        }
        mongoc_cursor_t *cur = mongoc_collection_find_with_opts(coll, &filter, &opts, NULL);
        const bson_t *doc;
        size_t n = 0;
        while (mongoc_cursor_next(cur, &doc))
            n++;
        mongoc_cursor_destroy(cur);
        double ms = (double)(now_us() - t0) / 1000.0;
        pthread_mutex_lock(&lat_mutex);
        if (nlat == caplat) {
            caplat = caplat ? caplat * 2 : 4096;
            lat = realloc(lat, caplat * sizeof(*lat));
        }
        lat[nlat++] = ms;
        pthread_mutex_unlock(&lat_mutex);
        bson_destroy(&filter);
        bson_destroy(&opts);
        (void)n;
    }
    mongoc_collection_destroy(coll);
    mongoc_client_pool_push(pool, client);
    return NULL;
}

static int cmp(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

int main(int argc, char **argv)
{
    if (argc != 5) {
        fprintf(stderr, "usage: bench-mongo-bare MONGO_URI DB WORKERS SECONDS\n");
        return 2;
    }
    mongoc_init();
    mongoc_uri_t *uri = mongoc_uri_new(argv[1]);
    pool = mongoc_client_pool_new(uri);
    db = argv[2];
    int workers = atoi(argv[3]);
    double seconds = atof(argv[4]);
    mongoc_client_pool_max_size(pool, (uint32_t)workers);
    uint64_t start = now_us();
    deadline_us = start + (uint64_t)(seconds * 1e6);
    pthread_t *tids = calloc((size_t)workers, sizeof(*tids));
    for (int i = 0; i < workers; i++)
        pthread_create(&tids[i], NULL, worker, NULL);
    for (int i = 0; i < workers; i++)
        pthread_join(tids[i], NULL);
    double elapsed = (double)(now_us() - start) / 1e6;
    qsort(lat, nlat, sizeof(*lat), cmp);
    printf("ops/s %.1f p50_ms %.2f p99_ms %.2f n %zu\n", (double)nlat / elapsed, nlat ? lat[nlat / 2] : 0,
           nlat ? lat[(size_t)((double)nlat * 0.99)] : 0, nlat);
    return 0;
}
