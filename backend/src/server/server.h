/* h2o set-up: the global configuration with the one root handler that
 * routes every request, and the listening sockets. */
#ifndef CATALOG_SERVER_H
#define CATALOG_SERVER_H

#include "app.h"

#include <sys/socket.h>

/* Fills app->h2o (limits, server name) and registers the router. */
void server_configure(app_t *app);

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
