#include "store/users_store.h"

#include "store/products_write.h"

#include <stdio.h>
#include <string.h>
#include <sys/time.h>

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
    job->base.deadline_ms = mongo_pool_now_ms() + timeout_ms;
    job->result = LOGIN_ERROR;
    job->role[0] = '\0';
    job->error[0] = '\0';
}

static int64_t now_ms(void)
{
    struct timeval tv;
    gettimeofday(&tv, NULL);
    return (int64_t)tv.tv_sec * 1000 + tv.tv_usec / 1000;
}

int users_bootstrap(mongoc_client_t *client, const char *db, const char *admin, const char *password, char *err, size_t errlen)
{
    mongoc_database_t *d = mongoc_client_get_database(client, db);
    bson_error_t e;
    bson_t reply;
    bson_t *cmd = BCON_NEW("createIndexes", BCON_UTF8(USERS), "indexes", "[", "{", "key", "{", "username", BCON_INT32(1), "}",
                           "name", BCON_UTF8("username_1"), "unique", BCON_BOOL(true), "}", "]");
    bool ok = mongoc_database_write_command_with_opts(d, cmd, NULL, &reply, &e);
    bson_destroy(cmd);
    bson_destroy(&reply);
    if (!ok) {
        snprintf(err, errlen, "users index: %s", e.message);
        mongoc_database_destroy(d);
        return -1;
    }
    /* expiry of idempotency records; where the server has no TTL indexes the
     * create path also treats records older than a day as gone */
    cmd = BCON_NEW("createIndexes", BCON_UTF8("idempotency_keys"), "indexes", "[", "{", "key", "{", "created_at", BCON_INT32(1),
                   "}", "name", BCON_UTF8("created_at_ttl"), "expireAfterSeconds", BCON_INT32(IDEMPOTENCY_TTL_S), "}", "]");
    if (!mongoc_database_write_command_with_opts(d, cmd, NULL, &reply, &e))
        fprintf(stderr, "catalog-backend: idempotency_keys TTL index not created (%s); expiry is checked on use\n", e.message);
    bson_destroy(cmd);
    bson_destroy(&reply);
    mongoc_database_destroy(d);
    if (password[0] == '\0')
        return 0;

    char hash[PASSWORD_HASH_MAX];
    if (password_hash(password, strlen(password), hash) != 0) {
        snprintf(err, errlen, "cannot hash the admin password (out of memory)");
        return -1;
    }
    mongoc_collection_t *coll = mongoc_client_get_collection(client, db, USERS);
    bson_t filter = BSON_INITIALIZER, update = BSON_INITIALIZER, soi, opts = BSON_INITIALIZER;
    BSON_APPEND_UTF8(&filter, "username", admin);
    BSON_APPEND_DOCUMENT_BEGIN(&update, "$setOnInsert", &soi);
    BSON_APPEND_UTF8(&soi, "password_hash", hash);
    BSON_APPEND_UTF8(&soi, "role", "admin");
    BSON_APPEND_DATE_TIME(&soi, "created_at", now_ms());
    bson_append_document_end(&update, &soi);
    BSON_APPEND_BOOL(&opts, "upsert", true);
    products_write_concern(client, &opts);
    ok = mongoc_collection_update_one(coll, &filter, &update, &opts, &reply, &e);
    int created = 0;
    if (ok) {
        bson_iter_t it;
        created = bson_iter_init_find(&it, &reply, "upsertedCount") && bson_iter_as_int64(&it) > 0;
    } else if (e.code == 11000) {
        ok = true; /* another process created it between our find and insert */
    }
    bson_destroy(&reply);
    bson_destroy(&filter);
    bson_destroy(&update);
    bson_destroy(&opts);
    mongoc_collection_destroy(coll);
    sodium_memzero(hash, sizeof(hash));
    if (!ok) {
        snprintf(err, errlen, "admin user: %s", e.message);
        return -1;
    }
    fprintf(stderr, "catalog-backend: admin user '%s' %s\n", admin, created ? "created" : "exists (password unchanged)");
    return 0;
}

int users_put(mongoc_client_t *client, const char *db, const char *name, const char *role, const char *password, char *err,
              size_t errlen)
{
    char hash[PASSWORD_HASH_MAX];
    if (password_hash(password, strlen(password), hash) != 0) {
        snprintf(err, errlen, "cannot hash the password");
        return -1;
    }
    mongoc_collection_t *coll = mongoc_client_get_collection(client, db, USERS);
    bson_t filter = BSON_INITIALIZER, update = BSON_INITIALIZER, set, soi, opts = BSON_INITIALIZER;
    BSON_APPEND_UTF8(&filter, "username", name);
    BSON_APPEND_DOCUMENT_BEGIN(&update, "$set", &set);
    BSON_APPEND_UTF8(&set, "password_hash", hash);
    BSON_APPEND_UTF8(&set, "role", role);
    bson_append_document_end(&update, &set);
    BSON_APPEND_DOCUMENT_BEGIN(&update, "$setOnInsert", &soi);
    BSON_APPEND_DATE_TIME(&soi, "created_at", now_ms());
    bson_append_document_end(&update, &soi);
    BSON_APPEND_BOOL(&opts, "upsert", true);
    products_write_concern(client, &opts);
    bson_error_t e;
    bool ok = mongoc_collection_update_one(coll, &filter, &update, &opts, NULL, &e);
    bson_destroy(&filter);
    bson_destroy(&update);
    bson_destroy(&opts);
    mongoc_collection_destroy(coll);
    sodium_memzero(hash, sizeof(hash));
    if (!ok)
        snprintf(err, errlen, "%s", e.message);
    return ok ? 0 : -1;
}
