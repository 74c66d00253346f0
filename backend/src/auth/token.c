#include "auth/token.h"
#include "xalloc.h"

#include <cjson/cJSON.h>
#include <errno.h>
#include <jwt.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

const char *token_status_text(token_status_t s)
{
    switch (s) {
    case TOKEN_OK:
        return "the token is valid";
    case TOKEN_MALFORMED:
        return "the token is not a well-formed JWT";
    case TOKEN_BAD_ALG:
        return "the token's algorithm is not accepted (only HS256 is)";
    case TOKEN_BAD_SIGNATURE:
        return "the token's signature does not verify";
    case TOKEN_EXPIRED:
        return "the token has expired";
    case TOKEN_NOT_YET_VALID:
        return "the token is not valid yet";
    case TOKEN_BAD_CLAIMS:
        return "the token lacks a required claim (sub, role, iat, exp, jti)";
    }
    return "the token is invalid";
}

/* The header must say alg HS256 (and typ, if any, JWT) before libjwt sees
 * the token: libjwt would otherwise pick the algorithm from it. */
static token_status_t check_header(const char *token, size_t len)
{
    const char *dot = memchr(token, '.', len);
    if (dot == NULL)
        return TOKEN_MALFORMED;
    /* a JWT header is a few dozen bytes: a bigger one is not ours */
    char json[512];
    size_t n;
    if (sodium_base642bin((unsigned char *)json, sizeof(json) - 1, token, (size_t)(dot - token), NULL, &n, NULL,
                          sodium_base64_VARIANT_URLSAFE_NO_PADDING) != 0)
        return TOKEN_MALFORMED;
    json[n] = '\0';
    cJSON *h = cJSON_ParseWithLength(json, n);
    if (!cJSON_IsObject(h)) {
        cJSON_Delete(h);
        return TOKEN_MALFORMED;
    }
    const cJSON *alg = cJSON_GetObjectItemCaseSensitive(h, "alg");
    const cJSON *typ = cJSON_GetObjectItemCaseSensitive(h, "typ");
    token_status_t st = TOKEN_OK;
    if (!cJSON_IsString(alg) || strcmp(alg->valuestring, "HS256") != 0)
        st = TOKEN_BAD_ALG;
    else if (typ != NULL && (!cJSON_IsString(typ) || strcasecmp(typ->valuestring, "JWT") != 0))
        st = TOKEN_MALFORMED;
    else if (cJSON_GetObjectItemCaseSensitive(h, "crit") != NULL)
        st = TOKEN_MALFORMED; /* we understand no extensions */
    cJSON_Delete(h);
    return st;
}

static int copy_claim(const cJSON *c, char *dst, size_t cap)
{
    if (!cJSON_IsString(c) || c->valuestring[0] == '\0' || strlen(c->valuestring) >= cap)
        return -1;
    strcpy(dst, c->valuestring);
    return 0;
}

static int int_claim(const cJSON *c, int64_t *out)
{
    if (!cJSON_IsNumber(c) || c->valuedouble != (double)(int64_t)c->valuedouble)
        return -1;
    *out = (int64_t)c->valuedouble;
    return 0;
}

static token_status_t check_claims(jwt_t *jwt, int64_t now, token_claims_t *claims)
{
    char *json = jwt_get_grants_json(jwt, NULL);
    cJSON *g = json ? cJSON_Parse(json) : NULL;
    free(json);
    token_status_t st = TOKEN_BAD_CLAIMS;
    int64_t nbf = 0;
    const cJSON *nbf_c = g ? cJSON_GetObjectItemCaseSensitive(g, "nbf") : NULL;
    if (!cJSON_IsObject(g) || copy_claim(cJSON_GetObjectItemCaseSensitive(g, "sub"), claims->sub, sizeof(claims->sub)) ||
        copy_claim(cJSON_GetObjectItemCaseSensitive(g, "role"), claims->role, sizeof(claims->role)) ||
        copy_claim(cJSON_GetObjectItemCaseSensitive(g, "jti"), claims->jti, sizeof(claims->jti)) ||
        int_claim(cJSON_GetObjectItemCaseSensitive(g, "iat"), &claims->iat) ||
        int_claim(cJSON_GetObjectItemCaseSensitive(g, "exp"), &claims->exp) || (nbf_c != NULL && int_claim(nbf_c, &nbf)))
        goto done;
    if (strcmp(claims->role, "admin") != 0 && strcmp(claims->role, "viewer") != 0)
        goto done;
    if (now >= claims->exp)
        st = TOKEN_EXPIRED;
    else if (claims->iat > now + TOKEN_LEEWAY_S || (nbf_c != NULL && nbf > now + TOKEN_LEEWAY_S))
        st = TOKEN_NOT_YET_VALID;
    else
        st = TOKEN_OK;
done:
    cJSON_Delete(g);
    return st;
}

token_status_t token_verify(const char *token, size_t len, const token_key_t *keys, size_t nkeys, int64_t now,
                            token_claims_t *claims)
{
    memset(claims, 0, sizeof(*claims));
    if (len == 0 || len > TOKEN_MAX_LEN || memchr(token, '\0', len) != NULL)
        return TOKEN_MALFORMED;
    const char *d1 = memchr(token, '.', len);
    const char *d2 = d1 ? memchr(d1 + 1, '.', len - (size_t)(d1 + 1 - token)) : NULL;
    if (d2 == NULL || memchr(d2 + 1, '.', len - (size_t)(d2 + 1 - token)) != NULL)
        return TOKEN_MALFORMED; /* header.claims.signature */
    token_status_t st = check_header(token, len);
    if (st != TOKEN_OK)
        return st;
    char *copy = xstrndup(token, len);
    st = TOKEN_BAD_SIGNATURE;
    for (size_t i = 0; i < nkeys; i++) {
        jwt_t *jwt = NULL;
        if (keys[i].len == 0)
            continue;
        int rc = jwt_decode(&jwt, copy, keys[i].key, (int)keys[i].len);
        if (rc == 0 && jwt_get_alg(jwt) == JWT_ALG_HS256) {
            st = check_claims(jwt, now, claims);
            jwt_free(jwt);
            break;
        }
        if (rc == 0)
            jwt_free(jwt);
        if (rc != EINVAL) { /* not a signature failure: the body is not JSON, or memory */
            st = TOKEN_MALFORMED;
            break;
        }
    }
    free(copy);
    return st;
}

char *token_mint(token_key_t key, const char *sub, const char *role, int64_t now, unsigned ttl_s, token_claims_t *claims)
{
    memset(claims, 0, sizeof(*claims));
    unsigned char rnd[16];
    randombytes_buf(rnd, sizeof(rnd));
    sodium_bin2hex(claims->jti, sizeof(claims->jti), rnd, sizeof(rnd));
    snprintf(claims->sub, sizeof(claims->sub), "%s", sub);
    snprintf(claims->role, sizeof(claims->role), "%s", role);
    claims->iat = now;
    claims->exp = now + ttl_s;

    jwt_t *jwt = NULL;
    char *out = NULL;
    if (jwt_new(&jwt) != 0)
        return NULL;
    if (jwt_add_grant(jwt, "sub", claims->sub) == 0 && jwt_add_grant(jwt, "role", claims->role) == 0 &&
        jwt_add_grant(jwt, "jti", claims->jti) == 0 && jwt_add_grant_int(jwt, "iat", (long)claims->iat) == 0 &&
        jwt_add_grant_int(jwt, "exp", (long)claims->exp) == 0 && jwt_set_alg(jwt, JWT_ALG_HS256, key.key, (int)key.len) == 0)
        out = jwt_encode_str(jwt);
    jwt_free(jwt);
    return out;
}
