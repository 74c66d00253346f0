/* Product writes against MongoDB, run on a worker thread: create (with an
 * optional idempotency key kept in MongoDB), replace, merge-patch, delete,
 * each guarded by the stored version (optimistic concurrency, If-Match).
 * Documents are built from validated product_input_t values only. Knows
 * nothing about HTTP or Redis. */
#ifndef CATALOG_PRODUCTS_WRITE_H
#define CATALOG_PRODUCTS_WRITE_H

#include "store/write_job.h"

/* Sets base.run and the deadline; clears outputs. */
void write_job_init(write_job_t *job, write_kind_t kind, unsigned timeout_ms);

/* Frees the job's input and outputs (not the job). */
void write_job_clear(write_job_t *job);

#endif
