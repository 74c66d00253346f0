/* Process configuration: one immutable struct, filled once from the
 * environment at start-up and read-only afterwards (shared by all threads). */
#ifndef CATALOG_CONFIG_H
#define CATALOG_CONFIG_H

#include <stddef.h>
#include <stdint.h>

typedef struct {
    char host[256];         /* listen address (IP literal) */
    uint16_t port;          /* listen port */
    unsigned threads;       /* event-loop threads */
    unsigned mongo_workers; /* MongoDB worker threads (= client pool size) */
    unsigned mongo_queue_max;
    char mongo_uri[1024];
    char mongo_db[64];
    unsigned mongo_timeout_ms; /* bound on any store job, queue wait included */
    /* REDIS_URL, parsed: redis://[[user]:password@]host[:port][/db] or unix:///path */
    char redis_url[1024];
    char redis_host[256];
    uint16_t redis_port;
    char redis_unix[256];
    char redis_user[128];
    char redis_password[256];
    unsigned redis_db;
    unsigned redis_timeout_ms;
    unsigned cache_ttl_s;          /* TTL of cached reads */
    unsigned cache_jitter_pct;     /* 0..3: a TTL may be shortened by up to this share */
    unsigned cache_negative_ttl_s; /* TTL of a cached "no such product" */
    unsigned health_timeout_ms;    /* time box of each /health/ready check */
    unsigned mirror_max_products;  /* largest catalogue held in memory for lists (0: off) */
    unsigned mirror_max_age_s;     /* oldest scan of it that is served */
    unsigned changes_max;          /* entries kept in the change stream (approximately) */
    unsigned sse_max_clients;      /* change feed streams per process (0: the feed is off) */
    size_t sse_buffer_max;         /* unsent bytes of one stream before it is cut */
    unsigned sse_ping_s;           /* seconds between the streams' ": ping" comments */
    size_t l1_bytes;               /* the in-process cache's bound (0: off) */
    unsigned l1_max_age_ms;        /* oldest L1 copy of an untracked key (a list, the categories) served */
    size_t max_body_bytes;
    unsigned drain_timeout_ms;
    char currency[4];
    /* admin API */
    char jwt_secret[512]; /* empty when unset: main refuses to serve */
    size_t jwt_secret_len;
    char jwt_secret_previous[512]; /* accepted for verification during a rotation; may be empty */
    size_t jwt_secret_previous_len;
    unsigned jwt_ttl_s;
    char admin_username[65];
    char admin_password[257]; /* empty: no admin is created */
    unsigned login_max_failures;
    unsigned login_lockout_s;
    unsigned login_track_max; /* user/address pairs per window (bounded, never evicted) */
    unsigned login_workers;   /* password-check threads, apart from the MongoDB workers */
    unsigned login_queue_max; /* sign-ins waiting for them before 503 */
    unsigned auth_user_ttl_s; /* how long a write relies on a looked-up user */
    /* TRUSTED_PROXIES: peers whose X-Real-IP names the client */
    struct config_cidr {
        int family; /* AF_INET or AF_INET6 */
        unsigned char addr[16];
        unsigned prefix;
    } trusted_proxies[16];
    size_t ntrusted_proxies;
    /* CORS_ORIGINS: exact origins allowed cross-origin, or any (cors_any);
     * neither: CORS off */
    char cors_origins[16][256];
    size_t ncors_origins;
    int cors_any;
    /* logs (log.h) */
    int log_level;             /* LOG_DEBUG..LOG_ERROR */
    unsigned log_requests_ppm; /* share of requests logged, parts per million */
    /* test and bench switches, never reachable from a request */
    unsigned debug_store_delay_ms;
    unsigned debug_fill_delay_ms;
    unsigned debug_lookup_delay_ms;
    unsigned debug_claim_hold_ms;
    unsigned debug_sent_hold_ms;
    unsigned write_retry_ms;
    unsigned redis_dead_ms;
    int bench_bypass_cache;
} config_t;

/* Fills *cfg from the environment (getenv). Returns 0 on success; on a bad
 * value returns -1 and writes a one-line message naming the variable to err. */
int config_load(config_t *cfg, char *err, size_t errlen);

/* Parses a Redis URL into cfg's redis_* fields. Returns 0 or -1 (message in err). */
int config_parse_redis_url(config_t *cfg, const char *url, char *err, size_t errlen);

/* Checks what serving needs beyond config_load (a JWT secret). Returns 0,
 * or -1 with a message naming the variable. */
int config_check_serving(const config_t *cfg, char *err, size_t errlen);

/* 1 when addr (4 or 16 bytes of family) is inside one of cfg's trusted proxies. */
int config_is_trusted_proxy(const config_t *cfg, int family, const unsigned char *addr);

/* Writes the list of variables with their defaults (for --help). */
void config_print_help(void *file);

#endif
