/* The read cache in Redis: key names, the generation that retires every
 * list and the categories at once, lookups (one round trip each), fills
 * with TTL. One cache_t per loop thread. Knows nothing about MongoDB.
 *
 * Keys (hash-tagged so that a script's keys share a Redis Cluster slot):
 *   product:<24 hex id>                      one product (or a short-lived "not found")
 *   {products}:gen                           list generation, no TTL, never goes back
 *   {products}:list:<gen>:<canonical query>  one page of a list
 *   {products}:categories:<gen>              the categories with counts
 */
#ifndef CATALOG_CACHE_H
#define CATALOG_CACHE_H

#include <h2o.h>

#include "cache/redis_loop.h"
#include "config.h"

#define CACHE_GEN_KEY "{products}:gen"
#define CACHE_LIST_PREFIX "{products}:list:"
#define CACHE_CATEGORIES_PREFIX "{products}:categories:"
#define CACHE_PRODUCT_PREFIX "product:"

typedef struct cache cache_t;

typedef enum {
    CACHE_HIT,  /* value holds the stored bytes */
    CACHE_MISS, /* no value; gen (lists) tells which generation to fill */
    CACHE_DOWN, /* Redis failed or timed out: bypass it */
} cache_status_t;

/* value/gen are valid only during the call. gen is empty for products. */
typedef void (*cache_lookup_cb)(void *data, cache_status_t status, const char *gen, size_t gen_len, const char *value,
                                size_t value_len);

/* Creates the cache of one loop thread and starts connecting to Redis. */
cache_t *cache_create(h2o_context_t *ctx, const config_t *cfg);

/* Looks a product up (GET product:<id>). Returns 0 (cb called once, later),
 * or -1 at once when Redis is not connected (cb not called). */
int cache_lookup_product(cache_t *c, const char *id, cache_lookup_cb cb, void *data);

/* Looks a generation-scoped value up: reads the generation (creating it
 * from the clock if it was lost) and the key of that generation in one
 * round trip (EVALSHA). prefix is CACHE_LIST_PREFIX or
 * CACHE_CATEGORIES_PREFIX; suffix the canonical query ("" for categories).
 * Returns like cache_lookup_product. */
int cache_lookup_gen(cache_t *c, const char *prefix, const char *suffix, cache_lookup_cb cb, void *data);

/* Builds a full key into a malloc'd string: prefix + gen + ":" + suffix for
 * generation-scoped keys (gen != NULL), prefix + suffix otherwise. */
char *cache_key(const char *prefix, const char *gen, size_t gen_len, const char *suffix);

/* Stores value under key with the given TTL (seconds; shortened by the
 * configured jitter), fire-and-forget: a failure only costs a later miss. */
void cache_store(cache_t *c, const char *key, const char *value, size_t len, unsigned ttl_s);

/* PINGs Redis; cb gets a reply or NULL (not connected, timeout). */
void cache_ping(cache_t *c, redis_loop_cb cb, void *data);

/* 1 when the Redis connection is up. */
int cache_is_connected(const cache_t *c);

#endif
