/* A Redis connection read and written by hand, for the in-process cache's
 * invalidation subscriber and tracking connection: a non-blocking socket,
 * hiredis's reply reader, and nothing else — so that a reader can read it
 * until EAGAIN (hiredis's async context reads once per event and cannot
 * tell EAGAIN from a read that filled its buffer) and ask whether a reply
 * is half received. Not thread-safe: the caller serialises every call. */
#ifndef CATALOG_TRACKING_CONN_H
#define CATALOG_TRACKING_CONN_H

#include <hiredis/hiredis.h>
#include <stddef.h>
#include <sys/socket.h>
#include <sys/types.h>

typedef struct {
    int fd; /* -1 when closed */
    redisReader *reader;
    char *out; /* commands not yet written */
    size_t out_len, out_off;
} tracking_conn_t;

/* Starts a non-blocking connect to addr; rcvbuf (when not 0) sets the
 * socket's receive buffer. Returns 0, or -1 (errno set; c stays closed). */
int tracking_conn_open(tracking_conn_t *c, const struct sockaddr *addr, socklen_t addrlen, int rcvbuf);

/* 1 once connected, 0 while connecting, -1 when the connect failed. */
int tracking_conn_connected(const tracking_conn_t *c);

/* Queues one command (argv NUL-terminated strings). */
void tracking_conn_command(tracking_conn_t *c, int argc, const char **argv);

/* Writes what is queued: 0 when all is written, 1 when some is left (the
 * socket is full), -1 on error. */
int tracking_conn_flush(tracking_conn_t *c);

/* Reads until the socket has nothing more (EAGAIN) and feeds the reader.
 * Returns the bytes read, or -1 on EOF or error. */
ssize_t tracking_conn_read(tracking_conn_t *c);

/* Takes the next complete reply into *out (NULL when none; the caller
 * frees it with freeReplyObject). Returns 0, or -1 on a protocol error. */
int tracking_conn_reply(tracking_conn_t *c, redisReply **out);

/* 1 when the reader holds part of a reply (its rest is still on the way). */
int tracking_reader_partial(const redisReader *r);

/* Closes the socket and frees the reader and the queue (closed: no-op). */
void tracking_conn_close(tracking_conn_t *c);

#endif
