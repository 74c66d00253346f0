/* hiredis async on an h2o event loop: one connection per loop thread,
 * reached by IP, unix socket or host name (resolved off the loop), with
 * AUTH/SELECT, a timeout on every command, and reconnection with backoff.
 * The loop never blocks on Redis. Knows nothing about what is stored. */
#ifndef CATALOG_REDIS_LOOP_H
#define CATALOG_REDIS_LOOP_H

#include <h2o.h>
#include <hiredis/async.h>
#include <stdatomic.h>
#include <stdint.h>
#include <string.h>

#include "config.h"
#include "metrics/metrics.h"

typedef struct redis_loop redis_loop_t;

/* Called exactly once per accepted command: with the reply (valid only
 * during the call; copy what you keep), or NULL when the command failed,
 * timed out or the connection dropped. */
typedef void (*redis_loop_cb)(redisReply *reply, void *data);

/* Called on the loop each time a connection becomes ready (after AUTH and
 * SELECT), before any command of the callers is sent: a place to load
 * scripts. */
typedef void (*redis_loop_ready_cb)(redis_loop_t *rl, void *data);

/* Creates the client for one loop and starts connecting. ctx gives the loop
 * and the host-name resolver's receiver. Never fails for an unreachable
 * server: it keeps retrying with backoff (50 ms doubling to 2 s). */
redis_loop_t *redis_loop_create(h2o_context_t *ctx, const config_t *cfg, redis_loop_ready_cb on_ready, void *ready_data);

/* Sends a command (binary-safe argv). Returns 0 when accepted (cb will be
 * called once: with NULL after REDIS_TIMEOUT_MS), -1 at once when not
 * connected or while an earlier reply is late (the connection may be
 * stalled: better not queue behind it); cb is then not called and the
 * caller bypasses the cache. cb may be NULL for fire-and-forget.
 * A late reply does not drop the connection: only a reply missing for
 * REDIS_DEAD_MS does (then every pending command gets NULL and the
 * connection is made again), so a slow moment costs a few bypassed reads,
 * not a reconnection.
 * With patient, for a command whose outcome a guarantee rests on (an
 * invalidation): sent even while a reply is late, and answered NULL only
 * when the connection is taken for lost (REDIS_DEAD_MS), so "not applied"
 * always comes with a reconnection. */
int redis_loop_send(redis_loop_t *rl, int patient, redis_loop_cb cb, void *data, int argc, const char **argv,
                    const size_t *argvlen);

static inline int redis_loop_command(redis_loop_t *rl, redis_loop_cb cb, void *data, int argc, const char **argv,
                                     const size_t *argvlen)
{
    return redis_loop_send(rl, 0, cb, data, argc, argv, argvlen);
}

static inline int redis_loop_command_patient(redis_loop_t *rl, redis_loop_cb cb, void *data, int argc, const char **argv,
                                             const size_t *argvlen)
{
    return redis_loop_send(rl, 1, cb, data, argc, argv, argvlen);
}

/* One argument of a command: text or bytes. */
typedef struct {
    const char *base;
    size_t len;
} redis_arg_t;

/* A NUL-terminated text argument (its length counted here). */
static inline redis_arg_t redis_str(const char *s)
{
    return (redis_arg_t){s, strlen(s)};
}

/* A binary-safe argument. */
static inline redis_arg_t redis_bytes(const char *p, size_t len)
{
    return (redis_arg_t){p, len};
}

/* Sends n (at most 16) arguments as one command, as redis_loop_send. */
static inline int redis_loop_call(redis_loop_t *rl, int patient, redis_loop_cb cb, void *data, size_t n, const redis_arg_t *args)
{
    const char *argv[16];
    size_t lens[16];
    if (n == 0 || n > 16)
        return -1;
    for (size_t i = 0; i < n; i++) {
        argv[i] = args[i].base;
        lens[i] = args[i].len;
    }
    return redis_loop_send(rl, patient, cb, data, (int)n, argv, lens);
}

/* redis_loop_call with the arguments listed, counted for the caller:
 * REDIS_CALL(rl, 0, on_reply, data, redis_str("MGET"), redis_str(k1), redis_str(k2)). */
#define REDIS_CALL(rl, patient, cb, data, ...)                                                                                     \
    redis_loop_call((rl), (patient), (cb), (data), sizeof((redis_arg_t[]){__VA_ARGS__}) / sizeof(redis_arg_t),                     \
                    (redis_arg_t[]){__VA_ARGS__})

/* Called on the loop with every error reply a command gets (MOVED,
 * READONLY...), before the command's own callback: for a module that must
 * notice the server changing role. One per connection; cb NULL removes it. */
typedef void (*redis_loop_error_cb)(void *data, const char *err, size_t len);

void redis_loop_on_error(redis_loop_t *rl, redis_loop_error_cb cb, void *data);

/* Counters of this loop's connection (written by the loop only, read from any thread). */
typedef struct {
    metrics_counter_t late;       /* replies later than REDIS_TIMEOUT_MS (the command was answered NULL) */
    metrics_counter_t drops;      /* connections given up for a reply missing REDIS_DEAD_MS */
    metrics_counter_t reconnects; /* connections ready again after one was lost */
    metrics_gauge_t ready;        /* 1 while connected and ready */
} redis_loop_counters_t;

const redis_loop_counters_t *redis_loop_counters(const redis_loop_t *rl);

/* 1 when connected and ready for commands. */
int redis_loop_is_ready(const redis_loop_t *rl);

#endif
