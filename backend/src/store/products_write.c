#include "store/products_write.h"
#include "clock.h"

#include "model/product.h"
#include "store/claims.h"
#include "store/idempotency.h"

#include <cjson/cJSON.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>

#define PRODUCTS "products"
#define CATEGORIES "categories"

void write_job_clear(write_job_t *job)
{
    product_input_free(&job->input);
    free(job->json);
    job->json = NULL;
}

/* Tests only (DEBUG_*_HOLD_MS): stalls this worker ms milliseconds; 0 does nothing. */
static void debug_hold(unsigned ms)
{
    if (ms != 0) {
        struct timespec d = {ms / 1000, (long)(ms % 1000) * 1000000};
        nanosleep(&d, NULL);
    }
}

/* From here on a failure leaves the outcome unknown (the command may reach
 * MongoDB and be applied): the answer says so and the cache is invalidated. */
static void mark_sent(write_job_t *job)
{
    job->sent = 1;
    debug_hold(job->debug_sent_hold_ms);
}

/* Shapes a stored document into the job's JSON output. */
static int take_doc(write_job_t *job, const bson_t *doc)
{
    cJSON *obj = product_to_json(doc, job->currency, &job->version);
    if (obj == NULL) {
        job->result = WRITE_ERROR;
        snprintf(job->error, sizeof(job->error), "stored product is malformed");
        return -1;
    }
    job->json = cJSON_PrintUnformatted(obj);
    cJSON_Delete(obj);
    job->json_len = job->json ? strlen(job->json) : 0;
    job->result = job->json ? WRITE_OK : WRITE_ERROR;
    return job->json ? 0 : -1;
}

/* 1 when the category exists, 0 when not, -1 on error. */
static int category_exists(write_job_t *job, mongoc_database_t *db, const char *slug)
{
    mongoc_collection_t *c = mongoc_database_get_collection(db, CATEGORIES);
    bson_t filter = BSON_INITIALIZER;
    BSON_APPEND_UTF8(&filter, "slug", slug);
    bson_error_t err;
    int64_t n = mongoc_collection_count_documents(c, &filter, NULL, NULL, NULL, &err);
    bson_destroy(&filter);
    mongoc_collection_destroy(c);
    if (n < 0) {
        write_job_fail(job, "categories", &err);
        return -1;
    }
    if (n == 0) {
        job->result = WRITE_INVALID;
        input_errors_add(&job->errors, "category", "no category has the slug '%.64s' (see /api/categories)", slug);
    }
    return n > 0;
}

/* Read-only fields sent in the body must equal the stored ones. */
static void check_readonly(write_job_t *job, const bson_t *doc, int64_t version)
{
    const product_input_t *in = &job->input;
    char buf[32];
    bson_iter_t it;
    if (in->readonly & RO_ID) {
        char hex[25];
        bson_oid_to_string(&job->id, hex);
        if (strcasecmp(in->ro_id, hex) != 0)
            input_errors_add(&job->errors, "id", "is read-only (it is %s)", hex);
    }
    if (in->readonly & RO_VERSION && in->ro_version != version)
        input_errors_add(&job->errors, "version", "is read-only (it is %lld); use If-Match to guard a write", (long long)version);
    if (in->readonly & RO_CURRENCY && strcmp(in->ro_currency, job->currency) != 0)
        input_errors_add(&job->errors, "currency", "is read-only (it is %s)", job->currency);
    static const struct {
        unsigned flag;
        const char *name;
        size_t off;
    } times[] = {{RO_CREATED_AT, "created_at", offsetof(product_input_t, ro_created_at)},
                 {RO_UPDATED_AT, "updated_at", offsetof(product_input_t, ro_updated_at)}};
    for (size_t i = 0; i < 2; i++) {
        if (!(in->readonly & times[i].flag))
            continue;
        const char *sent = (const char *)in + times[i].off;
        if (bson_iter_init_find(&it, doc, times[i].name) && BSON_ITER_HOLDS_DATE_TIME(&it)) {
            product_format_time(bson_iter_date_time(&it), buf);
            int64_t sent_ms; /* instants are compared: "…:54Z" and "…:54.000+00:00" are the same time */
            if (product_parse_time(sent, &sent_ms) != 0 || sent_ms != bson_iter_date_time(&it))
                input_errors_add(&job->errors, times[i].name, "is read-only (it is %s)", buf);
        } else {
            input_errors_add(&job->errors, times[i].name, "is read-only (it is null)");
        }
    }
    if (job->errors.n != 0)
        job->result = WRITE_INVALID;
}

/* ---- create ---- */

static void append_fields(bson_t *doc, const product_input_t *in)
{
    BSON_APPEND_UTF8(doc, "name", in->name);
    BSON_APPEND_UTF8(doc, "name_lc", in->name_lc);
    if (in->present & PF_DESCRIPTION)
        BSON_APPEND_UTF8(doc, "description", in->description);
    BSON_APPEND_INT64(doc, "price_cents", in->price_cents);
    BSON_APPEND_UTF8(doc, "category", in->category);
    BSON_APPEND_INT64(doc, "stock", (in->present & PF_STOCK) ? in->stock : 0);
    if (in->present & PF_IMAGE)
        BSON_APPEND_UTF8(doc, "image", in->image);
}

static void run_create(write_job_t *job, mongoc_database_t *db)
{
    if (category_exists(job, db, job->input.category) != 1)
        return;
    mongoc_collection_t *products = mongoc_database_get_collection(db, PRODUCTS);
    mongoc_collection_t *keys = job->idem_key[0] ? mongoc_database_get_collection(db, IDEMPOTENCY_COLLECTION) : NULL;
    bson_oid_t pid;
    bson_oid_init(&pid, NULL);
    if (keys != NULL && idempotency_reserve(job, keys, &pid) <= 0)
        goto done;
    bson_oid_to_string(&pid, job->id_hex); /* known even if the insert fails: its key is invalidated */
    int64_t now = clock_wall_ms();
    bson_t doc = BSON_INITIALIZER;
    BSON_APPEND_OID(&doc, "_id", &pid);
    append_fields(&doc, &job->input);
    BSON_APPEND_DATE_TIME(&doc, "created_at", now);
    BSON_APPEND_DATE_TIME(&doc, "updated_at", now);
    BSON_APPEND_INT64(&doc, "version", 1);
    bson_error_t err;
    mark_sent(job);
    bool ok = mongoc_collection_insert_one(products, &doc, NULL, NULL, &err);
    if (ok) {
        take_doc(job, &doc);
    } else if (keys != NULL && write_job_is_duplicate(&err)) {
        /* another attempt with this key (earlier, or racing this one) inserted it: answer with that product */
        bson_t found = BSON_INITIALIZER;
        int rc = write_job_find_product(job, products, &pid, &found);
        if (rc == 1)
            take_doc(job, &found);
        else if (rc == 0)
            write_job_fail(job, "idempotent create", NULL);
        bson_destroy(&found);
        job->replayed = 1;
    } else {
        write_job_fail(job, "insert", &err);
    }
    bson_destroy(&doc);
    if (job->result == WRITE_OK && keys != NULL) /* the first result, for retries */
        idempotency_store_answer(job, keys);
done:
    if (keys != NULL)
        mongoc_collection_destroy(keys);
    mongoc_collection_destroy(products);
}

/* ---- replace, patch ---- */

static void build_update(write_job_t *job, int64_t version, bson_t *update)
{
    const product_input_t *in = &job->input;
    bson_t set, unset;
    BSON_APPEND_DOCUMENT_BEGIN(update, "$set", &set);
    if (job->kind == WRITE_REPLACE) {
        append_fields(&set, in);
    } else {
        if (in->present & PF_NAME) {
            BSON_APPEND_UTF8(&set, "name", in->name);
            BSON_APPEND_UTF8(&set, "name_lc", in->name_lc);
        }
        if (in->present & PF_DESCRIPTION)
            BSON_APPEND_UTF8(&set, "description", in->description);
        if (in->present & PF_PRICE)
            BSON_APPEND_INT64(&set, "price_cents", in->price_cents);
        if (in->present & PF_CATEGORY)
            BSON_APPEND_UTF8(&set, "category", in->category);
        if (in->present & PF_STOCK)
            BSON_APPEND_INT64(&set, "stock", in->stock);
        if (in->present & PF_IMAGE)
            BSON_APPEND_UTF8(&set, "image", in->image);
    }
    BSON_APPEND_DATE_TIME(&set, "updated_at", clock_wall_ms());
    BSON_APPEND_INT64(&set, "version", version + 1);
    bson_append_document_end(update, &set);
    /* PUT removes optional fields it does not name; PATCH those set to null */
    unsigned drop = job->kind == WRITE_REPLACE ? (PF_DESCRIPTION | PF_IMAGE) & ~in->present : in->cleared;
    if (drop != 0) {
        BSON_APPEND_DOCUMENT_BEGIN(update, "$unset", &unset);
        if (drop & PF_DESCRIPTION)
            BSON_APPEND_UTF8(&unset, "description", "");
        if (drop & PF_IMAGE)
            BSON_APPEND_UTF8(&unset, "image", "");
        bson_append_document_end(update, &unset);
    }
}

/* The filter that matches the document only while it has this version. */
static void version_filter(mongoc_collection_t *coll, const bson_oid_t *id, int64_t version, int has_version, bson_t *filter)
{
    BSON_APPEND_OID(filter, "_id", id);
    if (write_job_store_is_ferretdb(coll))
        return;
    if (has_version) {
        BSON_APPEND_INT64(filter, "version", version);
    } else {
        bson_t ex;
        BSON_APPEND_DOCUMENT_BEGIN(filter, "version", &ex);
        BSON_APPEND_BOOL(&ex, "$exists", false);
        bson_append_document_end(filter, &ex);
    }
}

/* Loads the product and checks If-Match and read-only fields. Returns 1
 * to go on (with *doc and its version), 0 when the job is answered. */
static int load_current(write_job_t *job, mongoc_collection_t *coll, bson_t *doc, int64_t *version, int *has_version)
{
    int rc = write_job_find_product(job, coll, &job->id, doc);
    if (rc <= 0) {
        if (rc == 0)
            job->result = WRITE_NOT_FOUND;
        return 0;
    }
    *version = write_job_doc_version(doc, has_version);
    int listed = 0;
    for (size_t i = 0; i < job->if_match_n; i++)
        listed |= job->if_match_versions[i] == *version;
    if (job->if_match == 1 && !listed) {
        job->result = WRITE_PRECONDITION_FAILED;
        job->current_version = *version;
        return 0;
    }
    if (job->kind != WRITE_DELETE) {
        check_readonly(job, doc, *version);
        if (job->result == WRITE_INVALID)
            return 0;
    }
    return 1;
}

/* ---- replace, patch, delete: each write to a version goes through a claim (store/claims.h says why) ---- */

/* Applies the claimed change to the product at version v, whose document
 * was before (an update records which fields it changed). Returns 1 when done (job->result says how), 0 when the
 * product was not at v any more (changed outside the claims, or deleted):
 * load again. */
static int apply_claimed(write_job_t *job, mongoc_collection_t *coll, int64_t v, int has_version, const bson_t *before)
{
    int at = write_job_store_is_ferretdb(coll) ? claims_still_at(job, coll, v) : 1;
    if (at <= 0)
        return at < 0;
    bson_t filter = BSON_INITIALIZER, reply;
    version_filter(coll, &job->id, v, has_version, &filter);
    bson_error_t err;
    mark_sent(job);
    int done = 0;
    if (job->kind == WRITE_DELETE) {
        bool ok = mongoc_collection_delete_one(coll, &filter, NULL, &reply, &err);
        bson_iter_t it;
        if (!ok) {
            write_job_fail(job, "delete", &err);
            done = 1;
        } else if (bson_iter_init_find(&it, &reply, "deletedCount") && bson_iter_as_int64(&it) > 0) {
            job->result = WRITE_OK;
            job->version = v + 1; /* the change feed orders a delete after the version it removed */
            done = 1;
        }
    } else {
        bson_t update = BSON_INITIALIZER;
        build_update(job, v, &update);
        mongoc_find_and_modify_opts_t *fam = mongoc_find_and_modify_opts_new();
        mongoc_find_and_modify_opts_set_update(fam, &update);
        mongoc_find_and_modify_opts_set_flags(fam, MONGOC_FIND_AND_MODIFY_RETURN_NEW);
        bool ok = mongoc_collection_find_and_modify_with_opts(coll, &filter, fam, &reply, &err);
        mongoc_find_and_modify_opts_destroy(fam);
        bson_destroy(&update);
        bson_iter_t it;
        if (!ok) {
            write_job_fail(job, "update", &err);
            done = 1;
        } else if (bson_iter_init_find(&it, &reply, "value") && BSON_ITER_HOLDS_DOCUMENT(&it)) {
            uint32_t len;
            const uint8_t *data;
            bson_iter_document(&it, &len, &data);
            bson_t newdoc;
            if (!bson_init_static(&newdoc, data, len))
                write_job_fail(job, "update", NULL);
            else if (take_doc(job, &newdoc) == 0)
                job->changed = product_changed_fields(before, &newdoc);
            done = 1;
        }
    }
    bson_destroy(&reply);
    bson_destroy(&filter);
    return done;
}

/* The category must exist when an update changes it. Returns 1 to go on. */
static int category_allowed(write_job_t *job, mongoc_database_t *db, const bson_t *doc)
{
    if (job->kind == WRITE_DELETE || !(job->input.present & PF_CATEGORY))
        return 1;
    bson_iter_t it;
    if (bson_iter_init_find(&it, doc, "category") && BSON_ITER_HOLDS_UTF8(&it) &&
        strcmp(bson_iter_utf8(&it, NULL), job->input.category) == 0)
        return 1;
    return category_exists(job, db, job->input.category) == 1;
}

/* Claims version v of the product (its document: before) and writes it.
 * Returns 1 when the job is answered, 0 to try again (after a back-off).
 * check_stale: see claims_claim_version. */
static int attempt_claimed(write_job_t *job, mongoc_collection_t *coll, mongoc_collection_t *claims, int64_t v, int has_version,
                           const bson_t *before, int check_stale)
{
    switch (claims_claim_version(job, claims, coll, v, check_stale || job->if_match == 1)) {
    case CLAIMS_FAILED:
        return 1;
    case CLAIMS_TAKEN:
        if (job->if_match != 1)
            return 0;
        claims_lost_precondition(job, coll, v);
        return 1;
    case CLAIMS_WON:
        break;
    }
    debug_hold(job->debug_hold_ms);
    if (clock_wall_ms() - job->claim_at > CLAIMS_LEASE_MS / 2) {
        /* held so long that another writer may soon take it over: give up
         * unsent, and give the version back (nothing was written, so the
         * next writer need not wait out the lease) */
        claims_release_unsent(claims, job);
        job->result = WRITE_ERROR;
        snprintf(job->error, sizeof(job->error), "claim %s held past half its lease", job->claim_id);
        return 1;
    }
    if (!apply_claimed(job, coll, v, has_version, before))
        return job->if_match == 1 ? (claims_lost_precondition(job, coll, v), 1) : 0;
    if (job->result == WRITE_OK)
        claims_release_written(job, claims, v);
    return 1;
}

/* One attempt: load, check, claim, write. Returns 1 when the job is
 * answered, 0 to try again (after a back-off). check_stale: see claims_claim_version. */
static int attempt_guarded(write_job_t *job, mongoc_database_t *db, mongoc_collection_t *coll, mongoc_collection_t *claims,
                           int check_stale)
{
    bson_t doc = BSON_INITIALIZER;
    int64_t v;
    int has_version;
    if (!(load_current(job, coll, &doc, &v, &has_version) && category_allowed(job, db, &doc))) {
        bson_destroy(&doc);
        return 1;
    }
    int done = attempt_claimed(job, coll, claims, v, has_version, &doc, check_stale);
    bson_destroy(&doc);
    return done;
}

/* Replace, patch or delete, guarded by the stored version and a claim;
 * without If-Match a writer that lost a claim retries (back-off) for up
 * to the job's budget, then answers WRITE_BUSY (not applied). */
static void run_guarded(write_job_t *job, mongoc_database_t *db)
{
    mongoc_collection_t *coll = mongoc_database_get_collection(db, PRODUCTS);
    mongoc_collection_t *claims = mongoc_database_get_collection(db, CLAIMS_COLLECTION);
    bson_oid_to_string(&job->id, job->id_hex);
    job->rand = (uint64_t)clock_wall_ms() ^ (uint64_t)(uintptr_t)job;
    uint64_t start = clock_mono_ms(), give_up = start + job->budget_ms;
    for (int attempt = 0;; attempt++) {
        job->result = WRITE_ERROR;
        /* a claim left by a dead writer is only looked for once losing has lasted a while */
        if (attempt_guarded(job, db, coll, claims, clock_mono_ms() - start >= CLAIMS_STALE_AFTER_MS))
            break;
        if (clock_mono_ms() >= give_up) {
            job->result = WRITE_BUSY;
            break;
        }
        claims_backoff(job, attempt);
    }
    mongoc_collection_destroy(claims);
    mongoc_collection_destroy(coll);
}

static void run_write(store_job_t *base, mongoc_client_t *client, const char *dbname)
{
    write_job_t *job = (write_job_t *)base;
    mongoc_database_t *db = mongoc_client_get_database(client, dbname);
    job->result = WRITE_ERROR;
    switch (job->kind) {
    case WRITE_CREATE:
        run_create(job, db);
        break;
    case WRITE_REPLACE:
    case WRITE_PATCH:
    case WRITE_DELETE:
        run_guarded(job, db);
        break;
    }
    mongoc_database_destroy(db);
}

void write_job_init(write_job_t *job, write_kind_t kind, unsigned timeout_ms)
{
    job->base.run = run_write;
    job->base.deadline_ms = clock_mono_ms() + timeout_ms;
    job->kind = kind;
    job->budget_ms = timeout_ms; /* callers may give it a budget of its own */
    job->result = WRITE_ERROR;
    job->errors.n = 0;
    job->json = NULL;
    job->json_len = 0;
    job->replayed = 0;
    job->version = 0;
    job->changed = 0;
    job->sent = 0;
    job->error[0] = '\0';
}
