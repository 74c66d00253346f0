/* The catalogue in memory: one record per product holding what a list
 * query filters and sorts on, and the item's JSON exactly as the API shows
 * it. Pages, counts and per-category counts are computed from it with the
 * semantics of the store's find (filter, sort with the _id tie-breaker,
 * skip, limit), so a page from here has the same bytes as one from
 * MongoDB. Pure code (PCRE2 for q, as MongoDB itself matches regexes). */
#ifndef CATALOG_LISTING_H
#define CATALOG_LISTING_H

#include <bson/bson.h>
#include <stddef.h>
#include <stdint.h>

#include "model/query.h"

/* Which sort keys a record has: a field missing (or of another type than
 * the API writes) sorts before every present one, as null does in MongoDB,
 * and matches no range. */
enum { LISTING_HAS_PRICE = 1, LISTING_HAS_STOCK = 2, LISTING_HAS_CREATED = 4 };

typedef struct {
    uint8_t id[12]; /* the ObjectId's bytes: MongoDB orders ObjectIds bytewise */
    unsigned has;   /* LISTING_HAS_* */
    int64_t price_cents, stock, created_ms;
    const char *category, *name_lc, *description; /* NULL when absent or not a string */
    const char *json;                             /* the item, as product_to_json prints it */
    size_t json_len;
    size_t bytes; /* the record's one allocation */
} listing_item_t;

/* Builds the record of one stored product document (one allocation).
 * Returns NULL when the document is not a product (no ObjectId _id). */
listing_item_t *listing_item_from_bson(const bson_t *doc, const char *currency);

/* The records and, per order, their positions sorted ascending by (field,
 * _id); a descending order walks them backwards (MongoDB's {field: -1, _id:
 * -1} is exactly the reverse). */
typedef struct {
    size_t n, cap;
    listing_item_t **items; /* owned */
    listing_item_t **sorted[QUERY_ORDERS];
    size_t bytes; /* the records' allocations */
} listing_t;

void listing_init(listing_t *l);

/* Appends a record (owned by l from now on). Call listing_sort before
 * querying; once sorted, change records with listing_replace. */
void listing_add(listing_t *l, listing_item_t *item);

/* (Re)builds the sorted arrays. */
void listing_sort(listing_t *l);

/* After listing_sort: replaces the record with the given id by item (an
 * addition when there was none, a removal when item is NULL; item owned
 * by l), keeping every order sorted — O(n) moves, no sort. */
void listing_replace(listing_t *l, const uint8_t id[12], listing_item_t *item);

/* Frees every record and array. */
void listing_clear(listing_t *l);

/* The list body of q, {"products":[...],"count":N,"offset":O,"limit":L},
 * as the store path prints it. Returns a malloc'd string (length in *len)
 * and the number of matching records in *count; NULL when q's text cannot
 * be compiled (not expected: it is escaped). */
char *listing_page(const listing_t *l, const query_t *q, size_t *len, int64_t *count);

/* Calls cb once per distinct category with its number of records (records
 * without a category are not counted), in no particular order. */
void listing_category_counts(const listing_t *l, void (*cb)(void *data, const char *slug, int64_t count), void *data);

#endif
