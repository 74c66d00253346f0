#include "handlers/auth.h"
#include "xalloc.h"
#include "clock.h"
#include "app.h"

#include "auth/address.h"
#include "auth/guard.h"
#include "flow/authorize.h"
#include "flow/login.h"
#include "flow/write.h"
#include "handlers/body.h"
#include "handlers/handlers.h"
#include "server/problem.h"
#include "store/users_store.h"

#include <arpa/inet.h>
#include <openssl/sha.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define AUTH_REALM "Bearer realm=\"catalog\""

static int64_t now_s(void)
{
    return (int64_t)clock_wall_s();
}

/* ---- the token check ---- */

static void unauthorized(request_t *r, const char *detail, int invalid_token)
{
    char v[256];
    int n = invalid_token ? snprintf(v, sizeof(v), AUTH_REALM ", error=\"invalid_token\", error_description=\"%s\"", detail)
                          : snprintf(v, sizeof(v), AUTH_REALM);
    respond_header(r, "www-authenticate", v, (size_t)n);
    respond_problem(r, 401, PROBLEM_TYPE_UNAUTHORIZED, detail, NULL);
}

/* Extracts the bearer token; returns 0, or -1 after answering 401. */
static int bearer_token(request_t *r, h2o_iovec_t *tok)
{
    h2o_iovec_t a = respond_request_header(r, "authorization");
    if (a.base == NULL) {
        unauthorized(r, "this needs an Authorization: Bearer <token> header (sign in at /api/auth/login)", 0);
        return -1;
    }
    if (a.len < 8 || strncasecmp(a.base, "bearer ", 7) != 0) {
        unauthorized(r, "the Authorization header must be 'Bearer <token>'", 1);
        return -1;
    }
    size_t off = 7;
    while (off < a.len && a.base[off] == ' ')
        off++;
    *tok = h2o_iovec_init(a.base + off, a.len - off);
    return 0;
}

/* Verifies the token; returns 0 with claims, or -1 after answering 401. */
static int verify(request_t *r, token_claims_t *claims)
{
    h2o_iovec_t tok;
    if (bearer_token(r, &tok) != 0)
        return -1;
    const config_t *cfg = &r->thread->app->cfg;
    token_key_t keys[2] = {{(const unsigned char *)cfg->jwt_secret, cfg->jwt_secret_len},
                           {(const unsigned char *)cfg->jwt_secret_previous, cfg->jwt_secret_previous_len}};
    token_status_t st = token_verify(tok.base, tok.len, keys, 2, now_s(), claims);
    if (st != TOKEN_OK) {
        unauthorized(r, token_status_text(st), 1);
        return -1;
    }
    return 0;
}

typedef struct {
    auth_ok_cb ok;
} require_t;

/* The flow's decision as HTTP; ok runs for an admin allowed to write. */
static void on_authorized(respond_op_t *op, const token_claims_t *claims, flow_authorize_result_t result, void *data)
{
    request_t *r = op->r;
    require_t q = *(require_t *)data;
    free(data);
    if (r == NULL)
        return;
    switch (result) {
    case FLOW_AUTHORIZE_OK:
        q.ok(op, claims);
        break;
    case FLOW_AUTHORIZE_REVOKED:
        unauthorized(r, "the token has been revoked (signed out)", 1);
        break;
    case FLOW_AUTHORIZE_VIEWER:
        respond_problem(r, 403, PROBLEM_TYPE_FORBIDDEN, "this needs the admin role; the token's role is viewer", NULL);
        break;
    case FLOW_AUTHORIZE_USER_GONE:
        unauthorized(r, "the token's user does not exist (any more)", 1);
        break;
    case FLOW_AUTHORIZE_DEMOTED:
        respond_problem(r, 403, PROBLEM_TYPE_FORBIDDEN, "this needs the admin role; the token's user is no longer an admin", NULL);
        break;
    case FLOW_AUTHORIZE_UNAVAILABLE:
        respond_unavailable(r, "the user database did not answer; try again", 1);
        break;
    case FLOW_AUTHORIZE_BUSY:
        respond_unavailable(r, "too many requests are waiting for the database", 1);
        break;
    }
}

void auth_require_admin(respond_op_t *op, auth_ok_cb ok)
{
    token_claims_t claims;
    if (verify(op->r, &claims) != 0)
        return;
    require_t *q = xmalloc(sizeof(*q));
    q->ok = ok;
    flow_authorize_admin(op, &claims, on_authorized, q);
}

/* ---- logout ---- */

static void logout_destroy(respond_op_t *op)
{
    free(op);
}

static void on_revoked(void *data, guard_revoke_t result)
{
    respond_op_t *op = data;
    if (op->r != NULL) {
        if (result == GUARD_REVOKE_DONE)
            respond_body(op->r, 204, NULL, NULL, 0, "", 0);
        else if (result == GUARD_REVOKE_ALREADY)
            unauthorized(op->r, "the token has been revoked (signed out)", 1);
        else
            respond_unavailable(op->r, "the sign-out could not be recorded (cache unavailable); try again", 1);
    }
    respond_op_unref(op);
}

static void auth_logout(request_t *r, h2o_iovec_t param)
{
    token_claims_t claims;
    if (verify(r, &claims) != 0)
        return;
    respond_op_t *op = xcalloc(1, sizeof(*op));
    respond_op_attach(op, r, logout_destroy);
    respond_op_ref(op);
    guard_revoke(cache_redis(r->thread->cache), claims.jti, claims.exp, on_revoked, op);
}

/* ---- login ---- */

static void login_destroy(respond_op_t *op)
{
    flow_login_t *l = (flow_login_t *)op;
    sodium_memzero(l->job.password, sizeof(l->job.password));
    free(l);
}

/* The client's address as canonical text (auth/address.h: parsed, then
 * printed; IPv4-mapped IPv6 as IPv4): the peer, or X-Real-IP when the peer
 * is a trusted proxy (nginx). An X-Real-IP that is no address literal is
 * ignored (the peer counts). */
static void client_address(request_t *r, char out[ADDRESS_MAX])
{
    struct sockaddr_storage ss;
    socklen_t sl = r->req->conn->callbacks->get_peername(r->req->conn, (struct sockaddr *)&ss);
    snprintf(out, ADDRESS_MAX, "unknown");
    if (sl == 0 || (ss.ss_family != AF_INET && ss.ss_family != AF_INET6))
        return;
    int family = ss.ss_family;
    unsigned char addr[16] = {0};
    if (family == AF_INET)
        memcpy(addr, &((struct sockaddr_in *)&ss)->sin_addr, 4);
    else
        memcpy(addr, &((struct sockaddr_in6 *)&ss)->sin6_addr, 16);
    address_unmap(&family, addr); /* a dual-stack listener sees IPv4 peers as ::ffff:a.b.c.d */
    address_print(family, addr, out);
    if (!config_is_trusted_proxy(&r->thread->app->cfg, family, addr))
        return;
    h2o_iovec_t x = respond_request_header(r, "x-real-ip");
    if (x.base != NULL)
        address_normalize(x.base, x.len, out);
}

static void too_many(request_t *r, long long retry_s, const char *why)
{
    char ra[24];
    int n = snprintf(ra, sizeof(ra), "%lld", retry_s > 0 ? retry_s : 1);
    respond_header(r, "retry-after", ra, (size_t)n);
    char detail[200];
    snprintf(detail, sizeof(detail), "%s; try again in %s seconds", why, ra);
    respond_problem(r, 429, PROBLEM_TYPE_TOO_MANY_ATTEMPTS, detail, NULL);
}

/* 200 with a new token for the signed-in user. */
static void answer_token(request_t *r, const login_job_t *job)
{
    const config_t *cfg = &r->thread->app->cfg;
    token_claims_t claims;
    token_key_t key = {(const unsigned char *)cfg->jwt_secret, cfg->jwt_secret_len};
    char *tok = token_mint(key, job->username, job->role, now_s(), cfg->jwt_ttl_s, &claims);
    if (tok == NULL) {
        respond_problem(r, 500, PROBLEM_TYPE_INTERNAL, "the token could not be made", NULL);
        return;
    }
    cJSON *o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "token", tok);
    cJSON_AddStringToObject(o, "token_type", "Bearer");
    cJSON_AddNumberToObject(o, "expires_in", cfg->jwt_ttl_s);
    cJSON_AddStringToObject(o, "role", job->role);
    cJSON_AddStringToObject(o, "username", job->username);
    char *body = cJSON_PrintUnformatted(o);
    cJSON_Delete(o);
    h2o_add_header(&r->req->pool, &r->req->res.headers, H2O_TOKEN_CACHE_CONTROL, NULL, H2O_STRLIT("no-store"));
    respond_body(r, 200, NULL, NULL, 0, body, strlen(body));
    free(body);
    free(tok);
}

/* The sign-in's outcome as HTTP. */
static void on_login(flow_login_t *l, flow_login_result_t result, long long retry_s)
{
    request_t *r = l->op.r;
    switch (result) {
    case FLOW_LOGIN_OK:
        answer_token(r, &l->job);
        break;
    case FLOW_LOGIN_WRONG:
        respond_header(r, "www-authenticate", H2O_STRLIT(AUTH_REALM));
        respond_problem(r, 401, PROBLEM_TYPE_INVALID_CREDENTIALS, "the user name or password is wrong", NULL);
        break;
    case FLOW_LOGIN_LOCKED:
        too_many(r, retry_s, "too many failed sign-ins for this user from this address");
        break;
    case FLOW_LOGIN_CROWDED:
        too_many(r, retry_s, "too many users and addresses are signing in at the moment (sign-ins already under way continue)");
        break;
    case FLOW_LOGIN_BUSY:
        respond_unavailable(r, "too many sign-ins are being checked at once; try again", 1);
        break;
    case FLOW_LOGIN_UNAVAILABLE:
        respond_unavailable(r, "the user database did not answer; try again", 1);
        break;
    }
}

/* Takes {"username","password"}; returns 0, or -1 after answering. */
static int parse_login(request_t *r, login_job_t *job)
{
    if (!body_require_json(r, 0))
        return -1;
    cJSON *root = body_parse_json(r);
    if (root == NULL)
        return -1;
    input_errors_t errs = {.n = 0};
    if (!cJSON_IsObject(root)) {
        input_errors_add(&errs, "", "the body must be a JSON object with username and password");
    } else {
        for (const cJSON *m = root->child; m != NULL; m = m->next)
            if (strcmp(m->string, "username") != 0 && strcmp(m->string, "password") != 0)
                input_errors_add(&errs, m->string, "is not a login field (username, password)");
        const cJSON *u = cJSON_GetObjectItemCaseSensitive(root, "username");
        const cJSON *p = cJSON_GetObjectItemCaseSensitive(root, "password");
        if (!cJSON_IsString(u) || !users_valid_name(u->valuestring))
            input_errors_add(&errs, "username", "must be 1 to 64 of letters, digits, '.', '_', '@', '-'");
        else
            strcpy(job->username, u->valuestring);
        size_t pl = cJSON_IsString(p) ? strlen(p->valuestring) : 0;
        if (!cJSON_IsString(p) || pl == 0 || pl > PASSWORD_MAX)
            input_errors_add(&errs, "password", "must be a string of 1 to 256 bytes");
        else {
            memcpy(job->password, p->valuestring, pl + 1);
            job->password_len = pl;
            sodium_memzero(p->valuestring, pl);
        }
    }
    cJSON_Delete(root);
    explicit_bzero(r->req->entity.base, r->req->entity.len); /* the password, in the request's buffer */
    if (errs.n == 0)
        return 0;
    body_invalid(r, &errs);
    return -1;
}

static void auth_login(request_t *r, h2o_iovec_t param)
{
    flow_login_t *l = xcalloc(1, sizeof(*l));
    l->thread = r->thread;
    respond_op_attach(&l->op, r, login_destroy);
    if (parse_login(r, &l->job) != 0)
        return;
    /* attempts are counted per user and address: one attacker cannot lock
     * the admin out from everywhere, nor guess freely from one place */
    char addr[ADDRESS_MAX];
    client_address(r, addr);
    unsigned char md[SHA256_DIGEST_LENGTH];
    SHA256((const unsigned char *)l->job.username, strlen(l->job.username), md);
    char hex[25];
    sodium_bin2hex(hex, sizeof(hex), md, 12);
    snprintf(l->pair, sizeof(l->pair), "%s:%s", hex, addr);
    flow_login_start(l, on_login);
}

const server_route_t auth_routes[] = {
    {"POST", "/api/auth/login", auth_login},
    {"POST", "/api/auth/logout", auth_logout},
    {NULL, NULL, NULL},
};
