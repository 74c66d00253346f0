/* Users in MongoDB's `users` collection: {username (unique), password_hash
 * (Argon2id), role, created_at}. Login checks run on a worker thread; the
 * start-up bootstrap (indexes, the first admin) on its own thread. */
#ifndef CATALOG_USERS_STORE_H
#define CATALOG_USERS_STORE_H

#include "auth/password.h"
#include "store/mongo_pool.h"

#define USERNAME_MAX 64
#define PASSWORD_MAX 256

/* 1 when name is 1..64 of [A-Za-z0-9._@-]. */
int users_valid_name(const char *name);

typedef enum { LOGIN_OK, LOGIN_BAD_CREDENTIALS, LOGIN_ERROR } login_result_t;

typedef struct {
    store_job_t base; /* first */
    char username[USERNAME_MAX + 1];
    char password[PASSWORD_MAX + 1]; /* wiped after the check */
    size_t password_len;
    /* outputs */
    login_result_t result;
    char role[16];
    char error[512];
} login_job_t;

/* Sets base.run and the deadline. */
void login_job_init(login_job_t *job, unsigned timeout_ms);

/* A user's current role, for the check of a token's user on writes. */
typedef struct {
    store_job_t base; /* first */
    char username[USERNAME_MAX + 1];
    /* outputs */
    int ok;        /* 1: the lookup ran (found tells), 0: it failed (error) */
    int found;     /* 1: a user of that name exists */
    char role[16]; /* its role ("" when unknown) */
    char error[512];
} user_lookup_job_t;

/* Sets base.run and the deadline; username must be filled by the caller. */
void user_lookup_job_init(user_lookup_job_t *job, unsigned timeout_ms);

/* Creates the indexes writes rely on (unique user names, idempotency keys
 * expiring after a day) and, when password is not empty, the admin user
 * unless a user of that name exists (an upsert on the unique name, so two
 * processes starting together make one). Blocking. Returns 0, or -1 with a
 * message in err. */
int users_bootstrap(mongoc_client_t *client, const char *db, const char *admin, const char *password, char *err, size_t errlen);

/* Creates or updates user name with role and password (for the
 * --add-user command line). Blocking. Returns 0 or -1 (message in err). */
int users_put(mongoc_client_t *client, const char *db, const char *name, const char *role, const char *password, char *err,
              size_t errlen);

typedef enum { USERS_CHECK_MATCH, USERS_CHECK_DIFFERS, USERS_CHECK_NO_USER, USERS_CHECK_ERROR } users_check_t;

/* Compares password with the stored hash of user name, locally (for the
 * --check-password command line: no login, so no failure is counted
 * toward the lockout). Blocking. Returns a users_check_t; on
 * USERS_CHECK_ERROR a message is in err. */
int users_check_password(mongoc_client_t *client, const char *db, const char *name, const char *password, char *err, size_t errlen);

#endif
