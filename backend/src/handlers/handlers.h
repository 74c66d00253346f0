/* HTTP handlers, one file per resource. Each gets the validated route and
 * answers through server/respond.h; the work itself is a flow (flow/). */
#ifndef CATALOG_HANDLERS_H
#define CATALOG_HANDLERS_H

#include "model/query.h"
#include "server/respond.h"
#include "server/server.h"

/* The route tables of the files that serve them (see server_route_t). */
extern const server_route_t health_routes[];     /* GET /health, /health/ready */
extern const server_route_t products_routes[];   /* GET /api/products, /api/products/{id} */
extern const server_route_t writes_routes[];     /* POST /api/products; PUT, PATCH, DELETE /api/products/{id} */
extern const server_route_t categories_routes[]; /* GET /api/categories */
extern const server_route_t stats_routes[];      /* GET /api/stats */
extern const server_route_t metrics_routes[];    /* GET /metrics */
extern const server_route_t openapi_routes[];    /* GET /api/openapi.json */
extern const server_route_t changes_routes[];    /* GET /api/changes (Server-Sent Events) */

/* Converts the compiled-in OpenAPI YAML into JSON once at start-up. Returns
 * 0, or -1 with a message in err (a broken spec is a build error). */
int openapi_load(app_t *app, char *err, size_t errlen);

/* Takes a product id from the path into out (lower-cased). Returns 1, or 0
 * after answering 400 naming "id". */
int handlers_product_id(request_t *r, const char *id, size_t len, char out[25]);

/* The request's raw query string (after '?'), or an empty iovec. */
h2o_iovec_t handlers_query_string(request_t *r);

/* Rejects any query string: 400 naming the first parameter. Returns 1 when
 * it answered (the caller stops), 0 when there is no query. */
int handlers_reject_query(request_t *r);

#endif
