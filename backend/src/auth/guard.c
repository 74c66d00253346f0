#include "auth/guard.h"
#include "log.h"
#include "xalloc.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Adds ARGV[1] with score ARGV[2] unless present (1 added, 0 present),
 * after pruning what expired: the set only holds unexpired tokens. Redis's
 * clock, so processes with skewed clocks agree. */
static const char REVOKE_LUA[] = "local now = tonumber(redis.call('TIME')[1])\n"
                                 "redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now)\n"
                                 "return redis.call('ZADD', KEYS[1], 'NX', ARGV[2], ARGV[1])\n";

/* KEYS: the two window hashes; ARGV: pair, window length, max failures,
 * max pairs. Picks the current window w (never going back from one already
 * stored, should Redis's clock step back), empties a hash holding an older
 * window than w-1 before reusing it, then: count (current + previous
 * window) >= max → {1, seconds until it drops below}; a new pair in a full
 * hash → {2, seconds until the window turns}; else counts it → {0, 0}. */
static const char ATTEMPT_LUA[] =
    "local now = tonumber(redis.call('TIME')[1])\n"
    "local L = tonumber(ARGV[2])\n"
    "local ws = {tonumber(redis.call('HGET', KEYS[1], '#w')) or -1, tonumber(redis.call('HGET', KEYS[2], '#w')) or -1}\n"
    "local w = math.max(math.floor(now / L), ws[1], ws[2])\n"
    "local ci, pi = 1 + w % 2, 2 - w % 2\n"
    "local cur, prev = KEYS[ci], KEYS[pi]\n"
    "if ws[ci] ~= w then redis.call('UNLINK', cur); redis.call('HSET', cur, '#w', w) end\n"
    "local p = 0\n"
    "if ws[pi] == w - 1 then p = tonumber(redis.call('HGET', prev, ARGV[1]) or '0')\n"
    "elseif ws[pi] ~= -1 then redis.call('UNLINK', prev) end\n"
    "local c = redis.call('HGET', cur, ARGV[1])\n"
    "local n = tonumber(c or '0')\n"
    "local max = tonumber(ARGV[3])\n"
    "if n + p >= max then\n"
    "  if n >= max then return {1, (w + 2) * L - now} end\n"
    "  return {1, (w + 1) * L - now}\n"
    "end\n"
    "if not c and redis.call('HLEN', cur) > tonumber(ARGV[4]) then return {2, (w + 1) * L - now} end\n"
    "redis.call('HINCRBY', cur, ARGV[1], 1)\n"
    "return {0, 0}\n";

/* After a success: the pair's count is 0 in the current window (kept as a
 * field only where it already is one) and gone from the other. */
static const char SUCCEEDED_LUA[] = "for i = 1, 2 do\n"
                                    "  if redis.call('HEXISTS', KEYS[i], ARGV[1]) == 1 then\n"
                                    "    local w = tonumber(redis.call('HGET', KEYS[i], '#w'))\n"
                                    "    if w == math.floor(tonumber(redis.call('TIME')[1]) / tonumber(ARGV[2])) then\n"
                                    "      redis.call('HSET', KEYS[i], ARGV[1], 0)\n"
                                    "    else redis.call('HDEL', KEYS[i], ARGV[1]) end\n"
                                    "  end\n"
                                    "end\n"
                                    "return 0\n";

typedef struct {
    void (*cb)(void);
    void *data;
} pending_t;

/* A heap copy of (cb, data) for a Redis reply. */
static pending_t *pending_new(void (*cb)(void), void *data)
{
    pending_t *p = xmalloc(sizeof(*p));
    p->cb = cb;
    p->data = data;
    return p;
}

static void fail_keys(const config_t *cfg, char k0[64], char k1[64])
{
    snprintf(k0, 64, "{auth}:fail:%u:0", cfg->login_lockout_s);
    snprintf(k1, 64, "{auth}:fail:%u:1", cfg->login_lockout_s);
}

static void on_attempt(redisReply *reply, void *data)
{
    pending_t *p = data;
    guard_attempt_cb cb = (guard_attempt_cb)p->cb;
    guard_attempt_t result = GUARD_UNREACHABLE;
    long long retry = 0;
    if (reply != NULL && reply->type == REDIS_REPLY_ARRAY && reply->elements == 2 &&
        reply->element[0]->type == REDIS_REPLY_INTEGER && reply->element[1]->type == REDIS_REPLY_INTEGER) {
        long long code = reply->element[0]->integer;
        result = code == 1 ? GUARD_LOCKED : code == 2 ? GUARD_FULL : GUARD_ALLOWED;
        retry = result == GUARD_ALLOWED ? 0 : reply->element[1]->integer > 0 ? reply->element[1]->integer : 1;
    } else if (reply != NULL && reply->type == REDIS_REPLY_ERROR) {
        LOG(LOG_ERROR, "redis_error", "the login throttle script failed",
            LOG_SN("error", reply->str, reply->len < 200 ? reply->len : 200));
    }
    void *d = p->data;
    free(p);
    cb(d, result, retry);
}

void guard_login_attempt(redis_loop_t *rl, const config_t *cfg, const char *pair, guard_attempt_cb cb, void *data)
{
    char k0[64], k1[64], l[16], mx[16], cap[16];
    fail_keys(cfg, k0, k1);
    snprintf(l, sizeof(l), "%u", cfg->login_lockout_s);
    snprintf(mx, sizeof(mx), "%u", cfg->login_max_failures);
    snprintf(cap, sizeof(cap), "%u", cfg->login_track_max);
    pending_t *p = pending_new((void (*)(void))cb, data);
    if (REDIS_CALL(rl, 0, on_attempt, p, redis_str("EVAL"), redis_str(ATTEMPT_LUA), redis_str("2"), redis_str(k0), redis_str(k1),
                   redis_str(pair), redis_str(l), redis_str(mx), redis_str(cap)) != 0) {
        free(p);
        cb(data, GUARD_UNREACHABLE, 0);
    }
}

void guard_login_succeeded(redis_loop_t *rl, const config_t *cfg, const char *pair)
{
    char k0[64], k1[64], l[16];
    fail_keys(cfg, k0, k1);
    snprintf(l, sizeof(l), "%u", cfg->login_lockout_s);
    REDIS_CALL(rl, 0, NULL, NULL, redis_str("EVAL"), redis_str(SUCCEEDED_LUA), redis_str("2"), redis_str(k0), redis_str(k1),
               redis_str(pair), redis_str(l));
}

static void on_revoke(redisReply *reply, void *data)
{
    pending_t *p = data;
    guard_revoke_cb cb = (guard_revoke_cb)p->cb;
    guard_revoke_t result = GUARD_REVOKE_FAILED;
    if (reply != NULL && reply->type == REDIS_REPLY_INTEGER)
        result = reply->integer == 1 ? GUARD_REVOKE_DONE : GUARD_REVOKE_ALREADY;
    else if (reply != NULL && reply->type == REDIS_REPLY_ERROR)
        LOG(LOG_ERROR, "redis_error", "a revocation failed", LOG_SN("error", reply->str, reply->len < 200 ? reply->len : 200));
    void *d = p->data;
    free(p);
    cb(d, result);
}

void guard_revoke(redis_loop_t *rl, const char *jti, int64_t exp, guard_revoke_cb cb, void *data)
{
    char score[24];
    snprintf(score, sizeof(score), "%lld", (long long)exp);
    pending_t *p = pending_new((void (*)(void))cb, data);
    if (REDIS_CALL(rl, 0, on_revoke, p, redis_str("EVAL"), redis_str(REVOKE_LUA), redis_str("1"), redis_str(GUARD_REVOKED_KEY),
                   redis_str(jti), redis_str(score)) != 0) {
        free(p);
        cb(data, GUARD_REVOKE_FAILED);
    }
}

static void on_check(redisReply *reply, void *data)
{
    pending_t *p = data;
    guard_check_cb cb = (guard_check_cb)p->cb;
    int revoked = -1;
    if (reply != NULL && reply->type == REDIS_REPLY_STRING)
        revoked = 1;
    else if (reply != NULL && reply->type == REDIS_REPLY_NIL)
        revoked = 0;
    void *d = p->data;
    free(p);
    cb(d, revoked);
}

void guard_is_revoked(redis_loop_t *rl, const char *jti, guard_check_cb cb, void *data)
{
    pending_t *p = pending_new((void (*)(void))cb, data);
    if (REDIS_CALL(rl, 0, on_check, p, redis_str("ZSCORE"), redis_str(GUARD_REVOKED_KEY), redis_str(jti)) != 0) {
        free(p);
        cb(data, -1);
    }
}
