/* HTTP handlers, one file per resource. Each gets the validated route and
 * answers through server/respond.h; reads go through read_through. */
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
extern const server_route_t openapi_routes[];    /* GET /api/openapi.json */

/* Converts the compiled-in OpenAPI YAML into JSON once at start-up. Returns
 * 0, or -1 with a message in err (a broken spec is a build error). */
int openapi_load(app_t *app, char *err, size_t errlen);

/* Registers the readiness check's receiver and time box on a loop thread. */
void health_init_thread(app_thread_t *t);

/* Takes a product id from the path into out (lower-cased). Returns 1, or 0
 * after answering 400 naming "id". */
int handlers_product_id(request_t *r, const char *id, size_t len, char out[25]);

/* Submits a job to pool from r's loop, dispatched to done on that loop
 * when it ends (the one receiver of write and login jobs); op holds a
 * reference meanwhile and the loop's drain waits for it (t->writing, which
 * done must decrease). Returns 0, or -1 after undoing both (the caller
 * answers 503). */
int handlers_submit_job(respond_op_t *op, mongo_pool_t *pool, store_job_t *job, void (*done)(store_job_t *));

/* handlers_submit_job on the MongoDB pool of reads and writes. */
int handlers_submit_write(respond_op_t *op, store_job_t *job, void (*done)(store_job_t *));

/* Rejects any query string: 400 naming the first parameter. Returns 1 when
 * it answered (the caller stops), 0 when there is no query. */
int handlers_reject_query(request_t *r);

#endif
