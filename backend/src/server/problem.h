/* RFC 9457 problem details: the body of every error the backend produces.
 * Pure code (no HTTP). */
#ifndef CATALOG_PROBLEM_H
#define CATALOG_PROBLEM_H

#include <stddef.h>

/* Problem types, relative URI references resolved against the API origin;
 * README.md ("Errors") lists them. */
#define PROBLEM_TYPE_INVALID_PARAMETER "/problems/invalid-parameter"
#define PROBLEM_TYPE_NOT_FOUND "/problems/not-found"
#define PROBLEM_TYPE_METHOD_NOT_ALLOWED "/problems/method-not-allowed"
#define PROBLEM_TYPE_PAYLOAD_TOO_LARGE "/problems/payload-too-large"
#define PROBLEM_TYPE_UNAVAILABLE "/problems/service-unavailable"
#define PROBLEM_TYPE_INTERNAL "/problems/internal-error"
#define PROBLEM_TYPE_MALFORMED_JSON "/problems/malformed-json"
#define PROBLEM_TYPE_INVALID_HEADER "/problems/invalid-header"
#define PROBLEM_TYPE_UNAUTHORIZED "/problems/unauthorized"
#define PROBLEM_TYPE_INVALID_CREDENTIALS "/problems/invalid-credentials"
#define PROBLEM_TYPE_FORBIDDEN "/problems/forbidden"
#define PROBLEM_TYPE_PRECONDITION_FAILED "/problems/precondition-failed"
#define PROBLEM_TYPE_UNSUPPORTED_MEDIA_TYPE "/problems/unsupported-media-type"
#define PROBLEM_TYPE_VALIDATION "/problems/validation"
#define PROBLEM_TYPE_IDEMPOTENCY_KEY_REUSED "/problems/idempotency-key-reused"
#define PROBLEM_TYPE_TOO_MANY_ATTEMPTS "/problems/too-many-attempts"

/* Returns the reason phrase of an HTTP status ("Not Found"), "Error" if unknown. */
const char *problem_title(int status);

/* Builds {"type","title","status","detail","instance"[, "parameter"]} as a
 * malloc'd NUL-terminated string (caller frees), or NULL when out of memory.
 * parameter may be NULL; it names the offending query parameter. */
char *problem_json(int status, const char *type, const char *detail, const char *instance, const char *parameter);

/* problem_json plus the members of extra (a cJSON object, consumed; may be
 * NULL), e.g. "errors" of a 422. */
char *problem_json_ext(int status, const char *type, const char *detail, const char *instance, const char *parameter, void *extra);

#endif
