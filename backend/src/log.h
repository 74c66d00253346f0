/* Structured logs: one JSON object per line on stderr, written with one
 * write(2) (lines from several threads never interleave). Every line has
 * time (RFC 3339, UTC, milliseconds), level, event and msg; more fields
 * follow. A request's fields carry the names of nginx's JSON access log
 * (request_id, method, path, status, bytes, request_time, remote_addr,
 * user_agent, cache), so the two join on request_id. Set once at start-up
 * (LOG_LEVEL, LOG_REQUESTS), read-only afterwards. */
#ifndef CATALOG_LOG_H
#define CATALOG_LOG_H

#include <stddef.h>
#include <stdint.h>

typedef enum { LOG_DEBUG, LOG_INFO, LOG_WARN, LOG_ERROR } log_level_t;

/* One field: a string (s, n bytes; n == SIZE_MAX: NUL-terminated), an
 * integer or a number. */
typedef struct {
    const char *key;
    char type; /* 's', 'i', 'f' */
    const char *s;
    size_t n;
    long long i;
    double d;
} log_field_t;

#define LOG_S(k, v) ((log_field_t){(k), 's', .s = (v), .n = SIZE_MAX})
#define LOG_SN(k, v, len) ((log_field_t){(k), 's', .s = (v), .n = (len)})
#define LOG_I(k, v) ((log_field_t){(k), 'i', .i = (long long)(v)})
#define LOG_F(k, v) ((log_field_t){(k), 'f', .d = (double)(v)})

/* Sets the least level written and the share of requests logged (parts per
 * million: 0 none, 1000000 every one). Call before any thread logs. */
void log_init(log_level_t level, unsigned requests_ppm);

/* "debug", "info", "warn" or "error". */
const char *log_level_name(log_level_t level);

/* 1 when events of level are written. */
int log_enabled(log_level_t level);

/* 1 when any request may be logged (LOG_REQUESTS is not 0). */
int log_requests_wanted(void);

/* 1 when a request whose random draw is rnd (any 64-bit value) is logged. */
int log_request_sampled(uint64_t rnd);

/* Writes one line: level, event (a short snake_case name), msg (a
 * sentence for people; may be NULL) and n fields. Strings are escaped as
 * JSON, invalid UTF-8 becomes U+FFFD; a line stays under 4 KiB and valid
 * JSON: a string past 2 KiB (or the line's room) is cut at a whole
 * character with "…", a field that no longer fits is left out, and such a
 * line ends with "truncated":true. */
void log_event(log_level_t level, const char *event, const char *msg, const log_field_t *fields, size_t n);

/* log_event with the fields listed (at least one). */
#define LOG(level, event, msg, ...)                                                                                                \
    log_event((level), (event), (msg), (log_field_t[]){__VA_ARGS__}, sizeof((log_field_t[]){__VA_ARGS__}) / sizeof(log_field_t))

/* log_event without fields. */
#define LOG0(level, event, msg) log_event((level), (event), (msg), NULL, 0)

#endif
