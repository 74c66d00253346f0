/* A product in a write body: strict validation of the JSON a client sent
 * (POST, PUT, PATCH) into typed values, with every problem named by field.
 * Nothing from the body ever reaches MongoDB except these typed values.
 * Pure code. */
#ifndef CATALOG_PRODUCT_INPUT_H
#define CATALOG_PRODUCT_INPUT_H

#include <cjson/cJSON.h>
#include <stddef.h>
#include <stdint.h>

#define INPUT_NAME_MAX 200
#define INPUT_DESCRIPTION_MAX 5000
#define INPUT_IMAGE_MAX 2048
#define INPUT_CATEGORY_MAX 64
#define INPUT_PRICE_MAX_CENTS 100000000000LL /* 1e9 in the currency */
#define INPUT_STOCK_MAX 2147483647LL
#define INPUT_ERRORS_MAX 40 /* > INPUT_FIELDS_MAX: every field's problem is listed */
#define INPUT_FIELDS_MAX 32

typedef enum {
    INPUT_CREATE,  /* POST: name, price, category required */
    INPUT_REPLACE, /* PUT: the same, absent optional fields are removed */
    INPUT_PATCH,   /* PATCH (merge patch): any subset; null clears description/image */
} input_mode_t;

enum {
    PF_NAME = 1 << 0,
    PF_DESCRIPTION = 1 << 1,
    PF_PRICE = 1 << 2,
    PF_CATEGORY = 1 << 3,
    PF_STOCK = 1 << 4,
    PF_IMAGE = 1 << 5,
};

/* Read-only fields a client may echo back (ignored when unchanged). */
enum {
    RO_ID = 1 << 0,
    RO_CREATED_AT = 1 << 1,
    RO_UPDATED_AT = 1 << 2,
    RO_VERSION = 1 << 3,
    RO_CURRENCY = 1 << 4,
};

typedef struct {
    unsigned present;                                      /* PF_* set to a value */
    unsigned cleared;                                      /* PF_* set to null (PATCH: remove; create/replace: absent) */
    char *name, *name_lc, *description, *category, *image; /* malloc'd when present */
    int64_t price_cents, stock;
    unsigned readonly; /* RO_* sent */
    char ro_id[64], ro_created_at[64], ro_updated_at[64], ro_currency[16];
    int64_t ro_version;
} product_input_t;

typedef struct {
    struct {
        char field[72];
        char reason[176];
    } items[INPUT_ERRORS_MAX];
    size_t n;
} input_errors_t;

/* Adds one error (silently dropped beyond INPUT_ERRORS_MAX). */
void input_errors_add(input_errors_t *e, const char *field, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

/* Validates root for mode into *in (zeroed first); currency is the
 * server's (a create may echo it, nothing else). Returns 0, or -1 with
 * every problem in *errs (in then holds nothing to free). */
int product_input_parse(const cJSON *root, input_mode_t mode, const char *currency, product_input_t *in, input_errors_t *errs);

/* Frees the strings of in. */
void product_input_free(product_input_t *in);

/* Parses a price the way the API accepts it: a finite number >= 0 and
 * <= INPUT_PRICE_MAX_CENTS/100 within 1e-9 of a two-decimal value. Returns
 * 0 with *cents, or -1. */
int product_input_price_cents(double v, int64_t *cents);

/* The errors as a JSON array [{"field","reason"}] (caller deletes). */
cJSON *input_errors_json(const input_errors_t *errs);

#endif
