#include "handlers/handlers.h"
#include "app.h"
#include "flow/read.h"
#include "server/problem.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void products_list(request_t *r, h2o_iovec_t param)
{
    h2o_iovec_t qs = handlers_query_string(r);
    query_t q;
    query_error_t err;
    if (query_parse(qs.base, qs.len, &q, &err) != 0) {
        respond_problem(r, 400, PROBLEM_TYPE_INVALID_PARAMETER, err.detail, err.param);
        return;
    }
    flow_read_start(r, FLOW_READ_LIST, NULL, &q);
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
