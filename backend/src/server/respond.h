/* Response helpers shared by the handlers: JSON bodies, problem+json
 * errors, ETag / If-None-Match, the request id, per-request bookkeeping. */
#ifndef CATALOG_RESPOND_H
#define CATALOG_RESPOND_H

#include <h2o.h>

typedef struct app_thread app_thread_t; /* app.h */
struct server_conn;

/* Per-request state every handler gets, allocated from the request pool
 * (freed with the request; its dispose hook ends the in-flight count). */
typedef struct {
    h2o_req_t *req;
    app_thread_t *thread;
    h2o_iovec_t request_id;
    uint64_t started_us;
    struct server_conn *conn; /* may be NULL */
} request_t;

/* Sets up request_t for req: counts it in flight, takes X-Request-Id from
 * the request when well-formed (1..128 of [A-Za-z0-9._:-]) or generates
 * one, and echoes it in the response. Never fails. */
request_t *respond_begin(h2o_req_t *req);

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

#endif
