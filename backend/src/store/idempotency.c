#include "store/idempotency.h"
#include "xalloc.h"
#include "clock.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Inserts the key's record naming *pid. Returns 1 when inserted, 0 when the
 * key is taken, -1 with the job failed. */
static int idempotency_insert(write_job_t *job, mongoc_collection_t *keys, const bson_oid_t *pid)
{
    bson_t rec = BSON_INITIALIZER;
    BSON_APPEND_UTF8(&rec, "_id", job->idem_key);
    BSON_APPEND_UTF8(&rec, "request_sha256", job->body_sha256);
    BSON_APPEND_OID(&rec, "product_id", pid);
    BSON_APPEND_DATE_TIME(&rec, "created_at", clock_wall_ms());
    bson_error_t err;
    bool ok = mongoc_collection_insert_one(keys, &rec, NULL, NULL, &err);
    bson_destroy(&rec);
    if (ok)
        return 1;
    if (!write_job_is_duplicate(&err)) {
        write_job_fail(job, "idempotency key", &err);
        return -1;
    }
    return 0;
}

/* Copies the key's record into *found (initialised; caller destroys it).
 * Returns 1 when found, 0 when it is gone (or could not be read). */
static int idempotency_find(mongoc_collection_t *keys, const char *key, bson_t *found)
{
    bson_t filter = BSON_INITIALIZER;
    BSON_APPEND_UTF8(&filter, "_id", key);
    int have = write_job_find_one(NULL, keys, &filter, found, "idempotency key") == 1;
    bson_destroy(&filter);
    return have;
}

/* When the record is older than 24 h (no TTL index on this server, or not
 * run yet) the key is free again: deletes that record (only if unchanged)
 * and returns 1; 0 when it is still in force. */
static int idempotency_drop_expired(mongoc_collection_t *keys, const char *key, const bson_t *found)
{
    bson_iter_t it;
    int64_t created = 0;
    if (bson_iter_init_find(&it, found, "created_at") && BSON_ITER_HOLDS_DATE_TIME(&it))
        created = bson_iter_date_time(&it);
    if (created >= clock_wall_ms() - (int64_t)IDEMPOTENCY_TTL_S * 1000)
        return 0;
    bson_t filter = BSON_INITIALIZER;
    BSON_APPEND_UTF8(&filter, "_id", key);
    BSON_APPEND_DATE_TIME(&filter, "created_at", created);
    mongoc_collection_delete_one(keys, &filter, NULL, NULL, NULL);
    bson_destroy(&filter);
    return 1;
}

/* Answers the job from a record in force: mismatch (another body), replay
 * (a stored answer: returns 0), or the product id to insert (*pid, returns
 * 1) when the first attempt has not answered yet; a malformed record fails
 * the job (0). */
static int idempotency_answer(write_job_t *job, const bson_t *found, bson_oid_t *pid)
{
    bson_iter_t it;
    if (!bson_iter_init_find(&it, found, "request_sha256") || !BSON_ITER_HOLDS_UTF8(&it) ||
        strcmp(bson_iter_utf8(&it, NULL), job->body_sha256) != 0) {
        job->result = WRITE_IDEMPOTENCY_MISMATCH;
    } else if (bson_iter_init_find(&it, found, "response") && BSON_ITER_HOLDS_UTF8(&it)) {
        uint32_t len;
        const char *s = bson_iter_utf8(&it, &len);
        job->json = xstrndup(s, len);
        job->json_len = len;
        job->replayed = 1;
        job->result = WRITE_OK;
        if (bson_iter_init_find(&it, found, "product_id") && BSON_ITER_HOLDS_OID(&it))
            bson_oid_to_string(bson_iter_oid(&it), job->id_hex);
        job->version = 1;
    } else if (bson_iter_init_find(&it, found, "product_id") && BSON_ITER_HOLDS_OID(&it)) {
        bson_oid_copy(bson_iter_oid(&it), pid);
        return 1;
    } else {
        job->result = WRITE_ERROR;
        snprintf(job->error, sizeof(job->error), "idempotency record is malformed");
    }
    return 0;
}

int idempotency_reserve(write_job_t *job, mongoc_collection_t *keys, bson_oid_t *pid)
{
    for (int attempt = 0; attempt < 2; attempt++) {
        int rc = idempotency_insert(job, keys, pid);
        if (rc != 0)
            return rc;
        /* taken: by a finished request, one in progress, or one that died */
        bson_t found = BSON_INITIALIZER;
        if (!idempotency_find(keys, job->idem_key, &found) || idempotency_drop_expired(keys, job->idem_key, &found)) {
            bson_destroy(&found); /* expired, and removed meanwhile or now: try again */
            continue;
        }
        rc = idempotency_answer(job, &found, pid);
        bson_destroy(&found);
        return rc;
    }
    job->result = WRITE_ERROR;
    snprintf(job->error, sizeof(job->error), "idempotency key could not be reserved");
    return -1;
}

void idempotency_store_answer(write_job_t *job, mongoc_collection_t *keys)
{
    bson_t filter = BSON_INITIALIZER, update = BSON_INITIALIZER, set;
    BSON_APPEND_UTF8(&filter, "_id", job->idem_key);
    BSON_APPEND_DOCUMENT_BEGIN(&update, "$set", &set);
    bson_append_utf8(&set, "response", -1, job->json, (int)job->json_len);
    bson_append_document_end(&update, &set);
    mongoc_collection_update_one(keys, &filter, &update, NULL, NULL, NULL);
    bson_destroy(&filter);
    bson_destroy(&update);
}
