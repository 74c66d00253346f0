#include "server/cors.h"

#include "handlers/body.h"

#include <string.h>

/* The allowed origin to echo, or NULL. */
static const char *allowed_origin(request_t *r, h2o_iovec_t origin)
{
    const char *list = r->thread->app->cfg.cors_origins;
    if (list[0] == '\0' || origin.base == NULL)
        return NULL;
    for (const char *p = list; *p != '\0';) {
        const char *comma = strchr(p, ',');
        size_t len = comma ? (size_t)(comma - p) : strlen(p);
        if (len == 1 && p[0] == '*')
            return "*";
        if (len == origin.len && strncasecmp(p, origin.base, len) == 0)
            return "";
        p += len + (comma ? 1 : 0);
    }
    return NULL;
}

void cors_apply(request_t *r)
{
    if (r->thread->app->cfg.cors_origins[0] == '\0')
        return;
    h2o_add_header(&r->req->pool, &r->req->res.headers, H2O_TOKEN_VARY, NULL, H2O_STRLIT("Origin"));
    h2o_iovec_t origin = body_header(r, "origin");
    const char *a = allowed_origin(r, origin);
    if (a == NULL)
        return;
    if (a[0] == '*')
        respond_header(r, "access-control-allow-origin", H2O_STRLIT("*"));
    else
        respond_header(r, "access-control-allow-origin", origin.base, origin.len);
    respond_header(r, "access-control-expose-headers",
                   H2O_STRLIT("ETag, Location, Link, Retry-After, X-Cache, X-Request-Id, Idempotency-Replayed, WWW-Authenticate"));
}

void cors_options(request_t *r, const char *allow)
{
    size_t al = strlen(allow);
    respond_header(r, "allow", allow, al);
    h2o_iovec_t origin = body_header(r, "origin");
    h2o_iovec_t method = body_header(r, "access-control-request-method");
    /* the method must be one of the route's (a list of tokens) */
    int method_ok = 0;
    if (method.base != NULL && method.len > 0) {
        for (const char *p = allow; *p != '\0';) {
            const char *comma = strchr(p, ',');
            size_t len = comma ? (size_t)(comma - p) : strlen(p);
            if (len == method.len && memcmp(p, method.base, len) == 0)
                method_ok = 1;
            if (comma == NULL)
                break;
            p = comma + 2;
        }
    }
    if (method_ok && allowed_origin(r, origin) != NULL) {
        respond_header(r, "access-control-allow-methods", allow, al);
        respond_header(r, "access-control-allow-headers",
                       H2O_STRLIT("Authorization, Content-Type, If-Match, If-None-Match, Idempotency-Key, X-Request-Id"));
        respond_header(r, "access-control-max-age", H2O_STRLIT("600"));
    }
    respond_body(r, 204, NULL, NULL, 0, "", 0);
}
