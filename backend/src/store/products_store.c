#include "store/products_store.h"
#include "xalloc.h"
#include "clock.h"

#include "model/product.h"

#include <cjson/cJSON.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define PRODUCTS "products"
#define CATEGORIES "categories"

static void set_error(products_job_t *job, const bson_error_t *e)
{
    job->result = STORE_ERROR;
    snprintf(job->error, sizeof(job->error), "%s", e->message);
}

static int take_json(products_job_t *job, cJSON *root)
{
    job->json = cJSON_PrintUnformatted(root);
    cJSON_Delete(root);
    if (job->json == NULL) {
        job->result = STORE_ERROR;
        snprintf(job->error, sizeof(job->error), "out of memory");
        return -1;
    }
    job->json_len = strlen(job->json);
    return 0;
}

static void run_get(products_job_t *job, mongoc_collection_t *coll)
{
    bson_t filter = BSON_INITIALIZER, opts = BSON_INITIALIZER, proj;
    BSON_APPEND_OID(&filter, "_id", &job->id);
    BSON_APPEND_INT64(&opts, "limit", 1);
    BSON_APPEND_DOCUMENT_BEGIN(&opts, "projection", &proj);
    BSON_APPEND_INT32(&proj, "name_lc", 0);
    bson_append_document_end(&opts, &proj);
    mongoc_cursor_t *cur = mongoc_collection_find_with_opts(coll, &filter, &opts, NULL);
    const bson_t *doc;
    bson_error_t err;
    job->result = STORE_NOT_FOUND;
    if (mongoc_cursor_next(cur, &doc)) {
        cJSON *obj = product_to_json(doc, job->currency, &job->version);
        if (obj == NULL) {
            job->result = STORE_ERROR;
            snprintf(job->error, sizeof(job->error), "stored product is malformed");
        } else if (take_json(job, obj) == 0) {
            job->result = STORE_OK;
        }
    } else if (mongoc_cursor_error(cur, &err)) {
        set_error(job, &err);
    }
    mongoc_cursor_destroy(cur);
    bson_destroy(&filter);
    bson_destroy(&opts);
}

/* Ends a cursor; returns -1 (with job's error set) when it failed. */
static int finish_cursor(products_job_t *job, mongoc_cursor_t *cur)
{
    bson_error_t err;
    int failed = mongoc_cursor_error(cur, &err);
    if (failed)
        set_error(job, &err);
    mongoc_cursor_destroy(cur);
    return failed ? -1 : 0;
}

/* Checks that every category the query names exists. Returns 1 when they
 * do, 0 with the first unknown slug as the job's json (result
 * STORE_NOT_FOUND), -1 on error. Only a miss pays for it: the answer is
 * cached like the page (under the generation), so a hit stays one lookup. */
static int categories_exist(products_job_t *job, mongoc_collection_t *categories)
{
    const query_t *q = &job->query;
    if (q->ncategories == 0)
        return 1;
    bson_t filter = BSON_INITIALIZER, slug, in;
    BSON_APPEND_DOCUMENT_BEGIN(&filter, "slug", &slug);
    BSON_APPEND_ARRAY_BEGIN(&slug, "$in", &in);
    for (size_t i = 0; i < q->ncategories; i++) {
        char idx[16];
        const char *key;
        bson_uint32_to_string((uint32_t)i, &key, idx, sizeof(idx));
        BSON_APPEND_UTF8(&in, key, q->categories[i]);
    }
    bson_append_array_end(&slug, &in);
    bson_append_document_end(&filter, &slug);
    unsigned found = 0; /* bit i: categories[i] exists (at most 20) */
    mongoc_cursor_t *cur = mongoc_collection_find_with_opts(categories, &filter, NULL, NULL);
    const bson_t *doc;
    while (mongoc_cursor_next(cur, &doc)) {
        bson_iter_t it;
        if (!bson_iter_init_find(&it, doc, "slug") || !BSON_ITER_HOLDS_UTF8(&it))
            continue;
        for (size_t i = 0; i < q->ncategories; i++)
            if (strcmp(bson_iter_utf8(&it, NULL), q->categories[i]) == 0)
                found |= 1u << i;
    }
    bson_destroy(&filter);
    if (finish_cursor(job, cur) != 0)
        return -1;
    for (size_t i = 0; i < q->ncategories; i++) {
        if (!(found & (1u << i))) {
            job->json = xstrdup(q->categories[i]);
            job->json_len = strlen(job->json);
            job->result = STORE_NOT_FOUND;
            return 0;
        }
    }
    return 1;
}

/* Brings the job's mirror to its batch, when it has one. Returns 1 when
 * the mirror may answer, 0 when the store must, -1 on a store error (the
 * job's error set). */
static int mirror_prepare(products_job_t *job, mongoc_collection_t *products, mongoc_collection_t *categories)
{
    if (job->mirror == NULL)
        return 0;
    if (job->sync.gen != 0) {
        mirror_result_t r =
            mirror_sync(job->mirror, &job->sync, job->force_scan, products, categories, job->error, sizeof(job->error));
        if (r == MIRROR_ERROR) {
            job->result = STORE_ERROR;
            return -1;
        }
        return r == MIRROR_OK;
    }
    return 1;
}

/* The page, or the unknown category, from the mirror; returns 1 when it
 * answered. */
static int list_from_mirror(products_job_t *job)
{
    int64_t count;
    size_t unknown;
    int rc = mirror_list(job->mirror, &job->query, job->min_gen, &job->json, &job->json_len, &count, &job->gen, &unknown);
    if (rc < 0) {
        job->gen = 0;
        return 0;
    }
    if (rc == 1) { /* as categories_exist answers */
        job->json = xstrdup(job->query.categories[unknown]);
        job->json_len = strlen(job->json);
        job->result = STORE_NOT_FOUND;
        return 1;
    }
    job->count = count;
    job->result = STORE_OK;
    return 1;
}

static void run_list(products_job_t *job, mongoc_collection_t *coll, mongoc_collection_t *categories)
{
    bson_t filter = BSON_INITIALIZER, opts = BSON_INITIALIZER;
    bson_error_t err;
    int use = mirror_prepare(job, coll, categories);
    if (use < 0 || (use && list_from_mirror(job)) || categories_exist(job, categories) != 1)
        goto done;
    products_store_list_filter(&job->query, &filter);
    products_store_list_opts(&job->query, &opts);

    job->passes++;
    int64_t count = mongoc_collection_count_documents(coll, &filter, NULL, NULL, NULL, &err);
    if (count < 0) {
        set_error(job, &err);
        goto done;
    }
    cJSON *root = cJSON_CreateObject();
    cJSON *items = cJSON_AddArrayToObject(root, "products");
    /* skip the find when the page is past the end: the count already says so */
    if (job->query.offset < count) {
        job->passes++;
        mongoc_cursor_t *cur = mongoc_collection_find_with_opts(coll, &filter, &opts, NULL);
        const bson_t *doc;
        while (mongoc_cursor_next(cur, &doc)) {
            cJSON *obj = product_to_json(doc, job->currency, NULL);
            if (obj != NULL)
                cJSON_AddItemToArray(items, obj);
        }
        if (mongoc_cursor_error(cur, &err)) {
            mongoc_cursor_destroy(cur);
            cJSON_Delete(root);
            set_error(job, &err);
            goto done;
        }
        mongoc_cursor_destroy(cur);
    }
    cJSON_AddNumberToObject(root, "count", (double)count);
    cJSON_AddNumberToObject(root, "offset", (double)job->query.offset);
    cJSON_AddNumberToObject(root, "limit", job->query.limit);
    job->count = count;
    if (take_json(job, root) == 0)
        job->result = STORE_OK;
done:
    bson_destroy(&filter);
    bson_destroy(&opts);
}

static int cmp_category(const void *a, const void *b)
{
    const cJSON *x = *(const cJSON *const *)a, *y = *(const cJSON *const *)b;
    const char *nx = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(x, "name"));
    const char *ny = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(y, "name"));
    int c = strcasecmp(nx ? nx : "", ny ? ny : "");
    if (c != 0)
        return c;
    return strcmp(cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(x, "slug")),
                  cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(y, "slug")));
}

/* Adds {slug, name, count: 0} under bySlug[slug]; returns it. */
static cJSON *add_category(cJSON *bySlug, const char *slug, const char *name)
{
    cJSON *c = cJSON_CreateObject();
    cJSON_AddStringToObject(c, "slug", slug);
    cJSON_AddStringToObject(c, "name", name);
    cJSON_AddNumberToObject(c, "count", 0);
    cJSON_AddItemToObject(bySlug, slug, c);
    return c;
}

int products_store_each_category(mongoc_collection_t *categories, void (*cb)(void *data, const char *slug, const char *name),
                                 void *data, bson_error_t *err)
{
    bson_t filter = BSON_INITIALIZER;
    mongoc_cursor_t *cur = mongoc_collection_find_with_opts(categories, &filter, NULL, NULL);
    const bson_t *doc;
    while (mongoc_cursor_next(cur, &doc)) {
        bson_iter_t it;
        const char *slug = NULL, *name = NULL;
        if (bson_iter_init_find(&it, doc, "slug") && BSON_ITER_HOLDS_UTF8(&it))
            slug = bson_iter_utf8(&it, NULL);
        if (bson_iter_init_find(&it, doc, "name") && BSON_ITER_HOLDS_UTF8(&it))
            name = bson_iter_utf8(&it, NULL);
        if (slug != NULL)
            cb(data, slug, name ? name : slug);
    }
    int failed = mongoc_cursor_error(cur, err);
    mongoc_cursor_destroy(cur);
    bson_destroy(&filter);
    return failed ? -1 : 0;
}

static void add_name(void *data, const char *slug, const char *name)
{
    if (cJSON_GetObjectItemCaseSensitive(data, slug) == NULL)
        add_category(data, slug, name);
}

/* Sets a slug's count, adding the slug (named by itself) when no category
 * document has it. */
static void set_count(void *data, const char *slug, int64_t n)
{
    cJSON *bySlug = data;
    cJSON *c = cJSON_GetObjectItemCaseSensitive(bySlug, slug);
    if (c == NULL)
        c = add_category(bySlug, slug, slug);
    cJSON_SetNumberValue(cJSON_GetObjectItemCaseSensitive(c, "count"), (double)n);
}

/* Counts products per category with a $group. Returns 0 or -1. */
static int category_counts_from_store(products_job_t *job, mongoc_collection_t *products, cJSON *bySlug)
{
    job->passes++;
    bson_t *pipeline = BCON_NEW("pipeline", "[", "{", "$group", "{", "_id", BCON_UTF8("$category"), "count", "{", "$sum",
                                BCON_INT32(1), "}", "}", "}", "]");
    mongoc_cursor_t *cur = mongoc_collection_aggregate(products, MONGOC_QUERY_NONE, pipeline, NULL, NULL);
    const bson_t *doc;
    while (mongoc_cursor_next(cur, &doc)) {
        bson_iter_t it;
        const char *slug = NULL;
        int64_t n = 0;
        if (bson_iter_init_find(&it, doc, "_id") && BSON_ITER_HOLDS_UTF8(&it))
            slug = bson_iter_utf8(&it, NULL);
        if (bson_iter_init_find(&it, doc, "count"))
            n = BSON_ITER_HOLDS_INT32(&it) ? bson_iter_int32(&it) : bson_iter_as_int64(&it);
        if (slug != NULL)
            set_count(bySlug, slug, n);
    }
    bson_destroy(pipeline);
    return finish_cursor(job, cur);
}

/* Moves bySlug into the job's body: an array sorted by name. */
static void categories_body(products_job_t *job, cJSON *bySlug)
{
    int n = cJSON_GetArraySize(bySlug);
    cJSON **tmp = xcalloc((size_t)n + 1, sizeof(*tmp));
    for (int i = 0; i < n; i++)
        tmp[i] = cJSON_DetachItemFromArray(bySlug, 0);
    qsort(tmp, (size_t)n, sizeof(*tmp), cmp_category);
    cJSON *root = cJSON_CreateObject();
    cJSON *arr = cJSON_AddArrayToObject(root, "categories");
    for (int i = 0; i < n; i++) {
        cJSON_free(tmp[i]->string); /* the object key, not wanted in an array */
        tmp[i]->string = NULL;
        cJSON_AddItemToArray(arr, tmp[i]);
    }
    free(tmp);
    if (take_json(job, root) == 0)
        job->result = STORE_OK;
}

/* Categories: names from the categories collection, counts from the mirror
 * or a $group over products; a slug used by products but missing from the
 * collection is shown with its slug as name, a category without products
 * with count 0. */
static void run_categories(products_job_t *job, mongoc_collection_t *products, mongoc_collection_t *categories)
{
    cJSON *bySlug = cJSON_CreateObject();
    int use = mirror_prepare(job, products, categories), ok = use >= 0;
    if (use > 0 && mirror_categories(job->mirror, job->min_gen, add_name, set_count, bySlug, &job->gen) != 0) {
        job->gen = 0;
        use = 0;
    }
    if (use == 0) {
        bson_error_t err;
        ok = products_store_each_category(categories, add_name, bySlug, &err) == 0;
        if (!ok)
            set_error(job, &err);
        ok = ok && category_counts_from_store(job, products, bySlug) == 0;
    }
    if (ok)
        categories_body(job, bySlug);
    cJSON_Delete(bySlug);
}

static void run_ping(products_job_t *job, mongoc_client_t *client, const char *db)
{
    bson_t *cmd = BCON_NEW("ping", BCON_INT32(1));
    bson_error_t err;
    if (mongoc_client_command_simple(client, db, cmd, NULL, NULL, &err))
        job->result = STORE_OK;
    else
        set_error(job, &err);
    bson_destroy(cmd);
}

static void products_run(store_job_t *base, mongoc_client_t *client, const char *db)
{
    products_job_t *job = (products_job_t *)base;
    if (job->kind == STORE_PING) {
        run_ping(job, client, db);
        return;
    }
    mongoc_collection_t *coll = mongoc_client_get_collection(client, db, PRODUCTS);
    switch (job->kind) {
    case STORE_GET_PRODUCT:
        run_get(job, coll);
        break;
    case STORE_LIST_PRODUCTS: {
        mongoc_collection_t *cats = mongoc_client_get_collection(client, db, CATEGORIES);
        run_list(job, coll, cats);
        mongoc_collection_destroy(cats);
        break;
    }
    case STORE_MIRROR_SYNC: {
        mongoc_collection_t *cats = mongoc_client_get_collection(client, db, CATEGORIES);
        if (mirror_prepare(job, coll, cats) >= 0)
            job->result = STORE_OK;
        mongoc_collection_destroy(cats);
        break;
    }
    case STORE_CATEGORIES: {
        mongoc_collection_t *cats = mongoc_client_get_collection(client, db, CATEGORIES);
        run_categories(job, coll, cats);
        mongoc_collection_destroy(cats);
        break;
    }
    default:
        break;
    }
    mongoc_collection_destroy(coll);
}

void products_job_init(products_job_t *job, products_job_kind_t kind, unsigned timeout_ms)
{
    memset(&job->base.msg, 0, sizeof(job->base.msg));
    job->base.run = products_run;
    job->base.deadline_ms = clock_mono_ms() + timeout_ms;
    job->base.state = STORE_JOB_DONE;
    job->kind = kind;
    job->result = STORE_ERROR;
    job->json = NULL;
    job->json_len = 0;
    job->count = 0;
    job->version = 0;
    job->gen = 0;
    job->passes = 0;
    job->error[0] = '\0';
}

void products_job_clear(products_job_t *job)
{
    if (job->json != NULL)
        cJSON_free(job->json);
    job->json = NULL;
    free(job->sync.changes);
    job->sync.changes = NULL;
    job->sync.n = 0;
}
