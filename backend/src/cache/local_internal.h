/* What cache/local.c (lookups, fills, messages) and cache/local_setup.c
 * (connections, set-up, the tick on thread 0) share: the L1's state. */
#ifndef CATALOG_LOCAL_INTERNAL_H
#define CATALOG_LOCAL_INTERNAL_H

#include <h2o.h>
#include <pthread.h>
#include <stdatomic.h>
#include <sys/socket.h>

#include "cache/local.h"
#include "cache/tracking_conn.h"

#define TICK_MS 10            /* thread 0 reads the connections at least this often */
#define SETUP_TIMEOUT_MS 2000 /* connect + set-up, else retried */
#define BURST_BYTES 32768     /* one drain reading this much: Redis may hold more for us (README) */
/* The same over a unix socket, whose receive buffer does not bound what is
 * in flight: Redis's send buffer counts each small message at its kernel
 * size (~0.7–1 KB), so it holds output back after ~280 messages, ~20 KB. */
#define BURST_BYTES_UNIX 8192
#define SUB_RCVBUF (1 << 20) /* the subscriber's receive buffer (the kernel caps it at rmem_max) */
#define CHANNEL "__redis__:invalidate"

typedef enum { L_DOWN, L_RESOLVING, L_CONNECTING, L_SETUP, L_ON, L_LOST, L_STATES } lstate_t;

/* The replies the set-up commands get, in order. */
typedef enum { WANT_OK, WANT_ID, WANT_SUBSCRIBED, WANT_IO_THREADS, WANT_ROLE } expect_t;

struct local {
    const config_t *cfg;
    pthread_mutex_t lock; /* everything below, and the table */
    local_table_t *table;
    _Atomic int on;            /* state == L_ON, for the lock-free look before a lookup */
    _Atomic unsigned conn_gen; /* bumped before the connections are closed */
    _Atomic int fds[2];        /* sub, trk: for the lock-free poll */
    lstate_t state;
    int partial; /* the last drain left half a message in the reader */
    tracking_conn_t sub, trk;
    long long sub_id;
    expect_t want[2][8]; /* per connection: the replies still owed, in order */
    unsigned nwant[2], got[2];
    struct sockaddr_storage addr;
    socklen_t addrlen;
    uint64_t deadline_ms;    /* L_DOWN: next attempt; set-up: give up */
    uint64_t ping_sent_ms;   /* the outstanding liveness ROLE's (0: none) */
    uint64_t alive_ms;       /* when the last ROLE Redis answered (as master) was sent */
    uint64_t alive_limit_ms; /* REDIS_DEAD_MS / 2: older, and the L1 is not trusted */
    unsigned attempt;
    h2o_context_t *ctx;
    h2o_timeout_t tick_timeout;
    h2o_timeout_entry_t tick;
    h2o_hostinfo_getaddr_req_t *resolving;
    char why[160]; /* the last failure, logged once per outage */
    uint64_t flushes, losses;
    _Atomic uint64_t lock_waits; /* lookups and fills that found the lock taken */
};

/* Under the lock, any thread: flushes the L1 and turns it off; thread 0
 * closes the connections on its next tick and sets them up again. */
void local_lose(local_t *l, const char *why);

/* Under the lock, state L_ON: reads the subscriber until EAGAIN and applies
 * every message, then the answers to the tracking connection's ROLEs; a
 * closed connection, an unexpected reply, a burst, a role other than master,
 * or no answer for alive_limit_ms loses tracking. */
void local_drain(local_t *l);

#endif
