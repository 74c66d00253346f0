#include "check.h"
#include "model/product_input.h"

#include <stdlib.h>

/* Parses json in mode; returns 0 or -1 and leaves errors in *e. */
static int parse(const char *json, input_mode_t mode, product_input_t *in, input_errors_t *e)
{
    cJSON *root = cJSON_Parse(json);
    int rc = product_input_parse(root, mode, "USD", in, e);
    cJSON_Delete(root);
    return rc;
}

/* The first error's field and reason prefix. */
static void fails_on(const char *json, input_mode_t mode, const char *field, const char *reason)
{
    product_input_t in;
    input_errors_t e;
    CHECK(parse(json, mode, &in, &e) == -1);
    CHECK(e.n >= 1);
    if (e.n >= 1) {
        CHECK_STR(e.items[0].field, field);
        if (strncmp(e.items[0].reason, reason, strlen(reason)) != 0) {
            fprintf(stderr, "%s: reason '%s' does not start with '%s'\n", json, e.items[0].reason, reason);
            check_failed_count++;
        }
    }
}

int main(void)
{
    product_input_t in;
    input_errors_t e;
    CHECK(parse("{\"name\":\"Lamp\",\"price\":19.99,\"category\":\"home\",\"stock\":3,\"image\":\"/images/a.svg\","
                "\"description\":\"x\"}",
                INPUT_CREATE, &in, &e) == 0);
    CHECK(in.price_cents == 1999 && in.stock == 3);
    CHECK_STR(in.name_lc, "lamp");
    CHECK(in.present == (PF_NAME | PF_PRICE | PF_CATEGORY | PF_STOCK | PF_IMAGE | PF_DESCRIPTION));
    product_input_free(&in);

    /* prices: doubles near two decimals are exact cents; more decimals are not */
    int64_t c;
    CHECK(product_input_price_cents(0.1 + 0.2, &c) == 0 && c == 30);
    CHECK(product_input_price_cents(1e9, &c) == 0 && c == 100000000000LL);
    CHECK(product_input_price_cents(19.999, &c) == -1);
    CHECK(product_input_price_cents(-0.01, &c) == -1);
    CHECK(product_input_price_cents(1e9 + 0.01, &c) == -1);

    fails_on("[]", INPUT_CREATE, "", "the body must be a JSON object");
    fails_on("{\"price\":1,\"category\":\"a\"}", INPUT_CREATE, "name", "is required");
    fails_on("{\"name\":\"\",\"price\":1,\"category\":\"a\"}", INPUT_CREATE, "name", "must be 1 to 200");
    fails_on("{\"name\":\"  \",\"price\":1,\"category\":\"a\"}", INPUT_CREATE, "name", "must not be blank");
    fails_on("{\"name\":{\"$gt\":\"\"},\"price\":1,\"category\":\"a\"}", INPUT_CREATE, "name",
             "must be a string, not an operator object");
    fails_on("{\"name\":\"a\",\"price\":\"1\",\"category\":\"a\"}", INPUT_CREATE, "price", "must be a number");
    fails_on("{\"name\":\"a\",\"price\":1.005,\"category\":\"a\"}", INPUT_CREATE, "price", "must be between 0");
    fails_on("{\"name\":\"a\",\"price\":1,\"category\":\"Bad Slug\"}", INPUT_CREATE, "category", "must be a category slug");
    fails_on("{\"name\":\"a\",\"price\":1,\"category\":\"a\",\"stock\":1.5}", INPUT_CREATE, "stock", "must be a whole number");
    fails_on("{\"name\":\"a\",\"price\":1,\"category\":\"a\",\"stock\":-1}", INPUT_CREATE, "stock", "must be a whole number");
    fails_on("{\"name\":\"a\",\"price\":1,\"category\":\"a\",\"image\":\"javascript:alert(1)\"}", INPUT_CREATE, "image",
             "must be a root-relative path");
    fails_on("{\"name\":\"a\",\"price\":1,\"category\":\"a\",\"image\":\"//evil.example/x\"}", INPUT_CREATE, "image",
             "must be a root-relative path");
    fails_on("{\"$where\":\"1\"}", INPUT_PATCH, "$where", "field names may not start with '$'");
    fails_on("{\"a.b\":1}", INPUT_PATCH, "a.b", "field names may not start with '$' or contain '.'");
    fails_on("{\"colour\":\"red\"}", INPUT_PATCH, "colour", "is not a product field");
    fails_on("{\"name\":null}", INPUT_PATCH, "name", "is required and cannot be null");
    fails_on("{\"name\":\"a\",\"name\":\"b\"}", INPUT_PATCH, "name", "appears more than once");
    fails_on("{\"version\":\"3\"}", INPUT_PATCH, "version", "is read-only");

    /* every problem is reported, not just the first */
    CHECK(parse("{\"name\":5,\"price\":-1,\"zzz\":1}", INPUT_CREATE, &in, &e) == -1);
    CHECK(e.n == 4); /* name, price, zzz, category required */

    /* PATCH: a subset; null clears optional fields; read-only fields are kept for comparison */
    CHECK(parse("{\"description\":null,\"image\":null,\"stock\":0,\"version\":2,\"id\":\"abc\"}", INPUT_PATCH, &in, &e) == 0);
    CHECK(in.cleared == (PF_DESCRIPTION | PF_IMAGE) && in.present == PF_STOCK);
    CHECK(in.readonly == (RO_VERSION | RO_ID) && in.ro_version == 2);
    CHECK_STR(in.ro_id, "abc");
    product_input_free(&in);
    CHECK(parse("{}", INPUT_PATCH, &in, &e) == 0);
    product_input_free(&in);

    cJSON *arr = input_errors_json(&(input_errors_t){.items = {{"price", "bad"}}, .n = 1});
    char *s = cJSON_PrintUnformatted(arr);
    CHECK_STR(s, "[{\"field\":\"price\",\"reason\":\"bad\"}]");
    free(s);
    cJSON_Delete(arr);
    return check_report("test_product_input");
}
