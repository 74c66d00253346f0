#include "server/respond.h"
#include "clock.h"
#include "app.h"

#include "log.h"
#include "rand.h"
#include "server/problem.h"
#include "server/server.h"

#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

const char *const respond_method_names[RESPOND_METHOD_SLOTS] = {"GET",   "HEAD",   "POST",    "PUT",
                                                                "PATCH", "DELETE", "OPTIONS", "other"};

/* The method slot of m (RESPOND_METHOD_SLOTS - 1 for any other method). */
static uint8_t method_slot(h2o_iovec_t m)
{
    uint8_t i = 0;
    while (i < RESPOND_METHOD_SLOTS - 1 && !h2o_memis(m.base, m.len, respond_method_names[i], strlen(respond_method_names[i])))
        i++;
    return i;
}

static void on_request_disposed(void *p)
{
    request_t *r = p;
    metrics_gauge_move(&r->thread->inflight, -1);
    if (r->conn != NULL)
        server_conn_release(r->thread, r->conn);
}

static int valid_request_id(h2o_iovec_t v)
{
    if (v.len == 0 || v.len > 128)
        return 0;
    for (size_t i = 0; i < v.len; i++) {
        char c = v.base[i];
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' || c == '_' || c == '.' ||
              c == ':'))
            return 0;
    }
    return 1;
}

request_t *respond_begin(h2o_req_t *req)
{
    app_thread_t *t = app_thread_of(req);
    request_t *r = h2o_mem_alloc_shared(&req->pool, sizeof(*r), on_request_disposed);
    r->req = req;
    r->thread = t;
    r->started_us = clock_mono_us();
    r->route = RESPOND_ROUTE_UNMATCHED;
    r->method = method_slot(req->method);
    metrics_gauge_move(&t->inflight, 1);
    if ((r->conn = server_conn_of(req)) != NULL)
        r->conn->busy++;

    ssize_t i = h2o_find_header_by_str(&req->headers, H2O_STRLIT("x-request-id"), -1);
    if (i != -1 && valid_request_id(req->headers.entries[i].value)) {
        r->request_id = req->headers.entries[i].value;
    } else {
        /* unique enough to correlate logs, not a secret */
        uint64_t a = rand_next(&t->rand_state), b = a ^ (clock_mono_us() << 20) ^ t->index;
        static const char hex[] = "0123456789abcdef";
        char *buf = h2o_mem_alloc_pool(&req->pool, 32);
        for (int i = 0; i < 16; i++) {
            buf[i] = hex[(a >> (60 - 4 * i)) & 15];
            buf[16 + i] = hex[(b >> (60 - 4 * i)) & 15];
        }
        r->request_id = h2o_iovec_init(buf, 32);
    }
    h2o_add_header_by_str(&req->pool, &req->res.headers, H2O_STRLIT("x-request-id"), 0, NULL, r->request_id.base,
                          r->request_id.len);
    return r;
}

void respond_copy_id(const request_t *r, char out[RESPOND_ID_MAX + 1])
{
    size_t n = r->request_id.len <= RESPOND_ID_MAX ? r->request_id.len : RESPOND_ID_MAX;
    memcpy(out, r->request_id.base, n);
    out[n] = '\0';
}

h2o_iovec_t respond_request_header(request_t *r, const char *name)
{
    ssize_t i = h2o_find_header_by_str(&r->req->headers, name, strlen(name), -1);
    if (i < 0)
        return h2o_iovec_init(NULL, 0);
    return r->req->headers.entries[i].value;
}

void respond_header(request_t *r, const char *name, const char *value, size_t len)
{
    h2o_req_t *req = r->req;
    h2o_iovec_t v = h2o_strdup(&req->pool, value, len);
    h2o_add_header_by_str(&req->pool, &req->res.headers, name, strlen(name), 1, NULL, v.base, v.len);
}

/* One line for a request (LOG_REQUESTS), with nginx's access-log field names. */
static void log_request(request_t *r, int status, size_t bytes, uint64_t took_us)
{
    h2o_req_t *req = r->req;
    char addr[INET6_ADDRSTRLEN] = "";
    struct sockaddr_storage ss;
    socklen_t sl = req->conn->callbacks->get_peername(req->conn, (struct sockaddr *)&ss);
    if (sl != 0 && ss.ss_family == AF_INET)
        inet_ntop(AF_INET, &((struct sockaddr_in *)&ss)->sin_addr, addr, sizeof(addr));
    else if (sl != 0 && ss.ss_family == AF_INET6)
        inet_ntop(AF_INET6, &((struct sockaddr_in6 *)&ss)->sin6_addr, addr, sizeof(addr));
    ssize_t ci = h2o_find_header_by_str(&req->res.headers, H2O_STRLIT("x-cache"), -1);
    h2o_iovec_t cache = ci >= 0 ? req->res.headers.entries[ci].value : h2o_iovec_init("", 0);
    h2o_iovec_t ua = respond_request_header(r, "user-agent");
    LOG(LOG_INFO, "request", NULL, LOG_SN("request_id", r->request_id.base, r->request_id.len),
        LOG_SN("method", req->method.base, req->method.len), LOG_SN("path", req->path.base, req->path.len), LOG_I("status", status),
        LOG_I("bytes", bytes), LOG_F("request_time", (double)took_us / 1e6), LOG_SN("cache", cache.base, cache.len),
        LOG_S("remote_addr", addr), LOG_SN("user_agent", ua.base ? ua.base : "", ua.len));
}

/* Counts a response by route, method and status class, and logs the
 * request's line when sampled; returns how long it took so far. */
static uint64_t count_response(request_t *r, int status, size_t bytes)
{
    app_thread_t *t = r->thread;
    unsigned cls = status >= 100 && status < 600 ? (unsigned)status / 100 - 1 : 4;
    uint64_t took = clock_mono_us() - r->started_us;
    metrics_add(&t->http.responses[r->route][r->method][cls], 1);
    if (log_requests_wanted() && log_request_sampled(rand_next(&t->rand_state)))
        log_request(r, status, bytes, took);
    return took;
}

/* Bookkeeping of every response: counted, its duration observed, and
 * Connection: close once a drain has begun (also for requests that
 * arrived before it). */
static void finish_stats(request_t *r, int status, size_t bytes)
{
    if (r->thread->draining)
        r->req->http1_is_persistent = 0;
    metrics_observe(&r->thread->http.duration[r->route], count_response(r, status, bytes));
}

void respond_stream_started(request_t *r)
{
    count_response(r, r->req->res.status, 0);
}

void respond_body(request_t *r, int status, const char *content_type, const char *etag, size_t etag_len, const char *body,
                  size_t len)
{
    h2o_req_t *req = r->req;
    req->res.status = status;
    req->res.reason = problem_title(status);
    if (status == 200)
        req->res.reason = "OK";
    else if (status == 201)
        req->res.reason = "Created";
    else if (status == 204)
        req->res.reason = "No Content";
    if (status != 204) {
        const char *ct = content_type ? content_type : "application/json";
        h2o_add_header(&req->pool, &req->res.headers, H2O_TOKEN_CONTENT_TYPE, NULL, ct, strlen(ct));
    }
    if (etag != NULL) {
        h2o_iovec_t v = h2o_strdup(&req->pool, etag, etag_len);
        h2o_add_header(&req->pool, &req->res.headers, H2O_TOKEN_ETAG, NULL, v.base, v.len);
    }
    req->res.content_length = len;
    finish_stats(r, status, len);
    h2o_send_inline(req, body, len);
}

void respond_not_modified(request_t *r, const char *etag, size_t etag_len)
{
    h2o_req_t *req = r->req;
    req->res.status = 304;
    req->res.reason = "Not Modified";
    h2o_iovec_t v = h2o_strdup(&req->pool, etag, etag_len);
    h2o_add_header(&req->pool, &req->res.headers, H2O_TOKEN_ETAG, NULL, v.base, v.len);
    finish_stats(r, 304, 0);
    h2o_send_inline(req, NULL, 0);
}

void respond_problem(request_t *r, int status, const char *type, const char *detail, const char *parameter)
{
    respond_problem_ext(r, status, type, detail, parameter, NULL);
}

void respond_problem_ext(request_t *r, int status, const char *type, const char *detail, const char *parameter, void *extra)
{
    char id[130];
    snprintf(id, sizeof(id), "%.*s", (int)r->request_id.len, r->request_id.base);
    char *body = problem_json_ext(status, type, detail, id, parameter, extra);
    if (body == NULL) {
        static const char oom[] = "{\"type\":\"about:blank\",\"title\":\"Internal Server Error\",\"status\":500}";
        respond_body(r, 500, "application/problem+json", NULL, 0, oom, sizeof(oom) - 1);
        return;
    }
    h2o_add_header(&r->req->pool, &r->req->res.headers, H2O_TOKEN_CACHE_CONTROL, NULL, H2O_STRLIT("no-store"));
    respond_body(r, status, "application/problem+json", NULL, 0, body, strlen(body));
    free(body);
}

void respond_unavailable(request_t *r, const char *detail, unsigned retry_after_s)
{
    char ra[16];
    int n = snprintf(ra, sizeof(ra), "%u", retry_after_s);
    respond_header(r, "retry-after", ra, (size_t)n);
    respond_problem(r, 503, PROBLEM_TYPE_UNAVAILABLE, detail, NULL);
}

/* Strips W/ and compares opaque tags (RFC 9110 weak comparison). */
static int tag_equal(const char *a, size_t al, const char *b, size_t bl)
{
    if (al >= 2 && a[0] == 'W' && a[1] == '/') {
        a += 2;
        al -= 2;
    }
    if (bl >= 2 && b[0] == 'W' && b[1] == '/') {
        b += 2;
        bl -= 2;
    }
    return al == bl && memcmp(a, b, al) == 0;
}

int respond_etag_matches(h2o_req_t *req, const char *etag, size_t etag_len)
{
    ssize_t i = -1;
    while ((i = h2o_find_header(&req->headers, H2O_TOKEN_IF_NONE_MATCH, i)) != -1) {
        h2o_iovec_t v = req->headers.entries[i].value;
        size_t p = 0;
        while (p < v.len) {
            while (p < v.len && (v.base[p] == ' ' || v.base[p] == '\t' || v.base[p] == ','))
                p++;
            if (p >= v.len)
                break;
            size_t start = p;
            if (v.base[p] == '*')
                return 1;
            if (v.base[p] == 'W' && p + 1 < v.len && v.base[p + 1] == '/')
                p += 2;
            if (p < v.len && v.base[p] == '"') {
                const char *close = memchr(v.base + p + 1, '"', v.len - p - 1);
                if (close == NULL)
                    break;
                p = (size_t)(close - v.base) + 1;
            } else {
                while (p < v.len && v.base[p] != ',')
                    p++;
            }
            if (tag_equal(v.base + start, p - start, etag, etag_len))
                return 1;
        }
    }
    return 0;
}

typedef struct {
    respond_op_t *op;
} op_handle_t;

static void on_op_request_gone(void *p)
{
    respond_op_t *op = ((op_handle_t *)p)->op;
    op->r = NULL;
    respond_op_unref(op);
}

void respond_op_attach(respond_op_t *op, request_t *r, void (*destroy)(respond_op_t *))
{
    op->r = r;
    op->refs = 1;
    op->destroy = destroy;
    op_handle_t *h = h2o_mem_alloc_shared(&r->req->pool, sizeof(*h), on_op_request_gone);
    h->op = op;
}

void respond_op_ref(respond_op_t *op)
{
    op->refs++;
}

void respond_op_unref(respond_op_t *op)
{
    if (--op->refs == 0)
        op->destroy(op);
}
