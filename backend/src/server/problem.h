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

/* Returns the reason phrase of an HTTP status ("Not Found"), "Error" if unknown. */
const char *problem_title(int status);

/* Builds {"type","title","status","detail","instance"[, "parameter"]} as a
 * malloc'd NUL-terminated string (caller frees), or NULL when out of memory.
 * parameter may be NULL; it names the offending query parameter. */
char *problem_json(int status, const char *type, const char *detail, const char *instance, const char *parameter);

#endif
