/* Cache-aside reads: the in-process cache (cache/local), then Redis (one
 * round trip); on a miss or with Redis down, one MongoDB job per key across
 * all loop threads (single-flight), whose result is stored in Redis before
 * the waiters are answered. */
#ifndef CATALOG_FLOW_READ_H
#define CATALOG_FLOW_READ_H

#include "model/query.h"
#include "server/respond.h"

typedef enum { FLOW_READ_PRODUCT, FLOW_READ_LIST, FLOW_READ_CATEGORIES } flow_read_kind_t;

/* The read flow's per-thread state. */
typedef struct {
    h2o_multithread_receiver_t flight_receiver; /* flight results for the reads of this thread */
    h2o_timeout_t wait_timeout;                 /* time box of a read waiting on a store job (MONGO_TIMEOUT_MS) */
    h2o_timeout_t fill_delay_timeout;           /* DEBUG_FILL_DELAY_MS */
    h2o_timeout_t lookup_delay_timeout;         /* DEBUG_LOOKUP_DELAY_MS */
    size_t leading;                             /* flights this thread leads: their results come back here (a drain waits) */
} flow_read_thread_t;

/* Serves a read. id (24 hex, FLOW_READ_PRODUCT) and q (FLOW_READ_LIST) are copied.
 * Answers 200 (or 304) with X-Cache HIT (and X-Cache-Layer local or redis),
 * MISS or BYPASS, 404 for an absent
 * product, 503 + Retry-After when MongoDB cannot answer within its bound. */
void flow_read_start(request_t *r, flow_read_kind_t kind, const char *id, const query_t *q);

/* Sets up this module's per-thread state on a loop thread. */
void flow_read_init_thread(app_thread_t *t);

#endif
