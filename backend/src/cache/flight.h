/* Single-flight across all loop threads of the process: concurrent misses
 * on one key make one store job; the others wait for it. The table is
 * shared (mutex); results reach each waiter on its own loop thread through
 * h2o's multithread queue. Knows neither Redis nor MongoDB: the result is
 * an opaque pointer. */
#ifndef CATALOG_FLIGHT_H
#define CATALOG_FLIGHT_H

#include <h2o/multithread.h>
#include <stddef.h>

typedef struct flight_table flight_table_t;
typedef struct flight flight_t;

typedef struct flight_waiter {
    h2o_multithread_message_t msg;        /* zeroed by flight_join */
    h2o_multithread_receiver_t *receiver; /* the waiter's loop: where the result is posted */
    struct flight_waiter *next;
    flight_t *flight; /* set by flight_join */
} flight_waiter_t;

typedef enum {
    FLIGHT_LEADER, /* caller created the flight: it must start the work and call flight_finish */
    FLIGHT_JOINED, /* someone else leads; the result will be posted */
} flight_role_t;

flight_table_t *flight_table_create(void);

/* Adds waiter w to the flight for key, creating it if none is in the air.
 * Thread-safe. */
flight_role_t flight_join(flight_table_t *t, const char *key, flight_waiter_t *w);

/* Ends a flight (leader only): removes it from the table, so later misses
 * start anew, stores the result and posts it to every waiter. free_result
 * runs once, when the last waiter released the flight. */
void flight_finish(flight_table_t *t, flight_t *f, void *result, void (*free_result)(void *));

/* Makes the result visible before flight_finish (leader only): the leader
 * may still be storing it while a waiter's own deadline passes, and that
 * waiter should answer from it rather than fail. */
void flight_publish(flight_t *f, void *result);

/* The result (NULL while neither published nor finished). Safe from any
 * thread while the caller is still a waiter of f (has not released it). */
void *flight_result(flight_t *f);

/* Called by each waiter once it has used the result (on its own thread). */
void flight_release(flight_t *f);

/* Flights in the air (for stats). */
size_t flight_count(flight_table_t *t);

#endif
