#include "config.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* One table drives both loading and --help so they cannot drift apart. */
typedef enum { OPT_STR, OPT_UINT, OPT_BOOL } opt_kind_t;

typedef struct {
    const char *name;
    const char *defval; /* NULL: computed (shown as the help text says) */
    opt_kind_t kind;
    unsigned long min, max;
    const char *help;
} opt_t;

static const opt_t options[] = {
    {"HOST", "127.0.0.1", OPT_STR, 0, 0, "listen address (IPv4 or IPv6 literal)"},
    {"PORT", "3000", OPT_UINT, 1, 65535, "listen port"},
    {"THREADS", NULL, OPT_UINT, 1, 256, "event-loop threads (default: number of cores)"},
    {"MONGO_URI", "mongodb://127.0.0.1:27017", OPT_STR, 0, 0, "MongoDB connection string"},
    {"MONGO_DB", "catalog", OPT_STR, 0, 0, "database name"},
    {"MONGO_WORKERS", "4", OPT_UINT, 1, 256, "MongoDB worker threads (and pooled clients)"},
    {"MONGO_QUEUE_MAX", "1024", OPT_UINT, 1, 1000000, "queued MongoDB jobs before 503 + Retry-After"},
    {"MONGO_TIMEOUT_MS", "2000", OPT_UINT, 50, 600000, "bound on a MongoDB job, queue wait included (then 503)"},
    {"REDIS_URL", "redis://127.0.0.1:6379/0", OPT_STR, 0, 0,
     "redis://[[user]:password@]host[:port][/db] or unix:///path (host names resolved off the loop)"},
    {"REDIS_TIMEOUT_MS", "100", OPT_UINT, 1, 60000, "Redis command timeout (then served from MongoDB, X-Cache: BYPASS)"},
    {"REDIS_DEAD_MS", "1000", OPT_UINT, 1, 600000,
     "a reply this late means the connection is lost: reconnect (at least REDIS_TIMEOUT_MS; invalidations wait this long)"},
    {"CACHE_TTL", "300", OPT_UINT, 1, 86400 * 30, "TTL of cached reads, seconds"},
    {"CACHE_TTL_JITTER_PCT", "0", OPT_UINT, 0, 3, "shorten each TTL by a random 0..N percent (N <= 3)"},
    {"CACHE_NEGATIVE_TTL", "15", OPT_UINT, 1, 3600, "TTL of a cached 'no such product', seconds"},
    {"WRITE_RETRY_MS", "5000", OPT_UINT, 0, 60000,
     "how long a write without If-Match retries behind concurrent writes to the same product (then 503)"},
    {"HEALTH_TIMEOUT_MS", "1000", OPT_UINT, 10, 60000, "time box of each /health/ready check"},
    {"MAX_BODY_BYTES", "65536", OPT_UINT, 1, 1048576, "largest accepted request body (else 413)"},
    {"DRAIN_TIMEOUT_MS", "4500", OPT_UINT, 0, 60000, "on SIGTERM/SIGINT, longest wait for in-flight requests"},
    {"CURRENCY", "USD", OPT_STR, 0, 0, "ISO 4217 code shown with every price"},
    {"JWT_SECRET", NULL, OPT_STR, 0, 0, "secret that signs auth tokens (HS256), at least 32 bytes (required)"},
    {"JWT_SECRET_PREVIOUS", NULL, OPT_STR, 0, 0, "previous secret, still accepted for verification during a rotation"},
    {"JWT_TTL", "3600", OPT_UINT, 60, 86400, "lifetime of an auth token, seconds"},
    {"ADMIN_USERNAME", "admin", OPT_STR, 0, 0, "user name of the admin created at start-up when none exists"},
    {"ADMIN_PASSWORD", NULL, OPT_STR, 0, 0, "its password (at least 12 characters); unset: no admin is created"},
    {"LOGIN_MAX_FAILURES", "5", OPT_UINT, 1, 1000, "failed logins per user and address before 429"},
    {"LOGIN_LOCKOUT", "900", OPT_UINT, 1, 86400, "window of counted login failures (and the lockout), seconds"},
    {"LOGIN_TRACK_MAX", "20000", OPT_UINT, 1, 1000000,
     "user/address pairs tracked per lockout window; a new pair beyond it is refused (429) until the window turns"},
    {"LOGIN_WORKERS", "1", OPT_UINT, 1, 64, "password-check threads (Argon2id, 64 MiB each, run at the lowest CPU priority)"},
    {"LOGIN_QUEUE_MAX", "64", OPT_UINT, 1, 100000, "sign-ins waiting for a password-check thread before 503 + Retry-After"},
    {"AUTH_USER_TTL", "5", OPT_UINT, 0, 3600,
     "seconds a write may rely on a looked-up user (exists, is admin) before looking again; 0: every write"},
    {"TRUSTED_PROXIES", "127.0.0.0/8,::1/128", OPT_STR, 0, 0,
     "comma-separated CIDRs of proxies whose X-Real-IP header names the client (nginx)"},
    {"CORS_ORIGINS", "", OPT_STR, 0, 0, "comma-separated origins allowed cross-origin (empty: CORS off)"},
    {"DEBUG_STORE_DELAY_MS", "0", OPT_UINT, 0, 60000, "tests only: hold every MongoDB job this long"},
    {"DEBUG_FILL_DELAY_MS", "0", OPT_UINT, 0, 60000, "tests only: hold every cache fill this long after MongoDB answered"},
    {"DEBUG_CLAIM_HOLD_MS", "0", OPT_UINT, 0, 600000, "tests only: hold every update or delete this long after its claim"},
    {"BENCH_BYPASS_CACHE", "0", OPT_BOOL, 0, 1, "benchmarks only: skip Redis on every read"},
};

#define NOPTS (sizeof(options) / sizeof(options[0]))

static const char *opt_value(const opt_t *o)
{
    const char *v = getenv(o->name);
    return v != NULL ? v : o->defval;
}

static int copy_str(char *dst, size_t cap, const char *v, const char *name, char *err, size_t errlen)
{
    size_t n = strlen(v);
    if (n == 0 || n >= cap) {
        snprintf(err, errlen, "%s: must be 1..%zu characters", name, cap - 1);
        return -1;
    }
    memcpy(dst, v, n + 1);
    return 0;
}

static int parse_uint(const opt_t *o, const char *v, unsigned long *out, char *err, size_t errlen)
{
    if (o->kind == OPT_BOOL) {
        if (strcmp(v, "1") == 0 || strcmp(v, "true") == 0) {
            *out = 1;
            return 0;
        }
        if (strcmp(v, "0") == 0 || strcmp(v, "false") == 0) {
            *out = 0;
            return 0;
        }
        snprintf(err, errlen, "%s: expected 0/1/true/false, got '%s'", o->name, v);
        return -1;
    }
    char *end;
    errno = 0;
    if (!isdigit((unsigned char)v[0]))
        goto bad;
    unsigned long n = strtoul(v, &end, 10);
    if (errno != 0 || *end != '\0' || n < o->min || n > o->max)
        goto bad;
    *out = n;
    return 0;
bad:
    snprintf(err, errlen, "%s: expected an integer in %lu..%lu, got '%s'", o->name, o->min, o->max, v);
    return -1;
}

/* Splits "host[:port]" or "[v6]:port"; returns -1 on a malformed port. */
static int split_host_port(const char *s, size_t len, char *host, size_t hostcap, uint16_t *port)
{
    const char *colon = NULL;
    if (len > 0 && s[0] == '[') {
        const char *close = memchr(s, ']', len);
        if (close == NULL)
            return -1;
        size_t hl = (size_t)(close - s - 1);
        if (hl == 0 || hl >= hostcap)
            return -1;
        memcpy(host, s + 1, hl);
        host[hl] = '\0';
        if (close + 1 < s + len) {
            if (close[1] != ':')
                return -1;
            colon = close + 1;
        }
    } else {
        colon = memchr(s, ':', len);
        size_t hl = colon ? (size_t)(colon - s) : len;
        if (hl == 0 || hl >= hostcap)
            return -1;
        memcpy(host, s, hl);
        host[hl] = '\0';
    }
    if (colon != NULL) {
        size_t pl = (size_t)(s + len - colon - 1);
        if (pl == 0 || pl > 5)
            return -1;
        unsigned long p = 0;
        for (size_t i = 0; i < pl; i++) {
            if (!isdigit((unsigned char)colon[1 + i]))
                return -1;
            p = p * 10 + (unsigned long)(colon[1 + i] - '0');
        }
        if (p == 0 || p > 65535)
            return -1;
        *port = (uint16_t)p;
    }
    return 0;
}

/* Decodes %XX escapes of a URL userinfo part into dst (cap bytes). */
static int pct_decode(const char *s, size_t len, char *dst, size_t cap)
{
    size_t o = 0;
    for (size_t i = 0; i < len; i++) {
        char c = s[i];
        if (c == '%') {
            if (i + 2 >= len || !isxdigit((unsigned char)s[i + 1]) || !isxdigit((unsigned char)s[i + 2]))
                return -1;
            char hex[3] = {s[i + 1], s[i + 2], 0};
            c = (char)strtol(hex, NULL, 16);
            i += 2;
        }
        if (o + 1 >= cap)
            return -1;
        dst[o++] = c;
    }
    dst[o] = '\0';
    return 0;
}

int config_parse_redis_url(config_t *cfg, const char *url, char *err, size_t errlen)
{
    cfg->redis_host[0] = cfg->redis_unix[0] = cfg->redis_user[0] = cfg->redis_password[0] = '\0';
    cfg->redis_port = 6379;
    cfg->redis_db = 0;
    if (strlen(url) >= sizeof(cfg->redis_url))
        goto bad;
    strcpy(cfg->redis_url, url);
    if (strncmp(url, "unix://", 7) == 0) {
        if (url[7] != '/' || strlen(url + 7) >= sizeof(cfg->redis_unix))
            goto bad;
        strcpy(cfg->redis_unix, url + 7);
        return 0;
    }
    if (strncmp(url, "redis://", 8) != 0)
        goto bad;
    const char *p = url + 8, *end = p + strlen(p);
    const char *slash = memchr(p, '/', (size_t)(end - p));
    const char *auth_end = end;
    if (slash != NULL)
        auth_end = slash;
    const char *at = NULL;
    for (const char *q = p; q < auth_end; q++)
        if (*q == '@')
            at = q;
    if (at != NULL) {
        const char *colon = memchr(p, ':', (size_t)(at - p));
        if (colon == NULL) /* "redis://password@host" is not a form we guess at */
            goto bad;
        if (pct_decode(p, (size_t)(colon - p), cfg->redis_user, sizeof(cfg->redis_user)) != 0 ||
            pct_decode(colon + 1, (size_t)(at - colon - 1), cfg->redis_password, sizeof(cfg->redis_password)) != 0)
            goto bad;
        p = at + 1;
    }
    if (split_host_port(p, (size_t)(auth_end - p), cfg->redis_host, sizeof(cfg->redis_host), &cfg->redis_port) != 0)
        goto bad;
    if (slash != NULL && slash + 1 < end) {
        char *e;
        errno = 0;
        unsigned long db = strtoul(slash + 1, &e, 10);
        if (errno != 0 || *e != '\0' || db > 15 || !isdigit((unsigned char)slash[1]))
            goto bad;
        cfg->redis_db = (unsigned)db;
    }
    return 0;
bad:
    snprintf(err, errlen, "REDIS_URL: expected redis://[[user]:password@]host[:port][/db] or unix:///path, got '%s'", url);
    return -1;
}

/* Copies the next comma-separated item of *p into item (cap bytes) and
 * moves *p past it. Returns 1, 0 at the end, -1 for an empty or too long
 * item. */
static int next_item(const char **p, char *item, size_t cap)
{
    if (**p == '\0')
        return 0;
    const char *comma = strchr(*p, ',');
    size_t len = comma ? (size_t)(comma - *p) : strlen(*p);
    if (len == 0 || len >= cap)
        return -1;
    memcpy(item, *p, len);
    item[len] = '\0';
    *p += len + (comma ? 1 : 0);
    return 1;
}

/* Parses "a.b.c.d/n,x::y/n" (a bare address is a /32 or /128). */
static int parse_cidrs(config_t *cfg, const char *v, char *err, size_t errlen)
{
    const size_t max = sizeof(cfg->trusted_proxies) / sizeof(cfg->trusted_proxies[0]);
    const char *all = v;
    char item[64];
    int rc;
    cfg->ntrusted_proxies = 0;
    while ((rc = next_item(&v, item, sizeof(item))) == 1) {
        if (cfg->ntrusted_proxies == max)
            goto bad;
        struct config_cidr *c = &cfg->trusted_proxies[cfg->ntrusted_proxies++];
        char *slash = strchr(item, '/');
        if (slash != NULL)
            *slash = '\0';
        if (inet_pton(AF_INET, item, c->addr) == 1)
            c->family = AF_INET;
        else if (inet_pton(AF_INET6, item, c->addr) == 1)
            c->family = AF_INET6;
        else
            goto bad;
        unsigned maxp = c->family == AF_INET ? 32 : 128;
        c->prefix = maxp;
        if (slash != NULL) {
            char *e;
            unsigned long n = strtoul(slash + 1, &e, 10);
            if (!isdigit((unsigned char)slash[1]) || *e != '\0' || n > maxp)
                goto bad;
            c->prefix = (unsigned)n;
        }
    }
    if (rc == 0)
        return 0;
bad:
    snprintf(err, errlen, "TRUSTED_PROXIES: expected comma-separated addresses or CIDRs (at most %zu), got '%s'", max, all);
    return -1;
}

/* Parses "https://a.example,http://localhost:8080": scheme://host[:port]
 * each, or "*" (any origin). */
static int parse_origins(config_t *cfg, const char *v, char *err, size_t errlen)
{
    const size_t max = sizeof(cfg->cors_origins) / sizeof(cfg->cors_origins[0]);
    const char *all = v;
    char item[sizeof(cfg->cors_origins[0])];
    int rc;
    cfg->ncors_origins = 0;
    cfg->cors_any = 0;
    while ((rc = next_item(&v, item, sizeof(item))) == 1) {
        if (strcmp(item, "*") == 0) {
            cfg->cors_any = 1;
            continue;
        }
        size_t len = strlen(item);
        size_t skip = strncmp(item, "https://", 8) == 0 ? 8 : strncmp(item, "http://", 7) == 0 ? 7 : 0;
        if (skip == 0 || len <= skip || cfg->ncors_origins == max)
            goto bad;
        for (size_t i = skip; i < len; i++)
            if (!(isalnum((unsigned char)item[i]) || item[i] == '.' || item[i] == '-' || item[i] == ':' || item[i] == '[' ||
                  item[i] == ']'))
                goto bad;
        strcpy(cfg->cors_origins[cfg->ncors_origins++], item);
    }
    if (rc == 0)
        return 0;
bad:
    snprintf(err, errlen, "CORS_ORIGINS: expected comma-separated origins like https://shop.example (or *), at most %zu, got '%s'",
             max, all);
    return -1;
}

int config_is_trusted_proxy(const config_t *cfg, int family, const unsigned char *addr)
{
    for (size_t i = 0; i < cfg->ntrusted_proxies; i++) {
        const struct config_cidr *c = &cfg->trusted_proxies[i];
        if (c->family != family)
            continue;
        unsigned full = c->prefix / 8, rest = c->prefix % 8;
        if (memcmp(c->addr, addr, full) != 0)
            continue;
        if (rest != 0 && ((c->addr[full] ^ addr[full]) & (unsigned char)(0xff << (8 - rest))) != 0)
            continue;
        return 1;
    }
    return 0;
}

int config_check_serving(const config_t *cfg, char *err, size_t errlen)
{
    if (cfg->jwt_secret_len == 0) {
        snprintf(err, errlen, "JWT_SECRET: required (at least 32 bytes; e.g. openssl rand -hex 32)");
        return -1;
    }
    return 0;
}

int config_load(config_t *cfg, char *err, size_t errlen)
{
    memset(cfg, 0, sizeof(*cfg));
    for (size_t i = 0; i < NOPTS; i++) {
        const opt_t *o = &options[i];
        const char *v = opt_value(o);
        unsigned long n = 0;
        if (v == NULL) { /* computed default */
            if (strcmp(o->name, "THREADS") == 0) {
                long cores = sysconf(_SC_NPROCESSORS_ONLN);
                cfg->threads = cores > 0 ? (unsigned)cores : 1;
            }
            continue;
        }
        if (o->kind != OPT_STR && parse_uint(o, v, &n, err, errlen) != 0)
            return -1;
        const char *name = o->name;
        if (strcmp(name, "HOST") == 0) {
            unsigned char tmp[16];
            if (inet_pton(AF_INET, v, tmp) != 1 && inet_pton(AF_INET6, v, tmp) != 1) {
                snprintf(err, errlen, "HOST: expected an IPv4 or IPv6 address, got '%s'", v);
                return -1;
            }
            strcpy(cfg->host, v);
        } else if (strcmp(name, "PORT") == 0) {
            cfg->port = (uint16_t)n;
        } else if (strcmp(name, "THREADS") == 0) {
            cfg->threads = (unsigned)n;
        } else if (strcmp(name, "MONGO_URI") == 0) {
            if (copy_str(cfg->mongo_uri, sizeof(cfg->mongo_uri), v, name, err, errlen) != 0)
                return -1;
            if (strncmp(v, "mongodb://", 10) != 0 && strncmp(v, "mongodb+srv://", 14) != 0) {
                snprintf(err, errlen, "MONGO_URI: expected mongodb://… or mongodb+srv://…");
                return -1;
            }
        } else if (strcmp(name, "MONGO_DB") == 0) {
            if (copy_str(cfg->mongo_db, sizeof(cfg->mongo_db), v, name, err, errlen) != 0)
                return -1;
            if (strpbrk(v, "/\\. \"$*<>:|?") != NULL) {
                snprintf(err, errlen, "MONGO_DB: '%s' is not a valid database name", v);
                return -1;
            }
        } else if (strcmp(name, "MONGO_WORKERS") == 0) {
            cfg->mongo_workers = (unsigned)n;
        } else if (strcmp(name, "MONGO_QUEUE_MAX") == 0) {
            cfg->mongo_queue_max = (unsigned)n;
        } else if (strcmp(name, "MONGO_TIMEOUT_MS") == 0) {
            cfg->mongo_timeout_ms = (unsigned)n;
        } else if (strcmp(name, "REDIS_URL") == 0) {
            if (config_parse_redis_url(cfg, v, err, errlen) != 0)
                return -1;
        } else if (strcmp(name, "REDIS_TIMEOUT_MS") == 0) {
            cfg->redis_timeout_ms = (unsigned)n;
        } else if (strcmp(name, "CACHE_TTL") == 0) {
            cfg->cache_ttl_s = (unsigned)n;
        } else if (strcmp(name, "CACHE_TTL_JITTER_PCT") == 0) {
            cfg->cache_jitter_pct = (unsigned)n;
        } else if (strcmp(name, "CACHE_NEGATIVE_TTL") == 0) {
            cfg->cache_negative_ttl_s = (unsigned)n;
        } else if (strcmp(name, "HEALTH_TIMEOUT_MS") == 0) {
            cfg->health_timeout_ms = (unsigned)n;
        } else if (strcmp(name, "MAX_BODY_BYTES") == 0) {
            cfg->max_body_bytes = n;
        } else if (strcmp(name, "DRAIN_TIMEOUT_MS") == 0) {
            cfg->drain_timeout_ms = (unsigned)n;
        } else if (strcmp(name, "CURRENCY") == 0) {
            if (strlen(v) != 3 || !isupper((unsigned char)v[0]) || !isupper((unsigned char)v[1]) || !isupper((unsigned char)v[2])) {
                snprintf(err, errlen, "CURRENCY: expected a three-letter ISO 4217 code such as USD, got '%s'", v);
                return -1;
            }
            strcpy(cfg->currency, v);
        } else if (strcmp(name, "JWT_SECRET") == 0 || strcmp(name, "JWT_SECRET_PREVIOUS") == 0) {
            int cur = name[10] == '\0';
            size_t len = strlen(v);
            if (len == 0 && !cur)
                continue;
            if (len < 32 || len >= sizeof(cfg->jwt_secret)) {
                snprintf(err, errlen, "%s: must be 32..%zu bytes (got %zu); e.g. openssl rand -hex 32", name,
                         sizeof(cfg->jwt_secret) - 1, len);
                return -1;
            }
            memcpy(cur ? cfg->jwt_secret : cfg->jwt_secret_previous, v, len + 1);
            *(cur ? &cfg->jwt_secret_len : &cfg->jwt_secret_previous_len) = len;
        } else if (strcmp(name, "JWT_TTL") == 0) {
            cfg->jwt_ttl_s = (unsigned)n;
        } else if (strcmp(name, "ADMIN_USERNAME") == 0) {
            if (copy_str(cfg->admin_username, sizeof(cfg->admin_username), v, name, err, errlen) != 0)
                return -1;
        } else if (strcmp(name, "ADMIN_PASSWORD") == 0) {
            size_t len = strlen(v);
            if (len < 12 || len >= sizeof(cfg->admin_password)) {
                snprintf(err, errlen, "ADMIN_PASSWORD: must be 12..%zu characters", sizeof(cfg->admin_password) - 1);
                return -1;
            }
            memcpy(cfg->admin_password, v, len + 1);
        } else if (strcmp(name, "LOGIN_MAX_FAILURES") == 0) {
            cfg->login_max_failures = (unsigned)n;
        } else if (strcmp(name, "LOGIN_LOCKOUT") == 0) {
            cfg->login_lockout_s = (unsigned)n;
        } else if (strcmp(name, "LOGIN_TRACK_MAX") == 0) {
            cfg->login_track_max = (unsigned)n;
        } else if (strcmp(name, "LOGIN_WORKERS") == 0) {
            cfg->login_workers = (unsigned)n;
        } else if (strcmp(name, "LOGIN_QUEUE_MAX") == 0) {
            cfg->login_queue_max = (unsigned)n;
        } else if (strcmp(name, "AUTH_USER_TTL") == 0) {
            cfg->auth_user_ttl_s = (unsigned)n;
        } else if (strcmp(name, "TRUSTED_PROXIES") == 0) {
            if (parse_cidrs(cfg, v, err, errlen) != 0)
                return -1;
        } else if (strcmp(name, "CORS_ORIGINS") == 0) {
            if (parse_origins(cfg, v, err, errlen) != 0)
                return -1;
        } else if (strcmp(name, "DEBUG_FILL_DELAY_MS") == 0) {
            cfg->debug_fill_delay_ms = (unsigned)n;
        } else if (strcmp(name, "REDIS_DEAD_MS") == 0) {
            cfg->redis_dead_ms = (unsigned)n;
        } else if (strcmp(name, "WRITE_RETRY_MS") == 0) {
            cfg->write_retry_ms = (unsigned)n;
        } else if (strcmp(name, "DEBUG_CLAIM_HOLD_MS") == 0) {
            cfg->debug_claim_hold_ms = (unsigned)n;
        } else if (strcmp(name, "DEBUG_STORE_DELAY_MS") == 0) {
            cfg->debug_store_delay_ms = (unsigned)n;
        } else if (strcmp(name, "BENCH_BYPASS_CACHE") == 0) {
            cfg->bench_bypass_cache = (int)n;
        }
    }
    return 0;
}

void config_print_help(void *file)
{
    FILE *fp = file;
    fprintf(fp, "catalog-backend: product catalog API (h2o + Redis cache-aside + MongoDB)\n\n"
                "Usage: catalog-backend [--help | --healthcheck | --routes | --add-user NAME ROLE | --check-password NAME]\n\n"
                "  --healthcheck         GET /health on HOST:PORT, exit 0 when it answers 200 (for container HEALTHCHECK)\n"
                "  --routes              print the API's routes (METHOD PATH)\n"
                "  --add-user NAME ROLE  create or update a user (ROLE admin or viewer); the password is read from stdin\n"
                "  --check-password NAME compare the password on stdin with NAME's stored hash, without signing in\n"
                "                        (exit 0 matches, 1 differs, 3 no such user, 4 MongoDB unreachable)\n\n"
                "Configuration comes from the environment:\n\n");
    for (size_t i = 0; i < NOPTS; i++)
        fprintf(fp, "  %-22s %s\n  %-22s   default: %s\n", options[i].name, options[i].help, "",
                options[i].defval                         ? options[i].defval
                : strcmp(options[i].name, "THREADS") == 0 ? "(computed)"
                                                          : "(none)");
}
