/* The bytes a cached read is stored as in Redis: a short text header
 * (format version, status, generation, lengths) followed by the ETag, the
 * Link header value and the body, so a hit is answered without parsing
 * JSON or hashing.
 *
 *   "CE1 <status> <gen> <etag_len> <link_len> <body_len>\n" <etag> <link> <body>
 *
 * gen is the list generation the value was read under (0 for products): a
 * list value of another generation than the current one is a miss.
 *
 * Pure code. */
#ifndef CATALOG_ENTRY_H
#define CATALOG_ENTRY_H

#include <stddef.h>
#include <stdint.h>

typedef struct {
    int status; /* 200; 404: a cached "no such product"; 400: a list naming a category that does not exist (body: its slug) */
    uint64_t gen;
    const char *etag;
    size_t etag_len;
    const char *link;
    size_t link_len;
    const char *body;
    size_t body_len;
    const char *raw; /* the whole stored bytes the view was decoded from */
    size_t raw_len;
} entry_view_t;

/* Encodes an entry. Returns a malloc'd buffer (caller frees) and its length
 * in *len (out of memory aborts: xalloc.h). */
char *entry_encode(int status, uint64_t gen, const char *etag, size_t etag_len, const char *link, size_t link_len, const char *body,
                   size_t body_len, size_t *len);

/* Checks and splits stored bytes; the view points into buf. Returns 0, or -1
 * when the bytes are not a well-formed entry (old format, truncated, junk):
 * the caller treats that as a miss and overwrites the key. */
int entry_decode(const char *buf, size_t len, entry_view_t *view);

/* Computes a strong ETag from a body's SHA-256: "\"<22 base64url chars>\"".
 * buf needs 32 bytes. Returns the length. */
int entry_hash_etag(const char *body, size_t len, char *buf);

/* The TTL a fill uses: ttl shortened by random(0 .. ttl*pct/100), so
 * entries filled together do not all expire together; never longer than
 * ttl, never below 1. */
unsigned entry_jittered_ttl(unsigned ttl, unsigned pct, uint64_t random);

/* Parses a generation: 1 to 19 decimal digits, no leading zero (the rule
 * the scripts check in Lua, GEN_IS_VALID_LUA). Returns 0 when not valid. */
uint64_t entry_parse_gen(const char *s, size_t len);

#endif
