/* metrics/: single-writer counters, histogram buckets, and the text
 * format's lines (escaping, cumulative buckets, +Inf, _sum and _count). */
#include "check.h"
#include "metrics/expo.h"
#include "metrics/metrics.h"

#include <stdlib.h>

int main(void)
{
    metrics_counter_t c = 0;
    metrics_add(&c, 2);
    metrics_add(&c, 3);
    CHECK(metrics_get(&c) == 5);
    metrics_gauge_t g = 0;
    metrics_gauge_move(&g, 1);
    metrics_gauge_move(&g, -3);
    CHECK(metrics_gauge_get(&g) == -2);

    /* 100 µs is in the first bucket (le 0.0001), 101 µs in the second, 10 s beyond the last */
    metrics_hist_t h = {0};
    metrics_observe(&h, 100);
    metrics_observe(&h, 101);
    metrics_observe(&h, 10000000);
    metrics_hist_sum_t sum = {0};
    metrics_hist_sum(&sum, &h);
    CHECK(sum.counts[0] == 1 && sum.counts[1] == 1 && sum.counts[METRICS_BUCKETS] == 1);
    CHECK(metrics_hist_count(&sum) == 3);
    CHECK(sum.sum_us == 10000201);

    metrics_out_t o = {NULL, 0, 0};
    metrics_family(&o, "x_total", "counter", "Things.");
    metrics_sample_u64(&o, "x_total", (metrics_label_t[]){{"route", "/a/{id}"}, {"q", "say \"hi\"\\\n"}}, 2, 7);
    metrics_sample(&o, "y", NULL, 0, 0.5);
    CHECK_STR(o.buf, "# HELP x_total Things.\n# TYPE x_total counter\n"
                     "x_total{route=\"/a/{id}\",q=\"say \\\"hi\\\"\\\\\\n\"} 7\n"
                     "y 0.5\n");
    free(o.buf);

    metrics_out_t hs = {NULL, 0, 0};
    metrics_histogram(&hs, "d_seconds", (metrics_label_t[]){{"route", "/r"}}, 1, &sum);
    CHECK(strstr(hs.buf, "d_seconds_bucket{route=\"/r\",le=\"0.0001\"} 1\n") != NULL);
    CHECK(strstr(hs.buf, "d_seconds_bucket{route=\"/r\",le=\"0.00025\"} 2\n") != NULL);
    CHECK(strstr(hs.buf, "d_seconds_bucket{route=\"/r\",le=\"5\"} 2\n") != NULL);
    CHECK(strstr(hs.buf, "d_seconds_bucket{route=\"/r\",le=\"+Inf\"} 3\n") != NULL);
    CHECK(strstr(hs.buf, "d_seconds_sum{route=\"/r\"} 10.000201\n") != NULL);
    CHECK(strstr(hs.buf, "d_seconds_count{route=\"/r\"} 3\n") != NULL);
    free(hs.buf);

    /* a long text grows the buffer */
    metrics_out_t big = {NULL, 0, 0};
    for (int i = 0; i < 2000; i++)
        metrics_sample_u64(&big, "n", NULL, 0, (uint64_t)i);
    CHECK(big.len > 4096 && strstr(big.buf, "n 1999\n") != NULL);
    free(big.buf);
    return check_report("test_metrics");
}
