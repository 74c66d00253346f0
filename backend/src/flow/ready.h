/* Readiness: one PING to Redis and MongoDB's last ping, each time-boxed
 * (HEALTH_TIMEOUT_MS). Probes of one loop thread share its one MongoDB
 * ping in flight, and a ping that passed answers for a second, so a flood
 * of probes cannot fill the store queue. Knows nothing of HTTP. */
#ifndef CATALOG_FLOW_READY_H
#define CATALOG_FLOW_READY_H

#include "server/respond.h"

typedef struct {
    int ok;
    uint64_t took_us;
    char detail[160]; /* why not ok */
} flow_ready_check_t;

/* The readiness flow's per-thread state. */
typedef struct {
    h2o_timeout_t timeout; /* HEALTH_TIMEOUT_MS */
    struct flow_ready_ping {
        int inflight;           /* a ping job is queued or running */
        h2o_linklist_t waiters; /* probes waiting for it */
        uint64_t at_us;         /* when the last result came (0: none yet) */
        flow_ready_check_t last;
    } ping;
} flow_ready_thread_t;

/* Called once on the loop when both checks are settled, only while the
 * request exists. */
typedef void (*flow_ready_cb)(request_t *r, const flow_ready_check_t *redis, const flow_ready_check_t *mongo);

/* Checks Redis and MongoDB for r; done follows (maybe before this returns). */
void flow_ready_start(request_t *r, flow_ready_cb done);

/* Sets up this module's per-thread state (the time box, the ping's waiters). */
void flow_ready_init_thread(app_thread_t *t);

#endif
