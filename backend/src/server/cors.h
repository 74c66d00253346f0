/* CORS, off unless CORS_ORIGINS lists origins: those exact origins (or
 * any, with "*") may call the API from a browser. Tokens travel in the
 * Authorization header, never in cookies, so credentials are never allowed
 * (and "*" never meets credentials). */
#ifndef CATALOG_CORS_H
#define CATALOG_CORS_H

#include "server/respond.h"

/* Adds Access-Control-Allow-Origin / -Expose-Headers for an allowed Origin,
 * and Vary: Origin whenever CORS is on. */
void cors_apply(request_t *r);

/* Answers OPTIONS: 204 with Allow (the route's methods, "GET, HEAD, POST");
 * for a preflight from an allowed origin whose Access-Control-Request-Method
 * is one of them (method_allowed, decided by the router), also the
 * Access-Control-Allow-* headers. */
void cors_options(request_t *r, const char *allow, int method_allowed);

#endif
