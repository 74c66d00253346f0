/* The read cache in Redis: key names, the generation that retires every
 * list and the categories at once, lookups (one round trip each, no
 * script), fills with TTL. One cache_t per loop thread. Knows nothing
 * about MongoDB.
 *
 * Keys (hash-tagged so that keys read or written together share a Redis
 * Cluster slot):
 *   {products}:product:<24 hex id>     one product (or a short-lived "not found"), stamped with
 *                                      the generation it was filled under (served down to the floor)
 *   {products}:gen                     the generation, bumped by every write, no TTL, never goes back
 *   {products}:floor                   oldest generation a product entry may carry: raised to the
 *                                      generation after an outage (the changed products are unknown)
 *   {products}:list:<canonical query>  one page of a list, stamped with its generation
 *   {products}:categories              the categories with counts, stamped likewise
 *   {products}:changes                 stream: one entry per bump {gen, id | reset, and the event
 *                                      the change feed sends: ev, v, f, ep, at}, no TTL, trimmed to
 *                                      about CHANGES_MAX entries
 *   {products}:epoch                   the stream's epoch: created once (the µs clock), no TTL; a Redis
 *                                      that lost its data makes a new one, so feed ids of the old
 *                                      stream are never taken for ids of the new one
 */
#ifndef CATALOG_CACHE_H
#define CATALOG_CACHE_H

#include <h2o.h>
#include <stdatomic.h>

#include "cache/entry.h"
#include "cache/redis_loop.h"
#include "config.h"
#include "model/change.h"

#define CACHE_GEN_KEY "{products}:gen"
#define CACHE_FLOOR_KEY "{products}:floor"
#define CACHE_LIST_PREFIX "{products}:list:"
#define CACHE_CATEGORIES_KEY "{products}:categories"
#define CACHE_PRODUCT_PREFIX "{products}:product:"
#define CACHE_CHANGES_KEY "{products}:changes"
#define CACHE_EPOCH_KEY "{products}:epoch"

/* The one rule for a valid generation, in Lua (entry_parse_gen is the same
 * rule in C): a positive decimal without a leading zero (the fill script
 * compares strings, so "0123" would never match "123"), at most 19 digits. */
#define CACHE_GEN_IS_VALID_LUA "g and #g <= 19 and string.match(g, '^[1-9][0-9]*$')"

/* The stream's epoch into the Lua local ep: KEYS[k]'s value, or — when it
 * is missing or damaged — the µs clock the caller passed as ARGV[a], stored
 * there (the same rule as a generation's). */
#define CACHE_EPOCH_LUA(k, a)                                                                                                      \
    "local ep = redis.call('GET', KEYS[" #k "])\n"                                                                                 \
    "if not (ep and #ep <= 19 and string.match(ep, '^[1-9][0-9]*$')) then\n"                                                       \
    "  ep = ARGV[" #a "]\n"                                                                                                        \
    "  redis.call('SET', KEYS[" #k "], ep)\n"                                                                                      \
    "end\n"

/* Writes into buf (24 bytes) the value a lost generation restarts from:
 * the clock in microseconds, so no count of INCRs since an earlier restart
 * can be ahead of it. Returns the length. */
int cache_clock_gen(char *buf);

typedef struct cache cache_t;

/* Process-wide write bookkeeping shared by every loop's cache (atomics:
 * any loop thread may write). */
typedef struct {
    _Atomic uint64_t write_epoch; /* writes acknowledged by MongoDB in this process */
    _Atomic uint64_t dirty_epoch; /* highest write whose invalidation Redis has not confirmed; 0: none */
} cache_shared_t;

typedef enum {
    CACHE_HIT,  /* view holds the stored entry */
    CACHE_MISS, /* nothing usable stored; gen is the generation to fill under */
    CACHE_DOWN, /* Redis failed, timed out, or the generation is not known yet: bypass */
} cache_status_t;

/* view (HIT) is valid only during the call. */
typedef void (*cache_lookup_cb)(void *data, cache_status_t status, uint64_t gen, const entry_view_t *view);

/* Creates the cache of one loop thread and starts connecting to Redis.
 * Each time its connection comes back after a loss, the generation is
 * bumped and the floor raised, and lookups bypass Redis until that is
 * confirmed: a write acknowledged while this process (or another) could not
 * reach Redis must not be hidden by entries filled before it. */
cache_t *cache_create(h2o_context_t *ctx, const config_t *cfg, cache_shared_t *shared);

/* 1 while a write of this process waits for its invalidation, or this
 * loop's reconnection has not raised the floor yet: reads then bypass
 * Redis (they could see entries from before a write). */
int cache_is_dirty(const cache_t *c);

/* Looks a generation-stamped key up in one MGET. A list or the categories
 * (product 0) stamped with another generation than the current one is a
 * MISS; a product (product 1: the floor is read too) is a HIT when stamped
 * at or above the floor (a write deletes its own product's key). A MISS
 * reports the generation a fill must be guarded by. A lost or damaged
 * generation is recreated from the clock (µs, so it never goes back) and
 * the lookup is a MISS under it (one more round trip, once). Returns 0 (cb
 * called once, later), or -1 at once when Redis is not connected (cb not
 * called). */
int cache_lookup_gen(cache_t *c, const char *key, int product, cache_lookup_cb cb, void *data);

/* Called once a store has been applied by Redis, or has failed (a failure
 * only costs a later miss); possibly at once, before cache_store_gen returns. */
typedef void (*cache_done_cb)(void *data);

/* Stores a generation-stamped value for ttl_s seconds (shortened by the
 * configured jitter) only if the generation is still gen, so a reader that
 * fetched before a write cannot put old data back. done (may be NULL) lets
 * the caller answer only once the value is readable by every process. */
void cache_store_gen(cache_t *c, const char *key, uint64_t gen, const char *value, size_t len, unsigned ttl_s, cache_done_cb done,
                     void *data);

/* Called with 1 when Redis applied an invalidation, 0 when it could not
 * (then it is retried until it is, and this process bypasses the cache). */
typedef void (*cache_invalidated_cb)(void *data, int ok);

/* After a write acknowledged by MongoDB (epoch: the write's number in
 * shared->write_epoch): deletes product_key and bumps the generation
 * (restarted from the clock if lost), and appends the write's event w to
 * the change stream, in one script — or, while an earlier invalidation of
 * this process is still owed, raises the floor instead (its entry is a
 * reset). cb is called once, possibly at once. */
void cache_invalidate(cache_t *c, const char *product_key, uint64_t epoch, const change_write_t *w, cache_invalidated_cb cb,
                      void *data);

/* Called with what one atomic read saw (b owned by the callee, changes
 * malloc'd), or NULL when Redis failed or is not connected. */
typedef void (*cache_changes_cb)(void *data, change_batch_t *b);

/* Reads, in one script, the generation (recreated from the clock when lost
 * or damaged, as a lookup does), the change stream's last entry id and up
 * to max entries after after_id ("" for none). cb is called once, possibly
 * at once. */
void cache_changes(cache_t *c, const char *after_id, unsigned max, cache_changes_cb cb, void *data);

/* Counters of one loop's cache (written by its loop only, read from any thread). */
typedef struct {
    metrics_counter_t floor_raises; /* floors Redis confirmed (after a reconnection, or to settle a deferred invalidation) */
} cache_counters_t;

const cache_counters_t *cache_counters(const cache_t *c);

/* The Redis connection, for small commands of other modules (auth). */
redis_loop_t *cache_redis(cache_t *c);

/* The connection the write invalidations go on (nothing else is sent on it). */
redis_loop_t *cache_writes_redis(cache_t *c);

/* PINGs Redis; cb gets a reply or NULL (not connected, timeout); called at
 * once when not connected. */
void cache_ping(cache_t *c, redis_loop_cb cb, void *data);

/* 1 when the Redis connection is up. */
int cache_is_connected(const cache_t *c);

#endif
