/* cache/redis_loop: the hiredis adapter on a real h2o evloop against a real
 * redis-server that the test starts itself on a free loopback port (and kills
 * at the end, also when a check fails or the test dies: the child has
 * PR_SET_PDEATHSIG). Every wait has a deadline. A plain blocking socket, apart
 * from the loop, stalls the server (DEBUG SLEEP) or kills its clients. */
#include "cache/redis_loop.h"
#include "check.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <h2o.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdint.h>
#include <stdlib.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static int64_t now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* A failure after which the test cannot go on: the atexit handler stops the server. */
#define REQUIRE(cond)                                                                                                              \
    do {                                                                                                                           \
        if (!(cond)) {                                                                                                             \
            fprintf(stderr, "%s:%d: REQUIRE failed: %s\n", __FILE__, __LINE__, #cond);                                             \
            exit(1);                                                                                                               \
        }                                                                                                                          \
    } while (0)

/* ---- the redis-server of the test ---- */

static pid_t server_pid = -1;
static uint16_t server_port;

static void server_stop(void)
{
    if (server_pid > 0) {
        kill(server_pid, SIGKILL);
        waitpid(server_pid, NULL, 0);
        server_pid = -1;
    }
}

static uint16_t free_port(void)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in sa = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t len = sizeof(sa);
    REQUIRE(fd >= 0 && bind(fd, (struct sockaddr *)&sa, sizeof(sa)) == 0 && getsockname(fd, (struct sockaddr *)&sa, &len) == 0);
    close(fd);
    return ntohs(sa.sin_port);
}

/* A blocking connection to the server; -1 when refused. Reads and writes time out after 3 s. */
static int raw_open(void)
{
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons(server_port), .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    if (fd < 0 || connect(fd, (struct sockaddr *)&sa, sizeof(sa)) != 0) {
        if (fd >= 0)
            close(fd);
        return -1;
    }
    struct timeval tv = {.tv_sec = 3};
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
    setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
    return fd;
}

/* Sends an inline command ("DEBUG SLEEP 0.3"). Returns 0 or -1. */
static int raw_send(int fd, const char *cmd)
{
    char buf[256];
    int n = snprintf(buf, sizeof(buf), "%s\r\n", cmd);
    return write(fd, buf, (size_t)n) == n ? 0 : -1;
}

/* Reads one reply line ("+OK", ":2") into buf without its CRLF, within ms. Returns 0 or -1. */
static int raw_line(int fd, char *buf, size_t size, int ms)
{
    int64_t deadline = now_ms() + ms;
    size_t n = 0;
    while (n + 1 < size) {
        int64_t left = deadline - now_ms();
        struct pollfd p = {.fd = fd, .events = POLLIN};
        if (left <= 0 || poll(&p, 1, (int)left) != 1 || read(fd, buf + n, 1) != 1)
            return -1;
        if (++n >= 2 && buf[n - 2] == '\r' && buf[n - 1] == '\n') {
            buf[n - 2] = '\0';
            return 0;
        }
    }
    return -1;
}

/* Starts redis-server on server_port and waits (5 s at most) until it answers PING. */
static int server_start(void)
{
    char port[8];
    snprintf(port, sizeof(port), "%u", server_port);
    pid_t parent = getpid();
    pid_t pid = fork();
    REQUIRE(pid >= 0);
    if (pid == 0) {
        prctl(PR_SET_PDEATHSIG, SIGKILL); /* the server dies with the test, however it ends */
        if (getppid() != parent)
            _exit(127);
        int devnull = open("/dev/null", O_WRONLY);
        if (devnull >= 0)
            dup2(devnull, STDOUT_FILENO);
        execlp("redis-server", "redis-server", "--port", port, "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
               "--enable-debug-command", "local", "--dir", "/tmp", (char *)NULL);
        fprintf(stderr, "test_redis_loop: cannot run redis-server: %s\n", strerror(errno));
        _exit(127);
    }
    server_pid = pid;
    int64_t deadline = now_ms() + 5000;
    while (now_ms() < deadline) {
        if (waitpid(pid, NULL, WNOHANG) == pid) { /* exited: port taken, or no redis-server */
            server_pid = -1;
            return -1;
        }
        int fd = raw_open();
        if (fd >= 0) {
            char line[64];
            int ok = raw_send(fd, "PING") == 0 && raw_line(fd, line, sizeof(line), 1000) == 0 && strcmp(line, "+PONG") == 0;
            close(fd);
            if (ok)
                return 0;
        }
        usleep(10000);
    }
    server_stop();
    return -1;
}

/* Sends a command on a plain socket and reads its one-line reply. */
static int raw_command(const char *cmd, char *reply, size_t size)
{
    int fd = raw_open();
    if (fd < 0)
        return -1;
    int rc = raw_send(fd, cmd) == 0 && raw_line(fd, reply, size, 3000) == 0 ? 0 : -1;
    close(fd);
    return rc;
}

/* ---- the loop ---- */

static h2o_globalconf_t globalconf;
static h2o_context_t ctx;
static h2o_evloop_t *loop;

/* Runs the loop until cond holds or ms passed (cond is evaluated between iterations). */
#define RUN_UNTIL(cond, ms)                                                                                                        \
    do {                                                                                                                           \
        int64_t deadline_ = now_ms() + (ms);                                                                                       \
        while (!(cond) && now_ms() < deadline_)                                                                                    \
            h2o_evloop_run(loop, 10);                                                                                              \
    } while (0)

/* Runs the loop for ms: to let what should not happen show itself, or time pass with the loop's clock current. */
static void run_for(int ms)
{
    int64_t deadline = now_ms() + ms;
    while (now_ms() < deadline)
        h2o_evloop_run(loop, 5);
}

/* What a callback saw. */
typedef struct {
    int calls;
    int null; /* the last call had a NULL reply */
    int type;
    long long integer;
    char str[256];
    size_t len;
    int64_t at; /* now_ms() of the last call */
    unsigned seq;
} got_t;

static unsigned seq_counter; /* order of calls across all commands */

static void on_reply(redisReply *r, void *data)
{
    got_t *g = data;
    g->calls++;
    g->at = now_ms();
    g->seq = ++seq_counter;
    g->null = r == NULL;
    if (r == NULL)
        return;
    g->type = r->type;
    g->integer = r->integer;
    g->len = 0;
    if (r->type == REDIS_REPLY_STRING || r->type == REDIS_REPLY_STATUS || r->type == REDIS_REPLY_ERROR) {
        g->len = r->len < sizeof(g->str) - 1 ? r->len : sizeof(g->str) - 1;
        memcpy(g->str, r->str, g->len);
        g->str[g->len] = '\0';
    }
}

/* Sends a command of space-separated words (no binary data) through cmd_fn. */
typedef int (*send_fn)(redis_loop_t *, redis_loop_cb, void *, int, const char **, const size_t *);

static int send_words(send_fn fn, redis_loop_t *rl, got_t *g, const char *words)
{
    char buf[256];
    const char *argv[16];
    size_t argvlen[16];
    int argc = 0;
    snprintf(buf, sizeof(buf), "%s", words);
    for (char *save = NULL, *w = strtok_r(buf, " ", &save); w != NULL && argc < 16; w = strtok_r(NULL, " ", &save)) {
        argv[argc] = w;
        argvlen[argc++] = strlen(w);
    }
    if (g != NULL)
        memset(g, 0, sizeof(*g));
    return fn(rl, g ? on_reply : NULL, g, argc, argv, argvlen);
}

static int cmd(redis_loop_t *rl, got_t *g, const char *words)
{
    return send_words(redis_loop_command, rl, g, words);
}

static int patient(redis_loop_t *rl, got_t *g, const char *words)
{
    return send_words(redis_loop_command_patient, rl, g, words);
}

/* The connection's CLIENT ID (which changes with every connection), or -1. */
static long long client_id(redis_loop_t *rl)
{
    got_t g;
    if (cmd(rl, &g, "CLIENT ID") != 0)
        return -1;
    RUN_UNTIL(g.calls > 0, 2000);
    return g.calls == 1 && !g.null && g.type == REDIS_REPLY_INTEGER ? g.integer : -1;
}

/* on_ready sends a command, as the cache loads its script there: it goes
 * out before any command of the callers. */
typedef struct {
    int calls;
    redis_loop_t *rl;
    int rc;  /* of the command sent from on_ready */
    got_t g; /* its reply */
} ready_t;

static void on_ready(redis_loop_t *rl, void *data)
{
    ready_t *r = data;
    r->calls++;
    r->rl = rl;
    r->rc = patient(rl, &r->g, "ECHO ready");
}

/* The command sent from the last on_ready was answered. */
static int ready_answered(const ready_t *r)
{
    return r->rc == 0 && r->g.calls == 1 && !r->g.null && strcmp(r->g.str, "ready") == 0;
}

/* The loops' clients live as long as the process, as the server's do (the
 * module has no destroy): kept reachable here. */
static config_t cfg_slow, cfg_dead, cfg_c;
static redis_loop_t *rl_a, *rl_b, *rl_c; /* REDIS_TIMEOUT_MS 100 with REDIS_DEAD_MS 1000 / 600 / 1000 */
static ready_t ready_a, ready_b, ready_c;

static void load_config(config_t *cfg, const char *timeout_ms, const char *dead_ms)
{
    char url[64], err[256];
    snprintf(url, sizeof(url), "redis://127.0.0.1:%u/0", server_port);
    setenv("REDIS_URL", url, 1);
    setenv("REDIS_TIMEOUT_MS", timeout_ms, 1);
    setenv("REDIS_DEAD_MS", dead_ms, 1);
    if (config_load(cfg, err, sizeof(err)) != 0) {
        fprintf(stderr, "config_load: %s\n", err);
        REQUIRE(0);
    }
    REQUIRE(cfg->redis_port == server_port);
}

/* A large value, checked in place (got_t keeps a prefix only). */
static char *big;
static size_t big_len;

typedef struct {
    int calls;
    int ok;
} big_t;

static void on_big(redisReply *r, void *data)
{
    big_t *b = data;
    b->calls++;
    b->ok = r != NULL && ((r->type == REDIS_REPLY_STRING && r->len == big_len && memcmp(r->str, big, big_len) == 0) ||
                          (r->type == REDIS_REPLY_STATUS && strcmp(r->str, "OK") == 0));
}

/* 1. Replies: each command answered once with its reply, fire-and-forget,
 * binary-safe values, errors are replies, one iteration's commands in order. */
static void test_replies(void)
{
    load_config(&cfg_slow, "100", "1000");
    rl_a = redis_loop_create(&ctx, &cfg_slow, on_ready, &ready_a);
    got_t g;
    CHECK(redis_loop_is_ready(rl_a) == 0);
    CHECK(cmd(rl_a, &g, "PING") == -1); /* still connecting: the caller bypasses */
    RUN_UNTIL(redis_loop_is_ready(rl_a), 3000);
    REQUIRE(redis_loop_is_ready(rl_a));
    CHECK(ready_a.calls == 1 && ready_a.rl == rl_a);
    CHECK(g.calls == 0);

    CHECK(cmd(rl_a, &g, "PING") == 0);
    RUN_UNTIL(g.calls > 0, 2000);
    CHECK(g.calls == 1 && !g.null && g.type == REDIS_REPLY_STATUS);
    CHECK_STR(g.str, "PONG");
    CHECK(ready_answered(&ready_a) && ready_a.g.seq < g.seq);

    /* fire-and-forget SET of a value with NUL and CRLF, then GET, in one iteration */
    static const char value[] = "a\0b\r\nc";
    const char *set_argv[] = {"SET", "{t}:bin", value};
    size_t set_len[] = {3, 7, sizeof(value) - 1};
    CHECK(redis_loop_command(rl_a, NULL, NULL, 3, set_argv, set_len) == 0);
    got_t get;
    CHECK(cmd(rl_a, &get, "GET {t}:bin") == 0);
    RUN_UNTIL(get.calls > 0, 2000);
    CHECK(get.calls == 1 && !get.null && get.type == REDIS_REPLY_STRING);
    CHECK(get.len == sizeof(value) - 1 && memcmp(get.str, value, get.len) == 0);

    /* an error reply is a reply, not NULL */
    got_t err;
    CHECK(cmd(rl_a, &err, "NOSUCHCOMMAND x") == 0);
    RUN_UNTIL(err.calls > 0, 2000);
    CHECK(err.calls == 1 && !err.null && err.type == REDIS_REPLY_ERROR);

    /* many commands in one iteration (one write): all answered, in order */
    enum { N = 200 };
    static got_t incr[N];
    CHECK(cmd(rl_a, NULL, "DEL {t}:n") == 0);
    for (int i = 0; i < N; i++)
        CHECK(cmd(rl_a, &incr[i], i % 2 ? "INCR {t}:n" : "INCRBY {t}:n 1") == 0);
    RUN_UNTIL(incr[N - 1].calls > 0, 3000);
    for (int i = 0; i < N; i++) {
        CHECK(incr[i].calls == 1 && !incr[i].null && incr[i].type == REDIS_REPLY_INTEGER);
        CHECK(incr[i].integer == i + 1);
        if (i > 0)
            CHECK(incr[i].seq == incr[i - 1].seq + 1);
    }

    /* values larger than the socket buffers: partial writes and reads (patient:
     * the point here is the transfer, not the timeout) */
    big_len = 4u << 20;
    big = malloc(big_len);
    for (size_t i = 0; i < big_len; i++)
        big[i] = (char)(i * 31 % 251);
    big_t set1 = {0}, set2 = {0}, get1 = {0}, get2 = {0};
    const char *bset[] = {"SET", "{t}:big", big};
    size_t bset_len[] = {3, 7, big_len};
    const char *bget[] = {"GET", "{t}:big"};
    size_t bget_len[] = {3, 7};
    CHECK(redis_loop_command_patient(rl_a, on_big, &set1, 3, bset, bset_len) == 0);
    CHECK(redis_loop_command_patient(rl_a, on_big, &get1, 2, bget, bget_len) == 0);
    CHECK(redis_loop_command_patient(rl_a, on_big, &set2, 3, bset, bset_len) == 0);
    CHECK(redis_loop_command_patient(rl_a, on_big, &get2, 2, bget, bget_len) == 0);
    RUN_UNTIL(get2.calls > 0, 3000);
    CHECK(set1.calls == 1 && set1.ok && set2.calls == 1 && set2.ok);
    CHECK(get1.calls == 1 && get1.ok && get2.calls == 1 && get2.ok);
    CHECK(cmd(rl_a, &g, "STRLEN {t}:big") == 0);
    RUN_UNTIL(g.calls > 0, 2000);
    CHECK(g.calls == 1 && !g.null && g.integer == (long long)big_len);
    CHECK(cmd(rl_a, &g, "DEL {t}:big") == 0);
    RUN_UNTIL(g.calls > 0, 2000);
    free(big);
    big = NULL;

    /* exactly once: past REDIS_TIMEOUT_MS nothing more comes (the timeouts were unlinked) */
    run_for(250);
    CHECK(g.calls == 1 && get.calls == 1 && err.calls == 1);
    for (int i = 0; i < N; i++)
        CHECK(incr[i].calls == 1);
    const redis_loop_counters_t *c = redis_loop_counters(rl_a);
    CHECK(atomic_load(&c->late) == 0 && atomic_load(&c->drops) == 0);
    CHECK(ready_a.calls == 1);
}

/* 2. A reply later than REDIS_TIMEOUT_MS: NULL at the timeout; while it is
 * late, ordinary commands bypass but a patient one is sent and answered for
 * real; then the same connection goes on. */
static void test_late_reply(void)
{
    long long id = client_id(rl_a);
    CHECK(id > 0);
    int stall = raw_open();
    REQUIRE(stall >= 0);
    REQUIRE(raw_send(stall, "DEBUG SLEEP 0.3") == 0);
    run_for(40); /* the server is asleep before the command goes out */

    got_t late, bypassed, pat;
    int64_t sent = now_ms();
    CHECK(cmd(rl_a, &late, "INCR {t}:late") == 0);
    RUN_UNTIL(late.calls > 0, 1000);
    int64_t waited = late.at - sent;
    CHECK(late.calls == 1 && late.null);
    CHECK(waited >= 90 && waited < 250);
    if (!(waited >= 90 && waited < 250))
        fprintf(stderr, "  timeout after %lld ms\n", (long long)waited);

    /* the reply is late: an ordinary command is refused at once, a patient one accepted */
    CHECK(redis_loop_is_ready(rl_a) == 1);
    CHECK(cmd(rl_a, &bypassed, "PING") == -1);
    CHECK(patient(rl_a, &pat, "ECHO patient") == 0);
    RUN_UNTIL(pat.calls > 0, 2000);
    CHECK(pat.calls == 1 && !pat.null && pat.type == REDIS_REPLY_STRING);
    CHECK_STR(pat.str, "patient");
    CHECK(pat.at - sent >= 200); /* answered after the stall, not at a timeout */
    CHECK(late.calls == 1);      /* the late reply was dropped, not delivered a second time */
    CHECK(bypassed.calls == 0);

    /* the late reply has come: ordinary commands again, on the same connection */
    got_t g;
    CHECK(cmd(rl_a, &g, "GET {t}:late") == 0);
    RUN_UNTIL(g.calls > 0, 2000);
    CHECK(g.calls == 1 && !g.null && g.type == REDIS_REPLY_STRING);
    CHECK_STR(g.str, "1"); /* the command that was answered NULL was still applied */
    CHECK(client_id(rl_a) == id);
    const redis_loop_counters_t *c = redis_loop_counters(rl_a);
    CHECK(atomic_load(&c->late) == 1 && atomic_load(&c->drops) == 0);
    CHECK(ready_a.calls == 1);

    char line[64];
    CHECK(raw_line(stall, line, sizeof(line), 2000) == 0);
    close(stall);
    run_for(150);
    CHECK(late.calls == 1 && pat.calls == 1 && g.calls == 1 && bypassed.calls == 0);
}

/* A callback that sends another command from inside itself, as a cache
 * fill after a miss does: accepted from a reply, refused from a NULL of a
 * dropping connection. */
typedef struct {
    got_t g;
    redis_loop_t *rl;
    int resend_rc;
    got_t next;
} chain_t;

static void on_chain(redisReply *r, void *data)
{
    chain_t *c = data;
    on_reply(r, &c->g);
    c->resend_rc = cmd(c->rl, &c->next, "ECHO next");
}

static int chain(redis_loop_t *rl, chain_t *c, send_fn fn, const char *word)
{
    memset(c, 0, sizeof(*c));
    c->rl = rl;
    c->resend_rc = 99;
    size_t len = strlen(word);
    return fn(rl, on_chain, c, 2, (const char *[]){"ECHO", word}, (const size_t[]){4, len});
}

/* 3. A reply missing for REDIS_DEAD_MS: the connection is dropped, every
 * pending command gets NULL once, and it connects again. First with ordinary
 * commands only (the read path), then with patient ones too. */
static void test_dead_connection(void)
{
    load_config(&cfg_dead, "100", "600");
    rl_b = redis_loop_create(&ctx, &cfg_dead, on_ready, &ready_b);
    RUN_UNTIL(redis_loop_is_ready(rl_b), 3000);
    REQUIRE(redis_loop_is_ready(rl_b));
    CHECK(ready_b.calls == 1);
    long long id = client_id(rl_b);
    CHECK(id > 0);
    const redis_loop_counters_t *c = redis_loop_counters(rl_b);

    /* ordinary commands: answered NULL at REDIS_TIMEOUT_MS, the connection dropped at REDIS_DEAD_MS */
    int stall = raw_open();
    REQUIRE(stall >= 0);
    REQUIRE(raw_send(stall, "DEBUG SLEEP 1.0") == 0);
    run_for(40);
    got_t o1, o2;
    int64_t sent = now_ms();
    CHECK(cmd(rl_b, &o1, "ECHO o1") == 0);
    CHECK(cmd(rl_b, &o2, "ECHO o2") == 0);
    CHECK(cmd(rl_b, NULL, "ECHO o3") == 0);
    RUN_UNTIL(o1.calls > 0 && o2.calls > 0, 1000);
    CHECK(o1.calls == 1 && o1.null && o2.calls == 1 && o2.null && o1.seq + 1 == o2.seq);
    CHECK(o1.at - sent >= 90 && o2.at - sent < 250);
    CHECK(atomic_load(&c->late) == 3 && atomic_load(&c->drops) == 0 && redis_loop_is_ready(rl_b)); /* o3 too */
    RUN_UNTIL(atomic_load(&c->drops) > 0, 2000);
    int64_t waited = now_ms() - sent;
    CHECK(atomic_load(&c->drops) == 1 && redis_loop_is_ready(rl_b) == 0);
    CHECK(waited >= 550 && waited < 1000);
    if (!(waited >= 550 && waited < 1000))
        fprintf(stderr, "  dropped after %lld ms\n", (long long)waited);
    RUN_UNTIL(ready_b.calls == 2 && redis_loop_is_ready(rl_b), 5000);
    CHECK(ready_b.calls == 2 && redis_loop_is_ready(rl_b));
    long long id2 = client_id(rl_b);
    CHECK(id2 > 0 && id2 != id);
    CHECK(o1.calls == 1 && o2.calls == 1);
    char line[64];
    CHECK(raw_line(stall, line, sizeof(line), 2000) == 0);
    close(stall);

    /* patient commands too; meanwhile a new client connects to the sleeping
     * server (its connect + PING is bounded: it tries again) */
    stall = raw_open();
    REQUIRE(stall >= 0);
    REQUIRE(raw_send(stall, "DEBUG SLEEP 1.5") == 0);
    run_for(40);
    load_config(&cfg_c, "100", "1000");
    rl_c = redis_loop_create(&ctx, &cfg_c, on_ready, &ready_c);

    got_t first, pat1;
    chain_t pat2;
    sent = now_ms();
    CHECK(cmd(rl_b, &first, "ECHO first") == 0);
    CHECK(patient(rl_b, &pat1, "ECHO p1") == 0);
    CHECK(chain(rl_b, &pat2, redis_loop_command_patient, "p2") == 0);
    CHECK(redis_loop_command_patient(rl_b, NULL, NULL, 1, (const char *[]){"PING"}, (const size_t[]){4}) == 0);
    RUN_UNTIL(first.calls > 0, 1000);
    CHECK(first.calls == 1 && first.null && first.at - sent < 250);
    CHECK(atomic_load(&c->drops) == 1);

    RUN_UNTIL(pat1.calls > 0 && pat2.g.calls > 0, 2000);
    CHECK(pat1.calls == 1 && pat1.null && pat2.g.calls == 1 && pat2.g.null);
    CHECK(pat1.seq + 1 == pat2.g.seq);
    CHECK(pat2.resend_rc == -1); /* no command on a connection being dropped */
    waited = pat1.at - sent;
    CHECK(waited >= 550 && waited < 1000);
    if (!(waited >= 550 && waited < 1000))
        fprintf(stderr, "  dropped after %lld ms\n", (long long)waited);
    CHECK(atomic_load(&c->drops) == 2);
    CHECK(redis_loop_is_ready(rl_b) == 0);
    got_t refused;
    CHECK(cmd(rl_b, &refused, "PING") == -1);
    CHECK(patient(rl_b, &refused, "PING") == -1);
    CHECK(ready_c.calls == 0 && redis_loop_is_ready(rl_c) == 0);

    /* it connects again (once the server wakes up) and on_ready runs again */
    RUN_UNTIL(ready_b.calls == 3 && redis_loop_is_ready(rl_b), 5000);
    CHECK(ready_b.calls == 3 && redis_loop_is_ready(rl_b));
    RUN_UNTIL(ready_answered(&ready_b), 2000);
    CHECK(ready_answered(&ready_b));
    long long id3 = client_id(rl_b);
    CHECK(id3 > 0 && id3 != id2);
    chain_t g;
    CHECK(chain(rl_b, &g, redis_loop_command, "again") == 0);
    RUN_UNTIL(g.next.calls > 0, 2000);
    CHECK(g.g.calls == 1 && !g.g.null);
    CHECK_STR(g.g.str, "again");
    CHECK(g.resend_rc == 0 && g.next.calls == 1 && !g.next.null); /* a command sent from a reply callback */
    CHECK_STR(g.next.str, "next");
    CHECK(first.calls == 1 && pat1.calls == 1 && pat2.g.calls == 1 && pat2.next.calls == 0 && refused.calls == 0);
    CHECK(atomic_load(&c->drops) == 2);

    /* the client that connected during the stall is ready, once */
    RUN_UNTIL(redis_loop_is_ready(rl_c), 3000);
    CHECK(redis_loop_is_ready(rl_c) && ready_c.calls == 1);
    CHECK(client_id(rl_c) > 0);

    /* the other loop's idle connection lived through both stalls */
    CHECK(ready_a.calls == 1 && redis_loop_is_ready(rl_a));
    CHECK(atomic_load(&redis_loop_counters(rl_a)->drops) == 0);

    CHECK(raw_line(stall, line, sizeof(line), 2000) == 0);
    close(stall);
    run_for(100);
    CHECK(ready_c.calls == 1);
}

/* 4. The server killed and restarted on the same port, and the connections
 * killed by CLIENT KILL: pending commands get NULL, not ready meanwhile, ready
 * again within the backoff bound, on_ready again. */
static void test_reconnect(void)
{
    const redis_loop_counters_t *ca = redis_loop_counters(rl_a), *cb = redis_loop_counters(rl_b);
    uint64_t drops_a = atomic_load(&ca->drops), drops_b = atomic_load(&cb->drops);
    int ready_a0 = ready_a.calls, ready_b0 = ready_b.calls, ready_c0 = ready_c.calls;

    /* a patient command blocks on the server; the next one waits behind it */
    got_t blocked, behind;
    CHECK(patient(rl_a, &blocked, "BLPOP {t}:never 0") == 0);
    CHECK(patient(rl_a, &behind, "ECHO behind") == 0);
    run_for(50);
    CHECK(blocked.calls == 0 && behind.calls == 0);
    int64_t killed = now_ms();
    server_stop();
    RUN_UNTIL(blocked.calls > 0 && behind.calls > 0, 2000);
    CHECK(blocked.calls == 1 && blocked.null && behind.calls == 1 && behind.null);
    CHECK(blocked.seq + 1 == behind.seq);
    CHECK(blocked.at - killed < 500); /* from the disconnect, not REDIS_DEAD_MS */
    CHECK(redis_loop_is_ready(rl_a) == 0);
    got_t refused;
    CHECK(cmd(rl_a, &refused, "PING") == -1);
    CHECK(patient(rl_a, &refused, "PING") == -1);

    /* down for a while: the retries are refused, nothing becomes ready */
    run_for(400);
    CHECK(redis_loop_is_ready(rl_a) == 0 && redis_loop_is_ready(rl_b) == 0);
    CHECK(ready_a.calls == ready_a0 && ready_b.calls == ready_b0);

    REQUIRE(server_start() == 0);
    int64_t restarted = now_ms();
    RUN_UNTIL(redis_loop_is_ready(rl_a) && redis_loop_is_ready(rl_b) && redis_loop_is_ready(rl_c), 5000);
    CHECK(redis_loop_is_ready(rl_a) && redis_loop_is_ready(rl_b) && redis_loop_is_ready(rl_c));
    printf("ready again %lld ms after the restart\n", (long long)(now_ms() - restarted));
    CHECK(ready_a.calls == ready_a0 + 1 && ready_b.calls == ready_b0 + 1 && ready_c.calls == ready_c0 + 1);
    got_t g;
    CHECK(cmd(rl_a, &g, "ECHO back") == 0);
    RUN_UNTIL(g.calls > 0, 2000);
    CHECK(g.calls == 1 && !g.null);
    CHECK_STR(g.str, "back");
    CHECK(ready_answered(&ready_a) && ready_a.g.seq < g.seq);
    RUN_UNTIL(ready_answered(&ready_b) && ready_answered(&ready_c), 2000);
    CHECK(ready_answered(&ready_b) && ready_answered(&ready_c));
    CHECK(refused.calls == 0);

    /* CLIENT KILL: the same, without a restart */
    long long id_a = client_id(rl_a), id_b = client_id(rl_b);
    CHECK(id_a > 0 && id_b > 0);
    got_t blocked2;
    chain_t behind2;
    CHECK(patient(rl_a, &blocked2, "BLPOP {t}:never 0") == 0);
    CHECK(chain(rl_a, &behind2, redis_loop_command_patient, "behind") == 0);
    run_for(50);
    char line[64];
    CHECK(raw_command("CLIENT KILL TYPE normal", line, sizeof(line)) == 0);
    CHECK(strcmp(line, ":3") == 0); /* the three loops' connections, not the plain socket's */
    RUN_UNTIL(blocked2.calls > 0 && behind2.g.calls > 0, 2000);
    CHECK(blocked2.calls == 1 && blocked2.null && behind2.g.calls == 1 && behind2.g.null);
    CHECK(behind2.resend_rc == -1); /* no command on a connection being closed */
    CHECK(redis_loop_is_ready(rl_a) == 0);
    RUN_UNTIL(ready_a.calls == ready_a0 + 2 && ready_b.calls == ready_b0 + 2 && ready_c.calls == ready_c0 + 2, 5000);
    CHECK(ready_a.calls == ready_a0 + 2 && ready_b.calls == ready_b0 + 2 && ready_c.calls == ready_c0 + 2);
    CHECK(redis_loop_is_ready(rl_a) && redis_loop_is_ready(rl_b) && redis_loop_is_ready(rl_c));
    long long id_a2 = client_id(rl_a), id_b2 = client_id(rl_b);
    CHECK(id_a2 > id_a && id_b2 > id_b);
    RUN_UNTIL(ready_answered(&ready_a) && ready_answered(&ready_b) && ready_answered(&ready_c), 2000);
    CHECK(ready_answered(&ready_a) && ready_answered(&ready_b) && ready_answered(&ready_c));

    /* a connection closed by the server is not one given up for a missing reply */
    CHECK(atomic_load(&ca->drops) == drops_a && atomic_load(&cb->drops) == drops_b);
    run_for(100);
    CHECK(blocked.calls == 1 && behind.calls == 1 && blocked2.calls == 1 && behind2.g.calls == 1 && behind2.next.calls == 0);
    CHECK(g.calls == 1);
}

int main(void)
{
    signal(SIGPIPE, SIG_IGN);
    atexit(server_stop);
    int started = -1;
    for (int attempt = 0; attempt < 3 && started != 0; attempt++) { /* the free port may be taken meanwhile */
        server_port = free_port();
        started = server_start();
    }
    REQUIRE(started == 0);
    char line[64];
    REQUIRE(raw_command("DEBUG SLEEP 0", line, sizeof(line)) == 0);
    if (strcmp(line, "+OK") != 0) {
        fprintf(stderr, "DEBUG is refused (%s): redis-server 7 with --enable-debug-command is needed\n", line);
        REQUIRE(0);
    }

    h2o_config_init(&globalconf);
    h2o_config_register_host(&globalconf, h2o_iovec_init(H2O_STRLIT("default")), 65535); /* h2o_context_init wants one */
    loop = h2o_evloop_create();
    h2o_context_init(&ctx, loop, &globalconf);

    int64_t t0 = now_ms();
    test_replies();
    test_late_reply();
    test_dead_connection();
    test_reconnect();
    printf("test_redis_loop: %lld ms\n", (long long)(now_ms() - t0));
    server_stop();
    return check_report("test_redis_loop");
}
