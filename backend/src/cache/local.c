/* The L1's lookups, fills and invalidation messages (any loop thread,
 * under the lock); its connections are in local_setup.c. */
#include "cache/local_internal.h"
#include "xalloc.h"
#include "log.h"

#include "cache/cache.h"
#include "clock.h"

#include <poll.h>
#include <stdio.h>
#include <string.h>

local_t *local_create(const config_t *cfg)
{
    local_t *l = xcalloc(1, sizeof(*l));
    l->cfg = cfg;
    pthread_mutex_init(&l->lock, NULL);
    l->table = local_table_create(cfg->l1_bytes);
    l->sub.fd = l->trk.fd = -1;
    atomic_init(&l->fds[0], -1);
    atomic_init(&l->fds[1], -1);
    return l;
}

void local_lose(local_t *l, const char *why)
{
    if (l->state == L_ON) {
        local_table_clear(l->table);
        l->flushes++;
        l->losses++;
        LOG(LOG_WARN, "l1_tracking_lost", "the in-process cache is flushed and off until tracking is back", LOG_S("why", why));
    } else if (strcmp(l->why, why) != 0) {
        LOG(LOG_WARN, "l1_tracking_not_set_up", "retrying with backoff", LOG_S("why", why));
    }
    snprintf(l->why, sizeof(l->why), "%s", why);
    atomic_store(&l->on, 0);
    l->state = L_LOST;
}

/* ---- invalidation messages ---- */

/* Which tracked key drops what: an exact key drops classes; the product
 * prefix drops the key itself. */
static const struct {
    const char *name;
    int prefix;
    unsigned classes; /* bits of local_class_t */
} routes[] = {
    {CACHE_GEN_KEY, 0, 1u << LOCAL_LIST | 1u << LOCAL_CATEGORIES},
    {CACHE_FLOOR_KEY, 0, 1u << LOCAL_PRODUCT},
    {CACHE_PRODUCT_PREFIX, 1, 0},
};

static void apply_key(local_t *l, const char *k, size_t len)
{
    for (size_t i = 0; i < sizeof(routes) / sizeof(routes[0]); i++) {
        size_t n = strlen(routes[i].name);
        if (routes[i].prefix ? len < n || memcmp(k, routes[i].name, n) != 0 : len != n || memcmp(k, routes[i].name, n) != 0)
            continue;
        if (routes[i].classes == 0)
            local_table_drop_key(l->table, k, len);
        for (int c = 0; c < LOCAL_CLASSES; c++)
            if (routes[i].classes & (1u << c))
                local_table_drop_class(l->table, (local_class_t)c);
        return;
    }
    local_table_clear(l->table); /* a key we do not know under a tracked prefix */
}

/* Applies one pub/sub message; returns 0 for anything else. */
static int apply(local_t *l, const redisReply *r)
{
    if (r->type != REDIS_REPLY_ARRAY || r->elements != 3 || r->element[0]->type != REDIS_REPLY_STRING ||
        strcmp(r->element[0]->str, "message") != 0)
        return 0;
    const redisReply *keys = r->element[2];
    if (keys->type == REDIS_REPLY_NIL) { /* FLUSHALL, FLUSHDB, a replica's full sync */
        local_table_clear(l->table);
        l->flushes++;
        return 1;
    }
    if (keys->type != REDIS_REPLY_ARRAY)
        return 0;
    for (size_t i = 0; i < keys->elements; i++) {
        if (keys->element[i]->type != REDIS_REPLY_STRING)
            return 0;
        apply_key(l, keys->element[i]->str, keys->element[i]->len);
    }
    return 1;
}

/* Reads the tracking connection: after set-up it gets only the answers to
 * the liveness ROLEs, which must say master (a Redis demoted by REPLICAOF
 * keeps its connections: only ROLE tells); anything else, or EOF (killed),
 * loses tracking. Returns 0, or -1 after local_lose. */
static int read_tracking(local_t *l)
{
    redisReply *r = NULL;
    if (tracking_conn_read(&l->trk) < 0) {
        local_lose(l, "the tracking connection closed");
        return -1;
    }
    const char *why = NULL;
    while (why == NULL && tracking_conn_reply(&l->trk, &r) == 0 && r != NULL) {
        if (l->ping_sent_ms == 0 || r->type != REDIS_REPLY_ARRAY || r->elements < 1 || r->element[0]->type != REDIS_REPLY_STRING)
            why = "an unexpected reply on the tracking connection";
        else if (strcmp(r->element[0]->str, "master") != 0)
            why = "this Redis is no longer a master (ROLE)";
        l->alive_ms = l->ping_sent_ms;
        l->ping_sent_ms = 0;
        freeReplyObject(r);
    }
    if (why != NULL || l->trk.reader->err) {
        local_lose(l, why != NULL ? why : "a protocol error on the tracking connection");
        return -1;
    }
    return 0;
}

/* Under the lock: 0 while Redis answered a ROLE sent less than half of
 * REDIS_DEAD_MS ago; else loses tracking (a hung Redis sends no EOF, and a
 * writer gives its invalidation up only after REDIS_DEAD_MS). */
static int check_alive(local_t *l)
{
    if (clock_mono_ms() - l->alive_ms < l->alive_limit_ms)
        return 0;
    local_lose(l, "Redis answered no ROLE within half of REDIS_DEAD_MS");
    return -1;
}

void local_drain(local_t *l)
{
    ssize_t n = tracking_conn_read(&l->sub);
    redisReply *r = NULL;
    int ok = n >= 0;
    while (ok && (ok = tracking_conn_reply(&l->sub, &r) == 0) && r != NULL) {
        ok = apply(l, r);
        freeReplyObject(r);
    }
    if (!ok)
        local_lose(l, n < 0 ? "the subscriber's connection closed" : "an unexpected reply on the subscriber");
    else if (n >= (l->addr.ss_family == AF_UNIX ? BURST_BYTES_UNIX : BURST_BYTES))
        local_lose(l, "a burst of invalidations: Redis may hold more of them for the subscriber");
    else if (read_tracking(l) == 0 && check_alive(l) == 0)
        l->partial = tracking_reader_partial(l->sub.reader);
}

/* Takes the lock, counting the times another thread held it (the cost of
 * one L1 shared by the loop threads; README). */
static void take(local_t *l)
{
    if (pthread_mutex_trylock(&l->lock) == 0)
        return;
    atomic_fetch_add_explicit(&l->lock_waits, 1, memory_order_relaxed);
    pthread_mutex_lock(&l->lock);
}

/* Lock-free: 1 when either connection may have input (or poll failed). */
static int pending_input(local_t *l)
{
    struct pollfd p[2] = {{atomic_load(&l->fds[0]), POLLIN, 0}, {atomic_load(&l->fds[1]), POLLIN, 0}};
    return poll(p, 2, 0) != 0;
}

/* Under the lock: 1 when the L1 may be used — tracking still on over the
 * connections polled (gen), every message that was readable applied, and
 * no half message left. */
static int ready(local_t *l, unsigned gen, int busy)
{
    if (l->state != L_ON || atomic_load(&l->conn_gen) != gen)
        return 0;
    if (busy || l->partial)
        local_drain(l);
    else
        check_alive(l);
    return l->state == L_ON && !l->partial;
}

local_entry_t *local_lookup(local_t *l, const char *key, size_t key_len, uint64_t *ticket)
{
    *ticket = 0;
    if (!atomic_load_explicit(&l->on, memory_order_acquire))
        return NULL;
    unsigned gen = atomic_load(&l->conn_gen);
    int busy = pending_input(l); /* the syscall outside the lock: whoever took the bytes applies them under it */
    local_entry_t *e = NULL;
    take(l);
    if (ready(l, gen, busy)) {
        *ticket = local_table_ticket(l->table);
        e = local_table_get(l->table, key, key_len, clock_mono_ms(), l->cfg->l1_max_age_ms);
    }
    pthread_mutex_unlock(&l->lock);
    return e;
}

void local_fill(local_t *l, const char *key, size_t key_len, local_class_t cls, uint64_t ticket, const entry_view_t *v)
{
    if (ticket == 0 || !atomic_load_explicit(&l->on, memory_order_acquire))
        return;
    unsigned gen = atomic_load(&l->conn_gen);
    int busy = pending_input(l);
    take(l);
    if (ready(l, gen, busy))
        local_table_put(l->table, key, key_len, cls, ticket, v->raw, v->raw_len, clock_mono_ms());
    pthread_mutex_unlock(&l->lock);
}

void local_on_redis_error(void *data, const char *err, size_t len)
{
    local_t *l = data;
    static const char *const lost[] = {"MOVED ", "ASK ", "READONLY "};
    for (size_t i = 0; i < sizeof(lost) / sizeof(lost[0]); i++) {
        if (len >= strlen(lost[i]) && memcmp(err, lost[i], strlen(lost[i])) == 0) {
            pthread_mutex_lock(&l->lock);
            if (l->state == L_ON)
                local_lose(l, "a data connection got MOVED, ASK or READONLY: this Redis is no longer the master");
            pthread_mutex_unlock(&l->lock);
            return;
        }
    }
}

void local_stats(local_t *l, local_stats_t *out)
{
    pthread_mutex_lock(&l->lock);
    out->on = l->state == L_ON;
    local_table_stats(l->table, &out->table);
    out->flushes = l->flushes;
    out->losses = l->losses;
    out->lock_waits = atomic_load_explicit(&l->lock_waits, memory_order_relaxed);
    pthread_mutex_unlock(&l->lock);
}
