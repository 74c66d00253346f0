/* Password hashes: Argon2id through libsodium (memory-hard; the encoded
 * string carries its own salt and cost). Pure code, CPU- and memory-heavy
 * (64 MiB, ~0.1 s): call it on a worker thread, never on an event loop. */
#ifndef CATALOG_PASSWORD_H
#define CATALOG_PASSWORD_H

#include <sodium.h>
#include <stddef.h>

#define PASSWORD_HASH_MAX crypto_pwhash_STRBYTES

/* Initialises libsodium and the dummy hash used for unknown users.
 * Returns 0, or -1 when libsodium cannot start. Call once, before threads. */
int password_init(void);

/* Hashes pw into out (NUL-terminated). Returns 0, or -1 when out of memory. */
int password_hash(const char *pw, size_t len, char out[PASSWORD_HASH_MAX]);

/* Returns 1 when pw matches hash. hash NULL (unknown user) or not an
 * Argon2id string: the same work is done against a dummy hash and 0 is
 * returned, so timing does not tell whether the user exists. */
int password_verify(const char *hash, const char *pw, size_t len);

#endif
