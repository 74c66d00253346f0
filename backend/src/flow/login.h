/* A sign-in: a slot of the bounded password-check capacity, the attempt
 * counted by the throttle (before the check, atomically with the lockout
 * test), the user looked up and the password checked on the login pool's
 * threads, the throttle told of a success. Knows nothing of HTTP. */
#ifndef CATALOG_FLOW_LOGIN_H
#define CATALOG_FLOW_LOGIN_H

#include "auth/address.h"
#include "metrics/metrics.h"
#include "server/respond.h"
#include "store/users_store.h"

typedef enum {
    FLOW_LOGIN_OK,          /* job.username / job.role are the user's */
    FLOW_LOGIN_WRONG,       /* unknown user or wrong password (counted) */
    FLOW_LOGIN_LOCKED,      /* too many failures for this user and address: retry_s */
    FLOW_LOGIN_CROWDED,     /* the throttle's table is full: retry_s */
    FLOW_LOGIN_BUSY,        /* no password-check capacity now (nothing was checked) */
    FLOW_LOGIN_UNAVAILABLE, /* the user database failed */
} flow_login_result_t;
#define FLOW_LOGIN_RESULTS 6
extern const char *const flow_login_result_names[FLOW_LOGIN_RESULTS]; /* "ok", "wrong", "locked", ... (metric labels) */

/* The sign-in flow's per-thread state: outcomes counted (written by the
 * thread only). */
typedef struct {
    metrics_counter_t results[FLOW_LOGIN_RESULTS];
} flow_login_thread_t;

typedef struct flow_login flow_login_t;

/* Called once on the loop, only while the request exists (op.r != NULL). */
typedef void (*flow_login_cb)(flow_login_t *l, flow_login_result_t result, long long retry_s);

struct flow_login {
    respond_op_t op; /* first: the one lifetime of async work */
    login_job_t job; /* username and password filled by the caller */
    app_thread_t *thread;
    char pair[24 + 1 + ADDRESS_MAX];     /* the throttle's "<user hash>:<address>", filled by the caller */
    char request_id[RESPOND_ID_MAX + 1]; /* for the log, when the request is gone */
    flow_login_cb done;
};

/* Starts the sign-in of l (attached to its request); done follows, maybe
 * before this returns. */
void flow_login_start(flow_login_t *l, flow_login_cb done);

#endif
