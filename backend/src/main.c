/* catalog-backend: configuration, threads, signals, drain. */
#include "app.h"
#include "log.h"
#include "xalloc.h"
#include "handlers/auth.h"
#include "handlers/handlers.h"
#include "server/server.h"
#include "store/users_store.h"

#include <arpa/inet.h>
#include <cjson/cJSON.h>
#include <mongoc/mongoc.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/mman.h>
#include <unistd.h>

/* --healthcheck: GET /health on HOST:PORT (loopback when HOST is a
 * wildcard) within 2 s; exit 0 on 200. For container HEALTHCHECKs, which
 * then need no curl in the image. */
static int healthcheck(const config_t *cfg)
{
    const char *host = cfg->host;
    if (strcmp(host, "0.0.0.0") == 0)
        host = "127.0.0.1";
    else if (strcmp(host, "::") == 0)
        host = "::1";
    struct sockaddr_storage ss;
    socklen_t sl;
    if (server_sockaddr(host, cfg->port, &ss, &sl) != 0)
        return 1;
    int fd = socket(ss.ss_family, SOCK_STREAM, 0);
    struct timeval tv = {2, 0};
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
    setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
    if (connect(fd, (struct sockaddr *)&ss, sl) != 0) {
        perror("healthcheck: connect");
        return 1;
    }
    static const char req[] = "GET /health HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n";
    if (write(fd, req, sizeof(req) - 1) != (ssize_t)sizeof(req) - 1)
        return 1;
    char buf[256];
    ssize_t n = read(fd, buf, sizeof(buf) - 1);
    close(fd);
    if (n < 12)
        return 1;
    buf[n] = '\0';
    return strncmp(buf, "HTTP/1.1 200", 12) == 0 ? 0 : 1;
}

/* Reads a password from stdin (first line) into pw, so it never shows in
 * a process list. Returns 0, or 2 with a message naming option. */
static int read_password(const char *option, char pw[PASSWORD_MAX + 2])
{
    if (fgets(pw, PASSWORD_MAX + 2, stdin) == NULL) {
        fprintf(stderr, "catalog-backend: %s: give the password on stdin\n", option);
        return 2;
    }
    size_t line = strcspn(pw, "\r\n");
    int whole = pw[line] != '\0' || feof(stdin); /* else the line went on past the buffer */
    pw[line] = '\0';
    if (line < 12 || line > PASSWORD_MAX || !whole) {
        fprintf(stderr, "catalog-backend: %s: the password must be 12 to %d characters\n", option, PASSWORD_MAX);
        sodium_memzero(pw, PASSWORD_MAX + 2);
        return 2;
    }
    return 0;
}

/* --add-user NAME ROLE: creates or updates a user, the password read from
 * stdin. --check-password NAME (role NULL): compares the password on stdin
 * with NAME's stored hash without signing in (no failed attempt counted);
 * exit 0 matches, 1 differs, 3 no such user, 4 MongoDB error. */
static int user_command(const config_t *cfg, const char *name, const char *role)
{
    const char *option = role ? "--add-user" : "--check-password";
    if (!users_valid_name(name) || (role && strcmp(role, "admin") != 0 && strcmp(role, "viewer") != 0)) {
        fprintf(stderr, "catalog-backend: %s: NAME is 1..64 of [A-Za-z0-9._@-]%s\n", option, role ? ", ROLE admin or viewer" : "");
        return 2;
    }
    char pw[PASSWORD_MAX + 2];
    if (read_password(option, pw) != 0)
        return 2;
    mongoc_init();
    char err[512] = "libsodium cannot start";
    bson_error_t e;
    mongoc_uri_t *uri = mongoc_uri_new_with_error(cfg->mongo_uri, &e);
    if (uri && !mongoc_uri_has_option(uri, MONGOC_URI_SERVERSELECTIONTIMEOUTMS))
        mongoc_uri_set_option_as_int32(uri, MONGOC_URI_SERVERSELECTIONTIMEOUTMS, 5000);
    mongoc_client_t *client = uri ? mongoc_client_new_from_uri(uri) : NULL;
    int rc = 1;
    if (client == NULL) {
        fprintf(stderr, "catalog-backend: MONGO_URI: %s\n", e.message);
        rc = 2;
    } else if (!role) {
        int c = password_init() != 0 ? USERS_CHECK_ERROR : users_check_password(client, cfg->mongo_db, name, pw, err, sizeof(err));
        static const char *const says[] = {"matches", "differs from the stored one", "no such user", "cannot check"};
        static const int codes[] = {0, 1, 3, 4};
        fprintf(stderr, "catalog-backend: --check-password: %s: %s%s%s\n", name, says[c], c == USERS_CHECK_ERROR ? ": " : "",
                c == USERS_CHECK_ERROR ? err : "");
        rc = codes[c];
    } else if (password_init() != 0 || users_put(client, cfg->mongo_db, name, role, pw, err, sizeof(err)) != 0)
        fprintf(stderr, "catalog-backend: --add-user: %s\n", err);
    else {
        fprintf(stderr, "catalog-backend: user '%s' (%s) saved\n", name, role);
        rc = 0;
    }
    sodium_memzero(pw, sizeof(pw));
    if (client)
        mongoc_client_destroy(client);
    if (uri)
        mongoc_uri_destroy(uri);
    mongoc_cleanup();
    return rc;
}

/* Start-up work that needs MongoDB (indexes, the first admin), retried in
 * the background: the API serves reads while MongoDB is still starting. */
static pthread_mutex_t boot_mutex = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t boot_cond = PTHREAD_COND_INITIALIZER;
static int boot_done;

static void *bootstrap_main(void *arg)
{
    app_t *app = arg;
    unsigned delay_ms = 250;
    mongoc_client_t *client = mongo_pool_new_client(app->store);
    for (;;) {
        char err[512] = "out of memory";
        int rc =
            client ? users_bootstrap(client, app->cfg.mongo_db, app->cfg.admin_username, app->cfg.admin_password, err, sizeof(err))
                   : -1;
        if (rc == 0)
            break;
        LOG(LOG_WARN, "setup_failed", "start-up setup (indexes, the first admin) failed; retrying", LOG_S("error", err),
            LOG_I("retry_ms", delay_ms));
        struct timespec d = {delay_ms / 1000, (long)(delay_ms % 1000) * 1000000};
        nanosleep(&d, NULL);
        if (delay_ms < 5000)
            delay_ms *= 2;
    }
    mongoc_client_destroy(client);
    sodium_memzero(app->cfg.admin_password, sizeof(app->cfg.admin_password));
    pthread_mutex_lock(&boot_mutex);
    boot_done = 1;
    pthread_cond_signal(&boot_cond);
    pthread_mutex_unlock(&boot_mutex);
    return NULL;
}

/* Waits up to ms for the start-up setup, so that with MongoDB up the admin
 * can sign in as soon as the port is open; without it, serving goes on. */
static void bootstrap_wait(unsigned ms)
{
    struct timespec until;
    clock_gettime(CLOCK_REALTIME, &until);
    until.tv_sec += ms / 1000;
    until.tv_nsec += (long)(ms % 1000) * 1000000;
    if (until.tv_nsec >= 1000000000) {
        until.tv_sec++;
        until.tv_nsec -= 1000000000;
    }
    pthread_mutex_lock(&boot_mutex);
    while (!boot_done && pthread_cond_timedwait(&boot_cond, &boot_mutex, &until) == 0)
        ;
    int done = boot_done;
    pthread_mutex_unlock(&boot_mutex);
    if (!done)
        LOG(LOG_WARN, "setup_pending", "start-up setup not finished in time; serving, and retrying it meanwhile",
            LOG_I("waited_ms", ms));
}

/* Every route the API serves, from the files that serve them. */
static const server_route_t *const route_tables[] = {
    health_routes,  products_routes, writes_routes,  categories_routes, stats_routes,
    openapi_routes, auth_routes,     metrics_routes, changes_routes,    NULL,
};

/* The command line: one-shot modes, or (all zero) serving. */
typedef struct {
    int healthcheck;                   /* --healthcheck */
    const char *user_name, *user_role; /* --add-user NAME ROLE, --check-password NAME (role NULL) */
} main_args_t;

/* Parses argv into *a. Returns -1 to go on, or the exit status when the
 * command line is answered already: 0 after --help or --routes (printed
 * on stdout), 2 for an unknown argument (message on stderr). */
static int parse_args(int argc, char **argv, main_args_t *a)
{
    memset(a, 0, sizeof(*a));
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
            config_print_help(stdout);
            return 0;
        } else if (strcmp(argv[i], "--routes") == 0) {
            server_print_routes(stdout);
            return 0;
        } else if (strcmp(argv[i], "--healthcheck") == 0) {
            a->healthcheck = 1;
        } else if (strcmp(argv[i], "--add-user") == 0 && i + 2 < argc) {
            a->user_name = argv[++i];
            a->user_role = argv[++i];
        } else if (strcmp(argv[i], "--check-password") == 0 && i + 1 < argc) {
            a->user_name = argv[++i];
            a->user_role = NULL;
        } else {
            fprintf(stderr, "catalog-backend: unknown argument '%s' (see --help)\n", argv[i]);
            return 2;
        }
    }
    return -1;
}

/* Blocks SIGTERM and SIGINT (returned in *sigs) in this thread and every
 * thread it starts later: they are taken by sigwait on this thread only,
 * and blocked before the slow start-up steps, so a signal then is handled
 * after them. Ignores SIGPIPE. */
static void block_signals(sigset_t *sigs)
{
    sigemptyset(sigs);
    sigaddset(sigs, SIGTERM);
    sigaddset(sigs, SIGINT);
    pthread_sigmask(SIG_BLOCK, sigs, NULL);
    signal(SIGPIPE, SIG_IGN);
}

/* Creates the MongoDB pools (not connected yet) and the single-flight
 * table. Returns 0, or 2 with a configuration error printed. */
static int start_stores(app_t *app)
{
    char err[512];
    mongo_pool_capture_logs(); /* first: mongoc_init itself may warn */
    mongoc_init();
    app->store = mongo_pool_create(&app->cfg, err, sizeof(err));
    if (app->store == NULL) {
        fprintf(stderr, "catalog-backend: configuration error: %s\n", err);
        return 2;
    }
    /* sign-ins on threads of their own, at the lowest CPU priority: a flood
     * of Argon2id checks neither takes the MongoDB workers of reads and
     * writes nor their CPU. Its queue never refuses: auth_login bounds
     * sign-ins in progress (LOGIN_QUEUE_MAX + LOGIN_WORKERS) before any */
    app->login_store = mongo_pool_create_sized(&app->cfg, app->cfg.login_workers, app->cfg.login_queue_max + app->cfg.login_workers,
                                               19, err, sizeof(err));
    if (app->login_store == NULL) {
        fprintf(stderr, "catalog-backend: configuration error: %s\n", err);
        return 2;
    }
    app->flights = flight_table_create();
    if (app->cfg.l1_bytes != 0)
        app->local = local_create(&app->cfg);
    if (app->cfg.mirror_max_products != 0) {
        app->mirror = mirror_create(app->cfg.mirror_max_products, (uint64_t)app->cfg.mirror_max_age_s * 1000, app->cfg.currency);
        /* its scans (seconds at 20,000 products) on a thread of their own,
         * never in the way of the reads and writes of the MongoDB workers */
        app->mirror_store = mongo_pool_create_sized(&app->cfg, 1, 2, 0, err, sizeof(err));
        if (app->mirror_store == NULL) {
            fprintf(stderr, "catalog-backend: configuration error: %s\n", err);
            return 2;
        }
    }
    return 0;
}

/* The process's field in the deployment's stats hash: "<host name>:<port>"
 * (a container's host name is its id; local processes differ by port). */
static void set_instance(app_t *app)
{
    char host[64] = "";
    if (gethostname(host, sizeof(host) - 1) != 0 || host[0] == '\0')
        snprintf(host, sizeof(host), "localhost");
    snprintf(app->instance, sizeof(app->instance), "%s:%u", host, app->cfg.port);
}

/* The start-up line: where it listens and the configuration that shapes
 * its behaviour, without secrets (no URL with a password, no JWT secret). */
static void log_started(const config_t *cfg)
{
    char redis[300];
    if (cfg->redis_unix[0] != '\0')
        snprintf(redis, sizeof(redis), "unix:%s", cfg->redis_unix);
    else
        snprintf(redis, sizeof(redis), "%s:%u", cfg->redis_host, cfg->redis_port);
    LOG(LOG_INFO, "started", "listening", LOG_S("host", cfg->host), LOG_I("port", cfg->port), LOG_I("threads", cfg->threads),
        LOG_I("mongo_workers", cfg->mongo_workers), LOG_I("mongo_queue_max", cfg->mongo_queue_max),
        LOG_S("mongo_db", cfg->mongo_db), LOG_I("mongo_timeout_ms", cfg->mongo_timeout_ms), LOG_S("redis", redis),
        LOG_I("redis_db", cfg->redis_db), LOG_I("redis_timeout_ms", cfg->redis_timeout_ms), LOG_I("cache_ttl_s", cfg->cache_ttl_s),
        LOG_S("currency", cfg->currency), LOG_I("login_workers", cfg->login_workers),
        LOG_I("cors_origins", cfg->ncors_origins + (unsigned)cfg->cors_any),
        LOG_S("log_level", log_level_name((log_level_t)cfg->log_level)), LOG_F("log_requests", cfg->log_requests_ppm / 1e6),
        LOG_S("version", CATALOG_VERSION));
}

/* Everything between the configuration and serving: checks, stores, the
 * start-up setup (waited for briefly), listeners, loop threads. Returns 0
 * once listening, or the exit status with the reason printed. */
static int start(app_t *app)
{
    char err[512];
    if (config_check_serving(&app->cfg, err, sizeof(err)) != 0 || openapi_load(app, err, sizeof(err)) != 0) {
        fprintf(stderr, "catalog-backend: configuration error: %s\n", err);
        return 2;
    }
    if (password_init() != 0) {
        fprintf(stderr, "catalog-backend: libsodium cannot start\n");
        return 1;
    }
    int rc = start_stores(app);
    if (rc != 0)
        return rc;
    pthread_t boot;
    if (pthread_create(&boot, NULL, bootstrap_main, app) == 0) {
        pthread_detach(boot);
        bootstrap_wait(app->cfg.mongo_timeout_ms + 1000);
    }
    server_configure(app);
    app->threads = xcalloc_aligned(app->cfg.threads, sizeof(*app->threads), 64);
    for (unsigned i = 0; i < app->cfg.threads; i++) {
        if ((app->threads[i].listen_fd = server_listen(&app->cfg, err, sizeof(err))) < 0) {
            fprintf(stderr, "catalog-backend: %s\n", err);
            return 1;
        }
    }
    set_instance(app);
    if (app_start(app) != 0)
        return 1;
    log_started(&app->cfg);
    return 0;
}

/* Waits for SIGTERM or SIGINT (blocked in sigs), drains the loop threads
 * for up to DRAIN_TIMEOUT_MS and exits 0 either way, saying which. */
static _Noreturn void serve_until_signal(app_t *app, const sigset_t *sigs)
{
    int sig;
    sigwait(sigs, &sig);
    LOG(LOG_INFO, "drain", sig == SIGTERM ? "SIGTERM received, draining" : "SIGINT received, draining",
        LOG_I("timeout_ms", app->cfg.drain_timeout_ms));
    int drained = app_drain(app, app->cfg.drain_timeout_ms);
    size_t left = 0;
    for (unsigned i = 0; i < app->cfg.threads; i++)
        left += (size_t)metrics_gauge_get(&app->threads[i].inflight);
    char msg[96];
    snprintf(msg, sizeof(msg), drained ? "drained, exiting" : "drain timed out with %zu requests in flight, exiting", left);
    LOG(drained ? LOG_INFO : LOG_WARN, "exit", msg, LOG_I("in_flight", left));
    fflush(NULL);
    /* loop and worker threads are still parked in their loops: leave without
     * running destructors under them; the kernel closes idle connections */
    _exit(0);
}

/* cJSON allocates through this: out of memory aborts there too (xalloc.h).
 * libbson and libmongoc already abort (bson_malloc); hiredis 0.14 and
 * libjwt report it as an error, which their callers handle. */
static void *cjson_alloc(size_t n)
{
    return xmalloc(n);
}

int main(int argc, char **argv)
{
    /* libmongoc (Debian's build initialises itself when it is loaded,
     * before main: MONGOC_DISABLE_SHM set here is read too late) keeps
     * counters for its mongoc-stat tool in /dev/shm/mongoc-<pid>, which
     * outlives a process that ends with _exit or a signal: one file per
     * run, and a later process given the same pid warns. Unlinking the name
     * leaves the mapping working and nothing behind. */
    char shm_name[32];
    snprintf(shm_name, sizeof(shm_name), "/mongoc-%u", (unsigned)getpid());
    shm_unlink(shm_name);
    cJSON_InitHooks(&(cJSON_Hooks){.malloc_fn = cjson_alloc, .free_fn = free});
    char route_err[160];
    if (server_set_routes(route_tables, route_err, sizeof(route_err)) != 0) {
        fprintf(stderr, "catalog-backend: %s\n", route_err);
        return 1;
    }
    main_args_t args;
    int rc = parse_args(argc, argv, &args);
    if (rc >= 0)
        return rc;
    static app_t app;
    char err[512];
    if (config_load(&app.cfg, err, sizeof(err)) != 0) {
        fprintf(stderr, "catalog-backend: configuration error: %s\n", err);
        return 2;
    }
    log_init((log_level_t)app.cfg.log_level, app.cfg.log_requests_ppm);
    if (args.healthcheck)
        return healthcheck(&app.cfg);
    if (args.user_name != NULL)
        return user_command(&app.cfg, args.user_name, args.user_role);
    sigset_t sigs;
    block_signals(&sigs);
    rc = start(&app);
    if (rc != 0)
        return rc;
    serve_until_signal(&app, &sigs);
}
