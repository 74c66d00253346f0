/* bench-ceiling: the fastest possible answer on this machine — an h2o
 * server (same library, same thread count, SO_REUSEPORT listeners) that
 * answers every request with the exact bytes of a file, with headers like
 * the backend's. bench/run.sh measures it beside the backend to turn
 * req/s into a ratio against a ceiling.
 *
 *   bench-ceiling PORT THREADS BODY_FILE */
#include <h2o.h>
#include <netinet/in.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

static h2o_globalconf_t config;
static char *body;
static size_t body_len;
static int port;

static int on_req(h2o_handler_t *self, h2o_req_t *req)
{
    req->res.status = 200;
    req->res.reason = "OK";
    h2o_add_header(&req->pool, &req->res.headers, H2O_TOKEN_CONTENT_TYPE, NULL, H2O_STRLIT("application/json"));
    h2o_add_header(&req->pool, &req->res.headers, H2O_TOKEN_ETAG, NULL, H2O_STRLIT("\"0123456789abcdefghijkl\""));
    h2o_add_header_by_str(&req->pool, &req->res.headers, H2O_STRLIT("x-cache"), 0, NULL, H2O_STRLIT("HIT"));
    req->res.content_length = body_len;
    h2o_send_inline(req, body, body_len);
    return 0;
}

static void on_accept(h2o_socket_t *listener, const char *err)
{
    if (err != NULL)
        return;
    h2o_socket_t *sock;
    while ((sock = h2o_evloop_socket_accept(listener)) != NULL)
        h2o_accept(listener->data, sock);
}

static void *run(void *arg)
{
    h2o_evloop_t *loop = h2o_evloop_create();
    h2o_context_t *ctx = calloc(1, sizeof(*ctx));
    h2o_accept_ctx_t *accept_ctx = calloc(1, sizeof(*accept_ctx));
    h2o_context_init(ctx, loop, &config);
    accept_ctx->ctx = ctx;
    accept_ctx->hosts = config.hosts;
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0), on = 1;
    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &on, sizeof(on));
    setsockopt(fd, SOL_SOCKET, SO_REUSEPORT, &on, sizeof(on));
    struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port), .sin_addr.s_addr = htonl(0x7f000001)};
    if (bind(fd, (struct sockaddr *)&sa, sizeof(sa)) != 0 || listen(fd, 4096) != 0) {
        perror("bench-ceiling: listen");
        exit(1);
    }
    h2o_socket_t *listener = h2o_evloop_socket_create(loop, fd, H2O_SOCKET_FLAG_DONT_READ);
    listener->data = accept_ctx;
    h2o_socket_read_start(listener, on_accept);
    while (h2o_evloop_run(loop, INT32_MAX) == 0)
        ;
    return NULL;
}

int main(int argc, char **argv)
{
    if (argc != 4) {
        fprintf(stderr, "usage: bench-ceiling PORT THREADS BODY_FILE\n");
        return 2;
    }
    port = atoi(argv[1]);
    int threads = atoi(argv[2]);
    FILE *f = fopen(argv[3], "rb");
    if (f == NULL) {
        perror(argv[3]);
        return 1;
    }
    fseek(f, 0, SEEK_END);
    body_len = (size_t)ftell(f);
    fseek(f, 0, SEEK_SET);
    body = malloc(body_len);
    if (fread(body, 1, body_len, f) != body_len)
        return 1;
    fclose(f);
    signal(SIGPIPE, SIG_IGN);
    h2o_config_init(&config);
    h2o_hostconf_t *host = h2o_config_register_host(&config, h2o_iovec_init(H2O_STRLIT("default")), 65535);
    h2o_pathconf_t *path = h2o_config_register_path(host, "/", 0);
    h2o_create_handler(path, sizeof(h2o_handler_t))->on_req = on_req;
    for (int i = 1; i < threads; i++) {
        pthread_t tid;
        pthread_create(&tid, NULL, run, NULL);
    }
    run(NULL);
    return 0;
}
