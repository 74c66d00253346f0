/* The change stream ({products}:changes) as the change feed reads it: a
 * replay (one script: the stream's epoch, its last entry and the entries
 * after a place) on any connection, and the reader — one connection per
 * process of its own, blocked in XREAD, that hands every new entry to the
 * feed in stream order. Knows nothing of HTTP or of subscribers.
 *
 * Why a connection of its own: XREAD BLOCK holds its connection until an
 * entry comes (or the block ends), so it cannot share the loop's data
 * connection; and a connection in subscribe mode (the in-process cache's
 * invalidation messages) cannot run XREAD at all. A blocking read also
 * wakes the moment the invalidation script appends, with no ordering
 * question between a notification and the entry. */
#ifndef CATALOG_FEED_SOURCE_H
#define CATALOG_FEED_SOURCE_H

#include <h2o.h>

#include "cache/redis_loop.h"
#include "config.h"
#include "model/feed.h"

/* What one replay read saw. */
typedef struct {
    feed_pos_t tip;    /* the stream's epoch and last entry ("0-0" when empty) */
    const char *reset; /* NULL, or why the place given cannot be resumed (FEED_REASON_*): start over from tip */
    int more;          /* as many entries as asked for came back: more may follow */
    size_t n;          /* entries after the place given, in stream order */
    feed_event_t *events;
} feed_replay_t;

/* Called once with the replay (the callee frees it with feed_replay_free),
 * or NULL when Redis failed or timed out. */
typedef void (*feed_replay_cb)(void *data, feed_replay_t *r);

/* Reads, in one script on rl, the epoch (created from the clock when
 * missing), the stream's last entry and — when after is not NULL, of the
 * same epoch, and neither older than the first entry nor past the last —
 * up to max entries after it. Returns 0 (cb called later), or -1 when rl
 * is not connected (cb not called). */
int feed_source_replay(redis_loop_t *rl, const feed_pos_t *after, unsigned max, feed_replay_cb cb, void *data);

void feed_replay_free(feed_replay_t *r);

typedef struct feed_source feed_source_t;

/* Called on the reader's loop with new events in stream order (valid
 * during the call). A reset is made here when the reader finds, on a
 * reconnection, that the epoch changed or the stream was trimmed past its
 * place. */
typedef void (*feed_source_cb)(void *data, const feed_event_t *events, size_t n);

/* Starts the reader on ctx's loop: its own connection (named
 * "catalog-feed" in CLIENT LIST), reconnected with backoff. It starts at
 * the stream's last entry and never skips one: after a reconnection it
 * goes on from the last entry it read. */
feed_source_t *feed_source_create(h2o_context_t *ctx, const config_t *cfg, feed_source_cb cb, void *data);

/* Counters of the reader (read from any thread). */
typedef struct {
    _Atomic int connected;     /* 1 while reading */
    _Atomic uint64_t events;   /* entries read (and resets made) */
    _Atomic uint64_t restarts; /* times it found its place gone (a reset) */
    _Atomic uint64_t epoch;    /* the epoch it reads */
} feed_source_stats_t;

const feed_source_stats_t *feed_source_stats(const feed_source_t *s);

#endif
