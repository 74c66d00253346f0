#include "log.h"
#include "clock.h"

#include <math.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistr.h>
#include <unistd.h>

#define LOG_LINE_MAX 4096

static log_level_t min_level = LOG_INFO;
static unsigned request_ppm;

static const char *const level_names[] = {[LOG_DEBUG] = "debug", [LOG_INFO] = "info", [LOG_WARN] = "warn", [LOG_ERROR] = "error"};

void log_init(log_level_t level, unsigned requests_ppm)
{
    min_level = level;
    request_ppm = requests_ppm;
}

const char *log_level_name(log_level_t level)
{
    return level_names[level];
}

int log_enabled(log_level_t level)
{
    return level >= min_level;
}

int log_requests_wanted(void)
{
    return request_ppm != 0;
}

int log_request_sampled(uint64_t rnd)
{
    return request_ppm != 0 && (request_ppm >= 1000000 || rnd % 1000000 < request_ppm);
}

/* The line being built. A field is written whole or not at all, and room
 * for the tail (,"truncated":true}\n) is always kept, so a line is JSON
 * however long its fields are. */
typedef struct {
    char buf[LOG_LINE_MAX];
    size_t len;
    int truncated; /* a string was cut, or a field left out */
} line_t;

#define LOG_TAIL 24         /* ,"truncated":true}\n */
#define LOG_STRING_MAX 2048 /* bytes of one string value as written; longer ones end in "…" */
#define LOG_ELLIPSIS "\xe2\x80\xa6"

/* Appends n bytes when they fit before the tail. Returns 0, or -1 (nothing appended). */
static int put(line_t *l, const char *s, size_t n)
{
    if (n > LOG_LINE_MAX - LOG_TAIL - l->len)
        return -1;
    memcpy(l->buf + l->len, s, n);
    l->len += n;
    return 0;
}

/* The JSON of the character at s (n bytes left): *out and its length, and
 * how many input bytes it takes. Quotes, backslashes and control
 * characters escaped; a byte that does not start a valid UTF-8 sequence
 * (libunistring decides) becomes U+FFFD, so a line is valid UTF-8 whatever
 * a client sent. */
static size_t char_json(const unsigned char *s, size_t n, const char **out, size_t *outlen, char esc[8])
{
    if (*s == '"' || *s == '\\') {
        esc[0] = '\\';
        esc[1] = (char)*s;
        *out = esc, *outlen = 2;
        return 1;
    }
    if (*s < 0x20) {
        *outlen = (size_t)snprintf(esc, 8, "\\u%04x", *s);
        *out = esc;
        return 1;
    }
    ucs4_t uc;
    int k = *s < 0x80 ? 1 : u8_mbtoucr(&uc, s, n);
    if (k > 0) {
        *out = (const char *)s, *outlen = (size_t)k;
        return (size_t)k;
    }
    *out = "\\ufffd", *outlen = 6;
    return 1;
}

/* Appends s (n bytes) as a JSON string, quotes included, cut after
 * LOG_STRING_MAX bytes (or where the line ends) at a whole character with
 * "…". Returns 0, or -1 when not even that fits (nothing appended). */
static int put_string(line_t *l, const char *s, size_t n)
{
    const size_t cut = sizeof(LOG_ELLIPSIS "\"") - 1; /* kept for a cut and the closing quote */
    size_t start = l->len, limit = LOG_LINE_MAX - LOG_TAIL;
    if (limit > start + LOG_STRING_MAX)
        limit = start + LOG_STRING_MAX;
    if (limit < start + 1 + cut)
        return -1;
    limit -= cut;
    put(l, "\"", 1);
    const unsigned char *p = (const unsigned char *)s, *end = p + n;
    while (p < end) {
        const char *out;
        size_t outlen;
        char esc[8];
        size_t took = char_json(p, (size_t)(end - p), &out, &outlen, esc);
        if (l->len + outlen > limit) {
            put(l, LOG_ELLIPSIS, sizeof(LOG_ELLIPSIS) - 1);
            l->truncated = 1;
            break;
        }
        put(l, out, outlen);
        p += took;
    }
    put(l, "\"", 1);
    return 0;
}

/* Appends ,"key":value for one field, or nothing (marking the line
 * truncated) when it does not fit. */
static void put_field(line_t *l, const log_field_t *f)
{
    char num[40];
    size_t start = l->len;
    int rc = put(l, ",", 1);
    rc = rc ? rc : put_string(l, f->key, strlen(f->key));
    rc = rc ? rc : put(l, ":", 1);
    if (rc == 0 && f->type == 's')
        rc = f->s == NULL ? put(l, "null", 4) : put_string(l, f->s, f->n == SIZE_MAX ? strlen(f->s) : f->n);
    else if (rc == 0 && f->type == 'i')
        rc = put(l, num, (size_t)snprintf(num, sizeof(num), "%lld", f->i));
    else if (rc == 0 && !isfinite(f->d)) /* JSON has no NaN or infinity */
        rc = put(l, "null", 4);
    else if (rc == 0)
        rc = put(l, num, (size_t)snprintf(num, sizeof(num), "%.6g", f->d));
    if (rc != 0) {
        l->len = start;
        l->truncated = 1;
    }
}

void log_event(log_level_t level, const char *event, const char *msg, const log_field_t *fields, size_t n)
{
    if (level < min_level)
        return;
    line_t l;
    l.len = 0;
    l.truncated = 0;
    uint64_t us = clock_wall_us();
    time_t s = (time_t)(us / 1000000);
    struct tm tm;
    gmtime_r(&s, &tm);
    char head[96];
    int hl = snprintf(
        head, sizeof(head), "{\"time\":\"%04d-%02d-%02dT%02d:%02d:%02d.%03uZ\",\"level\":\"%s\",\"event\":", tm.tm_year + 1900,
        tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, (unsigned)(us / 1000 % 1000), level_names[level]);
    put(&l, head, (size_t)hl);
    put_string(&l, event, strlen(event));
    if (msg != NULL) {
        log_field_t m = LOG_S("msg", msg);
        put_field(&l, &m);
    }
    for (size_t i = 0; i < n; i++)
        put_field(&l, &fields[i]);
    static const char tail[] = ",\"truncated\":true}\n";
    const char *t = l.truncated ? tail : tail + sizeof(tail) - 3;
    size_t tl = strlen(t);
    memcpy(l.buf + l.len, t, tl);
    l.len += tl;
    ssize_t w = write(STDERR_FILENO, l.buf, l.len);
    (void)w;
}
