/* The hiredis <-> h2o_socket_t adapter of a redis_loop (redis_loop_int.h). */
#include "cache/redis_loop_int.h"

static void on_readable(h2o_socket_t *sock, const char *err)
{
    redisAsyncContext *ac = sock->data;
    /* may free ac (and close sock) on EOF: touch nothing afterwards */
    redisAsyncHandleRead(ac);
}

static void on_writable(h2o_socket_t *sock, const char *err)
{
    redisAsyncContext *ac = sock->data;
    redisAsyncHandleWrite(ac);
}

static void ev_add_read(void *privdata)
{
    redis_loop_t *rl = privdata;
    if (!h2o_socket_is_reading(rl->sock))
        h2o_socket_read_start(rl->sock, on_readable);
}

static void ev_del_read(void *privdata)
{
    redis_loop_t *rl = privdata;
    if (h2o_socket_is_reading(rl->sock))
        h2o_socket_read_stop(rl->sock);
}

/* Commands queued by hiredis are written once per loop iteration (a 0 ms
 * timeout runs after the iteration's I/O): the commands of every request
 * of the iteration go out in one write, and the socket's epoll interest is
 * not switched to EPOLLOUT and back for each. Only a connect, or a write
 * the kernel could not take whole, waits for writability. */
void redis_loop_on_flush(h2o_timeout_entry_t *entry)
{
    redis_loop_t *rl = H2O_STRUCT_FROM_MEMBER(redis_loop_t, flush_entry, entry);
    if (rl->ac == NULL)
        return;
    rl->in_flush = 1;
    redisAsyncHandleWrite(rl->ac); /* may drop the connection: touch only rl afterwards */
    rl->in_flush = 0;
}

static void ev_add_write(void *privdata)
{
    redis_loop_t *rl = privdata;
    if (!rl->in_flush && rl->ac != NULL && (rl->ac->c.flags & REDIS_CONNECTED)) {
        if (!h2o_timeout_is_linked(&rl->flush_entry))
            h2o_timeout_link(rl->ctx->loop, &rl->now_timeout, &rl->flush_entry);
        return;
    }
    if (!h2o_socket_is_writing(rl->sock))
        h2o_socket_notify_write(rl->sock, on_writable);
}

static void ev_del_write(void *privdata)
{
    /* h2o 2.2.5 cannot cancel a write notification; hiredis only calls this
     * after the notification fired, so there is nothing to undo */
}

static void ev_cleanup(void *privdata)
{
    redis_loop_t *rl = privdata;
    if (h2o_timeout_is_linked(&rl->flush_entry))
        h2o_timeout_unlink(&rl->flush_entry);
    if (rl->sock == NULL)
        return;
    redisAsyncContext *ac = rl->sock->data;
    h2o_socket_close(rl->sock); /* closes the fd */
    rl->sock = NULL;
    ac->c.fd = -1; /* so redisFree does not close it a second time */
    ac->ev.data = NULL;
}

void redis_loop_attach(redis_loop_t *rl, redisAsyncContext *ac)
{
    rl->sock = h2o_evloop_socket_create(rl->ctx->loop, ac->c.fd, H2O_SOCKET_FLAG_DONT_READ);
    rl->sock->data = ac;
    ac->ev.data = rl;
    ac->ev.addRead = ev_add_read;
    ac->ev.delRead = ev_del_read;
    ac->ev.addWrite = ev_add_write;
    ac->ev.delWrite = ev_del_write;
    ac->ev.cleanup = ev_cleanup;
}
