#include "model/query.h"

#include "model/text.h"

#include <bson/bson.h>
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum {
    P_LIMIT = 1 << 0,
    P_OFFSET = 1 << 1,
    P_MIN = 1 << 2,
    P_MAX = 1 << 3,
    P_STOCK = 1 << 4,
    P_Q = 1 << 5,
    P_ORDER = 1 << 6,
};

static int set_err(query_error_t *err, const char *param, size_t plen, const char *fmt, const char *arg)
{
    size_t n = plen < sizeof(err->param) - 1 ? plen : sizeof(err->param) - 1;
    memcpy(err->param, param, n);
    err->param[n] = '\0';
    snprintf(err->detail, sizeof(err->detail), fmt, err->param, arg ? arg : "");
    return -1;
}

int query_url_decode(const char *s, size_t len, char *out, size_t cap)
{
    size_t o = 0;
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c == '+') {
            c = ' ';
        } else if (c == '%') {
            if (i + 2 >= len || !isxdigit((unsigned char)s[i + 1]) || !isxdigit((unsigned char)s[i + 2]))
                return QUERY_DECODE_MALFORMED;
            char hex[3] = {s[i + 1], s[i + 2], 0};
            c = (unsigned char)strtol(hex, NULL, 16);
            i += 2;
        }
        if (o + 1 >= cap)
            return QUERY_DECODE_TOO_LONG;
        out[o++] = (char)c;
    }
    out[o] = '\0';
    return (int)o;
}

int query_object_id(const char *s, size_t len, char out[25])
{
    if (len != 24)
        return 0;
    for (size_t i = 0; i < 24; i++)
        if (!isxdigit((unsigned char)s[i]))
            return 0;
    if (out != NULL) {
        for (size_t i = 0; i < 24; i++)
            out[i] = (char)tolower((unsigned char)s[i]);
        out[24] = '\0';
    }
    return 1;
}

int query_parse_price(const char *s, size_t len, int64_t *cents)
{
    size_t i = 0;
    int64_t units = 0;
    if (len == 0 || !isdigit((unsigned char)s[0]))
        return -1;
    for (; i < len && isdigit((unsigned char)s[i]); i++) {
        units = units * 10 + (s[i] - '0');
        if (units > QUERY_PRICE_MAX_CENTS / 100)
            return -1;
    }
    int64_t frac = 0;
    if (i < len) {
        if (s[i] != '.')
            return -1;
        size_t digits = len - i - 1;
        if (digits == 0 || digits > 2)
            return -1;
        for (size_t k = i + 1; k < len; k++) {
            if (!isdigit((unsigned char)s[k]))
                return -1;
            frac = frac * 10 + (s[k] - '0');
        }
        if (digits == 1)
            frac *= 10;
    }
    *cents = units * 100 + frac;
    return *cents > QUERY_PRICE_MAX_CENTS ? -1 : 0;
}

int query_format_price(int64_t cents, char *buf)
{
    const char *sign = "";
    uint64_t v = (uint64_t)cents;
    if (cents < 0) {
        sign = "-";
        v = (uint64_t)0 - (uint64_t)cents;
    }
    uint64_t units = v / 100, frac = v % 100;
    if (frac == 0)
        return sprintf(buf, "%s%llu", sign, (unsigned long long)units);
    if (frac % 10 == 0)
        return sprintf(buf, "%s%llu.%llu", sign, (unsigned long long)units, (unsigned long long)(frac / 10));
    return sprintf(buf, "%s%llu.%02llu", sign, (unsigned long long)units, (unsigned long long)frac);
}

static int parse_int(const char *v, size_t len, int64_t max, int64_t *out)
{
    if (len == 0 || len > 10)
        return -1;
    int64_t n = 0;
    for (size_t i = 0; i < len; i++) {
        if (!isdigit((unsigned char)v[i]))
            return -1;
        n = n * 10 + (v[i] - '0');
    }
    if (n > max)
        return -1;
    *out = n;
    return 0;
}

static int is_slug(const char *s, size_t len)
{
    if (len == 0 || len > QUERY_SLUG_MAX)
        return 0;
    for (size_t i = 0; i < len; i++) {
        char c = s[i];
        if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-'))
            return 0;
    }
    return 1;
}

static int cmp_slug(const void *a, const void *b)
{
    return strcmp((const char *)a, (const char *)b);
}

/* A list parameter's parser: turns its decoded value v (NUL-terminated, len
 * bytes, no NUL inside) into q. Returns NULL, or the problem's detail as a
 * set_err format ("parameter '%s' ...%s"); q may then be partly written. */
typedef const char *(*query_param_parse_cb)(query_t *q, const char *v, size_t len);

static const char *query_param_limit(query_t *q, const char *v, size_t len)
{
    int64_t n;
    if (parse_int(v, len, QUERY_LIMIT_MAX, &n) != 0 || n < 1)
        return "parameter '%s' must be an integer from 1 to 100%s";
    q->limit = (int)n;
    return NULL;
}

static const char *query_param_offset(query_t *q, const char *v, size_t len)
{
    int64_t n;
    if (parse_int(v, len, QUERY_OFFSET_MAX, &n) != 0)
        return "parameter '%s' must be an integer from 0 to 1000000%s";
    q->offset = n;
    return NULL;
}

#define QUERY_PRICE_DETAIL "parameter '%s' must be a non-negative amount with at most two decimals, e.g. 19.99%s"
#define QUERY_Q_TOO_LONG "parameter '%s' must be at most 100 characters%s"

static const char *query_param_min_price(query_t *q, const char *v, size_t len)
{
    int64_t n;
    if (query_parse_price(v, len, &n) != 0)
        return QUERY_PRICE_DETAIL;
    q->has_min_price = 1;
    q->min_price_cents = n;
    return NULL;
}

static const char *query_param_max_price(query_t *q, const char *v, size_t len)
{
    int64_t n;
    if (query_parse_price(v, len, &n) != 0)
        return QUERY_PRICE_DETAIL;
    q->has_max_price = 1;
    q->max_price_cents = n;
    return NULL;
}

static const char *query_param_in_stock(query_t *q, const char *v, size_t len)
{
    if (strcmp(v, "true") != 0 && strcmp(v, "false") != 0)
        return "parameter '%s' must be true or false%s";
    q->in_stock = strcmp(v, "true") == 0;
    return NULL;
}

/* q: non-empty UTF-8 text of at most QUERY_Q_MAX characters without control
 * characters, stored lower-cased (text_lower, like name_lc). */
static const char *query_param_q(query_t *q, const char *v, size_t len)
{
    if (len == 0)
        return "parameter '%s' must not be empty%s";
    if (!bson_utf8_validate(v, len, false))
        return "parameter '%s' must be valid UTF-8 text%s";
    if (text_chars(v, len) > QUERY_Q_MAX)
        return QUERY_Q_TOO_LONG;
    for (size_t i = 0; i < len; i++)
        if ((unsigned char)v[i] < 0x20 || v[i] == 0x7f)
            return "parameter '%s' must not contain control characters%s";
    size_t ll;
    char *lc = text_lower(v, len, &ll);
    if (lc == NULL || ll >= sizeof(q->q)) {
        free(lc);
        return QUERY_Q_TOO_LONG;
    }
    memcpy(q->q, lc, ll + 1);
    free(lc);
    q->has_q = 1;
    return NULL;
}

const query_order_desc_t query_orders[QUERY_ORDERS] = {
    [QUERY_ORDER_CREATED_AT] = {"created_at", "created_at"},
    [QUERY_ORDER_PRICE] = {"price", "price_cents"},
    [QUERY_ORDER_NAME] = {"name", "name_lc"},
};

/* order: name, price or created_at, '-' in front for descending. */
static const char *query_param_order(query_t *q, const char *v, size_t len)
{
    int desc = v[0] == '-';
    for (size_t i = 0; i < QUERY_ORDERS; i++) {
        if (strcmp(v + desc, query_orders[i].name) == 0) {
            q->order = (query_order_t)i;
            q->order_desc = desc;
            return NULL;
        }
    }
    return "parameter '%s' must be one of name, price, created_at, optionally prefixed with '-'%s";
}

/* category: a slug, repeatable; a repeated slug counts once, at most
 * QUERY_MAX_CATEGORIES different ones. */
static const char *query_param_category(query_t *q, const char *v, size_t len)
{
    if (!is_slug(v, len))
        return "parameter '%s' must be a category slug (a-z, 0-9, '-', at most 64 characters)%s";
    for (size_t i = 0; i < q->ncategories; i++)
        if (strcmp(q->categories[i], v) == 0)
            return NULL;
    if (q->ncategories == QUERY_MAX_CATEGORIES)
        return "parameter '%s' may be given at most 20 times%s";
    memcpy(q->categories[q->ncategories++], v, len + 1);
    return NULL;
}

/* The list parameters: one row each. */
typedef struct {
    const char *name;
    unsigned bit; /* in query_parse's mask of parameters seen; 0: may repeat */
    query_param_parse_cb parse;
    const char *too_long; /* detail when the decoded value does not fit; NULL: a malformed value */
} query_param_t;

/* clang-format off */
static const query_param_t query_params[] = {
    {"limit", P_LIMIT, query_param_limit},
    {"offset", P_OFFSET, query_param_offset},
    {"min_price", P_MIN, query_param_min_price},
    {"max_price", P_MAX, query_param_max_price},
    {"in_stock", P_STOCK, query_param_in_stock},
    {"q", P_Q, query_param_q, QUERY_Q_TOO_LONG},
    {"order", P_ORDER, query_param_order},
    {"category", 0, query_param_category},
};
/* clang-format on */

/* The row of the parameter called name, or NULL. */
static const query_param_t *query_param_find(const char *name)
{
    for (size_t i = 0; i < sizeof(query_params) / sizeof(query_params[0]); i++)
        if (strcmp(query_params[i].name, name) == 0)
            return &query_params[i];
    return NULL;
}

int query_parse(const char *qs, size_t len, query_t *q, query_error_t *err)
{
    memset(q, 0, sizeof(*q));
    q->limit = QUERY_LIMIT_DEFAULT;
    q->in_stock = -1;
    q->order = QUERY_ORDER_CREATED_AT;
    q->order_desc = 1;
    unsigned seen = 0;
    char val[QUERY_Q_MAX * 4 + 1];
    char name[32];

    size_t pos = 0;
    while (qs != NULL && pos < len) {
        const char *amp = memchr(qs + pos, '&', len - pos);
        size_t end = amp ? (size_t)(amp - qs) : len;
        const char *pair = qs + pos;
        size_t plen = end - pos;
        pos = end + 1;
        if (plen == 0)
            continue; /* "a=1&&b=2" */
        const char *eq = memchr(pair, '=', plen);
        size_t rawnamelen = eq ? (size_t)(eq - pair) : plen;
        int nl = query_url_decode(pair, rawnamelen, name, sizeof(name));
        /* a name that is not plain text (NUL, invalid UTF-8) is named as sent */
        if (nl <= 0 || strlen(name) != (size_t)nl || !bson_utf8_validate(name, (size_t)nl, false))
            return set_err(err, pair, rawnamelen, "parameter '%s' is not supported%s", NULL);
        if (eq == NULL)
            return set_err(err, name, (size_t)nl, "parameter '%s' needs a value (%s=…)", name);
        int vl = query_url_decode(eq + 1, plen - rawnamelen - 1, val, sizeof(val));

        const query_param_t *p = query_param_find(name);
        if (p == NULL)
            return set_err(err, name, (size_t)nl,
                           "parameter '%s' is not supported; use limit, offset, category, min_price, max_price, in_stock, q "
                           "or order%s",
                           NULL);
        if (seen & p->bit)
            return set_err(err, name, (size_t)nl, "parameter '%s' may appear only once%s", NULL);
        seen |= p->bit;
        if (vl >= 0 && strlen(val) != (size_t)vl) /* "true%00junk" is not "true" */
            return set_err(err, name, (size_t)nl, "parameter '%s' has a malformed value%s", NULL);
        if (vl == QUERY_DECODE_MALFORMED)
            return set_err(err, name, (size_t)nl, "parameter '%s' has a malformed percent-escape (%%XX)%s", NULL);
        if (vl < 0)
            return set_err(err, name, (size_t)nl, p->too_long ? p->too_long : "parameter '%s' has a malformed value%s", NULL);
        const char *bad = p->parse(q, val, (size_t)vl);
        if (bad != NULL)
            return set_err(err, name, (size_t)nl, bad, NULL);
    }
    if (q->has_min_price && q->has_max_price && q->min_price_cents > q->max_price_cents)
        return set_err(err, "max_price", 9, "parameter '%s' must not be below min_price%s", NULL);
    qsort(q->categories, q->ncategories, sizeof(q->categories[0]), cmp_slug);
    return 0;
}

/* Appends s percent-encoded (RFC 3986 unreserved kept) to buf. */
static int append_encoded(char *buf, size_t cap, size_t *o, const char *s)
{
    static const char hex[] = "0123456789ABCDEF";
    for (; *s; s++) {
        unsigned char c = (unsigned char)*s;
        if (isalnum(c) || c == '-' || c == '_' || c == '.' || c == '~') {
            if (*o + 1 >= cap)
                return -1;
            buf[(*o)++] = (char)c;
        } else {
            if (*o + 3 >= cap)
                return -1;
            buf[(*o)++] = '%';
            buf[(*o)++] = hex[c >> 4];
            buf[(*o)++] = hex[c & 15];
        }
    }
    buf[*o] = '\0';
    return 0;
}

static int append_raw(char *buf, size_t cap, size_t *o, const char *s)
{
    size_t n = strlen(s);
    if (*o + n + 1 > cap)
        return -1;
    memcpy(buf + *o, s, n + 1);
    *o += n;
    return 0;
}

static int append_uint(char *buf, size_t cap, size_t *o, uint64_t v)
{
    char tmp[24];
    size_t n = 0;
    do {
        tmp[n++] = (char)('0' + v % 10);
        v /= 10;
    } while (v != 0);
    if (*o + n + 1 > cap)
        return -1;
    while (n > 0)
        buf[(*o)++] = tmp[--n];
    buf[*o] = '\0';
    return 0;
}

int query_canonical(const query_t *q, int64_t offset, char *buf, size_t cap)
{
    size_t o = 0;
    char num[32];
    buf[0] = '\0';
    /* alphabetical by parameter name */
    for (size_t i = 0; i < q->ncategories; i++) {
        if (append_raw(buf, cap, &o, "category=") || append_encoded(buf, cap, &o, q->categories[i]) ||
            append_raw(buf, cap, &o, "&"))
            return -1;
    }
    if (q->in_stock >= 0 && append_raw(buf, cap, &o, q->in_stock ? "in_stock=true&" : "in_stock=false&"))
        return -1;
    /* hot path (every list request builds its key): no printf */
    if (append_raw(buf, cap, &o, "limit=") || append_uint(buf, cap, &o, (uint64_t)q->limit) || append_raw(buf, cap, &o, "&"))
        return -1;
    if (q->has_max_price) {
        query_format_price(q->max_price_cents, num);
        if (append_raw(buf, cap, &o, "max_price=") || append_raw(buf, cap, &o, num) || append_raw(buf, cap, &o, "&"))
            return -1;
    }
    if (q->has_min_price) {
        query_format_price(q->min_price_cents, num);
        if (append_raw(buf, cap, &o, "min_price=") || append_raw(buf, cap, &o, num) || append_raw(buf, cap, &o, "&"))
            return -1;
    }
    if (append_raw(buf, cap, &o, "offset=") || append_uint(buf, cap, &o, (uint64_t)offset) || append_raw(buf, cap, &o, "&"))
        return -1;
    if (append_raw(buf, cap, &o, "order=") || (q->order_desc && append_raw(buf, cap, &o, "-")) ||
        append_raw(buf, cap, &o, query_orders[q->order].name))
        return -1;
    if (q->has_q && (append_raw(buf, cap, &o, "&q=") || append_encoded(buf, cap, &o, q->q)))
        return -1;
    return (int)o;
}

void query_q_regex(const char *q, char *out)
{
    static const char dot_above[] = "\xcc\x87";            /* U+0307 */
    static const char any_i[] = "(?:i\xcc\x87?|\xc4\xb0)"; /* i, i + U+0307, U+0130 */
    size_t o = 0;
    for (const char *p = q; *p; p++) {
        unsigned char c = (unsigned char)*p;
        if (c == 'i') {
            memcpy(out + o, any_i, sizeof(any_i) - 1);
            o += sizeof(any_i) - 1;
            if (strncmp(p + 1, dot_above, 2) == 0)
                p += 2;
            continue;
        }
        if (c < 0x80 && !((c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == ' '))
            out[o++] = '\\';
        out[o++] = (char)c;
    }
    out[o] = '\0';
}
