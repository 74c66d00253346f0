/* Idempotency keys of creates, kept in MongoDB: {_id: "<user>\n<key>",
 * request_sha256, product_id, created_at, response}. The first attempt
 * with a key reserves it with the product id it will insert; a retry with
 * the same body gets the stored first answer (or inserts the same id, so
 * the insert happens once), with another body a mismatch. Records expire
 * after IDEMPOTENCY_TTL_S (a TTL index, and checked here where there is
 * none). Runs on a worker thread. */
#ifndef CATALOG_IDEMPOTENCY_H
#define CATALOG_IDEMPOTENCY_H

#include "store/write_job.h"

#define IDEMPOTENCY_COLLECTION "idempotency_keys"

/* Reserves the idempotency key for product id *pid. Returns 1 to go on and
 * insert *pid — this request's id, or the id an earlier or concurrent
 * attempt reserved without a stored answer yet (the insert then happens
 * once: the second gets a duplicate key and replays) —, 0 when the job is
 * answered (replay, mismatch), -1 on error. */
int idempotency_reserve(write_job_t *job, mongoc_collection_t *keys, bson_oid_t *pid);

/* Stores the job's answer (job->json) as the key's first result, for
 * retries. Best effort: a retry can also rebuild it. */
void idempotency_store_answer(write_job_t *job, mongoc_collection_t *keys);

#endif
