#include "server/problem.h"
#include "xalloc.h"

#include <bson/bson.h>
#include <cjson/cJSON.h>
#include <stdlib.h>
#include <string.h>

const char *problem_title(int status)
{
    switch (status) {
    case 400:
        return "Bad Request";
    case 401:
        return "Unauthorized";
    case 403:
        return "Forbidden";
    case 404:
        return "Not Found";
    case 405:
        return "Method Not Allowed";
    case 409:
        return "Conflict";
    case 412:
        return "Precondition Failed";
    case 413:
        return "Content Too Large";
    case 415:
        return "Unsupported Media Type";
    case 422:
        return "Unprocessable Content";
    case 429:
        return "Too Many Requests";
    case 500:
        return "Internal Server Error";
    case 502:
        return "Bad Gateway";
    case 503:
        return "Service Unavailable";
    case 504:
        return "Gateway Timeout";
    default:
        return "Error";
    }
}

/* cJSON copies bytes as they are: text that may echo client input is made
 * valid UTF-8 first (non-ASCII bytes become '?' when it is not). Returns s,
 * or a malloc'd copy stored in *owned. */
static const char *utf8_safe(const char *s, char **owned)
{
    if (s == NULL || bson_utf8_validate(s, strlen(s), false))
        return s;
    char *c = xstrdup(s);
    for (char *p = c; *p; p++)
        if ((unsigned char)*p >= 0x80)
            *p = '?';
    *owned = c;
    return c;
}

char *problem_json(int status, const char *type, const char *detail, const char *instance, const char *parameter)
{
    return problem_json_ext(status, type, detail, instance, parameter, NULL);
}

char *problem_json_ext(int status, const char *type, const char *detail, const char *instance, const char *parameter,
                       void *extra_obj)
{
    cJSON *extra = extra_obj;
    char *own_detail = NULL, *own_parameter = NULL;
    detail = utf8_safe(detail, &own_detail);
    parameter = utf8_safe(parameter, &own_parameter);
    cJSON *o = cJSON_CreateObject();
    if (o == NULL) {
        cJSON_Delete(extra);
        return NULL;
    }
    cJSON_AddStringToObject(o, "type", type ? type : "about:blank");
    cJSON_AddStringToObject(o, "title", problem_title(status));
    cJSON_AddNumberToObject(o, "status", status);
    if (detail != NULL)
        cJSON_AddStringToObject(o, "detail", detail);
    if (instance != NULL)
        cJSON_AddStringToObject(o, "instance", instance);
    if (parameter != NULL)
        cJSON_AddStringToObject(o, "parameter", parameter);
    while (extra != NULL && extra->child != NULL) {
        cJSON *m = cJSON_DetachItemViaPointer(extra, extra->child);
        cJSON_AddItemToObject(o, m->string, m); /* keeps the key: AddItemToObject copies it */
    }
    cJSON_Delete(extra);
    char *s = cJSON_PrintUnformatted(o);
    cJSON_Delete(o);
    free(own_detail);
    free(own_parameter);
    return s;
}
