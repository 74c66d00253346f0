#include "auth/password.h"

#include <string.h>

static char dummy_hash[PASSWORD_HASH_MAX];

int password_init(void)
{
    if (sodium_init() < 0)
        return -1;
    unsigned char rnd[32];
    randombytes_buf(rnd, sizeof(rnd));
    return password_hash((const char *)rnd, sizeof(rnd), dummy_hash);
}

int password_hash(const char *pw, size_t len, char out[PASSWORD_HASH_MAX])
{
    return crypto_pwhash_str_alg(out, pw, len, crypto_pwhash_OPSLIMIT_INTERACTIVE, crypto_pwhash_MEMLIMIT_INTERACTIVE,
                                 crypto_pwhash_ALG_ARGON2ID13) == 0
               ? 0
               : -1;
}

int password_verify(const char *hash, const char *pw, size_t len)
{
    int known = hash != NULL && strncmp(hash, "$argon2id$", 10) == 0 && strlen(hash) < PASSWORD_HASH_MAX;
    int ok = crypto_pwhash_str_verify(known ? hash : dummy_hash, pw, len) == 0;
    return known && ok;
}
