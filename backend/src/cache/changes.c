/* cache_changes: one atomic read of the generation and the change stream,
 * for the in-memory catalogue to catch up by (see cache.h). */
#include "cache/cache.h"
#include "xalloc.h"

#include <bson/bson.h>

#include <stdio.h>
#include <string.h>

/* The generation (restarted from the clock ARGV[3] when lost), the
 * stream's tip, and the entries after ARGV[1] (at most ARGV[2]), read
 * together: no bump can fall between them. */
static const char CHANGES_LUA[] = "local g = redis.call('GET', KEYS[1])\n"
                                  "if not (" CACHE_GEN_IS_VALID_LUA ") then\n"
                                  "  redis.call('SET', KEYS[1], ARGV[3])\n"
                                  "  g = ARGV[3]\n"
                                  "end\n"
                                  "local tip = redis.call('XREVRANGE', KEYS[2], '+', '-', 'COUNT', 1)\n"
                                  "local last = '0-0'\n"
                                  "if tip[1] then last = tip[1][1] end\n"
                                  "local e = {}\n"
                                  "if ARGV[1] ~= '' then\n"
                                  "  e = redis.call('XRANGE', KEYS[2], '(' .. ARGV[1], '+', 'COUNT', ARGV[2])\n"
                                  "end\n"
                                  "return {g, last, e}\n";

typedef struct {
    cache_changes_cb cb;
    void *data;
    unsigned max;
} changes_t;

/* Reads one entry {id, [field, value, ...]}; returns 0 or -1 (malformed:
 * treated as a reset by the caller). */
static int parse_entry(const redisReply *e, change_t *c)
{
    memset(c, 0, sizeof(*c));
    if (e->type != REDIS_REPLY_ARRAY || e->elements != 2 || e->element[1]->type != REDIS_REPLY_ARRAY)
        return -1;
    const redisReply *f = e->element[1];
    int has_id = 0;
    for (size_t i = 0; i + 1 < f->elements; i += 2) {
        const redisReply *k = f->element[i], *v = f->element[i + 1];
        if (k->type != REDIS_REPLY_STRING || v->type != REDIS_REPLY_STRING)
            return -1;
        if (strcmp(k->str, "gen") == 0)
            c->gen = entry_parse_gen(v->str, v->len);
        else if (strcmp(k->str, "reset") == 0)
            c->reset = 1;
        else if (strcmp(k->str, "id") == 0 && bson_oid_is_valid(v->str, v->len)) {
            bson_oid_t oid;
            bson_oid_init_from_string(&oid, v->str);
            memcpy(c->id, oid.bytes, sizeof(c->id));
            has_id = 1;
        }
    }
    return c->gen != 0 && (c->reset || has_id) ? 0 : -1;
}

/* Builds the batch of a well-formed reply; NULL otherwise. */
static change_batch_t *parse_batch(const redisReply *r, unsigned max)
{
    if (r == NULL || r->type != REDIS_REPLY_ARRAY || r->elements != 3 || r->element[1]->type != REDIS_REPLY_STRING ||
        r->element[2]->type != REDIS_REPLY_ARRAY || r->element[1]->len >= CHANGE_STREAM_ID_MAX)
        return NULL;
    const redisReply *g = r->element[0], *entries = r->element[2];
    change_batch_t *b = xcalloc(1, sizeof(*b));
    b->gen = g->type == REDIS_REPLY_STRING ? entry_parse_gen(g->str, g->len) : 0;
    memcpy(b->last_id, r->element[1]->str, r->element[1]->len);
    b->truncated = entries->elements >= max;
    b->n = entries->elements;
    b->changes = xcalloc(b->n ? b->n : 1, sizeof(*b->changes));
    for (size_t i = 0; i < b->n; i++)
        if (parse_entry(entries->element[i], &b->changes[i]) != 0)
            b->changes[i].reset = 1; /* unknown content: what changed is unknown */
    return b;
}

static void on_changes_reply(redisReply *r, void *data)
{
    changes_t *ch = data;
    ch->cb(ch->data, parse_batch(r, ch->max));
    free(ch);
}

void cache_changes(cache_t *c, const char *after_id, unsigned max, cache_changes_cb cb, void *data)
{
    char count[16], now[24];
    int cl = snprintf(count, sizeof(count), "%u", max), nl = cache_clock_gen(now);
    changes_t *ch = xmalloc(sizeof(*ch));
    *ch = (changes_t){cb, data, max};
    if (REDIS_CALL(cache_redis(c), 0, on_changes_reply, ch, redis_str("EVAL"), redis_str(CHANGES_LUA), redis_str("2"),
                   redis_str(CACHE_GEN_KEY), redis_str(CACHE_CHANGES_KEY), redis_str(after_id), redis_bytes(count, (size_t)cl),
                   redis_bytes(now, (size_t)nl)) != 0) {
        free(ch);
        cb(data, NULL);
    }
}
