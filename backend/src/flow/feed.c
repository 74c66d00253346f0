#include "flow/feed.h"
#include "xalloc.h"

#include "app.h"
#include "clock.h"
#include "server/sse.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define FEED_REPLAY_MAX 200 /* entries per replay round (about 50 KB of events), fewer under a small SSE_BUFFER_MAX */
#define FEED_RETRY_MS 2000  /* the SSE retry: field, how soon a browser reconnects */
#define FEED_RETRY_AFTER_S 5

/* One event's SSE text, shared by every stream it is written to. */
struct flow_feed_item {
    _Atomic unsigned refs;
    feed_pos_t pos;
    int reset;
    size_t len;
    char text[];
};

typedef enum { SUB_HELLO, SUB_REPLAY, SUB_LIVE, SUB_ENDED } sub_state_t;

/* One client's stream. */
typedef struct {
    respond_op_t op; /* first: the request's reference, plus one while a replay read is pending */
    sse_stream_t sse;
    app_thread_t *thread;
    h2o_linklist_t link; /* in thread->feed.streams from the response's start to its end */
    feed_pos_t pos;      /* the last event the client has (epoch 0: none, before the first read) */
    sub_state_t state;
    int more;                 /* the last replay round was full: another follows once it is written */
    h2o_timeout_entry_t wait; /* linked while waiting for the reader's first start */
    uint64_t wait_until;      /* until when (monotonic ms) */
} sub_t;

/* The text of one event, shared by the streams it goes to; a replayed
 * write's entry is an item with no text (it moves a stream's place and
 * sends nothing). NULL when the event does not format. */
static flow_feed_item_t *item_new(const feed_event_t *e)
{
    char buf[1024];
    size_t len = feed_event_format(e, buf, sizeof(buf));
    if (len == 0 && e->type != FEED_REPLAYED)
        return NULL;
    flow_feed_item_t *it = xmalloc(sizeof(*it) + len);
    atomic_init(&it->refs, 1);
    it->pos = e->pos;
    it->reset = e->type == FEED_RESET;
    it->len = len;
    memcpy(it->text, buf, len);
    return it;
}

static void item_release(void *p)
{
    flow_feed_item_t *it = p;
    if (atomic_fetch_sub(&it->refs, 1) == 1)
        free(it);
}

/* Queues it on sub's stream (a reference of its own) and moves sub's place. */
static void push_item(sub_t *sub, flow_feed_item_t *it)
{
    sub->pos = it->pos;
    if (it->len == 0)
        return;
    atomic_fetch_add(&it->refs, 1);
    if (sse_push(&sub->sse, it->text, it->len, item_release, it) == 0)
        atomic_fetch_add_explicit(&sub->thread->feed.sent, 1, memory_order_relaxed);
}

/* Queues events made for this stream alone (a replay). */
static void push_events(sub_t *sub, const feed_event_t *events, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        flow_feed_item_t *it = item_new(&events[i]);
        if (it != NULL) {
            push_item(sub, it);
            item_release(it);
        }
    }
}

static void push_reset(sub_t *sub, const feed_pos_t *at, const char *reason)
{
    feed_event_t e;
    feed_event_reset(&e, at, reason, clock_wall_ms());
    push_events(sub, &e, 1);
}

/* ---- replay, then the live flow ---- */

static void on_round(void *data, feed_replay_t *rep);

/* Entries per replay round: a round must fit well under the stream's
 * bound (an event is about 250 bytes), or a client would be cut for the
 * replay it asked for. */
static unsigned round_max(const app_thread_t *t)
{
    size_t n = t->app->cfg.sse_buffer_max / 1024;
    return n < 1 ? 1 : n > FEED_REPLAY_MAX ? FEED_REPLAY_MAX : (unsigned)n;
}

/* Asks for the entries after sub's place; a failure ends the stream. */
static void next_round(sub_t *sub)
{
    respond_op_ref(&sub->op);
    if (feed_source_replay(cache_redis(sub->thread->cache), &sub->pos, round_max(sub->thread), on_round, sub) != 0) {
        sse_finish(&sub->sse);
        respond_op_unref(&sub->op);
    }
}

/* The replay is written: from the thread's ring, the events after sub's
 * place that the thread handed out already, then the live flow. A ring
 * that lost events after that place (a long replay) means another round;
 * a thread on another epoch than the replay saw (Redis restarted between
 * them) means the client should resume anew. */
static void join(sub_t *sub)
{
    flow_feed_thread_t *ft = &sub->thread->feed;
    if (ft->epoch != 0 && ft->epoch != sub->pos.epoch) {
        sse_finish(&sub->sse);
        return;
    }
    if (ft->dropped.epoch == sub->pos.epoch && feed_sid_cmp(&ft->dropped, &sub->pos) > 0) {
        next_round(sub);
        return;
    }
    for (size_t i = 0; i < ft->ring_count; i++) {
        flow_feed_item_t *it = ft->ring[(ft->ring_head + i) % FEED_RING];
        if (it->pos.epoch == sub->pos.epoch && feed_sid_cmp(&it->pos, &sub->pos) > 0)
            push_item(sub, it);
    }
    sub->state = SUB_LIVE;
    atomic_fetch_add(&ft->live, 1);
    sse_flush(&sub->sse);
}

/* Everything queued is written: the next replay round, or the live flow. */
static void on_drained(sse_stream_t *s)
{
    sub_t *sub = H2O_STRUCT_FROM_MEMBER(sub_t, sse, s);
    if (sub->state != SUB_REPLAY)
        return;
    if (sub->more)
        next_round(sub);
    else
        join(sub);
}

/* Queues what a replay read saw: a reset (the place cannot be resumed), or
 * the entries after sub's place. */
static void take_replay(sub_t *sub, const feed_replay_t *rep)
{
    if (rep->reset != NULL) {
        push_reset(sub, &rep->tip, rep->reset);
        sub->more = 0;
    } else {
        push_events(sub, rep->events, rep->n);
        sub->more = rep->more;
    }
}

static void on_round(void *data, feed_replay_t *rep)
{
    sub_t *sub = data;
    if (sub->state == SUB_REPLAY) {
        if (rep == NULL) {
            sse_finish(&sub->sse); /* Redis failed: the client resumes later */
        } else {
            take_replay(sub, rep);
            if (sub->sse.count == 0)
                on_drained(&sub->sse);
            else
                sse_flush(&sub->sse);
        }
    }
    feed_replay_free(rep);
    respond_op_unref(&sub->op);
}

static void on_end(sse_stream_t *s)
{
    sub_t *sub = H2O_STRUCT_FROM_MEMBER(sub_t, sse, s);
    if (sub->state == SUB_LIVE)
        atomic_fetch_sub(&sub->thread->feed.live, 1);
    if (s->cut_for_bound)
        atomic_fetch_add_explicit(&sub->thread->feed.cut_slow, 1, memory_order_relaxed);
    h2o_linklist_unlink(&sub->link);
    sub->state = SUB_ENDED;
}

/* The first read: start the stream (retry: and, for a client with no
 * place yet, the id to resume from), then the replay. */
static void on_hello(void *data, feed_replay_t *rep)
{
    sub_t *sub = data;
    request_t *r = sub->op.r;
    if (r != NULL && (rep == NULL || r->thread->draining)) {
        respond_unavailable(r,
                            rep == NULL ? "the change feed cannot reach Redis, where the changes are kept; retry later"
                                        : "this server is shutting down; retry (another one will answer)",
                            FEED_RETRY_AFTER_S);
    } else if (r != NULL) {
        sse_start(&sub->sse, r);
        h2o_linklist_insert(&sub->thread->feed.streams, &sub->link);
        sub->state = SUB_REPLAY;
        char *pre = h2o_mem_alloc_pool(&r->req->pool, 32 + FEED_ID_MAX);
        int n = sprintf(pre, "retry: %d\n", FEED_RETRY_MS);
        int fresh = sub->pos.epoch == 0;
        if (fresh) {
            sub->pos = rep->tip;
            n += sprintf(pre + n, "id: ");
            n += feed_pos_format(&rep->tip, pre + n);
            pre[n++] = '\n';
        }
        pre[n++] = '\n';
        sse_push(&sub->sse, pre, (size_t)n, NULL, NULL);
        if (!fresh)
            take_replay(sub, rep);
        sse_flush(&sub->sse);
    }
    feed_replay_free(rep);
    respond_op_unref(&sub->op);
}

/* The first read, once the process's reader has taken its place in the
 * stream: before that, a client's own place could come before the
 * reader's, and the entries in between would reach neither (a start-up
 * with Redis slow or down). Waits up to REDIS_DEAD_MS for it, then 503.
 * Holds the first read's reference. */
static void hello(sub_t *sub)
{
    app_thread_t *t = sub->thread;
    const feed_source_t *src = t->app->threads[0].feed.source;
    if (sub->op.r == NULL) {
        respond_op_unref(&sub->op);
    } else if (src != NULL && atomic_load(&feed_source_stats(src)->epoch) != 0) {
        if (feed_source_replay(cache_redis(t->cache), sub->pos.epoch ? &sub->pos : NULL, round_max(t), on_hello, sub) != 0)
            on_hello(sub, NULL);
    } else if (clock_mono_ms() < sub->wait_until && !t->draining) {
        h2o_timeout_link(t->ctx.loop, &t->feed.wait_timeout, &sub->wait);
    } else {
        respond_unavailable(sub->op.r, "the change feed is starting on this server; retry in a moment", FEED_RETRY_AFTER_S);
        respond_op_unref(&sub->op);
    }
}

static void on_wait(h2o_timeout_entry_t *entry)
{
    hello(H2O_STRUCT_FROM_MEMBER(sub_t, wait, entry));
}

static void sub_destroy(respond_op_t *op)
{
    sub_t *sub = (sub_t *)op;
    sse_dispose(&sub->sse);
    atomic_fetch_sub(&sub->thread->app->feed.clients, 1);
    free(sub);
}

void flow_feed_subscribe(request_t *r, const feed_pos_t *after)
{
    app_thread_t *t = r->thread;
    const config_t *cfg = &t->app->cfg;
    if (atomic_fetch_add(&t->app->feed.clients, 1) >= cfg->sse_max_clients) {
        atomic_fetch_sub(&t->app->feed.clients, 1);
        respond_unavailable(r,
                            cfg->sse_max_clients ? "too many change feeds are open on this server; retry later"
                                                 : "the change feed is switched off on this server (SSE_MAX_CLIENTS=0)",
                            FEED_RETRY_AFTER_S);
        return;
    }
    sub_t *sub = xcalloc(1, sizeof(*sub));
    sub->thread = t;
    if (after != NULL)
        sub->pos = *after;
    sse_init(&sub->sse, cfg->sse_buffer_max, on_drained, on_end);
    sub->wait.cb = on_wait;
    respond_op_attach(&sub->op, r, sub_destroy);
    respond_op_ref(&sub->op); /* the first read's */
    sub->wait_until = clock_mono_ms() + cfg->redis_dead_ms;
    hello(sub);
}

/* ---- the live flow: batches from the reader ---- */

typedef struct {
    h2o_multithread_message_t msg; /* first */
    size_t n;
    flow_feed_item_t *items[]; /* one reference each, handed to the ring */
} batch_t;

/* Cuts the streams whose earlier output is still unsent past the bound: a
 * client that stopped reading must not make this process hold more. */
static void cut_stuck(flow_feed_thread_t *ft)
{
    for (h2o_linklist_t *n = ft->streams.next, *next; n != &ft->streams; n = next) {
        next = n->next;
        sse_cut_if_stuck(&H2O_STRUCT_FROM_MEMBER(sub_t, link, n)->sse);
    }
}

/* Hands one event to the live subscribers: those of its epoch get it when
 * it is after their place; a subscriber of another epoch gets a reset (and
 * follows its epoch), or for anything else is ended: it resumes, and the
 * replay tells it to reload. Then the ring keeps it (taking its reference). */
static void hand_out(flow_feed_thread_t *ft, flow_feed_item_t *it)
{
    for (h2o_linklist_t *n = ft->streams.next, *next; n != &ft->streams; n = next) {
        next = n->next;
        sub_t *sub = H2O_STRUCT_FROM_MEMBER(sub_t, link, n);
        if (sub->state != SUB_LIVE)
            continue;
        if (it->pos.epoch == sub->pos.epoch ? feed_sid_cmp(&it->pos, &sub->pos) > 0 : it->reset)
            push_item(sub, it);
        else if (it->pos.epoch != sub->pos.epoch)
            sse_finish(&sub->sse);
    }
    if (ft->ring_count == FEED_RING) {
        flow_feed_item_t *old = ft->ring[ft->ring_head];
        ft->dropped = old->pos;
        item_release(old);
        ft->ring_head = (ft->ring_head + 1) % FEED_RING;
        ft->ring_count--;
    }
    ft->ring[(ft->ring_head + ft->ring_count++) % FEED_RING] = it;
    ft->epoch = it->pos.epoch;
}

static void flush_all(flow_feed_thread_t *ft)
{
    /* next taken first: a flush that ends a stream unlinks it */
    for (h2o_linklist_t *n = ft->streams.next, *next; n != &ft->streams; n = next) {
        next = n->next;
        sse_flush(&H2O_STRUCT_FROM_MEMBER(sub_t, link, n)->sse);
    }
}

static void on_batches(h2o_multithread_receiver_t *receiver, h2o_linklist_t *messages)
{
    flow_feed_thread_t *ft = H2O_STRUCT_FROM_MEMBER(flow_feed_thread_t, receiver, receiver);
    h2o_multithread_message_t *msg;
    cut_stuck(ft);
    while ((msg = app_next_message(messages)) != NULL) {
        batch_t *b = (batch_t *)msg;
        for (size_t i = 0; i < b->n; i++)
            hand_out(ft, b->items[i]);
        free(b);
    }
    flush_all(ft);
}

/* On thread 0: the reader's events, to every loop thread. */
static void on_events(void *data, const feed_event_t *events, size_t n)
{
    app_t *app = data;
    flow_feed_item_t **items = xmalloc(n * sizeof(*items));
    size_t k = 0;
    for (size_t i = 0; i < n; i++)
        if ((items[k] = item_new(&events[i])) != NULL)
            k++;
    for (unsigned t = 0; t < app->cfg.threads && k != 0; t++) {
        batch_t *b = xcalloc(1, sizeof(*b) + k * sizeof(b->items[0]));
        b->n = k;
        for (size_t i = 0; i < k; i++) {
            atomic_fetch_add(&items[i]->refs, 1);
            b->items[i] = items[i];
        }
        h2o_multithread_send_message(&app->threads[t].feed.receiver, &b->msg);
    }
    for (size_t i = 0; i < k; i++)
        item_release(items[i]);
    free(items);
}

/* ---- pings, drain, set-up ---- */

static void on_ping(h2o_timeout_entry_t *entry)
{
    app_thread_t *t = H2O_STRUCT_FROM_MEMBER(app_thread_t, feed.ping, entry);
    flow_feed_thread_t *ft = &t->feed;
    static const char ping[] = ": ping\n\n";
    cut_stuck(ft);
    for (h2o_linklist_t *n = ft->streams.next; n != &ft->streams; n = n->next) {
        sub_t *sub = H2O_STRUCT_FROM_MEMBER(sub_t, link, n);
        if (sub->state == SUB_LIVE)
            sse_push(&sub->sse, ping, sizeof(ping) - 1, NULL, NULL);
    }
    flush_all(ft);
    if (!t->draining)
        h2o_timeout_link(t->ctx.loop, &ft->ping_timeout, &ft->ping);
}

void flow_feed_drain(app_thread_t *t)
{
    flow_feed_thread_t *ft = &t->feed;
    for (h2o_linklist_t *n = ft->streams.next, *next; n != &ft->streams; n = next) {
        next = n->next;
        sse_finish(&H2O_STRUCT_FROM_MEMBER(sub_t, link, n)->sse);
    }
}

void flow_feed_init_thread(app_thread_t *t)
{
    flow_feed_thread_t *ft = &t->feed;
    h2o_linklist_init_anchor(&ft->streams);
    h2o_multithread_register_receiver(t->ctx.queue, &ft->receiver, on_batches);
    h2o_timeout_init(t->ctx.loop, &ft->ping_timeout, t->app->cfg.sse_ping_s * 1000);
    ft->ping.cb = on_ping;
    h2o_timeout_link(t->ctx.loop, &ft->ping_timeout, &ft->ping);
    h2o_timeout_init(t->ctx.loop, &ft->wait_timeout, 20);
    if (t->index == 0 && t->app->cfg.sse_max_clients != 0)
        ft->source = feed_source_create(&t->ctx, &t->app->cfg, on_events, t->app);
}

void flow_feed_stats(app_t *app, flow_feed_stats_t *out)
{
    memset(out, 0, sizeof(*out));
    out->clients = atomic_load(&app->feed.clients);
    for (unsigned i = 0; i < app->cfg.threads; i++) {
        flow_feed_thread_t *ft = &app->threads[i].feed;
        out->live += atomic_load(&ft->live);
        out->sent += atomic_load(&ft->sent);
        out->cut_slow += atomic_load(&ft->cut_slow);
    }
    const feed_source_t *src = app->threads[0].feed.source;
    if (src != NULL) {
        const feed_source_stats_t *st = feed_source_stats(src);
        out->reader_connected = atomic_load(&st->connected);
        out->read = atomic_load(&st->events);
        out->restarts = atomic_load(&st->restarts);
        out->epoch = atomic_load(&st->epoch);
    }
}
