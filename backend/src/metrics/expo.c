#include "metrics/expo.h"
#include "xalloc.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

/* Appends printf-style text, growing the buffer. */
__attribute__((format(printf, 2, 3))) static void out_printf(metrics_out_t *o, const char *fmt, ...)
{
    for (;;) {
        size_t room = o->cap - o->len;
        va_list ap;
        va_start(ap, fmt);
        int n = o->buf != NULL ? vsnprintf(o->buf + o->len, room, fmt, ap) : -1;
        va_end(ap);
        if (n >= 0 && (size_t)n < room) {
            o->len += (size_t)n;
            return;
        }
        o->cap = o->cap ? o->cap * 2 + (n > 0 ? (size_t)n : 0) : 4096;
        o->buf = xrealloc(o->buf, o->cap);
    }
}

/* Appends a label value with \, " and newline escaped (the format's rule). */
static void out_label_value(metrics_out_t *o, const char *v)
{
    for (; *v != '\0'; v++) {
        if (*v == '\\')
            out_printf(o, "\\\\");
        else if (*v == '"')
            out_printf(o, "\\\"");
        else if (*v == '\n')
            out_printf(o, "\\n");
        else
            out_printf(o, "%c", *v);
    }
}

/* Appends "{a="x",b="y"}" (extra: one more label, may be NULL), or nothing without labels. */
static void out_labels(metrics_out_t *o, const metrics_label_t *labels, size_t n, const metrics_label_t *extra)
{
    if (n == 0 && extra == NULL)
        return;
    out_printf(o, "{");
    for (size_t i = 0; i < n + (extra != NULL); i++) {
        const metrics_label_t *l = i < n ? &labels[i] : extra;
        out_printf(o, "%s%s=\"", i ? "," : "", l->name);
        out_label_value(o, l->value);
        out_printf(o, "\"");
    }
    out_printf(o, "}");
}

void metrics_family(metrics_out_t *o, const char *name, const char *type, const char *help)
{
    out_printf(o, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

void metrics_sample(metrics_out_t *o, const char *name, const metrics_label_t *labels, size_t n, double value)
{
    out_printf(o, "%s", name);
    out_labels(o, labels, n, NULL);
    out_printf(o, " %.17g\n", value);
}

void metrics_sample_u64(metrics_out_t *o, const char *name, const metrics_label_t *labels, size_t n, uint64_t value)
{
    out_printf(o, "%s", name);
    out_labels(o, labels, n, NULL);
    out_printf(o, " %llu\n", (unsigned long long)value);
}

void metrics_histogram(metrics_out_t *o, const char *name, const metrics_label_t *labels, size_t n, const metrics_hist_sum_t *h)
{
    uint64_t cum = 0;
    for (size_t i = 0; i <= METRICS_BUCKETS; i++) {
        char le[32];
        if (i < METRICS_BUCKETS)
            snprintf(le, sizeof(le), "%g", (double)metrics_bucket_us[i] / 1e6);
        else
            snprintf(le, sizeof(le), "+Inf");
        cum += h->counts[i];
        metrics_label_t extra = {"le", le};
        out_printf(o, "%s_bucket", name);
        out_labels(o, labels, n, &extra);
        out_printf(o, " %llu\n", (unsigned long long)cum);
    }
    out_printf(o, "%s_sum", name);
    out_labels(o, labels, n, NULL);
    out_printf(o, " %.9g\n", (double)h->sum_us / 1e6);
    out_printf(o, "%s_count", name);
    out_labels(o, labels, n, NULL);
    out_printf(o, " %llu\n", (unsigned long long)cum);
}
