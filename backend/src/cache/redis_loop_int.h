/* Inside the Redis adapter: the connection's state, shared by its two
 * files — redis_loop.c (life cycle, commands) and redis_events.c (hiredis's
 * event hooks on an h2o socket). Not for other modules. */
#ifndef CATALOG_REDIS_LOOP_INT_H
#define CATALOG_REDIS_LOOP_INT_H

#include "cache/redis_loop.h"

#include <arpa/inet.h>

#define BACKOFF_STEPS 7 /* 50, 100, 200, 400, 800, 1600, 2000 ms */

typedef enum { RL_IDLE, RL_RESOLVING, RL_CONNECTING, RL_READY } rl_state_t;

struct redis_loop {
    h2o_context_t *ctx;
    const config_t *cfg;
    redisAsyncContext *ac;
    h2o_socket_t *sock;
    rl_state_t state;
    unsigned attempt;           /* consecutive failures, for the backoff */
    h2o_timeout_t cmd_timeout;  /* REDIS_TIMEOUT_MS: a command is answered NULL */
    h2o_timeout_t dead_timeout; /* REDIS_DEAD_MS: a patient command's reply is missing: drop */
    h2o_timeout_t late_timeout; /* REDIS_DEAD_MS - REDIS_TIMEOUT_MS: a late reply is still missing: drop */
    unsigned late;              /* commands answered NULL whose reply has not come yet */
    redis_loop_counters_t counters;
    h2o_timeout_t backoff[BACKOFF_STEPS];
    h2o_timeout_entry_t retry_entry;
    h2o_timeout_t now_timeout; /* 0 ms: the next address, outside hiredis' callbacks; write batching */
    h2o_timeout_entry_t flush_entry;
    int in_flush;
    /* the addresses of the last resolution, tried in order before backing off */
    char addrs[8][INET6_ADDRSTRLEN];
    uint16_t ports[8];
    unsigned naddrs, addr_idx;
    h2o_timeout_t connect_timeout; /* bounds connect + AUTH + SELECT: hiredis has none */
    h2o_timeout_entry_t connect_entry;
    redis_loop_ready_cb on_ready;
    void *ready_data;
    int logged_down; /* log one line per outage, not one per retry */
    int was_ready;   /* a connection was ready before: the next ready one is a reconnection */
    char where[300]; /* host:port or unix:path, for the log (REDIS_URL may hold a password) */
    redis_loop_error_cb on_error;
    void *error_data;
};

/* Wraps ac's fd in an h2o socket of rl's loop and installs hiredis's event
 * hooks on it (before any callback that may write is set). */
void redis_loop_attach(redis_loop_t *rl, redisAsyncContext *ac);

/* The 0 ms timer's callback: writes what hiredis queued this iteration. */
void redis_loop_on_flush(h2o_timeout_entry_t *entry);

#endif
