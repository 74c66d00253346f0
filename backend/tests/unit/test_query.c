#include "check.h"
#include "model/query.h"

static int parse(const char *qs, query_t *q, query_error_t *e)
{
    return query_parse(qs, strlen(qs), q, e);
}

static void expect_error(const char *qs, const char *param)
{
    query_t q;
    query_error_t e;
    int rc = parse(qs, &q, &e);
    CHECK(rc == -1);
    if (rc == -1)
        CHECK_STR(e.param, param);
    else
        fprintf(stderr, "  (query '%s' was accepted)\n", qs);
}

static const char *canon(const char *qs)
{
    static char buf[4096];
    query_t q;
    query_error_t e;
    if (parse(qs, &q, &e) != 0)
        return "ERROR";
    query_canonical(&q, q.offset, buf, sizeof(buf));
    return buf;
}

/* q: the regex it becomes, and the bound on its length */
static void test_q_text(void)
{
    query_t q;
    query_error_t e;
    /* q's regex: punctuation literal; every i also matches i + U+0307 and U+0130 */
    char re[QUERY_Q_REGEX_MAX];
    query_q_regex("a.b", re);
    CHECK_STR(re, "a\\.b");
    query_q_regex("ist", re);
    CHECK_STR(re, "(?:i\xcc\x87?|\xc4\xb0)st");
    query_q_regex("i\xcc\x87st", re); /* "İst" lower-cased */
    CHECK_STR(re, "(?:i\xcc\x87?|\xc4\xb0)st");
    /* 51 × İ lower-case to 102 code points: accepted (the bound is on the text as sent) and kept whole */
    char many[51 * 6 + 3] = "q=";
    for (int i = 0; i < 51; i++)
        strcat(many, "%C4%B0");
    CHECK(parse(many, &q, &e) == 0);
    CHECK(strlen(q.q) == 51 * 3);
    char hundred[100 * 6 + 3] = "q=";
    for (int i = 0; i < 100; i++)
        strcat(hundred, "%C4%B0");
    CHECK(parse(hundred, &q, &e) == 0);
    CHECK(strlen(q.q) == 300);
    query_q_regex(q.q, re);
    CHECK(strlen(re) == 100 * 11);
}

/* parsing every parameter, and the canonical form (the cache key) */
static void test_parse_and_canonical(void)
{
    query_t q;
    query_error_t e;
    /* defaults */
    CHECK(query_parse(NULL, 0, &q, &e) == 0);
    CHECK(q.limit == 20 && q.offset == 0 && q.order == QUERY_ORDER_CREATED_AT && q.order_desc == 1 && q.in_stock == -1);
    CHECK_STR(canon(""), "limit=20&offset=0&order=-created_at");

    /* every parameter */
    CHECK(parse("limit=5&offset=10&category=books&category=electronics&min_price=1.5&max_price=20&in_stock=true&q=Red+Mug&"
                "order=price",
                &q, &e) == 0);
    CHECK(q.limit == 5 && q.offset == 10 && q.ncategories == 2 && q.min_price_cents == 150 && q.max_price_cents == 2000);
    CHECK(q.in_stock == 1 && q.has_q && q.order == QUERY_ORDER_PRICE && q.order_desc == 0);
    CHECK_STR(q.q, "red mug");

    /* normalisation: any order, duplicates, case of q, equivalent prices -> one key */
    CHECK_STR(canon("category=toys&category=books&q=Mug&min_price=1.50"),
              canon("min_price=1.5&q=mUG&category=books&category=toys&category=books"));
    CHECK_STR(canon("category=toys&category=books&q=Mug&min_price=1.50"),
              "category=books&category=toys&limit=20&min_price=1.5&offset=0&order=-created_at&q=mug");
    CHECK_STR(canon("limit=20&order=-created_at"), canon(""));
    CHECK_STR(canon("q=a%2Bb%26c%20d"), "limit=20&offset=0&order=-created_at&q=a%2Bb%26c%20d");
    CHECK_STR(canon("in_stock=false&order=-name"), "in_stock=false&limit=20&offset=0&order=-name");
    CHECK_STR(canon("a=1&&limit=3"), "ERROR");
    CHECK_STR(canon("&&limit=3&"), "limit=3&offset=0&order=-created_at");

    /* the canonical form parses back to the same query (the store job is built from it) */
    const char *samples[] = {"", "q=Caf%C3%A9+%2B%26&category=b&category=a&min_price=0.5&max_price=7&in_stock=false&order=-name",
                             "limit=100&offset=1000000&order=price", "q=%25%5E%24.*%2B%3F()%5B%5D%7B%7D%7C"};
    for (size_t i = 0; i < sizeof(samples) / sizeof(samples[0]); i++) {
        query_t a, b;
        char ca[4096], cb[4096];
        CHECK(parse(samples[i], &a, &e) == 0);
        query_canonical(&a, a.offset, ca, sizeof(ca));
        CHECK(query_parse(ca, strlen(ca), &b, &e) == 0);
        query_canonical(&b, b.offset, cb, sizeof(cb));
        CHECK_STR(cb, ca);
        CHECK(a.limit == b.limit && a.offset == b.offset && a.ncategories == b.ncategories && a.in_stock == b.in_stock &&
              a.has_q == b.has_q && strcmp(a.q, b.q) == 0 && a.order == b.order && a.order_desc == b.order_desc &&
              a.min_price_cents == b.min_price_cents && a.max_price_cents == b.max_price_cents);
    }
}

/* errors name the parameter */
static void test_errors(void)
{
    query_t q;
    query_error_t e;
    /* a broken escape is malformed, not too long */
    expect_error("q=%", "q");
    CHECK(parse("q=%", &q, &e) == -1 && strstr(e.detail, "percent-escape") != NULL);
    CHECK(parse("q=%4", &q, &e) == -1 && strstr(e.detail, "percent-escape") != NULL);
    CHECK(parse("q=%zz", &q, &e) == -1 && strstr(e.detail, "percent-escape") != NULL);
    /* the price cap is 1e9 units, cents included */
    CHECK(parse("min_price=1000000000", &q, &e) == 0);
    expect_error("min_price=1000000000.01", "min_price");
    expect_error("max_price=1000000000.5", "max_price");

    /* errors name the parameter */
    expect_error("colour=red", "colour");
    expect_error("limit=0", "limit");
    expect_error("limit=101", "limit");
    expect_error("limit=abc", "limit");
    expect_error("limit=", "limit");
    expect_error("limit", "limit");
    expect_error("limit=5&limit=6", "limit");
    expect_error("offset=-1", "offset");
    expect_error("offset=1.5", "offset");
    expect_error("min_price=1.234", "min_price");
    expect_error("min_price=-1", "min_price");
    expect_error("max_price=abc", "max_price");
    expect_error("max_price=1e3", "max_price");
    expect_error("min_price=10&max_price=5", "max_price");
    expect_error("in_stock=yes", "in_stock");
    expect_error("order=colour", "order");
    expect_error("order=--price", "order");
    expect_error("order=price&order=name", "order");
    expect_error("category=Books", "category");
    expect_error("category=%24gt", "category");
    expect_error("q=", "q");
    expect_error("q=%ff%fe", "q");
    expect_error("q=%zz", "q");
    expect_error("q=a&q=b", "q");
    expect_error("q=%01", "q");
    char longq[300] = "q=";
    memset(longq + 2, 'x', 101);
    expect_error(longq, "q");
    memset(longq + 2, 'x', 100);
    longq[102] = '\0';
    CHECK(parse(longq, &q, &e) == 0);
    expect_error("%24where=1", "$where");
    expect_error("in_stock=true%00junk", "in_stock");
    expect_error("limit%00x=5", "limit%00x");
    expect_error("%FF=1", "%FF");
}

/* Each parameter's own errors: exactly these details (problem+json shows them). */
static void test_messages(void)
{
    static const char *const cases[][3] = {
        {"colour=red", "colour",
         "parameter 'colour' is not supported; use limit, offset, category, min_price, max_price, in_stock, q or order"},
        {"%FF=1", "%FF", "parameter '%FF' is not supported"},
        {"limit", "limit", "parameter 'limit' needs a value (limit=…)"},
        {"limit=1&limit=2", "limit", "parameter 'limit' may appear only once"},
        {"in_stock=true%00junk", "in_stock", "parameter 'in_stock' has a malformed value"},
        {"order=%4", "order", "parameter 'order' has a malformed percent-escape (%XX)"},
        {"limit=0", "limit", "parameter 'limit' must be an integer from 1 to 100"},
        {"offset=1000001", "offset", "parameter 'offset' must be an integer from 0 to 1000000"},
        {"min_price=1.234", "min_price",
         "parameter 'min_price' must be a non-negative amount with at most two decimals, e.g. 19.99"},
        {"max_price=-1", "max_price", "parameter 'max_price' must be a non-negative amount with at most two decimals, e.g. 19.99"},
        {"min_price=10&max_price=9.99", "max_price", "parameter 'max_price' must not be below min_price"},
        {"in_stock=1", "in_stock", "parameter 'in_stock' must be true or false"},
        {"q=", "q", "parameter 'q' must not be empty"},
        {"q=%ff", "q", "parameter 'q' must be valid UTF-8 text"},
        {"q=a%7fb", "q", "parameter 'q' must not contain control characters"},
        {"order=-", "order", "parameter 'order' must be one of name, price, created_at, optionally prefixed with '-'"},
        {"category=a_b", "category", "parameter 'category' must be a category slug (a-z, 0-9, '-', at most 64 characters)"},
    };
    query_t q;
    query_error_t e;
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        CHECK(parse(cases[i][0], &q, &e) == -1);
        CHECK_STR(e.param, cases[i][1]);
        CHECK_STR(e.detail, cases[i][2]);
    }
    /* a value that does not fit once decoded: too long for q, malformed for the others */
    char big[2 + 401 + 1] = "q=";
    memset(big + 2, 'x', 401);
    big[403] = '\0';
    CHECK(parse(big, &q, &e) == -1);
    CHECK_STR(e.detail, "parameter 'q' must be at most 100 characters");
    char bigcat[9 + 401 + 1] = "category=";
    memset(bigcat + 9, 'x', 401);
    bigcat[410] = '\0';
    CHECK(parse(bigcat, &q, &e) == -1);
    CHECK_STR(e.detail, "parameter 'category' has a malformed value");
    /* at most 20 different categories; a repeated one counts once */
    char cats[32 * 21] = "category=c0";
    for (int i = 1; i < 20; i++)
        sprintf(cats + strlen(cats), "&category=c%d", i);
    strcat(cats, "&category=c0");
    CHECK(parse(cats, &q, &e) == 0 && q.ncategories == 20);
    strcat(cats, "&category=c20");
    CHECK(parse(cats, &q, &e) == -1);
    CHECK_STR(e.detail, "parameter 'category' may be given at most 20 times");
    /* the values each parser sets */
    CHECK(parse("order=-name&in_stock=false&offset=0&max_price=0", &q, &e) == 0);
    CHECK(q.order == QUERY_ORDER_NAME && q.order_desc == 1 && q.in_stock == 0 && q.offset == 0);
    CHECK(q.has_max_price && q.max_price_cents == 0 && !q.has_min_price);
    CHECK(parse("order=created_at", &q, &e) == 0 && q.order == QUERY_ORDER_CREATED_AT && q.order_desc == 0);
}

/* prices and product ids */
static void test_prices_and_ids(void)
{
    /* prices: exact, no floating point */
    int64_t c;
    CHECK(query_parse_price("0", 1, &c) == 0 && c == 0);
    CHECK(query_parse_price("19.99", 5, &c) == 0 && c == 1999);
    CHECK(query_parse_price("0.1", 3, &c) == 0 && c == 10);
    CHECK(query_parse_price("12.", 3, &c) == -1);
    CHECK(query_parse_price(".5", 2, &c) == -1);
    char buf[24];
    query_format_price(1999, buf);
    CHECK_STR(buf, "19.99");
    query_format_price(1250, buf);
    CHECK_STR(buf, "12.5");
    query_format_price(2000, buf);
    CHECK_STR(buf, "20");
    query_format_price(5, buf);
    CHECK_STR(buf, "0.05");
    query_format_price(-150, buf);
    CHECK_STR(buf, "-1.5");

    /* ids */
    char oid[25];
    CHECK(query_object_id("650000000000000000000001", 24, NULL));
    CHECK(query_object_id("65000000000000000000000A", 24, oid));
    CHECK_STR(oid, "65000000000000000000000a");
    CHECK(!query_object_id("65000000000000000000000g", 24, oid));
    CHECK(!query_object_id("6500000000000000000001", 22, NULL));
}

int main(void)
{
    test_q_text();
    test_parse_and_canonical();
    test_errors();
    test_messages();
    test_prices_and_ids();
    return check_report("test_query");
}
