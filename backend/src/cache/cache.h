/* The read cache in Redis: key names, the generation that retires every
 * list and the categories at once, lookups (one round trip each, no
 * script), fills with TTL. One cache_t per loop thread. Knows nothing
 * about MongoDB.
 *
 * Keys (hash-tagged so that keys read or written together share a Redis
 * Cluster slot):
 *   product:<24 hex id>                one product (or a short-lived "not found")
 *   {products}:gen                     list generation, no TTL, never goes back
 *   {products}:list:<canonical query>  one page of a list, stamped with its generation
 *   {products}:categories              the categories with counts, stamped likewise
 */
#ifndef CATALOG_CACHE_H
#define CATALOG_CACHE_H

#include <h2o.h>

#include "cache/entry.h"
#include "cache/redis_loop.h"
#include "config.h"

#define CACHE_GEN_KEY "{products}:gen"
#define CACHE_LIST_PREFIX "{products}:list:"
#define CACHE_CATEGORIES_KEY "{products}:categories"
#define CACHE_PRODUCT_PREFIX "product:"

typedef struct cache cache_t;

typedef enum {
    CACHE_HIT,  /* view holds the stored entry */
    CACHE_MISS, /* nothing usable stored; gen (lists) is the generation to fill under */
    CACHE_DOWN, /* Redis failed, timed out, or the generation is not known yet: bypass */
} cache_status_t;

/* view (HIT) is valid only during the call. gen is 0 for products. */
typedef void (*cache_lookup_cb)(void *data, cache_status_t status, uint64_t gen, const entry_view_t *view);

/* Creates the cache of one loop thread and starts connecting to Redis. */
cache_t *cache_create(h2o_context_t *ctx, const config_t *cfg);

/* Looks key up with GET. Returns 0 (cb called once, later), or -1 at once
 * when Redis is not connected (cb not called). */
int cache_lookup(cache_t *c, const char *key, cache_lookup_cb cb, void *data);

/* Looks a generation-stamped key up: one MGET of the generation and the
 * key. A value stamped with another generation is a MISS. A lost
 * generation is recreated from the clock (ms, so it never goes back) and
 * the lookup reports CACHE_DOWN for this once; so is a damaged one. Returns like cache_lookup. */
int cache_lookup_gen(cache_t *c, const char *key, cache_lookup_cb cb, void *data);

/* Called once a store has been applied by Redis, or has failed (a failure
 * only costs a later miss); possibly at once, before cache_store returns. */
typedef void (*cache_done_cb)(void *data);

/* Stores value under key for ttl_s seconds (shortened by the configured
 * jitter). done (may be NULL) lets the caller answer only once the value
 * is readable by every process. */
void cache_store(cache_t *c, const char *key, const char *value, size_t len, unsigned ttl_s, cache_done_cb done, void *data);

/* Stores a generation-stamped value only if the generation is still gen,
 * so a reader that fetched before a write cannot put old data back. */
void cache_store_gen(cache_t *c, const char *key, uint64_t gen, const char *value, size_t len, unsigned ttl_s, cache_done_cb done,
                     void *data);

/* PINGs Redis; cb gets a reply or NULL (not connected, timeout); called at
 * once when not connected. */
void cache_ping(cache_t *c, redis_loop_cb cb, void *data);

/* 1 when the Redis connection is up. */
int cache_is_connected(const cache_t *c);

#endif
