#include "handlers/body.h"
#include "xalloc.h"
#include "app.h"

#include "server/problem.h"

#include <bson/bson.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

static int media_is(h2o_iovec_t v, const char *type)
{
    size_t tl = strlen(type);
    if (v.len < tl || strncasecmp(v.base, type, tl) != 0)
        return 0;
    const char *p = v.base + tl, *end = v.base + v.len;
    while (p < end && (*p == ' ' || *p == '\t'))
        p++;
    if (p == end)
        return 1;
    if (*p != ';')
        return 0;
    p++;
    while (p < end && (*p == ' ' || *p == '\t'))
        p++;
    /* the one parameter JSON may carry */
    static const char cs[] = "charset=";
    if ((size_t)(end - p) < sizeof(cs) - 1 || strncasecmp(p, cs, sizeof(cs) - 1) != 0)
        return 0;
    p += sizeof(cs) - 1;
    size_t rest = (size_t)(end - p);
    return (rest == 5 && strncasecmp(p, "utf-8", 5) == 0) || (rest == 7 && strncasecmp(p, "\"utf-8\"", 7) == 0);
}

void body_invalid(request_t *r, const input_errors_t *errs)
{
    cJSON *extra = cJSON_CreateObject();
    cJSON_AddItemToObject(extra, "errors", input_errors_json(errs));
    char detail[64];
    snprintf(detail, sizeof(detail), "%zu field%s not valid", errs->n, errs->n == 1 ? " is" : "s are");
    respond_problem_ext(r, 422, PROBLEM_TYPE_VALIDATION, detail, NULL, extra);
}

int body_require_json(request_t *r, int allow_merge_patch)
{
    h2o_iovec_t ct = respond_request_header(r, "content-type");
    if (ct.base != NULL &&
        (media_is(ct, "application/json") || (allow_merge_patch && media_is(ct, "application/merge-patch+json"))))
        return 1;
    char detail[160];
    snprintf(detail, sizeof(detail), "send the body as %s%s", allow_merge_patch ? "application/merge-patch+json or " : "",
             "application/json");
    respond_problem(r, 415, PROBLEM_TYPE_UNSUPPORTED_MEDIA_TYPE, detail, NULL);
    return 0;
}

/* 1 when the JSON text escapes a NUL (\u0000): a backslash that is itself
 * escaped ("\\u0000", the six characters \u0000 as text) does not count. */
static int has_nul_escape(const char *s, size_t len)
{
    for (size_t i = 0; i + 6 <= len; i++) {
        if (s[i] != '\\')
            continue;
        if (memcmp(s + i + 1, "u0000", 5) == 0)
            return 1;
        i++; /* skip the escaped character, which may be a backslash */
    }
    return 0;
}

cJSON *body_parse_json(request_t *r)
{
    h2o_iovec_t b = r->req->entity;
    const char *why = NULL;
    if (b.base == NULL || b.len == 0)
        why = "the body is empty; send a JSON object";
    else if (!bson_utf8_validate(b.base, b.len, false))
        why = "the body is not valid UTF-8";
    else if (has_nul_escape(b.base, b.len))
        why = "the body contains a NUL character (\\u0000)";
    if (why == NULL) {
        /* jansson is strict (RFC 8259: no 01, no 1., no raw control
         * characters in strings); cJSON, which builds the tree the handlers
         * use, is not, so jansson judges the syntax first */
        json_error_t jerr;
        json_t *strict = json_loadb(b.base, b.len, JSON_DECODE_ANY, &jerr);
        if (strict == NULL) {
            char detail[256];
            snprintf(detail, sizeof(detail), "the body is not valid JSON: %.160s (line %d, column %d)", jerr.text, jerr.line,
                     jerr.column);
            respond_problem(r, 400, PROBLEM_TYPE_MALFORMED_JSON, detail, NULL);
            return NULL;
        }
        json_decref(strict);
        char *copy = xmalloc(b.len + 1);
        memcpy(copy, b.base, b.len);
        copy[b.len] = '\0';
        const char *end = NULL;
        cJSON *root = cJSON_ParseWithOpts(copy, &end, 1);
        size_t at = end ? (size_t)(end - copy) : 0;
        explicit_bzero(copy, b.len); /* a login body holds a password */
        free(copy);
        if (root != NULL)
            return root;
        char detail[128];
        snprintf(detail, sizeof(detail), "the body is not valid JSON (error near byte %zu)", at);
        respond_problem(r, 400, PROBLEM_TYPE_MALFORMED_JSON, detail, NULL);
        return NULL;
    }
    respond_problem(r, 400, PROBLEM_TYPE_MALFORMED_JSON, why, NULL);
    return NULL;
}
