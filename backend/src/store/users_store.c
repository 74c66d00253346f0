#include "store/users_store.h"
#include "log.h"
#include "clock.h"

#include "store/products_write.h" /* IDEMPOTENCY_TTL_S */

#include <stdio.h>
#include <string.h>

#define USERS "users"

int users_valid_name(const char *name)
{
    size_t n = strlen(name);
    if (n == 0 || n > USERNAME_MAX)
        return 0;
    for (size_t i = 0; i < n; i++) {
        char c = name[i];
        if (!((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '.' || c == '_' || c == '@' ||
              c == '-'))
            return 0;
    }
    return 1;
}

static void run_login(store_job_t *base, mongoc_client_t *client, const char *dbname)
{
    login_job_t *job = (login_job_t *)base;
    mongoc_collection_t *coll = mongoc_client_get_collection(client, dbname, USERS);
    bson_t filter = BSON_INITIALIZER;
    BSON_APPEND_UTF8(&filter, "username", job->username);
    mongoc_cursor_t *cur = mongoc_collection_find_with_opts(coll, &filter, NULL, NULL);
    const bson_t *doc;
    bson_error_t err;
    char hash[PASSWORD_HASH_MAX] = "";
    job->result = LOGIN_BAD_CREDENTIALS;
    if (mongoc_cursor_next(cur, &doc)) {
        bson_iter_t it;
        if (bson_iter_init_find(&it, doc, "password_hash") && BSON_ITER_HOLDS_UTF8(&it))
            snprintf(hash, sizeof(hash), "%s", bson_iter_utf8(&it, NULL));
        if (bson_iter_init_find(&it, doc, "role") && BSON_ITER_HOLDS_UTF8(&it))
            snprintf(job->role, sizeof(job->role), "%s", bson_iter_utf8(&it, NULL));
    } else if (mongoc_cursor_error(cur, &err)) {
        job->result = LOGIN_ERROR;
        snprintf(job->error, sizeof(job->error), "users: %.400s", err.message);
    }
    mongoc_cursor_destroy(cur);
    bson_destroy(&filter);
    mongoc_collection_destroy(coll);
    if (job->result != LOGIN_ERROR) {
        /* an unknown user costs the same Argon2id work as a known one */
        int ok = password_verify(hash[0] ? hash : NULL, job->password, job->password_len);
        int role_ok = strcmp(job->role, "admin") == 0 || strcmp(job->role, "viewer") == 0;
        job->result = ok && role_ok ? LOGIN_OK : LOGIN_BAD_CREDENTIALS;
    }
    sodium_memzero(job->password, sizeof(job->password));
}

void login_job_init(login_job_t *job, unsigned timeout_ms)
{
    job->base.run = run_login;
    job->base.deadline_ms = clock_mono_ms() + timeout_ms;
    job->result = LOGIN_ERROR;
    job->role[0] = '\0';
    job->error[0] = '\0';
}

static void run_user_lookup(store_job_t *base, mongoc_client_t *client, const char *dbname)
{
    user_lookup_job_t *job = (user_lookup_job_t *)base;
    mongoc_collection_t *coll = mongoc_client_get_collection(client, dbname, USERS);
    bson_t filter = BSON_INITIALIZER, opts = BSON_INITIALIZER, proj;
    BSON_APPEND_UTF8(&filter, "username", job->username);
    BSON_APPEND_DOCUMENT_BEGIN(&opts, "projection", &proj);
    BSON_APPEND_INT32(&proj, "role", 1);
    bson_append_document_end(&opts, &proj);
    BSON_APPEND_INT64(&opts, "limit", 1);
    mongoc_cursor_t *cur = mongoc_collection_find_with_opts(coll, &filter, &opts, NULL);
    const bson_t *doc;
    bson_error_t err;
    if (mongoc_cursor_next(cur, &doc)) {
        bson_iter_t it;
        job->found = 1;
        if (bson_iter_init_find(&it, doc, "role") && BSON_ITER_HOLDS_UTF8(&it))
            snprintf(job->role, sizeof(job->role), "%s", bson_iter_utf8(&it, NULL));
        job->ok = 1;
    } else if (mongoc_cursor_error(cur, &err)) {
        snprintf(job->error, sizeof(job->error), "users: %.400s", err.message);
    } else {
        job->ok = 1; /* no such user */
    }
    mongoc_cursor_destroy(cur);
    bson_destroy(&filter);
    bson_destroy(&opts);
    mongoc_collection_destroy(coll);
}

void user_lookup_job_init(user_lookup_job_t *job, unsigned timeout_ms)
{
    job->base.run = run_user_lookup;
    job->base.deadline_ms = clock_mono_ms() + timeout_ms;
    job->ok = job->found = 0;
    job->role[0] = '\0';
    job->error[0] = '\0';
}

/* Runs a command (consumed) on d. Returns 1, or 0 with *e set. */
static int run_command(mongoc_database_t *d, bson_t *cmd, bson_error_t *e)
{
    bson_t reply;
    bool ok = mongoc_database_write_command_with_opts(d, cmd, NULL, &reply, e);
    bson_destroy(cmd);
    bson_destroy(&reply);
    return ok;
}

/* Upserts user name on the unique index: with replace, sets role and
 * password; without, only creates (a user of that name is left as it is,
 * also when another process creates it at the same moment). *created (may
 * be NULL) tells whether it was new. Returns 0 or -1 (message in err). */
static int upsert_user(mongoc_client_t *client, const char *db, const char *name, const char *role, const char *password,
                       int replace, int *created, char *err, size_t errlen)
{
    char hash[PASSWORD_HASH_MAX];
    if (password_hash(password, strlen(password), hash) != 0) {
        snprintf(err, errlen, "cannot hash the password (out of memory)");
        return -1;
    }
    mongoc_collection_t *coll = mongoc_client_get_collection(client, db, USERS);
    bson_t filter = BSON_INITIALIZER, update = BSON_INITIALIZER, set, soi, opts = BSON_INITIALIZER, reply;
    BSON_APPEND_UTF8(&filter, "username", name);
    if (replace) {
        BSON_APPEND_DOCUMENT_BEGIN(&update, "$set", &set);
        BSON_APPEND_UTF8(&set, "password_hash", hash);
        BSON_APPEND_UTF8(&set, "role", role);
        bson_append_document_end(&update, &set);
    }
    BSON_APPEND_DOCUMENT_BEGIN(&update, "$setOnInsert", &soi);
    if (!replace) {
        BSON_APPEND_UTF8(&soi, "password_hash", hash);
        BSON_APPEND_UTF8(&soi, "role", role);
    }
    BSON_APPEND_DATE_TIME(&soi, "created_at", clock_wall_ms());
    bson_append_document_end(&update, &soi);
    BSON_APPEND_BOOL(&opts, "upsert", true);
    bson_error_t e;
    bool ok = mongoc_collection_update_one(coll, &filter, &update, &opts, &reply, &e);
    bson_iter_t it;
    int is_new = ok && bson_iter_init_find(&it, &reply, "upsertedCount") && bson_iter_as_int64(&it) > 0;
    if (!ok && !replace && e.code == 11000)
        ok = true; /* another process created it between the upsert's find and insert */
    bson_destroy(&reply);
    bson_destroy(&filter);
    bson_destroy(&update);
    bson_destroy(&opts);
    mongoc_collection_destroy(coll);
    sodium_memzero(hash, sizeof(hash));
    if (!ok)
        snprintf(err, errlen, "user %s: %.400s", name, e.message);
    if (created != NULL)
        *created = is_new;
    return ok ? 0 : -1;
}

int users_bootstrap(mongoc_client_t *client, const char *db, const char *admin, const char *password, char *err, size_t errlen)
{
    mongoc_database_t *d = mongoc_client_get_database(client, db);
    bson_error_t e;
    int ok = run_command(d,
                         BCON_NEW("createIndexes", BCON_UTF8(USERS), "indexes", "[", "{", "key", "{", "username", BCON_INT32(1),
                                  "}", "name", BCON_UTF8("username_1"), "unique", BCON_BOOL(true), "}", "]"),
                         &e);
    if (!ok)
        snprintf(err, errlen, "users index: %.400s", e.message);
    /* expiry of idempotency records; where the server has no TTL indexes the
     * create path also treats records older than a day as gone */
    else if (!run_command(d,
                          BCON_NEW("createIndexes", BCON_UTF8("idempotency_keys"), "indexes", "[", "{", "key", "{", "created_at",
                                   BCON_INT32(1), "}", "name", BCON_UTF8("created_at_ttl"), "expireAfterSeconds",
                                   BCON_INT32(IDEMPOTENCY_TTL_S), "}", "]"),
                          &e))
        LOG(LOG_INFO, "ttl_index_unsupported", "idempotency_keys TTL index not created; expiry is checked on use",
            LOG_S("error", e.message));
    mongoc_database_destroy(d);
    if (!ok)
        return -1;
    if (password[0] == '\0')
        return 0;
    int created;
    if (upsert_user(client, db, admin, "admin", password, 0, &created, err, errlen) != 0)
        return -1;
    LOG(LOG_INFO, "admin_user", created ? "admin user created" : "admin user exists (password unchanged)",
        LOG_S("username", admin));
    return 0;
}

int users_put(mongoc_client_t *client, const char *db, const char *name, const char *role, const char *password, char *err,
              size_t errlen)
{
    return upsert_user(client, db, name, role, password, 1, NULL, err, errlen);
}

int users_check_password(mongoc_client_t *client, const char *db, const char *name, const char *password, char *err, size_t errlen)
{
    mongoc_collection_t *coll = mongoc_client_get_collection(client, db, USERS);
    bson_t filter = BSON_INITIALIZER;
    BSON_APPEND_UTF8(&filter, "username", name);
    mongoc_cursor_t *cur = mongoc_collection_find_with_opts(coll, &filter, NULL, NULL);
    const bson_t *doc;
    bson_error_t e;
    char hash[PASSWORD_HASH_MAX] = "";
    int rc = USERS_CHECK_NO_USER;
    if (mongoc_cursor_next(cur, &doc)) {
        bson_iter_t it;
        if (bson_iter_init_find(&it, doc, "password_hash") && BSON_ITER_HOLDS_UTF8(&it))
            snprintf(hash, sizeof(hash), "%s", bson_iter_utf8(&it, NULL));
        rc = hash[0] && password_verify(hash, password, strlen(password)) ? USERS_CHECK_MATCH : USERS_CHECK_DIFFERS;
    } else if (mongoc_cursor_error(cur, &e)) {
        snprintf(err, errlen, "users: %.400s", e.message);
        rc = USERS_CHECK_ERROR;
    }
    mongoc_cursor_destroy(cur);
    bson_destroy(&filter);
    mongoc_collection_destroy(coll);
    return rc;
}
