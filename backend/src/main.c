/* catalog-backend: configuration, threads, signals, drain. */
#include "app.h"
#include "server/server.h"

#include <arpa/inet.h>
#include <mongoc/mongoc.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
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

int main(int argc, char **argv)
{
    int check = 0;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
            config_print_help(stdout);
            return 0;
        } else if (strcmp(argv[i], "--healthcheck") == 0) {
            check = 1;
        } else {
            fprintf(stderr, "catalog-backend: unknown argument '%s' (see --help)\n", argv[i]);
            return 2;
        }
    }

    static app_t app;
    char err[512];
    if (config_load(&app.cfg, err, sizeof(err)) != 0) {
        fprintf(stderr, "catalog-backend: configuration error: %s\n", err);
        return 2;
    }
    if (check)
        return healthcheck(&app.cfg);

    /* signals are taken by sigwait on this thread only */
    sigset_t sigs;
    sigemptyset(&sigs);
    sigaddset(&sigs, SIGTERM);
    sigaddset(&sigs, SIGINT);
    pthread_sigmask(SIG_BLOCK, &sigs, NULL);
    signal(SIGPIPE, SIG_IGN);

    mongoc_init();
    app.store = mongo_pool_create(&app.cfg, err, sizeof(err));
    if (app.store == NULL) {
        fprintf(stderr, "catalog-backend: configuration error: %s\n", err);
        return 2;
    }
    app.flights = flight_table_create();
    server_configure(&app);
    app.threads = calloc(app.cfg.threads, sizeof(*app.threads));
    for (unsigned i = 0; i < app.cfg.threads; i++) {
        if ((app.threads[i].listen_fd = server_listen(&app.cfg, err, sizeof(err))) < 0) {
            fprintf(stderr, "catalog-backend: %s\n", err);
            return 1;
        }
    }
    if (app_start(&app) != 0)
        return 1;
    fprintf(stderr, "catalog-backend: listening on http://%s%s%s:%u (%u loop threads, %u MongoDB workers, db %s)\n",
            strchr(app.cfg.host, ':') ? "[" : "", app.cfg.host, strchr(app.cfg.host, ':') ? "]" : "", app.cfg.port, app.cfg.threads,
            app.cfg.mongo_workers, app.cfg.mongo_db);

    int sig;
    sigwait(&sigs, &sig);
    fprintf(stderr, "catalog-backend: %s received, draining\n", sig == SIGTERM ? "SIGTERM" : "SIGINT");
    int drained = app_drain(&app, app.cfg.drain_timeout_ms);
    size_t left = 0;
    for (unsigned i = 0; i < app.cfg.threads; i++)
        left += atomic_load_explicit(&app.threads[i].inflight, memory_order_relaxed);
    if (drained)
        fprintf(stderr, "catalog-backend: drained, exiting\n");
    else
        fprintf(stderr, "catalog-backend: drain timed out with %zu requests in flight, exiting\n", left);
    fflush(NULL);
    /* loop and worker threads are still parked in their loops: leave without
     * running destructors under them; the kernel closes idle connections */
    _exit(0);
}
