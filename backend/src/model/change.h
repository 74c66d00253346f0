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
