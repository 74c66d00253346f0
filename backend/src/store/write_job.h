/* The product write job shared by the store's write modules (claims,
 * idempotency, products_write): its inputs and outputs, and the few helpers
 * each of them needs to report a failure or read the stored product. Runs on
 * a worker thread; knows nothing about HTTP or Redis. */
#ifndef CATALOG_WRITE_JOB_H
#define CATALOG_WRITE_JOB_H

#include "model/product_input.h"
#include "store/mongo_pool.h"

#define IDEMPOTENCY_TTL_S 86400

typedef enum { WRITE_CREATE, WRITE_REPLACE, WRITE_PATCH, WRITE_DELETE } write_kind_t;
#define WRITE_KINDS 4
_Static_assert(WRITE_DELETE + 1 == WRITE_KINDS, "WRITE_KINDS counts write_kind_t (it sizes counters and name tables)");

typedef enum {
    WRITE_OK,
    WRITE_NOT_FOUND,
    WRITE_PRECONDITION_FAILED,  /* If-Match names another version; current_version is set */
    WRITE_INVALID,              /* errors says why (unknown category, changed read-only field) */
    WRITE_IDEMPOTENCY_MISMATCH, /* the key was used with another body */
    WRITE_BUSY,                 /* other writers kept winning the product's claims for the whole budget; not applied */
    WRITE_ERROR,                /* the database failed; error says how */
} write_result_t;
#define WRITE_RESULTS 7
_Static_assert(WRITE_ERROR + 1 == WRITE_RESULTS, "WRITE_RESULTS counts write_result_t (it sizes counters and name tables)");

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
    unsigned budget_ms;          /* how long a write without If-Match retries behind other writers */
    unsigned debug_hold_ms;      /* DEBUG_CLAIM_HOLD_MS */
    unsigned debug_sent_hold_ms; /* DEBUG_SENT_HOLD_MS */
    int sent;                    /* a mutating command went to MongoDB (its outcome may be unknown on error) */
    /* the claim this job won (see claims.c) */
    char claim_id[48];
    int64_t claim_at;
    uint64_t rand;
    /* outputs */
    write_result_t result;
    input_errors_t errors;
    char *json; /* the product as written (malloc'd; NULL for delete) */
    size_t json_len;
    int64_t version;  /* after the write; a delete: the deleted version + 1 */
    unsigned changed; /* an update: the PF_* fields whose stored values it changed */
    char id_hex[25];
    int replayed; /* an Idempotency-Key retry: json is the first result */
    int64_t current_version;
    int claimed; /* with WRITE_PRECONDITION_FAILED: current_version is claimed by a write in progress */
    char error[512];
} write_job_t;

/* Sets job->result to WRITE_ERROR and job->error to "<what>: <message of e>"
 * ("<what>: failed" when e is NULL). */
void write_job_fail(write_job_t *job, const char *what, const bson_error_t *e);

/* 1 when e is a unique-index violation (an insert lost to an existing _id). */
int write_job_is_duplicate(const bson_error_t *e);

/* Finds one document matching filter: returns 1 with a copy in *out (an
 * initialised bson_t, replaced; caller destroys it either way), 0 when none
 * matches, -1 on a read error (the job failed with what, when job is not NULL). */
int write_job_find_one(write_job_t *job, mongoc_collection_t *coll, const bson_t *filter, bson_t *out, const char *what);

/* Finds the product with _id id; returns 1 with a copy in *out (caller
 * destroys it either way), 0 when absent, -1 with the job failed ("find"). */
int write_job_find_product(write_job_t *job, mongoc_collection_t *coll, const bson_oid_t *id, bson_t *out);

/* 1 when the store is FerretDB, which pushes a filter down to SQLite only
 * when it is {_id: value} alone: the write's filter then holds no version
 * (claims_still_at checks it). Asked once per process (buildInfo); 0 for a
 * MongoDB, and while the store cannot say. */
int write_job_store_is_ferretdb(mongoc_collection_t *coll);

/* The document's version, *has 1; a document without one counts as
 * version 1, *has 0 (version_filter then matches on its absence). */
int64_t write_job_doc_version(const bson_t *doc, int *has);

#endif
