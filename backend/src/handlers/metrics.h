/* The parts of GET /metrics that describe the process rather than the
 * application: its resources, its build, its readiness. */
#ifndef CATALOG_HANDLERS_METRICS_H
#define CATALOG_HANDLERS_METRICS_H

#include "app.h"
#include "flow/ready.h"
#include "metrics/expo.h"

/* process_* (RSS, virtual memory, open and maximum fds, CPU seconds, start
 * time) and catalog_build_info. */
void metrics_collect_process(metrics_out_t *o, app_t *app);

/* catalog_ready and catalog_dependency_* from the readiness checks. */
void metrics_collect_ready(metrics_out_t *o, const flow_ready_check_t *redis, const flow_ready_check_t *mongo);

#endif
