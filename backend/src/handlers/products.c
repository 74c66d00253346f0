#include "handlers/handlers.h"
#include "handlers/read_through.h"
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

void products_list(request_t *r)
{
    h2o_iovec_t qs = query_string(r->req);
    query_t q;
    query_error_t err;
    if (query_parse(qs.base, qs.len, &q, &err) != 0) {
        respond_problem(r, 400, PROBLEM_TYPE_INVALID_PARAMETER, err.detail, err.param);
        return;
    }
    read_through_start(r, RT_LIST, NULL, &q);
}

int handlers_product_id(request_t *r, const char *id, size_t len, char out[25])
{
    if (query_object_id(id, len, out))
        return 1;
    respond_problem(r, 400, PROBLEM_TYPE_INVALID_PARAMETER, "a product id is 24 hexadecimal digits", "id");
    return 0;
}

void products_get(request_t *r, const char *id, size_t id_len)
{
    char lower[25];
    if (!handlers_product_id(r, id, id_len, lower) || handlers_reject_query(r))
        return;
    read_through_start(r, RT_PRODUCT, lower, NULL);
}

char *products_link_header(const query_t *q, int64_t count, size_t *len)
{
    char next[4096], prev[4096];
    int has_next = q->offset + q->limit<count, has_prev = q->offset> 0;
    if (!has_next && !has_prev)
        return NULL;
    if (has_next && query_canonical(q, q->offset + q->limit, next, sizeof(next)) < 0)
        return NULL;
    if (has_prev) {
        int64_t po = q->offset - q->limit;
        if (po < 0)
            po = 0;
        if (query_canonical(q, po, prev, sizeof(prev)) < 0)
            return NULL;
    }
    size_t cap = (has_next ? strlen(next) : 0) + (has_prev ? strlen(prev) : 0) + 96;
    char *out = malloc(cap);
    int n = 0;
    if (has_next)
        n += snprintf(out + n, cap - (size_t)n, "</api/products?%s>; rel=\"next\"", next);
    if (has_prev)
        n += snprintf(out + n, cap - (size_t)n, "%s</api/products?%s>; rel=\"prev\"", has_next ? ", " : "", prev);
    *len = (size_t)n;
    return out;
}
