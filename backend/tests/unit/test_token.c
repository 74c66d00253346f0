#include "auth/token.h"
#include "check.h"

#include <jwt.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <stdlib.h>

static const char SECRET[] = "unit-test-secret-0123456789abcdef0123";
static const char OTHER[] = "another-secret-0123456789abcdef012345";

/* base64url without padding */
static void b64url(const unsigned char *in, size_t len, char *out)
{
    int n = EVP_EncodeBlock((unsigned char *)out, in, (int)len);
    while (n > 0 && out[n - 1] == '=')
        n--;
    out[n] = '\0';
    for (char *p = out; *p; p++)
        *p = *p == '+' ? '-' : *p == '/' ? '_' : *p;
}

/* A token with any header, signed with HMAC-SHA256 (or unsigned). */
static char *forge(const char *header, const char *claims, const char *key, int sign)
{
    static char tok[4096];
    char h[1024], c[2048], sig[128] = "";
    b64url((const unsigned char *)header, strlen(header), h);
    b64url((const unsigned char *)claims, strlen(claims), c);
    char input[3200];
    snprintf(input, sizeof(input), "%s.%s", h, c);
    if (sign) {
        unsigned char md[32];
        unsigned int ml;
        HMAC(EVP_sha256(), key, (int)strlen(key), (const unsigned char *)input, strlen(input), md, &ml);
        b64url(md, ml, sig);
    }
    snprintf(tok, sizeof(tok), "%s.%s", input, sig);
    return tok;
}

static token_status_t check(const char *tok, int64_t now)
{
    token_key_t keys[] = {{(const unsigned char *)SECRET, sizeof(SECRET) - 1}};
    token_claims_t c;
    return token_verify(tok, strlen(tok), keys, 1, now, &c);
}

int main(void)
{
    /* RFC 7515 appendix A.1: the HS256 example verifies with its key (and
     * lacks our claims); a one-bit change of the key fails the signature */
    static const char rfc_tok[] = "eyJ0eXAiOiJKV1QiLA0KICJhbGciOiJIUzI1NiJ9"
                                  ".eyJpc3MiOiJqb2UiLA0KICJleHAiOjEzMDA4MTkzODAsDQogImh0dHA6Ly9leGFtcGxlLmNvbS9pc19yb290Ijp0cnVlfQ"
                                  ".dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk";
    static const char rfc_k[] = "AyM1SysPpbyDfgZld3umj1qzKObwVMkoqQ-EstJQLr_T-1qS0gZH75aKtMN3Yj0iPS4hcgUuTwjAzZr1Z9CAow";
    char std[128];
    size_t kl = strlen(rfc_k);
    for (size_t i = 0; i < kl; i++)
        std[i] = rfc_k[i] == '-' ? '+' : rfc_k[i] == '_' ? '/' : rfc_k[i];
    strcpy(std + kl, "==");
    unsigned char key[96];
    int n = EVP_DecodeBlock(key, (const unsigned char *)std, (int)kl + 2) - 2;
    CHECK(n == 64);
    jwt_t *jwt = NULL;
    CHECK(jwt_decode(&jwt, rfc_tok, key, n) == 0);
    CHECK(jwt != NULL && jwt_get_grant_int(jwt, "exp") == 1300819380);
    jwt_free(jwt);
    token_key_t rk[] = {{key, (size_t)n}};
    token_claims_t c;
    CHECK(token_verify(rfc_tok, strlen(rfc_tok), rk, 1, 1300819379, &c) == TOKEN_BAD_CLAIMS); /* signature fine */
    key[0] ^= 1;
    CHECK(token_verify(rfc_tok, strlen(rfc_tok), rk, 1, 1300819379, &c) == TOKEN_BAD_SIGNATURE);

    /* minted tokens round-trip, with the claims */
    token_key_t k = {(const unsigned char *)SECRET, sizeof(SECRET) - 1};
    token_claims_t minted;
    char *tok = token_mint(k, "alice", "admin", 1000000, 3600, &minted);
    CHECK(tok != NULL);
    CHECK(check(tok, 1000001) == TOKEN_OK);
    CHECK(token_verify(tok, strlen(tok), &k, 1, 1000001, &c) == TOKEN_OK);
    CHECK_STR(c.sub, "alice");
    CHECK_STR(c.role, "admin");
    CHECK(c.exp == 1003600 && c.iat == 1000000 && strlen(c.jti) == 32);
    CHECK(check(tok, 1003600) == TOKEN_EXPIRED);
    CHECK(check(tok, 1000000 - 60) == TOKEN_NOT_YET_VALID);
    /* the previous secret during a rotation */
    token_key_t rotated[] = {{(const unsigned char *)OTHER, sizeof(OTHER) - 1}, k};
    CHECK(token_verify(tok, strlen(tok), rotated, 2, 1000001, &c) == TOKEN_OK);
    CHECK(token_verify(tok, strlen(tok), rotated, 1, 1000001, &c) == TOKEN_BAD_SIGNATURE);
    /* a changed claim breaks the signature */
    char *dot = strchr(tok, '.');
    dot[3] = dot[3] == 'A' ? 'B' : 'A';
    CHECK(check(tok, 1000001) == TOKEN_BAD_SIGNATURE);
    free(tok);

    const char *claims = "{\"sub\":\"alice\",\"role\":\"admin\",\"iat\":1000000,\"exp\":1003600,\"jti\":\"x1\"}";
    CHECK(check(forge("{\"alg\":\"HS256\",\"typ\":\"JWT\"}", claims, SECRET, 1), 1000001) == TOKEN_OK);
    CHECK(check(forge("{\"alg\":\"HS256\"}", claims, OTHER, 1), 1000001) == TOKEN_BAD_SIGNATURE);
    CHECK(check(forge("{\"alg\":\"none\"}", claims, SECRET, 0), 1000001) == TOKEN_BAD_ALG);
    CHECK(check(forge("{\"alg\":\"HS512\"}", claims, SECRET, 1), 1000001) == TOKEN_BAD_ALG);
    CHECK(check(forge("{\"alg\":\"RS256\"}", claims, SECRET, 1), 1000001) == TOKEN_BAD_ALG);
    CHECK(check(forge("{\"typ\":\"JWT\"}", claims, SECRET, 1), 1000001) == TOKEN_BAD_ALG);
    CHECK(check(forge("{\"alg\":\"HS256\",\"crit\":[\"x\"]}", claims, SECRET, 1), 1000001) == TOKEN_MALFORMED);
    CHECK(
        check(forge("{\"alg\":\"HS256\"}",
                    "{\"sub\":\"a\",\"role\":\"admin\",\"iat\":1000000,\"exp\":1003600,\"jti\":\"x\",\"nbf\":1002000}", SECRET, 1),
              1000001) == TOKEN_NOT_YET_VALID);
    CHECK(check(forge("{\"alg\":\"HS256\"}", "{\"sub\":\"a\",\"role\":\"root\",\"iat\":1000000,\"exp\":1003600,\"jti\":\"x\"}",
                      SECRET, 1),
                1000001) == TOKEN_BAD_CLAIMS);
    CHECK(check(forge("{\"alg\":\"HS256\"}", "{\"sub\":\"a\",\"role\":\"admin\",\"iat\":1000000,\"exp\":\"1003600\",\"jti\":\"x\"}",
                      SECRET, 1),
                1000001) == TOKEN_BAD_CLAIMS);
    CHECK(check(forge("{\"alg\":\"HS256\"}", "[1,2]", SECRET, 1), 1000001) != TOKEN_OK);
    CHECK(check("not-a-token", 1000001) == TOKEN_MALFORMED);
    CHECK(check("a.b.c", 1000001) == TOKEN_MALFORMED);
    CHECK(check("", 1000001) == TOKEN_MALFORMED);
    return check_report("test_token");
}
