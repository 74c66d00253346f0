/* The product as the API shows it: shaping MongoDB documents into the one
 * JSON form used everywhere (item, list, future write responses). Pure code. */
#ifndef CATALOG_PRODUCT_H
#define CATALOG_PRODUCT_H

#include <bson/bson.h>
#include <cjson/cJSON.h>
#include <stdint.h>

/* Builds the JSON object of one stored product document:
 * id, name, description, price (exact, from integer cents), currency,
 * category, stock, image, created_at, updated_at (RFC 3339 UTC), version.
 * Missing optional fields become null (strings) or 0 (numbers).
 * Returns a new cJSON object owned by the caller, or NULL when the document
 * has no ObjectId _id or memory runs out. *version_out (if not NULL) gets
 * the document's version (1 when absent). */
cJSON *product_to_json(const bson_t *doc, const char *currency, int64_t *version_out);

/* Formats a BSON datetime (ms since the epoch) as RFC 3339 UTC, always
 * with milliseconds: "2025-03-14T09:26:53.000Z" (one format for every
 * timestamp the API shows). buf needs 32 bytes. Returns the length. */
int product_format_time(int64_t ms, char *buf);

/* Parses an RFC 3339 date-time ("2025-03-14T09:26:53Z", with any fraction
 * and a "Z" or "+hh:mm"/"-hh:mm" offset; 't'/'z' accepted) into ms since
 * the epoch. Returns 0, or -1 when malformed or when the fraction holds
 * more than milliseconds (an instant no stored time can equal). */
int product_parse_time(const char *s, int64_t *ms);

/* The writable fields (PF_* of model/product_input.h) whose stored values
 * differ between two documents of one product: name, description,
 * price (price_cents), category, stock, image; a field absent from one and
 * present in the other differs. */
unsigned product_changed_fields(const bson_t *before, const bson_t *after);

/* Writes the names of the PF_* fields in mask, comma-separated in a fixed
 * order ("name,price"), into buf (at least PRODUCT_FIELD_NAMES_MAX bytes).
 * Returns the length. */
#define PRODUCT_FIELD_NAMES_MAX 64
int product_field_names(unsigned mask, char *buf);

/* Formats a product's ETag from its version: "\"v<version>\"" (strong).
 * buf needs 32 bytes. Returns the length. */
int product_etag(int64_t version, char *buf);

#endif
