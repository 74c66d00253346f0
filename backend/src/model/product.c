#include "model/product.h"

#include "model/product_input.h"
#include "model/query.h"

#include <stdio.h>
#include <string.h>
#include <time.h>

int product_format_time(int64_t ms, char *buf)
{
    int64_t secs = ms / 1000, rem = ms % 1000;
    if (rem < 0) {
        rem += 1000;
        secs -= 1;
    }
    time_t t = (time_t)secs;
    struct tm tm;
    gmtime_r(&t, &tm);
    int n = (int)strftime(buf, 24, "%Y-%m-%dT%H:%M:%S", &tm);
    n += sprintf(buf + n, ".%03dZ", (int)rem);
    return n;
}

/* Reads exactly n digits at *p into *out; advances *p. Returns 0 or -1. */
static int read_digits(const char **p, int n, int *out)
{
    int v = 0;
    for (int i = 0; i < n; i++, (*p)++) {
        if (**p < '0' || **p > '9')
            return -1;
        v = v * 10 + (**p - '0');
    }
    *out = v;
    return 0;
}

int product_parse_time(const char *s, int64_t *ms)
{
    int y, mo, d, h, mi, sec, oh = 0, om = 0;
    const char *p = s;
    if (read_digits(&p, 4, &y) || *p++ != '-' || read_digits(&p, 2, &mo) || *p++ != '-' || read_digits(&p, 2, &d) ||
        (*p != 'T' && *p != 't') || (p++, read_digits(&p, 2, &h)) || *p++ != ':' || read_digits(&p, 2, &mi) || *p++ != ':' ||
        read_digits(&p, 2, &sec))
        return -1;
    if (mo < 1 || mo > 12 || d < 1 || d > 31 || h > 23 || mi > 59 || sec > 59)
        return -1;
    int frac = 0, digits = 0;
    if (*p == '.') {
        for (p++; *p >= '0' && *p <= '9'; p++, digits++) {
            if (digits < 3)
                frac = frac * 10 + (*p - '0');
            else if (*p != '0')
                return -1;
        }
        if (digits == 0)
            return -1;
        for (int i = digits; i < 3; i++)
            frac *= 10;
    }
    int sign = 0;
    if (*p == 'Z' || *p == 'z') {
        p++;
    } else if (*p == '+' || *p == '-') {
        sign = *p++ == '+' ? 1 : -1;
        if (read_digits(&p, 2, &oh) || *p++ != ':' || read_digits(&p, 2, &om) || oh > 23 || om > 59)
            return -1;
    } else {
        return -1;
    }
    if (*p != '\0')
        return -1;
    struct tm tm = {.tm_year = y - 1900, .tm_mon = mo - 1, .tm_mday = d, .tm_hour = h, .tm_min = mi, .tm_sec = sec};
    time_t t = timegm(&tm);
    if (tm.tm_mday != d) /* timegm normalised an impossible day (Feb 30) */
        return -1;
    *ms = ((int64_t)t - (int64_t)sign * (oh * 3600 + om * 60)) * 1000 + frac;
    return 0;
}

int product_etag(int64_t version, char *buf)
{
    return sprintf(buf, "\"v%lld\"", (long long)version);
}

static int64_t iter_int(const bson_iter_t *it, int64_t dflt)
{
    switch (bson_iter_type(it)) {
    case BSON_TYPE_INT32:
        return bson_iter_int32(it);
    case BSON_TYPE_INT64:
        return bson_iter_int64(it);
    case BSON_TYPE_DOUBLE: { /* tolerated for hand-inserted data; rounded, never truncated */
        double d = bson_iter_double(it);
        return (int64_t)(d < 0 ? d - 0.5 : d + 0.5);
    }
    default:
        return dflt;
    }
}

static void add_string_or_null(cJSON *obj, const char *name, const bson_iter_t *it, int present)
{
    if (present && BSON_ITER_HOLDS_UTF8(it)) {
        uint32_t len;
        const char *s = bson_iter_utf8(it, &len);
        /* cJSON strings are NUL-terminated: a stored NUL would truncate; product text never holds one */
        cJSON_AddItemToObject(obj, name, cJSON_CreateString(s));
    } else {
        cJSON_AddItemToObject(obj, name, cJSON_CreateNull());
    }
}

static void add_time(cJSON *obj, const char *name, const bson_iter_t *it, int present)
{
    char buf[32];
    if (present && BSON_ITER_HOLDS_DATE_TIME(it)) {
        product_format_time(bson_iter_date_time(it), buf);
        cJSON_AddItemToObject(obj, name, cJSON_CreateString(buf));
    } else {
        cJSON_AddItemToObject(obj, name, cJSON_CreateNull());
    }
}

cJSON *product_to_json(const bson_t *doc, const char *currency, int64_t *version_out)
{
    bson_iter_t it;
    bson_iter_t f_id, f_name, f_desc, f_price, f_cat, f_stock, f_image, f_created, f_updated, f_version;
    int h_id = 0, h_name = 0, h_desc = 0, h_price = 0, h_cat = 0, h_stock = 0, h_image = 0, h_created = 0, h_updated = 0,
        h_version = 0;
    if (!bson_iter_init(&it, doc))
        return NULL;
    /* one pass over the document, remembering where each field is */
    while (bson_iter_next(&it)) {
        const char *k = bson_iter_key(&it);
#define TAKE(field, var, flag)                                                                                                     \
    if (strcmp(k, field) == 0) {                                                                                                   \
        var = it;                                                                                                                  \
        flag = 1;                                                                                                                  \
        continue;                                                                                                                  \
    }
        TAKE("_id", f_id, h_id)
        TAKE("name", f_name, h_name)
        TAKE("description", f_desc, h_desc)
        TAKE("price_cents", f_price, h_price)
        TAKE("category", f_cat, h_cat)
        TAKE("stock", f_stock, h_stock)
        TAKE("image", f_image, h_image)
        TAKE("created_at", f_created, h_created)
        TAKE("updated_at", f_updated, h_updated)
        TAKE("version", f_version, h_version)
#undef TAKE
    }
    if (!h_id || !BSON_ITER_HOLDS_OID(&f_id))
        return NULL;

    cJSON *obj = cJSON_CreateObject();
    if (obj == NULL)
        return NULL;
    char hex[25];
    bson_oid_to_string(bson_iter_oid(&f_id), hex);
    cJSON_AddItemToObject(obj, "id", cJSON_CreateString(hex));
    add_string_or_null(obj, "name", &f_name, h_name);
    add_string_or_null(obj, "description", &f_desc, h_desc);
    char price[32];
    query_format_price(h_price ? iter_int(&f_price, 0) : 0, price);
    /* raw: the decimal text is exact; a double would print 0.1+0.2 style noise */
    cJSON_AddItemToObject(obj, "price", cJSON_CreateRaw(price));
    cJSON_AddItemToObject(obj, "currency", cJSON_CreateString(currency));
    add_string_or_null(obj, "category", &f_cat, h_cat);
    cJSON_AddItemToObject(obj, "stock", cJSON_CreateNumber((double)(h_stock ? iter_int(&f_stock, 0) : 0)));
    add_string_or_null(obj, "image", &f_image, h_image);
    add_time(obj, "created_at", &f_created, h_created);
    add_time(obj, "updated_at", &f_updated, h_updated);
    int64_t version = h_version ? iter_int(&f_version, 1) : 1;
    cJSON_AddItemToObject(obj, "version", cJSON_CreateNumber((double)version));
    if (version_out != NULL)
        *version_out = version;
    return obj;
}

/* The writable fields as stored: the PF_* flag, the document's field and
 * the API's name (price is stored in cents). */
static const struct {
    unsigned flag;
    const char *stored, *name;
} writable[] = {
    {PF_NAME, "name", "name"},          {PF_DESCRIPTION, "description", "description"},
    {PF_PRICE, "price_cents", "price"}, {PF_CATEGORY, "category", "category"},
    {PF_STOCK, "stock", "stock"},       {PF_IMAGE, "image", "image"},
};

/* 1 when the two iterators hold the same value (numbers compared as integers). */
static int same_value(const bson_iter_t *a, const bson_iter_t *b)
{
    if (BSON_ITER_HOLDS_NUMBER(a) && BSON_ITER_HOLDS_NUMBER(b))
        return bson_iter_as_int64(a) == bson_iter_as_int64(b);
    if (BSON_ITER_HOLDS_UTF8(a) && BSON_ITER_HOLDS_UTF8(b))
        return strcmp(bson_iter_utf8(a, NULL), bson_iter_utf8(b, NULL)) == 0;
    return bson_iter_type(a) == bson_iter_type(b) && bson_iter_type(a) == BSON_TYPE_NULL;
}

unsigned product_changed_fields(const bson_t *before, const bson_t *after)
{
    unsigned mask = 0;
    for (size_t i = 0; i < sizeof(writable) / sizeof(writable[0]); i++) {
        bson_iter_t a, b;
        int ha = bson_iter_init_find(&a, before, writable[i].stored), hb = bson_iter_init_find(&b, after, writable[i].stored);
        if (ha != hb || (ha && !same_value(&a, &b)))
            mask |= writable[i].flag;
    }
    return mask;
}

int product_field_names(unsigned mask, char *buf)
{
    int n = 0;
    buf[0] = '\0';
    for (size_t i = 0; i < sizeof(writable) / sizeof(writable[0]); i++)
        if (mask & writable[i].flag)
            n += sprintf(buf + n, "%s%s", n ? "," : "", writable[i].name);
    return n;
}
