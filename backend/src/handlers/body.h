/* Request bodies of writes: media type, JSON syntax, request headers
 * shared by the write handlers. Each answers the error itself. */
#ifndef CATALOG_BODY_H
#define CATALOG_BODY_H

#include <cjson/cJSON.h>

#include "model/product_input.h"
#include "server/respond.h"

/* Checks Content-Type is application/json (or, with allow_merge_patch,
 * application/merge-patch+json), parameters allowed only as charset=utf-8.
 * Returns 1, or 0 after answering 415. */
int body_require_json(request_t *r, int allow_merge_patch);

/* Parses the body as one JSON value (valid UTF-8, no NUL escapes, nothing
 * after it). Returns the tree (caller deletes), or NULL after answering 400. */
cJSON *body_parse_json(request_t *r);

/* Answers 422 /problems/validation with errs as the "errors" member and
 * "N fields are not valid" as detail. */
void body_invalid(request_t *r, const input_errors_t *errs);

#endif
