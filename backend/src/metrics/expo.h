/* The Prometheus text exposition format 0.0.4, written into a growing
 * buffer: a family's # HELP and # TYPE lines, then its samples, each
 * family once and its samples together (promtool check metrics and
 * Prometheus's parser refuse anything else). Pure code. */
#ifndef CATALOG_METRICS_EXPO_H
#define CATALOG_METRICS_EXPO_H

#include <stddef.h>
#include <stdint.h>

#include "metrics/metrics.h"

#define METRICS_CONTENT_TYPE "text/plain; version=0.0.4; charset=utf-8"

/* The text being written; grows as needed (out of memory aborts). */
typedef struct {
    char *buf; /* malloc'd, NUL-terminated; the caller frees it */
    size_t len, cap;
} metrics_out_t;

/* One label: name (a valid label name, not checked) and value (escaped here). */
typedef struct {
    const char *name;
    const char *value;
} metrics_label_t;

/* Writes "# HELP name help" and "# TYPE name type" (type: counter, gauge
 * or histogram); help must be one line. */
void metrics_family(metrics_out_t *o, const char *name, const char *type, const char *help);

/* Writes one sample "name{labels} value" (n labels, may be 0). */
void metrics_sample(metrics_out_t *o, const char *name, const metrics_label_t *labels, size_t n, double value);

/* The same for an integer value, written exactly. */
void metrics_sample_u64(metrics_out_t *o, const char *name, const metrics_label_t *labels, size_t n, uint64_t value);

/* Writes the samples of a histogram family name (seconds): name_bucket
 * with le (cumulative, +Inf last), name_sum and name_count. */
void metrics_histogram(metrics_out_t *o, const char *name, const metrics_label_t *labels, size_t n, const metrics_hist_sum_t *h);

#endif
