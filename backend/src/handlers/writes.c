/* Admin writes of products: POST, PUT, PATCH, DELETE. Order of checks:
 * token (401/403), media type (415), JSON (400), fields (422), headers
 * (400), then one MongoDB job; once MongoDB acknowledged the write the
 * product's key is deleted and the generation bumped before the answer,
 * so the next read anywhere sees the change. */
#include "handlers/auth.h"
#include "xalloc.h"
#include "app.h"
#include "handlers/body.h"
#include "handlers/handlers.h"
#include "model/product.h"
#include "model/query.h"
#include "server/problem.h"
#include "flow/write.h"

#include <openssl/sha.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct {
    flow_write_t flow; /* first: its op is the request's async lifetime */
    char id[32];       /* as sent, for the 404 detail */
    size_t id_len;
} write_op_t;

static void write_destroy(respond_op_t *op)
{
    write_op_t *w = (write_op_t *)op;
    write_job_clear(&w->flow.job);
    free(w);
}

/* deferred: Redis could not take the invalidation (it is retried) */
static void answer_success(write_op_t *w, int deferred)
{
    request_t *r = w->flow.op.r;
    write_job_t *job = &w->flow.job;
    h2o_add_header(&r->req->pool, &r->req->res.headers, H2O_TOKEN_CACHE_CONTROL, NULL, H2O_STRLIT("no-store"));
    if (deferred)
        respond_header(r, "x-cache-invalidation", H2O_STRLIT("deferred"));
    if (job->kind == WRITE_DELETE) {
        respond_body(r, 204, NULL, NULL, 0, "", 0);
        return;
    }
    char etag[32];
    int el = product_etag(job->version, etag);
    if (job->kind == WRITE_CREATE) {
        char loc[64];
        int n = snprintf(loc, sizeof(loc), "/api/products/%s", job->id_hex);
        respond_header(r, "location", loc, (size_t)n);
        if (job->replayed)
            respond_header(r, "idempotency-replayed", H2O_STRLIT("true"));
    }
    respond_body(r, job->kind == WRITE_CREATE ? 201 : 200, NULL, etag, (size_t)el, job->json, job->json_len);
}

static void answer_failure(write_op_t *w)
{
    request_t *r = w->flow.op.r;
    write_job_t *job = &w->flow.job;
    char detail[192];
    switch (job->result) {
    case WRITE_NOT_FOUND:
        snprintf(detail, sizeof(detail), "no product has the id %.*s", (int)w->id_len, w->id);
        respond_problem(r, 404, PROBLEM_TYPE_NOT_FOUND, detail, NULL);
        break;
    case WRITE_PRECONDITION_FAILED: {
        char etag[32];
        int el = product_etag(job->current_version, etag);
        respond_header(r, "etag", etag, (size_t)el);
        if (job->claimed)
            snprintf(detail, sizeof(detail),
                     "another write to this product is in progress (it is at version %lld); reload it and retry",
                     (long long)job->current_version);
        else
            snprintf(detail, sizeof(detail), "the product was changed by someone else: it is at version %lld; reload it and retry",
                     (long long)job->current_version);
        cJSON *extra = cJSON_CreateObject();
        cJSON_AddNumberToObject(extra, "current_version", (double)job->current_version);
        respond_problem_ext(r, 412, PROBLEM_TYPE_PRECONDITION_FAILED, detail, NULL, extra);
        break;
    }
    case WRITE_INVALID:
        body_invalid(r, &job->errors);
        break;
    case WRITE_IDEMPOTENCY_MISMATCH:
        respond_problem(r, 422, PROBLEM_TYPE_IDEMPOTENCY_KEY_REUSED,
                        "this Idempotency-Key was already used with a different body; use a new key for a new product",
                        "Idempotency-Key");
        break;
    case WRITE_BUSY:
        respond_unavailable(r, "other writes to this product kept getting in first; this one was not applied: try again", 1);
        break;
    default:
        respond_unavailable(r,
                            job->sent ? "the product database failed during the write; it may or may not have been applied: "
                                        "read the product before retrying"
                                      : "the product database could not take the write; it was not applied",
                            1);
        break;
    }
}

/* The write is settled: its result as HTTP. */
static void answer(flow_write_t *f, int deferred)
{
    write_op_t *w = (write_op_t *)f;
    if (f->job.result == WRITE_OK)
        answer_success(w, deferred);
    else
        answer_failure(w);
}

/* Parses If-Match: "*", or a list of entity tags; ours are "v<n>" (W/
 * accepted: nginx weakens tags when it compresses). Returns 0, or -1 after
 * answering 400. */
static int parse_if_match(request_t *r, write_job_t *job)
{
    h2o_iovec_t v = respond_request_header(r, "if-match");
    if (v.base == NULL)
        return 0;
    const char *p = v.base, *end = v.base + v.len;
    job->if_match = 1;
    job->if_match_n = 0;
    size_t tags = 0;
    while (p < end) {
        while (p < end && (*p == ' ' || *p == '\t' || *p == ','))
            p++;
        if (p == end)
            break;
        tags++;
        if (*p == '*') {
            job->if_match = 2;
            p++;
            continue;
        }
        if (end - p >= 2 && p[0] == 'W' && p[1] == '/')
            p += 2;
        if (p == end || *p != '"')
            goto bad;
        const char *q = memchr(p + 1, '"', (size_t)(end - p - 1));
        if (q == NULL)
            goto bad;
        long long n = -1; /* a well-formed tag that is none of ours never matches */
        if (q - p > 2 && q - p - 2 <= 15 && p[1] == 'v') {
            n = 0;
            for (const char *d = p + 2; d < q && n >= 0; d++)
                n = *d >= '0' && *d <= '9' ? n * 10 + (*d - '0') : -1;
        }
        if (job->if_match_n == sizeof(job->if_match_versions) / sizeof(job->if_match_versions[0]))
            goto bad;
        job->if_match_versions[job->if_match_n++] = n;
        p = q + 1;
    }
    if (tags == 0)
        goto bad;
    return 0;
bad:
    respond_problem(r, 400, PROBLEM_TYPE_INVALID_HEADER, "If-Match must be \"*\" or up to 32 entity tags such as \"v3\"",
                    "If-Match");
    return -1;
}

static int parse_idempotency_key(request_t *r, write_job_t *job, const token_claims_t *claims)
{
    h2o_iovec_t v = respond_request_header(r, "idempotency-key");
    if (v.base == NULL)
        return 0;
    int ok = v.len >= 1 && v.len <= 255;
    for (size_t i = 0; ok && i < v.len; i++)
        ok = v.base[i] >= 0x21 && v.base[i] <= 0x7e;
    if (!ok) {
        respond_problem(r, 400, PROBLEM_TYPE_INVALID_HEADER, "Idempotency-Key must be 1 to 255 visible ASCII characters",
                        "Idempotency-Key");
        return -1;
    }
    /* per user: two admins cannot collide on a key */
    snprintf(job->idem_key, sizeof(job->idem_key), "%s\n%.*s", claims->sub, (int)v.len, v.base);
    unsigned char md[SHA256_DIGEST_LENGTH];
    SHA256((const unsigned char *)r->req->entity.base, r->req->entity.len, md);
    sodium_bin2hex(job->body_sha256, sizeof(job->body_sha256), md, sizeof(md));
    return 0;
}

static void on_authorized(respond_op_t *op, const token_claims_t *claims)
{
    write_op_t *w = (write_op_t *)op;
    request_t *r = op->r;
    write_job_t *job = &w->flow.job;
    app_t *app = r->thread->app;
    if (job->kind != WRITE_CREATE) {
        if (!handlers_product_id(r, w->id, w->id_len, job->id_hex))
            return;
        bson_oid_init_from_string(&job->id, job->id_hex);
    }
    if (handlers_reject_query(r))
        return;
    if (job->kind != WRITE_DELETE) {
        if (!body_require_json(r, job->kind == WRITE_PATCH))
            return;
        cJSON *root = body_parse_json(r);
        if (root == NULL)
            return;
        static const input_mode_t modes[] = {
            [WRITE_CREATE] = INPUT_CREATE, [WRITE_REPLACE] = INPUT_REPLACE, [WRITE_PATCH] = INPUT_PATCH};
        int rc = product_input_parse(root, modes[job->kind], app->cfg.currency, &job->input, &job->errors);
        cJSON_Delete(root);
        if (rc != 0) {
            body_invalid(r, &job->errors);
            return;
        }
    }
    if (job->kind != WRITE_CREATE && parse_if_match(r, job) != 0)
        return;
    if (job->kind == WRITE_CREATE && parse_idempotency_key(r, job, claims) != 0)
        return;
    write_job_init(job, job->kind, app->cfg.mongo_timeout_ms);
    job->currency = app->cfg.currency;
    job->debug_hold_ms = app->cfg.debug_claim_hold_ms;
    job->debug_sent_hold_ms = app->cfg.debug_sent_hold_ms;
    job->budget_ms = app->cfg.write_retry_ms;
    if (flow_write_submit(&w->flow, answer) != 0)
        respond_unavailable(r, "too many requests are waiting for the product database", 1);
}

static void write_begin(request_t *r, write_kind_t kind, const char *id, size_t id_len)
{
    write_op_t *w = xcalloc(1, sizeof(*w));
    w->flow.thread = r->thread;
    w->flow.job.kind = kind;
    w->id_len = id_len < sizeof(w->id) ? id_len : sizeof(w->id) - 1;
    if (id != NULL)
        memcpy(w->id, id, w->id_len);
    respond_op_attach(&w->flow.op, r, write_destroy);
    auth_require_admin(&w->flow.op, on_authorized);
}

static void on_create(request_t *r, h2o_iovec_t param)
{
    write_begin(r, WRITE_CREATE, NULL, 0);
}

static void on_replace(request_t *r, h2o_iovec_t id)
{
    write_begin(r, WRITE_REPLACE, id.base, id.len);
}

static void on_patch(request_t *r, h2o_iovec_t id)
{
    write_begin(r, WRITE_PATCH, id.base, id.len);
}

static void on_delete(request_t *r, h2o_iovec_t id)
{
    write_begin(r, WRITE_DELETE, id.base, id.len);
}

const server_route_t writes_routes[] = {
    {"POST", "/api/products", on_create},
    {"PUT", "/api/products/{id}", on_replace},
    {"PATCH", "/api/products/{id}", on_patch},
    {"DELETE", "/api/products/{id}", on_delete},
    {NULL, NULL, NULL},
};
