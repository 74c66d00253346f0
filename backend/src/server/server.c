#include "server/server.h"
#include "xalloc.h"

#include "server/cors.h"
#include "server/problem.h"
#include "server/respond.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <stdlib.h>
#include <unistd.h>

/* h2o buffers a whole body before the handler runs; up to this size the
 * router answers an oversized body with problem+json, beyond it h2o itself
 * answers 413 in plain text (documented in README.md). */
#define SERVER_H2O_BODY_LIMIT (1024 * 1024)

/* The routes, grouped by path: the router and --routes read them. GET
 * implies HEAD; OPTIONS is answered everywhere. */
#define SERVER_METHODS 5
#define SERVER_MAX_PATHS (RESPOND_ROUTE_SLOTS - 1)
static const char *const method_names[SERVER_METHODS] = {"GET", "POST", "PUT", "PATCH", "DELETE"};
typedef struct {
    const char *path; /* "{id}" matches one segment */
    unsigned methods; /* bit i: method_names[i] */
    server_handler_t handlers[SERVER_METHODS];
} route_path_t;
static route_path_t paths[SERVER_MAX_PATHS];
static size_t npaths;

/* The index of a method name in method_names (HEAD counts as GET), -1 for any other. */
static int method_index(h2o_iovec_t m)
{
    if (h2o_memis(m.base, m.len, H2O_STRLIT("HEAD")))
        return 0;
    for (int i = 0; i < SERVER_METHODS; i++)
        if (h2o_memis(m.base, m.len, method_names[i], strlen(method_names[i])))
            return i;
    return -1;
}

static unsigned method_bit(h2o_iovec_t m)
{
    int i = method_index(m);
    return i < 0 ? 0 : 1u << i;
}

int server_set_routes(const server_route_t *const *tables, char *err, size_t errlen)
{
    npaths = 0;
    for (; *tables != NULL; tables++) {
        for (const server_route_t *rt = *tables; rt->path != NULL; rt++) {
            int m = method_index(h2o_iovec_init(rt->method, strlen(rt->method)));
            size_t i = 0;
            while (i < npaths && strcmp(paths[i].path, rt->path) != 0)
                i++;
            if (i == npaths && npaths < SERVER_MAX_PATHS)
                paths[npaths++] = (route_path_t){.path = rt->path};
            if (m < 0 || strcmp(rt->method, "HEAD") == 0 || i == SERVER_MAX_PATHS || (paths[i].methods & (1u << m))) {
                snprintf(err, errlen, "route %s %s: unknown method, served twice, or too many paths", rt->method, rt->path);
                return -1;
            }
            paths[i].methods |= 1u << m;
            paths[i].handlers[m] = rt->handler;
        }
    }
    return 0;
}

/* Writes the Allow value of a method set ("GET, HEAD, POST, OPTIONS") into
 * buf (64 bytes). */
static void allow_value(unsigned methods, char *buf)
{
    buf[0] = '\0';
    for (size_t i = 0; i < SERVER_METHODS; i++)
        if (methods & (1u << i)) {
            strcat(buf, method_names[i]);
            strcat(buf, i == 0 ? ", HEAD, " : ", ");
        }
    strcat(buf, "OPTIONS");
}

size_t server_route_count(void)
{
    return npaths;
}

const char *server_route_path(size_t i)
{
    return paths[i].path;
}

int server_route_serves(size_t i, const char *method)
{
    return (paths[i].methods & method_bit(h2o_iovec_init(method, strlen(method)))) != 0;
}

void server_print_routes(void *file)
{
    for (size_t i = 0; i < npaths; i++)
        for (size_t m = 0; m < SERVER_METHODS; m++)
            if (paths[i].methods & (1u << m))
                fprintf(file, "%s %s\n", method_names[m], paths[i].path);
}

/* Finds the path entry of path; *param gets the {id} segment. Returns its
 * index, or -1. */
static int match_route(h2o_iovec_t path, h2o_iovec_t *param)
{
    for (size_t i = 0; i < npaths; i++) {
        const char *pat = paths[i].path, *brace = strchr(pat, '{');
        size_t pl = brace ? (size_t)(brace - pat) : strlen(pat);
        if (brace == NULL) {
            if (h2o_memis(path.base, path.len, pat, pl))
                return (int)i;
            continue;
        }
        if (path.len > pl && memcmp(path.base, pat, pl) == 0 && memchr(path.base + pl, '/', path.len - pl) == NULL) {
            *param = h2o_iovec_init(path.base + pl, path.len - pl);
            return (int)i;
        }
    }
    return -1;
}

/* Answers 413 for a body over MAX_BODY_BYTES; returns 1 when it did. */
static int refuse_large_body(request_t *r)
{
    h2o_req_t *req = r->req;
    size_t max = r->thread->app->cfg.max_body_bytes;
    if (req->entity.base == NULL || req->entity.len <= max)
        return 0;
    char detail[96];
    snprintf(detail, sizeof(detail), "request bodies are limited to %zu bytes", max);
    req->http1_is_persistent = 0;
    respond_problem(r, 413, PROBLEM_TYPE_PAYLOAD_TOO_LARGE, detail, NULL);
    return 1;
}

static int on_req(h2o_handler_t *self, h2o_req_t *req)
{
    request_t *r = respond_begin(req);
    cors_apply(r);
    h2o_iovec_t param = {NULL, 0};
    int ri = match_route(req->path_normalized, &param);
    if (ri >= 0)
        r->route = (uint8_t)ri; /* the route's template names its counters */
    if (refuse_large_body(r))
        return 0;
    if (ri < 0) {
        respond_problem(r, 404, PROBLEM_TYPE_NOT_FOUND, "no such resource", NULL);
        return 0;
    }
    char allow[64];
    unsigned methods = paths[ri].methods;
    if (h2o_memis(req->method.base, req->method.len, H2O_STRLIT("OPTIONS"))) {
        allow_value(methods, allow);
        ssize_t h = h2o_find_header_by_str(&req->headers, H2O_STRLIT("access-control-request-method"), -1);
        cors_options(r, allow, h >= 0 && (methods & method_bit(req->headers.entries[h].value)) != 0);
        return 0;
    }
    int m = method_index(req->method);
    if (m < 0 || !(methods & (1u << m))) {
        allow_value(methods, allow);
        respond_header(r, "allow", allow, strlen(allow));
        char detail[128];
        snprintf(detail, sizeof(detail), "%.*s is not allowed here; use %s", (int)(req->method.len < 16 ? req->method.len : 16),
                 req->method.base, allow);
        respond_problem(r, 405, PROBLEM_TYPE_METHOD_NOT_ALLOWED, detail, NULL);
        return 0;
    }
    paths[ri].handlers[m](r, param);
    return 0;
}

void server_configure(app_t *app)
{
    h2o_config_init(&app->h2o);
    app->h2o.server_name = h2o_iovec_init(H2O_STRLIT("catalog-backend"));
    /* HTTP/1.1 only: h2o 2.2.5 has no fix for HTTP/2 rapid reset (CVE-2023-44487), and nginx speaks
     * HTTP/1.1 upstream anyway; this one setting turns off both "Upgrade: h2c" and the "PRI *" preface */
    app->h2o.http1.upgrade_to_http2 = 0;
    app->h2o.max_request_entity_size =
        app->cfg.max_body_bytes < SERVER_H2O_BODY_LIMIT ? SERVER_H2O_BODY_LIMIT : app->cfg.max_body_bytes + 1;
    h2o_hostconf_t *host = h2o_config_register_host(&app->h2o, h2o_iovec_init(H2O_STRLIT("default")), 65535);
    h2o_pathconf_t *path = h2o_config_register_path(host, "/", 0);
    h2o_handler_t *handler = h2o_create_handler(path, sizeof(*handler));
    handler->on_req = on_req;
}

int server_sockaddr(const char *host, uint16_t port, struct sockaddr_storage *ss, socklen_t *len)
{
    memset(ss, 0, sizeof(*ss));
    struct sockaddr_in *s4 = (struct sockaddr_in *)ss;
    struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)ss;
    if (inet_pton(AF_INET, host, &s4->sin_addr) == 1) {
        s4->sin_family = AF_INET;
        s4->sin_port = htons(port);
        *len = sizeof(*s4);
    } else if (inet_pton(AF_INET6, host, &s6->sin6_addr) == 1) {
        s6->sin6_family = AF_INET6;
        s6->sin6_port = htons(port);
        *len = sizeof(*s6);
    } else {
        return -1;
    }
    return 0;
}

int server_listen(const config_t *cfg, char *err, size_t errlen)
{
    struct sockaddr_storage ss;
    socklen_t sl;
    if (server_sockaddr(cfg->host, cfg->port, &ss, &sl) != 0) {
        snprintf(err, errlen, "HOST: '%s' is not an IP address", cfg->host);
        return -1;
    }
    int fd = socket(ss.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    int on = 1;
    if (fd < 0 || setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &on, sizeof(on)) != 0 ||
        setsockopt(fd, SOL_SOCKET, SO_REUSEPORT, &on, sizeof(on)) != 0 || bind(fd, (struct sockaddr *)&ss, sl) != 0 ||
        listen(fd, 4096) != 0) {
        snprintf(err, errlen, "cannot listen on %s:%u: %s", cfg->host, cfg->port, strerror(errno));
        if (fd >= 0)
            close(fd);
        return -1;
    }
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &on, sizeof(on)); /* inherited by accepted sockets */
    return fd;
}

static void on_conn_closed(void *data)
{
    server_conn_t *c = data;
    metrics_gauge_move(&c->thread->http.open_conns, -1);
    h2o_linklist_unlink(&c->link);
    c->closed = 1;
    if (c->busy == 0)
        free(c);
}

server_conn_t *server_conn_of(h2o_req_t *req)
{
    if (req->conn->callbacks->get_socket == NULL)
        return NULL;
    h2o_socket_t *sock = req->conn->callbacks->get_socket(req->conn);
    return sock != NULL && sock->on_close.cb == on_conn_closed ? sock->on_close.data : NULL;
}

/* The client of a watched connection left, failed or sent bytes. */
static void on_peer_readable(h2o_socket_t *sock, const char *err)
{
    server_conn_t *c = sock->on_close.cb == on_conn_closed ? sock->on_close.data : NULL;
    h2o_socket_read_stop(sock);
    if (c == NULL || c->on_peer == NULL)
        return;
    void (*cb)(void *) = c->on_peer;
    c->on_peer = NULL;
    cb(c->peer_data);
}

int server_watch_peer(request_t *r, void (*cb)(void *data), void *data)
{
    h2o_conn_t *conn = r->req->conn;
    h2o_socket_t *sock = conn->callbacks->get_socket ? conn->callbacks->get_socket(conn) : NULL;
    if (r->conn == NULL || sock == NULL)
        return -1;
    r->conn->on_peer = cb;
    r->conn->peer_data = data;
    h2o_socket_read_start(sock, on_peer_readable);
    return 0;
}

void server_unwatch_peer(request_t *r)
{
    h2o_conn_t *conn = r->req->conn;
    h2o_socket_t *sock = conn->callbacks->get_socket ? conn->callbacks->get_socket(conn) : NULL;
    if (r->conn == NULL || r->conn->on_peer == NULL)
        return;
    r->conn->on_peer = NULL;
    if (sock != NULL && h2o_socket_is_reading(sock))
        h2o_socket_read_stop(sock);
}

void server_conn_release(app_thread_t *t, server_conn_t *c)
{
    if (--c->busy != 0)
        return;
    if (c->closed)
        free(c);
    else if (t->draining)
        shutdown(c->fd, SHUT_RDWR); /* h2o sees the end and closes it */
}

/* Accepts like h2o_evloop_socket_accept, but keeps the fd and a record of
 * the connection (h2o's own accept hides the fd). */
static void on_accept(h2o_socket_t *listener, const char *err)
{
    app_thread_t *t = listener->data;
    if (err != NULL)
        return;
    for (int i = 0; i < 32; i++) {
        int fd = accept4(t->listen_fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
        if (fd < 0)
            break;
        int on = 1;
        setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &on, sizeof(on));
        h2o_socket_t *sock = h2o_evloop_socket_create(t->ctx.loop, fd, H2O_SOCKET_FLAG_IS_ACCEPTED_CONNECTION);
        server_conn_t *c = xcalloc(1, sizeof(*c));
        c->fd = fd;
        c->thread = t;
        metrics_gauge_move(&t->http.open_conns, 1);
        h2o_linklist_insert(&t->conns, &c->link);
        sock->on_close.cb = on_conn_closed; /* unused by h2o for server sockets */
        sock->on_close.data = c;
        h2o_accept(&t->accept_ctx, sock);
    }
}

void server_start_accepting(app_thread_t *t)
{
    t->accept_ctx.ctx = &t->ctx;
    t->accept_ctx.hosts = t->app->h2o.hosts;
    h2o_linklist_init_anchor(&t->conns);
    t->listener = h2o_evloop_socket_create(t->ctx.loop, t->listen_fd, H2O_SOCKET_FLAG_DONT_READ);
    t->listener->data = t;
    h2o_socket_read_start(t->listener, on_accept);
}

void server_stop_accepting(app_thread_t *t)
{
    if (t->listener != NULL) {
        h2o_socket_read_stop(t->listener);
        h2o_socket_close(t->listener);
        t->listener = NULL;
    }
    h2o_context_request_shutdown(&t->ctx);
    /* idle keep-alive connections are closed, not waited for; busy ones
     * answer with Connection: close and are closed by h2o after that */
    for (h2o_linklist_t *n = t->conns.next; n != &t->conns; n = n->next) {
        server_conn_t *c = H2O_STRUCT_FROM_MEMBER(server_conn_t, link, n);
        if (c->busy == 0)
            shutdown(c->fd, SHUT_RDWR);
    }
}
