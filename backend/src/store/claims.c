#include "store/claims.h"
#include "clock.h"

#include <stdio.h>
#include <time.h>

#define CLAIM_TAKEOVERS 8 /* takeover claims tried on one version before giving up */

/* Reads a claim's time; returns its wall-clock ms, 0 when it is gone, -1 on error. */
static int64_t claims_time(write_job_t *job, mongoc_collection_t *claims, const char *claim_id)
{
    bson_t filter = BSON_INITIALIZER, doc = BSON_INITIALIZER;
    BSON_APPEND_UTF8(&filter, "_id", claim_id);
    int rc = write_job_find_one(job, claims, &filter, &doc, "claim");
    bson_iter_t it;
    int64_t at = rc < 0 ? -1 : 0;
    if (rc == 1)
        at = bson_iter_init_find(&it, &doc, "at") && BSON_ITER_HOLDS_DATE_TIME(&it) ? bson_iter_date_time(&it) : 1;
    bson_destroy(&doc);
    bson_destroy(&filter);
    return at;
}

/* Version of the stored product, 0 when it is absent, -1 on error. */
static int64_t claims_stored_version(write_job_t *job, mongoc_collection_t *products)
{
    bson_t doc = BSON_INITIALIZER;
    int has;
    int rc = write_job_find_product(job, products, &job->id, &doc);
    int64_t v = rc == 1 ? write_job_doc_version(&doc, &has) : rc;
    bson_destroy(&doc);
    return v;
}

int claims_still_at(write_job_t *job, mongoc_collection_t *products, int64_t v)
{
    int64_t now_v = claims_stored_version(job, products);
    return now_v < 0 ? -1 : now_v == v;
}

claims_result_t claims_claim_version(write_job_t *job, mongoc_collection_t *claims, mongoc_collection_t *products, int64_t v,
                                     int check_stale)
{
    for (int k = 0; k <= CLAIM_TAKEOVERS; k++) {
        if (k == 0)
            snprintf(job->claim_id, sizeof(job->claim_id), "%s:%lld", job->id_hex, (long long)(v + 1));
        else
            snprintf(job->claim_id, sizeof(job->claim_id), "%s:%lld~%d", job->id_hex, (long long)(v + 1), k);
        job->claim_at = clock_wall_ms();
        bson_t rec = BSON_INITIALIZER;
        BSON_APPEND_UTF8(&rec, "_id", job->claim_id);
        BSON_APPEND_DATE_TIME(&rec, "at", job->claim_at);
        bson_error_t err;
        bool ok = mongoc_collection_insert_one(claims, &rec, NULL, NULL, &err);
        bson_destroy(&rec);
        if (ok)
            return CLAIMS_WON;
        if (!write_job_is_duplicate(&err)) {
            write_job_fail(job, "claim", &err);
            return CLAIMS_FAILED;
        }
        if (!check_stale)
            return CLAIMS_TAKEN;
        int64_t at = claims_time(job, claims, job->claim_id);
        if (at < 0)
            return CLAIMS_FAILED;
        if (at == 0 || clock_wall_ms() - at < CLAIMS_LEASE_MS)
            return CLAIMS_TAKEN; /* a live writer holds it (or finished and its successor cleaned up) */
        int64_t now_v = claims_stored_version(job, products);
        if (now_v < 0)
            return CLAIMS_FAILED;
        if (now_v != v)
            return CLAIMS_TAKEN;
    }
    job->result = WRITE_ERROR;
    snprintf(job->error, sizeof(job->error), "claim: %d abandoned claims on one version", CLAIM_TAKEOVERS + 1);
    return CLAIMS_FAILED;
}

/* Removes a claim by its exact id (best effort). */
static void claims_unclaim(mongoc_collection_t *claims, const char *claim_id)
{
    bson_t filter = BSON_INITIALIZER;
    BSON_APPEND_UTF8(&filter, "_id", claim_id);
    mongoc_collection_delete_one(claims, &filter, NULL, NULL, NULL);
    bson_destroy(&filter);
}

void claims_release_written(write_job_t *job, mongoc_collection_t *claims, int64_t v)
{
    char old[sizeof(job->claim_id)];
    snprintf(old, sizeof(old), "%s:%lld", job->id_hex, (long long)v);
    claims_unclaim(claims, old);
    if (job->kind == WRITE_DELETE) /* no version follows a delete */
        claims_unclaim(claims, job->claim_id);
}

void claims_release_unsent(mongoc_collection_t *claims, const write_job_t *job)
{
    claims_unclaim(claims, job->claim_id);
}

void claims_lost_precondition(write_job_t *job, mongoc_collection_t *products, int64_t v)
{
    int64_t now_v = v;
    for (int i = 0; i < 40 && now_v == v; i++) {
        struct timespec d = {0, 5 * 1000000};
        nanosleep(&d, NULL);
        now_v = claims_stored_version(job, products);
    }
    if (now_v < 0)
        return;
    job->result = now_v == 0 ? WRITE_NOT_FOUND : WRITE_PRECONDITION_FAILED;
    job->current_version = now_v;
    job->claimed = now_v == v; /* the winner has not written (yet, or it died: its claim lapses after the lease) */
}

void claims_backoff(write_job_t *job, int attempt)
{
    unsigned cap = 2u << (attempt < 5 ? attempt : 5);
    job->rand = job->rand * 6364136223846793005ull + 1442695040888963407ull;
    long ms = 1 + (long)((job->rand >> 33) % cap);
    struct timespec d = {0, ms * 1000000};
    nanosleep(&d, NULL);
}
