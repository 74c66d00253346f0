#include "check.h"
#include "model/query.h"

#include <ctype.h>
#include <stdint.h>
#include <stdlib.h>

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

/* ---- the cache key (query_canonical) ---- */

/* The list key's prefix and buffer in flow/read.c (CACHE_LIST_PREFIX
 * in cache/cache.h, not included here: it pulls in h2o and hiredis). */
#define LIST_KEY_PREFIX "{products}:list:"
#define KEY_BUF 4096

static int is_unreserved(unsigned char c)
{
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '.' || c == '_' ||
           c == '~';
}

/* The reference encoding, written independently of query.c: RFC 3986
 * unreserved bytes as they are, every other byte %XX with upper-case hex. */
static void ref_encode(const char *s, char *out)
{
    static const char hex[] = "0123456789ABCDEF";
    size_t o = 0;
    for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
        if (is_unreserved(*p)) {
            out[o++] = (char)*p;
        } else {
            out[o++] = '%';
            out[o++] = hex[*p >> 4];
            out[o++] = hex[*p & 15];
        }
    }
    out[o] = '\0';
}

/* Percent-encodes every byte of s (lower-case hex: the key must not depend
 * on how the client spelled its escapes). */
static void encode_all(const char *s, size_t len, char *out)
{
    static const char hex[] = "0123456789abcdef";
    size_t o = 0;
    for (size_t i = 0; i < len; i++) {
        out[o++] = '%';
        out[o++] = hex[(unsigned char)s[i] >> 4];
        out[o++] = hex[(unsigned char)s[i] & 15];
    }
    out[o] = '\0';
}

static size_t utf8_put(uint32_t cp, char *out)
{
    if (cp < 0x80) {
        out[0] = (char)cp;
        return 1;
    }
    if (cp < 0x800) {
        out[0] = (char)(0xC0 | cp >> 6);
        out[1] = (char)(0x80 | (cp & 0x3F));
        return 2;
    }
    if (cp < 0x10000) {
        out[0] = (char)(0xE0 | cp >> 12);
        out[1] = (char)(0x80 | (cp >> 6 & 0x3F));
        out[2] = (char)(0x80 | (cp & 0x3F));
        return 3;
    }
    out[0] = (char)(0xF0 | cp >> 18);
    out[1] = (char)(0x80 | (cp >> 12 & 0x3F));
    out[2] = (char)(0x80 | (cp >> 6 & 0x3F));
    out[3] = (char)(0x80 | (cp & 0x3F));
    return 4;
}

/* Parses qs, checks its key's q part is the reference encoding of the
 * lower-cased q, that the key holds only unreserved bytes, '%XX', '&' and
 * '=', and that the key parses back to itself. Returns 0 when qs was
 * accepted, -1 when refused. */
static int check_q_key(const char *qs)
{
    query_t q, back;
    query_error_t e;
    char key[KEY_BUF], again[KEY_BUF], want[QUERY_Q_MAX * 4 * 3 + 1];
    if (parse(qs, &q, &e) != 0)
        return -1;
    int n = query_canonical(&q, q.offset, key, sizeof(key));
    CHECK(n > 0 && (size_t)n == strlen(key));
    const char *qpart = strstr(key, "&q=");
    CHECK(qpart != NULL);
    if (qpart == NULL)
        return 0;
    ref_encode(q.q, want);
    CHECK_STR(qpart + 3, want);
    for (const char *p = key; *p; p++) {
        unsigned char c = (unsigned char)*p;
        if (c == '%') {
            CHECK(isxdigit((unsigned char)p[1]) && isxdigit((unsigned char)p[2]) && !islower((unsigned char)p[1]) &&
                  !islower((unsigned char)p[2]));
            /* an unreserved byte is never escaped: one spelling per key */
            char hex[3] = {p[1], p[2], 0};
            CHECK(!is_unreserved((unsigned char)strtol(hex, NULL, 16)));
        } else {
            CHECK(is_unreserved(c) || c == '&' || c == '=');
        }
    }
    CHECK(parse(key, &back, &e) == 0);
    CHECK_STR(back.q, q.q);
    CHECK(query_canonical(&back, back.offset, again, sizeof(again)) == n);
    CHECK_STR(again, key);
    return 0;
}

/* Byte classes of q: every printable ASCII byte, sent escaped and (where a
 * query string allows it) as it is; controls refused; every UTF-8 length;
 * code points across the whole range, escaped in the key byte by byte. */
static void test_key_encoding(void)
{
    char qs[64], raw[64], k1[KEY_BUF];
    for (int c = 0x20; c < 0x7f; c++) {
        char ch = (char)c, enc[4];
        encode_all(&ch, 1, enc);
        snprintf(qs, sizeof(qs), "q=x%sx", enc);
        CHECK(check_q_key(qs) == 0);
        query_t q;
        query_error_t e;
        CHECK(parse(qs, &q, &e) == 0);
        char lower = (char)(c >= 'A' && c <= 'Z' ? c + 32 : c);
        CHECK(q.q[0] == 'x' && q.q[1] == lower && q.q[2] == 'x' && q.q[3] == '\0');
        /* upper-case escapes, and the byte unescaped, give the same key */
        snprintf(qs, sizeof(qs), "q=x%%%02Xx", c);
        snprintf(k1, sizeof(k1), "%s", canon(qs));
        snprintf(qs, sizeof(qs), "q=x%sx", enc);
        CHECK_STR(canon(qs), k1);
        if (c != '&' && c != '%' && c != '+' && c != '#' && c != ' ') {
            snprintf(raw, sizeof(raw), "q=x%cx", c);
            CHECK_STR(canon(raw), k1);
        }
    }
    /* the bytes that shape a query string are escaped, so they cannot forge parameters */
    CHECK_STR(canon("q=%26limit%3D5%2B%25%23%3F%2F"), "limit=20&offset=0&order=-created_at&q=%26limit%3D5%2B%25%23%3F%2F");
    CHECK_STR(canon("q=a+b"), "limit=20&offset=0&order=-created_at&q=a%20b");
    CHECK_STR(canon("q=a+b"), canon("q=a%20b"));
    CHECK_STR(canon("q=-._~"), "limit=20&offset=0&order=-created_at&q=-._~");
    /* controls never reach a key */
    for (int c = 0; c < 0x20; c++) {
        snprintf(qs, sizeof(qs), "q=x%%%02Xx", c);
        CHECK(check_q_key(qs) == -1);
    }
    CHECK(check_q_key("q=x%7Fx") == -1);
    /* invalid UTF-8 never reaches a key: lone continuation, overlong, surrogate, past U+10FFFF, truncated */
    CHECK(check_q_key("q=%80") == -1);
    CHECK(check_q_key("q=%C0%AF") == -1);
    CHECK(check_q_key("q=%ED%A0%80") == -1);
    CHECK(check_q_key("q=%F4%90%80%80") == -1);
    CHECK(check_q_key("q=%E2%82") == -1);
    /* each UTF-8 length, sent with lower-case escapes, comes out upper-case */
    CHECK_STR(canon("q=%c3%a9"), "limit=20&offset=0&order=-created_at&q=%C3%A9");
    CHECK_STR(canon("q=%e2%82%ac"), "limit=20&offset=0&order=-created_at&q=%E2%82%AC");
    CHECK_STR(canon("q=%f0%9f%98%80"), "limit=20&offset=0&order=-created_at&q=%F0%9F%98%80");
    CHECK_STR(canon("q=%C3%89"), canon("q=%C3%A9")); /* É lower-cases to é */
    /* code points across the range (every lead and continuation byte value occurs) */
    size_t accepted = 0, tried = 0;
    for (uint32_t cp = 0x80; cp <= 0x10FFFF; cp += (cp < 0x800 ? 1 : cp < 0x10000 ? 7 : 61)) {
        if (cp >= 0xD800 && cp <= 0xDFFF)
            continue;
        char u[8], enc[32];
        size_t ul = utf8_put(cp, u);
        encode_all(u, ul, enc);
        snprintf(qs, sizeof(qs), "q=%s", enc);
        tried++;
        if (check_q_key(qs) == 0)
            accepted++;
    }
    CHECK(accepted == tried); /* valid UTF-8 without C0 controls or DEL is accepted */
    /* categories are slugs: unreserved bytes only, kept as they are */
    CHECK_STR(canon("category=a-0"), "category=a-0&limit=20&offset=0&order=-created_at");
    CHECK_STR(canon("category=%61%2D%30"), canon("category=a-0"));
}

/* A small deterministic generator for shuffles. */
static uint32_t rng_next(uint32_t *s)
{
    *s = *s * 1664525u + 1013904223u;
    return *s >> 8;
}

/* The same parameters in any order, with empty pairs and repeated
 * categories anywhere, make one key; equivalent spellings too. */
static void test_key_order_and_duplicates(void)
{
    const char *params[] = {"limit=7",      "offset=14",     "category=toys", "category=books", "category=a-1",   "min_price=1.5",
                            "max_price=20", "in_stock=true", "q=Mug%20X",     "order=-price",   "category=books", ""};
    enum { NP = sizeof(params) / sizeof(params[0]) };
    const char *want = "category=a-1&category=books&category=toys&in_stock=true&limit=7&max_price=20&min_price=1.5&offset=14&"
                       "order=-price&q=mug%20x";
    uint32_t seed = 42;
    for (int round = 0; round < 2000; round++) {
        const char *p[NP];
        memcpy(p, params, sizeof(p));
        for (size_t i = NP - 1; i > 0; i--) {
            size_t j = rng_next(&seed) % (i + 1);
            const char *t = p[i];
            p[i] = p[j];
            p[j] = t;
        }
        char qs[512] = "";
        for (size_t i = 0; i < NP; i++) {
            if (i)
                strcat(qs, "&");
            strcat(qs, p[i]);
        }
        const char *got = canon(qs);
        if (strcmp(got, want) != 0) {
            fprintf(stderr, "  order: '%s' -> '%s'\n", qs, got);
            CHECK_STR(got, want);
            break;
        }
    }
    /* equivalent spellings of the same values */
    CHECK_STR(canon("%6Cimit=5&%6f%66fset=3"), canon("limit=5&offset=3"));
    CHECK_STR(canon("limit=05&offset=003"), canon("limit=5&offset=3"));
    CHECK_STR(canon("min_price=01.50&max_price=2.00"), canon("min_price=1.5&max_price=2"));
    CHECK_STR(canon("q=MUG"), canon("q=m%75g"));
    CHECK_STR(canon("order=-created_at&in_stock=false"), canon("in_stock=false"));
    CHECK_STR(canon("category=books&category=b%6Foks&category=%62ooks"), canon("category=books"));
    /* 20 distinct categories with repeats are accepted; a 21st distinct one is not */
    char qs[2048] = "";
    for (int i = 0; i < 40; i++) {
        char one[32];
        snprintf(one, sizeof(one), "%scategory=c%02d", i ? "&" : "", 19 - i % 20);
        strcat(qs, one);
    }
    query_t q;
    query_error_t e;
    CHECK(parse(qs, &q, &e) == 0 && q.ncategories == 20);
    CHECK(strncmp(canon(qs), "category=c00&category=c01&", 26) == 0);
    strcat(qs, "&category=c20");
    expect_error(qs, "category");

    /* different queries, different keys */
    const char *distinct[] = {"",
                              "q=a%26limit%3D5",
                              "q=a&limit=5",
                              "q=a%2Bb",
                              "q=a+b",
                              "q=%25",
                              "q=%2525",
                              "category=a&category=b",
                              "category=a-b",
                              "category=ab",
                              "min_price=1",
                              "max_price=1",
                              "in_stock=true",
                              "in_stock=false",
                              "order=price",
                              "order=-price",
                              "order=name",
                              "limit=2",
                              "limit=20&offset=2",
                              "offset=20",
                              "q=a",
                              "q=a%20",
                              "q=%20a"};
    enum { ND = sizeof(distinct) / sizeof(distinct[0]) };
    static char keys[ND][KEY_BUF];
    for (size_t i = 0; i < ND; i++) {
        snprintf(keys[i], sizeof(keys[i]), "%s", canon(distinct[i]));
        CHECK(strcmp(keys[i], "ERROR") != 0);
        for (size_t j = 0; j < i; j++)
            if (strcmp(keys[i], keys[j]) == 0) {
                fprintf(stderr, "  same key for '%s' and '%s'\n", distinct[i], distinct[j]);
                CHECK(strcmp(keys[i], keys[j]) != 0);
            }
    }
}

/* query_canonical writes nothing past cap and fails cleanly when short. */
static void check_caps(const query_t *q, int64_t offset)
{
    char full[KEY_BUF];
    int n = query_canonical(q, offset, full, sizeof(full));
    CHECK(n > 0);
    if (n <= 0)
        return;
    char *buf = malloc((size_t)n + 1 + 16);
    for (size_t cap = 1; cap <= (size_t)n + 1; cap++) {
        memset(buf, 0xA5, (size_t)n + 1 + 16);
        int r = query_canonical(q, offset, buf, cap);
        if (cap <= (size_t)n)
            CHECK(r == -1);
        else
            CHECK(r == n && strcmp(buf, full) == 0);
        int untouched = 1;
        for (size_t i = cap; i < (size_t)n + 1 + 16; i++)
            if ((unsigned char)buf[i] != 0xA5)
                untouched = 0;
        CHECK(untouched);
        if (!untouched) {
            fprintf(stderr, "  wrote past cap %zu\n", cap);
            break;
        }
    }
    free(buf);
}

/* The longest list key there can be fits flow/read.c's key buffer with its
 * prefix: 20 categories of 64 characters, q of 100 four-byte characters,
 * every other parameter at its longest. */
static void test_key_longest(void)
{
    static char qs[16384];
    size_t o = 0;
    for (int i = 0; i < QUERY_MAX_CATEGORIES; i++) {
        o += (size_t)sprintf(qs + o, "category=");
        for (int k = 0; k < QUERY_SLUG_MAX; k++)
            qs[o++] = (char)('a' + (i + k) % 26);
        qs[o++] = '&';
    }
    o += (size_t)sprintf(qs + o, "in_stock=false&limit=100&min_price=999999999.99&max_price=999999999.99&offset=1000000&"
                                 "order=-created_at&q=");
    for (int i = 0; i < QUERY_Q_MAX; i++)
        o += (size_t)sprintf(qs + o, "%%F0%%9F%%98%%80"); /* U+1F600, 4 bytes */
    qs[o] = '\0';
    query_t q;
    query_error_t e;
    CHECK(query_parse(qs, o, &q, &e) == 0);
    CHECK(q.ncategories == 20 && strlen(q.q) == 400);
    char key[KEY_BUF];
    size_t pl = strlen(LIST_KEY_PREFIX);
    memcpy(key, LIST_KEY_PREFIX, pl + 1);
    int n = query_canonical(&q, q.offset, key + pl, sizeof(key) - pl);
    size_t want = 20 * (9 + 64 + 1) +
                  strlen("in_stock=false&limit=100&max_price=999999999.99&min_price=999999999.99&offset=1000000&"
                         "order=-created_at&q=") +
                  400 * 3;
    CHECK(n > 0 && (size_t)n == want);
    printf("longest list key: %zu bytes of %d\n", pl + (size_t)(n > 0 ? n : 0), KEY_BUF);
    CHECK(pl + (size_t)n < KEY_BUF);
    CHECK(check_q_key(key + pl) == 0);
    /* a 100-character q whose lower-case form is longest in bytes (U+0130 -> i + U+0307) fits too */
    query_t q2 = q;
    char big_q[QUERY_Q_MAX * 6 + 3] = "q=";
    for (int i = 0; i < QUERY_Q_MAX; i++)
        strcat(big_q, "%C4%B0");
    query_t only_q;
    CHECK(parse(big_q, &only_q, &e) == 0);
    memcpy(q2.q, only_q.q, sizeof(q2.q));
    CHECK(query_canonical(&q2, q2.offset, key + pl, sizeof(key) - pl) > 0);
    /* Link URLs reuse it with other offsets (handlers/products.c, a 4096-byte buffer) */
    CHECK(query_canonical(&q, INT64_MAX, key, sizeof(key)) > 0);
    check_caps(&q, q.offset);
    check_caps(&q, INT64_MAX);
    query_t dflt;
    CHECK(query_parse(NULL, 0, &dflt, &e) == 0);
    check_caps(&dflt, 0);
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
    test_key_encoding();
    test_key_order_and_duplicates();
    test_key_longest();
    return check_report("test_query");
}
