#include "check.h"
#include "config.h"
#include "cache/entry.h"

#include <stdlib.h>
#include <unistd.h>

/* Every variable config_load reads. */
static const char *const all_vars[] = {"HOST",
                                       "PORT",
                                       "THREADS",
                                       "MONGO_URI",
                                       "MONGO_DB",
                                       "MONGO_WORKERS",
                                       "MONGO_QUEUE_MAX",
                                       "MONGO_TIMEOUT_MS",
                                       "REDIS_URL",
                                       "REDIS_TIMEOUT_MS",
                                       "REDIS_DEAD_MS",
                                       "CACHE_TTL",
                                       "CACHE_TTL_JITTER_PCT",
                                       "CACHE_NEGATIVE_TTL",
                                       "WRITE_RETRY_MS",
                                       "HEALTH_TIMEOUT_MS",
                                       "MAX_BODY_BYTES",
                                       "DRAIN_TIMEOUT_MS",
                                       "CURRENCY",
                                       "JWT_SECRET",
                                       "JWT_SECRET_PREVIOUS",
                                       "JWT_TTL",
                                       "ADMIN_USERNAME",
                                       "ADMIN_PASSWORD",
                                       "LOGIN_MAX_FAILURES",
                                       "LOGIN_LOCKOUT",
                                       "LOGIN_TRACK_MAX",
                                       "LOGIN_WORKERS",
                                       "LOGIN_QUEUE_MAX",
                                       "AUTH_USER_TTL",
                                       "TRUSTED_PROXIES",
                                       "CORS_ORIGINS",
                                       "DEBUG_STORE_DELAY_MS",
                                       "DEBUG_FILL_DELAY_MS",
                                       "DEBUG_CLAIM_HOLD_MS",
                                       "DEBUG_LOOKUP_DELAY_MS",
                                       "L1_BYTES",
                                       "L1_MAX_AGE_MS",
                                       "BENCH_BYPASS_CACHE"};

static void unset_all(void)
{
    for (size_t i = 0; i < sizeof(all_vars) / sizeof(all_vars[0]); i++)
        unsetenv(all_vars[i]);
}

#define K32 "kkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkk"

/* Each variable lands in its own field, with its own type (the table's offsets and sizes). */
static void test_every_field(void)
{
    static const char *const env[][2] = {{"HOST", "::1"},
                                         {"PORT", "3001"},
                                         {"THREADS", "7"},
                                         {"MONGO_URI", "mongodb+srv://m.example"},
                                         {"MONGO_DB", "shop"},
                                         {"MONGO_WORKERS", "5"},
                                         {"MONGO_QUEUE_MAX", "1025"},
                                         {"MONGO_TIMEOUT_MS", "2001"},
                                         {"REDIS_URL", "redis://r:6390/3"},
                                         {"REDIS_TIMEOUT_MS", "101"},
                                         {"REDIS_DEAD_MS", "1001"},
                                         {"CACHE_TTL", "301"},
                                         {"CACHE_TTL_JITTER_PCT", "2"},
                                         {"CACHE_NEGATIVE_TTL", "16"},
                                         {"WRITE_RETRY_MS", "5001"},
                                         {"HEALTH_TIMEOUT_MS", "1002"},
                                         {"MAX_BODY_BYTES", "65537"},
                                         {"DRAIN_TIMEOUT_MS", "4501"},
                                         {"CURRENCY", "EUR"},
                                         {"JWT_SECRET", K32},
                                         {"JWT_SECRET_PREVIOUS", K32 "p"},
                                         {"JWT_TTL", "3601"},
                                         {"ADMIN_USERNAME", "root"},
                                         {"ADMIN_PASSWORD", "twelve-chars"},
                                         {"LOGIN_MAX_FAILURES", "6"},
                                         {"LOGIN_LOCKOUT", "901"},
                                         {"LOGIN_TRACK_MAX", "20001"},
                                         {"LOGIN_WORKERS", "2"},
                                         {"LOGIN_QUEUE_MAX", "65"},
                                         {"AUTH_USER_TTL", "0"},
                                         {"TRUSTED_PROXIES", "10.0.0.0/8"},
                                         {"CORS_ORIGINS", "https://a.example,*"},
                                         {"DEBUG_STORE_DELAY_MS", "7"},
                                         {"DEBUG_FILL_DELAY_MS", "8"},
                                         {"DEBUG_CLAIM_HOLD_MS", "9"},
                                         {"DEBUG_LOOKUP_DELAY_MS", "10"},
                                         {"L1_BYTES", "1048577"},
                                         {"L1_MAX_AGE_MS", "10001"},
                                         {"BENCH_BYPASS_CACHE", "true"}};
    config_t c;
    char err[256];
    unset_all();
    for (size_t i = 0; i < sizeof(env) / sizeof(env[0]); i++)
        setenv(env[i][0], env[i][1], 1);
    CHECK(config_load(&c, err, sizeof(err)) == 0);
    CHECK_STR(c.host, "::1");
    CHECK(c.port == 3001 && c.threads == 7 && c.mongo_workers == 5 && c.mongo_queue_max == 1025 && c.mongo_timeout_ms == 2001);
    CHECK_STR(c.mongo_uri, "mongodb+srv://m.example");
    CHECK_STR(c.mongo_db, "shop");
    CHECK_STR(c.redis_url, "redis://r:6390/3");
    CHECK_STR(c.redis_host, "r");
    CHECK(c.redis_port == 6390 && c.redis_db == 3 && c.redis_timeout_ms == 101 && c.redis_dead_ms == 1001);
    CHECK(c.cache_ttl_s == 301 && c.cache_jitter_pct == 2 && c.cache_negative_ttl_s == 16 && c.write_retry_ms == 5001);
    CHECK(c.health_timeout_ms == 1002 && c.max_body_bytes == 65537 && c.drain_timeout_ms == 4501);
    CHECK_STR(c.currency, "EUR");
    CHECK_STR(c.jwt_secret, K32);
    CHECK_STR(c.jwt_secret_previous, K32 "p");
    CHECK(c.jwt_secret_len == 32 && c.jwt_secret_previous_len == 33 && c.jwt_ttl_s == 3601);
    CHECK_STR(c.admin_username, "root");
    CHECK_STR(c.admin_password, "twelve-chars");
    CHECK(c.login_max_failures == 6 && c.login_lockout_s == 901 && c.login_track_max == 20001 && c.login_workers == 2);
    CHECK(c.login_queue_max == 65 && c.auth_user_ttl_s == 0);
    CHECK(c.ntrusted_proxies == 1 && c.trusted_proxies[0].prefix == 8);
    CHECK(c.ncors_origins == 1 && c.cors_any == 1);
    CHECK_STR(c.cors_origins[0], "https://a.example");
    CHECK(c.debug_store_delay_ms == 7 && c.debug_fill_delay_ms == 8 && c.debug_claim_hold_ms == 9 && c.bench_bypass_cache == 1);
    CHECK(c.debug_lookup_delay_ms == 10 && c.l1_bytes == 1048577 &&
          c.l1_max_age_ms == 10001); /* explicit: kept for a remote Redis */
    unset_all();
}

/* L1_BYTES unset: 4 MiB when Redis is on loopback or a unix socket (where
 * invalidations arrive before a writer's reply), 0 anywhere else. */
static void test_l1_default(void)
{
    static const struct {
        const char *url;
        size_t bytes;
    } cases[] = {
        {NULL, 4u << 20}, /* the default REDIS_URL, 127.0.0.1 */
        {"redis://127.0.0.2:6380/0", 4u << 20},
        {"redis://[::1]:6380", 4u << 20},
        {"redis://localhost", 4u << 20},
        {"unix:///run/redis.sock", 4u << 20},
        {"redis://redis:6379/0", 0},
        {"redis://10.0.0.5", 0},
        {"redis://[::2]:6379", 0},
    };
    config_t c;
    char err[256];
    unset_all();
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        if (cases[i].url)
            setenv("REDIS_URL", cases[i].url, 1);
        CHECK(config_load(&c, err, sizeof(err)) == 0);
        if (c.l1_bytes != cases[i].bytes)
            fprintf(stderr, "REDIS_URL %s: L1_BYTES %zu\n", cases[i].url ? cases[i].url : "(default)", c.l1_bytes);
        CHECK(c.l1_bytes == cases[i].bytes && c.l1_max_age_ms == 10000);
    }
    setenv("L1_BYTES", "0", 1);
    unsetenv("REDIS_URL");
    CHECK(config_load(&c, err, sizeof(err)) == 0 && c.l1_bytes == 0);
    unset_all();
}

/* Unset variables: their defaults; THREADS is computed; the secrets and the admin password stay empty. */
static void test_defaults(void)
{
    config_t c;
    char err[256];
    unset_all();
    CHECK(config_load(&c, err, sizeof(err)) == 0);
    long cores = sysconf(_SC_NPROCESSORS_ONLN);
    CHECK(c.threads == (cores > 0 ? (unsigned)cores : 1));
    CHECK(c.jwt_secret_len == 0 && c.jwt_secret_previous_len == 0 && c.admin_password[0] == '\0');
    CHECK_STR(c.admin_username, "admin");
    CHECK_STR(c.mongo_uri, "mongodb://127.0.0.1:27017");
    CHECK(c.ntrusted_proxies == 2 && c.ncors_origins == 0 && !c.cors_any && c.bench_bypass_cache == 0);
    CHECK(c.max_body_bytes == 65536 && c.mongo_workers == 4 && c.login_track_max == 20000);
    CHECK(config_check_serving(&c, err, sizeof(err)) == -1);
    CHECK_STR(err, "JWT_SECRET: required (at least 32 bytes; e.g. openssl rand -hex 32)");
    /* an empty previous secret means none */
    setenv("JWT_SECRET_PREVIOUS", "", 1);
    CHECK(config_load(&c, err, sizeof(err)) == 0 && c.jwt_secret_previous_len == 0);
    unset_all();
}

/* One bad variable: exactly this message (the black-box tests and operators read them). */
static void test_messages(void)
{
    static const char *const cases[][3] = {
        {"HOST", "", "HOST: expected an IPv4 or IPv6 address, got ''"},
        {"PORT", "0", "PORT: expected an integer in 1..65535, got '0'"},
        {"THREADS", "", "THREADS: expected an integer in 1..256, got ''"},
        {"MAX_BODY_BYTES", "+1", "MAX_BODY_BYTES: expected an integer in 1..1048576, got '+1'"},
        {"BENCH_BYPASS_CACHE", "yes", "BENCH_BYPASS_CACHE: expected 0/1/true/false, got 'yes'"},
        {"MONGO_URI", "", "MONGO_URI: must be 1..1023 characters"},
        {"MONGO_URI", "http://x", "MONGO_URI: expected mongodb://… or mongodb+srv://…"},
        {"MONGO_DB", "a.b", "MONGO_DB: 'a.b' is not a valid database name"},
        {"REDIS_URL", "http://x", "REDIS_URL: expected redis://[[user]:password@]host[:port][/db] or unix:///path, got 'http://x'"},
        /* a password is never echoed, also when the rest is wrong */
        {"REDIS_URL", "redis://:hunter2-secret@127.0.0.1:6379/16",
         "REDIS_URL: expected redis://[[user]:password@]host[:port][/db] or unix:///path, got 'redis://***@127.0.0.1:6379/16'"},
        {"REDIS_URL", "redis://hunter2@h",
         "REDIS_URL: expected redis://[[user]:password@]host[:port][/db] or unix:///path, got 'redis://***@h'"},
        {"REDIS_URL", "rediss://u:p@w@h/0",
         "REDIS_URL: expected redis://[[user]:password@]host[:port][/db] or unix:///path, got 'rediss://***@h/0'"},
        {"CURRENCY", "usd", "CURRENCY: expected a three-letter ISO 4217 code such as USD, got 'usd'"},
        {"JWT_SECRET", "", "JWT_SECRET: must be 32..511 bytes (got 0); e.g. openssl rand -hex 32"},
        {"JWT_SECRET_PREVIOUS", "short", "JWT_SECRET_PREVIOUS: must be 32..511 bytes (got 5); e.g. openssl rand -hex 32"},
        {"ADMIN_USERNAME", "", "ADMIN_USERNAME: must be 1..64 characters"},
        {"ADMIN_PASSWORD", "eleven-char", "ADMIN_PASSWORD: must be 12..256 characters"},
        {"TRUSTED_PROXIES", "10.0.0.0/33",
         "TRUSTED_PROXIES: expected comma-separated addresses or CIDRs (at most 16), got '10.0.0.0/33'"},
        {"CORS_ORIGINS", "ftp://x",
         "CORS_ORIGINS: expected comma-separated origins like https://shop.example (or *), at most 16, got 'ftp://x'"},
    };
    config_t c;
    char err[256];
    unset_all();
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        setenv(cases[i][0], cases[i][1], 1);
        err[0] = '\0';
        CHECK(config_load(&c, err, sizeof(err)) == -1);
        CHECK_STR(err, cases[i][2]);
        unsetenv(cases[i][0]);
    }
    /* several bad ones: the first in --help order is named */
    setenv("CURRENCY", "usd", 1);
    setenv("PORT", "0", 1);
    CHECK(config_load(&c, err, sizeof(err)) == -1 && strncmp(err, "PORT:", 5) == 0);
    unset_all();
}

int main(void)
{
    test_every_field();
    test_defaults();
    test_l1_default();
    test_messages();

    config_t c;
    char err[256];
    unsetenv("PORT");
    setenv("THREADS", "3", 1);
    CHECK(config_load(&c, err, sizeof(err)) == 0);
    CHECK(c.port == 3000 && c.threads == 3 && c.cache_ttl_s == 300 && c.redis_timeout_ms == 100);
    CHECK_STR(c.redis_host, "127.0.0.1");
    CHECK_STR(c.currency, "USD");

    setenv("PORT", "70000", 1);
    CHECK(config_load(&c, err, sizeof(err)) == -1);
    CHECK(strstr(err, "PORT") != NULL);
    setenv("PORT", "80x", 1);
    CHECK(config_load(&c, err, sizeof(err)) == -1);
    unsetenv("PORT");
    setenv("CACHE_TTL_JITTER_PCT", "4", 1);
    CHECK(config_load(&c, err, sizeof(err)) == -1 && strstr(err, "CACHE_TTL_JITTER_PCT") != NULL);
    unsetenv("CACHE_TTL_JITTER_PCT");
    setenv("CURRENCY", "usd", 1);
    CHECK(config_load(&c, err, sizeof(err)) == -1);
    unsetenv("CURRENCY");
    setenv("HOST", "localhost", 1);
    CHECK(config_load(&c, err, sizeof(err)) == -1 && strstr(err, "HOST") != NULL);
    unsetenv("HOST");

    /* Redis URLs */
    CHECK(config_parse_redis_url(&c, "redis://redis:6380/2", err, sizeof(err)) == 0);
    CHECK_STR(c.redis_host, "redis");
    CHECK(c.redis_port == 6380 && c.redis_db == 2 && c.redis_password[0] == '\0');
    CHECK(config_parse_redis_url(&c, "redis://:s%40cret@10.0.0.5", err, sizeof(err)) == 0);
    CHECK_STR(c.redis_password, "s@cret");
    CHECK_STR(c.redis_host, "10.0.0.5");
    CHECK(c.redis_port == 6379 && c.redis_user[0] == '\0');
    CHECK(config_parse_redis_url(&c, "redis://app:pw@[::1]:7000/0", err, sizeof(err)) == 0);
    CHECK_STR(c.redis_user, "app");
    CHECK_STR(c.redis_host, "::1");
    CHECK(c.redis_port == 7000);
    CHECK(config_parse_redis_url(&c, "unix:///run/redis.sock", err, sizeof(err)) == 0);
    CHECK_STR(c.redis_unix, "/run/redis.sock");
    CHECK(config_parse_redis_url(&c, "http://x", err, sizeof(err)) == -1);
    CHECK(config_parse_redis_url(&c, "redis://host:0", err, sizeof(err)) == -1);
    CHECK(config_parse_redis_url(&c, "redis://host/99", err, sizeof(err)) == -1);
    CHECK(config_parse_redis_url(&c, "redis://pw@host", err, sizeof(err)) == -1);

    /* TTL jitter only shortens, by at most pct */
    for (uint64_t r = 0; r < 1000; r++) {
        unsigned t = entry_jittered_ttl(300, 3, r * 2654435761u);
        CHECK(t <= 300 && t >= 291);
    }
    CHECK(entry_jittered_ttl(300, 0, 12345) == 300);
    CHECK(entry_jittered_ttl(1, 3, 12345) == 1);
    return check_report("test_config");
}
