/* The change feed: every browser follows the catalogue's changes as
 * Server-Sent Events. The Redis change stream is the source of truth; each
 * process reads it once (one reader on loop thread 0, cache/feed_source)
 * and hands each batch of events to every loop thread, which writes them to
 * its own subscribers. A subscriber resuming from an event id is replayed
 * from the stream first, in rounds its client has to take in (no more than
 * a round is buffered), then joins the live flow with neither gap nor
 * duplicate: each loop thread keeps its last FEED_RING events, and a
 * subscriber skips what it has seen already by the events' stream ids. A
 * client whose unsent output passes SSE_BUFFER_MAX is cut (it resumes by
 * id); beyond SSE_MAX_CLIENTS per process the answer is 503. */
#ifndef CATALOG_FLOW_FEED_H
#define CATALOG_FLOW_FEED_H

#include <h2o.h>
#include <stdatomic.h>

#include "cache/feed_source.h"
#include "model/feed.h"
#include "server/respond.h"

typedef struct app_thread app_thread_t;
typedef struct app app_t;
typedef struct flow_feed_item flow_feed_item_t;

#define FEED_RING 1024 /* events each loop thread keeps for subscribers joining the live flow */

/* Process-wide: the open streams, for SSE_MAX_CLIENTS. */
typedef struct {
    _Atomic unsigned clients;
} flow_feed_shared_t;

/* The feed's per-thread state. */
typedef struct {
    h2o_multithread_receiver_t receiver; /* batches of events from the reader */
    h2o_linklist_t streams;              /* subscribers whose response started (replaying or live) */
    flow_feed_item_t *ring[FEED_RING];   /* the last events handed out here, oldest at ring_head */
    size_t ring_head, ring_count;
    feed_pos_t dropped; /* the newest event that left the ring (epoch 0: none) */
    uint64_t epoch;     /* the epoch of the last event handed out (0: none yet) */
    h2o_timeout_t ping_timeout;
    h2o_timeout_entry_t ping;
    h2o_timeout_t wait_timeout; /* a new subscriber waiting for the reader's first start */
    feed_source_t *source;      /* thread 0: the process's reader */
    _Atomic size_t live;        /* subscribers in the live flow */
    _Atomic uint64_t sent;      /* events written to subscribers (replays included) */
    _Atomic uint64_t cut_slow;
} flow_feed_thread_t;

/* Serves GET /api/changes on r: after (may be NULL: from now on) is the
 * last event the client has. Answers a stream, or 503 + Retry-After
 * (SSE_MAX_CLIENTS open already, Redis unreachable, shutting down). */
void flow_feed_subscribe(request_t *r, const feed_pos_t *after);

/* Sets up this module's per-thread state; starts the reader on thread 0. */
void flow_feed_init_thread(app_thread_t *t);

/* Ends every stream of t (a drain): cleanly where nothing is being
 * written, else by closing the connection; clients resume elsewhere. */
void flow_feed_drain(app_thread_t *t);

typedef struct {
    size_t clients, live;
    uint64_t sent, cut_slow, read, restarts, epoch;
    int reader_connected;
} flow_feed_stats_t;

/* Sums the feed's counters over the loop threads (any thread). */
void flow_feed_stats(app_t *app, flow_feed_stats_t *out);

#endif
