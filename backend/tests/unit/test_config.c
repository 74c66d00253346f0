#include "check.h"
#include "config.h"
#include "cache/entry.h"

#include <stdlib.h>

int main(void)
{
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
