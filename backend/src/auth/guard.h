/* Revoked tokens and the login throttle, kept in Redis so every process
 * sees them, in keys that are never evicted and never grow without bound:
 * the cache shares the Redis (maxmemory + volatile-lru evicts only keys
 * with a TTL), so none of these has a TTL, and each is bounded instead.
 *
 *   {auth}:revoked          sorted set, member jti, score its exp; entries
 *                           past their exp are pruned by the script that
 *                           adds (only signed-in users add: one per token)
 *   {auth}:fail:<L>:0 / :1  hashes of attempt counts per "user hash:address"
 *                           for the two latest windows of L seconds (the
 *                           field "#w" says which window a hash holds; the
 *                           script reuses the older one for a new window),
 *                           each at most LOGIN_TRACK_MAX fields
 *
 * One hash tag, {auth}: the keys a script touches share a Cluster slot.
 * Nothing here uses KEYS or SCAN. */
#ifndef CATALOG_GUARD_H
#define CATALOG_GUARD_H

#include "cache/redis_loop.h"
#include "config.h"

#include <stdint.h>

#define GUARD_REVOKED_KEY "{auth}:revoked"

typedef enum {
    GUARD_ALLOWED = 0, /* counted: go on and check the password */
    GUARD_LOCKED,      /* LOGIN_MAX_FAILURES reached for this user and address: not counted */
    GUARD_FULL,        /* this window tracks LOGIN_TRACK_MAX pairs and this one is new: refused (fail closed) */
    GUARD_UNREACHABLE, /* Redis did not answer: not counted (fail open, see README) */
} guard_attempt_t;

/* retry_s: seconds until the attempt may succeed (LOCKED, FULL), else 0. */
typedef void (*guard_attempt_cb)(void *data, guard_attempt_t result, long long retry_s);

/* Counts a sign-in attempt of pair ("<user hash>:<address>") before its
 * password is checked, atomically with the check of the lockout, so
 * concurrent attempts cannot pass it. Calls cb exactly once (maybe before
 * returning, when Redis is unreachable). */
void guard_login_attempt(redis_loop_t *rl, const config_t *cfg, const char *pair, guard_attempt_cb cb, void *data);

/* After a correct password: pair's count goes back to 0 (the pair stays
 * tracked in this window, so a full table does not refuse it). Fire and
 * forget. */
void guard_login_succeeded(redis_loop_t *rl, const config_t *cfg, const char *pair);

typedef enum {
    GUARD_REVOKE_DONE = 0, /* recorded */
    GUARD_REVOKE_ALREADY,  /* the jti was revoked before */
    GUARD_REVOKE_FAILED,   /* Redis did not take it */
} guard_revoke_t;

typedef void (*guard_revoke_cb)(void *data, guard_revoke_t result);

/* Records jti as revoked until exp (unix seconds), pruning expired entries
 * first. Calls cb exactly once (maybe before returning). */
void guard_revoke(redis_loop_t *rl, const char *jti, int64_t exp, guard_revoke_cb cb, void *data);

/* revoked: 1 revoked, 0 not, -1 unknown (Redis did not answer). */
typedef void (*guard_check_cb)(void *data, int revoked);

/* Looks jti up (one round trip). Calls cb exactly once (maybe before
 * returning). */
void guard_is_revoked(redis_loop_t *rl, const char *jti, guard_check_cb cb, void *data);

#endif
