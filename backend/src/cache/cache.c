#include "cache/cache.h"

#include "rand.h"

#include <openssl/sha.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>

/* A fill of a generation-stamped key: only while the generation is the one
 * the value was read under (miss path only; hits use a plain MGET). */
static const char FILL_GEN_LUA[] = "if redis.call('GET', KEYS[1]) == ARGV[1] then\n"
                                   "  return redis.call('SET', KEYS[2], ARGV[2], 'EX', ARGV[3])\n"
                                   "end\n"
                                   "return false\n";

struct cache {
    redis_loop_t *redis;
    const config_t *cfg;
    char fill_sha[41];
    uint64_t rand_state;
};

typedef struct {
    cache_t *cache;
    cache_lookup_cb cb;
    void *data;
} lookup_t;

static void sha1_hex(const char *s, char out[41])
{
    unsigned char md[SHA_DIGEST_LENGTH];
    SHA1((const unsigned char *)s, strlen(s), md);
    for (int i = 0; i < SHA_DIGEST_LENGTH; i++)
        sprintf(out + 2 * i, "%02x", md[i]);
}

static void load_scripts(redis_loop_t *rl, void *data)
{
    const char *argv[] = {"SCRIPT", "LOAD", FILL_GEN_LUA};
    size_t lens[] = {6, 4, sizeof(FILL_GEN_LUA) - 1};
    /* pipelined ahead of every EVALSHA sent on this connection */
    redis_loop_command(rl, NULL, NULL, 3, argv, lens);
}

cache_t *cache_create(h2o_context_t *ctx, const config_t *cfg)
{
    cache_t *c = calloc(1, sizeof(*c));
    c->cfg = cfg;
    sha1_hex(FILL_GEN_LUA, c->fill_sha);
    rand_seed(&c->rand_state, (uint64_t)(uintptr_t)c);
    c->redis = redis_loop_create(ctx, cfg, load_scripts, c);
    return c;
}

static void on_get_reply(redisReply *r, void *data)
{
    lookup_t *lk = data;
    entry_view_t v;
    if (r == NULL || r->type == REDIS_REPLY_ERROR)
        lk->cb(lk->data, CACHE_DOWN, 0, NULL);
    else if (r->type == REDIS_REPLY_STRING && entry_decode(r->str, r->len, &v) == 0)
        lk->cb(lk->data, CACHE_HIT, 0, &v);
    else
        lk->cb(lk->data, CACHE_MISS, 0, NULL); /* absent, or bytes to overwrite */
    free(lk);
}

int cache_lookup(cache_t *c, const char *key, cache_lookup_cb cb, void *data)
{
    const char *argv[] = {"GET", key};
    size_t lens[] = {3, strlen(key)};
    lookup_t *lk = malloc(sizeof(*lk));
    *lk = (lookup_t){c, cb, data};
    if (redis_loop_command(c->redis, on_get_reply, lk, 2, argv, lens) != 0) {
        free(lk);
        return -1;
    }
    return 0;
}

/* Parses a generation; returns 0 when it is not a positive decimal in
 * canonical form (no leading zero: the fill script compares strings, so
 * "0123" would never match "123" and no list would ever be cached). */
static uint64_t parse_gen(const redisReply *r)
{
    if (r->type != REDIS_REPLY_STRING || r->len == 0 || r->len > 19 || r->str[0] == '0')
        return 0;
    uint64_t g = 0;
    for (size_t i = 0; i < r->len; i++) {
        if (r->str[i] < '0' || r->str[i] > '9')
            return 0;
        g = g * 10 + (uint64_t)(r->str[i] - '0');
    }
    return g;
}

/* Sets the generation from the clock (ms) when it is missing or not a
 * positive decimal (a damaged value must not switch the list cache off);
 * from the clock so it never goes back to a value an old entry may carry.
 * Rare (once per loss), so a plain EVAL. */
static const char RESET_GEN_LUA[] = "local g = redis.call('GET', KEYS[1])\n"
                                    "if g and #g <= 19 and string.match(g, '^[1-9][0-9]*$') then return g end\n"
                                    "redis.call('SET', KEYS[1], ARGV[1])\n"
                                    "return ARGV[1]\n";

static void recreate_gen(cache_t *c)
{
    struct timeval tv;
    gettimeofday(&tv, NULL);
    char now[32];
    int n = snprintf(now, sizeof(now), "%llu", (unsigned long long)tv.tv_sec * 1000 + (unsigned long long)tv.tv_usec / 1000);
    const char *argv[] = {"EVAL", RESET_GEN_LUA, "1", CACHE_GEN_KEY, now};
    size_t lens[] = {4, sizeof(RESET_GEN_LUA) - 1, 1, sizeof(CACHE_GEN_KEY) - 1, (size_t)n};
    redis_loop_command(c->redis, NULL, NULL, 5, argv, lens);
}

static void on_mget_reply(redisReply *r, void *data)
{
    lookup_t *lk = data;
    entry_view_t v;
    if (r == NULL || r->type != REDIS_REPLY_ARRAY || r->elements != 2) {
        lk->cb(lk->data, CACHE_DOWN, 0, NULL);
    } else {
        uint64_t gen = parse_gen(r->element[0]);
        redisReply *val = r->element[1];
        if (gen == 0) {
            recreate_gen(lk->cache);
            lk->cb(lk->data, CACHE_DOWN, 0, NULL);
        } else if (val->type == REDIS_REPLY_STRING && entry_decode(val->str, val->len, &v) == 0 && v.gen == gen) {
            lk->cb(lk->data, CACHE_HIT, gen, &v);
        } else {
            lk->cb(lk->data, CACHE_MISS, gen, NULL); /* absent, older generation, or bytes to overwrite */
        }
    }
    free(lk);
}

int cache_lookup_gen(cache_t *c, const char *key, cache_lookup_cb cb, void *data)
{
    const char *argv[] = {"MGET", CACHE_GEN_KEY, key};
    size_t lens[] = {4, sizeof(CACHE_GEN_KEY) - 1, strlen(key)};
    lookup_t *lk = malloc(sizeof(*lk));
    *lk = (lookup_t){c, cb, data};
    if (redis_loop_command(c->redis, on_mget_reply, lk, 3, argv, lens) != 0) {
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
        load_scripts(st->cache->redis, st->cache); /* someone ran SCRIPT FLUSH: this fill is lost, the next one works */
    if (st->done != NULL)
        st->done(st->data);
    free(st);
}

static void send_store(cache_t *c, int argc, const char **argv, const size_t *lens, cache_done_cb done, void *data)
{
    store_t *st = malloc(sizeof(*st));
    *st = (store_t){c, done, data};
    if (redis_loop_command(c->redis, on_store_reply, st, argc, argv, lens) != 0) {
        free(st);
        if (done != NULL)
            done(data);
    }
}

void cache_store(cache_t *c, const char *key, const char *value, size_t len, unsigned ttl_s, cache_done_cb done, void *data)
{
    char ttl[16];
    int tl = jittered_ttl(c, ttl_s, ttl);
    const char *argv[] = {"SET", key, value, "EX", ttl};
    size_t lens[] = {3, strlen(key), len, 2, (size_t)tl};
    send_store(c, 5, argv, lens, done, data);
}

void cache_store_gen(cache_t *c, const char *key, uint64_t gen, const char *value, size_t len, unsigned ttl_s, cache_done_cb done,
                     void *data)
{
    char ttl[16], g[24];
    int tl = jittered_ttl(c, ttl_s, ttl);
    int gl = snprintf(g, sizeof(g), "%llu", (unsigned long long)gen);
    const char *argv[] = {"EVALSHA", c->fill_sha, "2", CACHE_GEN_KEY, key, g, value, ttl};
    size_t lens[] = {7, 40, 1, sizeof(CACHE_GEN_KEY) - 1, strlen(key), (size_t)gl, len, (size_t)tl};
    send_store(c, 8, argv, lens, done, data);
}

void cache_ping(cache_t *c, redis_loop_cb cb, void *data)
{
    const char *argv[] = {"PING"};
    size_t lens[] = {4};
    if (redis_loop_command(c->redis, cb, data, 1, argv, lens) != 0)
        cb(NULL, data);
}

int cache_is_connected(const cache_t *c)
{
    return redis_loop_is_ready(c->redis);
}
