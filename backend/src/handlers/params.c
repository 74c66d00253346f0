/* Path and query-string helpers shared by the handlers. */
#include "handlers/handlers.h"
#include "server/problem.h"

#include <stdio.h>
#include <string.h>

h2o_iovec_t handlers_query_string(request_t *r)
{
    h2o_req_t *req = r->req;
    if (req->query_at == SIZE_MAX)
        return h2o_iovec_init(NULL, 0);
    return h2o_iovec_init(req->path.base + req->query_at + 1, req->path.len - req->query_at - 1);
}

int handlers_reject_query(request_t *r)
{
    h2o_iovec_t qs = handlers_query_string(r);
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

int handlers_product_id(request_t *r, const char *id, size_t len, char out[25])
{
    if (query_object_id(id, len, out))
        return 1;
    respond_problem(r, 400, PROBLEM_TYPE_INVALID_PARAMETER, "a product id is 24 hexadecimal digits", "id");
    return 0;
}
