#include "handlers/handlers.h"
#include "app.h"
#include "flow/read.h"
#include "server/problem.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static h2o_iovec_t query_string(h2o_req_t *req)
{
    if (req->query_at == SIZE_MAX)
        return h2o_iovec_init(NULL, 0);
    return h2o_iovec_init(req->path.base + req->query_at + 1, req->path.len - req->query_at - 1);
}

int handlers_reject_query(request_t *r)
{
    h2o_iovec_t qs = query_string(r->req);
    if (qs.len == 0)
        return 0;
    char name[32];
    const char *end = memchr(qs.base, '=', qs.len);
    const char *amp = memchr(qs.base, '&', qs.len);
    if (end == NULL || (amp != NULL && amp < end))
        end = amp ? amp : qs.base + qs.len;
    if (query_url_decode(qs.base, (size_t)(end - qs.base), name, sizeof(name)) < 0)
        snprintf(name, sizeof(name), "%.*s", (int)(end - qs.base) < 31 ? (int)(end - qs.base) : 31, qs.base);
    char detail[128];
    snprintf(detail, sizeof(detail), "parameter '%s' is not supported here", name);
    respond_problem(r, 400, PROBLEM_TYPE_INVALID_PARAMETER, detail, name);
    return 1;
}

static void products_list(request_t *r, h2o_iovec_t param)
{
    h2o_iovec_t qs = query_string(r->req);
    query_t q;
    query_error_t err;
    if (query_parse(qs.base, qs.len, &q, &err) != 0) {
        respond_problem(r, 400, PROBLEM_TYPE_INVALID_PARAMETER, err.detail, err.param);
        return;
    }
    flow_read_start(r, FLOW_READ_LIST, NULL, &q);
}

int handlers_product_id(request_t *r, const char *id, size_t len, char out[25])
{
    if (query_object_id(id, len, out))
        return 1;
    respond_problem(r, 400, PROBLEM_TYPE_INVALID_PARAMETER, "a product id is 24 hexadecimal digits", "id");
    return 0;
}

static void products_get(request_t *r, h2o_iovec_t id)
{
    char lower[25];
    if (!handlers_product_id(r, id.base, id.len, lower) || handlers_reject_query(r))
        return;
    flow_read_start(r, FLOW_READ_PRODUCT, lower, NULL);
}

const server_route_t products_routes[] = {
    {"GET", "/api/products", products_list},
    {"GET", "/api/products/{id}", products_get},
    {NULL, NULL, NULL},
};
