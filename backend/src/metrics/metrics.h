/* Counters, gauges and latency histograms kept per loop thread (or per
 * worker thread) and summed by a reader at scrape time. Each is written by
 * one thread only: an increment is a relaxed load and store (no lock
 * prefix, no shared cache line with another writer), and a reader on
 * another thread sees whole 64-bit values (relaxed loads). Pure code. */
#ifndef CATALOG_METRICS_H
#define CATALOG_METRICS_H

#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>

typedef _Atomic uint64_t metrics_counter_t;
typedef _Atomic int64_t metrics_gauge_t;

/* Adds n to a counter; only its one writer thread calls this. */
static inline void metrics_add(metrics_counter_t *c, uint64_t n)
{
    atomic_store_explicit(c, atomic_load_explicit(c, memory_order_relaxed) + n, memory_order_relaxed);
}

/* A counter's value, from any thread. */
static inline uint64_t metrics_get(const metrics_counter_t *c)
{
    return atomic_load_explicit((metrics_counter_t *)c, memory_order_relaxed);
}

/* Moves a gauge by delta; only its one writer thread calls this. */
static inline void metrics_gauge_move(metrics_gauge_t *g, int64_t delta)
{
    atomic_store_explicit(g, atomic_load_explicit(g, memory_order_relaxed) + delta, memory_order_relaxed);
}

/* A gauge's value, from any thread. */
static inline int64_t metrics_gauge_get(const metrics_gauge_t *g)
{
    return atomic_load_explicit((metrics_gauge_t *)g, memory_order_relaxed);
}

/* Upper bounds of the latency buckets in microseconds: a Redis hit is
 * sub-millisecond, a MongoDB miss about 10 ms (more on FerretDB), and the
 * time boxes end at 2 s (MONGO_TIMEOUT_MS). The last bucket (+Inf) is
 * implied. */
#define METRICS_BUCKETS 15
static const uint64_t metrics_bucket_us[METRICS_BUCKETS] = {100,   250,    500,    1000,   2500,    5000,    10000,  25000,
                                                            50000, 100000, 250000, 500000, 1000000, 2500000, 5000000};

/* A latency histogram: counts per bucket (not cumulative; [METRICS_BUCKETS]
 * is +Inf) and the sum of the observations. One writer thread. */
typedef struct {
    metrics_counter_t counts[METRICS_BUCKETS + 1];
    metrics_counter_t sum_us;
} metrics_hist_t;

/* Records one observation of us microseconds; only the writer thread calls this. */
static inline void metrics_observe(metrics_hist_t *h, uint64_t us)
{
    size_t i = 0;
    while (i < METRICS_BUCKETS && us > metrics_bucket_us[i])
        i++;
    metrics_add(&h->counts[i], 1);
    metrics_add(&h->sum_us, us);
}

/* A histogram summed over threads, for a reader. */
typedef struct {
    uint64_t counts[METRICS_BUCKETS + 1];
    uint64_t sum_us;
} metrics_hist_sum_t;

/* Adds h's current values into *sum (from any thread). */
static inline void metrics_hist_sum(metrics_hist_sum_t *sum, const metrics_hist_t *h)
{
    for (size_t i = 0; i <= METRICS_BUCKETS; i++)
        sum->counts[i] += metrics_get(&h->counts[i]);
    sum->sum_us += metrics_get(&h->sum_us);
}

/* Observations in a summed histogram. */
static inline uint64_t metrics_hist_count(const metrics_hist_sum_t *sum)
{
    uint64_t n = 0;
    for (size_t i = 0; i <= METRICS_BUCKETS; i++)
        n += sum->counts[i];
    return n;
}

#endif
