/* Auth tokens: JWT HS256 minted and verified with Debian's libjwt (1.10,
 * which checks signatures but no claims), the header's algorithm pinned to
 * HS256 and every claim checked here. Pure code (no I/O). */
#ifndef CATALOG_TOKEN_H
#define CATALOG_TOKEN_H

#include <stddef.h>
#include <stdint.h>

#define TOKEN_MAX_LEN 4096
#define TOKEN_LEEWAY_S 30 /* clock skew allowed on nbf and iat */

typedef enum {
    TOKEN_OK = 0,
    TOKEN_MALFORMED,     /* not three base64url parts with JSON header and claims */
    TOKEN_BAD_ALG,       /* header alg is not HS256 (none, RS256, HS512...) */
    TOKEN_BAD_SIGNATURE, /* does not verify with the secret (nor the previous one) */
    TOKEN_EXPIRED,       /* now >= exp */
    TOKEN_NOT_YET_VALID, /* nbf or iat in the future (beyond the leeway) */
    TOKEN_BAD_CLAIMS,    /* sub, role, iat, exp or jti missing or of the wrong type */
} token_status_t;

typedef struct {
    char sub[65];
    char role[16]; /* "admin" or "viewer" */
    char jti[65];
    int64_t iat, exp;
} token_claims_t;

/* A key: the secret bytes. */
typedef struct {
    const unsigned char *key;
    size_t len;
} token_key_t;

/* Mints a token for sub/role valid from now for ttl_s seconds, with a
 * random jti. Returns a malloc'd string (caller frees) and fills *claims,
 * or NULL when out of memory. */
char *token_mint(token_key_t key, const char *sub, const char *role, int64_t now, unsigned ttl_s, token_claims_t *claims);

/* Verifies token (len bytes) against keys[0..nkeys) in order at time now.
 * Returns TOKEN_OK with *claims filled, or the first reason it fails. */
token_status_t token_verify(const char *token, size_t len, const token_key_t *keys, size_t nkeys, int64_t now,
                            token_claims_t *claims);

/* Plain words for a status, for the 401's detail. */
const char *token_status_text(token_status_t s);

#endif
