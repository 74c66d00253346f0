/* Cache-aside reads: Redis first (one round trip); on a miss or with Redis
 * down, one MongoDB job per key across all loop threads (single-flight),
 * whose result is stored in Redis before the waiters are answered. */
#ifndef CATALOG_READ_THROUGH_H
#define CATALOG_READ_THROUGH_H

#include "model/query.h"
#include "server/respond.h"

typedef enum { RT_PRODUCT, RT_LIST, RT_CATEGORIES } rt_kind_t;

/* Serves a read. id (24 hex, RT_PRODUCT) and q (RT_LIST) are copied.
 * Answers 200 (or 304) with X-Cache HIT, MISS or BYPASS, 404 for an absent
 * product, 503 + Retry-After when MongoDB cannot answer within its bound. */
void read_through_start(request_t *r, rt_kind_t kind, const char *id, const query_t *q);

/* Registers this module's receivers on a loop thread. */
void read_through_init_thread(app_thread_t *t);

#endif
