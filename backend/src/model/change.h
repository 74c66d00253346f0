/* The catalogue's change log as read from Redis ({products}:changes, one
 * entry per generation bump, appended by the invalidation script itself)
 * and handed to the in-memory catalogue, which catches up by re-reading
 * only the products named. Pure data. */
#ifndef CATALOG_CHANGE_H
#define CATALOG_CHANGE_H

#include <stddef.h>
#include <stdint.h>

#define CHANGE_STREAM_ID_MAX 48 /* "<ms>-<seq>" of a stream entry, NUL-terminated */

typedef struct {
    uint64_t gen;   /* the generation this bump produced */
    int reset;      /* the bump names no product (a floor raise): what changed is unknown */
    uint8_t id[12]; /* the product written (when !reset) */
} change_t;

/* What a write tells the change stream beside its invalidation (the event
 * the change feed sends for it). */
typedef struct {
    const char *type; /* "created", "updated", "deleted", "replayed" (an Idempotency-Key retry: no event), or "unknown":
                         failed after it was sent (may have been applied) */
    int64_t version;  /* the product's version after the write (a delete: the deleted version + 1); 0 when unknown */
    int64_t at_ms;    /* when MongoDB acknowledged it (ms since the epoch) */
    char fields[64];  /* updates: the changed fields' API names, comma-separated ("price,stock"); else empty */
} change_write_t;

/* What one atomic read of Redis saw: the generation, the stream's last
 * entry id, and the entries after a given id (at most a bounded number). */
typedef struct {
    uint64_t gen;                       /* 0: no valid generation */
    char last_id[CHANGE_STREAM_ID_MAX]; /* "0-0" when the stream is empty */
    int truncated;                      /* more entries followed than were returned */
    size_t n;
    change_t *changes; /* malloc'd, n entries in stream order */
} change_batch_t;

#endif
