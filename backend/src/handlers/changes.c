/* GET /api/changes: the change feed (Server-Sent Events). The place to
 * resume from is the Last-Event-ID header (a browser's EventSource sends it
 * when it reconnects) or ?after=<event id> (a client that kept one); the
 * header wins, being the later of the two when both come. */
#include "handlers/handlers.h"
#include "app.h"
#include "flow/feed.h"
#include "server/problem.h"

#include <stdio.h>
#include <string.h>

#define ID_HINT "an event id of this feed, as its id: lines give them (<epoch>:<ms>-<seq>)"

/* Reads the query string: nothing, or after=<event id> once. Returns 1
 * with *has and *pos set, or 0 after answering 400. */
static int parse_after(request_t *r, int *has, feed_pos_t *pos)
{
    h2o_iovec_t qs = handlers_query_string(r);
    for (size_t i = 0; i < qs.len;) {
        const char *p = qs.base + i, *amp = memchr(p, '&', qs.len - i), *end = amp ? amp : qs.base + qs.len;
        const char *eq = memchr(p, '=', (size_t)(end - p));
        size_t raw = (size_t)((eq ? eq : end) - p);
        char name[32], value[FEED_ID_MAX];
        if (query_url_decode(p, raw, name, sizeof(name)) < 0) /* named as sent, cut short */
            snprintf(name, sizeof(name), "%.*s", (int)(raw < 31 ? raw : 31), p);
        if (strcmp(name, "after") != 0) {
            respond_problem(r, 400, PROBLEM_TYPE_INVALID_PARAMETER, "the only parameter here is 'after'", name);
            return 0;
        }
        int vl = eq ? query_url_decode(eq + 1, (size_t)(end - eq - 1), value, sizeof(value)) : -1;
        if (*has || vl < 0 || feed_pos_parse(value, (size_t)vl, pos) != 0) {
            respond_problem(r, 400, PROBLEM_TYPE_INVALID_PARAMETER, *has ? "'after' is given once" : "'after' must be " ID_HINT,
                            "after");
            return 0;
        }
        *has = 1;
        i = (size_t)(end - qs.base) + 1;
    }
    return 1;
}

static void changes_get(request_t *r, h2o_iovec_t param)
{
    feed_pos_t pos;
    int has = 0;
    if (!parse_after(r, &has, &pos))
        return;
    h2o_iovec_t last = respond_request_header(r, "last-event-id");
    if (last.len != 0) { /* an empty one means none (the browser had no id yet) */
        if (feed_pos_parse(last.base, last.len, &pos) != 0) {
            respond_problem(r, 400, PROBLEM_TYPE_INVALID_HEADER, "Last-Event-ID must be " ID_HINT, "Last-Event-ID");
            return;
        }
        has = 1;
    }
    if (h2o_memis(r->req->method.base, r->req->method.len, H2O_STRLIT("HEAD"))) {
        h2o_add_header(&r->req->pool, &r->req->res.headers, H2O_TOKEN_CACHE_CONTROL, NULL, H2O_STRLIT("no-store"));
        respond_body(r, 200, "text/event-stream", NULL, 0, "", 0);
        return;
    }
    flow_feed_subscribe(r, has ? &pos : NULL);
}

const server_route_t changes_routes[] = {
    {"GET", "/api/changes", changes_get},
    {NULL, NULL, NULL},
};
