/* The store's list query — filter and find options — built as typed BSON
 * from validated parameters (products_store.h), apart from the jobs that
 * run it. */
#include "store/products_store.h"

void products_store_list_filter(const query_t *q, bson_t *filter)
{
    if (q->ncategories > 0) {
        bson_t cat, in;
        BSON_APPEND_DOCUMENT_BEGIN(filter, "category", &cat);
        BSON_APPEND_ARRAY_BEGIN(&cat, "$in", &in);
        for (size_t i = 0; i < q->ncategories; i++) {
            char idx[16];
            const char *key;
            bson_uint32_to_string((uint32_t)i, &key, idx, sizeof(idx));
            bson_append_utf8(&in, key, -1, q->categories[i], -1);
        }
        bson_append_array_end(&cat, &in);
        bson_append_document_end(filter, &cat);
    }
    if (q->has_min_price || q->has_max_price) {
        bson_t price;
        BSON_APPEND_DOCUMENT_BEGIN(filter, "price_cents", &price);
        if (q->has_min_price)
            BSON_APPEND_INT64(&price, "$gte", q->min_price_cents);
        if (q->has_max_price)
            BSON_APPEND_INT64(&price, "$lte", q->max_price_cents);
        bson_append_document_end(filter, &price);
    }
    if (q->in_stock >= 0) {
        bson_t stock;
        BSON_APPEND_DOCUMENT_BEGIN(filter, "stock", &stock);
        BSON_APPEND_INT32(&stock, q->in_stock ? "$gt" : "$eq", 0);
        bson_append_document_end(filter, &stock);
    }
    if (q->has_q) {
        char re[QUERY_Q_REGEX_MAX];
        query_q_regex(q->q, re);
        bson_t or, alt;
        BSON_APPEND_ARRAY_BEGIN(filter, "$or", & or);
        BSON_APPEND_DOCUMENT_BEGIN(& or, "0", &alt);
        BSON_APPEND_REGEX(&alt, "name_lc", re, "i");
        bson_append_document_end(& or, &alt);
        BSON_APPEND_DOCUMENT_BEGIN(& or, "1", &alt);
        BSON_APPEND_REGEX(&alt, "description", re, "i");
        bson_append_document_end(& or, &alt);
        bson_append_array_end(filter, & or);
    }
}

void products_store_list_opts(const query_t *q, bson_t *opts)
{
    int dir = q->order_desc ? -1 : 1;
    bson_t sort, proj;
    BSON_APPEND_DOCUMENT_BEGIN(opts, "sort", &sort);
    BSON_APPEND_INT32(&sort, query_orders[q->order].field, dir);
    /* the tie-breaker: pages never repeat or skip items with equal sort keys */
    BSON_APPEND_INT32(&sort, "_id", dir);
    bson_append_document_end(opts, &sort);
    BSON_APPEND_INT64(opts, "skip", q->offset);
    BSON_APPEND_INT64(opts, "limit", q->limit);
    BSON_APPEND_DOCUMENT_BEGIN(opts, "projection", &proj);
    BSON_APPEND_INT32(&proj, "name_lc", 0);
    bson_append_document_end(opts, &proj);
}
