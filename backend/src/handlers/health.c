#include "handlers/handlers.h"
#include "clock.h"
#include "app.h"
#include "model/product.h"
#include "flow/ready.h"

#include <cjson/cJSON.h>
#include <stdlib.h>
#include <string.h>

/* Liveness: answers without touching Redis or MongoDB, so an outage of a
 * dependency never makes a monitor restart every instance. */
static void health_live(request_t *r, h2o_iovec_t param)
{
    static const char body[] = "{\"status\":\"OK\",\"service\":\"Backend API\"}";
    h2o_add_header(&r->req->pool, &r->req->res.headers, H2O_TOKEN_CACHE_CONTROL, NULL, H2O_STRLIT("no-store"));
    respond_body(r, 200, NULL, NULL, 0, body, sizeof(body) - 1);
}

static void add_check(cJSON *checks, const char *name, const flow_ready_check_t *c, const char *fail_status, const char *time)
{
    cJSON *arr = cJSON_AddArrayToObject(checks, name);
    cJSON *o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "componentType", "datastore");
    cJSON_AddNumberToObject(o, "observedValue", (double)(c->took_us / 100) / 10.0);
    cJSON_AddStringToObject(o, "observedUnit", "ms");
    cJSON_AddStringToObject(o, "status", c->ok ? "pass" : fail_status);
    cJSON_AddStringToObject(o, "time", time);
    if (!c->ok)
        cJSON_AddStringToObject(o, "output", c->detail);
    cJSON_AddItemToArray(arr, o);
}

/* Both checks settled: application/health+json, 200 unless MongoDB failed. */
static void answer_ready(request_t *r, const flow_ready_check_t *redis, const flow_ready_check_t *mongo)
{
    char now[32];
    product_format_time(clock_wall_s() * 1000, now);
    const char *status = !mongo->ok ? "fail" : (!redis->ok ? "warn" : "pass");
    cJSON *root = cJSON_CreateObject();
    cJSON_AddStringToObject(root, "status", status);
    cJSON_AddStringToObject(root, "serviceId", "catalog-backend");
    cJSON_AddStringToObject(root, "description", "Backend API");
    cJSON *checks = cJSON_AddObjectToObject(root, "checks");
    /* Redis is a cache: without it reads still work (from MongoDB) */
    add_check(checks, "redis:responseTime", redis, "warn", now);
    add_check(checks, "mongodb:responseTime", mongo, "fail", now);
    char *body = cJSON_PrintUnformatted(root);
    cJSON_Delete(root);
    h2o_add_header(&r->req->pool, &r->req->res.headers, H2O_TOKEN_CACHE_CONTROL, NULL, H2O_STRLIT("no-store"));
    respond_body(r, mongo->ok ? 200 : 503, "application/health+json", NULL, 0, body, strlen(body));
    free(body);
}

/* Readiness: Redis and MongoDB, each time-boxed (flow/ready.h). */
static void health_ready(request_t *r, h2o_iovec_t param)
{
    flow_ready_start(r, answer_ready);
}

const server_route_t health_routes[] = {
    {"GET", "/health", health_live},
    {"GET", "/health/ready", health_ready},
    {NULL, NULL, NULL},
};
