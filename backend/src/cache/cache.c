#include "cache/cache.h"
#include "xalloc.h"

#include "clock.h"
#include "rand.h"

#include <openssl/sha.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* A fill of a generation-stamped key: only while the generation is the one
 * the value was read under (miss path only; hits use a plain MGET). */
static const char FILL_GEN_LUA[] = "if redis.call('GET', KEYS[1]) == ARGV[1] then\n"
                                   "  return redis.call('SET', KEYS[2], ARGV[2], 'EX', ARGV[3])\n"
                                   "end\n"
                                   "return false\n";

struct cache {
    redis_loop_t *redis;
    /* the invalidation scripts' own connection: its replies are a few bytes,
     * so Redis never holds unsent output for it — with a list reply over
     * 64 KB pending on the data connection, a bump's reply there could go
     * out from the write handler before beforeSleep sends the
     * invalidations (README, "Delivery order") */
    redis_loop_t *writes;
    const config_t *cfg;
    cache_shared_t *shared;
    char fill_sha[41];
    uint64_t rand_state;
    int connected_before; /* a ready connection existed: the next one is a reconnection */
    int need_floor;       /* this connection has not yet raised the floor it owes: lookups bypass */
    h2o_loop_t *loop;
    h2o_timeout_t retry_timeout; /* retries of a failed invalidation */
    h2o_timeout_entry_t retry_entry;
    cache_counters_t counters;
};

/* A write's invalidation: bump the generation (restart it from the clock if
 * it is lost or damaged) and delete the product's key, atomically. With
 * 'all' (after an outage: which products changed is not known) the floor
 * moves up to the new generation instead, retiring every product entry.
 * Either way one entry goes into the change stream with the generation it
 * made — naming the product, or "reset" — so the stream has an entry for
 * exactly each bump, in the order of the bumps. The entry also carries the
 * change feed's event: ev (created, updated, deleted, unknown), v (the
 * version), f (changed fields), ep (the stream's epoch), at (ms). */
static const char BUMP_LUA[] =
    CACHE_EPOCH_LUA(4, 1) "local g = redis.call('GET', KEYS[1])\n"
                          "if " CACHE_GEN_IS_VALID_LUA " then\n"
                          "  g = redis.call('INCR', KEYS[1])\n"
                          "else\n"
                          "  redis.call('SET', KEYS[1], ARGV[1])\n"
                          "  g = ARGV[1]\n"
                          "end\n"
                          "if ARGV[2] == 'all' then\n"
                          "  redis.call('SET', KEYS[2], g)\n"
                          "  redis.call('XADD', KEYS[3], 'MAXLEN', '~', ARGV[3], '*', 'gen', g, "
                          "'reset', '1', 'ep', ep, 'at', ARGV[8])\n"
                          "else\n"
                          "  redis.call('DEL', KEYS[2])\n"
                          "  redis.call('XADD', KEYS[3], 'MAXLEN', '~', ARGV[3], '*', 'gen', g, "
                          "'id', ARGV[4], 'ev', ARGV[5], 'v', ARGV[6], 'f', ARGV[7], 'ep', ep, 'at', ARGV[8])\n"
                          "end\n"
                          "return g\n";

#define CACHE_RETRY_MS 200

typedef struct {
    cache_t *cache;
    cache_lookup_cb cb;
    void *data;
    int product;
} lookup_t;

static void sha1_hex(const char *s, char out[41])
{
    unsigned char md[SHA_DIGEST_LENGTH];
    SHA1((const unsigned char *)s, strlen(s), md);
    for (int i = 0; i < SHA_DIGEST_LENGTH; i++)
        sprintf(out + 2 * i, "%02x", md[i]);
}

int cache_clock_gen(char *buf)
{
    return snprintf(buf, 24, "%llu", (unsigned long long)clock_wall_us());
}

static void load_fill_script(redis_loop_t *rl)
{
    REDIS_CALL(rl, 0, NULL, NULL, redis_str("SCRIPT"), redis_str("LOAD"), redis_str(FILL_GEN_LUA));
}

typedef struct {
    cache_t *cache;
    uint64_t epoch; /* writes up to this one are covered by the bump */
    int floor;      /* raises the floor (retires every product), not one key */
    cache_invalidated_cb cb;
    void *data;
} bump_t;

/* An invalidation covering writes up to epoch did not reach Redis: the
 * process owes one (its reads bypass Redis) and this loop retries it. */
static void owe(cache_t *c, uint64_t epoch)
{
    uint64_t d = atomic_load(&c->shared->dirty_epoch);
    while (d < epoch && !atomic_compare_exchange_weak(&c->shared->dirty_epoch, &d, epoch))
        ;
    if (!h2o_timeout_is_linked(&c->retry_entry))
        h2o_timeout_link(c->loop, &c->retry_timeout, &c->retry_entry);
}

static void on_bump_reply(redisReply *r, void *data)
{
    bump_t *b = data;
    cache_t *c = b->cache;
    int ok = r != NULL && (r->type == REDIS_REPLY_INTEGER || r->type == REDIS_REPLY_STRING);
    if (ok && b->floor) {
        /* only a floor covers a failed write (its product is not known
         * here): clean again, unless a later write failed meanwhile */
        uint64_t d = atomic_load(&c->shared->dirty_epoch);
        while (d != 0 && d <= b->epoch && !atomic_compare_exchange_weak(&c->shared->dirty_epoch, &d, 0))
            ;
        c->need_floor = 0;
        metrics_add(&c->counters.floor_raises, 1);
    } else if (!ok) {
        owe(c, b->epoch);
    }
    if (b->cb != NULL)
        b->cb(b->data, ok);
    free(b);
}

/* Sends the bump script (EVAL: also right after a reconnection, before the
 * script cache is known to hold anything) with the write's event w (NULL
 * with a floor raise). Returns -1 when not connected. */
static int send_bump(cache_t *c, redis_loop_t *rl, const char *product_key, uint64_t epoch, const change_write_t *w,
                     cache_invalidated_cb cb, void *data)
{
    char now[24], maxlen[16], version[24], at[24];
    int n = cache_clock_gen(now), ml = snprintf(maxlen, sizeof(maxlen), "%u", c->cfg->changes_max);
    int vl = w && w->version > 0 ? snprintf(version, sizeof(version), "%lld", (long long)w->version) : 0;
    int al = snprintf(at, sizeof(at), "%lld", (long long)(w ? w->at_ms : clock_wall_ms()));
    const char *key2 = product_key ? product_key : CACHE_FLOOR_KEY;
    const char *mode = product_key ? "one" : "all";
    const char *id = product_key ? product_key + strlen(CACHE_PRODUCT_PREFIX) : "";
    bump_t *b = xmalloc(sizeof(*b));
    *b = (bump_t){c, epoch, product_key == NULL, cb, data};
    if (REDIS_CALL(rl, 1, on_bump_reply, b, redis_str("EVAL"), redis_str(BUMP_LUA), redis_str("4"), redis_str(CACHE_GEN_KEY),
                   redis_str(key2), redis_str(CACHE_CHANGES_KEY), redis_str(CACHE_EPOCH_KEY), redis_bytes(now, (size_t)n),
                   redis_str(mode), redis_bytes(maxlen, (size_t)ml), redis_str(id), redis_str(w ? w->type : "unknown"),
                   redis_bytes(version, (size_t)vl), redis_str(w ? w->fields : ""), redis_bytes(at, (size_t)al)) != 0) {
        free(b);
        return -1;
    }
    return 0;
}

/* On every ready connection, before any caller's command: load the fill
 * script, and after a reconnection (or with an invalidation pending) bump
 * the generation first, so nothing filled before a write this process (or
 * another one, while Redis was away) made is served from it. */
static void on_ready(redis_loop_t *rl, void *data)
{
    cache_t *c = data;
    load_fill_script(rl);
    if (c->connected_before || atomic_load(&c->shared->dirty_epoch) != 0) {
        c->need_floor = 1; /* lookups wait for the reply (they bypass meanwhile) */
        send_bump(c, rl, NULL, atomic_load(&c->shared->write_epoch), NULL, NULL, NULL);
    }
    c->connected_before = 1;
}

static void on_retry(h2o_timeout_entry_t *entry)
{
    cache_t *c = H2O_STRUCT_FROM_MEMBER(cache_t, retry_entry, entry);
    if (atomic_load(&c->shared->dirty_epoch) == 0 && !c->need_floor)
        return;
    /* not connected: the reconnection bumps it (on_ready) */
    if (send_bump(c, c->redis, NULL, atomic_load(&c->shared->write_epoch), NULL, NULL, NULL) != 0)
        h2o_timeout_link(c->loop, &c->retry_timeout, &c->retry_entry);
}

cache_t *cache_create(h2o_context_t *ctx, const config_t *cfg, cache_shared_t *shared)
{
    cache_t *c = xcalloc(1, sizeof(*c));
    c->cfg = cfg;
    c->shared = shared;
    c->loop = ctx->loop;
    sha1_hex(FILL_GEN_LUA, c->fill_sha);
    rand_seed(&c->rand_state, (uint64_t)(uintptr_t)c);
    h2o_timeout_init(ctx->loop, &c->retry_timeout, CACHE_RETRY_MS);
    c->retry_entry.cb = on_retry;
    c->redis = redis_loop_create(ctx, cfg, on_ready, c);
    c->writes = redis_loop_create(ctx, cfg, NULL, NULL);
    return c;
}

int cache_is_dirty(const cache_t *c)
{
    return c->need_floor || atomic_load(&c->shared->dirty_epoch) != 0;
}

void cache_invalidate(cache_t *c, const char *product_key, uint64_t epoch, const change_write_t *w, cache_invalidated_cb cb,
                      void *data)
{
    /* while an earlier invalidation is owed, only a floor settles it */
    if (atomic_load(&c->shared->dirty_epoch) != 0)
        product_key = NULL;
    if (send_bump(c, c->writes, product_key, epoch, product_key ? w : NULL, cb, data) != 0) {
        owe(c, epoch);
        cb(data, 0);
    }
}

const cache_counters_t *cache_counters(const cache_t *c)
{
    return &c->counters;
}

redis_loop_t *cache_redis(cache_t *c)
{
    return c->redis;
}

redis_loop_t *cache_writes_redis(cache_t *c)
{
    return c->writes;
}

/* Parses a generation; returns 0 when it is not valid (CACHE_GEN_IS_VALID_LUA's rule). */
static uint64_t parse_gen(const redisReply *r)
{
    return r->type == REDIS_REPLY_STRING ? entry_parse_gen(r->str, r->len) : 0;
}

/* Sets the generation from the clock (µs, clock_gen) when it is missing or
 * not valid (a damaged value must not switch the list cache off);
 * from the clock so it never goes back to a value an old entry may carry.
 * Rare (once per loss), so a plain EVAL. */
static const char RESET_GEN_LUA[] = "local g = redis.call('GET', KEYS[1])\n"
                                    "if " CACHE_GEN_IS_VALID_LUA " then return g end\n"
                                    "redis.call('SET', KEYS[1], ARGV[1])\n"
                                    "return ARGV[1]\n";

/* The lookup goes on as a MISS under the recreated generation: nothing
 * stored can be stamped with it yet, and the fill can use it. */
static void on_gen_recreated(redisReply *r, void *data)
{
    lookup_t *lk = data;
    uint64_t gen = r != NULL ? parse_gen(r) : 0;
    lk->cb(lk->data, gen != 0 ? CACHE_MISS : CACHE_DOWN, gen, NULL);
    free(lk);
}

/* Takes over lk (answers it once the generation exists again). */
static void recreate_gen(lookup_t *lk)
{
    char now[24];
    int n = cache_clock_gen(now);
    if (REDIS_CALL(lk->cache->redis, 0, on_gen_recreated, lk, redis_str("EVAL"), redis_str(RESET_GEN_LUA), redis_str("1"),
                   redis_str(CACHE_GEN_KEY), redis_bytes(now, (size_t)n)) != 0)
        on_gen_recreated(NULL, lk);
}

static void on_mget_reply(redisReply *r, void *data)
{
    lookup_t *lk = data;
    entry_view_t v;
    size_t want = lk->product ? 3 : 2;
    if (r == NULL || r->type != REDIS_REPLY_ARRAY || r->elements != want) {
        lk->cb(lk->data, CACHE_DOWN, 0, NULL);
    } else {
        uint64_t gen = parse_gen(r->element[0]);
        uint64_t floor = lk->product ? parse_gen(r->element[1]) : 0; /* 0 when absent */
        redisReply *val = r->element[want - 1];
        if (gen == 0) {
            recreate_gen(lk);
            return;
        } else if (val->type == REDIS_REPLY_STRING && entry_decode(val->str, val->len, &v) == 0 &&
                   (lk->product ? v.gen >= floor : v.gen == gen)) {
            lk->cb(lk->data, CACHE_HIT, gen, &v);
        } else {
            lk->cb(lk->data, CACHE_MISS, gen, NULL); /* absent, older generation, or bytes to overwrite */
        }
    }
    free(lk);
}

int cache_lookup_gen(cache_t *c, const char *key, int product, cache_lookup_cb cb, void *data)
{
    /* lists and categories need no floor: the generation alone retires them;
     * a product is kept across writes of others, down to the floor */
    lookup_t *lk = xmalloc(sizeof(*lk));
    *lk = (lookup_t){c, cb, data, product};
    int rc = product ? REDIS_CALL(c->redis, 0, on_mget_reply, lk, redis_str("MGET"), redis_str(CACHE_GEN_KEY),
                                  redis_str(CACHE_FLOOR_KEY), redis_str(key))
                     : REDIS_CALL(c->redis, 0, on_mget_reply, lk, redis_str("MGET"), redis_str(CACHE_GEN_KEY), redis_str(key));
    if (rc != 0) {
        free(lk);
        return -1;
    }
    return 0;
}

static int jittered_ttl(cache_t *c, unsigned ttl_s, char *buf)
{
    return snprintf(buf, 16, "%u", entry_jittered_ttl(ttl_s, c->cfg->cache_jitter_pct, rand_next(&c->rand_state)));
}

typedef struct {
    cache_t *cache;
    cache_done_cb done;
    void *data;
} store_t;

static void on_store_reply(redisReply *r, void *data)
{
    store_t *st = data;
    if (r != NULL && r->type == REDIS_REPLY_ERROR && strncmp(r->str, "NOSCRIPT", 8) == 0)
        load_fill_script(st->cache->redis); /* someone ran SCRIPT FLUSH: this fill is lost, the next one works */
    if (st->done != NULL)
        st->done(st->data);
    free(st);
}

void cache_store_gen(cache_t *c, const char *key, uint64_t gen, const char *value, size_t len, unsigned ttl_s, cache_done_cb done,
                     void *data)
{
    char ttl[16], g[24];
    int tl = jittered_ttl(c, ttl_s, ttl);
    int gl = snprintf(g, sizeof(g), "%llu", (unsigned long long)gen);
    store_t *st = xmalloc(sizeof(*st));
    *st = (store_t){c, done, data};
    if (REDIS_CALL(c->redis, 0, on_store_reply, st, redis_str("EVALSHA"), redis_bytes(c->fill_sha, 40), redis_str("2"),
                   redis_str(CACHE_GEN_KEY), redis_str(key), redis_bytes(g, (size_t)gl), redis_bytes(value, len),
                   redis_bytes(ttl, (size_t)tl)) != 0) {
        free(st);
        if (done != NULL)
            done(data);
    }
}

void cache_ping(cache_t *c, redis_loop_cb cb, void *data)
{
    if (REDIS_CALL(c->redis, 0, cb, data, redis_str("PING")) != 0)
        cb(NULL, data);
}

int cache_is_connected(const cache_t *c)
{
    return redis_loop_is_ready(c->redis);
}
