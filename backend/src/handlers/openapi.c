/* GET /api/openapi.json: backend/openapi.yaml, compiled into the binary,
 * converted to JSON with libyaml once at start-up. */
#include "cache/entry.h"
#include "app.h"
#include "handlers/handlers.h"

#include <cjson/cJSON.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <yaml.h>

extern const unsigned char openapi_yaml[];
extern const size_t openapi_yaml_len;

static char etag[40];
static size_t etag_len;

/* A plain (unquoted) scalar as YAML 1.2's core schema types it. */
static cJSON *plain_scalar(const char *s)
{
    if (strcmp(s, "true") == 0)
        return cJSON_CreateTrue();
    if (strcmp(s, "false") == 0)
        return cJSON_CreateFalse();
    if (strcmp(s, "null") == 0 || strcmp(s, "~") == 0 || s[0] == '\0')
        return cJSON_CreateNull();
    char *end;
    double d = strtod(s, &end);
    if (*end == '\0' && end != s && strspn(s, "+-0123456789.eE") == strlen(s))
        return cJSON_CreateNumber(d);
    return cJSON_CreateString(s);
}

/* Builds the JSON of one node (recursively). NULL on an unsupported node. */
static cJSON *node_json(yaml_document_t *doc, yaml_node_t *node, int depth)
{
    if (node == NULL || depth > 64)
        return NULL;
    switch (node->type) {
    case YAML_SCALAR_NODE: {
        const char *v = (const char *)node->data.scalar.value;
        return node->data.scalar.style == YAML_PLAIN_SCALAR_STYLE ? plain_scalar(v) : cJSON_CreateString(v);
    }
    case YAML_SEQUENCE_NODE: {
        cJSON *arr = cJSON_CreateArray();
        for (yaml_node_item_t *i = node->data.sequence.items.start; i < node->data.sequence.items.top; i++) {
            cJSON *item = node_json(doc, yaml_document_get_node(doc, *i), depth + 1);
            if (item == NULL) {
                cJSON_Delete(arr);
                return NULL;
            }
            cJSON_AddItemToArray(arr, item);
        }
        return arr;
    }
    case YAML_MAPPING_NODE: {
        cJSON *obj = cJSON_CreateObject();
        for (yaml_node_pair_t *p = node->data.mapping.pairs.start; p < node->data.mapping.pairs.top; p++) {
            yaml_node_t *k = yaml_document_get_node(doc, p->key);
            cJSON *v = node_json(doc, yaml_document_get_node(doc, p->value), depth + 1);
            if (k == NULL || k->type != YAML_SCALAR_NODE || v == NULL) {
                cJSON_Delete(v);
                cJSON_Delete(obj);
                return NULL;
            }
            cJSON_AddItemToObject(obj, (const char *)k->data.scalar.value, v);
        }
        return obj;
    }
    default:
        return NULL;
    }
}

int openapi_load(app_t *app, char *err, size_t errlen)
{
    yaml_parser_t parser;
    yaml_document_t doc;
    yaml_parser_initialize(&parser);
    yaml_parser_set_input_string(&parser, openapi_yaml, openapi_yaml_len);
    if (!yaml_parser_load(&parser, &doc)) {
        snprintf(err, errlen, "openapi.yaml: %s at line %zu", parser.problem ? parser.problem : "parse error",
                 parser.problem_mark.line + 1);
        yaml_parser_delete(&parser);
        return -1;
    }
    cJSON *root = node_json(&doc, yaml_document_get_root_node(&doc), 0);
    yaml_document_delete(&doc);
    yaml_parser_delete(&parser);
    if (root == NULL) {
        snprintf(err, errlen, "openapi.yaml: empty or uses an unsupported YAML feature");
        return -1;
    }
    app->openapi_json = cJSON_PrintUnformatted(root);
    cJSON_Delete(root);
    app->openapi_json_len = strlen(app->openapi_json);
    etag_len = (size_t)entry_hash_etag(app->openapi_json, app->openapi_json_len, etag);
    return 0;
}

static void openapi_get(request_t *r, h2o_iovec_t param)
{
    if (handlers_reject_query(r))
        return;
    app_t *app = r->thread->app;
    h2o_add_header(&r->req->pool, &r->req->res.headers, H2O_TOKEN_CACHE_CONTROL, NULL, H2O_STRLIT("no-cache"));
    if (respond_etag_matches(r->req, etag, etag_len))
        respond_not_modified(r, etag, etag_len);
    else
        respond_body(r, 200, NULL, etag, etag_len, app->openapi_json, app->openapi_json_len);
}

const server_route_t openapi_routes[] = {
    {"GET", "/api/openapi.json", openapi_get},
    {NULL, NULL, NULL},
};
