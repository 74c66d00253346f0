#include "config.h"
#include "config_parse.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* One table drives both loading and --help so they cannot drift apart: a row
 * names a variable, its default, the field of config_t it fills and, for the
 * few that need more than a number or a copy, a parse hook. */
typedef enum { OPT_STR, OPT_UINT, OPT_BOOL } opt_kind_t;

typedef struct opt {
    const char *name;
    const char *defval; /* NULL: computed by compute, or left empty */
    opt_kind_t kind;
    unsigned long min, max; /* OPT_UINT/OPT_BOOL: the range; OPT_STR: min is the least length */
    size_t offset, size;    /* the field of config_t */
    const char *help;
    /* NULL: the kind's own parsing; else turns v into cfg: 0, or -1 with a message in err */
    int (*parse)(config_t *cfg, const struct opt *o, const char *v, char *err, size_t errlen);
    void (*compute)(config_t *cfg); /* the default when defval is NULL */
} opt_t;

#define FIELD(f) offsetof(config_t, f), sizeof(((config_t *)0)->f)
/* clang-format off */
#define OPT_U(name, def, lo, hi, f, help) {name, def, OPT_UINT, lo, hi, FIELD(f), help}
#define OPT_S(name, def, minlen, f, help, hook) {name, def, OPT_STR, minlen, 0, FIELD(f), help, hook}
/* clang-format on */

/* Writes the printf-style message to err; returns -1 (for "return opt_fail(...)"). */
__attribute__((format(printf, 3, 4))) static int opt_fail(char *err, size_t errlen, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err, errlen, fmt, ap);
    va_end(ap);
    return -1;
}

/* Copies v into o's char-array field when its length is o->min..size-1.
 * Returns 0, or -1 with "NAME: must be MIN..MAX characters" in err. */
static int opt_copy_str(config_t *cfg, const opt_t *o, const char *v, char *err, size_t errlen)
{
    size_t n = strlen(v);
    if (n < o->min || n >= o->size)
        return opt_fail(err, errlen, "%s: must be %lu..%zu characters", o->name, o->min, o->size - 1);
    memcpy((char *)cfg + o->offset, v, n + 1);
    return 0;
}

/* Stores n in o's field, whose size tells its type: uint16_t, unsigned (or int) or size_t. */
static void opt_store_uint(config_t *cfg, const opt_t *o, unsigned long n)
{
    char *field = (char *)cfg + o->offset;
    if (o->size == sizeof(uint16_t))
        *(uint16_t *)field = (uint16_t)n;
    else if (o->size == sizeof(unsigned))
        *(unsigned *)field = (unsigned)n;
    else
        *(size_t *)field = n;
}

/* Parses v as o's kind (OPT_BOOL: 0/1/true/false; OPT_UINT: decimal digits
 * in o->min..o->max) into o's field. Returns 0, or -1 with a message in err. */
static int opt_parse_uint(config_t *cfg, const opt_t *o, const char *v, char *err, size_t errlen)
{
    unsigned long n = 0;
    if (o->kind == OPT_BOOL) {
        int one = strcmp(v, "1") == 0 || strcmp(v, "true") == 0;
        if (!one && strcmp(v, "0") != 0 && strcmp(v, "false") != 0)
            return opt_fail(err, errlen, "%s: expected 0/1/true/false, got '%s'", o->name, v);
        n = (unsigned long)one;
    } else {
        char *end = NULL;
        errno = 0;
        if (isdigit((unsigned char)v[0]))
            n = strtoul(v, &end, 10);
        if (end == NULL || errno != 0 || *end != '\0' || n < o->min || n > o->max)
            return opt_fail(err, errlen, "%s: expected an integer in %lu..%lu, got '%s'", o->name, o->min, o->max, v);
    }
    opt_store_uint(cfg, o, n);
    return 0;
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

/* HOST: an IPv4 or IPv6 literal. */
static int opt_parse_host(config_t *cfg, const opt_t *o, const char *v, char *err, size_t errlen)
{
    unsigned char tmp[16];
    if (inet_pton(AF_INET, v, tmp) != 1 && inet_pton(AF_INET6, v, tmp) != 1)
        return opt_fail(err, errlen, "HOST: expected an IPv4 or IPv6 address, got '%s'", v);
    return opt_copy_str(cfg, o, v, err, errlen);
}

/* MONGO_URI: a copy that starts mongodb:// or mongodb+srv://. */
static int opt_parse_mongo_uri(config_t *cfg, const opt_t *o, const char *v, char *err, size_t errlen)
{
    if (opt_copy_str(cfg, o, v, err, errlen) != 0)
        return -1;
    if (strncmp(v, "mongodb://", 10) != 0 && strncmp(v, "mongodb+srv://", 14) != 0)
        return opt_fail(err, errlen, "MONGO_URI: expected mongodb://… or mongodb+srv://…");
    return 0;
}

/* MONGO_DB: a copy without the characters MongoDB refuses in a name. */
static int opt_parse_mongo_db(config_t *cfg, const opt_t *o, const char *v, char *err, size_t errlen)
{
    if (opt_copy_str(cfg, o, v, err, errlen) != 0)
        return -1;
    if (strpbrk(v, "/\\. \"$*<>:|?") != NULL)
        return opt_fail(err, errlen, "MONGO_DB: '%s' is not a valid database name", v);
    return 0;
}

/* REDIS_URL: see config_parse_redis_url. */
static int opt_parse_redis_url(config_t *cfg, const opt_t *o, const char *v, char *err, size_t errlen)
{
    return config_parse_redis_url(cfg, v, err, errlen);
}

/* TRUSTED_PROXIES: see config_parse_cidrs. */
static int opt_parse_cidrs(config_t *cfg, const opt_t *o, const char *v, char *err, size_t errlen)
{
    return config_parse_cidrs(cfg, v, err, errlen);
}

/* CORS_ORIGINS: see config_parse_origins. */
static int opt_parse_origins(config_t *cfg, const opt_t *o, const char *v, char *err, size_t errlen)
{
    return config_parse_origins(cfg, v, err, errlen);
}

/* CURRENCY: three upper-case letters. */
static int opt_parse_currency(config_t *cfg, const opt_t *o, const char *v, char *err, size_t errlen)
{
    if (strlen(v) != 3 || !isupper((unsigned char)v[0]) || !isupper((unsigned char)v[1]) || !isupper((unsigned char)v[2]))
        return opt_fail(err, errlen, "CURRENCY: expected a three-letter ISO 4217 code such as USD, got '%s'", v);
    return opt_copy_str(cfg, o, v, err, errlen);
}

/* Copies a JWT secret of o->min..size-1 bytes into o's field, its length into *len. Returns 0 or -1. */
static int opt_copy_secret(config_t *cfg, const opt_t *o, const char *v, size_t *len, char *err, size_t errlen)
{
    size_t n = strlen(v);
    if (n < o->min || n >= o->size)
        return opt_fail(err, errlen, "%s: must be %lu..%zu bytes (got %zu); e.g. openssl rand -hex 32", o->name, o->min,
                        o->size - 1, n);
    memcpy((char *)cfg + o->offset, v, n + 1);
    *len = n;
    return 0;
}

/* JWT_SECRET: a valid secret (set but empty is refused). */
static int opt_parse_jwt_secret(config_t *cfg, const opt_t *o, const char *v, char *err, size_t errlen)
{
    return opt_copy_secret(cfg, o, v, &cfg->jwt_secret_len, err, errlen);
}

/* JWT_SECRET_PREVIOUS: a valid secret, or empty for none (no rotation under way). */
static int opt_parse_jwt_previous(config_t *cfg, const opt_t *o, const char *v, char *err, size_t errlen)
{
    return v[0] == '\0' ? 0 : opt_copy_secret(cfg, o, v, &cfg->jwt_secret_previous_len, err, errlen);
}

/* LOG_LEVEL: debug, info, warn or error (log.h's order). */
static int opt_parse_log_level(config_t *cfg, const opt_t *o, const char *v, char *err, size_t errlen)
{
    static const char *const names[] = {"debug", "info", "warn", "error"};
    for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
        if (strcmp(v, names[i]) == 0) {
            cfg->log_level = (int)i;
            return 0;
        }
    return opt_fail(err, errlen, "LOG_LEVEL: expected debug, info, warn or error, got '%s'", v);
}

/* LOG_REQUESTS: 0 (none), 1 (every request) or a share between them such
 * as 0.01, kept as parts per million. */
static int opt_parse_log_requests(config_t *cfg, const opt_t *o, const char *v, char *err, size_t errlen)
{
    char *end = NULL;
    double share = isdigit((unsigned char)v[0]) ? strtod(v, &end) : -1;
    if (end == NULL || *end != '\0' || !(share >= 0 && share <= 1))
        return opt_fail(err, errlen, "LOG_REQUESTS: expected 0, 1 or a share of requests between them (e.g. 0.01), got '%s'", v);
    cfg->log_requests_ppm = (unsigned)(share * 1000000 + 0.5);
    return 0;
}

/* THREADS when unset: the number of online cores (1 if unknown). */
static void opt_compute_threads(config_t *cfg)
{
    long cores = sysconf(_SC_NPROCESSORS_ONLN);
    cfg->threads = cores > 0 ? (unsigned)cores : 1;
}

/* L1_BYTES when unset: on (4 MiB) when Redis is reached over loopback or a
 * unix socket, where invalidations are delivered before a writer's reply
 * (README: "In-process cache"); off elsewhere. */
static void opt_compute_l1_bytes(config_t *cfg)
{
    unsigned char a[16];
    int loopback = cfg->redis_unix[0] != '\0' || strcmp(cfg->redis_host, "localhost") == 0 ||
                   (inet_pton(AF_INET, cfg->redis_host, a) == 1 && a[0] == 127) ||
                   (inet_pton(AF_INET6, cfg->redis_host, a) == 1 && memcmp(a, "\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\1", 16) == 0);
    cfg->l1_bytes = loopback ? 4u << 20 : 0;
}

static const opt_t options[] = {
    OPT_S("HOST", "127.0.0.1", 1, host, "listen address (IPv4 or IPv6 literal)", opt_parse_host),
    OPT_U("PORT", "3000", 1, 65535, port, "listen port"),
    {"THREADS", NULL, OPT_UINT, 1, 256, FIELD(threads), "event-loop threads (default: number of cores)",
     .compute = opt_compute_threads},
    OPT_S("MONGO_URI", "mongodb://127.0.0.1:27017", 1, mongo_uri, "MongoDB connection string", opt_parse_mongo_uri),
    OPT_S("MONGO_DB", "catalog", 1, mongo_db, "database name", opt_parse_mongo_db),
    OPT_U("MONGO_WORKERS", "4", 1, 256, mongo_workers, "MongoDB worker threads (and pooled clients)"),
    OPT_U("MONGO_QUEUE_MAX", "1024", 1, 1000000, mongo_queue_max, "queued MongoDB jobs before 503 + Retry-After"),
    OPT_U("MONGO_TIMEOUT_MS", "2000", 50, 600000, mongo_timeout_ms, "bound on a MongoDB job, queue wait included (then 503)"),
    OPT_S("REDIS_URL", "redis://127.0.0.1:6379/0", 1, redis_url,
          "redis://[[user]:password@]host[:port][/db] or unix:///path (host names resolved off the loop)", opt_parse_redis_url),
    OPT_U("REDIS_TIMEOUT_MS", "100", 1, 60000, redis_timeout_ms,
          "Redis command timeout (then served from MongoDB, X-Cache: BYPASS)"),
    OPT_U("REDIS_DEAD_MS", "1000", 1, 600000, redis_dead_ms,
          "a reply this late means the connection is lost: reconnect (at least REDIS_TIMEOUT_MS; invalidations wait this long)"),
    OPT_U("CACHE_TTL", "300", 1, 86400 * 30, cache_ttl_s, "TTL of cached reads, seconds"),
    OPT_U("CACHE_TTL_JITTER_PCT", "0", 0, 3, cache_jitter_pct, "shorten each TTL by a random 0..N percent (N <= 3)"),
    OPT_U("CACHE_NEGATIVE_TTL", "15", 1, 3600, cache_negative_ttl_s, "TTL of a cached 'no such product', seconds"),
    OPT_U(
        "MIRROR_MAX_PRODUCTS", "100000", 0, 10000000, mirror_max_products,
        "largest catalogue each process holds in memory to answer list and categories misses (0: off; larger: the store answers)"),
    OPT_U("MIRROR_MAX_AGE", "300", 1, 86400, mirror_max_age_s,
          "seconds after which that copy is scanned again (bounds how late a write made around the API shows)"),
    {"L1_BYTES", NULL, OPT_UINT, 0, 1ul << 30, FIELD(l1_bytes),
     "bytes of the in-process cache in front of Redis (0: off; default 4 MiB when Redis is on loopback or a unix socket, else 0)",
     .compute = opt_compute_l1_bytes},
    OPT_U("L1_MAX_AGE_MS", "10000", 1, 86400000, l1_max_age_ms,
          "how long the in-process cache serves its copy of an entry before asking Redis again"),
    OPT_U("CHANGES_MAX", "10000", 100, 10000000, changes_max, "entries kept (about) in the Redis change stream {products}:changes"),
    OPT_U("SSE_MAX_CLIENTS", "1000", 0, 1000000, sse_max_clients,
          "change feed streams (GET /api/changes) open at once per process; beyond: 503 + Retry-After (0: the feed is off)"),
    OPT_U("SSE_BUFFER_MAX", "262144", 1024, 67108864, sse_buffer_max,
          "bytes of events a feed stream may have unsent (a client not reading) before it is closed; it resumes by id"),
    OPT_U("SSE_PING_S", "15", 1, 3600, sse_ping_s, "seconds between the feed's ': ping' comments (proxies close idle streams)"),
    OPT_U("WRITE_RETRY_MS", "5000", 0, 60000, write_retry_ms,
          "how long a write without If-Match retries behind concurrent writes to the same product (then 503)"),
    OPT_U("HEALTH_TIMEOUT_MS", "1000", 10, 60000, health_timeout_ms, "time box of each /health/ready check"),
    OPT_U("MAX_BODY_BYTES", "65536", 1, 1048576, max_body_bytes, "largest accepted request body (else 413)"),
    OPT_U("DRAIN_TIMEOUT_MS", "4500", 0, 60000, drain_timeout_ms, "on SIGTERM/SIGINT, longest wait for in-flight requests"),
    OPT_S("CURRENCY", "USD", 1, currency, "ISO 4217 code shown with every price", opt_parse_currency),
    OPT_S("JWT_SECRET", NULL, 32, jwt_secret, "secret that signs auth tokens (HS256), at least 32 bytes (required)",
          opt_parse_jwt_secret),
    OPT_S("JWT_SECRET_PREVIOUS", NULL, 32, jwt_secret_previous,
          "previous secret, still accepted for verification during a rotation", opt_parse_jwt_previous),
    OPT_U("JWT_TTL", "3600", 60, 86400, jwt_ttl_s, "lifetime of an auth token, seconds"),
    OPT_S("ADMIN_USERNAME", "admin", 1, admin_username, "user name of the admin created at start-up when none exists", NULL),
    OPT_S("ADMIN_PASSWORD", NULL, 12, admin_password, "its password (at least 12 characters); unset: no admin is created", NULL),
    OPT_U("LOGIN_MAX_FAILURES", "5", 1, 1000, login_max_failures, "failed logins per user and address before 429"),
    OPT_U("LOGIN_LOCKOUT", "900", 1, 86400, login_lockout_s, "window of counted login failures (and the lockout), seconds"),
    OPT_U("LOGIN_TRACK_MAX", "20000", 1, 1000000, login_track_max,
          "user/address pairs tracked per lockout window; a new pair beyond it is refused (429) until the window turns"),
    OPT_U("LOGIN_WORKERS", "1", 1, 64, login_workers,
          "password-check threads (Argon2id, 64 MiB each, run at the lowest CPU priority)"),
    OPT_U("LOGIN_QUEUE_MAX", "64", 1, 100000, login_queue_max,
          "sign-ins waiting for a password-check thread before 503 + Retry-After"),
    OPT_U("AUTH_USER_TTL", "5", 0, 3600, auth_user_ttl_s,
          "seconds a write may rely on a looked-up user (exists, is admin) before looking again; 0: every write"),
    OPT_S("TRUSTED_PROXIES", "127.0.0.0/8,::1/128", 0, trusted_proxies,
          "comma-separated CIDRs of proxies whose X-Real-IP header names the client (nginx)", opt_parse_cidrs),
    OPT_S("CORS_ORIGINS", "", 0, cors_origins, "comma-separated origins allowed cross-origin (empty: CORS off)", opt_parse_origins),
    {"LOG_LEVEL", "info", OPT_STR, 0, 0, FIELD(log_level), "least level of the JSON log lines on stderr: debug, info, warn, error",
     opt_parse_log_level},
    {"LOG_REQUESTS", "0", OPT_STR, 0, 0, FIELD(log_requests_ppm),
     "log a line per request: 0 (none), 1 (every one) or the share to sample (e.g. 0.01)", opt_parse_log_requests},
    OPT_U("DEBUG_STORE_DELAY_MS", "0", 0, 60000, debug_store_delay_ms, "tests only: hold every MongoDB job this long"),
    OPT_U("DEBUG_FILL_DELAY_MS", "0", 0, 60000, debug_fill_delay_ms,
          "tests only: hold every cache fill this long after MongoDB answered"),
    OPT_U("DEBUG_LOOKUP_DELAY_MS", "0", 0, 60000, debug_lookup_delay_ms,
          "tests only: hold every Redis hit this long before it is answered and copied into the in-process cache"),
    OPT_U("DEBUG_CLAIM_HOLD_MS", "0", 0, 600000, debug_claim_hold_ms,
          "tests only: hold every update or delete this long after its claim"),
    OPT_U("DEBUG_SENT_HOLD_MS", "0", 0, 60000, debug_sent_hold_ms,
          "tests only: hold every create, update or delete this long once it counts as sent, before its command goes out"),
    {"BENCH_BYPASS_CACHE", "0", OPT_BOOL, 0, 1, FIELD(bench_bypass_cache), "benchmarks only: skip Redis on every read"},
};

#define NOPTS (sizeof(options) / sizeof(options[0]))

int config_load(config_t *cfg, char *err, size_t errlen)
{
    memset(cfg, 0, sizeof(*cfg));
    for (size_t i = 0; i < NOPTS; i++) {
        const opt_t *o = &options[i];
        const char *v = getenv(o->name);
        if (v == NULL)
            v = o->defval;
        if (v == NULL) {
            if (o->compute != NULL)
                o->compute(cfg);
        } else if (o->parse != NULL) {
            if (o->parse(cfg, o, v, err, errlen) != 0)
                return -1;
        } else if (o->kind == OPT_STR) {
            if (opt_copy_str(cfg, o, v, err, errlen) != 0)
                return -1;
        } else if (opt_parse_uint(cfg, o, v, err, errlen) != 0) {
            return -1;
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
                options[i].defval    ? options[i].defval
                : options[i].compute ? "(computed)"
                                     : "(none)");
}
