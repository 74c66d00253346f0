/* List parameters of GET /api/products: parsing, validation and the
 * canonical form used both as the cache key and in Link URLs. Pure code. */
#ifndef CATALOG_QUERY_H
#define CATALOG_QUERY_H

#include <stddef.h>
#include <stdint.h>

#define QUERY_LIMIT_DEFAULT 20
#define QUERY_LIMIT_MAX 100
#define QUERY_OFFSET_MAX 1000000
#define QUERY_MAX_CATEGORIES 20
#define QUERY_SLUG_MAX 64
#define QUERY_Q_MAX 100                      /* characters after decoding (bytes: 4x) */
#define QUERY_PRICE_MAX_CENTS 100000000000LL /* 1e9 currency units */

typedef enum { QUERY_ORDER_CREATED_AT, QUERY_ORDER_PRICE, QUERY_ORDER_NAME, QUERY_ORDERS } query_order_t;

/* One descriptor per order: its name in the API (order=, the cache key)
 * and the stored field it sorts on. */
typedef struct {
    const char *name;
    const char *field;
} query_order_desc_t;

extern const query_order_desc_t query_orders[QUERY_ORDERS];

typedef struct {
    int limit;
    int64_t offset;
    size_t ncategories; /* sorted, without duplicates */
    char categories[QUERY_MAX_CATEGORIES][QUERY_SLUG_MAX + 1];
    int has_min_price, has_max_price;
    int64_t min_price_cents, max_price_cents;
    int in_stock; /* -1: any, 0: stock == 0, 1: stock > 0 */
    int has_q;
    char q[QUERY_Q_MAX * 4 + 1]; /* decoded, lower-cased like name_lc (text_lower) */
    query_order_t order;
    int order_desc;
} query_t;

typedef struct {
    char param[32];   /* the offending parameter, as sent (truncated) */
    char detail[256]; /* a sentence for problem+json's detail */
} query_error_t;

/* Parses a raw query string (without '?', may be NULL/empty) into *q.
 * Returns 0, or -1 with *err naming the parameter: unknown parameter,
 * repeated single-valued parameter, malformed or out-of-range value. */
int query_parse(const char *qs, size_t len, query_t *q, query_error_t *err);

/* Writes the canonical query string of *q (parameters in a fixed order,
 * defaults spelled out, values normalised and percent-encoded) with the given
 * offset into buf. Same parameters in any order give the same string.
 * Returns the length, or -1 if cap is too small. */
int query_canonical(const query_t *q, int64_t offset, char *buf, size_t cap);

/* Room for the regex of the longest q: an 'i' becomes 11 bytes. */
#define QUERY_Q_REGEX_MAX (QUERY_Q_MAX * 4 * 11 + 1)

/* Writes into out (QUERY_Q_REGEX_MAX bytes) the regular expression that
 * finds the lower-cased text q as a literal substring of a name_lc or, with
 * the "i" flag, of a description: ASCII punctuation escaped (PCRE and RE2
 * read it as itself), and every 'i' — alone or followed by U+0307, which is
 * how U+0130 'İ' lower-cases — matches i, i + U+0307 and İ, so "istanbul",
 * "ISTANBUL" and "İstanbul" find each other. */
void query_q_regex(const char *q, char *out);

/* Parses "12", "12.5", "12.50" into cents exactly (no floating point).
 * Returns 0 or -1 (negative, more than two decimals, junk, too large). */
int query_parse_price(const char *s, size_t len, int64_t *cents);

/* Writes cents as a decimal with at most two decimals ("12", "12.5",
 * "12.05", "-0.5"); buf needs 24 bytes. Returns the length. */
int query_format_price(int64_t cents, char *buf);

#define QUERY_DECODE_MALFORMED (-1) /* a '%' not followed by two hex digits */
#define QUERY_DECODE_TOO_LONG (-2)  /* the decoded text does not fit */

/* Decodes one x-www-form-urlencoded component ('+' is a space, %XX escapes).
 * Returns the decoded length, or QUERY_DECODE_MALFORMED / QUERY_DECODE_TOO_LONG. */
int query_url_decode(const char *s, size_t len, char *out, size_t cap);

/* Checks the product id form, exactly 24 hex digits; returns 1 and, when
 * out is not NULL, writes it lower-cased (one cache key per product). */
int query_object_id(const char *s, size_t len, char out[25]);

#endif
