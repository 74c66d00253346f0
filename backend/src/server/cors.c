#include "server/cors.h"
#include "app.h"

#include <string.h>
#include <strings.h>

/* 1 when CORS_ORIGINS allows origin (parsed once, at start-up). */
static int allowed(const config_t *cfg, h2o_iovec_t origin)
{
    if (origin.base == NULL)
        return 0;
    if (cfg->cors_any)
        return 1;
    for (size_t i = 0; i < cfg->ncors_origins; i++)
        if (strlen(cfg->cors_origins[i]) == origin.len && strncasecmp(cfg->cors_origins[i], origin.base, origin.len) == 0)
            return 1;
    return 0;
}

void cors_apply(request_t *r)
{
    const config_t *cfg = &r->thread->app->cfg;
    if (!cfg->cors_any && cfg->ncors_origins == 0)
        return;
    h2o_add_header(&r->req->pool, &r->req->res.headers, H2O_TOKEN_VARY, NULL, H2O_STRLIT("Origin"));
    h2o_iovec_t origin = respond_request_header(r, "origin");
    if (!allowed(cfg, origin))
        return;
    if (cfg->cors_any)
        respond_header(r, "access-control-allow-origin", H2O_STRLIT("*"));
    else
        respond_header(r, "access-control-allow-origin", origin.base, origin.len);
    respond_header(r, "access-control-expose-headers",
                   H2O_STRLIT("ETag, Location, Link, Retry-After, X-Cache, X-Request-Id, Idempotency-Replayed, WWW-Authenticate"));
}

void cors_options(request_t *r, const char *allow, int method_allowed)
{
    size_t al = strlen(allow);
    respond_header(r, "allow", allow, al);
    if (method_allowed && allowed(&r->thread->app->cfg, respond_request_header(r, "origin"))) {
        respond_header(r, "access-control-allow-methods", allow, al);
        respond_header(
            r, "access-control-allow-headers",
            H2O_STRLIT("Authorization, Content-Type, If-Match, If-None-Match, Idempotency-Key, Last-Event-ID, X-Request-Id"));
        respond_header(r, "access-control-max-age", H2O_STRLIT("600"));
    }
    respond_body(r, 204, NULL, NULL, 0, "", 0);
}
