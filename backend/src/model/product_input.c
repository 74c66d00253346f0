#include "model/product_input.h"
#include "xalloc.h"

#include "model/text.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void input_errors_add(input_errors_t *e, const char *field, const char *fmt, ...)
{
    if (e->n >= INPUT_ERRORS_MAX)
        return;
    char *f = e->items[e->n].field;
    snprintf(f, sizeof(e->items[e->n].field), "%s", field);
    size_t n = strlen(f);
    if (n < strlen(field)) { /* a cut client key must not end inside a UTF-8 sequence */
        while (n > 0 && ((unsigned char)f[n - 1] & 0xC0) == 0x80)
            f[--n] = '\0';
        if (n > 0 && (unsigned char)f[n - 1] >= 0xC0)
            f[--n] = '\0';
    }
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(e->items[e->n].reason, sizeof(e->items[e->n].reason), fmt, ap);
    va_end(ap);
    e->n++;
}

cJSON *input_errors_json(const input_errors_t *errs)
{
    cJSON *arr = cJSON_CreateArray();
    for (size_t i = 0; i < errs->n; i++) {
        cJSON *o = cJSON_CreateObject();
        cJSON_AddStringToObject(o, "field", errs->items[i].field);
        cJSON_AddStringToObject(o, "reason", errs->items[i].reason);
        cJSON_AddItemToArray(arr, o);
    }
    return arr;
}

void product_input_free(product_input_t *in)
{
    free(in->name);
    free(in->name_lc);
    free(in->description);
    free(in->category);
    free(in->image);
    memset(in, 0, sizeof(*in));
}

int product_input_price_cents(double v, int64_t *cents)
{
    if (!isfinite(v) || v < 0 || v > (double)INPUT_PRICE_MAX_CENTS / 100)
        return -1;
    double c = round(v * 100);
    /* cJSON holds a double: 19.99 arrives as 19.989999..., so compare with
     * the nearest two-decimal value instead of testing v*100 for integrality */
    if (fabs(v - c / 100) > 1e-9)
        return -1;
    *cents = (int64_t)c;
    return 0;
}

static const char *type_name(const cJSON *v)
{
    if (cJSON_IsString(v))
        return "a string";
    if (cJSON_IsNumber(v))
        return "a number";
    if (cJSON_IsBool(v))
        return "a boolean";
    if (cJSON_IsNull(v))
        return "null";
    if (cJSON_IsArray(v))
        return "an array";
    if (cJSON_IsObject(v)) {
        /* {"$gt": ""} and friends: say what it looks like */
        return v->child != NULL && v->child->string != NULL && v->child->string[0] == '$' ? "an operator object" : "an object";
    }
    return "something else";
}

/* Adds the error for a text field holding a control or bidirectional
 * formatting character; returns 1 when it did. */
static int reject_flaw(const char *k, const char *s, int allow_breaks, input_errors_t *errs)
{
    switch (text_flaw(s, strlen(s), allow_breaks)) {
    case TEXT_CONTROL:
        input_errors_add(errs, k,
                         allow_breaks ? "must not contain control characters other than tab and line breaks"
                                      : "must not contain control characters");
        return 1;
    case TEXT_BIDI:
        input_errors_add(errs, k, "must not contain bidirectional formatting characters (U+202A to U+202E, U+2066 to U+2069)");
        return 1;
    case TEXT_CLEAN:
        break;
    }
    return 0;
}

static int is_slug(const char *s)
{
    size_t n = strlen(s);
    if (n == 0 || n > INPUT_CATEGORY_MAX || s[0] == '-' || s[n - 1] == '-')
        return 0;
    for (size_t i = 0; i < n; i++) {
        char c = s[i];
        if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || (c == '-' && s[i + 1] != '-')))
            return 0;
    }
    return 1;
}

/* A root-relative path ("/images/a.svg", not "//host") or an absolute
 * http(s) URL with a host; no spaces, controls or backslashes anywhere. */
static int is_image_ref(const char *s)
{
    size_t n = strlen(s);
    if (n == 0 || n > INPUT_IMAGE_MAX)
        return 0;
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c <= 0x20 || c == 0x7f || c == '\\')
            return 0;
    }
    if (s[0] == '/')
        return s[1] != '/';
    size_t skip = strncmp(s, "https://", 8) == 0 ? 8 : strncmp(s, "http://", 7) == 0 ? 7 : 0;
    return skip != 0 && s[skip] != '\0' && s[skip] != '/' && s[skip] != '?' && s[skip] != '#';
}

static char *dup_str(const cJSON *v)
{
    return xstrdup(v->valuestring);
}

/* A string field: checks type and length in code points. */
static int take_string(const cJSON *v, const char *field, size_t min, size_t max, input_errors_t *errs)
{
    if (!cJSON_IsString(v)) {
        input_errors_add(errs, field, "must be a string, not %s", type_name(v));
        return -1;
    }
    size_t chars = text_chars(v->valuestring, strlen(v->valuestring));
    if (chars < min || chars > max) {
        if (min > 0)
            input_errors_add(errs, field, "must be %zu to %zu characters long (got %zu)", min, max, chars);
        else
            input_errors_add(errs, field, "must be at most %zu characters long (got %zu)", max, chars);
        return -1;
    }
    return 0;
}

static void take_readonly(const cJSON *v, const char *k, product_input_t *in, input_errors_t *errs)
{
    if (strcmp(k, "version") == 0) {
        if (!cJSON_IsNumber(v) || v->valuedouble != floor(v->valuedouble) || v->valuedouble < 0 || v->valuedouble > 1e15) {
            input_errors_add(errs, k, "is read-only; when sent it must be the current version number");
            return;
        }
        in->readonly |= RO_VERSION;
        in->ro_version = (int64_t)v->valuedouble;
        return;
    }
    static const struct {
        const char *name;
        unsigned flag;
        size_t off;
    } ro[] = {
        {"id", RO_ID, offsetof(product_input_t, ro_id)},
        {"created_at", RO_CREATED_AT, offsetof(product_input_t, ro_created_at)},
        {"updated_at", RO_UPDATED_AT, offsetof(product_input_t, ro_updated_at)},
        {"currency", RO_CURRENCY, offsetof(product_input_t, ro_currency)},
    };
    for (size_t i = 0; i < sizeof(ro) / sizeof(ro[0]); i++) {
        if (strcmp(k, ro[i].name) != 0)
            continue;
        char *dst = (char *)in + ro[i].off;
        size_t cap = ro[i].flag == RO_CURRENCY ? sizeof(in->ro_currency) : sizeof(in->ro_id);
        if (!cJSON_IsString(v) || strlen(v->valuestring) >= cap) {
            input_errors_add(errs, k, "is read-only; when sent it must be the current value");
            return;
        }
        strcpy(dst, v->valuestring);
        in->readonly |= ro[i].flag;
        return;
    }
}

static int is_readonly_name(const char *k)
{
    return strcmp(k, "id") == 0 || strcmp(k, "created_at") == 0 || strcmp(k, "updated_at") == 0 || strcmp(k, "version") == 0 ||
           strcmp(k, "currency") == 0;
}

/* ---- one parse function per writable field ----
 * Each checks the value (never null: the caller handles null), stores it in
 * *in and returns 0, or adds the field's error and returns -1. */

static int parse_name(const cJSON *v, const char *k, product_input_t *in, input_errors_t *errs)
{
    if (take_string(v, k, 1, INPUT_NAME_MAX, errs) != 0 || reject_flaw(k, v->valuestring, 0, errs))
        return -1;
    if (text_is_blank(v->valuestring, strlen(v->valuestring))) {
        input_errors_add(errs, k, "must not be blank");
        return -1;
    }
    in->name = dup_str(v);
    return 0;
}

static int parse_description(const cJSON *v, const char *k, product_input_t *in, input_errors_t *errs)
{
    if (take_string(v, k, 0, INPUT_DESCRIPTION_MAX, errs) != 0 || reject_flaw(k, v->valuestring, 1, errs))
        return -1;
    in->description = dup_str(v);
    return 0;
}

static int parse_price(const cJSON *v, const char *k, product_input_t *in, input_errors_t *errs)
{
    if (!cJSON_IsNumber(v)) {
        input_errors_add(errs, k, "must be a number, not %s", type_name(v));
        return -1;
    }
    if (product_input_price_cents(v->valuedouble, &in->price_cents) != 0) {
        input_errors_add(errs, k, "must be between 0 and 1000000000 with at most two decimals");
        return -1;
    }
    return 0;
}

static int parse_category(const cJSON *v, const char *k, product_input_t *in, input_errors_t *errs)
{
    if (!cJSON_IsString(v)) {
        input_errors_add(errs, k, "must be a string, not %s", type_name(v));
        return -1;
    }
    if (!is_slug(v->valuestring)) {
        input_errors_add(errs, k, "must be a category slug (lower-case letters, digits and single hyphens, at most 64)");
        return -1;
    }
    in->category = dup_str(v);
    return 0;
}

static int parse_stock(const cJSON *v, const char *k, product_input_t *in, input_errors_t *errs)
{
    if (!cJSON_IsNumber(v)) {
        input_errors_add(errs, k, "must be an integer, not %s", type_name(v));
        return -1;
    }
    if (v->valuedouble != floor(v->valuedouble) || v->valuedouble < 0 || v->valuedouble > (double)INPUT_STOCK_MAX) {
        input_errors_add(errs, k, "must be a whole number between 0 and %lld", INPUT_STOCK_MAX);
        return -1;
    }
    in->stock = (int64_t)v->valuedouble;
    return 0;
}

static int parse_image(const cJSON *v, const char *k, product_input_t *in, input_errors_t *errs)
{
    if (take_string(v, k, 1, INPUT_IMAGE_MAX, errs) != 0)
        return -1;
    if (!is_image_ref(v->valuestring)) {
        input_errors_add(errs, k, "must be a root-relative path (/images/x.svg) or an http(s) URL, without spaces");
        return -1;
    }
    in->image = dup_str(v);
    return 0;
}

/* The writable fields: a member's name picks its row. nullable: null
 * clears the field (PATCH: removes it) instead of being an error. */
static const struct {
    const char *name;
    unsigned flag;
    int nullable;
    int (*parse)(const cJSON *v, const char *k, product_input_t *in, input_errors_t *errs);
} fields[] = {
    {"name", PF_NAME, 0, parse_name},    {"description", PF_DESCRIPTION, 1, parse_description},
    {"price", PF_PRICE, 0, parse_price}, {"category", PF_CATEGORY, 0, parse_category},
    {"stock", PF_STOCK, 0, parse_stock}, {"image", PF_IMAGE, 1, parse_image},
};

/* Checks that root is an object of at most INPUT_FIELDS_MAX members;
 * returns 0, or -1 with the one error added. */
static int check_body(const cJSON *root, input_errors_t *errs)
{
    if (!cJSON_IsObject(root)) {
        input_errors_add(errs, "", "the body must be a JSON object, not %s", type_name(root));
        return -1;
    }
    size_t members = 0;
    for (const cJSON *v = root->child; v != NULL; v = v->next)
        members++;
    if (members > INPUT_FIELDS_MAX) {
        input_errors_add(errs, "", "the body has %zu fields; a product has at most %d", members, INPUT_FIELDS_MAX);
        return -1;
    }
    return 0;
}

/* A read-only member k: refused in a create (but the server's currency),
 * recorded in *in otherwise (compared with the stored values later). */
static void parse_readonly(const cJSON *v, const char *k, input_mode_t mode, const char *currency, product_input_t *in,
                           input_errors_t *errs)
{
    if (mode == INPUT_CREATE && strcmp(k, "currency") != 0)
        input_errors_add(errs, k, "is assigned by the server; leave it out when creating");
    else if (mode == INPUT_CREATE && !(cJSON_IsString(v) && strcmp(v->valuestring, currency) == 0))
        input_errors_add(errs, k, "is read-only (it is %s)", currency);
    else
        take_readonly(v, k, in, errs);
}

/* Validates member v of root into *in, adding at most one error for it:
 * a repeated or unsafe name, a read-only field, an unknown field, a null
 * where none is allowed, or the field's own parse. */
static void parse_member(const cJSON *root, const cJSON *v, input_mode_t mode, const char *currency, product_input_t *in,
                         input_errors_t *errs)
{
    const char *k = v->string;
    int dup = 0;
    for (const cJSON *p = root->child; p != v; p = p->next)
        dup |= strcmp(p->string, k) == 0;
    if (dup) {
        input_errors_add(errs, k, "appears more than once");
        return;
    }
    if (k[0] == '$' || strchr(k, '.') != NULL) {
        input_errors_add(errs, k, "field names may not start with '$' or contain '.'");
        return;
    }
    if (is_readonly_name(k)) {
        parse_readonly(v, k, mode, currency, in, errs);
        return;
    }
    size_t i = 0;
    while (i < sizeof(fields) / sizeof(fields[0]) && strcmp(k, fields[i].name) != 0)
        i++;
    if (i == sizeof(fields) / sizeof(fields[0])) {
        input_errors_add(errs, k, "is not a product field (known: name, description, price, category, stock, image)");
        return;
    }
    if (cJSON_IsNull(v)) {
        if (fields[i].nullable)
            in->cleared |= fields[i].flag;
        else
            input_errors_add(errs, k, "is required and cannot be null");
        return;
    }
    if (fields[i].parse(v, k, in, errs) == 0)
        in->present |= fields[i].flag;
}

/* Create and replace: adds "is required" for name, price and category
 * when absent and not already named by an error. */
static void check_required(const product_input_t *in, input_errors_t *errs)
{
    static const struct {
        unsigned flag;
        const char *name;
    } required[] = {{PF_NAME, "name"}, {PF_PRICE, "price"}, {PF_CATEGORY, "category"}};
    for (size_t i = 0; i < 3; i++) {
        int errored = 0;
        for (size_t j = 0; j < errs->n; j++)
            errored |= strcmp(errs->items[j].field, required[i].name) == 0;
        if (!(in->present & required[i].flag) && !errored)
            input_errors_add(errs, required[i].name, "is required");
    }
}

int product_input_parse(const cJSON *root, input_mode_t mode, const char *currency, product_input_t *in, input_errors_t *errs)
{
    memset(in, 0, sizeof(*in));
    errs->n = 0;
    if (check_body(root, errs) != 0)
        return -1;
    for (const cJSON *v = root->child; v != NULL; v = v->next)
        parse_member(root, v, mode, currency, in, errs);
    if (mode != INPUT_PATCH)
        check_required(in, errs);
    if (errs->n == 0 && (in->present & PF_NAME)) {
        size_t ll;
        in->name_lc = text_lower(in->name, strlen(in->name), &ll);
        if (in->name_lc == NULL)
            input_errors_add(errs, "name", "must be valid UTF-8 text");
    }
    if (errs->n != 0) {
        product_input_free(in);
        return -1;
    }
    return 0;
}
