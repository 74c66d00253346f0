#include "store/mirror.h"
#include "xalloc.h"
#include "clock.h"

#include "model/listing.h"
#include "store/products_store.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>

typedef struct {
    char *slug, *name;
} mirror_category_t;

struct mirror {
    size_t max_items;
    uint64_t max_age_ms;
    const char *currency;
    pthread_mutex_t update;  /* one sync at a time (held across store reads) */
    pthread_rwlock_t lock;   /* the listing and what it is exact for */
    listing_t listing;       /* under lock */
    mirror_category_t *cats; /* under lock: the categories collection */
    size_t ncats;
    pthread_mutex_t meta;               /* base_id: loops read it, never behind the write lock */
    char base_id[CHANGE_STREAM_ID_MAX]; /* under lock and meta */
    _Atomic size_t items, bytes;        /* copies for stats, read from loops */
    _Atomic uint64_t gen;               /* written under lock, read anywhere */
    _Atomic uint64_t scanned_at;        /* monotonic ms of the last scan's start */
    _Atomic uint64_t too_large_at;      /* monotonic ms when a scan found too many products; 0: not */
    _Atomic uint64_t scans, scan_ms_last, patches, point_reads;
};

mirror_t *mirror_create(size_t max_items, uint64_t max_age_ms, const char *currency)
{
    mirror_t *m = xcalloc(1, sizeof(*m));
    m->max_items = max_items;
    m->max_age_ms = max_age_ms;
    m->currency = currency;
    pthread_mutex_init(&m->update, NULL);
    pthread_mutex_init(&m->meta, NULL);
    /* a catch-up must not starve behind a run of page computations */
    pthread_rwlockattr_t attr;
    pthread_rwlockattr_init(&attr);
    pthread_rwlockattr_setkind_np(&attr, PTHREAD_RWLOCK_PREFER_WRITER_NONRECURSIVE_NP);
    pthread_rwlock_init(&m->lock, &attr);
    pthread_rwlockattr_destroy(&attr);
    listing_init(&m->listing);
    return m;
}

static void free_categories(mirror_category_t *cats, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        free(cats[i].slug);
        free(cats[i].name);
    }
    free(cats);
}

void mirror_destroy(mirror_t *m)
{
    if (m == NULL)
        return;
    free_categories(m->cats, m->ncats);
    listing_clear(&m->listing);
    pthread_rwlock_destroy(&m->lock);
    pthread_mutex_destroy(&m->meta);
    pthread_mutex_destroy(&m->update);
    free(m);
}

uint64_t mirror_gen(mirror_t *m)
{
    return atomic_load(&m->gen);
}

static uint64_t age_ms(mirror_t *m)
{
    return clock_mono_ms() - atomic_load(&m->scanned_at);
}

int mirror_usable(mirror_t *m)
{
    uint64_t t = atomic_load(&m->too_large_at);
    return m->max_items != 0 && (t == 0 || clock_mono_ms() - t > m->max_age_ms);
}

int mirror_wants_scan(mirror_t *m)
{
    return mirror_usable(m) && (mirror_gen(m) == 0 || age_ms(m) > m->max_age_ms / 5 * 4);
}

void mirror_base_id(mirror_t *m, char out[CHANGE_STREAM_ID_MAX])
{
    pthread_mutex_lock(&m->meta);
    memcpy(out, m->base_id, CHANGE_STREAM_ID_MAX);
    pthread_mutex_unlock(&m->meta);
}

static void set_err(char *err, size_t errlen, const char *msg)
{
    snprintf(err, errlen, "%s", msg);
}

/* Publishes what is now exact for b (under the write lock). A scan forced
 * by age may run with a batch older than the mirror's generation: every
 * write up to that generation was in the store before the scan began, so
 * the mirror keeps claiming it. */
static void publish(mirror_t *m, const change_batch_t *b)
{
    atomic_store(&m->items, m->listing.n);
    atomic_store(&m->bytes, m->listing.bytes);
    if (b->gen < mirror_gen(m))
        return;
    pthread_mutex_lock(&m->meta);
    snprintf(m->base_id, sizeof(m->base_id), "%s", b->last_id);
    pthread_mutex_unlock(&m->meta);
    atomic_store(&m->gen, b->gen);
}

typedef struct {
    mirror_category_t *cats;
    size_t n, cap;
} categories_t;

static void add_category(void *data, const char *slug, const char *name)
{
    categories_t *c = data;
    if (c->n == c->cap) {
        c->cap = c->cap ? c->cap * 2 : 16;
        c->cats = xrealloc(c->cats, c->cap * sizeof(*c->cats));
    }
    c->cats[c->n++] = (mirror_category_t){xstrdup(slug), xstrdup(name)};
}

/* Reads the categories collection. Returns 0 or -1 with err set. */
static int read_categories(mongoc_collection_t *categories, mirror_category_t **out, size_t *n, char *err, size_t errlen)
{
    categories_t c = {0};
    bson_error_t e;
    if (products_store_each_category(categories, add_category, &c, &e) != 0) {
        set_err(err, errlen, e.message);
        free_categories(c.cats, c.n);
        return -1;
    }
    *out = c.cats;
    *n = c.n;
    return 0;
}

/* Scans the whole collection (and the categories) into a new listing and
 * swaps it in. */
static mirror_result_t rescan(mirror_t *m, const change_batch_t *b, mongoc_collection_t *coll, mongoc_collection_t *categories,
                              char *err, size_t errlen)
{
    uint64_t start = clock_mono_ms();
    bson_t filter = BSON_INITIALIZER;
    bson_t *opts = BCON_NEW("batchSize", BCON_INT32(2000));
    mongoc_cursor_t *cur = mongoc_collection_find_with_opts(coll, &filter, opts, NULL);
    listing_t fresh;
    listing_init(&fresh);
    const bson_t *doc;
    int too_large = 0;
    while (mongoc_cursor_next(cur, &doc)) {
        listing_item_t *item = listing_item_from_bson(doc, m->currency);
        if (item != NULL)
            listing_add(&fresh, item);
        if (fresh.n > m->max_items) {
            too_large = 1;
            break;
        }
    }
    bson_error_t e;
    int failed = !too_large && mongoc_cursor_error(cur, &e);
    if (failed)
        set_err(err, errlen, e.message);
    mongoc_cursor_destroy(cur);
    bson_destroy(opts);
    bson_destroy(&filter);
    mirror_category_t *cats = NULL;
    size_t ncats = 0;
    if (!failed && !too_large && read_categories(categories, &cats, &ncats, err, errlen) != 0)
        failed = 1;
    if (failed || too_large) {
        listing_clear(&fresh);
        if (too_large)
            atomic_store(&m->too_large_at, clock_mono_ms() | 1);
        return too_large ? MIRROR_TOO_LARGE : MIRROR_ERROR;
    }
    listing_sort(&fresh);
    pthread_rwlock_wrlock(&m->lock);
    listing_t old = m->listing;
    mirror_category_t *old_cats = m->cats;
    size_t old_n = m->ncats;
    m->listing = fresh;
    m->cats = cats;
    m->ncats = ncats;
    publish(m, b);
    pthread_rwlock_unlock(&m->lock);
    listing_clear(&old);
    free_categories(old_cats, old_n);
    atomic_store(&m->too_large_at, 0);
    atomic_store(&m->scanned_at, start);
    atomic_store(&m->scan_ms_last, clock_mono_ms() - start);
    atomic_fetch_add(&m->scans, 1);
    return MIRROR_OK;
}

/* 1 when b holds every generation after the mirror's, each once and in
 * order, each naming its product, and few enough to re-read. */
static int patchable(mirror_t *m, const change_batch_t *b)
{
    uint64_t next = mirror_gen(m) + 1;
    size_t n = 0;
    if (b->truncated)
        return 0;
    for (size_t i = 0; i < b->n; i++) {
        if (b->changes[i].gen < next)
            continue;
        if (b->changes[i].gen != next || b->changes[i].reset)
            return 0;
        next++;
        n++;
    }
    return next == b->gen + 1 && n <= MIRROR_PATCH_MAX;
}

/* The current document of one product (NULL item: gone). Returns 0 or -1. */
static int read_one(mongoc_collection_t *coll, const uint8_t id[12], const char *currency, listing_item_t **item, char *err,
                    size_t errlen)
{
    bson_oid_t oid;
    memcpy(oid.bytes, id, 12);
    bson_t filter = BSON_INITIALIZER;
    BSON_APPEND_OID(&filter, "_id", &oid);
    bson_t *opts = BCON_NEW("limit", BCON_INT64(1));
    mongoc_cursor_t *cur = mongoc_collection_find_with_opts(coll, &filter, opts, NULL);
    const bson_t *doc;
    bson_error_t e;
    *item = mongoc_cursor_next(cur, &doc) ? listing_item_from_bson(doc, currency) : NULL;
    int failed = mongoc_cursor_error(cur, &e);
    if (failed) {
        set_err(err, errlen, e.message);
        free(*item);
        *item = NULL;
    }
    mongoc_cursor_destroy(cur);
    bson_destroy(opts);
    bson_destroy(&filter);
    return failed ? -1 : 0;
}

/* Re-reads each product named after the mirror's generation (each once),
 * then puts them in place, in every order, under the write lock. */
static mirror_result_t patch(mirror_t *m, const change_batch_t *b, mongoc_collection_t *coll, char *err, size_t errlen)
{
    uint64_t since = mirror_gen(m);
    size_t n = 0;
    const uint8_t **ids = xmalloc((b->n ? b->n : 1) * sizeof(*ids));
    listing_item_t **items = xcalloc(b->n ? b->n : 1, sizeof(*items));
    mirror_result_t res = MIRROR_OK;
    for (size_t i = 0; i < b->n && res == MIRROR_OK; i++) {
        const change_t *c = &b->changes[i];
        int seen = 0;
        for (size_t k = 0; k < n && !seen; k++)
            seen = memcmp(ids[k], c->id, 12) == 0;
        if (c->gen <= since || seen)
            continue;
        ids[n] = c->id;
        if (read_one(coll, c->id, m->currency, &items[n], err, errlen) != 0)
            res = MIRROR_ERROR;
        n++;
    }
    atomic_fetch_add(&m->point_reads, n);
    if (res == MIRROR_OK) {
        pthread_rwlock_wrlock(&m->lock);
        for (size_t k = 0; k < n; k++) {
            listing_replace(&m->listing, ids[k], items[k]);
            items[k] = NULL;
        }
        publish(m, b);
        pthread_rwlock_unlock(&m->lock);
        atomic_fetch_add(&m->patches, 1);
    }
    for (size_t k = 0; k < n; k++)
        free(items[k]);
    free(items);
    free(ids);
    return res;
}

mirror_result_t mirror_sync(mirror_t *m, const change_batch_t *b, int force_scan, mongoc_collection_t *coll,
                            mongoc_collection_t *categories, char *err, size_t errlen)
{
    if (b->gen == 0) {
        set_err(err, errlen, "no generation to build the catalogue under");
        return MIRROR_ERROR;
    }
    pthread_mutex_lock(&m->update);
    mirror_result_t res = MIRROR_OK;
    int fresh = mirror_gen(m) != 0 && age_ms(m) <= m->max_age_ms;
    if (force_scan || !fresh)
        res = rescan(m, b, coll, categories, err, errlen);
    else if (mirror_gen(m) < b->gen)
        res = patchable(m, b) ? patch(m, b, coll, err, errlen) : rescan(m, b, coll, categories, err, errlen);
    pthread_mutex_unlock(&m->update);
    return res;
}

/* Takes the read lock when the mirror can answer for min_gen; returns 0
 * (locked) or -1. */
static int read_begin(mirror_t *m, uint64_t min_gen, uint64_t *gen)
{
    pthread_rwlock_rdlock(&m->lock);
    *gen = mirror_gen(m);
    if (*gen != 0 && *gen >= min_gen && age_ms(m) <= m->max_age_ms)
        return 0;
    pthread_rwlock_unlock(&m->lock);
    return -1;
}

/* The index of the first category q names that is not in the categories
 * collection, or q->ncategories when all are (under the read lock). */
static size_t first_unknown(const mirror_t *m, const query_t *q)
{
    for (size_t i = 0; i < q->ncategories; i++) {
        size_t k = 0;
        while (k < m->ncats && strcmp(m->cats[k].slug, q->categories[i]) != 0)
            k++;
        if (k == m->ncats)
            return i;
    }
    return q->ncategories;
}

int mirror_list(mirror_t *m, const query_t *q, uint64_t min_gen, char **json, size_t *len, int64_t *count, uint64_t *gen,
                size_t *unknown)
{
    if (read_begin(m, min_gen, gen) != 0)
        return -1;
    int rc = 0;
    *unknown = first_unknown(m, q);
    if (*unknown < q->ncategories)
        rc = 1;
    else if ((*json = listing_page(&m->listing, q, len, count)) == NULL)
        rc = -1;
    pthread_rwlock_unlock(&m->lock);
    return rc;
}

int mirror_categories(mirror_t *m, uint64_t min_gen, void (*name_cb)(void *data, const char *slug, const char *name),
                      void (*count_cb)(void *data, const char *slug, int64_t count), void *data, uint64_t *gen)
{
    if (read_begin(m, min_gen, gen) != 0)
        return -1;
    for (size_t i = 0; i < m->ncats; i++)
        name_cb(data, m->cats[i].slug, m->cats[i].name);
    listing_category_counts(&m->listing, count_cb, data);
    pthread_rwlock_unlock(&m->lock);
    return 0;
}

void mirror_stats(mirror_t *m, mirror_stats_t *out)
{
    out->items = atomic_load(&m->items);
    out->bytes = atomic_load(&m->bytes);
    out->gen = mirror_gen(m);
    out->scans = atomic_load(&m->scans);
    out->scan_ms_last = atomic_load(&m->scan_ms_last);
    out->patches = atomic_load(&m->patches);
    out->point_reads = atomic_load(&m->point_reads);
    out->age_ms = out->gen != 0 ? age_ms(m) : 0;
    out->too_large = atomic_load(&m->too_large_at) != 0;
}
