/* The in-process cache (L1) in front of Redis: one per process, shared by
 * the loop threads under one lock, kept exact by Redis's server-assisted
 * client-side caching. One connection subscribes to __redis__:invalidate
 * (RESP2); one more sends CLIENT TRACKING on REDIRECT <subscriber> BCAST
 * for {products}:gen, {products}:floor and {products}:product:, so Redis
 * reports every change under them — writes, fills, expiries, evictions,
 * and FLUSHALL as a nil payload. A gen message drops every list and the
 * categories, a floor message every product, a product key that product,
 * a nil everything.
 *
 * Exactness (the argument is in README.md, "In-process cache"): before an
 * entry is served or inserted, the subscriber's socket is read until EAGAIN
 * and every message in it applied; with half a message in the reader the
 * L1 is not used. An insert is refused when an invalidation covering it was
 * applied after its ticket, taken before its command was sent. A lost
 * connection, a burst that may have left bytes queued in Redis, an
 * unexpected reply, no answer to the liveness ROLE within REDIS_DEAD_MS / 2
 * or an answer other than master, or MOVED/ASK/READONLY on a data
 * connection flush the L1 and turn it off until both connections are set
 * up again and tracking is confirmed. */
#ifndef CATALOG_LOCAL_H
#define CATALOG_LOCAL_H

#include <h2o.h>

#include "cache/local_table.h"
#include "config.h"

typedef struct local local_t;

typedef struct {
    int on; /* tracking confirmed: the L1 serves */
    local_table_stats_t table;
    uint64_t flushes;    /* the L1 emptied: nil payloads, lost tracking */
    uint64_t losses;     /* tracking lost (connection closed, burst, MOVED...) */
    uint64_t lock_waits; /* lookups and fills that waited for another loop thread */
} local_stats_t;

/* Creates the process's L1 (cfg->l1_bytes, which must not be 0), off until
 * local_start's connections confirm tracking. */
local_t *local_create(const config_t *cfg);

/* On loop thread 0: connects the subscriber and the tracking connection
 * (again, with backoff, after every loss) and reads them every few ms. */
void local_start(local_t *l, h2o_context_t *ctx);

/* Any loop thread. Drains the subscriber, then returns key's entry with a
 * reference (local_entry_release after answering) or NULL. *ticket gets
 * what local_fill needs for a command sent after this call (0: none may be
 * filled, the L1 is off). */
local_entry_t *local_lookup(local_t *l, const char *key, size_t key_len, uint64_t *ticket);

/* Any loop thread: inserts the stored bytes of a Redis hit read by a
 * command sent after local_lookup gave ticket, unless an invalidation
 * covering it arrived since (the subscriber is drained first). */
void local_fill(local_t *l, const char *key, size_t key_len, local_class_t cls, uint64_t ticket, const entry_view_t *v);

/* A data connection's error reply (redis_loop's error hook): MOVED, ASK
 * and READONLY mean this Redis is no longer the master the tracking was
 * registered on — the L1 is flushed and off until tracking is confirmed on
 * a master again. */
void local_on_redis_error(void *l, const char *err, size_t len);

void local_stats(local_t *l, local_stats_t *out);

#endif
