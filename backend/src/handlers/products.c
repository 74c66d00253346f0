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

static void products_list(request_t *r, h2o_iovec_t param)
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

static void products_get(request_t *r, h2o_iovec_t id)
{
    char lower[25];
    if (!handlers_product_id(r, id.base, id.len, lower) || handlers_reject_query(r))
        return;
    read_through_start(r, RT_PRODUCT, lower, NULL);
}

const server_route_t products_routes[] = {
    {"GET", "/api/products", products_list},
    {"GET", "/api/products/{id}", products_get},
    {NULL, NULL, NULL},
};

/* The offsets of the Link relations of a page: next and prev when they
 * exist; first (0) and last (the page, aligned with this one, that holds
 * the final match) whenever there is more than one page. */
typedef struct {
    const char *rel;
    int64_t offset;
    int on;
} link_rel_t;

char *products_link_header(const query_t *q, int64_t count, size_t *len)
{
    int64_t lim = q->limit, off = q->offset;
    int many = off > 0 || off + lim < count;
    int64_t last = count <= 0 ? 0 : count - 1 >= off ? off + (count - 1 - off) / lim * lim : (count - 1) / lim * lim;
    link_rel_t rels[] = {
        {"next", off + lim, off + lim < count},
        {"prev", off - lim > 0 ? off - lim : 0, off > 0},
        {"first", 0, many},
        {"last", last, many},
    };
    if (!many)
        return NULL;
    size_t cap = 4 * (4096 + 48);
    char *out = malloc(cap), canon[4096];
    size_t n = 0;
    for (size_t i = 0; i < sizeof(rels) / sizeof(rels[0]); i++) {
        if (!rels[i].on)
            continue;
        if (query_canonical(q, rels[i].offset, canon, sizeof(canon)) < 0) {
            free(out);
            return NULL;
        }
        n += (size_t)snprintf(out + n, cap - n, "%s</api/products?%s>; rel=\"%s\"", n ? ", " : "", canon, rels[i].rel);
    }
    *len = n;
    return out;
}
