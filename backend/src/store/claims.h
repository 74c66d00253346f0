/* Claims: one writer per version transition.
 *
 * FerretDB 1.24 runs findAndModify, update and delete as a find, then a
 * write: two writers guarded by the same version both succeed. The one
 * atomic step it has is an insert that hits a unique index, so a writer
 * that read version v first inserts the claim {_id: "<id>:<v+1>"}; only
 * the writer whose insert succeeded writes the document (still guarded by
 * {_id, version: v}). On a real MongoDB findAndModify is atomic on its own;
 * the claim costs two small writes there and changes nothing.
 *
 * Runs on a worker thread, with the job's product (job->id, job->id_hex). */
#ifndef CATALOG_CLAIMS_H
#define CATALOG_CLAIMS_H

#include "store/write_job.h"

#define CLAIMS_COLLECTION "write_claims"
#define CLAIMS_LEASE_MS 30000      /* a claim this old whose product has not moved on was left by a dead writer */
#define CLAIMS_STALE_AFTER_MS 1000 /* how long a writer loses before it looks for claims left by dead writers */

typedef enum { CLAIMS_WON, CLAIMS_TAKEN, CLAIMS_FAILED } claims_result_t;

/* Claims the change of the job's product from version v to v+1. Returns
 * CLAIMS_WON with the claim's id in job->claim_id and its time in
 * job->claim_at; CLAIMS_TAKEN when another writer holds it (or the product
 * moved on); CLAIMS_FAILED with job->error set. A claim older than the lease
 * whose product is still at v was left by a writer that died: it is taken
 * over by inserting a distinct claim "<id>:<v+1>~<k>" (never by deleting
 * and inserting again: a conditional delete is itself find-then-delete).
 * check_stale 0 skips that look (one read saved per lost race). */
claims_result_t claims_claim_version(write_job_t *job, mongoc_collection_t *claims, mongoc_collection_t *products, int64_t v,
                                     int check_stale);

/* After the job's write from version v succeeded: removes the claim that
 * led to v (the previous writer's) and, after a delete, the job's own (no
 * version follows a delete). Best effort: a leftover claim names a version
 * the product has left and is never looked at again. */
void claims_release_written(write_job_t *job, mongoc_collection_t *claims, int64_t v);

/* Under a won claim, where the write's filter cannot carry the version
 * (FerretDB): 1 when the product is still at v, 0 when not or gone, -1 on
 * error (the job failed). A writer that loaded an older version can win a
 * claim its successors already cleaned up; this turns it away. */
int claims_still_at(write_job_t *job, mongoc_collection_t *products, int64_t v);

/* Gives back the job's own claim when nothing was sent to the product
 * (the version is free for the next writer at once). Best effort. */
void claims_release_unsent(mongoc_collection_t *claims, const write_job_t *job);

/* After a claim was lost under If-Match: 412 with the version the winner
 * wrote (waiting briefly for it), or 404 when it deleted the product. */
void claims_lost_precondition(write_job_t *job, mongoc_collection_t *products, int64_t v);

/* Sleeps a random 1..2^min(attempt+1,6) ms, so losers do not retry in step. */
void claims_backoff(write_job_t *job, int attempt);

#endif
