#include "store/write_job.h"

#include <stdio.h>

void write_job_fail(write_job_t *job, const char *what, const bson_error_t *e)
{
    job->result = WRITE_ERROR;
    snprintf(job->error, sizeof(job->error), "%s: %.400s", what, e ? e->message : "failed");
}

int write_job_is_duplicate(const bson_error_t *e)
{
    return e->code == 11000 || e->code == 11001;
}

int write_job_find_one(write_job_t *job, mongoc_collection_t *coll, const bson_t *filter, bson_t *out, const char *what)
{
    mongoc_cursor_t *cur = mongoc_collection_find_with_opts(coll, filter, NULL, NULL);
    const bson_t *doc;
    bson_error_t err;
    int rc = 0;
    if (mongoc_cursor_next(cur, &doc)) {
        bson_destroy(out);
        bson_copy_to(doc, out);
        rc = 1;
    } else if (mongoc_cursor_error(cur, &err)) {
        if (job != NULL)
            write_job_fail(job, what, &err);
        rc = -1;
    }
    mongoc_cursor_destroy(cur);
    return rc;
}

int write_job_find_product(write_job_t *job, mongoc_collection_t *coll, const bson_oid_t *id, bson_t *out)
{
    bson_t filter = BSON_INITIALIZER;
    BSON_APPEND_OID(&filter, "_id", id);
    int rc = write_job_find_one(job, coll, &filter, out, "find");
    bson_destroy(&filter);
    return rc;
}

int64_t write_job_doc_version(const bson_t *doc, int *has)
{
    bson_iter_t it;
    *has = 0;
    if (!bson_iter_init_find(&it, doc, "version"))
        return 1;
    *has = 1;
    if (BSON_ITER_HOLDS_INT32(&it))
        return bson_iter_int32(&it);
    if (BSON_ITER_HOLDS_INT64(&it))
        return bson_iter_int64(&it);
    return (int64_t)bson_iter_as_int64(&it);
}
