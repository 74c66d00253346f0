#include "model/listing.h"
#include "xalloc.h"

#include "model/product.h"

#define PCRE2_CODE_UNIT_WIDTH 8
#include <cjson/cJSON.h>
#include <pcre2.h>
#include <stdio.h>
#include <string.h>

/* ---- records ---- */

/* The fields a record keeps, read in one pass over the document. */
typedef struct {
    const bson_oid_t *id;
    const char *category, *name_lc, *description;
    uint32_t category_len, name_lc_len, description_len;
    unsigned has;
    int64_t price_cents, stock, created_ms;
} fields_t;

static int int_field(const bson_iter_t *it, int64_t *out)
{
    if (BSON_ITER_HOLDS_INT32(it))
        *out = bson_iter_int32(it);
    else if (BSON_ITER_HOLDS_INT64(it))
        *out = bson_iter_int64(it);
    else
        return 0;
    return 1;
}

static void read_fields(const bson_t *doc, fields_t *f)
{
    bson_iter_t it;
    memset(f, 0, sizeof(*f));
    if (!bson_iter_init(&it, doc))
        return;
    while (bson_iter_next(&it)) {
        const char *k = bson_iter_key(&it);
        if (strcmp(k, "_id") == 0 && BSON_ITER_HOLDS_OID(&it))
            f->id = bson_iter_oid(&it);
        else if (strcmp(k, "category") == 0 && BSON_ITER_HOLDS_UTF8(&it))
            f->category = bson_iter_utf8(&it, &f->category_len);
        else if (strcmp(k, "name_lc") == 0 && BSON_ITER_HOLDS_UTF8(&it))
            f->name_lc = bson_iter_utf8(&it, &f->name_lc_len);
        else if (strcmp(k, "description") == 0 && BSON_ITER_HOLDS_UTF8(&it))
            f->description = bson_iter_utf8(&it, &f->description_len);
        else if (strcmp(k, "price_cents") == 0 && int_field(&it, &f->price_cents))
            f->has |= LISTING_HAS_PRICE;
        else if (strcmp(k, "stock") == 0 && int_field(&it, &f->stock))
            f->has |= LISTING_HAS_STOCK;
        else if (strcmp(k, "created_at") == 0 && BSON_ITER_HOLDS_DATE_TIME(&it)) {
            f->created_ms = bson_iter_date_time(&it);
            f->has |= LISTING_HAS_CREATED;
        }
    }
}

/* Copies s (len bytes, may be NULL) after *cursor; returns the copy. */
static const char *pack(char **cursor, const char *s, size_t len)
{
    if (s == NULL)
        return NULL;
    char *out = *cursor;
    memcpy(out, s, len);
    out[len] = '\0';
    *cursor += len + 1;
    return out;
}

listing_item_t *listing_item_from_bson(const bson_t *doc, const char *currency)
{
    fields_t f;
    read_fields(doc, &f);
    if (f.id == NULL)
        return NULL;
    cJSON *obj = product_to_json(doc, currency, NULL);
    char *json = obj != NULL ? cJSON_PrintUnformatted(obj) : NULL;
    cJSON_Delete(obj);
    if (json == NULL)
        return NULL;
    size_t jl = strlen(json);
    size_t bytes = sizeof(listing_item_t) + jl + f.category_len + f.name_lc_len + f.description_len + 4;
    listing_item_t *item = xmalloc(bytes);
    char *cursor = (char *)(item + 1);
    memcpy(item->id, f.id->bytes, 12);
    item->has = f.has;
    item->price_cents = f.price_cents;
    item->stock = f.stock;
    item->created_ms = f.created_ms;
    item->json = pack(&cursor, json, jl);
    item->json_len = jl;
    item->category = pack(&cursor, f.category, f.category_len);
    item->name_lc = pack(&cursor, f.name_lc, f.name_lc_len);
    item->description = pack(&cursor, f.description, f.description_len);
    item->bytes = bytes;
    cJSON_free(json);
    return item;
}

/* ---- the set ---- */

void listing_init(listing_t *l)
{
    memset(l, 0, sizeof(*l));
}

void listing_add(listing_t *l, listing_item_t *item)
{
    if (l->n == l->cap) { /* the sorted arrays, once built, keep the same capacity */
        l->cap = l->cap ? l->cap * 2 : 256;
        l->items = xrealloc(l->items, l->cap * sizeof(*l->items));
        for (int o = 0; o < QUERY_ORDERS; o++)
            if (l->sorted[o] != NULL)
                l->sorted[o] = xrealloc(l->sorted[o], l->cap * sizeof(*l->sorted[o]));
    }
    l->items[l->n++] = item;
    l->bytes += item->bytes;
}

void listing_clear(listing_t *l)
{
    for (size_t i = 0; i < l->n; i++)
        free(l->items[i]);
    free(l->items);
    for (int o = 0; o < QUERY_ORDERS; o++)
        free(l->sorted[o]);
    listing_init(l);
}

/* ---- order: MongoDB's, for the types the API writes ---- */

static int cmp_int(int64_t a, int64_t b)
{
    return (a > b) - (a < b);
}

/* A missing key sorts first (null before numbers, dates and strings). */
static int cmp_present(int ha, int hb)
{
    return (ha != 0) - (hb != 0);
}

static int cmp_id(const listing_item_t *a, const listing_item_t *b)
{
    return memcmp(a->id, b->id, 12);
}

static int cmp_created(const void *x, const void *y)
{
    const listing_item_t *a = *(listing_item_t *const *)x, *b = *(listing_item_t *const *)y;
    int c = cmp_present(a->has & LISTING_HAS_CREATED, b->has & LISTING_HAS_CREATED);
    if (c == 0 && (a->has & LISTING_HAS_CREATED))
        c = cmp_int(a->created_ms, b->created_ms);
    return c != 0 ? c : cmp_id(a, b);
}

static int cmp_price(const void *x, const void *y)
{
    const listing_item_t *a = *(listing_item_t *const *)x, *b = *(listing_item_t *const *)y;
    int c = cmp_present(a->has & LISTING_HAS_PRICE, b->has & LISTING_HAS_PRICE);
    if (c == 0 && (a->has & LISTING_HAS_PRICE))
        c = cmp_int(a->price_cents, b->price_cents);
    return c != 0 ? c : cmp_id(a, b);
}

/* Strings compare bytewise (no collation), as in the store. */
static int cmp_name(const void *x, const void *y)
{
    const listing_item_t *a = *(listing_item_t *const *)x, *b = *(listing_item_t *const *)y;
    int c = cmp_present(a->name_lc != NULL, b->name_lc != NULL);
    if (c == 0 && a->name_lc != NULL)
        c = strcmp(a->name_lc, b->name_lc);
    return c != 0 ? c : cmp_id(a, b);
}

static int (*const comparators[QUERY_ORDERS])(const void *, const void *) = {
    [QUERY_ORDER_CREATED_AT] = cmp_created,
    [QUERY_ORDER_PRICE] = cmp_price,
    [QUERY_ORDER_NAME] = cmp_name,
};

/* The first position in a (n records, ascending by cmp) not below x. */
static size_t lower_bound(listing_item_t *const *a, size_t n, const listing_item_t *x, int (*cmp)(const void *, const void *))
{
    size_t lo = 0, hi = n;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (cmp(&a[mid], &x) < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo;
}

void listing_replace(listing_t *l, const uint8_t id[12], listing_item_t *item)
{
    size_t i = 0;
    while (i < l->n && memcmp(l->items[i]->id, id, 12) != 0)
        i++;
    if (i < l->n) { /* out of every order (the _id tie-breaker makes its position exact), then of the set */
        listing_item_t *old = l->items[i];
        for (int o = 0; o < QUERY_ORDERS; o++) {
            listing_item_t **a = l->sorted[o];
            size_t at = lower_bound(a, l->n, old, comparators[o]);
            memmove(a + at, a + at + 1, (l->n - at - 1) * sizeof(*a));
        }
        l->bytes -= old->bytes;
        l->items[i] = l->items[l->n - 1];
        l->n--;
        free(old);
    }
    if (item == NULL)
        return;
    listing_add(l, item); /* n counts it now; the orders still hold n - 1 */
    for (int o = 0; o < QUERY_ORDERS; o++) {
        listing_item_t **a = l->sorted[o];
        size_t at = lower_bound(a, l->n - 1, item, comparators[o]);
        memmove(a + at + 1, a + at, (l->n - 1 - at) * sizeof(*a));
        a[at] = item;
    }
}

void listing_sort(listing_t *l)
{
    for (int o = 0; o < QUERY_ORDERS; o++) {
        free(l->sorted[o]);
        l->sorted[o] = xmalloc((l->cap ? l->cap : 1) * sizeof(*l->sorted[o]));
        if (l->n != 0)
            memcpy(l->sorted[o], l->items, l->n * sizeof(*l->items));
        qsort(l->sorted[o], l->n, sizeof(*l->sorted[o]), comparators[o]);
    }
}

/* ---- filter: products_store_list_filter's, in memory ---- */

typedef struct {
    const query_t *q;
    pcre2_code *re;
    pcre2_match_data *md;
} filter_t;

static int text_matches(const filter_t *f, const char *s)
{
    return s != NULL && pcre2_match(f->re, (PCRE2_SPTR)s, PCRE2_ZERO_TERMINATED, 0, 0, f->md, NULL) >= 0;
}

static int category_matches(const query_t *q, const char *category)
{
    if (category == NULL)
        return 0;
    for (size_t i = 0; i < q->ncategories; i++)
        if (strcmp(q->categories[i], category) == 0)
            return 1;
    return 0;
}

static int matches(const filter_t *f, const listing_item_t *it)
{
    const query_t *q = f->q;
    if (q->ncategories != 0 && !category_matches(q, it->category))
        return 0;
    if ((q->has_min_price || q->has_max_price) && !(it->has & LISTING_HAS_PRICE))
        return 0;
    if ((q->has_min_price && it->price_cents < q->min_price_cents) || (q->has_max_price && it->price_cents > q->max_price_cents))
        return 0;
    if (q->in_stock >= 0 && (!(it->has & LISTING_HAS_STOCK) || (q->in_stock ? it->stock <= 0 : it->stock != 0)))
        return 0;
    return !q->has_q || text_matches(f, it->name_lc) || text_matches(f, it->description);
}

/* Compiles q's regex as the store's filter has it (the "i" flag, UTF-8). */
static int filter_open(filter_t *f, const query_t *q)
{
    f->q = q;
    f->re = NULL;
    f->md = NULL;
    if (!q->has_q)
        return 0;
    char re[QUERY_Q_REGEX_MAX];
    query_q_regex(q->q, re);
    int code;
    PCRE2_SIZE at;
    f->re = pcre2_compile((PCRE2_SPTR)re, PCRE2_ZERO_TERMINATED, PCRE2_UTF | PCRE2_CASELESS | PCRE2_MATCH_INVALID_UTF, &code, &at,
                          NULL);
    if (f->re == NULL)
        return -1;
    pcre2_jit_compile(f->re, PCRE2_JIT_COMPLETE); /* faster when available; the interpreter otherwise */
    f->md = pcre2_match_data_create_from_pattern(f->re, NULL);
    return 0;
}

static void filter_close(filter_t *f)
{
    pcre2_match_data_free(f->md);
    pcre2_code_free(f->re);
}

/* ---- results ---- */

/* A growing string (xrealloc). */
typedef struct {
    char *s;
    size_t len, cap;
} buf_t;

static void buf_add(buf_t *b, const char *s, size_t n)
{
    if (b->len + n + 1 > b->cap) {
        b->cap = (b->len + n + 1) * 2;
        b->s = xrealloc(b->s, b->cap);
    }
    memcpy(b->s + b->len, s, n);
    b->len += n;
    b->s[b->len] = '\0';
}

char *listing_page(const listing_t *l, const query_t *q, size_t *len, int64_t *count)
{
    filter_t f;
    if (filter_open(&f, q) != 0)
        return NULL;
    buf_t b = {0};
    buf_add(&b, "{\"products\":[", 13);
    listing_item_t *const *sorted = l->sorted[q->order];
    int64_t matched = 0, end = q->offset + q->limit;
    for (size_t k = 0; k < l->n; k++) {
        const listing_item_t *it = sorted[q->order_desc ? l->n - 1 - k : k];
        if (!matches(&f, it))
            continue;
        if (matched >= q->offset && matched < end) {
            if (matched > q->offset)
                buf_add(&b, ",", 1);
            buf_add(&b, it->json, it->json_len);
        }
        matched++;
    }
    filter_close(&f);
    char tail[96];
    int n = snprintf(tail, sizeof(tail), "],\"count\":%lld,\"offset\":%lld,\"limit\":%d}", (long long)matched, (long long)q->offset,
                     q->limit);
    buf_add(&b, tail, (size_t)n);
    *len = b.len;
    *count = matched;
    return b.s;
}

static int cmp_str_ptr(const void *x, const void *y)
{
    return strcmp(*(const char *const *)x, *(const char *const *)y);
}

void listing_category_counts(const listing_t *l, void (*cb)(void *data, const char *slug, int64_t count), void *data)
{
    const char **cats = xmalloc((l->n ? l->n : 1) * sizeof(*cats));
    size_t n = 0;
    for (size_t i = 0; i < l->n; i++)
        if (l->items[i]->category != NULL)
            cats[n++] = l->items[i]->category;
    qsort(cats, n, sizeof(*cats), cmp_str_ptr);
    for (size_t i = 0; i < n;) {
        size_t j = i;
        while (j < n && strcmp(cats[j], cats[i]) == 0)
            j++;
        cb(data, cats[i], (int64_t)(j - i));
        i = j;
    }
    free(cats);
}
