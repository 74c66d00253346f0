#include "store/write_job.h"

#include <stdatomic.h>
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

/* Why it matters: FerretDB (the local default) hands a filter to SQLite only when it is
 * {_id: value} alone; with the version beside it every write decodes every
 * product (seconds at 20,000). There the claim (store/claims.h) keeps the
 * write exclusive among API writers and still_at checks the version under
 * it, just before the write; a MongoDB checks it in the filter itself. Asked
 * once per process (buildInfo names FerretDB): -1 not yet, 0 no, 1 yes. */
static _Atomic int store_is_ferretdb = -1;

int write_job_store_is_ferretdb(mongoc_collection_t *coll)
{
    int known = atomic_load(&store_is_ferretdb);
    if (known >= 0)
        return known;
    bson_t *cmd = BCON_NEW("buildInfo", BCON_INT32(1));
    bson_t reply;
    bson_iter_t it;
    int yes = 0;
    if (mongoc_collection_command_simple(coll, cmd, NULL, &reply, NULL)) {
        yes = bson_iter_init_find(&it, &reply, "ferretdbVersion");
        atomic_store(&store_is_ferretdb, yes);
    }
    bson_destroy(&reply);
    bson_destroy(cmd);
    return yes;
}
