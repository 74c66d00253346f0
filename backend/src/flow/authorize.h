/* Whether a verified token may write: not revoked (one Redis round trip;
 * with Redis unreachable revocations cannot be seen and the token is
 * accepted, see README), an admin's, and its user still there and still an
 * admin (looked up in MongoDB at most once per AUTH_USER_TTL per user and
 * loop thread). Knows nothing of HTTP. */
#ifndef CATALOG_FLOW_AUTHORIZE_H
#define CATALOG_FLOW_AUTHORIZE_H

#include "auth/token.h"
#include "server/respond.h"

typedef enum {
    FLOW_AUTHORIZE_OK,
    FLOW_AUTHORIZE_REVOKED,     /* signed out */
    FLOW_AUTHORIZE_VIEWER,      /* the token's role is not admin */
    FLOW_AUTHORIZE_USER_GONE,   /* the token's user does not exist (any more) */
    FLOW_AUTHORIZE_DEMOTED,     /* the token's user is no longer an admin */
    FLOW_AUTHORIZE_UNAVAILABLE, /* the user could not be looked up */
    FLOW_AUTHORIZE_BUSY,        /* the lookup could not be queued */
} flow_authorize_result_t;

/* Called once on the loop; op->r is NULL when the request has gone (then
 * only free what data holds). */
typedef void (*flow_authorize_cb)(respond_op_t *op, const token_claims_t *claims, flow_authorize_result_t result, void *data);

/* The users a thread's writes named, as last looked up. */
typedef struct {
    struct flow_user_seen {
        char name[65];
        int found; /* 0: no such user */
        char role[16];
        uint64_t until_ms; /* monotonic (clock_mono_ms) */
    } seen[8];
} flow_authorize_thread_t;

/* Decides for claims (already verified) on op's loop; holds a reference on
 * op meanwhile; cb(..., data) follows (maybe before this returns). */
void flow_authorize_admin(respond_op_t *op, const token_claims_t *claims, flow_authorize_cb cb, void *data);

#endif
