#include "cache/tracking_conn.h"
#include "xalloc.h"

#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

int tracking_conn_open(tracking_conn_t *c, const struct sockaddr *addr, socklen_t addrlen, int rcvbuf)
{
    memset(c, 0, sizeof(*c));
    c->fd = socket(addr->sa_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (c->fd < 0)
        return -1;
    int one = 1;
    if (addr->sa_family != AF_UNIX)
        setsockopt(c->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
    if (rcvbuf != 0)
        setsockopt(c->fd, SOL_SOCKET, SO_RCVBUF, &rcvbuf, sizeof(rcvbuf));
    if (connect(c->fd, addr, addrlen) != 0 && errno != EINPROGRESS) {
        int e = errno;
        close(c->fd);
        c->fd = -1;
        errno = e;
        return -1;
    }
    c->reader = redisReaderCreate();
    if (c->reader == NULL)
        xalloc_die(sizeof(redisReader));
    return 0;
}

int tracking_conn_connected(const tracking_conn_t *c)
{
    struct sockaddr_storage peer;
    socklen_t len = sizeof(peer);
    if (getpeername(c->fd, (struct sockaddr *)&peer, &len) == 0)
        return 1;
    int err = 0;
    socklen_t el = sizeof(err);
    if (getsockopt(c->fd, SOL_SOCKET, SO_ERROR, &err, &el) != 0 || err != 0)
        return -1;
    return 0;
}

void tracking_conn_command(tracking_conn_t *c, int argc, const char **argv)
{
    size_t lens[16];
    for (int i = 0; i < argc && i < 16; i++)
        lens[i] = strlen(argv[i]);
    char *cmd = NULL;
    int n = redisFormatCommandArgv(&cmd, argc < 16 ? argc : 16, argv, lens);
    if (n < 0)
        xalloc_die(0);
    c->out = xrealloc(c->out, c->out_len + (size_t)n);
    memcpy(c->out + c->out_len, cmd, (size_t)n);
    c->out_len += (size_t)n;
    redisFreeCommand(cmd);
}

int tracking_conn_flush(tracking_conn_t *c)
{
    while (c->out_off < c->out_len) {
        ssize_t n = send(c->fd, c->out + c->out_off, c->out_len - c->out_off, MSG_NOSIGNAL | MSG_DONTWAIT);
        if (n > 0) {
            c->out_off += (size_t)n;
        } else if (n < 0 && errno == EINTR) {
            continue;
        } else if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
            return 1;
        } else {
            return -1;
        }
    }
    c->out_off = c->out_len = 0;
    return 0;
}

ssize_t tracking_conn_read(tracking_conn_t *c)
{
    char buf[16384];
    ssize_t total = 0;
    for (;;) {
        ssize_t n = recv(c->fd, buf, sizeof(buf), MSG_DONTWAIT);
        if (n > 0) {
            if (redisReaderFeed(c->reader, buf, (size_t)n) != REDIS_OK)
                return -1;
            total += n;
        } else if (n < 0 && errno == EINTR) {
            continue;
        } else if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
            return total;
        } else {
            return -1; /* 0: EOF */
        }
    }
}

int tracking_conn_reply(tracking_conn_t *c, redisReply **out)
{
    void *r = NULL;
    *out = NULL;
    if (redisReaderGetReply(c->reader, &r) != REDIS_OK)
        return -1;
    *out = r;
    return 0;
}

/* hiredis 0.14's reader keeps unparsed bytes between pos and len, the
 * root of a half-built aggregate in reply, and the type of an item whose
 * first byte it consumed in rstack[ridx] (ridx is -1 between replies, or 0
 * with type -1 after a call that found no byte to start one). */
int tracking_reader_partial(const redisReader *r)
{
    if (r->pos < r->len || r->reply != NULL)
        return 1;
    return r->ridx >= 0 && r->rstack[r->ridx].type >= 0;
}

void tracking_conn_close(tracking_conn_t *c)
{
    if (c->fd >= 0)
        close(c->fd);
    if (c->reader != NULL)
        redisReaderFree(c->reader);
    free(c->out);
    memset(c, 0, sizeof(*c));
    c->fd = -1;
}
