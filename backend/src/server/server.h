/* h2o set-up: the global configuration with the one root handler that
 * routes every request, and the listening sockets. */
#ifndef CATALOG_SERVER_H
#define CATALOG_SERVER_H

#include "app.h"
#include "server/respond.h"

#include <sys/socket.h>

/* A handler: param is the path's {id} segment (empty when the route has none). */
typedef void (*server_handler_t)(request_t *r, h2o_iovec_t param);

/* One route: the files that serve routes export NULL-terminated tables of
 * these; the router and --routes read them, and server/ knows no handler. */
typedef struct {
    const char *method; /* GET (HEAD implied), POST, PUT, PATCH or DELETE */
    const char *path;   /* "{id}" matches one segment */
    server_handler_t handler;
} server_route_t;

/* Installs the route tables (a NULL-terminated list of NULL-terminated
 * tables, static). Returns 0, or -1 with a message in err (an unknown
 * method, a method twice on one path, too many paths). */
int server_set_routes(const server_route_t *const *tables, char *err, size_t errlen);

/* The route paths installed (route slot i is path i), for /metrics. */
size_t server_route_count(void);
const char *server_route_path(size_t i);

/* 1 when route path i serves method (a name of respond_method_names; HEAD
 * with GET). */
int server_route_serves(size_t i, const char *method);

/* Prints "METHOD /path" per route (GET implies HEAD), for --routes. */
void server_print_routes(void *file);

/* Fills app->h2o (limits, server name) and registers the router. */
void server_configure(app_t *app);

/* One accepted client connection, so that a drain can close the idle
 * ones (h2o 2.2.5 does nothing of this for HTTP/1). */
typedef struct server_conn {
    h2o_linklist_t link; /* in app_thread_t.conns */
    app_thread_t *thread;
    int fd;
    size_t busy;                 /* requests in flight on it */
    int closed;                  /* h2o closed the socket; freed once busy is 0 too */
    void (*on_peer)(void *data); /* server_watch_peer */
    void *peer_data;
} server_conn_t;

/* The connection record of a request's socket (NULL if unknown); its
 * busy count is the caller's to maintain (respond_begin does). */
server_conn_t *server_conn_of(h2o_req_t *req);

/* Ends one request on c: frees a closed record, and closes an idle one
 * while draining. */
void server_conn_release(app_thread_t *t, server_conn_t *c);

/* Reads r's connection while r's response streams (h2o 2.2.5 reads nothing
 * then, so a client that left would be noticed only by a failed write):
 * the client closing it, an error, or any bytes from it call cb(data),
 * once. Returns 0, or -1 when r's connection is not known. */
int server_watch_peer(request_t *r, void (*cb)(void *data), void *data);

/* Stops the watch (cb will not be called). */
void server_unwatch_peer(request_t *r);

/* Fills *ss and *len from an IPv4 or IPv6 literal and a port. Returns 0, or -1
 * when host is not an IP literal. */
int server_sockaddr(const char *host, uint16_t port, struct sockaddr_storage *ss, socklen_t *len);

/* Opens a non-blocking SO_REUSEPORT listener on cfg's HOST:PORT.
 * Returns the fd, or -1 with a message in err. */
int server_listen(const config_t *cfg, char *err, size_t errlen);

/* Starts accepting on t->listen_fd (on t's loop). */
void server_start_accepting(app_thread_t *t);

/* Stops accepting (closes the listener) and asks HTTP/2 connections to go
 * away; in-flight requests continue. */
void server_stop_accepting(app_thread_t *t);

#endif
