#include "server/sse.h"
#include "xalloc.h"

#include "server/server.h"

#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

/* The kernel's send buffer of an event stream: fixed (no autotuning), so a
 * client that stops reading holds at most this much in the kernel besides
 * max_bytes here (Linux doubles the value for its bookkeeping). */
#define SSE_SNDBUF 32768
#define SSE_WRITE_MAX 64 /* chunks per h2o_send */

static sse_chunk_t *at(sse_stream_t *s, size_t i)
{
    return &s->q[(s->head + i) % s->cap];
}

/* Releases the first n chunks of the queue. */
static void release_first(sse_stream_t *s, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        sse_chunk_t *c = at(s, 0);
        s->unsent_bytes -= c->buf.len;
        if (c->release != NULL)
            c->release(c->arg);
        s->head = (s->head + 1) % s->cap;
        s->count--;
    }
}

/* The stream is over: tell the owner once; stop watching the client. */
static void end(sse_stream_t *s)
{
    if (s->ended)
        return;
    s->ended = 1;
    if (s->r != NULL)
        server_unwatch_peer(s->r);
    s->r = NULL;
    s->on_end(s);
}

/* Hands h2o the queued chunks (up to SSE_WRITE_MAX) of req's stream with
 * state. A final state may dispose of the request (and the owner of s)
 * before this returns: touch nothing afterwards. */
static void send_queued(sse_stream_t *s, h2o_req_t *req, h2o_send_state_t state)
{
    h2o_iovec_t bufs[SSE_WRITE_MAX];
    size_t n = s->count < SSE_WRITE_MAX ? s->count : SSE_WRITE_MAX;
    for (size_t i = 0; i < n; i++)
        bufs[i] = at(s, i)->buf;
    s->sending = n;
    h2o_send(req, bufs, n, state);
}

static void on_proceed(h2o_generator_t *g, h2o_req_t *req)
{
    sse_stream_t *s = H2O_STRUCT_FROM_MEMBER(sse_stream_t, generator, g);
    release_first(s, s->sending);
    s->sending = 0;
    if (s->cutting) { /* the write went through before the cut took: end it now */
        request_t *r = s->r;
        end(s);
        h2o_send(r->req, NULL, 0, H2O_SEND_STATE_ERROR);
    } else if (s->count != 0) {
        send_queued(s, req, H2O_SEND_STATE_IN_PROGRESS);
    } else if (s->on_drained != NULL) {
        s->on_drained(s);
    }
}

/* h2o gave up the response (the client left, or the cut closed it). */
static void on_stop(h2o_generator_t *g, h2o_req_t *req)
{
    end(H2O_STRUCT_FROM_MEMBER(sse_stream_t, generator, g));
}

static void on_peer(void *data)
{
    sse_cut(data);
}

void sse_init(sse_stream_t *s, size_t max_bytes, sse_cb on_drained, sse_cb on_end)
{
    s->max_bytes = max_bytes;
    s->on_drained = on_drained;
    s->on_end = on_end;
    s->generator.proceed = on_proceed;
    s->generator.stop = on_stop;
}

void sse_start(sse_stream_t *s, request_t *r)
{
    h2o_req_t *req = r->req;
    s->r = r;
    req->res.status = 200;
    req->res.reason = "OK";
    req->http1_is_persistent = 0;
    h2o_add_header(&req->pool, &req->res.headers, H2O_TOKEN_CONTENT_TYPE, NULL, H2O_STRLIT("text/event-stream"));
    h2o_add_header(&req->pool, &req->res.headers, H2O_TOKEN_CACHE_CONTROL, NULL, H2O_STRLIT("no-store"));
    respond_header(r, "x-accel-buffering", H2O_STRLIT("no"));
    if (r->conn != NULL) {
        int size = SSE_SNDBUF;
        setsockopt(r->conn->fd, SOL_SOCKET, SO_SNDBUF, &size, sizeof(size));
    }
    server_watch_peer(r, on_peer, s);
    respond_stream_started(r);
    h2o_start_response(req, &s->generator);
}

int sse_push(sse_stream_t *s, const char *bytes, size_t len, void (*release)(void *), void *arg)
{
    if (s->ended || s->cutting) {
        if (release != NULL)
            release(arg);
        return -1;
    }
    if (s->count == s->cap) {
        sse_chunk_t *q = xmalloc((s->cap ? 2 * s->cap : 8) * sizeof(*q));
        for (size_t i = 0; i < s->count; i++)
            q[i] = *at(s, i);
        free(s->q);
        s->q = q;
        s->head = 0;
        s->cap = s->cap ? 2 * s->cap : 8;
    }
    *at(s, s->count++) = (sse_chunk_t){h2o_iovec_init(bytes, len), release, arg};
    s->unsent_bytes += len;
    return 0;
}

int sse_cut_if_stuck(sse_stream_t *s)
{
    if (s->ended || s->cutting || s->unsent_bytes <= s->max_bytes)
        return 0;
    s->cut_for_bound = 1;
    sse_cut(s);
    return 1;
}

void sse_flush(sse_stream_t *s)
{
    if (!s->ended && !s->cutting && s->sending == 0 && s->count != 0)
        send_queued(s, s->r->req, H2O_SEND_STATE_IN_PROGRESS);
}

void sse_finish(sse_stream_t *s)
{
    if (s->ended || s->cutting)
        return;
    if (s->sending != 0 || s->count > SSE_WRITE_MAX) {
        sse_cut(s);
        return;
    }
    request_t *r = s->r;
    end(s);
    send_queued(s, r->req, H2O_SEND_STATE_FINAL); /* the chunks stay held until sse_dispose: h2o may still be writing them */
}

void sse_cut(sse_stream_t *s)
{
    if (s->ended || s->cutting)
        return;
    if (s->sending == 0) {
        request_t *r = s->r;
        end(s);
        h2o_send(r->req, NULL, 0, H2O_SEND_STATE_ERROR);
        return;
    }
    /* h2o is writing: closing the socket makes that write fail, and h2o
     * then stops the response (on_stop) */
    s->cutting = 1;
    if (s->r->conn != NULL)
        shutdown(s->r->conn->fd, SHUT_RDWR);
}

void sse_dispose(sse_stream_t *s)
{
    s->sending = 0;
    release_first(s, s->count);
    free(s->q);
    s->q = NULL;
    s->cap = 0;
}
