/* Response helpers shared by the handlers: JSON bodies, problem+json
 * errors, ETag / If-None-Match, the request id, per-request bookkeeping. */
#ifndef CATALOG_RESPOND_H
#define CATALOG_RESPOND_H

#include <h2o.h>

#include "metrics/metrics.h"

typedef struct app_thread app_thread_t; /* app.h */
struct server_conn;

/* Route slots: one per route path (server.c's SERVER_MAX_PATHS), then the
 * requests no route matched. */
#define RESPOND_ROUTE_SLOTS 33
#define RESPOND_ROUTE_UNMATCHED (RESPOND_ROUTE_SLOTS - 1)
/* Method slots: GET HEAD POST PUT PATCH DELETE OPTIONS, then any other. */
#define RESPOND_METHOD_SLOTS 8
extern const char *const respond_method_names[RESPOND_METHOD_SLOTS];

/* The responses of one loop thread (written by it only; summed by
 * /metrics and /api/stats): by route, method and status class (1xx..5xx),
 * their durations by route, and the gauges of what is open. */
typedef struct {
    metrics_counter_t responses[RESPOND_ROUTE_SLOTS][RESPOND_METHOD_SLOTS][5];
    metrics_hist_t duration[RESPOND_ROUTE_SLOTS];
    metrics_gauge_t open_conns; /* accepted client connections not yet closed */
} respond_stats_t;

/* Per-request state every handler gets, allocated from the request pool
 * (freed with the request; its dispose hook ends the in-flight count). */
typedef struct {
    h2o_req_t *req;
    app_thread_t *thread;
    h2o_iovec_t request_id;
    uint64_t started_us;
    struct server_conn *conn; /* may be NULL */
    uint8_t route;            /* route slot (RESPOND_ROUTE_UNMATCHED until the router matched one) */
    uint8_t method;           /* method slot */
} request_t;

/* Sets up request_t for req: counts it in flight, takes X-Request-Id from
 * the request when well-formed (1..128 of [A-Za-z0-9._:-]) or generates
 * one, and echoes it in the response. Never fails. */
request_t *respond_begin(h2o_req_t *req);

/* The longest request id (a client's X-Request-Id), for copies that outlive the request. */
#define RESPOND_ID_MAX 128

/* Copies r's request id into out, NUL-terminated (for a log line written
 * after the request may be gone). */
void respond_copy_id(const request_t *r, char out[RESPOND_ID_MAX + 1]);

/* Sends a 200/404/... with a JSON body: content_type (NULL: application/json),
 * etag (may be NULL), copied into the request pool. Bodies are sent with
 * Content-Length. */
void respond_body(request_t *r, int status, const char *content_type, const char *etag, size_t etag_len, const char *body,
                  size_t len);

/* Sends 304 Not Modified with the ETag. */
void respond_not_modified(request_t *r, const char *etag, size_t etag_len);

/* Sends an RFC 9457 problem: type, title, status, detail, instance (the
 * request id) and, when parameter is not NULL, "parameter". */
void respond_problem(request_t *r, int status, const char *type, const char *detail, const char *parameter);

/* respond_problem with extra members (a cJSON object, consumed; may be NULL). */
void respond_problem_ext(request_t *r, int status, const char *type, const char *detail, const char *parameter, void *extra);

/* 503 + Retry-After: <seconds> problem. */
void respond_unavailable(request_t *r, const char *detail, unsigned retry_after_s);

/* 1 when If-None-Match names etag (weak comparison, "*" matches). */
int respond_etag_matches(h2o_req_t *req, const char *etag, size_t etag_len);

/* Asynchronous work that may outlive its request (a Redis reply or a
 * MongoDB job arriving after the client left): embed first in a heap
 * object. r is the request while it exists, NULL after; the object is
 * destroyed when the request is gone and no async step holds it. */
typedef struct respond_op respond_op_t;
struct respond_op {
    request_t *r;
    unsigned refs; /* the request's, plus one per pending async step */
    void (*destroy)(respond_op_t *op);
};

/* Attaches op to r (one reference, dropped when the request is disposed). */
void respond_op_attach(respond_op_t *op, request_t *r, void (*destroy)(respond_op_t *));

/* Takes / drops a reference for an async step. */
void respond_op_ref(respond_op_t *op);
void respond_op_unref(respond_op_t *op);

/* A request header's value by name (lower-case), or a zero iovec. */
h2o_iovec_t respond_request_header(request_t *r, const char *name);

/* Adds a response header by name (value copied). */
void respond_header(request_t *r, const char *name, const char *value, size_t len);

/* A streamed response (the change feed) has sent its status: counted and
 * logged like any answer, at its start; its duration is its lifetime, so
 * it stays out of the request duration histogram. */
void respond_stream_started(request_t *r);

#endif
