#include "handlers/handlers.h"
#include "app.h"
#include "flow/read.h"

static void categories_list(request_t *r, h2o_iovec_t param)
{
    if (handlers_reject_query(r))
        return;
    flow_read_start(r, FLOW_READ_CATEGORIES, NULL, NULL);
}

const server_route_t categories_routes[] = {
    {"GET", "/api/categories", categories_list},
    {NULL, NULL, NULL},
};
