#include "check.h"
#include "model/product.h"
#include "model/product_input.h"

#include <stdlib.h>

int main(void)
{
    char buf[32];
    product_format_time(0, buf);
    CHECK_STR(buf, "1970-01-01T00:00:00.000Z");
    product_format_time(1741944413000LL, buf);
    CHECK_STR(buf, "2025-03-14T09:26:53.000Z");
    product_format_time(1741944413123LL, buf);
    CHECK_STR(buf, "2025-03-14T09:26:53.123Z");
    product_format_time(-1, buf);
    CHECK_STR(buf, "1969-12-31T23:59:59.999Z");
    /* parsing: instants, whatever the spelling */
    int64_t ms;
    CHECK(product_parse_time("2025-03-14T09:26:53Z", &ms) == 0 && ms == 1741944413000LL);
    CHECK(product_parse_time("2025-03-14T09:26:53.000Z", &ms) == 0 && ms == 1741944413000LL);
    CHECK(product_parse_time("2025-03-14t09:26:53.5z", &ms) == 0 && ms == 1741944413500LL);
    CHECK(product_parse_time("2025-03-14T10:26:53.123+01:00", &ms) == 0 && ms == 1741944413123LL);
    CHECK(product_parse_time("2025-03-14T08:56:53.123000-00:30", &ms) == 0 && ms == 1741944413123LL);
    CHECK(product_parse_time("1969-12-31T23:59:59.999Z", &ms) == 0 && ms == -1);
    static const char *const bad[] = {"",
                                      "2025-03-14",
                                      "2025-03-14T09:26:53",
                                      "2025-03-14 09:26:53Z",
                                      "2025-02-30T00:00:00Z",
                                      "2025-03-14T24:00:00Z",
                                      "2025-03-14T09:26:53.Z",
                                      "2025-03-14T09:26:53.1234Z",
                                      "2025-03-14T09:26:53Zx",
                                      "2025-03-14T09:26:53+0100",
                                      "25-03-14T09:26:53Z"};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
        CHECK(product_parse_time(bad[i], &ms) == -1);
    CHECK(product_parse_time("2025-03-14T09:26:53.1230Z", &ms) == 0 && ms == 1741944413123LL); /* zeros past ms are fine */
    product_etag(7, buf);
    CHECK_STR(buf, "\"v7\"");

    bson_oid_t oid;
    bson_oid_init_from_string(&oid, "650000000000000000000001");
    bson_t *doc =
        BCON_NEW("_id", BCON_OID(&oid), "name", BCON_UTF8("Caf\xc3\xa9 \"mug\""), "name_lc", BCON_UTF8("x"), "description",
                 BCON_UTF8("A mug."), "price_cents", BCON_INT64(1999), "category", BCON_UTF8("home-kitchen"), "stock",
                 BCON_INT32(3), "image", BCON_UTF8("/images/products/mug.svg"), "created_at", BCON_DATE_TIME(1741944413000LL),
                 "updated_at", BCON_DATE_TIME(1741944413500LL), "version", BCON_INT32(4));
    int64_t version = 0;
    cJSON *obj = product_to_json(doc, "EUR", &version);
    CHECK(obj != NULL);
    char *s = cJSON_PrintUnformatted(obj);
    CHECK_STR(s, "{\"id\":\"650000000000000000000001\",\"name\":\"Caf\xc3\xa9 \\\"mug\\\"\",\"description\":\"A mug.\","
                 "\"price\":19.99,\"currency\":\"EUR\",\"category\":\"home-kitchen\",\"stock\":3,"
                 "\"image\":\"/images/products/mug.svg\",\"created_at\":\"2025-03-14T09:26:53.000Z\","
                 "\"updated_at\":\"2025-03-14T09:26:53.500Z\",\"version\":4}");
    CHECK(version == 4);
    free(s);
    cJSON_Delete(obj);
    bson_destroy(doc);

    /* price exactness over a range of cents: parse the printed text back */
    for (int64_t cents = 0; cents < 100000; cents += 7) {
        bson_t *d = BCON_NEW("_id", BCON_OID(&oid), "price_cents", BCON_INT64(cents));
        cJSON *o = product_to_json(d, "USD", NULL);
        const char *raw = cJSON_GetObjectItem(o, "price")->valuestring;
        char *end;
        long units = strtol(raw, &end, 10), frac = 0;
        if (*end == '.') {
            frac = strtol(end + 1, NULL, 10);
            if (strlen(end + 1) == 1)
                frac *= 10;
        }
        CHECK(units * 100 + frac == cents);
        cJSON_Delete(o);
        bson_destroy(d);
    }

    /* missing optional fields; no _id -> NULL */
    bson_t *bare = BCON_NEW("_id", BCON_OID(&oid));
    obj = product_to_json(bare, "USD", &version);
    s = cJSON_PrintUnformatted(obj);
    CHECK_STR(s, "{\"id\":\"650000000000000000000001\",\"name\":null,\"description\":null,\"price\":0,\"currency\":\"USD\","
                 "\"category\":null,\"stock\":0,\"image\":null,\"created_at\":null,\"updated_at\":null,\"version\":1}");
    free(s);
    cJSON_Delete(obj);
    bson_destroy(bare);
    bson_t *noid = BCON_NEW("name", BCON_UTF8("x"));
    CHECK(product_to_json(noid, "USD", NULL) == NULL);
    bson_destroy(noid);
    /* which writable fields an update changed, by their API names */
    bson_t *a = BCON_NEW("name", "Mug", "name_lc", "mug", "price_cents", BCON_INT64(1250), "category", "home", "stock",
                         BCON_INT32(3), "version", BCON_INT64(4));
    bson_t *b = BCON_NEW("name", "Mug", "name_lc", "mug", "price_cents", BCON_INT64(1300), "category", "home", "stock",
                         BCON_INT64(3), "image", "/images/mug.svg", "version", BCON_INT64(5));
    CHECK(product_changed_fields(a, a) == 0);
    CHECK(product_changed_fields(a, b) == (PF_PRICE | PF_IMAGE)); /* int32 3 and int64 3 are the same stock */
    CHECK(product_changed_fields(b, a) == (PF_PRICE | PF_IMAGE));
    char names[PRODUCT_FIELD_NAMES_MAX];
    CHECK(product_field_names(product_changed_fields(a, b), names) == 11);
    CHECK_STR(names, "price,image");
    CHECK(product_field_names(0, names) == 0);
    CHECK_STR(names, "");
    product_field_names(PF_NAME | PF_DESCRIPTION | PF_PRICE | PF_CATEGORY | PF_STOCK | PF_IMAGE, names);
    CHECK_STR(names, "name,description,price,category,stock,image");
    bson_destroy(a);
    bson_destroy(b);
    return check_report("test_product");
}
