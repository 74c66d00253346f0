#include "handlers/auth.h"

#include "auth/address.h"
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
#define LOGINS_MAX 4 /* Argon2id checks at once per process (64 MiB each) */

/* Counts a failure and returns the new count; the window starts at the
 * first failure. */
static const char FAIL_LUA[] = "local n = redis.call('INCR', KEYS[1])\n"
                               "if n == 1 then redis.call('EXPIRE', KEYS[1], ARGV[1]) end\n"
                               "return n\n";
/* Returns {failures, seconds left} of a key. */
static const char CHECK_LUA[] = "local n = tonumber(redis.call('GET', KEYS[1]) or '0')\n"
                                "return {n, redis.call('TTL', KEYS[1])}\n";

static int64_t now_s(void)
{
    return (int64_t)time(NULL);
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
    h2o_iovec_t a = body_header(r, "authorization");
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

static void revoked_key(const token_claims_t *c, char *buf, size_t cap)
{
    snprintf(buf, cap, "auth:revoked:%s", c->jti);
}

typedef struct {
    respond_op_t *op;
    auth_ok_cb ok;
    token_claims_t claims;
} require_t;

static void on_revoked_reply(redisReply *reply, void *data)
{
    require_t *q = data;
    respond_op_t *op = q->op;
    if (op->r != NULL) {
        if (reply != NULL && reply->type == REDIS_REPLY_INTEGER && reply->integer > 0)
            unauthorized(op->r, "the token has been revoked (signed out)", 1);
        else if (strcmp(q->claims.role, "admin") != 0)
            respond_problem(op->r, 403, PROBLEM_TYPE_FORBIDDEN, "this needs the admin role; the token's role is viewer", NULL);
        else
            q->ok(op, &q->claims);
    }
    free(q);
    respond_op_unref(op);
}

void auth_require_admin(respond_op_t *op, auth_ok_cb ok)
{
    require_t *q = calloc(1, sizeof(*q));
    q->op = op;
    q->ok = ok;
    if (verify(op->r, &q->claims) != 0) {
        free(q);
        return;
    }
    char key[96];
    revoked_key(&q->claims, key, sizeof(key));
    const char *argv[] = {"EXISTS", key};
    size_t lens[] = {6, strlen(key)};
    respond_op_ref(op);
    if (redis_loop_command(cache_redis(op->r->thread->cache), on_revoked_reply, q, 2, argv, lens) != 0)
        on_revoked_reply(NULL, q); /* Redis unreachable: revocations cannot be seen (README) */
}

/* ---- logout ---- */

static void logout_destroy(respond_op_t *op)
{
    free(op);
}

static void on_revoke_reply(redisReply *reply, void *data)
{
    respond_op_t *op = data;
    if (op->r != NULL) {
        if (reply != NULL && reply->type == REDIS_REPLY_STATUS)
            respond_body(op->r, 204, NULL, NULL, 0, "", 0);
        else if (reply != NULL && reply->type == REDIS_REPLY_NIL) /* NX: already there */
            unauthorized(op->r, "the token has been revoked (signed out)", 1);
        else
            respond_unavailable(op->r, "the sign-out could not be recorded (cache unavailable); try again", 1);
    }
    respond_op_unref(op);
}

void auth_logout(request_t *r)
{
    token_claims_t claims;
    if (verify(r, &claims) != 0)
        return;
    respond_op_t *op = calloc(1, sizeof(*op));
    respond_op_attach(op, r, logout_destroy);
    char key[96], ttl[24];
    revoked_key(&claims, key, sizeof(key));
    int64_t left = claims.exp - now_s();
    int tl = snprintf(ttl, sizeof(ttl), "%lld", (long long)(left > 0 ? left : 1));
    const char *argv[] = {"SET", key, "1", "EX", ttl, "NX"};
    size_t lens[] = {3, strlen(key), 1, 2, (size_t)tl, 2};
    respond_op_ref(op);
    if (redis_loop_command(cache_redis(r->thread->cache), on_revoke_reply, op, 6, argv, lens) != 0)
        on_revoke_reply(NULL, op);
}

/* ---- login ---- */

typedef struct {
    respond_op_t op; /* first */
    login_job_t job;
    app_thread_t *thread;
    char fail_key[160];
} login_t;

static void login_destroy(respond_op_t *op)
{
    login_t *l = (login_t *)op;
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
    h2o_iovec_t x = body_header(r, "x-real-ip");
    if (x.base != NULL)
        address_normalize(x.base, x.len, out);
}

static void too_many(request_t *r, long long retry_s)
{
    char ra[24];
    int n = snprintf(ra, sizeof(ra), "%lld", retry_s > 0 ? retry_s : 1);
    respond_header(r, "retry-after", ra, (size_t)n);
    char detail[160];
    snprintf(detail, sizeof(detail), "too many failed sign-ins for this user from this address; try again in %s seconds", ra);
    respond_problem(r, 429, PROBLEM_TYPE_TOO_MANY_ATTEMPTS, detail, NULL);
}

static void on_fail_counted(redisReply *reply, void *data)
{
    respond_op_t *op = data;
    if (op->r != NULL) {
        respond_header(op->r, "www-authenticate", H2O_STRLIT(AUTH_REALM));
        respond_problem(op->r, 401, PROBLEM_TYPE_INVALID_CREDENTIALS, "the user name or password is wrong", NULL);
    }
    respond_op_unref(op);
}

static void on_login_done(store_job_t *base)
{
    login_t *l = H2O_STRUCT_FROM_MEMBER(login_t, job, (login_job_t *)base);
    app_thread_t *t = l->thread;
    const config_t *cfg = &t->app->cfg;
    atomic_fetch_sub(&t->app->logins_running, 1); /* the slot submit_login took */
    t->writing--;
    request_t *r = l->op.r;
    if (base->state == STORE_JOB_EXPIRED || l->job.result == LOGIN_ERROR) {
        if (l->job.error[0])
            fprintf(stderr, "login: %s\n", l->job.error);
        if (r != NULL)
            respond_unavailable(r, "the user database did not answer; try again", 1);
    } else if (l->job.result == LOGIN_BAD_CREDENTIALS) {
        char win[16];
        int wl = snprintf(win, sizeof(win), "%u", cfg->login_lockout_s);
        const char *argv[] = {"EVAL", FAIL_LUA, "1", l->fail_key, win};
        size_t lens[] = {4, sizeof(FAIL_LUA) - 1, 1, strlen(l->fail_key), (size_t)wl};
        respond_op_ref(&l->op); /* answered once the failure is counted, so the next attempt sees it */
        if (redis_loop_command(cache_redis(t->cache), on_fail_counted, &l->op, 5, argv, lens) != 0)
            on_fail_counted(NULL, &l->op);
    } else if (r != NULL) {
        const char *argv[] = {"DEL", l->fail_key};
        size_t lens[] = {3, strlen(l->fail_key)};
        redis_loop_command(cache_redis(t->cache), NULL, NULL, 2, argv, lens);
        token_claims_t claims;
        token_key_t key = {(const unsigned char *)cfg->jwt_secret, cfg->jwt_secret_len};
        char *tok = token_mint(key, l->job.username, l->job.role, now_s(), cfg->jwt_ttl_s, &claims);
        if (tok == NULL) {
            respond_problem(r, 500, PROBLEM_TYPE_INTERNAL, "the token could not be made", NULL);
        } else {
            cJSON *o = cJSON_CreateObject();
            cJSON_AddStringToObject(o, "token", tok);
            cJSON_AddStringToObject(o, "token_type", "Bearer");
            cJSON_AddNumberToObject(o, "expires_in", cfg->jwt_ttl_s);
            cJSON_AddStringToObject(o, "role", l->job.role);
            cJSON_AddStringToObject(o, "username", l->job.username);
            char *body = cJSON_PrintUnformatted(o);
            cJSON_Delete(o);
            h2o_add_header(&r->req->pool, &r->req->res.headers, H2O_TOKEN_CACHE_CONTROL, NULL, H2O_STRLIT("no-store"));
            respond_body(r, 200, NULL, NULL, 0, body, strlen(body));
            free(body);
            free(tok);
        }
    }
    respond_op_unref(&l->op); /* the job's reference */
}

static void submit_login(login_t *l)
{
    request_t *r = l->op.r;
    app_t *app = l->thread->app;
    if (atomic_fetch_add(&app->logins_running, 1) >= LOGINS_MAX) {
        atomic_fetch_sub(&app->logins_running, 1);
        respond_unavailable(r, "too many sign-ins are being checked at once; try again", 1);
        return;
    }
    login_job_init(&l->job, app->cfg.mongo_timeout_ms);
    if (handlers_submit_write(&l->op, &l->job.base, on_login_done) != 0) {
        atomic_fetch_sub(&app->logins_running, 1);
        respond_unavailable(r, "too many requests are waiting for the database", 1);
    }
}

static void on_lock_checked(redisReply *reply, void *data)
{
    login_t *l = data;
    request_t *r = l->op.r;
    if (r != NULL) {
        long long n = 0, ttl = 0;
        if (reply != NULL && reply->type == REDIS_REPLY_ARRAY && reply->elements == 2 &&
            reply->element[0]->type == REDIS_REPLY_INTEGER && reply->element[1]->type == REDIS_REPLY_INTEGER) {
            n = reply->element[0]->integer;
            ttl = reply->element[1]->integer;
        }
        if (n >= (long long)l->thread->app->cfg.login_max_failures)
            too_many(r, ttl);
        else
            submit_login(l); /* with Redis unreachable failures are not counted (nginx still rate-limits) */
    }
    respond_op_unref(&l->op);
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

void auth_login(request_t *r)
{
    login_t *l = calloc(1, sizeof(*l));
    l->thread = r->thread;
    respond_op_attach(&l->op, r, login_destroy);
    if (parse_login(r, &l->job) != 0)
        return;
    /* failures are counted per user and address: one attacker cannot lock
     * the admin out from everywhere, nor guess freely from one place */
    char addr[ADDRESS_MAX];
    client_address(r, addr);
    unsigned char md[SHA256_DIGEST_LENGTH];
    SHA256((const unsigned char *)l->job.username, strlen(l->job.username), md);
    char hex[25];
    sodium_bin2hex(hex, sizeof(hex), md, 12);
    snprintf(l->fail_key, sizeof(l->fail_key), "auth:fail:%s:%s", hex, addr);
    const char *argv[] = {"EVAL", CHECK_LUA, "1", l->fail_key};
    size_t lens[] = {4, sizeof(CHECK_LUA) - 1, 1, strlen(l->fail_key)};
    respond_op_ref(&l->op);
    if (redis_loop_command(cache_redis(r->thread->cache), on_lock_checked, l, 4, argv, lens) != 0)
        on_lock_checked(NULL, l);
}
