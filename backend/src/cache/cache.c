#include "cache/cache.h"

#include "cache/entry.h"

#include <openssl/sha.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>

/* Reads the generation and the value of that generation in one trip. A lost
 * generation restarts from the clock (ms), so it never goes back to a value
 * an older cached entry may carry. */
static const char GEN_LOOKUP_LUA[] = "local g = redis.call('GET', KEYS[1])\n"
                                     "if not g then\n"
                                     "  local t = redis.call('TIME')\n"
                                     "  g = string.format('%d', t[1] * 1000 + math.floor(t[2] / 1000))\n"
                                     "  redis.call('SET', KEYS[1], g)\n"
                                     "end\n"
                                     "return {g, redis.call('GET', ARGV[1] .. g .. ARGV[2])}\n";

struct cache {
    redis_loop_t *redis;
    const config_t *cfg;
    char gen_sha[41];
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
    const char *argv[] = {"SCRIPT", "LOAD", GEN_LOOKUP_LUA};
    size_t lens[] = {6, 4, sizeof(GEN_LOOKUP_LUA) - 1};
    /* pipelined ahead of every EVALSHA sent on this connection */
    redis_loop_command(rl, NULL, NULL, 3, argv, lens);
}

cache_t *cache_create(h2o_context_t *ctx, const config_t *cfg)
{
    cache_t *c = calloc(1, sizeof(*c));
    c->cfg = cfg;
    sha1_hex(GEN_LOOKUP_LUA, c->gen_sha);
    if (getrandom(&c->rand_state, sizeof(c->rand_state), 0) != sizeof(c->rand_state))
        c->rand_state = (uint64_t)(uintptr_t)c ^ 0x9E3779B97F4A7C15ull;
    c->redis = redis_loop_create(ctx, cfg, load_scripts, c);
    return c;
}

static void on_product_reply(redisReply *r, void *data)
{
    lookup_t *lk = data;
    if (r == NULL || r->type == REDIS_REPLY_ERROR)
        lk->cb(lk->data, CACHE_DOWN, NULL, 0, NULL, 0);
    else if (r->type == REDIS_REPLY_STRING)
        lk->cb(lk->data, CACHE_HIT, "", 0, r->str, r->len);
    else
        lk->cb(lk->data, CACHE_MISS, "", 0, NULL, 0);
    free(lk);
}

int cache_lookup_product(cache_t *c, const char *id, cache_lookup_cb cb, void *data)
{
    char key[64];
    int kl = snprintf(key, sizeof(key), CACHE_PRODUCT_PREFIX "%s", id);
    const char *argv[] = {"GET", key};
    size_t lens[] = {3, (size_t)kl};
    lookup_t *lk = malloc(sizeof(*lk));
    *lk = (lookup_t){c, cb, data};
    if (redis_loop_command(c->redis, on_product_reply, lk, 2, argv, lens) != 0) {
        free(lk);
        return -1;
    }
    return 0;
}

static void on_gen_reply(redisReply *r, void *data)
{
    lookup_t *lk = data;
    if (r == NULL || r->type != REDIS_REPLY_ARRAY || r->elements != 2 || r->element[0]->type != REDIS_REPLY_STRING) {
        if (r != NULL && r->type == REDIS_REPLY_ERROR && strncmp(r->str, "NOSCRIPT", 8) == 0)
            load_scripts(lk->cache->redis, lk->cache); /* someone ran SCRIPT FLUSH */
        lk->cb(lk->data, CACHE_DOWN, NULL, 0, NULL, 0);
    } else {
        redisReply *g = r->element[0], *v = r->element[1];
        if (v->type == REDIS_REPLY_STRING)
            lk->cb(lk->data, CACHE_HIT, g->str, g->len, v->str, v->len);
        else
            lk->cb(lk->data, CACHE_MISS, g->str, g->len, NULL, 0);
    }
    free(lk);
}

int cache_lookup_gen(cache_t *c, const char *prefix, const char *suffix, cache_lookup_cb cb, void *data)
{
    size_t sl = strlen(suffix);
    char *colon_suffix = malloc(sl + 2);
    colon_suffix[0] = ':';
    memcpy(colon_suffix + 1, suffix, sl + 1);
    const char *argv[] = {"EVALSHA", c->gen_sha, "1", CACHE_GEN_KEY, prefix, colon_suffix};
    size_t lens[] = {7, 40, 1, sizeof(CACHE_GEN_KEY) - 1, strlen(prefix), sl + 1};
    lookup_t *lk = malloc(sizeof(*lk));
    *lk = (lookup_t){c, cb, data};
    int rc = redis_loop_command(c->redis, on_gen_reply, lk, 6, argv, lens);
    free(colon_suffix); /* hiredis formatted the command already */
    if (rc != 0) {
        free(lk);
        return -1;
    }
    return 0;
}

char *cache_key(const char *prefix, const char *gen, size_t gen_len, const char *suffix)
{
    size_t pl = strlen(prefix), sl = strlen(suffix);
    char *k = malloc(pl + gen_len + sl + 2);
    char *p = k;
    memcpy(p, prefix, pl);
    p += pl;
    if (gen != NULL) {
        memcpy(p, gen, gen_len);
        p += gen_len;
        *p++ = ':';
    }
    memcpy(p, suffix, sl + 1);
    return k;
}

void cache_store(cache_t *c, const char *key, const char *value, size_t len, unsigned ttl_s)
{
    /* xorshift64: jitter needs spread, not secrecy */
    c->rand_state ^= c->rand_state << 13;
    c->rand_state ^= c->rand_state >> 7;
    c->rand_state ^= c->rand_state << 17;
    char ttl[16];
    int tl = snprintf(ttl, sizeof(ttl), "%u", entry_jittered_ttl(ttl_s, c->cfg->cache_jitter_pct, c->rand_state));
    const char *argv[] = {"SET", key, value, "EX", ttl};
    size_t lens[] = {3, strlen(key), len, 2, (size_t)tl};
    redis_loop_command(c->redis, NULL, NULL, 5, argv, lens);
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
