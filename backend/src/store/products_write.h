/* Product writes against MongoDB, run on a worker thread: create (with an
 * optional idempotency key kept in MongoDB), replace, merge-patch, delete,
 * each guarded by the stored version (optimistic concurrency, If-Match).
 * Documents are built from validated product_input_t values only. Knows
 * nothing about HTTP or Redis. */
#ifndef CATALOG_PRODUCTS_WRITE_H
#define CATALOG_PRODUCTS_WRITE_H

#include "model/product_input.h"
#include "store/mongo_pool.h"

#define IDEMPOTENCY_TTL_S 86400

typedef enum { WRITE_CREATE, WRITE_REPLACE, WRITE_PATCH, WRITE_DELETE } write_kind_t;

typedef enum {
    WRITE_OK,
    WRITE_NOT_FOUND,
    WRITE_PRECONDITION_FAILED,  /* If-Match names another version; current_version is set */
    WRITE_INVALID,              /* errors says why (unknown category, changed read-only field) */
    WRITE_IDEMPOTENCY_MISMATCH, /* the key was used with another body */
    WRITE_BUSY,                 /* other writers kept winning the product's claims for the whole budget; not applied */
    WRITE_ERROR,                /* the database failed; error says how */
} write_result_t;

typedef struct {
    store_job_t base; /* first */
    write_kind_t kind;
    const char *currency;
    bson_oid_t id;                 /* all but WRITE_CREATE */
    product_input_t input;         /* owned by the job (freed by write_job_clear) */
    int if_match;                  /* 0: none, 1: versions, 2: "*" */
    int64_t if_match_versions[32]; /* the versions named by If-Match (-1: a tag that is none of ours) */
    size_t if_match_n;
    char idem_key[336]; /* "<user>\n<Idempotency-Key>" (64 + 1 + 255), empty when none */
    char body_sha256[65];
    unsigned budget_ms;     /* how long a write without If-Match retries behind other writers */
    unsigned debug_hold_ms; /* DEBUG_CLAIM_HOLD_MS */
    int sent;               /* a mutating command went to MongoDB (its outcome may be unknown on error) */
    /* the claim this job won (see products_write.c) */
    char claim_id[48];
    int64_t claim_at;
    uint64_t rand;
    /* outputs */
    write_result_t result;
    input_errors_t errors;
    char *json; /* the product as written (malloc'd; NULL for delete) */
    size_t json_len;
    int64_t version;
    char id_hex[25];
    int replayed; /* an Idempotency-Key retry: json is the first result */
    int64_t current_version;
    int claimed; /* with WRITE_PRECONDITION_FAILED: current_version is claimed by a write in progress */
    char error[512];
} write_job_t;

/* Sets base.run and the deadline; clears outputs. */
void write_job_init(write_job_t *job, write_kind_t kind, unsigned timeout_ms);

/* Frees the job's input and outputs (not the job). */
void write_job_clear(write_job_t *job);

#endif
