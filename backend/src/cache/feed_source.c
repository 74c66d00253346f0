#include "cache/feed_source.h"
#include "xalloc.h"

#include "cache/cache.h"
#include "cache/entry.h"
#include "clock.h"
#include "log.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The epoch (created from the clock ARGV[1] when missing), the stream's
 * last id, and — for a place ARGV[2]:ARGV[3] of this epoch — up to ARGV[4]
 * entries after it, or why they cannot be given: "trimmed" when entries
 * were removed (entries-added > length; trimming removes the oldest) and
 * none at or before the place is left, so some after it may be gone too;
 * "unknown-id" when the place is past the last id. (A place before the
 * first entry of a stream that never lost one, such as "0-0" given to a
 * client of an empty stream, misses nothing.) One script: no append falls
 * between the epoch, the checks and the entries. */
static const char REPLAY_LUA[] =
    CACHE_EPOCH_LUA(2, 1) "local last, removed, exists = '0-0', false, redis.call('EXISTS', KEYS[1]) == 1\n"
                          "if exists then\n"
                          "  local i, t = redis.call('XINFO', 'STREAM', KEYS[1]), {}\n"
                          "  for k = 1, #i, 2 do t[i[k]] = i[k + 1] end\n"
                          "  last = t['last-generated-id']\n"
                          "  removed = not t['entries-added'] or tonumber(t['entries-added']) > tonumber(t['length'])\n"
                          "end\n"
                          "if ARGV[2] == '' then return {ep, last, '', {}} end\n"
                          "if ARGV[2] ~= ep then return {ep, last, 'epoch', {}} end\n"
                          "if (not exists and ARGV[3] ~= '0-0') or (removed and\n"
                          "    #redis.call('XRANGE', KEYS[1], '-', ARGV[3], 'COUNT', 1) == 0) then\n"
                          "  return {ep, last, 'trimmed', {}}\n"
                          "end\n"
                          "if ARGV[3] ~= last and #redis.call('XRANGE', KEYS[1], ARGV[3], '+', 'COUNT', 1) == 0 then\n"
                          "  return {ep, last, 'unknown-id', {}}\n"
                          "end\n"
                          "return {ep, last, '', redis.call('XRANGE', KEYS[1], '(' .. ARGV[3], '+', 'COUNT', ARGV[4])}\n";

#define READ_COUNT 64 /* entries per XREAD (about 16 KB of events, well below SSE_BUFFER_MAX) */
#define RETRY_MS 1000 /* after a refused command */

/* Reads stream entries [[id, [field, value, ...]], ...] into out (room for
 * arr->elements). An entry without its own epoch field is of epoch. Returns
 * how many were well-formed (others are skipped). */
static size_t parse_entries(const redisReply *arr, uint64_t epoch, feed_event_t *out)
{
    size_t n = 0;
    for (size_t i = 0; i < arr->elements; i++) {
        const redisReply *e = arr->element[i];
        feed_pos_t pos = {epoch, 0, 0};
        if (e->type != REDIS_REPLY_ARRAY || e->elements != 2 || e->element[0]->type != REDIS_REPLY_STRING ||
            e->element[1]->type != REDIS_REPLY_ARRAY || feed_sid_parse(e->element[0]->str, e->element[0]->len, &pos) != 0)
            continue;
        const redisReply *f = e->element[1];
        feed_event_begin(&out[n], &pos);
        for (size_t k = 0; k + 1 < f->elements; k += 2)
            if (f->element[k]->type == REDIS_REPLY_STRING && f->element[k + 1]->type == REDIS_REPLY_STRING)
                feed_event_field(&out[n], f->element[k]->str, f->element[k]->len, f->element[k + 1]->str, f->element[k + 1]->len);
        feed_event_end(&out[n]);
        n++;
    }
    return n;
}

typedef struct {
    feed_replay_cb cb;
    void *data;
    unsigned max;
} replay_t;

/* The reasons the script names, as the feed's static strings. */
static const char *reason_of(const redisReply *r)
{
    static const char *const reasons[] = {FEED_REASON_EPOCH, FEED_REASON_TRIMMED, FEED_REASON_UNKNOWN_ID};
    for (size_t i = 0; i < sizeof(reasons) / sizeof(reasons[0]); i++)
        if (r->len == strlen(reasons[i]) && memcmp(r->str, reasons[i], r->len) == 0)
            return reasons[i];
    return NULL;
}

/* Builds the replay of a well-formed reply {ep, last, reason, entries}; NULL otherwise. */
static feed_replay_t *parse_replay(const redisReply *r, unsigned max)
{
    if (r == NULL || r->type != REDIS_REPLY_ARRAY || r->elements != 4 || r->element[1]->type != REDIS_REPLY_STRING ||
        r->element[2]->type != REDIS_REPLY_STRING || r->element[3]->type != REDIS_REPLY_ARRAY)
        return NULL;
    feed_replay_t *rep = xcalloc(1, sizeof(*rep));
    /* the epoch follows the generation's rule (CACHE_EPOCH_LUA) */
    rep->tip.epoch = r->element[0]->type == REDIS_REPLY_STRING ? entry_parse_gen(r->element[0]->str, r->element[0]->len) : 0;
    if (rep->tip.epoch == 0 || feed_sid_parse(r->element[1]->str, r->element[1]->len, &rep->tip) != 0) {
        free(rep);
        return NULL;
    }
    rep->reset = r->element[2]->len ? reason_of(r->element[2]) : NULL;
    const redisReply *entries = r->element[3];
    rep->events = xmalloc((entries->elements ? entries->elements : 1) * sizeof(*rep->events));
    rep->n = parse_entries(entries, rep->tip.epoch, rep->events);
    for (size_t i = 0; i < rep->n; i++)
        rep->events[i].pos.epoch = rep->tip.epoch; /* read with the epoch, in one script */
    rep->more = entries->elements >= max;
    return rep;
}

static void on_replay_reply(redisReply *r, void *data)
{
    replay_t *rp = data;
    rp->cb(rp->data, parse_replay(r, rp->max));
    free(rp);
}

int feed_source_replay(redis_loop_t *rl, const feed_pos_t *after, unsigned max, feed_replay_cb cb, void *data)
{
    char now[24], epoch[24] = "", sid[FEED_SID_MAX] = "", count[16];
    int nl = snprintf(now, sizeof(now), "%llu", (unsigned long long)clock_wall_us());
    int el = after ? snprintf(epoch, sizeof(epoch), "%llu", (unsigned long long)after->epoch) : 0;
    int sl = after ? feed_sid_format(after, sid) : 0;
    int cl = snprintf(count, sizeof(count), "%u", max);
    replay_t *rp = xmalloc(sizeof(*rp));
    *rp = (replay_t){cb, data, max};
    if (REDIS_CALL(rl, 0, on_replay_reply, rp, redis_str("EVAL"), redis_str(REPLAY_LUA), redis_str("2"),
                   redis_str(CACHE_CHANGES_KEY), redis_str(CACHE_EPOCH_KEY), redis_bytes(now, (size_t)nl),
                   redis_bytes(epoch, (size_t)el), redis_bytes(sid, (size_t)sl), redis_bytes(count, (size_t)cl)) != 0) {
        free(rp);
        return -1;
    }
    return 0;
}

void feed_replay_free(feed_replay_t *r)
{
    if (r != NULL)
        free(r->events);
    free(r);
}

/* ---- the reader ---- */

struct feed_source {
    redis_loop_t *rl;
    h2o_loop_t *loop;
    feed_source_cb cb;
    void *data;
    feed_pos_t last;   /* the last entry read; epoch 0 before the first start */
    unsigned block_ms; /* XREAD's BLOCK: below the patient command's REDIS_DEAD_MS */
    int busy;          /* a replay or XREAD is pending: one chain of reads at a time */
    h2o_timeout_t retry_timeout;
    h2o_timeout_entry_t retry;
    feed_source_stats_t stats;
};

static void start_reading(feed_source_t *s);
static void on_start(void *data, feed_replay_t *rep);

static void deliver(feed_source_t *s, const feed_event_t *events, size_t n)
{
    if (n == 0)
        return;
    s->last = events[n - 1].pos;
    atomic_store(&s->stats.epoch, s->last.epoch);
    atomic_fetch_add(&s->stats.events, n);
    s->cb(s->data, events, n);
}

/* A command failed: try again in a while if the connection is still up
 * (a reconnection starts over by itself). */
static void retry_later(feed_source_t *s)
{
    s->busy = 0;
    atomic_store(&s->stats.connected, 0);
    if (!h2o_timeout_is_linked(&s->retry))
        h2o_timeout_link(s->loop, &s->retry_timeout, &s->retry);
}

static void on_read(redisReply *r, void *data)
{
    feed_source_t *s = data;
    if (r == NULL || r->type == REDIS_REPLY_ERROR) {
        if (r != NULL)
            LOG(LOG_ERROR, "feed_read_refused", "the change feed's XREAD was refused; retrying in a second",
                LOG_SN("error", r->str, r->len));
        retry_later(s);
        return;
    }
    /* nil: the block ended with nothing new; else [[key, entries]] */
    if (r->type == REDIS_REPLY_ARRAY && r->elements == 1 && r->element[0]->type == REDIS_REPLY_ARRAY &&
        r->element[0]->elements == 2 && r->element[0]->element[1]->type == REDIS_REPLY_ARRAY) {
        const redisReply *entries = r->element[0]->element[1];
        feed_event_t *ev = xmalloc((entries->elements ? entries->elements : 1) * sizeof(*ev));
        size_t n = parse_entries(entries, s->last.epoch, ev);
        uint64_t epoch = s->last.epoch;
        for (size_t i = 0; i < n; i++)
            if (ev[i].pos.epoch != epoch) { /* the epoch changed under the reader (its key was lost): one reset */
                epoch = ev[i].pos.epoch;
                feed_event_reset(&ev[i], &ev[i].pos, FEED_REASON_EPOCH, ev[i].at_ms);
            }
        deliver(s, ev, n);
        free(ev);
        start_reading(s);
    } else if (feed_source_replay(s->rl, &s->last, READ_COUNT, on_start, s) != 0) {
        /* nil: nothing new within the block. The replay script checks the
         * place is still there (a FLUSHALL keeps this connection, and the
         * stream starts anew under another epoch without a new entry to
         * show it), then reading goes on */
        retry_later(s);
    }
}

/* Blocks in XREAD after the last entry read. */
static void start_reading(feed_source_t *s)
{
    char sid[FEED_SID_MAX], block[16], count[16];
    int sl = feed_sid_format(&s->last, sid), bl = snprintf(block, sizeof(block), "%u", s->block_ms);
    int cl = snprintf(count, sizeof(count), "%u", READ_COUNT);
    if (REDIS_CALL(s->rl, 1, on_read, s, redis_str("XREAD"), redis_str("COUNT"), redis_bytes(count, (size_t)cl), redis_str("BLOCK"),
                   redis_bytes(block, (size_t)bl), redis_str("STREAMS"), redis_str(CACHE_CHANGES_KEY),
                   redis_bytes(sid, (size_t)sl)) != 0)
        retry_later(s);
}

/* Where to read from after a (re)connection: the stream's last entry the
 * first time; else the entries after the last one read — or, when that
 * place is gone (another epoch, trimmed), a reset at the stream's end. */
static void on_start(void *data, feed_replay_t *rep)
{
    feed_source_t *s = data;
    if (rep == NULL) {
        retry_later(s);
        return;
    }
    atomic_store(&s->stats.connected, 1);
    if (s->last.epoch == 0) {
        s->last = rep->tip;
        atomic_store(&s->stats.epoch, s->last.epoch);
    } else if (rep->reset != NULL) {
        feed_event_t reset;
        feed_event_reset(&reset, &rep->tip, rep->reset, clock_wall_ms());
        atomic_fetch_add(&s->stats.restarts, 1);
        deliver(s, &reset, 1);
    } else {
        deliver(s, rep->events, rep->n);
    }
    int more = rep->reset == NULL && rep->more;
    feed_replay_free(rep);
    if (!more)
        start_reading(s);
    else if (feed_source_replay(s->rl, &s->last, READ_COUNT, on_start, s) != 0)
        retry_later(s);
}

static void start(feed_source_t *s)
{
    if (s->busy)
        return;
    s->busy = 1;
    if (h2o_timeout_is_linked(&s->retry))
        h2o_timeout_unlink(&s->retry);
    if (feed_source_replay(s->rl, s->last.epoch ? &s->last : NULL, READ_COUNT, on_start, s) != 0)
        retry_later(s);
}

static void on_retry(h2o_timeout_entry_t *entry)
{
    feed_source_t *s = H2O_STRUCT_FROM_MEMBER(feed_source_t, retry, entry);
    if (redis_loop_is_ready(s->rl))
        start(s);
}

static void on_ready(redis_loop_t *rl, void *data)
{
    feed_source_t *s = data;
    REDIS_CALL(rl, 0, NULL, NULL, redis_str("CLIENT"), redis_str("SETNAME"), redis_str("catalog-feed"));
    start(s);
}

feed_source_t *feed_source_create(h2o_context_t *ctx, const config_t *cfg, feed_source_cb cb, void *data)
{
    feed_source_t *s = xcalloc(1, sizeof(*s));
    s->loop = ctx->loop;
    s->cb = cb;
    s->data = data;
    unsigned dead = cfg->redis_dead_ms > cfg->redis_timeout_ms ? cfg->redis_dead_ms : cfg->redis_timeout_ms;
    s->block_ms = dead / 2 ? dead / 2 : 1;
    h2o_timeout_init(ctx->loop, &s->retry_timeout, RETRY_MS);
    s->retry.cb = on_retry;
    s->rl = redis_loop_create(ctx, cfg, on_ready, s);
    return s;
}

const feed_source_stats_t *feed_source_stats(const feed_source_t *s)
{
    return &s->stats;
}
