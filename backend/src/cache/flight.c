#include "cache/flight.h"
#include "xalloc.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#define FLIGHT_BUCKETS 1024

struct flight {
    flight_t *next_in_bucket;
    char *key;
    size_t hash;
    flight_waiter_t *waiters;
    _Atomic(void *) result;
    void (*free_result)(void *);
    atomic_size_t refs;
};

struct flight_table {
    pthread_mutex_t mutex;
    flight_t *buckets[FLIGHT_BUCKETS];
    size_t count;
};

static size_t hash_key(const char *s)
{
    size_t h = 1469598103934665603ull; /* FNV-1a */
    for (; *s; s++)
        h = (h ^ (unsigned char)*s) * 1099511628211ull;
    return h;
}

flight_table_t *flight_table_create(void)
{
    flight_table_t *t = xcalloc(1, sizeof(*t));
    pthread_mutex_init(&t->mutex, NULL);
    return t;
}

flight_role_t flight_join(flight_table_t *t, const char *key, flight_waiter_t *w)
{
    size_t h = hash_key(key);
    flight_t **slot = &t->buckets[h % FLIGHT_BUCKETS];
    memset(&w->msg, 0, sizeof(w->msg));
    pthread_mutex_lock(&t->mutex);
    for (flight_t *f = *slot; f != NULL; f = f->next_in_bucket) {
        if (f->hash == h && strcmp(f->key, key) == 0) {
            w->flight = f;
            w->next = f->waiters;
            f->waiters = w;
            pthread_mutex_unlock(&t->mutex);
            return FLIGHT_JOINED;
        }
    }
    flight_t *f = xcalloc(1, sizeof(*f));
    f->key = xstrdup(key);
    f->hash = h;
    f->next_in_bucket = *slot;
    *slot = f;
    t->count++;
    w->flight = f;
    w->next = NULL;
    f->waiters = w;
    pthread_mutex_unlock(&t->mutex);
    return FLIGHT_LEADER;
}

static void flight_free(flight_t *f)
{
    if (f->free_result != NULL)
        f->free_result(atomic_load(&f->result));
    free(f->key);
    free(f);
}

void flight_finish(flight_table_t *t, flight_t *f, void *result, void (*free_result)(void *))
{
    pthread_mutex_lock(&t->mutex);
    for (flight_t **p = &t->buckets[f->hash % FLIGHT_BUCKETS]; *p != NULL; p = &(*p)->next_in_bucket) {
        if (*p == f) {
            *p = f->next_in_bucket;
            break;
        }
    }
    t->count--;
    flight_waiter_t *list = f->waiters;
    f->waiters = NULL;
    atomic_store_explicit(&f->result, result, memory_order_release);
    f->free_result = free_result;
    size_t n = 0;
    for (flight_waiter_t *w = list; w != NULL; w = w->next)
        n++;
    atomic_store(&f->refs, n);
    pthread_mutex_unlock(&t->mutex);

    if (n == 0) {
        flight_free(f);
        return;
    }
    /* read next before posting: a waiter may be handled (and freed) at once */
    for (flight_waiter_t *w = list, *next; w != NULL; w = next) {
        next = w->next;
        h2o_multithread_send_message(w->receiver, &w->msg);
    }
}

void flight_publish(flight_t *f, void *result)
{
    atomic_store_explicit(&f->result, result, memory_order_release);
}

void *flight_result(flight_t *f)
{
    return atomic_load_explicit(&f->result, memory_order_acquire);
}

void flight_release(flight_t *f)
{
    if (atomic_fetch_sub(&f->refs, 1) == 1)
        flight_free(f);
}

size_t flight_count(flight_table_t *t)
{
    pthread_mutex_lock(&t->mutex);
    size_t n = t->count;
    pthread_mutex_unlock(&t->mutex);
    return n;
}
