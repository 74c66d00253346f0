/* The in-memory catalogue's pages against what the store's find gives:
 * ties broken by _id in the sort's direction, a missing key sorted first,
 * filters as products_store_list_filter builds them, q with its i rule,
 * the body byte-for-byte as the store path prints it. */
#include "check.h"
#include "model/listing.h"

#include <stdlib.h>

static void add(listing_t *l, int n, const char *name, const char *cat, int64_t price, int stock, int64_t created, int has_price)
{
    bson_t *d = bson_new();
    bson_oid_t id;
    char hex[25];
    snprintf(hex, sizeof(hex), "%024x", n);
    bson_oid_init_from_string(&id, hex);
    BSON_APPEND_OID(d, "_id", &id);
    BSON_APPEND_UTF8(d, "name", name);
    char lc[64];
    size_t i = 0;
    for (; name[i] && i < sizeof(lc) - 1; i++)
        lc[i] = (char)((name[i] >= 'A' && name[i] <= 'Z') ? name[i] + 32 : name[i]);
    lc[i] = '\0';
    BSON_APPEND_UTF8(d, "name_lc", lc);
    BSON_APPEND_UTF8(d, "description", "plain");
    if (has_price)
        BSON_APPEND_INT64(d, "price_cents", price);
    if (cat)
        BSON_APPEND_UTF8(d, "category", cat);
    BSON_APPEND_INT32(d, "stock", stock);
    BSON_APPEND_DATE_TIME(d, "created_at", created);
    BSON_APPEND_INT32(d, "version", 1);
    listing_item_t *it = listing_item_from_bson(d, "USD");
    CHECK(it != NULL);
    listing_add(l, it);
    bson_destroy(d);
}

/* The ids (last two hex digits) of a page, joined: "03,01". */
static void ids(const listing_t *l, const char *qs, char *out, int64_t *count)
{
    query_t q;
    query_error_t err;
    CHECK(query_parse(qs, strlen(qs), &q, &err) == 0);
    size_t len;
    char *body = listing_page(l, &q, &len, count);
    CHECK(body != NULL && strlen(body) == len);
    out[0] = '\0';
    for (const char *p = body; (p = strstr(p, "\"id\":\"")) != NULL; p += 6) {
        if (out[0])
            strcat(out, ",");
        strncat(out, p + 6 + 22, 2);
    }
    free(body);
}

static void count_cb(void *data, const char *slug, int64_t n)
{
    char *out = data;
    char one[64];
    snprintf(one, sizeof(one), "%s%s=%lld", out[0] ? "," : "", slug, (long long)n);
    strcat(out, one);
}

/* Exactly 256 records (the first capacity), sorted: a replace that adds
 * one grows the set and the three sorted orders (listing_add's realloc of
 * built orders); every order then equals a listing sorted afresh, page by
 * page, byte for byte. */
static void test_growth(void)
{
    listing_t l, fresh, tmp;
    listing_init(&l);
    listing_init(&fresh);
    listing_init(&tmp);
    for (int i = 1; i <= 256; i++) {
        char name[32];
        snprintf(name, sizeof(name), "Item %03d", (i * 37) % 256);
        for (listing_t *t = &l; t != NULL; t = t == &l ? &fresh : NULL)
            add(t, i, name, i % 2 ? "books" : "kitchen", (i * 53) % 1000, i % 7, 1000 + (i * 11) % 300, 1);
    }
    CHECK(l.n == l.cap);
    listing_sort(&l);
    add(&tmp, 999, "Item new", "books", 500, 1, 1150, 1);
    add(&fresh, 999, "Item new", "books", 500, 1, 1150, 1);
    listing_replace(&l, tmp.items[0]->id, tmp.items[0]);
    tmp.n = 0;
    listing_clear(&tmp);
    listing_sort(&fresh);
    CHECK(l.n == 257 && l.cap > 256 && l.bytes == fresh.bytes);
    static const char *const orders[] = {"", "order=price", "order=-price", "order=name", "order=-name", "order=created_at"};
    for (size_t o = 0; o < sizeof(orders) / sizeof(orders[0]); o++) {
        for (int offset = 0; offset < 300; offset += 100) {
            char qs[96];
            int ql = snprintf(qs, sizeof(qs), "%s%slimit=100&offset=%d", orders[o], orders[o][0] ? "&" : "", offset);
            query_t q;
            query_error_t err;
            CHECK(query_parse(qs, (size_t)ql, &q, &err) == 0);
            size_t len, wlen;
            int64_t n, wn;
            char *got = listing_page(&l, &q, &len, &n), *want = listing_page(&fresh, &q, &wlen, &wn);
            CHECK(got != NULL && want != NULL && n == 257 && wn == 257);
            if (got != NULL && want != NULL)
                CHECK(len == wlen && memcmp(got, want, len) == 0);
            free(got);
            free(want);
        }
    }
    listing_clear(&l);
    listing_clear(&fresh);
}

int main(void)
{
    listing_t l;
    listing_init(&l);
    add(&l, 1, "Mug", "kitchen", 500, 3, 1000, 1);
    add(&l, 2, "Apron", "kitchen", 500, 0, 3000, 1);
    add(&l, 3, "Istanbul Kilim Rug", "home", 9000, 1, 2000, 1);
    add(&l, 4, "Book", "books", 0, 5, 2000, 0); /* no price: sorts first, matches no range */
    add(&l, 5, "Bowl", NULL, 1500, 2, 500, 1);
    listing_sort(&l);
    char got[256];
    int64_t n;

    ids(&l, "", got, &n); /* created_at desc, _id desc on ties */
    CHECK_STR(got, "02,04,03,01,05");
    CHECK(n == 5);
    ids(&l, "order=price", got, &n); /* missing first; 500 tie by _id asc */
    CHECK_STR(got, "04,01,02,05,03");
    ids(&l, "order=-price", got, &n);
    CHECK_STR(got, "03,05,02,01,04");
    ids(&l, "order=name", got, &n);
    CHECK_STR(got, "02,04,05,03,01");
    ids(&l, "category=kitchen&category=home&order=price", got, &n);
    CHECK_STR(got, "01,02,03");
    ids(&l, "min_price=5&max_price=15&order=price", got, &n);
    CHECK_STR(got, "01,02,05");
    ids(&l, "in_stock=false", got, &n);
    CHECK_STR(got, "02");
    ids(&l, "q=İSTANBUL", got, &n);
    CHECK_STR(got, "03");
    ids(&l, "q=PLAIN&limit=2&offset=1", got, &n); /* descriptions match too; the count ignores the page */
    CHECK_STR(got, "04,03");
    CHECK(n == 5);
    ids(&l, "offset=10", got, &n);
    CHECK_STR(got, "");
    CHECK(n == 5);

    /* the body, byte-for-byte */
    query_t q;
    query_error_t err;
    CHECK(query_parse("category=books", 14, &q, &err) == 0);
    size_t len;
    char *body = listing_page(&l, &q, &len, &n);
    CHECK_STR(body,
              "{\"products\":[{\"id\":\"000000000000000000000004\",\"name\":\"Book\",\"description\":\"plain\",\"price\":0,"
              "\"currency\":\"USD\",\"category\":\"books\",\"stock\":5,\"image\":null,\"created_at\":\"1970-01-01T00:00:02.000Z\","
              "\"updated_at\":null,\"version\":1}],\"count\":1,\"offset\":0,\"limit\":20}");
    free(body);

    /* a re-read product takes its new place in every order; an addition and
     * a removal too; the orders equal those of a listing sorted afresh */
    uint8_t id3[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 3}, id1[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1},
            id9[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 9};
    listing_t tmp;
    listing_init(&tmp);
    add(&tmp, 3, "Istanbul Kilim Rug", "kitchen", 100, 1, 2000, 1);
    add(&tmp, 6, "Cup", "kitchen", 500, 4, 2500, 1);
    listing_replace(&l, id3, tmp.items[0]);
    listing_replace(&l, tmp.items[1]->id, tmp.items[1]); /* not there yet: added */
    listing_replace(&l, id1, NULL);
    listing_replace(&l, id9, NULL); /* not there: nothing */
    tmp.n = 0;
    listing_clear(&tmp);
    listing_t fresh;
    listing_init(&fresh);
    add(&fresh, 2, "Apron", "kitchen", 500, 0, 3000, 1);
    add(&fresh, 3, "Istanbul Kilim Rug", "kitchen", 100, 1, 2000, 1);
    add(&fresh, 4, "Book", "books", 0, 5, 2000, 0);
    add(&fresh, 5, "Bowl", NULL, 1500, 2, 500, 1);
    add(&fresh, 6, "Cup", "kitchen", 500, 4, 2500, 1);
    listing_sort(&fresh);
    static const char *const orders[] = {
        "", "order=created_at", "order=price", "order=-price", "order=name", "order=-name", "category=kitchen&order=price"};
    for (size_t i = 0; i < sizeof(orders) / sizeof(orders[0]); i++) {
        char want[256];
        int64_t wn;
        ids(&l, orders[i], got, &n);
        ids(&fresh, orders[i], want, &wn);
        CHECK_STR(got, want);
        CHECK(n == wn && n == (i == 6 ? 3 : 5));
    }
    CHECK(l.n == 5 && l.bytes == fresh.bytes);
    listing_clear(&fresh);

    got[0] = '\0';
    listing_category_counts(&l, count_cb, got);
    CHECK_STR(got, "books=1,kitchen=3");
    listing_clear(&l);
    test_growth();
    return check_report("listing");
}
