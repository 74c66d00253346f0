/* Sign-in, sign-out and the bearer-token check of the admin API. Tokens
 * are verified on the loop (HMAC, cheap); passwords on a worker thread
 * (Argon2id, expensive, bounded); login failures and revoked tokens live in
 * Redis so every process sees them. */
#ifndef CATALOG_AUTH_H
#define CATALOG_AUTH_H

#include "auth/token.h"
#include "server/respond.h"
#include "server/server.h"

/* POST /api/auth/login and POST /api/auth/logout. */
/* POST /api/auth/login, POST /api/auth/logout */
extern const server_route_t auth_routes[];

/* Called when the request's token is valid, not revoked and an admin's;
 * op->r is alive. */
typedef void (*auth_ok_cb)(respond_op_t *op, const token_claims_t *claims);

/* Checks the Authorization: Bearer token of op's request (a token anywhere
 * else is not looked at): 401 + WWW-Authenticate when missing or invalid
 * or revoked or its user no longer exists, 403 for a viewer token or a user
 * no longer an admin, 503 when the user cannot be looked up; else calls ok
 * (after one Redis round trip for revocation — with Redis unreachable the
 * token is accepted, see README — and, at most once per AUTH_USER_TTL per
 * user and loop thread, one MongoDB lookup of the user). Holds a reference
 * on op meanwhile. */
void auth_require_admin(respond_op_t *op, auth_ok_cb ok);

#endif
