/* A Server-Sent Events response on h2o 2.2.5: a 200 text/event-stream
 * whose body is written as chunks are pushed, through one bounded queue.
 * h2o takes one write at a time (h2o_send, then wait for proceed), so
 * chunks pushed meanwhile wait here; their unsent bytes are bounded, and a
 * stream that passes the bound (a client that stopped reading) is cut, not
 * buffered further (the owner checks the bound before it pushes more:
 * one push of many chunks at once is no sign of a slow client). Chunks are
 * not copied: each comes with a release hook,
 * called once it is written or the stream is gone.
 *
 * Lifetime: the stream is embedded in its owner, which keeps it (and so
 * the chunks h2o may still be writing) until the request is gone, then
 * calls sse_dispose. on_end tells the owner, once, that the stream is over
 * (the client left, it was cut, or it was finished). */
#ifndef CATALOG_SSE_H
#define CATALOG_SSE_H

#include <h2o.h>

#include "server/respond.h"

typedef struct sse_stream sse_stream_t;
typedef void (*sse_cb)(sse_stream_t *s);

typedef struct {
    h2o_iovec_t buf;
    void (*release)(void *arg); /* may be NULL (static bytes) */
    void *arg;
} sse_chunk_t;

struct sse_stream {
    h2o_generator_t generator;
    request_t *r; /* NULL before sse_start and once the stream is over */
    sse_chunk_t *q;
    size_t head, count, cap; /* the queue (a ring): the first `sending` chunks are with h2o */
    size_t sending;
    size_t unsent_bytes; /* queued and in h2o's write, not yet taken by the kernel */
    size_t max_bytes;
    int ended, cutting, cut_for_bound;
    sse_cb on_drained; /* every chunk is written (the owner may push more) */
    sse_cb on_end;
};

/* Prepares s (zeroed by the caller's allocation): unsent output above
 * max_bytes makes sse_cut_if_stuck cut the stream. */
void sse_init(sse_stream_t *s, size_t max_bytes, sse_cb on_drained, sse_cb on_end);

/* Starts r's response: 200, text/event-stream, Cache-Control: no-store,
 * X-Accel-Buffering: no (proxies must not hold events back), no length,
 * the connection not reused afterwards; its socket keeps a small fixed
 * send buffer, and is watched so that a client leaving ends the stream at
 * once (h2o reads nothing while it sends). */
void sse_start(sse_stream_t *s, request_t *r);

/* Queues a chunk (written after those queued before it). Returns 0, or -1
 * when the stream is over (the chunk is released). Call sse_flush to
 * write. */
int sse_push(sse_stream_t *s, const char *bytes, size_t len, void (*release)(void *), void *arg);

/* Cuts the stream when its unsent output passed max_bytes: the client
 * stopped reading (or reads too slowly). Returns 1 when it did (the
 * owner may be gone by then: touch nothing). */
int sse_cut_if_stuck(sse_stream_t *s);

/* Writes what is queued when h2o is not writing already. */
void sse_flush(sse_stream_t *s);

/* Ends the stream: at once and cleanly (what is queued, then the end of
 * the body) when h2o is not writing; else it is cut (the client resumes
 * from the last event it got whole). */
void sse_finish(sse_stream_t *s);

/* Ends the stream by closing its connection. */
void sse_cut(sse_stream_t *s);

/* Releases every chunk still held; once the request is gone. */
void sse_dispose(sse_stream_t *s);

#endif
