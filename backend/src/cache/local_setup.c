/* The L1's two Redis connections, set up and kept on loop thread 0: a
 * tick every TICK_MS moves the state machine (down → connecting → set-up →
 * on → lost → down) and reads the subscriber while on. */
#include "cache/local_internal.h"
#include "xalloc.h"
#include "log.h"

#include "cache/cache.h"
#include "clock.h"

#include <arpa/inet.h>
#include <netdb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/un.h>

enum { SUB, TRK };

/* Thread 0: closes both connections and schedules the next attempt
 * (50 ms doubling to 2 s while it keeps failing). */
static void teardown(local_t *l)
{
    static const unsigned steps[] = {50, 100, 200, 400, 800, 1600, 2000};
    atomic_fetch_add(&l->conn_gen, 1); /* before the fds can be reused: a lookup that polled them gives up */
    atomic_store(&l->fds[SUB], -1);
    atomic_store(&l->fds[TRK], -1);
    tracking_conn_close(&l->sub);
    tracking_conn_close(&l->trk);
    l->partial = 0;
    l->ping_sent_ms = 0;
    l->nwant[SUB] = l->nwant[TRK] = l->got[SUB] = l->got[TRK] = 0;
    unsigned n = sizeof(steps) / sizeof(steps[0]);
    l->deadline_ms = clock_mono_ms() + steps[l->attempt < n ? l->attempt : n - 1];
    l->attempt++;
    l->state = L_DOWN;
}

/* Queues a command on connection i and the reply it must get. */
static void queue(local_t *l, int i, expect_t want, int argc, const char **argv)
{
    tracking_conn_command(i == SUB ? &l->sub : &l->trk, argc, argv);
    l->want[i][l->nwant[i]++] = want;
}

/* AUTH (when a password is set) and CLIENT SETNAME catalog:<port>:<role>,
 * so an operator (and a test) can tell the L1's connections apart. */
static void queue_hello(local_t *l, int i, const char *role)
{
    const config_t *cfg = l->cfg;
    if (cfg->redis_password[0] != '\0') {
        const char *u[] = {"AUTH", cfg->redis_user, cfg->redis_password};
        const char *p[] = {"AUTH", cfg->redis_password};
        cfg->redis_user[0] != '\0' ? queue(l, i, WANT_OK, 3, u) : queue(l, i, WANT_OK, 2, p);
    }
    char name[64];
    snprintf(name, sizeof(name), "catalog:%u:%s", (unsigned)cfg->port, role);
    queue(l, i, WANT_OK, 3, (const char *[]){"CLIENT", "SETNAME", name});
}

/* The subscriber: its id first, then SUBSCRIBE; nothing is sent on it
 * afterwards (a reply queued for it could put it behind a writer). */
static void queue_subscriber(local_t *l)
{
    queue_hello(l, SUB, "l1-subscriber");
    queue(l, SUB, WANT_ID, 2, (const char *[]){"CLIENT", "ID"});
    queue(l, SUB, WANT_SUBSCRIBED, 2, (const char *[]){"SUBSCRIBE", CHANNEL});
}

/* Once the subscription is confirmed: the conditions of the ordering
 * argument that Redis can tell (io-threads, master), then tracking. */
static void queue_tracking(local_t *l)
{
    char id[24];
    snprintf(id, sizeof(id), "%lld", l->sub_id);
    queue_hello(l, TRK, "l1-tracking");
    queue(l, TRK, WANT_IO_THREADS, 3, (const char *[]){"CONFIG", "GET", "io-threads"});
    queue(l, TRK, WANT_ROLE, 1, (const char *[]){"ROLE"});
    const char *argv[] = {"CLIENT", "TRACKING",    "on",     "REDIRECT",      id,       "BCAST",
                          "PREFIX", CACHE_GEN_KEY, "PREFIX", CACHE_FLOOR_KEY, "PREFIX", CACHE_PRODUCT_PREFIX};
    queue(l, TRK, WANT_OK, (int)(sizeof(argv) / sizeof(argv[0])), argv);
}

static int is_str(const redisReply *r, int type, const char *s)
{
    return r->type == type && strcmp(r->str, s) == 0;
}

/* Checks a set-up reply against what it must be; returns NULL or why not. */
static const char *check(local_t *l, expect_t want, const redisReply *r)
{
    switch (want) {
    case WANT_OK:
        return is_str(r, REDIS_REPLY_STATUS, "OK") ? NULL : r->type == REDIS_REPLY_ERROR ? r->str : "a set-up command was refused";
    case WANT_ID:
        l->sub_id = r->type == REDIS_REPLY_INTEGER ? r->integer : 0;
        return l->sub_id > 0 ? NULL : "CLIENT ID gave no id";
    case WANT_SUBSCRIBED:
        return r->type == REDIS_REPLY_ARRAY && r->elements == 3 && is_str(r->element[0], REDIS_REPLY_STRING, "subscribe")
                   ? NULL
                   : "SUBSCRIBE was not confirmed";
    case WANT_IO_THREADS: /* CONFIG may be renamed or refused: the README states the condition */
        if (r->type == REDIS_REPLY_ARRAY && r->elements == 2 && r->element[1]->type == REDIS_REPLY_STRING &&
            atoi(r->element[1]->str) > 1)
            return "Redis runs with io-threads > 1: invalidations may reach us after a writer's reply";
        return NULL;
    case WANT_ROLE:
        return r->type == REDIS_REPLY_ARRAY && r->elements >= 1 && is_str(r->element[0], REDIS_REPLY_STRING, "master")
                   ? NULL
                   : "this Redis is not a master";
    }
    return "?";
}

/* Reads connection i's set-up replies. Returns 0, or -1 after local_lose. */
static int read_setup(local_t *l, int i)
{
    tracking_conn_t *c = i == SUB ? &l->sub : &l->trk;
    if (tracking_conn_flush(c) < 0 || tracking_conn_read(c) < 0) {
        local_lose(l, "a connection closed during set-up");
        return -1;
    }
    redisReply *r;
    while (l->got[i] < l->nwant[i]) {
        if (tracking_conn_reply(c, &r) != 0) {
            local_lose(l, "a protocol error during set-up");
            return -1;
        }
        if (r == NULL)
            return 0;
        const char *why = check(l, l->want[i][l->got[i]++], r);
        if (why != NULL) {
            char msg[160];
            snprintf(msg, sizeof(msg), "%s", why);
            freeReplyObject(r);
            local_lose(l, msg);
            return -1;
        }
        freeReplyObject(r);
    }
    return 0;
}

/* Opens both connections to l->addr. */
static void open_connections(local_t *l)
{
    if (tracking_conn_open(&l->sub, (struct sockaddr *)&l->addr, l->addrlen, SUB_RCVBUF) != 0 ||
        tracking_conn_open(&l->trk, (struct sockaddr *)&l->addr, l->addrlen, 0) != 0) {
        local_lose(l, "cannot open a connection");
        return;
    }
    atomic_store(&l->fds[SUB], l->sub.fd);
    atomic_store(&l->fds[TRK], l->trk.fd);
    /* again, now the new fds are there: a lookup that read the generation
     * before them may have polled -1 (nothing pending) and must not count
     * on it once these connections are set up */
    atomic_fetch_add(&l->conn_gen, 1);
    l->deadline_ms = clock_mono_ms() + SETUP_TIMEOUT_MS;
    l->state = L_CONNECTING;
}

static void on_resolved(h2o_hostinfo_getaddr_req_t *req, const char *errstr, struct addrinfo *res, void *data)
{
    local_t *l = data;
    pthread_mutex_lock(&l->lock);
    l->resolving = NULL;
    if (errstr != NULL || res == NULL || res->ai_addrlen > sizeof(l->addr)) {
        local_lose(l, errstr ? errstr : "the Redis host name has no address");
    } else {
        memcpy(&l->addr, res->ai_addr, res->ai_addrlen);
        l->addrlen = res->ai_addrlen;
        open_connections(l);
    }
    pthread_mutex_unlock(&l->lock);
}

/* Finds Redis's address (unix socket, address literal, or a name resolved
 * off the loop) and connects. */
static void step_down(local_t *l)
{
    const config_t *cfg = l->cfg;
    if (clock_mono_ms() < l->deadline_ms)
        return;
    struct sockaddr_in *in4 = (struct sockaddr_in *)&l->addr;
    struct sockaddr_in6 *in6 = (struct sockaddr_in6 *)&l->addr;
    struct sockaddr_un *un = (struct sockaddr_un *)&l->addr;
    memset(&l->addr, 0, sizeof(l->addr));
    if (cfg->redis_unix[0] != '\0') {
        un->sun_family = AF_UNIX;
        size_t n = strnlen(cfg->redis_unix, sizeof(un->sun_path) - 1); /* config refuses longer paths */
        memcpy(un->sun_path, cfg->redis_unix, n);
        l->addrlen = sizeof(*un);
    } else if (inet_pton(AF_INET, cfg->redis_host, &in4->sin_addr) == 1) {
        in4->sin_family = AF_INET;
        in4->sin_port = htons(cfg->redis_port);
        l->addrlen = sizeof(*in4);
    } else if (inet_pton(AF_INET6, cfg->redis_host, &in6->sin6_addr) == 1) {
        in6->sin6_family = AF_INET6;
        in6->sin6_port = htons(cfg->redis_port);
        l->addrlen = sizeof(*in6);
    } else {
        char port[8];
        snprintf(port, sizeof(port), "%u", cfg->redis_port);
        l->state = L_RESOLVING;
        l->resolving =
            h2o_hostinfo_getaddr(&l->ctx->receivers.hostinfo_getaddr, h2o_iovec_init(cfg->redis_host, strlen(cfg->redis_host)),
                                 h2o_iovec_init(port, strlen(port)), AF_UNSPEC, SOCK_STREAM, IPPROTO_TCP,
                                 AI_ADDRCONFIG | AI_NUMERICSERV, on_resolved, l);
        return;
    }
    open_connections(l);
}

static void step_connecting(local_t *l)
{
    int a = tracking_conn_connected(&l->sub), b = tracking_conn_connected(&l->trk);
    if (a < 0 || b < 0) {
        local_lose(l, "connect failed");
    } else if (a == 1 && b == 1) {
        queue_subscriber(l);
        l->state = L_SETUP;
    } else if (clock_mono_ms() > l->deadline_ms) {
        local_lose(l, "connect timed out");
    }
}

static void step_setup(local_t *l)
{
    if (read_setup(l, SUB) != 0)
        return;
    if (l->got[SUB] == l->nwant[SUB] && l->nwant[TRK] == 0) {
        queue_tracking(l); /* subscribed: redirecting to it now loses no message */
        l->alive_ms = clock_mono_ms();
    }
    if (l->nwant[TRK] != 0 && read_setup(l, TRK) != 0)
        return;
    if (l->nwant[TRK] != 0 && l->got[TRK] == l->nwant[TRK]) {
        l->state = L_ON;
        l->attempt = 0;
        l->why[0] = '\0';
        local_drain(l); /* the messages read during set-up, and whether half of one is left */
        if (l->state != L_ON)
            return;
        atomic_store_explicit(&l->on, 1, memory_order_release);
        LOG(LOG_INFO, "l1_tracking_on", "the in-process cache serves", LOG_I("subscriber_id", l->sub_id));
    } else if (clock_mono_ms() > l->deadline_ms) {
        local_lose(l, "no answer to the set-up commands");
    }
}

static void step_resolving(local_t *l)
{
}

/* Reads both connections, and asks Redis its ROLE on the tracking
 * connection (nothing is ever sent on the subscriber) every
 * alive_limit_ms / 2: the answer shows it alive, and still a master. */
static void step_on(local_t *l)
{
    local_drain(l);
    uint64_t now = clock_mono_ms();
    if (l->state != L_ON)
        return;
    if (l->ping_sent_ms != 0 || now - l->alive_ms < l->alive_limit_ms / 2) {
        /* the rest of a ROLE the socket did not take at once */
        if (l->ping_sent_ms != 0 && tracking_conn_flush(&l->trk) < 0)
            local_lose(l, "the tracking connection closed");
        return;
    }
    tracking_conn_command(&l->trk, 1, (const char *[]){"ROLE"});
    if (tracking_conn_flush(&l->trk) < 0)
        local_lose(l, "the tracking connection closed");
    l->ping_sent_ms = now;
}

static void (*const steps[L_STATES])(local_t *) = {
    [L_DOWN] = step_down,
    [L_RESOLVING] = step_resolving,
    [L_CONNECTING] = step_connecting,
    [L_SETUP] = step_setup,
    [L_ON] = step_on,
    [L_LOST] = teardown,
};

static void on_tick(h2o_timeout_entry_t *entry)
{
    local_t *l = H2O_STRUCT_FROM_MEMBER(local_t, tick, entry);
    pthread_mutex_lock(&l->lock);
    steps[l->state](l);
    if (l->state == L_LOST) /* at once: the sockets are not left to fill */
        teardown(l);
    pthread_mutex_unlock(&l->lock);
    h2o_timeout_link(l->ctx->loop, &l->tick_timeout, &l->tick);
}

void local_start(local_t *l, h2o_context_t *ctx)
{
    unsigned dead = l->cfg->redis_dead_ms > l->cfg->redis_timeout_ms ? l->cfg->redis_dead_ms : l->cfg->redis_timeout_ms;
    l->alive_limit_ms = dead / 2 > 2 ? dead / 2 : 2;
    l->ctx = ctx;
    l->state = L_DOWN;
    l->deadline_ms = 0;
    h2o_timeout_init(ctx->loop, &l->tick_timeout, TICK_MS);
    l->tick.cb = on_tick;
    h2o_timeout_link(ctx->loop, &l->tick_timeout, &l->tick);
}
