#include "cache/redis_loop.h"
#include "cache/redis_loop_int.h"
#include "log.h"
#include "xalloc.h"

#include <arpa/inet.h>
#include <netdb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct {
    h2o_timeout_entry_t timeout; /* first: the timeout callback recovers the struct */
    redis_loop_t *rl;
    redis_loop_cb cb;
    void *data;
    int answered; /* cb got NULL at the timeout; the reply, when it comes, is dropped */
} rl_cmd_t;

static void start_connect(redis_loop_t *rl);
static void log_down(redis_loop_t *rl, const char *why);

/* ---- connection life cycle ---- */

static void schedule_retry(redis_loop_t *rl)
{
    rl->state = RL_IDLE;
    unsigned step = rl->attempt < BACKOFF_STEPS ? rl->attempt : BACKOFF_STEPS - 1;
    rl->attempt++;
    if (!h2o_timeout_is_linked(&rl->retry_entry))
        h2o_timeout_link(rl->ctx->loop, &rl->backoff[step], &rl->retry_entry);
}

/* A connection attempt failed: try the next resolved address (a name may
 * resolve to ::1 and 127.0.0.1 with the server on one only), else back off
 * and resolve again. */
static void connect_failed(redis_loop_t *rl)
{
    rl->state = RL_IDLE;
    if (rl->addr_idx + 1 < rl->naddrs) {
        rl->addr_idx++;
        if (!h2o_timeout_is_linked(&rl->retry_entry))
            h2o_timeout_link(rl->ctx->loop, &rl->now_timeout, &rl->retry_entry);
        return;
    }
    rl->naddrs = 0;
    schedule_retry(rl);
}

static void on_connect_timeout(h2o_timeout_entry_t *entry)
{
    redis_loop_t *rl = H2O_STRUCT_FROM_MEMBER(redis_loop_t, connect_entry, entry);
    redisAsyncContext *ac = rl->ac;
    log_down(rl, "connect timed out");
    int connected = ac != NULL && (ac->c.flags & REDIS_CONNECTED);
    if (ac != NULL) {
        rl->ac = NULL;
        redisAsyncFree(ac); /* calls on_disconnect (which schedules the retry) if TCP had connected */
    }
    if (!connected)
        connect_failed(rl);
}

static void on_retry(h2o_timeout_entry_t *entry)
{
    redis_loop_t *rl = H2O_STRUCT_FROM_MEMBER(redis_loop_t, retry_entry, entry);
    start_connect(rl);
}

static void log_down(redis_loop_t *rl, const char *why)
{
    metrics_gauge_move(&rl->counters.ready, -metrics_gauge_get(&rl->counters.ready));
    if (!rl->logged_down) {
        LOG(LOG_WARN, "redis_down", "Redis unavailable; serving from MongoDB, retrying with backoff", LOG_S("redis", rl->where),
            LOG_S("reason", why));
        rl->logged_down = 1;
    }
}

static void on_disconnect(const redisAsyncContext *ac, int status)
{
    redis_loop_t *rl = ac->data;
    rl->ac = NULL;
    rl->late = 0; /* every pending command has been answered by now */
    if (h2o_timeout_is_linked(&rl->connect_entry))
        h2o_timeout_unlink(&rl->connect_entry);
    log_down(rl, status == REDIS_OK ? "disconnected" : (ac->errstr[0] ? ac->errstr : "connection lost"));
    rl->naddrs = 0; /* resolve again: the server may have moved */
    schedule_retry(rl);
}

static void on_setup_reply(redisAsyncContext *ac, void *r, void *privdata)
{
    redis_loop_t *rl = privdata;
    redisReply *reply = r;
    if (reply == NULL)
        return; /* connection dropping: on_disconnect schedules the retry */
    if (reply->type == REDIS_REPLY_ERROR) {
        LOG(LOG_ERROR, "redis_setup_refused", "Redis refused a set-up command (AUTH or SELECT)",
            LOG_SN("error", reply->str, reply->len));
        log_down(rl, "set-up refused");
        redisAsyncDisconnect(ac);
    }
}

static void on_ready_reply(redisAsyncContext *ac, void *r, void *privdata)
{
    redis_loop_t *rl = privdata;
    redisReply *reply = r;
    if (reply == NULL || reply->type == REDIS_REPLY_ERROR)
        return; /* an earlier set-up command failed, or the connection dropped */
    rl->state = RL_READY;
    rl->attempt = 0;
    if (h2o_timeout_is_linked(&rl->connect_entry))
        h2o_timeout_unlink(&rl->connect_entry);
    metrics_gauge_move(&rl->counters.ready, 1);
    if (rl->was_ready)
        metrics_add(&rl->counters.reconnects, 1);
    if (rl->logged_down || !rl->was_ready)
        LOG(LOG_INFO, "redis_up", rl->was_ready ? "Redis connected again" : "Redis connected", LOG_S("redis", rl->where));
    rl->was_ready = 1;
    rl->logged_down = 0;
    if (rl->on_ready != NULL)
        rl->on_ready(rl, rl->ready_data);
}

static void on_connect(const redisAsyncContext *cac, int status)
{
    redisAsyncContext *ac = (redisAsyncContext *)cac;
    redis_loop_t *rl = ac->data;
    if (status != REDIS_OK) {
        /* hiredis frees the context after this callback */
        rl->ac = NULL;
        if (h2o_timeout_is_linked(&rl->connect_entry))
            h2o_timeout_unlink(&rl->connect_entry);
        log_down(rl, ac->errstr[0] ? ac->errstr : "connect failed");
        connect_failed(rl); /* only links a timer: hiredis frees ac after we return */
        return;
    }
    const config_t *cfg = rl->cfg;
    if (cfg->redis_password[0] != '\0') {
        if (cfg->redis_user[0] != '\0')
            redisAsyncCommand(ac, on_setup_reply, rl, "AUTH %s %s", cfg->redis_user, cfg->redis_password);
        else
            redisAsyncCommand(ac, on_setup_reply, rl, "AUTH %s", cfg->redis_password);
    }
    if (cfg->redis_db != 0)
        redisAsyncCommand(ac, on_setup_reply, rl, "SELECT %u", cfg->redis_db);
    redisAsyncCommand(ac, on_ready_reply, rl, "PING");
}

static void connect_to(redis_loop_t *rl, const char *ip, uint16_t port)
{
    redisAsyncContext *ac = rl->cfg->redis_unix[0] ? redisAsyncConnectUnix(rl->cfg->redis_unix) : redisAsyncConnect(ip, port);
    if (ac == NULL || ac->err) {
        log_down(rl, ac ? ac->errstr : "out of memory");
        if (ac != NULL)
            redisAsyncFree(ac);
        connect_failed(rl);
        return;
    }
    rl->ac = ac;
    ac->data = rl;
    redis_loop_attach(rl, ac); /* first: setting the connect callback fires addWrite at once */
    rl->state = RL_CONNECTING;
    h2o_timeout_link(rl->ctx->loop, &rl->connect_timeout, &rl->connect_entry);
    redisAsyncSetConnectCallback(ac, on_connect);
    redisAsyncSetDisconnectCallback(ac, on_disconnect);
}

static void on_resolved(h2o_hostinfo_getaddr_req_t *req, const char *errstr, struct addrinfo *res, void *data)
{
    redis_loop_t *rl = data;
    if (errstr != NULL || res == NULL) {
        log_down(rl, errstr ? errstr : "no address");
        schedule_retry(rl);
        return;
    }
    rl->naddrs = rl->addr_idx = 0;
    for (struct addrinfo *ai = res; ai != NULL && rl->naddrs < 8; ai = ai->ai_next) {
        unsigned i = rl->naddrs;
        if (ai->ai_family == AF_INET6) {
            struct sockaddr_in6 *sa = (struct sockaddr_in6 *)ai->ai_addr;
            inet_ntop(AF_INET6, &sa->sin6_addr, rl->addrs[i], sizeof(rl->addrs[i]));
            rl->ports[i] = ntohs(sa->sin6_port);
        } else if (ai->ai_family == AF_INET) {
            struct sockaddr_in *sa = (struct sockaddr_in *)ai->ai_addr;
            inet_ntop(AF_INET, &sa->sin_addr, rl->addrs[i], sizeof(rl->addrs[i]));
            rl->ports[i] = ntohs(sa->sin_port);
        } else {
            continue;
        }
        rl->naddrs++;
    }
    if (rl->naddrs == 0) {
        log_down(rl, "no address");
        schedule_retry(rl);
        return;
    }
    connect_to(rl, rl->addrs[0], rl->ports[0]);
}

static void start_connect(redis_loop_t *rl)
{
    const config_t *cfg = rl->cfg;
    unsigned char tmp[16];
    if (rl->addr_idx < rl->naddrs) { /* the next address of the last resolution */
        connect_to(rl, rl->addrs[rl->addr_idx], rl->ports[rl->addr_idx]);
        return;
    }
    if (cfg->redis_unix[0] != '\0' || inet_pton(AF_INET, cfg->redis_host, tmp) == 1 ||
        inet_pton(AF_INET6, cfg->redis_host, tmp) == 1) {
        connect_to(rl, cfg->redis_host, cfg->redis_port);
        return;
    }
    /* hiredis would resolve a name with a blocking getaddrinfo: do it on h2o's resolver threads */
    char port[8];
    snprintf(port, sizeof(port), "%u", cfg->redis_port);
    rl->state = RL_RESOLVING;
    h2o_hostinfo_getaddr(&rl->ctx->receivers.hostinfo_getaddr, h2o_iovec_init(cfg->redis_host, strlen(cfg->redis_host)),
                         h2o_iovec_init(port, strlen(port)), AF_UNSPEC, SOCK_STREAM, IPPROTO_TCP, AI_ADDRCONFIG | AI_NUMERICSERV,
                         on_resolved, rl);
}

redis_loop_t *redis_loop_create(h2o_context_t *ctx, const config_t *cfg, redis_loop_ready_cb on_ready, void *ready_data)
{
    static const unsigned steps[BACKOFF_STEPS] = {50, 100, 200, 400, 800, 1600, 2000};
    redis_loop_t *rl = xcalloc(1, sizeof(*rl));
    rl->ctx = ctx;
    rl->cfg = cfg;
    rl->on_ready = on_ready;
    rl->ready_data = ready_data;
    if (cfg->redis_unix[0] != '\0')
        snprintf(rl->where, sizeof(rl->where), "unix:%s", cfg->redis_unix);
    else
        snprintf(rl->where, sizeof(rl->where), "%s:%u", cfg->redis_host, cfg->redis_port);
    unsigned dead = cfg->redis_dead_ms > cfg->redis_timeout_ms ? cfg->redis_dead_ms : cfg->redis_timeout_ms;
    h2o_timeout_init(ctx->loop, &rl->cmd_timeout, cfg->redis_timeout_ms);
    h2o_timeout_init(ctx->loop, &rl->dead_timeout, dead);
    h2o_timeout_init(ctx->loop, &rl->late_timeout, dead - cfg->redis_timeout_ms);
    for (unsigned i = 0; i < BACKOFF_STEPS; i++)
        h2o_timeout_init(ctx->loop, &rl->backoff[i], steps[i]);
    rl->retry_entry.cb = on_retry;
    h2o_timeout_init(ctx->loop, &rl->now_timeout, 0);
    rl->flush_entry.cb = redis_loop_on_flush;
    h2o_timeout_init(ctx->loop, &rl->connect_timeout, cfg->redis_timeout_ms > 1000 ? cfg->redis_timeout_ms : 1000);
    rl->connect_entry.cb = on_connect_timeout;
    start_connect(rl);
    return rl;
}

/* ---- commands ---- */

/* A reply missing for REDIS_DEAD_MS: the connection is taken for lost.
 * hiredis 0.14 has no async timeouts: drop it; every pending command then
 * gets a NULL reply, and the reconnection follows. */
static void on_cmd_dead(h2o_timeout_entry_t *entry)
{
    rl_cmd_t *cmd = (rl_cmd_t *)entry;
    redis_loop_t *rl = cmd->rl;
    metrics_add(&rl->counters.drops, 1);
    log_down(rl, "a reply missing for REDIS_DEAD_MS");
    redisAsyncContext *ac = rl->ac;
    if (ac != NULL) {
        rl->state = RL_IDLE; /* callbacks run from the free below must not send on ac */
        rl->ac = NULL;
        redisAsyncFree(ac); /* runs on_disconnect, which schedules the retry */
    }
}

/* REDIS_TIMEOUT_MS passed: the caller is answered NULL now (it serves from
 * MongoDB); the connection stays, and new commands bypass it, until the
 * reply comes or REDIS_DEAD_MS passes. */
static void on_cmd_timeout(h2o_timeout_entry_t *entry)
{
    rl_cmd_t *cmd = (rl_cmd_t *)entry;
    redis_loop_t *rl = cmd->rl;
    metrics_add(&rl->counters.late, 1);
    cmd->answered = 1;
    rl->late++;
    cmd->timeout.cb = on_cmd_dead;
    h2o_timeout_link(rl->ctx->loop, &rl->late_timeout, &cmd->timeout);
    redis_loop_cb cb = cmd->cb;
    cmd->cb = NULL;
    if (cb != NULL)
        cb(NULL, cmd->data);
}

static void on_cmd_reply(redisAsyncContext *ac, void *r, void *privdata)
{
    rl_cmd_t *cmd = privdata;
    redis_loop_t *rl = cmd->rl;
    redisReply *reply = r;
    if (reply != NULL && reply->type == REDIS_REPLY_ERROR && rl->on_error != NULL)
        rl->on_error(rl->error_data, reply->str, reply->len);
    if (h2o_timeout_is_linked(&cmd->timeout))
        h2o_timeout_unlink(&cmd->timeout);
    if (cmd->answered) {
        if (rl->late > 0) /* on_disconnect may have zeroed it first */
            rl->late--;
    } else if (cmd->cb != NULL)
        cmd->cb(r, cmd->data);
    free(cmd);
}

int redis_loop_send(redis_loop_t *rl, int patient, redis_loop_cb cb, void *data, int argc, const char **argv, const size_t *argvlen)
{
    if (rl->state != RL_READY || rl->ac == NULL || (!patient && rl->late != 0))
        return -1;
    rl_cmd_t *cmd = xmalloc(sizeof(*cmd));
    memset(&cmd->timeout, 0, sizeof(cmd->timeout));
    cmd->timeout.cb = patient ? on_cmd_dead : on_cmd_timeout;
    cmd->rl = rl;
    cmd->cb = cb;
    cmd->data = data;
    cmd->answered = 0;
    if (redisAsyncCommandArgv(rl->ac, on_cmd_reply, cmd, argc, argv, argvlen) != REDIS_OK) {
        free(cmd);
        return -1;
    }
    h2o_timeout_link(rl->ctx->loop, patient ? &rl->dead_timeout : &rl->cmd_timeout, &cmd->timeout);
    return 0;
}

void redis_loop_on_error(redis_loop_t *rl, redis_loop_error_cb cb, void *data)
{
    rl->on_error = cb;
    rl->error_data = data;
}

const redis_loop_counters_t *redis_loop_counters(const redis_loop_t *rl)
{
    return &rl->counters;
}

int redis_loop_is_ready(const redis_loop_t *rl)
{
    return rl->state == RL_READY;
}
