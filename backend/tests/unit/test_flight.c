/* cache/flight: the single-flight table. Results are delivered through h2o's
 * multithread queues, so each test thread runs its own h2o_evloop_t (with a
 * deadline) until the messages it expects have arrived. */
#include "cache/flight.h"
#include "check.h"

#include <h2o.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdlib.h>
#include <time.h>

/* A result as the read path makes one: what it was read for, and by whom. */
typedef struct {
    char key[64];
    int leader_thread;
    unsigned serial;
} result_t;

static atomic_uint results_made, results_freed;

static void copy_key(char dst[64], const char *src)
{
    size_t n = strnlen(src, 63);
    memcpy(dst, src, n);
    dst[n] = '\0';
}

static result_t *result_new(const char *key, int leader_thread)
{
    result_t *r = calloc(1, sizeof(*r));
    copy_key(r->key, key);
    r->leader_thread = leader_thread;
    r->serial = atomic_fetch_add(&results_made, 1);
    return r;
}

static void result_free(void *p)
{
    atomic_fetch_add(&results_freed, 1);
    free(p);
}

/* A waiter of the test; msg is what the queue hands back. */
typedef struct {
    flight_waiter_t w; /* first */
    char key[64];
    int thread;
    int role;
    int delivered;          /* messages received */
    int released;           /* flight_release called */
    int keep;               /* tests: do not release on delivery */
    int cross_thread;       /* the result came from another thread's flight */
    const result_t *got;    /* the result seen on delivery */
    struct loop_s *loop_of; /* the loop it waits on */
} waiter_t;

typedef struct loop_s {
    h2o_evloop_t *loop;
    h2o_multithread_queue_t *queue;
    h2o_multithread_receiver_t receiver;
    size_t pending; /* deliveries still expected */
    size_t got;
    int bad; /* a delivery that failed a check (counted here, reported by the owner thread) */
} loop_t;

static void on_result(h2o_multithread_receiver_t *receiver, h2o_linklist_t *messages)
{
    loop_t *l = H2O_STRUCT_FROM_MEMBER(loop_t, receiver, receiver);
    while (!h2o_linklist_is_empty(messages)) {
        h2o_multithread_message_t *msg = H2O_STRUCT_FROM_MEMBER(h2o_multithread_message_t, link, messages->next);
        h2o_linklist_unlink(&msg->link);
        waiter_t *w = (waiter_t *)H2O_STRUCT_FROM_MEMBER(flight_waiter_t, msg, msg);
        w->delivered++;
        w->got = flight_result(w->w.flight);
        if (w->loop_of != l || w->delivered != 1 || w->got == NULL || strcmp(w->got->key, w->key) != 0)
            l->bad++;
        if (w->got != NULL && w->got->leader_thread != w->thread)
            w->cross_thread = 1;
        l->got++;
        if (l->pending > 0)
            l->pending--;
        if (!w->keep) {
            w->released = 1;
            flight_release(w->w.flight);
        }
    }
}

static void loop_init(loop_t *l)
{
    memset(l, 0, sizeof(*l));
    l->loop = h2o_evloop_create();
    l->queue = h2o_multithread_create_queue(l->loop);
    h2o_multithread_register_receiver(l->queue, &l->receiver, on_result);
}

/* h2o 2.2.5's h2o_multithread_destroy_queue does not free an evloop queue
 * (later versions do), so a test cannot tear one down portably: a loop that is
 * done is parked here, reachable until the process exits. */
static struct {
    pthread_mutex_t mutex;
    loop_t *loops[16];
    size_t n;
} parked = {PTHREAD_MUTEX_INITIALIZER};

static void loop_dispose(loop_t *l)
{
    h2o_multithread_unregister_receiver(l->queue, &l->receiver);
    loop_t *keep = malloc(sizeof(*keep));
    *keep = *l;
    pthread_mutex_lock(&parked.mutex);
    if (parked.n < sizeof(parked.loops) / sizeof(parked.loops[0]))
        parked.loops[parked.n++] = keep;
    pthread_mutex_unlock(&parked.mutex);
}

/* h2o keeps recycled socket buffers per thread (h2o_socket_buffer_prototype is
 * thread-local): when a test thread that ran a loop exits, LeakSanitizer sees
 * its bin as lost. The server's loop threads live as long as the process. */
__attribute__((used)) const char *__lsan_default_suppressions(void);
__attribute__((used)) const char *__lsan_default_suppressions(void)
{
    return "leak:h2o_mem_alloc_recycle\n";
}

static int64_t now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Runs the loop until l->pending is 0 or ms passed. Returns 0 when all arrived. */
static int loop_wait(loop_t *l, int ms)
{
    int64_t deadline = now_ms() + ms;
    while (l->pending > 0 && now_ms() < deadline)
        h2o_evloop_run(l->loop, 10);
    return l->pending == 0 ? 0 : -1;
}

/* Runs the loop for ms, to catch messages that should not come. */
static void loop_drain(loop_t *l, int ms)
{
    int64_t deadline = now_ms() + ms;
    while (now_ms() < deadline)
        h2o_evloop_run(l->loop, 5);
}

static waiter_t *waiter_join(flight_table_t *t, loop_t *l, const char *key, int thread)
{
    waiter_t *w = calloc(1, sizeof(*w));
    copy_key(w->key, key);
    w->thread = thread;
    w->loop_of = l;
    w->w.receiver = &l->receiver;
    w->w.msg.link.next = (void *)(uintptr_t)1; /* flight_join zeroes it */
    w->role = flight_join(t, key, &w->w);
    l->pending++;
    return w;
}

/* One thread: leader, joiners, one result each, freed once. */
static void test_roles_and_delivery(void)
{
    flight_table_t *t = flight_table_create();
    loop_t l;
    loop_init(&l);
    results_made = results_freed = 0;

    CHECK(flight_count(t) == 0);
    waiter_t *lead = waiter_join(t, &l, "p:1", 0);
    CHECK(lead->role == FLIGHT_LEADER);
    CHECK(lead->w.msg.link.next == NULL); /* zeroed, so h2o can link it */
    CHECK(flight_count(t) == 1);
    waiter_t *j[5];
    for (int i = 0; i < 5; i++) {
        j[i] = waiter_join(t, &l, "p:1", 0);
        CHECK(j[i]->role == FLIGHT_JOINED);
        CHECK(j[i]->w.flight == lead->w.flight);
    }
    CHECK(flight_count(t) == 1);
    CHECK(flight_result(lead->w.flight) == NULL);

    /* publish: visible before finish, nothing delivered, flight still in the air */
    result_t *r = result_new("p:1", 0);
    flight_publish(lead->w.flight, r);
    CHECK(flight_result(j[2]->w.flight) == r);
    loop_drain(&l, 20);
    CHECK(l.got == 0);
    CHECK(flight_count(t) == 1);

    flight_finish(t, lead->w.flight, r, result_free);
    /* removed at once: the next miss on the key leads a new flight */
    CHECK(flight_count(t) == 0);
    waiter_t *again = waiter_join(t, &l, "p:1", 0);
    CHECK(again->role == FLIGHT_LEADER);
    CHECK(again->w.flight != lead->w.flight);
    l.pending--; /* again's flight is finished below */

    CHECK(loop_wait(&l, 2000) == 0);
    CHECK(l.got == 6 && l.bad == 0);
    CHECK(lead->delivered == 1 && lead->got == r);
    for (int i = 0; i < 5; i++)
        CHECK(j[i]->delivered == 1 && j[i]->got == r);
    CHECK(again->delivered == 0);
    CHECK(results_freed == 1); /* every waiter released */
    loop_drain(&l, 20);
    CHECK(l.got == 6); /* and nothing more */

    l.pending++;
    flight_finish(t, again->w.flight, NULL, NULL); /* a NULL result, no free function */
    CHECK(loop_wait(&l, 2000) == 0);
    CHECK(again->delivered == 1 && again->got == NULL);
    CHECK(l.bad == 1); /* the NULL result is flagged by on_result's check: expected here */

    free(lead);
    free(again);
    for (int i = 0; i < 5; i++)
        free(j[i]);
    loop_dispose(&l);
    free(t);
}

/* The result lives until the last waiter releases it, whatever the order;
 * waiters whose requests are gone still release (flow/read.c's op.r == NULL). */
static void test_release_order(void)
{
    flight_table_t *t = flight_table_create();
    loop_t l;
    loop_init(&l);
    results_made = results_freed = 0;

    waiter_t *w[4];
    for (int i = 0; i < 4; i++) {
        w[i] = waiter_join(t, &l, "list:a", 0);
        w[i]->keep = 1; /* released by hand below */
    }
    result_t *r = result_new("list:a", 0);
    flight_finish(t, w[0]->w.flight, r, result_free);
    CHECK(loop_wait(&l, 2000) == 0);
    for (int i = 0; i < 4; i++)
        CHECK(w[i]->delivered == 1);
    flight_t *f = w[0]->w.flight;
    /* the leader releases first, then the others: the result stays readable */
    flight_release(f);
    CHECK(results_freed == 0);
    flight_release(f);
    flight_release(f);
    CHECK(results_freed == 0);
    CHECK(flight_result(f) == r && strcmp(((result_t *)flight_result(f))->key, "list:a") == 0);
    flight_release(f);
    CHECK(results_freed == 1);

    /* a flight whose only waiter is the leader */
    waiter_t *solo = waiter_join(t, &l, "list:b", 0);
    CHECK(solo->role == FLIGHT_LEADER);
    flight_finish(t, solo->w.flight, result_new("list:b", 0), result_free);
    CHECK(loop_wait(&l, 2000) == 0);
    CHECK(solo->delivered == 1 && solo->released && results_freed == 2);
    CHECK(l.bad == 0);

    free(solo);
    for (int i = 0; i < 4; i++)
        free(w[i]);
    loop_dispose(&l);
    free(t);
}

/* Distinct keys are distinct flights, also keys that share a prefix, differ
 * only in case or in their last byte, and the empty key; each waiter gets its
 * own key's result. More flights than buckets exercise the bucket chains. */
static void test_distinct_keys(void)
{
    flight_table_t *t = flight_table_create();
    loop_t l;
    loop_init(&l);
    results_made = results_freed = 0;

    enum { NFIXED = 8, NMANY = 3000, NK = NFIXED + NMANY };
    static const char *const fixed[NFIXED] = {
        "", "a", "A", "ab", "abc", "abd", "1:0:{products}:list:limit=20", "1:0:{products}:list:limit=2"};
    static char keys[NK][40];
    for (int i = 0; i < NK; i++) {
        if (i < NFIXED)
            snprintf(keys[i], sizeof(keys[i]), "%s", fixed[i]);
        else
            snprintf(keys[i], sizeof(keys[i]), "k%d", i);
    }
    static waiter_t *lead[NK], *join[NK];
    for (int i = 0; i < NK; i++) {
        lead[i] = waiter_join(t, &l, keys[i], 0);
        CHECK(lead[i]->role == FLIGHT_LEADER);
    }
    CHECK(flight_count(t) == NK);
    for (int i = 0; i < NK; i++) {
        join[i] = waiter_join(t, &l, keys[i], 0);
        CHECK(join[i]->role == FLIGHT_JOINED && join[i]->w.flight == lead[i]->w.flight);
    }
    CHECK(flight_count(t) == NK);
    /* finish in an order unlike the join order: odd ones first, backwards */
    for (int i = NK; i-- > 0;)
        if (i % 2)
            flight_finish(t, lead[i]->w.flight, result_new(keys[i], 0), result_free);
    CHECK(flight_count(t) == NK / 2);
    for (int i = 0; i < NK; i++)
        if (i % 2 == 0)
            flight_finish(t, lead[i]->w.flight, result_new(keys[i], 0), result_free);
    CHECK(flight_count(t) == 0);
    CHECK(loop_wait(&l, 5000) == 0);
    for (int i = 0; i < NK; i++) {
        CHECK(lead[i]->delivered == 1 && join[i]->delivered == 1);
        CHECK(lead[i]->got != NULL && join[i]->got == lead[i]->got);
    }
    CHECK(l.bad == 0);
    CHECK(results_freed == NK);

    for (int i = 0; i < NK; i++) {
        free(lead[i]);
        free(join[i]);
    }
    loop_dispose(&l);
    free(t);
}

/* Several loop threads join the same keys at once. */
enum { NTHREADS = 4, NKEYS = 3, DUPS = 2, ROUNDS = 200, RACY_BATCHES = 1000, RACY_BATCH = 4, RACY_KEYS = 5 };

typedef struct {
    flight_table_t *table;
    pthread_barrier_t *barrier;
    int id;
    loop_t loop;
    unsigned errors;
    size_t leaders, joined, cross_thread, delivered;
} worker_t;

#define TCHECK(ctx, cond)                                                                                                          \
    do {                                                                                                                           \
        if (!(cond)) {                                                                                                             \
            fprintf(stderr, "%s:%d: thread %d: CHECK failed: %s\n", __FILE__, __LINE__, (ctx)->id, #cond);                         \
            (ctx)->errors++;                                                                                                       \
            atomic_store(&threads_failed, 1);                                                                                      \
        }                                                                                                                          \
    } while (0)

static atomic_int threads_failed; /* after a failure, threads stop waiting */

/* Waits for this batch's deliveries, checks each waiter got exactly one, frees
 * them (an undelivered waiter is left allocated: the flight still holds it). */
static void settle(worker_t *c, waiter_t **ws, size_t n)
{
    if (loop_wait(&c->loop, atomic_load(&threads_failed) ? 1 : 5000) != 0) {
        TCHECK(c, !"deliveries arrived in time");
        atomic_store(&threads_failed, 1);
    }
    for (size_t i = 0; i < n; i++) {
        TCHECK(c, ws[i]->delivered == 1 && ws[i]->released);
        c->cross_thread += ws[i]->cross_thread;
        if (ws[i]->delivered)
            free(ws[i]);
    }
    TCHECK(c, c->loop.bad == 0);
}

static void *worker_main(void *arg)
{
    worker_t *c = arg;
    loop_init(&c->loop);
    char key[64];

    /* lock-step: every thread joins every key DUPS times before anyone finishes,
     * so each key has exactly one leader per round and every other waiter joined */
    for (int round = 0; round < ROUNDS; round++) {
        waiter_t *ws[NKEYS * DUPS], *led[NKEYS];
        size_t n = 0, nled = 0;
        for (int k = 0; k < NKEYS; k++) {
            snprintf(key, sizeof(key), "r%d:k%d", round, k);
            for (int d = 0; d < DUPS; d++) {
                waiter_t *w = ws[n++] = waiter_join(c->table, &c->loop, key, c->id);
                if (w->role == FLIGHT_LEADER)
                    led[nled++] = w;
                else
                    c->joined++;
            }
        }
        c->leaders += nled;
        pthread_barrier_wait(c->barrier);
        for (size_t i = 0; i < nled; i++)
            flight_finish(c->table, led[i]->w.flight, result_new(led[i]->key, c->id), result_free);
        pthread_barrier_wait(c->barrier);
        if (c->id == 0)
            TCHECK(c, flight_count(c->table) == 0);
        settle(c, ws, n);
        pthread_barrier_wait(c->barrier);
    }

    /* free-running: random keys, each thread finishes what it leads, then waits */
    unsigned seed = 12345u + (unsigned)c->id;
    for (int b = 0; b < RACY_BATCHES && !atomic_load(&threads_failed); b++) {
        waiter_t *ws[RACY_BATCH];
        for (int i = 0; i < RACY_BATCH; i++) {
            snprintf(key, sizeof(key), "racy:%d", rand_r(&seed) % RACY_KEYS);
            ws[i] = waiter_join(c->table, &c->loop, key, c->id);
            if (ws[i]->role == FLIGHT_LEADER)
                c->leaders++;
            else
                c->joined++;
        }
        for (int i = 0; i < RACY_BATCH; i++)
            if (ws[i]->role == FLIGHT_LEADER)
                flight_finish(c->table, ws[i]->w.flight, result_new(ws[i]->key, c->id), result_free);
        settle(c, ws, RACY_BATCH);
    }

    /* nothing more arrives once everyone is done */
    pthread_barrier_wait(c->barrier);
    size_t got = c->loop.got;
    loop_drain(&c->loop, 50);
    TCHECK(c, c->loop.got == got);
    c->delivered = got;
    loop_dispose(&c->loop);
    return NULL;
}

static void test_threads(void)
{
    flight_table_t *t = flight_table_create();
    pthread_barrier_t barrier;
    pthread_barrier_init(&barrier, NULL, NTHREADS);
    results_made = results_freed = 0;
    worker_t w[NTHREADS];
    pthread_t tid[NTHREADS];
    for (int i = 0; i < NTHREADS; i++) {
        memset(&w[i], 0, sizeof(w[i]));
        w[i].table = t;
        w[i].barrier = &barrier;
        w[i].id = i;
        CHECK(pthread_create(&tid[i], NULL, worker_main, &w[i]) == 0);
    }
    size_t leaders = 0, joined = 0, cross = 0, delivered = 0;
    for (int i = 0; i < NTHREADS; i++) {
        pthread_join(tid[i], NULL);
        CHECK(w[i].errors == 0);
        leaders += w[i].leaders;
        joined += w[i].joined;
        cross += w[i].cross_thread;
        delivered += w[i].delivered;
    }
    size_t lockstep_waiters = (size_t)ROUNDS * NKEYS * NTHREADS * DUPS;
    size_t waiters = lockstep_waiters + (size_t)NTHREADS * RACY_BATCHES * RACY_BATCH;
    CHECK(leaders + joined == waiters);
    CHECK(delivered == waiters); /* each exactly once (settle checked per waiter) */
    CHECK(results_made == leaders);
    CHECK(results_freed == results_made);
    CHECK(flight_count(t) == 0);
    /* in lock-step, a key's waiters on the other threads were served by its one leader */
    CHECK(cross >= (size_t)ROUNDS * NKEYS * (NTHREADS - 1) * DUPS);
    printf("threads: %zu waiters, %zu flights, %zu results crossed threads\n", waiters, leaders, cross);
    pthread_barrier_destroy(&barrier);
    free(t);
}

int main(void)
{
    test_roles_and_delivery();
    test_release_order();
    test_distinct_keys();
    test_threads();
    return check_report("test_flight");
}
