#include "log.h"
#include "clock.h"

#include <stdio.h>
#include <string.h>
#include <time.h>
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

/* The line being built: text up to LOG_LINE_MAX - 2 (room for "}\n"). */
typedef struct {
    char buf[LOG_LINE_MAX];
    size_t len;
} line_t;

static void put(line_t *l, const char *s, size_t n)
{
    size_t room = LOG_LINE_MAX - 2 - l->len;
    if (n > room)
        n = room;
    memcpy(l->buf + l->len, s, n);
    l->len += n;
}

/* Appends s (n bytes) as a JSON string, quotes included; control
 * characters as \u00XX, other bytes as they are (the messages are UTF-8). */
static void put_string(line_t *l, const char *s, size_t n)
{
    put(l, "\"", 1);
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        char esc[8];
        if (c == '"' || c == '\\') {
            esc[0] = '\\';
            esc[1] = (char)c;
            put(l, esc, 2);
        } else if (c < 0x20) {
            snprintf(esc, sizeof(esc), "\\u%04x", c);
            put(l, esc, 6);
        } else {
            put(l, (const char *)&c, 1);
        }
    }
    put(l, "\"", 1);
}

/* Appends ,"key":value for one field. */
static void put_field(line_t *l, const log_field_t *f)
{
    char num[40];
    put(l, ",", 1);
    put_string(l, f->key, strlen(f->key));
    put(l, ":", 1);
    if (f->type == 's') {
        if (f->s == NULL)
            put(l, "null", 4);
        else
            put_string(l, f->s, f->n == SIZE_MAX ? strlen(f->s) : f->n);
    } else if (f->type == 'i') {
        put(l, num, (size_t)snprintf(num, sizeof(num), "%lld", f->i));
    } else {
        put(l, num, (size_t)snprintf(num, sizeof(num), "%.6g", f->d));
    }
}

void log_event(log_level_t level, const char *event, const char *msg, const log_field_t *fields, size_t n)
{
    if (level < min_level)
        return;
    line_t l;
    l.len = 0;
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
        put(&l, ",\"msg\":", 7);
        put_string(&l, msg, strlen(msg));
    }
    for (size_t i = 0; i < n; i++)
        put_field(&l, &fields[i]);
    memcpy(l.buf + l.len, "}\n", 2);
    l.len += 2;
    ssize_t w = write(STDERR_FILENO, l.buf, l.len);
    (void)w;
}
